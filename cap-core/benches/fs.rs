//! `cap_core::fs` against raw `cap_std` and `std::fs`, in the same run.
#![allow(clippy::wildcard_imports)] // each bench group uses the shared fixture
//!
//! Budget (DESIGN.md): a `cap_core` operation within 3% of the same `cap_std`
//! operation, with the same system calls. Run with
//! `cargo bench -p cap-core --bench fs`; the system-call counts are checked
//! with `AMBIT_BENCH_ONE=<op>/<impl>` under `strace -f -c` (see the book's
//! "Handles and rights" chapter).

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cap_core::ambient_authority;
use cap_core::fs::Dir;
use cap_core::rights::FullFs;

struct Fixture {
    _tmp: tempfile::TempDir,
    path: PathBuf,
    std_dir: PathBuf,
    cap_std: cap_std::fs::Dir,
    cap_core: Dir<FullFs>,
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
        let cap_std = cap_std::fs::Dir::open_ambient_dir(&path, ambient_authority()).unwrap();
        let cap_core = Dir::open_ambient_dir(&path, ambient_authority()).unwrap();
        Fixture {
            std_dir: path.clone(),
            _tmp: tmp,
            path,
            cap_std,
            cap_core,
        }
    })
}

fn main() {
    if let Ok(one) = std::env::var("AMBIT_BENCH_ONE") {
        return run_one(&one);
    }
    fixture();
    divan::main();
}

/// Runs one operation 1000 times, for counting its system calls with strace.
fn run_one(which: &str) {
    let f = fixture();
    let (op, imp) = which
        .split_once('/')
        .expect("AMBIT_BENCH_ONE=<op>/<std|cap_std|cap_core>");
    for _ in 0..1000 {
        match (op, imp) {
            ("open_read", "std") => open_read::std_fs(),
            ("open_read", "cap_std") => open_read::cap_std(),
            ("open_read", "cap_core") => open_read::cap_core(),
            ("metadata", "std") => metadata::std_fs(),
            ("metadata", "cap_std") => metadata::cap_std(),
            ("metadata", "cap_core") => metadata::cap_core(),
            ("read_dir", "std") => read_dir::std_fs(),
            ("read_dir", "cap_std") => read_dir::cap_std(),
            ("read_dir", "cap_core") => read_dir::cap_core(),
            ("create_write_remove", "std") => create_write_remove::std_fs(),
            ("create_write_remove", "cap_std") => create_write_remove::cap_std(),
            ("create_write_remove", "cap_core") => create_write_remove::cap_core(),
            _ => panic!("unknown operation {which}"),
        }
    }
    let _ = &f.path;
}

fn std_path(name: &str) -> PathBuf {
    fixture().std_dir.join(name)
}

fn read_all(mut r: impl Read) -> usize {
    let mut buf = Vec::with_capacity(4096);
    r.read_to_end(&mut buf).unwrap()
}

#[divan::bench_group]
mod open_read {
    use super::*;

    #[divan::bench]
    pub(super) fn std_fs() {
        black_box(read_all(std::fs::File::open(std_path("data.txt")).unwrap()));
    }

    #[divan::bench]
    pub(super) fn cap_std() {
        black_box(read_all(fixture().cap_std.open("data.txt").unwrap()));
    }

    #[divan::bench]
    pub(super) fn cap_core() {
        black_box(read_all(fixture().cap_core.open("data.txt").unwrap()));
    }
}

#[divan::bench_group]
mod metadata {
    use super::*;

    #[divan::bench]
    pub(super) fn std_fs() {
        black_box(std::fs::metadata(std_path("data.txt")).unwrap().len());
    }

    #[divan::bench]
    pub(super) fn cap_std() {
        black_box(fixture().cap_std.metadata("data.txt").unwrap().len());
    }

    #[divan::bench]
    pub(super) fn cap_core() {
        black_box(fixture().cap_core.metadata("data.txt").unwrap().len());
    }
}

#[divan::bench_group]
mod read_dir {
    use super::*;

    #[divan::bench]
    pub(super) fn std_fs() {
        black_box(std::fs::read_dir(std_path("list")).unwrap().count());
    }

    #[divan::bench]
    pub(super) fn cap_std() {
        black_box(fixture().cap_std.read_dir("list").unwrap().count());
    }

    #[divan::bench]
    pub(super) fn cap_core() {
        black_box(fixture().cap_core.read_dir("list").unwrap().count());
    }
}

#[divan::bench_group]
mod create_write_remove {
    use super::*;

    #[divan::bench]
    pub(super) fn std_fs() {
        let p = std_path("new.txt");
        std::fs::File::create(&p)
            .unwrap()
            .write_all(b"hello")
            .unwrap();
        std::fs::remove_file(Path::new(&p)).unwrap();
    }

    #[divan::bench]
    pub(super) fn cap_std() {
        let d = &fixture().cap_std;
        d.create("new.txt").unwrap().write_all(b"hello").unwrap();
        d.remove_file("new.txt").unwrap();
    }

    #[divan::bench]
    pub(super) fn cap_core() {
        let d = &fixture().cap_core;
        d.create("new.txt").unwrap().write_all(b"hello").unwrap();
        d.remove_file("new.txt").unwrap();
    }
}
