//! Raw attempts for the escape corpus (`tests/`): each makes one system call
//! that safe Rust cannot express and returns the kernel's answer, as the
//! call's return value or its errno. Not part of the public API: every
//! function is sound to call (its arguments are built here, and pointers it
//! passes point to live memory of the size the kernel expects), but none is
//! something a program should do.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::sys::errno;

/// A call's result: its return value, or the errno.
pub type Answer = Result<i64, i32>;

fn answer(ret: libc::c_long) -> Answer {
    if ret < 0 { Err(errno()) } else { Ok(ret) }
}

fn owned(ret: Answer) -> Result<OwnedFd, i32> {
    let fd = RawFd::try_from(ret?).map_err(|_| libc::EOVERFLOW)?;
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `getpid` through the x32 ABI (the syscall number with `__X32_SYSCALL_BIT`).
#[cfg(target_arch = "x86_64")]
pub fn x32_getpid() -> Answer {
    // SAFETY: getpid takes no arguments and touches no memory.
    answer(unsafe { libc::syscall(libc::SYS_getpid | 0x4000_0000) })
}

/// `getpid` through the i386 ABI (`int 0x80`, number 20): a foreign
/// architecture as far as seccomp is concerned.
#[cfg(target_arch = "x86_64")]
pub fn int80_getpid() -> Answer {
    let mut ret: i64 = 20;
    // SAFETY: i386 getpid (20) takes no arguments and touches no memory; int
    // 0x80 clobbers only eax (and r8-r11 are preserved by the kernel).
    unsafe {
        std::arch::asm!("int 0x80", inlateout("rax") ret, options(nostack));
    }
    // The i386 ABI returns a 32-bit value.
    #[allow(clippy::cast_possible_truncation)]
    let ret = i64::from(ret as i32);
    if ret < 0 {
        Err(i32::try_from(-ret).unwrap_or(libc::EIO))
    } else {
        Ok(ret)
    }
}

/// `ptrace(PTRACE_SEIZE, pid)`: attach without stopping the tracee (it is
/// detached when this process exits).
pub fn ptrace_seize(pid: libc::pid_t) -> Answer {
    // SAFETY: PTRACE_SEIZE with null addr/data reads no memory of ours.
    answer(unsafe {
        libc::ptrace(
            libc::PTRACE_SEIZE,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_void>(),
        )
    })
}

/// `process_vm_readv` of `len` (≤ 64) bytes at `addr` in process `pid`.
pub fn process_vm_read(pid: libc::pid_t, addr: usize, len: usize) -> Answer {
    let mut buf = [0u8; 64];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len.min(buf.len()),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: len.min(buf.len()),
    };
    // SAFETY: the local iovec points to `buf`, live and large enough; the
    // remote one is only interpreted in the other process.
    answer(
        unsafe { libc::process_vm_readv(pid, &raw const local, 1, &raw const remote, 1, 0) }
            as libc::c_long,
    )
}

/// `mount(source, target, fstype, flags, NULL)`.
pub fn mount(source: &CStr, target: &CStr, fstype: &CStr, flags: libc::c_ulong) -> Answer {
    // SAFETY: the strings are NUL-terminated and live; data is NULL.
    answer(
        unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                flags,
                std::ptr::null(),
            )
        }
        .into(),
    )
}

/// `chroot(path)`.
pub fn chroot(path: &CStr) -> Answer {
    // SAFETY: `path` is NUL-terminated and live.
    answer(unsafe { libc::chroot(path.as_ptr()) }.into())
}

/// `pivot_root(new_root, put_old)`.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> Answer {
    // SAFETY: both strings are NUL-terminated and live.
    answer(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
}

/// `unshare(flags)`. Only call it in a single-threaded process.
pub fn unshare(flags: libc::c_int) -> Answer {
    // SAFETY: integer argument; the probe process is single-threaded.
    answer(unsafe { libc::unshare(flags) }.into())
}

/// `setns(fd, nstype)`.
pub fn setns(fd: BorrowedFd<'_>, nstype: libc::c_int) -> Answer {
    // SAFETY: integer arguments; `fd` is open.
    answer(unsafe { libc::setns(fd.as_raw_fd(), nstype) }.into())
}

/// `bpf(BPF_MAP_CREATE)` of a one-entry array map.
pub fn bpf_map_create() -> Result<OwnedFd, i32> {
    // union bpf_attr, map-create part: map_type, key_size, value_size, max_entries.
    let mut attr = [0u32; 32];
    attr[0] = 2; // BPF_MAP_TYPE_ARRAY
    attr[1] = 4;
    attr[2] = 4;
    attr[3] = 1;
    // SAFETY: `attr` is live, zero-filled beyond the four fields, and its size
    // is passed; the kernel only reads it.
    owned(answer(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            0,
            attr.as_ptr(),
            std::mem::size_of_val(&attr),
        )
    }))
}

/// `perf_event_open` of a software task-clock counter on this process.
pub fn perf_event_open() -> Result<OwnedFd, i32> {
    // struct perf_event_attr (VER0, 64 bytes): type u32, size u32, config u64, ...
    let mut attr = [0u64; 16];
    attr[0] = 1 | (64 << 32); // PERF_TYPE_SOFTWARE, size 64
    attr[1] = 1; // PERF_COUNT_SW_TASK_CLOCK
    attr[5] = 1 << 0; // disabled
    // SAFETY: `attr` is live and 128 bytes, more than the 64 its size field
    // declares; the kernel only reads it.
    owned(answer(unsafe {
        libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), 0, -1, -1, 0)
    }))
}

/// `userfaultfd(O_CLOEXEC)`.
pub fn userfaultfd() -> Result<OwnedFd, i32> {
    // SAFETY: integer argument.
    owned(answer(unsafe {
        libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC)
    }))
}

/// `keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, create = 1)`.
pub fn keyctl_process_keyring() -> Answer {
    // SAFETY: integer arguments.
    answer(unsafe { libc::syscall(libc::SYS_keyctl, 0, -2, 1) })
}

/// `io_uring_setup(4, params)`.
pub fn io_uring_setup() -> Result<OwnedFd, i32> {
    let mut params = [0u32; 30]; // struct io_uring_params is 120 bytes
    // SAFETY: `params` is live, writable and 120 bytes; the kernel reads the
    // flags and writes the offsets.
    owned(answer(unsafe {
        libc::syscall(libc::SYS_io_uring_setup, 4, params.as_mut_ptr())
    }))
}

/// `name_to_handle_at(AT_FDCWD, path)`: the handle bytes (type, then data).
pub fn name_to_handle(path: &CStr) -> Result<Vec<u8>, i32> {
    // struct file_handle { u32 handle_bytes; i32 handle_type; u8 f_handle[128] }
    let mut buf = [0u32; 34];
    buf[0] = 128;
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `buf` is a live, writable file_handle with room for 128 bytes
    // of handle, as its first field says; mount_id is a live int.
    answer(unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            libc::AT_FDCWD,
            path.as_ptr(),
            buf.as_mut_ptr(),
            &raw mut mount_id,
            0,
        )
    })?;
    Ok(buf.iter().flat_map(|w| w.to_ne_bytes()).collect())
}

/// `open_by_handle_at(mount_fd, handle, O_RDONLY)` with bytes from [`name_to_handle`].
pub fn open_by_handle(mount_fd: BorrowedFd<'_>, handle: &[u8]) -> Result<OwnedFd, i32> {
    let mut buf = [0u32; 34];
    for (i, chunk) in handle.chunks(4).take(buf.len()).enumerate() {
        let mut w = [0u8; 4];
        w[..chunk.len()].copy_from_slice(chunk);
        buf[i] = u32::from_ne_bytes(w);
    }
    buf[0] = buf[0].min(128);
    // SAFETY: `buf` is a live file_handle whose handle_bytes (≤ 128) fits it.
    owned(answer(unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            mount_fd.as_raw_fd(),
            buf.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    }))
}

/// `capset`: tries to make the capabilities in `mask` effective and
/// permitted (inheritable cleared).
pub fn capset_all(mask: u64) -> Answer {
    let mut header = [0x2008_0522u32, 0]; // _LINUX_CAPABILITY_VERSION_3, pid 0
    #[allow(clippy::cast_possible_truncation)]
    let (lo, hi) = (mask as u32, (mask >> 32) as u32);
    let data = [lo, lo, 0, hi, hi, 0];
    // SAFETY: V3 header and two data structs (six u32), live; the kernel reads them.
    answer(unsafe { libc::syscall(libc::SYS_capset, header.as_mut_ptr(), data.as_ptr()) })
}

/// The effective capability set (both words), via `capget`.
pub fn effective_caps() -> Result<u64, i32> {
    let mut header = [0x2008_0522u32, 0];
    let mut data = [0u32; 6];
    // SAFETY: V3 header and room for two data structs, live and writable.
    answer(unsafe { libc::syscall(libc::SYS_capget, header.as_mut_ptr(), data.as_mut_ptr()) })?;
    Ok(u64::from(data[0]) | (u64::from(data[3]) << 32))
}

/// The permitted capability set (both words), via `capget`.
pub fn permitted_caps() -> Result<u64, i32> {
    let mut header = [0x2008_0522u32, 0];
    let mut data = [0u32; 6];
    // SAFETY: V3 header and room for two data structs, live and writable.
    answer(unsafe { libc::syscall(libc::SYS_capget, header.as_mut_ptr(), data.as_mut_ptr()) })?;
    Ok(u64::from(data[1]) | (u64::from(data[4]) << 32))
}

/// The raw `setuid` syscall (this thread only, unlike libc's).
pub fn setuid(uid: libc::uid_t) -> Answer {
    // SAFETY: integer argument.
    answer(unsafe { libc::syscall(libc::SYS_setuid, uid) })
}

/// `prctl(PR_SET_NO_NEW_PRIVS, value)`.
pub fn set_no_new_privs(value: libc::c_ulong) -> Answer {
    super::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, value, 0, 0, 0).map(i64::from)
}

/// `prctl(PR_GET_NO_NEW_PRIVS)`.
pub fn no_new_privs() -> Answer {
    super::sys::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0).map(i64::from)
}

/// `socket(domain, ty, protocol)`.
pub fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> Result<OwnedFd, i32> {
    // SAFETY: integer arguments.
    owned(answer(
        unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) }.into(),
    ))
}

/// `kill(pid, sig)`.
pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> Answer {
    // SAFETY: integer arguments.
    answer(unsafe { libc::kill(pid, sig) }.into())
}

/// `execveat(fd, "", [name], [], AT_EMPTY_PATH)`: returns only on failure.
pub fn execveat_fd(fd: BorrowedFd<'_>) -> i32 {
    let name = c"probe-exec";
    let argv = [name.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];
    // SAFETY: the path, argv and envp are NUL-terminated and live; on
    // success the process image is replaced and nothing here is used again.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    errno()
}

/// `execve(path, [path], [])`: returns only on failure.
pub fn execve(path: &CStr) -> i32 {
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];
    // SAFETY: as for `execveat_fd`.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    errno()
}

/// `getppid` as a raw syscall (the benchmark's loop body).
pub fn getppid() -> i64 {
    // SAFETY: no arguments, no memory.
    unsafe { libc::syscall(libc::SYS_getppid) }
}

/// Installs a one-instruction filter (`return ALLOW`): the seccomp floor of
/// the benchmarks. Sets no_new_privs.
pub fn install_allow_all_filter() -> Result<(), i32> {
    super::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)?;
    super::sys::seccomp_set_filter(
        &[super::sys::SockFilter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0x7fff_0000,
        }],
        0,
    )
}

/// Restricts this thread with a one-rule Landlock ruleset (`READ_FILE |
/// READ_DIR` beneath `dir`, every access of the ABI handled): the Landlock
/// floor of the benchmarks. Sets no_new_privs.
pub fn restrict_one_rule(dir: BorrowedFd<'_>) -> Result<(), i32> {
    use super::{landlock, sys};
    let abi = sys::landlock_abi();
    let attr = sys::RulesetAttr {
        handled_access_fs: landlock::fs_known(abi),
        handled_access_net: 0,
        scoped: 0,
    };
    let ruleset = sys::landlock_create_ruleset(&attr, abi)?;
    sys::landlock_add_path_rule(
        &ruleset,
        &sys::PathBeneathAttr {
            allowed_access: landlock::READ_FILE | landlock::READ_DIR,
            parent_fd: dir.as_raw_fd(),
        },
    )?;
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)?;
    sys::landlock_restrict_self(&ruleset)
}

/// Whether `fd` is an open descriptor.
pub fn fd_is_open(fd: RawFd) -> bool {
    super::sys::fd_is_open(fd)
}

/// `prlimit64(pid, RLIMIT_NOFILE, NULL, &old)`: reads (never sets) the limit
/// of process `pid` (0: this one).
pub fn prlimit_nofile(pid: libc::pid_t) -> Answer {
    let mut old = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: the new-limit pointer is NULL (nothing is set); `old` is a live,
    // writable rlimit64.
    let ret = unsafe { libc::prlimit64(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &raw mut old) };
    answer(ret.into())?;
    i64::try_from(old.rlim_cur).map_err(|_| libc::EOVERFLOW)
}

/// Whether capability `cap` is in the bounding set (`PR_CAPBSET_READ`).
pub fn in_bounding_set(cap: u32) -> Answer {
    super::sys::prctl(libc::PR_CAPBSET_READ, cap.into(), 0, 0, 0).map(i64::from)
}

fn sockaddr_loopback(port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::sa_family_t::try_from(libc::AF_INET).unwrap_or(2),
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    }
}

// 16 bytes: fits.
#[allow(clippy::cast_possible_truncation)]
const SOCKADDR_IN_LEN: libc::socklen_t =
    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;

/// `sendto(fd, "x", 1, flags, 127.0.0.1:port)`.
pub fn sendto_loopback(fd: BorrowedFd<'_>, flags: libc::c_int, port: u16) -> Answer {
    let addr = sockaddr_loopback(port);
    // SAFETY: the one-byte buffer and the sockaddr_in are live for the call,
    // and the length passed is the sockaddr's size.
    answer(
        unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                b"x".as_ptr().cast(),
                1,
                flags,
                (&raw const addr).cast(),
                SOCKADDR_IN_LEN,
            )
        }
        .try_into()
        .unwrap_or(-1),
    )
}

/// `sendmsg(fd, {name: 127.0.0.1:port, iov: "x"}, flags)`.
pub fn sendmsg_loopback(fd: BorrowedFd<'_>, flags: libc::c_int, port: u16) -> Answer {
    let mut addr = sockaddr_loopback(port);
    let mut byte = *b"x";
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut addr).cast();
    msg.msg_namelen = SOCKADDR_IN_LEN;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: the header points to the live sockaddr, iovec and byte above.
    answer(
        unsafe { libc::sendmsg(fd.as_raw_fd(), &raw const msg, flags) }
            .try_into()
            .unwrap_or(-1),
    )
}

/// `connect(fd, 127.0.0.1:port)`.
pub fn connect_loopback(fd: BorrowedFd<'_>, port: u16) -> Answer {
    let addr = sockaddr_loopback(port);
    // SAFETY: the sockaddr_in is live for the call and its size is passed.
    answer(
        unsafe { libc::connect(fd.as_raw_fd(), (&raw const addr).cast(), SOCKADDR_IN_LEN) }.into(),
    )
}

/// `setsockopt(fd, level, name, &value, sizeof(int))`.
pub fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> Answer {
    // SAFETY: the int is live for the call and its size is passed.
    answer(
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                level,
                name,
                (&raw const value).cast(),
                libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4),
            )
        }
        .into(),
    )
}

/// `prctl(PR_SET_SECUREBITS, bits)`.
pub fn set_securebits(bits: libc::c_ulong) -> Answer {
    // SAFETY: integer arguments.
    answer(unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0) }.into())
}

/// Stacks `layers` Landlock layers on this thread, each handling only
/// `MAKE_CHAR` (so nothing the tests do is denied by them). Without
/// no_new_privs: needs `CAP_SYS_ADMIN`, which the tests' root has.
pub fn stack_landlock_layers(layers: usize) -> Result<(), i32> {
    use super::{landlock, sys};
    let abi = sys::landlock_abi();
    for _ in 0..layers {
        let attr = sys::RulesetAttr {
            handled_access_fs: landlock::MAKE_CHAR,
            handled_access_net: 0,
            scoped: 0,
        };
        let ruleset = sys::landlock_create_ruleset(&attr, abi)?;
        sys::landlock_restrict_self(&ruleset)?;
    }
    Ok(())
}

/// Stacks allow-all seccomp filters: two of the longest classic program
/// (4096 instructions), or, with `until_full`, as many as fit, shorter and
/// shorter, until not even a one-instruction filter fits in the kernel's
/// budget for all stacked filters (`MAX_INSNS_PER_PATH`, counted in the
/// converted program's instructions plus 4 per filter, so only the kernel
/// knows the exact count: it says `ENOMEM`). Without no_new_privs: needs
/// `CAP_SYS_ADMIN`.
pub fn stack_seccomp_filters(until_full: bool) -> Result<usize, i32> {
    let allow = super::sys::SockFilter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0x7fff_0000,
    };
    let mut len = 4096;
    let mut stacked = 0;
    loop {
        match super::sys::seccomp_set_filter(&vec![allow; len], 0) {
            Ok(()) => stacked += 1,
            Err(libc::ENOMEM) if until_full && len > 1 => len /= 2,
            Err(libc::ENOMEM) if until_full => return Ok(stacked),
            Err(e) => return Err(e),
        }
        if !until_full && stacked == 2 {
            return Ok(stacked);
        }
    }
}

/// `fallocate(fd, mode, offset, len)`.
pub fn fallocate(fd: BorrowedFd<'_>, mode: libc::c_int, offset: i64, len: i64) -> Answer {
    // SAFETY: integer arguments; the descriptor is borrowed for the call.
    answer(unsafe { libc::fallocate(fd.as_raw_fd(), mode, offset, len) }.into())
}

/// `fcntl(fd, cmd, arg)` with an integer argument (`F_SETLEASE`, `F_GETLEASE`...).
pub fn fcntl_int(fd: BorrowedFd<'_>, cmd: libc::c_int, arg: libc::c_int) -> Answer {
    // SAFETY: integer arguments; the descriptor is borrowed for the call.
    answer(unsafe { libc::fcntl(fd.as_raw_fd(), cmd, arg) }.into())
}

/// `accept4(fd, NULL, NULL, SOCK_CLOEXEC)`.
pub fn accept4(fd: BorrowedFd<'_>) -> Result<OwnedFd, i32> {
    // SAFETY: null address pointers are allowed (the peer address is not wanted).
    owned(answer(
        unsafe {
            libc::accept4(
                fd.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        }
        .into(),
    ))
}

/// `sendmsg(fd, {1 byte}, MSG_DONTWAIT | MSG_NOSIGNAL)`.
pub fn sendmsg_byte(fd: BorrowedFd<'_>) -> Answer {
    let mut byte = [b'x'];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: zeroed msghdr is valid (no name, no control); the iovec points
    // to a live byte.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: `msg` and what it points to are live for the call.
    answer(
        unsafe {
            libc::sendmsg(
                fd.as_raw_fd(),
                &raw const msg,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        }
        .try_into()
        .unwrap_or(-1),
    )
}

/// `recvmsg(fd, {1 byte}, MSG_DONTWAIT)`.
pub fn recvmsg_byte(fd: BorrowedFd<'_>) -> Answer {
    let mut byte = [0u8];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: as in `sendmsg_byte`.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: `msg` and what it points to are live for the call.
    answer(
        unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, libc::MSG_DONTWAIT) }
            .try_into()
            .unwrap_or(-1),
    )
}

/// `epoll_create1(EPOLL_CLOEXEC)`.
pub fn epoll_create() -> Result<OwnedFd, i32> {
    // SAFETY: integer argument.
    owned(answer(
        unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }.into(),
    ))
}

/// `epoll_wait(epfd, events[1], 1, 0)`: returns at once.
pub fn epoll_wait_now(epfd: BorrowedFd<'_>) -> Answer {
    let mut event = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: one event slot is live and its count is passed.
    answer(unsafe { libc::epoll_wait(epfd.as_raw_fd(), &raw mut event, 1, 0) }.into())
}

/// `sendfile(out, in, &offset 0, count)`.
pub fn sendfile(out: BorrowedFd<'_>, input: BorrowedFd<'_>, count: usize) -> Answer {
    let mut offset: libc::off_t = 0;
    // SAFETY: the offset is live for the call; descriptors are borrowed.
    answer(
        unsafe { libc::sendfile(out.as_raw_fd(), input.as_raw_fd(), &raw mut offset, count) }
            .try_into()
            .unwrap_or(-1),
    )
}

/// Builds ambit's seccomp program for `needs` and installs it (after setting
/// no_new_privs): what `enter` spends on the filter, for the benchmarks.
/// Returns the program's length.
pub fn install_ambit_filter(needs: super::Needs) -> Result<usize, i32> {
    let filter = super::seccomp::build(needs).map_err(|_| libc::E2BIG)?;
    super::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)?;
    super::sys::seccomp_set_filter(&filter.program, super::sys::SECCOMP_FILTER_FLAG_TSYNC)?;
    Ok(filter.len())
}
