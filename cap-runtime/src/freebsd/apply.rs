//! The Capsicum applier: gathers the [`Facts`], runs the planner, and makes
//! the calls in order (limits, inherited descriptors, `cap_enter`).
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use super::plan::{self, CapRight, Facts, Fcntl, Ioctl, Plan};
use crate::inherited::Undeclared;
use crate::report::{FdAction, InheritedFd};
use crate::{Error, Options, Policy, Report};

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// libc's `CAP_*` value of each right (`<sys/capsicum.h>`).
fn cap_value(right: CapRight) -> u64 {
    match right {
        CapRight::Read => libc::CAP_READ,
        CapRight::Write => libc::CAP_WRITE,
        CapRight::Seek => libc::CAP_SEEK,
        CapRight::Fsync => libc::CAP_FSYNC,
        CapRight::Fstat => libc::CAP_FSTAT,
        CapRight::Fstatat => libc::CAP_FSTATAT,
        CapRight::Lookup => libc::CAP_LOOKUP,
        CapRight::Create => libc::CAP_CREATE,
        CapRight::Mkdirat => libc::CAP_MKDIRAT,
        CapRight::Unlinkat => libc::CAP_UNLINKAT,
        CapRight::RenameatSource => libc::CAP_RENAMEAT_SOURCE,
        CapRight::RenameatTarget => libc::CAP_RENAMEAT_TARGET,
        CapRight::LinkatSource => libc::CAP_LINKAT_SOURCE,
        CapRight::LinkatTarget => libc::CAP_LINKAT_TARGET,
        CapRight::Ftruncate => libc::CAP_FTRUNCATE,
        CapRight::Symlinkat => libc::CAP_SYMLINKAT,
        CapRight::Fexecve => libc::CAP_FEXECVE,
        CapRight::Fchmod => libc::CAP_FCHMOD,
        CapRight::Fchmodat => libc::CAP_FCHMODAT,
        CapRight::Fchown => libc::CAP_FCHOWN,
        CapRight::Fchownat => libc::CAP_FCHOWNAT,
        CapRight::Futimes => libc::CAP_FUTIMES,
        CapRight::Futimesat => libc::CAP_FUTIMESAT,
        CapRight::Bindat => libc::CAP_BINDAT,
        CapRight::Connectat => libc::CAP_CONNECTAT,
        CapRight::Accept => libc::CAP_ACCEPT,
        CapRight::Getpeername => libc::CAP_GETPEERNAME,
        CapRight::Getsockname => libc::CAP_GETSOCKNAME,
        CapRight::Getsockopt => libc::CAP_GETSOCKOPT,
        CapRight::Setsockopt => libc::CAP_SETSOCKOPT,
        CapRight::Shutdown => libc::CAP_SHUTDOWN,
        CapRight::Event => libc::CAP_EVENT,
        CapRight::Fcntl => libc::CAP_FCNTL,
        CapRight::Ioctl => libc::CAP_IOCTL,
    }
}

fn fcntl_value(f: Fcntl) -> u32 {
    match f {
        Fcntl::GetFl => libc::CAP_FCNTL_GETFL,
        Fcntl::SetFl => libc::CAP_FCNTL_SETFL,
    }
}

fn ioctl_value(i: Ioctl) -> libc::c_ulong {
    match i {
        Ioctl::Fionbio => libc::FIONBIO,
    }
}

/// Whether `fd` is open.
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD reads the descriptor flags; it touches no memory and
    // fails with EBADF on a closed descriptor (fcntl(2)).
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// `(file type, st_dev, st_ino)` of `fd`.
fn fstat_id(fd: RawFd) -> Result<(u32, u64, u64), i32> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a whole `struct stat` to the pointer on success
    // (fstat(2)); it is read only then.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return Err(errno());
    }
    // SAFETY: fstat returned 0, so the struct is initialised.
    let st = unsafe { st.assume_init() };
    Ok((
        u32::from(st.st_mode) & u32::from(libc::S_IFMT),
        st.st_dev,
        st.st_ino,
    ))
}

/// The highest descriptor number that may be open, plus one.
fn descriptor_limit() -> RawFd {
    // SAFETY: sysconf takes a constant and touches no memory.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    RawFd::try_from(max).unwrap_or(RawFd::MAX).max(1024)
}

/// Every open descriptor above stdio: probed one by one up to the
/// process's limit (FreeBSD has no `/proc/self/fd` by default).
fn open_descriptors() -> impl Iterator<Item = RawFd> {
    (3..descriptor_limit()).filter(|fd| is_open(*fd))
}

/// Every descriptor above stdio with the identity of its file, for
/// [`crate::FdSnapshot`].
#[allow(clippy::unnecessary_wraps)] // the backends share one signature
pub(crate) fn open_fds() -> Result<Vec<(RawFd, u64, u64)>, i32> {
    Ok(open_descriptors()
        .filter_map(|fd| fstat_id(fd).ok().map(|(_, dev, ino)| (fd, dev, ino)))
        .collect())
}

fn type_name(mode: u32) -> &'static str {
    match mode {
        m if m == u32::from(libc::S_IFREG) => "regular file",
        m if m == u32::from(libc::S_IFDIR) => "directory",
        m if m == u32::from(libc::S_IFSOCK) => "socket",
        m if m == u32::from(libc::S_IFIFO) => "pipe",
        m if m == u32::from(libc::S_IFCHR) => "character device",
        _ => "other",
    }
}

/// The read-only observations the plan depends on.
fn gather(policy: &Policy<'_>) -> Result<Facts, Error> {
    for e in policy.entries() {
        if !is_open(e.fd) {
            return Err(Error::InvalidEntry {
                fd: e.fd,
                origin: e.origin.clone(),
                reason: "the descriptor is not open".into(),
            });
        }
    }
    let undeclared = open_descriptors()
        .filter(|fd| !policy.entries().iter().any(|e| e.fd == *fd))
        .map(|fd| {
            let stat = fstat_id(fd).ok();
            Undeclared {
                fd,
                target: stat.map_or("?", |(mode, _, _)| type_name(mode)).to_string(),
                id: stat.map(|(_, dev, ino)| (dev, ino)),
            }
        })
        .collect();
    Ok(Facts { undeclared })
}

/// Locks the calling process into capability mode. See [`crate::enter_with`].
pub(crate) fn enter(policy: &Policy<'_>, options: &Options) -> Result<Report, Error> {
    let facts = gather(policy)?;
    let plan = plan::plan(policy, options, &facts)?;
    apply(plan)
}

fn limit_one(limit: &plan::FdLimit) -> Result<(), (&'static str, i32)> {
    let mut rights = MaybeUninit::<libc::cap_rights_t>::uninit();
    // SAFETY: `cap_rights_init(&rights)` is the macro for this call: it
    // initialises the whole structure to the empty set; the variadic list of
    // rights ends with 0 (cap_rights_init(3)).
    unsafe { libc::__cap_rights_init(libc::CAP_RIGHTS_VERSION, rights.as_mut_ptr(), 0u64) };
    for right in &limit.rights {
        // SAFETY: `rights` was initialised above; one right, then the 0 that
        // ends the list, as the `cap_rights_set` macro passes them.
        unsafe { libc::__cap_rights_set(rights.as_mut_ptr(), cap_value(*right), 0u64) };
    }
    // SAFETY: `rights` is initialised; cap_rights_limit only reads it.
    if unsafe { libc::cap_rights_limit(limit.fd, rights.as_ptr()) } != 0 {
        return Err(("cap_rights_limit", errno()));
    }
    if limit.rights.contains(&CapRight::Fcntl) {
        let mask = limit.fcntls.iter().fold(0, |m, f| m | fcntl_value(*f));
        // SAFETY: plain integer arguments (cap_fcntls_limit(2)).
        if unsafe { libc::cap_fcntls_limit(limit.fd, mask) } != 0 {
            return Err(("cap_fcntls_limit", errno()));
        }
    }
    if limit.rights.contains(&CapRight::Ioctl) {
        let cmds: Vec<libc::c_ulong> = limit.ioctls.iter().map(|i| ioctl_value(*i)).collect();
        // SAFETY: `cmds` holds `cmds.len()` commands and outlives the call,
        // which only reads them (cap_ioctls_limit(2)).
        if unsafe { libc::cap_ioctls_limit(limit.fd, cmds.as_ptr(), cmds.len()) } != 0 {
            return Err(("cap_ioctls_limit", errno()));
        }
    }
    Ok(())
}

/// `CAP_IOCTLS_ALL` (`<sys/capsicum.h>`: `SSIZE_MAX`): what
/// `cap_ioctls_get` returns for a descriptor whose ioctls are not limited.
const CAP_IOCTLS_ALL: isize = isize::MAX;

/// A close-on-exec duplicate of `fd`, limited with `cap_rights_limit` (and
/// `cap_fcntls_limit`, `cap_ioctls_limit`) to what a handle of `kind` with
/// `rights` may do ([`plan::passed_limit`]), intersected with what `fd` may
/// still do (a limit only shrinks: a descriptor limited when this process
/// entered capability mode keeps at most that). For handing a descriptor to
/// another process, over a unix socket (`SCM_RIGHTS` carries the limit with
/// it) or in a child's table: the receiver's kernel then enforces the
/// handle's rights, and this process's own descriptor keeps its rights.
#[doc(alias = "cap_rights_limit")]
pub fn limited_duplicate(
    fd: BorrowedFd<'_>,
    kind: crate::EntryKind,
    rights: crate::Rights,
) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let failed = |step: &str| {
        let e = io::Error::last_os_error();
        io::Error::new(e.kind(), format!("{step} on a passed descriptor: {e}"))
    };
    // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor and touches no memory
    // (fcntl(2)).
    let raw = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if raw < 0 {
        return Err(failed("dup"));
    }
    // SAFETY: `raw` was just returned by fcntl: open, and owned by no one else.
    let dup = unsafe { OwnedFd::from_raw_fd(raw) };
    let limit = plan::passed_limit(raw, kind, rights, "");

    let mut want = MaybeUninit::<libc::cap_rights_t>::uninit();
    // SAFETY: the `cap_rights_init` macro's call: it initialises the whole
    // structure to the empty set; the variadic list ends with 0.
    unsafe { libc::__cap_rights_init(libc::CAP_RIGHTS_VERSION, want.as_mut_ptr(), 0u64) };
    for right in &limit.rights {
        // SAFETY: `want` is initialised; one right, then the terminating 0.
        unsafe { libc::__cap_rights_set(want.as_mut_ptr(), cap_value(*right), 0u64) };
    }
    // SAFETY: initialised by __cap_rights_init above.
    let mut want = unsafe { want.assume_init() };
    let mut have = MaybeUninit::<libc::cap_rights_t>::uninit();
    // SAFETY: the `cap_rights_get` macro's call: the kernel writes a whole
    // cap_rights_t on success (cap_rights_get(2)).
    if unsafe { libc::__cap_rights_get(libc::CAP_RIGHTS_VERSION, raw, have.as_mut_ptr()) } != 0 {
        return Err(failed("cap_rights_get"));
    }
    // SAFETY: cap_rights_get returned 0, so it filled the structure.
    let have = unsafe { have.assume_init() };
    // want ∩ have = want − (want − have).
    let mut beyond = want;
    // SAFETY: both point to initialised rights sets; remove writes `beyond`.
    unsafe {
        libc::cap_rights_remove(&raw mut beyond, &raw const have);
        libc::cap_rights_remove(&raw mut want, &raw const beyond);
    }
    // SAFETY: `want` is an initialised set; cap_rights_limit only reads it.
    if unsafe { libc::cap_rights_limit(raw, &raw const want) } != 0 {
        return Err(failed("cap_rights_limit"));
    }
    // SAFETY: `want` is initialised; one right, then the terminating 0.
    let kept = |right: CapRight| unsafe {
        libc::__cap_rights_is_set(&raw const want, cap_value(right), 0u64)
    };
    if kept(CapRight::Fcntl) {
        let mut current = 0u32;
        // SAFETY: the kernel writes one u32 to a live local (cap_fcntls_get(2)).
        if unsafe { libc::cap_fcntls_get(raw, &raw mut current) } != 0 {
            return Err(failed("cap_fcntls_get"));
        }
        let mask = limit.fcntls.iter().fold(0, |m, f| m | fcntl_value(*f)) & current;
        // SAFETY: plain integer arguments (cap_fcntls_limit(2)).
        if unsafe { libc::cap_fcntls_limit(raw, mask) } != 0 {
            return Err(failed("cap_fcntls_limit"));
        }
    }
    if kept(CapRight::Ioctl) {
        let mut current = [0 as libc::c_ulong; 32];
        // SAFETY: the kernel writes at most `current.len()` commands to the
        // live array (cap_ioctls_get(2)).
        let n = unsafe { libc::cap_ioctls_get(raw, current.as_mut_ptr(), current.len()) };
        if n < 0 {
            return Err(failed("cap_ioctls_get"));
        }
        let allowed = &current[..usize::try_from(n).unwrap_or(0).min(current.len())];
        let cmds: Vec<libc::c_ulong> = limit
            .ioctls
            .iter()
            .map(|i| ioctl_value(*i))
            .filter(|c| n == CAP_IOCTLS_ALL || allowed.contains(c))
            .collect();
        // SAFETY: `cmds` holds `cmds.len()` commands and outlives the call,
        // which only reads them (cap_ioctls_limit(2)).
        if unsafe { libc::cap_ioctls_limit(raw, cmds.as_ptr(), cmds.len()) } != 0 {
            return Err(failed("cap_ioctls_limit"));
        }
    }
    Ok(dup)
}

fn apply(plan: Plan) -> Result<Report, Error> {
    let Plan {
        limits,
        inherited,
        mut report,
    } = plan;
    let mut applied: Vec<&'static str> = Vec::new();
    for limit in &limits {
        limit_one(limit).map_err(|(step, errno)| Error::Kernel {
            step,
            errno,
            applied: applied.clone(),
        })?;
        if applied.is_empty() {
            applied.push("cap_rights_limit");
        }
    }
    for (fd, target, action) in inherited {
        if action == FdAction::Closed {
            // SAFETY: the planner decided this undeclared descriptor is
            // inherited and owned by no live object; closing it is the point.
            if unsafe { libc::close(fd) } != 0 && errno() == libc::EBADF {
                return Err(Error::Kernel {
                    step: "close inherited descriptor",
                    errno: libc::EBADF,
                    applied,
                });
            }
        }
        report
            .inherited_fds
            .push(InheritedFd { fd, target, action });
    }
    // SAFETY: cap_enter takes no argument (cap_enter(2)).
    if unsafe { libc::cap_enter() } != 0 {
        return Err(Error::Kernel {
            step: "cap_enter",
            errno: errno(),
            applied,
        });
    }
    applied.push("cap_enter");
    report.mechanisms = applied.iter().map(|s| (*s).to_string()).collect();
    Ok(report)
}

unsafe extern "C" {
    // <sys/socket.h> on FreeBSD; not in libc yet.
    fn bindat(
        fd: libc::c_int,
        s: libc::c_int,
        addr: *const libc::sockaddr,
        len: libc::socklen_t,
    ) -> libc::c_int;
    fn connectat(
        fd: libc::c_int,
        s: libc::c_int,
        addr: *const libc::sockaddr,
        len: libc::socklen_t,
    ) -> libc::c_int;
}

/// A `sockaddr_un` holding the plain name `name`.
fn unix_addr(name: &OsStr) -> io::Result<libc::sockaddr_un> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.is_empty()
        || bytes.len() >= addr.sun_path.len()
        || bytes.contains(&0)
        || bytes.contains(&b'/')
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is not a plain socket name of at most {} bytes",
                name.display(),
                addr.sun_path.len() - 1
            ),
        ));
    }
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = libc::c_char::from_ne_bytes([*s]);
    }
    addr.sun_family = libc::sa_family_t::try_from(libc::AF_UNIX).unwrap_or_default();
    addr.sun_len = u8::try_from(std::mem::size_of::<libc::sockaddr_un>()).unwrap_or(u8::MAX);
    Ok(addr)
}

/// Binds `socket` to the name `name` in the directory `dir`: `bindat(2)`,
/// which resolves the name from the descriptor, and works in capability mode
/// where `dir` has `CAP_BINDAT`.
#[doc(alias = "bindat")]
pub fn bind_unix_at(dir: BorrowedFd<'_>, socket: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let addr = unix_addr(name)?;
    // SAFETY: `addr` is a valid sockaddr_un of the length passed; both
    // descriptors are borrowed, so open for the call (bindat(2)).
    let rc = unsafe {
        bindat(
            dir.as_raw_fd(),
            socket.as_raw_fd(),
            (&raw const addr).cast(),
            libc::socklen_t::try_from(std::mem::size_of_val(&addr)).unwrap_or(0),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Connects `socket` to the socket named `name` in the directory `dir`:
/// `connectat(2)`; in capability mode `dir` needs `CAP_CONNECTAT`.
#[doc(alias = "connectat")]
pub fn connect_unix_at(
    dir: BorrowedFd<'_>,
    socket: BorrowedFd<'_>,
    name: &OsStr,
) -> io::Result<()> {
    let addr = unix_addr(name)?;
    // SAFETY: as in `bind_unix_at` (connectat(2)).
    let rc = unsafe {
        connectat(
            dir.as_raw_fd(),
            socket.as_raw_fd(),
            (&raw const addr).cast(),
            libc::socklen_t::try_from(std::mem::size_of_val(&addr)).unwrap_or(0),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Capability mode as it behaves on FreeBSD, in the spirit of capsicum-test's
/// `openat` and capability-mode cases (our own cases and words). Each case
/// runs in a fresh process (this test binary again, selecting the one case),
/// since capability mode cannot be left; the parent asserts it succeeded.
/// Compiled by CI for `x86_64-unknown-freebsd`; run only on FreeBSD.
#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::os::fd::{AsFd, RawFd};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use crate::{Error, InheritedFds, NetGrant, Options, Policy, Rights};

    const CASE: &str = "AMBIT_CAPSICUM_CASE";

    /// Runs `body` in a child process: this binary, running only `name`.
    fn in_child(name: &str, body: fn()) {
        if std::env::var_os(CASE).is_some() {
            body();
            return;
        }
        let out = Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--test-threads=1", "--nocapture"])
            .env(CASE, name)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn fixture() -> PathBuf {
        let root = std::env::temp_dir().join(format!("ambit-capsicum-{}", std::process::id()));
        std::fs::create_dir_all(root.join("held")).unwrap();
        std::fs::write(root.join("held/inside"), "inside").unwrap();
        std::fs::write(root.join("outside"), "SECRET").unwrap();
        root
    }

    fn keep() -> Options {
        Options {
            inherited_fds: InheritedFds::Keep,
            ..Options::default()
        }
    }

    /// `openat(dir, path, flags)`: the descriptor, or the errno.
    fn openat(dir: RawFd, path: &str, flags: libc::c_int) -> Result<RawFd, i32> {
        let path = CString::new(path).unwrap();
        // SAFETY: a NUL-terminated path alive for the call (openat(2)).
        let fd = unsafe { libc::openat(dir, path.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd >= 0 { Ok(fd) } else { Err(super::errno()) }
    }

    fn lock_read_only(root: &Path) -> std::fs::File {
        let held = std::fs::File::open(root.join("held")).unwrap();
        let mut policy = Policy::new();
        policy.dir(
            held.as_fd(),
            Rights::LOOKUP | Rights::READ,
            &root.join("held"),
        );
        let report = crate::enter_with(&policy, &keep()).unwrap();
        assert_eq!(report.mechanisms, ["cap_rights_limit", "cap_enter"]);
        drop(policy);
        held
    }

    #[test]
    fn openat_beneath_a_held_dir_works_and_escapes_are_not_capable() {
        in_child(
            "freebsd::apply::tests::openat_beneath_a_held_dir_works_and_escapes_are_not_capable",
            || {
                use std::os::fd::AsRawFd;
                let root = fixture();
                let held = lock_read_only(&root);
                let dir = held.as_raw_fd();
                // The allowed twin: a file beneath, read-only.
                let fd = openat(dir, "inside", libc::O_RDONLY).expect("open beneath");
                let mut buf = [0u8; 16];
                // SAFETY: `buf` is writable for its length (read(2)).
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                assert_eq!(&buf[..usize::try_from(n).unwrap()], b"inside");
                // Above the held directory: not capable.
                assert_eq!(
                    openat(dir, "../outside", libc::O_RDONLY),
                    Err(libc::ENOTCAPABLE)
                );
                // An absolute path beneath a descriptor: not capable either.
                let outside = root.join("outside");
                assert_eq!(
                    openat(dir, outside.to_str().unwrap(), libc::O_RDONLY),
                    Err(libc::ENOTCAPABLE)
                );
                // Writing through a read-only handle: not capable.
                assert_eq!(
                    openat(dir, "inside", libc::O_WRONLY),
                    Err(libc::ENOTCAPABLE)
                );
            },
        );
    }

    #[test]
    fn capability_mode_has_no_global_namespace() {
        in_child(
            "freebsd::apply::tests::capability_mode_has_no_global_namespace",
            || {
                let root = fixture();
                let _held = lock_read_only(&root);
                let outside = root.join("outside");
                assert_eq!(
                    openat(libc::AT_FDCWD, outside.to_str().unwrap(), libc::O_RDONLY),
                    Err(libc::ECAPMODE)
                );
                // SAFETY: socket(2) with constant arguments.
                let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
                assert!(s >= 0, "making a socket is allowed in capability mode");
                // SAFETY: sockaddr_in is plain data; all zeroes is valid.
                let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                addr.sin_family = libc::sa_family_t::try_from(libc::AF_INET).unwrap();
                addr.sin_port = 80u16.to_be();
                addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
                // SAFETY: `addr` is a valid sockaddr_in of the length passed.
                let rc = unsafe {
                    libc::connect(
                        s,
                        (&raw const addr).cast(),
                        libc::socklen_t::try_from(std::mem::size_of_val(&addr)).unwrap(),
                    )
                };
                assert_eq!((rc, super::errno()), (-1, libc::ECAPMODE));
            },
        );
    }

    #[test]
    fn strict_refuses_a_tcp_grant_and_leaves_the_process_unchanged() {
        let mut policy = Policy::new();
        policy.net(NetGrant {
            label: "api".into(),
            tcp_connect_ports: vec![443],
            ..NetGrant::default()
        });
        let err = crate::enter_with(&policy, &keep()).unwrap_err();
        assert!(matches!(err, Error::NotEnforceable { .. }), "{err:?}");
        assert!(err.is_clean());
        let mut mode = 0;
        // SAFETY: cap_getmode writes one u_int (cap_getmode(2)).
        assert_eq!(unsafe { libc::cap_getmode(&raw mut mode) }, 0);
        assert_eq!(mode, 0, "not in capability mode");
    }
}
