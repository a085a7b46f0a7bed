//! Forking without exec on FreeBSD, for a helper process that runs code of
//! this program (the broker, `cap_core::broker`): `pdfork` in a
//! single-threaded process, so the parent holds the child as a process
//! descriptor (the pidfd's model, which Capsicum has had first),
//! `PROC_PDEATHSIG_CTL` in the child, and the two calls such a child needs
//! afterwards (close every descriptor but its own, exit without running the
//! parent's exit handlers). The same interface as `linux::fork`.
//!
//! Closing the last process descriptor of a `pdfork` child kills it
//! (`SIGKILL`, no `PD_DAEMON`) and the kernel reaps it: no zombie is left.
//!
//! Compile-checked only: no FreeBSD machine runs these tests.
//!
//! # References
//! - pdfork(2), procctl(2) `PROC_PDEATHSIG_CTL`, close_range(2), _exit(2),
//!   sysctl(3) `KERN_PROC_PID` (`ki_numthreads`)
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// A child made by [`fork_helper`]: its process descriptor and its pid.
#[derive(Debug)]
pub struct Spawned {
    /// The process descriptor (`pdfork`, `PD_CLOEXEC`).
    pub pidfd: OwnedFd,
    /// The pid, for messages; never used to address the process.
    pub pid: i32,
}

/// Which side of [`fork_helper`] this is.
#[derive(Debug)]
pub enum Forked {
    /// The parent: the child's process descriptor and pid.
    Parent(Spawned),
    /// The child: one thread, `SIGKILL` on the parent's death asked, and the
    /// parent checked to be alive after asking. It ends with [`exit_now`].
    Child,
}

/// How many threads this process has (`ki_numthreads` of its `kinfo_proc`).
fn thread_count() -> io::Result<usize> {
    // SAFETY: getpid has no arguments and cannot fail.
    let pid = unsafe { libc::getpid() };
    let mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
    // SAFETY: kinfo_proc is plain old data; all-zero is a valid value.
    let mut info: libc::kinfo_proc = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::kinfo_proc>();
    // SAFETY: `mib` names four integers; `info` is writable for `len` bytes
    // and `len` says so; no new value is set.
    let r = unsafe {
        libc::sysctl(
            mib.as_ptr(),
            4,
            std::ptr::from_mut(&mut info).cast(),
            std::ptr::from_mut(&mut len),
            std::ptr::null(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    usize::try_from(info.ki_numthreads).map_err(|_| io::Error::other("a negative thread count"))
}

/// Forks this process without exec: the child is a copy that continues from
/// here. Refuses (with an error naming the thread count) unless the process
/// has exactly one thread. The child gets `SIGKILL` when the parent exits
/// (`PROC_PDEATHSIG_CTL`); if the parent is already gone when that is set,
/// the child exits at once.
pub fn fork_helper() -> io::Result<Forked> {
    crate::inherited::single_threaded(thread_count(), "sysctl kern.proc.pid")?;
    // SAFETY: getpid has no arguments and cannot fail.
    let parent = unsafe { libc::getpid() };
    let mut pd: libc::c_int = -1;
    // SAFETY: pdfork behaves like fork and writes the process descriptor to
    // `pd`, which is valid for writing. With one thread, no lock can be held
    // by a thread that does not exist in the child, so the child may go on
    // running Rust code.
    let ret = unsafe { libc::pdfork(std::ptr::from_mut(&mut pd), libc::PD_CLOEXEC) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if ret == 0 {
        let mut signal: libc::c_int = libc::SIGKILL;
        // SAFETY: PROC_PDEATHSIG_CTL on this process (P_PID, 0) reads one
        // int from the pointer, which points to `signal`.
        let set = unsafe {
            libc::procctl(
                libc::P_PID,
                0,
                libc::PROC_PDEATHSIG_CTL,
                std::ptr::from_mut(&mut signal).cast(),
            )
        };
        // SAFETY: getppid has no arguments and cannot fail.
        let ppid = unsafe { libc::getppid() };
        // The parent may have died between the fork and the procctl: then
        // the signal will never come, and the child was reparented.
        if set < 0 || ppid != parent {
            exit_now(0);
        }
        return Ok(Forked::Child);
    }
    // SAFETY: pdfork succeeded, so the kernel stored a new descriptor
    // (close-on-exec) in `pd`, owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pd) };
    Ok(Forked::Parent(Spawned { pidfd, pid: ret }))
}

/// Closes every descriptor above stdio except `keep` (`close_range` over the
/// gaps). Only for a child of [`fork_helper`] that never returns into the
/// parent's code: the Rust objects that owned the closed descriptors in the
/// parent's copy of memory must never be used or dropped there (the child
/// ends with [`exit_now`]).
pub fn close_all_except(keep: &[RawFd]) -> io::Result<()> {
    for (first, last) in crate::inherited::gaps_above_stdio(keep) {
        // SAFETY: close_range takes integers only. It closes descriptors
        // that Rust objects in this (forked) memory may own; the caller's
        // contract (see above) is that none of them is used or dropped again.
        let r = unsafe { libc::close_range(first, last, 0) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Ends the process at once with `code` (`_exit`): no destructor, no
/// `atexit` handler, no flush of buffered output.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of the process.
    unsafe { libc::_exit(code) }
}

/// `SIGKILL` through the process descriptor (`pdkill`).
pub fn kill(pidfd: &OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: integer arguments only; the descriptor is borrowed and open.
    if unsafe { libc::pdkill(pidfd.as_raw_fd(), libc::SIGKILL) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The pid behind a process descriptor (`pdgetpid`).
fn pid_of(pidfd: &OwnedFd) -> Option<libc::pid_t> {
    use std::os::fd::AsRawFd;
    let mut pid: libc::pid_t = 0;
    // SAFETY: `pid` is valid for writing; the descriptor is borrowed and open.
    if unsafe { libc::pdgetpid(pidfd.as_raw_fd(), std::ptr::from_mut(&mut pid)) } < 0 {
        return None;
    }
    Some(pid)
}

/// How the process ended, if it has, without reaping it
/// (`waitid(P_PID, WEXITED | WNOHANG | WNOWAIT)` on the pid that
/// `pdgetpid` reads from the process descriptor).
pub fn status(pidfd: &OwnedFd) -> Option<String> {
    let id = libc::id_t::from(pid_of(pidfd)?);
    // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: integer arguments and a pointer to `info`, valid for writing.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            id,
            std::ptr::from_mut(&mut info),
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled `info` (or left it zeroed: pid 0, not ended).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if r < 0 || pid == 0 {
        return None;
    }
    if info.si_code == libc::CLD_EXITED {
        Some(format!("exit status {status}"))
    } else {
        Some(format!("killed by signal {status}"))
    }
}

/// Waits for the process to end and reaps it (`wait4` on its pid).
pub fn reap(pidfd: &OwnedFd) {
    let Some(pid) = pid_of(pidfd) else {
        return;
    };
    loop {
        let mut wstatus: libc::c_int = 0;
        // SAFETY: integer arguments, a pointer to a local status and no
        // resource usage asked for.
        let r = unsafe {
            libc::wait4(
                pid,
                std::ptr::from_mut(&mut wstatus),
                0,
                std::ptr::null_mut(),
            )
        };
        if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}
