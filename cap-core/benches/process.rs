//! Spawning from a handle and passing handles, against `std` in the same run.
//!
//! Run with `cargo bench -p cap-core --bench process`.
//!
//! - `spawn_wait`: spawn + wait of `/bin/true`. `ambit_sandboxed`: a
//!   `cap_core::process::Command` from an executable handle, with a 3-handle
//!   table (a dir, a file, a unix socket) and a child sandbox derived from it
//!   (planned and prepared in the parent: Landlock ruleset, seccomp program;
//!   applied in the child), against `std::process::Command` (budget: ≤ 1.3×).
//!   `ambit_unsandboxed` shows what the sandbox costs on its own.
//! - `pass`: sending a directory handle over a unix socket and receiving it
//!   (SCM_RIGHTS with its kind and rights), against a plain one-byte send and
//!   receive on the same kind of socket (reported, no budget).
//!
//! On a machine shared with other work, divan's groups run one after the
//! other and the load drifts between them. `PROCESS_BENCH_INTERLEAVED=N
//! cargo bench -p cap-core --bench process` instead runs N rounds, each
//! timing one spawn + wait of every contender in turn (the order rotating
//! from round to round), and prints each one's median and its paired ratio
//! to `std` (the median over rounds of ambit's time divided by `std`'s time
//! in the same round).
#![cfg_attr(not(target_os = "linux"), no_main)]
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream as StdUnixStream;

use cap_core::fs::{Dir, File};
use cap_core::net::UnixStream;
use cap_core::process::Command;
use cap_core::rights::ReadOnly;
use cap_core::{ambient_authority, rights};

const TRUE: &str = "/bin/true";
const LIBS: &str = "/lib/x86_64-linux-gnu";

fn main() {
    match std::env::var("PROCESS_BENCH_INTERLEAVED").map(|v| v.parse::<usize>()) {
        Ok(Ok(rounds)) => interleaved(rounds.max(1)),
        Ok(Err(e)) => panic!("PROCESS_BENCH_INTERLEAVED: {e}"),
        Err(_) => divan::main(),
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `rounds` rounds of std, sandboxed and unsandboxed spawn + wait, one
/// sample of each per round: see the module docs.
fn interleaved(rounds: usize) {
    use std::time::Instant;
    let f = fixture();
    let contenders: [(&str, &dyn Fn()); 3] = [
        ("std_command", &std_spawn_wait),
        ("ambit_sandboxed", &|| f.sandboxed_spawn_wait()),
        ("ambit_unsandboxed", &|| f.unsandboxed_spawn_wait()),
    ];
    // One warm-up each (page cache, lazily built tables).
    for (_, run) in &contenders {
        run();
    }
    let mut times = vec![Vec::with_capacity(rounds); contenders.len()];
    for round in 0..rounds {
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            let start = Instant::now();
            (contenders[i].1)();
            times[i].push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    println!("spawn + wait of {TRUE}, {rounds} interleaved rounds (µs; ratio: paired, to std)");
    for (i, (name, _)) in contenders.iter().enumerate() {
        let mut ratios: Vec<f64> = times[i].iter().zip(&times[0]).map(|(a, s)| a / s).collect();
        let ratio = median(&mut ratios);
        let mut t = times[i].clone();
        let med = median(&mut t);
        let fastest = t[0];
        println!("{name:<18} median {med:8.1}  fastest {fastest:8.1}  ratio {ratio:.2}");
    }
}

struct Fixture {
    exe: File<rights![Read, Exec]>,
    libs: Dir<rights![Lookup, Read, Exec]>,
    dir: Dir<ReadOnly>,
    file: File<rights![Read]>,
    socket: UnixStream,
    _peer: UnixStream,
}

/// `std::process::Command` spawn + wait of `TRUE`.
fn std_spawn_wait() {
    let status = std::process::Command::new(TRUE).status().unwrap();
    assert!(status.success());
}

impl Fixture {
    /// Spawn + wait of the held executable with a child sandbox derived from
    /// its three handles and the loader directory.
    fn sandboxed_spawn_wait(&self) {
        let mut child = Command::new(&self.exe)
            .loader_dir(&self.libs)
            .handle(3, &self.dir)
            .handle(4, &self.file)
            .handle(5, &self.socket)
            .spawn()
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// The same three handles, no child sandbox.
    fn unsandboxed_spawn_wait(&self) {
        let mut child = Command::new(&self.exe)
            .handle(3, &self.dir)
            .handle(4, &self.file)
            .handle(5, &self.socket)
            .unsandboxed(ambient_authority())
            .spawn()
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
}

fn fixture() -> Fixture {
    let a = ambient_authority();
    let (socket, peer) = UnixStream::pair().unwrap();
    Fixture {
        exe: File::open_ambient(TRUE, a).unwrap(),
        libs: Dir::open_ambient_dir(LIBS, a).unwrap(),
        dir: Dir::open_ambient_dir("/tmp", a).unwrap(),
        file: File::open_ambient("/etc/hostname", a)
            .or_else(|_| File::open_ambient(TRUE, a))
            .unwrap(),
        socket,
        _peer: peer,
    }
}

#[divan::bench_group(sample_count = 200)]
mod spawn_wait {
    use super::fixture;

    #[divan::bench]
    fn std_command(b: divan::Bencher) {
        b.bench(super::std_spawn_wait);
    }

    #[divan::bench]
    fn ambit_sandboxed(b: divan::Bencher) {
        let f = fixture();
        b.bench(|| f.sandboxed_spawn_wait());
    }

    #[divan::bench]
    fn ambit_unsandboxed(b: divan::Bencher) {
        let f = fixture();
        b.bench(|| f.unsandboxed_spawn_wait());
    }
}

#[divan::bench_group(sample_count = 2000)]
mod pass {
    use super::{Dir, Read, ReadOnly, StdUnixStream, UnixStream, Write, fixture};

    #[divan::bench]
    fn one_byte(b: divan::Bencher) {
        let (mut a, mut c) = StdUnixStream::pair().unwrap();
        let mut buf = [0u8; 1];
        b.bench_local(|| {
            a.write_all(&[7]).unwrap();
            c.read_exact(&mut buf).unwrap();
        });
    }

    #[divan::bench]
    fn send_recv_handle(b: divan::Bencher) {
        let f = fixture();
        let (a, c) = UnixStream::pair().unwrap();
        b.bench_local(|| {
            a.send_handle(&f.dir).unwrap();
            let got: Dir<ReadOnly> = c.recv_handle().unwrap();
            drop(got);
        });
    }
}
