//! `cargo cap-lint`: finds calls that reach the filesystem, network, processes
//! or environment by name. Run `cargo cap-lint --help`.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cap_lint::baseline::Baseline;
use cap_lint::catalogue::{Index, Severity, builtin};
use cap_lint::config::Config;
use cap_lint::workspace::{Workspace, check_targets, path_targets};
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
      --list                 print the catalogue of ambient-authority APIs and exit
                             (as JSON lines with --message-format json)
  -h, --help                 print this help
  -V, --version              print the version

Exit status: 0 clean, 1 findings at or above --deny, 2 usage or I/O errors or
files that could not be analysed.";

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
    show_suppressed: bool,
    list: bool,
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
        show_suppressed: false,
        list: false,
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
                println!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("cargo-cap-lint {}", env!("CARGO_PKG_VERSION"));
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
            "--show-suppressed" => o.show_suppressed = true,
            "--list" => o.list = true,
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
            eprintln!("error: {e}");
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
            Format::Human => print!("{}", render::catalogue_table(&index)),
            // One object per entry, with the catalogue's fields.
            Format::Json | Format::Sarif => {
                for api in index.apis() {
                    let mut v = serde_json::to_value(api).map_err(|e| e.to_string())?;
                    v["code"] = api.code().into();
                    println!("{v}");
                }
            }
        }
        return Ok(0);
    }
    let (targets, base, config, workspace_dir) = if o.paths.is_empty() {
        let ws = Workspace::discover(&cwd, o.manifest.as_deref())?;
        let config = ws.config(o.config.as_deref())?;
        (ws.targets.clone(), ws.root.clone(), config, Some(ws.root))
    } else {
        let config = match &o.config {
            Some(c) => Config::load_file(c)?,
            None => Config::load_file(&cwd.join("cap-lint.toml"))?,
        };
        (path_targets(&o.paths)?, cwd.clone(), config, None)
    };
    let index = Index::new(
        builtin()
            .iter()
            .cloned()
            .chain(config.extra.iter().cloned()),
    );
    let mut analysis = check_targets(&targets, &base, &index, &config);
    if o.precise {
        let dir = workspace_dir
            .as_deref()
            .ok_or("--precise checks a cargo workspace: give no PATH (use --manifest-path)")?;
        let found = precise::run(dir, o.manifest.as_deref(), &index)?;
        precise::merge(&mut analysis, found, &config);
    }
    if let Some(b) = &o.baseline {
        let removed = Baseline::load(b)?.filter(&mut analysis);
        eprintln!(
            "cap-lint: {removed} finding(s) already in the baseline {}",
            b.display()
        );
    }
    if let Some(path) = &o.write_baseline {
        write_file(path, &render::json_lines(&analysis, o.deny, false))?;
    }
    match o.format {
        Format::Human => {
            print!("{}", render::human(&analysis, o.deny, o.show_suppressed));
            eprintln!("{}", render::summary(&analysis));
        }
        Format::Json => print!(
            "{}",
            render::json_lines(&analysis, o.deny, o.show_suppressed)
        ),
        Format::Sarif => {
            let log = render::sarif(&analysis, &index, o.deny);
            println!(
                "{}",
                serde_json::to_string_pretty(&log).map_err(|e| e.to_string())?
            );
        }
    }
    if !analysis.unanalysed.is_empty() {
        return Ok(2);
    }
    Ok(u8::from(analysis.active().any(|f| f.severity >= o.deny)))
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
