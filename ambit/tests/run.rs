//! `ambit run` end to end: each test runs the built `ambit` binary as a fresh
//! process on real system binaries (`/bin/cat`, `/bin/sh`, `/bin/bash`,
//! `/usr/bin/env`), and every denial has an allowed twin. Linux only.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const AMBIT: &str = env!("CARGO_BIN_EXE_ambit");

fn ambit(args: &[&str]) -> Output {
    Command::new(AMBIT)
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ambit")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// A temporary tree: `in/data` (readable), `out/` (writable), `secret`
/// (outside every grant).
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("in")).unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("in/data"), "inside\n").unwrap();
        std::fs::write(dir.path().join("secret"), "outside\n").unwrap();
        std::fs::set_permissions(
            dir.path().join("secret"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        Self { dir }
    }

    fn p(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_str().unwrap().to_owned()
    }
}

#[test]
fn cat_reads_a_file_under_ro_and_not_one_elsewhere_even_as_root() {
    let t = Tree::new();
    let (inside, secret) = (t.p("in/data"), t.p("secret"));
    let base = ["--system", "--exec", "/bin/cat", "--ro", &t.p("in"), "--"];
    let ok = ambit(&[&base[..], &["/bin/cat", &inside]].concat());
    assert!(ok.status.success(), "{}", show(&ok));
    assert_eq!(text(&ok.stdout), "inside\n");
    // `secret` is 0600 and ours: whoever runs the tests (root in CI) could
    // read it, the sandboxed cat cannot.
    assert!(std::fs::read(&secret).is_ok());
    let denied = ambit(&[&base[..], &["/bin/cat", &secret]].concat());
    assert_eq!(denied.status.code(), Some(1), "{}", show(&denied));
    assert!(
        text(&denied.stderr).contains("Permission denied"),
        "{}",
        show(&denied)
    );
    assert!(denied.stdout.is_empty());
}

#[test]
fn sh_writes_under_rw_and_not_under_ro() {
    let t = Tree::new();
    let script = format!(
        "echo written > {}/new && cat {}/new",
        t.p("out"),
        t.p("out")
    );
    let rw = ambit(&[
        "--system",
        "--exec",
        "/bin/sh",
        "--exec",
        "/bin/cat",
        "--rw",
        &t.p("out"),
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    assert!(rw.status.success(), "{}", show(&rw));
    assert_eq!(text(&rw.stdout), "written\n");
    std::fs::remove_file(t.p("out/new")).unwrap();
    let ro = ambit(&[
        "--system",
        "--exec",
        "/bin/sh",
        "--ro",
        &t.p("out"),
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    assert!(!ro.status.success(), "{}", show(&ro));
    assert!(
        text(&ro.stderr).contains("Permission denied"),
        "{}",
        show(&ro)
    );
    assert!(!Path::new(&t.p("out/new")).exists());
}

#[test]
fn a_dynamically_linked_program_runs_with_system_and_not_without() {
    let ok = ambit(&["--system", "--exec", "/bin/true", "--", "/bin/true"]);
    assert!(ok.status.success(), "{}", show(&ok));
    let bare = ambit(&["--exec", "/bin/true", "--", "/bin/true"]);
    assert_eq!(bare.status.code(), Some(126), "{}", show(&bare));
    assert!(text(&bare.stderr).contains("--system"), "{}", show(&bare));
}

#[test]
fn connect_reaches_the_granted_port_and_not_the_next() {
    assert!(
        Path::new("/bin/bash").exists(),
        "the client is bash's /dev/tcp"
    );
    // Two listeners on loopback, on neighbouring ports.
    let (a, b) = loop {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p == u16::MAX {
            continue;
        }
        if let Ok(b) = TcpListener::bind(("127.0.0.1", p + 1)) {
            break (a, b);
        }
    };
    let p = a.local_addr().unwrap().port();
    let grant = format!("127.0.0.1:{p}");
    let client = |port: u16| {
        ambit(&[
            "--system",
            "--exec",
            "/bin/bash",
            "--connect",
            &grant,
            "--",
            "/bin/bash",
            "-c",
            &format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
        ])
    };
    let ok = client(p);
    assert!(ok.status.success(), "{}", show(&ok));
    assert_eq!(text(&ok.stdout), "connected\n");
    let next = client(p + 1);
    assert!(!next.status.success(), "{}", show(&next));
    assert!(
        text(&next.stderr).contains("Permission denied"),
        "{}",
        show(&next)
    );
    drop((a, b));
}

const PROBE: &str = env!("CARGO_BIN_EXE_ambit-net-probe");

fn probe(grant: &[&str], op: &str, target: &str) -> Output {
    ambit(
        &[
            &["--system", "--exec", PROBE][..],
            grant,
            &["--", PROBE, op, target],
        ]
        .concat(),
    )
}

#[test]
fn bind_allows_the_granted_port_and_not_another() {
    // A free port: bound and released (another test could take it between
    // the two, which only makes the allowed twin fail loudly).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let other = if port == u16::MAX { port - 1 } else { port + 1 };
    let grant = port.to_string();
    let ok = probe(
        &["--bind", &grant],
        "tcp-bind",
        &format!("127.0.0.1:{port}"),
    );
    assert!(ok.status.success(), "{}", show(&ok));
    let denied = probe(
        &["--bind", &grant],
        "tcp-bind",
        &format!("127.0.0.1:{other}"),
    );
    assert_eq!(denied.status.code(), Some(1), "{}", show(&denied));
    assert!(
        text(&denied.stderr).contains("ermission denied"),
        "{}",
        show(&denied)
    );
    // A connect grant is no bind grant.
    let no_bind = probe(
        &["--connect", &format!("127.0.0.1:{port}")],
        "tcp-bind",
        &format!("127.0.0.1:{port}"),
    );
    assert_eq!(no_bind.status.code(), Some(1), "{}", show(&no_bind));
}

#[test]
fn unix_allows_unix_sockets_and_without_it_none_is_made() {
    let t = Tree::new();
    let path = t.p("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let ok = probe(&["--unix", &path], "unix-connect", &path);
    assert!(ok.status.success(), "{}", show(&ok));
    let denied = probe(&[], "unix-connect", &path);
    assert_eq!(denied.status.code(), Some(1), "{}", show(&denied));
    assert!(
        text(&denied.stderr).contains("not permitted"),
        "{}",
        show(&denied)
    );
    let missing = probe(&["--unix", &t.p("nosock")], "unix-connect", &path);
    assert_eq!(missing.status.code(), Some(2), "{}", show(&missing));
    assert!(
        text(&missing.stderr).contains("--unix"),
        "{}",
        show(&missing)
    );
}

#[test]
fn exec_outside_every_exec_grant_fails() {
    // The shell may run cat only when cat is granted.
    let run = |extra: &[&str]| {
        ambit(
            &[
                &["--system", "--exec", "/bin/sh", "--ro", "/etc/hostname"][..],
                extra,
                &["--", "/bin/sh", "-c", "/bin/cat /etc/hostname"],
            ]
            .concat(),
        )
    };
    let ok = run(&["--exec", "/bin/cat"]);
    assert!(ok.status.success(), "{}", show(&ok));
    let denied = run(&[]);
    assert_eq!(denied.status.code(), Some(126), "{}", show(&denied));
    assert!(
        text(&denied.stderr).contains("Permission denied"),
        "{}",
        show(&denied)
    );
    // PROGRAM itself outside every --exec: refused before anything runs.
    let out = ambit(&[
        "--system",
        "--exec",
        "/bin/sh",
        "--",
        "/bin/cat",
        "/etc/hostname",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("`/bin/cat` is not beneath an --exec"),
        "{}",
        show(&out)
    );
    // A bare name is looked up in the --exec directories, never in PATH.
    let bare = ambit(&["--system", "--exec", "/bin/sh", "--", "cat"]);
    assert_eq!(bare.status.code(), Some(2), "{}", show(&bare));
    assert!(
        text(&bare.stderr).contains("PATH is not searched"),
        "{}",
        show(&bare)
    );
    let found = ambit(&["--system", "--exec", "/bin", "--", "true"]);
    assert!(found.status.success(), "{}", show(&found));
}

#[test]
fn only_named_environment_variables_reach_the_program() {
    let out = Command::new(AMBIT)
        .args([
            "run",
            "--system",
            "--exec",
            "/usr/bin/env",
            "--env",
            "AMBIT_KEEP",
            "--env",
            "AMBIT_SET=one=1",
            "--env",
            "AMBIT_UNSET",
            "--",
            "/usr/bin/env",
        ])
        .env("AMBIT_KEEP", "kept")
        .env("AMBIT_DROP", "dropped")
        .env_remove("AMBIT_UNSET")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(
        lines,
        ["AMBIT_KEEP=kept", "AMBIT_SET=one=1"],
        "{}",
        show(&out)
    );
}

#[test]
fn the_exit_status_and_a_terminating_signal_pass_through() {
    let sh = ["--system", "--exec", "/bin/sh", "--", "/bin/sh", "-c"];
    let seven = ambit(&[&sh[..], &["exit 7"]].concat());
    assert_eq!(seven.status.code(), Some(7), "{}", show(&seven));
    let killed = ambit(&[&sh[..], &["kill -TERM $$"]].concat());
    assert_eq!(killed.status.code(), Some(128 + 15), "{}", show(&killed));
    assert!(killed.stderr.is_empty(), "{}", show(&killed));
    let reported = ambit(&[&["--report"][..], &sh[..], &["kill -KILL $$"]].concat());
    assert_eq!(reported.status.code(), Some(128 + 9), "{}", show(&reported));
    let err = text(&reported.stderr);
    assert!(
        err.contains("capability mode") && err.contains("killed by signal 9"),
        "{err}"
    );
}

#[test]
fn a_signal_sent_to_ambit_is_forwarded_to_the_program() {
    let mut child = Command::new(AMBIT)
        .args([
            "run",
            "--system",
            "--exec",
            "/bin",
            "--",
            "/bin/sh",
            "-c",
            "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let kill = Command::new("/bin/kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "got TERM\n");
    assert_eq!(child.wait().unwrap().code(), Some(42));
}

#[test]
fn bad_command_lines_are_errors_with_the_usage_or_the_path() {
    let missing = ambit(&["--ro", "/nonexistent/ambit-test", "--", "/bin/true"]);
    assert_eq!(missing.status.code(), Some(2));
    let err = text(&missing.stderr);
    assert!(
        err.contains("--ro /nonexistent/ambit-test: No such file"),
        "{err}"
    );
    let unknown = ambit(&["--frobnicate", "--", "/bin/true"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = text(&unknown.stderr);
    assert!(
        err.contains("unknown option `--frobnicate`") && err.contains("usage:"),
        "{err}"
    );
    let no_dashes = ambit(&["--system", "/bin/true"]);
    assert_eq!(no_dashes.status.code(), Some(2));
    let err = text(&no_dashes.stderr);
    assert!(
        err.contains("`/bin/true` before `--`") && err.contains("usage:"),
        "{err}"
    );
    let no_dashes = ambit(&["--system"]);
    assert!(text(&no_dashes.stderr).contains("missing `--`"));
    let help = ambit(&["--help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("--connect HOST:PORT"));
}

#[test]
fn a_policy_file_equivalent_to_the_options_behaves_the_same() {
    let t = Tree::new();
    let policy = t.dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 1\nsystem = true\n[[file]]\npath = \"/bin/cat\"\naccess = \"exec\"\n\
             [[dir]]\npath = \"{}\"\naccess = \"ro\"\n",
            t.p("in")
        ),
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    let ok = ambit(&["--policy", policy, "--", "/bin/cat", &t.p("in/data")]);
    assert!(ok.status.success(), "{}", show(&ok));
    assert_eq!(text(&ok.stdout), "inside\n");
    let denied = ambit(&["--policy", policy, "--", "/bin/cat", &t.p("secret")]);
    assert_eq!(denied.status.code(), Some(1), "{}", show(&denied));
    // The same report as the options give.
    let report = |args: &[&str]| {
        let o = ambit(&[&["--dry-run"][..], args, &["--", "/bin/cat"]].concat());
        assert!(o.status.success(), "{}", show(&o));
        let out = text(&o.stdout);
        // The handles in order, without their descriptor numbers (the
        // order of opening differs).
        let mut lines: Vec<String> = out[out.find("capability mode").unwrap()..]
            .lines()
            .map(|l| match l.find(" fd ") {
                Some(i) => {
                    let rest = l[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
                    format!("{}{}", &l[..i], rest.trim_start())
                }
                None => l.to_owned(),
            })
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(
        report(&["--policy", policy]),
        report(&["--system", "--exec", "/bin/cat", "--ro", &t.p("in")])
    );
    let bad = t.dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\nsystme = true\n").unwrap();
    let refused = ambit(&["--policy", bad.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    let err = text(&refused.stderr);
    assert!(err.contains("systme") && err.contains("bad.toml"), "{err}");
}

fn status_line<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} in {status}"))
        .trim()
}

#[test]
fn root_runs_the_program_without_capabilities_and_set_uid_gains_nothing() {
    // A set-uid-root copy of cat in a directory of our own.
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("suid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cat = dir.join("cat");
    std::fs::copy("/bin/cat", &cat).unwrap();
    std::fs::set_permissions(&cat, std::fs::Permissions::from_mode(0o4755)).unwrap();
    for program in ["/bin/cat", cat.to_str().unwrap()] {
        let out = ambit(&[
            "--system",
            "--exec",
            program,
            "--ro",
            "/proc",
            "--",
            program,
            "/proc/self/status",
        ]);
        assert!(out.status.success(), "{}", show(&out));
        let status = text(&out.stdout);
        for key in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
            assert_eq!(
                status_line(&status, key),
                "0000000000000000",
                "{key} of {program}"
            );
        }
        assert_eq!(status_line(&status, "NoNewPrivs:"), "1");
        assert_eq!(status_line(&status, "Seccomp:"), "2");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dry_run_lists_the_system_preset_and_runs_nothing() {
    let t = Tree::new();
    let marker = t.p("out/marker");
    let out = ambit(&[
        "--system",
        "--dry-run",
        "--exec",
        "/bin/sh",
        "--rw",
        &t.p("out"),
        "--",
        "/bin/sh",
        "-c",
        &format!("echo > {marker}"),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let plan = text(&out.stdout);
    for shown in [
        "ambit run plan",
        "(--system)",
        "/etc/ld.so.cache",
        "capability mode",
        "seccomp",
    ] {
        assert!(plan.contains(shown), "{shown} in {plan}");
    }
    assert!(!Path::new(&marker).exists());
}

/// A `#!` script given as PROGRAM runs: its interpreter reads it through the
/// descriptor it was started from (`/dev/fd/N`), which therefore stays open
/// across the exec for a script. The script still reads only what it was
/// granted, and without an exec grant on the interpreter it does not start.
#[test]
fn a_script_runs_with_its_interpreter_granted_and_stays_confined() {
    let t = Tree::new();
    let bin = t.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = bin.join("show");
    std::fs::write(
        &script,
        "#!/bin/sh\nread line < \"$1\" || exit 3\necho \"got $line\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = script.to_str().unwrap().to_owned();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let sh = sh.to_str().unwrap();
    let (inside, secret) = (t.p("in/data"), t.p("secret"));
    let bin_dir = t.p("bin");
    let base = [
        "--system",
        "--exec",
        &bin_dir,
        "--exec",
        sh,
        "--ro",
        &t.p("in"),
        "--",
    ];
    let ok = ambit(&[&base[..], &[&script, &inside]].concat());
    assert!(ok.status.success(), "{}", show(&ok));
    assert_eq!(text(&ok.stdout), "got inside\n");
    let denied = ambit(&[&base[..], &[&script, &secret]].concat());
    assert_eq!(denied.status.code(), Some(3), "{}", show(&denied));
    assert!(
        !text(&denied.stdout).contains("outside"),
        "{}",
        show(&denied)
    );
    // Without the interpreter's exec grant the kernel refuses to start it.
    let no_sh = ambit(&[
        "--system",
        "--exec",
        &bin_dir,
        "--ro",
        &t.p("in"),
        "--",
        &script,
        &inside,
    ]);
    assert!(!no_sh.status.success(), "{}", show(&no_sh));
}
