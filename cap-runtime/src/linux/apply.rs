//! The Linux applier: the system calls a [`Plan`] describes, and nothing else.
//!
//! [`Plan::prepare`] creates the reversible kernel object (the Landlock
//! ruleset and its rules: a descriptor, closed on error). [`Prepared::apply`]
//! makes the irreversible calls in order: no_new_privs, Landlock,
//! capabilities and securebits, inherited descriptors, seccomp.
//! [`Prepared::apply_in_child`] is the same sequence for a freshly forked
//! child, with no allocation and no lock, so it can run between `fork` and
//! `exec`.

use std::os::fd::OwnedFd;

use super::plan::Plan;
use super::{caps, sys};
use crate::Error;
use crate::report::{FdAction, Report};

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

    /// Makes the irreversible calls and returns the planned report. On error
    /// the [`Error::Kernel`] lists the steps already applied.
    pub fn apply(self) -> Result<Report, Error> {
        let mut applied: Vec<&'static str> = Vec::new();
        let fail = |step: &'static str, errno: i32, applied: &Vec<&'static str>| Error::Kernel {
            step,
            errno,
            applied: applied.clone(),
        };

        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            .map_err(|e| fail("no_new_privs", e, &applied))?;
        applied.push("no_new_privs");

        if let Some(ruleset) = &self.ruleset {
            sys::landlock_restrict_self(ruleset)
                .map_err(|e| fail("landlock_restrict_self", e, &applied))?;
            applied.push("landlock");
        }
        drop(self.ruleset);

        let caps_plan = &self.plan.caps;
        caps::drop_all(&caps_plan.bounding, caps_plan.setpcap, caps_plan.securebits)
            .map_err(|(step, e)| fail(step, e, &applied))?;
        applied.push("capabilities");

        for fd in &self.plan.inherited {
            if fd.action == FdAction::Closed {
                sys::close_unowned(fd.fd)
                    .map_err(|e| fail("close inherited descriptor", e, &applied))?;
            }
        }

        #[cfg(target_arch = "x86_64")]
        if let Some(filter) = &self.plan.seccomp {
            sys::seccomp_set_filter(&filter.program, sys::SECCOMP_FILTER_FLAG_TSYNC)
                .map_err(|e| fail("seccomp", e, &applied))?;
        }
        Ok(self.plan.report)
    }

    /// The irreversible calls for a child process between `fork` and `exec`:
    /// no_new_privs, Landlock, capabilities, seccomp. It allocates nothing and
    /// takes no lock (async-signal-safe). Descriptors are the caller's: it
    /// closes what the child must not keep (`close_range`) before calling.
    /// Returns the errno of the first step that failed.
    pub fn apply_in_child(&self) -> Result<(), i32> {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)?;
        if let Some(ruleset) = &self.ruleset {
            sys::landlock_restrict_self(ruleset)?;
        }
        let caps_plan = &self.plan.caps;
        caps::drop_each(
            &caps_plan.bounding,
            caps_plan.setpcap,
            caps_plan.securebits,
            |_| {},
        )
        .map_err(|(_, e)| e)?;
        #[cfg(target_arch = "x86_64")]
        if let Some(filter) = &self.plan.seccomp {
            sys::seccomp_set_filter(&filter.program, 0)?;
        }
        Ok(())
    }
}
