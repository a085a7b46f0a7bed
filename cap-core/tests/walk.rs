//! `Dir::walk`: every entry once, in order or on several threads; depth and
//! filter; symlinks reported and never followed, also when a directory is
//! swapped for a symlink to outside during the walk; errors reported with
//! the path while the walk goes on; a panicking visitor does not hang it.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cap_core::ambient_authority;
use cap_core::fs::{Dir, Walk};
use cap_core::rights::FullFs;

const OUTSIDE_NAME: &str = "outside-only-name";

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    dir: Dir<FullFs>,
}

/// `<tmp>/outside/` with a file of a name found nowhere else, and
/// `<tmp>/tree/`: nested directories, an empty one, files, a FIFO, and
/// symlinks to a file and a directory inside and to the outside directory.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("deeper")).unwrap();
    std::fs::write(outside.join(OUTSIDE_NAME), "secret").unwrap();
    std::fs::write(outside.join("deeper").join(OUTSIDE_NAME), "secret").unwrap();
    let root = tmp.path().join("tree");
    for d in ["a/b/c/d", "a/e", "empty", ".git/objects", "f"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for (i, f) in [
        "top.txt",
        "a/one.txt",
        "a/b/two.txt",
        "a/b/c/d/deep.txt",
        "a/e/x",
        ".git/objects/o",
        "f/y",
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(root.join(f), format!("{i}")).unwrap();
    }
    for i in 0..40 {
        std::fs::write(root.join(format!("f/file{i:02}")), "n").unwrap();
    }
    std::os::unix::fs::symlink("top.txt", root.join("link_file")).unwrap();
    std::os::unix::fs::symlink("c", root.join("a/b/link_dir_in")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
    std::os::unix::fs::symlink("../../outside", root.join("a/out_rel")).unwrap();
    #[cfg(target_os = "linux")] // rustix has no mknodat on every unix
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("a/fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let dir = Dir::open_ambient_dir(&root, ambient_authority()).unwrap();
    Fixture {
        _tmp: tmp,
        root,
        outside,
        dir,
    }
}

/// What `std::fs` finds beneath `root`, not following symlinks: (path, depth).
fn std_walk(root: &Path, rel: &Path, depth: usize, out: &mut BTreeSet<(PathBuf, usize)>) {
    for e in std::fs::read_dir(root.join(rel)).unwrap() {
        let e = e.unwrap();
        let path = rel.join(e.file_name());
        out.insert((path.clone(), depth));
        if e.file_type().unwrap().is_dir() {
            std_walk(root, &path, depth + 1, out);
        }
    }
}

fn expected(f: &Fixture) -> BTreeSet<(PathBuf, usize)> {
    let mut want = BTreeSet::new();
    std_walk(&f.root, Path::new(""), 1, &mut want);
    want
}

fn serial(walk: Walk<FullFs>) -> Vec<(PathBuf, usize)> {
    walk.map(|e| {
        let e = e.unwrap();
        (e.path(), e.depth())
    })
    .collect()
}

fn parallel(walk: Walk<FullFs>) -> Vec<(PathBuf, usize)> {
    let seen = Mutex::new(Vec::new());
    walk.for_each_parallel(|e| {
        let e = e.unwrap();
        seen.lock().unwrap().push((e.path(), e.depth()));
    });
    seen.into_inner().unwrap()
}

/// The paths as a set, asserting none came twice.
fn once(found: Vec<(PathBuf, usize)>) -> BTreeSet<(PathBuf, usize)> {
    let n = found.len();
    let set: BTreeSet<_> = found.into_iter().collect();
    assert_eq!(set.len(), n, "an entry came twice");
    set
}

#[test]
fn every_entry_once_as_std_finds_them() {
    let f = fixture();
    let want = expected(&f);
    assert!(want.len() > 50, "{}", want.len());
    let got = serial(f.dir.walk().unwrap());
    // In order: a directory before what is beneath it.
    for (i, (p, _)) in got.iter().enumerate() {
        if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
            assert!(
                got[..i].iter().any(|(q, _)| q == parent),
                "{} came before its directory",
                p.display()
            );
        }
    }
    assert_eq!(once(got), want);
    for threads in [1, 2, 4, 16] {
        assert_eq!(
            once(parallel(f.dir.walk().unwrap().threads(threads))),
            want,
            "{threads} threads"
        );
    }
    assert_eq!(once(parallel(f.dir.walk().unwrap())), want);
}

#[test]
fn depth_and_filter() {
    let f = fixture();
    let want = expected(&f);
    for max in [0, 1, 2, 3] {
        let at_most: BTreeSet<_> = want.iter().filter(|(_, d)| *d <= max).cloned().collect();
        assert_eq!(
            once(serial(f.dir.walk().unwrap().max_depth(max))),
            at_most,
            "{max}"
        );
        assert_eq!(
            once(parallel(f.dir.walk().unwrap().max_depth(max).threads(3))),
            at_most,
            "{max}, parallel"
        );
    }
    // `.git` left out: neither it nor anything beneath it.
    let no_git: BTreeSet<_> = want
        .iter()
        .filter(|(p, _)| !p.starts_with(".git"))
        .cloned()
        .collect();
    assert!(no_git.len() < want.len());
    let walk = || {
        f.dir
            .walk()
            .unwrap()
            .filter_entry(|e| e.file_name() != ".git")
    };
    assert_eq!(once(serial(walk())), no_git);
    assert_eq!(once(parallel(walk().threads(3))), no_git);
}

#[test]
fn symlinks_are_reported_and_never_followed() {
    let f = fixture();
    for (name, found) in [
        ("serial", serial(f.dir.walk().unwrap())),
        ("parallel", parallel(f.dir.walk().unwrap().threads(4))),
    ] {
        let paths: BTreeSet<PathBuf> = found.into_iter().map(|(p, _)| p).collect();
        // The links themselves are entries...
        for link in ["out", "a/out_rel", "link_file", "a/b/link_dir_in"] {
            assert!(paths.contains(Path::new(link)), "{name}: {link}");
        }
        // ...and nothing is found through them: not outside, not inside again.
        for p in &paths {
            assert!(
                !p.to_string_lossy().contains(OUTSIDE_NAME),
                "{name}: {}",
                p.display()
            );
            assert!(
                !p.starts_with("out") || p == Path::new("out"),
                "{name}: {}",
                p.display()
            );
            assert!(
                !p.starts_with("a/b/link_dir_in") || p == Path::new("a/b/link_dir_in"),
                "{name}: {}",
                p.display()
            );
        }
        // Twin: the real directories are walked.
        assert!(paths.contains(Path::new("a/b/c/d/deep.txt")), "{name}");
    }
    for e in f.dir.walk().unwrap() {
        let e = e.unwrap();
        if e.file_name() == "out" {
            assert!(e.file_type().unwrap().is_symlink());
            assert!(
                e.read_dir().is_err(),
                "descending the link by hand is refused too"
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(f.outside.join(OUTSIDE_NAME)).unwrap(),
        "secret"
    );
}

#[test]
fn a_directory_swapped_for_a_symlink_out_during_walks() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let f = fixture();
    std::fs::create_dir(f.root.join("flip")).unwrap();
    std::fs::write(f.root.join("flip/in_flip"), "x").unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let (aside, link) = (f.root.join(".aside"), f.root.join(".link"));
            while !stop.load(Ordering::Relaxed) {
                std::fs::rename(f.root.join("flip"), &aside).unwrap();
                std::os::unix::fs::symlink(&f.outside, &link).unwrap();
                std::fs::rename(&link, f.root.join("flip")).unwrap();
                std::thread::yield_now();
                std::fs::remove_file(f.root.join("flip")).unwrap();
                std::fs::rename(&aside, f.root.join("flip")).unwrap();
                std::thread::yield_now();
            }
        });
        let (mut inside, mut links, mut walks) = (0, 0, 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline && (inside < 20 || links < 20 || walks < 200) {
            walks += 1;
            // Per entry: (the file inside the directory, `flip` as a link).
            let check = |e: &cap_core::fs::WalkEntry<FullFs>| {
                let p = e.path();
                assert!(
                    !p.to_string_lossy().contains(OUTSIDE_NAME),
                    "walked outside: {}",
                    p.display()
                );
                let link = p == Path::new("flip") && e.file_type().is_ok_and(|t| t.is_symlink());
                (
                    usize::from(p == Path::new("flip/in_flip")),
                    usize::from(link),
                )
            };
            // Entries or errors (the name moves under the walk), never outside.
            let walk = f.dir.walk().unwrap().filter_entry(|e| {
                e.depth() > 1 || e.file_name().to_string_lossy().starts_with("flip")
            });
            if walks % 2 == 0 {
                for e in walk.flatten() {
                    let (i, l) = check(&e);
                    inside += i;
                    links += l;
                }
            } else {
                let seen = Mutex::new((0, 0));
                walk.threads(2).for_each_parallel(|e| {
                    if let Ok(e) = e {
                        let (i, l) = check(e);
                        let mut s = seen.lock().unwrap();
                        s.0 += i;
                        s.1 += l;
                    }
                });
                let (i, l) = seen.into_inner().unwrap();
                inside += i;
                links += l;
            }
        }
        stop.store(true, Ordering::Relaxed);
        assert!(
            inside > 0 && links > 0,
            "the walks saw the directory inside {inside} times and the link {links} times ({walks} walks): the race tried nothing"
        );
    });
}

#[test]
fn a_directory_that_cannot_be_listed_is_an_error_naming_it_and_the_walk_goes_on() {
    let f = fixture();
    std::fs::create_dir(f.root.join("doomed")).unwrap();
    std::fs::write(f.root.join("doomed/never"), "x").unwrap();
    let errors = Mutex::new(Vec::new());
    let files = std::sync::atomic::AtomicUsize::new(0);
    // The visitor removes `doomed` when it meets it, before the walk
    // descends: that descent fails.
    f.dir
        .walk()
        .unwrap()
        .threads(2)
        .for_each_parallel(|e| match e {
            Ok(e) if e.file_name() == "doomed" => {
                std::fs::remove_dir_all(f.root.join("doomed")).unwrap();
            }
            Ok(e) => {
                assert_ne!(e.file_name(), "never");
                if e.file_type().unwrap().is_file() {
                    files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Err(err) => errors.lock().unwrap().push(err.to_string()),
        });
    let errors = errors.into_inner().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("doomed"), "{}", errors[0]);
    assert_eq!(files.into_inner(), 47, "every other file was still visited");
}

#[test]
fn a_panicking_visitor_stops_the_walk_and_its_panic_goes_on_in_the_caller() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tmp = tempfile::tempdir().unwrap();
    for d in 0..4 {
        for i in 0..100 {
            let sub = tmp.path().join(format!("d{d}"));
            std::fs::create_dir_all(&sub).unwrap();
            std::fs::write(sub.join(format!("{i:03}")), "").unwrap();
        }
    }
    let dir: Dir<FullFs> = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    // The panic hook runs before the unwinding that stops the walk, and
    // printing a backtrace can take longer than the whole walk: this
    // panic's report is left out, others go to the hook there was.
    let previous = std::sync::Arc::new(std::panic::take_hook());
    let forward = std::sync::Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"visitor gave up") {
            forward(info);
        }
    }));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let visits = AtomicUsize::new(0);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                dir.walk().unwrap().threads(3).for_each_parallel(|e| {
                    e.unwrap();
                    if visits.fetch_add(1, Ordering::SeqCst) == 20 {
                        std::panic::panic_any("visitor gave up");
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                });
            }));
            let payload = r.err().and_then(|p| p.downcast_ref::<&str>().copied());
            tx.send((payload, visits.into_inner())).unwrap();
        });
        let (payload, visits) = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the walk hung after its visitor panicked");
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| previous(info)));
        assert_eq!(payload, Some("visitor gave up"), "the visitor's own panic");
        // The other threads finish the entry they are at and take no more:
        // far from the 404 entries there are.
        assert!(visits < 200, "{visits} entries visited");
    });
}

/// Swaps `name` (a directory in the tree) for a symlink to `target` in the
/// filter, that is after the listing and before the descent.
fn swap_in_filter(
    f: &Fixture,
    name: &'static str,
    target: PathBuf,
) -> impl Fn(&cap_core::fs::WalkEntry<FullFs>) -> bool + Send + Sync + 'static {
    let root = f.root.clone();
    move |e| {
        if e.depth() == 1 && e.file_name() == name && root.join(name).is_dir() {
            std::fs::rename(root.join(name), root.join(format!(".{name}-aside"))).unwrap();
            std::os::unix::fs::symlink(&target, root.join(name)).unwrap();
        }
        !e.file_name().to_string_lossy().starts_with("private")
    }
}

#[test]
fn a_directory_swapped_for_a_symlink_before_its_descent_is_not_followed() {
    for parallel in [false, true] {
        let f = fixture();
        // `private` is filtered out; `pub` becomes a link to it; `flip` a
        // link to the walked directory itself; `away` a link to outside.
        for d in ["private", "pub", "flip", "away"] {
            std::fs::create_dir(f.root.join(d)).unwrap();
        }
        std::fs::write(f.root.join("private/key"), "SECRET").unwrap();
        std::fs::write(f.root.join("pub/ok"), "ok").unwrap();
        let filters = [
            swap_in_filter(&f, "pub", PathBuf::from("private")),
            swap_in_filter(&f, "flip", PathBuf::from(".")),
            swap_in_filter(&f, "away", f.outside.clone()),
        ];
        let walk = f
            .dir
            .walk()
            .unwrap()
            .filter_entry(move |e| filters.iter().all(|keep| keep(e)));
        let (mut paths, mut errors) = (Vec::new(), Vec::new());
        if parallel {
            let seen = Mutex::new((Vec::new(), Vec::new()));
            walk.threads(2).for_each_parallel(|e| {
                let mut seen = seen.lock().unwrap();
                match e {
                    Ok(e) => seen.0.push(e.path()),
                    Err(err) => seen.1.push(err),
                }
            });
            (paths, errors) = seen.into_inner().unwrap();
        } else {
            for e in walk {
                match e {
                    Ok(e) => paths.push(e.path()),
                    Err(err) => errors.push(err),
                }
            }
        }
        for p in &paths {
            let first = p.components().next().unwrap().as_os_str();
            assert!(
                !(["pub", "flip", "away"].contains(&first.to_str().unwrap())
                    && p.components().count() > 1),
                "parallel {parallel}: walked through a swapped directory: {}",
                p.display()
            );
        }
        assert_eq!(
            once(paths.iter().map(|p| (p.clone(), 0)).collect()).len(),
            paths.len()
        );
        let mut named: Vec<String> = errors
            .iter()
            .map(|e| {
                assert_eq!(e.kind(), std::io::ErrorKind::NotADirectory, "{e}");
                ["pub", "flip", "away"]
                    .into_iter()
                    .find(|n| e.to_string().contains(&format!("`{n}`")))
                    .unwrap_or_else(|| panic!("the error names no swapped directory: {e}"))
                    .to_owned()
            })
            .collect();
        named.sort();
        assert_eq!(named, ["away", "flip", "pub"], "parallel {parallel}");
        // Twin: the rest of the tree was walked.
        assert!(
            paths.contains(&PathBuf::from("a/b/c/d/deep.txt")),
            "parallel {parallel}"
        );
    }
}

#[test]
fn a_large_directory_is_visited_on_several_threads() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..200 {
        std::fs::write(tmp.path().join(format!("{i:03}")), "").unwrap();
    }
    let dir: Dir<FullFs> = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    let threads = Mutex::new(BTreeSet::new());
    dir.walk().unwrap().threads(4).for_each_parallel(|e| {
        e.unwrap();
        threads
            .lock()
            .unwrap()
            .insert(format!("{:?}", std::thread::current().id()));
        std::thread::sleep(std::time::Duration::from_millis(2));
    });
    let threads = threads.into_inner().unwrap();
    assert!(
        threads.len() >= 2,
        "one directory's entries all on {threads:?}"
    );
}

/// The threads of this process now (`/proc/self/task`, Linux).
#[cfg(target_os = "linux")]
fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Counts threads, so it runs in a process of its own (started by
/// `threads_are_started_only_for_work`): the other tests' threads would be
/// counted too.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "run alone by threads_are_started_only_for_work"]
fn thread_count_of_small_and_large_walks() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if std::env::var_os("AMBIT_WALK_ALONE").is_none() {
        // Run with `--include-ignored` among the others: their threads would
        // be counted. The parent test runs it alone.
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..20 {
        std::fs::write(tmp.path().join(format!("{i:02}")), "").unwrap();
    }
    let dir: Dir<FullFs> = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    let before = threads_now();
    let most = AtomicUsize::new(0);
    let visits = AtomicUsize::new(0);
    // Twenty files and no directory: not enough work for a second thread.
    dir.walk().unwrap().threads(8).for_each_parallel(|e| {
        e.unwrap();
        most.fetch_max(threads_now(), Ordering::Relaxed);
        visits.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(visits.load(Ordering::Relaxed), 20);
    assert_eq!(
        most.load(Ordering::Relaxed),
        before,
        "threads were started for a walk of one small directory"
    );
    // Twin: with directories to hand on, threads are started (and all are
    // joined by the end).
    for d in 0..4 {
        std::fs::create_dir(tmp.path().join(format!("d{d}"))).unwrap();
        for i in 0..10 {
            std::fs::write(tmp.path().join(format!("d{d}/{i}")), "").unwrap();
        }
    }
    most.store(0, Ordering::Relaxed);
    dir.walk().unwrap().threads(8).for_each_parallel(|e| {
        e.unwrap();
        most.fetch_max(threads_now(), Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(1));
    });
    assert!(
        most.load(Ordering::Relaxed) > before,
        "no thread was started for four directories"
    );
    assert!(
        most.load(Ordering::Relaxed) <= before + 7,
        "more than 8 threads"
    );
    // Joined; a thread leaves `/proc/self/task` a moment after it finished.
    let gone = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while threads_now() != before && std::time::Instant::now() < gone {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(threads_now(), before, "a thread outlived the walk");
    // Never more than asked for: 40 directories to hand on, two threads.
    for d in 0..40 {
        std::fs::create_dir(tmp.path().join(format!("e{d}"))).unwrap();
        std::fs::write(tmp.path().join(format!("e{d}/f")), "").unwrap();
    }
    most.store(0, Ordering::Relaxed);
    dir.walk().unwrap().threads(2).for_each_parallel(|e| {
        e.unwrap();
        most.fetch_max(threads_now(), Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_micros(200));
    });
    assert_eq!(
        most.load(Ordering::Relaxed),
        before + 1,
        "threads(2) is the calling thread and one more"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn threads_are_started_only_for_work() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "thread_count_of_small_and_large_walks",
            "--ignored",
            "--test-threads=1",
        ])
        .env("AMBIT_WALK_ALONE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_error_met_by_the_iterator_is_not_lost_by_a_parallel_finish() {
    let f = fixture();
    std::fs::create_dir(f.root.join("doomed")).unwrap();
    let root = f.root.clone();
    // The filter removes `doomed` once kept: its descent then fails.
    let mut walk = f.dir.walk().unwrap().filter_entry(move |e| {
        if e.file_name() == "doomed" {
            let _ = std::fs::remove_dir(root.join("doomed"));
        }
        true
    });
    // Up to `doomed` in order; its error is due next.
    assert!(walk.by_ref().flatten().any(|e| e.file_name() == "doomed"));
    let errors = Mutex::new(Vec::new());
    walk.threads(2).for_each_parallel(|e| {
        if let Err(err) = e {
            errors.lock().unwrap().push(err.to_string());
        }
    });
    let errors = errors.into_inner().unwrap();
    assert!(
        errors.len() == 1 && errors[0].contains("doomed"),
        "{errors:?}"
    );
}

#[test]
fn a_visitor_error_stops_the_walk_and_is_returned() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let tmp = tempfile::tempdir().unwrap();
    for d in 0..4 {
        let sub = tmp.path().join(format!("d{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..100 {
            std::fs::write(sub.join(format!("{i:03}")), "").unwrap();
        }
    }
    std::fs::write(tmp.path().join("d2/needle"), "").unwrap();
    let dir: Dir<FullFs> = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    for threads in [1, 3] {
        let (stopped, after) = (AtomicBool::new(false), AtomicUsize::new(0));
        // A search that stops at what it wanted, `find -quit`.
        let found = dir
            .walk()
            .unwrap()
            .threads(threads)
            .try_for_each_parallel(|e| {
                let e = e.unwrap();
                if stopped.load(Ordering::SeqCst) {
                    after.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
                if e.file_name() == "needle" {
                    stopped.store(true, Ordering::SeqCst);
                    Err(e.path())
                } else {
                    Ok(())
                }
            });
        assert_eq!(found, Err(PathBuf::from("d2/needle")), "{threads} threads");
        // After the error each other thread starts at most the visit it
        // was about to start, and takes no more work.
        let after = after.into_inner();
        assert!(
            after < threads,
            "{threads} threads: {after} visits began after the error"
        );
        // Twin: a visitor that never stops sees every entry.
        let all = AtomicUsize::new(0);
        let done: Result<(), ()> =
            dir.walk()
                .unwrap()
                .threads(threads)
                .try_for_each_parallel(|e| {
                    e.unwrap();
                    all.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
        assert_eq!(done, Ok(()));
        assert_eq!(all.into_inner(), 405);
    }
}
