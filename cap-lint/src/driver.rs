//! Checks one crate on worker threads.
//!
//! Syntax trees cannot cross threads (their spans and identifiers are
//! thread-bound), so each worker keeps the files it parsed: it sends back
//! only their text and skeleton (imports, local items, `mod` declarations).
//! This thread builds the module tree from the skeletons and hands out the
//! files those declarations reach, level by level; then every worker checks
//! its own files against the finished tree.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::catalogue::Index;
use crate::check::{self, Facts, Graph};
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
    Fields(Facts),
    Checked {
        findings: Vec<Finding>,
        regions: Vec<Region>,
        graph: Option<Graph>,
    },
    /// The check of these files panicked: they are reported as not analysed.
    CheckPanicked {
        files: Vec<usize>,
        message: String,
    },
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
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
                    if let Some(f) = filter {
                        let scan = prefilter::scan(&text);
                        if !f.intrinsic(&scan.words) {
                            // Comments are blanked too: no doc attributes to parse.
                            let light = scan
                                .light_text(&text)
                                .and_then(|light| syn::parse_file(&light).ok());
                            filtered = Some(scan.words);
                            if let Some(ast) = light {
                                return Ok((skeleton(&ast.items), ast));
                            }
                        }
                    }
                    parse(&text).map(|ast| (skeleton(&ast.items), ast))
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
                let fields = catch_unwind(AssertUnwindSafe(|| check::facts(&tree, index, &asts)))
                    .unwrap_or_default();
                let _ = replies.send(Reply::Fields(fields));
            }
            Job::Check(tree, fields, skip) => {
                asts.retain(|(i, _)| !skip.get(*i).copied().unwrap_or(false));
                let mut graph = record.then(Graph::default);
                let reply = match catch_unwind(AssertUnwindSafe(|| {
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

/// Checks a crate; returns its tree (files, texts, parse errors), findings and regions.
pub(crate) fn check_crate(
    root: Root<'_>,
    index: &Index,
    scope: Scope,
    skip: &dyn Fn(&Path) -> bool,
    mut graph: Option<&mut Graph>,
    prefilter: bool,
) -> (CrateTree, Vec<Finding>, Vec<Region>) {
    let record = graph.is_some();
    // The call graph needs every function's calls: no file is filtered then.
    let filter = (prefilter && !record).then(|| index.prefilter());
    let (root_path, root_text, follow) = match root {
        Root::File(p) => (p, None, true),
        Root::Text(p, t) => (p, Some(t), false),
    };
    let mut tree = CrateTree::new(root_path, follow);
    if follow && skip(root_path) {
        return (
            CrateTree::new(root_path, false).without_files(),
            Vec::new(),
            Vec::new(),
        );
    }
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
            std::thread::Builder::new()
                .name(format!("cap-lint-{id}"))
                .stack_size(STACK)
                .spawn_scoped(s, move || {
                    worker(&rx, &replies, index, scope, record, filter);
                })
                .expect("spawn a cap-lint worker thread");
            job_txs.push(tx);
        }
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
        let mut fields = Facts::default();
        for _ in 0..threads {
            if let Ok(Reply::Fields(f)) = reply_rx.recv() {
                fields.merge(f);
            }
        }
        // The pre-filter's second look, now that the crate's renaming
        // imports and typed signatures are known: a file that names one of
        // them is parsed whole after all.
        let mut skip_check = vec![false; shared.files.len()];
        let mut reparse_errors = Vec::new();
        if let Some(f) = filter {
            let typed = fields.typed_names();
            let upper_modules = shared
                .modules
                .iter()
                .flat_map(|m| m.children.keys())
                .any(|n| n.starts_with(char::is_uppercase));
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
                Reply::Parsed { .. } | Reply::Fields(_) | Reply::Full { .. } => {}
            }
        }
        let mut tree =
            Arc::try_unwrap(shared).unwrap_or_else(|_| unreachable!("workers have stopped"));
        for (file, e) in reparse_errors {
            tree.files[file].error = Some(e);
        }
        for (files, message) in panicked {
            for f in files {
                // Never clean: a file whose check failed is not analysed.
                tree.files[f].error = Some(FileError::whole_file(format!(
                    "cap-lint panicked while checking: {message}"
                )));
                findings.retain(|x| x.file != tree.files[f].path.display().to_string());
            }
        }
        (tree, findings, regions)
    })
}
