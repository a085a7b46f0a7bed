//! The cost of `#[sandboxed]`'s prologue with 10 handles (budget: ≤ 1 ms),
//! against baselines in the same run.
//!
//! Entering capability mode is irreversible, so the whole-program numbers
//! spawn this binary again per iteration: `spawn_sandboxed` runs a
//! `#[sandboxed]` function holding 10 directories, `spawn_plain` opens the
//! same 10 directories without locking. Their difference is the prologue's
//! cost (argument parsing, policy derivation, Landlock, seccomp, closing
//! descriptors). `preopen_*` compare the pre-open step alone, in process.

use std::process::Command;

use cap_core::__private::{CommandLine, Prologue, Source, kind};
use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

const CHILD: &str = "AMBIT_BENCH_CHILD";

#[cap_core::sandboxed(
    d0 = dir("/"), d1 = dir("/tmp"), d2 = dir("/usr"), d3 = dir("/etc"), d4 = dir("/var"),
    d5 = dir("/bin"), d6 = dir("/lib"), d7 = dir("/dev"), d8 = dir("/proc"), d9 = dir("/sys"),
    mode = best_effort,
)]
#[allow(clippy::too_many_arguments)]
fn sandboxed(
    d0: Dir<ReadOnly>,
    d1: Dir<ReadOnly>,
    d2: Dir<ReadOnly>,
    d3: Dir<ReadOnly>,
    d4: Dir<ReadOnly>,
    d5: Dir<ReadOnly>,
    d6: Dir<ReadOnly>,
    d7: Dir<ReadOnly>,
    d8: Dir<ReadOnly>,
    d9: Dir<ReadOnly>,
) {
    drop((d0, d1, d2, d3, d4, d5, d6, d7, d8, d9));
}

const PATHS: [&str; 10] = [
    "/", "/tmp", "/usr", "/etc", "/var", "/bin", "/lib", "/dev", "/proc", "/sys",
];

fn plain() {
    let ambient = cap_core::ambient_authority();
    let dirs: Vec<Dir<ReadOnly>> = PATHS
        .iter()
        .map(|p| Dir::open_ambient_dir(p, ambient).unwrap())
        .collect();
    drop(dirs);
}

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("sandboxed") => sandboxed(),
        Ok("plain") => plain(),
        _ => divan::main(),
    }
}

fn spawn(mode: &str) {
    let status = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, mode)
        .status()
        .unwrap();
    assert!(status.success(), "{mode} child failed: {status}");
}

/// Baseline: a process that opens the 10 directories and exits.
#[divan::bench(sample_count = 50)]
fn spawn_plain() {
    spawn("plain");
}

/// The same process with `#[sandboxed]`: pre-open, lock, run.
#[divan::bench(sample_count = 50)]
fn spawn_sandboxed() {
    spawn("sandboxed");
}

/// Baseline: 10 `Dir::open_ambient_dir` calls.
#[divan::bench]
fn preopen_direct() {
    plain();
}

/// The prologue's pre-open of the same 10 declarations (sources resolved,
/// errors named), without the lock.
#[divan::bench]
fn preopen_prologue() {
    // divan's own flags are on the command line: leave them to it.
    let mut command_line = CommandLine::new();
    command_line.external("divan");
    let prologue = Prologue::new(&command_line, false);
    let dirs: Vec<Dir<ReadOnly>> = PATHS
        .iter()
        .map(|p| {
            let source = Source {
                flag: None,
                position: None,
                env: None,
                default: Some(p),
            };
            prologue.open::<Dir<ReadOnly>, kind::dir>("d", source)
        })
        .collect();
    drop(dirs);
}
