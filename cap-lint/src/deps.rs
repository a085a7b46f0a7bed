//! `cargo cap-lint --deps`: the dependency tree audited.
//!
//! For every crate in the resolved graph (`cargo metadata --offline`, sources
//! from the local registry), which ambient-authority categories its library
//! code uses (`fs`, `net`, `process`, `env`, `ffi`, found by the same
//! syntactic checker and catalogue), whether it has a build script (`build`)
//! or is a procedural macro (`proc-macro`), and the shortest call path from
//! the workspace's own functions to each use.
//!
//! The call graph is syntactic and at function granularity: a call names a
//! function by its resolved path (`dep::module::f` → every function `f` of
//! `dep`), a local call by name, and a method call by name only (every method
//! of that name in the calling crate and its direct dependencies). So a path
//! shown is a plausible chain of calls, not a proof: trait dispatch, closures
//! passed around and macro-generated code are followed only by name or not at
//! all, and every file of a crate is read whatever its `cfg`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::catalogue::Index;
use crate::finding::Scope;
use crate::{Callee, Graph};

/// The categories a dependency can be given in `[deps.NAME] allow = [...]`.
pub const CATEGORIES: &[&str] = &["fs", "net", "process", "env", "ffi", "build", "proc-macro"];

/// One use of a category by a dependency: the first (or the nearest to the
/// workspace) call that shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Use {
    /// The category.
    pub category: String,
    /// The catalogue API called (or `build.rs` / `proc-macro`).
    pub api: String,
    /// Where, as `file:line` (relative to the crate's directory).
    pub at: String,
    /// The shortest call path from the workspace's code (`crate::fn` steps,
    /// ending at the API), if the syntactic call graph reaches it.
    pub path: Option<Vec<String>>,
}

/// One dependency's audit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DepReport {
    /// The package name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// `registry`, `path` or `git`.
    pub source: String,
    /// The categories it uses.
    pub categories: BTreeSet<String>,
    /// One use per category.
    pub uses: Vec<Use>,
    /// Lines of library code read.
    pub lines: usize,
    /// Files that could not be analysed.
    pub unanalysed: usize,
    /// The crate directory.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The whole audit.
#[derive(Debug, Default)]
pub struct Audit {
    /// Every dependency, by name then version.
    pub crates: Vec<DepReport>,
    /// Lines read (dependencies and workspace).
    pub lines: usize,
}

struct Package {
    name: String,
    version: String,
    source: String,
    dir: PathBuf,
    lib: Option<(PathBuf, bool)>,
    build: bool,
    member: bool,
    /// Extern-crate name → package index.
    deps: HashMap<String, usize>,
    roots: Vec<PathBuf>,
}

fn host_triple() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
}

fn metadata(dir: &Path, manifest: Option<&Path>) -> Result<Value, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut extra = vec!["--offline"];
    let triple = host_triple();
    if let Some(triple) = &triple {
        extra.extend(["--filter-platform", triple.as_str()]);
    }
    let out = crate::workspace::cargo_metadata(
        &cargo,
        dir,
        manifest,
        &extra,
        " (run `cargo fetch` first)",
    )?;
    serde_json::from_slice(&out).map_err(|e| format!("`cargo metadata` printed invalid JSON: {e}"))
}

fn packages(meta: &Value) -> Vec<Package> {
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut ids = HashMap::new();
    let mut out = Vec::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        let id = p["id"].as_str().unwrap_or_default();
        let dir = p["manifest_path"]
            .as_str()
            .and_then(|m| Path::new(m).parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let source = match p["source"].as_str() {
            None => "path",
            Some(s) if s.starts_with("git+") => "git",
            Some(_) => "registry",
        };
        let mut lib = None;
        let mut build = false;
        let mut roots = Vec::new();
        for t in p["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = t["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let src = PathBuf::from(t["src_path"].as_str().unwrap_or_default());
            if kinds.contains(&"custom-build") {
                build = true;
            } else if kinds.contains(&"proc-macro") {
                lib = Some((src.clone(), true));
                roots.push(src);
            } else if kinds
                .iter()
                .any(|k| ["lib", "rlib", "dylib", "cdylib", "staticlib"].contains(k))
            {
                lib = Some((src.clone(), false));
                roots.push(src);
            } else if kinds.contains(&"bin") {
                roots.push(src);
            }
        }
        ids.insert(id.to_owned(), out.len());
        out.push(Package {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            version: p["version"].as_str().unwrap_or_default().to_owned(),
            source: source.to_owned(),
            dir,
            lib,
            build,
            member: members.contains(id),
            deps: HashMap::new(),
            roots,
        });
    }
    for node in meta["resolve"]["nodes"].as_array().into_iter().flatten() {
        let Some(&me) = node["id"].as_str().and_then(|id| ids.get(id)) else {
            continue;
        };
        for d in node["deps"].as_array().into_iter().flatten() {
            if let (Some(name), Some(&pkg)) = (
                d["name"].as_str(),
                d["pkg"].as_str().and_then(|id| ids.get(id)),
            ) {
                out[me].deps.insert(name.to_owned(), pkg);
            }
        }
    }
    out
}

/// The packages reachable from the workspace members in the resolved graph.
fn reachable(pkgs: &[Package]) -> Vec<bool> {
    let mut seen = vec![false; pkgs.len()];
    let mut queue: VecDeque<usize> = (0..pkgs.len()).filter(|&i| pkgs[i].member).collect();
    for &i in &queue {
        seen[i] = true;
    }
    while let Some(i) = queue.pop_front() {
        for &d in pkgs[i].deps.values() {
            if !seen[d] {
                seen[d] = true;
                queue.push_back(d);
            }
        }
    }
    seen
}

/// A use found in a dependency: (category, api, `file:line`, function).
type Found = (String, String, String, String);

/// A function node: (package, function name as the graph records it).
type Node = (usize, String);

struct CallGraph {
    /// Per package: caller → callees.
    edges: Vec<HashMap<String, Vec<Callee>>>,
    /// Per package: last name → functions with that last name.
    by_name: Vec<HashMap<String, Vec<String>>>,
}

impl CallGraph {
    fn add(&mut self, pkg: usize, g: Graph) {
        for f in g.functions {
            let last = f.rsplit("::").next().unwrap_or(&f).to_owned();
            let names = self.by_name[pkg].entry(last).or_default();
            if !names.contains(&f) {
                names.push(f);
            }
        }
        for (caller, callee) in g.edges {
            self.edges[pkg].entry(caller).or_default().push(callee);
        }
    }

    fn named(&self, pkg: usize, last: &str) -> &[String] {
        self.by_name[pkg].get(last).map_or(&[], Vec::as_slice)
    }

    /// The functions a call may reach.
    fn targets(&self, pkgs: &[Package], pkg: usize, callee: &Callee) -> Vec<Node> {
        match callee {
            Callee::Local(name) => self
                .named(pkg, name)
                .iter()
                .map(|f| (pkg, f.clone()))
                .collect(),
            Callee::Extern(path) => {
                let segs: Vec<&str> = path.split("::").collect();
                let Some(&q) = pkgs[pkg].deps.get(segs[0]) else {
                    return Vec::new();
                };
                let last = segs[segs.len() - 1];
                let all = self.named(q, last);
                // `Type::f` when the path names a type, else any `f`.
                let typed: Vec<&String> = if segs.len() >= 2 {
                    let owner = segs[segs.len() - 2];
                    all.iter()
                        .filter(|f| f.as_str() == format!("{owner}::{last}"))
                        .collect()
                } else {
                    Vec::new()
                };
                if typed.is_empty() {
                    all.iter().map(|f| (q, f.clone())).collect()
                } else {
                    typed.into_iter().map(|f| (q, f.clone())).collect()
                }
            }
            Callee::Method(name) => std::iter::once(pkg)
                .chain(pkgs[pkg].deps.values().copied())
                .flat_map(|q| {
                    self.named(q, name)
                        .iter()
                        .filter(|f| f.contains("::"))
                        .map(move |f| (q, f.clone()))
                })
                .collect(),
        }
    }
}

/// What the audit keeps of one registry crate: its lines, files not
/// analysed, uses and call graph.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    lines: usize,
    unanalysed: usize,
    uses: Vec<Found>,
    edges: Vec<(String, Callee)>,
    functions: Vec<String>,
}

/// Results per registry crate version under `target/cap-lint-deps/`:
/// registry crates are immutable, so name + version + the checksum in
/// `Cargo.lock` (+ cap-lint's version and catalogue) name one result.
struct Cache {
    dir: PathBuf,
    checksums: HashMap<(String, String), String>,
    salt: u64,
}

impl Cache {
    fn new(meta: &Value, index: &Index) -> Option<Self> {
        let target = PathBuf::from(meta["target_directory"].as_str()?);
        let root = PathBuf::from(meta["workspace_root"].as_str()?);
        let lock: toml::Table = std::fs::read_to_string(root.join("Cargo.lock"))
            .ok()?
            .parse()
            .ok()?;
        let mut checksums = HashMap::new();
        for p in lock.get("package")?.as_array()? {
            if let (Some(n), Some(v), Some(c)) = (
                p.get("name").and_then(toml::Value::as_str),
                p.get("version").and_then(toml::Value::as_str),
                p.get("checksum").and_then(toml::Value::as_str),
            ) {
                checksums.insert((n.to_owned(), v.to_owned()), c.to_owned());
            }
        }
        // The checker's own build: a rebuilt cap-lint must not reuse results.
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| (m.len(), m.modified().ok()))
            .ok();
        let salt = {
            use std::hash::{Hash as _, Hasher as _};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (env!("CARGO_PKG_VERSION"), index.fingerprint(), exe).hash(&mut h);
            h.finish()
        };
        Some(Cache {
            dir: target.join("cap-lint-deps"),
            checksums,
            salt,
        })
    }

    /// The cache file of a registry package, if it has a checksum.
    fn key(&self, p: &Package) -> Option<PathBuf> {
        if p.source != "registry" {
            return None;
        }
        let sum = self.checksums.get(&(p.name.clone(), p.version.clone()))?;
        let short = sum.get(..16)?;
        Some(self.dir.join(format!(
            "{}-{}-{short}-{:016x}.json",
            p.name, p.version, self.salt
        )))
    }

    fn load(path: &Path) -> Option<Cached> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Best effort: a cache that cannot be written only costs time.
    fn store(path: &Path, entry: &Cached) {
        if let Ok(bytes) = serde_json::to_vec(entry) {
            crate::replace_file(path, &bytes);
        }
    }
}

/// Runs the audit of the workspace at `dir` (or `manifest`).
pub fn audit(dir: &Path, manifest: Option<&Path>, index: &Index) -> Result<Audit, String> {
    let meta = metadata(dir, manifest)?;
    let pkgs = packages(&meta);
    let live = reachable(&pkgs);
    let mut graph = CallGraph {
        edges: vec![HashMap::new(); pkgs.len()],
        by_name: vec![HashMap::new(); pkgs.len()],
    };
    let mut audit = Audit::default();
    // (package, category) → (api, file:line, function) of each use.
    let mut uses: Vec<Vec<Found>> = vec![Vec::new(); pkgs.len()];
    let mut reports: Vec<Option<DepReport>> = (0..pkgs.len()).map(|_| None).collect();
    let cache = Cache::new(&meta, index);
    for (i, p) in pkgs.iter().enumerate() {
        if !live[i] {
            continue;
        }
        let label = |f: &Path| f.strip_prefix(&p.dir).unwrap_or(f).display().to_string();
        if p.member {
            // The workspace's own code: only its call graph is needed.
            for root in &p.roots {
                let (a, g) = crate::check_crate_graph(root, Scope::Lib, index, &label);
                audit.lines += a.lines;
                graph.add(i, g);
            }
            continue;
        }
        let mut report = DepReport {
            name: p.name.clone(),
            version: p.version.clone(),
            source: p.source.clone(),
            categories: BTreeSet::new(),
            uses: Vec::new(),
            lines: 0,
            unanalysed: 0,
            dir: p.dir.clone(),
        };
        if p.build {
            report.categories.insert("build".to_owned());
            report.uses.push(Use {
                category: "build".to_owned(),
                api: "build.rs".to_owned(),
                at: "build.rs".to_owned(),
                path: None,
            });
        }
        if let Some((root, proc_macro)) = &p.lib {
            if *proc_macro {
                // Runs inside the compiler, not in the program: not read.
                report.categories.insert("proc-macro".to_owned());
                report.uses.push(Use {
                    category: "proc-macro".to_owned(),
                    api: "proc-macro".to_owned(),
                    at: label(root),
                    path: None,
                });
            } else {
                let key = cache.as_ref().and_then(|c| c.key(p));
                let cached = key.as_ref().and_then(|k| Cache::load(k));
                let entry = cached.unwrap_or_else(|| {
                    let (a, g) = crate::check_crate_graph(root, Scope::Lib, index, &label);
                    let entry = Cached {
                        lines: a.lines,
                        unanalysed: a.unanalysed.iter().filter(|u| !u.missing).count(),
                        uses: a
                            .findings
                            .iter()
                            .filter(|f| f.scope != Scope::Tests)
                            .map(|f| {
                                (
                                    f.category.as_str().to_owned(),
                                    f.api.clone(),
                                    format!("{}:{}", f.file, f.span.start.line),
                                    f.function.clone().unwrap_or_else(|| "<top>".to_owned()),
                                )
                            })
                            .collect(),
                        edges: g.edges,
                        functions: g.functions,
                    };
                    if let Some(k) = &key {
                        Cache::store(k, &entry);
                    }
                    entry
                });
                report.lines = entry.lines;
                report.unanalysed = entry.unanalysed;
                audit.lines += entry.lines;
                let mut g = Graph::default();
                g.edges = entry.edges;
                g.functions = entry.functions;
                graph.add(i, g);
                for u in entry.uses {
                    report.categories.insert(u.0.clone());
                    uses[i].push(u);
                }
            }
        }
        reports[i] = Some(report);
    }
    let (dist, parent) = shortest(&pkgs, &graph);
    for (i, report) in reports.iter_mut().enumerate() {
        let Some(report) = report else { continue };
        let mut best: BTreeMap<&str, (usize, &Found)> = BTreeMap::new();
        for u in &uses[i] {
            let d = dist.get(&(i, u.3.clone())).copied().unwrap_or(usize::MAX);
            let e = best.entry(u.0.as_str()).or_insert((d, u));
            if d < e.0 {
                *e = (d, u);
            }
        }
        for (category, (d, u)) in best {
            let path = (d != usize::MAX).then(|| {
                let mut steps = vec![format!("{}", u.1)];
                let mut node = (i, u.3.clone());
                loop {
                    steps.push(format!(
                        "{}::{}",
                        pkgs[node.0].name.replace('-', "_"),
                        node.1
                    ));
                    match parent.get(&node) {
                        Some(prev) => node = prev.clone(),
                        None => break,
                    }
                }
                steps.reverse();
                steps
            });
            report.uses.push(Use {
                category: category.to_owned(),
                api: u.1.clone(),
                at: u.2.clone(),
                path,
            });
        }
        report.uses.sort_by_key(|u| category_rank(&u.category));
    }
    audit.crates = reports.into_iter().flatten().collect();
    audit
        .crates
        .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(audit)
}

fn category_rank(c: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|x| *x == c)
        .unwrap_or(usize::MAX)
}

/// Breadth-first from every function of the workspace's packages.
fn shortest(pkgs: &[Package], graph: &CallGraph) -> (HashMap<Node, usize>, HashMap<Node, Node>) {
    let mut dist: HashMap<Node, usize> = HashMap::new();
    let mut parent: HashMap<Node, Node> = HashMap::new();
    let mut queue = VecDeque::new();
    for (i, p) in pkgs.iter().enumerate() {
        if !p.member {
            continue;
        }
        let mut roots: Vec<&String> = graph.by_name[i].values().flatten().collect();
        roots.sort();
        for f in roots {
            let node = (i, f.clone());
            if dist.insert(node.clone(), 0).is_none() {
                queue.push_back(node);
            }
        }
        // Code outside any function (statics, consts) is a root too.
        let top = (i, "<top>".to_owned());
        if dist.insert(top.clone(), 0).is_none() {
            queue.push_back(top);
        }
    }
    while let Some(node) = queue.pop_front() {
        let d = dist[&node];
        let Some(callees) = graph.edges[node.0].get(&node.1) else {
            continue;
        };
        for callee in callees {
            for next in graph.targets(pkgs, node.0, callee) {
                if !dist.contains_key(&next) {
                    dist.insert(next.clone(), d + 1);
                    parent.insert(next.clone(), node.clone());
                    queue.push_back(next);
                }
            }
        }
    }
    (dist, parent)
}

/// A policy violation: a dependency uses a category its `[deps.NAME]` does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The crate.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The categories used but not allowed.
    pub categories: Vec<String>,
}

/// Checks the audit against `[deps.NAME] allow = [...]` (crates without a
/// policy are not checked).
pub fn violations(audit: &Audit, policy: &BTreeMap<String, Vec<String>>) -> Vec<Violation> {
    audit
        .crates
        .iter()
        .filter_map(|c| {
            let allow = policy.get(&c.name)?;
            let extra: Vec<String> = c
                .categories
                .iter()
                .filter(|k| !allow.contains(k))
                .cloned()
                .collect();
            (!extra.is_empty()).then(|| Violation {
                name: c.name.clone(),
                version: c.version.clone(),
                categories: extra,
            })
        })
        .collect()
}

/// What changed against a baseline (an earlier `--deps --message-format json`):
/// one sentence per crate that gained a category.
pub fn diff(audit: &Audit, baseline: &str) -> Result<Vec<String>, String> {
    let mut base: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for (n, line) in baseline.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("line {}: not a --deps JSON line: {e}", n + 1))?;
        if v["type"] != "dependency" {
            continue;
        }
        let name = v["name"].as_str().unwrap_or_default().to_owned();
        let version = v["version"].as_str().unwrap_or_default().to_owned();
        let cats: BTreeSet<String> = v["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let e = base.entry(name).or_insert((version, BTreeSet::new()));
        e.1.extend(cats);
    }
    let mut current: BTreeMap<&str, (&str, BTreeSet<&String>)> = BTreeMap::new();
    for c in &audit.crates {
        let e = current
            .entry(c.name.as_str())
            .or_insert((c.version.as_str(), BTreeSet::new()));
        e.0 = c.version.as_str();
        e.1.extend(c.categories.iter());
    }
    let mut out = Vec::new();
    for (name, (version, cats)) in current {
        match base.get(name) {
            Some((old, old_cats)) => {
                let gained: Vec<&str> = cats
                    .iter()
                    .filter(|c| !old_cats.contains(**c))
                    .map(|c| c.as_str())
                    .collect();
                if gained.is_empty() {
                    continue;
                }
                if old == version {
                    out.push(format!("{name} {version} now uses {}", gained.join(", ")));
                } else {
                    out.push(format!(
                        "upgrading {name} from {old} to {version} added {}",
                        gained.join(", ")
                    ));
                }
            }
            None if !cats.is_empty() => {
                let all: Vec<&str> = cats.iter().map(|c| c.as_str()).collect();
                out.push(format!(
                    "new dependency {name} {version} uses {}",
                    all.join(", ")
                ));
            }
            None => {}
        }
    }
    Ok(out)
}

/// The audit as a table.
pub fn table(audit: &Audit) -> String {
    let mut out = String::new();
    let w = audit
        .crates
        .iter()
        .map(|c| c.name.len() + c.version.len() + 1)
        .max()
        .unwrap_or(10)
        .max(7);
    let _ = writeln!(
        out,
        "{:<w$}  {:<26}  shortest call path from the workspace",
        "crate", "categories"
    );
    for c in &audit.crates {
        let cats: Vec<&str> = c.categories.iter().map(String::as_str).collect();
        let cats = if cats.is_empty() {
            "-".to_owned()
        } else {
            cats.join(", ")
        };
        let name = format!("{} {}", c.name, c.version);
        let mut first = true;
        let mut lines = Vec::new();
        for u in &c.uses {
            let how = match &u.path {
                Some(p) => p.join(" -> "),
                None if u.category == "build" || u.category == "proc-macro" => {
                    "runs at build time".to_owned()
                }
                None => format!("{} at {} (not reached by the call graph)", u.api, u.at),
            };
            lines.push(format!("{}: {how}", u.category));
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        for l in lines {
            if first {
                let _ = writeln!(out, "{name:<w$}  {cats:<26}  {l}");
                first = false;
            } else {
                let _ = writeln!(out, "{:<w$}  {:<26}  {l}", "", "");
            }
        }
    }
    out
}

/// One JSON object per line, one line per crate.
pub fn json_lines(audit: &Audit) -> String {
    let mut out = String::new();
    for c in &audit.crates {
        let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
        v["type"] = "dependency".into();
        let _ = writeln!(out, "{v}");
    }
    out
}

/// The audit as a SARIF 2.1.0 log: one result per crate and category.
pub fn sarif(audit: &Audit) -> Value {
    let rules: Vec<Value> = CATEGORIES
        .iter()
        .map(|c| {
            json!({
                "id": format!("ambient-dep::{c}"),
                "shortDescription": { "text": format!("a dependency uses ambient {c} authority") },
            })
        })
        .collect();
    let mut results = Vec::new();
    for c in &audit.crates {
        for u in &c.uses {
            let (file, line) =
                u.at.rsplit_once(':')
                    .map_or((u.at.as_str(), 1), |(f, l)| (f, l.parse().unwrap_or(1)));
            let path = u.path.as_ref().map_or_else(
                || "not reached by the call graph".to_owned(),
                |p| p.join(" -> "),
            );
            results.push(json!({
                "ruleId": format!("ambient-dep::{}", u.category),
                "level": "note",
                "message": { "text": format!("{} {} uses {} ({}): {path}", c.name, c.version, u.category, u.api) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": c.dir.join(file).display().to_string() },
                    "region": { "startLine": line },
                }}],
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "cargo-cap-lint --deps", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    })
}

#[cfg(test)]
mod cache_tests {
    use super::{Cache, Cached, Package};
    use crate::Callee;
    use std::collections::HashMap;
    use std::path::PathBuf;

    fn package(name: &str, source: &str) -> Package {
        Package {
            name: name.to_owned(),
            version: "1.2.3".to_owned(),
            source: source.to_owned(),
            dir: PathBuf::new(),
            lib: None,
            build: false,
            member: false,
            deps: HashMap::new(),
            roots: Vec::new(),
        }
    }

    #[test]
    fn registry_crates_are_cached_by_name_version_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let mut checksums = HashMap::new();
        checksums.insert(
            ("reg".to_owned(), "1.2.3".to_owned()),
            "0123456789abcdef0123".to_owned(),
        );
        let cache = Cache {
            dir: dir.path().join("cap-lint-deps"),
            checksums,
            salt: 7,
        };
        // Path and git packages can change without a version bump: never cached.
        assert!(cache.key(&package("reg", "path")).is_none());
        assert!(cache.key(&package("unlocked", "registry")).is_none());
        let key = cache.key(&package("reg", "registry")).unwrap();
        assert!(key.ends_with("reg-1.2.3-0123456789abcdef-0000000000000007.json"));
        assert!(Cache::load(&key).is_none());
        let entry = Cached {
            lines: 42,
            unanalysed: 1,
            uses: vec![(
                "fs".to_owned(),
                "std::fs::read".to_owned(),
                "src/lib.rs:3".to_owned(),
                "load".to_owned(),
            )],
            edges: vec![(
                "load".to_owned(),
                Callee::Extern("std::fs::read".to_owned()),
            )],
            functions: vec!["load".to_owned()],
        };
        Cache::store(&key, &entry);
        let back = Cache::load(&key).expect("stored entry loads");
        assert_eq!((back.lines, back.unanalysed), (42, 1));
        assert_eq!(back.uses, entry.uses);
        assert_eq!(back.edges, entry.edges);
        assert_eq!(back.functions, entry.functions);
    }
}
