//! `ambit learn [--out FILE] -- PROGRAM [ARGS…]`: run a program once under
//! observation, without confining it, and write the policy file that
//! `ambit run --policy FILE` enforces.
//!
//! Observation is `cap_runtime::linux::observe` (seccomp user notification:
//! every file-opening, entry-changing, executing and socket-addressing call
//! of the program and its descendants is recorded and then let through).
//! This module collapses those events into the smallest set of grants in the
//! policy vocabulary ([`collapse`]) and renders them with a comment per grant
//! saying which accesses produced it ([`Learned::render`]).
//!
//! # Collapsing rules
//!
//! - A file read: `ro` on its directory; a directory listed: `ro` on it.
//! - A file opened for writing or truncated, an entry created, removed,
//!   renamed, linked, made a symlink or a socket: `rw` on its directory.
//! - A file executed (and the interpreter of a `#!` script): `exec` on its
//!   directory. Written and executed: `rights = [...]`, both sets.
//! - Anything read or executed beneath the `--system` preset's paths
//!   ([`crate::run::system::DIRS`] and [`crate::run::system::FILES`]: the
//!   loader, the shared libraries and `ld.so.cache`): `system = true`, the
//!   `--system` preset, instead of a grant per library directory.
//! - Files read or written beneath [`FILE_TREES`] (`/dev`, `/proc`, `/sys`:
//!   `/dev/null`, `/proc/filesystems`...): a `[[file]]` grant each, `ro` or
//!   `rw`, never their directory.
//! - A directory whose ancestors' grants already give every right it needs
//!   (Landlock grants accumulate down the tree) is merged into them; so is a
//!   file grant.
//! - Not granted, listed in comments: lookups, execs and removals of paths
//!   that did not exist (they fail with `ENOENT` inside the sandbox too),
//!   creations of entries that existed (`mkdir -p` of an existing
//!   directory: `EEXIST` inside the sandbox too), `/proc/self` and
//!   `/proc/PID` paths (a path into a process's own `/proc` entry cannot be
//!   granted by name from outside it; a descriptor reopened through
//!   `/proc/self/fd/N` or `/dev/stdin` is recorded by the observer as the
//!   file it is open on), UDP sockets (not restricted by Landlock), abstract
//!   unix sockets, grants whose directory no longer exists when the program
//!   has finished, and (counted, flagged as missing from the policy) calls
//!   whose arguments could not be read.
//! - TCP connects: `[[connect]] addr`; TCP binds: `[[bind]] port`; unix
//!   sockets connected by path: `[[unix_connect]] path`.
//! - Environment variables cannot be observed (reading one is a memory read,
//!   not a system call): the names present at start are written as a
//!   commented-out `env` line to edit.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::policy::{AddrGrant, PathGrant, PolicyFile, PortGrant, VERSION};

const USAGE: &str = "usage: ambit learn [--out FILE] -- PROGRAM [ARGS...]\n\
\n\
Runs PROGRAM once under observation (nothing is denied) and writes the policy\n\
file that `ambit run --policy FILE -- PROGRAM [ARGS...]` enforces: the\n\
directories it read, wrote and executed from, its TCP connects and binds and\n\
its unix sockets, with a comment per grant naming the accesses behind it.\n\
\n\
  --out FILE   write the policy to FILE (default: standard output, after the\n\
               program has finished)\n\
  --help       print this help\n\
\n\
Exits with PROGRAM's status (128 + N when signal N killed it), or 2 when it\n\
could not be observed or the policy could not be written.";

/// The paths `system = true` (the `--system` preset of `ambit run`)
/// covers: its directories (the loader and the shared libraries) and files
/// (the loader's cache and preload list), the same constants. A read or exec
/// beneath one of them sets `system = true` instead of a grant of its own.
#[cfg(target_os = "linux")]
fn is_system(path: &Path) -> bool {
    crate::run::system::DIRS
        .iter()
        .chain(&crate::run::system::FILES)
        .any(|p| path.starts_with(p))
}

/// The kernel's trees, where files read or written are granted one by one
/// (`[[file]]`), never by their directory: `ro` on `/dev` or `/proc` would
/// grant every device or every process's entry.
pub const FILE_TREES: &[&str] = &["/dev", "/proc", "/sys"];

/// How many example accesses a comment names.
const SAMPLES: usize = 3;

/// The accesses behind a grant: how many, and the first few.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Why {
    /// How many observed accesses.
    pub count: usize,
    /// The first few, as `syscall path`, distinct.
    pub samples: Vec<String>,
}

impl Why {
    fn add(&mut self, sample: String) {
        self.count += 1;
        if self.samples.len() < SAMPLES && !self.samples.contains(&sample) {
            self.samples.push(sample);
        }
    }

    fn merge(&mut self, other: Why) {
        self.count += other.count;
        for s in other.samples {
            if self.samples.len() < SAMPLES && !self.samples.contains(&s) {
                self.samples.push(s);
            }
        }
    }

    /// `3 accesses: openat /a, openat /b (+1 more)`.
    fn describe(&self) -> String {
        use std::fmt::Write;
        let noun = if self.count == 1 {
            "access"
        } else {
            "accesses"
        };
        let more = self.count.saturating_sub(self.samples.len());
        let mut s = format!("{} {noun}: {}", self.count, self.samples.join(", "));
        if more > 0 {
            let _ = write!(s, " (+{more} more)");
        }
        comment_safe(&s)
    }
}

/// What a directory or file grant needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Need {
    read: bool,
    write: bool,
    exec: bool,
}

impl Need {
    fn union(self, o: Need) -> Need {
        Need {
            read: self.read || o.read,
            write: self.write || o.write,
            exec: self.exec || o.exec,
        }
    }

    /// Whether the presets `self` maps to include `o`'s. The presets nest:
    /// `rw` and `exec` each include `ro`.
    fn covers(self, o: Need) -> bool {
        let has_read = self.read || self.write || self.exec;
        (!o.read || has_read) && (!o.write || self.write) && (!o.exec || self.exec)
    }

    /// `access` or `rights` for a grant.
    fn grant(self, path: PathBuf) -> PathGrant {
        let (access, rights) = match (self.write, self.exec) {
            (true, true) => (
                None,
                Some(
                    (crate::policy::RW | crate::policy::EXEC)
                        .names()
                        .map(str::to_owned)
                        .collect(),
                ),
            ),
            (true, false) => (Some("rw".to_owned()), None),
            (false, true) => (Some("exec".to_owned()), None),
            (false, false) => (Some("ro".to_owned()), None),
        };
        PathGrant {
            path,
            access,
            rights,
        }
    }
}

/// An event as the collapser sees it: what was done, to which path or
/// address. The observation engine's events convert into these; unit tests
/// build them by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A file (or, with `dir`, a directory) read.
    Read {
        /// The path.
        path: PathBuf,
        /// Whether it is a directory.
        dir: bool,
    },
    /// A lookup of a path that did not exist (the call failed with
    /// `ENOENT`).
    Missing(PathBuf),
    /// A creation of an entry that existed (the call failed with `EEXIST`).
    Exists(PathBuf),
    /// An existing file opened for writing or truncated.
    Write(PathBuf),
    /// An entry created, removed, renamed, linked in its directory.
    Modify(PathBuf),
    /// A file executed.
    Exec(PathBuf),
    /// A path into the program's own `/proc` entry.
    ProcSelf(PathBuf),
    /// A call whose arguments could not be read.
    Unreadable,
    /// An IP connect; `stream`: TCP (`None`: unknown, treated as TCP).
    Connect(std::net::SocketAddr, Option<bool>),
    /// An IP bind; as for `Connect`.
    Bind(std::net::SocketAddr, Option<bool>),
    /// A unix-socket connect by path (`@name`: abstract).
    UnixConnect(PathBuf),
}

/// One event and the system call that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The system call's name.
    pub syscall: &'static str,
    /// What it did.
    pub event: Event,
}

#[cfg(target_os = "linux")]
impl From<&cap_runtime::linux::observe::Observed> for Seen {
    fn from(o: &cap_runtime::linux::observe::Observed) -> Self {
        use cap_runtime::linux::observe::Access;
        let event = match &o.access {
            Access::Read { path, dir } => Event::Read {
                path: path.clone(),
                dir: *dir,
            },
            Access::Missing { path } => Event::Missing(path.clone()),
            Access::Exists { path } => Event::Exists(path.clone()),
            Access::Write { path } => Event::Write(path.clone()),
            Access::Modify { path } => Event::Modify(path.clone()),
            Access::Exec { path } => Event::Exec(path.clone()),
            Access::ProcSelf { path } => Event::ProcSelf(path.clone()),
            Access::Unreadable => Event::Unreadable,
            Access::Connect { addr, stream } => Event::Connect(*addr, *stream),
            Access::Bind { addr, stream } => Event::Bind(*addr, *stream),
            Access::UnixConnect { path } => Event::UnixConnect(path.clone()),
        };
        Seen {
            syscall: o.syscall,
            event,
        }
    }
}

/// The collapsed policy with the reasons for each grant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    /// The policy.
    pub policy: PolicyFile,
    /// Why `system = true` (empty when it is false).
    pub system_why: Why,
    /// Why each `[[dir]]`, `[[file]]`, `[[connect]]`, `[[bind]]` and
    /// `[[unix_connect]]` grant, in the order of the policy's lists.
    pub dir_why: Vec<Why>,
    /// See `dir_why`.
    pub file_why: Vec<Why>,
    /// See `dir_why`.
    pub connect_why: Vec<Why>,
    /// See `dir_why`.
    pub bind_why: Vec<Why>,
    /// See `dir_why`.
    pub unix_why: Vec<Why>,
    /// What was observed and not granted: a reason and its accesses.
    pub not_granted: Vec<(&'static str, Why)>,
}

fn under(path: &Path, prefix: &str) -> bool {
    path.starts_with(prefix)
}

/// `ambit run` (and its preset) is Linux-only.
#[cfg(not(target_os = "linux"))]
fn is_system(_path: &Path) -> bool {
    false
}

fn in_file_tree(path: &Path) -> bool {
    FILE_TREES.iter().any(|p| under(path, p))
}

fn parent(path: &Path) -> PathBuf {
    path.parent().unwrap_or(path).to_path_buf()
}

/// Collapses observed events into the smallest set of grants that covers
/// them (see the module documentation for the rules). `exists` says whether
/// a path exists now (after the run): grants of vanished directories are
/// not written, since `ambit run` refuses a path that does not exist.
pub fn collapse(events: &[Seen], exists: &dyn Fn(&Path) -> bool) -> Learned {
    let mut system = Why::default();
    let mut dirs: BTreeMap<PathBuf, (Need, Why)> = BTreeMap::new();
    let mut files: BTreeMap<PathBuf, (Need, Why)> = BTreeMap::new();
    let mut connect: BTreeMap<String, Why> = BTreeMap::new();
    let mut bind: BTreeMap<u16, Why> = BTreeMap::new();
    let mut unix: BTreeMap<PathBuf, Why> = BTreeMap::new();
    let mut missing = Why::default();
    let mut existing = Why::default();
    let mut unreadable = Why::default();
    let mut proc_self = Why::default();
    let mut udp = Why::default();
    let mut abstract_unix = Why::default();
    let read = Need {
        read: true,
        ..Need::default()
    };
    let write = Need {
        write: true,
        ..Need::default()
    };
    let exec = Need {
        exec: true,
        ..Need::default()
    };
    let need = |map: &mut BTreeMap<PathBuf, (Need, Why)>, at: PathBuf, n: Need, s: String| {
        let e = map.entry(at).or_default();
        e.0 = e.0.union(n);
        e.1.add(s);
    };

    for seen in events {
        let sample = |what: &dyn std::fmt::Display| format!("{} {what}", seen.syscall);
        match &seen.event {
            Event::Read { path, dir } => {
                let s = sample(&path.display());
                if is_system(path) {
                    system.add(s);
                } else if *dir {
                    need(&mut dirs, path.clone(), read, s);
                } else if in_file_tree(path) {
                    need(&mut files, path.clone(), read, s);
                } else {
                    need(&mut dirs, parent(path), read, s);
                }
            }
            Event::Missing(path) => missing.add(sample(&path.display())),
            Event::Exists(path) => existing.add(sample(&path.display())),
            Event::Write(path) => {
                let s = sample(&path.display());
                if in_file_tree(path) {
                    need(&mut files, path.clone(), write, s);
                } else {
                    need(&mut dirs, parent(path), write, s);
                }
            }
            Event::Modify(path) => need(&mut dirs, parent(path), write, sample(&path.display())),
            Event::Exec(path) => {
                let s = sample(&path.display());
                if is_system(path) {
                    system.add(s);
                } else {
                    need(&mut dirs, parent(path), exec, s);
                }
            }
            Event::ProcSelf(path) => proc_self.add(sample(&path.display())),
            Event::Unreadable => unreadable.add(seen.syscall.to_owned()),
            Event::Connect(addr, Some(false)) | Event::Bind(addr, Some(false)) => {
                udp.add(sample(addr));
            }
            Event::Connect(addr, _) => connect
                .entry(addr.to_string())
                .or_default()
                .add(sample(addr)),
            Event::Bind(addr, _) => bind.entry(addr.port()).or_default().add(sample(addr)),
            Event::UnixConnect(path) => {
                let s = sample(&path.display());
                if path.as_os_str().as_encoded_bytes().first() == Some(&b'@') {
                    abstract_unix.add(s);
                } else {
                    unix.entry(path.clone()).or_default().add(s);
                }
            }
        }
    }

    // Vanished directories are not granted.
    let mut gone = Why::default();
    dirs.retain(|path, (_, why)| {
        let keep = exists(path);
        if !keep {
            gone.merge(std::mem::take(why));
        }
        keep
    });

    // Merge each directory (and device file) into its granted ancestors
    // when together they already give everything it needs. BTreeMap order
    // visits a parent before its children, so `kept` holds the ancestors.
    let mut kept: BTreeMap<PathBuf, (Need, Why)> = BTreeMap::new();
    for (path, (n, why)) in dirs {
        match covering_ancestor(&kept, &path, n) {
            Some(into) => {
                if let Some(e) = kept.get_mut(&into) {
                    e.1.merge(why);
                }
            }
            None => {
                kept.insert(path, (n, why));
            }
        }
    }
    let mut kept_files: Vec<(PathBuf, Need, Why)> = Vec::new();
    for (path, (n, why)) in files {
        match covering_ancestor(&kept, &path, n) {
            Some(into) => {
                if let Some(e) = kept.get_mut(&into) {
                    e.1.merge(why);
                }
            }
            None => kept_files.push((path, n, why)),
        }
    }

    let mut learned = Learned {
        policy: PolicyFile {
            version: VERSION,
            system: system.count > 0,
            ..PolicyFile::default()
        },
        system_why: system,
        ..Learned::default()
    };
    for (path, (n, why)) in kept {
        learned.policy.dirs.push(n.grant(path));
        learned.dir_why.push(why);
    }
    for (path, n, why) in kept_files {
        learned.policy.files.push(n.grant(path));
        learned.file_why.push(why);
    }
    for (addr, why) in connect {
        learned.policy.connect.push(AddrGrant { addr });
        learned.connect_why.push(why);
    }
    for (port, why) in bind {
        learned.policy.bind.push(PortGrant { port });
        learned.bind_why.push(why);
    }
    for (path, why) in unix {
        learned.policy.unix_connect.push(PathGrant {
            path,
            access: None,
            rights: None,
        });
        learned.unix_why.push(why);
    }
    for (reason, why) in [
        (
            "paths that did not exist (ENOENT inside the sandbox too)",
            missing,
        ),
        (
            "entries to create that already existed (EEXIST inside the sandbox too)",
            existing,
        ),
        (
            "paths into a process's /proc/PID entry (not grantable by name from outside it)",
            proc_self,
        ),
        ("UDP sockets (not restricted by Landlock)", udp),
        (
            "calls whose arguments could not be read (process_vm_readv refused): what they named is MISSING from this policy",
            unreadable,
        ),
        (
            "abstract unix sockets (no path; Landlock scoping governs them)",
            abstract_unix,
        ),
        ("directories that no longer exist after the run", gone),
    ] {
        if why.count > 0 {
            learned.not_granted.push((reason, why));
        }
    }
    learned
}

/// The nearest ancestor of `path` in `granted` such that the grants of all
/// of `path`'s granted ancestors together cover `need`.
fn covering_ancestor(
    granted: &BTreeMap<PathBuf, (Need, Why)>,
    path: &Path,
    need: Need,
) -> Option<PathBuf> {
    let mut have = Need::default();
    let mut nearest = None;
    for a in path.ancestors().skip(1) {
        if let Some((n, _)) = granted.get(a) {
            have = have.union(*n);
            if nearest.is_none() {
                nearest = Some(a.to_path_buf());
            }
        }
    }
    if have.covers(need) { nearest } else { None }
}

/// Text safe inside a `#` comment: one line, control characters escaped.
fn comment_safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A TOML string literal.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn path_str(p: &Path) -> String {
    quote(&p.to_string_lossy())
}

impl Learned {
    /// The policy file's text: a header, then each grant preceded by a
    /// comment naming the accesses behind it. It parses back
    /// ([`PolicyFile::parse`]) to exactly [`Learned::policy`].
    pub fn render(&self, command: &str, exit: &str, env_names: &[String]) -> String {
        let mut out = String::new();
        let total: usize = [
            self.system_why.count,
            self.dir_why.iter().map(|w| w.count).sum(),
            self.file_why.iter().map(|w| w.count).sum(),
            self.connect_why.iter().map(|w| w.count).sum(),
            self.bind_why.iter().map(|w| w.count).sum(),
            self.unix_why.iter().map(|w| w.count).sum(),
            self.not_granted.iter().map(|(_, w)| w.count).sum(),
        ]
        .iter()
        .sum();
        let line = |out: &mut String, s: &str| {
            out.push_str(s);
            out.push('\n');
        };
        line(
            &mut out,
            &format!(
                "# Written by `ambit learn` from one run of: {}",
                comment_safe(command)
            ),
        );
        line(
            &mut out,
            &format!(
                "# {total} observed accesses; the program {}.",
                comment_safe(exit)
            ),
        );
        line(
            &mut out,
            "# A policy learned from one run covers what that run did, no more: review it.",
        );
        line(
            &mut out,
            "# Environment variables cannot be observed (reading one is a memory read,",
        );
        line(
            &mut out,
            "# not a system call). The names present at start; keep those it needs:",
        );
        let names: Vec<String> = env_names.iter().map(|n| quote(n)).collect();
        line(
            &mut out,
            &comment_safe(&format!("# env = [{}]", names.join(", "))),
        );
        line(&mut out, &format!("version = {}", self.policy.version));
        if self.policy.system {
            line(
                &mut out,
                &format!(
                    "# loader and shared libraries, {}",
                    self.system_why.describe()
                ),
            );
            line(&mut out, "system = true");
        }
        let grant = |out: &mut String, table: &str, g: &PathGrant, why: &Why| {
            out.push('\n');
            line(out, &format!("# {}", why.describe()));
            line(out, &format!("[[{table}]]"));
            line(out, &format!("path = {}", path_str(&g.path)));
            if let Some(a) = &g.access {
                line(out, &format!("access = {}", quote(a)));
            }
            if let Some(r) = &g.rights {
                let r: Vec<String> = r.iter().map(|n| quote(n)).collect();
                line(out, &format!("rights = [{}]", r.join(", ")));
            }
        };
        for (g, why) in self.policy.dirs.iter().zip(&self.dir_why) {
            grant(&mut out, "dir", g, why);
        }
        for (g, why) in self.policy.files.iter().zip(&self.file_why) {
            grant(&mut out, "file", g, why);
        }
        for (g, why) in self.policy.connect.iter().zip(&self.connect_why) {
            out.push('\n');
            line(&mut out, &format!("# {}", why.describe()));
            line(&mut out, "[[connect]]");
            line(&mut out, &format!("addr = {}", quote(&g.addr)));
        }
        for (g, why) in self.policy.bind.iter().zip(&self.bind_why) {
            out.push('\n');
            line(&mut out, &format!("# {}", why.describe()));
            line(&mut out, "[[bind]]");
            line(&mut out, &format!("port = {}", g.port));
        }
        for (g, why) in self.policy.unix_connect.iter().zip(&self.unix_why) {
            out.push('\n');
            line(&mut out, &format!("# {}", why.describe()));
            line(&mut out, "[[unix_connect]]");
            line(&mut out, &format!("path = {}", path_str(&g.path)));
        }
        if !self.not_granted.is_empty() {
            out.push('\n');
            line(&mut out, "# Observed and not granted:");
            for (reason, why) in &self.not_granted {
                line(&mut out, &format!("# - {reason}: {}", why.describe()));
            }
        }
        out
    }
}

/// The parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Learn {
        out: Option<PathBuf>,
        program: OsString,
        args: Vec<OsString>,
    },
}

fn parse(args: Vec<OsString>) -> Result<Command, String> {
    let mut out = None;
    let mut it = args.into_iter();
    loop {
        let Some(arg) = it.next() else {
            return Err("missing `--` before PROGRAM".to_owned());
        };
        match arg.to_str() {
            Some("--help" | "-h") => return Ok(Command::Help),
            Some("--") => break,
            Some("--out") => {
                let file = it.next().ok_or("--out needs a FILE")?;
                out = Some(PathBuf::from(file));
            }
            Some(s) if s.starts_with("--out=") => {
                out = Some(PathBuf::from(&s["--out=".len()..]));
            }
            _ => {
                return Err(format!(
                    "unknown option `{}` (PROGRAM goes after `--`)",
                    arg.to_string_lossy()
                ));
            }
        }
        if out.as_ref().is_some_and(|o| o.as_os_str().is_empty()) {
            return Err("--out needs a non-empty FILE".to_owned());
        }
    }
    let program = it.next().ok_or("missing PROGRAM after `--`")?;
    Ok(Command::Learn {
        out,
        program,
        args: it.collect(),
    })
}

/// Runs `ambit learn` with `args` (the words after `learn`) and returns the
/// program's status (2 when it could not be observed or the policy could not
/// be written).
pub fn main(args: Vec<OsString>) -> ExitCode {
    match parse(args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Learn { out, program, args }) => match learn(out.as_deref(), &program, &args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("ambit learn: {e}");
                ExitCode::from(2)
            }
        },
        Err(e) => {
            eprintln!("ambit learn: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn learn(_out: Option<&Path>, _program: &OsString, _args: &[OsString]) -> Result<ExitCode, String> {
    Err("observing a program needs Linux (seccomp user notification)".to_owned())
}

#[cfg(target_os = "linux")]
fn learn(out: Option<&Path>, program: &OsString, args: &[OsString]) -> Result<ExitCode, String> {
    use std::os::unix::ffi::OsStrExt;

    use cap_runtime::linux::observe::{self, Exit, Program};

    let cstring = |s: &std::ffi::OsStr| {
        std::ffi::CString::new(s.as_bytes())
            .map_err(|_| format!("`{}` contains a NUL byte", s.to_string_lossy()))
    };
    let path = find_program(program)?;
    // A `#!` script runs through its interpreter, as the kernel would run it
    // (a descriptor-executed script cannot reopen itself by path); the
    // script's own execution is recorded here.
    let (exe_path, mut argv, script) = match shebang(&path) {
        Some((interp, arg)) => {
            let mut argv = vec![cstring(interp.as_os_str())?];
            if let Some(arg) = arg {
                argv.push(cstring(&arg)?);
            }
            argv.push(cstring(path.as_os_str())?);
            (interp, argv, Some(path.clone()))
        }
        None => (path.clone(), vec![cstring(program)?], None),
    };
    for a in args {
        argv.push(cstring(a)?);
    }
    let exe = std::fs::File::open(&exe_path).map_err(|e| format!("{}: {e}", exe_path.display()))?;
    let env_vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let env = env_vars
        .iter()
        .map(|(k, v)| {
            let mut kv = k.clone();
            kv.push("=");
            kv.push(v);
            cstring(&kv)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let env_names: Vec<String> = env_vars
        .iter()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();

    let observation = observe::observe(&Program {
        exe: std::os::fd::AsFd::as_fd(&exe),
        args: &argv,
        env: &env,
    })
    .map_err(|e| format!("could not observe {}: {e}", path.display()))?;

    let mut seen: Vec<Seen> = Vec::new();
    if let Some(script) = script {
        seen.push(Seen {
            syscall: "execve",
            event: Event::Exec(std::fs::canonicalize(&script).unwrap_or(script)),
        });
    }
    seen.extend(observation.events.iter().map(Seen::from));
    let learned = collapse(&seen, &|p: &Path| p.exists());

    let (exit_text, code) = match observation.exit {
        Exit::Code(c) => (format!("exited with status {c}"), c & 0xff),
        Exit::Signal(s) => (format!("was killed by signal {s}"), 128 + s),
    };
    let command: Vec<String> = std::iter::once(program)
        .chain(args)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let text = learned.render(&command.join(" "), &exit_text, &env_names);
    // What we write must be what `ambit run --policy` reads.
    debug_assert_eq!(
        PolicyFile::parse(&text, "learned").as_ref(),
        Ok(&learned.policy)
    );
    match out {
        Some(file) => {
            std::fs::write(file, &text).map_err(|e| format!("{}: {e}", file.display()))?;
            eprintln!(
                "ambit learn: wrote {} ({} grants from {} accesses; the program {exit_text})",
                file.display(),
                learned.policy.dirs.len()
                    + learned.policy.files.len()
                    + learned.policy.connect.len()
                    + learned.policy.bind.len()
                    + learned.policy.unix_connect.len()
                    + usize::from(learned.policy.system),
                seen.len(),
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(2)))
}

/// `PROGRAM` as a path: itself when it names a path, else the first match
/// in `PATH` (learn runs unconfined, as the user's shell would run it).
#[cfg(target_os = "linux")]
fn find_program(program: &OsString) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let p = Path::new(program);
    if p.components().count() > 1 || p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let search = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&search)
        .map(|d| d.join(p))
        .find(|c| {
            std::fs::metadata(c).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| format!("{}: not found in PATH", p.display()))
}

/// The interpreter and optional argument of a `#!` script.
#[cfg(target_os = "linux")]
fn shebang(path: &Path) -> Option<(PathBuf, Option<OsString>)> {
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    let line = line.trim_ascii();
    let (interp, rest) = match line.iter().position(|b| *b == b' ' || *b == b'\t') {
        Some(i) => (&line[..i], Some(line[i..].trim_ascii())),
        None => (line, None),
    };
    let rest = rest
        .filter(|r| !r.is_empty())
        .map(|r| std::ffi::OsStr::from_bytes(r).to_os_string());
    Some((PathBuf::from(std::ffi::OsStr::from_bytes(interp)), rest))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn seen(syscall: &'static str, event: Event) -> Seen {
        Seen { syscall, event }
    }

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn dir(path: &str, access: &str) -> PathGrant {
        PathGrant {
            path: p(path),
            access: Some(access.to_owned()),
            rights: None,
        }
    }

    fn all_exist(_: &Path) -> bool {
        true
    }

    #[test]
    fn reads_collapse_to_the_directory_and_writes_make_it_rw() {
        let events = [
            seen(
                "openat",
                Event::Read {
                    path: p("/srv/in/a"),
                    dir: false,
                },
            ),
            seen(
                "openat",
                Event::Read {
                    path: p("/srv/in/b"),
                    dir: false,
                },
            ),
            seen(
                "openat",
                Event::Read {
                    path: p("/srv/in"),
                    dir: true,
                },
            ),
            seen("openat", Event::Write(p("/srv/out/x"))),
            seen("unlinkat", Event::Modify(p("/srv/out/y"))),
            seen("execve", Event::Exec(p("/usr/bin/cat"))),
            seen("execve", Event::Exec(p("/opt/tool/bin/t"))),
        ];
        let l = collapse(&events, &all_exist);
        assert_eq!(
            l.policy,
            PolicyFile {
                version: VERSION,
                dirs: vec![
                    dir("/opt/tool/bin", "exec"),
                    dir("/srv/in", "ro"),
                    dir("/srv/out", "rw"),
                    dir("/usr/bin", "exec"),
                ],
                ..PolicyFile::default()
            }
        );
        assert_eq!(l.dir_why[1].count, 3);
        assert_eq!(
            l.dir_why[1].samples,
            ["openat /srv/in/a", "openat /srv/in/b", "openat /srv/in"]
        );
        assert_eq!(l.dir_why[2].count, 2);
    }

    #[test]
    fn children_merge_into_ancestors_that_cover_them_and_not_otherwise() {
        let events = [
            seen("mkdirat", Event::Modify(p("/w/sub"))),
            seen(
                "openat",
                Event::Read {
                    path: p("/w/sub/deep/f"),
                    dir: false,
                },
            ),
            seen("openat", Event::Write(p("/w/sub/deep/g"))),
            // A read-only parent does not cover a written child.
            seen(
                "openat",
                Event::Read {
                    path: p("/r/f"),
                    dir: false,
                },
            ),
            seen("openat", Event::Write(p("/r/out/f"))),
            // rw and exec together need both.
            seen("openat", Event::Write(p("/b/x"))),
            seen("execve", Event::Exec(p("/b/x"))),
        ];
        let l = collapse(&events, &all_exist);
        let rwx = (crate::policy::RW | crate::policy::EXEC)
            .names()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        assert_eq!(
            l.policy.dirs,
            vec![
                PathGrant {
                    path: p("/b"),
                    access: None,
                    rights: Some(rwx),
                },
                dir("/r", "ro"),
                dir("/r/out", "rw"),
                dir("/w", "rw"),
            ]
        );
        // The merged child's accesses are counted on the parent.
        assert_eq!(l.dir_why[3].count, 3);
    }

    #[test]
    fn system_devices_proc_self_missing_and_vanished_paths() {
        let events = [
            seen(
                "openat",
                Event::Read {
                    path: p("/etc/ld.so.cache"),
                    dir: false,
                },
            ),
            seen(
                "openat",
                Event::Read {
                    path: p("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                    dir: false,
                },
            ),
            seen("openat", Event::Write(p("/dev/null"))),
            seen(
                "openat",
                Event::Read {
                    path: p("/dev/urandom"),
                    dir: false,
                },
            ),
            seen("openat", Event::ProcSelf(p("/proc/self/maps"))),
            seen(
                "openat",
                Event::Read {
                    path: p("/proc/filesystems"),
                    dir: false,
                },
            ),
            seen("openat", Event::Missing(p("/home/u/.config/x"))),
            seen("mkdirat", Event::Exists(p("/home"))),
            seen("mkdirat", Event::Modify(p("/tmp/gone/f"))),
        ];
        let l = collapse(&events, &|path: &Path| path != Path::new("/tmp/gone"));
        assert_eq!(
            l.policy,
            PolicyFile {
                version: VERSION,
                system: true,
                files: vec![
                    dir("/dev/null", "rw"),
                    dir("/dev/urandom", "ro"),
                    dir("/proc/filesystems", "ro"),
                ],
                ..PolicyFile::default()
            }
        );
        assert_eq!(l.system_why.count, 2);
        let reasons: Vec<&str> = l.not_granted.iter().map(|(r, _)| *r).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].contains("did not exist"));
        assert!(reasons[1].contains("already existed"));
        assert!(reasons[2].contains("/proc"));
        assert!(reasons[3].contains("no longer exist"));
    }

    #[test]
    fn sockets_become_connect_bind_and_unix_grants_and_udp_is_noted() {
        let a: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let b: std::net::SocketAddr = "[::]:8080".parse().unwrap();
        let dns: std::net::SocketAddr = "127.0.0.53:53".parse().unwrap();
        let events = [
            seen("connect", Event::Connect(a, Some(true))),
            seen("connect", Event::Connect(a, None)),
            seen("bind", Event::Bind(b, Some(true))),
            seen("connect", Event::Connect(dns, Some(false))),
            seen("connect", Event::UnixConnect(p("/run/app.sock"))),
            seen("connect", Event::UnixConnect(p("@abstract"))),
            seen("openat", Event::Unreadable),
        ];
        let l = collapse(&events, &all_exist);
        assert_eq!(
            l.policy.connect,
            vec![AddrGrant {
                addr: a.to_string()
            }]
        );
        assert_eq!(l.connect_why[0].count, 2);
        assert_eq!(l.policy.bind, vec![PortGrant { port: 8080 }]);
        assert_eq!(l.policy.unix_connect.len(), 1);
        assert_eq!(l.policy.unix_connect[0].path, p("/run/app.sock"));
        assert_eq!(l.not_granted.len(), 3);
        assert!(
            l.not_granted[1].0.contains("MISSING"),
            "{:?}",
            l.not_granted
        );
    }

    #[test]
    fn the_rendered_file_parses_back_to_the_policy_with_a_comment_per_grant() {
        let a: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let events = [
            seen(
                "openat",
                Event::Read {
                    path: p("/srv/in \"quoted\"\n/a"),
                    dir: false,
                },
            ),
            seen("openat", Event::Write(p("/srv/out/x"))),
            seen("execve", Event::Exec(p("/usr/lib/ld.so"))),
            seen("openat", Event::Write(p("/dev/null"))),
            seen("connect", Event::Connect(a, Some(true))),
            seen("bind", Event::Bind(a, Some(true))),
            seen("connect", Event::UnixConnect(p("/run/s"))),
            seen("openat", Event::Missing(p("/nope"))),
        ];
        let l = collapse(&events, &all_exist);
        let text = l.render("sh -c x", "exited with status 0", &["HOME".to_owned()]);
        let parsed = PolicyFile::parse(&text, "learned").unwrap();
        assert_eq!(parsed, l.policy);
        assert!(text.contains("# env = [\"HOME\"]"), "{text}");
        // Every grant table is preceded by its comment.
        let lines: Vec<&str> = text.lines().collect();
        let mut tables = 0;
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("[[") {
                tables += 1;
                assert!(lines[i - 1].starts_with("# 1 access: "), "{text}");
            }
        }
        assert_eq!(tables, 6, "{text}");
        assert!(text.contains("# - paths that did not exist"), "{text}");
    }

    #[test]
    fn the_command_line_needs_the_separator_and_knows_its_options() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(parse(os(&["--help"])), Ok(Command::Help));
        assert_eq!(
            parse(os(&["--out", "p.toml", "--", "sh", "-c", "x"])),
            Ok(Command::Learn {
                out: Some(p("p.toml")),
                program: "sh".into(),
                args: os(&["-c", "x"]),
            })
        );
        assert_eq!(
            parse(os(&["--out=p.toml", "--", "true"])),
            Ok(Command::Learn {
                out: Some(p("p.toml")),
                program: "true".into(),
                args: vec![],
            })
        );
        assert!(
            parse(os(&["sh"]))
                .unwrap_err()
                .contains("unknown option `sh`")
        );
        assert!(parse(os(&[])).unwrap_err().contains("missing `--`"));
        assert!(parse(os(&["--"])).unwrap_err().contains("missing PROGRAM"));
        assert!(parse(os(&["--out"])).unwrap_err().contains("--out needs"));
    }
}
