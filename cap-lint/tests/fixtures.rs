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
