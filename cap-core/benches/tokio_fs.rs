//! `cap_core::tokio::fs` against `tokio::fs` on the same operations, in the
//! same run (feature `tokio`).
//!
//! Budget (issue #13): each `cap_core` operation within 1.05× of its
//! `tokio::fs` twin. Both go through tokio's blocking pool once per call
//! (`cap_core`'s `Dir` runs the sync handle's method there, as `tokio::fs`
//! runs `std::fs`'s), so the difference left is cap-std's `openat2` beneath
//! the handle against `open` by path. Run with
//! `cargo bench -p cap-core --features tokio --bench tokio_fs`.
//!
//! Each call is two thread hand-offs (the runtime thread to a pool thread
//! and back), and where those threads run decides most of its time: left to
//! the scheduler, a call's time spread from 8 µs to 700 µs on a two-CPU
//! machine and the medians of the two sides moved ±40% from run to run. So
//! the bench places the process (`AMBIT_BENCH_CPUS`): `same` (the default on
//! Linux) keeps all its threads on CPU 0, where every hand-off is a direct
//! switch and the figures are the work of the two sides; `free` leaves them
//! to the scheduler.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::OnceLock;

use cap_core::ambient_authority;
use cap_core::rights::FullFs;
use cap_core::tokio::fs::Dir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::runtime::Runtime;

struct Fixture {
    _tmp: tempfile::TempDir,
    path: PathBuf,
    dir: Dir<FullFs>,
    rt: Runtime,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().to_path_buf();
        std::fs::create_dir(path.join("list")).unwrap();
        for i in 0..32 {
            std::fs::write(path.join("list").join(format!("f{i}")), "x").unwrap();
        }
        std::fs::write(path.join("data.txt"), vec![b'a'; 4096]).unwrap();
        std::fs::write(path.join("big.bin"), vec![b'b'; 1 << 20]).unwrap();
        let sync = cap_core::fs::Dir::open_ambient_dir(&path, ambient_authority()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        Fixture {
            dir: Dir::from(sync),
            _tmp: tmp,
            path,
            rt,
        }
    })
}

fn main() {
    // Before the runtime's threads exist, so they inherit the placement.
    match std::env::var("AMBIT_BENCH_CPUS").as_deref() {
        Err(_) | Ok("same") => pin_to_cpu_0(),
        Ok("free") => {}
        Ok(other) => panic!("AMBIT_BENCH_CPUS={other:?}: expected same or free"),
    }
    fixture();
    match std::env::var("TOKIO_FS_BENCH_INTERLEAVED").map(|v| v.parse::<usize>()) {
        Ok(Ok(rounds)) => interleaved(rounds.max(1)),
        Ok(Err(e)) => panic!("TOKIO_FS_BENCH_INTERLEAVED: {e}"),
        Err(_) => divan::main(),
    }
}

fn pin_to_cpu_0() {
    #[cfg(target_os = "linux")]
    {
        let mut set = rustix::thread::CpuSet::new();
        set.set(0);
        rustix::thread::sched_setaffinity(None, &set).expect("sched_setaffinity");
    }
}

fn on_rt<T>(f: impl Future<Output = T>) -> T {
    fixture().rt.block_on(f)
}

fn p(name: &str) -> PathBuf {
    fixture().path.join(name)
}

/// An operation both ways: its name, the `tokio::fs` form, the `cap_core`
/// form.
type Operation = (&'static str, fn(), fn());

const OPERATIONS: [Operation; 5] = [
    ("read_small", tokio_read_small, cap_read_small),
    ("metadata", tokio_metadata, cap_metadata),
    ("stream_1mib", tokio_stream_1mib, cap_stream_1mib),
    (
        "create_write_remove",
        tokio_create_write_remove,
        cap_create_write_remove,
    ),
    ("read_dir_32", tokio_read_dir_32, cap_read_dir_32),
];

/// `TOKIO_FS_BENCH_INTERLEAVED=N`: each operation N times both ways,
/// alternating which goes first, so a drift in the machine's speed lands
/// on both; prints each side's median and the median of the paired ratios.
fn interleaved(rounds: usize) {
    use std::time::Instant;
    let time = |f: fn()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64() * 1e6
    };
    println!("{rounds} interleaved rounds (µs; ratio: cap_core / tokio::fs, paired)");
    for (name, tokio_form, cap_form) in OPERATIONS {
        tokio_form();
        cap_form();
        let (mut tokio_times, mut cap_times) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                tokio_times.push(time(tokio_form));
                cap_times.push(time(cap_form));
            } else {
                cap_times.push(time(cap_form));
                tokio_times.push(time(tokio_form));
            }
        }
        let mut ratios: Vec<f64> = cap_times
            .iter()
            .zip(&tokio_times)
            .map(|(c, t)| c / t)
            .collect();
        println!(
            "{name:<20} tokio::fs {:8.1}  cap_core {:8.1}  ratio {:.3}",
            median(&mut tokio_times),
            median(&mut cap_times),
            median(&mut ratios)
        );
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn tokio_read_small() {
    black_box(on_rt(tokio::fs::read(p("data.txt"))).unwrap());
}

fn cap_read_small() {
    black_box(on_rt(fixture().dir.read("data.txt")).unwrap());
}

fn tokio_metadata() {
    black_box(on_rt(tokio::fs::metadata(p("data.txt"))).unwrap().len());
}

fn cap_metadata() {
    black_box(on_rt(fixture().dir.metadata("data.txt")).unwrap().len());
}

/// Open and stream 1 MiB through `AsyncRead` in 64 KiB reads.
fn tokio_stream_1mib() {
    on_rt(async {
        let mut f = tokio::fs::File::open(p("big.bin")).await.unwrap();
        let mut buf = vec![0; 64 * 1024];
        while f.read(&mut buf).await.unwrap() > 0 {}
    });
}

fn cap_stream_1mib() {
    on_rt(async {
        let mut f = fixture().dir.open("big.bin").await.unwrap();
        let mut buf = vec![0; 64 * 1024];
        while f.read(&mut buf).await.unwrap() > 0 {}
    });
}

fn tokio_create_write_remove() {
    on_rt(async {
        let mut f = tokio::fs::File::create(p("out.txt")).await.unwrap();
        f.write_all(b"hello").await.unwrap();
        f.flush().await.unwrap();
        drop(f);
        tokio::fs::remove_file(p("out.txt")).await.unwrap();
    });
}

fn cap_create_write_remove() {
    on_rt(async {
        let dir = &fixture().dir;
        let mut f = dir.create("out.txt").await.unwrap();
        f.write_all(b"hello").await.unwrap();
        f.flush().await.unwrap();
        drop(f);
        dir.remove_file("out.txt").await.unwrap();
    });
}

fn tokio_read_dir_32() {
    on_rt(async {
        let mut entries = tokio::fs::read_dir(p("list")).await.unwrap();
        let mut n = 0;
        while entries.next_entry().await.unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 32);
    });
}

fn cap_read_dir_32() {
    on_rt(async {
        let mut entries = fixture().dir.read_dir("list").await.unwrap();
        let mut n = 0;
        while entries.next_entry().await.unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 32);
    });
}

#[divan::bench_group(sample_count = 500)]
mod read_small {
    #[divan::bench]
    fn tokio_fs() {
        super::tokio_read_small();
    }

    #[divan::bench]
    fn cap_core() {
        super::cap_read_small();
    }
}

#[divan::bench_group(sample_count = 500)]
mod metadata {
    #[divan::bench]
    fn tokio_fs() {
        super::tokio_metadata();
    }

    #[divan::bench]
    fn cap_core() {
        super::cap_metadata();
    }
}

#[divan::bench_group(sample_count = 500)]
mod stream_1mib {
    #[divan::bench]
    fn tokio_fs() {
        super::tokio_stream_1mib();
    }

    #[divan::bench]
    fn cap_core() {
        super::cap_stream_1mib();
    }
}

#[divan::bench_group(sample_count = 500)]
mod create_write_remove {
    #[divan::bench]
    fn tokio_fs() {
        super::tokio_create_write_remove();
    }

    #[divan::bench]
    fn cap_core() {
        super::cap_create_write_remove();
    }
}

#[divan::bench_group(sample_count = 500)]
mod read_dir_32 {
    #[divan::bench]
    fn tokio_fs() {
        super::tokio_read_dir_32();
    }

    #[divan::bench]
    fn cap_core() {
        super::cap_read_dir_32();
    }
}
