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
