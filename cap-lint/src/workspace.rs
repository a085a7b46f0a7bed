//! What to check: the targets of a cargo package or workspace (from
//! `cargo metadata`), or explicit files and folders.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Analysis;
use crate::catalogue::Index;
use crate::config::Config;
use crate::finding::Scope;

/// One crate to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The package name (`None` for explicit paths).
    pub package: Option<String>,
    /// The crate root file.
    pub root: PathBuf,
    /// The scope of its code.
    pub scope: Scope,
}

/// A cargo workspace (or single package) as `cargo metadata` describes it.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root directory.
    pub root: PathBuf,
    /// Every target of every member, libraries first.
    pub targets: Vec<Target>,
    /// `[package.metadata.cap-lint]` tables: (package, manifest path, table).
    pub package_tables: Vec<(String, String, serde_json::Value)>,
    /// Each package's directory.
    pub package_dirs: Vec<(String, PathBuf)>,
    /// Cargo's target directory (`target_directory`), where cap-lint keeps
    /// its per-file results (`cap-lint/`).
    pub target_dir: Option<PathBuf>,
}

/// The scope of a cargo target from its `kind` list (`cargo metadata` and
/// clippy's JSON messages spell it the same way).
pub(crate) fn scope_of(kinds: &[serde_json::Value]) -> Scope {
    let has = |k: &str| kinds.iter().any(|v| v == k);
    if has("custom-build") {
        Scope::Build
    } else if has("test") {
        Scope::Tests
    } else if has("bench") {
        Scope::Benches
    } else if has("example") {
        Scope::Examples
    } else if has("bin") {
        Scope::Bins
    } else {
        Scope::Lib
    }
}

fn scope_rank(s: Scope) -> u8 {
    match s {
        Scope::Lib => 0,
        Scope::Bins => 1,
        Scope::Build => 2,
        Scope::Tests => 3,
        Scope::Examples => 4,
        Scope::Benches => 5,
    }
}

impl Workspace {
    /// Runs `cargo metadata --format-version 1 --no-deps` (in `dir`, or for
    /// `manifest`) and collects the targets.
    pub fn discover(dir: &Path, manifest: Option<&Path>) -> Result<Self, String> {
        Self::discover_with(dir, manifest, false)
    }

    /// [`Workspace::discover`], reusing the last `cargo metadata` output for
    /// the same directory when none of the files it depends on changed
    /// (see the `metacache` module for what is compared).
    pub fn discover_cached(dir: &Path, manifest: Option<&Path>) -> Result<Self, String> {
        Self::discover_with(dir, manifest, true)
    }

    fn discover_with(dir: &Path, manifest: Option<&Path>, cached: bool) -> Result<Self, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let run = || cargo_metadata(&cargo, dir, manifest, &["--no-deps"], "");
        let json = if cached {
            crate::metacache::metadata(dir, manifest, &cargo, run)?
        } else {
            run()?
        };
        let mut ws = Self::from_metadata(&json)?;
        // Like cargo: inside a member package (or given its manifest), check
        // that package; at the workspace root, every member.
        let anchor = match manifest {
            Some(m) => std::path::absolute(m)
                .ok()
                .and_then(|m| m.parent().map(Path::to_path_buf)),
            None => std::path::absolute(dir).ok(),
        };
        if let Some(anchor) = anchor {
            let member = ws
                .package_dirs
                .iter()
                .filter(|(_, pdir)| anchor.starts_with(pdir) && *pdir != ws.root)
                .max_by_key(|(_, pdir)| pdir.components().count())
                .map(|(name, _)| name.clone());
            if let Some(member) = member {
                ws.targets
                    .retain(|t| t.package.as_deref() == Some(member.as_str()));
            }
        }
        Ok(ws)
    }

    /// Parses `cargo metadata` JSON.
    pub fn from_metadata(json: &[u8]) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_slice(json)
            .map_err(|e| format!("`cargo metadata` printed invalid JSON: {e}"))?;
        let root = PathBuf::from(
            v["workspace_root"]
                .as_str()
                .ok_or("`cargo metadata`: no workspace_root")?,
        );
        let mut targets = Vec::new();
        let mut package_tables = Vec::new();
        let mut package_dirs = Vec::new();
        for p in v["packages"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            if let Some(dir) = p["manifest_path"]
                .as_str()
                .and_then(|m| Path::new(m).parent())
            {
                package_dirs.push((name.clone(), dir.to_path_buf()));
            }
            if let Some(table) = p["metadata"].get("cap-lint") {
                package_tables.push((
                    name.clone(),
                    p["manifest_path"].as_str().unwrap_or_default().to_owned(),
                    table.clone(),
                ));
            }
            for t in p["targets"].as_array().into_iter().flatten() {
                let Some(src) = t["src_path"].as_str() else {
                    continue;
                };
                let kinds = t["kind"].as_array().cloned().unwrap_or_default();
                targets.push(Target {
                    package: Some(name.clone()),
                    root: PathBuf::from(src),
                    scope: scope_of(&kinds),
                });
            }
        }
        targets.sort_by_key(|t| scope_rank(t.scope));
        Ok(Workspace {
            root,
            targets,
            package_tables,
            package_dirs,
            target_dir: v["target_directory"].as_str().map(PathBuf::from),
        })
    }

    /// The configuration: `cap-lint.toml` at the root (or `config`) plus the
    /// package tables.
    pub fn config(&self, config: Option<&Path>) -> Result<Config, String> {
        let mut c = match config {
            Some(path) => Config::load_file(path)?,
            None => Config::load_file_as(&self.root.join("cap-lint.toml"), "cap-lint.toml")?,
        };
        for (package, manifest, table) in &self.package_tables {
            c.add_package_table(package, manifest, table)?;
        }
        Ok(c)
    }
}

/// Targets for explicit paths: each `.rs` file (folders searched recursively,
/// `target/` and hidden folders skipped) becomes a crate root unless it is
/// reached as a module of an earlier one. Scope is guessed from the path
/// (`tests/`, `benches/`, `examples/`, `build.rs`).
pub fn path_targets(paths: &[PathBuf]) -> Result<Vec<Target>, String> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            collect_rs(p, &mut files).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            files.push(p.clone());
        }
    }
    // Crate roots first, so their modules are reached through them.
    files.sort_by_key(|f| {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (
            !matches!(name, "lib.rs" | "main.rs" | "build.rs"),
            f.components().count(),
            f.clone(),
        )
    });
    files.dedup();
    Ok(files
        .into_iter()
        .map(|root| {
            let text = root.to_string_lossy();
            let scope = if root.file_name().is_some_and(|n| n == "build.rs") {
                Scope::Build
            } else if text.contains("/tests/") || text.starts_with("tests/") {
                Scope::Tests
            } else if text.contains("/benches/") || text.starts_with("benches/") {
                Scope::Benches
            } else if text.contains("/examples/") || text.starts_with("examples/") {
                Scope::Examples
            } else {
                Scope::Lib
            };
            Target {
                package: None,
                root,
                scope,
            }
        })
        .collect())
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect_rs(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks `targets` in order, each file once (a file reached from an
/// earlier target, say a bin that `mod`s a library file, belongs to that
/// target); labels files relative to `base`; applies `config`. Each crate's
/// files are parsed and checked in parallel; targets go in order so that which
/// crate a shared file belongs to does not depend on timing.
pub fn check_targets(targets: &[Target], base: &Path, index: &Index, config: &Config) -> Analysis {
    check_targets_with(targets, base, index, config, true)
}

/// [`check_targets`] with the lexical pre-filter on or off (see
/// [`crate::check_crate_with`]; off when the precise tier's findings will
/// need every file's regions).
pub fn check_targets_with(
    targets: &[Target],
    base: &Path,
    index: &Index,
    config: &Config,
    prefilter: bool,
) -> Analysis {
    check_targets_cached(targets, base, index, config, prefilter, None)
}

/// [`check_targets_with`], keeping each file's results in the directory
/// `cache` and reusing them while the file and the crate's shape are
/// unchanged (see [`crate::check_crate_cached`]).
pub fn check_targets_cached(
    targets: &[Target],
    base: &Path,
    index: &Index,
    config: &Config,
    prefilter: bool,
    cache: Option<&Path>,
) -> Analysis {
    let label = |p: &Path| {
        let rel = p.strip_prefix(base).unwrap_or(p);
        rel.display().to_string()
    };
    let mut seen = HashSet::<PathBuf>::new();
    let mut all = Analysis::default();
    for t in targets {
        let skip = |p: &Path| seen.contains(p);
        let (mut a, files) =
            crate::check_crate_cached(&t.root, t.scope, index, &label, &skip, prefilter, cache);
        seen.extend(files);
        for f in &mut a.findings {
            f.package.clone_from(&t.package);
        }
        all.merge(a);
    }
    config.apply(&mut all.findings);
    all.sort();
    all
}

/// Runs `cargo metadata --format-version 1` with `extra` arguments in `dir`
/// (for `manifest`, if given) and returns what it printed; a failure names
/// the command as run and adds `hint` after the directory.
pub(crate) fn cargo_metadata(
    cargo: &std::ffi::OsStr,
    dir: &Path,
    manifest: Option<&Path>,
    extra: &[&str],
    hint: &str,
) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new(cargo);
    cmd.args(["metadata", "--format-version", "1"])
        .args(extra)
        .current_dir(dir);
    if let Some(m) = manifest {
        cmd.arg("--manifest-path").arg(m);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("could not run `cargo metadata`: {e}"))?;
    if !out.status.success() {
        let shown = if extra.contains(&"--offline") {
            "`cargo metadata --offline`"
        } else {
            "`cargo metadata`"
        };
        return Err(format!(
            "{shown} failed in {}{hint}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    Ok(out.stdout)
}
