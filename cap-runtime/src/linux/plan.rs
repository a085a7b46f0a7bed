//! The Linux planner: policy and [`Facts`] in, the exact kernel objects out.
//!
//! [`plan`] makes no system call. It decides every refusal (bad descriptors,
//! threads, what Strict cannot accept, inherited descriptors), derives the
//! Landlock ruleset (attributes, path and port rules), the seccomp program,
//! the capability plan and what becomes of each undeclared descriptor, and
//! fills the [`Report`] from them, so the report says what
//! [`super::apply`] will do, not what someone believes it does.

use std::os::fd::RawFd;

use super::facts::Facts;
use super::landlock;
use super::seccomp;
use crate::report::{FdAction, Gap, HandleReport, InheritedFd, Report, SeccompReport};
use crate::{EntryKind, Error, InheritedFds, Mode, Options, Policy, Rights, SocketKind};

/// The Landlock part of a plan: the ruleset's attributes and its rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LandlockPlan {
    /// The ABI the ruleset is created for (decides the attribute size).
    pub abi: u32,
    /// `handled_access_fs`.
    pub handled_fs: u64,
    /// `handled_access_net`.
    pub handled_net: u64,
    /// `scoped`.
    pub scoped: u64,
    /// Path-beneath rules: a held descriptor and the access granted beneath it.
    pub path_rules: Vec<(RawFd, u64)>,
    /// Net-port rules: a TCP port and the access (bind or connect) granted.
    pub port_rules: Vec<(u16, u64)>,
}

/// The capability part of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapsPlan {
    /// Bounding-set capabilities to drop (all of them, when `setpcap`).
    pub bounding: Vec<u32>,
    /// Whether the thread may drop them and set securebits.
    pub setpcap: bool,
    /// The securebits to set, `None` to leave them as they are.
    pub securebits: Option<libc::c_ulong>,
}

/// Everything entering will do, as values: see the module docs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// What the seccomp filter was derived from.
    pub needs: Needs,
    /// The Landlock ruleset, `None` without Landlock.
    pub landlock: Option<LandlockPlan>,
    /// The seccomp program, `None` where seccomp is unavailable.
    pub seccomp: Option<seccomp::Filter>,
    /// Capabilities and securebits.
    pub caps: CapsPlan,
    /// Each undeclared descriptor and what becomes of it.
    pub inherited: Vec<InheritedFd>,
    /// Whether the rehearsal of entering installs the seccomp program too:
    /// only when filters are already stacked, since only they can make it
    /// fail (the instruction budget); otherwise the kernel's second
    /// conversion and compilation of the program is saved.
    pub rehearse_seccomp: bool,
    /// The report entering returns when every step succeeds.
    pub report: Report,
}

pub(crate) fn gap(
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
    /// The program was not written against ambit
    /// ([`Policy::unmodified_program`]): the `unmodified` group.
    pub unmodified: bool,
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
    n.unmodified = policy.is_unmodified_program();
    n
}

fn check_descriptors(policy: &Policy<'_>, facts: &Facts) -> Result<(), Error> {
    for (i, e) in policy.entries().iter().enumerate() {
        let invalid = |reason: String| Error::InvalidEntry {
            fd: e.fd,
            origin: e.origin.clone(),
            reason,
        };
        let mode = facts
            .entry_modes
            .get(i)
            .copied()
            .unwrap_or(Err(libc::EBADF))
            .map_err(|errno| {
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
    gaps.push(gap("process", "O_PATH", "open(O_PATH) of any path succeeds outside every rule (Landlock does not check it): the descriptor gives metadata (fstat, fstatat, readlink) and a directory to walk from, never the contents, whose opens Landlock still checks", true));
    for e in policy.entries() {
        let origin = e.origin.display().to_string();
        if e.rights.contains(Rights::EXEC)
            && !e.rights.contains(Rights::READ)
            && e.kind != EntryKind::Socket(SocketKind::Udp)
        {
            gaps.push(gap(&origin, "Exec without Read", "the kernel opens an executable for reading before running it, so Landlock must grant read_file with execute: files beneath can be read; the types do not allow it", true));
        }
        // Rename lets the kernel create too (Landlock's MAKE_REG).
        if e.kind == EntryKind::Dir
            && e.rights.intersects(Rights::CREATE | Rights::RENAME)
            && !e.rights.contains(Rights::SET_META)
        {
            gaps.push(gap(&origin, "mode at creation", "the mode given to open(O_CREAT), mkdir and mknod, and umask, are not mediated by any kernel mechanism: raw calls beneath this handle can create set-uid, set-gid, sticky or world-writable files; the types refuse such modes without SetMeta and mask the default (0o644, 0o755)", true));
        }
        if e.kind == EntryKind::Dir
            && e.rights.contains(Rights::CREATE)
            && !e.rights.contains(Rights::RENAME)
        {
            gaps.push(gap(&origin, "Rename by Create", "Landlock checks a hard link as a creation and a rename as a removal plus a creation, so with Create this handle's tree can hard-link within itself (and, with Remove too, rename); the types need Rename", true));
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
    } else if n.inet {
        for e in policy.entries() {
            if matches!(
                e.kind,
                EntryKind::Socket(SocketKind::UnixStream | SocketKind::UnixDatagram)
            ) {
                gaps.push(gap(e.origin.display().to_string(), "unix path", "a TCP grant allows connect() for every socket and seccomp cannot read the address: this held unix socket, if it is not connected (or is a datagram socket), can connect to any pathname unix socket (Landlock does not mediate pathname sockets; abstract ones are scoped)", true));
            }
        }
    }
}

/// Plans entering capability mode with `policy`: see the module docs.
pub fn plan(policy: &Policy<'_>, options: &Options, facts: &Facts) -> Result<Plan, Error> {
    crate::policy::validate_portable(policy)?;
    check_descriptors(policy, facts)?;
    let threads = facts.threads.map_err(|errno| Error::Kernel {
        step: "count threads (/proc/self/status)",
        errno,
        applied: Vec::new(),
    })?;
    if threads > 1 {
        return Err(Error::ThreadsRunning { count: threads });
    }

    let kernel_abi = facts.landlock_abi;
    let abi = options
        .assume_landlock_abi
        .map_or(kernel_abi, |a| a.min(kernel_abi));
    let n = needs(policy);
    let mut report = Report::empty(options.mode);
    report.landlock_abi = abi;
    report.landlock_abi_kernel = kernel_abi;
    let mut gaps = Vec::new();

    // Landlock.
    let handled_fs = landlock::fs_known(abi);
    let handled_net = landlock::net_known(abi);
    let scoped = landlock::scopes_known(abi);
    abi_gaps(abi, n, &mut gaps);
    let mut path_rules = Vec::new();
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
        if access & handled_fs != 0 {
            path_rules.push((e.fd, access & handled_fs));
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
    let landlock = (abi > 0).then(|| {
        let mut port_rules = Vec::new();
        if handled_net != 0 {
            port_rules.extend(
                report
                    .tcp_connect_ports
                    .iter()
                    .map(|p| (*p, landlock::NET_CONNECT_TCP)),
            );
            port_rules.extend(
                report
                    .tcp_bind_ports
                    .iter()
                    .map(|p| (*p, landlock::NET_BIND_TCP)),
            );
        }
        LandlockPlan {
            abi,
            handled_fs,
            handled_net,
            scoped,
            path_rules,
            port_rules,
        }
    });

    // Seccomp.
    let filter = if seccomp::Arch::native().is_none() {
        gaps.push(gap(
            "process",
            "seccomp",
            "no syscall table for this architecture (x86_64, aarch64 and riscv64 have one): no syscall is restricted",
            false,
        ));
        None
    } else if facts.seccomp_available {
        Some(seccomp::build_cached(n).map_err(|_| Error::Kernel {
            step: "seccomp program",
            errno: libc::E2BIG,
            applied: Vec::new(),
        })?)
    } else {
        gaps.push(gap("process", "seccomp", "seccomp filters with KILL_PROCESS and ERRNO are not available: no syscall is restricted", false));
        None
    };

    if options.mode == Mode::Strict {
        let unenforced: Vec<Gap> = gaps.iter().filter(|g| !g.permanent).cloned().collect();
        if !unenforced.is_empty() {
            return Err(Error::NotEnforceable { gaps: unenforced });
        }
    }
    permanent_gaps(policy, n, &mut gaps);

    let inherited = plan_inherited(options, facts)?;
    for fd in inherited.iter().filter(|fd| fd.action == FdAction::Kept) {
        gaps.push(gap(
            format!("fd {} ({})", fd.fd, fd.target),
            "descriptor kept",
            "an undeclared descriptor stays open (kept by the options, or opened by code that ran before entering): whatever it grants is outside the policy and not derived from a handle",
            true,
        ));
    }

    // Securebits a parent locked cannot change: plan around them now rather
    // than fail after Landlock is applied.
    let securebits = match facts.securebits {
        Some(current) => {
            let current = current.map_err(|errno| Error::Kernel {
                step: "read securebits",
                errno,
                applied: Vec::new(),
            })?;
            let (target, differ) = super::caps::securebits_plan(current);
            if !differ.is_empty() {
                gaps.push(gap("process", "securebits", format!("securebits {} were locked by a parent process to other values and stay so (capabilities are still dropped and no_new_privs set)", differ.join(", ")), true));
            }
            (target != current).then_some(target)
        }
        None => None,
    };
    let caps = CapsPlan {
        bounding: if facts.setpcap {
            facts.bounding.clone()
        } else {
            Vec::new()
        },
        setpcap: facts.setpcap,
        securebits,
    };

    // The report of what applying does, step by step.
    report.mechanisms.push("no_new_privs".to_string());
    if landlock.is_some() {
        report.mechanisms.push("landlock".to_string());
    }
    report.mechanisms.push("capabilities".to_string());
    report.capabilities_dropped = caps
        .bounding
        .iter()
        .copied()
        .map(super::caps::name)
        .collect();
    report.inherited_fds.clone_from(&inherited);
    if let Some(filter) = &filter {
        report.mechanisms.push("seccomp".to_string());
        report.seccomp = Some(SeccompReport {
            groups: filter.groups.iter().map(|g| g.name().to_string()).collect(),
            allowed_syscalls: filter.allowed.len(),
            instructions: filter.len(),
        });
    }
    report.gaps = gaps;

    Ok(Plan {
        needs: n,
        landlock,
        seccomp: filter,
        caps,
        inherited,
        rehearse_seccomp: facts.seccomp_filters > 0,
        report,
    })
}

/// The gaps that come from the kernel's Landlock ABI.
fn abi_gaps(abi: u32, n: Needs, gaps: &mut Vec<Gap>) {
    if abi == 0 {
        gaps.push(gap(
            "process",
            "landlock",
            "Landlock is not available: no path, truncate or TCP port is restricted by the kernel",
            false,
        ));
        return;
    }
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

/// What becomes of each undeclared descriptor, or the refusal.
fn plan_inherited(options: &Options, facts: &Facts) -> Result<Vec<InheritedFd>, Error> {
    let undeclared = facts.undeclared.clone().map_err(|errno| Error::Kernel {
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
    if options.inherited_fds == InheritedFds::Refuse && !undeclared.is_empty() {
        return Err(Error::InheritedFds {
            fds: undeclared
                .into_iter()
                .map(|o| InheritedFd {
                    fd: o.fd,
                    target: o.target,
                    action: FdAction::Refused,
                })
                .collect(),
        });
    }
    Ok(undeclared
        .into_iter()
        .map(|o| {
            let action = match &options.inherited_fds {
                InheritedFds::Close => FdAction::Closed,
                // Open at the snapshot and still the same file: inherited.
                // Anything else was opened since, and a live object may own it.
                InheritedFds::CloseInherited(snapshot) => match o.id {
                    Some((dev, ino)) if snapshot.contains(o.fd, dev, ino) => FdAction::Closed,
                    _ => FdAction::Kept,
                },
                InheritedFds::Keep | InheritedFds::Refuse => FdAction::Kept,
            };
            InheritedFd {
                fd: o.fd,
                target: o.target,
                action,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, AsRawFd};
    use std::path::Path;

    use super::*;
    use crate::NetGrant;

    fn facts(entries: usize) -> Facts {
        Facts {
            landlock_abi: 7,
            seccomp_available: true,
            threads: Ok(1),
            seccomp_filters: 0,
            entry_modes: vec![Ok(libc::S_IFDIR | 0o755); entries],
            undeclared: Ok(Vec::new()),
            bounding: vec![0, 1, 21],
            setpcap: true,
            securebits: Some(Ok(0)),
        }
    }

    /// A directory descriptor to put in a policy (the planner never looks at
    /// it: the facts say what it is).
    fn root() -> std::fs::File {
        std::fs::File::open("/").unwrap()
    }

    #[test]
    fn a_read_only_dir_gets_one_read_rule_and_the_report_says_what_apply_does() {
        let d = root();
        let mut policy = Policy::new();
        policy.dir(d.as_fd(), Rights::LOOKUP | Rights::READ, Path::new("/srv"));
        let plan = plan(&policy, &Options::default(), &facts(1)).unwrap();
        let ll = plan.landlock.as_ref().unwrap();
        assert_eq!(
            ll.path_rules,
            vec![(d.as_raw_fd(), landlock::READ_FILE | landlock::READ_DIR)]
        );
        assert!(ll.port_rules.is_empty());
        assert_eq!(
            plan.report.mechanisms,
            ["no_new_privs", "landlock", "capabilities", "seccomp"]
        );
        assert_eq!(plan.caps.bounding, [0, 1, 21]);
        assert_eq!(plan.report.capabilities_dropped.len(), 3);
        assert!(!plan.needs.exec && plan.needs.fs);
    }

    #[test]
    fn the_fallocate_gap_names_each_write_handle_without_truncate() {
        let (a, b) = (root(), root());
        let gaps_of = |first: Rights| {
            let mut policy = Policy::new();
            policy.dir(a.as_fd(), first, Path::new("/first"));
            policy.dir(b.as_fd(), Rights::WRITE, Path::new("/second"));
            let plan = plan(&policy, &Options::default(), &facts(2)).unwrap();
            let filter = plan.seccomp.unwrap();
            let fallocate = filter.verdict("fallocate", [3, 2 | 1, 0, 4, 0, 0]);
            let gaps: Vec<String> = plan
                .report
                .gaps
                .into_iter()
                .filter(|g| g.right == "Truncate (fallocate)")
                .map(|g| g.subject)
                .collect();
            (gaps, fallocate)
        };
        let punch = Some(seccomp::RET_ALLOW);
        assert_eq!(
            gaps_of(Rights::WRITE | Rights::TRUNCATE),
            (vec!["/second".to_string()], punch)
        );
        let (gaps, fallocate) = gaps_of(Rights::WRITE);
        assert!(gaps.is_empty(), "fallocate is checked: {gaps:?}");
        assert_ne!(fallocate, punch, "PUNCH_HOLE without Truncate");
    }

    #[test]
    fn grants_become_port_rules() {
        let mut policy = Policy::new();
        policy.net(NetGrant {
            label: "t".into(),
            tcp_connect_ports: vec![443, 80, 443],
            tcp_bind_ports: vec![8080],
            ..NetGrant::default()
        });
        let plan = plan(&policy, &Options::default(), &facts(0)).unwrap();
        assert_eq!(
            plan.landlock.unwrap().port_rules,
            vec![
                (80, landlock::NET_CONNECT_TCP),
                (443, landlock::NET_CONNECT_TCP),
                (8080, landlock::NET_BIND_TCP)
            ]
        );
    }

    #[test]
    fn refusals_come_from_the_facts_in_order() {
        let d = root();
        let mut policy = Policy::new();
        policy.dir(d.as_fd(), Rights::READ, Path::new("/srv"));
        let fd = d.as_raw_fd();
        let mut f = facts(1);
        f.entry_modes = vec![Ok(libc::S_IFREG | 0o644)];
        f.threads = Ok(3);
        assert!(matches!(
            plan(&policy, &Options::default(), &f),
            Err(Error::InvalidEntry { fd: e, .. }) if e == fd
        ));
        f.entry_modes = vec![Ok(libc::S_IFDIR)];
        assert!(matches!(
            plan(&policy, &Options::default(), &f),
            Err(Error::ThreadsRunning { count: 3 })
        ));
        f.threads = Ok(1);
        f.landlock_abi = 0;
        assert!(matches!(
            plan(&policy, &Options::default(), &f),
            Err(Error::NotEnforceable { .. })
        ));
        let best = Options {
            mode: Mode::BestEffort,
            ..Options::default()
        };
        let p = plan(&policy, &best, &f).unwrap();
        assert!(p.landlock.is_none());
        assert!(!p.report.mechanisms.contains(&"landlock".to_string()));
        assert!(p.report.gaps.iter().any(|g| g.right == "landlock"));
    }

    #[test]
    fn undeclared_descriptors_are_refused_or_planned() {
        let policy = Policy::new();
        let mut f = facts(0);
        f.undeclared = Ok(vec![super::super::facts::OpenFd {
            fd: 9,
            target: "/etc/shadow".into(),
            id: Some((1, 2)),
        }]);
        assert!(matches!(
            plan(&policy, &Options::default(), &f),
            Err(Error::InheritedFds { .. })
        ));
        let close = Options {
            inherited_fds: InheritedFds::Close,
            ..Options::default()
        };
        let p = plan(&policy, &close, &f).unwrap();
        assert_eq!(p.inherited[0].action, FdAction::Closed);
        assert_eq!(p.report.inherited_fds, p.inherited);
        assert!(!p.report.gaps.iter().any(|g| g.right == "descriptor kept"));
        let keep = Options {
            inherited_fds: InheritedFds::Keep,
            ..Options::default()
        };
        let p = plan(&policy, &keep, &f).unwrap();
        assert_eq!(p.inherited[0].action, FdAction::Kept);
        assert!(
            p.report.gaps.iter().any(|g| g.right == "descriptor kept"
                && g.subject == "fd 9 (/etc/shadow)"
                && g.permanent),
            "{:?}",
            p.report.gaps
        );
        f.undeclared = Err(libc::EACCES);
        assert!(matches!(
            plan(&policy, &close, &f),
            Err(Error::Kernel {
                errno: libc::EACCES,
                ..
            })
        ));
    }

    #[test]
    fn create_without_set_meta_names_the_mode_gap() {
        let d = root();
        let mut policy = Policy::new();
        policy.dir(d.as_fd(), Rights::LOOKUP | Rights::CREATE, Path::new("/w"));
        let p = plan(&policy, &Options::default(), &facts(1)).unwrap();
        assert!(
            p.report
                .gaps
                .iter()
                .any(|g| g.subject == "/w" && g.right == "mode at creation" && g.permanent)
        );
        let mut policy = Policy::new();
        policy.dir(
            d.as_fd(),
            Rights::LOOKUP | Rights::CREATE | Rights::SET_META,
            Path::new("/w"),
        );
        let p = plan(&policy, &Options::default(), &facts(1)).unwrap();
        assert!(!p.report.gaps.iter().any(|g| g.right == "mode at creation"));
    }

    #[test]
    fn a_tcp_grant_names_the_unix_connect_gap_and_o_path_is_always_named() {
        let mut policy = Policy::new();
        let p = plan(&policy, &Options::default(), &facts(0)).unwrap();
        assert!(p.report.gaps.iter().any(|g| g.right == "O_PATH"));
        assert!(!p.report.gaps.iter().any(|g| g.right == "unix path"));
        policy.net(NetGrant {
            label: "t".into(),
            tcp_connect_ports: vec![443],
            ..NetGrant::default()
        });
        let p = plan(&policy, &Options::default(), &facts(0)).unwrap();
        assert!(!p.report.gaps.iter().any(|g| g.right == "unix path"));
        let held = std::os::unix::net::UnixDatagram::unbound().unwrap();
        policy.socket(held.as_fd(), SocketKind::UnixDatagram, Rights::SEND, "held");
        let mut f = facts(1);
        f.entry_modes = vec![Ok(libc::S_IFSOCK | 0o777)];
        let p = plan(&policy, &Options::default(), &f).unwrap();
        let unix: Vec<_> = p
            .report
            .gaps
            .iter()
            .filter(|g| g.right == "unix path")
            .collect();
        assert_eq!(unix.len(), 1);
        assert!(
            unix[0].reason.contains("TCP grant") && unix[0].subject == "held",
            "{unix:?}"
        );
    }

    #[test]
    fn without_setpcap_nothing_is_dropped_from_the_bounding_set() {
        let mut f = facts(0);
        f.setpcap = false;
        f.securebits = None;
        let p = plan(&Policy::new(), &Options::default(), &f).unwrap();
        assert!(p.caps.bounding.is_empty());
        assert!(p.report.capabilities_dropped.is_empty());
        assert_eq!(p.caps.securebits, None);
    }
}
