//! `cap_core::broker`: the broker process and `FileArgs`, each test in fresh
//! processes. This binary is its own helper: run as `program CASE ...` it is
//! a fresh program that makes a broker (single-threaded, before the lock),
//! locks itself where the case says, and prints what happened; without
//! arguments it runs every test (harness = false).
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use cap_core::broker::protocol::{self, FieldReader, Fields, HEADER, Header, Kind, MAX_FRAME};
use cap_core::broker::{Broker, BrokerError, FileArgs, ProbeOp};
use cap_core::fs::Dir;
use cap_core::rights::{ReadOnly, ReadWrite};
use cap_core::sandbox::{InheritedFds, Sandbox};
use cap_core::{Rights as R, ambient_authority, rights};

mod support;
use support::Test;

/// The FileArgs service is registered first: id 1; the probe second: 2.
const FILEARGS: u8 = 1;
const PROBE: u8 = 2;

// ---- the fresh program ----

fn lock(broker: &Broker, snapshot: InheritedFds) {
    Sandbox::new()
        .grant(broker)
        .inherited_fds(snapshot)
        .enter()
        .expect("lock the program");
}

fn errno_of(e: &std::io::Error) -> i32 {
    cap_core::fs::raw_os_error(e).unwrap_or(-1)
}

fn probe(broker: &Broker, op: ProbeOp, body: &[u8]) -> Result<u32, BrokerError> {
    probe_at(PROBE, broker, op, body)
}

/// The probe alone on its broker: id 1.
fn probe1(broker: &Broker, op: ProbeOp, body: &[u8]) -> Result<u32, BrokerError> {
    probe_at(1, broker, op, body)
}

fn probe_at(id: u8, broker: &Broker, op: ProbeOp, body: &[u8]) -> Result<u32, BrokerError> {
    let (reply, _) = broker.raw_call(id, op as u8, body)?;
    Ok(FieldReader::new(&reply).u32("errno").unwrap())
}

fn show(r: Result<u32, BrokerError>) -> String {
    r.map_or_else(|e| format!("error {e}"), |n| n.to_string())
}

fn open_request(path: &str, rights: R, flags: u8) -> Vec<u8> {
    Fields::new()
        .bytes(path.as_bytes())
        .u32(rights.bits())
        .u8(flags)
        .u32(0)
        .finish()
}

fn program(case: &str, args: &[String]) -> ExitCode {
    // First thing, as the #[sandboxed] prologue does: what was inherited.
    let snapshot = InheritedFds::snapshot();
    match case {
        "fileargs" => {
            // args: the input root, a read-write output root.
            let input: Dir<ReadOnly> =
                Dir::open_ambient_dir(&args[0], ambient_authority()).unwrap();
            let output: Dir<ReadWrite> =
                Dir::open_ambient_dir(&args[1], ambient_authority()).unwrap();
            let mut b = Broker::builder();
            let inputs = b.fileargs([input]);
            let outputs = b.fileargs([output]);
            let broker = b.spawn().unwrap();
            let inputs: FileArgs<ReadOnly> = broker.claim(inputs).unwrap();
            let outputs: FileArgs<ReadWrite> = broker.claim(outputs).unwrap();
            lock(&broker, snapshot);
            // Locked: the program itself cannot open the input by name.
            let direct = std::fs::read(Path::new(&args[0]).join("a.txt"))
                .map_or_else(|e| errno_of(&e), |_| 0);
            println!("direct {direct}");
            // The paths come after the lock, on stdin.
            for line in std::io::stdin().lock().lines() {
                let line = line.unwrap();
                let (op, path) = line.split_once(' ').unwrap();
                let out = match op {
                    "open" => inputs
                        .open(path)
                        .and_then(std::io::read_to_string)
                        .map(|s| s.trim().to_owned()),
                    "narrow" => inputs
                        .clone()
                        .narrow::<rights![Lookup, Read]>()
                        .open(path)
                        .and_then(std::io::read_to_string)
                        .map(|s| s.trim().to_owned()),
                    // The directory comes; using it for lookups is the
                    // program's own kernel policy's business (see the test).
                    "dir" => inputs.open_dir(path).map(|d| {
                        let read = d
                            .read_to_string("b.txt")
                            .map_or_else(|e| errno_of(&e), |_| 0);
                        format!("{} {} {read}", d.origin().display(), d.rights())
                    }),
                    "create" => outputs.create(path).and_then(|mut f| {
                        f.write_all(b"written")?;
                        Ok(f.rights().to_string())
                    }),
                    "append" => outputs
                        .open_with::<rights![Write]>(
                            path,
                            cap_core::fs::OpenOptions::new().append(true),
                        )
                        .and_then(|mut f| {
                            f.write_all(b"+")?;
                            Ok(f.rights().to_string())
                        }),
                    _ => panic!("{op}"),
                };
                match out {
                    Ok(s) => println!("ok {s}"),
                    Err(e) => println!("err {:?} {e}", e.kind()),
                }
            }
        }
        "lying" => {
            // args: a read-only root and a file in it.
            let input: Dir<ReadOnly> =
                Dir::open_ambient_dir(&args[0], ambient_authority()).unwrap();
            let mut b = Broker::builder();
            let _ = b.fileargs([input]);
            let broker = b.spawn().unwrap();
            lock(&broker, snapshot);
            let file = Path::new(&args[0]).join(&args[1]);
            let file = file.to_str().unwrap();
            for (what, rights, flags) in [
                ("read", R::READ, 0u8),
                ("write", R::READ | R::WRITE, 0),
                ("create", R::WRITE, 1),
                ("truncate", R::WRITE | R::TRUNCATE, 4),
                ("exec", R::READ | R::EXEC, 0),
            ] {
                match broker.raw_call(FILEARGS, 1, &open_request(file, rights, flags)) {
                    Ok((_, fds)) => println!("{what} ok {}", fds.len()),
                    Err(e) => println!("{what} refused {e}"),
                }
            }
            // A directory with a right the root lacks.
            let body = Fields::new()
                .bytes(args[0].as_bytes())
                .u32((R::LOOKUP | R::REMOVE).bits())
                .finish();
            match broker.raw_call(FILEARGS, 2, &body) {
                Ok(_) => println!("dir ok"),
                Err(e) => println!("dir refused {e}"),
            }
        }
        "escape" => {
            // args: the root, a file in it, a file outside, a TCP port and
            // a unix socket path that the test listens on.
            let input: Dir<ReadOnly> =
                Dir::open_ambient_dir(&args[0], ambient_authority()).unwrap();
            let mut b = Broker::builder();
            let _ = b.fileargs([input]);
            b.probe();
            let broker = b.spawn().unwrap();
            let report = broker.report().expect("the broker's report");
            println!(
                "report {} {} {}",
                report.landlock_abi,
                report.seccomp.is_some(),
                report.gaps.len()
            );
            let inside = Path::new(&args[0]).join(&args[1]);
            let s = |p: &str| Fields::new().str(p).finish();
            println!(
                "inside {}",
                show(probe(
                    &broker,
                    ProbeOp::ReadPath,
                    &s(inside.to_str().unwrap())
                ))
            );
            println!(
                "outside {}",
                show(probe(&broker, ProbeOp::ReadPath, &s(&args[2])))
            );
            println!(
                "passwd {}",
                show(probe(&broker, ProbeOp::ReadPath, &s("/etc/passwd")))
            );
            let tcp = format!("127.0.0.1:{}", args[3]);
            println!(
                "tcp {}",
                show(probe(&broker, ProbeOp::ConnectTcp, &s(&tcp)))
            );
            println!(
                "unix {}",
                show(probe(&broker, ProbeOp::ConnectUnix, &s(&args[4])))
            );
            // The program itself (not locked here) can connect: the twin.
            let me = std::net::TcpStream::connect(&tcp).map_or_else(|e| errno_of(&e), |_| 0);
            println!("program_tcp {me}");
        }
        "killed" => {
            // args: a root and a file in it.
            let input: Dir<ReadOnly> =
                Dir::open_ambient_dir(&args[0], ambient_authority()).unwrap();
            let mut b = Broker::builder();
            let inputs = b.fileargs([input]);
            b.probe();
            let broker = b.spawn().unwrap();
            let inputs = broker.claim(inputs).unwrap();
            println!("pid {}", broker.id());
            println!("before {}", inputs.open(&args[1]).is_ok());
            if args.get(2).map(String::as_str) == Some("locked") {
                lock(&broker, snapshot);
                // Locked, the program cannot signal; the broker dies on its own.
                let _ = probe(&broker, ProbeOp::Exit, &[]);
            } else {
                broker.kill().unwrap();
            }
            let start = Instant::now();
            let err = inputs.open(&args[1]).unwrap_err();
            println!(
                "after {} ms: {:?} {err}",
                start.elapsed().as_millis(),
                err.kind()
            );
        }
        "hung" => {
            let mut b = Broker::builder();
            b.probe();
            let broker = b.spawn().unwrap();
            lock(&broker, snapshot);
            let start = Instant::now();
            let r = probe1(&broker, ProbeOp::Sleep, &Fields::new().u32(5000).finish());
            println!("after {} ms: {}", start.elapsed().as_millis(), show(r));
            // The broker is still asleep: the next call times out too.
            let r = probe1(&broker, ProbeOp::Panic, &[]);
            println!("next {}", show(r));
        }
        "pdeathsig" => {
            let mut b = Broker::builder();
            b.probe();
            b.timeout(Duration::from_millis(200));
            let broker = b.spawn().unwrap();
            // The broker is busy (not reading its socket) for 30 s.
            let _ = probe1(&broker, ProbeOp::Sleep, &Fields::new().u32(30_000).finish());
            println!("pid {}", broker.id());
            std::io::stdout().flush().unwrap();
            // The test kills this process now.
            std::thread::sleep(Duration::from_secs(60));
        }
        "dropped" => {
            let mut b = Broker::builder();
            b.probe();
            let broker = b.spawn().unwrap();
            lock(&broker, snapshot);
            println!("pid {}", broker.id());
            // Locked: the drop cannot signal; the end of stream stops it.
            drop(broker);
            println!("dropped");
            std::io::stdout().flush().unwrap();
            let _ = std::io::stdin().lock().lines().count();
        }
        "threads" => {
            let t = std::thread::spawn(|| std::thread::sleep(Duration::from_secs(2)));
            let mut b = Broker::builder();
            b.probe();
            println!("{}", b.spawn().unwrap_err());
            drop(t);
        }
        "protocol" => {
            let mut b = Broker::builder();
            b.probe();
            let broker = b.spawn().unwrap();
            lock(&broker, snapshot);
            let frame = |kind: Kind, service: u8, id: u32, body: &[u8]| {
                let mut f = Header {
                    kind,
                    service,
                    op: ProbeOp::ReadPath as u8,
                    id,
                    len: u32::try_from(body.len()).unwrap(),
                }
                .encode()
                .to_vec();
                f.extend_from_slice(body);
                f
            };
            let good = frame(
                Kind::Request,
                1,
                11,
                &Fields::new().str("/nonexistent").finish(),
            );
            let mut version = good.clone();
            version[2] = 9;
            let mut length = good.clone();
            length[12..16].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
            let mut oversized = frame(Kind::Request, 1, 12, &[]);
            oversized.resize(HEADER + MAX_FRAME + 100, 0);
            let cases: Vec<(&str, Vec<u8>)> = vec![
                ("version", version),
                ("service", frame(Kind::Request, 77, 13, &[])),
                ("length", length),
                ("truncated", good[..good.len() - 3].to_vec()),
                ("oversized", oversized),
                ("garbage", b"xyz".to_vec()),
                ("reply", frame(Kind::Reply, 1, 14, &[])),
                ("body", frame(Kind::Request, 1, 15, &[1, 2])),
                ("good", good),
            ];
            for (name, f) in cases {
                let reply = broker.raw_exchange(&f).unwrap();
                let (h, body) = protocol::decode(&reply).unwrap();
                let mut r = FieldReader::new(body);
                let text = if h.kind == Kind::Error {
                    let _ = r.u8("kind").unwrap();
                    let _ = r.u32("errno").unwrap();
                    r.str("message").unwrap().to_owned()
                } else {
                    format!("errno {}", r.u32("errno").unwrap())
                };
                println!("{name} {:?} {} {text}", h.kind, h.id);
            }
        }
        other => {
            eprintln!("unknown case {other}");
            return ExitCode::from(99);
        }
    }
    ExitCode::SUCCESS
}

// ---- the tests ----

fn fresh(case: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("program")
        .arg(case)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{case}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Tree {
    _tmp: tempfile::TempDir,
    root: String,
    input: String,
    output: String,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_str().unwrap().to_owned();
    let input = format!("{root}/in");
    let output = format!("{root}/out");
    std::fs::create_dir_all(format!("{input}/sub")).unwrap();
    std::fs::create_dir_all(&output).unwrap();
    std::fs::create_dir_all(format!("{root}/in2")).unwrap();
    std::fs::write(format!("{input}/a.txt"), "alpha").unwrap();
    std::fs::write(format!("{input}/sub/b.txt"), "beta").unwrap();
    std::fs::write(format!("{root}/secret.txt"), "secret").unwrap();
    std::fs::write(format!("{root}/in2/a.txt"), "sibling").unwrap();
    std::os::unix::fs::symlink("../secret.txt", format!("{input}/out-link")).unwrap();
    std::os::unix::fs::symlink("a.txt", format!("{input}/in-link")).unwrap();
    std::os::unix::fs::symlink(format!("{root}/secret.txt"), format!("{input}/abs-link")).unwrap();
    Tree {
        _tmp: tmp,
        root,
        input,
        output,
    }
}

fn t_fileargs_opens_beneath_its_roots_after_the_lock() {
    let t = tree();
    let (i, r) = (&t.input, &t.root);
    let requests = [
        format!("open {i}/a.txt"),
        "open a.txt".to_owned(),
        format!("open {i}/sub/b.txt"),
        format!("open {i}/in-link"),
        format!("narrow {i}/a.txt"),
        format!("dir {i}/sub"),
        format!("create {}/new.txt", t.output),
        format!("append {}/new.txt", t.output),
        // The escapes and the paths outside.
        format!("open {i}/../secret.txt"),
        "open ../secret.txt".to_owned(),
        format!("open {i}/out-link"),
        format!("open {i}/abs-link"),
        format!("open {r}/secret.txt"),
        format!("open {r}/in2/a.txt"),
        "open /etc/passwd".to_owned(),
        format!("dir {i}/.."),
        // A read-only root cannot create (the type has no `create`; the
        // broker is asked through the output root only).
    ];
    let out = fresh("fileargs", &[i, &t.output], &(requests.join("\n") + "\n"));
    let lines: Vec<&str> = out.lines().collect();
    // The locked program cannot open the file by name itself.
    assert!(lines[0] == "direct 1" || lines[0] == "direct 13", "{out}");
    let replies = &lines[1..];
    assert_eq!(replies.len(), requests.len(), "{out}");
    // Allowed twins.
    assert_eq!(replies[0], "ok alpha");
    assert_eq!(replies[1], "ok alpha");
    assert_eq!(replies[2], "ok beta");
    assert_eq!(replies[3], "ok alpha");
    assert_eq!(replies[4], "ok alpha");
    // A Dir received after the lock: the handle is right, but lookups
    // beneath it are refused by the program's own sandbox, which held no
    // directory at the lock (seccomp: no fs group, EPERM; Landlock: no rule
    // for it): a documented gap of FileArgs::open_dir on Linux.
    assert_eq!(replies[5], format!("ok {i}/sub [Lookup, Read, Stat] 1"));
    assert!(
        replies[6].starts_with("ok ") && replies[6].contains("Write"),
        "{}",
        replies[6]
    );
    assert_eq!(replies[7], "ok [Write]");
    assert_eq!(
        std::fs::read_to_string(format!("{}/new.txt", t.output)).unwrap(),
        "written+"
    );
    // `..`, symlinks out (relative and absolute), and paths outside every root.
    for (n, reply) in replies[8..12].iter().enumerate() {
        assert!(
            reply.starts_with("err PermissionDenied"),
            "escape {n}: {reply}"
        );
        assert!(reply.contains("fileargs"), "{reply}");
    }
    for reply in &replies[12..15] {
        assert!(reply.starts_with("err PermissionDenied"), "{reply}");
        assert!(reply.contains("outside every root"), "{reply}");
        assert!(reply.contains(&format!("`{i}`")), "{reply}");
    }
    assert!(
        replies[15].starts_with("err PermissionDenied"),
        "{}",
        replies[15]
    );
}

fn t_broker_checks_rights_itself() {
    let t = tree();
    let out = fresh("lying", &[&t.input, "a.txt"], "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "read ok 1", "{out}");
    for (n, what) in ["write", "create", "truncate", "exec"].iter().enumerate() {
        let line = lines[n + 1];
        assert!(line.starts_with(&format!("{what} refused")), "{line}");
        assert!(line.contains("does not have"), "{line}");
        assert!(line.contains(&t.input), "{line}");
    }
    assert!(
        lines[5].starts_with("dir refused") && lines[5].contains("Remove"),
        "{out}"
    );
}

fn t_broker_sandbox_confines_the_broker() {
    let t = tree();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let sock = format!("{}/probe.sock", t.root);
    let unix = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    unix.set_nonblocking(true).unwrap();
    let secret = format!("{}/secret.txt", t.root);
    let out = fresh("escape", &[&t.input, "a.txt", &secret, &port, &sock], "");
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k} ")))
            .unwrap_or_else(|| panic!("{k}: {out}"))
            .to_owned()
    };
    // Strict: Landlock and seccomp, no gap.
    let report = get("report");
    let report: Vec<&str> = report.split(' ').collect();
    assert!(report[0] != "0" && report[1] == "true", "{out}");
    // Beneath its root: readable (the twin); outside: EACCES from Landlock.
    assert_eq!(get("inside"), "0", "{out}");
    assert_eq!(get("outside"), "13", "{out}");
    assert_eq!(get("passwd"), "13", "{out}");
    // No network: the inet socket itself is refused (EPERM) or the connect
    // (EACCES); no unix socket either.
    let tcp: i32 = get("tcp").parse().unwrap();
    assert!(tcp == 1 || tcp == 13, "{out}");
    let unix_errno: i32 = get("unix").parse().unwrap();
    assert!(unix_errno == 1 || unix_errno == 13, "{out}");
    // The program itself could connect (the listener saw that one only).
    assert_eq!(get("program_tcp"), "0", "{out}");
    let mut accepted = 0;
    while listener.accept().is_ok() {
        accepted += 1;
    }
    assert_eq!(accepted, 1, "{out}");
    assert!(unix.accept().is_err(), "the broker reached the unix socket");
}

fn t_killed_broker_fails_fast() {
    let t = tree();
    for mode in ["unlocked", "locked"] {
        let out = fresh("killed", &[&t.input, "a.txt", mode], "");
        let pid = out
            .lines()
            .next()
            .unwrap()
            .strip_prefix("pid ")
            .unwrap()
            .to_owned();
        assert!(out.contains("before true"), "{out}");
        let after = out.lines().find(|l| l.starts_with("after ")).unwrap();
        let ms: u64 = after["after ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(ms < 1000, "{mode}: {after}");
        assert!(
            after.contains(&format!("broker (pid {pid}) exited")),
            "{after}"
        );
        assert!(after.contains("BrokenPipe"), "{after}");
        if mode == "locked" {
            assert!(after.contains("exit status 3"), "{after}");
        } else {
            assert!(after.contains("signal 9"), "{after}");
        }
    }
}

fn t_hung_broker_times_out() {
    let out = fresh("hung", &[], "");
    let first = out.lines().next().unwrap();
    let ms: u64 = first["after ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The call returned long before the broker's 5 s sleep ended.
    assert!((1000..4000).contains(&ms), "{first}");
    assert!(first.contains("did not answer within 1 s"), "{first}");
    assert!(first.contains("broker (pid "), "{first}");
    let next = out.lines().nth(1).unwrap();
    assert!(next.starts_with("next error broker (pid "), "{next}");
}

fn proc_alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

fn t_broker_dies_with_its_program() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["program", "pdeathsig"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = line.trim().strip_prefix("pid ").unwrap().to_owned();
    assert!(proc_alive(&pid), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
    // PR_SET_PDEATHSIG: the busy broker (30 s sleep) is killed with it.
    let start = Instant::now();
    while proc_alive(&pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!proc_alive(&pid), "broker {pid} outlived its program");
}

fn t_dropped_broker_is_reaped() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["program", "dropped"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut pid, mut dropped) = (String::new(), String::new());
    out.read_line(&mut pid).unwrap();
    out.read_line(&mut dropped).unwrap();
    assert_eq!(dropped.trim(), "dropped");
    let pid = pid.trim().strip_prefix("pid ").unwrap();
    // The program still runs, and its broker is gone (reaped, no zombie).
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "broker {pid} still exists"
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

fn t_refuses_to_fork_with_threads() {
    let out = fresh("threads", &[], "");
    assert!(out.contains("2 threads"), "{out}");
    assert!(out.contains("before any thread starts"), "{out}");
}

fn t_protocol_refusals_are_answered() {
    let out = fresh("protocol", &[], "");
    let line = |k: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{k} ")))
            .unwrap_or_else(|| panic!("{k}: {out}"))
            .to_owned()
    };
    assert!(
        line("version").contains("Error 11 protocol version 9"),
        "{out}"
    );
    assert!(
        line("service").contains("Error 13 unknown service 77"),
        "{out}"
    );
    assert!(
        line("length").contains("Error 11 the header says a body of"),
        "{out}"
    );
    assert!(
        line("truncated").contains("Error 11 the header says a body of"),
        "{out}"
    );
    assert!(line("oversized").contains("Error 12 a frame over"), "{out}");
    assert!(
        line("garbage").contains("Error 0 a frame of 3 bytes"),
        "{out}"
    );
    assert!(
        line("reply").contains("Error 14 a Reply frame is not a request"),
        "{out}"
    );
    assert!(line("body").contains("Error 15 malformed body"), "{out}");
    // After all that, the broker still answers (the probe, with no root, gets EPERM).
    assert!(line("good").contains("Reply 11 errno "), "{out}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("program") {
        return program(&args[2], &args[3..]);
    }
    let tests = [
        Test::new(
            "fileargs_opens_beneath_its_roots_after_the_lock",
            t_fileargs_opens_beneath_its_roots_after_the_lock,
        ),
        Test::new("broker_checks_rights_itself", t_broker_checks_rights_itself),
        Test::new(
            "broker_sandbox_confines_the_broker",
            t_broker_sandbox_confines_the_broker,
        ),
        Test::new("killed_broker_fails_fast", t_killed_broker_fails_fast),
        Test::new("hung_broker_times_out", t_hung_broker_times_out),
        Test::new(
            "broker_dies_with_its_program",
            t_broker_dies_with_its_program,
        ),
        Test::new("dropped_broker_is_reaped", t_dropped_broker_is_reaped),
        Test::new(
            "refuses_to_fork_with_threads",
            t_refuses_to_fork_with_threads,
        ),
        Test::new(
            "protocol_refusals_are_answered",
            t_protocol_refusals_are_answered,
        ),
    ];
    support::run_tests(&args, &tests)
}
