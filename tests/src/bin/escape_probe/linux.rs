//! The escape corpus's helper (the Linux body of `escape_probe`): enters a fixed sandbox (or not) and makes one
//! attempt, printing `RESULT ok <value>` or `RESULT errno <n>`; a kill shows
//! as the signal of the exit status, an exec as its exit code.
//!
//! `escape_probe <sandboxed|unsandboxed> <attempt> <fixture> <connect-port>
//! <bind-port> <outside-port> <free-port> <abstract-name>`
//!
//! The fixed policy: `<fixture>/ro` with `[Lookup, Read, Stat]`, `<fixture>/rw`
//! with `[Lookup, Read, Write, Create, Remove, Rename, Truncate, Symlink,
//! Stat]`, TCP connect to `<connect-port>` and bind of `<bind-port>` on any
//! address. Variants add `<fixture>/exec` with `[Lookup, Exec]` (attempts
//! starting with `exec_`), a unix grant (`unix_`), or build the policy from
//! cap-core handles through `Sandbox` (`capcore_`).

use std::ffi::CString;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};

use cap_runtime::linux::probe;
use cap_runtime::{InheritedFds, Mode, NetGrant, Options, Policy, Rights};
use rustix::fs::{Mode as FsMode, OFlags};

/// What an attempt sees.
struct Ctx {
    ro: PathBuf,
    rw: PathBuf,
    outside: PathBuf,
    exec: PathBuf,
    ro_fd: fs::File,
    rw_fd: fs::File,
    connect_port: u16,
    bind_port: u16,
    outside_port: u16,
    free_port: u16,
    cap_mask: u64,
    abstract_name: String,
    ppid: i32,
    parent_addr: usize,
    handle: Vec<u8>,
    ns_fd: Option<fs::File>,
    /// A held listener with a connection waiting (attempts `held_*`,
    /// `heldaccept_*`; the client end is closed before the lock, as
    /// undeclared descriptors are).
    listener: Option<TcpListener>,
}

type Res = Result<i64, i32>;

fn io(r: std::io::Result<impl Sized>) -> Res {
    r.map(|_| 0).map_err(|e| e.raw_os_error().unwrap_or(-1))
}

fn rx(r: rustix::io::Result<impl Sized>) -> Res {
    r.map(|_| 0).map_err(rustix::io::Errno::raw_os_error)
}

fn fd(r: Result<OwnedFd, i32>) -> Res {
    r.map(|f| i64::from(f.as_raw_fd()))
}

/// Spawns the static `tiny` (exit 42) at `path` with an empty table and
/// waits through the pidfd: `Ok(0)` on exit 42, the errno of the clone or of
/// the child's `execveat` otherwise.
fn spawn_tiny(path: &Path) -> Res {
    use cap_runtime::linux::spawn::{SpawnError, SpawnRequest, spawn};
    let exe = fs::File::open(path).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
    let args = [CString::new("tiny").unwrap_or_default()];
    let request = SpawnRequest {
        exe: exe.as_fd(),
        args: &args,
        env: &[],
        table: &[],
    };
    let child = spawn(&request, None).map_err(|e| {
        e.raw_os_error()
            .or_else(|| {
                e.get_ref()
                    .and_then(|e| e.downcast_ref::<SpawnError>())
                    .map(|s| s.errno)
            })
            .unwrap_or(-1)
    })?;
    let status = rustix::process::waitid(
        rustix::process::WaitId::PidFd(child.pidfd.as_fd()),
        rustix::process::WaitIdOptions::EXITED,
    )
    .map_err(rustix::io::Errno::raw_os_error)?;
    match status.and_then(|s| s.exit_status()) {
        Some(42) => Ok(0),
        _ => Err(-1),
    }
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL in fixture paths")
}

/// Fails with -1 (not an errno) when a twin's check does not hold.
fn check(ok: bool) -> Res {
    if ok { Ok(0) } else { Err(-1) }
}

fn open_dir(p: &Path) -> fs::File {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(p)
        .unwrap_or_else(|e| panic!("open {}: {e}", p.display()))
}

fn attempt(name: &str, c: &Ctx) -> Res {
    let ro = |f: &str| c.ro.join(f);
    let rw = |f: &str| c.rw.join(f);
    let secret = c.outside.join("secret.txt");
    match name {
        // --- paths: `..`, absolute, symlinks, /proc ---
        "dotdot_from_rw" => rx(rustix::fs::openat(
            &c.rw_fd,
            "../outside/secret.txt",
            OFlags::RDONLY,
            FsMode::empty(),
        )),
        "dotdot_from_ro" => rx(rustix::fs::openat(
            &c.ro_fd,
            "../outside/secret.txt",
            OFlags::RDONLY,
            FsMode::empty(),
        )),
        "twin_openat_rw" => rx(rustix::fs::openat(
            &c.rw_fd,
            "existing.txt",
            OFlags::RDONLY,
            FsMode::empty(),
        )),
        "twin_openat_ro" => rx(rustix::fs::openat(
            &c.ro_fd,
            "file.txt",
            OFlags::RDONLY,
            FsMode::empty(),
        )),
        "twin_dotdot_inside" => rx(rustix::fs::openat(
            &c.ro_fd,
            "sub/../file.txt",
            OFlags::RDONLY,
            FsMode::empty(),
        )),
        "absolute_outside" => io(fs::read(&secret)),
        "absolute_etc_passwd" => io(fs::read("/etc/passwd")),
        "twin_absolute_inside" => io(fs::read(ro("file.txt"))),
        "symlink_out_of_ro" => io(fs::read(ro("link_out"))),
        "twin_symlink_inside_ro" => io(fs::read(ro("link_in"))),
        "symlink_made_inside_rw" => {
            std::os::unix::fs::symlink(&secret, rw("made_link"))
                .map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(fs::read(rw("made_link")))
        }
        "twin_symlink_made_inside_rw" => {
            std::os::unix::fs::symlink("existing.txt", rw("made_link"))
                .map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(fs::read(rw("made_link")))
        }
        "proc_self_root" => io(fs::read(
            Path::new("/proc/self/root").join(secret.strip_prefix("/").unwrap()),
        )),
        "proc_self_fd_dotdot" => io(fs::read(format!(
            "/proc/self/fd/{}/../outside/secret.txt",
            c.ro_fd.as_raw_fd()
        ))),
        "proc_self_fd_reopen_write" => {
            let f = fs::File::open(ro("file.txt")).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(fs::OpenOptions::new()
                .write(true)
                .open(format!("/proc/self/fd/{}", f.as_raw_fd())))
        }
        "twin_proc_self_fd_reopen_read" => {
            let f = fs::File::open(ro("file.txt")).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(fs::read(format!("/proc/self/fd/{}", f.as_raw_fd())))
        }
        // --- links and renames ---
        "hard_link_out" => io(fs::hard_link(
            rw("existing.txt"),
            c.outside.join("linked.txt"),
        )),
        "hard_link_in_from_outside" => io(fs::hard_link(&secret, rw("stolen.txt"))),
        "twin_hard_link_inside" => io(fs::hard_link(rw("existing.txt"), rw("linked.txt"))),
        "rename_out" => io(fs::rename(rw("existing.txt"), c.outside.join("moved.txt"))),
        "rename_from_ro" => io(fs::rename(ro("file.txt"), rw("moved.txt"))),
        "twin_rename_inside" => io(fs::rename(rw("existing.txt"), rw("moved.txt"))),
        // --- writes in the read-only dir ---
        "write_ro" => io(fs::OpenOptions::new().write(true).open(ro("file.txt"))),
        "twin_write_rw" => io(fs::OpenOptions::new()
            .write(true)
            .open(rw("existing.txt"))
            .and_then(|mut f| f.write_all(b"x"))),
        "create_ro" => io(fs::File::create_new(ro("new.txt"))),
        "twin_create_rw" => io(fs::File::create_new(rw("new.txt"))),
        "truncate_ro" => io(fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(ro("file.txt"))),
        "twin_truncate_rw" => io(fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(rw("existing.txt"))),
        "mkdir_ro" => io(fs::create_dir(ro("d"))),
        "twin_mkdir_rw" => io(fs::create_dir(rw("d"))),
        "unlink_ro" => io(fs::remove_file(ro("file.txt"))),
        "twin_unlink_rw" => io(fs::remove_file(rw("existing.txt"))),
        "mkfifo_rw" => rx(rustix::fs::mknodat(
            &c.rw_fd,
            "fifo",
            rustix::fs::FileType::Fifo,
            FsMode::RWXU,
            0,
        )),
        // --- metadata without SetMeta ---
        "chmod_rw" => io(fs::set_permissions(
            rw("existing.txt"),
            fs::Permissions::from_mode(0o600),
        )),
        "fchmod_rw" => io(fs::File::open(rw("existing.txt"))
            .and_then(|f| f.set_permissions(fs::Permissions::from_mode(0o600)))),
        "chown_rw" => io(std::os::unix::fs::chown(
            rw("existing.txt"),
            Some(0),
            Some(0),
        )),
        "utimes_rw" => io(fs::File::open(rw("existing.txt"))
            .and_then(|f| f.set_modified(std::time::SystemTime::UNIX_EPOCH))),
        "twin_stat_rw" => io(fs::metadata(rw("existing.txt"))),
        // --- exec ---
        "execve_outside" | "exec_execve_outside" => Err(probe::execve(c"/bin/true")),
        "exec_twin_execve_tiny" => Err(probe::execve(&cstr(&c.exec.join("tiny")))),
        "execveat_fd" => {
            let f = fs::File::open(ro("tiny")).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            Err(probe::execveat_fd(f.as_fd()))
        }
        "exec_twin_execveat_fd" => {
            let f =
                fs::File::open(c.exec.join("tiny")).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            Err(probe::execveat_fd(f.as_fd()))
        }
        // --- children (cap_runtime::linux::spawn: clone(CLONE_PIDFD) + execveat) ---
        "spawn_child" => spawn_tiny(&ro("tiny")),
        "exec_twin_spawn_child" => spawn_tiny(&c.exec.join("tiny")),
        // --- mounts and namespaces ---
        "mount_tmpfs" => probe::mount(c"none", &cstr(&rw("")), c"tmpfs", 0),
        "chroot" => probe::chroot(&cstr(&c.rw)),
        "pivot_root" => probe::pivot_root(&cstr(&c.rw), &cstr(&rw("old"))),
        "unshare_user" => probe::unshare(libc::CLONE_NEWUSER),
        "unshare_mount_net" => probe::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET),
        "setns_net" => probe::setns(
            c.ns_fd.as_ref().expect("setns holds an ns fd").as_fd(),
            libc::CLONE_NEWNET,
        ),
        // --- other processes ---
        "ptrace_parent" => probe::ptrace_seize(c.ppid),
        "process_vm_readv_parent" => probe::process_vm_read(c.ppid, c.parent_addr, 8),
        "kill_parent" => probe::kill(c.ppid, 0),
        "kill_init" => probe::kill(1, 0),
        "prlimit_parent" => probe::prlimit_nofile(c.ppid),
        "twin_prlimit_self" => probe::prlimit_nofile(0),
        "twin_kill_self" => probe::kill(std::process::id().cast_signed(), 0),
        "twin_getppid" => check(probe::getppid() == i64::from(c.ppid)),
        "twin_thread_spawn" => check(std::thread::spawn(|| 7).join().is_ok_and(|v| v == 7)),
        // --- sockets ---
        "abstract_unix_connect" | "unix_abstract_connect" => {
            use std::os::linux::net::SocketAddrExt;
            let addr =
                std::os::unix::net::SocketAddr::from_abstract_name(c.abstract_name.as_bytes())
                    .map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(UnixStream::connect_addr(&addr))
        }
        "unix_twin_abstract_inside" => {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("{}-inside", c.abstract_name);
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            let _l = std::os::unix::net::UnixListener::bind_addr(&addr)
                .map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(UnixStream::connect_addr(&addr))
        }
        // Without a unix grant, denied by seccomp; with one, a documented gap.
        "pathname_unix_connect" | "unix_gap_pathname_connect" => {
            io(UnixStream::connect(c.outside.join("sock")))
        }
        "twin_socketpair" => io(UnixStream::pair()),
        "twin_socketpair_seqpacket" => rx(rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::SEQPACKET,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )),
        // An unconnected datagram socket reaches any pathname datagram socket
        // (such as /dev/log): without a unix grant, the pair is refused.
        "dgram_socketpair_sendto_outside" | "unix_gap_dgram_sendto_outside" => {
            let (a, _b) = UnixDatagram::pair().map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            io(a.send_to(b"x", c.outside.join("dsock")))
        }
        "tcp_connect_outside" => io(TcpStream::connect(("127.0.0.1", c.outside_port))),
        "twin_tcp_connect_granted" => io(TcpStream::connect(("127.0.0.1", c.connect_port))),
        // TCP Fast Open connects inside sendto/sendmsg, where Landlock's
        // connect hook is not called: seccomp refuses MSG_FASTOPEN.
        "tcp_fastopen_sendto_outside" => {
            let s = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
            probe::sendto_loopback(s.as_fd(), libc::MSG_FASTOPEN, c.outside_port)
        }
        "tcp_fastopen_sendmsg_outside" => {
            let s = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
            probe::sendmsg_loopback(s.as_fd(), libc::MSG_FASTOPEN, c.outside_port)
        }
        // TCP_FASTOPEN_CONNECT defers the SYN to the first write, but connect()
        // itself still passes Landlock's hook.
        "tcp_fastopen_connect_outside" => {
            let s = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
            probe::setsockopt_int(s.as_fd(), libc::IPPROTO_TCP, libc::TCP_FASTOPEN_CONNECT, 1)?;
            probe::connect_loopback(s.as_fd(), c.outside_port)?;
            io(fs::File::from(s).write_all(b"x"))
        }
        "twin_tcp_sendto_connected_granted" => {
            let s = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
            probe::connect_loopback(s.as_fd(), c.connect_port)?;
            probe::sendto_loopback(s.as_fd(), libc::MSG_NOSIGNAL, c.connect_port)?;
            probe::sendmsg_loopback(s.as_fd(), libc::MSG_NOSIGNAL, c.connect_port)
        }
        "tcp_bind_outside" => io(TcpListener::bind(("127.0.0.1", c.free_port))),
        "twin_tcp_bind_granted" => io(TcpListener::bind(("127.0.0.1", c.bind_port))),
        // listen() on an unbound socket binds an ephemeral port without
        // Landlock's bind check; allowed because the policy has a bind port.
        "gap_tcp_listen_autobind" => {
            let s = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
            rx(rustix::net::listen(&s, 1))?;
            let port = rustix::net::getsockname(&s)
                .ok()
                .and_then(|a| std::net::SocketAddr::try_from(a).ok())
                .map_or(0, |a| a.port());
            check(port != 0 && port != c.bind_port)
        }
        // The auto-bound port is not a connect port: the sandbox cannot reach
        // it itself (other processes can).
        "tcp_listen_autobind_connect_inside" => {
            let s = probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)?;
            rx(rustix::net::listen(&s, 1))?;
            let port = rustix::net::getsockname(&s)
                .ok()
                .and_then(|a| std::net::SocketAddr::try_from(a).ok())
                .map_or(0, |a| a.port());
            io(TcpStream::connect(("127.0.0.1", port)))
        }
        "udp_socket" => io(UdpSocket::bind("127.0.0.1:0")),
        "raw_socket" => fd(probe::socket(
            libc::AF_INET,
            libc::SOCK_RAW,
            libc::IPPROTO_ICMP,
        )),
        "packet_socket" => fd(probe::socket(libc::AF_PACKET, libc::SOCK_RAW, 0)),
        "netlink_socket" => fd(probe::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW,
            libc::NETLINK_ROUTE,
        )),
        "mptcp_socket" => fd(probe::socket(
            libc::AF_INET,
            libc::SOCK_STREAM,
            libc::IPPROTO_MPTCP,
        )),
        "twin_tcp_socket" => fd(probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0)),
        // --- kernel attack surface ---
        "io_uring_setup" => fd(probe::io_uring_setup()),
        "open_by_handle_at" => fd(probe::open_by_handle(c.ro_fd.as_fd(), &c.handle)),
        "bpf" => fd(probe::bpf_map_create()),
        "perf_event_open" => fd(probe::perf_event_open()),
        "userfaultfd" => fd(probe::userfaultfd()),
        "keyctl" => probe::keyctl_process_keyring(),
        #[cfg(target_arch = "x86_64")]
        "x32_syscall" => probe::x32_getpid(),
        #[cfg(target_arch = "x86_64")]
        "i386_int80" => probe::int80_getpid(),
        // --- privileges ---
        "capset_raise" => probe::capset_all(c.cap_mask),
        "twin_caps_empty" => check(
            probe::effective_caps() == Ok(0)
                && probe::permitted_caps() == Ok(0)
                && (0..=cap_runtime::linux::caps::last_cap_known())
                    .all(|cap| probe::in_bounding_set(cap) != Ok(1)),
        ),
        "setuid_nobody" => probe::setuid(65534),
        "clear_no_new_privs" => {
            probe::set_no_new_privs(0).and_then(|_| check(probe::no_new_privs() == Ok(0)))
        }
        "twin_no_new_privs_set" => check(probe::no_new_privs() == Ok(1)),
        "twin_read_ro_data" => {
            let mut s = String::new();
            io(fs::File::open(ro("file.txt")).and_then(|mut f| f.read_to_string(&mut s)))?;
            check(s == "read-only data\n")
        }
        // --- documented gaps: allowed on purpose, asserted so a change shows ---
        "gap_stat_outside" => io(fs::metadata(&secret)),
        "gap_tcp_granted_port_other_address" => {
            io(TcpStream::connect(("127.0.0.2", c.connect_port)))
        }
        // --- seccomp hardening: fallocate, leases, accept, a child's lock ---
        "notrunc_fallocate_punch_hole" | "twin_fallocate_punch_hole_with_truncate" => {
            let f = open_write(&rw("existing.txt"))?;
            probe::fallocate(
                f.as_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                0,
                4,
            )
        }
        "notrunc_fallocate_collapse" => {
            let f = open_write(&rw("existing.txt"))?;
            probe::fallocate(f.as_fd(), libc::FALLOC_FL_COLLAPSE_RANGE, 0, 4096)
        }
        "notrunc_fallocate_zero_range" => {
            let f = open_write(&rw("existing.txt"))?;
            probe::fallocate(f.as_fd(), libc::FALLOC_FL_ZERO_RANGE, 0, 4)
        }
        "notrunc_twin_fallocate_allocate" => {
            let f = open_write(&rw("existing.txt"))?;
            probe::fallocate(f.as_fd(), 0, 0, 8192)?;
            probe::fallocate(f.as_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, 16384)?;
            check(fs::read(rw("existing.txt")).is_ok_and(|d| d.starts_with(b"rw data")))
        }
        "fcntl_setlease" => {
            let f = fs::File::open(ro("file.txt")).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            probe::fcntl_int(f.as_fd(), libc::F_SETLEASE, libc::F_RDLCK)
        }
        "twin_fcntl_getlease_and_lock" => {
            let f = fs::File::open(ro("file.txt")).map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            let lease = probe::fcntl_int(f.as_fd(), libc::F_GETLEASE, 0)?;
            check(lease == i64::from(libc::F_UNLCK))?;
            rx(rustix::fs::fcntl_lock(
                &f,
                rustix::fs::FlockOperation::NonBlockingLockShared,
            ))
        }
        "held_accept_without_right" | "heldaccept_twin_accept" => {
            let listener = c.listener.as_ref().expect("a held listener");
            fd(probe::accept4(listener.as_fd()))
        }
        // Handles travel over held unix sockets with SCM_RIGHTS: sendmsg and
        // recvmsg are baseline, whatever the policy.
        "twin_scm_rights_socketpair" => {
            use rustix::net::{
                RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
                SendAncillaryMessage, SendFlags,
            };
            let (a, b) = UnixStream::pair().map_err(|e| e.raw_os_error().unwrap_or(-1))?;
            let fds = [c.ro_fd.as_fd()];
            let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut out = SendAncillaryBuffer::new(&mut space);
            check(out.push(SendAncillaryMessage::ScmRights(&fds)))?;
            rx(rustix::net::sendmsg(
                &a,
                &[std::io::IoSlice::new(b"x")],
                &mut out,
                SendFlags::empty(),
            ))?;
            let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut received = RecvAncillaryBuffer::new(&mut space);
            let mut byte = [0u8];
            rx(rustix::net::recvmsg(
                &b,
                &mut [std::io::IoSliceMut::new(&mut byte)],
                &mut received,
                RecvFlags::empty(),
            ))?;
            let fds: Vec<OwnedFd> = received
                .drain()
                .filter_map(|m| match m {
                    RecvAncillaryMessage::ScmRights(fds) => Some(fds),
                    _ => None,
                })
                .flatten()
                .collect();
            check(fds.len() == 1)?;
            // The received descriptor is the read-only directory: it reads.
            rx(rustix::fs::openat(
                &fds[0],
                "file.txt",
                OFlags::RDONLY,
                FsMode::empty(),
            ))
        }
        "seccomp_filter_without_exec" | "exec_twin_seccomp_filter" => {
            probe::install_allow_all_filter().map(|()| 0)
        }
        other => panic!("unknown attempt {other}"),
    }
}

fn open_write(p: &Path) -> Result<fs::File, i32> {
    fs::OpenOptions::new()
        .write(true)
        .open(p)
        .map_err(|e| e.raw_os_error().unwrap_or(-1))
}

/// Setup that only the unsandboxed run needs so its attempt does not touch
/// the host (a private mount namespace for mount and pivot_root).
fn unsandboxed_prep(name: &str) {
    if matches!(name, "mount_tmpfs" | "pivot_root") {
        probe::unshare(libc::CLONE_NEWNS).expect("unshare mount ns for the unsandboxed run");
        probe::mount(c"none", c"/", c"", libc::MS_REC | libc::MS_PRIVATE).expect("make / private");
    }
}

fn parent_address(ppid: i32) -> usize {
    let maps = fs::read_to_string(format!("/proc/{ppid}/maps")).unwrap_or_default();
    maps.lines()
        .next()
        .and_then(|l| l.split('-').next())
        .and_then(|a| usize::from_str_radix(a, 16).ok())
        .unwrap_or(0)
}

pub(crate) fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 9,
        "usage: escape_probe <sandboxed|unsandboxed> <attempt> <fixture> <connect> <bind> <outside> <free> <abstract>"
    );
    let sandboxed = args[1] == "sandboxed";
    let name = args[2].as_str();
    let fixture = PathBuf::from(&args[3]);
    if name.starts_with("lib_") {
        lib_cases::run(name, &fixture);
        return;
    }
    if name.starts_with("sandboxed_") {
        sandboxed_cases::run(name);
        return;
    }
    if name.starts_with("harden_")
        || matches!(
            name,
            "gap_raw_openat_setuid_mode" | "gap_unix_connect_with_tcp_grant" | "gap_opath_outside"
        )
    {
        match hardening::run(name, &fixture, sandboxed) {
            Ok(v) => println!("RESULT ok {v}"),
            Err(e) => println!("RESULT errno {e}"),
        }
        return;
    }
    if name.starts_with("capcore_") {
        capcore::run(name, &fixture, sandboxed);
        return;
    }
    let port = |i: usize| args[i].parse::<u16>().expect("port");
    let ppid = i32::try_from(std::os::unix::process::parent_id()).expect("pid");
    let ctx = Ctx {
        ro: fixture.join("ro"),
        rw: fixture.join("rw"),
        outside: fixture.join("outside"),
        exec: fixture.join("exec"),
        ro_fd: open_dir(&fixture.join("ro")),
        rw_fd: open_dir(&fixture.join("rw")),
        connect_port: port(4),
        bind_port: port(5),
        outside_port: port(6),
        free_port: port(7),
        cap_mask: probe::permitted_caps().unwrap_or(0),
        abstract_name: args[8].clone(),
        ppid,
        parent_addr: parent_address(ppid),
        handle: if name == "open_by_handle_at" {
            probe::name_to_handle(&cstr(&fixture.join("outside/secret.txt")))
                .expect("name_to_handle_at before the lock")
        } else {
            Vec::new()
        },
        ns_fd: (name == "setns_net")
            .then(|| fs::File::open("/proc/self/ns/net").expect("open ns fd")),
        listener: name.starts_with("held").then(|| {
            let l = TcpListener::bind("127.0.0.1:0").expect("held listener");
            drop(TcpStream::connect(l.local_addr().expect("address")).expect("connect"));
            l
        }),
    };

    let exec_fd = name.starts_with("exec_").then(|| open_dir(&ctx.exec));
    if sandboxed {
        let mut policy = Policy::new();
        let ro_rights = Rights::LOOKUP | Rights::READ | Rights::STAT;
        let mut rw_rights = ro_rights
            | Rights::WRITE
            | Rights::CREATE
            | Rights::REMOVE
            | Rights::RENAME
            | Rights::TRUNCATE
            | Rights::SYMLINK;
        if name.starts_with("notrunc_") {
            rw_rights.remove(Rights::TRUNCATE);
        }
        policy.dir(ctx.ro_fd.as_fd(), ro_rights, &ctx.ro);
        policy.dir(ctx.rw_fd.as_fd(), rw_rights, &ctx.rw);
        if let Some(exec) = &exec_fd {
            policy.dir(exec.as_fd(), Rights::LOOKUP | Rights::EXEC, &ctx.exec);
        }
        if let Some(ns) = &ctx.ns_fd {
            policy.file(ns.as_fd(), Rights::empty(), Path::new("/proc/self/ns/net"));
        }
        // `held_*`: a held listener with [Stat] only, `heldaccept_*` with
        // [Accept]; neither has a grant (a grant with bind ports allows
        // accept by itself).
        if let Some(listener) = &ctx.listener {
            let rights = if name.starts_with("heldaccept_") {
                Rights::ACCEPT
            } else {
                Rights::STAT
            };
            policy.socket(
                listener.as_fd(),
                cap_runtime::SocketKind::TcpListener,
                rights,
                "held listener",
            );
        }
        if ctx.listener.is_none() {
            policy.net(NetGrant {
                label: format!(
                    "127.0.0.1:{} connect, :{} bind",
                    ctx.connect_port, ctx.bind_port
                ),
                tcp_connect_ports: vec![ctx.connect_port],
                tcp_bind_ports: vec![ctx.bind_port],
                udp: false,
                unix: name.starts_with("unix_"),
            });
        }
        let options = Options {
            mode: Mode::Strict,
            inherited_fds: InheritedFds::Close,
            assume_landlock_abi: None,
        };
        match cap_runtime::enter_with(&policy, &options) {
            Ok(report) => {
                if name == "twin_report" {
                    println!("{}", report.to_json());
                }
            }
            Err(e) => {
                println!("ENTER-FAILED {e}");
                std::process::exit(3);
            }
        }
    } else {
        unsandboxed_prep(name);
    }
    let result = if name == "twin_report" {
        check(cap_runtime::report().is_some() == sandboxed)
    } else {
        attempt(name, &ctx)
    };
    match result {
        Ok(v) => println!("RESULT ok {v}"),
        Err(e) => println!("RESULT errno {e}"),
    }
    std::io::stdout().flush().ok();
}

#[path = "capcore.rs"]
mod capcore;
#[path = "hardening.rs"]
mod hardening;
#[path = "lib_cases.rs"]
mod lib_cases;
#[path = "sandboxed_cases.rs"]
mod sandboxed_cases;
