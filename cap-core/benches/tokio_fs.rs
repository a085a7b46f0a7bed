//! `cap_core::tokio::fs` against `tokio::fs` on the same operations, in the
//! same run (feature `tokio`).
//!
//! Budget (issue #13): each `cap_core` operation within 1.05× of its
//! `tokio::fs` twin. Both go through tokio's blocking pool once per call
//! (`cap_core`'s `Dir` runs the sync handle's method there, as `tokio::fs`
//! runs `std::fs`'s), so the difference left is cap-std's `openat2` beneath
//! the handle against `open` by path. Run with
//! `cargo bench -p cap-core --features tokio --bench tokio_fs`.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]
#![allow(clippy::wildcard_imports)] // each bench group uses the shared fixture

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
    fixture();
    divan::main();
}

fn on_rt<T>(f: impl Future<Output = T>) -> T {
    fixture().rt.block_on(f)
}

fn p(name: &str) -> PathBuf {
    fixture().path.join(name)
}

#[divan::bench_group]
mod read_small {
    use super::*;

    #[divan::bench]
    fn tokio_fs() {
        black_box(on_rt(tokio::fs::read(p("data.txt"))).unwrap());
    }

    #[divan::bench]
    fn cap_core() {
        black_box(on_rt(fixture().dir.read("data.txt")).unwrap());
    }
}

#[divan::bench_group]
mod metadata {
    use super::*;

    #[divan::bench]
    fn tokio_fs() {
        black_box(on_rt(tokio::fs::metadata(p("data.txt"))).unwrap().len());
    }

    #[divan::bench]
    fn cap_core() {
        black_box(on_rt(fixture().dir.metadata("data.txt")).unwrap().len());
    }
}

/// Open and stream 1 MiB through `AsyncRead` in 64 KiB reads.
#[divan::bench_group]
mod stream_1mib {
    use super::*;

    #[divan::bench]
    fn tokio_fs() {
        on_rt(async {
            let mut f = tokio::fs::File::open(p("big.bin")).await.unwrap();
            let mut buf = vec![0; 64 * 1024];
            while f.read(&mut buf).await.unwrap() > 0 {}
        });
    }

    #[divan::bench]
    fn cap_core() {
        on_rt(async {
            let mut f = fixture().dir.open("big.bin").await.unwrap();
            let mut buf = vec![0; 64 * 1024];
            while f.read(&mut buf).await.unwrap() > 0 {}
        });
    }
}

#[divan::bench_group]
mod create_write_remove {
    use super::*;

    #[divan::bench]
    fn tokio_fs() {
        on_rt(async {
            let mut f = tokio::fs::File::create(p("out.txt")).await.unwrap();
            f.write_all(b"hello").await.unwrap();
            f.flush().await.unwrap();
            drop(f);
            tokio::fs::remove_file(p("out.txt")).await.unwrap();
        });
    }

    #[divan::bench]
    fn cap_core() {
        on_rt(async {
            let dir = &fixture().dir;
            let mut f = dir.create("out.txt").await.unwrap();
            f.write_all(b"hello").await.unwrap();
            f.flush().await.unwrap();
            drop(f);
            dir.remove_file("out.txt").await.unwrap();
        });
    }
}

#[divan::bench_group]
mod read_dir_32 {
    use super::*;

    #[divan::bench]
    fn tokio_fs() {
        on_rt(async {
            let mut entries = tokio::fs::read_dir(p("list")).await.unwrap();
            let mut n = 0;
            while entries.next_entry().await.unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, 32);
        });
    }

    #[divan::bench]
    fn cap_core() {
        on_rt(async {
            let mut entries = fixture().dir.read_dir("list").await.unwrap();
            let mut n = 0;
            while entries.next_entry().await.unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, 32);
        });
    }
}
