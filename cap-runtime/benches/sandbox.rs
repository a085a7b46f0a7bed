//! Sandbox costs, each against its baseline in the same run.
//!
//! A lock is irreversible, so each layer runs in its own process: this binary
//! first runs every benchmark unsandboxed (the `none` baseline, and the entry
//! benchmarks, which spawn one child per sample), then re-executes itself
//! twice to run the syscall and open benchmarks again under
//!
//! - `floor`: a one-instruction seccomp filter (`return ALLOW`) and a one-rule
//!   Landlock ruleset (read beneath the benchmark directory);
//! - `ambit`: `cap_runtime::enter` with the benchmark policy (10 directory
//!   handles: Landlock rules, scopes, capabilities dropped, the seccomp
//!   allowlist).
//!
//! Budgets (DESIGN.md): entry ≤ 1 ms (timed inside the child and printed
//! first; `spawn_enter_10` minus `spawn_only` shows the same with process
//! creation around it),
//! `getppid` under ambit ≤ 1.05× floor, `open_read` under ambit ≤ 1.05× floor.
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
fn enter_ambit(dirs: &[std::fs::File], root: &std::path::Path) {
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
    cap_runtime::enter_with(&policy, &options).expect("enter the benchmark policy");
}

#[cfg(target_os = "linux")]
fn child(layer: &str) {
    let root = bench_dir();
    let dirs = open_dirs(&root);
    match layer {
        "exit" => std::process::exit(0),
        "enter-exit" => {
            let start = std::time::Instant::now();
            enter_ambit(&dirs, &root);
            if std::env::var_os("AMBIT_BENCH_PRINT").is_some() {
                println!("{}", start.elapsed().as_nanos());
            }
            std::process::exit(0);
        }
        "floor" => {
            cap_runtime::linux::probe::restrict_one_rule(dirs[0].as_fd())
                .expect("one-rule ruleset");
            cap_runtime::linux::probe::install_allow_all_filter().expect("one-instruction filter");
        }
        "ambit" => enter_ambit(&dirs, &root),
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
        let mut ns: Vec<u64> = (0..30)
            .map(|_| {
                let out = Command::new(std::env::current_exe().expect("current exe"))
                    .env(DIR, tmp.path())
                    .env(LAYER, "enter-exit")
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
        println!(
            "enter, 10 handles, timed inside the child (30 runs): fastest {:.1} µs, median {:.1} µs, slowest {:.1} µs (budget 1000 µs)",
            us(ns[0]),
            us(ns[ns.len() / 2]),
            us(ns[ns.len() - 1])
        );
    }
    // Every layer runs in a child that finds the directory in its
    // environment (`set_var` here would be `unsafe`): `none` runs every
    // benchmark, `floor` and `ambit` the two that compare against it.
    let layers: &[(&str, &[&str])] = if cfg!(target_os = "linux") {
        &[
            ("none", &[]),
            ("floor", &["getppid", "open_read"]),
            ("ambit", &["getppid", "open_read"]),
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
