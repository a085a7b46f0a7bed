//! The unveil + pledge planner: a [`Policy`] and the host's [`Facts`] in,
//! the unveil list, the pledge promises and execpromises, and the gaps out.
//! Pure: compiled and tested on every host.
//!
//! unveil is path-based: each handle's origin path is unveiled with the
//! permissions (`r`, `w`, `x`, `c`) its rights map to, and every descriptor
//! opened beneath it gets them; there is no per-descriptor right. The gaps
//! say what that loses against the types.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::inherited::{self, Undeclared};
use crate::policy::RawFd;
use crate::report::{FdAction, Gap, HandleReport, PledgeReport, Report};
use crate::{EntryKind, Error, Mode, Options, Policy, Rights, SocketKind};

/// One `unveil(path, permissions)` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unveil {
    /// The handle's origin path.
    pub path: PathBuf,
    /// Some of `r`, `w`, `x`, `c`, in that order (may be empty: the path is
    /// visible but nothing may be done with it).
    pub permissions: String,
}

/// What the planner needs to know about the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Open descriptors above stdio that no entry declares.
    pub undeclared: Vec<Undeclared>,
}

/// The whole plan: unveil each path, `unveil(NULL, NULL)`, close inherited
/// descriptors, then `pledge(promises, execpromises)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The unveil calls, in policy order (one per path: two handles on one
    /// path get the union of their permissions).
    pub unveils: Vec<Unveil>,
    /// The pledge promises.
    pub promises: BTreeSet<&'static str>,
    /// The execpromises: what an executed child may do (`None`: the child
    /// keeps no promise and cannot be executed, since `exec` is not pledged).
    pub execpromises: Option<BTreeSet<&'static str>>,
    /// Undeclared descriptors and what becomes of each.
    pub inherited: Vec<(RawFd, String, FdAction)>,
    /// The report, complete but for `mechanisms` and `inherited_fds`.
    pub report: Report,
}

impl Plan {
    /// The report as the plan stands.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The promises as `pledge` takes them (`"stdio rpath"`).
    pub fn promise_string(&self) -> String {
        join(&self.promises)
    }

    /// The execpromises as `pledge` takes them, if any.
    pub fn execpromise_string(&self) -> Option<String> {
        self.execpromises.as_ref().map(join)
    }

    /// The permissions unveiled for `path`.
    pub fn unveiled(&self, path: &str) -> Option<&str> {
        self.unveils
            .iter()
            .find(|u| u.path == std::path::Path::new(path))
            .map(|u| u.permissions.as_str())
    }
}

fn join(set: &BTreeSet<&'static str>) -> String {
    // `stdio` first, the way pledge strings are written; the rest sorted.
    let mut out: Vec<&str> = set.iter().copied().filter(|p| *p != "stdio").collect();
    if set.contains("stdio") {
        out.insert(0, "stdio");
    }
    out.join(" ")
}

/// The unveil permissions of a handle with `rights`.
pub fn permissions(rights: Rights) -> String {
    let mut p = String::new();
    if rights.intersects(Rights::READ | Rights::STAT) {
        p.push('r');
    }
    if rights.intersects(Rights::WRITE | Rights::TRUNCATE | Rights::SET_META) {
        p.push('w');
    }
    if rights.contains(Rights::EXEC) {
        p.push('x');
    }
    if rights.intersects(Rights::CREATE | Rights::REMOVE | Rights::RENAME | Rights::SYMLINK) {
        p.push('c');
    }
    p
}

fn gap(subject: &str, right: &str, reason: impl Into<String>, permanent: bool) -> Gap {
    Gap {
        subject: subject.to_string(),
        right: right.to_string(),
        reason: reason.into(),
        permanent,
    }
}

fn is_unix(kind: SocketKind) -> bool {
    matches!(
        kind,
        SocketKind::UnixListener | SocketKind::UnixStream | SocketKind::UnixDatagram
    )
}

/// The promises `policy` needs: `stdio` always; `rpath`/`wpath`/`cpath`
/// from filesystem rights; `fattr` and `chown` only with `SetMeta`; `inet`
/// only with TCP/UDP grants or held inet sockets that accept or set options;
/// `unix` only with unix handles or a unix grant; `proc exec` only with an
/// exec handle.
pub fn promises(policy: &Policy<'_>) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::from(["stdio"]);
    let fs = policy
        .entries()
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Dir | EntryKind::File))
        .fold(Rights::empty(), |acc, e| acc | e.rights);
    if fs.intersects(Rights::READ | Rights::STAT) {
        out.insert("rpath");
    }
    if fs.intersects(Rights::WRITE | Rights::TRUNCATE) {
        out.insert("wpath");
    }
    if fs.intersects(Rights::CREATE | Rights::REMOVE | Rights::RENAME | Rights::SYMLINK) {
        out.insert("cpath");
    }
    if fs.contains(Rights::SET_META) {
        out.insert("fattr");
        out.insert("chown");
    }
    if fs.contains(Rights::EXEC) {
        out.insert("proc");
        out.insert("exec");
    }
    for e in policy.entries() {
        if let EntryKind::Socket(kind) = e.kind {
            // read, write, send, recv and shutdown on an open socket are in
            // stdio; accept, socket options and addresses are not.
            if e.rights
                .intersects(Rights::ACCEPT | Rights::SET_OPT | Rights::STAT)
            {
                out.insert(if is_unix(kind) { "unix" } else { "inet" });
            }
        }
    }
    for g in policy.net_grants() {
        if !g.tcp_connect_ports.is_empty() || !g.tcp_bind_ports.is_empty() || g.udp {
            out.insert("inet");
        }
        if g.unix {
            out.insert("unix");
        }
    }
    out
}

/// Plans unveil + pledge for `policy`. [`Mode::Strict`] refuses a policy
/// with a gap some kernel could close: a filesystem handle whose origin is
/// not a path unveil can name (empty, or a label such as `(temp)`).
pub fn plan(policy: &Policy<'_>, options: &Options, facts: &Facts) -> Result<Plan, Error> {
    crate::policy::validate_portable(policy)?;
    let mut report = Report::empty(options.mode);
    report.os = "openbsd".to_string();
    let mut gaps = Vec::new();
    let mut unveils: Vec<Unveil> = Vec::new();

    for e in policy.entries() {
        let origin = e.origin.display().to_string();
        let (kind, access) = match e.kind {
            EntryKind::Dir | EntryKind::File => {
                let perms = permissions(e.rights);
                if origin.is_empty() || origin.starts_with('(') {
                    gaps.push(gap(&origin, "path", format!("the handle (fd {}) has no path unveil can name: nothing beneath it is reachable once unveiled, and its rights are not enforced by path", e.fd), false));
                } else if let Some(u) = unveils.iter_mut().find(|u| u.path == e.origin) {
                    let merged: String = "rwxc"
                        .chars()
                        .filter(|c| u.permissions.contains(*c) || perms.contains(*c))
                        .collect();
                    gaps.push(gap(&origin, "per-handle rights", format!("two handles share this path: unveil keeps one permission set, the union `{merged}`"), true));
                    u.permissions = merged;
                } else {
                    unveils.push(Unveil {
                        path: e.origin.clone(),
                        permissions: perms.clone(),
                    });
                }
                fs_gaps(e.rights, &origin, &mut gaps);
                let kind = if e.kind == EntryKind::Dir {
                    "dir"
                } else {
                    "file"
                };
                (kind.to_string(), vec![format!("unveil {perms:?}")])
            }
            EntryKind::Socket(k) => {
                socket_gaps(e.rights, &origin, &mut gaps);
                (format!("{k:?}"), Vec::new())
            }
        };
        report.handles.push(HandleReport {
            fd: e.fd,
            kind,
            origin,
            rights: e.rights,
            access,
        });
    }

    let promises = promises(policy);
    process_gaps(policy, &promises, &mut gaps);
    if options.mode == Mode::Strict {
        let unenforced: Vec<Gap> = gaps.iter().filter(|g| !g.permanent).cloned().collect();
        if !unenforced.is_empty() {
            return Err(Error::NotEnforceable { gaps: unenforced });
        }
    }
    let execpromises = promises.contains("exec").then(|| promises.clone());
    let inherited = inherited::decide(&facts.undeclared, &options.inherited_fds)?;

    report.net_grants = policy.net_grants().to_vec();
    report.pledge = Some(PledgeReport {
        promises: promises.iter().map(|p| (*p).to_string()).collect(),
        execpromises: execpromises
            .as_ref()
            .map(|e| e.iter().map(|p| (*p).to_string()).collect()),
        unveiled: unveils
            .iter()
            .map(|u| format!("{} {:?}", u.path.display(), u.permissions))
            .collect(),
    });
    report.gaps = gaps;
    Ok(Plan {
        unveils,
        promises,
        execpromises,
        inherited,
        report,
    })
}

/// Where one unveil letter covers more than the catalogue right.
fn fs_gaps(rights: Rights, origin: &str, gaps: &mut Vec<Gap>) {
    let shared: [(&str, Rights); 3] = [
        ("r", Rights::READ | Rights::STAT),
        ("w", Rights::WRITE | Rights::TRUNCATE | Rights::SET_META),
        (
            "c",
            Rights::CREATE | Rights::REMOVE | Rights::RENAME | Rights::SYMLINK,
        ),
    ];
    for (letter, group) in shared {
        let held = rights & group;
        let missing = group.difference(rights);
        if !held.is_empty() && !missing.is_empty() {
            gaps.push(gap(
                origin,
                &missing.to_string(),
                format!("unveil `{letter}` covers {group}: granting {held} also allows {missing} beneath this path; only the types refuse it"),
                true,
            ));
        }
    }
    if rights.contains(Rights::LOOKUP) {
        gaps.push(gap(origin, "Lookup", "unveil has no lookup permission: every path beneath is reachable with the path's permissions, and a handle without Lookup that holds other rights can still open paths beneath by name", true));
    }
}

/// What pledge cannot say about a held socket.
fn socket_gaps(rights: Rights, origin: &str, gaps: &mut Vec<Gap>) {
    let stdio = Rights::READ | Rights::WRITE | Rights::SEND | Rights::RECV | Rights::SHUTDOWN;
    let missing = stdio.difference(rights);
    if !missing.is_empty() {
        gaps.push(gap(origin, &missing.to_string(), "read, write, send, recv and shutdown on an open socket are in pledge's stdio for every descriptor: pledge has no per-descriptor rights", true));
    }
}

/// What the process-wide promises allow beyond the handles.
fn process_gaps(policy: &Policy<'_>, promises: &BTreeSet<&str>, gaps: &mut Vec<Gap>) {
    if promises.contains("inet") {
        gaps.push(gap("process", "inet address", "the inet promise allows socket, connect and bind to every address and port: pledge has no address or port rule, so TCP ports and UDP are enforced by the types only", true));
    }
    if promises.contains("unix") {
        gaps.push(gap("process", "unix path", "the unix promise allows unix sockets anywhere unveil allows (bind needs `c`, connect `w` beneath an unveiled path)", true));
    }
    if promises.contains("fattr") {
        gaps.push(gap("process", "SetMeta", "fattr and chown are process-wide: every unveiled path with `w` can have its mode, owner and times changed, not only the handle with SetMeta", true));
    }
    if promises.contains("exec") {
        gaps.push(gap("process", "exec", "unveil does not survive execve: an executed program is held by the execpromises only and sees the whole filesystem its promises allow", true));
    }
    let held_paths = policy
        .entries()
        .iter()
        .any(|e| matches!(e.kind, EntryKind::Dir | EntryKind::File));
    if held_paths {
        gaps.push(gap("process", "descriptor rights", "unveil restricts paths, not descriptors: a held descriptor keeps every access its open mode gives it, and renaming a held directory elsewhere keeps it reachable", true));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::policy::test_fd;
    use crate::{InheritedFds, NetGrant};

    fn best_effort() -> Options {
        Options {
            mode: Mode::BestEffort,
            ..Options::default()
        }
    }

    fn plan_dir(rights: Rights) -> Plan {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.dir(test_fd::of(&file), rights, Path::new("/srv/data"));
        plan(&policy, &Options::default(), &Facts::default()).unwrap()
    }

    fn plan_socket(kind: SocketKind, rights: Rights) -> Plan {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.socket(test_fd::of(&file), kind, rights, "127.0.0.1:80");
        plan(&policy, &Options::default(), &Facts::default()).unwrap()
    }

    fn plan_grant(grant: NetGrant) -> Plan {
        let mut policy = Policy::new();
        policy.net(grant);
        plan(&policy, &Options::default(), &Facts::default()).unwrap()
    }

    fn has_gap(plan: &Plan, right: &str) -> bool {
        plan.report.gaps.iter().any(|g| g.right == right)
    }

    #[test]
    fn empty_policy_is_stdio_only_and_nothing_unveiled() {
        let p = plan(&Policy::new(), &Options::default(), &Facts::default()).unwrap();
        assert_eq!(p.promise_string(), "stdio");
        assert!(p.unveils.is_empty());
        assert_eq!(p.execpromises, None);
    }

    #[test]
    fn lookup_alone_unveils_nothing_usable() {
        let p = plan_dir(Rights::LOOKUP);
        assert_eq!(p.unveiled("/srv/data"), Some(""));
        assert_eq!(p.promise_string(), "stdio");
    }

    #[test]
    fn read_is_r_and_rpath() {
        let p = plan_dir(Rights::LOOKUP | Rights::READ);
        assert_eq!(p.unveiled("/srv/data"), Some("r"));
        assert_eq!(p.promise_string(), "stdio rpath");
    }

    #[test]
    fn write_is_w_and_wpath() {
        let p = plan_dir(Rights::LOOKUP | Rights::WRITE);
        assert_eq!(p.unveiled("/srv/data"), Some("w"));
        assert_eq!(p.promise_string(), "stdio wpath");
    }

    #[test]
    fn create_is_c_and_cpath() {
        let p = plan_dir(Rights::LOOKUP | Rights::CREATE);
        assert_eq!(p.unveiled("/srv/data"), Some("c"));
        assert_eq!(p.promise_string(), "stdio cpath");
    }

    #[test]
    fn remove_rename_symlink_are_c() {
        for r in [Rights::REMOVE, Rights::RENAME, Rights::SYMLINK] {
            let p = plan_dir(Rights::LOOKUP | r);
            assert_eq!(p.unveiled("/srv/data"), Some("c"), "{r}");
            assert!(p.promises.contains("cpath"));
            assert!(!p.promises.contains("wpath"));
        }
    }

    #[test]
    fn truncate_is_w_and_wpath() {
        let p = plan_dir(Rights::LOOKUP | Rights::TRUNCATE);
        assert_eq!(p.unveiled("/srv/data"), Some("w"));
        assert!(p.promises.contains("wpath"));
        assert!(has_gap(&p, "[Write, SetMeta]"), "{:?}", p.report.gaps);
    }

    #[test]
    fn exec_is_x_and_proc_exec_with_execpromises() {
        let p = plan_dir(Rights::LOOKUP | Rights::READ | Rights::EXEC);
        assert_eq!(p.unveiled("/srv/data"), Some("rx"));
        assert!(p.promises.contains("proc") && p.promises.contains("exec"));
        assert_eq!(
            p.execpromise_string().as_deref(),
            Some("stdio exec proc rpath")
        );
        assert!(has_gap(&p, "exec"));
    }

    #[test]
    fn no_exec_handle_no_proc_exec() {
        let p = plan_dir(Rights::FS.difference(Rights::EXEC));
        assert!(!p.promises.contains("exec") && !p.promises.contains("proc"));
        assert_eq!(p.execpromises, None);
    }

    #[test]
    fn stat_is_r_and_a_stated_gap_without_read() {
        let p = plan_dir(Rights::LOOKUP | Rights::STAT);
        assert_eq!(p.unveiled("/srv/data"), Some("r"));
        assert!(has_gap(&p, "[Read]"), "{:?}", p.report.gaps);
        let p = plan_dir(Rights::LOOKUP | Rights::STAT | Rights::READ);
        assert!(!has_gap(&p, "[Read]"));
    }

    #[test]
    fn set_meta_is_fattr_and_chown_only_with_set_meta() {
        let p = plan_dir(Rights::LOOKUP | Rights::WRITE | Rights::SET_META);
        assert!(p.promises.contains("fattr") && p.promises.contains("chown"));
        assert!(has_gap(&p, "SetMeta"));
        let p = plan_dir(Rights::LOOKUP | Rights::WRITE);
        assert!(!p.promises.contains("fattr") && !p.promises.contains("chown"));
    }

    #[test]
    fn every_fs_right_maps_to_a_letter_or_is_lookup() {
        for (right, name) in Rights::NAMES {
            if !Rights::FS.contains(right) {
                continue;
            }
            let perms = permissions(right);
            assert_eq!(
                perms.is_empty(),
                right == Rights::LOOKUP,
                "{name}: {perms:?}"
            );
        }
        assert_eq!(permissions(Rights::FS), "rwxc");
    }

    #[test]
    fn file_handles_are_unveiled_by_their_own_path() {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.file(test_fd::of(&file), Rights::READ, Path::new("/etc/app.conf"));
        let p = plan(&policy, &Options::default(), &Facts::default()).unwrap();
        assert_eq!(p.unveiled("/etc/app.conf"), Some("r"));
        assert_eq!(p.report.handles[0].kind, "file");
    }

    #[test]
    fn two_handles_on_one_path_get_the_union_and_a_gap() {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.dir(test_fd::of(&file), Rights::READ, Path::new("/srv"));
        policy.dir(test_fd::of(&file), Rights::CREATE, Path::new("/srv"));
        let p = plan(&policy, &Options::default(), &Facts::default()).unwrap();
        assert_eq!(p.unveils.len(), 1);
        assert_eq!(p.unveiled("/srv"), Some("rc"));
        assert!(has_gap(&p, "per-handle rights"));
    }

    #[test]
    fn handle_without_a_path_is_refused_in_strict() {
        let file = test_fd::held();
        let mut policy = Policy::new();
        policy.dir(test_fd::of(&file), Rights::READ, Path::new("(temp)"));
        let err = plan(&policy, &Options::default(), &Facts::default()).unwrap_err();
        assert!(matches!(err, Error::NotEnforceable { ref gaps } if gaps[0].right == "path"));
        let p = plan(&policy, &best_effort(), &Facts::default()).unwrap();
        assert!(p.unveils.is_empty());
    }

    #[test]
    fn tcp_listener_with_accept_needs_inet() {
        let p = plan_socket(SocketKind::TcpListener, Rights::ACCEPT);
        assert_eq!(p.promise_string(), "stdio inet");
        assert!(has_gap(&p, "inet address"));
    }

    #[test]
    fn tcp_stream_read_write_is_stdio_only() {
        let p = plan_socket(
            SocketKind::TcpStream,
            Rights::READ | Rights::WRITE | Rights::SHUTDOWN | Rights::SEND | Rights::RECV,
        );
        assert_eq!(p.promise_string(), "stdio");
        assert!(p.report.gaps.iter().all(|g| g.subject != "127.0.0.1:80"));
    }

    #[test]
    fn read_only_stream_is_a_stated_gap() {
        let p = plan_socket(SocketKind::TcpStream, Rights::READ);
        let g = p
            .report
            .gaps
            .iter()
            .find(|g| g.subject == "127.0.0.1:80")
            .unwrap();
        assert!(g.right.contains("Write") && g.permanent);
    }

    #[test]
    fn udp_socket_with_set_opt_needs_inet() {
        let p = plan_socket(
            SocketKind::Udp,
            Rights::SEND | Rights::RECV | Rights::SET_OPT,
        );
        assert!(p.promises.contains("inet"));
        assert!(!p.promises.contains("unix"));
    }

    #[test]
    fn unix_sockets_need_unix_not_inet() {
        for kind in [
            SocketKind::UnixListener,
            SocketKind::UnixStream,
            SocketKind::UnixDatagram,
        ] {
            let p = plan_socket(kind, Rights::NET);
            assert!(p.promises.contains("unix"), "{kind:?}");
            assert!(!p.promises.contains("inet"), "{kind:?}");
            assert!(has_gap(&p, "unix path"));
        }
    }

    #[test]
    fn tcp_connect_and_bind_grants_need_inet() {
        let p = plan_grant(NetGrant {
            label: "api".into(),
            tcp_connect_ports: vec![443],
            ..NetGrant::default()
        });
        assert_eq!(p.promise_string(), "stdio inet");
        let p = plan_grant(NetGrant {
            label: "srv".into(),
            tcp_bind_ports: vec![8080],
            ..NetGrant::default()
        });
        assert_eq!(p.promise_string(), "stdio inet");
        assert!(has_gap(&p, "inet address"));
    }

    #[test]
    fn udp_grant_needs_inet_and_unix_grant_needs_unix() {
        let p = plan_grant(NetGrant {
            label: "dns".into(),
            udp: true,
            ..NetGrant::default()
        });
        assert!(p.promises.contains("inet") && !p.promises.contains("unix"));
        let p = plan_grant(NetGrant {
            label: "ipc".into(),
            unix: true,
            ..NetGrant::default()
        });
        assert!(p.promises.contains("unix") && !p.promises.contains("inet"));
    }

    #[test]
    fn report_carries_promises_and_unveils() {
        let p = plan_dir(Rights::LOOKUP | Rights::READ | Rights::WRITE);
        assert_eq!(p.report.os, "openbsd");
        let pledge = p.report.pledge.as_ref().unwrap();
        assert_eq!(pledge.promises, ["rpath", "stdio", "wpath"]);
        assert_eq!(pledge.unveiled, ["/srv/data \"rw\""]);
        assert!(p.report.to_string().contains("pledge"));
    }

    #[test]
    fn undeclared_descriptors_refused_or_closed() {
        let facts = Facts {
            undeclared: vec![Undeclared {
                fd: 4,
                target: "pipe".into(),
                id: None,
            }],
        };
        assert!(matches!(
            plan(&Policy::new(), &Options::default(), &facts),
            Err(Error::InheritedFds { .. })
        ));
        let close = Options {
            inherited_fds: InheritedFds::Close,
            ..Options::default()
        };
        let p = plan(&Policy::new(), &close, &facts).unwrap();
        assert_eq!(p.inherited[0].2, FdAction::Closed);
    }

    #[test]
    fn only_permanent_gaps_for_named_paths() {
        let p = plan_dir(Rights::FS);
        assert!(p.report.gaps.iter().all(|g| g.permanent));
    }
}
