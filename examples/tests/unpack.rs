//! `unpack`, run as a user would, on a well-formed archive and on a crafted
//! one whose entries try to write outside the output directory.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Appends an entry whose name is written into the header as is, so it can
/// hold what `tar::Builder` would refuse (`..`, absolute paths).
fn raw_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    link: Option<&str>,
    data: &[u8],
) {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    if let Some(link) = link {
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

fn unpack(archive: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unpack"))
        .arg(archive)
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn extracts_a_well_formed_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    raw_entry(&mut builder, "docs/", tar::EntryType::Directory, None, b"");
    raw_entry(
        &mut builder,
        "docs/readme.txt",
        tar::EntryType::Regular,
        None,
        b"read me",
    );
    raw_entry(
        &mut builder,
        "a/b/c.txt",
        tar::EntryType::Regular,
        None,
        b"deep",
    );
    fs::write(tmp.path().join("good.tar"), builder.into_inner().unwrap()).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();

    let result = unpack(&tmp.path().join("good.tar"), &out);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        fs::read_to_string(out.join("docs/readme.txt")).unwrap(),
        "read me"
    );
    assert_eq!(fs::read_to_string(out.join("a/b/c.txt")).unwrap(), "deep");
    assert_eq!(String::from_utf8_lossy(&result.stdout).lines().count(), 3);
}

#[test]
fn a_crafted_archive_cannot_write_outside_the_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let absolute = outside.join("absolute.txt");

    let mut builder = tar::Builder::new(Vec::new());
    raw_entry(
        &mut builder,
        "ok.txt",
        tar::EntryType::Regular,
        None,
        b"fine",
    );
    raw_entry(
        &mut builder,
        "../outside/dotdot.txt",
        tar::EntryType::Regular,
        None,
        b"pwned",
    );
    raw_entry(
        &mut builder,
        "sub/../../outside/nested.txt",
        tar::EntryType::Regular,
        None,
        b"pwned",
    );
    raw_entry(
        &mut builder,
        absolute.to_str().unwrap(),
        tar::EntryType::Regular,
        None,
        b"pwned",
    );
    raw_entry(
        &mut builder,
        "link",
        tar::EntryType::Symlink,
        Some(outside.to_str().unwrap()),
        b"",
    );
    raw_entry(
        &mut builder,
        "link/through-link.txt",
        tar::EntryType::Regular,
        None,
        b"pwned",
    );
    raw_entry(
        &mut builder,
        "hard",
        tar::EntryType::Link,
        Some("../outside/victim"),
        b"",
    );
    fs::write(tmp.path().join("evil.tar"), builder.into_inner().unwrap()).unwrap();

    let result = unpack(&tmp.path().join("evil.tar"), &out);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    // Nothing reached the outside directory...
    let leaked: Vec<_> = fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leaked.is_empty(), "written outside: {leaked:?}");
    // A refused entry leaves nothing behind, not even its parent directory.
    assert!(
        !out.join("sub").exists(),
        "`sub` was created for a refused entry"
    );
    assert!(!tmp.path().join("dotdot.txt").exists());
    // ...each attempt was refused by the handle and reported by name...
    for entry in [
        "../outside/dotdot.txt",
        "sub/../../outside/nested.txt",
        absolute.to_str().unwrap(),
    ] {
        assert!(
            stderr.contains(&format!("unpack: refused {entry}: ")),
            "{entry} not reported: {stderr}"
        );
    }
    assert!(
        stderr.contains("skipped link: links are not extracted"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped hard: links are not extracted"),
        "{stderr}"
    );
    // ...and the well-formed entries were extracted (the twin), the symlink
    // was not made, so its path is a plain directory inside `out`.
    assert_eq!(fs::read_to_string(out.join("ok.txt")).unwrap(), "fine");
    assert!(
        !fs::symlink_metadata(out.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(out.join("link/through-link.txt")).unwrap(),
        "pwned"
    );
}

#[test]
fn a_missing_archive_names_the_resource() {
    let tmp = tempfile::tempdir().unwrap();
    let result = unpack(&tmp.path().join("missing.tar"), tmp.path());
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.starts_with("error: resource `archive` (file \""),
        "{stderr}"
    );
    let result = Command::new(env!("CARGO_BIN_EXE_unpack")).output().unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&result.stderr).contains(
            "resource `archive` (file): no value given: give it as positional argument 1"
        )
    );
}
