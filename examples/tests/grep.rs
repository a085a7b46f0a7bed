//! `grep`, run as a user would, over a tree with a symlink that leads out.
#![cfg(unix)] // the fixtures are unix symlinks

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

#[test]
fn finds_matches_inside_and_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("a/b")).unwrap();
    fs::write(tree.join("a/one.txt"), "first line\na needle here\n").unwrap();
    fs::write(tree.join("a/b/two.txt"), "needle again\n").unwrap();
    fs::write(tree.join("plain.txt"), "nothing\n").unwrap();
    fs::write(tmp.path().join("secret.txt"), "needle SECRET\n").unwrap();
    symlink("../secret.txt", tree.join("leak.txt")).unwrap();
    symlink("a/one.txt", tree.join("inside-link.txt")).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_grep"))
        .arg("needle")
        .arg(&tree)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "a/b/two.txt:1:needle again",
            "a/one.txt:2:a needle here",
            "inside-link.txt:2:a needle here"
        ],
        "{stderr}"
    );
    // The symlink out of the tree was tried, refused, and reported.
    assert!(!stdout.contains("SECRET"));
    assert!(stderr.contains("grep: leak.txt: "), "{stderr}");

    let none = Command::new(env!("CARGO_BIN_EXE_grep"))
        .arg("haystack")
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty());
}

#[test]
fn a_missing_tree_names_the_resource() {
    let out = Command::new(env!("CARGO_BIN_EXE_grep"))
        .args(["x", "/nonexistent/tree"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(
        "error: resource `root` (dir \"/nonexistent/tree\"): No such file or directory"
    ));
}

/// Runs `cmd`, killing it if it has not finished within 20 s: a hang is a
/// failure, not a stuck test run.
fn output_within_deadline(cmd: &mut Command) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after 20 s (killed): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_fifo_or_a_symlink_to_one_does_not_block_the_search() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path();
    fs::write(tree.join("a.txt"), "needle\n").unwrap();
    let made = Command::new("mkfifo")
        .arg(tree.join("fifo"))
        .status()
        .unwrap();
    assert!(made.success());
    symlink("fifo", tree.join("link-to-fifo")).unwrap();
    symlink("a.txt", tree.join("link-to-file")).unwrap();
    let out = output_within_deadline(
        Command::new(env!("CARGO_BIN_EXE_grep"))
            .arg("needle")
            .arg(tree),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The twin: the file and the symlink to it are searched.
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["a.txt:1:needle", "link-to-file:1:needle"],
        "{stderr}"
    );
    assert!(
        stderr.contains("grep: link-to-fifo: not a regular file, skipped"),
        "{stderr}"
    );
}
