//! `cap_core::fs` against `std::fs` on absolute paths (4 and 8 components
//! deep) and raw `cap_std`, in the same run, on what programs do most.
#![allow(clippy::wildcard_imports)] // each bench group uses the shared fixture
//!
//! Budgets (issue #16, DESIGN.md): each operation ≤ 0.97× `std::fs` on the
//! 4-component path and ≤ 1.0× `cap_std`; the tree walk ≤ 0.9× a `std::fs`
//! walk; no more system calls than std. The capability forms name a file in
//! the held directory, so their cost does not depend on how deep it is.
//!
//! Run with `cargo bench -p cap-core --bench fs`. The system calls of one
//! operation are counted by `cap-core/benches/syscalls.sh`, which runs
//! `AMBIT_BENCH_ONE=<group>/<impl> AMBIT_BENCH_N=<n>` under `strace -f -c`
//! for two values of n and prints the difference per call (the book's
//! "Performance" chapter has the table). `AMBIT_BENCH_ROUNDS=<n>
//! AMBIT_BENCH_GROUP=<group>` (default `walk_10k`) runs one group's forms
//! interleaved instead, one of each per round (each round starting with the
//! next form), and prints each one's ratio to std's and difference from it in
//! the same round.

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cap_core::ambient_authority;
use cap_core::fs::{Dir, ReadDir};
use cap_core::rights::FullFs;

/// The same directory three ways: its absolute path, a `cap_std` handle and
/// a `cap_core` handle.
struct Place {
    path: PathBuf,
    cap_std: cap_std::fs::Dir,
    cap_core: Dir<FullFs>,
}

impl Place {
    fn new(path: PathBuf) -> Self {
        std::fs::create_dir_all(&path).unwrap();
        Self {
            cap_std: cap_std::fs::Dir::open_ambient_dir(&path, ambient_authority()).unwrap(),
            cap_core: Dir::open_ambient_dir(&path, ambient_authority()).unwrap(),
            path,
        }
    }

    fn std(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    /// `/tmp/<tmp>/d`: a file in it is 4 components deep.
    near: Place,
    /// `/tmp/<tmp>/d/e/f/g/h`: a file in it is 8 components deep (a
    /// directory beneath `near`).
    deep: Place,
}

const FILES: [(&str, usize); 2] = [("4k", 4096), ("1m", 1 << 20)];

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        // `AMBIT_BENCH_DIR=/dev/shm` measures on tmpfs, where the kernel's
        // share of a listing is smaller than on ext4.
        let base = std::env::var_os("AMBIT_BENCH_DIR").unwrap_or_else(|| "/tmp".into());
        let tmp = tempfile::Builder::new().tempdir_in(base).unwrap();
        let near = Place::new(at_depth(tmp.path(), 3));
        let deep = Place::new(at_depth(tmp.path(), 7));
        assert_eq!(near.std("x").components().count(), 4 + 1, "/ + 4 names");
        assert_eq!(deep.std("x").components().count(), 8 + 1, "/ + 8 names");
        for place in [&near, &deep] {
            for (name, len) in FILES {
                std::fs::write(place.std(name), vec![b'a'; len]).unwrap();
            }
            std::fs::create_dir(place.std("sub")).unwrap();
            make_list(place, "list32", 32);
        }
        Fixture {
            _tmp: tmp,
            near,
            deep,
        }
    })
}

/// `base` with directories added until it is `depth` names deep.
fn at_depth(base: &Path, depth: usize) -> PathBuf {
    let mut path = base.to_path_buf();
    let mut names = ["d", "e", "f", "g", "h", "i", "j"].into_iter();
    while path.components().count() - 1 < depth {
        path.push(names.next().expect("AMBIT_BENCH_DIR is too deep"));
    }
    assert_eq!(
        path.components().count() - 1,
        depth,
        "AMBIT_BENCH_DIR is too deep"
    );
    path
}

fn make_list(place: &Place, list: &str, n: usize) {
    std::fs::create_dir(place.std(list)).unwrap();
    for i in 0..n {
        std::fs::write(place.std(list).join(format!("file{i:04}")), "x").unwrap();
    }
}

/// `list4096` in both places, made only when a bench needs it.
fn big_lists() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        make_list(near(), "list4096", 4096);
        make_list(deep(), "list4096", 4096);
    });
}

/// `near/tree`: 10 × 10 directories of 100 files (10,000 files), made only
/// when a bench needs it.
fn tree() -> &'static Place {
    static T: OnceLock<Place> = OnceLock::new();
    T.get_or_init(|| {
        let tree = Place::new(near().std("tree"));
        for a in 0..10 {
            for b in 0..10 {
                let d = tree.path.join(format!("a{a}/b{b}"));
                std::fs::create_dir_all(&d).unwrap();
                for i in 0..100 {
                    std::fs::write(d.join(format!("file{i:03}.txt")), "x").unwrap();
                }
            }
        }
        tree
    })
}

fn near() -> &'static Place {
    &fixture().near
}

fn deep() -> &'static Place {
    &fixture().deep
}

fn main() {
    if let Ok(one) = std::env::var("AMBIT_BENCH_ONE") {
        let n = std::env::var("AMBIT_BENCH_N").map_or(1000, |n| n.parse().unwrap());
        return run_one(&one, n);
    }
    if let Ok(rounds) = std::env::var("AMBIT_BENCH_ROUNDS") {
        let group = std::env::var("AMBIT_BENCH_GROUP").unwrap_or_else(|_| "walk_10k".into());
        return rounds_of(&group, rounds.parse().expect("AMBIT_BENCH_ROUNDS=<rounds>"));
    }
    fixture();
    big_lists();
    tree();
    divan::main();
}

/// One group's forms interleaved, one of each per round, and each one's
/// time divided by std's (`std_4`) in the same round: on a machine whose
/// speed drifts (other work coming and going) the ratios stay meaningful
/// where the separate groups' medians do not. Prints the median, lowest
/// and highest ratio of each, and the median difference from std's time in
/// the round: what a form saves is a fixed amount of work (a shorter path
/// walk, a system call), which the ratio dilutes when the kernel's own work
/// grows.
fn rounds_of(group: &str, rounds: usize) {
    let walks: Vec<(&str, fn())> = [
        "std_4",
        "cap_std",
        "cap_core",
        "cap_core_walk",
        "cap_core_parallel",
    ]
    .into_iter()
    .filter_map(|imp| op(group, imp).map(|f| (imp, f)))
    .collect();
    assert!(
        walks.len() > 1 && walks[0].0 == "std_4",
        "unknown group {group}"
    );
    prepare(group);
    let time = |f: fn()| {
        let start = std::time::Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    for &(_, f) in &walks {
        f(); // warm
    }
    let mut ratios = vec![Vec::with_capacity(rounds); walks.len()];
    let mut diffs = ratios.clone();
    let mut std_times = Vec::with_capacity(rounds);
    // Each round starts with the next form: in a fixed order the later forms
    // would pay for what the earlier ones left behind (ext4 without a journal
    // skips every inode freed in the last minute when it allocates one, so
    // each create in a round scans one inode more than the one before).
    let mut times = vec![0.0; walks.len()];
    for round in 0..rounds.max(1) {
        for k in 0..walks.len() {
            let i = (round + k) % walks.len();
            times[i] = time(walks[i].1);
        }
        std_times.push(times[0]);
        for i in 1..walks.len() {
            ratios[i].push(times[i] / times[0]);
            diffs[i].push(times[i] - times[0]);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let (m, lo, hi) = median(&mut std_times);
    println!(
        "{group}, {} rounds: std_4 {:.3} µs median ({:.3}–{:.3})",
        std_times.len(),
        m * 1e6,
        lo * 1e6,
        hi * 1e6
    );
    for (i, (name, _)) in walks.iter().enumerate().skip(1) {
        let (m, lo, hi) = median(&mut ratios[i]);
        let (d, _, _) = median(&mut diffs[i]);
        println!(
            "  {name} / std_4: {m:.3} median ({lo:.3}–{hi:.3}); {name} − std_4: {:+.3} µs median",
            d * 1e6
        );
    }
}

/// The operations by name, for counting their system calls with strace.
macro_rules! ops {
    ($($group:ident),* $(,)?) => {
        fn op(group: &str, imp: &str) -> Option<fn()> {
            match group {
                $(stringify!($group) => match imp {
                    "std_4" => Some($group::std_4),
                    "std_8" => Some($group::std_8),
                    "cap_std" => Some($group::cap_std),
                    "cap_core" => Some($group::cap_core),
                    _ => extra_op(stringify!($group), imp),
                },)*
                _ => None,
            }
        }
    };
}

/// The operations only some groups have.
fn extra_op(group: &str, imp: &str) -> Option<fn()> {
    match (group, imp) {
        ("walk_10k", "cap_core_walk") => Some(walk_10k::cap_core_walk),
        ("walk_10k", "cap_core_parallel") => Some(walk_10k::cap_core_parallel),
        _ => None,
    }
}

ops!(
    metadata,
    exists,
    is_dir,
    read_4k,
    read_1m,
    open_read_4k,
    read_dir_32,
    read_dir_4096,
    create_write_remove,
    rename,
    copy,
    canonicalize,
    walk_10k,
);

/// Builds the fixture a group's operations need.
fn prepare(group: &str) {
    fixture();
    match group {
        "read_dir_4096" => big_lists(),
        "walk_10k" => {
            tree();
        }
        _ => {}
    }
}

/// Runs one operation `n` times after building the fixture.
fn run_one(which: &str, n: usize) {
    let (group, imp) = which
        .split_once('/')
        .expect("AMBIT_BENCH_ONE=<group>/<std_4|std_8|cap_std|cap_core>");
    let f = op(group, imp).unwrap_or_else(|| panic!("unknown operation {which}"));
    prepare(group);
    for _ in 0..n {
        f();
    }
}

fn read_all(mut r: impl Read) -> usize {
    let mut buf = Vec::new();
    r.read_to_end(&mut buf).unwrap()
}

/// Defines a group's four functions from one expression per kind of handle:
/// `$std` gets the absolute path of `name` in a place, `$cap_std` and
/// `$cap_core` get the handles.
macro_rules! group {
    ($group:ident, $name:literal,
     std: |$p:ident| $std:expr,
     cap_std: |$d:ident| $cs:expr,
     cap_core: |$c:ident| $cc:expr $(,)?) => {
        #[divan::bench_group]
        mod $group {
            use super::*;

            #[divan::bench]
            pub(super) fn std_4() {
                let $p = near().std($name);
                black_box($std);
            }

            #[divan::bench]
            pub(super) fn std_8() {
                let $p = deep().std($name);
                black_box($std);
            }

            #[divan::bench]
            pub(super) fn cap_std() {
                let $d = &near().cap_std;
                black_box($cs);
            }

            #[divan::bench]
            pub(super) fn cap_core() {
                let $c = &near().cap_core;
                black_box($cc);
            }
        }
    };
}

group!(metadata, "4k",
    std: |p| std::fs::metadata(&p).unwrap().len(),
    cap_std: |d| d.metadata("4k").unwrap().len(),
    cap_core: |d| d.metadata("4k").unwrap().len(),
);

group!(exists, "4k",
    std: |p| p.exists(),
    cap_std: |d| d.exists("4k"),
    cap_core: |d| d.exists("4k"),
);

group!(is_dir, "sub",
    std: |p| p.is_dir(),
    cap_std: |d| d.is_dir("sub"),
    cap_core: |d| d.is_dir("sub"),
);

group!(read_4k, "4k",
    std: |p| std::fs::read(&p).unwrap().len(),
    cap_std: |d| d.read("4k").unwrap().len(),
    cap_core: |d| d.read("4k").unwrap().len(),
);

group!(read_1m, "1m",
    std: |p| std::fs::read(&p).unwrap().len(),
    cap_std: |d| d.read("1m").unwrap().len(),
    cap_core: |d| d.read("1m").unwrap().len(),
);

group!(open_read_4k, "4k",
    std: |p| read_all(std::fs::File::open(&p).unwrap()),
    cap_std: |d| read_all(d.open("4k").unwrap()),
    cap_core: |d| read_all(d.open("4k").unwrap()),
);

group!(read_dir_32, "list32",
    std: |p| std::fs::read_dir(&p).unwrap().count(),
    cap_std: |d| d.read_dir("list32").unwrap().count(),
    cap_core: |d| d.read_dir("list32").unwrap().count(),
);

group!(read_dir_4096, "list4096",
    std: |p| std::fs::read_dir(&p).unwrap().count(),
    cap_std: |d| d.read_dir("list4096").unwrap().count(),
    cap_core: |d| d.read_dir("list4096").unwrap().count(),
);

group!(create_write_remove, "new.txt",
    std: |p| {
        std::fs::File::create(&p).unwrap().write_all(b"hello").unwrap();
        std::fs::remove_file(&p).unwrap();
    },
    cap_std: |d| {
        d.create("new.txt").unwrap().write_all(b"hello").unwrap();
        d.remove_file("new.txt").unwrap();
    },
    cap_core: |d| {
        d.create("new.txt").unwrap().write_all(b"hello").unwrap();
        d.remove_file("new.txt").unwrap();
    },
);

// Two renames (there and back), so the fixture is the same after each run.
group!(rename, "4k",
    std: |p| {
        let q = p.with_file_name("renamed");
        std::fs::rename(&p, &q).unwrap();
        std::fs::rename(&q, &p).unwrap();
    },
    cap_std: |d| {
        d.rename("4k", d, "renamed").unwrap();
        d.rename("renamed", d, "4k").unwrap();
    },
    cap_core: |d| {
        d.rename("4k", d, "renamed").unwrap();
        d.rename("renamed", d, "4k").unwrap();
    },
);

group!(copy, "4k",
    std: |p| std::fs::copy(&p, p.with_file_name("copied")).unwrap(),
    cap_std: |d| d.copy("4k", d, "copied").unwrap(),
    cap_core: |d| d.copy("4k", d, "copied").unwrap(),
);

group!(canonicalize, "4k",
    std: |p| std::fs::canonicalize(&p).unwrap(),
    cap_std: |d| d.canonicalize("4k").unwrap(),
    cap_core: |d| d.canonicalize("4k").unwrap(),
);

/// A whole-tree walk as `tree` or `find` does it: every entry's name and type,
/// descending into directories; returns the files seen and their names' length.
fn walk_std(path: &Path) -> (usize, usize) {
    let (mut files, mut names) = (0, 0);
    for e in std::fs::read_dir(path).unwrap() {
        let e = e.unwrap();
        names += e.file_name().len();
        if e.file_type().unwrap().is_dir() {
            let (f, n) = walk_std(&e.path());
            files += f;
            names += n;
        } else {
            files += 1;
        }
    }
    (files, names)
}

fn walk_cap_std(list: cap_std::fs::ReadDir) -> (usize, usize) {
    let (mut files, mut names) = (0, 0);
    for e in list {
        let e = e.unwrap();
        names += e.file_name().len();
        if e.file_type().unwrap().is_dir() {
            let (f, n) = walk_cap_std(e.open_dir().unwrap().entries().unwrap());
            files += f;
            names += n;
        } else {
            files += 1;
        }
    }
    (files, names)
}

fn walk_cap_core(list: ReadDir<FullFs>) -> (usize, usize) {
    let (mut files, mut names) = (0, 0);
    for e in list {
        let e = e.unwrap();
        names += e.file_name().len();
        if e.file_type().unwrap().is_dir() {
            let (f, n) = walk_cap_core(e.read_dir().unwrap());
            files += f;
            names += n;
        } else {
            files += 1;
        }
    }
    (files, names)
}

#[divan::bench_group(sample_count = 20)]
mod walk_10k {
    use super::*;

    #[divan::bench]
    pub(super) fn std_4() {
        let (files, _) = black_box(walk_std(&tree().path));
        assert_eq!(files, 10_000);
    }

    /// The tree is only held at one depth: this is the same walk as `std_4`.
    pub(super) fn std_8() {
        std_4();
    }

    #[divan::bench]
    pub(super) fn cap_std() {
        let (files, _) = black_box(walk_cap_std(tree().cap_std.entries().unwrap()));
        assert_eq!(files, 10_000);
    }

    #[divan::bench]
    pub(super) fn cap_core() {
        let (files, _) = black_box(walk_cap_core(tree().cap_core.entries().unwrap()));
        assert_eq!(files, 10_000);
    }

    /// `Dir::walk` as an iterator: the same walk, in order, on one thread.
    #[divan::bench]
    pub(super) fn cap_core_walk() {
        let (mut files, mut names) = (0, 0);
        for e in tree().cap_core.walk().unwrap() {
            let e = e.unwrap();
            names += e.file_name().len();
            if !e.file_type().unwrap().is_dir() {
                files += 1;
            }
        }
        black_box(names);
        assert_eq!(files, 10_000);
    }

    /// `Walk::for_each_parallel`: the directories listed on as many threads
    /// as there are cores.
    #[divan::bench]
    pub(super) fn cap_core_parallel() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (files, names) = (AtomicUsize::new(0), AtomicUsize::new(0));
        tree().cap_core.walk().unwrap().for_each_parallel(|e| {
            let e = e.unwrap();
            names.fetch_add(e.file_name().len(), Ordering::Relaxed);
            if !e.file_type().unwrap().is_dir() {
                files.fetch_add(1, Ordering::Relaxed);
            }
        });
        black_box(names.into_inner());
        assert_eq!(files.into_inner(), 10_000);
    }
}
