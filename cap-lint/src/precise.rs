//! The precise tier: `cargo clippy` with a `clippy.toml` generated from the catalogue.

use std::path::Path;

use crate::Analysis;
use crate::catalogue::Index;
use crate::config::Config;
use crate::finding::Finding;

/// Runs clippy with the generated configuration and returns its findings.
pub fn run(
    _dir: &Path,
    _manifest: Option<&Path>,
    _index: &Index,
    _config: &mut Config,
) -> Result<Vec<Finding>, String> {
    Err("--precise is not built yet".to_owned())
}

/// Merges precise findings into a syntactic analysis.
pub fn merge(_analysis: &mut Analysis, _found: Vec<Finding>, _config: &Config) {}
