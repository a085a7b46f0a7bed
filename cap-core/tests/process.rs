//! `cap_core::process`: children spawned from executable handles, each test
//! in fresh processes. This binary is its own helper: run with `child CASE
//! ...` it is the child, with `parent CASE` a fresh parent that locks itself
//! first; without arguments it runs every test (harness = false, so each
//! test's processes are its own).
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::io::Read;
use std::process::ExitCode;

use cap_core::fs::{Dir, File};
use cap_core::net::UnixStream;
use cap_core::process::{Channel, Command, Signal, Stdio, inherited};
use cap_core::rights::ReadOnly;
use cap_core::sandbox::{InheritedFds, Mode, Sandbox};
use cap_core::{ambient_authority, rights};

type Exe = File<rights![Read, Exec]>;
type Loader = Dir<rights![Lookup, Read, Exec]>;

/// The directory the dynamic loader and libc live in (where `/lib64/ld-linux-x86-64.so.2` resolves).
const LIBS: &str = "/lib/x86_64-linux-gnu";

fn me() -> Exe {
    File::open_ambient(std::env::current_exe().unwrap(), ambient_authority()).unwrap()
}

fn libs() -> Loader {
    Dir::open_ambient_dir(LIBS, ambient_authority()).unwrap()
}

/// Runs this binary as a child doing `case`, sandboxed with the table `f`
/// builds; returns (exit code, stdout).
fn run_child<'a>(
    exe: &'a Exe,
    libs: &'a Loader,
    case: &str,
    f: impl FnOnce(Command<'a>) -> Command<'a>,
) -> (Option<i32>, String) {
    let cmd = Command::new(exe)
        .arg("child")
        .arg(case)
        .loader_dir(libs)
        .stdout(Stdio::Piped);
    let mut child = f(cmd).spawn().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), out)
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(-1)
}

// ---- child side ----

fn child(case: &str, args: &[String]) -> ExitCode {
    match case {
        "true" => ExitCode::SUCCESS,
        "exit" => ExitCode::from(args[0].parse::<u8>().unwrap()),
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_secs(30));
            ExitCode::SUCCESS
        }
        "fds" => {
            // fd 5: /proc, so the child can list its own descriptors.
            let proc: Dir<ReadOnly> = inherited(5).unwrap();
            let mut fds: Vec<i32> = proc
                .read_dir("self/fd")
                .unwrap()
                .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
                .collect();
            // Leave out the listing's own descriptors, closed by now.
            fds.retain(|fd| proc.symlink_metadata(format!("self/fd/{fd}")).is_ok());
            fds.sort_unstable();
            println!("{fds:?}");
            ExitCode::SUCCESS
        }
        "open" => {
            // fd 3: a read-only dir; args[0]: a file beneath it, args[1]: a
            // file outside that the parent can read.
            let dir: Dir<ReadOnly> = inherited(3).unwrap();
            let inside = dir
                .read_to_string(&args[0])
                .map_or_else(|e| errno_of(&e), |_| 0);
            let outside = std::fs::read(&args[1]).map_or_else(|e| errno_of(&e), |_| 0);
            // args[2]: the file beneath the dir by absolute path, for writing.
            let write = std::fs::OpenOptions::new()
                .append(true)
                .open(&args[2])
                .map_or_else(|e| errno_of(&e), |_| 0);
            println!("{inside} {outside} {write}");
            ExitCode::SUCCESS
        }
        "signal" => {
            // args: pids of the parent and a sibling.
            let mut out = Vec::new();
            for pid in args {
                let pid = rustix::process::Pid::from_raw(pid.parse().unwrap()).unwrap();
                out.push(
                    rustix::process::test_kill_process(pid)
                        .map_or_else(rustix::io::Errno::raw_os_error, |()| 0),
                );
            }
            let me = rustix::process::getpid();
            out.push(
                rustix::process::test_kill_process(me)
                    .map_or_else(rustix::io::Errno::raw_os_error, |()| 0),
            );
            println!(
                "{}",
                out.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            ExitCode::SUCCESS
        }
        "exec" => {
            // Exec by path (std::process::Command) and of a memfd.
            let by_path = std::process::Command::new("/bin/true")
                .status()
                .map_or_else(|e| errno_of(&e), |s| if s.success() { 0 } else { -2 });
            let memfd = rustix::fs::memfd_create("x", rustix::fs::MemfdFlags::empty())
                .map_or_else(rustix::io::Errno::raw_os_error, |_| 0);
            println!("{by_path} {memfd}");
            ExitCode::SUCCESS
        }
        "recv" => {
            // fd 3: a channel; receive a file, read it, try to ask for more.
            let sock: UnixStream = inherited(3).unwrap();
            let ch = Channel::<String>::from_socket(sock);
            let file: File<rights![Read]> = ch.recv_handle().unwrap();
            let mut s = String::new();
            (&file).read_to_string(&mut s).unwrap();
            let wider = ch
                .recv_handle::<File<rights![Read, Write]>>()
                .map_or_else(|e| e.to_string(), |_| "granted".into());
            ch.send(&format!("{s}|{wider}")).unwrap();
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("unknown child case {other}");
            ExitCode::from(99)
        }
    }
}

// ---- parent side ----

struct Test {
    name: &'static str,
    run: fn(),
}

fn t_exit_status_and_kill() {
    let (exe, libs) = (me(), libs());
    let (code, _) = run_child(&exe, &libs, "exit", |c| c.arg("7"));
    assert_eq!(code, Some(7));
    let (code, _) = run_child(&exe, &libs, "true", |c| c);
    assert_eq!(code, Some(0));
    let mut child = Command::new(&exe)
        .args(["child", "sleep"])
        .loader_dir(&libs)
        .spawn()
        .unwrap();
    assert_eq!(child.try_wait().unwrap(), None);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc_sigkill()));
    assert_eq!(status.code(), None);
    assert!(!status.success());
    // Reaped: signalling again is refused by the handle, not sent to a pid.
    assert!(child.signal(Signal::TERM).is_err());
}

fn libc_sigkill() -> i32 {
    Signal::KILL.as_raw()
}

fn t_fd_table_only() {
    let (exe, libs) = (me(), libs());
    let proc: Dir<ReadOnly> = Dir::open_ambient_dir("/proc", ambient_authority()).unwrap();
    // A descriptor without close-on-exec: still closed in the child.
    let leak = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    rustix::io::fcntl_setfd(&leak, rustix::io::FdFlags::empty()).unwrap();
    let (code, out) = run_child(&exe, &libs, "fds", |c| c.handle(5, &proc));
    assert_eq!(code, Some(0));
    // 0, 1, 2 (stdio) and 5 (/proc): the table, nothing else.
    assert_eq!(out.trim(), "[0, 1, 2, 5]");
    // The twin: std's Command passes the descriptor without close-on-exec on.
    let out = std::process::Command::new("/bin/ls")
        .arg("/proc/self/fd")
        .output()
        .unwrap();
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let leaked = std::os::fd::AsRawFd::as_raw_fd(&leak).to_string();
    assert!(listed.contains(&leaked), "{listed:?}");
}

fn t_cannot_open_outside() {
    let (exe, libs) = (me(), libs());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("a")).unwrap();
    std::fs::write(tmp.path().join("a/in.txt"), "in").unwrap();
    std::fs::write(tmp.path().join("out.txt"), "out").unwrap();
    let a: Dir<ReadOnly> =
        Dir::open_ambient_dir(tmp.path().join("a"), ambient_authority()).unwrap();
    let outside = tmp.path().join("out.txt");
    // The parent can read it.
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "out");
    let (code, out) = run_child(&exe, &libs, "open", |c| {
        c.handle(3, &a)
            .arg("in.txt")
            .arg(&outside)
            .arg(tmp.path().join("a/in.txt"))
    });
    assert_eq!(code, Some(0));
    // inside: ok (twin); outside: EACCES (Landlock); write inside: EACCES.
    let eacces = rustix::io::Errno::ACCESS.raw_os_error();
    assert_eq!(out.trim(), format!("0 {eacces} {eacces}"));
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        return child(&args[2], &args[3..]);
    }
    let tests = [
        Test {
            name: "exit_status_and_kill",
            run: t_exit_status_and_kill,
        },
        Test {
            name: "fd_table_only",
            run: t_fd_table_only,
        },
        Test {
            name: "cannot_open_outside",
            run: t_cannot_open_outside,
        },
    ];
    let filter = args.get(1).filter(|a| !a.starts_with('-'));
    let mut failed = 0;
    for t in &tests {
        if filter.is_some_and(|f| !t.name.contains(f.as_str())) {
            continue;
        }
        let r = std::panic::catch_unwind(t.run);
        println!(
            "test {} ... {}",
            t.name,
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        failed += usize::from(r.is_err());
    }
    let _ = (InheritedFds::Keep, Mode::Strict, Sandbox::new());
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
