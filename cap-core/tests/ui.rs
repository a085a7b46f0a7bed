//! Every compile-time check of cap-core, in one trybuild batch (one
//! `TestCases`, so the dependencies are built once and every case is checked
//! in one cargo invocation). The expected messages are the committed
//! `.stderr` snapshots beside each case in `tests/ui/`.
//!
//! - `fs_*`, `net_*`: a missing right or a widening is a `cargo check` error
//!   that names the right;
//! - `sandboxed_*`: each mistake in `#[sandboxed]` and `#[derive(Preopen)]`
//!   is one error, spanned on the offending token (`*_pass.rs` must build);
//! - `ambient/`: `#[cap_core::ambient(reason = "…")]` compiles to nothing
//!   with a non-empty string reason, and every malformed use is one
//!   `compile_error!`.

use std::path::PathBuf;

/// The `.rs` cases in `tests/ui` whose name starts with `prefix`, sorted.
fn cases(prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/ui")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(prefix) && p.extension().is_some_and(|e| e == "rs")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn ui() {
    let t = trybuild::TestCases::new();

    let fs = cases("fs_");
    let net = cases("net_");
    let sandboxed = cases("sandboxed_");
    assert!(!fs.is_empty(), "the fs UI cases are missing");
    assert!(!net.is_empty(), "the net UI cases are missing");
    assert!(
        sandboxed.len() > 10,
        "the sandboxed UI cases are missing: {sandboxed:?}"
    );
    for file in fs.into_iter().chain(net).chain(sandboxed) {
        if file.to_str().unwrap().ends_with("_pass.rs") {
            t.pass(file);
        } else {
            t.compile_fail(file);
        }
    }

    t.pass("tests/ui/ambient/pass.rs");
    t.compile_fail("tests/ui/ambient/no_reason.rs");
    t.compile_fail("tests/ui/ambient/empty_reason.rs");
    t.compile_fail("tests/ui/ambient/wrong_key.rs");
    t.compile_fail("tests/ui/ambient/not_a_string.rs");
    t.compile_fail("tests/ui/ambient/trailing.rs");
}
