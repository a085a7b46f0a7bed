//! What the checker reports: findings and files it could not analyse.

use crate::catalogue::{Api, Category, Severity};

/// A 1-based line and column (columns count characters, as rustc's do).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Pos {
    pub(crate) fn from_lc(lc: proc_macro2::LineColumn) -> Self {
        Pos {
            line: lc.line,
            column: lc.column + 1,
        }
    }
}

/// A source range: `start` inclusive, `end` exclusive.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Range {
    /// First character.
    pub start: Pos,
    /// One past the last character.
    pub end: Pos,
}

impl Range {
    pub(crate) fn of(span: proc_macro2::Span) -> Self {
        Range {
            start: Pos::from_lc(span.start()),
            end: Pos::from_lc(span.end()),
        }
    }
}

/// Which tier found a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The syntactic checker (this crate).
    Syntactic,
    /// `cargo clippy` with the generated `clippy.toml` (type-resolved).
    Precise,
    /// Both tiers found it.
    Both,
}

impl Tier {
    /// `syntactic`, `precise` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntactic => "syntactic",
            Self::Precise => "precise",
            Self::Both => "both",
        }
    }
}

/// The kind of code a finding is in, for per-scope configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A library target.
    Lib,
    /// A binary target.
    Bins,
    /// Integration tests, and `#[cfg(test)]` / `#[test]` code in any target.
    Tests,
    /// Benchmarks.
    Benches,
    /// Examples.
    Examples,
    /// The build script.
    Build,
}

impl Scope {
    /// The name used in `cap-lint.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lib => "lib",
            Self::Bins => "bins",
            Self::Tests => "tests",
            Self::Benches => "benches",
            Self::Examples => "examples",
            Self::Build => "build",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Lib,
            Self::Bins,
            Self::Tests,
            Self::Benches,
            Self::Examples,
            Self::Build,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// One call that reaches the world by name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// The file, as a path relative to the workspace (or as given).
    pub file: String,
    /// The whole call expression (or path, when a function is used as a value).
    pub span: Range,
    /// The function or method name inside the expression.
    pub name_span: Option<Range>,
    /// The catalogue path of the API, e.g. `std::fs::read`.
    pub api: String,
    /// The lint code, e.g. `ambient::fs`.
    pub code: String,
    /// The category.
    pub category: Category,
    /// The severity.
    pub severity: Severity,
    /// What the call does by name.
    pub message: String,
    /// The capability form to use instead.
    pub help: String,
    /// Which tier found it.
    pub tier: Tier,
    /// The kind of code it is in.
    pub scope: Scope,
    /// The package it belongs to, when known.
    pub package: Option<String>,
    /// Why it is allowed, when it is (suppression attribute, authority root or config).
    pub suppressed: Option<String>,
    /// The function it is in (`name` or `Type::name`), when the call graph
    /// is recorded (`--deps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl Finding {
    /// A finding of `api` at `span` in `file`: the catalogue's code,
    /// category, severity, message and help, no name span, package or
    /// suppression yet (callers set those they know).
    pub fn for_api(api: &Api, file: String, span: Range, tier: Tier, scope: Scope) -> Self {
        Self {
            file,
            span,
            name_span: None,
            api: api.path.clone(),
            code: api.code().to_owned(),
            category: api.category,
            severity: api.severity,
            message: api.message.clone(),
            help: api.help.clone(),
            tier,
            scope,
            package: None,
            suppressed: None,
            function: None,
        }
    }
}

/// A file that was not analysed, with the reason. Never counted as clean.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unanalysed {
    /// The file.
    pub file: String,
    /// Where the parser stopped (0 when unknown).
    pub line: usize,
    /// Column where the parser stopped (0 when unknown).
    pub column: usize,
    /// Why.
    pub error: String,
    /// A declared module's file that does not exist (fails the run only with
    /// `--deny-missing-modules`; unreadable and unparseable files always do).
    #[serde(default)]
    pub missing: bool,
}

/// A stretch of code that is suppressed (with the reason) or is test code:
/// recorded so that findings of the precise tier, which knows neither, get the
/// same treatment as the syntactic tier's.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Region {
    /// The file.
    pub file: String,
    /// The item or statement carrying the attribute.
    pub range: Range,
    /// The suppression reason, if this region is suppressed.
    pub reason: Option<String>,
    /// Whether this is test code (`#[test]`, `#[cfg(test)]`).
    pub test: bool,
}

impl Range {
    /// Whether `pos` lies within this range.
    pub fn contains(&self, pos: Pos) -> bool {
        self.start <= pos && pos < self.end
    }
}
