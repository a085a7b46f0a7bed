//! `cap-runtime`: locks the process into the operating system's capability
//! mode, with a policy derived from the handles it holds.
//!
//! This crate knows file descriptors and rights masks, never `cap-core`'s typed
//! handles: `cap-core` turns its handles into a [`Policy`] and asks this crate
//! to enforce it with [`enter`] (or [`enter_with`] for the full [`Options`]).
//!
//! Entering is all-or-nothing: the whole policy is validated and derived, and
//! every kernel object (Landlock ruleset, seccomp program) is built before the
//! first irreversible step. A failure up to that point returns an [`Error`] and
//! leaves the process exactly as it was.
//!
//! Backends: `linux` (Landlock, seccomp, no_new_privs, capabilities, inherited
//! fds), `freebsd` (Capsicum: `cap_rights_limit` per descriptor, then
//! `cap_enter`), `openbsd` (`unveil` of each handle's path, then `pledge`)
//! and `unsupported` (every other OS, macOS and Windows among them:
//! [`Mode::Strict`] returns [`Error::Unsupported`] naming the OS). Each is a
//! pure planner (policy to kernel objects and gaps, tested on every host) and
//! a thin applier.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

pub mod error;
pub mod policy;
pub mod report;
pub mod rights;

// The backend seam: every backend offers `open_fds` and `enter` with the
// same signatures; one is chosen here. The BSD planners compile and are
// tested on every host; their appliers only on their OS.
pub mod freebsd;
pub mod inherited;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod openbsd;
#[cfg(any(
    not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")),
    test
))]
mod unsupported;

#[cfg(target_os = "freebsd")]
use freebsd as backend;
#[cfg(target_os = "linux")]
use linux as backend;
#[cfg(target_os = "openbsd")]
use openbsd as backend;
#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
use unsupported as backend;

pub use error::Error;
pub use policy::{Entry, EntryKind, NetGrant, Policy, SocketKind};
pub use report::{FdAction, Gap, HandleReport, InheritedFd, PledgeReport, Report, SeccompReport};
pub use rights::Rights;

/// How strictly to enter capability mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Fail unless every right the policy needs is enforced by the kernel.
    #[default]
    Strict,
    /// Apply what the kernel supports and report every gap.
    BestEffort,
}

/// What to do with descriptors the process holds that are neither stdio
/// (0, 1, 2) nor part of the policy: authority the policy does not know about.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InheritedFds {
    /// Refuse to enter, with the list of descriptors ([`Error::InheritedFds`]).
    /// The default for a library call, where live Rust objects may own them.
    #[default]
    Refuse,
    /// Close them all before the seccomp filter is installed. Only sound
    /// where no live object owns any of them; prefer
    /// [`InheritedFds::CloseInherited`], which leaves alone what the program
    /// opened after its snapshot.
    Close,
    /// Close the undeclared descriptors that were already open when the
    /// snapshot was taken (and still are the same file); keep, and list in
    /// the report, undeclared ones opened later, which live Rust objects may
    /// own. The `#[sandboxed]` prologue takes the snapshot first thing,
    /// before any pre-open code runs ([`InheritedFds::snapshot`]).
    CloseInherited(FdSnapshot),
    /// Keep them open; the report lists them.
    Keep,
}

impl InheritedFds {
    /// [`InheritedFds::CloseInherited`] with a snapshot of the descriptors
    /// open now. Reading `/proc/self/fd` cannot fail silently: if it fails,
    /// the snapshot records the error and entering refuses.
    pub fn snapshot() -> Self {
        Self::CloseInherited(FdSnapshot::take())
    }
}

/// The descriptors open at one moment, each with the identity (device and
/// inode) of what it pointed to, so a number closed and reused later is not
/// mistaken for the inherited one.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FdSnapshot {
    /// `(fd, st_dev, st_ino)` of each descriptor above 2.
    fds: Vec<(i32, u64, u64)>,
    /// The errno if the listing failed.
    error: Option<i32>,
}

impl FdSnapshot {
    /// Lists the descriptors open now (above stdio).
    pub fn take() -> Self {
        match backend::open_fds() {
            Ok(fds) => Self { fds, error: None },
            Err(errno) => Self {
                fds: Vec::new(),
                error: Some(errno),
            },
        }
    }

    /// A snapshot holding exactly `fds`, for unit tests of the planners.
    #[cfg(test)]
    pub(crate) fn from_fds(fds: Vec<(i32, u64, u64)>) -> Self {
        Self { fds, error: None }
    }

    /// Whether `fd` was open at the snapshot and pointed to the same file
    /// (`dev`, `ino`) as now.
    pub fn contains(&self, fd: i32, dev: u64, ino: u64) -> bool {
        self.fds.contains(&(fd, dev, ino))
    }

    /// The errno, if listing the descriptors failed.
    pub fn error(&self) -> Option<i32> {
        self.error
    }
}

/// Everything [`enter_with`] takes besides the policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Strict or best-effort.
    pub mode: Mode,
    /// What to do with undeclared descriptors.
    pub inherited_fds: InheritedFds,
    /// Behave as if the kernel offered at most this Landlock ABI (tests use it
    /// to simulate an older kernel). `None`: the running kernel's ABI.
    pub assume_landlock_abi: Option<u32>,
}

static REPORT: OnceLock<Report> = OnceLock::new();
static ENTERING: AtomicBool = AtomicBool::new(false);

/// Locks the process into capability mode with `policy`, in `mode`, refusing
/// undeclared inherited descriptors. See [`enter_with`].
pub fn enter(policy: &Policy<'_>, mode: Mode) -> Result<Report, Error> {
    enter_with(
        policy,
        &Options {
            mode,
            ..Options::default()
        },
    )
}

/// Locks the process into capability mode: after a successful return only the
/// policy's descriptors, rights and ports remain, for this process and every
/// child, with no way back.
///
/// On error nothing irreversible has happened (the error says otherwise in the
/// one case it cannot be avoided: [`Error::Kernel`] with a non-empty `applied`).
/// A process enters at most once; a second call returns [`Error::AlreadyEntered`].
pub fn enter_with(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    if ENTERING.swap(true, Ordering::SeqCst) {
        return Err(Error::AlreadyEntered);
    }
    match backend::enter(policy, options) {
        Ok(report) => {
            let stored = REPORT.get_or_init(|| report);
            Ok(stored.clone())
        }
        Err(err) => {
            if err.is_clean() {
                ENTERING.store(false, Ordering::SeqCst);
            }
            Err(err)
        }
    }
}

/// The report of the sandbox this process entered, if it entered one.
pub fn report() -> Option<&'static Report> {
    REPORT.get()
}
