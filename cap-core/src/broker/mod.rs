//! The broker: services a locked program cannot do itself (resolve names,
//! log), answered by a separate process that holds only what they need.

pub mod dns;
#[cfg(unix)]
pub mod logger;
mod resolver;

#[cfg(all(unix, feature = "tracing"))]
pub use logger::TracingLayer;
#[cfg(unix)]
pub use logger::{Format, Level, LogSink, Logger, Record, Stamp, SyslogWriter};
pub use resolver::{Lookup, NamePattern, Resolver, parse_patterns};
