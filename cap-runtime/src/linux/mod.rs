//! The Linux backend: no_new_privs, Landlock (filesystem, TCP ports, scopes),
//! capabilities, inherited descriptors, seccomp, in that order.
//!
//! Three stages, so that everything that can fail because of the policy or
//! the kernel's abilities happens before the first irreversible step:
//! [`facts`] reads the host (Landlock ABI, threads, descriptors,
//! capabilities), [`plan`] derives every kernel object and the report from
//! the policy and those facts without a system call, and [`apply`] creates
//! the ruleset and then makes the irreversible calls.

pub mod apply;
pub mod caps;
pub mod facts;
pub mod fds;
pub mod fork;
pub mod landlock;
pub mod observe;
pub mod plan;
#[cfg(feature = "probe")]
#[doc(hidden)]
pub mod probe;
pub mod seccomp;
pub mod signals;
pub mod spawn;
mod sys;

use std::os::fd::RawFd;

pub use apply::Prepared;
pub use facts::Facts;
pub use plan::{Needs, Plan, needs, plan};

use crate::report::Report;
use crate::{Error, Options, Policy};

/// Every descriptor above stdio with the identity of its file, for
/// [`crate::FdSnapshot`].
pub(crate) fn open_fds() -> Result<Vec<(RawFd, u64, u64)>, i32> {
    Ok(fds::open_fds()?
        .into_iter()
        .filter_map(|fd| sys::fstat_id(fd).ok().map(|(_, dev, ino)| (fd, dev, ino)))
        .collect())
}

/// The Landlock ABI of the running kernel (0 without Landlock).
pub fn landlock_abi() -> u32 {
    sys::landlock_abi()
}

/// Locks the calling process: gather the facts, plan, prepare, apply. See
/// [`crate::enter_with`].
pub(crate) fn enter(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    let facts = Facts::gather(policy, options);
    plan::plan(policy, options, &facts)?.prepare()?.apply()
}
