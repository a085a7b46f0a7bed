//! Spawning a child from an executable descriptor with an explicit descriptor
//! table: `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)` on a small stack of
//! its own (the way `posix_spawn` starts a child), then, in the child, only
//! async-signal-safe system calls (no allocation, no locks, no write to the
//! parent's memory but one result slot) up to `execveat(fd, "",
//! AT_EMPTY_PATH)`.
//!
//! Everything the child needs is prepared by the parent before the clone:
//! the argument and environment vectors as NUL-terminated pointer arrays, the
//! descriptor table as a sorted list of `(source, target)` pairs whose sources
//! all lie above every target (so no `dup3` clobbers a source not yet
//! placed), and the child's sandbox (a [`ChildSetup`], built and filled in the
//! parent). The parent blocks every signal around the clone (and restores its
//! mask after), so no handler of the parent runs on the child's stack. The
//! child:
//!
//! 1. resets every caught signal to its default action, and `SIGPIPE` too
//!    (the Rust runtime ignores it, a child expects the default), while all
//!    signals are still blocked,
//! 2. applies its sandbox (no_new_privs, Landlock, capabilities, seccomp),
//!    while the parent's descriptors (the Landlock ruleset's among them) are
//!    still open,
//! 3. `dup3`s each source to its target (clearing close-on-exec),
//! 4. places the executable just above the table (close-on-exec),
//! 5. closes every other descriptor (`close_range` over the gaps below the
//!    executable and everything above it), whatever its close-on-exec flag,
//! 6. unblocks every signal (an empty mask, as a new program expects),
//! 7. `execveat(exe, "", argv, envp, AT_EMPTY_PATH)`: no `PATH` search and no
//!    lookup by name.
//!
//! The parent stays suspended until the child has called `execve` or exited
//! (`CLONE_VFORK`). A failure in the child is written as `(step, errno)` to a
//! slot in the parent's memory that only the child writes, and the child
//! exits with 127; the parent reads the slot when it resumes, reaps the child
//! and reports the step and errno.
//!
//! Why `CLONE_VM`: a `fork` copies the parent's page tables and then takes a
//! copy-on-write fault for every page either side writes until the `exec`;
//! sharing the memory costs nothing, whatever the parent's size. The price
//! is that the child runs in the parent's memory: it must not allocate,
//! take a lock, or write anything but its own stack and the result slot (it
//! shares the parent's thread-local `errno`, which the parent does not read
//! after a successful clone).
//!
//! # References
//! - clone(2) `CLONE_VM`, `CLONE_VFORK`, `CLONE_PIDFD`; execveat(2),
//!   close_range(2), signal-safety(7); glibc's `posix_spawn` (`spawni.c`)
//!   does the same dance for `std::process::Command`
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{Facts, Prepared};

/// What the child applies between `clone` and `exec`: its sandbox, prepared
/// in the parent. It runs in a child that shares the parent's memory
/// (`CLONE_VM`) on a small stack of its own, with every signal blocked, so
/// implementations must be async-signal-safe: no allocation, no locks, no
/// write to memory outside their own stack frame, only system calls on data
/// prepared beforehand. Every descriptor of the parent is still open when it
/// runs; the table is placed, and everything else closed, after it returns.
pub trait ChildSetup {
    /// Applies the sandbox in the child. Returns an errno on failure.
    fn apply_in_child(&self) -> Result<(), i32>;
}

/// The steps a child reports on failure.
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

/// The child's stack: an anonymous mapping with an inaccessible guard page
/// at its low end (the stack grows down on every architecture this backend
/// builds for), so an overflow faults instead of writing into the parent's
/// memory. Unmapped on drop, after the child has left it (`CLONE_VFORK`).
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

impl ChildStack {
    /// Room for the child's frames: the sequence it runs is a few calls
    /// deep, with small frames (no buffers on the stack beyond a few words),
    /// even in a debug build.
    const SIZE: usize = 64 * 1024;
    const GUARD: usize = 4096;

    fn new() -> io::Result<Self> {
        let len = Self::SIZE + Self::GUARD;
        // SAFETY: a new private anonymous mapping; no existing memory is
        // touched, and the result is checked before use.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Self { base, len };
        // SAFETY: the first page of the mapping made above, which nothing
        // uses yet.
        if unsafe { libc::mprotect(base, Self::GUARD, libc::PROT_NONE) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer: the end of the mapping (page-aligned, so
    /// 16-byte aligned as every ABI here requires).
    fn top(&self) -> *mut libc::c_void {
        self.base.cast::<u8>().wrapping_add(self.len).cast()
    }
}

thread_local! {
    /// The stack of this thread's last spawn, kept for the next one (a
    /// mapping and its guard page cost three system calls and the first
    /// touch of each page). Taken out while a spawn uses it, so a nested or
    /// concurrent spawn on the same thread (a signal handler's) maps its own.
    static SPARE_STACK: std::cell::Cell<Option<ChildStack>> = const { std::cell::Cell::new(None) };
}

impl ChildStack {
    /// This thread's spare stack, or a new one.
    fn take() -> io::Result<Self> {
        match SPARE_STACK.try_with(std::cell::Cell::take) {
            Ok(Some(stack)) => Ok(stack),
            _ => Self::new(),
        }
    }

    /// Keeps the stack for this thread's next spawn (unmapped if the thread
    /// is exiting or already keeps one).
    fn keep(self) {
        let _ = SPARE_STACK.try_with(|spare| {
            if let Some(other) = spare.replace(Some(self)) {
                spare.set(Some(other));
            }
        });
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; the child that
        // ran on it has exec'd or exited (CLONE_VFORK), so nothing uses it.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Blocks every signal of the calling thread until dropped, then restores the
/// mask it had. With the raw system call (not `pthread_sigmask`): the C
/// library's wrapper leaves its own internal signals unblocked, and their
/// handlers must not run in the child either.
struct SignalsBlocked {
    old: u64,
    blocked: bool,
}

impl SignalsBlocked {
    fn new() -> Self {
        let all = u64::MAX;
        let mut old = 0u64;
        // SAFETY: the kernel reads one 8-byte mask from `all` and writes the
        // old one to `old`, both live locals of that size (the size
        // argument); SIGKILL and SIGSTOP are silently left out by the kernel.
        let blocked = unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                std::ptr::from_ref(&all),
                std::ptr::from_mut(&mut old),
                8usize,
            )
        } == 0;
        Self { old, blocked }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        if self.blocked {
            // SAFETY: restores the mask saved in `new`; reads 8 bytes from a
            // live field.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigprocmask,
                    libc::SIG_SETMASK,
                    std::ptr::from_ref(&self.old),
                    std::ptr::null_mut::<u64>(),
                    8usize,
                );
            }
        }
    }
}

/// Spawns the child; see the module documentation for what happens in it.
/// `setup` is applied in the child before its table is placed.
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
    // The executable goes just above the table.
    let exe_slot = top + 1;
    let floor = top + 2;

    // Sources above every slot, so no dup3 in the child overwrites one.
    let mut sources: Vec<(OwnedFd, RawFd)> = Vec::with_capacity(req.table.len());
    for (target, source) in req.table {
        sources.push((dup_above(source.as_raw_fd(), floor)?, *target));
    }
    sources.sort_unstable_by_key(|(_, t)| *t);
    let pairs: Vec<(RawFd, RawFd)> = sources.iter().map(|(s, t)| (s.as_raw_fd(), *t)).collect();
    let exe = dup_above(req.exe.as_raw_fd(), floor)?;
    // A `#!` script is run by its interpreter, which the kernel hands
    // `/dev/fd/N` for the script: that descriptor must survive the exec.
    // A binary's descriptor closes on exec, so the program never holds it.
    let exe_flags = if is_script(exe.as_raw_fd()) {
        0
    } else {
        libc::O_CLOEXEC
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
    let mut child = Child {
        pairs: &pairs,
        exe: exe.as_raw_fd(),
        exe_slot,
        exe_flags,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        empty: c"",
        setup,
        failed: None,
    };
    let stack = ChildStack::take()?;

    let mut pidfd: libc::c_int = -1;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD;
    let ret = {
        let _blocked = SignalsBlocked::new();
        // SAFETY: `child_main` runs on `stack` (its own mapping, with a
        // guard page) and reads only `child`, the vectors and the table
        // above, and the prepared `setup`, all of which outlive it: with
        // CLONE_VFORK this thread is suspended until the child has exec'd
        // or exited, so nothing here is dropped or changed meanwhile. The
        // child writes only its stack and `child.failed` (and the shared
        // thread-local errno). It allocates nothing and takes no lock, so a
        // lock another thread of the parent holds cannot deadlock it, and
        // every signal is blocked (the child inherits the mask) until it has
        // reset the handlers, so no handler of the parent runs on its
        // stack. Without CLONE_FILES, CLONE_SIGHAND or CLONE_THREAD its
        // descriptor table, signal handlers, credentials, seccomp filters
        // and Landlock domain are its own. With CLONE_PIDFD the kernel
        // stores the pidfd in `pidfd` (the parent_tid argument).
        unsafe {
            libc::clone(
                child_main,
                stack.top(),
                flags,
                std::ptr::from_mut(&mut child).cast(),
                std::ptr::from_mut(&mut pidfd),
            )
        }
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // The child has left it: exec'd or exited.
    stack.keep();
    let pid = ret;
    // SAFETY: CLONE_PIDFD succeeded, so the kernel stored a new descriptor
    // (close-on-exec) in `pidfd`, owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    // The child's copies are its own: ours close here.
    drop(exe);
    drop(sources);

    // SAFETY: a plain read of a local the child may have written before it
    // exited; it has exec'd or exited by now (CLONE_VFORK), and the volatile
    // read keeps the compiler from assuming the value it had before the
    // clone.
    let Some((step, errno)) = (unsafe { std::ptr::read_volatile(&raw const child.failed) }) else {
        return Ok(Spawned { pidfd, pid });
    };
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
    let os = io::Error::from_raw_os_error(errno);
    Err(io::Error::new(
        os.kind(),
        SpawnError {
            step: Some(step),
            errno,
        },
    ))
}

/// Whether the file behind `fd` starts with `#!` (read with `pread`, which
/// leaves its offset alone). A descriptor that cannot be read (opened for
/// exec only) is taken for a binary.
fn is_script(fd: RawFd) -> bool {
    let mut head = [0u8; 2];
    // SAFETY: `head` is a live, writable 2-byte buffer for the duration of
    // the call; pread writes at most that many bytes into it.
    let n = unsafe { libc::pread(fd, head.as_mut_ptr().cast(), head.len(), 0) };
    n == 2 && head == *b"#!"
}

/// What the child reads: raw pointers and numbers into the parent's memory,
/// which the suspended parent keeps alive and unchanged; and the one slot the
/// child writes.
struct Child<'a> {
    pairs: &'a [(RawFd, RawFd)],
    exe: RawFd,
    exe_slot: RawFd,
    /// `O_CLOEXEC`, or 0 for a `#!` script (see [`is_script`]).
    exe_flags: libc::c_int,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    empty: &'static CStr,
    setup: Option<&'a dyn ChildSetup>,
    /// Written by the child before it exits on a failure.
    failed: Option<(ChildStep, i32)>,
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Child` on the suspended parent's stack (see the
    // clone in `spawn`): live until this child has exec'd or exited, and
    // touched by nobody else meanwhile.
    let child = unsafe { &mut *arg.cast::<Child<'_>>() };
    child.run()
}

impl Child<'_> {
    /// Runs in the child: never returns.
    fn run(&mut self) -> ! {
        let failed = match self.prepare() {
            Ok(()) => {
                // SAFETY: argv and envp are NULL-terminated arrays of
                // NUL-terminated strings that the suspended parent keeps
                // alive; the empty path with AT_EMPTY_PATH executes the
                // descriptor.
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
        self.failed = Some(failed);
        // SAFETY: exits without running any destructor or atexit handler
        // (the parent's, which this child must not run).
        unsafe { libc::_exit(127) }
    }

    fn prepare(&self) -> Result<(), (ChildStep, i32)> {
        reset_signal_handlers()?;
        if let Some(setup) = self.setup {
            setup
                .apply_in_child()
                .map_err(|e| (ChildStep::Sandbox, e))?;
        }
        // SAFETY: dup3 takes integers only; it changes this child's own
        // descriptor table (a copy: no CLONE_FILES).
        unsafe {
            for &(source, target) in self.pairs {
                if libc::syscall(libc::SYS_dup3, source, target, 0) < 0 {
                    return Err((ChildStep::Table, last_errno()));
                }
            }
            if libc::syscall(libc::SYS_dup3, self.exe, self.exe_slot, self.exe_flags) < 0 {
                return Err((ChildStep::Table, last_errno()));
            }
        }
        // The gaps below the exe slot that are not targets, then everything
        // above it.
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
        close_range(self.exe_slot + 1, RawFd::MAX)?;
        let empty = 0u64;
        // SAFETY: the kernel reads one 8-byte mask from a live local.
        if unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                std::ptr::from_ref(&empty),
                std::ptr::null_mut::<u64>(),
                8usize,
            )
        } < 0
        {
            return Err((ChildStep::Signals, last_errno()));
        }
        Ok(())
    }
}

/// The highest signal number (`_NSIG - 1` on every architecture here).
const LAST_SIGNAL: libc::c_int = 64;
/// `SIG_DFL` and `SIG_IGN` as the kernel's handler word holds them.
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

/// In the child, with every signal blocked: every signal the parent catches
/// goes back to its default action (a handler of the parent must not run in
/// the child, whose memory is the parent's), and `SIGPIPE` too (the Rust
/// runtime ignores it; a new program expects the default). Other ignored
/// signals stay ignored, as `posix_spawn` and `std` leave them.
fn reset_signal_handlers() -> Result<(), (ChildStep, i32)> {
    // The kernel's `struct sigaction`: handler first (SIG_DFL is 0, SIG_IGN
    // 1), then flags, (restorer,) mask. All zero: the default action.
    let default = [0u64; 4];
    for sig in 1..=LAST_SIGNAL {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let mut old = [0u64; 4];
        // SAFETY: reads the action into `old`, a live buffer at least as
        // large as the kernel's struct on every architecture here.
        if unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                std::ptr::null::<u64>(),
                old.as_mut_ptr(),
                8usize,
            )
        } < 0
        {
            return Err((ChildStep::Signals, last_errno()));
        }
        let handler = old[0];
        if handler == SIG_DFL || (handler == SIG_IGN && sig != libc::SIGPIPE) {
            continue;
        }
        // SAFETY: the kernel reads the action from `default`, a live buffer.
        if unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                default.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            )
        } < 0
        {
            return Err((ChildStep::Signals, last_errno()));
        }
    }
    Ok(())
}

fn close_range(first: RawFd, last: RawFd) -> Result<(), (ChildStep, i32)> {
    // SAFETY: close_range takes integers only; it closes descriptors of this
    // child (its own table), whose Rust owners live in the parent.
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
/// only applies them between `clone` and `exec`
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
        // stacked filters are this thread's (capabilities are per thread).
        let (bounding, setpcap) = thread_capabilities();
        // Inside a sandbox the probes themselves may be refused by this
        // process's filter: the kernel's abilities were recorded on entry.
        // Outside one they are probed once: they do not change.
        let (landlock_abi, seccomp_available) = match crate::report() {
            Some(r) => (r.landlock_abi_kernel, r.seccomp.is_some()),
            None => {
                *KERNEL_ABILITIES.get_or_init(|| (super::sys::landlock_abi(), seccomp_available()))
            }
        };
        // Only whether a filter is stacked matters here (the rehearsal of
        // entering, which a child does not run): PR_GET_SECCOMP says 2 then.
        let filtered = super::sys::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) == Ok(2);
        let facts = Facts {
            landlock_abi,
            seccomp_available,
            threads: Ok(1),
            seccomp_filters: usize::from(filtered),
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
        self.prepared.into_report()
    }
}

/// The running kernel's Landlock ABI and whether it has the seccomp actions
/// the filter uses, probed by the first spawn outside a sandbox.
static KERNEL_ABILITIES: std::sync::OnceLock<(u32, bool)> = std::sync::OnceLock::new();

thread_local! {
    /// This thread's bounding set as first read, by capability number.
    static BOUNDING: std::cell::OnceCell<Vec<u32>> = const { std::cell::OnceCell::new() };
}

/// The calling thread's bounding set and whether it has `CAP_SETPCAP`
/// (needed to drop it), which its child starts with.
///
/// `CAP_SETPCAP` is read each time (`capget`). The bounding set is read once
/// per thread (`PR_CAPBSET_READ` for each capability the kernel knows) and
/// kept: no call can add to a thread's bounding set, so the kept list is
/// always a superset of the current one, and dropping a capability that is
/// already gone succeeds. The child therefore drops everything its parent
/// thread still has, exactly as with a fresh read, without a read per spawn.
/// (Per thread, not per process: a thread that dropped capabilities does not
/// speak for one that did not.)
fn thread_capabilities() -> (Vec<u32>, bool) {
    let setpcap = super::caps::has_setpcap();
    if !setpcap {
        return (Vec::new(), false);
    }
    let kept = BOUNDING.try_with(|b| {
        if let Some(caps) = b.get() {
            return Some(caps.clone());
        }
        let caps = read_bounding().ok()?;
        Some(b.get_or_init(|| caps).clone())
    });
    // Unreadable this way (a filter refusing the prctl): the process's
    // status, read each time as before.
    let bounding = kept.ok().flatten().unwrap_or_else(|| {
        super::fds::status()
            .map(|s| s.bounding())
            .unwrap_or_default()
    });
    (bounding, true)
}

/// The calling thread's bounding set, one `PR_CAPBSET_READ` per capability
/// up to the first the kernel does not know (`EINVAL`); the errno of any
/// other failure.
fn read_bounding() -> Result<Vec<u32>, i32> {
    let mut caps = Vec::new();
    for cap in 0..64u32 {
        match super::sys::prctl(libc::PR_CAPBSET_READ, cap.into(), 0, 0, 0) {
            Ok(1) => caps.push(cap),
            Ok(_) => {}
            Err(libc::EINVAL) if cap > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(caps)
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
