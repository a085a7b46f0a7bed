//! The catalogue of ambient-authority APIs: one entry per item, as data.
//!
//! Every entry names an API that reaches the filesystem, the network, other
//! processes or the process environment *by name* (a path, an address, a
//! program name, a variable name) rather than through a handle the caller was
//! given. The syntactic tier matches calls against this table; the precise tier
//! turns the same table into clippy's `disallowed-methods`
//! (see [`crate::precise`]); `cargo cap-lint --list` prints it.

use std::fmt;

mod crates;

/// What kind of authority an API uses.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Files and directories named by path.
    Fs,
    /// Sockets connected, bound or resolved by address or name.
    Net,
    /// Programs started by name, or the process image replaced.
    Process,
    /// The process environment: variables, the working directory, well-known dirs.
    Env,
    /// Raw system-call wrappers (`libc`, `nix`, `rustix`) that open or connect by name.
    Ffi,
    /// An escape hatch inside a `#[sandboxed]` body: the ambient token used
    /// after the lock, or a handle turned back into (or made from) a std type.
    Escape,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 6] = [
        Self::Fs,
        Self::Net,
        Self::Process,
        Self::Env,
        Self::Ffi,
        Self::Escape,
    ];

    /// The lowercase name used in codes and in `cap-lint.toml` (`fs`, `net`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fs => "fs",
            Self::Net => "net",
            Self::Process => "process",
            Self::Env => "env",
            Self::Ffi => "ffi",
            Self::Escape => "escape",
        }
    }

    /// The lint code of findings in this category, e.g. `ambient::fs`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Fs => "ambient::fs",
            Self::Net => "ambient::net",
            Self::Process => "ambient::process",
            Self::Env => "ambient::env",
            Self::Ffi => "ambient::ffi",
            Self::Escape => "ambient::escape",
        }
    }

    /// Parses a category name as written in `cap-lint.toml`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much authority a call exercises. `--deny LEVEL` fails on findings at or
/// above `LEVEL`.
///
/// - `high`: opens, creates, changes or removes files; connects or binds
///   sockets; starts programs; changes the environment or working directory.
/// - `medium`: asks about the world without changing it or reading contents:
///   metadata and existence checks, canonicalisation, DNS resolution.
/// - `low`: reads the process environment (variables, working directory,
///   well-known directories). Reads are lower than writes because a write
///   changes what every other part of the process sees.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reads of the process environment.
    Low,
    /// Queries that reveal but do not change or read contents.
    Medium,
    /// Opens, connects, spawns, writes.
    High,
}

impl Severity {
    /// The lowercase name (`low`, `medium`, `high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// Parses `low`, `medium` or `high`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an API is reached in source, which decides how it is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A free or associated function called by path (`std::fs::read`,
    /// `File::open`), or used as a value (`.map(std::fs::read)`).
    Function,
    /// An inherent method, matched on a receiver whose type is evident
    /// (`Path::new(p).exists()`, `OpenOptions::new().open(p)`) or in UFCS form.
    /// The receiver type is the path without its last segment.
    Method,
    /// A trait method, matched by name wherever the trait is in scope
    /// (`cmd.exec()` with `CommandExt` imported), or in UFCS form.
    TraitMethod,
    /// A constant or static whose use grants ambient authority (`rustix::fs::CWD`).
    Value,
}

/// One ambient-authority API.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Api {
    /// The canonical path, e.g. `std::fs::read` or `std::path::Path::exists`.
    pub path: String,
    /// How it is matched.
    pub kind: Kind,
    /// Its category (decides the lint code).
    pub category: Category,
    /// Its severity.
    pub severity: Severity,
    /// What it does by name, e.g. "reads a whole file by path".
    pub message: String,
    /// The capability form to use instead.
    pub help: String,
}

impl Api {
    /// The lint code, e.g. `ambient::fs`.
    pub fn code(&self) -> &'static str {
        self.category.code()
    }

    /// The last segment of the path (the function or method name).
    pub fn name(&self) -> &str {
        self.path.rsplit("::").next().unwrap_or(&self.path)
    }

    /// The path without its last segment: the module, type or trait.
    pub fn owner(&self) -> &str {
        self.path.rsplit_once("::").map_or("", |(owner, _)| owner)
    }
}

struct Row(
    &'static str,
    Kind,
    Category,
    Severity,
    &'static str,
    &'static str,
);

use Category::{Env, Ffi, Fs, Net, Process};
use Kind::{Function as F, Method as M, TraitMethod as T, Value as V};
use Severity::{High, Low, Medium};

const DIR: &str = "use a method of a pre-opened `cap_core::fs::Dir` handle passed in";
const NET: &str = "use a pre-opened `cap_core::net` handle (listener, stream or socket) passed in, or a `Net` grant resolved before the sandbox";
const PROC: &str =
    "use a pre-opened executable handle with the `Exec` right (or do the work in-process)";
const ENV_READ: &str = "read it once in `main` and pass the value in as configuration";
const ENV_WRITE: &str = "pass configuration explicitly instead of changing the process environment";
const FFI: &str = "use an `*at` call on a pre-opened directory fd (`AsFd` of a `cap_core::fs::Dir`), or a `cap_core` handle";
const FFI_NET: &str = "use a socket from a pre-opened `cap_core::net` handle";

macro_rules! fs_family {
    ($root:literal, $($name:literal, $sev:ident, $msg:literal, $help:literal);* $(;)?) => {
        [$(Row(concat!($root, "::", $name), F, Fs, $sev, $msg, concat!("use `Dir::", $help, "` on a `cap_core::fs::Dir` handle passed in"))),*]
    };
}

/// The `std::fs` free functions, shared in shape by the `tokio::fs` and
/// `async_std::fs` mirrors.
macro_rules! std_fs_like {
    ($root:literal) => {
        fs_family!($root,
            "canonicalize", Medium, "resolves a path against the whole filesystem", "canonicalize";
            "copy", High, "copies a file named by path", "copy";
            "create_dir", High, "creates a directory by path", "create_dir";
            "create_dir_all", High, "creates directories by path", "create_dir_all";
            "hard_link", High, "creates a hard link by path", "hard_link";
            "metadata", Medium, "reads metadata by path", "metadata";
            "read", High, "reads a whole file by path", "read";
            "read_dir", High, "lists a directory by path", "read_dir";
            "read_link", Medium, "reads a symlink by path", "read_link";
            "read_to_string", High, "reads a whole file by path", "read_to_string";
            "remove_dir", High, "removes a directory by path", "remove_dir";
            "remove_dir_all", High, "removes a directory tree by path", "remove_dir_all";
            "remove_file", High, "removes a file by path", "remove_file";
            "rename", High, "renames a file by path", "rename";
            "set_permissions", High, "changes permissions by path", "set_permissions";
            "symlink_metadata", Medium, "reads symlink metadata by path", "symlink_metadata";
            "write", High, "writes a whole file by path", "write";
        )
    };
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    rows.extend(std_fs_like!("std::fs"));
    rows.extend(fs_family!("std::fs",
        "exists", Medium, "checks existence by path", "exists";
        "soft_link", High, "creates a symlink by path", "symlink";
    ));
    rows.extend(std_fs_like!("tokio::fs"));
    rows.extend(fs_family!("tokio::fs",
        "try_exists", Medium, "checks existence by path", "try_exists";
        "symlink", High, "creates a symlink by path", "symlink";
    ));
    rows.extend(std_fs_like!("async_std::fs"));
    for root in ["std::fs", "tokio::fs", "async_std::fs"] {
        for (func, msg) in [
            ("File::open", "opens a file by path"),
            ("File::create", "creates a file by path"),
            ("File::create_new", "creates a file by path"),
        ] {
            let path: &'static str = leak(format!("{root}::{func}"));
            let help = leak(format!(
                "use `Dir::{}` on a `cap_core::fs::Dir` handle passed in",
                func.trim_start_matches("File::")
            ));
            rows.push(Row(path, F, Fs, High, msg, help));
        }
        rows.push(Row(
            leak(format!("{root}::OpenOptions::open")),
            M,
            Fs,
            High,
            "opens a file by path",
            "use `Dir::open_with` on a `cap_core::fs::Dir` handle passed in",
        ));
        rows.push(Row(
            leak(format!("{root}::DirBuilder::create")),
            M,
            Fs,
            High,
            "creates a directory by path",
            "use `Dir::create_dir_with` on a `cap_core::fs::Dir` handle passed in",
        ));
    }
    for root in ["std::path::Path", "async_std::path::Path"] {
        for (name, msg) in [
            ("metadata", "reads metadata by path"),
            ("exists", "checks existence by path"),
            ("try_exists", "checks existence by path"),
            ("is_file", "checks the file type by path"),
            ("is_dir", "checks the file type by path"),
            ("is_symlink", "checks the file type by path"),
            ("read_dir", "lists a directory by path"),
            ("read_link", "reads a symlink by path"),
            (
                "canonicalize",
                "resolves a path against the whole filesystem",
            ),
            ("symlink_metadata", "reads symlink metadata by path"),
        ] {
            let sev = if name == "read_dir" { High } else { Medium };
            let help = leak(format!(
                "use `Dir::{}` on a `cap_core::fs::Dir` handle passed in",
                dir_twin(name)
            ));
            rows.push(Row(leak(format!("{root}::{name}")), M, Fs, sev, msg, help));
        }
    }
    rows.extend([
        Row(
            "std::path::absolute",
            F,
            Fs,
            Medium,
            "resolves a path against the process working directory",
            "keep paths relative to a `cap_core::fs::Dir` handle passed in",
        ),
        Row(
            "std::os::unix::fs::symlink",
            F,
            Fs,
            High,
            "creates a symlink by path",
            "use `Dir::symlink` on a `cap_core::fs::Dir` handle passed in",
        ),
        Row(
            "std::os::unix::fs::chown",
            F,
            Fs,
            High,
            "changes ownership by path",
            DIR,
        ),
        Row(
            "std::os::unix::fs::lchown",
            F,
            Fs,
            High,
            "changes ownership by path",
            DIR,
        ),
        Row(
            "std::os::unix::fs::chroot",
            F,
            Fs,
            High,
            "changes the root directory by path",
            "enter capability mode with `#[sandboxed]` instead",
        ),
        Row(
            "std::os::unix::fs::mkfifo",
            F,
            Fs,
            High,
            "creates a FIFO by path",
            DIR,
        ),
        Row(
            "async_std::os::unix::fs::symlink",
            F,
            Fs,
            High,
            "creates a symlink by path",
            "use `Dir::symlink` on a `cap_core::fs::Dir` handle passed in",
        ),
    ]);
    // Networking.
    for root in ["std::net", "tokio::net", "async_std::net"] {
        rows.extend([
            Row(
                leak(format!("{root}::TcpStream::connect")),
                F,
                Net,
                High,
                "connects to an address by name",
                NET,
            ),
            Row(
                leak(format!("{root}::TcpListener::bind")),
                F,
                Net,
                High,
                "binds a listening socket by address",
                NET,
            ),
            Row(
                leak(format!("{root}::UdpSocket::bind")),
                F,
                Net,
                High,
                "binds a socket by address",
                NET,
            ),
            Row(
                leak(format!("{root}::UdpSocket::connect")),
                M,
                Net,
                High,
                "connects a socket to an address by name",
                NET,
            ),
            Row(
                leak(format!("{root}::UdpSocket::send_to")),
                M,
                Net,
                High,
                "sends to an address by name",
                NET,
            ),
        ]);
    }
    rows.extend([
        Row(
            "std::net::TcpStream::connect_timeout",
            F,
            Net,
            High,
            "connects to an address by name",
            NET,
        ),
        Row(
            "std::net::ToSocketAddrs::to_socket_addrs",
            T,
            Net,
            Medium,
            "resolves a host name (DNS)",
            "resolve addresses before the sandbox and pass a `Net` grant in",
        ),
        Row(
            "async_std::net::ToSocketAddrs::to_socket_addrs",
            T,
            Net,
            Medium,
            "resolves a host name (DNS)",
            "resolve addresses before the sandbox and pass a `Net` grant in",
        ),
        Row(
            "tokio::net::lookup_host",
            F,
            Net,
            Medium,
            "resolves a host name (DNS)",
            "resolve addresses before the sandbox and pass a `Net` grant in",
        ),
        Row(
            "tokio::net::TcpSocket::connect",
            M,
            Net,
            High,
            "connects to an address by name",
            NET,
        ),
        Row(
            "tokio::net::TcpSocket::bind",
            M,
            Net,
            High,
            "binds a socket by address",
            NET,
        ),
    ]);
    for root in [
        "std::os::unix::net",
        "tokio::net",
        "async_std::os::unix::net",
    ] {
        rows.extend([
            Row(
                leak(format!("{root}::UnixStream::connect")),
                F,
                Net,
                High,
                "connects to a socket by path",
                NET,
            ),
            Row(
                leak(format!("{root}::UnixListener::bind")),
                F,
                Net,
                High,
                "binds a socket by path",
                NET,
            ),
            Row(
                leak(format!("{root}::UnixDatagram::bind")),
                F,
                Net,
                High,
                "binds a socket by path",
                NET,
            ),
            Row(
                leak(format!("{root}::UnixDatagram::connect")),
                M,
                Net,
                High,
                "connects a socket to a path",
                NET,
            ),
            Row(
                leak(format!("{root}::UnixDatagram::send_to")),
                M,
                Net,
                High,
                "sends to a socket by path",
                NET,
            ),
        ]);
    }
    rows.extend([
        Row(
            "std::os::unix::net::UnixStream::connect_addr",
            F,
            Net,
            High,
            "connects to a socket by address",
            NET,
        ),
        Row(
            "std::os::unix::net::UnixListener::bind_addr",
            F,
            Net,
            High,
            "binds a socket by address",
            NET,
        ),
        Row(
            "std::os::unix::net::UnixDatagram::bind_addr",
            F,
            Net,
            High,
            "binds a socket by address",
            NET,
        ),
    ]);
    // Processes.
    rows.extend([
        Row(
            "std::process::Command::new",
            F,
            Process,
            High,
            "starts a program named by path or `PATH` lookup",
            PROC,
        ),
        Row(
            "std::os::unix::process::CommandExt::exec",
            T,
            Process,
            High,
            "replaces the process image with a program named by path",
            PROC,
        ),
        Row(
            "tokio::process::Command::new",
            F,
            Process,
            High,
            "starts a program named by path or `PATH` lookup",
            PROC,
        ),
        Row(
            "async_std::process::Command::new",
            F,
            Process,
            High,
            "starts a program named by path or `PATH` lookup",
            PROC,
        ),
    ]);
    // The process environment.
    rows.extend([
        Row("std::env::set_current_dir", F, Env, High, "changes the working directory of the whole process", "pass a `cap_core::fs::Dir` handle instead of changing directory"),
        Row("std::env::set_var", F, Env, High, "changes the environment of the whole process", ENV_WRITE),
        Row("std::env::remove_var", F, Env, High, "changes the environment of the whole process", ENV_WRITE),
        Row("std::env::current_dir", F, Env, Low, "reads the process working directory", "pass a `cap_core::fs::Dir` handle in instead of a path relative to the working directory"),
        Row("std::env::var", F, Env, Low, "reads an environment variable", ENV_READ),
        Row("std::env::var_os", F, Env, Low, "reads an environment variable", ENV_READ),
        Row("std::env::vars", F, Env, Low, "reads the whole environment", ENV_READ),
        Row("std::env::vars_os", F, Env, Low, "reads the whole environment", ENV_READ),
        Row("std::env::home_dir", F, Env, Low, "reads the home directory from the environment", "pass a pre-opened `cap_core::fs::Dir` for it in"),
        Row("std::env::temp_dir", F, Env, Low, "reads the temporary directory from the environment", "pass a pre-opened `cap_core::fs::Dir` for it in"),
        Row("std::env::current_exe", F, Env, Low, "reads the path of the running executable", ENV_READ),
    ]);
    // Raw system calls that open, create, execute or connect by name.
    for name in [
        "open", "open64", "creat", "fopen", "stat", "lstat", "access", "mkdir", "mknod", "mkfifo",
        "unlink", "rmdir", "rename", "link", "symlink", "readlink", "realpath", "chmod", "chown",
        "lchown", "truncate", "opendir", "chdir", "chroot", "execv", "execve", "execvp", "execl",
        "execlp", "system", "popen",
    ] {
        rows.push(Row(
            leak(format!("libc::{name}")),
            F,
            Ffi,
            High,
            "a system call that takes a path",
            FFI,
        ));
    }
    for name in ["connect", "bind", "sendto", "getaddrinfo"] {
        rows.push(Row(
            leak(format!("libc::{name}")),
            F,
            Ffi,
            High,
            "a system call that connects, binds or resolves by address",
            FFI_NET,
        ));
    }
    rows.push(Row(
        "libc::AT_FDCWD",
        V,
        Ffi,
        High,
        "the working directory as an `*at` base: every path is reachable",
        FFI,
    ));
    for path in [
        "nix::fcntl::open",
        "nix::sys::stat::stat",
        "nix::sys::stat::lstat",
        "nix::sys::stat::mknod",
        "nix::unistd::mkdir",
        "nix::unistd::mkfifo",
        "nix::unistd::unlink",
        "nix::unistd::chdir",
        "nix::unistd::chroot",
        "nix::unistd::chown",
        "nix::unistd::truncate",
        "nix::unistd::execv",
        "nix::unistd::execve",
        "nix::unistd::execvp",
        "nix::dir::Dir::open",
        "rustix::fs::open",
        "rustix::fs::stat",
        "rustix::fs::lstat",
        "rustix::fs::access",
        "rustix::fs::chmod",
        "rustix::fs::mkdir",
        "rustix::fs::unlink",
        "rustix::fs::rmdir",
        "rustix::fs::rename",
        "rustix::fs::symlink",
        "rustix::fs::readlink",
        "rustix::process::chdir",
        "rustix::process::chroot",
    ] {
        rows.push(Row(
            path,
            F,
            Ffi,
            High,
            "a system call that takes a path",
            FFI,
        ));
    }
    for path in [
        "nix::sys::socket::connect",
        "nix::sys::socket::bind",
        "nix::sys::socket::sendto",
        "rustix::net::connect",
        "rustix::net::bind",
        "rustix::net::sendto",
    ] {
        rows.push(Row(
            path,
            F,
            Ffi,
            High,
            "a system call that connects, binds or sends by address",
            FFI_NET,
        ));
    }
    rows.push(Row(
        "rustix::fs::CWD",
        V,
        Ffi,
        High,
        "the working directory as an `*at` base: every path is reachable",
        FFI,
    ));
    rows.extend(crates::rows());
    rows
}

/// The `Dir` method that replaces a `Path` method.
fn dir_twin(name: &str) -> &str {
    match name {
        "try_exists" => "try_exists",
        "is_file" | "is_dir" | "is_symlink" => "metadata",
        other => other,
    }
}

/// Interns a generated string for the `'static` table. Called only while the
/// catalogue is built, once per process.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The built-in catalogue, sorted by path. Built once per process.
pub fn builtin() -> &'static [Api] {
    static CATALOGUE: std::sync::OnceLock<Vec<Api>> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut apis: Vec<Api> = rows()
            .into_iter()
            .map(|Row(path, kind, category, severity, message, help)| Api {
                path: path.to_owned(),
                kind,
                category,
                severity,
                message: message.to_owned(),
                help: help.to_owned(),
            })
            .collect();
        apis.sort_by(|a, b| a.path.cmp(&b.path));
        apis
    })
}

/// The escape hatches flagged inside `#[sandboxed]` bodies (not matched
/// like catalogue entries: by name, inside those bodies only).
pub(crate) fn escapes() -> &'static [Api] {
    static ESCAPES: std::sync::OnceLock<Vec<Api>> = std::sync::OnceLock::new();
    ESCAPES.get_or_init(|| {
        let api = |path: &str, message: &str, help: &str| Api {
            path: path.to_owned(),
            kind: Kind::Function,
            category: Category::Escape,
            severity: Severity::High,
            message: message.to_owned(),
            help: help.to_owned(),
        };
        vec![
            api(
                "cap_core::ambient_authority",
                "uses the ambient token after the sandbox is entered",
                "declare the resource in `#[sandboxed(…)]` so it is pre-opened before the lock",
            ),
            api(
                "cap_core::*::into_std",
                "turns a capability handle back into a std type, whose methods reach by name",
                "keep the `cap_core` handle and use its methods",
            ),
            api(
                "cap_core::*::from_std",
                "makes a capability handle from a std value opened by name",
                "declare the resource in `#[sandboxed(…)]` and take the handle as a parameter",
            ),
        ]
    })
}

/// Types that deref to another type whose methods they share
/// (`PathBuf` → `Path`).
pub(crate) fn deref_target(ty: &str) -> Option<&'static str> {
    match ty {
        "std::path::PathBuf" => Some("std::path::Path"),
        "async_std::path::PathBuf" => Some("async_std::path::Path"),
        _ => None,
    }
}

/// Other public paths of the same item (std re-exports), mapped to the path the
/// catalogue uses.
pub(crate) fn canonical_alias(path: &str) -> Option<String> {
    const PREFIXES: &[(&str, &str)] = &[
        (
            "std::os::unix::prelude::CommandExt",
            "std::os::unix::process::CommandExt",
        ),
        ("core::net::", "std::net::"),
    ];
    for (from, to) in PREFIXES {
        if let Some(rest) = path.strip_prefix(from) {
            return Some(format!("{to}{rest}"));
        }
    }
    None
}

/// The catalogue indexed for matching: by path, by trait-method name, and the
/// set of path prefixes (so a glob import can tell whether `use std::fs::*`
/// brings in a catalogued name).
pub struct Index {
    apis: Vec<Api>,
    by_path: std::collections::HashMap<String, usize>,
    prefixes: std::collections::HashSet<String>,
    trait_methods: std::collections::HashMap<String, Vec<usize>>,
    tracked_types: std::collections::HashSet<String>,
    names: std::collections::HashSet<String>,
    method_names: std::collections::HashSet<String>,
    /// The pre-filter's reading of these entries, built on first use.
    prefilter: std::sync::OnceLock<crate::prefilter::Filter>,
}

impl Index {
    /// A fingerprint of the indexed entries (for caches of results that
    /// depend on the catalogue).
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(&self.apis)
            .unwrap_or_default()
            .hash(&mut h);
        h.finish()
    }

    /// Indexes `apis` (the built-in catalogue plus any configured extras).
    /// A later entry with the same path replaces an earlier one.
    pub fn new(apis: impl IntoIterator<Item = Api>) -> Self {
        let mut index = Index {
            apis: Vec::new(),
            by_path: std::collections::HashMap::new(),
            prefixes: std::collections::HashSet::new(),
            trait_methods: std::collections::HashMap::new(),
            tracked_types: std::collections::HashSet::new(),
            names: std::collections::HashSet::new(),
            method_names: std::collections::HashSet::new(),
            prefilter: std::sync::OnceLock::new(),
        };
        for api in apis {
            if let Some(&i) = index.by_path.get(&api.path) {
                // A configured entry replaces the built-in one of the same path.
                index.names.insert(api.name().to_owned());
                if api.kind == Kind::Method {
                    index.tracked_types.insert(api.owner().to_owned());
                    index.method_names.insert(api.name().to_owned());
                }
                index.apis[i] = api;
                continue;
            }
            let id = index.apis.len();
            let mut prefix = String::new();
            for (n, seg) in api.path.split("::").enumerate() {
                if n > 0 {
                    prefix.push_str("::");
                }
                prefix.push_str(seg);
                index.prefixes.insert(prefix.clone());
            }
            index.names.insert(api.name().to_owned());
            match api.kind {
                Kind::TraitMethod => index
                    .trait_methods
                    .entry(api.name().to_owned())
                    .or_default()
                    .push(id),
                Kind::Method => {
                    index.tracked_types.insert(api.owner().to_owned());
                    index.method_names.insert(api.name().to_owned());
                }
                Kind::Function | Kind::Value => {}
            }
            index.by_path.insert(api.path.clone(), id);
            index.apis.push(api);
        }
        for (from, ()) in [("std::path::PathBuf", ()), ("async_std::path::PathBuf", ())] {
            index.tracked_types.insert(from.to_owned());
        }
        index
    }

    /// The pre-filter for these entries (built once).
    pub(crate) fn prefilter(&self) -> &crate::prefilter::Filter {
        self.prefilter
            .get_or_init(|| crate::prefilter::Filter::new(self))
    }

    /// The built-in catalogue, indexed.
    pub fn builtin() -> Self {
        Self::new(builtin().iter().cloned())
    }

    /// Every entry, in insertion order.
    pub fn apis(&self) -> &[Api] {
        &self.apis
    }

    /// The entry with this id.
    pub fn get(&self, id: usize) -> &Api {
        &self.apis[id]
    }

    /// The entry for a resolved path (a function, a value, or a method in UFCS
    /// form, also through `PathBuf` → `Path`).
    pub fn by_path(&self, path: &str) -> Option<usize> {
        if let Some(&id) = self.by_path.get(path) {
            return Some(id);
        }
        let (owner, name) = path.rsplit_once("::")?;
        let target = deref_target(owner)?;
        self.by_path.get(&format!("{target}::{name}")).copied()
    }

    /// The method entry `name` on a receiver of type `ty` (or what it derefs to).
    pub fn method_on(&self, ty: &str, name: &str) -> Option<usize> {
        let mut ty = Some(ty);
        while let Some(t) = ty {
            if let Some(&id) = self.by_path.get(&format!("{t}::{name}"))
                && self.apis[id].kind == Kind::Method
            {
                return Some(id);
            }
            ty = deref_target(t);
        }
        None
    }

    /// Trait-method entries named `name`.
    pub fn trait_methods(&self, name: &str) -> &[usize] {
        self.trait_methods.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether some entry's path starts with (or is) `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.prefixes.contains(prefix)
    }

    /// Whether some entry's path ends in `name`.
    pub fn is_name(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Whether some inherent-method entry is named `name`.
    pub fn is_method_name(&self, name: &str) -> bool {
        self.method_names.contains(name)
    }

    /// Whether method calls on values of this type are checked.
    pub fn is_tracked_type(&self, ty: &str) -> bool {
        self.tracked_types.contains(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_std_fs_function_is_listed() {
        let std_fs = [
            "canonicalize",
            "copy",
            "create_dir",
            "create_dir_all",
            "exists",
            "hard_link",
            "metadata",
            "read",
            "read_dir",
            "read_link",
            "read_to_string",
            "remove_dir",
            "remove_dir_all",
            "remove_file",
            "rename",
            "set_permissions",
            "soft_link",
            "symlink_metadata",
            "write",
        ];
        for name in std_fs {
            let path = format!("std::fs::{name}");
            assert!(builtin().iter().any(|a| a.path == path), "{path} missing");
        }
    }

    #[test]
    fn paths_are_unique_and_every_entry_has_text() {
        let apis = builtin();
        for pair in apis.windows(2) {
            assert_ne!(pair[0].path, pair[1].path, "duplicate entry");
        }
        for api in apis {
            assert!(
                !api.message.is_empty() && !api.help.is_empty(),
                "{} lacks text",
                api.path
            );
            assert!(api.path.contains("::"), "{} is not a path", api.path);
        }
    }

    #[test]
    fn env_reads_rank_below_env_writes() {
        let sev = |p: &str| builtin().iter().find(|a| a.path == p).unwrap().severity;
        assert!(sev("std::env::var") < sev("std::env::set_var"));
        assert_eq!(sev("std::env::current_dir"), Severity::Low);
        assert_eq!(sev("std::env::set_current_dir"), Severity::High);
    }
}
