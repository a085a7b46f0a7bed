//! The Capsicum planner: a [`Policy`] and the host's [`Facts`] in, the exact
//! per-descriptor limits and the gaps out. Pure: no system call, compiled and
//! tested on every host, so the logic that runs on FreeBSD is tested here.
//!
//! Capsicum's rights are named here, not numbered ([`CapRight`]): the applier
//! turns each name into libc's `CAP_*` constant of the FreeBSD target, so no
//! value is typed by hand.

use std::collections::BTreeSet;

use crate::inherited::{self, Undeclared};
use crate::policy::RawFd;
use crate::report::{FdAction, Gap, HandleReport, Report};
use crate::{EntryKind, Error, Mode, NetGrant, Options, Policy, Rights, SocketKind};

/// A Capsicum right, named as in `<sys/capsicum.h>` (`CAP_READ` is
/// [`CapRight::Read`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // each variant is the `CAP_*` right of the same name
pub enum CapRight {
    Read,
    Write,
    Seek,
    Fsync,
    Fstat,
    Fstatat,
    Lookup,
    Create,
    Mkdirat,
    Unlinkat,
    RenameatSource,
    RenameatTarget,
    LinkatSource,
    LinkatTarget,
    Ftruncate,
    Symlinkat,
    Fexecve,
    Fchmod,
    Fchmodat,
    Fchown,
    Fchownat,
    Futimes,
    Futimesat,
    Bindat,
    Connectat,
    Accept,
    Getpeername,
    Getsockname,
    Getsockopt,
    Setsockopt,
    Shutdown,
    Event,
    Fcntl,
    Ioctl,
}

impl CapRight {
    /// The C name (`"CAP_READ"`).
    pub fn name(self) -> &'static str {
        match self {
            CapRight::Read => "CAP_READ",
            CapRight::Write => "CAP_WRITE",
            CapRight::Seek => "CAP_SEEK",
            CapRight::Fsync => "CAP_FSYNC",
            CapRight::Fstat => "CAP_FSTAT",
            CapRight::Fstatat => "CAP_FSTATAT",
            CapRight::Lookup => "CAP_LOOKUP",
            CapRight::Create => "CAP_CREATE",
            CapRight::Mkdirat => "CAP_MKDIRAT",
            CapRight::Unlinkat => "CAP_UNLINKAT",
            CapRight::RenameatSource => "CAP_RENAMEAT_SOURCE",
            CapRight::RenameatTarget => "CAP_RENAMEAT_TARGET",
            CapRight::LinkatSource => "CAP_LINKAT_SOURCE",
            CapRight::LinkatTarget => "CAP_LINKAT_TARGET",
            CapRight::Ftruncate => "CAP_FTRUNCATE",
            CapRight::Symlinkat => "CAP_SYMLINKAT",
            CapRight::Fexecve => "CAP_FEXECVE",
            CapRight::Fchmod => "CAP_FCHMOD",
            CapRight::Fchmodat => "CAP_FCHMODAT",
            CapRight::Fchown => "CAP_FCHOWN",
            CapRight::Fchownat => "CAP_FCHOWNAT",
            CapRight::Futimes => "CAP_FUTIMES",
            CapRight::Futimesat => "CAP_FUTIMESAT",
            CapRight::Bindat => "CAP_BINDAT",
            CapRight::Connectat => "CAP_CONNECTAT",
            CapRight::Accept => "CAP_ACCEPT",
            CapRight::Getpeername => "CAP_GETPEERNAME",
            CapRight::Getsockname => "CAP_GETSOCKNAME",
            CapRight::Getsockopt => "CAP_GETSOCKOPT",
            CapRight::Setsockopt => "CAP_SETSOCKOPT",
            CapRight::Shutdown => "CAP_SHUTDOWN",
            CapRight::Event => "CAP_EVENT",
            CapRight::Fcntl => "CAP_FCNTL",
            CapRight::Ioctl => "CAP_IOCTL",
        }
    }

    /// Whether the right, as `<sys/capsicum.h>` defines it, includes
    /// `CAP_LOOKUP` (the `*at` rights do: `CAP_MKDIRAT` is
    /// `CAP_LOOKUP | ...`).
    pub fn implies_lookup(self) -> bool {
        matches!(
            self,
            CapRight::Fstatat
                | CapRight::Mkdirat
                | CapRight::Unlinkat
                | CapRight::RenameatSource
                | CapRight::RenameatTarget
                | CapRight::LinkatSource
                | CapRight::LinkatTarget
                | CapRight::Symlinkat
                | CapRight::Fchmodat
                | CapRight::Fchownat
                | CapRight::Futimesat
                | CapRight::Bindat
                | CapRight::Connectat
        )
    }
}

/// An `fcntl` command `cap_fcntls_limit` can keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fcntl {
    /// `CAP_FCNTL_GETFL`.
    GetFl,
    /// `CAP_FCNTL_SETFL` (`O_NONBLOCK`).
    SetFl,
}

/// An `ioctl` command `cap_ioctls_limit` can keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ioctl {
    /// `FIONBIO`: std's `set_nonblocking` on a socket.
    Fionbio,
}

/// The limits for one held descriptor: `cap_rights_limit`, then
/// `cap_fcntls_limit` and `cap_ioctls_limit` (both to the empty set unless
/// the rights keep `CAP_FCNTL`/`CAP_IOCTL` for a reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdLimit {
    /// The descriptor.
    pub fd: RawFd,
    /// Where the handle came from, for the report and errors.
    pub origin: String,
    /// The rights it keeps.
    pub rights: BTreeSet<CapRight>,
    /// The `fcntl` commands it keeps (only with [`CapRight::Fcntl`]).
    pub fcntls: BTreeSet<Fcntl>,
    /// The `ioctl` commands it keeps (only with [`CapRight::Ioctl`]).
    pub ioctls: BTreeSet<Ioctl>,
}

/// What the planner needs to know about the host, gathered by the applier
/// (on FreeBSD) or built by hand (in tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Open descriptors above stdio that no entry declares.
    pub undeclared: Vec<Undeclared>,
}

/// The whole Capsicum plan: made by [`plan`], carried out by the applier
/// (limits, inherited descriptors, then `cap_enter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// One limit per held descriptor, in policy order.
    pub limits: Vec<FdLimit>,
    /// Undeclared descriptors and what becomes of each.
    pub inherited: Vec<(RawFd, String, FdAction)>,
    /// The report, complete but for `mechanisms` and `inherited_fds`, which
    /// applying fills.
    pub report: Report,
}

impl Plan {
    /// The report as the plan stands (what `enter` returns, once applied).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The limit planned for `fd`.
    pub fn limit(&self, fd: RawFd) -> Option<&FdLimit> {
        self.limits.iter().find(|l| l.fd == fd)
    }
}

fn gap(subject: &str, right: &str, reason: impl Into<String>, permanent: bool) -> Gap {
    Gap {
        subject: subject.to_string(),
        right: right.to_string(),
        reason: reason.into(),
        permanent,
    }
}

/// Whether any grant lets the program make unix-domain sockets.
fn unix_granted(policy: &Policy<'_>) -> bool {
    policy.net_grants().iter().any(|g| g.unix)
}

/// The Capsicum rights of a directory or file handle with `rights`.
/// Descriptors opened beneath a directory with `openat` inherit the
/// directory's rights, so a directory keeps the file rights its files need.
pub fn fs_rights(rights: Rights, is_dir: bool, unix_grant: bool) -> BTreeSet<CapRight> {
    use CapRight as C;
    let mut out = BTreeSet::new();
    let mut add = |r: Rights, caps: &[CapRight]| {
        if rights.contains(r) {
            out.extend(caps.iter().copied());
        }
    };
    add(Rights::READ, &[C::Read, C::Seek, C::Fstat]);
    add(Rights::WRITE, &[C::Write, C::Seek, C::Fsync]);
    add(Rights::TRUNCATE, &[C::Ftruncate]);
    add(Rights::EXEC, &[C::Fexecve]);
    add(Rights::STAT, &[C::Fstat]);
    add(Rights::SET_META, &[C::Fchmod, C::Fchown, C::Futimes]);
    if is_dir {
        add(Rights::LOOKUP, &[C::Lookup]);
        add(Rights::CREATE, &[C::Create, C::Mkdirat]);
        add(Rights::REMOVE, &[C::Unlinkat]);
        add(
            Rights::RENAME,
            &[
                C::RenameatSource,
                C::RenameatTarget,
                C::LinkatSource,
                C::LinkatTarget,
            ],
        );
        add(Rights::SYMLINK, &[C::Symlinkat]);
        add(Rights::STAT, &[C::Fstatat]);
        add(Rights::SET_META, &[C::Fchmodat, C::Fchownat, C::Futimesat]);
        // Unix sockets beneath the directory: only with a grant that makes
        // them (cap-core's `Dir::bind_unix_*` needs Create, `connect_unix_*`
        // needs Write).
        if unix_grant {
            add(Rights::CREATE, &[C::Bindat]);
            add(Rights::WRITE, &[C::Connectat]);
        }
    }
    out
}

/// The Capsicum rights of a held socket of `kind` with `rights`: its socket
/// rights only. `CAP_BIND`, `CAP_CONNECT` and `CAP_LISTEN` are never kept: a
/// held socket is already bound, connected or listening.
pub fn socket_rights(kind: SocketKind, rights: Rights) -> BTreeSet<CapRight> {
    use CapRight as C;
    // Every socket can be polled (kqueue, poll): CAP_EVENT.
    let mut out = BTreeSet::from([C::Event]);
    let mut add = |r: Rights, caps: &[CapRight]| {
        if rights.contains(r) {
            out.extend(caps.iter().copied());
        }
    };
    add(Rights::ACCEPT, &[C::Accept]);
    add(Rights::READ, &[C::Read]);
    add(Rights::RECV, &[C::Read]);
    add(Rights::WRITE, &[C::Write]);
    add(Rights::SEND, &[C::Write]);
    add(Rights::SHUTDOWN, &[C::Shutdown]);
    add(
        Rights::SET_OPT,
        &[C::Setsockopt, C::Getsockopt, C::Fcntl, C::Ioctl],
    );
    let stat: &[CapRight] = match kind {
        SocketKind::TcpListener | SocketKind::UnixListener => &[C::Fstat, C::Getsockname],
        _ => &[C::Fstat, C::Getsockname, C::Getpeername],
    };
    add(Rights::STAT, stat);
    out
}

/// The limit of one descriptor of `kind` held with `rights`: its Capsicum
/// rights, and the `fcntl` and `ioctl` commands it keeps when those rights
/// keep `CAP_FCNTL` or `CAP_IOCTL`.
fn limit_for(
    fd: RawFd,
    kind: EntryKind,
    rights: Rights,
    origin: &str,
    unix_grant: bool,
) -> FdLimit {
    let caps = match kind {
        EntryKind::Dir => fs_rights(rights, true, unix_grant),
        EntryKind::File => fs_rights(rights, false, unix_grant),
        EntryKind::Socket(k) => socket_rights(k, rights),
    };
    let fcntls = if caps.contains(&CapRight::Fcntl) {
        BTreeSet::from([Fcntl::GetFl, Fcntl::SetFl])
    } else {
        BTreeSet::new()
    };
    let ioctls = if caps.contains(&CapRight::Ioctl) {
        BTreeSet::from([Ioctl::Fionbio])
    } else {
        BTreeSet::new()
    };
    FdLimit {
        fd,
        origin: origin.to_string(),
        rights: caps,
        fcntls,
        ioctls,
    }
}

/// The limit for a descriptor handed to another process (sent over a unix
/// socket, or placed in a child's table) as a handle of `kind` with
/// `rights`: the same mapping as entering capability mode uses for a held
/// handle ([`fs_rights`], [`socket_rights`]), so the receiver's kernel
/// allows exactly what the handle's type does. A directory keeps
/// `CAP_BINDAT`/`CAP_CONNECTAT` with `Create`/`Write` (its type can bind and
/// connect unix sockets beneath it; whether the receiver may make sockets at
/// all is its own sandbox's business). The applier intersects this with what
/// the descriptor may still do, since a limit can only shrink.
pub fn passed_limit(fd: RawFd, kind: EntryKind, rights: Rights, origin: &str) -> FdLimit {
    limit_for(fd, kind, rights, origin, true)
}

/// Plans Capsicum for `policy`: per-descriptor limits, the fate of undeclared
/// descriptors, and every gap. [`Mode::Strict`] refuses (with
/// [`Error::NotEnforceable`]) a policy with a gap some kernel could close:
/// today, a TCP or UDP grant, which capability mode cannot honour (no socket
/// may connect or bind to an address) until the broker provides grants by
/// name.
pub fn plan(policy: &Policy<'_>, options: &Options, facts: &Facts) -> Result<Plan, Error> {
    crate::policy::validate_portable(policy)?;
    let unix_grant = unix_granted(policy);
    let mut report = Report::empty(options.mode);
    report.os = "freebsd".to_string();
    let mut gaps = Vec::new();
    let mut limits = Vec::new();

    for grant in policy.net_grants() {
        net_grant_gaps(grant, &mut gaps);
    }
    if options.mode == Mode::Strict {
        let unenforced: Vec<Gap> = gaps.iter().filter(|g| !g.permanent).cloned().collect();
        if !unenforced.is_empty() {
            return Err(Error::NotEnforceable { gaps: unenforced });
        }
    }

    for e in policy.entries() {
        let origin = e.origin.display().to_string();
        let kind = match e.kind {
            EntryKind::Dir => "dir".to_string(),
            EntryKind::File => "file".to_string(),
            EntryKind::Socket(k) => socket_kind_name(k),
        };
        let limit = limit_for(e.fd, e.kind, e.rights, &origin, unix_grant);
        entry_gaps(e.kind, e.rights, &limit.rights, &origin, &mut gaps);
        report.handles.push(HandleReport {
            fd: e.fd,
            kind,
            origin,
            rights: e.rights,
            access: limit.rights.iter().map(|r| r.name().to_string()).collect(),
        });
        limits.push(limit);
    }
    if policy
        .entries()
        .iter()
        .any(|e| matches!(e.kind, EntryKind::Dir | EntryKind::File))
    {
        gaps.push(gap(
            "process",
            "Seek",
            "CAP_SEEK comes with Read and Write (files are read and written at an offset); the catalogue has no Seek right, so this is no widening, but pread/pwrite at any offset are allowed",
            true,
        ));
    }

    let inherited = inherited::decide(&facts.undeclared, &options.inherited_fds)?;
    report.net_grants = policy.net_grants().to_vec();
    report.gaps = gaps;
    Ok(Plan {
        limits,
        inherited,
        report,
    })
}

fn socket_kind_name(kind: SocketKind) -> String {
    match kind {
        SocketKind::TcpListener => "tcp_listener",
        SocketKind::TcpStream => "tcp_stream",
        SocketKind::Udp => "udp",
        SocketKind::UnixListener => "unix_listener",
        SocketKind::UnixStream => "unix_stream",
        SocketKind::UnixDatagram => "unix_datagram",
    }
    .to_string()
}

/// What a network grant loses in capability mode.
fn net_grant_gaps(grant: &NetGrant, gaps: &mut Vec<Gap>) {
    let refused = "capability mode refuses connect(2), bind(2) and sendto(2) to an address (ECAPMODE): the grant cannot be used until the broker issues sockets by name";
    if !grant.tcp_connect_ports.is_empty() {
        gaps.push(gap(&grant.label, "tcp connect", refused, false));
    }
    if !grant.tcp_bind_ports.is_empty() {
        gaps.push(gap(&grant.label, "tcp bind", refused, false));
    }
    if grant.udp {
        gaps.push(gap(&grant.label, "udp", refused, false));
    }
    if grant.unix {
        gaps.push(gap(
            &grant.label,
            "unix path",
            "unix sockets are bound and connected only beneath held directories (bindat/connectat with CAP_BINDAT/CAP_CONNECTAT); a unix socket by absolute path is refused in capability mode",
            true,
        ));
    }
}

/// The permanent gaps of one entry: where a Capsicum right covers more than
/// the catalogue right it was mapped from.
fn entry_gaps(
    kind: EntryKind,
    rights: Rights,
    caps: &BTreeSet<CapRight>,
    origin: &str,
    gaps: &mut Vec<Gap>,
) {
    match kind {
        EntryKind::Dir | EntryKind::File => {
            if rights.contains(Rights::READ) && !rights.contains(Rights::STAT) {
                gaps.push(gap(origin, "Stat", "Read keeps CAP_FSTAT (std sizes reads with fstat): the handle can fstat its files although the types do not give it Stat", true));
            }
            if kind == EntryKind::Dir
                && !rights.contains(Rights::LOOKUP)
                && caps.iter().any(|c| c.implies_lookup())
            {
                gaps.push(gap(origin, "Lookup", "the *at rights (CAP_MKDIRAT, CAP_UNLINKAT, ...) include CAP_LOOKUP in Capsicum: paths beneath can be looked up although the types do not give Lookup", true));
            }
            if kind == EntryKind::Dir && rights.contains(Rights::RENAME) {
                gaps.push(gap(origin, "Rename", "CAP_RENAMEAT_* and CAP_LINKAT_* are kept on both ends, so a rename or hard link between two held directories that both have Rename is allowed; the types allow it too, but only one call at a time names both", true));
            }
        }
        EntryKind::Socket(_) => {
            let read = rights.contains(Rights::READ);
            let recv = rights.contains(Rights::RECV);
            if read != recv {
                gaps.push(gap(origin, if read { "Recv" } else { "Read" }, "CAP_RECV is CAP_READ in Capsicum: the kernel cannot tell reading a stream from receiving a datagram", true));
            }
            let write = rights.contains(Rights::WRITE);
            let send = rights.contains(Rights::SEND);
            if write != send {
                gaps.push(gap(origin, if write { "Send" } else { "Write" }, "CAP_SEND is CAP_WRITE in Capsicum: the kernel cannot tell writing a stream from sending a datagram", true));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::InheritedFds;
    use crate::policy::test_fd;

    fn strict() -> Options {
        Options::default()
    }

    fn best_effort() -> Options {
        Options {
            mode: Mode::BestEffort,
            ..Options::default()
        }
    }

    /// Plans one entry of `kind` with `rights` and returns its limit.
    fn one(kind: EntryKind, rights: Rights) -> (FdLimit, Report) {
        let file = test_fd::held();
        let mut policy = Policy::new();
        match kind {
            EntryKind::Dir => policy.dir(test_fd::of(&file), rights, Path::new("/srv")),
            EntryKind::File => policy.file(test_fd::of(&file), rights, Path::new("/srv/f")),
            EntryKind::Socket(k) => policy.socket(test_fd::of(&file), k, rights, "127.0.0.1:80"),
        };
        let plan = plan(&policy, &strict(), &Facts::default()).unwrap();
        (plan.limits[0].clone(), plan.report)
    }

    fn dir(rights: Rights) -> BTreeSet<CapRight> {
        one(EntryKind::Dir, rights).0.rights
    }

    fn has_gap(report: &Report, right: &str) -> bool {
        report.gaps.iter().any(|g| g.right == right)
    }

    use CapRight as C;

    #[test]
    fn lookup_is_cap_lookup_only() {
        assert_eq!(dir(Rights::LOOKUP), BTreeSet::from([C::Lookup]));
    }

    #[test]
    fn read_is_read_seek_fstat() {
        assert_eq!(
            dir(Rights::READ),
            BTreeSet::from([C::Read, C::Seek, C::Fstat])
        );
    }

    #[test]
    fn write_is_write_seek_fsync_without_truncate() {
        let r = dir(Rights::WRITE);
        assert_eq!(r, BTreeSet::from([C::Write, C::Seek, C::Fsync]));
        assert!(!r.contains(&C::Ftruncate));
    }

    #[test]
    fn create_is_create_and_mkdirat() {
        let r = dir(Rights::LOOKUP | Rights::CREATE);
        assert!(r.contains(&C::Create) && r.contains(&C::Mkdirat));
        assert!(!r.contains(&C::Unlinkat));
    }

    #[test]
    fn remove_is_unlinkat() {
        let r = dir(Rights::LOOKUP | Rights::REMOVE);
        assert_eq!(r, BTreeSet::from([C::Lookup, C::Unlinkat]));
    }

    #[test]
    fn rename_is_renameat_and_linkat_both_ends() {
        let r = dir(Rights::LOOKUP | Rights::RENAME);
        for c in [
            C::RenameatSource,
            C::RenameatTarget,
            C::LinkatSource,
            C::LinkatTarget,
        ] {
            assert!(r.contains(&c), "{c:?}");
        }
        assert!(!r.contains(&C::Create));
    }

    #[test]
    fn truncate_is_ftruncate() {
        assert_eq!(
            one(EntryKind::File, Rights::TRUNCATE).0.rights,
            BTreeSet::from([C::Ftruncate])
        );
    }

    #[test]
    fn symlink_is_symlinkat() {
        assert!(dir(Rights::LOOKUP | Rights::SYMLINK).contains(&C::Symlinkat));
        assert!(!dir(Rights::LOOKUP).contains(&C::Symlinkat));
    }

    #[test]
    fn exec_is_fexecve() {
        assert_eq!(
            one(EntryKind::File, Rights::EXEC).0.rights,
            BTreeSet::from([C::Fexecve])
        );
    }

    #[test]
    fn stat_is_fstat_and_fstatat_on_dirs_only() {
        assert_eq!(
            one(EntryKind::File, Rights::STAT).0.rights,
            BTreeSet::from([C::Fstat])
        );
        assert!(dir(Rights::LOOKUP | Rights::STAT).contains(&C::Fstatat));
    }

    #[test]
    fn set_meta_is_fchmod_fchown_futimes() {
        let file = one(EntryKind::File, Rights::SET_META).0.rights;
        assert_eq!(file, BTreeSet::from([C::Fchmod, C::Fchown, C::Futimes]));
        let d = dir(Rights::LOOKUP | Rights::SET_META);
        assert!(d.contains(&C::Fchmodat) && d.contains(&C::Futimesat) && d.contains(&C::Fchownat));
        // Without SetMeta, none of them.
        let plain = dir(Rights::FS.difference(Rights::SET_META));
        assert!(!plain.iter().any(|c| matches!(
            c,
            C::Fchmod | C::Fchown | C::Futimes | C::Fchmodat | C::Fchownat | C::Futimesat
        )));
    }

    #[test]
    fn read_only_dir_cannot_write_create_or_remove() {
        let r = dir(Rights::LOOKUP | Rights::READ);
        for c in [
            C::Write,
            C::Create,
            C::Mkdirat,
            C::Unlinkat,
            C::Ftruncate,
            C::RenameatSource,
            C::Symlinkat,
            C::Fexecve,
            C::Bindat,
            C::Connectat,
        ] {
            assert!(!r.contains(&c), "{c:?}");
        }
    }

    #[test]
    fn tcp_listener_keeps_accept_and_never_bind_connect_listen() {
        let (limit, _) = one(
            EntryKind::Socket(SocketKind::TcpListener),
            Rights::ACCEPT | Rights::STAT,
        );
        assert_eq!(
            limit.rights,
            BTreeSet::from([C::Accept, C::Event, C::Fstat, C::Getsockname])
        );
        assert!(limit.fcntls.is_empty() && limit.ioctls.is_empty());
    }

    #[test]
    fn tcp_stream_keeps_read_write_shutdown_peername() {
        let (limit, _) = one(EntryKind::Socket(SocketKind::TcpStream), Rights::NET);
        for c in [
            C::Read,
            C::Write,
            C::Shutdown,
            C::Getpeername,
            C::Setsockopt,
        ] {
            assert!(limit.rights.contains(&c), "{c:?}");
        }
        for c in [C::Lookup, C::Bindat, C::Connectat, C::Create] {
            assert!(!limit.rights.contains(&c), "{c:?}");
        }
    }

    #[test]
    fn stream_without_write_cannot_write() {
        let (limit, _) = one(
            EntryKind::Socket(SocketKind::TcpStream),
            Rights::READ | Rights::SHUTDOWN,
        );
        assert!(!limit.rights.contains(&C::Write));
        assert!(limit.rights.contains(&C::Read));
    }

    #[test]
    fn udp_send_recv_share_write_read() {
        let (limit, report) = one(EntryKind::Socket(SocketKind::Udp), Rights::RECV);
        assert_eq!(limit.rights, BTreeSet::from([C::Event, C::Read]));
        assert!(has_gap(&report, "Read"), "{:?}", report.gaps);
        let (limit, report) = one(
            EntryKind::Socket(SocketKind::Udp),
            Rights::SEND | Rights::WRITE | Rights::READ | Rights::RECV,
        );
        assert!(limit.rights.contains(&C::Write));
        assert!(!has_gap(&report, "Write") && !has_gap(&report, "Read"));
    }

    #[test]
    fn unix_sockets_plan_like_their_inet_twins() {
        let (listener, _) = one(EntryKind::Socket(SocketKind::UnixListener), Rights::ACCEPT);
        assert_eq!(listener.rights, BTreeSet::from([C::Accept, C::Event]));
        let (stream, _) = one(
            EntryKind::Socket(SocketKind::UnixStream),
            Rights::READ | Rights::WRITE | Rights::STAT,
        );
        assert!(stream.rights.contains(&C::Getpeername));
        let (dgram, _) = one(
            EntryKind::Socket(SocketKind::UnixDatagram),
            Rights::SEND | Rights::RECV,
        );
        assert!(dgram.rights.contains(&C::Write) && dgram.rights.contains(&C::Read));
    }

    #[test]
    fn set_opt_keeps_only_setfl_getfl_and_fionbio() {
        let (limit, _) = one(EntryKind::Socket(SocketKind::TcpStream), Rights::SET_OPT);
        assert!(limit.rights.contains(&C::Fcntl) && limit.rights.contains(&C::Ioctl));
        assert_eq!(limit.fcntls, BTreeSet::from([Fcntl::GetFl, Fcntl::SetFl]));
        assert_eq!(limit.ioctls, BTreeSet::from([Ioctl::Fionbio]));
        let (file, _) = one(EntryKind::File, Rights::FILE);
        assert!(file.fcntls.is_empty() && file.ioctls.is_empty());
        assert!(!file.rights.contains(&C::Ioctl));
    }

    /// Every kind of handle, with a spread of rights.
    fn kinds_and_rights() -> Vec<(EntryKind, Rights)> {
        let fs = [
            Rights::LOOKUP | Rights::READ,
            Rights::READ | Rights::EXEC,
            Rights::LOOKUP | Rights::WRITE | Rights::CREATE | Rights::REMOVE | Rights::RENAME,
            Rights::WRITE | Rights::TRUNCATE | Rights::SET_META | Rights::STAT,
        ];
        let sockets = [
            Rights::READ | Rights::WRITE | Rights::SHUTDOWN,
            Rights::ACCEPT | Rights::STAT | Rights::SET_OPT,
            Rights::SEND | Rights::RECV,
        ];
        let mut out = Vec::new();
        for r in fs {
            out.push((EntryKind::Dir, r));
            out.push((EntryKind::File, r));
        }
        for k in [
            SocketKind::TcpListener,
            SocketKind::TcpStream,
            SocketKind::Udp,
            SocketKind::UnixListener,
            SocketKind::UnixStream,
            SocketKind::UnixDatagram,
        ] {
            for r in sockets {
                out.push((EntryKind::Socket(k), r));
            }
        }
        out
    }

    #[test]
    fn a_passed_descriptor_gets_the_limit_of_the_same_held_handle() {
        // The mapping is the one entering uses, for a policy that may make
        // unix sockets (a passed Dir's type can bind and connect beneath it).
        let mut compared = 0;
        for (kind, rights) in kinds_and_rights() {
            let file = test_fd::held();
            let fd = test_fd::of(&file);
            let mut policy = Policy::new();
            match kind {
                EntryKind::Dir => policy.dir(fd, rights, Path::new("/srv")),
                EntryKind::File => policy.file(fd, rights, Path::new("/srv/f")),
                EntryKind::Socket(k) => policy.socket(fd, k, rights, "peer"),
            };
            policy.net(NetGrant {
                label: "unix".into(),
                unix: true,
                ..NetGrant::default()
            });
            // (Rights that mean nothing on a kind are refused: skipped.)
            let held = match plan(&policy, &best_effort(), &Facts::default()) {
                Ok(p) => p.limits[0].clone(),
                Err(Error::InvalidEntry { .. }) => continue,
                Err(e) => panic!("{kind:?} {rights}: {e:?}"),
            };
            let passed = passed_limit(held.fd, kind, rights, &held.origin);
            assert_eq!(passed, held, "{kind:?} {rights}");
            compared += 1;
        }
        assert!(compared >= 16, "{compared}");
    }

    #[test]
    fn a_passed_descriptor_keeps_no_more_than_its_rights() {
        let ro = passed_limit(7, EntryKind::Dir, Rights::LOOKUP | Rights::READ, "/srv");
        assert_eq!(
            ro.rights,
            BTreeSet::from([C::Lookup, C::Read, C::Seek, C::Fstat])
        );
        let file = passed_limit(7, EntryKind::File, Rights::READ, "/srv/f");
        assert!(!file.rights.contains(&C::Lookup) && !file.rights.contains(&C::Write));
        let w = passed_limit(
            7,
            EntryKind::Dir,
            Rights::LOOKUP | Rights::CREATE | Rights::WRITE,
            "/d",
        );
        assert!(w.rights.contains(&C::Bindat) && w.rights.contains(&C::Connectat));
        let stream = passed_limit(
            7,
            EntryKind::Socket(SocketKind::UnixStream),
            Rights::READ | Rights::WRITE,
            "peer",
        );
        assert_eq!(stream.rights, BTreeSet::from([C::Event, C::Read, C::Write]));
        assert!(stream.fcntls.is_empty() && stream.ioctls.is_empty());
        let opt = passed_limit(
            7,
            EntryKind::Socket(SocketKind::TcpStream),
            Rights::SET_OPT,
            "peer",
        );
        assert_eq!(opt.fcntls, BTreeSet::from([Fcntl::GetFl, Fcntl::SetFl]));
        assert_eq!(opt.ioctls, BTreeSet::from([Ioctl::Fionbio]));
        for (kind, rights) in kinds_and_rights() {
            let l = passed_limit(7, kind, rights, "x");
            for never in [C::Bindat, C::Connectat] {
                if matches!(kind, EntryKind::Socket(_)) {
                    assert!(!l.rights.contains(&never), "{kind:?} {rights}");
                }
            }
        }
    }

    #[test]
    fn tcp_grant_is_refused_in_strict_and_reported_in_best_effort() {
        let mut policy = Policy::new();
        policy.net(NetGrant {
            label: "example.org:443".into(),
            tcp_connect_ports: vec![443],
            ..NetGrant::default()
        });
        let err = plan(&policy, &strict(), &Facts::default()).unwrap_err();
        let Error::NotEnforceable { gaps } = err else {
            panic!("{err:?}")
        };
        assert_eq!(gaps[0].right, "tcp connect");
        assert_eq!(gaps[0].subject, "example.org:443");
        let plan = plan(&policy, &best_effort(), &Facts::default()).unwrap();
        assert!(has_gap(&plan.report, "tcp connect"));
    }

    #[test]
    fn tcp_bind_and_udp_grants_are_refused_in_strict() {
        for grant in [
            NetGrant {
                label: "bind".into(),
                tcp_bind_ports: vec![8080],
                ..NetGrant::default()
            },
            NetGrant {
                label: "dns".into(),
                udp: true,
                ..NetGrant::default()
            },
        ] {
            let mut policy = Policy::new();
            policy.net(grant);
            assert!(matches!(
                plan(&policy, &strict(), &Facts::default()),
                Err(Error::NotEnforceable { .. })
            ));
        }
    }

    #[test]
    fn unix_grant_is_honoured_beneath_dirs_with_bindat_connectat() {
        let file = test_fd::held();
        let rights = Rights::LOOKUP | Rights::CREATE | Rights::WRITE;
        let mut without = Policy::new();
        without.dir(test_fd::of(&file), rights, Path::new("/run/app"));
        let p = plan(&without, &strict(), &Facts::default()).unwrap();
        assert!(!p.limits[0].rights.contains(&C::Bindat));
        assert!(!p.limits[0].rights.contains(&C::Connectat));

        let mut with = without.clone();
        with.net(NetGrant {
            label: "unix".into(),
            unix: true,
            ..NetGrant::default()
        });
        // Strict accepts it: the only unix gap is permanent.
        let p = plan(&with, &strict(), &Facts::default()).unwrap();
        assert!(p.limits[0].rights.contains(&C::Bindat));
        assert!(p.limits[0].rights.contains(&C::Connectat));
        assert!(
            p.report
                .gaps
                .iter()
                .any(|g| g.right == "unix path" && g.permanent)
        );
    }

    #[test]
    fn at_rights_without_lookup_are_a_stated_gap() {
        let (_, report) = one(EntryKind::Dir, Rights::CREATE);
        assert!(has_gap(&report, "Lookup"));
        let (_, report) = one(EntryKind::Dir, Rights::LOOKUP | Rights::CREATE);
        assert!(!has_gap(&report, "Lookup"));
    }

    #[test]
    fn read_without_stat_is_a_stated_gap() {
        let (_, report) = one(EntryKind::File, Rights::READ);
        assert!(has_gap(&report, "Stat"));
        let (_, report) = one(EntryKind::File, Rights::READ | Rights::STAT);
        assert!(!has_gap(&report, "Stat"));
    }

    #[test]
    fn every_gap_of_a_policy_without_grants_is_permanent() {
        let (_, report) = one(EntryKind::Dir, Rights::FS);
        assert!(report.gaps.iter().all(|g| g.permanent), "{:?}", report.gaps);
    }

    #[test]
    fn report_names_the_capsicum_rights_per_handle() {
        let (_, report) = one(EntryKind::Dir, Rights::LOOKUP | Rights::READ);
        assert_eq!(report.os, "freebsd");
        assert_eq!(report.handles[0].kind, "dir");
        assert_eq!(
            report.handles[0].access,
            ["CAP_READ", "CAP_SEEK", "CAP_FSTAT", "CAP_LOOKUP"]
        );
    }

    #[test]
    fn undeclared_descriptors_refused_closed_or_kept() {
        let facts = Facts {
            undeclared: vec![Undeclared {
                fd: 9,
                target: "vnode".into(),
                id: Some((1, 2)),
            }],
        };
        let policy = Policy::new();
        assert!(matches!(
            plan(&policy, &strict(), &facts),
            Err(Error::InheritedFds { .. })
        ));
        let close = Options {
            inherited_fds: InheritedFds::Close,
            ..Options::default()
        };
        let p = plan(&policy, &close, &facts).unwrap();
        assert_eq!(p.inherited, [(9, "vnode".to_string(), FdAction::Closed)]);
    }

    #[test]
    fn invalid_entries_are_refused_before_planning() {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.file(test_fd::of(&file), Rights::LOOKUP, Path::new("/srv/f"));
        assert!(matches!(
            plan(&policy, &strict(), &Facts::default()),
            Err(Error::InvalidEntry { .. })
        ));
    }
}
