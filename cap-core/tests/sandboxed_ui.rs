//! Compile-time behaviour of `#[sandboxed]` and `#[derive(Preopen)]`: each
//! mistake is one error, spanned on the offending token (`tests/ui/*.stderr`).

#[test]
fn sandboxed_ui() {
    let t = trybuild::TestCases::new();
    let mut files: Vec<_> = std::fs::read_dir("tests/ui")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("sandboxed_") && p.extension().is_some_and(|e| e == "rs")
        })
        .collect();
    files.sort();
    assert!(files.len() > 10, "the UI cases are missing: {files:?}");
    for file in files {
        if file.to_str().unwrap().ends_with("_pass.rs") {
            t.pass(file);
        } else {
            t.compile_fail(file);
        }
    }
}
