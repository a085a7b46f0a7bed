//! Observing what a program touches, without confining it: the engine of
//! `ambit learn`.
//!
//! The child (spawned with [`super::spawn::spawn`]) installs a seccomp
//! filter that returns `SECCOMP_RET_USER_NOTIF` for the system calls that
//! name a file or an address ([`OBSERVED`]) and `SECCOMP_RET_ALLOW` for every
//! other one, with `SECCOMP_FILTER_FLAG_NEW_LISTENER`. It sends the listener
//! descriptor to the parent over a unix socket (`SCM_RIGHTS`, one
//! async-signal-safe `sendmsg`) and execs. The filter is inherited by every
//! descendant, so a shell's children are observed too.
//!
//! The parent's supervisor thread loops on `SECCOMP_IOCTL_NOTIF_RECV`, reads
//! the path or socket address from the caller's memory
//! (`process_vm_readv`), resolves a relative path against the directory
//! descriptor (`/proc/PID/fd/N`) or the working directory (`/proc/PID/cwd`),
//! records an [`Observed`] event and answers
//! `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: the kernel then runs the call as if
//! no filter were there. Nothing is denied.
//!
//! # Time of check and time of use
//!
//! The arguments are read while the caller is blocked, but another thread of
//! the caller could change the memory between our read and the kernel's own
//! (after CONTINUE). For a policy *learner* this is irrelevant: a program
//! that races its own arguments only misleads the policy written for it, and
//! that policy is then enforced by Landlock, which checks the objects the
//! kernel really opens. `SECCOMP_IOCTL_NOTIF_ID_VALID` is checked after each
//! read so a notification of a task that died (and whose pid may be reused)
//! is not recorded with another process's memory.
//!
//! # Not observed
//!
//! Calls that Landlock does not restrict either (`stat`, `access`,
//! `readlink`, `chdir`: walking and metadata), reads of environment
//! variables (plain memory reads in the process), and 32-bit (`int 0x80`)
//! and x32 system calls (allowed unobserved). The engine runs on x86_64
//! only; elsewhere [`observe`] returns `Unsupported`.
//!
//! # References
//! - seccomp_unotify(2), seccomp(2), process_vm_readv(2), pidfd_getfd(2),
//!   unix(7) `SCM_RIGHTS`
#![allow(unsafe_code)]
// The engine is x86_64-only; its helpers compile everywhere.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use std::ffi::CString;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What one observed system call did, in the terms a policy needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A file or directory opened for reading (a directory: listed).
    Read {
        /// The canonical path.
        path: PathBuf,
        /// Whether it is a directory.
        dir: bool,
    },
    /// A path looked up for reading that did not exist: the call failed
    /// with `ENOENT`, and would fail the same way inside a sandbox.
    Missing {
        /// The path as resolved.
        path: PathBuf,
    },
    /// An entry to create that already existed: the call failed with
    /// `EEXIST`, and would fail the same way inside a sandbox (the lookup
    /// comes before Landlock's check).
    Exists {
        /// The entry.
        path: PathBuf,
    },
    /// An existing file opened for writing or truncated.
    Write {
        /// The canonical path.
        path: PathBuf,
    },
    /// An entry created, removed, renamed, linked or made a symlink in its
    /// directory.
    Modify {
        /// The entry (its directory canonical, the last component as named).
        path: PathBuf,
    },
    /// A file executed (or the interpreter named by its `#!` line).
    Exec {
        /// The canonical path.
        path: PathBuf,
    },
    /// A `/proc/self`-like path (`/proc/PID/...` of an observed process):
    /// not grantable by name from outside the process.
    ProcSelf {
        /// The path as named.
        path: PathBuf,
    },
    /// A call whose arguments could not be read from the caller's memory
    /// (`process_vm_readv` refused, or a bad pointer).
    Unreadable,
    /// An IP `connect`.
    Connect {
        /// The address.
        addr: SocketAddr,
        /// Whether the socket is a stream (TCP) socket; `None` when its type
        /// could not be read.
        stream: Option<bool>,
    },
    /// An IP `bind`.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// As for [`Access::Connect`].
        stream: Option<bool>,
    },
    /// A unix-socket `connect` to a path (abstract names start with `@`).
    UnixConnect {
        /// The socket path.
        path: PathBuf,
    },
}

/// One observed call: which system call, by which task, and what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The system call's name (`openat`, `execve`...).
    pub syscall: &'static str,
    /// The calling task's id (in ambit's pid namespace).
    pub pid: u32,
    /// What it did.
    pub access: Access,
}

/// How an observed program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

/// Everything one observed run produced.
#[derive(Clone, Debug)]
pub struct Observation {
    /// The events, in the order the supervisor received them.
    pub events: Vec<Observed>,
    /// How the program ended.
    pub exit: Exit,
}

/// What [`observe`] runs.
#[derive(Debug)]
pub struct Program<'a> {
    /// The executable, opened (read access or `O_PATH`).
    pub exe: std::os::fd::BorrowedFd<'a>,
    /// `argv`, `argv[0]` included.
    pub args: &'a [CString],
    /// `envp`.
    pub env: &'a [CString],
}

/// The observed system calls (x86_64 names), and what each one's
/// arguments mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `(dirfd?, path, flags)`: an open.
    Open {
        dirfd: Option<usize>,
        path: usize,
        flags: Option<usize>,
    },
    /// `openat2(dirfd, path, how)`.
    Openat2,
    /// `creat(path, mode)`.
    Creat,
    /// An entry made or removed: `(dirfd?, path)`.
    Entry { dirfd: Option<usize>, path: usize },
    /// `truncate(path, len)`.
    Truncate,
    /// `execve(path)` / `execveat(dirfd, path, .., flags)`.
    Exec { dirfd: Option<usize>, path: usize },
    /// `connect(fd, addr, len)`.
    Connect,
    /// `bind(fd, addr, len)`.
    Bind,
}

/// The calls the filter notifies, with their shapes: the file-opening,
/// entry-changing, executing and socket-addressing calls, i.e. what Landlock
/// can restrict.
#[cfg(target_arch = "x86_64")]
const OBSERVED: &[(&str, libc::c_long, Shape)] = &[
    (
        "open",
        libc::SYS_open,
        Shape::Open {
            dirfd: None,
            path: 0,
            flags: Some(1),
        },
    ),
    (
        "openat",
        libc::SYS_openat,
        Shape::Open {
            dirfd: Some(0),
            path: 1,
            flags: Some(2),
        },
    ),
    ("openat2", libc::SYS_openat2, Shape::Openat2),
    ("creat", libc::SYS_creat, Shape::Creat),
    (
        "mkdir",
        libc::SYS_mkdir,
        Shape::Entry {
            dirfd: None,
            path: 0,
        },
    ),
    (
        "mkdirat",
        libc::SYS_mkdirat,
        Shape::Entry {
            dirfd: Some(0),
            path: 1,
        },
    ),
    (
        "mknod",
        libc::SYS_mknod,
        Shape::Entry {
            dirfd: None,
            path: 0,
        },
    ),
    (
        "mknodat",
        libc::SYS_mknodat,
        Shape::Entry {
            dirfd: Some(0),
            path: 1,
        },
    ),
    (
        "rmdir",
        libc::SYS_rmdir,
        Shape::Entry {
            dirfd: None,
            path: 0,
        },
    ),
    (
        "unlink",
        libc::SYS_unlink,
        Shape::Entry {
            dirfd: None,
            path: 0,
        },
    ),
    (
        "unlinkat",
        libc::SYS_unlinkat,
        Shape::Entry {
            dirfd: Some(0),
            path: 1,
        },
    ),
    // Renames and links change two entries: each is recorded.
    (
        "rename",
        libc::SYS_rename,
        Shape::Entry {
            dirfd: None,
            path: 0,
        },
    ),
    (
        "renameat",
        libc::SYS_renameat,
        Shape::Entry {
            dirfd: Some(0),
            path: 1,
        },
    ),
    (
        "renameat2",
        libc::SYS_renameat2,
        Shape::Entry {
            dirfd: Some(0),
            path: 1,
        },
    ),
    (
        "link",
        libc::SYS_link,
        Shape::Entry {
            dirfd: None,
            path: 1,
        },
    ),
    (
        "linkat",
        libc::SYS_linkat,
        Shape::Entry {
            dirfd: Some(2),
            path: 3,
        },
    ),
    (
        "symlink",
        libc::SYS_symlink,
        Shape::Entry {
            dirfd: None,
            path: 1,
        },
    ),
    (
        "symlinkat",
        libc::SYS_symlinkat,
        Shape::Entry {
            dirfd: Some(1),
            path: 2,
        },
    ),
    ("truncate", libc::SYS_truncate, Shape::Truncate),
    (
        "execve",
        libc::SYS_execve,
        Shape::Exec {
            dirfd: None,
            path: 0,
        },
    ),
    (
        "execveat",
        libc::SYS_execveat,
        Shape::Exec {
            dirfd: Some(0),
            path: 1,
        },
    ),
    ("connect", libc::SYS_connect, Shape::Connect),
    ("bind", libc::SYS_bind, Shape::Bind),
];

/// What a call does to the entry it names, which decides whether it can
/// succeed: a creation fails with `EEXIST` when the entry exists, a removal
/// (or a rename's or link's source) with `ENOENT` when it does not, and a
/// rename's destination may exist or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Create,
    Remove,
    Replace,
}

/// The role of the first entry of a call, and the second entry of a
/// two-entry call (`rename*`, `link*`) with its `(dirfd, path)` argument
/// positions and role.
fn entry_roles(syscall: &str) -> (Role, Option<(Option<usize>, usize, Role)>) {
    match syscall {
        "rename" => (Role::Remove, Some((None, 1, Role::Replace))),
        "renameat" | "renameat2" => (Role::Remove, Some((Some(2), 3, Role::Replace))),
        // The source of a link must exist and be reachable with REFER:
        // recorded too.
        "link" => (Role::Create, Some((None, 0, Role::Remove))),
        "linkat" => (Role::Create, Some((Some(0), 1, Role::Remove))),
        "rmdir" | "unlink" | "unlinkat" => (Role::Remove, None),
        _ => (Role::Create, None),
    }
}

/// The access a call with `role` on the entry `path` makes.
fn entry_access(path: &std::path::Path, role: Role) -> Access {
    let path = entry_path(path);
    let exists = std::fs::symlink_metadata(&path).is_ok();
    match role {
        Role::Create if exists => Access::Exists { path },
        Role::Remove if !exists => Access::Missing { path },
        _ => Access::Modify { path },
    }
}

/// Runs `program` once under observation and returns what it touched and how
/// it ended. Stdio (0, 1, 2) is passed; no other descriptor is. Returns when
/// the program and every descendant that shares its filter have exited.
///
/// # Errors
/// `Unsupported` on an architecture other than x86_64; the spawn error (with
/// its [`super::spawn::SpawnError`]) when the child could not be set up or
/// the program could not be executed.
#[cfg(target_arch = "x86_64")]
pub fn observe(program: &Program<'_>) -> io::Result<Observation> {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

    // Blocked before the supervisor thread exists, so it inherits the mask
    // and every one of these signals waits in the signalfd: none kills
    // ambit before the policy is written.
    let blocked = super::signals::Blocked::block(&FORWARDED)?;
    let (ours, theirs) = socketpair()?;
    // `done` hangs up when the supervisor ends; writing `stop` ends it.
    let (done_read, done_write) = pipe()?;
    let (stop_read, stop_write) = pipe()?;
    // The listener arrives on `ours` once the child has installed the filter;
    // the supervisor must be running before the child's execve, which is
    // itself a notified call.
    let supervisor = std::thread::Builder::new()
        .name("ambit-learn-supervisor".into())
        .spawn(move || -> io::Result<Vec<Observed>> {
            let _done = done_write;
            let Some(listener) = receive_fd(&ours)? else {
                // The child failed before sending; the spawn reports why.
                return Ok(Vec::new());
            };
            Ok(supervise(&listener, &stop_read))
        })?;

    let mut table: Vec<(i32, BorrowedFd<'_>)> = Vec::new();
    for fd in 0..=2 {
        if super::sys::fd_is_open(fd) {
            // SAFETY: `fd` is open (checked just above) and stdio stays open
            // for the duration of this call; the borrow ends with `table`.
            table.push((fd, unsafe { BorrowedFd::borrow_raw(fd) }));
        }
    }
    // The child's end is not in its table: the setup sends the listener on
    // it before the table is placed, and the program never holds it.
    let setup = ObserveSetup {
        socket: theirs.as_raw_fd(),
    };
    let spawned = super::spawn::spawn(
        &super::spawn::SpawnRequest {
            exe: program.exe,
            args: program.args,
            env: program.env,
            table: &table,
        },
        Some(&setup),
    );
    // Our copy of the child's end closes, so a child that died before
    // sending leaves the supervisor with end-of-file.
    drop(table);
    drop(theirs);
    let spawned = match spawned {
        Ok(s) => s,
        Err(e) => {
            drop(stop_write);
            let _ = supervisor.join();
            return Err(e);
        }
    };
    // A signal a process sent to ambit (`kill`) is passed to the program;
    // one from the kernel (a terminal's ^C reaches the whole foreground
    // process group) has reached it already.
    while let Some(got) = blocked.wait_or_exit(spawned.pidfd.as_fd())? {
        if got.from_process {
            // SAFETY: pidfd_send_signal takes integers and a null siginfo
            // (then it behaves like kill); the pidfd is our child's.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    spawned.pidfd.as_raw_fd(),
                    got.signo,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            }
        }
    }
    let exit = wait_exit(spawned.pidfd.as_raw_fd())?;
    // The child is reaped: the supervisor sees the listener hang up once
    // every descendant sharing the filter has been reaped too. A signal
    // meanwhile (^C on a descendant left running) stops it: those
    // descendants' observed calls then fail with ENOSYS.
    if blocked.wait_or_exit(done_read.as_fd())?.is_some() {
        drop(stop_write);
    }
    let events = supervisor
        .join()
        .map_err(|_| io::Error::other("the observation supervisor panicked"))??;
    drop(blocked);
    Ok(Observation { events, exit })
}

/// The signals ambit holds while observing, passing those sent to it to the
/// program.
#[cfg(target_arch = "x86_64")]
const FORWARDED: [i32; 7] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

fn pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are new and ours alone.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// Observation needs the x86_64 system call table.
#[cfg(not(target_arch = "x86_64"))]
pub fn observe(_program: &Program<'_>) -> io::Result<Observation> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "observing a program (ambit learn) is implemented for x86_64 only",
    ))
}

fn socketpair() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` is a writable array of two ints, as socketpair requires.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair succeeded: both descriptors are new and ours alone.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// `CMSG_SPACE(sizeof(int))` on 64-bit Linux: a 16-byte header and the int
/// padded to 8.
const CMSG_SPACE_FD: usize = 24;

/// A control-message buffer aligned for `struct cmsghdr`.
#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_SPACE_FD]);

/// A message of one byte (`iov`) with room for one descriptor (`cmsg`): the
/// shape of both ends of the listener's hand-over. It points into both, so
/// they must outlive its use. Allocates nothing (the child sends with it).
fn fd_message(iov: &mut libc::iovec, cmsg: &mut CmsgBuf) -> libc::msghdr {
    // SAFETY: an all-zero msghdr is a valid (empty) value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    msg.msg_controllen = CMSG_SPACE_FD;
    msg
}

/// Receives one descriptor; `None` on end-of-file (the sender is gone).
fn receive_fd(sock: &std::os::fd::OwnedFd) -> io::Result<Option<std::os::fd::OwnedFd>> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cmsg = CmsgBuf([0; CMSG_SPACE_FD]);
    let mut msg = fd_message(&mut iov, &mut cmsg);
    loop {
        // SAFETY: `msg` points to `iov` (one live byte) and `cmsg` (a live,
        // aligned buffer of msg_controllen bytes) for the whole call.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &raw mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            if super::sys::errno() == libc::EINTR {
                continue;
            }
            return Err(io::Error::last_os_error());
        }
        if n == 0 {
            return Ok(None);
        }
        break;
    }
    // SAFETY: the kernel filled `msg`; CMSG_FIRSTHDR reads its control
    // fields, which point into `cmsg`.
    let hdr = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
    if hdr.is_null() {
        return Err(io::Error::other("the observed child sent no descriptor"));
    }
    // SAFETY: `hdr` is non-null and points into `cmsg`, within
    // msg_controllen, as CMSG_FIRSTHDR guarantees.
    let (level, kind) = unsafe { ((*hdr).cmsg_level, (*hdr).cmsg_type) };
    if level != libc::SOL_SOCKET || kind != libc::SCM_RIGHTS {
        return Err(io::Error::other(
            "the observed child sent an unexpected message",
        ));
    }
    // SAFETY: an SCM_RIGHTS message carries ints in its data; it may be
    // unaligned for an int, hence read_unaligned.
    let fd = unsafe { libc::CMSG_DATA(hdr).cast::<libc::c_int>().read_unaligned() };
    // SAFETY: the kernel installed this descriptor in our table for this
    // message; no one else owns it.
    Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
}

/// Waits for the child (reaping it) and returns how it ended.
fn wait_exit(pidfd: i32) -> io::Result<Exit> {
    let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
    loop {
        // SAFETY: `info` is a writable siginfo_t; P_PIDFD waits on our child.
        let r = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                libc::id_t::try_from(pidfd).unwrap_or_default(),
                info.as_mut_ptr(),
                libc::WEXITED,
            )
        };
        if r == 0 {
            break;
        }
        if super::sys::errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: waitid returned 0, so the kernel filled `info`.
    let info = unsafe { info.assume_init() };
    // SAFETY: for a child's state change the kernel sets si_status.
    let status = unsafe { info.si_status() };
    Ok(if info.si_code == libc::CLD_EXITED {
        Exit::Code(status)
    } else {
        Exit::Signal(status)
    })
}

/// The child's setup: install the notifying filter, send the listener to
/// the parent, close both descriptors. Async-signal-safe: the program is
/// built on the stack, and only system calls follow.
#[cfg(target_arch = "x86_64")]
struct ObserveSetup {
    /// The child's end of the socket pair, at its number in the parent
    /// (every parent descriptor is still open when the setup runs).
    socket: i32,
}

#[cfg(target_arch = "x86_64")]
impl super::spawn::ChildSetup for ObserveSetup {
    fn apply_in_child(&self) -> Result<(), i32> {
        let (prog, n) = filter_program();
        let fprog = SockFprog {
            len: u16::try_from(n).unwrap_or(0),
            filter: prog.as_ptr(),
        };
        let install = || {
            // SAFETY: `fprog` describes `prog`, live on this stack for the
            // call; the kernel copies and validates the program and returns
            // the listener descriptor.
            unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    1usize, // SECCOMP_SET_MODE_FILTER
                    libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                    &raw const fprog,
                )
            }
        };
        let mut listener = install();
        if listener < 0 && super::sys::errno() == libc::EACCES {
            // Without CAP_SYS_ADMIN a filter needs no_new_privs: set-uid
            // programs then run without their privileges (documented).
            super::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)?;
            listener = install();
        }
        if listener < 0 {
            return Err(super::sys::errno());
        }
        let listener = i32::try_from(listener).map_err(|_| libc::EBADF)?;
        send_fd(self.socket, listener)?;
        // SAFETY: both descriptors are this child's own; close takes an int.
        unsafe {
            libc::close(listener);
        }
        Ok(())
    }
}

/// The length of the array [`filter_program`] fills.
#[cfg(target_arch = "x86_64")]
const FILTER_LEN: usize = 64;

/// The observing filter and its length: allow other architectures (i386
/// `int 0x80`), notify each observed number, allow the rest (x32 numbers,
/// with bit 30 set, match none). Built on the stack: the child calls this
/// between `fork` and `exec`.
#[cfg(target_arch = "x86_64")]
fn filter_program() -> ([super::sys::SockFilter; FILTER_LEN], usize) {
    use super::sys::SockFilter;
    const _: () = assert!(4 + 2 * OBSERVED.len() < FILTER_LEN);
    let mut prog = [SockFilter {
        code: 0,
        jt: 0,
        jf: 0,
        k: 0,
    }; FILTER_LEN];
    let mut n = 0;
    let mut push = |code: u16, jt: u8, jf: u8, k: u32| {
        prog[n] = SockFilter { code, jt, jf, k };
        n += 1;
    };
    let audit_x86_64 = u32::from(libc::EM_X86_64) | 0x8000_0000 | 0x4000_0000;
    // seccomp_data: nr at 0, arch at 4.
    push(LD_W_ABS, 0, 0, 4);
    push(JMP_JEQ_K, 1, 0, audit_x86_64);
    push(RET_K, 0, 0, RET_ALLOW);
    push(LD_W_ABS, 0, 0, 0);
    for &(_, nr, _) in OBSERVED {
        push(JMP_JEQ_K, 0, 1, u32::try_from(nr).unwrap_or(u32::MAX));
        push(RET_K, 0, 0, libc::SECCOMP_RET_USER_NOTIF);
    }
    push(RET_K, 0, 0, RET_ALLOW);
    (prog, n)
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const super::sys::SockFilter,
}

const LD_W_ABS: u16 = 0x20;
const JMP_JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;
const RET_ALLOW: u32 = 0x7fff_0000;

/// Sends `fd` over `sock` (`SCM_RIGHTS`), async-signal-safe: stack buffers
/// and one `sendmsg`.
#[cfg(target_arch = "x86_64")]
fn send_fd(sock: i32, fd: i32) -> Result<(), i32> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cmsg = CmsgBuf([0; CMSG_SPACE_FD]);
    let msg = fd_message(&mut iov, &mut cmsg);
    // SAFETY: `msg` describes `cmsg`, a live aligned buffer of
    // CMSG_SPACE(sizeof(int)) bytes, so the first header and its int of data
    // lie within it; then `msg`, `iov` and `cmsg` are live for sendmsg.
    let r = unsafe {
        let hdr = libc::CMSG_FIRSTHDR(&raw const msg);
        (*hdr).cmsg_level = libc::SOL_SOCKET;
        (*hdr).cmsg_type = libc::SCM_RIGHTS;
        (*hdr).cmsg_len = libc::CMSG_LEN(4) as usize;
        libc::CMSG_DATA(hdr)
            .cast::<libc::c_int>()
            .write_unaligned(fd);
        libc::sendmsg(sock, &raw const msg, libc::MSG_NOSIGNAL)
    };
    if r < 0 {
        Err(super::sys::errno())
    } else {
        Ok(())
    }
}

/// The supervisor loop: receive, record, continue, until the listener hangs
/// up (every task sharing the filter is gone).
#[cfg(target_arch = "x86_64")]
fn supervise(listener: &std::os::fd::OwnedFd, stop: &std::os::fd::OwnedFd) -> Vec<Observed> {
    use std::os::fd::AsRawFd;
    let fd = listener.as_raw_fd();
    let mut events = Vec::new();
    loop {
        let mut pfds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a live array of two pollfd structs.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), 2, -1) };
        if r < 0 {
            if super::sys::errno() == libc::EINTR {
                continue;
            }
            break;
        }
        if pfds[1].revents != 0 || pfds[0].revents & libc::POLLIN == 0 {
            // Told to stop, or POLLHUP without POLLIN: no task uses the
            // filter any more.
            break;
        }
        // SAFETY: an all-zero seccomp_notif is what NOTIF_RECV requires.
        let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: NOTIF_RECV writes one seccomp_notif to the live `notif`.
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, &raw mut notif) } < 0 {
            // ENOENT: the task died before we received it.
            continue;
        }
        let recorded = record(fd, &notif);
        let resp = libc::seccomp_notif_resp {
            id: notif.id,
            val: 0,
            error: 0,
            flags: u32::try_from(libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE).unwrap_or(1),
        };
        // SAFETY: NOTIF_SEND reads one live seccomp_notif_resp. A failure
        // (ENOENT: the task died meanwhile) leaves nothing to answer.
        unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &raw const resp) };
        events.extend(recorded);
    }
    events
}

/// Whether notification `id` is still pending (its task alive and blocked).
#[cfg(target_arch = "x86_64")]
fn id_valid(listener: i32, id: u64) -> bool {
    // SAFETY: NOTIF_ID_VALID reads one live u64.
    unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &raw const id) == 0 }
}

/// Turns one notification into events (none when it cannot be read or is
/// not something a policy grants).
#[cfg(target_arch = "x86_64")]
fn record(listener: i32, notif: &libc::seccomp_notif) -> Vec<Observed> {
    let nr = libc::c_long::from(notif.data.nr);
    let Some(&(syscall, _, shape)) = OBSERVED.iter().find(|(_, n, _)| *n == nr) else {
        return Vec::new();
    };
    let pid = notif.pid;
    let args = notif.data.args;
    let task = Task {
        pid,
        unreadable: std::cell::Cell::new(false),
    };
    let mut accesses = Vec::new();
    // A path through one of the caller's descriptors (`/proc/self/fd/N`,
    // `/dev/stdin`) names the file the descriptor is open on, which is what
    // Landlock checks; another path into a process's /proc entry is
    // recorded as named: resolved here it would name the supervisor's own.
    let mut path_access = |p: PathBuf, f: &dyn Fn(&std::path::Path) -> Option<Access>| {
        if let Some(fd) = fd_link(&p, pid) {
            match task.fd_path(fd).filter(|t| t.is_absolute()) {
                Some(target) => accesses.extend(f(&target)),
                None => accesses.push(Access::ProcSelf { path: p }),
            }
        } else if let Some(path) = proc_self(&p) {
            accesses.push(Access::ProcSelf { path });
        } else {
            accesses.extend(f(&p));
        }
    };
    match shape {
        Shape::Open { dirfd, path, flags } => {
            let flags = flags.map_or(0, |i| args[i]);
            if let Some(p) = task.path(dirfd.map(|i| args[i]), args[path], false) {
                path_access(p, &|p| open_access(p, flags));
            }
        }
        Shape::Openat2 => {
            let how = task.read_bytes(args[2], 8);
            let flags = how.map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])));
            if let Some(p) = task.path(Some(args[0]), args[1], false) {
                path_access(p, &|p| open_access(p, flags));
            }
        }
        Shape::Creat => {
            if let Some(p) = task.path(None, args[0], false) {
                let flags = u64::try_from(libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC);
                path_access(p, &|p| open_access(p, flags.unwrap_or(0)));
            }
        }
        Shape::Entry { dirfd, path } => {
            let (role, second) = entry_roles(syscall);
            if let Some(p) = task.path(dirfd.map(|i| args[i]), args[path], false) {
                path_access(p, &|p| Some(entry_access(p, role)));
            }
            if let Some((dirfd, path, role)) = second
                && let Some(p) = task.path(dirfd.map(|i| args[i]), args[path], false)
            {
                path_access(p, &|p| Some(entry_access(p, role)));
            }
        }
        Shape::Truncate => {
            if let Some(p) = task.path(None, args[0], false) {
                path_access(p, &|p| Some(Access::Write { path: canonical(p) }));
            }
        }
        Shape::Exec { dirfd, path } => {
            let empty = dirfd.is_some() && args[4] & (libc::AT_EMPTY_PATH as u64) != 0;
            if let Some(p) = task.path(dirfd.map(|i| args[i]), args[path], empty) {
                if let Some(interp) = interpreter(&canonical(&p)) {
                    path_access(interp, &|p| Some(exec_access(p)));
                }
                path_access(p, &|p| Some(exec_access(p)));
            }
        }
        Shape::Connect | Shape::Bind => {
            let len = usize::try_from(args[2]).unwrap_or(0).min(128);
            if let Some(raw) = task.read_bytes(args[1], len) {
                let sockfd = i32::try_from(args[0]).unwrap_or(-1);
                accesses.extend(socket_access(&task, sockfd, &raw, shape == Shape::Connect));
            }
        }
    }
    // A call whose arguments could not be read (ptrace restrictions, a bad
    // pointer) is counted, so a narrower policy does not pass unnoticed.
    if accesses.is_empty() && task.unreadable.get() {
        accesses.push(Access::Unreadable);
    }
    // The memory read above belonged to the task only if it is still
    // waiting on this very notification (it did not die, its pid was not
    // reused).
    if !id_valid(listener, notif.id) {
        return Vec::new();
    }
    accesses
        .into_iter()
        .map(|access| Observed {
            syscall,
            pid,
            access,
        })
        .collect()
}

/// The access an open with `flags` of `path` makes; `None` for an `O_PATH`
/// open, which opens nothing Landlock checks (a later call through it names
/// its own path).
fn open_access(path: &std::path::Path, flags: u64) -> Option<Access> {
    let flags = i32::try_from(flags & 0xffff_ffff).unwrap_or(0);
    if flags & libc::O_PATH != 0 {
        return None;
    }
    let canon = canonical(path);
    let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
    let creates = flags & libc::O_CREAT != 0;
    let exclusive = creates && flags & libc::O_EXCL != 0;
    Some(match std::fs::metadata(&canon) {
        Ok(_) if exclusive => Access::Exists { path: canon },
        Ok(_) if writes => Access::Write { path: canon },
        Ok(m) => Access::Read {
            dir: m.is_dir(),
            path: canon,
        },
        Err(_) if creates => Access::Modify {
            path: entry_path(path),
        },
        Err(_) => Access::Missing { path: canon },
    })
}

/// The access an exec of `path` makes: a shell trying each `PATH` entry
/// in turn makes execs of files that do not exist (`ENOENT`, also inside a
/// sandbox).
fn exec_access(path: &std::path::Path) -> Access {
    let path = canonical(path);
    if std::fs::metadata(&path).is_ok() {
        Access::Exec { path }
    } else {
        Access::Missing { path }
    }
}

/// The socket access of a `connect`/`bind` with address bytes `raw`.
#[cfg(target_arch = "x86_64")]
fn socket_access(task: &Task, sockfd: i32, raw: &[u8], connect: bool) -> Option<Access> {
    let family = i32::from(u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]));
    let port = || u16::from_be_bytes([raw[2], raw[3]]);
    let addr = match family {
        libc::AF_INET if raw.len() >= 8 => {
            let ip = std::net::Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
            SocketAddr::from((ip, port()))
        }
        libc::AF_INET6 if raw.len() >= 24 => {
            let bytes: [u8; 16] = raw[8..24].try_into().ok()?;
            SocketAddr::from((std::net::Ipv6Addr::from(bytes), port()))
        }
        libc::AF_UNIX if raw.len() > 2 => {
            let name = &raw[2..];
            let path = if name[0] == 0 {
                // Abstract: no file, named with a leading `@`.
                let end = name[1..]
                    .iter()
                    .position(|b| *b == 0)
                    .map_or(name.len(), |e| e + 1);
                PathBuf::from(format!("@{}", String::from_utf8_lossy(&name[1..end])))
            } else {
                let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
                let p = PathBuf::from(std::ffi::OsStr::from_encoded_bytes_checked(&name[..end])?);
                let p = if p.is_absolute() {
                    p
                } else {
                    task.cwd()?.join(p)
                };
                canonical(&p)
            };
            return Some(if connect {
                Access::UnixConnect { path }
            } else if path.as_os_str().as_encoded_bytes().first() == Some(&b'@') {
                return None;
            } else {
                // Binding a path creates the socket file in its directory.
                Access::Modify { path }
            });
        }
        _ => return None,
    };
    let stream = task.socket_is_stream(sockfd);
    Some(if connect {
        Access::Connect { addr, stream }
    } else {
        Access::Bind { addr, stream }
    })
}

/// `OsStr::from_encoded_bytes_checked`: Unix paths are bytes.
trait FromBytes {
    fn from_encoded_bytes_checked(bytes: &[u8]) -> Option<&std::ffi::OsStr>;
}

impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_checked(bytes: &[u8]) -> Option<&std::ffi::OsStr> {
        use std::os::unix::ffi::OsStrExt;
        Some(std::ffi::OsStr::from_bytes(bytes))
    }
}

/// An observed task, addressed by its id for `/proc` and `process_vm_readv`
/// while it is blocked in the notified call.
struct Task {
    pid: u32,
    /// Set when reading the task's memory failed.
    unreadable: std::cell::Cell<bool>,
}

impl Task {
    /// Reads `len` bytes at `addr` in the task's memory.
    fn read_bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: len,
        };
        let remote = libc::iovec {
            iov_base: usize::try_from(addr).ok()? as *mut libc::c_void,
            iov_len: len,
        };
        // SAFETY: `local` describes `buf`, live and `len` bytes long; the
        // remote range is only read by the kernel, in the other process.
        let n = unsafe {
            libc::process_vm_readv(
                i32::try_from(self.pid).ok()?,
                &raw const local,
                1,
                &raw const remote,
                1,
                0,
            )
        };
        let whole = usize::try_from(n).is_ok_and(|n| n == len);
        if !whole {
            self.unreadable.set(true);
        }
        whole.then_some(buf)
    }

    /// Reads a NUL-terminated string at `addr` (at most `PATH_MAX` bytes),
    /// page by page so an unmapped page after the string does not fail it.
    fn read_cstr(&self, addr: u64) -> Option<Vec<u8>> {
        const PAGE: u64 = 4096;
        let mut out = Vec::new();
        let mut at = addr;
        while out.len() < 4096 {
            let chunk = usize::try_from(PAGE - at % PAGE).ok()?;
            let bytes = self.read_bytes(at, chunk)?;
            if let Some(end) = bytes.iter().position(|b| *b == 0) {
                out.extend_from_slice(&bytes[..end]);
                return Some(out);
            }
            out.extend_from_slice(&bytes);
            at += chunk as u64;
        }
        None
    }

    fn cwd(&self) -> Option<PathBuf> {
        std::fs::read_link(format!("/proc/{}/cwd", self.pid)).ok()
    }

    fn fd_path(&self, fd: i32) -> Option<PathBuf> {
        std::fs::read_link(format!("/proc/{}/fd/{fd}", self.pid)).ok()
    }

    /// The absolute path a `(dirfd, path)` pair names: relative paths
    /// resolved against the directory descriptor or the working directory.
    /// `empty_ok`: an empty path names the descriptor itself
    /// (`AT_EMPTY_PATH`).
    fn path(&self, dirfd: Option<u64>, addr: u64, empty_ok: bool) -> Option<PathBuf> {
        use std::os::unix::ffi::OsStringExt;
        let bytes = self.read_cstr(addr)?;
        #[allow(clippy::cast_possible_truncation)]
        let dirfd = dirfd.map(|d| d as i32);
        if bytes.is_empty() {
            return if empty_ok { self.fd_path(dirfd?) } else { None };
        }
        let path = PathBuf::from(std::ffi::OsString::from_vec(bytes));
        if path.is_absolute() {
            return Some(path);
        }
        let base = match dirfd {
            None | Some(libc::AT_FDCWD) => self.cwd()?,
            Some(fd) => self.fd_path(fd)?,
        };
        Some(base.join(path))
    }

    /// Whether the task's socket `fd` is a stream socket (a duplicate taken
    /// with `pidfd_getfd`, then `SO_TYPE`).
    fn socket_is_stream(&self, fd: i32) -> Option<bool> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        // PIDFD_THREAD (O_EXCL): the notified id may be a thread's.
        // SAFETY: pidfd_open takes integers and returns a new descriptor.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, libc::O_EXCL) };
        let pidfd = i32::try_from(pidfd).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: a new descriptor, ours alone.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: pidfd_getfd takes integers and returns a new descriptor.
        let dup = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
        let dup = i32::try_from(dup).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: a new descriptor, ours alone.
        let dup = unsafe { OwnedFd::from_raw_fd(dup) };
        let mut kind: libc::c_int = 0;
        let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).ok()?;
        // SAFETY: `kind` and `len` are live and sized as getsockopt expects.
        let r = unsafe {
            libc::getsockopt(
                dup.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&raw mut kind).cast(),
                &raw mut len,
            )
        };
        (r == 0).then_some(kind == libc::SOCK_STREAM)
    }
}

/// The caller's descriptor a path reopens: `/proc/self/fd/N` (also
/// `thread-self` or the caller's own id), `/dev/fd/N`, `/dev/stdin`,
/// `/dev/stdout`, `/dev/stderr`.
fn fd_link(path: &std::path::Path, pid: u32) -> Option<i32> {
    let s = path.to_str()?;
    match s {
        "/dev/stdin" => return Some(0),
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        _ => {}
    }
    let n = if let Some(n) = s.strip_prefix("/dev/fd/") {
        n
    } else {
        let (who, rest) = s.strip_prefix("/proc/")?.split_once('/')?;
        if who != "self" && who != "thread-self" && who != pid.to_string() {
            return None;
        }
        rest.strip_prefix("fd/")?
    };
    n.parse().ok()
}

/// `/proc/self/...`, `/proc/thread-self/...` and `/proc/<digits>/...` as
/// `/proc/self/...`: paths into a process's own `/proc` entry.
fn proc_self(path: &std::path::Path) -> Option<PathBuf> {
    let rest = path.strip_prefix("/proc").ok()?;
    let mut parts = rest.components();
    let first = parts.next()?.as_os_str().to_str()?;
    if first == "self" || first == "thread-self" || first.bytes().all(|b| b.is_ascii_digit()) {
        Some(PathBuf::from("/proc/self").join(parts.as_path()))
    } else {
        None
    }
}

/// The path with every symbolic link resolved (as the kernel resolves it),
/// or, when it does not exist, its resolved parent joined with the last
/// component, or the path itself.
fn canonical(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| entry_path(path))
}

/// An entry in a directory: the directory resolved, the last component as
/// named (a symlink being removed or created is not followed).
fn entry_path(path: &std::path::Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .unwrap_or_else(|_| parent.to_path_buf())
            .join(name),
        _ => path.to_path_buf(),
    }
}

/// The interpreter named by a file's `#!` line, which the kernel executes
/// without a system call of its own.
fn interpreter(exe: &std::path::Path) -> Option<PathBuf> {
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    let mut head = [0u8; 256];
    let mut f = std::fs::File::open(exe).ok()?;
    let n = f.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    let word = line
        .split(|b| *b == b' ' || *b == b'\t')
        .find(|w| !w.is_empty())?;
    let p = PathBuf::from(std::ffi::OsStr::from_bytes(word));
    p.is_absolute().then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_filter_notifies_exactly_the_observed_calls() {
        use super::super::seccomp::{Arch, bpf};
        let (prog, n) = filter_program();
        let native = Arch::X86_64.audit();
        for &(name, nr, _) in OBSERVED {
            // The names are the kernel's: the syscalls crate agrees.
            assert_eq!(
                Arch::X86_64.number(name),
                Some(u32::try_from(nr).unwrap()),
                "{name}"
            );
            let verdict = bpf::run(&prog[..n], native, u32::try_from(nr).unwrap(), [0; 6]);
            assert_eq!(verdict, Ok(libc::SECCOMP_RET_USER_NOTIF), "{name}");
        }
        for name in ["read", "write", "close", "mmap", "newfstatat", "getdents64"] {
            let nr = Arch::X86_64.number(name).unwrap();
            assert_eq!(
                bpf::run(&prog[..n], native, nr, [0; 6]),
                Ok(RET_ALLOW),
                "{name}"
            );
        }
        // x32 (bit 30) and i386 calls are let through unobserved.
        let openat = u32::try_from(libc::SYS_openat).unwrap();
        assert_eq!(
            bpf::run(&prog[..n], native, openat | 0x4000_0000, [0; 6]),
            Ok(RET_ALLOW)
        );
        let i386 = u32::from(libc::EM_386) | 0x4000_0000;
        assert_eq!(bpf::run(&prog[..n], i386, 5, [0; 6]), Ok(RET_ALLOW));
    }

    #[test]
    fn descriptor_links_are_recognised() {
        let fd = |s: &str| fd_link(std::path::Path::new(s), 42);
        assert_eq!(fd("/proc/self/fd/3"), Some(3));
        assert_eq!(fd("/proc/thread-self/fd/0"), Some(0));
        assert_eq!(fd("/proc/42/fd/7"), Some(7));
        assert_eq!(fd("/proc/43/fd/7"), None);
        assert_eq!(fd("/dev/fd/5"), Some(5));
        assert_eq!(fd("/dev/stdin"), Some(0));
        assert_eq!(fd("/dev/stderr"), Some(2));
        assert_eq!(fd("/proc/self/fdinfo/3"), None);
        assert_eq!(fd("/proc/self/fd/3/x"), None);
        assert_eq!(fd("/dev/null"), None);
    }

    #[test]
    fn proc_paths_of_a_process_are_self() {
        assert_eq!(
            proc_self(std::path::Path::new("/proc/1234/status")),
            Some(PathBuf::from("/proc/self/status"))
        );
        assert_eq!(
            proc_self(std::path::Path::new("/proc/thread-self/fd/3")),
            Some(PathBuf::from("/proc/self/fd/3"))
        );
        assert_eq!(proc_self(std::path::Path::new("/proc/cpuinfo")), None);
        assert_eq!(proc_self(std::path::Path::new("/etc/passwd")), None);
    }

    #[test]
    fn an_open_is_classified_by_its_flags_and_the_file() {
        let dir = std::env::temp_dir();
        let canon = std::fs::canonicalize(&dir).unwrap();
        assert_eq!(
            open_access(
                &dir,
                u64::try_from(libc::O_RDONLY | libc::O_DIRECTORY).unwrap()
            ),
            Some(Access::Read {
                path: canon.clone(),
                dir: true
            })
        );
        let missing = dir.join("ambit-observe-no-such-file");
        assert!(matches!(
            open_access(&missing, 0),
            Some(Access::Missing { .. })
        ));
        assert_eq!(
            open_access(&missing, u64::try_from(libc::O_PATH).unwrap()),
            None
        );
        assert_eq!(
            open_access(
                &missing,
                u64::try_from(libc::O_CREAT | libc::O_WRONLY).unwrap()
            ),
            Some(Access::Modify {
                path: canon.join("ambit-observe-no-such-file")
            })
        );
    }
}
