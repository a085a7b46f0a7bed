//! The syntactic tier's results per file, kept between runs (`cargo
//! cap-lint` keeps them under the target directory, in `cap-lint/`).
//!
//! A file's entry is reused only while three things hold:
//!
//! - its text is the same (a hash of the bytes and the length);
//! - the crate's *shape* is the same: every module's imports, items,
//!   children and test flag, every file's path and module, which files are
//!   missing, and the renaming imports ([`CrateTree::fingerprint`]); this is
//!   all a file's check learns from the other files' skeletons;
//! - the crate's merged signature facts are the same (struct fields and
//!   return types, [`Facts::fingerprint`]): the rest of what it learns.
//!
//! Anything else the findings depend on is in the salt: cap-lint's version
//! and executable (size and date), the catalogue with its configured
//! extras, the scope, and whether the pre-filter is on. The module tree is
//! still walked every run, from the cached skeletons of unchanged files, so
//! a file added, removed or renamed, or a module file that appears, is seen.
//! A changed file is parsed and checked again; when the shape or the facts
//! changed, the whole crate is checked as if there were no cache.
//!
//! [`CrateTree::fingerprint`]: crate::tree::CrateTree::fingerprint
//! [`Facts::fingerprint`]: crate::check::Facts::fingerprint

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::catalogue::Index;
use crate::check::Facts;
use crate::finding::{Finding, Region, Scope};
use crate::tree::Skeleton;

/// What one run learned about the files of one crate.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct CrateCache {
    /// Set by [`Store::save`].
    pub(crate) salt: u64,
    /// [`crate::tree::CrateTree::fingerprint`] when the entries were made.
    pub(crate) shape: u64,
    /// [`Facts::fingerprint`] of the merged facts when the entries were made.
    pub(crate) facts: u64,
    /// By path, as the tree has it.
    pub(crate) files: HashMap<PathBuf, FileEntry>,
}

/// One file's results.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileEntry {
    /// [`content_hash`] of its text.
    pub(crate) hash: u64,
    pub(crate) skeleton: Skeleton,
    /// The facts its signatures give.
    pub(crate) facts: Facts,
    /// Whether it was checked (false: the pre-filter passed it over).
    pub(crate) checked: bool,
    pub(crate) findings: Vec<Finding>,
    pub(crate) regions: Vec<Region>,
}

/// The hash a file's entry is keyed by.
pub(crate) fn content_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Where one crate's cache lives, and the salt its entries must carry.
pub(crate) struct Store {
    file: PathBuf,
    salt: u64,
}

impl Store {
    /// The cache of the crate rooted at `root`, checked with `scope`,
    /// `index` and the pre-filter on or off, in the directory `dir`.
    pub(crate) fn new(
        dir: &Path,
        root: &Path,
        scope: Scope,
        prefilter: bool,
        index: &Index,
    ) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (root, scope, prefilter).hash(&mut h);
        let file = dir.join(format!("{:016x}.json", h.finish()));
        // The checker's own build: a rebuilt cap-lint must not reuse results.
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| (m.len(), m.modified().ok()))
            .ok();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            env!("CARGO_PKG_VERSION"),
            index.fingerprint(),
            exe,
            scope,
            prefilter,
        )
            .hash(&mut h);
        Store {
            file,
            salt: h.finish(),
        }
    }

    /// The cache, if there is one made with the same salt.
    pub(crate) fn load(&self) -> Option<CrateCache> {
        let bytes = std::fs::read(&self.file).ok()?;
        let cache: CrateCache = serde_json::from_slice(&bytes).ok()?;
        (cache.salt == self.salt).then_some(cache)
    }

    /// Best effort (see [`crate::replace_file`]): a concurrent run reads
    /// either the old cache or the new one.
    pub(crate) fn save(&self, mut cache: CrateCache) {
        cache.salt = self.salt;
        if let Ok(bytes) = serde_json::to_vec(&cache) {
            crate::replace_file(&self.file, &bytes);
        }
    }
}
