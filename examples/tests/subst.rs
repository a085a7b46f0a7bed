//! `subst`, run as a user would: files named on the command line are
//! rewritten in place; nothing else is reachable.

use std::fs;
use std::process::Command;

#[test]
fn rewrites_the_named_files_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("a")).unwrap();
    fs::write(tmp.path().join("a/one.txt"), "cat and cat\n").unwrap();
    fs::write(tmp.path().join("two.txt"), "a cat\n").unwrap();
    fs::write(tmp.path().join("a/untouched.txt"), "cat\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_subst"))
        .args(["cat", "dog"])
        .arg(tmp.path().join("a/one.txt"))
        .arg(tmp.path().join("two.txt"))
        .env("AMBIT_REPORT", "json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        fs::read_to_string(tmp.path().join("a/one.txt")).unwrap(),
        "dog and dog\n"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("two.txt")).unwrap(),
        "a dog\n"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("a/untouched.txt")).unwrap(),
        "cat\n"
    );
    // It ran locked, with one rule per file's directory.
    let report: serde_json::Value =
        serde_json::from_str(stderr.lines().next().unwrap()).expect("the report as JSON");
    assert_eq!(report["handles"].as_array().unwrap().len(), 2, "{report}");
    let names: Vec<String> = fs::read_dir(tmp.path().join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left behind: {names:?}");
}

#[test]
fn a_missing_file_is_refused_before_anything_is_changed() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("one.txt"), "cat\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_subst"))
        .args(["cat", "dog"])
        .arg(tmp.path().join("one.txt"))
        .arg(tmp.path().join("missing.txt"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("resource `files` (file \""), "{stderr}");
    assert!(stderr.contains("missing.txt"), "{stderr}");
    assert_eq!(
        fs::read_to_string(tmp.path().join("one.txt")).unwrap(),
        "cat\n"
    );
}

#[test]
fn help_and_unknown_flags() {
    let help = Command::new(env!("CARGO_BIN_EXE_subst"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    assert!(
        text.starts_with("Usage: subst FROM TO [FILES]..."),
        "{text}"
    );
    assert!(
        text.contains("The program's own arguments: FROM (argument 1), TO (argument 2)"),
        "{text}"
    );
    assert!(
        text.contains("files          files: arguments 3.."),
        "{text}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_subst"))
        .args(["-x", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown flag `-x`"));
}
