//! Waiting for signals synchronously, for a supervisor that forwards them to
//! its child (`ambit run`): the signals are blocked in the calling thread and
//! read from a `signalfd`, polled together with the child's pidfd, so no
//! handler runs, nothing is lost between two waits (a blocked signal stays
//! pending), and the child's exit is seen without `SIGCHLD`.
//!
//! A child spawned with [`super::spawn::spawn`] resets its signal mask before
//! exec, so blocking here does not block the signals in the child.
//!
//! # References
//! - pthread_sigmask(3), signalfd(2), poll(2), pidfd_open(2), signal(7)
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A signal taken by [`Blocked::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The signal number.
    pub signo: i32,
    /// Whether a process sent it (`kill`, `sigqueue`, `tgkill`: `si_code`
    /// ≤ 0), rather than the kernel (a terminal's `^C`, which reaches the
    /// whole foreground process group, or `SIGCHLD`).
    pub from_process: bool,
}

/// Signals blocked in the calling thread until dropped (the previous mask is
/// restored then), and a `signalfd` that reads them.
#[derive(Debug)]
pub struct Blocked {
    old: libc::sigset_t,
    fd: OwnedFd,
}

fn empty_set() -> libc::sigset_t {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the whole set it is given.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

impl Blocked {
    /// Blocks `signals` in the calling thread (`pthread_sigmask(SIG_BLOCK)`)
    /// and opens a `signalfd` for them (close-on-exec). An unknown signal
    /// number is an `InvalidInput` error naming it.
    pub fn block(signals: &[i32]) -> io::Result<Self> {
        let mut set = empty_set();
        for &s in signals {
            // SAFETY: `set` is an initialised sigset_t; a bad number only
            // makes sigaddset fail with EINVAL.
            if unsafe { libc::sigaddset(&raw mut set, s) } < 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("signal {s} cannot be blocked"),
                ));
            }
        }
        // SAFETY: `set` is initialised; -1 asks for a new descriptor.
        let fd = unsafe { libc::signalfd(-1, &raw const set, libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd returned a new descriptor, owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut old = empty_set();
        // SAFETY: both pointers are to initialised sigset_t values of this
        // frame; pthread_sigmask only changes this thread's mask.
        let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, &raw mut old) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(Self { old, fd })
    }

    /// Waits until one of the blocked signals arrives (`Some`) or `pidfd`
    /// becomes readable, that is, its process has exited (`None`). Retries
    /// when interrupted.
    pub fn wait_or_exit(&self, pidfd: BorrowedFd<'_>) -> io::Result<Option<Received>> {
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: pidfd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a writable array of two pollfd structs.
            let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(e);
            }
            if fds[0].revents != 0 {
                return Ok(None);
            }
            if fds[1].revents & libc::POLLIN == 0 {
                continue;
            }
            let mut info = std::mem::MaybeUninit::<libc::signalfd_siginfo>::zeroed();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reads at most one signalfd_siginfo into `info`, which
            // is writable and that large.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), info.as_mut_ptr().cast(), size) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EAGAIN)) {
                    continue;
                }
                return Err(e);
            }
            if n.unsigned_abs() != size {
                continue;
            }
            // SAFETY: the kernel wrote a whole signalfd_siginfo (and it was
            // zeroed before).
            let info = unsafe { info.assume_init() };
            return Ok(Some(Received {
                signo: i32::try_from(info.ssi_signo).unwrap_or(0),
                from_process: info.ssi_code <= 0,
            }));
        }
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `block` for this thread.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &raw const self.old, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn a_blocked_signal_sent_to_this_thread_is_read_and_an_exit_is_seen() {
        // Blocked in this test's thread only; the signal is sent to this
        // thread itself, so the harness's other threads do not take it.
        let blocked = Blocked::block(&[libc::SIGUSR2]).unwrap();
        // A pidfd that never becomes readable while the test runs: this
        // process's own.
        // SAFETY: pidfd_open with this process's pid and no flags.
        let me = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
        assert!(me >= 0);
        // SAFETY: a new descriptor, owned by no one else.
        let me = unsafe { OwnedFd::from_raw_fd(i32::try_from(me).unwrap()) };
        // SAFETY: tgkill with this process's pid and this thread's tid.
        let r = unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                libc::getpid(),
                libc::gettid(),
                libc::SIGUSR2,
            )
        };
        assert_eq!(r, 0);
        let got = blocked.wait_or_exit(me.as_fd()).unwrap().unwrap();
        assert_eq!(got.signo, libc::SIGUSR2);
        assert!(got.from_process);
        drop(blocked);
        assert!(Blocked::block(&[999]).is_err());
        // A child that exits: its pidfd becomes readable.
        let child = std::process::Command::new("/bin/true").spawn().unwrap();
        // SAFETY: pidfd_open with the child's pid (not yet reaped).
        let pidfd = unsafe {
            libc::syscall(
                libc::SYS_pidfd_open,
                libc::pid_t::try_from(child.id()).unwrap(),
                0,
            )
        };
        assert!(pidfd >= 0);
        // SAFETY: a new descriptor, owned by no one else.
        let pidfd = unsafe { OwnedFd::from_raw_fd(i32::try_from(pidfd).unwrap()) };
        let blocked = Blocked::block(&[libc::SIGUSR2]).unwrap();
        assert_eq!(blocked.wait_or_exit(pidfd.as_fd()).unwrap(), None);
        drop(child);
    }
}
