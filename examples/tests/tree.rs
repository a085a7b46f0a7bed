//! Runs `tree` as a user would and checks what it prints.
#![cfg(unix)] // the fixtures are unix symlinks

use std::process::Command;

#[test]
fn lists_a_tree_sorted_with_counts() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("b/inner")).unwrap();
    std::fs::write(tmp.path().join("a.txt"), "").unwrap();
    std::fs::write(tmp.path().join("b/inner/c.txt"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tree"))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "{}\n├── a.txt\n└── b\n    └── inner\n        └── c.txt\n\n2 directories, 2 files\n",
        tmp.path().display()
    );
    assert_eq!(text, expected);
}

#[test]
fn a_symlink_out_of_the_tree_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/secret.txt"), "").unwrap();
    std::os::unix::fs::symlink("../outside", root.join("escape")).unwrap();
    std::fs::create_dir(root.join("real")).unwrap();
    std::fs::write(root.join("real/inside.txt"), "").unwrap();
    std::os::unix::fs::symlink("real", root.join("alias")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tree"))
        .arg("-l")
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The escaping link is shown, and refused when followed...
    assert!(
        stdout.contains("escape -> ../outside  [not followed: metadata `escape` beneath"),
        "{stdout}"
    );
    assert!(!stdout.contains("secret.txt"), "{stdout}");
    // ...while the link inside the tree is followed (the allowed twin).
    assert!(
        stdout.contains("alias -> real\n│   └── inside.txt"),
        "{stdout}"
    );
}

#[test]
fn a_missing_directory_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_tree"))
        .arg("/no/such/dir")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dir"));
}

#[test]
fn a_symlink_loop_is_shown_once_not_followed_forever() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/f.txt"), "").unwrap();
    std::os::unix::fs::symlink(".", root.join("loop")).unwrap();
    std::os::unix::fs::symlink(".", root.join("sub/again")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tree"))
        .arg("-l")
        .arg(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("loop -> .  [recursive, not followed]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("again -> .  [recursive, not followed]"),
        "{stdout}"
    );
    // The twin: the real directory is listed once.
    assert_eq!(stdout.matches("f.txt").count(), 1, "{stdout}");
}

#[test]
fn tree_runs_in_a_sandbox_holding_only_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.txt"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tree"))
        .arg(tmp.path())
        .env("AMBIT_REPORT", "json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no report: {stderr}"));
    assert!(
        report.contains(r#""mechanisms":["no_new_privs","landlock","capabilities","seccomp"]"#),
        "{report}"
    );
    assert_eq!(report.matches(r#""origin":"#).count(), 1, "{report}");
    assert!(
        report.contains(&format!(r#""origin":"{}""#, tmp.path().display())),
        "{report}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("a.txt"));
}
