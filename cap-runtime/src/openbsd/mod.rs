//! The OpenBSD backend: `unveil` each handle's origin path with the
//! permissions its rights map to, `unveil(NULL, NULL)`, close or refuse
//! undeclared descriptors, then `pledge` with the promises the policy needs
//! and `execpromises` for executed children.
//!
//! [`plan`] is pure and compiled on every host; the applier exists only on
//! OpenBSD.

pub mod plan;

#[cfg(target_os = "openbsd")]
mod apply;
#[cfg(target_os = "openbsd")]
pub(crate) use apply::{enter, open_fds};
