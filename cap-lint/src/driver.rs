//! Checks one crate on worker threads.
//!
//! Syntax trees cannot cross threads (their spans and identifiers are
//! thread-bound), so each worker keeps the files it parsed: it sends back
//! only their text and skeleton (imports, local items, `mod` declarations).
//! This thread builds the module tree from the skeletons and hands out the
//! files those declarations reach, level by level; then every worker checks
//! its own files against the finished tree.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::catalogue::Index;
use crate::check::{self, Facts, Graph};
use crate::filecache::{CrateCache, FileEntry, Store, content_hash};
use crate::finding::{Finding, Region, Scope};
use crate::prefilter::{self, Filter, Words};
use crate::tree::{CrateTree, FileError, Skeleton, parse, skeleton};

/// Deeply nested expressions recurse deeply in the parser and the checker.
const STACK: usize = 64 * 1024 * 1024;

enum Job {
    /// Read (unless the text is given) and parse a file.
    Parse {
        file: usize,
        path: PathBuf,
        text: Option<String>,
    },
    /// Parse a file again, whole (it was parsed with its bodies blanked).
    Full { file: usize, text: String },
    /// Report the struct fields of the files parsed here.
    Fields(Arc<CrateTree>),
    /// Check the files parsed here that are not filtered out, then stop.
    Check(Arc<CrateTree>, Arc<Facts>, Arc<Vec<bool>>),
}

enum Reply {
    Parsed {
        file: usize,
        text: String,
        result: Result<Skeleton, FileError>,
        /// The file's words, when the pre-filter found nothing in them (its
        /// function bodies may have been blanked for the parse).
        filtered: Option<Words>,
    },
    /// A file parsed again whole: its parse error, if any.
    Full {
        file: usize,
        error: Option<FileError>,
    },
    /// Each file's facts, and the files whose facts step panicked (with the
    /// message): those are reported as not analysed.
    Fields(Vec<(usize, Facts)>, Vec<(usize, String)>),
    Checked {
        findings: Vec<Finding>,
        regions: Vec<Region>,
        graph: Option<Graph>,
    },
    /// The check of these files panicked: they are reported as not analysed.
    CheckPanicked { files: Vec<usize>, message: String },
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// A file's first parse: with the pre-filter, a file whose words could
/// start no finding is parsed without its function bodies and comments,
/// and its words are returned for the second look; any other file is
/// parsed whole.
fn first_parse(
    text: &str,
    filter: Option<&Filter>,
) -> (Result<syn::File, FileError>, Option<Words>) {
    if let Some(f) = filter {
        let scan = prefilter::scan(text);
        if !f.intrinsic(&scan.words) {
            // Comments are blanked too: no doc attributes to parse.
            let light = scan
                .light_text(text)
                .and_then(|light| syn::parse_file(&light).ok());
            if let Some(ast) = light {
                return (Ok(ast), Some(scan.words));
            }
            return (parse(text), Some(scan.words));
        }
    }
    (parse(text), None)
}

fn worker(
    jobs: &Receiver<Job>,
    replies: &Sender<Reply>,
    index: &Index,
    scope: Scope,
    record: bool,
    filter: Option<&Filter>,
) {
    let mut asts: Vec<(usize, syn::File)> = Vec::new();
    for job in jobs {
        match job {
            Job::Parse { file, path, text } => {
                let text = match text.map_or_else(|| std::fs::read_to_string(&path), Ok) {
                    Ok(t) => t,
                    Err(e) => {
                        let result = Err(FileError::whole_file(format!("cannot read: {e}")));
                        let _ = replies.send(Reply::Parsed {
                            file,
                            text: String::new(),
                            result,
                            filtered: None,
                        });
                        continue;
                    }
                };
                let mut filtered = None;
                let parsed = catch_unwind(AssertUnwindSafe(|| {
                    let (ast, words) = first_parse(&text, filter);
                    filtered = words;
                    ast.map(|ast| (skeleton(&ast.items), ast))
                }));
                let result = match parsed {
                    Ok(Ok((sk, ast))) => {
                        asts.push((file, ast));
                        Ok(sk)
                    }
                    Ok(Err(e)) => Err(e),
                    Err(p) => Err(FileError::whole_file(format!(
                        "cap-lint panicked while parsing: {}",
                        panic_message(&*p)
                    ))),
                };
                let _ = replies.send(Reply::Parsed {
                    file,
                    text,
                    result,
                    filtered,
                });
            }
            Job::Full { file, text } => {
                let parsed = catch_unwind(AssertUnwindSafe(|| parse(&text)));
                let error = match parsed {
                    Ok(Ok(ast)) => {
                        if let Some(slot) = asts.iter_mut().find(|(i, _)| *i == file) {
                            slot.1 = ast;
                        }
                        None
                    }
                    Ok(Err(e)) => Some(e),
                    Err(p) => Some(FileError::whole_file(format!(
                        "cap-lint panicked while parsing: {}",
                        panic_message(&*p)
                    ))),
                };
                if error.is_some() {
                    asts.retain(|(i, _)| *i != file);
                }
                let _ = replies.send(Reply::Full { file, error });
            }
            Job::Fields(tree) => {
                // File by file: a panic loses that file's facts only, and
                // the file is then reported, never silently left out.
                let mut fields = Vec::new();
                let mut failed = Vec::new();
                for a in &asts {
                    let facts = catch_unwind(AssertUnwindSafe(|| {
                        #[cfg(test)]
                        tests::panic_here(&tree, a.0, "facts");
                        check::facts(&tree, index, std::slice::from_ref(a))
                    }));
                    match facts {
                        Ok(f) => fields.push((a.0, f)),
                        Err(p) => failed.push((a.0, panic_message(&*p))),
                    }
                }
                let _ = replies.send(Reply::Fields(fields, failed));
            }
            Job::Check(tree, fields, skip) => {
                asts.retain(|(i, _)| !skip.get(*i).copied().unwrap_or(false));
                let mut graph = record.then(Graph::default);
                let reply = match catch_unwind(AssertUnwindSafe(|| {
                    #[cfg(test)]
                    for a in &asts {
                        tests::panic_here(&tree, a.0, "check");
                    }
                    check::check_files(&tree, index, scope, &asts, &fields, graph.as_mut())
                })) {
                    Ok((findings, regions)) => Reply::Checked {
                        findings,
                        regions,
                        graph,
                    },
                    Err(p) => Reply::CheckPanicked {
                        files: asts.iter().map(|(i, _)| *i).collect(),
                        message: panic_message(&*p),
                    },
                };
                let _ = replies.send(reply);
                return;
            }
        }
    }
}

/// Where a crate's root comes from.
pub(crate) enum Root<'a> {
    /// A file to read; `mod x;` declarations are followed.
    File(&'a Path),
    /// A text already in memory; `mod x;` declarations are not followed.
    Text(&'a Path, String),
}

/// Checks a crate; returns its tree (files, texts, parse errors), findings
/// and regions. `skip` says which files belong to another crate (it is
/// asked, never told). With a `cache` (and a crate read from files, with
/// no call graph), unchanged files' results come from it and it is
/// updated.
pub(crate) fn check_crate(
    root: Root<'_>,
    index: &Index,
    scope: Scope,
    skip: &(dyn Fn(&Path) -> bool + Sync),
    graph: Option<&mut Graph>,
    prefilter: bool,
    cache: Option<&Store>,
) -> (CrateTree, Vec<Finding>, Vec<Region>) {
    let record = graph.is_some();
    // The call graph needs every function's calls: no file is filtered then.
    let filter = (prefilter && !record).then(|| index.prefilter());
    if let Root::File(p) = root
        && skip(p)
    {
        return (
            CrateTree::new(p, false).without_files(),
            Vec::new(),
            Vec::new(),
        );
    }
    let cache = match root {
        Root::File(_) if !record => cache,
        _ => None,
    };
    if let (Some(store), Root::File(p)) = (cache, &root)
        && let Some(old) = store.load()
    {
        let warm = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("cap-lint-warm".to_owned())
                .stack_size(STACK)
                .spawn_scoped(s, || {
                    catch_unwind(AssertUnwindSafe(|| {
                        warm(p, index, scope, skip, filter, old)
                    }))
                    .ok()
                    .flatten()
                })
                .ok()
                .and_then(|t| t.join().ok().flatten())
        });
        if let Some((tree, findings, regions, new)) = warm {
            if let Some(new) = new {
                store.save(new);
            }
            return (tree, findings, regions);
        }
    }
    let (tree, findings, regions, learned) =
        full(root, index, scope, skip, graph, filter, cache.is_some());
    if let (Some(store), Some(learned)) = (cache, learned) {
        store.save(learned);
    }
    (tree, findings, regions)
}

/// The run with a cache. Files are read in the order a full run reaches
/// them; an unchanged one gives its cached skeleton, a changed one is
/// parsed here. Then, if the crate's shape and facts are those the cache
/// was made with, only the changed files are checked, and the others'
/// findings come from the cache. `None` when the cache cannot answer (the
/// shape or the facts changed, a file cannot be read):
/// the crate is then checked whole. A file that does not parse is left
/// unanalysed, as a full run leaves it; its error is part of the shape. The
/// new cache comes back when a file changed.
#[allow(clippy::type_complexity)]
fn warm(
    root: &Path,
    index: &Index,
    scope: Scope,
    skip: &(dyn Fn(&Path) -> bool + Sync),
    filter: Option<&Filter>,
    mut old: CrateCache,
) -> Option<(CrateTree, Vec<Finding>, Vec<Region>, Option<CrateCache>)> {
    let mut tree = CrateTree::new(root, true);
    let mut cached: Vec<Option<FileEntry>> = Vec::new();
    // Changed files: (file, syntax tree), and (file, content hash,
    // skeleton, words if filtered) in the same order.
    let mut asts: Vec<(usize, syn::File)> = Vec::new();
    let mut meta: Vec<(usize, u64, Skeleton, Option<Words>)> = Vec::new();
    let mut next = 0;
    while next < tree.files.len() {
        let file = next;
        next += 1;
        cached.resize(tree.files.len(), None);
        if tree.files[file].error.is_some() {
            continue;
        }
        let path = tree.files[file].path.clone();
        let text = std::fs::read_to_string(&path).ok()?;
        let hash = content_hash(&text);
        let sk = if let Some(e) = old.files.remove(&path).filter(|e| e.hash == hash) {
            let sk = e.skeleton.clone();
            cached[file] = Some(e);
            sk
        } else {
            let (ast, words) = first_parse(&text, filter);
            let ast = match ast {
                Ok(ast) => ast,
                Err(e) => {
                    // Not analysed, as a full run leaves it. Its error is
                    // part of the crate's shape, so a file that still fails
                    // the same way keeps the other files' results usable.
                    let _ = tree.add_parsed(file, text, Err(e), skip);
                    continue;
                }
            };
            let sk = skeleton(&ast.items);
            asts.push((file, ast));
            meta.push((file, hash, sk.clone(), words));
            sk
        };
        let _ = tree.add_parsed(file, text, Ok(sk), skip);
    }
    cached.resize(tree.files.len(), None);
    if tree.fingerprint() != old.shape {
        return None;
    }
    let mut facts_of: HashMap<usize, Facts> = asts
        .iter()
        .map(|a| (a.0, check::facts(&tree, index, std::slice::from_ref(a))))
        .collect();
    // Merged in file order, as a full run merges them.
    let mut facts = Facts::default();
    for (i, e) in cached.iter().enumerate() {
        if let Some(f) = e.as_ref().map(|e| &e.facts).or_else(|| facts_of.get(&i)) {
            facts.merge(f);
        }
    }
    if facts.fingerprint() != old.facts {
        return None;
    }
    if asts.is_empty() {
        // Nothing changed: the cache stays as it is.
        let findings = cached.iter().flatten().flat_map(|e| e.findings.clone());
        let regions = cached.iter().flatten().flat_map(|e| e.regions.clone());
        return Some((tree, findings.collect(), regions.collect(), None));
    }
    // The pre-filter's second look, for the changed files its first passed over.
    let typed = facts.typed_names();
    let upper_modules = upper_modules(&tree);
    let mut checked = Vec::new();
    for ((file, ast), (_, _, _, words)) in asts.iter_mut().zip(&meta) {
        let check = match (filter, words) {
            (Some(f), Some(w)) => {
                let again = f.with_crate(w, &tree.aliases, &typed, upper_modules);
                if again {
                    *ast = parse(&tree.files[*file].text).ok()?;
                }
                again
            }
            _ => true,
        };
        checked.push(check);
    }
    let to_check: Vec<(usize, syn::File)> = asts
        .into_iter()
        .zip(&checked)
        .filter(|(_, c)| **c)
        .map(|(a, _)| a)
        .collect();
    let (new_findings, new_regions) =
        check::check_files(&tree, index, scope, &to_check, &facts, None);
    let mut entries = HashMap::new();
    let mut findings = Vec::new();
    let mut regions = Vec::new();
    for (i, e) in cached.into_iter().enumerate() {
        if let Some(e) = e {
            findings.extend(e.findings.iter().cloned());
            regions.extend(e.regions.iter().cloned());
            entries.insert(tree.files[i].path.clone(), e);
        }
    }
    let mut grouped = group(&tree, new_findings, new_regions);
    for ((file, hash, sk, _), check) in meta.into_iter().zip(checked) {
        let (f, r) = grouped.remove(&file).unwrap_or_default();
        findings.extend(f.iter().cloned());
        regions.extend(r.iter().cloned());
        entries.insert(
            tree.files[file].path.clone(),
            FileEntry {
                hash,
                skeleton: sk,
                facts: facts_of.remove(&file).unwrap_or_default(),
                checked: check,
                findings: f,
                regions: r,
            },
        );
    }
    let new = CrateCache {
        shape: old.shape,
        facts: old.facts,
        files: entries,
        ..CrateCache::default()
    };
    Some((tree, findings, regions, Some(new)))
}

/// Findings and regions by the index of the file they are in.
fn group(
    tree: &CrateTree,
    findings: Vec<Finding>,
    regions: Vec<Region>,
) -> HashMap<usize, (Vec<Finding>, Vec<Region>)> {
    let index: HashMap<String, usize> = tree
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.display().to_string(), i))
        .collect();
    let mut out: HashMap<usize, (Vec<Finding>, Vec<Region>)> = HashMap::new();
    for f in findings {
        if let Some(&i) = index.get(&f.file) {
            out.entry(i).or_default().0.push(f);
        }
    }
    for r in regions {
        if let Some(&i) = index.get(&r.file) {
            out.entry(i).or_default().1.push(r);
        }
    }
    out
}

/// Whether some module of the crate has a capitalised name (the
/// pre-filter's second look then counts qualified words).
fn upper_modules(tree: &CrateTree) -> bool {
    tree.modules
        .iter()
        .flat_map(|m| m.children.keys())
        .any(|n| n.starts_with(char::is_uppercase))
}

/// The run without a cache (or when it cannot answer): every file parsed
/// on the worker threads. With `learn`, also what the cache keeps.
#[allow(clippy::type_complexity)]
fn full(
    root: Root<'_>,
    index: &Index,
    scope: Scope,
    skip: &(dyn Fn(&Path) -> bool + Sync),
    mut graph: Option<&mut Graph>,
    filter: Option<&Filter>,
    learn: bool,
) -> (CrateTree, Vec<Finding>, Vec<Region>, Option<CrateCache>) {
    let record = graph.is_some();
    let (root_path, root_text, follow) = match root {
        Root::File(p) => (p, None, true),
        Root::Text(p, t) => (p, Some(t), false),
    };
    let mut tree = CrateTree::new(root_path, follow);
    let threads = if follow {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .clamp(1, 8)
    } else {
        1
    };
    std::thread::scope(|s| {
        let (reply_tx, reply_rx) = channel::<Reply>();
        let mut job_txs = Vec::new();
        for id in 0..threads {
            let (tx, rx) = channel::<Job>();
            let replies = reply_tx.clone();
            let started = std::thread::Builder::new()
                .name(format!("cap-lint-{id}"))
                .stack_size(STACK)
                .spawn_scoped(s, move || {
                    worker(&rx, &replies, index, scope, record, filter);
                });
            match started {
                Ok(_) => job_txs.push(tx),
                // Fewer workers if the system gives no more threads.
                Err(_) if id > 0 => break,
                Err(e) => panic!("cap-lint: cannot start a worker thread: {e}"),
            }
        }
        let threads = job_txs.len();
        drop(reply_tx);
        let _ = job_txs[0].send(Job::Parse {
            file: 0,
            path: root_path.to_path_buf(),
            text: root_text,
        });
        let mut findings = Vec::new();
        let mut regions = Vec::new();
        let mut parsed = vec![false];
        let mut owner: Vec<usize> = vec![0];
        let mut filtered_words: Vec<(usize, Words)> = Vec::new();
        // The skeletons, for the cache.
        let mut skeletons: Vec<Option<Skeleton>> = Vec::new();
        // Parses come back in any order; they are added to the tree in file
        // order (files are numbered as they are reached), so the module tree
        // (which of two `cfg_attr` variants' items wins a name), the files
        // each worker gets and so the findings do not depend on timing.
        let mut dispatched = vec![true];
        let mut ready = std::collections::BTreeMap::new();
        let mut next = 0;
        loop {
            while next < dispatched.len() && !dispatched[next] {
                next += 1;
            }
            if next >= dispatched.len() {
                break;
            }
            let Some((text, result, filtered)) = ready.remove(&next) else {
                match reply_rx.recv() {
                    Ok(Reply::Parsed {
                        file,
                        text,
                        result,
                        filtered,
                    }) => {
                        ready.insert(file, (text, result, filtered));
                        continue;
                    }
                    _ => break,
                }
            };
            let file = next;
            next += 1;
            parsed[file] = true;
            if let (Some(w), true) = (filtered, result.is_ok()) {
                filtered_words.push((file, w));
            }
            if learn && let Ok(sk) = &result {
                skeletons.resize(file + 1, None);
                skeletons[file] = Some(sk.clone());
            }
            let next_files = tree.add_parsed(file, text, result, skip);
            // Missing module files are registered too, already with their error.
            parsed.resize(tree.files.len(), false);
            owner.resize(tree.files.len(), 0);
            dispatched.resize(tree.files.len(), false);
            for next_file in next_files {
                let w = next_file.file % threads;
                owner[next_file.file] = w;
                dispatched[next_file.file] = true;
                let _ = job_txs[w].send(Job::Parse {
                    file: next_file.file,
                    path: next_file.path,
                    text: None,
                });
            }
        }
        for (f, done) in parsed.iter().enumerate() {
            if !done && f < tree.files.len() && tree.files[f].error.is_none() {
                // Never clean: a file whose parse never came back is not analysed.
                tree.files[f].error = Some(FileError::whole_file(
                    "cap-lint lost this file's parse".to_owned(),
                ));
            }
        }
        let shared = Arc::new(tree);
        for tx in &job_txs {
            let _ = tx.send(Job::Fields(Arc::clone(&shared)));
        }
        // Merged in file order, so which of two disagreeing facts wins
        // does not depend on timing.
        let mut per_file: Vec<(usize, Facts)> = Vec::new();
        let mut facts_panicked: Vec<(usize, String)> = Vec::new();
        for _ in 0..threads {
            if let Ok(Reply::Fields(f, failed)) = reply_rx.recv() {
                per_file.extend(f);
                facts_panicked.extend(failed);
            }
        }
        per_file.sort_by_key(|p| p.0);
        let mut fields = Facts::default();
        for (_, f) in &per_file {
            fields.merge(f);
        }
        // The pre-filter's second look, now that the crate's renaming
        // imports and typed signatures are known: a file that names one of
        // them is parsed whole after all.
        let mut skip_check = vec![false; shared.files.len()];
        let mut reparse_errors = Vec::new();
        if let Some(f) = filter {
            let typed = fields.typed_names();
            let upper_modules = upper_modules(&shared);
            let mut waiting = 0;
            for (file, words) in &filtered_words {
                if f.with_crate(words, &shared.aliases, &typed, upper_modules) {
                    let _ = job_txs[owner[*file]].send(Job::Full {
                        file: *file,
                        text: shared.files[*file].text.clone(),
                    });
                    waiting += 1;
                } else {
                    skip_check[*file] = true;
                }
            }
            while waiting > 0 {
                match reply_rx.recv() {
                    Ok(Reply::Full { file, error }) => {
                        waiting -= 1;
                        if let Some(e) = error {
                            reparse_errors.push((file, e));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        let facts_print = learn.then(|| fields.fingerprint());
        let checked: Vec<bool> = skip_check.iter().map(|s| !s).collect();
        let skip_check = Arc::new(skip_check);
        let fields = Arc::new(fields);
        for tx in &job_txs {
            let _ = tx.send(Job::Check(
                Arc::clone(&shared),
                Arc::clone(&fields),
                Arc::clone(&skip_check),
            ));
        }
        drop(job_txs);
        let mut panicked = Vec::new();
        for reply in reply_rx {
            match reply {
                Reply::Checked {
                    findings: f,
                    regions: r,
                    graph: g,
                } => {
                    findings.extend(f);
                    regions.extend(r);
                    if let (Some(out), Some(g)) = (graph.as_deref_mut(), g) {
                        out.edges.extend(g.edges);
                        out.functions.extend(g.functions);
                    }
                }
                Reply::CheckPanicked { files, message } => panicked.push((files, message)),
                Reply::Parsed { .. } | Reply::Fields(..) | Reply::Full { .. } => {}
            }
        }
        let mut tree =
            Arc::try_unwrap(shared).unwrap_or_else(|_| unreachable!("workers have stopped"));
        for (file, e) in reparse_errors {
            tree.files[file].error = Some(e);
        }
        let facts_failed = facts_panicked.into_iter().map(|(f, m)| {
            (
                vec![f],
                format!("cap-lint panicked while collecting facts: {m}"),
            )
        });
        let check_failed = panicked
            .into_iter()
            .map(|(files, m)| (files, format!("cap-lint panicked while checking: {m}")));
        for (files, message) in facts_failed.chain(check_failed) {
            for f in files {
                // Never clean: a file whose facts or check failed is not
                // analysed (and its facts, missing, may hide findings
                // elsewhere: the run is not clean either way).
                tree.files[f].error = Some(FileError::whole_file(message.clone()));
                let path = tree.files[f].path.display().to_string();
                findings.retain(|x| x.file != path);
                regions.retain(|x| x.file != path);
            }
        }
        let learned = facts_print.map(|facts| {
            let mut facts_of: HashMap<usize, Facts> = per_file.into_iter().collect();
            let mut grouped = group(&tree, findings.clone(), regions.clone());
            let files = tree
                .files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.error.is_none())
                .filter_map(|(i, f)| {
                    let skeleton = skeletons.get_mut(i)?.take()?;
                    let (findings, regions) = grouped.remove(&i).unwrap_or_default();
                    let entry = FileEntry {
                        hash: content_hash(&f.text),
                        skeleton,
                        facts: facts_of.remove(&i).unwrap_or_default(),
                        checked: checked.get(i).copied().unwrap_or(true),
                        findings,
                        regions,
                    };
                    Some((f.path.clone(), entry))
                })
                .collect();
            CrateCache {
                shape: tree.fingerprint(),
                facts,
                files,
                ..CrateCache::default()
            }
        });
        (tree, findings, regions, learned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In these tests only: a file named `panics_in_<step>.rs` makes that
    /// step panic, which is how the tests reach the panic paths.
    pub(super) fn panic_here(tree: &CrateTree, file: usize, step: &str) {
        let name = tree.files[file].path.file_name();
        assert!(
            name.is_none_or(|n| n.to_string_lossy() != format!("panics_in_{step}.rs")),
            "a test asked for a panic in the {step} step"
        );
    }

    /// A crate whose root declares `boom` (from `panics_in_<step>.rs`) and
    /// `calm`, each calling `std::fs::read`.
    fn run(step: &str) -> (CrateTree, Vec<Finding>) {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("lib.rs"),
            format!("#[path = \"panics_in_{step}.rs\"]\nmod boom;\nmod calm;\n"),
        )
        .unwrap();
        let body = "pub fn f() { let _ = std::fs::read(\"x\"); }\n";
        std::fs::write(src.join(format!("panics_in_{step}.rs")), body).unwrap();
        std::fs::write(src.join("calm.rs"), body).unwrap();
        let index = Index::builtin();
        let (tree, findings, _) = check_crate(
            Root::File(&src.join("lib.rs")),
            &index,
            Scope::Lib,
            &|_| false,
            None,
            true,
            None,
        );
        (tree, findings)
    }

    #[test]
    fn a_panic_in_the_facts_or_the_check_leaves_that_file_not_analysed() {
        for step in ["facts", "check"] {
            // (The hook's panic messages in the test output are expected.)
            let (tree, findings) = run(step);
            let boom = tree
                .files
                .iter()
                .find(|f| f.path.ends_with(format!("panics_in_{step}.rs")))
                .unwrap();
            let error = boom.error.as_ref().expect("the file is not analysed");
            assert!(
                error.message.contains(&format!(
                    "panicked while {}",
                    match step {
                        "facts" => "collecting facts",
                        _ => "checking",
                    }
                )),
                "{step}: {}",
                error.message
            );
            assert!(
                !findings
                    .iter()
                    .any(|f| f.file.ends_with("panics_in_facts.rs")
                        || f.file.ends_with("panics_in_check.rs")),
                "{step}: findings kept for the file that panicked"
            );
            // The other file is still checked, when the panic was in the
            // facts step (the check of a worker's files fails together).
            if step == "facts" {
                assert!(
                    findings.iter().any(|f| f.file.ends_with("calm.rs")),
                    "{findings:?}"
                );
            }
        }
    }
}
