//! The fixture corpus: each `tests/fixtures/*.rs` file (read as text, never
//! compiled) carries `//~ api` markers on the lines where findings must start;
//! each has an exact JSON snapshot (`*.json`), and a few a human one
//! (`*.stderr`). Set `CAP_LINT_BLESS=1` to rewrite snapshots (then review the diff).

use std::path::{Path, PathBuf};

use cap_lint::catalogue::{Index, Severity};
use cap_lint::{Analysis, render};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `(line, api, suppressed)` triples from `//~` markers.
fn markers(text: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, rest)) = line.split_once("//~") else {
            continue;
        };
        for item in rest.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match item.strip_prefix("allowed ") {
                Some(api) => out.push((i + 1, api.trim().to_owned(), true)),
                None => out.push((i + 1, item.to_owned(), false)),
            }
        }
    }
    out.sort();
    out
}

fn found(analysis: &Analysis) -> Vec<(usize, String, bool)> {
    let mut out: Vec<_> = analysis
        .findings
        .iter()
        .map(|f| (f.span.start.line, f.api.clone(), f.suppressed.is_some()))
        .collect();
    out.sort();
    out
}

fn check_snapshot(path: &Path, actual: &str) {
    if std::env::var_os("CAP_LINT_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with CAP_LINT_BLESS=1 to create)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "snapshot {} differs", path.display());
}

fn run_fixture(name: &str) -> Analysis {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let analysis = cap_lint::check_source(name, &text, &Index::builtin());
    assert!(
        analysis.unanalysed.is_empty(),
        "{name} did not parse: {:?}",
        analysis.unanalysed
    );
    assert_eq!(
        found(&analysis),
        markers(&text),
        "{name}: findings differ from the //~ markers"
    );
    let json = render::json_lines(&analysis, Severity::Low, true);
    check_snapshot(&path.with_extension("json"), &json);
    analysis
}

#[test]
fn resolution_forms() {
    run_fixture("resolution.rs");
}

#[test]
fn negatives() {
    let analysis = run_fixture("negatives.rs");
    assert!(analysis.findings.is_empty());
}

#[test]
fn suppression_and_authority_roots() {
    let analysis = run_fixture("suppression.rs");
    let reasons: Vec<&str> = analysis
        .findings
        .iter()
        .filter_map(|f| f.suppressed.as_deref())
        .collect();
    assert!(reasons.contains(&"suppressed: reads the config before the sandbox is entered"));
    assert!(reasons.contains(&"authority root: takes an `AmbientAuthority` token"));
    assert!(
        reasons.contains(&"authority root: `Preopen::preopen` runs before the sandbox is entered")
    );
    // `#[cfg(test)]` code is in the tests scope, for per-scope configuration.
    let write = analysis
        .findings
        .iter()
        .find(|f| f.api == "std::fs::write")
        .unwrap();
    assert_eq!(write.scope, cap_lint::finding::Scope::Tests);
}

#[test]
fn every_catalogue_entry() {
    run_fixture("catalogue.rs");
}

#[test]
fn builtin_common_crates() {
    run_fixture("crates.rs");
}

#[test]
fn ecosystem_crates() {
    run_fixture("ecosystem.rs");
}

/// Every catalogue entry has a positive case somewhere in the corpus.
#[test]
fn corpus_covers_the_catalogue() {
    let mut covered = std::collections::HashSet::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            covered.extend(markers(&text).into_iter().filter(|m| !m.2).map(|m| m.1));
        }
    }
    let index = Index::builtin();
    let missing: Vec<&str> = index
        .apis()
        .iter()
        .map(|a| a.path.as_str())
        .filter(|p| !covered.contains(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "catalogue entries without a positive fixture: {missing:?}"
    );
}

#[test]
fn unparseable_file_is_not_analysed_never_clean() {
    let name = "unparseable.rs";
    let text = std::fs::read_to_string(fixtures_dir().join(name)).unwrap();
    let analysis = cap_lint::check_source(name, &text, &Index::builtin());
    assert_eq!(analysis.unanalysed.len(), 1);
    assert_eq!(analysis.unanalysed[0].file, name);
    assert_eq!(analysis.unanalysed[0].line, 4, "{:?}", analysis.unanalysed);
    assert!(analysis.findings.is_empty());
    check_snapshot(
        &fixtures_dir().join("unparseable.json"),
        &render::json_lines(&analysis, Severity::Low, true),
    );
    check_snapshot(
        &fixtures_dir().join("unparseable.stderr"),
        &render::human(&analysis, Severity::Low, true),
    );
}

#[test]
fn crate_over_several_files() {
    let dir = fixtures_dir().join("multi");
    let root = dir.join("src/lib.rs");
    let label = |p: &Path| p.strip_prefix(&dir).unwrap().display().to_string();
    let analysis = cap_lint::check_crate(
        &root,
        cap_lint::finding::Scope::Lib,
        &Index::builtin(),
        &label,
        &|_| false,
    );
    assert!(analysis.unanalysed.is_empty(), "{:?}", analysis.unanalysed);
    assert_eq!(
        analysis.sources.len(),
        5,
        "all five files are reached: {:?}",
        analysis.sources.keys()
    );
    let mut expected = Vec::new();
    for (file, text) in &analysis.sources {
        expected.extend(
            markers(text)
                .into_iter()
                .map(|(l, a, s)| (file.clone(), l, a, s)),
        );
    }
    expected.sort();
    let mut actual: Vec<_> = analysis
        .findings
        .iter()
        .map(|f| {
            (
                f.file.clone(),
                f.span.start.line,
                f.api.clone(),
                f.suppressed.is_some(),
            )
        })
        .collect();
    actual.sort();
    assert_eq!(actual, expected);
    check_snapshot(
        &dir.join("expected.json"),
        &render::json_lines(&analysis, Severity::Low, true),
    );
}

/// Human output, snapshotted for a few fixtures (rustc-style spans and carets).
#[test]
fn human_snapshots() {
    for name in ["resolution.rs", "suppression.rs"] {
        let analysis = run_fixture(name);
        let human = render::human(&analysis, Severity::Medium, true);
        check_snapshot(&fixtures_dir().join(name).with_extension("stderr"), &human);
    }
}
