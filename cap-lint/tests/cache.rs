//! The per-file cache gives exactly what a run without it gives: on the
//! fixture corpus and this workspace, cold and warm; and after each kind of
//! edit (a function body, an import another file uses, a signature another
//! file's findings depend on, a module file that appears, disappears or
//! stops parsing). Which files it reused is seen by marking the findings
//! stored in it: a reused finding comes back marked.

use std::path::Path;

use cap_lint::catalogue::{Index, builtin};
use cap_lint::config::Config;
use cap_lint::finding::{Region, Scope};
use cap_lint::workspace::{Workspace, check_targets_cached, check_targets_with};
use cap_lint::{Analysis, check_crate_cached, check_crate_with};

mod common;
use common::{crate_wide, fixture_roots, rows, write};

const MARK: &str = "(from the cache) ";

fn regions(a: &Analysis) -> Vec<Region> {
    let mut r = a.regions.clone();
    r.sort_by(|a, b| (&a.file, a.range).cmp(&(&b.file, b.range)));
    r
}

fn unanalysed(a: &Analysis) -> Vec<(String, usize, String, bool)> {
    a.unanalysed
        .iter()
        .map(|u| (u.file.clone(), u.line, u.error.clone(), u.missing))
        .collect()
}

/// The same findings, regions, files not analysed, sources and line count.
fn assert_same(cached: &Analysis, plain: &Analysis, what: &str) {
    assert_eq!(rows(cached), rows(plain), "{what}: findings");
    assert_eq!(regions(cached), regions(plain), "{what}: regions");
    assert_eq!(
        unanalysed(cached),
        unanalysed(plain),
        "{what}: not analysed"
    );
    assert_eq!(cached.sources, plain.sources, "{what}: sources");
    assert_eq!(cached.lines, plain.lines, "{what}: lines");
}

fn label(base: &Path) -> impl Fn(&Path) -> String + '_ {
    move |p: &Path| p.strip_prefix(base).unwrap_or(p).display().to_string()
}

fn cached(root: &Path, base: &Path, index: &Index, cache: &Path) -> Analysis {
    check_crate_cached(
        root,
        Scope::Lib,
        index,
        &label(base),
        &|_| false,
        true,
        Some(cache),
    )
    .0
}

fn plain(root: &Path, base: &Path, index: &Index) -> Analysis {
    check_crate_with(root, Scope::Lib, index, &label(base), &|_| false, true)
}

/// Marks every finding stored in the cache files under `dir`.
fn mark(dir: &Path) -> usize {
    let mut files = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let marked = text.replace("\"message\":\"", &format!("\"message\":\"{MARK}"));
        std::fs::write(&path, marked).unwrap();
        files += 1;
    }
    files
}

/// The files with a finding that came from the cache, and those with one
/// that did not.
fn reused(a: &Analysis) -> (Vec<&str>, Vec<&str>) {
    let mut from_cache: Vec<&str> = Vec::new();
    let mut fresh: Vec<&str> = Vec::new();
    for f in &a.findings {
        let list = if f.message.starts_with(MARK) {
            &mut from_cache
        } else {
            &mut fresh
        };
        if !list.contains(&f.file.as_str()) {
            list.push(&f.file);
        }
    }
    from_cache.sort_unstable();
    fresh.sort_unstable();
    (from_cache, fresh)
}

#[test]
fn fixture_corpus_same_results_cold_and_warm() {
    let (dir, roots) = fixture_roots();
    let index = Index::builtin();
    let mut total = 0;
    for root in &roots {
        let tmp = tempfile::tempdir().unwrap();
        let want = plain(root, &dir, &index);
        let cold = cached(root, &dir, &index, tmp.path());
        assert_same(&cold, &want, &format!("{} cold", root.display()));
        let warm = cached(root, &dir, &index, tmp.path());
        assert_same(&warm, &want, &format!("{} warm", root.display()));
        total += want.findings.len();
        // Reused: every finding of a crate that parses comes from the cache.
        if want.unanalysed.is_empty() && !want.findings.is_empty() {
            assert_eq!(mark(tmp.path()), 1);
            let warm = cached(root, &dir, &index, tmp.path());
            let (from_cache, fresh) = reused(&warm);
            assert!(fresh.is_empty(), "{}: {fresh:?}", root.display());
            assert!(!from_cache.is_empty());
            assert_eq!(rows(&warm), rows(&want));
        }
    }
    assert!(total > 100, "the corpus has findings to compare: {total}");
}

#[test]
fn this_workspace_same_results_cold_and_warm() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let ws = Workspace::discover(root, None).unwrap();
    let index = Index::builtin();
    let config = Config::default();
    let tmp = tempfile::tempdir().unwrap();
    let want = check_targets_with(&ws.targets, &ws.root, &index, &config, true);
    assert!(want.findings.len() > 100, "{}", want.findings.len());
    let run = || {
        check_targets_cached(
            &ws.targets,
            &ws.root,
            &index,
            &config,
            true,
            Some(tmp.path()),
        )
    };
    assert_same(&run(), &want, "cold");
    assert!(mark(tmp.path()) > 5, "one cache per crate (target)");
    let warm = run();
    assert_same(&warm, &want, "warm");
    let (from_cache, fresh) = reused(&warm);
    assert!(fresh.is_empty(), "{fresh:?}");
    assert!(from_cache.len() > 20, "{}", from_cache.len());
}

#[test]
fn each_kind_of_edit_is_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cache = tempfile::tempdir().unwrap();
    crate_wide(d);
    let index = Index::builtin();
    let root = d.join("src/lib.rs");
    // A cached run, compared with a run without the cache; then the cache's
    // findings are marked, so the next run shows which files it reused.
    let step = |what: &str| {
        let got = cached(&root, d, &index, cache.path());
        let want = plain(&root, d, &index);
        assert_same(&got, &want, what);
        mark(cache.path());
        got
    };
    let apis = |a: &Analysis| -> Vec<(String, String)> {
        a.findings
            .iter()
            .map(|f| (f.file.clone(), f.api.clone()))
            .collect()
    };
    let first = step("cold");
    assert_eq!(reused(&first).0, Vec::<&str>::new());
    assert_eq!(first.findings.len(), 3);

    // A function body: only that file is checked again.
    write(
        d,
        "src/alias.rs",
        "pub fn f() -> String {\n    let _ = std::fs::write(\"y\", \"\");\n    crate::decl::slurp(\"x\").unwrap()\n}\n",
    );
    let body = step("a body edited");
    assert_eq!(
        reused(&body),
        (vec!["src/field.rs", "src/ret.rs"], vec!["src/alias.rs"])
    );
    assert_eq!(body.findings.len(), 4);

    // Nothing changed: everything is reused.
    let same = step("unchanged");
    assert_eq!(reused(&same).1, Vec::<&str>::new());

    // An import another file calls through, pointed elsewhere: alias.rs,
    // unchanged, now calls `std::fs::read`.
    write(
        d,
        "src/decl.rs",
        "pub use std::fs::read as slurp;\n\
         pub struct Settings { pub root: std::path::PathBuf }\n\
         pub fn base_path() -> std::path::PathBuf { unimplemented!() }\n",
    );
    let import = step("an import re-pointed");
    assert_eq!(reused(&import).0, Vec::<&str>::new(), "checked whole");
    assert!(apis(&import).contains(&("src/alias.rs".into(), "std::fs::read".into())));
    write(
        d,
        "src/decl.rs",
        "pub use std::fs::read_to_string as slurp;\n\
         pub struct Settings { pub root: std::path::PathBuf }\n\
         pub fn base_path() -> std::path::PathBuf { unimplemented!() }\n",
    );
    step("and back");

    // An import another file calls through: the renaming import becomes a
    // function of the crate; alias.rs, unchanged, loses its finding.
    write(
        d,
        "src/decl.rs",
        "pub fn slurp(_: &str) -> std::io::Result<String> { Ok(String::new()) }\n\
         pub struct Settings { pub root: std::path::PathBuf }\n\
         pub fn base_path() -> std::path::PathBuf { unimplemented!() }\n",
    );
    let shape = step("an import replaced by a function");
    assert_eq!(reused(&shape).0, Vec::<&str>::new(), "checked whole");
    assert!(!apis(&shape).contains(&("src/alias.rs".into(), "std::fs::read_to_string".into())));
    assert_eq!(shape.findings.len(), 3);

    // A signature another file's finding depends on: ret.rs, unchanged,
    // loses its `is_dir` finding when `base_path` no longer returns a path.
    write(
        d,
        "src/decl.rs",
        "pub fn slurp(_: &str) -> std::io::Result<String> { Ok(String::new()) }\n\
         pub struct Settings { pub root: std::path::PathBuf }\n\
         pub fn base_path() -> String { unimplemented!() }\n",
    );
    let facts = step("a return type changed");
    assert_eq!(reused(&facts).0, Vec::<&str>::new(), "checked whole");
    assert!(!apis(&facts).iter().any(|(f, _)| f == "src/ret.rs"));
    assert_eq!(facts.findings.len(), 2);

    // A module declared before its file exists, then the file, then gone.
    write(
        d,
        "src/lib.rs",
        "mod decl;\nmod alias;\nmod field;\nmod ret;\nmod quiet;\nmod late;\n",
    );
    let missing = step("a module file missing");
    assert_eq!(missing.unanalysed.len(), 1);
    assert!(missing.unanalysed[0].missing);
    step("still missing");
    write(
        d,
        "src/late.rs",
        "pub fn f() { let _ = std::fs::read(\"z\"); }\n",
    );
    let late = step("the module file written");
    assert!(late.unanalysed.is_empty());
    // Its items are part of the crate's shape: checked whole.
    assert_eq!(reused(&late).0, Vec::<&str>::new());
    assert!(apis(&late).contains(&("src/late.rs".into(), "std::fs::read".into())));
    std::fs::remove_file(d.join("src/late.rs")).unwrap();
    let gone = step("the module file removed");
    assert_eq!(gone.unanalysed.len(), 1);
    assert!(!apis(&gone).iter().any(|(f, _)| f == "src/late.rs"));

    // A file that stops parsing, and parses again.
    write(
        d,
        "src/late.rs",
        "pub fn f() { let _ = std::fs::read(\"z\"); }\n",
    );
    step("back");
    write(
        d,
        "src/quiet.rs",
        "pub fn f(v: &[u8]) -> Option<&u8> {\n    v.get(0\n}\n",
    );
    let broken = step("a file that does not parse");
    assert_eq!(broken.unanalysed.len(), 1);
    assert_eq!(broken.unanalysed[0].file, "src/quiet.rs");
    // While it stays broken, an edit elsewhere checks only the edited file.
    write(
        d,
        "src/alias.rs",
        "pub fn f() -> String {\n    let _ = std::fs::write(\"w\", \"\");\n    crate::decl::slurp(\"x\").unwrap()\n}\n",
    );
    let still = step("a body edited while another file does not parse");
    assert_eq!(still.unanalysed.len(), 1);
    let (from_cache, fresh) = reused(&still);
    assert_eq!(fresh, vec!["src/alias.rs"]);
    assert!(!from_cache.is_empty() && !from_cache.contains(&"src/alias.rs"));
    write(
        d,
        "src/quiet.rs",
        "pub fn f(v: &[u8]) -> Option<&u8> {\n    v.get(0)\n}\n",
    );
    let fixed = step("the file fixed");
    assert!(fixed.unanalysed.is_empty());
}

#[test]
fn another_catalogue_does_not_reuse_the_results() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cache = tempfile::tempdir().unwrap();
    crate_wide(d);
    let root = d.join("src/lib.rs");
    let index = Index::builtin();
    cached(&root, d, &index, cache.path());
    mark(cache.path());
    assert_eq!(
        reused(&cached(&root, d, &index, cache.path())).1,
        Vec::<&str>::new()
    );
    // The same catalogue without `std::fs::read_to_string`.
    let fewer = Index::new(
        builtin()
            .iter()
            .filter(|a| a.path != "std::fs::read_to_string")
            .cloned(),
    );
    let other = cached(&root, d, &fewer, cache.path());
    assert_eq!(reused(&other).0, Vec::<&str>::new());
    assert_same(&other, &plain(&root, d, &fewer), "another catalogue");
    assert_eq!(other.findings.len(), 2);
}

/// Writes a crate and returns the two files with a finding each.
type Make<'a> = &'a dyn Fn(&Path) -> [&'static str; 2];

/// Two crates where a file's findings once depended on the files checked
/// before it by the same checker (found by a review): renaming imports in
/// a function body that leaked into the next file (and a module inside a
/// function body whose own renaming imports were never recorded), and a
/// lookup memoised while a glob cycle was half explored. Each is checked
/// cold, then with both files edited (so a cached run checks them in one
/// batch), and compared with a run without the cache; the findings that
/// order once hid are asserted.
#[test]
fn findings_do_not_depend_on_the_files_checked_before() {
    let index = Index::builtin();
    let function_local = |d: &Path| {
        write(
            d,
            "src/lib.rs",
            "mod b1;\nmod b2;\npub fn f() { use std::fs::read as load2; }\n",
        );
        for b in ["b1", "b2"] {
            write(
                d,
                &format!("src/{b}.rs"),
                "pub fn g() {\n    mod inner {\n        use std::fs::read as load2;\n        pub fn h() { let _ = load2(\"x\"); }\n    }\n}\n",
            );
        }
        ["src/b1.rs", "src/b2.rs"]
    };
    let glob_cycle = |d: &Path| {
        write(
            d,
            "src/lib.rs",
            "mod c;\nmod user;\nmod e;\npub use c::*;\n",
        );
        write(
            d,
            "src/c.rs",
            "pub use super::*;\npub use crate::e::*;\npub fn in_c() { let _ = x(\"a\"); }\n",
        );
        write(d, "src/e.rs", "pub use std::fs::read as x;\n");
        write(
            d,
            "src/user.rs",
            "pub fn in_user() { let _ = crate::x(\"b\"); }\n",
        );
        ["src/c.rs", "src/user.rs"]
    };
    let cases: [(&str, Make<'_>); 2] = [
        ("function-local", &function_local),
        ("glob cycle", &glob_cycle),
    ];
    for (what, make) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let files = make(d);
        let root = d.join("src/lib.rs");
        let with_findings = |a: &Analysis| {
            let mut f: Vec<String> = a.findings.iter().map(|f| f.file.clone()).collect();
            f.dedup();
            f
        };
        let cold = cached(&root, d, &index, cache.path());
        assert_eq!(with_findings(&cold), files, "{what}, cold");
        for f in files {
            let text = std::fs::read_to_string(d.join(f)).unwrap();
            write(d, f, &format!("{text}// edited\n"));
        }
        let warm = cached(&root, d, &index, cache.path());
        assert_same(&warm, &plain(&root, d, &index), what);
        assert_eq!(
            with_findings(&warm),
            files,
            "{what}, both files checked again"
        );
    }
}
