//! Output: rustc/clippy-style human diagnostics, JSON lines, and SARIF 2.1.0.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::Analysis;
use crate::catalogue::{Category, Index, Severity};
use crate::finding::{Finding, Range, Tier, Unanalysed};

/// The code given to files that could not be analysed.
pub const UNPARSED_CODE: &str = "cap-lint::unparsed";

/// The level a finding is shown at: `error` when it fails the run (at or above
/// `deny`), `warning` otherwise, `allowed` when suppressed.
pub fn level(f: &Finding, deny: Severity) -> &'static str {
    if f.suppressed.is_some() {
        "allowed"
    } else if f.severity >= deny {
        "error"
    } else {
        "warning"
    }
}

/// Each source split into lines once, on first use: a file with many
/// findings was otherwise split again for each of them (quadratic in a
/// large file full of findings).
pub(crate) struct Lines<'a> {
    sources: &'a BTreeMap<String, String>,
    split: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(sources: &'a BTreeMap<String, String>) -> Self {
        Lines {
            sources,
            split: HashMap::new(),
        }
    }

    /// The lines of `file` (none when its source is unknown).
    pub(crate) fn of(&mut self, file: &str) -> &[&'a str] {
        match self.sources.get_key_value(file) {
            Some((k, text)) => self
                .split
                .entry(k.as_str())
                .or_insert_with(|| text.lines().collect()),
            None => &[],
        }
    }

    /// The line a finding starts on, as [`fingerprint`] reads it.
    pub(crate) fn start_of(&mut self, f: &Finding) -> &'a str {
        self.of(&f.file)
            .get(f.span.start.line.saturating_sub(1))
            .copied()
            .unwrap_or("")
    }
}

/// A stable identity of a finding that survives edits elsewhere in the file:
/// file, API and the trimmed text of the line it starts on.
pub fn fingerprint(f: &Finding, source: Option<&str>) -> String {
    let line = source
        .and_then(|s| s.lines().nth(f.span.start.line.saturating_sub(1)))
        .unwrap_or("");
    fingerprint_line(f, line)
}

/// [`fingerprint`], given the line the finding starts on.
pub(crate) fn fingerprint_line(f: &Finding, line: &str) -> String {
    let line = line.trim();
    // FNV-1a, 64 bit: stable across runs and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in f
        .file
        .bytes()
        .chain([0])
        .chain(f.api.bytes())
        .chain([0])
        .chain(line.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Renders findings the way rustc and clippy do.
pub fn human(analysis: &Analysis, deny: Severity, show_suppressed: bool) -> String {
    let mut out = String::new();
    for u in &analysis.unanalysed {
        render_unanalysed(&mut out, u);
    }
    let mut lines = Lines::new(&analysis.sources);
    for f in &analysis.findings {
        if f.suppressed.is_some() && !show_suppressed {
            continue;
        }
        render_finding(&mut out, f, lines.of(&f.file), deny);
    }
    out
}

/// A one-line summary of a run, for the end of the human output.
pub fn summary(analysis: &Analysis) -> String {
    let active: Vec<&Finding> = analysis.active().collect();
    let count = |s: Severity| active.iter().filter(|f| f.severity == s).count();
    let suppressed = analysis.findings.len() - active.len();
    format!(
        "cap-lint: {} finding{} ({} high, {} medium, {} low), {} suppressed, {} file{} not analysed, {} lines checked",
        active.len(),
        if active.len() == 1 { "" } else { "s" },
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        suppressed,
        analysis.unanalysed.len(),
        if analysis.unanalysed.len() == 1 {
            ""
        } else {
            "s"
        },
        analysis.lines
    )
}

fn render_unanalysed(out: &mut String, u: &Unanalysed) {
    let _ = writeln!(out, "error[{UNPARSED_CODE}]: not analysed: {}", u.error);
    if u.line > 0 {
        let _ = writeln!(out, " --> {}:{}:{}", u.file, u.line, u.column);
    } else {
        let _ = writeln!(out, " --> {}", u.file);
    }
    let note = if u.missing {
        "a module whose file is missing is not analysed (it fails the run with --deny-missing-modules)"
    } else {
        "a file that cannot be read or parsed is never reported as clean"
    };
    let _ = writeln!(out, "  = note: {note}\n");
}

fn render_finding(out: &mut String, f: &Finding, lines: &[&str], deny: Severity) {
    let start = f.span.start;
    let name = f.api.rsplit("::").next().unwrap_or(&f.api);
    let _ = writeln!(
        out,
        "{}[{}]: `{}` {}",
        level(f, deny),
        f.code,
        f.api,
        f.message
    );
    let secondary = f.name_span.filter(|n| n.start.line != start.line);
    let max_line = secondary.map_or(start.line, |s| s.start.line.max(start.line));
    let width = max_line.to_string().len();
    let pad = " ".repeat(width);
    let _ = writeln!(out, "{pad}--> {}:{}:{}", f.file, start.line, start.column);
    if let Some(text) = lines.get(start.line.wrapping_sub(1)) {
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{:>width$} | {}", start.line, text);
        // A span over several lines is marked at its start, and says where it ends.
        let (carets, until) = if f.span.end.line == start.line {
            (
                "^".repeat(f.span.end.column.saturating_sub(start.column).max(1)),
                String::new(),
            )
        } else {
            (
                "^".to_owned(),
                format!(" (expression ends on line {})", f.span.end.line),
            )
        };
        let label = format!(
            "`{name}` reaches the {} by name{until}",
            category_noun(f.category)
        );
        let _ = writeln!(
            out,
            "{pad} | {}{} {}",
            " ".repeat(start.column.saturating_sub(1)),
            carets,
            label
        );
        if let (Some(sec), true) = (
            secondary,
            secondary.is_some_and(|s| s.start.line > start.line),
        ) && let Some(sec_text) = lines.get(sec.start.line.wrapping_sub(1))
        {
            if sec.start.line > start.line + 1 {
                let _ = writeln!(out, "{pad}...");
            }
            let _ = writeln!(out, "{:>width$} | {}", sec.start.line, sec_text);
            let dashes = "-".repeat(span_width(sec));
            let _ = writeln!(
                out,
                "{pad} | {}{} `{name}` called here",
                " ".repeat(sec.start.column.saturating_sub(1)),
                dashes
            );
        }
        let _ = writeln!(out, "{pad} |");
    }
    let _ = writeln!(out, "{pad} = help: {}", f.help);
    match f.tier {
        Tier::Syntactic => {}
        Tier::Precise => {
            let _ = writeln!(
                out,
                "{pad} = note: found by the precise tier (cargo clippy)"
            );
        }
        Tier::Both => {
            let _ = writeln!(
                out,
                "{pad} = note: found by both tiers (syntactic and precise)"
            );
        }
    }
    if let Some(reason) = &f.suppressed {
        let _ = writeln!(out, "{pad} = note: {reason}");
    }
    out.push('\n');
}

fn span_width(r: Range) -> usize {
    if r.end.line == r.start.line {
        r.end.column.saturating_sub(r.start.column).max(1)
    } else {
        1
    }
}

fn category_noun(c: Category) -> &'static str {
    match c {
        Category::Fs => "filesystem",
        Category::Net => "network",
        Category::Process => "process table",
        Category::Env => "process environment",
        Category::Ffi => "operating system",
        Category::Escape => "world from inside the sandbox",
    }
}

#[derive(serde::Serialize)]
struct JsonEnd {
    line: usize,
    column: usize,
}

#[derive(serde::Serialize)]
struct JsonName {
    line: usize,
    column: usize,
    end: JsonEnd,
}

/// The `--message-format json` object of a finding, fields in reading order.
#[derive(serde::Serialize)]
struct JsonFinding<'a> {
    r#type: &'static str,
    file: &'a str,
    line: usize,
    column: usize,
    end: JsonEnd,
    code: &'a str,
    category: Category,
    severity: Severity,
    level: &'static str,
    api: &'a str,
    message: &'a str,
    help: &'a str,
    name: Option<JsonName>,
    tier: Tier,
    scope: crate::finding::Scope,
    package: Option<&'a str>,
    suppressed: Option<&'a str>,
    fingerprint: String,
}

#[derive(serde::Serialize)]
struct JsonUnanalysed<'a> {
    r#type: &'static str,
    file: &'a str,
    line: usize,
    column: usize,
    code: &'static str,
    severity: &'static str,
    level: &'static str,
    message: &'a str,
    /// A declared module's file that does not exist.
    missing: bool,
}

fn json_record<'a>(f: &'a Finding, start_line: &str, deny: Severity) -> JsonFinding<'a> {
    JsonFinding {
        r#type: "finding",
        file: &f.file,
        line: f.span.start.line,
        column: f.span.start.column,
        end: JsonEnd {
            line: f.span.end.line,
            column: f.span.end.column,
        },
        code: &f.code,
        category: f.category,
        severity: f.severity,
        level: level(f, deny),
        api: &f.api,
        message: &f.message,
        help: &f.help,
        name: f.name_span.map(|n| JsonName {
            line: n.start.line,
            column: n.start.column,
            end: JsonEnd {
                line: n.end.line,
                column: n.end.column,
            },
        }),
        tier: f.tier,
        scope: f.scope,
        package: f.package.as_deref(),
        suppressed: f.suppressed.as_deref(),
        fingerprint: fingerprint_line(f, start_line),
    }
}

/// One JSON object for a finding (the `--message-format json` line).
pub fn json_finding(f: &Finding, source: Option<&str>, deny: Severity) -> Value {
    let line = source
        .and_then(|s| s.lines().nth(f.span.start.line.saturating_sub(1)))
        .unwrap_or("");
    serde_json::to_value(json_record(f, line, deny)).unwrap_or(Value::Null)
}

/// `--message-format json`: one object per line, files not analysed first.
pub fn json_lines(analysis: &Analysis, deny: Severity, show_suppressed: bool) -> String {
    let mut out = String::new();
    for u in &analysis.unanalysed {
        let v = JsonUnanalysed {
            r#type: "unanalysed",
            file: &u.file,
            line: u.line,
            column: u.column,
            code: UNPARSED_CODE,
            severity: "high",
            level: "error",
            message: &u.error,
            missing: u.missing,
        };
        let _ = writeln!(out, "{}", serde_json::to_string(&v).unwrap_or_default());
    }
    let mut lines = Lines::new(&analysis.sources);
    for f in &analysis.findings {
        if f.suppressed.is_some() && !show_suppressed {
            continue;
        }
        let record = json_record(f, lines.start_of(f), deny);
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string(&record).unwrap_or_default()
        );
    }
    out
}

fn sarif_level(f: &Finding, deny: Severity) -> &'static str {
    match level(f, deny) {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

/// `--message-format sarif`: a SARIF 2.1.0 log with one rule per lint code.
pub fn sarif(analysis: &Analysis, index: &Index, deny: Severity) -> Value {
    let rules: Vec<Value> = Category::ALL
        .iter()
        .map(|c| {
            let count = index.apis().iter().filter(|a| a.category == *c).count();
            json!({
                "id": c.code(),
                "name": format!("Ambient{}", capitalise(c.as_str())),
                "shortDescription": { "text": format!("ambient {} authority: a call that reaches the {} by name", c.as_str(), category_noun(*c)) },
                "fullDescription": { "text": format!("One of {count} catalogued APIs that use ambient {} authority; move the call to a capability handle passed in.", c.as_str()) },
                "defaultConfiguration": { "level": "error" },
                "properties": { "category": c.as_str() },
            })
        })
        .collect();
    let mut results: Vec<Value> = analysis
        .unanalysed
        .iter()
        .map(|u| {
            json!({
                "ruleId": UNPARSED_CODE,
                "level": "error",
                "message": { "text": format!("not analysed: {}", u.error) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": u.file },
                    "region": { "startLine": u.line.max(1), "startColumn": u.column.max(1) },
                }}],
            })
        })
        .collect();
    let mut lines = Lines::new(&analysis.sources);
    for f in &analysis.findings {
        let mut result = json!({
            "ruleId": f.code,
            "ruleIndex": Category::ALL.iter().position(|c| *c == f.category),
            "level": sarif_level(f, deny),
            "message": { "text": format!("`{}` {}; {}", f.api, f.message, f.help) },
            "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": f.file },
                "region": {
                    "startLine": f.span.start.line, "startColumn": f.span.start.column,
                    "endLine": f.span.end.line, "endColumn": f.span.end.column,
                },
            }}],
            "partialFingerprints": { "capLint/v1": fingerprint_line(f, lines.start_of(f)) },
            "properties": { "api": f.api, "severity": f.severity, "tier": f.tier, "scope": f.scope },
        });
        if let Some(reason) = &f.suppressed {
            result["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
        }
        results.push(result);
    }
    let mut rules = rules;
    rules.push(json!({
        "id": UNPARSED_CODE,
        "shortDescription": { "text": "a file that could not be parsed, so was not analysed" },
        "defaultConfiguration": { "level": "error" },
    }));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cap-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/ambit/book/cap-lint.html",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `--list`: the catalogue as a table.
pub fn catalogue_table(index: &Index) -> String {
    let mut out = String::new();
    let width = index.apis().iter().map(|a| a.path.len()).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "{:<width$}  {:<16}  {:<6}  {:<12}  message / use instead",
        "api", "code", "sev", "kind"
    );
    let mut apis: Vec<_> = index.apis().iter().collect();
    apis.sort_by(|a, b| (a.category, &a.path).cmp(&(b.category, &b.path)));
    for a in apis {
        let kind = match a.kind {
            crate::catalogue::Kind::Function => "function",
            crate::catalogue::Kind::Method => "method",
            crate::catalogue::Kind::TraitMethod => "trait-method",
            crate::catalogue::Kind::Value => "value",
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<16}  {:<6}  {:<12}  {}; {}",
            a.path,
            a.code(),
            a.severity.as_str(),
            kind,
            a.message,
            a.help
        );
    }
    out
}
