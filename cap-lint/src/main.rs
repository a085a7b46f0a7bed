//! `cargo cap-lint`: finds calls that reach the filesystem, network, processes
//! or environment by name. Run `cargo cap-lint --help`.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cap_lint::baseline::Baseline;
use cap_lint::catalogue::{Index, Severity, builtin};
use cap_lint::config::Config;
use cap_lint::workspace::{Workspace, check_targets_cached, path_targets};
use cap_lint::{precise, render};

const USAGE: &str = "\
cargo cap-lint: find calls that reach the filesystem, network, processes or
environment by name (ambient authority), and the capability form to use instead.

Usage: cargo cap-lint [OPTIONS] [PATH...]

With no PATH, checks every target (lib, bins, tests, examples, benches,
build.rs) of the cargo package or workspace in the current directory.

Options:
      --message-format FMT   human (default), json (one object per line), sarif
      --deny LEVEL           fail on findings at or above LEVEL: low (default), medium, high
      --baseline FILE        report only findings not in FILE (an earlier json output)
      --write-baseline FILE  write the current findings to FILE as a baseline
      --config FILE          configuration (default: cap-lint.toml at the workspace root)
      --manifest-path FILE   the Cargo.toml of the package or workspace to check
      --precise              also run `cargo clippy` with a generated clippy.toml (type-resolved)
      --show-suppressed      also print suppressed and allowed findings, with their reasons
      --no-prefilter         parse and check every file whole (the lexical pre-filter
                             skips files that cannot contain a finding; same findings)
      --no-cache             run `cargo metadata` even when no manifest, target
                             directory or cargo configuration changed since the last run,
                             and check every file afresh (results are otherwise kept per
                             file under the target directory, in cap-lint/)
      --list                 print the catalogue of ambient-authority APIs and exit
                             (as JSON lines with --message-format json)
  -h, --help                 print this help
  -V, --version              print the version

      --deps                 audit the dependency tree instead: the ambient-authority
                             categories each crate uses (fs, net, process, env, ffi,
                             build, proc-macro) and the shortest call path to each
                             from this workspace's code; fails (1) when a crate uses
                             a category its `[deps.NAME] allow = [...]` does not
                             list, or (with --baseline) gained one since
      --deny-missing-modules also fail (exit 2) when a declared module's file is
                             missing (always reported as not analysed)

Suppressing one call: put `#[cap_core::ambient(reason = \"…\")]` (or
`#[allow(clippy::disallowed_methods, reason = \"…\")]`) on the item or statement;
functions taking the `AmbientAuthority` token are allowed automatically.
Configuration: `cap-lint.toml` at the workspace root ([[allow]] rules by
package, scope, file, category or API; [[extra]] APIs to flag).
The book chapter \"cargo cap-lint\" (book/src/cap-lint.md) describes both.

Exit status: 0 clean (and always after --write-baseline), 1 findings at or above
--deny, 2 usage or I/O errors or files that could not be analysed.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Sarif,
}

struct Options {
    format: Format,
    deny: Severity,
    baseline: Option<PathBuf>,
    write_baseline: Option<PathBuf>,
    config: Option<PathBuf>,
    manifest: Option<PathBuf>,
    precise: bool,
    no_prefilter: bool,
    no_cache: bool,
    show_suppressed: bool,
    list: bool,
    deny_missing: bool,
    deps: bool,
    paths: Vec<PathBuf>,
}

fn parse_args(mut args: Vec<String>) -> Result<Option<Options>, String> {
    // As a cargo subcommand the binary is called as `cargo-cap-lint cap-lint ...`.
    if args.first().is_some_and(|a| a == "cap-lint") {
        args.remove(0);
    }
    let mut o = Options {
        format: Format::Human,
        deny: Severity::Low,
        baseline: None,
        write_baseline: None,
        config: None,
        manifest: None,
        precise: false,
        no_prefilter: false,
        no_cache: false,
        show_suppressed: false,
        list: false,
        deny_missing: false,
        deps: false,
        paths: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                out(&format!("{USAGE}\n"));
                return Ok(None);
            }
            "-V" | "--version" => {
                out(&format!("cargo-cap-lint {}\n", env!("CARGO_PKG_VERSION")));
                return Ok(None);
            }
            "--message-format" => {
                o.format = match value("--message-format")?.as_str() {
                    "human" | "short" => Format::Human,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    other => {
                        return Err(format!(
                            "unknown --message-format `{other}` (expected human, json or sarif)"
                        ));
                    }
                }
            }
            "--deny" => {
                let v = value("--deny")?;
                o.deny = Severity::parse(&v).ok_or_else(|| {
                    format!("unknown --deny level `{v}` (expected low, medium or high)")
                })?;
            }
            "--baseline" => o.baseline = Some(value("--baseline")?.into()),
            "--write-baseline" => o.write_baseline = Some(value("--write-baseline")?.into()),
            "--config" => o.config = Some(value("--config")?.into()),
            "--manifest-path" => o.manifest = Some(value("--manifest-path")?.into()),
            "--precise" => o.precise = true,
            "--no-prefilter" => o.no_prefilter = true,
            "--no-cache" => o.no_cache = true,
            "--show-suppressed" => o.show_suppressed = true,
            "--list" => o.list = true,
            "--deny-missing-modules" => o.deny_missing = true,
            "--deps" => o.deps = true,
            "--" => o.paths.extend(it.by_ref().map(PathBuf::from)),
            f if f.starts_with('-') => return Err(format!("unknown option `{f}` (see --help)")),
            _ => o.paths.push(PathBuf::from(arg)),
        }
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            err(&format!("error: {e}"));
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<u8, String> {
    let Some(o) = parse_args(args)? else {
        return Ok(0);
    };
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    if o.list {
        // The catalogue with the configured extras; outside a workspace, the
        // configuration in the current directory.
        let config = match (&o.config, Workspace::discover(&cwd, o.manifest.as_deref())) {
            (_, Ok(ws)) => ws.config(o.config.as_deref())?,
            (Some(c), Err(_)) => Config::load_file(c)?,
            (None, Err(_)) => Config::load_file(&cwd.join("cap-lint.toml"))?,
        };
        let index = Index::new(
            builtin()
                .iter()
                .cloned()
                .chain(config.extra.iter().cloned()),
        );
        match o.format {
            Format::Human => out(&render::catalogue_table(&index)),
            // One object per entry, with the catalogue's fields.
            Format::Json | Format::Sarif => {
                for api in index.apis() {
                    let mut v = serde_json::to_value(api).map_err(|e| e.to_string())?;
                    v["code"] = api.code().into();
                    out(&format!("{v}\n"));
                }
            }
        }
        return Ok(0);
    }
    if o.deps {
        return run_deps(&o, &cwd);
    }
    let (targets, base, config, workspace_dir, cache) = if o.paths.is_empty() {
        let ws = if o.no_cache {
            Workspace::discover(&cwd, o.manifest.as_deref())?
        } else {
            Workspace::discover_cached(&cwd, o.manifest.as_deref())?
        };
        let config = ws.config(o.config.as_deref())?;
        let cache = (!o.no_cache)
            .then(|| ws.target_dir.as_ref().map(|t| t.join("cap-lint")))
            .flatten();
        (
            ws.targets.clone(),
            ws.root.clone(),
            config,
            Some(ws.root),
            cache,
        )
    } else {
        let config = match &o.config {
            Some(c) => Config::load_file(c)?,
            None => Config::load_file(&cwd.join("cap-lint.toml"))?,
        };
        (path_targets(&o.paths)?, cwd.clone(), config, None, None)
    };
    let index = Index::new(
        builtin()
            .iter()
            .cloned()
            .chain(config.extra.iter().cloned()),
    );
    // The precise tier's findings take suppression and test scope from every
    // file's regions, which files skipped by the pre-filter do not have.
    let prefilter = !o.precise && !o.no_prefilter;
    let mut analysis = check_targets_cached(
        &targets,
        &base,
        &index,
        &config,
        prefilter,
        cache.as_deref(),
    );
    if o.precise {
        let dir = workspace_dir
            .as_deref()
            .ok_or("--precise checks a cargo workspace: give no PATH (use --manifest-path)")?;
        let found = precise::run(dir, o.manifest.as_deref(), &index)?;
        precise::merge(&mut analysis, found, &config);
    }
    if let Some(b) = &o.baseline {
        let removed = Baseline::load(b)?.filter(&mut analysis);
        err(&format!(
            "cap-lint: {removed} finding(s) already in the baseline {}",
            b.display()
        ));
    }
    if let Some(path) = &o.write_baseline {
        write_file(path, &render::json_lines(&analysis, o.deny, false))?;
    }
    match o.format {
        Format::Human => {
            out(&render::human(&analysis, o.deny, o.show_suppressed));
            err(&render::summary(&analysis));
        }
        Format::Json => out(&render::json_lines(&analysis, o.deny, o.show_suppressed)),
        Format::Sarif => {
            let log = render::sarif(&analysis, &index, o.deny);
            out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&log).map_err(|e| e.to_string())?
            ));
        }
    }
    if analysis
        .unanalysed
        .iter()
        .any(|u| !u.missing || o.deny_missing)
    {
        return Ok(2);
    }
    if o.write_baseline.is_some() {
        // The findings were recorded, not judged.
        return Ok(0);
    }
    Ok(u8::from(analysis.active().any(|f| f.severity >= o.deny)))
}

/// Writes to stdout; a reader that has gone away (`| head -1`) ends the
/// output quietly instead of panicking: the exit status still says what was found.
fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A line to stderr, quietly dropped if stderr is closed.
fn err(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `--deps`: the dependency audit, its policy and its baseline diff.
fn run_deps(o: &Options, cwd: &Path) -> Result<u8, String> {
    if !o.paths.is_empty() {
        return Err("--deps audits a cargo workspace: give no PATH (use --manifest-path)".into());
    }
    let ws = Workspace::discover(cwd, o.manifest.as_deref())?;
    let config = ws.config(o.config.as_deref())?;
    let index = Index::new(
        builtin()
            .iter()
            .cloned()
            .chain(config.extra.iter().cloned()),
    );
    let started = std::time::Instant::now();
    let audit = cap_lint::deps::audit(cwd, o.manifest.as_deref(), &index)?;
    let elapsed = started.elapsed();
    if let Some(path) = &o.write_baseline {
        write_file(path, &cap_lint::deps::json_lines(&audit))?;
    }
    match o.format {
        Format::Human => out(&cap_lint::deps::table(&audit)),
        Format::Json => out(&cap_lint::deps::json_lines(&audit)),
        Format::Sarif => out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&cap_lint::deps::sarif(&audit))
                .map_err(|e| e.to_string())?
        )),
    }
    let mut failed = false;
    for v in cap_lint::deps::violations(&audit, &config.deps) {
        failed = true;
        err(&format!(
            "error[ambient-dep::policy]: {} {} uses {}, which its [deps.{}] in cap-lint.toml does not allow",
            v.name,
            v.version,
            v.categories.join(", "),
            v.name
        ));
    }
    if let Some(b) = &o.baseline {
        let text = std::fs::read_to_string(b).map_err(|e| format!("{}: {e}", b.display()))?;
        let changes =
            cap_lint::deps::diff(&audit, &text).map_err(|e| format!("{}: {e}", b.display()))?;
        for c in changes {
            failed = true;
            err(&format!("error[ambient-dep::baseline]: {c}"));
        }
    }
    err(&format!(
        "cap-lint --deps: {} crates, {} using ambient authority, {} lines read in {:.2} s",
        audit.crates.len(),
        audit
            .crates
            .iter()
            .filter(|c| c
                .categories
                .iter()
                .any(|k| k != "build" && k != "proc-macro"))
            .count(),
        audit.lines,
        elapsed.as_secs_f64()
    ));
    if o.write_baseline.is_some() {
        return Ok(0);
    }
    Ok(u8::from(failed))
}
