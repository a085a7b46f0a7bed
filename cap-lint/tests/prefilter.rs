//! The lexical pre-filter is conservative: runs with and without it give
//! the same findings and the same files not analysed, on the fixture
//! corpus, on this whole workspace (with no allow rules, so every ambient
//! call in it is a finding), and on a crate built to need the pre-filter's
//! crate-wide second look (an alias, typed fields and returns declared in
//! other files).

use std::path::Path;

use cap_lint::catalogue::Index;
use cap_lint::config::Config;
use cap_lint::finding::Scope;
use cap_lint::workspace::{Workspace, check_targets_with};
use cap_lint::{Analysis, check_crate_with};

mod common;
use common::{crate_wide, fixture_roots, rows};

fn unanalysed(a: &Analysis) -> Vec<(String, String)> {
    a.unanalysed
        .iter()
        .map(|u| (u.file.clone(), u.error.clone()))
        .collect()
}

fn both(root: &Path, base: &Path) -> (Analysis, Analysis) {
    let label = |p: &Path| p.strip_prefix(base).unwrap_or(p).display().to_string();
    let index = Index::builtin();
    let on = check_crate_with(root, Scope::Lib, &index, &label, &|_| false, true);
    let off = check_crate_with(root, Scope::Lib, &index, &label, &|_| false, false);
    (on, off)
}

#[test]
fn fixture_corpus_same_findings_with_and_without() {
    let (dir, roots) = fixture_roots();
    let mut total = 0;
    for root in &roots {
        let (on, off) = both(root, &dir);
        assert_eq!(rows(&on), rows(&off), "{}", root.display());
        assert_eq!(unanalysed(&on), unanalysed(&off), "{}", root.display());
        assert_eq!(on.lines, off.lines);
        total += on.findings.len();
    }
    assert!(total > 100, "the corpus has findings to compare: {total}");
}

#[test]
fn this_workspace_same_findings_with_and_without() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let ws = Workspace::discover(root, None).unwrap();
    let index = Index::builtin();
    let config = Config::default();
    let on = check_targets_with(&ws.targets, &ws.root, &index, &config, true);
    let off = check_targets_with(&ws.targets, &ws.root, &index, &config, false);
    assert!(
        on.findings.len() > 100,
        "with no allow rules the workspace has findings: {}",
        on.findings.len()
    );
    assert_eq!(rows(&on), rows(&off));
    assert_eq!(unanalysed(&on), unanalysed(&off));
    assert_eq!(on.lines, off.lines);
}

#[test]
fn findings_that_need_the_crate_wide_look_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    crate_wide(d);
    let (on, off) = both(&d.join("src/lib.rs"), d);
    let found = rows(&on);
    assert_eq!(found, rows(&off));
    let apis: Vec<(&str, usize, &str)> = found
        .iter()
        .map(|r| (r.0.as_str(), r.1, r.3.as_str()))
        .collect();
    assert_eq!(
        apis,
        [
            ("src/alias.rs", 2, "std::fs::read_to_string"),
            ("src/field.rs", 3, "std::path::Path::exists"),
            ("src/ret.rs", 3, "std::path::Path::is_dir"),
        ]
    );
    assert!(on.unanalysed.is_empty(), "{:?}", on.unanalysed);
    assert_eq!(on.sources.len(), 6, "every file is read and labelled");
}
