//! What the tests that compare two ways of checking share: the fixture
//! corpus, a crate whose findings need its other files, and the findings
//! as comparable rows.
#![allow(dead_code)] // each test file uses its part

use std::path::{Path, PathBuf};

use cap_lint::Analysis;

/// (file, line, column, API, suppressed, scope) of a finding.
pub(crate) type Row = (String, usize, usize, String, bool, String);

pub(crate) fn rows(a: &Analysis) -> Vec<Row> {
    a.findings
        .iter()
        .map(|f| {
            (
                f.file.clone(),
                f.span.start.line,
                f.span.start.column,
                f.api.clone(),
                f.suppressed.is_some(),
                format!("{:?}", f.scope),
            )
        })
        .collect()
}

pub(crate) fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The fixture directory and the crate roots of its corpus.
pub(crate) fn fixture_roots() -> (PathBuf, Vec<PathBuf>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut roots: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    roots.push(dir.join("multi/src/lib.rs"));
    roots.push(dir.join("precise/lib.rs"));
    roots.sort();
    (dir, roots)
}

/// A crate under `d` whose three findings each need another file: a
/// renaming import, a typed field and a typed return declared in
/// `decl.rs`, and a file (`quiet.rs`) with none.
pub(crate) fn crate_wide(d: &Path) {
    write(
        d,
        "src/lib.rs",
        "mod decl;\nmod alias;\nmod field;\nmod ret;\nmod quiet;\n",
    );
    // Declarations: a renaming re-export, a struct with a path field, a
    // function returning a path. No call in them.
    write(
        d,
        "src/decl.rs",
        "pub use std::fs::read_to_string as slurp;\n\
         pub struct Settings { pub root: std::path::PathBuf }\n\
         pub fn base_path() -> std::path::PathBuf { unimplemented!() }\n",
    );
    // Each of these names no catalogue entry the catalogue alone would see.
    write(
        d,
        "src/alias.rs",
        "pub fn f() -> String {\n    crate::decl::slurp(\"x\").unwrap()\n}\n",
    );
    write(
        d,
        "src/field.rs",
        "use crate::decl::Settings;\npub fn f(s: &Settings) -> bool {\n    s.root.exists()\n}\n",
    );
    write(
        d,
        "src/ret.rs",
        "use crate::decl::base_path;\npub fn f() -> bool {\n    base_path().is_dir()\n}\n",
    );
    write(
        d,
        "src/quiet.rs",
        "pub fn f(v: &[u8]) -> Option<&u8> {\n    v.get(0)\n}\nfn get() {}\n",
    );
}
