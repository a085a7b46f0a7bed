//! Why entering capability mode failed.

use std::fmt;
use std::path::PathBuf;

use crate::report::{Gap, InheritedFd};

/// Why [`enter`](crate::enter) refused or failed.
///
/// Every variant but [`Error::Kernel`] with a non-empty `applied` list means
/// the process is unchanged: nothing was locked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No capability-mode backend for this OS ([`Mode::Strict`](crate::Mode::Strict)).
    Unsupported {
        /// The OS (`std::env::consts::OS`).
        os: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// The process has more than one thread: the lock would not cover the others.
    ThreadsRunning {
        /// How many threads `/proc/self/status` counts.
        count: usize,
    },
    /// A policy entry is invalid (a closed descriptor, the wrong kind of file,
    /// a right that means nothing on its kind).
    InvalidEntry {
        /// The descriptor.
        fd: i32,
        /// Where the handle came from.
        origin: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A network grant is invalid.
    InvalidGrant {
        /// The grant's label.
        label: String,
        /// What is wrong.
        reason: String,
    },
    /// [`Mode::Strict`](crate::Mode::Strict): some granted right or restriction
    /// cannot be enforced by this kernel.
    NotEnforceable {
        /// Each right that would not be enforced, naming its handle.
        gaps: Vec<Gap>,
    },
    /// Descriptors that are neither stdio nor in the policy are open, and the
    /// choice was [`InheritedFds::Refuse`](crate::InheritedFds::Refuse).
    InheritedFds {
        /// Each descriptor and what it points to.
        fds: Vec<InheritedFd>,
    },
    /// This process already entered capability mode (or is entering it).
    AlreadyEntered,
    /// The kernel refused a step.
    Kernel {
        /// The step (`"landlock_create_ruleset"`, `"seccomp"`, ...).
        step: &'static str,
        /// The errno it returned.
        errno: i32,
        /// The irreversible steps already applied before it failed (empty when
        /// the process is unchanged).
        applied: Vec<&'static str>,
    },
}

impl Error {
    /// Whether the process is unchanged (nothing irreversible was applied).
    pub fn is_clean(&self) -> bool {
        !matches!(self, Error::Kernel { applied, .. } if !applied.is_empty())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unsupported { os, reason } => {
                write!(f, "capability mode is not supported on {os}: {reason}")
            }
            Error::ThreadsRunning { count } => write!(
                f,
                "refusing to enter capability mode: {count} threads are running, and the lock would only cover the calling one; enter before spawning threads"
            ),
            Error::InvalidEntry { fd, origin, reason } => {
                write!(
                    f,
                    "invalid policy entry {} (fd {fd}): {reason}",
                    origin.display()
                )
            }
            Error::InvalidGrant { label, reason } => {
                write!(f, "invalid network grant `{label}`: {reason}")
            }
            Error::NotEnforceable { gaps } => {
                write!(f, "strict mode: this kernel cannot enforce ")?;
                for (i, gap) in gaps.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{} on {} ({})", gap.right, gap.subject, gap.reason)?;
                }
                f.write_str(" (use Mode::BestEffort to enter anyway)")
            }
            Error::InheritedFds { fds } => {
                write!(
                    f,
                    "refusing to enter capability mode: undeclared descriptors are open: "
                )?;
                for (i, fd) in fds.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "fd {} -> {}", fd.fd, fd.target)?;
                }
                f.write_str(" (grant them, close them, or choose InheritedFds::Close or ::Keep)")
            }
            Error::AlreadyEntered => f.write_str("this process already entered capability mode"),
            Error::Kernel {
                step,
                errno,
                applied,
            } => {
                write!(
                    f,
                    "the kernel refused {step}: {}",
                    std::io::Error::from_raw_os_error(*errno)
                )?;
                if applied.is_empty() {
                    f.write_str(" (nothing was applied)")
                } else {
                    write!(f, " (already applied: {})", applied.join(", "))
                }
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(err: Error) -> Self {
        let kind = match &err {
            Error::Unsupported { .. } => std::io::ErrorKind::Unsupported,
            Error::InvalidEntry { .. } | Error::InvalidGrant { .. } => {
                std::io::ErrorKind::InvalidInput
            }
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, err)
    }
}
