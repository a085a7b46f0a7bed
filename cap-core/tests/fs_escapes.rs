//! Escapes through a `Dir` are errors: `..` above it, absolute paths, and
//! symlinks (absolute, relative, mid-path, dangling, loops) that lead outside.
//!
//! Written in the spirit of cap-std's `tests/symlinks.rs`, `fs_additional.rs`
//! and `cap-basics.rs`, and google/capsicum-test's `openat.cc` (the cases, not
//! their code). Each denial has a twin that shows the same operation works
//! when it stays beneath the directory. A secret file sits next to the
//! granted directory; no test may read or change it.
#![cfg(unix)] // unix paths, symlinks and unix-domain sockets throughout

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use cap_core::ambient_authority;
use cap_core::fs::{Dir, OpenOptions, raw_os_error};
use cap_core::rights::{FullFs, ReadOnly};

const ELOOP: i32 = 40;

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    secret: PathBuf,
    dir: Dir<FullFs>,
}

/// `<tmp>/secret.txt` outside, `<tmp>/granted/` held, with `inside.txt` and `sub/`.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "secret").unwrap();
    let root = tmp.path().join("granted");
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("inside.txt"), "inside").unwrap();
    let dir = Dir::open_ambient_dir(&root, ambient_authority()).unwrap();
    Fixture {
        _tmp: tmp,
        root,
        secret,
        dir,
    }
}

/// Asserts an escape was refused with `PermissionDenied` (cap-std's answer to
/// a path that leads outside) and that the error names the path tried.
fn assert_escape<T: std::fmt::Debug>(result: std::io::Result<T>, path: &str) {
    let err = result.expect_err(&format!("`{path}` should have been refused"));
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{path}: {err}");
    assert!(
        err.to_string().contains(path),
        "error should name `{path}`: {err}"
    );
}

fn untouched(f: &Fixture) {
    assert_eq!(std::fs::read_to_string(&f.secret).unwrap(), "secret");
    let parent = f.secret.parent().unwrap();
    let mut names: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["granted", "secret.txt"],
        "nothing was created next to the granted dir"
    );
}

#[test]
fn dotdot_above_the_dir() {
    let f = fixture();
    for p in [
        "../secret.txt",
        "sub/../../secret.txt",
        "./../secret.txt",
        "sub/deeper/../../../secret.txt",
    ] {
        assert_escape(f.dir.read(p), p);
    }
    assert_escape(f.dir.open_dir(".."), "..");
    assert_escape(f.dir.read_dir(".."), "..");
    assert_escape(f.dir.metadata("../secret.txt"), "../secret.txt");
    assert_escape(f.dir.write("../created.txt", "x"), "../created.txt");
    assert_escape(f.dir.create_dir("../newdir"), "../newdir");
    assert_escape(f.dir.remove_file("../secret.txt"), "../secret.txt");
    untouched(&f);
    // Twin: `..` that stays beneath is fine.
    assert_eq!(f.dir.read_to_string("sub/../inside.txt").unwrap(), "inside");
    assert_eq!(
        f.dir.read_to_string("sub/deeper/../../inside.txt").unwrap(),
        "inside"
    );
}

#[test]
fn dotdot_above_a_subdirectory_handle() {
    let f = fixture();
    let sub = f.dir.open_dir("sub").unwrap();
    // A subdirectory handle is its own root: `..` does not reach the parent.
    assert_escape(sub.read("../inside.txt"), "../inside.txt");
    // Twin: the parent reaches it.
    assert_eq!(f.dir.read("inside.txt").unwrap(), b"inside");
}

#[test]
fn absolute_paths() {
    let f = fixture();
    let secret = f.secret.display().to_string();
    assert_escape(f.dir.read(&f.secret), &secret);
    assert_escape(f.dir.read("/etc/passwd"), "/etc/passwd");
    assert_escape(f.dir.open_dir("/"), "/");
    assert_escape(
        f.dir.read("/proc/self/root/etc/passwd"),
        "/proc/self/root/etc/passwd",
    );
    assert_escape(
        f.dir.create("/tmp/ambit-should-not-exist"),
        "/tmp/ambit-should-not-exist",
    );
    assert!(!Path::new("/tmp/ambit-should-not-exist").exists());
    untouched(&f);
    // Twin: the relative spelling works.
    assert_eq!(f.dir.read("inside.txt").unwrap(), b"inside");
}

#[test]
fn absolute_symlink_to_outside() {
    let f = fixture();
    std::os::unix::fs::symlink(&f.secret, f.root.join("abs_link")).unwrap();
    assert_escape(f.dir.read("abs_link"), "abs_link");
    assert_escape(f.dir.write("abs_link", "overwritten"), "abs_link");
    untouched(&f);
    // Twin: an absolute symlink is still a symlink; lstat on it works.
    assert!(
        f.dir
            .symlink_metadata("abs_link")
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn relative_symlink_to_outside() {
    let f = fixture();
    std::os::unix::fs::symlink("../secret.txt", f.root.join("rel_link")).unwrap();
    std::os::unix::fs::symlink("../../secret.txt", f.root.join("sub/deep_link")).unwrap();
    assert_escape(f.dir.read("rel_link"), "rel_link");
    assert_escape(f.dir.read("sub/deep_link"), "sub/deep_link");
    // Twin: a relative symlink that stays inside works.
    std::os::unix::fs::symlink("../inside.txt", f.root.join("sub/ok_link")).unwrap();
    assert_eq!(f.dir.read("sub/ok_link").unwrap(), b"inside");
    untouched(&f);
}

#[test]
fn symlink_in_the_middle_of_a_path() {
    let f = fixture();
    let outside = f.secret.parent().unwrap();
    std::os::unix::fs::symlink(outside, f.root.join("to_parent")).unwrap();
    std::os::unix::fs::symlink("..", f.root.join("dotdot")).unwrap();
    assert_escape(f.dir.read("to_parent/secret.txt"), "to_parent/secret.txt");
    assert_escape(f.dir.read("dotdot/secret.txt"), "dotdot/secret.txt");
    assert_escape(
        f.dir.write("to_parent/planted.txt", "x"),
        "to_parent/planted.txt",
    );
    assert_escape(
        f.dir.create_dir_all("dotdot/planted/dir"),
        "dotdot/planted/dir",
    );
    untouched(&f);
    // Twin: a mid-path symlink to a subdirectory works.
    std::os::unix::fs::symlink("sub", f.root.join("to_sub")).unwrap();
    std::fs::write(f.root.join("sub/x"), "x").unwrap();
    assert_eq!(f.dir.read("to_sub/x").unwrap(), b"x");
}

#[test]
fn dangling_symlink_to_outside_cannot_create() {
    let f = fixture();
    let target = f.secret.with_file_name("dangling-target");
    std::os::unix::fs::symlink(&target, f.root.join("dangling")).unwrap();
    assert_escape(f.dir.write("dangling", "x"), "dangling");
    let opened = f
        .dir
        .open_with::<cap_core::rights![Write]>("dangling", OpenOptions::new().create(true));
    assert_escape(opened, "dangling");
    assert!(!target.exists());
    untouched(&f);
    // Twin: a dangling symlink to a name inside creates the file inside.
    std::os::unix::fs::symlink("made.txt", f.root.join("dangling_in")).unwrap();
    f.dir.write("dangling_in", "made").unwrap();
    assert_eq!(
        std::fs::read_to_string(f.root.join("made.txt")).unwrap(),
        "made"
    );
}

#[test]
fn symlink_loops() {
    let f = fixture();
    std::os::unix::fs::symlink("b", f.root.join("a")).unwrap();
    std::os::unix::fs::symlink("a", f.root.join("b")).unwrap();
    std::os::unix::fs::symlink("self", f.root.join("self")).unwrap();
    for p in ["a", "b", "self", "a/x"] {
        let err = f.dir.read(p).unwrap_err();
        assert_eq!(raw_os_error(&err), Some(ELOOP), "{p}: {err}");
    }
    // Twin: a chain that ends inside works.
    std::os::unix::fs::symlink("inside.txt", f.root.join("c1")).unwrap();
    std::os::unix::fs::symlink("c1", f.root.join("c2")).unwrap();
    assert_eq!(f.dir.read("c2").unwrap(), b"inside");
}

#[test]
fn nofollow_open_dir_refuses_a_symlink() {
    let f = fixture();
    std::os::unix::fs::symlink("sub", f.root.join("sub_link")).unwrap();
    let err = f.dir.open_dir_nofollow("sub_link").unwrap_err();
    assert!(err.to_string().contains("sub_link"), "{err}");
    // Twin: the real directory opens, and the following form follows.
    f.dir.open_dir_nofollow("sub").unwrap();
    f.dir.open_dir("sub_link").unwrap();
}

#[test]
fn rename_and_link_out_of_the_tree() {
    let f = fixture();
    assert_escape(
        f.dir.rename("inside.txt", &f.dir, "../moved.txt"),
        "inside.txt",
    );
    assert_escape(
        f.dir.hard_link("inside.txt", &f.dir, "../linked.txt"),
        "inside.txt",
    );
    assert_escape(
        f.dir.rename("../secret.txt", &f.dir, "stolen.txt"),
        "../secret.txt",
    );
    assert_escape(
        f.dir.copy("../secret.txt", &f.dir, "stolen.txt"),
        "../secret.txt",
    );
    assert!(f.root.join("inside.txt").exists() && !f.root.join("stolen.txt").exists());
    untouched(&f);
    // Twin: within the tree both work.
    f.dir
        .hard_link("inside.txt", &f.dir, "sub/linked.txt")
        .unwrap();
    f.dir
        .rename("sub/linked.txt", &f.dir, "renamed.txt")
        .unwrap();
    assert_eq!(f.dir.read("renamed.txt").unwrap(), b"inside");
}

#[test]
fn symlink_creation_cannot_point_out_then_be_followed() {
    let f = fixture();
    // Creating a link with outside contents is allowed (symlink_contents)...
    f.dir.symlink_contents("../secret.txt", "planted").unwrap();
    // ...but following it is confined.
    assert_escape(f.dir.read("planted"), "planted");
    untouched(&f);
}

#[test]
fn canonicalize_stays_relative() {
    let f = fixture();
    assert_escape(f.dir.canonicalize("../secret.txt"), "../secret.txt");
    assert_eq!(
        f.dir.canonicalize("sub/../inside.txt").unwrap(),
        Path::new("inside.txt")
    );
}

#[test]
fn read_only_handle_reads_but_cannot_be_tricked_into_writing() {
    let f = fixture();
    let ro: Dir<ReadOnly> = f.dir.try_clone().unwrap().narrow();
    // A read-only handle's files are opened O_RDONLY: writing through the std
    // form fails in the kernel, not only in the type.
    let file = ro.open("inside.txt").unwrap();
    let std_file = file.into_std(ambient_authority());
    let err = std::io::Write::write(&mut &std_file, b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(9)); // EBADF
    assert_eq!(
        std::fs::read_to_string(f.root.join("inside.txt")).unwrap(),
        "inside"
    );
}

// ---------------------------------------------------------------------------
// The Linux fast paths (`src/fs/fast_path.rs`): a single name is asked of the
// kernel directly (`statx`/`openat` without following it), and anything else
// goes through cap-std. Each case below aims at one way a fast path could be
// wrong: the single name is a symlink out, it is `..` or absolute, it is a
// magic link, or it becomes a symlink while it is being used.

/// Every single-name operation on `name`, which leads outside: each is refused
/// (or, for the boolean forms, answers no), and nothing outside is read,
/// written or described.
fn single_name_ops_refused(f: &Fixture, name: &str) {
    assert_escape(f.dir.metadata(name), name);
    assert_escape(f.dir.try_exists(name), name);
    assert!(!f.dir.exists(name), "{name}");
    assert!(!f.dir.is_file(name), "{name}");
    assert!(!f.dir.is_dir(name), "{name}");
    assert_escape(f.dir.open(name), name);
    assert_escape(f.dir.read(name), name);
    assert_escape(f.dir.read_to_string(name), name);
    assert_escape(f.dir.canonicalize(name), name);
    assert_escape(f.dir.copy(name, &f.dir, "copied.txt"), name);
    assert!(!f.root.join("copied.txt").exists());
}

#[test]
fn fast_path_symlink_as_the_only_component() {
    let f = fixture();
    let outside = f.secret.parent().unwrap();
    std::os::unix::fs::symlink(&f.secret, f.root.join("abs_link")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", f.root.join("rel_link")).unwrap();
    std::os::unix::fs::symlink(outside, f.root.join("abs_dir_link")).unwrap();
    std::os::unix::fs::symlink("..", f.root.join("dotdot_link")).unwrap();
    for name in ["abs_link", "rel_link"] {
        single_name_ops_refused(&f, name);
        // Writing through the link (create truncates, write, copy to it) is
        // refused and the secret is unchanged.
        assert_escape(f.dir.create(name), name);
        assert_escape(f.dir.write(name, "overwritten"), name);
        assert_escape(f.dir.copy("inside.txt", &f.dir, name), name);
    }
    for name in ["abs_dir_link", "dotdot_link"] {
        assert_escape(f.dir.metadata(name), name);
        assert!(!f.dir.is_dir(name), "{name}");
        assert_escape(f.dir.read_dir(name), name);
        assert_escape(f.dir.open_dir(name), name);
    }
    untouched(&f);
    // Twin: the same operations through symlinks that stay inside work, and
    // describe the target, not the link.
    std::os::unix::fs::symlink("inside.txt", f.root.join("in_link")).unwrap();
    std::os::unix::fs::symlink("sub", f.root.join("in_dir_link")).unwrap();
    assert_eq!(f.dir.metadata("in_link").unwrap().len(), 6);
    assert!(f.dir.is_file("in_link") && f.dir.exists("in_link"));
    assert!(f.dir.try_exists("in_link").unwrap());
    assert!(f.dir.symlink_metadata("in_link").unwrap().is_symlink());
    assert_eq!(f.dir.read_to_string("in_link").unwrap(), "inside");
    assert_eq!(
        f.dir.canonicalize("in_link").unwrap(),
        Path::new("inside.txt")
    );
    assert!(f.dir.is_dir("in_dir_link"));
    let names: Vec<_> = f
        .dir
        .read_dir("in_dir_link")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["deeper"]);
    f.dir.write("in_link", "through").unwrap();
    assert_eq!(f.dir.read_to_string("inside.txt").unwrap(), "through");
    // A dangling link inside is created through, beneath the directory.
    std::os::unix::fs::symlink("made.txt", f.root.join("dangling_in")).unwrap();
    f.dir.copy("inside.txt", &f.dir, "dangling_in").unwrap();
    assert_eq!(f.dir.read("made.txt").unwrap(), b"through");
    // Removing a name never follows it: the links out go, and what they point
    // at stays. A link to an empty directory outside is not a directory to
    // `remove_dir`.
    let empty_out = outside.join("empty_out");
    std::fs::create_dir(&empty_out).unwrap();
    std::os::unix::fs::symlink(&empty_out, f.root.join("empty_dir_link")).unwrap();
    let err = f.dir.remove_dir("empty_dir_link").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
    assert!(err.to_string().contains("empty_dir_link"), "{err}");
    assert!(empty_out.is_dir());
    for name in [
        "abs_link",
        "rel_link",
        "abs_dir_link",
        "dotdot_link",
        "empty_dir_link",
    ] {
        f.dir.remove_file(name).unwrap();
        assert!(
            std::fs::symlink_metadata(f.root.join(name)).is_err(),
            "{name}"
        );
    }
    assert!(empty_out.is_dir());
    std::fs::remove_dir(&empty_out).unwrap();
    untouched(&f);
    // Twin: a file, a link inside and an empty directory inside are removed
    // by name, and the link's target stays.
    f.dir.remove_file("in_link").unwrap();
    assert_eq!(f.dir.read_to_string("inside.txt").unwrap(), "through");
    f.dir.remove_file("made.txt").unwrap();
    assert!(!f.root.join("made.txt").exists());
    f.dir.create_dir("empty").unwrap();
    f.dir.remove_dir("empty").unwrap();
    assert!(!f.root.join("empty").exists());
    // A file is not a directory, and a directory is not a file.
    let err = f.dir.remove_dir("inside.txt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
    let err = f.dir.remove_file("sub").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IsADirectory, "{err}");
    let err = f.dir.remove_file("missing").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(f.root.join("inside.txt").is_file() && f.root.join("sub").is_dir());
}

#[test]
fn fast_path_dotdot_and_absolute_are_not_single_names() {
    let f = fixture();
    let secret = f.secret.display().to_string();
    for p in ["..", "../secret.txt", secret.as_str(), "/etc/passwd"] {
        assert_escape(f.dir.metadata(p), p);
        assert!(!f.dir.exists(p), "{p}");
        assert_escape(f.dir.canonicalize(p), p);
        assert_escape(f.dir.read_dir(p), p);
    }
    for p in ["../secret.txt", secret.as_str()] {
        single_name_ops_refused(&f, p);
        assert_escape(f.dir.write(p, "overwritten"), p);
        assert_escape(f.dir.remove_file(p), p);
    }
    let empty_out = f.secret.with_file_name("empty_out");
    std::fs::create_dir(&empty_out).unwrap();
    let empty_abs = empty_out.display().to_string();
    for p in ["../empty_out", empty_abs.as_str()] {
        assert_escape(f.dir.remove_dir(p), p);
    }
    assert!(empty_out.is_dir());
    std::fs::remove_dir(&empty_out).unwrap();
    untouched(&f);
    // Twin: `.`, `sub/..` and a trailing `/` go the long way and work.
    assert!(f.dir.is_dir(".") && f.dir.is_dir("sub/..") && f.dir.is_dir("sub/"));
    assert_eq!(f.dir.canonicalize("sub/").unwrap(), Path::new("sub"));
    assert_eq!(f.dir.read_dir("sub/").unwrap().count(), 1);
}

#[test]
fn fast_path_refuses_magic_links() {
    use std::os::fd::AsRawFd;
    let f = fixture();
    // `/proc/self/fd/N` is a magic link: following it would jump to the open
    // file wherever it is. cap-std refuses magic links; the fast path must
    // not answer for one either.
    let held = std::fs::File::open(&f.secret).unwrap();
    let fds: Dir<FullFs> = Dir::open_ambient_dir("/proc/self/fd", ambient_authority()).unwrap();
    let name = held.as_raw_fd().to_string();
    assert!(fds.read(&name).is_err());
    assert!(fds.read_to_string(&name).is_err());
    assert!(fds.open(&name).is_err());
    assert!(fds.metadata(&name).is_err());
    assert!(!fds.is_file(&name) && !fds.exists(&name));
    assert!(fds.canonicalize(&name).is_err());
    untouched(&f);
    // Twin: the link itself can be described.
    assert!(fds.symlink_metadata(&name).unwrap().is_symlink());
    drop(held);
}

#[test]
fn fast_path_name_swapped_for_a_symlink_while_in_use() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let f = fixture();
    // `flip` is a regular file inside (13 bytes) or a symlink to the secret
    // (6 bytes), swapped atomically by rename as fast as a thread can. Every
    // answer must be about the file inside or an error: never the secret.
    let inside = "inside-file!!";
    std::fs::write(f.root.join("flip"), inside).unwrap();
    std::fs::create_dir(f.root.join("flipdir")).unwrap();
    std::fs::write(f.root.join("flipdir/in_flipdir"), "x").unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let outside = f.secret.parent().unwrap();
            let (link, file) = (f.root.join(".link"), f.root.join(".file"));
            let (dlink, ddir) = (f.root.join(".dlink"), f.root.join(".ddir"));
            while !stop.load(Ordering::Relaxed) {
                std::os::unix::fs::symlink(&f.secret, &link).unwrap();
                std::fs::rename(&link, f.root.join("flip")).unwrap();
                std::fs::write(&file, inside).unwrap();
                std::thread::yield_now();
                std::fs::rename(&file, f.root.join("flip")).unwrap();
                std::thread::yield_now();
                // The directory: moved aside and a symlink to outside put in its place.
                std::fs::rename(f.root.join("flipdir"), &ddir).unwrap();
                std::os::unix::fs::symlink(outside, &dlink).unwrap();
                std::fs::rename(&dlink, f.root.join("flipdir")).unwrap();
                std::fs::remove_file(f.root.join("flipdir")).unwrap();
                std::fs::rename(&ddir, f.root.join("flipdir")).unwrap();
            }
        });
        let (mut seen_file, mut seen_link) = (0, 0);
        // Until both states were seen often, within a bound that a loaded
        // machine still meets (it takes well under a second unloaded).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            match f.dir.metadata("flip") {
                Ok(m) => {
                    assert_eq!(m.len(), inside.len() as u64, "metadata of the secret");
                    seen_file += 1;
                }
                Err(e) if e.kind() == ErrorKind::PermissionDenied => seen_link += 1,
                Err(e) => panic!("{e}"),
            }
            if seen_file >= 50 && seen_link >= 50 {
                break;
            }
            if let Ok(bytes) = f.dir.read("flip") {
                assert_eq!(bytes, inside.as_bytes(), "read the secret");
            }
            if let Ok(file) = f.dir.open("flip") {
                let bytes = std::io::read_to_string(file).unwrap();
                assert_eq!(bytes, inside, "opened the secret");
            }
            if let Ok(list) = f.dir.read_dir("flipdir") {
                for e in list {
                    let name = e.unwrap().file_name();
                    assert_eq!(name, "in_flipdir", "listed the outside directory");
                }
            }
            if let Ok(mut file) = f.dir.create("flip") {
                std::io::Write::write_all(&mut file, inside.as_bytes()).unwrap();
            }
        }
        stop.store(true, Ordering::Relaxed);
        assert!(
            seen_file > 0 && seen_link > 0,
            "the race saw the file {seen_file} times and the link {seen_link} times: it tried nothing"
        );
    });
    untouched(&f);
}

#[test]
fn listing_entries_that_are_symlinks_out_are_refused() {
    let f = fixture();
    let outside = f.secret.parent().unwrap();
    std::os::unix::fs::symlink(&f.secret, f.root.join("sub/file_out")).unwrap();
    std::os::unix::fs::symlink(outside, f.root.join("sub/dir_out")).unwrap();
    std::fs::write(f.root.join("sub/plain.txt"), "plain").unwrap();
    let mut seen = Vec::new();
    for entry in f.dir.read_dir("sub").unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        match name.as_str() {
            "file_out" | "dir_out" => {
                // The entry is the link itself, never what it points at.
                assert!(entry.file_type().unwrap().is_symlink(), "{name}");
                assert!(entry.metadata().unwrap().is_symlink(), "{name}");
                let err = entry.open().unwrap_err();
                assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{name}: {err}");
                assert!(err.to_string().contains(&name), "{err}");
                assert!(entry.read_dir().is_err(), "{name}");
                assert!(entry.open_dir().is_err(), "{name}");
            }
            // Twins: a plain file opens, a directory lists.
            "plain.txt" => {
                assert!(entry.file_type().unwrap().is_file());
                let text = std::io::read_to_string(entry.open().unwrap()).unwrap();
                assert_eq!(text, "plain");
            }
            "deeper" => {
                assert!(entry.file_type().unwrap().is_dir());
                assert_eq!(entry.read_dir().unwrap().count(), 0);
                assert_eq!(
                    entry.read_dir().unwrap().collect::<Vec<_>>().len(),
                    entry.open_dir().unwrap().entries().unwrap().count()
                );
            }
            other => panic!("unexpected entry {other}"),
        }
        seen.push(name);
    }
    seen.sort();
    assert_eq!(seen, ["deeper", "dir_out", "file_out", "plain.txt"]);
    untouched(&f);
}
