//! `ambit run [OPTIONS] -- PROGRAM [ARGS…]`: capability mode for a program
//! that was never written for it.
//!
//! Each resource on the command line (or in a `--policy` file) is opened as
//! a cap-core handle with the preset's rights ([`handles`]); `PROGRAM` is
//! spawned from an executable handle with
//! [`cap_core::process::Command`], the handles given with
//! [`Command::grant`](cap_core::process::Command::grant): the child gets no
//! descriptor but stdio, opens paths by name itself, and its sandbox
//! (derived from the handles, the same planner as `#[sandboxed]`) lets the
//! kernel allow exactly what the handles would. Signals sent to `ambit` are
//! forwarded to the child through its pidfd, and `ambit` exits with the
//! child's status.

mod handles;
pub mod options;
pub mod system;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use cap_core::AmbientAuthority;
use cap_core::process::{Command, Signal};
use cap_core::sandbox::Mode;
use cap_runtime::linux::signals::Blocked;
use cap_runtime::linux::spawn::{ChildSandbox, ChildStep};

pub use handles::Handles;
use options::{Parsed, Request, USAGE, UsageError};

use crate::policy::PolicyFile;

/// The signals forwarded to the child.
const FORWARDED: [Signal; 4] = [Signal::INT, Signal::TERM, Signal::HUP, Signal::QUIT];

/// Exit status when the sandbox cannot be set up, or for a usage error.
pub const EXIT_SETUP: i32 = 2;
/// Exit status when the program cannot be executed inside the sandbox.
pub const EXIT_EXEC: i32 = 126;

/// Why `ambit run` did not run the program: a message and an exit status.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            code: EXIT_SETUP,
            message,
        }
    }
}

/// `ambit run` with the arguments after `run`; returns the exit status.
pub fn main(args: &[OsString]) -> i32 {
    let req = match options::parse(args) {
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return 0;
        }
        Ok(Parsed::Run(req)) => req,
        Err(UsageError(m)) => {
            eprintln!("ambit run: {m}\n\n{USAGE}");
            return EXIT_SETUP;
        }
    };
    match run(req, cap_core::ambient_authority()) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("ambit run: {}", f.message);
            f.code
        }
    }
}

/// Reads and merges the policy files, adds the `--system` preset.
///
/// # Ambient Authority
///
/// Reads the policy files by name.
fn complete(req: &mut Request, ambient: AmbientAuthority) -> Result<(), String> {
    let _ = ambient;
    for path in req.policies.clone() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("--policy {}: {e}", path.display()))?;
        let file = PolicyFile::parse(&text, &path.display().to_string())?;
        req.merge(&file, &path)?;
    }
    if req.system {
        req.paths.splice(0..0, system::requests());
    }
    Ok(())
}

fn run(mut req: Request, ambient: AmbientAuthority) -> Result<i32, Failure> {
    complete(&mut req, ambient)?;
    let handles = Handles::open(&req, ambient)?;
    let mode = if req.best_effort {
        Mode::BestEffort
    } else {
        Mode::Strict
    };
    let (cmd, how) = handles.command(Path::new(&req.program), ambient)?;
    let mut cmd = cmd
        .arg0(&req.program)
        .args(&req.args)
        .mode(mode)
        .unmodified_program();
    for d in &handles.dirs {
        cmd = cmd.grant(&d.dir);
    }
    for f in &handles.files {
        cmd = cmd.grant(&f.file);
    }
    if let Some(net) = &handles.net {
        cmd = cmd.grant(net);
    }
    for e in &req.env {
        cmd = match e.split_once('=') {
            Some((name, value)) => cmd.env(name, value),
            None => cmd.env_from_parent([e]),
        };
    }
    if req.dry_run || req.report {
        let policy = cmd.policy();
        let sandbox = ChildSandbox::prepare(&policy, mode)
            .map_err(|e| format!("the sandbox cannot be set up: {e}"))?;
        if req.dry_run {
            let text = format!(
                "{}{}",
                plan(&req, &handles, &how, ambient),
                sandbox.report()
            );
            // (A closed stdout, `| head`, is not an error of the plan.)
            let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
            return Ok(0);
        }
        eprint!("{}", sandbox.report());
    }
    supervise(&cmd, &req)
}

/// The plan `--dry-run` prints before the report.
///
/// # Ambient Authority
///
/// Reads `ambit`'s environment, to say which `--env NAME` is unset.
fn plan(req: &Request, handles: &Handles, program: &str, ambient: AmbientAuthority) -> String {
    let _ = ambient;
    let mut s = String::from("ambit run plan\n");
    let _ = writeln!(s, "  program {program}");
    let mut argv = vec![req.program.to_string_lossy().into_owned()];
    argv.extend(req.args.iter().map(|a| a.to_string_lossy().into_owned()));
    let _ = writeln!(s, "  argv    {argv:?}");
    let env: Vec<String> = req
        .env
        .iter()
        .map(|e| {
            if e.contains('=') || std::env::var_os(e).is_some() {
                e.clone()
            } else {
                format!("{e} (unset, not passed)")
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "  env     {}",
        if env.is_empty() {
            "(none)".into()
        } else {
            env.join(", ")
        }
    );
    s.push_str("  grants:\n");
    s.push_str(&handles.describe());
    s
}

/// Spawns the child, forwards signals to it until it exits, and returns its
/// exit status (128+N for signal N).
fn supervise(cmd: &Command<'_>, req: &Request) -> Result<i32, Failure> {
    let signals: Vec<i32> = FORWARDED.iter().map(|s| s.as_raw()).collect();
    // Blocked before the spawn, so none is lost; the child resets its mask.
    let blocked =
        Blocked::block(&signals).map_err(|e| format!("block signals for forwarding: {e}"))?;
    let mut child = cmd.spawn().map_err(|e| {
        let message = e.to_string();
        let code = if message.contains(ChildStep::Exec.describe()) {
            EXIT_EXEC
        } else {
            EXIT_SETUP
        };
        let hint = if code == EXIT_EXEC && !req.system {
            " (a dynamically linked program needs its loader and libraries: --system)"
        } else {
            ""
        };
        Failure {
            code,
            message: format!("{message}{hint}"),
        }
    })?;
    // A signal from a process (kill) is forwarded; one from the kernel (a
    // terminal's ^C, ^\, hang-up) already reached the child, which is in
    // the same foreground process group.
    while let Some(got) = blocked
        .wait_or_exit(child.pidfd())
        .map_err(|e| format!("wait for {}: {e}", req.program.to_string_lossy()))?
    {
        if got.from_process
            && let Some(signal) = Signal::from_named_raw(got.signo)
        {
            let _ = child.signal(signal);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("wait for {}: {e}", req.program.to_string_lossy()))?;
    drop(blocked);
    match (status.code(), status.signal()) {
        (Some(code), _) => Ok(code),
        (None, Some(signal)) => {
            if req.report {
                eprintln!(
                    "ambit run: {} was killed by signal {signal}",
                    req.program.to_string_lossy()
                );
            }
            Ok(128 + signal)
        }
        (None, None) => {
            Err(format!("{}: unknown exit status", req.program.to_string_lossy()).into())
        }
    }
}
