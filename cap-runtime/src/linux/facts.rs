//! What the plan depends on, read from the host without changing anything:
//! the Landlock ABI, seccomp's abilities, threads, the held descriptors,
//! the undeclared ones, and the capability state.
//!
//! Gathering facts is the only part of planning that makes system calls;
//! [`super::plan::plan`] is a pure function of a policy, the options and a
//! [`Facts`] value, so tests build `Facts` by hand.

use std::os::fd::RawFd;

use super::{caps, fds, sys};
use crate::{InheritedFds, Options, Policy};

/// An undeclared descriptor open when the facts were gathered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFd {
    /// The descriptor.
    pub fd: RawFd,
    /// What it points to (`/proc/self/fd` link text).
    pub target: String,
    /// `(st_dev, st_ino)` of the file behind it, when `fstat` works.
    pub id: Option<(u64, u64)>,
}

/// Everything the Linux planner needs to know about the host.
///
/// The results that can fail are kept as `Result`s so that the planner, not
/// the gathering, decides which error wins (the order is part of the API:
/// bad descriptors, then threads, then what the kernel cannot enforce, then
/// inherited descriptors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The running kernel's Landlock ABI (0 without Landlock).
    pub landlock_abi: u32,
    /// Whether seccomp offers `KILL_PROCESS` and `ERRNO` actions.
    pub seccomp_available: bool,
    /// The number of threads of the process, or the errno reading it.
    pub threads: Result<usize, i32>,
    /// How many seccomp filters are already stacked on the thread (by a
    /// parent): only then can the instruction budget run out.
    pub seccomp_filters: usize,
    /// The `st_mode` of each policy entry's descriptor, in policy order.
    pub entry_modes: Vec<Result<u32, i32>>,
    /// Undeclared descriptors above stdio, or the errno listing them.
    pub undeclared: Result<Vec<OpenFd>, i32>,
    /// The capabilities in the bounding set.
    pub bounding: Vec<u32>,
    /// Whether the thread has `CAP_SETPCAP` (needed to drop the bounding
    /// set and set securebits).
    pub setpcap: bool,
    /// The current securebits, read only when `setpcap`.
    pub securebits: Option<Result<libc::c_ulong, i32>>,
}

impl Facts {
    /// Reads the facts for `policy` from the running kernel and process.
    pub fn gather(policy: &Policy<'_>, options: &Options) -> Self {
        let entry_modes = policy
            .entries()
            .iter()
            .map(|e| sys::fstat_mode(e.fd))
            .collect();
        let keep: Vec<RawFd> = policy.entries().iter().map(|e| e.fd).collect();
        let want_ids = matches!(options.inherited_fds, InheritedFds::CloseInherited(_));
        let undeclared = fds::undeclared(&keep).map(|list| {
            list.into_iter()
                .map(|(fd, target)| OpenFd {
                    fd,
                    target,
                    id: want_ids
                        .then(|| sys::fstat_id(fd).ok().map(|(_, dev, ino)| (dev, ino)))
                        .flatten(),
                })
                .collect()
        });
        // One read of /proc/self/status: threads, and the capability sets
        // (rather than a prctl per capability and a capget).
        let status = fds::status();
        let (bounding, setpcap) = status
            .as_ref()
            .map_or((Vec::new(), false), |s| (s.bounding(), s.setpcap()));
        Self {
            landlock_abi: sys::landlock_abi(),
            seccomp_available: seccomp_available(),
            threads: status.map(|s| s.threads),
            seccomp_filters: status.map_or(0, |s| s.seccomp_filters),
            entry_modes,
            undeclared,
            bounding,
            setpcap,
            securebits: setpcap.then(caps::securebits),
        }
    }
}

fn seccomp_available() -> bool {
    use super::seccomp;
    sys::seccomp_action_available(seccomp::RET_KILL_PROCESS)
        .and_then(|()| sys::seccomp_action_available(seccomp::RET_ERRNO))
        .is_ok()
}
