//! The Linux backend: no_new_privs, Landlock (filesystem, TCP ports, scopes),
//! capabilities, inherited descriptors, seccomp, in that order.
//!
//! Everything that can fail because of the policy or the kernel's abilities is
//! done before the first irreversible step: validating the descriptors,
//! counting threads, probing the Landlock ABI, building the ruleset (a
//! descriptor, dropped on error) and the seccomp program, listing inherited
//! descriptors.

pub mod caps;
pub mod fds;
pub mod landlock;
#[cfg(feature = "probe")]
#[doc(hidden)]
pub mod probe;
#[cfg(target_arch = "x86_64")]
pub mod seccomp;
mod sys;

use std::os::fd::RawFd;

use crate::report::{FdAction, Gap, HandleReport, InheritedFd, Report, SeccompReport};
use crate::{EntryKind, Error, InheritedFds, Mode, Options, Policy, Rights, SocketKind};

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

fn gap(
    subject: impl Into<String>,
    right: impl Into<String>,
    reason: impl Into<String>,
    permanent: bool,
) -> Gap {
    Gap {
        subject: subject.into(),
        right: right.into(),
        reason: reason.into(),
        permanent,
    }
}

fn strings(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(str::to_string).collect()
}

/// What the seccomp filter needs, derived from the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Any directory or file handle.
    pub fs: bool,
    /// Any file or directory handle with `SetMeta`.
    pub set_meta: bool,
    /// Any file or directory handle with `Truncate`: every `fallocate` mode
    /// (without it, plain allocation only).
    pub truncate: bool,
    /// Any grant with TCP ports: new TCP sockets, `connect`, `bind`.
    /// (Held TCP sockets need none of it.)
    pub inet: bool,
    /// Any grant with TCP bind ports (`listen` is allowed only then, or with
    /// unix needs: on an unbound TCP socket it binds an ephemeral port without
    /// Landlock's bind check).
    pub tcp_bind: bool,
    /// Any grant with UDP: new UDP sockets.
    pub udp: bool,
    /// Any grant with unix sockets: new unix sockets, `connect`, `bind`.
    /// (Held unix sockets need none of it.)
    pub unix: bool,
    /// Any held listener with `Accept` (or a grant that can make one):
    /// `accept`, `accept4`.
    pub accept: bool,
    /// Any handle with `Exec`.
    pub exec: bool,
}

/// The seccomp groups `policy` needs.
pub fn needs(policy: &Policy<'_>) -> Needs {
    let mut n = Needs::default();
    for e in policy.entries() {
        match e.kind {
            EntryKind::Dir | EntryKind::File => n.fs = true,
            // A held socket is used through its descriptor: send and recv
            // are in the baseline, a listener (TCP or unix) adds accept.
            // Making sockets, binding or connecting beneath a `Dir` inside
            // the sandbox included, is the authority of a grant only
            // (`Net::builder(..).unix()` for unix sockets).
            EntryKind::Socket(SocketKind::TcpListener | SocketKind::UnixListener) => {
                n.accept |= e.rights.contains(Rights::ACCEPT);
            }
            EntryKind::Socket(
                SocketKind::TcpStream
                | SocketKind::Udp
                | SocketKind::UnixStream
                | SocketKind::UnixDatagram,
            ) => {}
        }
        let file = !matches!(e.kind, EntryKind::Socket(_));
        n.set_meta |= e.rights.contains(Rights::SET_META) && file;
        n.truncate |= e.rights.contains(Rights::TRUNCATE) && file;
        n.exec |= e.rights.contains(Rights::EXEC);
    }
    for g in policy.net_grants() {
        n.inet |= !g.tcp_connect_ports.is_empty() || !g.tcp_bind_ports.is_empty();
        n.tcp_bind |= !g.tcp_bind_ports.is_empty();
        n.udp |= g.udp;
        n.unix |= g.unix;
    }
    n.accept |= n.tcp_bind || n.unix;
    n
}

fn check_descriptors(policy: &Policy<'_>) -> Result<(), Error> {
    for e in policy.entries() {
        let invalid = |reason: String| Error::InvalidEntry {
            fd: e.fd,
            origin: e.origin.clone(),
            reason,
        };
        let mode = sys::fstat_mode(e.fd).map_err(|errno| {
            invalid(format!(
                "the descriptor is not usable: {}",
                std::io::Error::from_raw_os_error(errno)
            ))
        })?;
        let fmt = mode & libc::S_IFMT;
        let ok = match e.kind {
            EntryKind::Dir => fmt == libc::S_IFDIR,
            EntryKind::File => fmt != libc::S_IFDIR && fmt != libc::S_IFSOCK,
            EntryKind::Socket(_) => fmt == libc::S_IFSOCK,
        };
        if !ok {
            return Err(invalid(format!(
                "declared as {:?} but the descriptor is not one (mode {mode:o})",
                e.kind
            )));
        }
    }
    Ok(())
}

/// The gaps no kernel closes, named for this policy.
fn permanent_gaps(policy: &Policy<'_>, n: Needs, gaps: &mut Vec<Gap>) {
    gaps.push(gap("process", "Stat", "metadata (stat, statx, getxattr) of any path stays readable: Landlock does not mediate it; the types still require Stat", true));
    gaps.push(gap(
        "process",
        "Lookup",
        "path walk is not restricted by Landlock; opening anything outside the rules is",
        true,
    ));
    for e in policy.entries() {
        let origin = e.origin.display().to_string();
        if e.rights.contains(Rights::EXEC)
            && !e.rights.contains(Rights::READ)
            && e.kind != EntryKind::Socket(SocketKind::Udp)
        {
            gaps.push(gap(&origin, "Exec without Read", "the kernel opens an executable for reading before running it, so Landlock must grant read_file with execute: files beneath can be read; the types do not allow it", true));
        }
        if e.kind == EntryKind::Dir && e.rights.contains(Rights::RENAME) {
            let missing = Rights::CREATE.union(Rights::REMOVE).difference(e.rights);
            if !missing.is_empty() {
                gaps.push(gap(&origin, format!("Rename without {missing}"), "Landlock checks a rename as a removal plus a creation, so the kernel also lets this handle's tree create and remove; the types do not", true));
            }
        }
    }
    if n.truncate {
        for e in policy.entries() {
            if !matches!(e.kind, EntryKind::Socket(_))
                && e.rights.contains(Rights::WRITE)
                && !e.rights.contains(Rights::TRUNCATE)
            {
                gaps.push(gap(e.origin.display().to_string(), "Truncate (fallocate)", "another handle has Truncate, so seccomp allows every fallocate mode: a file opened for writing beneath this handle can be shrunk or punched (COLLAPSE_RANGE, PUNCH_HOLE, ZERO_RANGE); Landlock does not check fallocate", true));
            }
        }
    }
    if n.set_meta {
        gaps.push(gap("process", "SetMeta", "chmod, chown, utimes and xattr writes are allowed by seccomp for every path the process can name, not only beneath the handle with SetMeta (Landlock does not mediate them)", true));
    }
    if n.inet {
        gaps.push(gap("process", "tcp address", "Landlock TCP rules match ports, not addresses: a granted port is reachable on every host", true));
    }
    if n.inet && (n.tcp_bind || n.unix) {
        gaps.push(gap("process", "tcp listen", "listen() on an unbound TCP socket binds an ephemeral port on every address without Landlock's bind check, so the process can accept connections on a port outside the grant (listen is allowed because a grant has TCP bind ports or unix sockets)", true));
    }
    if n.udp {
        gaps.push(gap("process", "udp", "UDP sockets are allowed by seccomp; Landlock does not restrict UDP destinations or bound ports", true));
    }
    for e in policy.entries() {
        if matches!(
            e.kind,
            EntryKind::Socket(SocketKind::Udp | SocketKind::UnixDatagram)
        ) {
            gaps.push(gap(e.origin.display().to_string(), "send destination", "a held datagram socket that is not connected can send to any address its family reaches (sendto is not mediated by Landlock); the types only send to the connected peer", true));
        }
    }
    if n.unix {
        gaps.push(gap("process", "unix path", "connecting to a pathname unix socket is not mediated by Landlock (abstract sockets are scoped)", true));
    }
}

/// Locks the calling process. See [`crate::enter_with`].
pub(crate) fn enter(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    crate::policy::validate_portable(policy)?;
    check_descriptors(policy)?;
    let threads = fds::thread_count().map_err(|errno| Error::Kernel {
        step: "count threads (/proc/self/status)",
        errno,
        applied: Vec::new(),
    })?;
    if threads > 1 {
        return Err(Error::ThreadsRunning { count: threads });
    }

    let kernel_abi = sys::landlock_abi();
    let abi = options
        .assume_landlock_abi
        .map_or(kernel_abi, |a| a.min(kernel_abi));
    let n = needs(policy);
    let mut report = Report::empty(options.mode);
    report.landlock_abi = abi;
    report.landlock_abi_kernel = kernel_abi;
    let mut gaps = Vec::new();

    // Landlock plan.
    let handled_fs = landlock::fs_known(abi);
    let handled_net = landlock::net_known(abi);
    let scoped = landlock::scopes_known(abi);
    if abi == 0 {
        gaps.push(gap(
            "process",
            "landlock",
            "Landlock is not available: no path, truncate or TCP port is restricted by the kernel",
            false,
        ));
    } else {
        if abi < 3 {
            gaps.push(gap("process", "Truncate", format!("Landlock ABI {abi} cannot restrict truncation (needs ABI 3): any writable file can be truncated"), false));
        }
        if abi < 5 {
            gaps.push(gap(
                "process",
                "ioctl on devices",
                format!("Landlock ABI {abi} cannot restrict device ioctls (needs ABI 5)"),
                false,
            ));
        }
        if abi < 4 && n.inet {
            gaps.push(gap("process", "tcp ports", format!("Landlock ABI {abi} cannot restrict TCP bind/connect ports (needs ABI 4): any port is reachable"), false));
        }
        if abi < 6 {
            gaps.push(gap("process", "scope signal", format!("Landlock ABI {abi} cannot scope signals (needs ABI 6): processes of the same user can be signalled"), false));
            if n.unix {
                gaps.push(gap(
                    "process",
                    "scope abstract unix socket",
                    format!("Landlock ABI {abi} cannot scope abstract unix sockets (needs ABI 6)"),
                    false,
                ));
            }
        }
    }
    for e in policy.entries() {
        let origin = e.origin.display().to_string();
        let (access, is_dir) = match e.kind {
            EntryKind::Dir => (landlock::dir_access(e.rights), true),
            EntryKind::File => (landlock::file_access(e.rights), false),
            EntryKind::Socket(kind) => {
                report.handles.push(HandleReport {
                    fd: e.fd,
                    kind: serde_json::to_value(kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    origin,
                    rights: e.rights,
                    access: Vec::new(),
                });
                continue;
            }
        };
        for (right, missing) in landlock::unenforceable(e.rights, is_dir, abi) {
            let reason = if abi == 0 {
                "Landlock is not available".to_string()
            } else if right == Rights::RENAME {
                format!(
                    "needs Landlock {} (ABI {abi} lacks it): renames and links across directories are denied",
                    missing.join(", ")
                )
            } else {
                format!(
                    "needs Landlock {} (ABI {abi} lacks it): not enforced",
                    missing.join(", ")
                )
            };
            gaps.push(gap(
                &origin,
                right.to_string().trim_matches(['[', ']']),
                reason,
                false,
            ));
        }
        report.handles.push(HandleReport {
            fd: e.fd,
            kind: if is_dir { "dir" } else { "file" }.to_string(),
            origin,
            rights: e.rights,
            access: strings(landlock::fs_names(access & handled_fs)),
        });
    }
    report.handled_fs = strings(landlock::fs_names(handled_fs));
    report.handled_net = strings(landlock::net_names(handled_net));
    report.scopes = strings(landlock::scope_names(scoped));
    report.net_grants = policy.net_grants().to_vec();
    for g in policy.net_grants() {
        report.tcp_connect_ports.extend(&g.tcp_connect_ports);
        report.tcp_bind_ports.extend(&g.tcp_bind_ports);
    }
    report.tcp_connect_ports.sort_unstable();
    report.tcp_connect_ports.dedup();
    report.tcp_bind_ports.sort_unstable();
    report.tcp_bind_ports.dedup();

    // Seccomp plan.
    #[cfg(target_arch = "x86_64")]
    let filter = {
        let available = sys::seccomp_action_available(seccomp::RET_KILL_PROCESS)
            .and_then(|()| sys::seccomp_action_available(seccomp::RET_ERRNO));
        if available.is_ok() {
            Some(seccomp::build(n).map_err(|_| Error::Kernel {
                step: "seccomp program",
                errno: libc::E2BIG,
                applied: Vec::new(),
            })?)
        } else {
            gaps.push(gap("process", "seccomp", "seccomp filters with KILL_PROCESS and ERRNO are not available: no syscall is restricted", false));
            None
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    gaps.push(gap(
        "process",
        "seccomp",
        "no syscall table for this architecture yet: no syscall is restricted",
        false,
    ));

    if options.mode == Mode::Strict {
        let unenforced: Vec<Gap> = gaps.iter().filter(|g| !g.permanent).cloned().collect();
        if !unenforced.is_empty() {
            return Err(Error::NotEnforceable { gaps: unenforced });
        }
    }
    permanent_gaps(policy, n, &mut gaps);

    // Inherited descriptors (listed before we open any of our own).
    let keep: Vec<RawFd> = policy.entries().iter().map(|e| e.fd).collect();
    let inherited = fds::undeclared(&keep).map_err(|errno| Error::Kernel {
        step: "list open descriptors (/proc/self/fd)",
        errno,
        applied: Vec::new(),
    })?;
    if let InheritedFds::CloseInherited(snapshot) = &options.inherited_fds
        && let Some(errno) = snapshot.error()
    {
        return Err(Error::Kernel {
            step: "snapshot of open descriptors (/proc/self/fd)",
            errno,
            applied: Vec::new(),
        });
    }
    if options.inherited_fds == InheritedFds::Refuse && !inherited.is_empty() {
        return Err(Error::InheritedFds {
            fds: inherited
                .into_iter()
                .map(|(fd, target)| InheritedFd {
                    fd,
                    target,
                    action: FdAction::Refused,
                })
                .collect(),
        });
    }

    // What becomes of each: decided now, done after Landlock.
    let inherited: Vec<(RawFd, String, FdAction)> = inherited
        .into_iter()
        .map(|(fd, target)| {
            let action = match &options.inherited_fds {
                InheritedFds::Close => FdAction::Closed,
                // Open at the snapshot and still the same file: inherited.
                // Anything else was opened since, and a live object may own it.
                InheritedFds::CloseInherited(snapshot) => match sys::fstat_id(fd) {
                    Ok((_, dev, ino)) if snapshot.contains(fd, dev, ino) => FdAction::Closed,
                    _ => FdAction::Kept,
                },
                InheritedFds::Keep | InheritedFds::Refuse => FdAction::Kept,
            };
            (fd, target, action)
        })
        .collect();

    // The Landlock ruleset: created and filled now, applied later.
    let kernel = |step: &'static str| {
        move |errno: i32| Error::Kernel {
            step,
            errno,
            applied: Vec::new(),
        }
    };
    let ruleset = if abi > 0 {
        let attr = sys::RulesetAttr {
            handled_access_fs: handled_fs,
            handled_access_net: handled_net,
            scoped,
        };
        let ruleset =
            sys::landlock_create_ruleset(&attr, abi).map_err(kernel("landlock_create_ruleset"))?;
        for e in policy.entries() {
            let access = match e.kind {
                EntryKind::Dir => landlock::dir_access(e.rights),
                EntryKind::File => landlock::file_access(e.rights),
                EntryKind::Socket(_) => 0,
            } & handled_fs;
            if access != 0 {
                sys::landlock_add_path_rule(
                    &ruleset,
                    &sys::PathBeneathAttr {
                        allowed_access: access,
                        parent_fd: e.fd,
                    },
                )
                .map_err(kernel("landlock_add_rule (path beneath)"))?;
            }
        }
        if handled_net != 0 {
            for (ports, access) in [
                (&report.tcp_connect_ports, landlock::NET_CONNECT_TCP),
                (&report.tcp_bind_ports, landlock::NET_BIND_TCP),
            ] {
                for port in ports {
                    sys::landlock_add_net_rule(
                        &ruleset,
                        &sys::NetPortAttr {
                            allowed_access: access,
                            port: u64::from(*port),
                        },
                    )
                    .map_err(kernel("landlock_add_rule (net port)"))?;
                }
            }
        }
        Some(ruleset)
    } else {
        None
    };

    let last = caps::last_cap();
    let bounding = caps::bounding_set(last);
    let setpcap = caps::has_setpcap();
    // Securebits a parent locked cannot change: plan around them now rather
    // than fail after Landlock is applied.
    let securebits = if setpcap {
        let current = caps::securebits().map_err(kernel("read securebits"))?;
        let (target, differ) = caps::securebits_plan(current);
        if !differ.is_empty() {
            gaps.push(gap("process", "securebits", format!("securebits {} were locked by a parent process to other values and stay so (capabilities are still dropped and no_new_privs set)", differ.join(", ")), true));
        }
        (target != current).then_some(target)
    } else {
        None
    };

    // ---- From here on, every step is irreversible. ----
    let mut applied: Vec<&'static str> = Vec::new();
    let fail = |step: &'static str, errno: i32, applied: &Vec<&'static str>| Error::Kernel {
        step,
        errno,
        applied: applied.clone(),
    };

    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        .map_err(|e| fail("no_new_privs", e, &applied))?;
    applied.push("no_new_privs");

    if let Some(ruleset) = ruleset {
        sys::landlock_restrict_self(&ruleset)
            .map_err(|e| fail("landlock_restrict_self", e, &applied))?;
        drop(ruleset);
        applied.push("landlock");
    }

    let dropped = caps::drop_all(&bounding, setpcap, securebits)
        .map_err(|(step, e)| fail(step, e, &applied))?;
    applied.push("capabilities");
    report.capabilities_dropped = dropped.into_iter().map(caps::name).collect();

    for (fd, target, action) in inherited {
        if action == FdAction::Closed {
            sys::close_unowned(fd).map_err(|e| fail("close inherited descriptor", e, &applied))?;
        }
        report
            .inherited_fds
            .push(InheritedFd { fd, target, action });
    }

    #[cfg(target_arch = "x86_64")]
    if let Some(filter) = filter {
        sys::seccomp_set_filter(&filter.program, sys::SECCOMP_FILTER_FLAG_TSYNC)
            .map_err(|e| fail("seccomp", e, &applied))?;
        applied.push("seccomp");
        report.seccomp = Some(SeccompReport {
            groups: filter.groups.iter().map(|g| g.name().to_string()).collect(),
            allowed_syscalls: filter.allowed.len(),
            instructions: filter.len(),
        });
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = SeccompReport::clone;

    report.mechanisms = applied.iter().map(|s| (*s).to_string()).collect();
    report.gaps = gaps;
    Ok(report)
}
