//! Signals around `cap_runtime::linux::spawn`: a parent's signal handler
//! never runs in the child (which shares the parent's memory until it
//! exec's), and the child starts with default dispositions and an empty
//! mask, whatever the parent caught, ignored or blocked.
//!
//! Each case runs in a fresh process (this binary re-executed with the
//! case's name), since it installs handlers and masks signals; the race
//! case in a process group of its own, which it signals as a whole.
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]
// Installing handlers and masking signals has no safe std API: this test
// makes the calls itself, each with a SAFETY comment.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

use cap_runtime::linux::spawn::{ChildSandbox, SpawnRequest, Spawned, spawn};
use cap_runtime::{Mode, Policy, Rights};

/// The parent's pid, for the handler to tell parent from child.
static PARENT: AtomicI32 = AtomicI32::new(0);
/// Times the handler ran in the parent.
static IN_PARENT: AtomicUsize = AtomicUsize::new(0);
/// Times the handler ran anywhere else: in a child before its exec (the
/// child shares this memory, so its writes land here).
static IN_CHILD: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_usr1(_: libc::c_int) {
    // SAFETY: getpid is async-signal-safe and takes no argument; the raw
    // call asks the kernel, not a cache.
    let pid = unsafe { libc::syscall(libc::SYS_getpid) };
    if pid == i64::from(PARENT.load(Ordering::SeqCst)) {
        IN_PARENT.fetch_add(1, Ordering::SeqCst);
    } else {
        IN_CHILD.fetch_add(1, Ordering::SeqCst);
    }
}

fn catch_usr1() {
    PARENT.store(std::process::id().cast_signed(), Ordering::SeqCst);
    // SAFETY: a zeroed sigaction is valid (empty mask, no flags); the handler
    // is an `extern "C" fn(c_int)` that only touches atomics and makes one
    // async-signal-safe system call.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_usr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
        act.sa_flags = libc::SA_RESTART;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &raw const act, std::ptr::null_mut()),
            0
        );
    }
}

fn block_usr2() {
    // SAFETY: `set` is initialised by sigemptyset before sigaddset and
    // pthread_sigmask read it.
    unsafe {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGUSR2);
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut()),
            0
        );
    }
}

/// The `Sig*` masks of a `/proc/<pid>/status` text, by line name.
fn masks(status: &str) -> std::collections::BTreeMap<String, u64> {
    status
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let v = u64::from_str_radix(v.trim(), 16).ok()?;
            k.starts_with("Sig").then(|| (k.to_string(), v))
        })
        .collect()
}

fn bit(sig: libc::c_int) -> u64 {
    1 << (sig - 1)
}

fn open(path: &str) -> OwnedFd {
    std::fs::File::open(path).unwrap().into()
}

fn wait(child: &Spawned) -> Option<i32> {
    loop {
        let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: `info` is a writable siginfo_t; P_PIDFD waits on our child.
        let r = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                child.pidfd.as_raw_fd().cast_unsigned(),
                info.as_mut_ptr(),
                libc::WEXITED,
            )
        };
        if r == 0 {
            // SAFETY: waitid returned 0 and filled the struct.
            let info = unsafe { info.assume_init() };
            // SAFETY: for WEXITED the status field is set.
            let status = unsafe { info.si_status() };
            return (info.si_code == libc::CLD_EXITED).then_some(status);
        }
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR)
        );
    }
}

/// `/bin/cat /proc/self/status` in a child sandboxed to the executable, the
/// loader's directory and `/proc` (read-only), its stdout a socket. (`cat`
/// installs no handler of its own, as `grep` does for `SIGSEGV`.)
fn child_status() -> String {
    let cat = open("/bin/cat");
    let ld = std::fs::canonicalize("/lib64/ld-linux-x86-64.so.2").unwrap();
    let libs = open(ld.parent().unwrap().to_str().unwrap());
    let proc = open("/proc");
    let mut policy = Policy::new();
    policy.file(
        cat.as_fd(),
        Rights::READ | Rights::EXEC,
        Path::new("/bin/cat"),
    );
    policy.dir(
        libs.as_fd(),
        Rights::LOOKUP | Rights::READ | Rights::EXEC,
        ld.parent().unwrap(),
    );
    policy.dir(
        proc.as_fd(),
        Rights::LOOKUP | Rights::READ,
        Path::new("/proc"),
    );
    let sandbox = ChildSandbox::prepare(&policy, Mode::Strict).unwrap();
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let args = ["cat", "/proc/self/status"].map(|a| CString::new(a).unwrap());
    let table: [(i32, BorrowedFd<'_>); 1] = [(1, theirs.as_fd())];
    let req = SpawnRequest {
        exe: cat.as_fd(),
        args: &args,
        env: &[],
        table: &table,
    };
    let child = spawn(&req, Some(&sandbox)).unwrap();
    drop(theirs);
    let mut out = String::new();
    ours.read_to_string(&mut out).unwrap();
    assert_eq!(wait(&child), Some(0), "{out}");
    out
}

/// The parent catches SIGUSR1, ignores SIGPIPE (the Rust runtime does) and
/// blocks SIGUSR2; its child starts with none of it. (The kernel resets
/// caught signals at exec anyway, so `SigCgt` is a sanity check; the mask and
/// ignored signals survive an exec, so `SigBlk` and `SigIgn` show what the
/// child did before it. Whether a handler ran before the exec is
/// `case_race`'s question.)
fn case_dispositions() -> ExitCode {
    catch_usr1();
    block_usr2();
    let parent = masks(&std::fs::read_to_string("/proc/thread-self/status").unwrap());
    // The twin: the parent really has them.
    assert_ne!(parent["SigCgt"] & bit(libc::SIGUSR1), 0, "{parent:?}");
    assert_ne!(parent["SigBlk"] & bit(libc::SIGUSR2), 0, "{parent:?}");
    assert_ne!(parent["SigIgn"] & bit(libc::SIGPIPE), 0, "{parent:?}");
    let child = masks(&child_status());
    assert_eq!(child["SigBlk"], 0, "blocked in the child: {child:?}");
    assert_eq!(child["SigCgt"], 0, "caught in the child: {child:?}");
    assert_eq!(
        child["SigIgn"] & bit(libc::SIGPIPE),
        0,
        "SIGPIPE ignored in the child: {child:?}"
    );
    // Restored in the parent after the spawn.
    let after = masks(&std::fs::read_to_string("/proc/thread-self/status").unwrap());
    assert_eq!(after["SigBlk"], parent["SigBlk"], "{after:?}");
    println!("ok {child:?}");
    ExitCode::SUCCESS
}

/// The parent catches SIGUSR1 while a thread sends it to the whole process
/// group (the parent and every child alive) as fast as it can, and the
/// parent spawns children: the handler runs in the parent, never in a child.
fn case_race() -> ExitCode {
    catch_usr1();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let killer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                // SAFETY: kill takes integers only; 0 is this process group,
                // which the test made for this process.
                unsafe { libc::kill(0, libc::SIGUSR1) };
            }
        })
    };
    let exe = open("/bin/true");
    let args = [CString::new("true").unwrap()];
    let req = SpawnRequest {
        exe: exe.as_fd(),
        args: &args,
        env: &[],
        table: &[],
    };
    let mut exits = 0;
    for _ in 0..300 {
        let child = spawn(&req, None).unwrap();
        // Exit 0, or killed by SIGUSR1 after its exec (the default action).
        exits += usize::from(wait(&child).is_some());
    }
    stop.store(true, Ordering::SeqCst);
    killer.join().unwrap();
    let (parent, child) = (
        IN_PARENT.load(Ordering::SeqCst),
        IN_CHILD.load(Ordering::SeqCst),
    );
    println!("handler in parent {parent}, in a child {child}, exits {exits}");
    assert!(parent > 0, "the signals were not delivered");
    assert_eq!(child, 0, "a parent's handler ran in a child");
    ExitCode::SUCCESS
}

fn run(case: &str, own_group: bool) -> bool {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.arg(case);
    if own_group {
        cmd.process_group(0);
    }
    let out = cmd.output().unwrap();
    let ok = out.status.success();
    println!(
        "test {case} ... {}\n{}{}",
        if ok { "ok" } else { "FAILED" },
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ok
}

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("dispositions") => case_dispositions(),
        Some("race") => case_race(),
        _ => {
            let ok = run("dispositions", false) & run("race", true);
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
