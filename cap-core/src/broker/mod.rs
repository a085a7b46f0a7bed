//! The broker: services a locked program cannot do itself (resolve names,
//! log), answered by a separate process that holds only what they need.

pub mod dns;
mod resolver;

pub use resolver::{Lookup, NamePattern, Resolver, parse_patterns};
