//! `cap_core::process`: children spawned from executable handles, each test
//! in fresh processes. This binary is its own helper: run with `child CASE
//! ...` it is the child, with `parent CASE` a fresh parent that locks itself
//! first; without arguments it runs every test (harness = false, so each
//! test's processes are its own).
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use cap_core::fs::{Dir, File};
use cap_core::net::UnixStream;
use cap_core::process::{Channel, Command, Program, Signal, Stdio, inherited};
use cap_core::rights::ReadOnly;
use cap_core::sandbox::{InheritedFds, Sandbox};
use cap_core::{ambient_authority, rights};

mod support;
use support::Test;

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
    cap_core::fs::raw_os_error(e).unwrap_or(-1)
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
        "fds" | "fds_at" => {
            // fd 5 (or args[0]): /proc, so the child can list its own
            // descriptors.
            let at = args.first().map_or(5, |a| a.parse().unwrap());
            let proc: Dir<ReadOnly> = inherited(at).unwrap();
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
        "open2" => {
            // fd 3 and 4: read-only dirs, each with a file `f.txt`.
            let a: Dir<ReadOnly> = inherited(3).unwrap();
            let b: Dir<ReadOnly> = inherited(4).unwrap();
            let a = a
                .read_to_string("f.txt")
                .map_or_else(|e| errno_of(&e), |_| 0);
            let b = b
                .read_to_string("f.txt")
                .map_or_else(|e| errno_of(&e), |_| 0);
            println!("{a} {b}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("unknown child case {other}");
            ExitCode::from(99)
        }
    }
}

// ---- parent side ----

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

fn t_high_table_target() {
    // A target far above the parent's descriptors: the child closes the gap
    // below it, where the parent's own descriptors (the Landlock ruleset's
    // among them) are. Its sandbox must be applied all the same.
    let (exe, libs) = (me(), libs());
    let proc: Dir<ReadOnly> = Dir::open_ambient_dir("/proc", ambient_authority()).unwrap();
    let (code, out) = run_child(&exe, &libs, "fds_at", |c| c.handle(40, &proc).arg("40"));
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), "[0, 1, 2, 40]");
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

// ---- fresh parents that lock themselves first ----

fn parent(case: &str, args: &[String]) -> ExitCode {
    if case == "macro" {
        // Before anything is opened: the prologue closes what it inherits.
        return macro_program();
    }
    let exe = me();
    let libs = libs();
    match case {
        // The parent holds the executable but its sandbox does not grant
        // Exec (the descriptor is kept, not granted).
        "noexec" | "exec" => {
            let mut sandbox = Sandbox::new().inherited_fds(InheritedFds::Keep);
            if case == "exec" {
                sandbox = sandbox.grant(&exe).grant(&libs);
            }
            sandbox.enter().unwrap();
            // `unsandboxed`: no child sandbox to prepare, so what is refused
            // is the spawn itself (clone or execveat), by the kernel.
            let cmd = Command::new(&exe)
                .args(["child", "exit", "3"])
                .loader_dir(&libs);
            let cmd = if args.first().is_some_and(|a| a == "unsandboxed") {
                cmd.unsandboxed(ambient_authority())
            } else {
                cmd
            };
            match cmd.spawn() {
                Ok(mut c) => println!("exit {:?}", c.wait().unwrap().code()),
                Err(e) => println!("refused {e}"),
            }
        }
        // The parent's sandbox grants `a` only; it also holds `b`. The
        // child's table has both: its own ruleset allows both, the parent's
        // (stacked) does not allow `b`.
        "exceed" => {
            let a: Dir<ReadOnly> = Dir::open_ambient_dir(&args[0], ambient_authority()).unwrap();
            let b: Dir<ReadOnly> = Dir::open_ambient_dir(&args[1], ambient_authority()).unwrap();
            Sandbox::new()
                .inherited_fds(InheritedFds::Keep)
                .grant(&exe)
                .grant(&libs)
                .grant(&a)
                .enter()
                .unwrap();
            let (code, out) = run_child(&exe, &libs, "open2", |c| c.handle(3, &a).handle(4, &b));
            println!("{code:?} {}", out.trim());
        }
        other => {
            eprintln!("unknown parent case {other}");
            return ExitCode::from(99);
        }
    }
    ExitCode::SUCCESS
}

/// `program` declares a spawnable program: the prologue opens it and its
/// loader directory and grants both (Exec) before the lock.
#[cap_core::sandboxed(prog = program(default = "/bin/true"))]
fn macro_program(prog: Program) -> ExitCode {
    let report = cap_core::sandbox::report().unwrap();
    for h in &report.handles {
        println!("{} {}", h.origin, h.rights);
    }
    let _ = prog.command();
    ExitCode::SUCCESS
}

fn t_sandboxed_declares_a_program() {
    let out = run_parent("macro", &[]);
    assert!(out.contains("/bin/true [Read, Exec]"), "{out}");
    assert!(
        out.contains(&format!("{} [Lookup, Read, Exec]", real_libs())),
        "{out}"
    );
}

/// Where the loader really is (`/lib64/ld-linux-x86-64.so.2`, resolved).
fn real_libs() -> String {
    let ld = std::fs::canonicalize("/lib64/ld-linux-x86-64.so.2").unwrap();
    ld.parent().unwrap().display().to_string()
}

fn run_parent(case: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("parent")
        .arg(case)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "parent {case}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn t_spawn_without_exec_handle_refused() {
    // Without an Exec handle in the parent's sandbox the kernel refuses the
    // spawn (EPERM from seccomp: no exec group; with the exec-group change,
    // already the clone).
    let refused = run_parent("noexec", &["unsandboxed"]);
    assert!(refused.starts_with("refused"), "{refused}");
    assert!(refused.contains("(os error 1)"), "{refused}");
    // Refused at the spawn (today at execveat; with the exec-group change at
    // clone), not while preparing a child sandbox (there is none).
    assert!(!refused.contains("child sandbox"), "{refused}");
}

fn t_spawn_with_exec_handle_in_locked_parent() {
    // The twin of the test above: with an Exec handle, it works, strict.
    assert_eq!(run_parent("exec", &[]), "exit Some(3)");
}

fn t_child_cannot_exceed_parent() {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["a", "b"] {
        std::fs::create_dir(tmp.path().join(d)).unwrap();
        std::fs::write(tmp.path().join(d).join("f.txt"), d).unwrap();
    }
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let out = run_parent("exceed", &[a.to_str().unwrap(), b.to_str().unwrap()]);
    let eacces = rustix::io::Errno::ACCESS.raw_os_error();
    // a (granted to both): read; b (in the child's table only): refused.
    assert_eq!(out, format!("Some(0) 0 {eacces}"));
}

fn t_cannot_signal_parent_or_sibling() {
    let (exe, libs) = (me(), libs());
    let sibling = Command::new(&exe)
        .args(["child", "sleep"])
        .loader_dir(&libs)
        .spawn()
        .unwrap();
    let parent = std::process::id().to_string();
    let sib = sibling.id().to_string();
    let (code, out) = run_child(&exe, &libs, "signal", |c| c.arg(&parent).arg(&sib));
    assert_eq!(code, Some(0));
    let eperm = rustix::io::Errno::PERM.raw_os_error();
    assert_eq!(out.trim(), format!("{eperm} {eperm} 0"));
    // The twin: an unsandboxed child can.
    let (code, out) = run_child(&exe, &libs, "signal", |c| {
        c.arg(&parent).arg(&sib).unsandboxed(ambient_authority())
    });
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), "0 0 0");
    drop(sibling);
}

fn t_exec_by_path_and_memfd_refused() {
    let (exe, libs) = (me(), libs());
    let (code, out) = run_child(&exe, &libs, "exec", |c| c);
    assert_eq!(code, Some(0));
    let eacces = rustix::io::Errno::ACCESS.raw_os_error();
    let eperm = rustix::io::Errno::PERM.raw_os_error();
    // /bin/true is outside every Exec handle of the child: Landlock refuses
    // it; memfd_create is refused by seccomp.
    assert_eq!(out.trim(), format!("{eacces} {eperm}"));
    // The twin: unsandboxed, both work.
    let (code, out) = run_child(&exe, &libs, "exec", |c| c.unsandboxed(ambient_authority()));
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), "0 0");
    // Beneath a dir handle, a name cannot leave it.
    let bin: Dir<rights![Lookup, Exec]> =
        Dir::open_ambient_dir("/usr/bin", ambient_authority()).unwrap();
    let err = Command::beneath(&bin, "../bin/true").spawn().unwrap_err();
    assert!(err.to_string().contains("../bin/true"), "{err}");
    let mut ok = Command::beneath(&bin, "true")
        .loader_dir(&libs)
        .spawn()
        .unwrap();
    assert!(ok.wait().unwrap().success());
}

fn t_dynamic_program_needs_its_loader_dirs() {
    let libs = libs();
    let true_: Exe = File::open_ambient("/bin/true", ambient_authority()).unwrap();
    let mut child = Command::new(&true_).loader_dir(&libs).spawn().unwrap();
    assert!(child.wait().unwrap().success());
    let report = child.report().unwrap();
    assert!(
        report.handles.iter().any(|h| h.origin == LIBS),
        "{report:?}"
    );
    // The twin: without them, the kernel refuses to load the interpreter.
    let err = Command::new(&true_).spawn().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
}

fn t_drop_kills_and_reaps() {
    let (exe, libs) = (me(), libs());
    let child = Command::new(&exe)
        .args(["child", "sleep"])
        .loader_dir(&libs)
        .spawn()
        .unwrap();
    let proc = format!("/proc/{}", child.id());
    assert!(Path::new(&proc).exists());
    drop(child);
    // Killed and reaped: not even a zombie is left.
    assert!(!Path::new(&proc).exists(), "{proc} is still there");
}

fn t_handles_over_a_socket() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.txt"), "sent").unwrap();
    let dir: Dir<ReadOnly> = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    a.send_handle(&dir).unwrap();
    let got: Dir<ReadOnly> = b.recv_handle().unwrap();
    assert_eq!(got.read_to_string("f.txt").unwrap(), "sent");
    assert_eq!(got.rights(), dir.rights());
    // Asking for more than was sent: an error naming the missing rights.
    a.send_handle(&dir).unwrap();
    let err = b
        .recv_handle::<Dir<rights![Lookup, Read, Write]>>()
        .unwrap_err();
    assert!(err.to_string().contains("Write"), "{err}");
    // Another kind than sent: an error.
    a.send_handle(&dir).unwrap();
    let err = b.recv_handle::<File<rights![Read]>>().unwrap_err();
    assert!(err.to_string().contains("Dir"), "{err}");
    // Dynamic takes exactly what was sent.
    a.send_handle(&dir).unwrap();
    let dynamic: Dir<cap_core::rights::Dynamic> = b.recv_handle().unwrap();
    assert_eq!(dynamic.rights(), dir.rights());

    // And to a sandboxed child, over a channel in its table.
    let (exe, libs) = (me(), libs());
    let file: File<rights![Read]> = dir.open("f.txt").unwrap().narrow();
    let (parent, child_end) = Channel::<String>::pair().unwrap();
    let mut child = Command::new(&exe)
        .args(["child", "recv"])
        .loader_dir(&libs)
        .handle(3, child_end.socket())
        .spawn()
        .unwrap();
    drop(child_end);
    parent.send_handle(&file).unwrap();
    parent.send_handle(&file).unwrap();
    let reply = parent.recv().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    let (contents, wider) = reply.split_once('|').unwrap();
    assert_eq!(contents, "sent");
    assert!(wider.contains("missing [Write]"), "{wider}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        return child(&args[2], &args[3..]);
    }
    if args.get(1).map(String::as_str) == Some("parent") {
        return parent(&args[2], &args[3..]);
    }
    let tests = [
        Test::new("exit_status_and_kill", t_exit_status_and_kill),
        Test::new("fd_table_only", t_fd_table_only),
        Test::new("high_table_target", t_high_table_target),
        Test::new("cannot_open_outside", t_cannot_open_outside),
        Test::new(
            "spawn_without_exec_handle_refused",
            t_spawn_without_exec_handle_refused,
        ),
        Test::new(
            "spawn_with_exec_handle_in_locked_parent",
            t_spawn_with_exec_handle_in_locked_parent,
        ),
        Test::new("child_cannot_exceed_parent", t_child_cannot_exceed_parent),
        Test::new(
            "cannot_signal_parent_or_sibling",
            t_cannot_signal_parent_or_sibling,
        ),
        Test::new(
            "exec_by_path_and_memfd_refused",
            t_exec_by_path_and_memfd_refused,
        ),
        Test::new(
            "dynamic_program_needs_its_loader_dirs",
            t_dynamic_program_needs_its_loader_dirs,
        ),
        Test::new("drop_kills_and_reaps", t_drop_kills_and_reaps),
        Test::new("handles_over_a_socket", t_handles_over_a_socket),
        Test::new(
            "sandboxed_declares_a_program",
            t_sandboxed_declares_a_program,
        ),
    ];
    support::run_tests(&args, &tests)
}
