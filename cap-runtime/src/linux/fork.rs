//! Forking without exec, for a helper process that runs code of this program
//! (the broker, `cap_core::broker`): `clone(CLONE_PIDFD)` in a
//! single-threaded process, `PR_SET_PDEATHSIG` in the child, and the two
//! calls such a child needs afterwards (close every descriptor but its own,
//! exit without running the parent's exit handlers).
//!
//! Forking a multi-threaded process and running Rust code in the child is
//! unsound (a lock held by another thread at the fork stays held forever in
//! the child, the allocator's among them), so [`fork_helper`] refuses unless
//! the process has exactly one thread. libcasper forks its services the same
//! way, from `cap_init` before `cap_enter`.
//!
//! # References
//! - clone(2) `CLONE_PIDFD`, prctl(2) `PR_SET_PDEATHSIG`, close_range(2),
//!   _exit(2)
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::spawn::Spawned;

/// Which side of [`fork_helper`] this is.
#[derive(Debug)]
pub enum Forked {
    /// The parent: the child's pidfd and pid.
    Parent(Spawned),
    /// The child: one thread, `PR_SET_PDEATHSIG(SIGKILL)` set and the parent
    /// checked to be alive after setting it. It must not return into code
    /// that expects to be the parent; it ends with [`exit_now`].
    Child,
}

/// Forks this process without exec: the child is a copy that continues from
/// here. Refuses (with an error naming the thread count) unless the process
/// has exactly one thread. The child gets `SIGKILL` when the parent exits
/// (`PR_SET_PDEATHSIG`); if the parent is already gone when that is set (the
/// usual race), the child exits at once.
pub fn fork_helper() -> io::Result<Forked> {
    crate::inherited::single_threaded(
        super::fds::thread_count().map_err(io::Error::from_raw_os_error),
        "/proc/self/status",
    )?;
    // SAFETY: getpid has no arguments and cannot fail.
    let parent = unsafe { libc::getpid() };
    let mut pidfd: libc::c_int = -1;
    // SAFETY: clone without CLONE_VM and with a null stack behaves like fork:
    // the child gets a copy of this (only) thread's memory and returns 0.
    // With one thread, no lock can be held by a thread that does not exist in
    // the child, so the child may go on running Rust code. With CLONE_PIDFD
    // the kernel writes the pidfd to the third argument, which points to
    // `pidfd`.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::c_ulong::try_from(libc::CLONE_PIDFD | libc::SIGCHLD).unwrap_or_default(),
            0usize,
            std::ptr::from_mut(&mut pidfd),
            0usize,
            0usize,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if ret == 0 {
        // SAFETY: integer arguments only.
        let set = unsafe {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::c_ulong::try_from(libc::SIGKILL).unwrap_or_default(),
                0,
                0,
                0,
            )
        };
        // SAFETY: getppid has no arguments and cannot fail.
        let ppid = unsafe { libc::getppid() };
        // The parent may have died between the clone and the prctl: then
        // the signal will never come, and the child was reparented.
        if set < 0 || ppid != parent {
            exit_now(0);
        }
        return Ok(Forked::Child);
    }
    let pid = i32::try_from(ret).unwrap_or(-1);
    // SAFETY: CLONE_PIDFD succeeded, so the kernel stored a new descriptor
    // (close-on-exec) in `pidfd`, owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Forked::Parent(Spawned { pidfd, pid }))
}

/// Closes every descriptor above stdio except `keep` (`close_range` over the
/// gaps). Only for a child of [`fork_helper`] that never returns into the
/// parent's code: the Rust objects that owned the closed descriptors in the
/// parent's copy of memory must never be used or dropped there (the child
/// ends with [`exit_now`]).
pub fn close_all_except(keep: &[RawFd]) -> io::Result<()> {
    for (first, last) in crate::inherited::gaps_above_stdio(keep) {
        close_range(first, last)?;
    }
    Ok(())
}

fn close_range(first: u32, last: u32) -> io::Result<()> {
    // SAFETY: close_range takes integers only. It closes descriptors that
    // Rust objects in this (forked) memory may own; the caller's contract
    // (see `close_all_except`) is that none of them is used or dropped again.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Ends the process at once with `code` (`_exit`): no destructor, no
/// `atexit` handler, no flush of buffered output. What a forked child runs
/// instead of returning into the parent's code.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of the process.
    unsafe { libc::_exit(code) }
}
