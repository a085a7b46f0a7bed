//! The broker's resolver and logger services, name-scoped `Net` grants and
//! the `#[sandboxed]` service declarations, each test in fresh processes.
//! This binary is its own helper: run as `program CASE ...` it is a fresh
//! program that makes a broker (single-threaded, before the lock), locks
//! itself and prints what happened; without arguments it runs every test
//! (harness = false). The DNS responder, the TCP listener and the fake
//! syslog socket live in the test process, on loopback and in a temporary
//! directory.
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use cap_core::ambient_authority;
use cap_core::broker::FileArgs;
use cap_core::broker::protocol::{FieldReader, Fields};
use cap_core::broker::{
    Broker, Format, Level, Logger, ProbeOp, Resolver, ResolverConfig, Stamp, SyslogWriter,
};
use cap_core::fs::File;
use cap_core::net::Net;
use cap_core::rights::ReadOnly;
use cap_core::sandbox::{InheritedFds, Sandbox};
use tracing_subscriber::layer::SubscriberExt as _;

mod support;
use support::Test;

// ---- the fresh program ----

fn errno_of(e: &std::io::Error) -> i32 {
    cap_core::fs::raw_os_error(e).unwrap_or(-1)
}

fn show<T: std::fmt::Debug>(r: std::io::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!("err {:?} {e}", e.kind()),
    }
}

fn probe(broker: &Broker, id: u8, op: ProbeOp, body: &[u8]) -> String {
    match broker.raw_call(id, op as u8, body) {
        Ok((reply, _)) => FieldReader::new(&reply).u32("errno").unwrap().to_string(),
        Err(e) => format!("error {e}"),
    }
}

fn stamp() -> Stamp {
    Stamp {
        facility: 1,
        ident: "svc-test".into(),
        pid: std::process::id(),
        hostname: "testhost".into(),
    }
}

/// A broker with `config`'s resolver and the test probe, then this program
/// locked holding only the broker: the broker, the resolver and the probe's
/// service id.
fn locked_with_resolver(config: ResolverConfig, snapshot: InheritedFds) -> (Broker, Resolver, u8) {
    let mut b = Broker::builder();
    let dns = b.resolver(config);
    let probe_id = b.probe();
    let broker = b.spawn().unwrap();
    let dns: Resolver = broker.claim(dns).unwrap();
    Sandbox::new()
        .grant(&broker)
        .inherited_fds(snapshot)
        .enter()
        .expect("lock the program");
    (broker, dns, probe_id)
}

fn program(case: &str, args: &[String]) -> ExitCode {
    let snapshot = InheritedFds::snapshot();
    match case {
        "resolve" => {
            // args: the nameserver address, the listener's port.
            let ns: SocketAddr = args[0].parse().unwrap();
            let port = &args[1];
            let config = ResolverConfig::new(&["*.example.com"])
                .unwrap()
                .nameserver(ns, ambient_authority())
                .unwrap()
                .timeout(Duration::from_millis(500), 1)
                .connect_ports(&[port.parse().unwrap()], ambient_authority());
            let mut b = Broker::builder();
            let dns = b.resolver(config);
            let broker = b.spawn().unwrap();
            let dns: Resolver = broker.claim(dns).unwrap();
            let net = Net::by_name(&dns, &format!("api.example.com:{port}")).unwrap();
            Sandbox::new()
                .grant(&broker)
                .grant(&net)
                .inherited_fds(snapshot)
                .enter()
                .expect("lock the program");
            // Locked: the program cannot ask DNS itself (no UDP socket).
            let direct = UdpSocket::bind("127.0.0.1:0").map_or_else(|e| errno_of(&e), |_| 0);
            println!("direct_udp {direct}");
            println!("resolve {}", show(dns.resolve("API.example.com")));
            match net.connect_tcp(format!("api.example.com:{port}")) {
                Ok(mut s) => {
                    s.write_all(b"hello by name").unwrap();
                    println!("connect ok");
                }
                Err(e) => println!("connect err {e}"),
            }
            // The broker connects and passes the stream back.
            match dns.connect_tcp("api.example.com", port.parse().unwrap()) {
                Ok(mut s) => {
                    s.write_all(b"via the broker").unwrap();
                    println!("brokered ok");
                }
                Err(e) => println!("brokered err {e}"),
            }
            println!(
                "brokered_port {}",
                show(dns.connect_tcp("api.example.com", 1))
            );
            println!("other_port {}", show(net.connect_tcp("api.example.com:1")));
            println!(
                "other_name {}",
                show(net.connect_tcp(format!("www.example.com:{port}")))
            );
            println!("outside {}", show(dns.resolve("evil.org")));
            println!("nxdomain {}", show(dns.resolve("gone.example.com")));
            // A raw request for a name outside the patterns: the broker
            // itself refuses it (the client's check is bypassed).
            for (what, body) in [
                ("raw_outside", Fields::new().str("evil.org").finish()),
                ("raw_deep", Fields::new().str("a.b.example.com").finish()),
                ("raw_dot", Fields::new().str("api.example.com.").finish()),
                ("raw_garbage", vec![0xff, 0xff, 0xff, 0xff, 1]),
                ("raw_empty", Vec::new()),
            ] {
                match broker.raw_call(1, 1, &body) {
                    Ok(_) => println!("{what} answered"),
                    Err(e) => println!("{what} refused {e}"),
                }
            }
            match broker.raw_call(1, 1, &Fields::new().str("api.example.com").finish()) {
                Ok(_) => println!("raw_allowed answered"),
                Err(e) => println!("raw_allowed refused {e}"),
            }
        }
        "hosts" => {
            // args: the hosts file, a file next to it, the listener's port.
            let hosts: File<ReadOnly> = File::open_ambient(&args[0], ambient_authority()).unwrap();
            let config = ResolverConfig::new(&["db.internal"])
                .unwrap()
                .hosts_file(hosts);
            let (broker, dns, probe_id) = locked_with_resolver(config, snapshot);
            println!("resolve {}", show(dns.resolve("db.internal")));
            // The broker's own sandbox: its hosts file (the twin), nothing
            // beside it, no TCP, no unix socket.
            let body = |s: &str| Fields::new().str(s).finish();
            println!(
                "hosts_file {}",
                probe(&broker, probe_id, ProbeOp::ReadPath, &body(&args[0]))
            );
            println!(
                "beside {}",
                probe(&broker, probe_id, ProbeOp::ReadPath, &body(&args[1]))
            );
            println!(
                "passwd {}",
                probe(&broker, probe_id, ProbeOp::ReadPath, &body("/etc/passwd"))
            );
            println!(
                "tcp {}",
                probe(
                    &broker,
                    probe_id,
                    ProbeOp::ConnectTcp,
                    &body(&format!("127.0.0.1:{}", args[2]))
                )
            );
            println!(
                "unix {}",
                probe(&broker, probe_id, ProbeOp::ConnectUnix, &body(&args[3]))
            );
        }
        "confined" => {
            // args: the nameserver address, the listener's port.
            let ns: SocketAddr = args[0].parse().unwrap();
            let config = ResolverConfig::new(&["*.example.com"])
                .unwrap()
                .nameserver(ns, ambient_authority())
                .unwrap()
                .timeout(Duration::from_millis(500), 1);
            let (broker, dns, probe_id) = locked_with_resolver(config, snapshot);
            // The twin: its nameserver socket works.
            println!("resolve {}", show(dns.resolve("api.example.com")));
            let body = |s: &str| Fields::new().str(s).finish();
            println!(
                "tcp {}",
                probe(
                    &broker,
                    probe_id,
                    ProbeOp::ConnectTcp,
                    &body(&format!("127.0.0.1:{}", args[1]))
                )
            );
            println!(
                "tcp_ns {}",
                probe(&broker, probe_id, ProbeOp::ConnectTcp, &body(&args[0]))
            );
            println!(
                "etc_hosts {}",
                probe(&broker, probe_id, ProbeOp::ReadPath, &body("/etc/hosts"))
            );
        }
        "logger" => {
            // args: the fake syslog socket.
            let mut b = Broker::builder();
            let w5424 = SyslogWriter::connect_ambient(
                &args[0],
                Format::Rfc5424,
                stamp(),
                ambient_authority(),
            )
            .unwrap();
            let wj = SyslogWriter::connect_ambient(
                &args[0],
                Format::Journald,
                stamp(),
                ambient_authority(),
            )
            .unwrap();
            let log = b.logger(w5424);
            let journal = b.logger(wj);
            let broker = b.spawn().unwrap();
            let log: Logger = broker.claim(log).unwrap();
            let journal: Logger = broker.claim(journal).unwrap();
            Sandbox::new()
                .grant(&broker)
                .inherited_fds(snapshot)
                .enter()
                .expect("lock the program");
            // Locked: the program cannot reach the socket itself.
            let direct = UnixDatagram::unbound()
                .and_then(|s| s.connect(&args[0]))
                .map_or_else(|e| errno_of(&e), |()| 0);
            println!("direct {direct}");
            log.clone().install_log(Level::Info).unwrap();
            log::info!(target: "app::web", "hello from log");
            log::debug!("filtered out by the level");
            let subscriber = tracing_subscriber::registry().with(journal.tracing_layer());
            tracing::subscriber::with_default(subscriber, || {
                tracing::warn!(target: "app::db", user = "ann", "hello from tracing");
            });
            // A malformed record: refused by the broker, which goes on.
            match broker.raw_call(1, 1, &[7, 0, 0]) {
                Ok(_) => println!("garbage answered"),
                Err(e) => println!("garbage refused {e}"),
            }
            println!(
                "after {}",
                show(log.message(Level::Error, "app", "still here"))
            );
        }
        "sandboxed" => return sandboxed_program(),
        _ => panic!("unknown case {case}"),
    }
    ExitCode::SUCCESS
}

fn config_from_env() -> std::io::Result<ResolverConfig> {
    let ns: SocketAddr = std::env::var("SVC_TEST_NS").unwrap().parse().unwrap();
    Ok(ResolverConfig::new(&["*.example.com"])?
        .nameserver(ns, ambient_authority())?
        .timeout(Duration::from_millis(500), 1))
}

#[cap_core::sandboxed(
    dns = resolve(from = config_from_env()),
    log = syslog(path = "/nonexistent-replaced-below", format = "rfc3164"),
    mode = strict
)]
fn sandboxed_program_unused(dns: Resolver, log: Logger) -> ExitCode {
    let _ = (dns, log);
    ExitCode::SUCCESS
}

#[cap_core::sandboxed(
    dns = resolve(from = config_from_env()),
    log = syslog(from = SyslogWriter::connect_ambient(
        std::env::var("SVC_TEST_LOG").unwrap(),
        Format::Rfc3164,
        stamp(),
        ambient_authority(),
    )),
    src = fileargs(root = "."),
)]
fn sandboxed_program(dns: Resolver, log: Logger, src: FileArgs<ReadOnly>) -> ExitCode {
    println!("resolve {}", show(dns.resolve("api.example.com")));
    println!("outside {}", show(dns.resolve("evil.org")));
    println!(
        "log {}",
        show(log.message(Level::Info, "main", "declared logger"))
    );
    println!("locked {}", cap_core::sandbox::report().is_some());
    // The package directory (the test's working directory) is the root:
    // a path given now is opened by the broker, one outside is refused.
    let manifest = src.open("Cargo.toml").and_then(std::io::read_to_string);
    println!(
        "fileargs {}",
        show(manifest.map(|t| t.lines().next().map(str::to_owned)))
    );
    println!(
        "fileargs_escape {}",
        show(src.open("../Cargo.toml").map(drop))
    );
    ExitCode::SUCCESS
}

// ---- the tests ----

fn fresh(case: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("program")
        .arg(case)
        .args(args)
        .envs(env.iter().copied())
        // `fileargs(root = ".")` in the declarations test: the package.
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{case}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn get(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} ")))
        .unwrap_or_else(|| panic!("{key}: {out}"))
        .to_owned()
}

/// A DNS responder on loopback: `*.example.com` A 127.0.0.1 except
/// `gone.example.com` (NXDOMAIN); no AAAA. Counts the questions it saw.
struct Responder {
    addr: SocketAddr,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn responder() -> Responder {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let q = &buf[..n];
            let Ok(parsed) = cap_core::broker::dns::parse_response(q) else {
                continue;
            };
            let Some((name, qtype)) = parsed.question else {
                continue;
            };
            log.lock().unwrap().push(format!("{name}/{qtype}"));
            let mut r = q.to_vec();
            r[2] = 0x81;
            r[3] = if name == "gone.example.com" {
                0x83
            } else {
                0x80
            };
            if qtype == 1 && name != "gone.example.com" {
                r[7] = 1;
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
            }
            let _ = socket.send_to(&r, from);
        }
    });
    Responder { addr, seen }
}

fn t_locked_program_resolves_and_connects_by_name() {
    let dns = responder();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = fresh("resolve", &[&dns.addr.to_string(), &port], &[]);
    // The program could not make a UDP socket (seccomp: EPERM).
    assert_eq!(get(&out, "direct_udp"), "1", "{out}");
    assert_eq!(get(&out, "resolve"), "ok [127.0.0.1]", "{out}");
    assert_eq!(get(&out, "connect"), "ok", "{out}");
    listener.set_nonblocking(false).unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let (mut s, _) = listener.accept().unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        got.push(text);
    }
    assert_eq!(got, ["hello by name", "via the broker"]);
    assert_eq!(get(&out, "brokered"), "ok", "{out}");
    let line = get(&out, "brokered_port");
    assert!(
        line.starts_with("err PermissionDenied") && line.contains("on port 1 refused"),
        "{out}"
    );
    assert!(
        get(&out, "other_port").starts_with("err PermissionDenied"),
        "{out}"
    );
    assert!(
        get(&out, "other_name").starts_with("err PermissionDenied"),
        "{out}"
    );
    assert!(
        get(&out, "outside").contains("matches none of the patterns"),
        "{out}"
    );
    assert!(get(&out, "nxdomain").starts_with("err NotFound"), "{out}");
    // The broker refuses what the client would not have sent.
    for key in ["raw_outside", "raw_deep"] {
        let line = get(&out, key);
        assert!(
            line.contains("refused") && line.contains("matches none of its patterns"),
            "{key}: {out}"
        );
    }
    assert!(get(&out, "raw_dot").contains("ends with a dot"), "{out}");
    assert!(get(&out, "raw_garbage").starts_with("refused"), "{out}");
    assert!(get(&out, "raw_empty").starts_with("refused"), "{out}");
    assert_eq!(get(&out, "raw_allowed"), "answered", "{out}");
    // Names outside the patterns never reached the nameserver.
    let seen = dns.seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|q| q.ends_with(".example.com/1") || q.ends_with(".example.com/28")),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|q| q.starts_with("a.b.")), "{seen:?}");
}

fn t_hosts_file_and_the_resolver_brokers_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts");
    std::fs::write(&hosts, "10.9.8.7 db.internal\n").unwrap();
    let beside = tmp.path().join("secret");
    std::fs::write(&beside, "secret").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let sock = tmp.path().join("s.sock");
    let unix = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    unix.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = fresh(
        "hosts",
        &[
            hosts.to_str().unwrap(),
            beside.to_str().unwrap(),
            &port,
            sock.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(get(&out, "resolve"), "ok [10.9.8.7]", "{out}");
    assert_eq!(get(&out, "hosts_file"), "0", "{out}");
    assert_eq!(get(&out, "beside"), "13", "{out}");
    assert_eq!(get(&out, "passwd"), "13", "{out}");
    let tcp: i32 = get(&out, "tcp").parse().unwrap();
    assert!(tcp == 1 || tcp == 13, "{out}");
    let unix_errno: i32 = get(&out, "unix").parse().unwrap();
    assert!(unix_errno == 1 || unix_errno == 13, "{out}");
    assert!(
        listener.accept().is_err(),
        "the broker reached the TCP listener"
    );
    assert!(unix.accept().is_err(), "the broker reached the unix socket");
}

fn t_resolver_broker_reaches_only_its_nameserver() {
    let dns = responder();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = fresh("confined", &[&dns.addr.to_string(), &port], &[]);
    assert_eq!(get(&out, "resolve"), "ok [127.0.0.1]", "{out}");
    for key in ["tcp", "tcp_ns"] {
        let errno: i32 = get(&out, key).parse().unwrap();
        assert!(errno == 1 || errno == 13, "{key}: {out}");
    }
    // No file handle at all: seccomp has no fs group (EPERM).
    let etc: i32 = get(&out, "etc_hosts").parse().unwrap();
    assert!(etc == 1 || etc == 13, "{out}");
    assert!(
        listener.accept().is_err(),
        "the broker reached the TCP listener"
    );
}

fn recv_all(socket: &UnixDatagram, n: usize) -> Vec<Vec<u8>> {
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..n {
        let len = socket.recv(&mut buf).expect("a record at the fake syslog");
        got.push(buf[..len].to_vec());
    }
    got
}

fn t_log_and_tracing_records_reach_the_fake_syslog() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("log");
    let syslog = UnixDatagram::bind(&path).unwrap();
    let out = fresh("logger", &[path.to_str().unwrap()], &[]);
    let direct: i32 = get(&out, "direct").parse().unwrap();
    assert!(direct == 1 || direct == 13, "{out}");
    assert!(get(&out, "garbage").starts_with("refused"), "{out}");
    assert_eq!(get(&out, "after"), "ok ()", "{out}");
    let got = recv_all(&syslog, 3);
    let text: Vec<String> = got
        .iter()
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .collect();
    // log::info! through the RFC 5424 logger, stamped by the broker.
    assert!(text[0].starts_with("<14>1 "), "{text:?}");
    assert!(text[0].contains(" testhost svc-test "), "{text:?}");
    assert!(
        text[0].ends_with("[ambit@32473 target=\"app::web\"] hello from log"),
        "{text:?}"
    );
    // tracing::warn! through the journald logger.
    assert!(
        text[1].contains("MESSAGE=hello from tracing\nPRIORITY=4\n"),
        "{text:?}"
    );
    assert!(text[1].contains("TARGET=app::db\nUSER=ann\n"), "{text:?}");
    assert!(
        text[2].ends_with("[ambit@32473 target=\"app\"] still here"),
        "{text:?}"
    );
    syslog.set_nonblocking(true).unwrap();
    assert!(
        syslog.recv(&mut [0u8; 16]).is_err(),
        "the debug record was sent"
    );
}

fn t_sandboxed_declarations_start_the_broker() {
    let dns = responder();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("log");
    let syslog = UnixDatagram::bind(&path).unwrap();
    let out = fresh(
        "sandboxed",
        &[],
        &[
            ("SVC_TEST_NS", &dns.addr.to_string()),
            ("SVC_TEST_LOG", path.to_str().unwrap()),
        ],
    );
    assert_eq!(get(&out, "resolve"), "ok [127.0.0.1]", "{out}");
    assert!(
        get(&out, "outside").starts_with("err PermissionDenied"),
        "{out}"
    );
    assert_eq!(get(&out, "log"), "ok ()", "{out}");
    assert_eq!(get(&out, "locked"), "true", "{out}");
    assert_eq!(get(&out, "fileargs"), "ok Some(\"[package]\")", "{out}");
    assert!(get(&out, "fileargs_escape").starts_with("err"), "{out}");
    let got = recv_all(&syslog, 1);
    let text = String::from_utf8_lossy(&got[0]);
    assert!(
        text.starts_with("<14>") && text.contains(" svc-test["),
        "{text}"
    );
    assert!(text.ends_with("]: declared logger"), "{text}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("program") {
        return program(&args[2], &args[3..]);
    }
    let _ = sandboxed_program_unused;
    let tests = [
        Test::new(
            "locked_program_resolves_and_connects_by_name",
            t_locked_program_resolves_and_connects_by_name,
        ),
        Test::new(
            "hosts_file_and_the_resolver_brokers_sandbox",
            t_hosts_file_and_the_resolver_brokers_sandbox,
        ),
        Test::new(
            "resolver_broker_reaches_only_its_nameserver",
            t_resolver_broker_reaches_only_its_nameserver,
        ),
        Test::new(
            "log_and_tracing_records_reach_the_fake_syslog",
            t_log_and_tracing_records_reach_the_fake_syslog,
        ),
        Test::new(
            "sandboxed_declarations_start_the_broker",
            t_sandboxed_declarations_start_the_broker,
        ),
    ];
    support::run_tests(&args, &tests)
}
