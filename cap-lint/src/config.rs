//! Configuration: `cap-lint.toml` at the workspace root, and
//! `[package.metadata.cap-lint]` in a package's `Cargo.toml`.
//!
//! ```toml
//! # Every allow rule needs a reason; the other keys narrow it (all must match).
//! [[allow]]
//! reason = "tests create and remove real files in temporary directories"
//! scopes = ["tests"]            # lib, bins, tests, benches, examples, build
//! categories = ["fs", "env"]    # fs, net, process, env, ffi, escape
//!
//! [[allow]]
//! reason = "reads /proc/self/status to count threads before locking"
//! packages = ["cap-runtime"]
//! files = ["cap-runtime/src/"]  # path prefixes, relative to the workspace root
//! apis = ["std::fs::read_to_string"]
//!
//! # More APIs to flag, with the same fields as the built-in catalogue.
//! [[extra]]
//! path = "my_http::get"
//! kind = "function"             # function, method, trait-method, value
//! category = "net"
//! severity = "high"
//! message = "fetches an arbitrary URL"
//! help = "a pre-opened `cap_core::net` handle passed in"
//!
//! # For `cargo cap-lint --deps`: the categories a dependency may use
//! # (fs, net, process, env, ffi, build, proc-macro).
//! [deps.serde_json]
//! allow = ["build"]
//! reason = "a parser"                # optional
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::catalogue::{Api, Category, Kind, Severity};
use crate::finding::{Finding, Scope};

/// The parsed configuration (the root file and all package tables, merged).
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Allow rules, in order.
    pub allow: Vec<AllowRule>,
    /// Extra catalogue entries.
    pub extra: Vec<Api>,
    /// `[deps.NAME] allow = [...]`: the categories each dependency may use
    /// (`cargo cap-lint --deps` fails when one uses another).
    pub deps: std::collections::BTreeMap<String, Vec<String>>,
}

/// One allow rule: a finding matching every given key is allowed, with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowRule {
    /// Why this is allowed (required, non-empty).
    pub reason: String,
    /// Where the rule was written (`cap-lint.toml`, or a package's `Cargo.toml`).
    pub origin: String,
    /// Categories, or all.
    pub categories: Vec<Category>,
    /// Catalogue paths, or all.
    pub apis: Vec<String>,
    /// Package names, or all.
    pub packages: Vec<String>,
    /// Scopes, or all.
    pub scopes: Vec<Scope>,
    /// File path prefixes (as findings name files), or all.
    pub files: Vec<String>,
}

impl AllowRule {
    /// Whether this rule allows `f`.
    pub fn matches(&self, f: &Finding) -> bool {
        (self.categories.is_empty() || self.categories.contains(&f.category))
            && (self.apis.is_empty() || self.apis.contains(&f.api))
            && (self.packages.is_empty()
                || f.package
                    .as_ref()
                    .is_some_and(|p| self.packages.contains(p)))
            && (self.scopes.is_empty() || self.scopes.contains(&f.scope))
            && (self.files.is_empty()
                || self
                    .files
                    .iter()
                    .any(|prefix| f.file.starts_with(prefix.as_str())))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    allow: Vec<RawAllow>,
    #[serde(default)]
    extra: Vec<RawExtra>,
    #[serde(default)]
    deps: std::collections::BTreeMap<String, RawDepPolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepPolicy {
    allow: Vec<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "documentation for the reader of cap-lint.toml")]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    reason: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    apis: Vec<String>,
    #[serde(default)]
    packages: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    files: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtra {
    path: String,
    #[serde(default = "default_kind")]
    kind: Kind,
    category: String,
    #[serde(default = "default_severity")]
    severity: String,
    message: String,
    help: String,
}

fn default_kind() -> Kind {
    Kind::Function
}

fn default_severity() -> String {
    "high".to_owned()
}

impl Config {
    /// Reads `cap-lint.toml` (a missing file is an empty configuration).
    pub fn load_file(path: &Path) -> Result<Self, String> {
        Self::load_file_as(path, &path.display().to_string())
    }

    /// Reads `cap-lint.toml`, naming it `origin` in reasons and errors.
    pub fn load_file_as(path: &Path, origin: &str) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let raw: RawConfig =
            toml::from_str(&text).map_err(|e| format!("{origin}: {}", e.to_string().trim_end()))?;
        let mut config = Config::default();
        config.add(raw, origin, None)?;
        Ok(config)
    }

    /// Adds a `[package.metadata.cap-lint]` table of package `package`; its
    /// allow rules apply to that package only.
    pub fn add_package_table(
        &mut self,
        package: &str,
        manifest: &str,
        table: &serde_json::Value,
    ) -> Result<(), String> {
        let raw: RawConfig = serde_json::from_value(table.clone())
            .map_err(|e| format!("{manifest}: [package.metadata.cap-lint]: {e}"))?;
        self.add(raw, manifest, Some(package))
    }

    fn add(&mut self, raw: RawConfig, origin: &str, package: Option<&str>) -> Result<(), String> {
        for (name, policy) in raw.deps {
            for c in &policy.allow {
                if !crate::deps::CATEGORIES.contains(&c.as_str()) {
                    return Err(format!(
                        "{origin}: [deps.{name}]: unknown category `{c}` (expected one of {})",
                        crate::deps::CATEGORIES.join(", ")
                    ));
                }
            }
            self.deps.insert(name, policy.allow);
        }
        for (i, a) in raw.allow.into_iter().enumerate() {
            let at = format!("{origin}: allow rule {}", i + 1);
            if a.reason.trim().is_empty() {
                return Err(format!(
                    "{at}: `reason` must say why the authority is needed"
                ));
            }
            let categories = a
                .categories
                .iter()
                .map(|c| {
                    Category::parse(c).ok_or_else(|| {
                        format!(
                            "{at}: unknown category `{c}` (expected fs, net, process, env, ffi or escape)"
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            let scopes = a
                .scopes
                .iter()
                .map(|s| Scope::parse(s).ok_or_else(|| format!("{at}: unknown scope `{s}` (expected lib, bins, tests, benches, examples or build)")))
                .collect::<Result<_, _>>()?;
            let mut packages = a.packages;
            if let Some(p) = package {
                packages = vec![p.to_owned()];
            }
            self.allow.push(AllowRule {
                reason: a.reason,
                origin: origin.to_owned(),
                categories,
                apis: a.apis,
                packages,
                scopes,
                files: a.files,
            });
        }
        for (i, e) in raw.extra.into_iter().enumerate() {
            let at = format!("{origin}: extra entry {} (`{}`)", i + 1, e.path);
            let category = Category::parse(&e.category)
                .ok_or_else(|| format!("{at}: unknown category `{}`", e.category))?;
            let severity = Severity::parse(&e.severity).ok_or_else(|| {
                format!(
                    "{at}: unknown severity `{}` (expected low, medium or high)",
                    e.severity
                )
            })?;
            if !e.path.contains("::") {
                return Err(format!(
                    "{at}: `path` must be a full path such as `my_crate::module::function`"
                ));
            }
            self.extra.push(Api {
                path: e.path,
                kind: e.kind,
                category,
                severity,
                message: e.message,
                help: e.help,
            });
        }
        Ok(())
    }

    /// Marks findings that an allow rule covers (those not already suppressed).
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            if let Some(rule) = self.allow.iter().find(|r| r.matches(f)) {
                f.suppressed = Some(format!("allowed by {}: {}", rule.origin, rule.reason));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Pos, Range, Tier};

    fn finding(file: &str, api: &str, category: Category, package: &str, scope: Scope) -> Finding {
        let pos = Pos { line: 1, column: 1 };
        Finding {
            file: file.into(),
            span: Range {
                start: pos,
                end: pos,
            },
            name_span: None,
            api: api.into(),
            code: category.code().into(),
            category,
            severity: Severity::High,
            message: String::new(),
            help: String::new(),
            tier: Tier::Syntactic,
            scope,
            package: Some(package.into()),
            suppressed: None,
            function: None,
        }
    }

    #[test]
    fn every_key_of_a_rule_must_match() {
        let text = r#"
[[allow]]
reason = "reads /proc before locking"
packages = ["cap-runtime"]
files = ["cap-runtime/src/linux/"]
apis = ["std::fs::read_to_string"]
"#;
        let raw: RawConfig = toml::from_str(text).unwrap();
        let mut c = Config::default();
        c.add(raw, "cap-lint.toml", None).unwrap();
        let mut fs = vec![
            finding(
                "cap-runtime/src/linux/fds.rs",
                "std::fs::read_to_string",
                Category::Fs,
                "cap-runtime",
                Scope::Lib,
            ),
            finding(
                "cap-runtime/src/policy.rs",
                "std::fs::read_to_string",
                Category::Fs,
                "cap-runtime",
                Scope::Lib,
            ),
            finding(
                "cap-runtime/src/linux/fds.rs",
                "std::fs::write",
                Category::Fs,
                "cap-runtime",
                Scope::Lib,
            ),
            finding(
                "cap-runtime/src/linux/fds.rs",
                "std::fs::read_to_string",
                Category::Fs,
                "cap-core",
                Scope::Lib,
            ),
        ];
        c.apply(&mut fs);
        assert_eq!(
            fs[0].suppressed.as_deref(),
            Some("allowed by cap-lint.toml: reads /proc before locking")
        );
        assert!(fs[1..].iter().all(|f| f.suppressed.is_none()), "{fs:?}");
    }

    #[test]
    fn package_tables_apply_to_their_package_only() {
        let table =
            serde_json::json!({ "allow": [{ "reason": "build script", "scopes": ["build"] }] });
        let mut c = Config::default();
        c.add_package_table("demo", "demo/Cargo.toml", &table)
            .unwrap();
        let mut fs = vec![
            finding(
                "build.rs",
                "std::env::var",
                Category::Env,
                "demo",
                Scope::Build,
            ),
            finding(
                "other/build.rs",
                "std::env::var",
                Category::Env,
                "other",
                Scope::Build,
            ),
        ];
        c.apply(&mut fs);
        assert!(fs[0].suppressed.is_some());
        assert!(fs[1].suppressed.is_none());
        let bad = serde_json::json!({ "allow": [{ "reason": "x", "scopes": ["docs"] }] });
        let err = Config::default()
            .add_package_table("demo", "demo/Cargo.toml", &bad)
            .unwrap_err();
        assert!(
            err.contains("demo/Cargo.toml") && err.contains("unknown scope `docs`"),
            "{err}"
        );
    }

    #[test]
    fn extra_entries_are_validated() {
        let raw: RawConfig = toml::from_str(
            "[[extra]]\npath = \"get\"\ncategory = \"net\"\nmessage = \"m\"\nhelp = \"h\"\n",
        )
        .unwrap();
        let err = Config::default()
            .add(raw, "cap-lint.toml", None)
            .unwrap_err();
        assert!(err.contains("full path"), "{err}");
        let raw: RawConfig =
            toml::from_str("[[extra]]\npath = \"a::get\"\ncategory = \"net\"\nseverity = \"huge\"\nmessage = \"m\"\nhelp = \"h\"\n").unwrap();
        let err = Config::default()
            .add(raw, "cap-lint.toml", None)
            .unwrap_err();
        assert!(err.contains("unknown severity `huge`"), "{err}");
    }
}
