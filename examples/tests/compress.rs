//! `compress`, run as a user would: the system's gzip, spawned from a handle
//! with a two-handle table, compresses a file into the output directory.
#![cfg(target_os = "linux")]

use std::fs;
use std::process::Command;

#[test]
fn gzip_runs_on_preopened_handles() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "the quick brown fox\n".repeat(100);
    fs::write(tmp.path().join("notes.txt"), &text).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_compress"))
        .arg(tmp.path().join("notes.txt"))
        .arg(&out)
        .arg("--report")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "notes.txt.gz");
    // The child's report names its table: the input, the output, gzip itself.
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert!(stderr.contains("gzip"), "{stderr}");
    let gz = fs::read(out.join("notes.txt.gz")).unwrap();
    assert_eq!(&gz[..2], b"\x1f\x8b", "not gzip output");
    assert!(gz.len() < text.len());
    let back = Command::new("/usr/bin/gzip")
        .arg("-dc")
        .arg(out.join("notes.txt.gz"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&back.stdout), text);
}

#[test]
fn a_missing_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_compress"))
        .arg(tmp.path().join("missing.txt"))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("missing.txt"), "{stderr}");
}
