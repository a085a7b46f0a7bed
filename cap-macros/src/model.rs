//! The typed model of a declaration: what the attribute says, with spans kept
//! for the errors of the later stages.

use proc_macro2::Span;
use syn::{Ident, LitInt, LitStr};

/// A resource kind: how the value of a declaration is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Exec,
    Listen,
    Udp,
    Connect,
    UnixListen,
    UnixConnect,
    Program,
    /// A list of files: every value given (`Vec<File<R>>`).
    Files,
    /// A list of directories: every value given (`Vec<Dir<R>>`).
    Dirs,
    /// A broker resolver service (`cap_core::broker::Resolver`).
    Resolve,
    /// A broker fileargs service (`cap_core::broker::FileArgs<R>`).
    FileArgs,
    /// A broker logger service (`cap_core::broker::Logger`).
    Syslog,
}

impl Kind {
    /// Every kind with its spelling, in the order the reference lists them.
    pub(crate) const ALL: [(Kind, &'static str); 14] = [
        (Kind::Dir, "dir"),
        (Kind::File, "file"),
        (Kind::Exec, "exec"),
        (Kind::Listen, "listen"),
        (Kind::Udp, "udp"),
        (Kind::Connect, "connect"),
        (Kind::UnixListen, "unix_listen"),
        (Kind::UnixConnect, "unix_connect"),
        (Kind::Program, "program"),
        (Kind::Files, "files"),
        (Kind::Dirs, "dirs"),
        (Kind::Resolve, "resolve"),
        (Kind::FileArgs, "fileargs"),
        (Kind::Syslog, "syslog"),
    ];

    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    pub(crate) fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    }

    /// For a list kind, the kind of each element.
    pub(crate) fn element(self) -> Option<Kind> {
        match self {
            Kind::Files => Some(Kind::File),
            Kind::Dirs => Some(Kind::Dir),
            _ => None,
        }
    }

    /// Whether this kind is a broker service (started by the prologue
    /// before the lock; its arguments are not a value's sources).
    pub(crate) fn is_service(self) -> bool {
        matches!(self, Kind::Resolve | Kind::FileArgs | Kind::Syslog)
    }

    pub(crate) fn list() -> String {
        Self::ALL
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where a positional `arg` source reads: a `--flag` or the n-th positional
/// argument (1-based, flags and their values not counted).
#[derive(Clone, Debug)]
pub(crate) enum ArgSource {
    Flag(LitStr),
    Position(LitInt),
}

/// Where a declaration's value comes from, tried in this order: the command
/// line, the environment, the default; or an expression alone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sources {
    pub(crate) arg: Option<ArgSource>,
    pub(crate) env: Option<LitStr>,
    pub(crate) default: Option<LitStr>,
    /// `from = EXPR`: the value computed by an expression (exclusive).
    pub(crate) from: Option<syn::Expr>,
}

/// The arguments of a broker service declaration:
/// `resolve("*.example.com", ..)`, `fileargs(root = "/srv/in", ..)`,
/// `syslog(path = "/dev/log", format = "rfc5424")`, or `from = EXPR` alone
/// (a `ResolverConfig`, the roots as `Vec<Dir<R>>`, a `SyslogWriter`).
#[derive(Clone, Debug, Default)]
pub(crate) struct ServiceArgs {
    /// `resolve`'s name patterns.
    pub(crate) patterns: Vec<LitStr>,
    /// `fileargs`'s roots.
    pub(crate) roots: Vec<LitStr>,
    /// `syslog`'s socket path.
    pub(crate) path: Option<LitStr>,
    /// `syslog`'s format: `rfc3164`, `rfc5424` or `journald`.
    pub(crate) format: Option<LitStr>,
    /// The service's configuration computed by an expression (exclusive).
    pub(crate) from: Option<syn::Expr>,
}

/// One declared resource: `site = dir(arg = "--root", default = "site")`.
#[derive(Clone, Debug)]
pub(crate) struct Declaration {
    pub(crate) name: Ident,
    pub(crate) kind: Kind,
    pub(crate) kind_span: Span,
    pub(crate) sources: Sources,
    /// For a broker service kind, its arguments (and `sources` is empty).
    pub(crate) service: Option<Box<ServiceArgs>>,
}

/// `mode = strict | best_effort`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Mode {
    #[default]
    Strict,
    BestEffort,
}

/// Everything the attribute says.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attribute {
    pub(crate) declarations: Vec<Declaration>,
    pub(crate) mode: Mode,
    pub(crate) report: bool,
    /// `flags = ["-i", ..]`: the program's own flags without a value.
    pub(crate) flags: Vec<LitStr>,
    /// `value_flags = ["-e", ..]`: the program's own flags with a value.
    pub(crate) value_flags: Vec<LitStr>,
    /// `args = ["FROM", ..]`: the program's own positional arguments, 1 and on.
    pub(crate) args: Vec<LitStr>,
    /// `open_files = max | N`: the soft limit on open descriptors to raise.
    pub(crate) open_files: Option<OpenFiles>,
}

/// `open_files = ..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpenFiles {
    /// `max`: the hard limit.
    Max,
    /// A number of descriptors.
    AtLeast(u64),
}
