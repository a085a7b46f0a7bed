//! cap-lint throughput, against baselines in the same run.
//!
//! - `real_crate`: a large real crate (tokio's sources, from the local cargo
//!   registry, ~108k lines; a generated crate of the same size if absent):
//!   the syntactic tier against the floor of only reading and parsing the same
//!   files with `syn`. Budget: 100k lines in under 1 s.
//! - `generated_100k`: a generated 100k-line crate, for a stable number.
//! - `tiers_10k`: plain (syntactic) against `--precise` (`cargo clippy` with
//!   the generated configuration) on the same generated 10k-line crate, and
//!   the syntactic tier with its per-file cache after one function body is
//!   edited.
//! - `tiers_workspace`: the same comparison on a copy of this workspace (real
//!   code with dependencies; the copy's dependencies are checked once before
//!   timing, then every source file is touched before each clippy run).
//!   Budget: the syntactic tier at least 20x faster than clippy.
//!
//! - `growth`: name-resolution growth. A generated crate whose every module
//!   glob-imports ten std modules and its two neighbours (a ring of glob
//!   cycles), at 1x, 2x, 4x and 8x the size. Budget: at most 2.2x the time per
//!   doubling (linear), where resolution used to be exponential in the globs.
//!
//! - `prefilter`: the lexical pre-filter on and off on a library crate
//!   (regex-automata from the registry, ~66k lines).
//!
//! Run with `cargo bench -p cap-lint`; counters show lines per second.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use cap_lint::catalogue::Index;
use cap_lint::finding::Scope;
use divan::Bencher;
use divan::counter::ItemsCount;

fn main() {
    divan::main();
}

static INDEX: LazyLock<Index> = LazyLock::new(Index::builtin);

/// One generated item: a struct and an impl of the shapes real code has
/// (paths, loops, matches, format!, a few ambient calls). 24 lines.
fn item(i: usize) -> String {
    format!(
        r#"pub struct Item{i} {{
    pub name: String,
    pub path: std::path::PathBuf,
    pub count: usize,
}}

impl Item{i} {{
    pub fn new(name: &str) -> Self {{
        Self {{ name: name.to_owned(), path: std::path::PathBuf::from(name), count: {i} }}
    }}
    pub fn score(&self, xs: &[u32]) -> u64 {{
        let mut total = 0u64;
        for (k, x) in xs.iter().enumerate() {{
            if k % 3 == 0 {{ total += u64::from(*x) * 2; }} else {{ total = total.wrapping_add(k as u64); }}
        }}
        match self.count % 4 {{ 0 => total, 1 => total + 1, _ => total.saturating_sub(1) }}
    }}
    pub fn describe(&self) -> String {{
        format!("{{}}: {{}} ({{}})", self.name, self.count, self.path.display())
    }}
    pub fn exists(&self) -> bool {{ self.path.exists() }}
    pub fn load(&self) -> std::io::Result<String> {{ std::fs::read_to_string(&self.path) }}
}}

"#
    )
}

/// Writes a cargo package of about `lines` lines (modules of 100 items) under
/// `dir`, and returns its `src/lib.rs`.
fn generate_crate(dir: &Path, lines: usize) -> PathBuf {
    let items = lines / 24;
    let per_module = 100;
    let modules = items.div_ceil(per_module);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"generated\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let mut lib = String::from("#![allow(dead_code)]\n");
    for m in 0..modules {
        let _ = writeln!(lib, "pub mod m{m};");
        let body: String = (m * per_module..((m + 1) * per_module).min(items))
            .map(item)
            .collect();
        std::fs::write(dir.join(format!("src/m{m}.rs")), body).unwrap();
    }
    let root = dir.join("src/lib.rs");
    std::fs::write(&root, lib).unwrap();
    root
}

struct Corpus {
    root: PathBuf,
    files: Vec<PathBuf>,
    lines: usize,
    _tmp: Option<tempfile::TempDir>,
}

fn corpus_at(root: PathBuf, tmp: Option<tempfile::TempDir>) -> Corpus {
    let label = |p: &Path| p.display().to_string();
    let a = cap_lint::check_crate(&root, Scope::Lib, &INDEX, &label, &|_| false);
    assert!(a.unanalysed.is_empty(), "{:?}", a.unanalysed);
    Corpus {
        files: a.sources.keys().map(PathBuf::from).collect(),
        lines: a.lines,
        root,
        _tmp: tmp,
    }
}

fn generated(lines: usize) -> Corpus {
    let tmp = tempfile::tempdir().unwrap();
    let root = generate_crate(tmp.path(), lines);
    corpus_at(root, Some(tmp))
}

/// tokio's sources from the cargo registry, if present.
fn registry_tokio() -> Option<PathBuf> {
    registry_crate("tokio-1.")
}

/// The newest registry sources of a crate whose directory starts with `prefix`.
fn registry_crate(prefix: &str) -> Option<PathBuf> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(h) => PathBuf::from(h),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cargo"),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|p| p.join("src/lib.rs"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

static REAL: LazyLock<Corpus> = LazyLock::new(|| match registry_tokio() {
    Some(root) => corpus_at(root, None),
    None => generated(108_000),
});
static GENERATED_100K: LazyLock<Corpus> = LazyLock::new(|| generated(100_000));
static LIBRARY: LazyLock<Corpus> = LazyLock::new(|| match registry_crate("regex-automata-0.4.") {
    Some(root) => corpus_at(root, None),
    None => generated(66_000),
});
static GENERATED_10K: LazyLock<Corpus> = LazyLock::new(|| generated(10_000));

fn syntactic(b: Bencher<'_, '_>, c: &Corpus) {
    let label = |p: &Path| p.display().to_string();
    b.counter(ItemsCount::new(c.lines)).bench(|| {
        let a = cap_lint::check_crate(&c.root, Scope::Lib, &INDEX, &label, &|_| false);
        assert_eq!(a.lines, c.lines);
        a.findings.len()
    });
}

fn parse_only(b: Bencher<'_, '_>, c: &Corpus) {
    b.counter(ItemsCount::new(c.lines)).bench(|| {
        c.files
            .iter()
            .map(|f| {
                syn::parse_file(&std::fs::read_to_string(f).unwrap())
                    .unwrap()
                    .items
                    .len()
            })
            .sum::<usize>()
    });
}

mod real_crate {
    use super::{Bencher, REAL};

    #[divan::bench(sample_count = 10)]
    fn syntactic(b: Bencher<'_, '_>) {
        super::syntactic(b, &REAL);
    }

    /// Baseline: read and parse the same files, nothing else.
    #[divan::bench(sample_count = 10)]
    fn parse_only(b: Bencher<'_, '_>) {
        super::parse_only(b, &REAL);
    }
}

/// The lexical pre-filter on a library crate that names few ambient APIs
/// (regex-automata's sources from the registry, ~66k lines; a generated
/// crate if absent), against the same check with the pre-filter off.
mod prefilter {
    use std::path::Path;

    use super::{Bencher, INDEX, ItemsCount, LIBRARY, Scope};

    fn run(b: Bencher<'_, '_>, on: bool) {
        let c = &*LIBRARY;
        let label = |p: &Path| p.display().to_string();
        b.counter(ItemsCount::new(c.lines)).bench(|| {
            let a = cap_lint::check_crate_with(&c.root, Scope::Lib, &INDEX, &label, &|_| false, on);
            assert_eq!(a.lines, c.lines);
            a.findings.len()
        });
    }

    #[divan::bench(sample_count = 10)]
    fn on(b: Bencher<'_, '_>) {
        run(b, true);
    }

    /// Baseline: every file parsed whole and checked.
    #[divan::bench(sample_count = 10)]
    fn off(b: Bencher<'_, '_>) {
        run(b, false);
    }
}

mod generated_100k {
    use super::{Bencher, GENERATED_100K};

    #[divan::bench(sample_count = 10)]
    fn syntactic(b: Bencher<'_, '_>) {
        super::syntactic(b, &GENERATED_100K);
    }

    /// Baseline: read and parse the same files, nothing else.
    #[divan::bench(sample_count = 10)]
    fn parse_only(b: Bencher<'_, '_>) {
        super::parse_only(b, &GENERATED_100K);
    }
}

mod tiers_10k {
    use super::{Bencher, GENERATED_10K, INDEX, ItemsCount};

    #[divan::bench(sample_count = 5)]
    fn plain(b: Bencher<'_, '_>) {
        super::syntactic(b, &GENERATED_10K);
    }

    /// With the per-file cache, one function body edited before each run
    /// (as between two runs of `cargo cap-lint` while working): that file
    /// is parsed and checked again, the others' results are reused.
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn kept_one_body_edited(b: Bencher<'_, '_>) {
        let c = &*GENERATED_10K;
        let cache = tempfile::tempdir().unwrap();
        let edited = c.root.with_file_name("m0.rs");
        let label = |p: &std::path::Path| p.display().to_string();
        let run = || {
            cap_lint::check_crate_cached(
                &c.root,
                cap_lint::finding::Scope::Lib,
                &INDEX,
                &label,
                &|_| false,
                true,
                Some(cache.path()),
            )
            .0
            .findings
            .len()
        };
        let want = run();
        let flip = std::sync::atomic::AtomicBool::new(false);
        b.counter(ItemsCount::new(c.lines))
            .with_inputs(|| {
                let text = std::fs::read_to_string(&edited).unwrap();
                let was = flip.fetch_xor(true, std::sync::atomic::Ordering::Relaxed);
                let (from, to) = if was {
                    ("* 3;", "* 2;")
                } else {
                    ("* 2;", "* 3;")
                };
                std::fs::write(&edited, text.replacen(from, to, 1)).unwrap();
            })
            .bench_values(|()| assert_eq!(run(), want));
    }

    /// `cargo clippy` with the generated configuration; the crate is touched
    /// before each run so clippy checks it again rather than replaying.
    #[divan::bench(sample_count = 3, sample_size = 1)]
    fn precise(b: Bencher<'_, '_>) {
        let c = &*GENERATED_10K;
        let dir = c.root.parent().unwrap().parent().unwrap().to_path_buf();
        b.counter(ItemsCount::new(c.lines))
            .with_inputs(|| {
                let text = std::fs::read_to_string(&c.root).unwrap();
                std::fs::write(&c.root, text).unwrap();
            })
            .bench_values(|()| cap_lint::precise::run(&dir, None, &INDEX).unwrap().len());
    }
}

/// A copy of this workspace (sources only), with clippy's dependencies warm.
struct WorkspaceCopy {
    dir: PathBuf,
    rs_files: Vec<PathBuf>,
    lines: usize,
    _tmp: tempfile::TempDir,
}

fn copy_tree(from: &Path, to: &Path, rs: &mut Vec<PathBuf>) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                copy_tree(&src, &dst, rs);
            }
        } else {
            std::fs::copy(&src, &dst).unwrap();
            if dst.extension().is_some_and(|e| e == "rs") {
                rs.push(dst);
            }
        }
    }
}

static WORKSPACE: LazyLock<WorkspaceCopy> = LazyLock::new(|| {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ambit");
    let mut rs_files = Vec::new();
    copy_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap(),
        &dir,
        &mut rs_files,
    );
    let ws = cap_lint::workspace::Workspace::discover(&dir, None).unwrap();
    let lines = cap_lint::workspace::check_targets(
        &ws.targets,
        &ws.root,
        &INDEX,
        &cap_lint::config::Config::default(),
    )
    .lines;
    // Warm: check the dependencies once, outside the timing.
    cap_lint::precise::run(&dir, None, &INDEX).unwrap();
    WorkspaceCopy {
        dir,
        rs_files,
        lines,
        _tmp: tmp,
    }
});

mod tiers_workspace {
    use super::{Bencher, INDEX, ItemsCount, WORKSPACE};

    #[divan::bench(sample_count = 5)]
    fn plain(b: Bencher<'_, '_>) {
        let w = &*WORKSPACE;
        let ws = cap_lint::workspace::Workspace::discover(&w.dir, None).unwrap();
        let config = cap_lint::config::Config::default();
        b.counter(ItemsCount::new(w.lines)).bench(|| {
            cap_lint::workspace::check_targets(&ws.targets, &ws.root, &INDEX, &config)
                .findings
                .len()
        });
    }

    #[divan::bench(sample_count = 3, sample_size = 1)]
    fn precise(b: Bencher<'_, '_>) {
        let w = &*WORKSPACE;
        b.counter(ItemsCount::new(w.lines))
            .with_inputs(|| {
                for f in &w.rs_files {
                    let text = std::fs::read(f).unwrap();
                    std::fs::write(f, text).unwrap();
                }
            })
            .bench_values(|()| cap_lint::precise::run(&w.dir, None, &INDEX).unwrap().len());
    }
}

/// A package of `modules` modules, each with many glob imports (ten std
/// modules and its two neighbours, so the globs form cycles) and items whose
/// names resolve through them, or through nothing.
fn generate_glob_crate(dir: &Path, modules: usize) -> PathBuf {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut lib = String::new();
    for m in 0..modules {
        let _ = writeln!(lib, "pub mod m{m};");
        let mut body = String::new();
        for s in [
            "fs",
            "io",
            "net",
            "process",
            "env",
            "path",
            "collections",
            "fmt",
            "sync",
            "thread",
        ] {
            let _ = writeln!(body, "use std::{s}::*;");
        }
        let _ = writeln!(
            body,
            "pub use super::m{}::*;\npub use super::m{}::*;\n",
            (m + 1) % modules,
            (m + modules - 1) % modules
        );
        for i in 0..10 {
            let _ = write!(
                body,
                r#"pub fn f{m}_{i}(x: u32) -> u32 {{
    let _ = read("x");
    let y = helper_{i}(unknown_{i}(x));
    let v: Vec<u32> = (0..x).map(|k| k * 2).collect();
    if let Some(z) = v.first() {{ return *z + y; }}
    let _ = f{m}_{i}(x.saturating_sub(1));
    y
}}

"#
            );
        }
        std::fs::write(dir.join(format!("src/m{m}.rs")), body).unwrap();
    }
    let root = dir.join("src/lib.rs");
    std::fs::write(&root, lib).unwrap();
    root
}

mod growth {
    use super::{Bencher, INDEX, ItemsCount, Path, Scope, generate_glob_crate};

    /// 60 modules (about 5.6k lines) times `scale`.
    #[divan::bench(args = [1, 2, 4, 8], sample_count = 5)]
    fn globs(b: Bencher<'_, '_>, scale: usize) {
        let tmp = tempfile::tempdir().unwrap();
        let root = generate_glob_crate(tmp.path(), 60 * scale);
        let label = |p: &Path| p.display().to_string();
        let first = cap_lint::check_crate(&root, Scope::Lib, &INDEX, &label, &|_| false);
        assert!(first.unanalysed.is_empty());
        assert_eq!(first.findings.len(), 600 * scale);
        b.counter(ItemsCount::new(first.lines)).bench(|| {
            cap_lint::check_crate(&root, Scope::Lib, &INDEX, &label, &|_| false)
                .findings
                .len()
        });
    }
}
