//! `ambit run`'s command line, parsed by hand (no parser to start: every
//! microsecond of `ambit`'s own start-up is paid by each program it runs),
//! and the policy files it names, merged into one [`Request`].

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use cap_runtime::Rights;

use crate::policy::{self, PathGrant, PolicyFile};

/// The usage text `--help` prints and usage errors end with.
pub const USAGE: &str = "\
usage: ambit run [OPTIONS] -- PROGRAM [ARGS...]

Runs PROGRAM in a sandbox derived from the resources named below; nothing
else is reachable (paths by Landlock, TCP ports by Landlock, system calls by
seccomp). Each option may be repeated.

  --ro PATH            read and list PATH (a file, or a directory and what is beneath)
  --rw PATH            read, write, create, remove, rename, truncate, symlink beneath PATH
  --exec PATH          read and execute beneath PATH; PROGRAM must be beneath an
                       --exec directory or be an --exec file (no PATH search)
  --connect HOST:PORT  connect TCP to PORT (Landlock enforces the port, not HOST)
  --bind PORT          bind TCP PORT
  --unix PATH          make unix-domain sockets (connect to PATH; not enforced by path)
  --env NAME           pass NAME from ambit's environment
  --env NAME=VALUE     set NAME (no other variable is passed)
  --system             read and execute the loader and shared libraries (--dry-run lists them)
  --policy FILE        add the grants of a policy file (see `ambit learn`)
  --best-effort        run even where the kernel cannot enforce a right (the report says which)
  --report             print the sandbox report to stderr, then run
  --dry-run            print the plan and the report, run nothing
  --help               this text

Exit status: PROGRAM's, 128+N when signal N ended it, 2 when the sandbox
cannot be set up (or a usage error), 126 when PROGRAM cannot be executed in it.";

/// Whether a path grant must be a directory, a file, or either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `--ro`, `--rw`, `--exec`: whatever the path is.
    Any,
    /// A policy file's `[[dir]]`.
    Dir,
    /// A policy file's `[[file]]`.
    File,
}

/// One path to open as a handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRequest {
    /// The path as given.
    pub path: PathBuf,
    /// The rights of the handle.
    pub rights: Rights,
    /// Directory, file or either.
    pub shape: Shape,
    /// Where it was asked for, for messages: `--ro`, `--system`,
    /// `policy.toml [[dir]]`.
    pub from: String,
    /// Skipped when absent (the `--system` entries a system may not have).
    pub optional: bool,
}

/// A network grant's part, with where it was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it was asked for, for messages.
    pub from: String,
}

/// Everything `ambit run` was asked to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// Paths to open, in order.
    pub paths: Vec<PathRequest>,
    /// `HOST:PORT` to connect to.
    pub connect: Vec<Sourced<String>>,
    /// TCP ports to bind.
    pub bind: Vec<Sourced<u16>>,
    /// Unix sockets to connect to.
    pub unix: Vec<Sourced<PathBuf>>,
    /// `NAME` or `NAME=VALUE`.
    pub env: Vec<String>,
    /// The loader and shared-library preset.
    pub system: bool,
    /// Policy files to merge.
    pub policies: Vec<PathBuf>,
    /// Best-effort instead of strict.
    pub best_effort: bool,
    /// Print the report to stderr before running.
    pub report: bool,
    /// Print the plan and the report, run nothing.
    pub dry_run: bool,
    /// The program.
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// `--help`.
    Help,
    /// Run (or plan) a program.
    Run(Request),
}

/// A command-line error: the message, to be followed by the usage.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

fn check_env(opt: &str, value: &OsStr) -> Result<String, UsageError> {
    let s = value
        .to_str()
        .ok_or_else(|| UsageError(format!("{opt} `{}`: not UTF-8", value.to_string_lossy())))?;
    let name = s.split_once('=').map_or(s, |(n, _)| n);
    if name.is_empty() || name.contains('\0') {
        return Err(UsageError(format!(
            "{opt} `{s}`: expected NAME or NAME=VALUE"
        )));
    }
    Ok(s.to_owned())
}

/// Parses the arguments after `run`.
pub fn parse(args: &[OsString]) -> Result<Parsed, UsageError> {
    let mut req = Request::default();
    let mut i = 0;
    let mut program = None;
    while i < args.len() {
        let arg = args[i].as_bytes();
        i += 1;
        if arg == b"--" {
            program = Some(i);
            break;
        }
        if arg == b"--help" || arg == b"-h" {
            return Ok(Parsed::Help);
        }
        let (name, inline) = match arg.iter().position(|b| *b == b'=') {
            Some(eq) if arg.starts_with(b"--") => {
                (&arg[..eq], Some(OsStr::from_bytes(&arg[eq + 1..])))
            }
            _ => (arg, None),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let flag = |req: &mut Request| -> Result<(), UsageError> {
            if inline.is_some() {
                return Err(UsageError(format!("{name} takes no value")));
            }
            match name.as_str() {
                "--system" => req.system = true,
                "--best-effort" => req.best_effort = true,
                "--report" => req.report = true,
                _ => req.dry_run = true,
            }
            Ok(())
        };
        match name.as_str() {
            "--system" | "--best-effort" | "--report" | "--dry-run" => {
                flag(&mut req)?;
                continue;
            }
            "--ro" | "--rw" | "--exec" | "--connect" | "--bind" | "--unix" | "--env"
            | "--policy" => {}
            _ if name.starts_with('-') => {
                return Err(UsageError(format!("unknown option `{name}`")));
            }
            _ => {
                return Err(UsageError(format!(
                    "`{}` before `--`: the program and its arguments follow `--`",
                    String::from_utf8_lossy(arg)
                )));
            }
        }
        let value: &OsStr = if let Some(v) = inline {
            v
        } else {
            let v = args
                .get(i)
                .filter(|v| v.as_bytes() != b"--")
                .ok_or_else(|| UsageError(format!("{name} needs a value")))?;
            i += 1;
            v
        };
        if value.is_empty() {
            return Err(UsageError(format!("{name} needs a value")));
        }
        let from = name.clone();
        match name.as_str() {
            "--ro" | "--rw" | "--exec" => {
                let rights = match name.as_str() {
                    "--ro" => policy::RO,
                    "--rw" => policy::RW,
                    _ => policy::EXEC,
                };
                req.paths.push(PathRequest {
                    path: PathBuf::from(value),
                    rights,
                    shape: Shape::Any,
                    from,
                    optional: false,
                });
            }
            "--connect" => req.connect.push(Sourced {
                value: value.to_string_lossy().into_owned(),
                from,
            }),
            "--bind" => {
                let port = value
                    .to_str()
                    .and_then(|v| v.parse::<u16>().ok())
                    .ok_or_else(|| {
                        UsageError(format!(
                            "--bind `{}`: expected a TCP port (0-65535)",
                            value.to_string_lossy()
                        ))
                    })?;
                req.bind.push(Sourced { value: port, from });
            }
            "--unix" => req.unix.push(Sourced {
                value: PathBuf::from(value),
                from,
            }),
            "--env" => req.env.push(check_env("--env", value)?),
            _ => req.policies.push(PathBuf::from(value)),
        }
    }
    let Some(start) = program else {
        return Err(UsageError(
            "missing `--` before the program: ambit run [OPTIONS] -- PROGRAM [ARGS...]".into(),
        ));
    };
    let Some(prog) = args.get(start) else {
        return Err(UsageError("no program after `--`".into()));
    };
    req.program.clone_from(prog);
    req.args = args[start + 1..].to_vec();
    Ok(Parsed::Run(req))
}

impl Request {
    /// Adds the grants of a policy file (already parsed); `source` names it
    /// in messages.
    pub fn merge(&mut self, file: &PolicyFile, source: &Path) -> Result<(), String> {
        let source = source.display().to_string();
        let path = |g: &PathGrant, shape: Shape, table: &str| -> Result<PathRequest, String> {
            Ok(PathRequest {
                path: g.path.clone(),
                rights: g.rights().map_err(|e| format!("{source}: {e}"))?,
                shape,
                from: format!("{source} [[{table}]]"),
                optional: false,
            })
        };
        for g in &file.dirs {
            self.paths.push(path(g, Shape::Dir, "dir")?);
        }
        for g in &file.files {
            self.paths.push(path(g, Shape::File, "file")?);
        }
        for c in &file.connect {
            self.connect.push(Sourced {
                value: c.addr.clone(),
                from: format!("{source} [[connect]]"),
            });
        }
        for b in &file.bind {
            self.bind.push(Sourced {
                value: b.port,
                from: format!("{source} [[bind]]"),
            });
        }
        for u in &file.unix_connect {
            self.unix.push(Sourced {
                value: u.path.clone(),
                from: format!("{source} [[unix_connect]]"),
            });
        }
        for e in &file.env {
            let checked =
                check_env("env", OsStr::new(e)).map_err(|e| format!("{source}: {}", e.0))?;
            self.env.push(checked);
        }
        self.system |= file.system;
        self.best_effort |= file.mode.as_deref() == Some("best-effort");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    fn run(s: &[&str]) -> Request {
        match parse(&args(s)).unwrap() {
            Parsed::Run(r) => r,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn options_repeat_and_take_values_both_ways() {
        let r = run(&[
            "--ro",
            "/a",
            "--ro=/b",
            "--rw",
            "/c",
            "--exec",
            "/bin",
            "--connect",
            "127.0.0.1:80",
            "--bind=8080",
            "--unix",
            "/run/s",
            "--env",
            "LANG",
            "--env",
            "X=1=2",
            "--system",
            "--report",
            "--dry-run",
            "--best-effort",
            "--policy",
            "p.toml",
            "--",
            "cat",
            "--ro",
            "x",
        ]);
        let paths: Vec<_> = r
            .paths
            .iter()
            .map(|p| (p.path.to_str().unwrap(), p.rights))
            .collect();
        assert_eq!(
            paths,
            [
                ("/a", policy::RO),
                ("/b", policy::RO),
                ("/c", policy::RW),
                ("/bin", policy::EXEC)
            ]
        );
        assert_eq!(r.connect[0].value, "127.0.0.1:80");
        assert_eq!(r.bind[0].value, 8080);
        assert_eq!(r.unix[0].value, Path::new("/run/s"));
        assert_eq!(r.env, ["LANG", "X=1=2"]);
        assert!(r.system && r.report && r.dry_run && r.best_effort);
        assert_eq!(r.policies, [PathBuf::from("p.toml")]);
        assert_eq!(r.program, "cat");
        assert_eq!(r.args, args(&["--ro", "x"]));
    }

    #[test]
    fn errors_name_the_option() {
        let e = |s: &[&str]| parse(&args(s)).unwrap_err().0;
        assert!(e(&["--frob", "--", "x"]).contains("unknown option `--frob`"));
        assert!(e(&["--ro", "/a", "cat"]).contains("`cat` before `--`"));
        assert!(e(&["--ro", "/a"]).contains("missing `--`"));
        assert!(e(&["--ro", "--", "x"]).contains("--ro needs a value"));
        assert!(e(&["--ro"]).contains("--ro needs a value"));
        assert!(e(&["--"]).contains("no program"));
        assert!(e(&["--bind", "http", "--", "x"]).contains("--bind `http`"));
        assert!(e(&["--env", "=v", "--", "x"]).contains("--env `=v`"));
        assert!(e(&["--system=1", "--", "x"]).contains("--system takes no value"));
        assert_eq!(
            parse(&args(&["--ro", "/a", "--help"])).unwrap(),
            Parsed::Help
        );
    }

    #[test]
    fn a_policy_file_merges_as_the_options_would() {
        let file = PolicyFile::parse(
            "version = 1\nsystem = true\nmode = \"best-effort\"\nenv = [\"A=1\"]\n\
             [[dir]]\npath = \"/srv\"\naccess = \"rw\"\n[[file]]\npath = \"/etc/hostname\"\naccess = \"ro\"\n\
             [[connect]]\naddr = \"127.0.0.1:9\"\n[[bind]]\nport = 7\n",
            "p.toml",
        )
        .unwrap();
        let mut r = run(&["--", "x"]);
        r.merge(&file, Path::new("p.toml")).unwrap();
        assert!(r.system && r.best_effort);
        assert_eq!(r.paths[0].rights, policy::RW);
        assert_eq!(r.paths[0].shape, Shape::Dir);
        assert_eq!(r.paths[1].shape, Shape::File);
        assert_eq!(r.paths[1].from, "p.toml [[file]]");
        assert_eq!(r.connect[0].value, "127.0.0.1:9");
        assert_eq!(r.bind[0].value, 7);
        assert_eq!(r.env, ["A=1"]);
    }
}
