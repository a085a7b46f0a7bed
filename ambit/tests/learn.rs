//! `ambit learn`, each case in fresh processes: this binary is its own
//! helper. Run as `learn ARGS...` it is `ambit learn ARGS...` (the library's
//! `ambit::learn::main`); without arguments it runs every test (harness =
//! false, so each observed program is a child of a fresh process, never of
//! the multi-threaded test harness).
//!
//! The enforcement half runs the `ambit` binary's `run --policy` on the
//! learned file.
#![cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), no_main)]
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::path::Path;
use std::process::{Command, ExitCode, Output};

use ambit::policy::PolicyFile;

/// Runs `ambit learn --out POLICY -- ARGS...` in a fresh process; returns
/// its output and the parsed policy.
fn learn(policy: &Path, args: &[&str]) -> (Output, PolicyFile, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("learn")
        .arg("--out")
        .arg(policy)
        .arg("--")
        .args(args)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(policy).unwrap_or_else(|e| {
        panic!(
            "no policy written ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let parsed = PolicyFile::parse(&text, "learned").unwrap();
    (out, parsed, text)
}

fn dir_access<'a>(p: &'a PolicyFile, path: &Path) -> Option<&'a str> {
    let path = std::fs::canonicalize(path).unwrap();
    p.dirs
        .iter()
        .find(|g| g.path == path)
        .and_then(|g| g.access.as_deref())
}

/// The script reads one directory and writes another; the learned policy
/// grants exactly those (ro, rw), the shell's and cat's directory (exec),
/// and the system preset.
fn t_shell_script_reads_one_dir_writes_another() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, output) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::create_dir(&input).unwrap();
    std::fs::create_dir(&output).unwrap();
    std::fs::write(input.join("a"), "hello\n").unwrap();
    let script = format!(
        "cat {}/a > {}/b && ls {} >/dev/null",
        input.display(),
        output.display(),
        input.display()
    );
    let policy = tmp.path().join("p.toml");
    let (out, p, text) = learn(&policy, &["/bin/sh", "-c", &script]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(output.join("b")).unwrap(),
        "hello\n"
    );
    assert_eq!(dir_access(&p, &input), Some("ro"), "{text}");
    assert_eq!(dir_access(&p, &output), Some("rw"), "{text}");
    assert_eq!(
        dir_access(&p, Path::new("/usr/bin")),
        Some("exec"),
        "{text}"
    );
    assert!(p.system, "{text}");
    // Nothing else of the temporary directory is granted.
    let canon_tmp = std::fs::canonicalize(tmp.path()).unwrap();
    assert!(
        !p.dirs.iter().any(|g| g.path == canon_tmp),
        "the parent is not granted:\n{text}"
    );
    // Every observed call's arguments were read.
    assert!(!text.contains("could not be read"), "{text}");
    // Each grant says which accesses produced it.
    assert!(
        text.contains(&format!(
            "openat {}/a",
            std::fs::canonicalize(&input).unwrap().display()
        )),
        "{text}"
    );
}

/// The learned policy, enforced with `ambit run --policy`, lets the same
/// script succeed, and refuses a read outside it (the twin: the same script
/// plus one `cat` of a file in a sibling directory fails, and its content is
/// not printed).
fn t_learned_policy_enforced_by_ambit_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, output, other) = (
        tmp.path().join("in"),
        tmp.path().join("out"),
        tmp.path().join("other"),
    );
    for d in [&input, &output, &other] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(input.join("a"), "hello\n").unwrap();
    std::fs::write(other.join("secret"), "SECRET\n").unwrap();
    let script = format!(
        "cat {in_}/a > {out}/b && rm {out}/b && cat {in_}/a > {out}/c && cat {out}/c",
        in_ = input.display(),
        out = output.display(),
    );
    let policy = tmp.path().join("p.toml");
    let (learned, _, text) = learn(&policy, &["/bin/sh", "-c", &script]);
    assert!(learned.status.success(), "{learned:?}");
    std::fs::remove_file(output.join("c")).unwrap();

    let run = |script: &str| {
        Command::new(env!("CARGO_BIN_EXE_ambit"))
            .arg("run")
            .arg("--policy")
            .arg(&policy)
            .args(["--", "/bin/sh", "-c", script])
            .output()
            .unwrap()
    };
    let allowed = run(&script);
    assert!(
        allowed.status.success(),
        "the learned policy must let the same script run: {allowed:?}\n{text}"
    );
    assert_eq!(String::from_utf8_lossy(&allowed.stdout), "hello\n");
    assert_eq!(
        std::fs::read_to_string(output.join("c")).unwrap(),
        "hello\n"
    );

    let escape = format!("{script}; cat {}/secret", other.display());
    let refused = run(&escape);
    assert!(!refused.status.success(), "{refused:?}\n{text}");
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(!stdout.contains("SECRET"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("secret: Permission denied"),
        "{refused:?}"
    );
}

/// Entry changes: `mkdir -p` grants only the directory it really creates
/// in (the existing ancestors' `mkdir` fail with EEXIST and are noted, not
/// granted), `rm -f` of a missing file grants nothing, and a rename makes
/// both directories `rw`.
fn t_entry_changes_grant_only_what_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
    for d in [&a, &b, &c] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(a.join("f"), "x").unwrap();
    let script = format!(
        "mkdir -p {a}/new/deeper && rm -f {c}/none && mv {a}/f {b}/g",
        a = a.display(),
        b = b.display(),
        c = c.display()
    );
    let policy = root.join("p.toml");
    let (out, p, text) = learn(&policy, &["/bin/sh", "-c", &script]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(dir_access(&p, &a), Some("rw"), "{text}");
    assert_eq!(dir_access(&p, &b), Some("rw"), "{text}");
    // a/new is merged into a; nothing above a, nothing for c.
    let granted: Vec<&Path> = p.dirs.iter().map(|g| g.path.as_path()).collect();
    for not in [
        root.join("a/new"),
        c.clone(),
        root.clone(),
        "/tmp".into(),
        "/".into(),
    ] {
        assert!(
            !granted.contains(&not.as_path()),
            "{} granted:\n{text}",
            not.display()
        );
    }
}

/// A signal sent to `ambit learn` is passed to the program, and what the
/// program did until then is still written: the way to learn a server is to
/// run it, use it, and stop it.
fn t_a_signal_stops_the_program_and_the_policy_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let work = root.join("work");
    std::fs::create_dir(&work).unwrap();
    let ready = work.join("ready");
    let policy = root.join("p.toml");
    let script = format!("echo up > {}; exec sleep 30", ready.display());
    let mut learn = Command::new(std::env::current_exe().unwrap())
        .env("PATH", "/nonexistent/bin:/usr/local/bin:/usr/bin:/bin")
        .arg("learn")
        .arg("--out")
        .arg(&policy)
        .args(["--", "/bin/sh", "-c", &script])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ready.exists() {
        assert!(start.elapsed().as_secs() < 20, "the program never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("/bin/kill")
        .args(["-TERM", &learn.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = learn.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "{status:?}");
    assert!(start.elapsed().as_secs() < 20, "sleep 30 was not stopped");
    let text = std::fs::read_to_string(&policy).unwrap();
    let p = PolicyFile::parse(&text, "learned").unwrap();
    assert_eq!(dir_access(&p, &work), Some("rw"), "{text}");
    assert!(text.contains("killed by signal 15"), "{text}");
    // `exec sleep` tried each PATH entry; only the one that exists is granted.
    let exec_dirs: Vec<&Path> = p
        .dirs
        .iter()
        .filter(|g| g.access.as_deref() == Some("exec"))
        .map(|g| g.path.as_path())
        .collect();
    assert_eq!(exec_dirs, [Path::new("/usr/bin")], "{text}");
}

/// Reopening a descriptor by path (`cat /dev/stdin`, stdin a file) is
/// learned as a read of the file it is open on, which is what Landlock
/// checks: enforced, the learned policy lets it run, and without that grant
/// the reopen is refused.
fn t_reopening_a_descriptor_learns_its_file() {
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("a"), "hi\n").unwrap();
    let policy = root.join("p.toml");
    let stdin = || Stdio::from(std::fs::File::open(data.join("a")).unwrap());
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["learn", "--out"])
        .arg(&policy)
        .args(["--", "/bin/cat", "/dev/stdin"])
        .stdin(stdin())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&policy).unwrap();
    let p = PolicyFile::parse(&text, "learned").unwrap();
    assert_eq!(dir_access(&p, &data), Some("ro"), "{text}");
    let run = |policy: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ambit"))
            .arg("run")
            .arg("--policy")
            .arg(policy)
            .args(["--", "/bin/cat", "/dev/stdin"])
            .stdin(stdin())
            .output()
            .unwrap()
    };
    let allowed = run(&policy);
    assert!(allowed.status.success(), "{allowed:?}\n{text}");
    assert_eq!(allowed.stdout, b"hi\n");
    let mut without = p.clone();
    without.dirs.retain(|g| g.path != data);
    let narrower = root.join("narrower.toml");
    std::fs::write(&narrower, toml::to_string(&without).unwrap()).unwrap();
    let refused = run(&narrower);
    assert!(!refused.status.success(), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Permission denied"),
        "{refused:?}"
    );
}

/// A descendant left running keeps `ambit learn` waiting (its calls are
/// still observed); a signal to ambit stops the wait, the policy is written
/// and the status is the program's.
fn t_a_signal_stops_the_wait_for_a_leftover_descendant() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let pidfile = root.join("pid");
    let policy = root.join("p.toml");
    let script = format!(
        "sleep 30 >/dev/null 2>&1 & echo $! > {}.tmp && mv {0}.tmp {0}",
        pidfile.display()
    );
    let mut learn = Command::new(std::env::current_exe().unwrap())
        .args(["learn", "--out"])
        .arg(&policy)
        .args(["--", "/bin/sh", "-c", &script])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !pidfile.exists() {
        assert!(start.elapsed().as_secs() < 20, "the program never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let leftover = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    // The program has exited; learn is still waiting for `sleep`.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(learn.try_wait().unwrap().is_none(), "learn did not wait");
    assert!(!policy.exists());
    let term = Command::new("/bin/kill")
        .args(["-TERM", &learn.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = learn.wait().unwrap();
    // The leftover `sleep` (started by this test's script) is ended by its id.
    let _ = Command::new("/bin/kill")
        .args(["-KILL", &leftover])
        .status();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let text = std::fs::read_to_string(&policy).unwrap();
    let p = PolicyFile::parse(&text, "learned").unwrap();
    assert_eq!(dir_access(&p, &root), Some("rw"), "{text}");
}

/// The program's exit status is learn's; a signal becomes 128 + N; a
/// program that cannot be run is an error (2) naming it.
fn t_exit_status_passes_through() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("p.toml");
    let (out, _, _) = learn(&policy, &["/bin/sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let (out, _, text) = learn(&policy, &["/bin/sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(128 + 15), "{out:?}");
    assert!(text.contains("killed by signal 15"), "{text}");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["learn", "--", "/nonexistent/prog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/prog"), "{err}");
    // Without --out the policy goes to stdout, after the program.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["learn", "--", "/bin/true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let p = PolicyFile::parse(&String::from_utf8_lossy(&out.stdout), "stdout").unwrap();
    assert_eq!(dir_access(&p, Path::new("/usr/bin")), Some("exec"));
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["learn", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

/// Descendants are observed: a grandchild's write (a subshell in the
/// background, waited for) is in the policy.
fn t_descendants_are_observed() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("deep");
    std::fs::create_dir(&deep).unwrap();
    let script = format!("( /bin/sh -c 'echo x > {}/f' ) & wait", deep.display());
    let policy = tmp.path().join("p.toml");
    let (out, p, text) = learn(&policy, &["/bin/sh", "-c", &script]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(dir_access(&p, &deep), Some("rw"), "{text}");
}

/// A TCP connect to a loopback port and a bind are learned as
/// `[[connect]] addr` and `[[bind]] port`, a unix-socket connect as
/// `[[unix_connect]] path`, and a UDP connect is noted, not granted.
fn t_sockets_are_learned() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind_port = free.local_addr().unwrap().port();
    drop(free);
    let accept = std::thread::spawn(move || listener.accept().map(|_| ()));
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("p.toml");
    let sock = tmp.path().join("s.sock");
    let unix = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let udp_port = bind_port.wrapping_add(1);
    // bash's /dev/tcp would do the connect; python3 does every call.
    let code = format!(
        "import socket\n\
         c = socket.create_connection(('127.0.0.1', {port}))\n\
         c.close()\n\
         s = socket.socket()\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', {bind_port}))\n\
         s.close()\n\
         u = socket.socket(socket.AF_UNIX)\n\
         u.connect('{sock}')\n\
         u.close()\n\
         d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         d.connect(('127.0.0.1', {udp_port}))\n\
         d.close()\n",
        sock = sock.display()
    );
    let (out, p, text) = learn(&policy, &["/usr/bin/python3", "-S", "-c", &code]);
    assert!(out.status.success(), "{out:?}");
    accept.join().unwrap().unwrap();
    assert!(
        p.connect
            .iter()
            .any(|c| c.addr == format!("127.0.0.1:{port}")),
        "{text}"
    );
    assert!(p.bind.iter().any(|b| b.port == bind_port), "{text}");
    drop(unix);
    let sock = std::fs::canonicalize(tmp.path()).unwrap().join("s.sock");
    assert!(p.unix_connect.iter().any(|u| u.path == sock), "{text}");
    // UDP is not a grant (Landlock does not restrict it): a comment says so.
    assert!(
        !p.connect
            .iter()
            .any(|c| c.addr.ends_with(&format!(":{udp_port}"))),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "UDP sockets (not restricted by Landlock): 1 access: connect 127.0.0.1:{udp_port}"
        )),
        "{text}"
    );
}

struct Test {
    name: &'static str,
    run: fn(),
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).and_then(|a| a.to_str()) == Some("learn") {
        return ambit::learn::main(args[2..].to_vec());
    }
    let tests = [
        Test {
            name: "shell_script_reads_one_dir_writes_another",
            run: t_shell_script_reads_one_dir_writes_another,
        },
        Test {
            name: "learned_policy_enforced_by_ambit_run",
            run: t_learned_policy_enforced_by_ambit_run,
        },
        Test {
            name: "entry_changes_grant_only_what_succeeds",
            run: t_entry_changes_grant_only_what_succeeds,
        },
        Test {
            name: "a_signal_stops_the_program_and_the_policy_is_written",
            run: t_a_signal_stops_the_program_and_the_policy_is_written,
        },
        Test {
            name: "reopening_a_descriptor_learns_its_file",
            run: t_reopening_a_descriptor_learns_its_file,
        },
        Test {
            name: "a_signal_stops_the_wait_for_a_leftover_descendant",
            run: t_a_signal_stops_the_wait_for_a_leftover_descendant,
        },
        Test {
            name: "exit_status_passes_through",
            run: t_exit_status_passes_through,
        },
        Test {
            name: "descendants_are_observed",
            run: t_descendants_are_observed,
        },
        Test {
            name: "sockets_are_learned",
            run: t_sockets_are_learned,
        },
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut failed = 0;
    for t in &tests {
        if !filter.is_empty() && !filter.iter().any(|f| t.name.contains(f.as_str())) {
            continue;
        }
        let ok = std::panic::catch_unwind(t.run).is_ok();
        println!("test {} ... {}", t.name, if ok { "ok" } else { "FAILED" });
        failed += usize::from(!ok);
    }
    if failed > 0 {
        println!("{failed} failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
