//! Sandbox costs, each against its baseline in the same run.
//!
//! A lock is irreversible, so each layer runs in its own process: this binary
//! first runs every benchmark unsandboxed (the `none` baseline, and the entry
//! benchmarks, which spawn one child per sample), then re-executes itself
//! to run the syscall and open benchmarks again, in two alternating rounds,
//! under
//!
//! - `floor`: a one-instruction seccomp filter (`return ALLOW`) and a one-rule
//!   Landlock ruleset (read beneath the benchmark directory);
//! - `ambit`: `cap_runtime::enter` with the benchmark policy (10 directory
//!   handles: Landlock rules, scopes, capabilities dropped, the seccomp
//!   allowlist).
//!
//! Budgets (DESIGN.md): entry ≤ 0.5 ms, the all-or-nothing rehearsal included (timed inside the child and printed
//! first; `spawn_enter_10` minus `spawn_only` shows the same with process
//! creation around it),
//! `getppid` under ambit ≤ 1.05× floor, `open_read` under ambit ≤ 1.05× floor,
//! and the syscalls a server makes per request (`per_request::*`: accept4,
//! read, write, sendmsg + recvmsg, epoll_wait, sendfile) under ambit ≤ 1.05×
//! floor. In the `ambit` layer the policy also holds a TCP listener with
//! `Accept`, as a server's does; the descriptors these benchmarks use are
//! opened before the lock and kept.
//!
//! Run: `cargo bench -p cap-runtime --bench sandbox`.

use std::io::Read;
#[cfg(target_os = "linux")]
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;

const LAYER: &str = "AMBIT_BENCH_LAYER";
const DIR: &str = "AMBIT_BENCH_DIR";

fn bench_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(DIR).expect("AMBIT_BENCH_DIR is set by main"))
}

#[cfg(target_os = "linux")]
fn open_dirs(root: &std::path::Path) -> Vec<std::fs::File> {
    (0..10)
        .map(|i| std::fs::File::open(root.join(format!("d{i}"))).expect("bench dir"))
        .collect()
}

#[cfg(target_os = "linux")]
fn enter_ambit(
    dirs: &[std::fs::File],
    root: &std::path::Path,
    listener: Option<&std::net::TcpListener>,
) {
    use cap_runtime::{InheritedFds, Mode, Options, Policy, Rights};
    let mut policy = Policy::new();
    let rights = Rights::LOOKUP
        | Rights::READ
        | Rights::STAT
        | Rights::WRITE
        | Rights::CREATE
        | Rights::TRUNCATE;
    for (i, d) in dirs.iter().enumerate() {
        policy.dir(d.as_fd(), rights, &root.join(format!("d{i}")));
    }
    if let Some(l) = listener {
        policy.socket(
            l.as_fd(),
            cap_runtime::SocketKind::TcpListener,
            Rights::ACCEPT,
            "listener",
        );
    }
    let options = Options {
        mode: Mode::Strict,
        inherited_fds: InheritedFds::Keep,
        assume_landlock_abi: None,
    };
    cap_runtime::enter_with(&policy, &options).expect("enter the benchmark policy");
}

#[cfg(target_os = "linux")]
fn child(layer: &str) {
    let root = bench_dir();
    let dirs = open_dirs(&root);
    if matches!(layer, "none" | "floor" | "ambit") {
        REQUESTS
            .set(Requests::open(&root))
            .unwrap_or_else(|_| panic!("opened twice"));
    }
    match layer {
        "exit" => std::process::exit(0),
        // The seccomp step alone: ambit's program for the entry policy (10
        // directories: baseline + fs), or the one-instruction floor.
        "filter-exit" | "floor-filter-exit" | "build-exit" => {
            let start = std::time::Instant::now();
            if layer == "build-exit" {
                let needs = cap_runtime::linux::Needs {
                    fs: true,
                    truncate: true,
                    ..Default::default()
                };
                divan::black_box(cap_runtime::linux::seccomp::build(needs).expect("build"));
            } else if layer == "filter-exit" {
                let needs = cap_runtime::linux::Needs {
                    fs: true,
                    truncate: true,
                    ..Default::default()
                };
                cap_runtime::linux::probe::install_ambit_filter(needs).expect("filter");
            } else {
                cap_runtime::linux::probe::install_allow_all_filter().expect("floor filter");
            }
            println!("{}", start.elapsed().as_nanos());
            std::process::exit(0);
        }
        "enter-exit" => {
            let start = std::time::Instant::now();
            enter_ambit(&dirs, &root, None);
            if std::env::var_os("AMBIT_BENCH_PRINT").is_some() {
                println!("{}", start.elapsed().as_nanos());
            }
            std::process::exit(0);
        }
        // The same entry, stage by stage: facts, plan, prepare, the
        // rehearsal alone, then apply (which rehearses again, then applies).
        "enter-phases" => {
            use cap_runtime::linux::{Facts, plan};
            use cap_runtime::{InheritedFds, Mode, Options, Policy, Rights};
            let mut policy = Policy::new();
            let rights = Rights::LOOKUP
                | Rights::READ
                | Rights::STAT
                | Rights::WRITE
                | Rights::CREATE
                | Rights::TRUNCATE;
            for (i, d) in dirs.iter().enumerate() {
                policy.dir(d.as_fd(), rights, &root.join(format!("d{i}")));
            }
            let options = Options {
                mode: Mode::Strict,
                inherited_fds: InheritedFds::Keep,
                assume_landlock_abi: None,
            };
            let mut marks = vec![std::time::Instant::now()];
            let facts = Facts::gather(&policy, &options);
            marks.push(std::time::Instant::now());
            let planned = plan(&policy, &options, &facts).expect("plan");
            marks.push(std::time::Instant::now());
            let prepared = planned.prepare().expect("prepare");
            marks.push(std::time::Instant::now());
            prepared.rehearse().expect("rehearse");
            marks.push(std::time::Instant::now());
            prepared.apply().expect("apply");
            marks.push(std::time::Instant::now());
            let stages: Vec<String> = marks
                .windows(2)
                .map(|w| w[1].duration_since(w[0]).as_nanos().to_string())
                .collect();
            println!("{}", stages.join(" "));
            std::process::exit(0);
        }
        "floor" => {
            cap_runtime::linux::probe::restrict_one_rule(dirs[0].as_fd())
                .expect("one-rule ruleset");
            cap_runtime::linux::probe::install_allow_all_filter().expect("one-instruction filter");
        }
        "ambit" => enter_ambit(&dirs, &root, Some(&requests().listener)),
        "none" => {}
        other => panic!("unknown layer {other}"),
    }
    println!("\n== layer: {layer} ==");
    divan::main();
}

fn spawn(layer: &str) {
    let status = Command::new(std::env::current_exe().expect("current exe"))
        .env(LAYER, layer)
        .status()
        .expect("spawn bench child");
    assert!(status.success(), "bench child {layer} failed");
}

/// Entering with 10 handles: a child process per sample, with and without
/// `enter`; the difference is the cost of entering.
#[divan::bench_group(sample_count = 30)]
mod enter {
    /// Spawn a child that opens 10 directories and exits.
    #[divan::bench]
    fn spawn_only() {
        super::spawn("exit");
    }

    /// Spawn a child that opens 10 directories, enters, and exits.
    #[divan::bench]
    fn spawn_enter_10() {
        super::spawn("enter-exit");
    }
}

/// One cheap syscall, under the current layer's seccomp filter.
#[divan::bench]
fn getppid() -> i64 {
    #[cfg(target_os = "linux")]
    {
        cap_runtime::linux::probe::getppid()
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// Open and read a small file beneath the first benchmark directory, under
/// the current layer's Landlock ruleset.
#[divan::bench]
fn open_read(bencher: divan::Bencher<'_, '_>) {
    let path = bench_dir().join("d0/file.txt");
    let mut buf = [0u8; 64];
    bencher.bench_local(|| {
        let mut f = std::fs::File::open(divan::black_box(&path)).expect("open");
        f.read(&mut buf).expect("read")
    });
}

/// What the per-request benchmarks use, opened before the lock.
#[cfg(target_os = "linux")]
struct Requests {
    listener: std::net::TcpListener,
    zero: std::fs::File,
    null: std::fs::File,
    pair: (
        std::os::unix::net::UnixStream,
        std::os::unix::net::UnixStream,
    ),
    epoll: std::os::fd::OwnedFd,
    file: std::fs::File,
}

#[cfg(target_os = "linux")]
impl Requests {
    fn open(root: &std::path::Path) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        listener.set_nonblocking(true).expect("non-blocking");
        Requests {
            listener,
            zero: std::fs::File::open("/dev/zero").expect("/dev/zero"),
            null: std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .expect("/dev/null"),
            pair: std::os::unix::net::UnixStream::pair().expect("socketpair"),
            epoll: cap_runtime::linux::probe::epoll_create().expect("epoll"),
            file: std::fs::File::open(root.join("d0/file.txt")).expect("file"),
        }
    }
}

#[cfg(target_os = "linux")]
static REQUESTS: std::sync::OnceLock<Requests> = std::sync::OnceLock::new();

#[cfg(target_os = "linux")]
fn requests() -> &'static Requests {
    REQUESTS.get().expect("opened by child()")
}

/// The syscalls a server makes per request, each under the current layer's
/// seccomp filter (the filter runs on entry, whatever the call then does:
/// `accept4` on an empty non-blocking listener answers `EAGAIN`).
#[cfg(target_os = "linux")]
#[divan::bench_group]
mod per_request {
    use std::io::{Read, Write};
    use std::os::fd::AsFd;

    use cap_runtime::linux::probe;

    use super::requests;

    #[divan::bench]
    fn accept4() -> bool {
        probe::accept4(requests().listener.as_fd()).is_ok()
    }

    #[divan::bench]
    fn read() -> usize {
        let mut buf = [0u8; 64];
        (&requests().zero).read(&mut buf).expect("read")
    }

    #[divan::bench]
    fn write() -> usize {
        (&requests().null).write(b"x").expect("write")
    }

    #[divan::bench]
    fn sendmsg_recvmsg() -> i64 {
        let (a, b) = &requests().pair;
        probe::sendmsg_byte(a.as_fd()).expect("sendmsg");
        probe::recvmsg_byte(b.as_fd()).expect("recvmsg")
    }

    #[divan::bench]
    fn epoll_wait() -> i64 {
        probe::epoll_wait_now(requests().epoll.as_fd()).expect("epoll_wait")
    }

    #[divan::bench]
    fn sendfile() -> i64 {
        let r = requests();
        probe::sendfile(r.null.as_fd(), r.file.as_fd(), 15).expect("sendfile")
    }
}

#[cfg(not(target_os = "linux"))]
fn child(_layer: &str) {
    divan::main();
}

fn main() {
    if let Ok(layer) = std::env::var(LAYER) {
        child(&layer);
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    for i in 0..10 {
        let d = tmp.path().join(format!("d{i}"));
        std::fs::create_dir(&d).expect("mkdir");
        std::fs::write(d.join("file.txt"), "benchmark data\n").expect("write");
    }
    // The entry cost measured inside the child, where it happens (the spawn
    // benchmarks below include process creation and its noise).
    #[cfg(target_os = "linux")]
    {
        let timed = |layer: &str| {
            let mut ns: Vec<u64> = (0..30)
                .map(|_| {
                    let out = Command::new(std::env::current_exe().expect("current exe"))
                        .env(DIR, tmp.path())
                        .env(LAYER, layer)
                        .env("AMBIT_BENCH_PRINT", "1")
                        .output()
                        .expect("spawn enter child");
                    String::from_utf8_lossy(&out.stdout)
                        .trim()
                        .parse()
                        .expect("nanoseconds")
                })
                .collect();
            ns.sort_unstable();
            #[allow(clippy::cast_precision_loss)]
            let us = |v: u64| v as f64 / 1000.0;
            format!(
                "fastest {:.1} µs, median {:.1} µs, slowest {:.1} µs",
                us(ns[0]),
                us(ns[ns.len() / 2]),
                us(ns[ns.len() - 1])
            )
        };
        println!(
            "enter, 10 handles, timed inside the child (30 runs): {} (budget 500 µs, all-or-nothing rehearsal included)",
            timed("enter-exit")
        );
        println!(
            "  of which the seccomp step (build + install): {}; building alone: {}; a one-instruction filter: {}",
            timed("filter-exit"),
            timed("build-exit"),
            timed("floor-filter-exit")
        );
    }
    // Where the time goes: the median of each stage over 30 children.
    #[cfg(target_os = "linux")]
    {
        let runs: Vec<Vec<u64>> = (0..30)
            .map(|_| {
                let out = Command::new(std::env::current_exe().expect("current exe"))
                    .env(DIR, tmp.path())
                    .env(LAYER, "enter-phases")
                    .output()
                    .expect("spawn phases child");
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(|v| v.parse().expect("nanoseconds"))
                    .collect()
            })
            .collect();
        let names = [
            "facts",
            "plan",
            "prepare",
            "rehearse (alone)",
            "apply (rehearsal + steps)",
        ];
        let medians: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut v: Vec<u64> = runs.iter().map(|r| r[i]).collect();
                v.sort_unstable();
                #[allow(clippy::cast_precision_loss)]
                let us = |n: u64| n as f64 / 1000.0;
                format!("{name} {:.1}/{:.1} µs", us(v[0]), us(v[v.len() / 2]))
            })
            .collect();
        println!(
            "enter by stage (fastest/median of 30): {}",
            medians.join(", ")
        );
    }
    // Every layer runs in a child that finds the directory in its
    // environment (`set_var` here would be `unsafe`): `none` runs every
    // benchmark, `floor` and `ambit` the two that compare against it.
    let layers: &[(&str, &[&str])] = if cfg!(target_os = "linux") {
        &[
            ("none", &[]),
            ("floor", &["getppid", "open_read", "per_request"]),
            ("ambit", &["getppid", "open_read", "per_request"]),
            // A second round: on a shared machine the load moves between
            // layers, so a ratio is trusted only if both rounds agree.
            ("floor", &["getppid", "per_request"]),
            ("ambit", &["getppid", "per_request"]),
        ]
    } else {
        &[("none", &[])]
    };
    for (layer, filters) in layers {
        let status = Command::new(std::env::current_exe().expect("current exe"))
            .env(DIR, tmp.path())
            .env(LAYER, layer)
            .args(std::env::args_os().skip(1))
            .args(*filters)
            .status()
            .expect("spawn layer");
        assert!(status.success(), "layer {layer} failed");
    }
}
