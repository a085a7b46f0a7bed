//! Spawning a child from an executable descriptor with an explicit descriptor
//! table: `clone(CLONE_PIDFD)`, then, in the child, only async-signal-safe
//! system calls (no allocation, no locks) up to `execveat(fd, "",
//! AT_EMPTY_PATH)`.
//!
//! Everything the child needs is prepared by the parent before the clone:
//! the argument and environment vectors as NUL-terminated pointer arrays, the
//! descriptor table as a sorted list of `(source, target)` pairs whose sources
//! all lie above every target (so no `dup3` clobbers a source not yet
//! placed), and the child's sandbox (a [`ChildSetup`], built and filled in the
//! parent). The child:
//!
//! 1. resets the signal mask and `SIGPIPE` (the Rust runtime ignores it, a
//!    child expects the default),
//! 2. `dup3`s each source to its target (clearing close-on-exec),
//! 3. places the executable and the error pipe just above the table
//!    (close-on-exec),
//! 4. closes every other descriptor below them (`close_range` over the gaps),
//! 5. applies its sandbox (no_new_privs, Landlock, capabilities, seccomp),
//! 6. closes every descriptor above the executable and the error pipe
//!    (`close_range`), whatever its close-on-exec flag,
//! 7. `execveat(exe, "", argv, envp, AT_EMPTY_PATH)`: no `PATH` search and no
//!    lookup by name.
//!
//! A failure in the child is written to the error pipe as `(step, errno)` and
//! the child exits with 127; the parent reads the pipe (closed on a
//! successful exec) and reports the step and errno.
//!
//! # References
//! - clone(2) `CLONE_PIDFD`, execveat(2), close_range(2), signal-safety(7)
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{Facts, Prepared};

/// What the child applies between `fork` and `exec`: its sandbox, prepared in
/// the parent. Implementations must be async-signal-safe: no allocation, no
/// locks, only system calls on data prepared beforehand.
pub trait ChildSetup {
    /// Applies the sandbox in the child. Returns an errno on failure.
    fn apply_in_child(&self) -> Result<(), i32>;
}

/// The steps a child reports on failure (the first word on the error pipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ChildStep {
    /// Resetting signals.
    Signals = 1,
    /// Placing a descriptor of the table (`dup3`).
    Table = 2,
    /// Closing descriptors outside the table (`close_range`).
    Close = 3,
    /// Applying the child's sandbox.
    Sandbox = 4,
    /// `execveat`.
    Exec = 5,
}

impl ChildStep {
    fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Signals,
            2 => Self::Table,
            3 => Self::Close,
            4 => Self::Sandbox,
            5 => Self::Exec,
            _ => return None,
        })
    }

    /// What the step does, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Signals => "reset signals in the child",
            Self::Table => "place the child's descriptor table (dup3)",
            Self::Close => "close descriptors outside the child's table (close_range)",
            Self::Sandbox => "enter the child's sandbox",
            Self::Exec => "execveat the executable handle",
        }
    }
}

/// Why a child failed before `exec`: the step and the errno. Carried inside
/// the `io::Error` that [`spawn`] returns (`get_ref()` and downcast).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnError {
    /// The step that failed (`None` if the child reported an unknown one).
    pub step: Option<ChildStep>,
    /// The errno.
    pub errno: i32,
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = self.step.map_or("set up the child", ChildStep::describe);
        write!(f, "{step}: {}", io::Error::from_raw_os_error(self.errno))
    }
}

impl std::error::Error for SpawnError {}

/// One spawn request: everything borrowed, nothing opened by name.
#[derive(Debug)]
pub struct SpawnRequest<'a> {
    /// The executable (a regular file descriptor; opened with read access or
    /// `O_PATH`).
    pub exe: BorrowedFd<'a>,
    /// `argv`, `argv[0]` included.
    pub args: &'a [CString],
    /// `envp`: `KEY=value` strings.
    pub env: &'a [CString],
    /// `(target, source)`: the child's descriptor `target` is a duplicate of
    /// the parent's `source`. Targets must be distinct and non-negative.
    pub table: &'a [(RawFd, BorrowedFd<'a>)],
}

/// A spawned child: its pidfd and pid (for messages only).
#[derive(Debug)]
pub struct Spawned {
    /// The pidfd (`CLONE_PIDFD`), close-on-exec.
    pub pidfd: OwnedFd,
    /// The pid, for messages; never used to address the process.
    pub pid: i32,
}

fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Duplicates `fd` to the lowest free descriptor at or above `floor`,
/// close-on-exec.
fn dup_above(fd: RawFd, floor: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor; on success it
    // is ours alone, so OwnedFd may own it.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just returned by fcntl and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Spawns the child; see the module documentation for what happens in it.
/// `setup` is applied in the child after its table is in place.
pub fn spawn(req: &SpawnRequest<'_>, setup: Option<&dyn ChildSetup>) -> io::Result<Spawned> {
    // Validate the table: distinct, non-negative targets.
    let mut targets: Vec<RawFd> = req.table.iter().map(|(t, _)| *t).collect();
    targets.sort_unstable();
    if let Some(bad) = targets.iter().find(|t| **t < 0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor table: negative target {bad}"),
        ));
    }
    if let Some([twice, ..]) = targets.windows(2).find(|w| w[0] == w[1]) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor table: target {twice} given twice"),
        ));
    }
    let top = targets.last().copied().unwrap_or(-1);
    // The executable and the error pipe go just above the table.
    let exe_slot = top + 1;
    let err_slot = top + 2;
    let floor = top + 3;

    // Sources above every slot, so no dup3 in the child overwrites one.
    let mut sources: Vec<(OwnedFd, RawFd)> = Vec::with_capacity(req.table.len());
    for (target, source) in req.table {
        sources.push((dup_above(source.as_raw_fd(), floor)?, *target));
    }
    sources.sort_unstable_by_key(|(_, t)| *t);
    let pairs: Vec<(RawFd, RawFd)> = sources.iter().map(|(s, t)| (s.as_raw_fd(), *t)).collect();
    let exe = dup_above(req.exe.as_raw_fd(), floor)?;

    let mut pipe = [0; 2];
    // SAFETY: `pipe` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are new and ours alone.
    let (err_read, err_write) =
        unsafe { (OwnedFd::from_raw_fd(pipe[0]), OwnedFd::from_raw_fd(pipe[1])) };
    let err_write = if err_write.as_raw_fd() < floor {
        dup_above(err_write.as_raw_fd(), floor)?
    } else {
        err_write
    };

    let argv: Vec<*const libc::c_char> = req
        .args
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = req
        .env
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let child = Child {
        pairs: &pairs,
        exe: exe.as_raw_fd(),
        exe_slot,
        err: err_write.as_raw_fd(),
        err_slot,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        empty: c"",
        setup,
    };

    let mut pidfd: libc::c_int = -1;
    // SAFETY: clone without CLONE_VM and with a null stack behaves like fork:
    // the child gets a copy of this thread's memory and returns 0 here. The
    // child then runs only `Child::run`, which makes raw system calls on data
    // prepared above and never returns (it execs or exits). With CLONE_PIDFD
    // the kernel writes the pidfd to the third argument (parent_tid), which
    // points to `pidfd`.
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
        child.run();
    }
    let pid = i32::try_from(ret).unwrap_or(-1);
    // SAFETY: CLONE_PIDFD succeeded, so the kernel stored a new descriptor
    // (close-on-exec) in `pidfd`, owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };

    // The child's copies are its own now; ours close here.
    drop(err_write);
    drop(exe);
    drop(sources);

    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reads into the unread tail of `buf`, within bounds.
        let n = unsafe {
            libc::read(
                err_read.as_raw_fd(),
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
            )
        };
        if n < 0 {
            if last_errno() == libc::EINTR {
                continue;
            }
            break;
        }
        if n == 0 {
            break;
        }
        got += n.unsigned_abs();
    }
    if got == 0 {
        return Ok(Spawned { pidfd, pid });
    }
    // The child failed before exec and exits with 127: reap it.
    let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
    loop {
        // SAFETY: `info` is a writable siginfo_t; P_PIDFD waits on our child.
        let r = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                libc::id_t::try_from(pidfd.as_raw_fd()).unwrap_or_default(),
                info.as_mut_ptr(),
                libc::WEXITED,
            )
        };
        if r == 0 || last_errno() != libc::EINTR {
            break;
        }
    }
    let step = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let os = io::Error::from_raw_os_error(errno);
    Err(io::Error::new(
        os.kind(),
        SpawnError {
            step: ChildStep::from_u32(step),
            errno,
        },
    ))
}

/// What the child reads: raw pointers and numbers only.
struct Child<'a> {
    pairs: &'a [(RawFd, RawFd)],
    exe: RawFd,
    exe_slot: RawFd,
    err: RawFd,
    err_slot: RawFd,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    empty: &'static CStr,
    setup: Option<&'a dyn ChildSetup>,
}

impl Child<'_> {
    /// Runs in the child: never returns.
    fn run(&self) -> ! {
        let (step, errno) = match self.prepare() {
            Ok(()) => {
                // SAFETY: argv and envp are NULL-terminated arrays of
                // NUL-terminated strings that live in this (copied) memory;
                // the empty path with AT_EMPTY_PATH executes the descriptor.
                unsafe {
                    libc::syscall(
                        libc::SYS_execveat,
                        self.exe_slot,
                        self.empty.as_ptr(),
                        self.argv,
                        self.envp,
                        libc::AT_EMPTY_PATH,
                    );
                }
                (ChildStep::Exec, last_errno())
            }
            Err(e) => e,
        };
        let mut msg = [0u8; 8];
        msg[..4].copy_from_slice(&(step as u32).to_ne_bytes());
        msg[4..].copy_from_slice(&errno.to_ne_bytes());
        // SAFETY: writes 8 bytes from a stack buffer to the error pipe, then
        // exits without running any destructor or atexit handler (the
        // parent's, which this copy must not run).
        unsafe {
            libc::write(self.err_slot, msg.as_ptr().cast(), msg.len());
            libc::_exit(127)
        }
    }

    fn prepare(&self) -> Result<(), (ChildStep, i32)> {
        // SAFETY: raw system calls with integer arguments or pointers to
        // this frame's stack, valid for the calls; none allocates or takes a
        // lock.
        unsafe {
            let empty = [0u64; 1];
            if libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                empty.as_ptr(),
                0usize,
                8usize,
            ) < 0
            {
                return Err((ChildStep::Signals, last_errno()));
            }
            // The kernel's `struct sigaction`: handler (SIG_DFL is 0),
            // flags, restorer, mask: all zero.
            let act = [0u64; 4];
            if libc::syscall(
                libc::SYS_rt_sigaction,
                libc::SIGPIPE,
                act.as_ptr(),
                0usize,
                8usize,
            ) < 0
            {
                return Err((ChildStep::Signals, last_errno()));
            }
            for &(source, target) in self.pairs {
                if libc::syscall(libc::SYS_dup3, source, target, 0) < 0 {
                    return Err((ChildStep::Table, last_errno()));
                }
            }
            if libc::syscall(libc::SYS_dup3, self.exe, self.exe_slot, libc::O_CLOEXEC) < 0
                || libc::syscall(libc::SYS_dup3, self.err, self.err_slot, libc::O_CLOEXEC) < 0
            {
                return Err((ChildStep::Table, last_errno()));
            }
            // The gaps below the exe slot that are not targets.
            let mut next: RawFd = 0;
            for &(_, target) in self.pairs {
                if target > next {
                    close_range(next, target - 1)?;
                }
                next = target + 1;
            }
            if self.exe_slot > next {
                close_range(next, self.exe_slot - 1)?;
            }
        }
        if let Some(setup) = self.setup {
            setup
                .apply_in_child()
                .map_err(|e| (ChildStep::Sandbox, e))?;
        }
        close_range(self.err_slot + 1, RawFd::MAX)
    }
}

fn close_range(first: RawFd, last: RawFd) -> Result<(), (ChildStep, i32)> {
    // SAFETY: close_range takes integers only; it closes descriptors of this
    // child, whose Rust owners (in the parent's copied memory) never run.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            libc::c_uint::try_from(first).unwrap_or(0),
            libc::c_uint::try_from(last).unwrap_or(libc::c_uint::MAX),
            0,
        )
    };
    if r < 0 {
        Err((ChildStep::Close, last_errno()))
    } else {
        Ok(())
    }
}

/// The environment variable a parent sets to name the descriptors it placed
/// in its child's table above stdio (`AMBIT_FDS=3,5`).
pub const TABLE_ENV: &str = "AMBIT_FDS";

/// The descriptors named in [`TABLE_ENV`] that were open when the process
/// started, checked before `main` (an `.init_array` constructor), before any
/// Rust code of the program could open or own one: what a parent placed in
/// the table.
static AT_START: std::sync::OnceLock<Vec<RawFd>> = std::sync::OnceLock::new();

extern "C" fn snapshot_at_start() {
    let Some(list) = std::env::var_os(TABLE_ENV) else {
        return;
    };
    let fds = list
        .to_str()
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.parse::<RawFd>().ok())
        .filter(|fd| *fd > 2 && super::sys::fd_is_open(*fd))
        .collect();
    let _ = AT_START.set(fds);
}

#[used]
// SAFETY: a pointer to an `extern "C" fn()` taking no arguments is what the
// dynamic loader expects in `.init_array`; the function only reads the
// environment and queries descriptor flags into a static.
#[unsafe(link_section = ".init_array")]
static SNAPSHOT_AT_START: extern "C" fn() = snapshot_at_start;

/// The value of [`TABLE_ENV`] for a table with these targets.
pub fn table_env(targets: impl IntoIterator<Item = RawFd>) -> CString {
    let list: Vec<String> = targets
        .into_iter()
        .filter(|t| *t > 2)
        .map(|t| t.to_string())
        .collect();
    CString::new(format!("{TABLE_ENV}={}", list.join(","))).unwrap_or_default()
}

/// Descriptors already adopted by [`adopt_inherited`].
static ADOPTED: std::sync::Mutex<Vec<RawFd>> = std::sync::Mutex::new(Vec::new());

/// Takes ownership of a descriptor this process inherited in its table
/// (placed there by the parent that spawned it), once. Only descriptors that
/// the parent named in [`TABLE_ENV`] and that were open when the process
/// started (checked before `main`) can be taken, and each only once, so no
/// two owners exist. Stdio (0, 1, 2) is refused:
/// `std` uses it without owning it.
pub fn adopt_inherited(fd: RawFd) -> io::Result<OwnedFd> {
    if fd <= 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor {fd} is stdio: use it through std::io"),
        ));
    }
    let mut adopted = ADOPTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if adopted.contains(&fd) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("inherited descriptor {fd} was already taken"),
        ));
    }
    let at_start = AT_START.get().is_some_and(|fds| fds.contains(&fd));
    if !at_start || !super::sys::fd_is_open(fd) {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "descriptor {fd} was not inherited (not named in {TABLE_ENV} or not open when the process started)"
            ),
        ));
    }
    // It must not leak through a later exec unless placed in a table again.
    // SAFETY: F_SETFD only changes the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    adopted.push(fd);
    // SAFETY: the descriptor was open before main and is handed out once by
    // the registry above; nothing in this crate or cap-core wraps an
    // inherited descriptor otherwise, so no other owner exists. (Code that
    // wraps an inherited descriptor by number itself, with `unsafe`, breaks
    // this, as it would break any other owner.)
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A child's sandbox, planned and prepared in the parent with the same
/// planner as [`crate::enter`] ([`super::plan`] then [`super::Plan::prepare`]):
/// the Landlock ruleset exists, the seccomp program is built, and the child
/// only applies them between `fork` and `exec`
/// ([`Prepared::apply_in_child`], async-signal-safe).
///
/// The facts are the child's, not the parent's: one thread (the child of a
/// `clone` is single-threaded, whatever the parent runs) and no undeclared
/// descriptor (the child closes everything outside its table with
/// `close_range`, so there is none to refuse or report).
#[derive(Debug)]
pub struct ChildSandbox {
    prepared: Prepared,
}

impl ChildSandbox {
    /// Plans the child's sandbox from `policy` (its table, executable and
    /// loader directories) and creates the Landlock ruleset. In
    /// [`crate::Mode::Strict`], fails if a right cannot be enforced.
    pub fn prepare(policy: &crate::Policy<'_>, mode: crate::Mode) -> Result<Self, crate::Error> {
        let options = crate::Options {
            mode,
            inherited_fds: crate::InheritedFds::Keep,
            assume_landlock_abi: None,
        };
        // The child starts as a copy of this thread: its capabilities and
        // stacked filters are ours (one read of /proc/self/status).
        let status = super::fds::status();
        let (bounding, setpcap) = status
            .as_ref()
            .map_or((Vec::new(), false), |s| (s.bounding(), s.setpcap()));
        // Inside a sandbox the probes themselves may be refused by this
        // process's filter: the kernel's abilities were recorded on entry.
        let (landlock_abi, seccomp_available) = match crate::report() {
            Some(r) => (r.landlock_abi_kernel, r.seccomp.is_some()),
            None => (super::sys::landlock_abi(), seccomp_available()),
        };
        let facts = Facts {
            landlock_abi,
            seccomp_available,
            threads: Ok(1),
            seccomp_filters: status.map_or(0, |s| s.seccomp_filters),
            entry_modes: policy
                .entries()
                .iter()
                .map(|e| super::sys::fstat_mode(e.fd))
                .collect(),
            undeclared: Ok(Vec::new()),
            bounding,
            setpcap,
            securebits: setpcap.then(super::caps::securebits),
        };
        let prepared = super::plan::plan(policy, &options, &facts)?.prepare()?;
        Ok(Self { prepared })
    }

    /// The report of the plan: what the child applies before exec.
    pub fn report(&self) -> &crate::Report {
        &self.prepared.plan().report
    }

    /// The report, by value.
    pub fn into_report(self) -> crate::Report {
        self.prepared.plan().report.clone()
    }
}

#[cfg(target_arch = "x86_64")]
fn seccomp_available() -> bool {
    use super::seccomp;
    super::sys::seccomp_action_available(seccomp::RET_KILL_PROCESS)
        .and_then(|()| super::sys::seccomp_action_available(seccomp::RET_ERRNO))
        .is_ok()
}

#[cfg(not(target_arch = "x86_64"))]
fn seccomp_available() -> bool {
    false
}

impl ChildSetup for ChildSandbox {
    fn apply_in_child(&self) -> Result<(), i32> {
        self.prepared.apply_in_child()
    }
}
