//! The Linux applier: the system calls a [`Plan`] describes, and nothing else.
//!
//! [`Plan::prepare`] creates the reversible kernel object (the Landlock
//! ruleset and its rules: a descriptor, closed on error). [`Prepared::apply`]
//! makes the irreversible calls in order: no_new_privs, Landlock,
//! capabilities and securebits, inherited descriptors, seccomp.
//! [`Prepared::apply_in_child`] is the same sequence for a freshly cloned
//! child, with no allocation and no lock, so it can run between `clone` and
//! `exec`.

use std::os::fd::OwnedFd;

use super::plan::Plan;
use super::{caps, sys};
use crate::Error;
use crate::report::{FdAction, Report};

/// Which run of the irreversible sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// This process, for real: every step, the filter with TSYNC.
    Process,
    /// A child rehearsing for this process: what can fail (see
    /// [`Prepared::rehearse`]).
    Rehearsal,
    /// A child between clone and exec: every step but descriptors.
    InChild,
}

/// A plan whose Landlock ruleset exists in the kernel, ready to apply.
#[derive(Debug)]
pub struct Prepared {
    plan: Plan,
    ruleset: Option<OwnedFd>,
}

impl Plan {
    /// Creates the Landlock ruleset and adds the planned rules. Nothing about
    /// the process changes; on error the ruleset is closed.
    pub fn prepare(self) -> Result<Prepared, Error> {
        let kernel = |step: &'static str| {
            move |errno: i32| Error::Kernel {
                step,
                errno,
                applied: Vec::new(),
            }
        };
        let ruleset = match &self.landlock {
            Some(ll) => {
                let attr = sys::RulesetAttr {
                    handled_access_fs: ll.handled_fs,
                    handled_access_net: ll.handled_net,
                    scoped: ll.scoped,
                };
                let ruleset = sys::landlock_create_ruleset(&attr, ll.abi)
                    .map_err(kernel("landlock_create_ruleset"))?;
                for (fd, access) in &ll.path_rules {
                    sys::landlock_add_path_rule(
                        &ruleset,
                        &sys::PathBeneathAttr {
                            allowed_access: *access,
                            parent_fd: *fd,
                        },
                    )
                    .map_err(kernel("landlock_add_rule (path beneath)"))?;
                }
                for (port, access) in &ll.port_rules {
                    sys::landlock_add_net_rule(
                        &ruleset,
                        &sys::NetPortAttr {
                            allowed_access: *access,
                            port: u64::from(*port),
                        },
                    )
                    .map_err(kernel("landlock_add_rule (net port)"))?;
                }
                Some(ruleset)
            }
            None => None,
        };
        Ok(Prepared {
            plan: self,
            ruleset,
        })
    }
}

impl Prepared {
    /// The plan this was prepared from.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The plan's report, by value; the ruleset is closed.
    pub fn into_report(self) -> Report {
        self.plan.report
    }

    /// Makes the irreversible calls and returns the planned report.
    ///
    /// All or nothing: when a step after the first irreversible one could
    /// fail because of what a parent left behind (a sixteenth Landlock layer,
    /// a seccomp instruction budget used up by stacked filters, securebits or
    /// capabilities that cannot change), the whole sequence is first
    /// rehearsed in a child that shares this process's memory
    /// ([`Prepared::rehearse`]); a failed rehearsal is an [`Error::Kernel`]
    /// with nothing applied. On a failure of the real sequence (which the
    /// rehearsal makes unreachable short of running out of memory) the error
    /// lists the steps already applied.
    pub fn apply(self) -> Result<Report, Error> {
        if let Err((step, errno)) = self.rehearse() {
            return Err(Error::Kernel {
                step,
                errno,
                applied: Vec::new(),
            });
        }
        let mut applied: Vec<&'static str> = Vec::new();
        self.sequence(Run::Process, |step| applied.push(step))
            .map_err(|(step, errno)| Error::Kernel {
                step,
                errno,
                applied: applied.clone(),
            })?;
        Ok(self.plan.report)
    }

    /// The irreversible calls in order, for `run`; `done` is told each
    /// finished step. Allocates nothing itself.
    fn sequence(
        &self,
        run: Run,
        mut done: impl FnMut(&'static str),
    ) -> Result<(), (&'static str, i32)> {
        // Descriptors: the caller's in a child between clone and exec.
        let close = run != Run::InChild;
        // The seccomp program: in a rehearsal only over stacked filters.
        let seccomp = run != Run::Rehearsal || self.plan.rehearse_seccomp;
        let tsync = run == Run::Process;
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).map_err(|e| ("no_new_privs", e))?;
        done("no_new_privs");
        if let Some(ruleset) = &self.ruleset {
            sys::landlock_restrict_self(ruleset).map_err(|e| ("landlock_restrict_self", e))?;
            done("landlock");
        }
        let caps_plan = &self.plan.caps;
        // A rehearsal leaves out all but one of the bounding-set drops, one
        // prctl per capability: PR_CAPBSET_DROP fails only without
        // CAP_SETPCAP (known from the facts: nothing is dropped then), for a
        // capability the kernel does not know (the set comes from its own
        // CapBnd line), or when a parent's filter refuses the prctl itself.
        // One drop is still rehearsed, so that a parent filter refusing the
        // prctl is caught before anything is applied.
        let bounding: &[u32] = if run == Run::Rehearsal {
            &caps_plan.bounding[..caps_plan.bounding.len().min(1)]
        } else {
            &caps_plan.bounding
        };
        caps::drop_each(bounding, caps_plan.setpcap, caps_plan.securebits, |_| {})?;
        done("capabilities");
        if close {
            for fd in &self.plan.inherited {
                if fd.action == FdAction::Closed {
                    sys::close_unowned(fd.fd).map_err(|e| ("close inherited descriptor", e))?;
                }
            }
        }
        if let Some(filter) = self.plan.seccomp.as_ref().filter(|_| seccomp) {
            let flags = if tsync {
                sys::SECCOMP_FILTER_FLAG_TSYNC
            } else {
                0
            };
            sys::seccomp_set_filter(&filter.program, flags).map_err(|e| ("seccomp", e))?;
            done("seccomp");
        }
        Ok(())
    }

    /// Runs the whole irreversible sequence in a child process and reports
    /// the first step that failed there, with its errno; this process is
    /// unchanged either way. The child shares this process's memory
    /// (`clone(CLONE_VM | CLONE_VFORK)`, the way `posix_spawn` starts a
    /// child): no page tables are copied, this thread waits until it exits,
    /// and no-new-privs, Landlock domains, credentials and seccomp filters
    /// belong to the task, so nothing it applies reaches this process.
    ///
    /// What it catches: Landlock's limit of 16 stacked layers (`E2BIG` from
    /// `landlock_restrict_self`), the seccomp instruction budget of all
    /// stacked filters (`MAX_INSNS_PER_PATH`, `ENOMEM`), securebits a parent
    /// locked, capabilities that cannot be dropped, descriptors gone since
    /// the facts were gathered (`EBADF`), and a parent filter that denies or
    /// kills one of the calls. The seccomp program is installed in the
    /// rehearsal only when filters are already stacked
    /// ([`Plan::rehearse_seccomp`]): without them nothing but memory can make
    /// it fail, and its conversion is the costliest call of entering.
    pub fn rehearse(&self) -> Result<(), (&'static str, i32)> {
        sys::rehearse_in_child(&|| self.sequence(Run::Rehearsal, |_| {}))
    }

    /// The irreversible calls for a child process between `clone` and
    /// `exec`: no_new_privs, Landlock, capabilities, seccomp. It allocates
    /// nothing, takes no lock and writes no memory but its stack
    /// (async-signal-safe, and safe in a child that shares the parent's
    /// memory). Descriptors are the caller's: it closes none, and needs the
    /// ruleset's descriptor (the parent's, inherited) to be open when it
    /// runs; [`super::spawn::spawn`] calls it before placing the child's
    /// table and closes every other descriptor after it (`close_range`).
    /// Returns the errno of the first step that failed.
    pub fn apply_in_child(&self) -> Result<(), i32> {
        self.sequence(Run::InChild, |_| {}).map_err(|(_, e)| e)
    }
}
