//! `cap-lint`: finds the calls that still reach the filesystem, the network,
//! other processes or the environment *by name*, so they can be moved to
//! capability handles.
//!
//! The syntactic tier ([`check_crate`], [`check_source`]) parses sources with
//! `syn` and resolves names as far as syntax allows; the precise tier
//! ([`precise`]) runs `cargo clippy` with a `clippy.toml` generated from the same
//! [`catalogue`]. [`deps`] audits the dependency tree with the same checker
//! and a cross-crate call graph. The binary `cargo-cap-lint` drives them; the book chapter
//! "cargo cap-lint" describes how to adopt it.
//!
//! ```
//! use cap_lint::{catalogue::Index, check_source};
//! let index = Index::builtin();
//! let analysis = check_source("demo.rs", "fn main() { let _ = std::fs::read(\"x\"); }", &index);
//! assert_eq!(analysis.findings[0].api, "std::fs::read");
//! assert_eq!(analysis.findings[0].code, "ambient::fs");
//! ```
#![forbid(unsafe_code)]

pub mod baseline;
pub mod catalogue;
mod check;
pub mod config;
pub mod deps;
mod driver;
mod filecache;
pub mod finding;
mod metacache;
pub mod precise;
mod prefilter;
pub mod render;
mod tree;
pub mod workspace;

use std::collections::BTreeMap;
use std::path::Path;

use catalogue::Index;
use finding::{Finding, Region, Scope, Unanalysed};

/// What one run found: findings (including suppressed ones, marked), files
/// that could not be analysed, and the sources (for rendering).
#[derive(Default, Debug)]
pub struct Analysis {
    /// Findings, in file and position order.
    pub findings: Vec<Finding>,
    /// Files that failed to read or parse: never counted as clean.
    pub unanalysed: Vec<Unanalysed>,
    /// Source text by file label, for rendering snippets.
    pub sources: BTreeMap<String, String>,
    /// Lines of source analysed.
    pub lines: usize,
    /// Suppressed and test regions, for findings of the precise tier.
    pub regions: Vec<Region>,
}

impl Analysis {
    /// Adds another analysis' results.
    pub fn merge(&mut self, other: Analysis) {
        self.findings.extend(other.findings);
        self.unanalysed.extend(other.unanalysed);
        self.sources.extend(other.sources);
        self.lines += other.lines;
        self.regions.extend(other.regions);
    }

    /// Sorts findings by file and position and drops exact duplicates.
    pub fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| (&a.file, a.span, &a.api).cmp(&(&b.file, b.span, &b.api)));
        self.findings
            .dedup_by(|a, b| a.file == b.file && a.span == b.span && a.api == b.api);
        self.unanalysed.sort_by(|a, b| a.file.cmp(&b.file));
    }

    /// Findings not suppressed or allowed.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }
}

fn finish(
    tree: &tree::CrateTree,
    (findings, regions): (Vec<Finding>, Vec<Region>),
    label: &dyn Fn(&Path) -> String,
) -> Analysis {
    let mut analysis = Analysis::default();
    let mut labels = BTreeMap::new();
    for file in &tree.files {
        let name = label(&file.path);
        labels.insert(file.path.display().to_string(), name.clone());
        match &file.error {
            None => analysis.lines += file.text.lines().count(),
            Some(e) => analysis.unanalysed.push(Unanalysed {
                file: name.clone(),
                line: e.line,
                column: e.column,
                error: e.message.clone(),
                missing: e.missing,
            }),
        }
        analysis.sources.insert(name, file.text.clone());
    }
    let relabel = |file: &mut String| {
        if let Some(l) = labels.get(file.as_str()) {
            file.clone_from(l);
        }
    };
    analysis.findings = findings
        .into_iter()
        .map(|mut f| {
            relabel(&mut f.file);
            f
        })
        .collect();
    analysis.regions = regions
        .into_iter()
        .map(|mut r| {
            relabel(&mut r.file);
            r
        })
        .collect();
    analysis.sort();
    analysis
}

/// Checks one source text as a single-file crate (its `mod x;` declarations
/// are not followed). The pre-filter is off: the analysis has every region.
pub fn check_source(file: &str, text: &str, index: &Index) -> Analysis {
    let path = Path::new(file);
    let (tree, findings, regions) = driver::check_crate(
        driver::Root::Text(path, text.to_owned()),
        index,
        Scope::Lib,
        &|_| false,
        None,
        false,
        None,
    );
    finish(&tree, (findings, regions), &|p| p.display().to_string())
}

/// Checks the crate whose root file is `root` (following `mod` declarations),
/// labelling files with `label`. Files for which `skip` is true are not loaded
/// (they were checked as part of another crate). Files are parsed and checked
/// on as many threads as the machine has cores. Files the lexical
/// pre-filter shows cannot contain a finding are parsed without their
/// function bodies and not checked (see [`check_crate_with`]).
pub fn check_crate(
    root: &Path,
    scope: Scope,
    index: &Index,
    label: &dyn Fn(&Path) -> String,
    skip: &(dyn Fn(&Path) -> bool + Sync),
) -> Analysis {
    check_crate_with(root, scope, index, label, skip, true)
}

/// [`check_crate`], with the lexical pre-filter on or off. Off, every file
/// is parsed whole and checked, and the analysis also has the suppressed and
/// test regions of every file (which the precise tier's findings need); on,
/// the findings are the same (the pre-filter only skips files that cannot
/// contain one), but a skipped file has no regions, and a syntax error
/// inside one of its function bodies goes unnoticed.
pub fn check_crate_with(
    root: &Path,
    scope: Scope,
    index: &Index,
    label: &dyn Fn(&Path) -> String,
    skip: &(dyn Fn(&Path) -> bool + Sync),
    prefilter: bool,
) -> Analysis {
    check_crate_cached(root, scope, index, label, skip, prefilter, None).0
}

/// [`check_crate_with`], keeping each file's results in `cache` (a
/// directory) and reusing those of files whose text, and the crate's
/// imports, items and signatures, did not change since. `skip` is only
/// asked: it should answer the same for a path every time. Also returns
/// the crate's files (those the next crate's `skip` should claim).
pub fn check_crate_cached(
    root: &Path,
    scope: Scope,
    index: &Index,
    label: &dyn Fn(&Path) -> String,
    skip: &(dyn Fn(&Path) -> bool + Sync),
    prefilter: bool,
    cache: Option<&Path>,
) -> (Analysis, Vec<std::path::PathBuf>) {
    let store = cache.map(|dir| filecache::Store::new(dir, root, scope, prefilter, index));
    let (tree, findings, regions) = driver::check_crate(
        driver::Root::File(root),
        index,
        scope,
        skip,
        None,
        prefilter,
        store.as_ref(),
    );
    let mut files: Vec<std::path::PathBuf> = tree.files.iter().map(|f| f.path.clone()).collect();
    if files.is_empty() {
        files.push(root.to_path_buf());
    }
    (finish(&tree, (findings, regions), label), files)
}

pub use check::{Callee, Graph};

/// Writes `bytes` to `path` whole or not at all, for the caches: into a
/// file of a name no other writer uses (process and a counter), then
/// renamed over `path`, so a concurrent reader sees the old file or the
/// new one. Best effort: a cache that cannot be written only costs time,
/// and what was written aside is removed.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    if std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Like [`check_crate`], and also records the crate's syntactic call graph
/// (each finding then names the function it is in).
pub fn check_crate_graph(
    root: &Path,
    scope: Scope,
    index: &Index,
    label: &dyn Fn(&Path) -> String,
) -> (Analysis, Graph) {
    let mut graph = Graph::default();
    let (tree, findings, regions) = driver::check_crate(
        driver::Root::File(root),
        index,
        scope,
        &|_| false,
        Some(&mut graph),
        false,
        None,
    );
    (finish(&tree, (findings, regions), label), graph)
}
