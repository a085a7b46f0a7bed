//! `cap-core`: capability-typed handles in place of `std::fs` and `std::net`.
//!
//! A program gets handles instead of names, and each handle carries its rights
//! in its type: `Dir<rights![Lookup, Read]>` can open and read files beneath it,
//! and nothing else. Rights only narrow. The only way to get a first handle is
//! through the [`ambient_authority()`] token.
#![forbid(unsafe_code)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod ambient;
#[cfg(unix)]
pub mod broker;
pub use cap_cheri as cheri;
pub mod fs;
pub mod net;
pub mod preopen;
#[cfg(unix)]
pub mod process;
pub mod rights;
pub mod sandbox;
#[cfg(all(feature = "tokio", unix))]
pub mod tokio;

pub use ambient::{AmbientAuthority, ambient_authority};
/// `#[cap_core::ambient(reason = "…")]`: marks code that uses ambient authority on
/// purpose; compiles to nothing, read by `cargo cap-lint`.
pub use cap_macros::ambient;
pub use cap_macros::{Preopen, sandboxed};
pub use preopen::{Preopen, PreopenError};
pub use rights::{Right, RightSet, Rights};
