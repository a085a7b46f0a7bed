//! The FreeBSD backend: Capsicum. Each held descriptor is limited with
//! `cap_rights_limit` (and `cap_fcntls_limit`, `cap_ioctls_limit`) to the
//! rights its handle's mask maps to, undeclared descriptors are closed or
//! refused, then `cap_enter` removes every global namespace.
//!
//! [`plan`] is pure and compiled on every host (its unit tests run here);
//! the applier, which makes the calls, exists only on FreeBSD.

pub mod plan;

#[cfg(target_os = "freebsd")]
mod apply;
#[cfg(target_os = "freebsd")]
pub mod fork;
#[cfg(target_os = "freebsd")]
pub use apply::{bind_unix_at, connect_unix_at, limited_duplicate};
#[cfg(target_os = "freebsd")]
pub(crate) use apply::{enter, open_fds};
