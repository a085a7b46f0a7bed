//! A cache of `cargo metadata --no-deps`, which is about half of a warm
//! `cargo cap-lint` on a mid-sized crate (starting cargo and having it read
//! every manifest).
//!
//! The cached output is used only when nothing it could depend on has
//! changed since it was made. Each of these is stamped (modification time,
//! size, or absence) and compared:
//!
//! - `Cargo.toml`, `.cargo/config` and `.cargo/config.toml` in the
//!   directory cargo was run in and in every ancestor (where cargo looks for
//!   the workspace and its configuration);
//! - every package's manifest, the package directory itself (a `build.rs`
//!   added or removed changes it), a member's parent (a member added under
//!   a `members = ["crates/*"]` glob), and the directories cargo discovers
//!   targets in (`src`, `src/bin`, `examples`, `tests`, `benches`) with
//!   their immediate subdirectories (`src/bin/NAME/main.rs`).
//!
//! A directory is stamped by its entries (names, and whether each is a
//! directory), so a target file added, removed or renamed invalidates the
//! cache, and a file saved by renaming a new copy over it does not.
//! The variables cargo reads for the metadata's target directory and its
//! configuration (`CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR`,
//! `CARGO_HOME`) are part of the cache's key, and the configuration in
//! `CARGO_HOME` (`~/.cargo` by default) is stamped too: another target
//! directory is another set of kept results.
//! The stale case this leaves open is a file changed without its time
//! changing (a clock set back, or a tool that restores times): `--no-cache`
//! runs cargo every time.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Where the cache files live: the user's own cache directory
/// (`$XDG_CACHE_HOME/cap-lint/metadata`, else `~/.cache/cap-lint/metadata`),
/// not the shared temporary directory, where another user could plant a
/// cache file (and with it the target directory whose kept results are
/// read). `None` (no caching) when neither variable is set.
fn cache_root() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(xdg) => PathBuf::from(xdg),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".cache"),
    };
    base.is_absolute()
        .then(|| base.join("cap-lint").join("metadata"))
}

/// The variables whose values change what `cargo metadata` says (its
/// target directory, where it finds configuration).
const ENV: [&str; 3] = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "CARGO_HOME"];

/// This process's values of [`ENV`].
fn env() -> Vec<Option<std::ffi::OsString>> {
    ENV.iter().map(std::env::var_os).collect()
}

/// The cache file of one (directory, manifest, cargo, environment) under
/// `root`.
fn cache_file(
    root: &Path,
    dir: &Path,
    manifest: Option<&Path>,
    cargo: &std::ffi::OsStr,
    env: &[Option<std::ffi::OsString>],
) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    manifest.hash(&mut h);
    cargo.hash(&mut h);
    env.hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    root.join(format!("{:016x}.json", h.finish()))
}

/// A file's modification time (seconds, nanoseconds) and size; a
/// directory's `(u64::MAX, 0, hash of its entries)`.
type Stamp = (u64, u32, u64);

/// One input's state: `None` when it does not exist.
fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    if m.is_dir() {
        // A directory by its entries (names and whether each is a
        // directory), not its time: an editor that saves a file by writing
        // a new one and renaming it over the old moves the directory's
        // time, but targets are found by names.
        let mut names: Vec<(std::ffi::OsString, bool)> = std::fs::read_dir(path)
            .ok()?
            .flatten()
            .map(|e| (e.file_name(), e.file_type().is_ok_and(|t| t.is_dir())))
            .collect();
        names.sort();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        names.hash(&mut h);
        return Some((u64::MAX, 0, h.finish()));
    }
    let t = m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((t.as_secs(), t.subsec_nanos(), m.len()))
}

/// Every path whose change could change the metadata of the workspace
/// `json` describes, as run in `dir` with cargo's home `cargo_home`.
fn inputs(dir: &Path, cargo_home: Option<&Path>, json: &serde_json::Value) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let root = json["workspace_root"].as_str().map(Path::new);
    for anc in dir.ancestors() {
        out.insert(anc.join("Cargo.toml"));
        out.insert(anc.join(".cargo/config"));
        out.insert(anc.join(".cargo/config.toml"));
    }
    if let Some(home) = cargo_home {
        out.insert(home.join("config"));
        out.insert(home.join("config.toml"));
    }
    for p in json["packages"].as_array().into_iter().flatten() {
        let Some(manifest) = p["manifest_path"].as_str().map(Path::new) else {
            continue;
        };
        out.insert(manifest.to_path_buf());
        let Some(pkg) = manifest.parent() else {
            continue;
        };
        out.insert(pkg.to_path_buf());
        // A member's parent (where a `members` glob finds new members); the
        // workspace root's own parent is outside the workspace.
        if Some(pkg) != root
            && let Some(parent) = pkg.parent()
        {
            out.insert(parent.to_path_buf());
        }
        for sub in ["src", "src/bin", "examples", "tests", "benches"] {
            let d = pkg.join(sub);
            if let Ok(entries) = std::fs::read_dir(&d) {
                for e in entries.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        out.insert(e.path());
                    }
                }
            }
            out.insert(d);
        }
    }
    out
}

/// What the cache file holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    stamps: Vec<(PathBuf, Option<Stamp>)>,
    metadata: String,
}

/// The metadata for `dir` (and `manifest`): the cached output when every
/// input is unchanged, else `run()`'s, which is then cached. A cache that
/// cannot be read or written is ignored.
pub(crate) fn metadata(
    dir: &Path,
    manifest: Option<&Path>,
    cargo: &std::ffi::OsStr,
    run: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    match cache_root() {
        Some(root) => metadata_in(&root, dir, manifest, cargo, &env(), run),
        None => run(),
    }
}

/// Where cargo keeps its own configuration: `CARGO_HOME`, else `~/.cargo`.
fn cargo_home(env: &[Option<std::ffi::OsString>]) -> Option<PathBuf> {
    env[2]
        .clone()
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// [`metadata`] with its cache files under `root`.
fn metadata_in(
    root: &Path,
    dir: &Path,
    manifest: Option<&Path>,
    cargo: &std::ffi::OsStr,
    env: &[Option<std::ffi::OsString>],
    run: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let manifest = manifest.map(|m| std::path::absolute(m).unwrap_or_else(|_| m.to_path_buf()));
    let file = cache_file(root, &dir, manifest.as_deref(), cargo, env);
    if let Some(hit) = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
        .filter(|e| e.stamps.iter().all(|(p, s)| stamp(p) == *s))
    {
        return Ok(hit.metadata.into_bytes());
    }
    let out = run()?;
    if let (Ok(text), Ok(json)) = (
        String::from_utf8(out.clone()),
        serde_json::from_slice::<serde_json::Value>(&out),
    ) {
        let mut set = inputs(&dir, cargo_home(env).as_deref(), &json);
        if let Some(m) = &manifest {
            set.insert(m.clone());
        }
        let entry = Entry {
            stamps: set
                .into_iter()
                .map(|p| {
                    let s = stamp(&p);
                    (p, s)
                })
                .collect(),
            metadata: text,
        };
        if let Ok(bytes) = serde_json::to_vec(&entry) {
            crate::replace_file(&file, &bytes);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_target_file_or_a_manifest_edit_invalidates_the_cache() {
        let t = tempfile::tempdir().unwrap();
        let pkg = t.path().join("p");
        std::fs::create_dir_all(pkg.join("src")).unwrap();
        std::fs::write(pkg.join("Cargo.toml"), "[package]\nname = \"p\"\n").unwrap();
        std::fs::write(pkg.join("src/main.rs"), "fn main() {}\n").unwrap();
        let json = |n: u32| {
            format!(
                "{{\"packages\":[{{\"manifest_path\":\"{}\",\"n\":{n}}}]}}",
                pkg.join("Cargo.toml").display()
            )
        };
        let cargo = std::ffi::OsStr::new(t.path().as_os_str());
        let runs = std::cell::Cell::new(0);
        // Apart from the package: its parent's entries are an input.
        let cache = tempfile::tempdir().unwrap();
        let root = cache.path().join("metadata");
        let home = t.path().join("cargo-home");
        let env = vec![None, None, Some(home.clone().into_os_string())];
        let get_with = |env: &[Option<std::ffi::OsString>]| {
            metadata_in(&root, &pkg, None, cargo, env, || {
                runs.set(runs.get() + 1);
                Ok(json(runs.get()).into_bytes())
            })
            .unwrap()
        };
        let get = || get_with(&env);
        assert_eq!(get(), json(1).into_bytes());
        assert_eq!(
            get(),
            json(1).into_bytes(),
            "unchanged: served from the cache"
        );
        assert_eq!(runs.get(), 1);
        // A new binary under src/bin: src/bin did not exist.
        std::fs::create_dir(pkg.join("src/bin")).unwrap();
        std::fs::write(pkg.join("src/bin/x.rs"), "fn main() {}\n").unwrap();
        assert_eq!(get(), json(2).into_bytes());
        // A second one in the now-existing src/bin (its mtime moves).
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(pkg.join("src/bin/y.rs"), "fn main() {}\n").unwrap();
        assert_eq!(get(), json(3).into_bytes());
        // A manifest edit.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(pkg.join("Cargo.toml"), "[package]\nname = \"p\"\n[lib]\n").unwrap();
        assert_eq!(get(), json(4).into_bytes());
        // A build script added.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(pkg.join("build.rs"), "fn main() {}\n").unwrap();
        assert_eq!(get(), json(5).into_bytes());
        assert_eq!(get(), json(5).into_bytes());
        assert_eq!(runs.get(), 5);
        // A source saved the way many editors save it (a new file renamed
        // over the old: the directory's time moves, its entries do not).
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(pkg.join("src/main.rs.new"), "fn main() { }\n").unwrap();
        std::fs::rename(pkg.join("src/main.rs.new"), pkg.join("src/main.rs")).unwrap();
        assert_eq!(get(), json(5).into_bytes());
        // A file renamed to a new name is a new entry.
        std::fs::rename(pkg.join("src/bin/y.rs"), pkg.join("src/bin/z.rs")).unwrap();
        assert_eq!(get(), json(6).into_bytes());
        assert_eq!(runs.get(), 6);
        // Another target directory (which is where the results are kept)
        // is another cache entry; the first is still there.
        let elsewhere = vec![Some("/elsewhere".into()), None, env[2].clone()];
        assert_eq!(get_with(&elsewhere), json(7).into_bytes());
        assert_eq!(get_with(&elsewhere), json(7).into_bytes());
        assert_eq!(get(), json(6).into_bytes());
        // Configuration written in cargo's home.
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("config.toml"), "[build]\ntarget-dir = \"t\"\n").unwrap();
        assert_eq!(get(), json(8).into_bytes());
        assert_eq!(runs.get(), 8);
    }
}
