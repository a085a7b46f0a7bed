//! `serve` under load, side by side on loopback with one load generator
//! (run on demand, not in CI: `examples/benches/serve-compare.sh`, or
//! `cargo bench -p ambit-examples --bench serve_load`).
//!
//! The generator is bounded and closed-loop: `AMBIT_LOAD_CONNS` keep-alive
//! connections (default 16), each sending one `GET` after the previous
//! answer, for `AMBIT_LOAD_SECS` seconds (default 2) per target, after a
//! one-second warm-up, in `AMBIT_LOAD_ROUNDS` interleaved rounds (default 9).
//! It runs on one thread (a current-thread tokio runtime over epoll), so it
//! needs far less CPU than the servers it loads.
//!
//! Placement (`AMBIT_BENCH_CPUS`): with `split`, the default on a machine of
//! two or more CPUs, every server runs on CPU 0 and the generator on CPU 1,
//! so a server never competes with the generator for a core and the figure
//! is what one core of server gives; `free` leaves both to the scheduler.
//!
//! It reports requests per second and the p50/p99 latency of each target
//! (medians over the rounds), and the ratios the issue sets as budgets as
//! *paired* ratios: each round measures every target once, one after the
//! other, and the ratio of two targets is taken within a round, then the
//! median and the range over the rounds are printed. A burst of load from
//! elsewhere then moves both sides of a ratio, not one.
//!
//! - **locked** against **unlocked**: this bench runs the same
//!   `ambit_examples::serve::run` in two children of its own binary, one
//!   after `Sandbox::enter` with the site and the listener granted, one
//!   without, so the two differ in the lock only: ≥ 0.97× req/s, p99 ≤ 1.05×;
//!   the shipped `serve` binary (`#[sandboxed]`) runs beside them, and is the
//!   one set against the other servers;
//! - the same pair with `Config::open_files` at 0 (`, open`: every request
//!   opens its file), which shows what Landlock's check on each open costs;
//! - locked `serve` with `SERVE_READS=pool` (stat, open and reads in tokio's
//!   blocking pool instead of on the runtime threads), to show what the
//!   default inline reads give;
//! - against `static-web-server` or `miniserve` if one is on `PATH` (≥ 1.0×);
//! - against `nginx` if it is on `PATH` (≥ 0.8× on small files), run as
//!   root on a loopback port with a temporary configuration, once as
//!   Debian configures it (no open-file cache) and once with nginx's
//!   `open_file_cache`, the like of `serve`'s.
//!
//! Every server gets the same document root: the bundled site plus a 4 KiB
//! and a 1 MiB file; the small-file figure is `GET /small.txt`.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]
#![allow(clippy::cast_precision_loss)] // request counts far below 2^52

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const UNLOCKED: &str = "AMBIT_BENCH_UNLOCKED_SERVER";
const LOCKED: &str = "AMBIT_BENCH_LOCKED_SERVER";
/// `Config::open_files` of the library server.
const OPEN_FILES: &str = "AMBIT_BENCH_OPEN_FILES";

fn main() {
    if let Ok(root) = std::env::var(UNLOCKED) {
        return library_server(Path::new(&root), false);
    }
    if let Ok(root) = std::env::var(LOCKED) {
        return library_server(Path::new(&root), true);
    }
    let conns = env_or("AMBIT_LOAD_CONNS", 16);
    let secs = env_or("AMBIT_LOAD_SECS", 2);
    let split = placement();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    std::fs::create_dir(&root).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/site")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), root.join(entry.file_name())).unwrap();
    }
    std::fs::write(root.join("small.txt"), vec![b's'; 4096]).unwrap();
    std::fs::write(root.join("large.bin"), vec![b'l'; 1 << 20]).unwrap();

    let rounds = env_or("AMBIT_LOAD_ROUNDS", 9).max(1);
    println!(
        "load: {conns} keep-alive connections, {secs} s per target and round, {rounds} interleaved rounds, GET /small.txt (4 KiB) and /large.bin (1 MiB); {}",
        if split {
            "servers on CPU 0, generator on CPU 1"
        } else {
            "no CPU placement"
        }
    );
    // Every server up at once (on CPU 0 when split: they inherit this
    // thread's placement); the rounds interleave them so a burst of load
    // from elsewhere on the machine does not land on one target only.
    if split {
        pin(0);
    }
    let mut running = Vec::new();
    for target in targets(&root, tmp.path()) {
        let (name, why_missing) = (target.name, target.why_missing);
        match target.start() {
            Some(server) => running.push(Measured {
                name,
                server,
                small: Vec::new(),
                large: Vec::new(),
            }),
            None => println!("{name:<22} not available ({why_missing})"),
        }
    }
    if split {
        pin(1);
    }
    for _ in 0..rounds {
        for target in &mut running {
            target
                .small
                .push(load(target.server.addr, "/small.txt", conns, secs));
            let large = load(target.server.addr, "/large.bin", conns, secs.div_ceil(2));
            target.large.push(large);
        }
    }
    for target in &mut running {
        target.server.stop();
        println!(
            "{:<22} small {}   large {}",
            target.name,
            median(target.small.clone()),
            median(target.large.clone())
        );
    }
    let find = |name: &str| running.iter().find(|t| t.name == name);
    println!("paired ratios, median (min - max) over {rounds} rounds:");
    if let (Some(locked), Some(unlocked)) = (find("library (locked)"), find("library (unlocked)")) {
        println!(
            "  locked / unlocked (same binary): req/s {} (budget >= 0.97), p99 {} (budget <= 1.05)",
            Ratio::of(&locked.small, &unlocked.small, |f| f.rps),
            Ratio::of(&locked.small, &unlocked.small, |f| f.p99.as_secs_f64()),
        );
    }
    if let (Some(locked), Some(unlocked)) = (
        find("library (locked, open)"),
        find("library (unlocked, open)"),
    ) {
        println!(
            "  locked / unlocked, a file opened per request (no open-file cache): req/s {}, p99 {}",
            Ratio::of(&locked.small, &unlocked.small, |f| f.rps),
            Ratio::of(&locked.small, &unlocked.small, |f| f.p99.as_secs_f64()),
        );
    }
    if let (Some(binary), Some(library)) = (find("serve (locked)"), find("library (locked)")) {
        println!(
            "  serve binary / library, both locked: req/s {}, p99 {}",
            Ratio::of(&binary.small, &library.small, |f| f.rps),
            Ratio::of(&binary.small, &library.small, |f| f.p99.as_secs_f64()),
        );
    }
    if let (Some(inline), Some(pool)) = (find("serve (locked)"), find("serve (locked, pool)")) {
        println!(
            "  reads inline / in the blocking pool: req/s {} on small files, {} on 1 MiB",
            Ratio::of(&inline.small, &pool.small, |f| f.rps),
            Ratio::of(&inline.large, &pool.large, |f| f.rps),
        );
    }
    for (other, budget) in [
        ("static-web-server", " (budget >= 1.0)"),
        ("miniserve", " (budget >= 1.0)"),
        ("nginx", " (budget >= 0.8 on small files)"),
        ("nginx (open_file_cache)", ""),
    ] {
        if let (Some(ours), Some(theirs)) = (find("serve (locked)"), find(other)) {
            println!(
                "  locked serve / {other}: req/s {} on small files{budget}, {} on 1 MiB",
                Ratio::of(&ours.small, &theirs.small, |f| f.rps),
                Ratio::of(&ours.large, &theirs.large, |f| f.rps),
            );
        }
    }
}

/// One server and its figures, one per round.
struct Measured {
    name: &'static str,
    server: Running,
    small: Vec<Figures>,
    large: Vec<Figures>,
}

/// The ratio of two targets' figures taken round by round: its median and
/// range.
struct Ratio {
    median: f64,
    min: f64,
    max: f64,
}

impl Ratio {
    fn of(ours: &[Figures], theirs: &[Figures], figure: impl Fn(&Figures) -> f64) -> Self {
        let mut ratios: Vec<f64> = ours
            .iter()
            .zip(theirs)
            .map(|(a, b)| figure(a) / figure(b))
            .collect();
        ratios.sort_by(f64::total_cmp);
        Self {
            median: ratios[ratios.len() / 2],
            min: ratios[0],
            max: ratios[ratios.len() - 1],
        }
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3}x ({:.3} - {:.3})", self.median, self.min, self.max)
    }
}

/// `AMBIT_BENCH_CPUS`: `split` (the default with two CPUs or more) or
/// `free`; true when the servers and the generator get a CPU each.
fn placement() -> bool {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let default = if cpus >= 2 { "split" } else { "free" };
    let placement = std::env::var("AMBIT_BENCH_CPUS").unwrap_or_else(|_| default.to_owned());
    match placement.as_str() {
        "split" => {
            assert!(cpus >= 2, "AMBIT_BENCH_CPUS=split needs two CPUs");
            cfg!(target_os = "linux")
        }
        "free" => false,
        other => panic!("AMBIT_BENCH_CPUS={other:?}: expected split or free"),
    }
}

/// Places this thread (and what it spawns from now on) on one CPU.
fn pin(cpu: usize) {
    #[cfg(target_os = "linux")]
    {
        let mut set = rustix::thread::CpuSet::new();
        set.set(cpu);
        rustix::thread::sched_setaffinity(None, &set).expect("sched_setaffinity");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The same server as the `serve` binary, from this binary: with `lock`, it
/// enters capability mode with the site and the listener granted, as the
/// binary's `#[sandboxed]` prologue does; without, it runs unconfined. The
/// two differ in the lock only, not in the executable's code or layout.
fn library_server(root: &Path, lock: bool) {
    let inherited = cap_core::sandbox::InheritedFds::snapshot();
    let site: cap_core::fs::Dir<ambit_examples::serve::Site> =
        cap_core::fs::Dir::open_ambient_dir(root, cap_core::ambient_authority()).unwrap();
    let http =
        cap_core::net::TcpListener::bind_ambient("127.0.0.1:0", cap_core::ambient_authority())
            .unwrap();
    if lock {
        cap_core::sandbox::Sandbox::new()
            .grant(&site)
            .grant(&http)
            .inherited_fds(inherited)
            .enter()
            .unwrap();
    }
    println!(
        "serving {} on http://{}/",
        root.display(),
        http.local_addr().unwrap()
    );
    std::io::stdout().flush().unwrap();
    let d = ambit_examples::serve::Config::default();
    let config = ambit_examples::serve::Config {
        access_log: false,
        open_files: std::env::var(OPEN_FILES)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.open_files),
        ..d
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let shutdown = ambit_examples::serve::signals().unwrap();
        let site = cap_core::tokio::fs::Dir::from(site);
        let http = cap_core::tokio::net::TcpListener::try_from(http).unwrap();
        ambit_examples::serve::run(site, http, config, shutdown)
            .await
            .unwrap();
    });
}

struct Target {
    name: &'static str,
    why_missing: &'static str,
    command: Option<Command>,
    /// A fixed port, for servers that do not print the one they got.
    port: Option<u16>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn targets(root: &Path, tmp: &Path) -> Vec<Target> {
    let mut locked = Command::new(env!("CARGO_BIN_EXE_serve"));
    locked
        .args(["--addr", "127.0.0.1:0", "--root"])
        .arg(root)
        .env("SERVE_ACCESS_LOG", "0");
    let mut pool = Command::new(env!("CARGO_BIN_EXE_serve"));
    pool.args(["--addr", "127.0.0.1:0", "--root"])
        .arg(root)
        .env("SERVE_ACCESS_LOG", "0")
        .env("SERVE_READS", "pool");
    let mut unlocked = Command::new(std::env::current_exe().unwrap());
    unlocked.env(UNLOCKED, root);
    let mut library_locked = Command::new(std::env::current_exe().unwrap());
    library_locked.env(LOCKED, root);
    let mut unlocked_opening = Command::new(std::env::current_exe().unwrap());
    unlocked_opening.env(UNLOCKED, root).env(OPEN_FILES, "0");
    let mut locked_opening = Command::new(std::env::current_exe().unwrap());
    locked_opening.env(LOCKED, root).env(OPEN_FILES, "0");
    let mut list = vec![
        Target {
            name: "serve (locked)",
            why_missing: "",
            command: Some(locked),
            port: None,
        },
        Target {
            name: "serve (locked, pool)",
            why_missing: "",
            command: Some(pool),
            port: None,
        },
        Target {
            name: "library (locked)",
            why_missing: "",
            command: Some(library_locked),
            port: None,
        },
        Target {
            name: "library (unlocked)",
            why_missing: "",
            command: Some(unlocked),
            port: None,
        },
        Target {
            name: "library (locked, open)",
            why_missing: "",
            command: Some(locked_opening),
            port: None,
        },
        Target {
            name: "library (unlocked, open)",
            why_missing: "",
            command: Some(unlocked_opening),
            port: None,
        },
    ];
    let port = free_port();
    list.push(Target {
        name: "static-web-server",
        why_missing: "cargo install static-web-server",
        command: on_path("static-web-server").map(|bin| {
            let mut c = Command::new(bin);
            c.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--root"])
                .arg(root)
                .args(["--log-level", "error", "--compression", "false"]);
            c
        }),
        port: Some(port),
    });
    let port = free_port();
    list.push(Target {
        name: "miniserve",
        why_missing: "cargo install miniserve",
        command: on_path("miniserve").map(|bin| {
            let mut c = Command::new(bin);
            c.args(["-i", "127.0.0.1", "-p", &port.to_string()])
                .arg(root);
            c
        }),
        port: Some(port),
    });
    let nginx =
        on_path("nginx").or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()));
    // nginx's `worker_processes auto` counts the CPUs online, not the ones
    // it may use, so it is told how many it may use (one when split).
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for (name, config, cache) in [
        ("nginx", "nginx.conf", ""),
        // The same with nginx's open-file cache, which Debian leaves off:
        // the like of `serve`'s (nginx revalidates every second, `serve`
        // on every request).
        (
            "nginx (open_file_cache)",
            "nginx-cache.conf",
            " open_file_cache max=128 inactive=10s; open_file_cache_valid 1s;",
        ),
    ] {
        let port = free_port();
        list.push(Target {
            name,
            why_missing: "apt-get install -y nginx",
            command: nginx.as_ref().map(|bin| {
                let conf = tmp.join(config);
                std::fs::write(
                    &conf,
                    format!(
                        "daemon off; worker_processes {workers}; pid {tmp}/{config}.pid; error_log stderr error;\n\
                         events {{ worker_connections 1024; }}\n\
                         http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;{cache}\n\
                           client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};\n\
                           server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n",
                        tmp = tmp.display(),
                        root = root.display()
                    ),
                )
                .unwrap();
                let mut c = Command::new(bin);
                c.arg("-c").arg(conf).args(["-e", "stderr"]);
                c
            }),
            port: Some(port),
        });
    }
    list
}

struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Running {
    /// SIGTERM first, so that a server with worker processes (nginx) stops
    /// them too; SIGKILL if it has not exited within five seconds.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Target {
    fn start(mut self) -> Option<Running> {
        let name = self.name;
        let mut command = self.command.take()?;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let addr = if let Some(port) = self.port {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let started = Instant::now();
            while TcpStream::connect(addr).is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "{name} did not listen"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            addr
        } else {
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .ok()?;
            line.trim()
                .rsplit_once("http://")?
                .1
                .trim_end_matches('/')
                .parse()
                .ok()?
        };
        Some(Running { child, addr })
    }
}

/// The median of each figure separately.
fn median(mut runs: Vec<Figures>) -> Figures {
    let mid = runs.len() / 2;
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let rps = runs[mid].rps;
    runs.sort_by_key(|f| f.p50);
    let p50 = runs[mid].p50;
    runs.sort_by_key(|f| f.p99);
    Figures {
        rps,
        p50,
        p99: runs[mid].p99,
    }
}

#[derive(Clone, Copy)]
struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>8.0} req/s p50 {:>6.0?} p99 {:>6.0?}",
            self.rps, self.p50, self.p99
        )
    }
}

/// `conns` keep-alive connections on one thread, each sending `GET path`
/// after the previous answer: a one-second warm-up, then `secs` measured.
fn load(addr: SocketAddr, path: &str, conns: u64, secs: u64) -> Figures {
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let run = |until: Instant| {
            let tasks: Vec<_> = (0..conns)
                .map(|_| tokio::spawn(connection(addr, request.clone(), until)))
                .collect();
            async move {
                let mut all = Vec::new();
                for task in tasks {
                    all.extend(task.await.unwrap());
                }
                all
            }
        };
        run(Instant::now() + Duration::from_secs(1)).await;
        let started = Instant::now();
        let mut latencies = run(started + Duration::from_secs(secs)).await;
        let elapsed = started.elapsed();
        latencies.sort();
        let at = |percent: usize| latencies[(latencies.len() - 1) * percent / 100];
        Figures {
            rps: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(50),
            p99: at(99),
        }
    })
}

/// One connection's requests until `until`, and their latencies.
async fn connection(addr: SocketAddr, request: String, until: Instant) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut stream = tokio::io::BufReader::with_capacity(64 * 1024, stream);
    let mut body = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        read_one(&mut stream, &mut body).await;
        latencies.push(started.elapsed());
    }
    latencies
}

/// Reads one response (head, then `content-length` bytes); panics on a
/// status other than 200, so a misconfigured server cannot look fast.
async fn read_one(reader: &mut tokio::io::BufReader<tokio::net::TcpStream>, body: &mut Vec<u8>) {
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "bad response: {line:?}");
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    body.resize(length, 0);
    reader.read_exact(body).await.unwrap();
}
