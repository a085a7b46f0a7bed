//! The raw system calls the Linux backend makes, each behind a safe function.
//! Every `unsafe` block in the backend's lock path is here.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The errno of the last failed call.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(ret: libc::c_long) -> Result<libc::c_long, i32> {
    if ret < 0 { Err(errno()) } else { Ok(ret) }
}

/// `prctl` with integer arguments only.
pub(crate) fn prctl(
    option: libc::c_int,
    a2: libc::c_ulong,
    a3: libc::c_ulong,
    a4: libc::c_ulong,
    a5: libc::c_ulong,
) -> Result<libc::c_int, i32> {
    // SAFETY: every prctl option this crate passes takes integer arguments
    // only (no pointers), so no memory is read or written through them.
    let ret = unsafe { libc::prctl(option, a2, a3, a4, a5) };
    if ret < 0 { Err(errno()) } else { Ok(ret) }
}

/// The `st_mode` of an open descriptor (`fstat`).
pub(crate) fn fstat_mode(fd: RawFd) -> Result<u32, i32> {
    fstat_id(fd).map(|(mode, _, _)| mode)
}

/// The `st_mode`, `st_dev` and `st_ino` of an open descriptor (`fstat`).
pub(crate) fn fstat_id(fd: RawFd) -> Result<(u32, u64, u64), i32> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is a valid, writable `struct stat` the kernel fills; a bad
    // fd only makes the call fail with EBADF.
    let ret = unsafe { libc::fstat(fd, st.as_mut_ptr()) };
    if ret < 0 {
        return Err(errno());
    }
    // SAFETY: fstat returned 0, so it initialised the whole struct.
    let st = unsafe { st.assume_init() };
    Ok((st.st_mode, st.st_dev, st.st_ino))
}

/// Whether `fd` is an open descriptor (`fcntl(F_GETFD)`).
#[cfg_attr(not(feature = "probe"), allow(dead_code))]
pub(crate) fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Closes a descriptor this process holds but no Rust object owns (the
/// caller guarantees that: `InheritedFds::Close` is only chosen where no live
/// object owns undeclared descriptors, and `InheritedFds::CloseInherited`
/// closes only those open before the program's own code ran).
pub(crate) fn close_unowned(fd: RawFd) -> Result<(), i32> {
    // SAFETY: closing a descriptor cannot violate memory safety; the I/O
    // safety contract (no owner left dangling) is the caller's, see above.
    let ret = unsafe { libc::close(fd) };
    // Linux releases the descriptor whatever close() reports (EINTR, EIO
    // from a deferred write error...): only EBADF means it was not closed
    // here, and failing for anything else would stop the lock half-way.
    match if ret < 0 { errno() } else { 0 } {
        libc::EBADF => Err(libc::EBADF),
        _ => Ok(()),
    }
}

/// `struct landlock_ruleset_attr` (ABI 6 layout; older kernels accept a
/// shorter size, see [`landlock_create_ruleset`]).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RulesetAttr {
    pub(crate) handled_access_fs: u64,
    pub(crate) handled_access_net: u64,
    pub(crate) scoped: u64,
}

/// `struct landlock_path_beneath_attr` (packed in the kernel UAPI).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathBeneathAttr {
    pub(crate) allowed_access: u64,
    pub(crate) parent_fd: i32,
}

/// `struct landlock_net_port_attr`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct NetPortAttr {
    pub(crate) allowed_access: u64,
    pub(crate) port: u64,
}

const LANDLOCK_CREATE_RULESET_VERSION: libc::c_ulong = 1;
const LANDLOCK_RULE_PATH_BENEATH: libc::c_ulong = 1;
const LANDLOCK_RULE_NET_PORT: libc::c_ulong = 2;

/// The Landlock ABI version of the running kernel, 0 when Landlock is absent
/// or disabled.
pub(crate) fn landlock_abi() -> u32 {
    // SAFETY: with the VERSION flag the attr pointer must be NULL and size 0;
    // the call reads no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(ret).unwrap_or(0)
}

/// Creates a ruleset. `abi` decides the struct size passed (fields the kernel
/// does not know must not be sent).
pub(crate) fn landlock_create_ruleset(attr: &RulesetAttr, abi: u32) -> Result<OwnedFd, i32> {
    let size = match abi {
        0..=3 => std::mem::size_of::<u64>(),
        4 | 5 => 2 * std::mem::size_of::<u64>(),
        _ => std::mem::size_of::<RulesetAttr>(),
    };
    // SAFETY: `attr` points to a live `RulesetAttr` of at least `size` bytes
    // (size never exceeds the struct); the kernel only reads it.
    let ret = check(unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::from_ref(attr),
            size,
            0usize,
        )
    })?;
    let fd = RawFd::try_from(ret).map_err(|_| libc::EOVERFLOW)?;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds a path-beneath rule to `ruleset`.
pub(crate) fn landlock_add_path_rule(ruleset: &OwnedFd, rule: &PathBeneathAttr) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: `rule` points to a live packed `landlock_path_beneath_attr`; the
    // kernel only reads it. `ruleset` is an open ruleset descriptor.
    check(unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            LANDLOCK_RULE_PATH_BENEATH,
            std::ptr::from_ref(rule),
            0usize,
        )
    })?;
    Ok(())
}

/// Adds a network port rule to `ruleset`.
pub(crate) fn landlock_add_net_rule(ruleset: &OwnedFd, rule: &NetPortAttr) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: `rule` points to a live `landlock_net_port_attr`; the kernel only
    // reads it.
    check(unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            LANDLOCK_RULE_NET_PORT,
            std::ptr::from_ref(rule),
            0usize,
        )
    })?;
    Ok(())
}

/// Restricts the calling thread (and its future children) with `ruleset`.
pub(crate) fn landlock_restrict_self(ruleset: &OwnedFd) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: integer arguments only.
    check(unsafe {
        libc::syscall(
            libc::SYS_landlock_restrict_self,
            ruleset.as_raw_fd(),
            0usize,
        )
    })?;
    Ok(())
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct CapData {
    pub(crate) effective: u32,
    pub(crate) permitted: u32,
    pub(crate) inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The calling thread's capability sets (two 32-bit words each).
pub(crate) fn capget() -> Result<[CapData; 2], i32> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and data are valid for the V3 layout (one header, two
    // data structs); the kernel writes only `data` (and the header's version
    // on a version mismatch).
    check(unsafe {
        libc::syscall(
            libc::SYS_capget,
            std::ptr::from_mut(&mut header),
            data.as_mut_ptr(),
        )
    })?;
    Ok(data)
}

/// Clears the calling thread's effective, permitted and inheritable sets.
pub(crate) fn capset_clear() -> Result<(), i32> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: header and data are valid V3 structs; the kernel reads data.
    check(unsafe {
        libc::syscall(
            libc::SYS_capset,
            std::ptr::from_mut(&mut header),
            data.as_ptr(),
        )
    })?;
    Ok(())
}

/// One classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SockFilter {
    pub(crate) code: u16,
    pub(crate) jt: u8,
    pub(crate) jf: u8,
    pub(crate) k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const SockFilter,
}

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const SECCOMP_GET_ACTION_AVAIL: libc::c_ulong = 2;
/// `SECCOMP_FILTER_FLAG_TSYNC`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) const SECCOMP_FILTER_FLAG_TSYNC: libc::c_ulong = 1;

/// Whether the kernel supports the seccomp return action `action`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn seccomp_action_available(action: u32) -> Result<(), i32> {
    // SAFETY: the kernel reads one u32 from the pointer, which is live.
    check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_ACTION_AVAIL,
            0usize,
            std::ptr::from_ref(&action),
        )
    })?;
    Ok(())
}

/// Installs a seccomp filter on the calling thread (all threads with TSYNC).
pub(crate) fn seccomp_set_filter(program: &[SockFilter], flags: libc::c_ulong) -> Result<(), i32> {
    let len = libc::c_ushort::try_from(program.len()).map_err(|_| libc::E2BIG)?;
    let prog = SockFprog {
        len,
        filter: program.as_ptr(),
    };
    // SAFETY: `prog` describes `program`, which outlives the call; the kernel
    // copies the instructions and validates them.
    check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            std::ptr::from_ref(&prog),
        )
    })?;
    Ok(())
}

/// What a rehearsal child runs, and where it leaves its answer.
struct Rehearsal<'a> {
    run: &'a dyn Fn() -> Result<(), (&'static str, i32)>,
    failed: Option<(&'static str, i32)>,
}

extern "C" fn rehearsal_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Rehearsal` on the parent's stack, live for as long
    // as this child runs: the parent is suspended until it exits
    // (CLONE_VFORK) and shares its memory (CLONE_VM); no one else touches it.
    let r = unsafe { &mut *arg.cast::<Rehearsal<'_>>() };
    r.failed = (r.run)().err();
    0
}

/// Runs `run` in a child that shares this process's memory
/// (`clone(CLONE_VM | CLONE_VFORK)`, as `posix_spawn` does) and returns what
/// it returned. Everything `run` may change (no_new_privs, Landlock domain,
/// credentials, seccomp filters, the descriptor table, which is copied)
/// belongs to the child task, so this process is unchanged. `run` must be
/// async-signal-safe: it runs on a small stack of its own, with every signal
/// blocked, and must not allocate.
pub(crate) fn rehearse_in_child(
    run: &dyn Fn() -> Result<(), (&'static str, i32)>,
) -> Result<(), (&'static str, i32)> {
    const STACK: usize = 64 * 1024;
    let mut stack = vec![0u8; STACK];
    let mut rehearsal = Rehearsal { run, failed: None };
    let mut all = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    let mut old = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises `all`; sigprocmask reads it and writes
    // the old mask into `old`, both live and of the right type.
    let masked = unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, all.as_ptr(), old.as_mut_ptr())
    } == 0;
    // The top of the stack, 16-byte aligned (the stack grows down on every
    // architecture this backend builds for).
    let top = {
        let end = stack.as_mut_ptr().wrapping_add(STACK);
        end.wrapping_sub(end as usize % 16)
    };
    // SAFETY: `rehearsal_child` only touches `rehearsal` (see there) and the
    // stack given to it, which outlives the child: CLONE_VFORK suspends this
    // thread until the child has exited. Without CLONE_THREAD or CLONE_FILES
    // the child has its own credentials, seccomp filters and descriptor table.
    let pid = unsafe {
        libc::clone(
            rehearsal_child,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            std::ptr::from_mut(&mut rehearsal).cast(),
        )
    };
    let clone_errno = errno();
    if masked {
        // SAFETY: restores the mask saved above, initialised by the call that
        // returned 0.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut()) };
    }
    if pid < 0 {
        return Err(("rehearsal (clone)", clone_errno));
    }
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live c_int the kernel writes.
        let ret = unsafe { libc::waitpid(pid, &raw mut status, 0) };
        if ret == pid {
            break;
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(("rehearsal (waitpid)", e));
        }
    }
    drop(stack);
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        // Killed (a seccomp filter of a parent that kills, say): the step is
        // not known, the sequence cannot be trusted.
        return Err(("rehearsal (child did not exit cleanly)", libc::ECHILD));
    }
    // SAFETY: a plain read of a local the child wrote before exiting; the
    // volatile read keeps the compiler from assuming it is still `None`.
    match unsafe { std::ptr::read_volatile(&raw const rehearsal.failed) } {
        Some(failed) => Err(failed),
        None => Ok(()),
    }
}

/// Reads directory entries of `dir` into `buf` (`getdents64`): the number of
/// bytes filled, 0 at the end.
pub(crate) fn getdents64(dir: &std::fs::File, buf: &mut [u8]) -> Result<usize, i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which
    // is live and writable for the call; `dir` is an open descriptor.
    let n = check(unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            dir.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    })?;
    usize::try_from(n).map_err(|_| libc::EOVERFLOW)
}
