//! `--baseline FILE`: report only findings that are not in an earlier run.
//!
//! A baseline is the `--message-format json` output of an earlier run (written
//! by `--write-baseline FILE`). Findings are matched by fingerprint (file, API
//! and the text of the line), so edits elsewhere in a file do not make old
//! findings look new; each baseline entry absorbs one finding.

use std::collections::HashMap;
use std::path::Path;

use crate::Analysis;
use crate::render::{Lines, fingerprint_line};

/// The fingerprints of a baseline file, with multiplicity.
#[derive(Debug, Default)]
pub struct Baseline {
    counts: HashMap<String, usize>,
}

impl Baseline {
    /// Reads a baseline (JSON lines; blank lines ignored).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("baseline {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("baseline {}: {e}", path.display()))
    }

    /// Parses baseline text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut counts = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
            if v["type"] != "finding" {
                continue;
            }
            let fp = v["fingerprint"]
                .as_str()
                .ok_or_else(|| format!("line {}: no `fingerprint`", i + 1))?;
            *counts.entry(fp.to_owned()).or_insert(0) += 1;
        }
        Ok(Baseline { counts })
    }

    /// Removes active findings present in the baseline; returns how many.
    pub fn filter(mut self, analysis: &mut Analysis) -> usize {
        let before = analysis.findings.len();
        let mut lines = Lines::new(&analysis.sources);
        analysis.findings.retain(|f| {
            if f.suppressed.is_some() {
                return true;
            }
            let fp = fingerprint_line(f, lines.start_of(f));
            match self.counts.get_mut(&fp) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        before - analysis.findings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Index;

    #[test]
    fn each_baseline_entry_absorbs_one_finding() {
        let index = Index::builtin();
        let text =
            "fn f() {\n    let _ = std::fs::read(\"a\");\n    let _ = std::fs::read(\"a\");\n}\n";
        let before = crate::check_source("a.rs", text, &index);
        assert_eq!(before.findings.len(), 2);
        // A baseline holding one of two identical lines lets one through.
        let one = crate::render::json_lines(&before, crate::catalogue::Severity::Low, false);
        let first_line = format!("{}\n", one.lines().next().unwrap());
        let mut after = crate::check_source("a.rs", text, &index);
        assert_eq!(Baseline::parse(&first_line).unwrap().filter(&mut after), 1);
        assert_eq!(after.findings.len(), 1);
        let mut all = crate::check_source("a.rs", text, &index);
        assert_eq!(Baseline::parse(&one).unwrap().filter(&mut all), 2);
        assert!(all.findings.is_empty());
        assert!(Baseline::parse("not json").unwrap_err().contains("line 1"));
    }
}
