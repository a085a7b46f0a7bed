//! [`Resolver`]: the authority to resolve host names that match declared
//! patterns, and [`NamePattern`], the patterns.
//!
//! A pattern is a host name (`api.example.com`) or a wildcard over the
//! labels left of a suffix:
//!
//! - `*.example.com` matches exactly **one** label before `example.com`
//!   (`api.example.com`, not `a.b.example.com`), as a wildcard in a TLS
//!   certificate does;
//! - `**.example.com` matches **one or more** labels (`a.b.example.com` too).
//!
//! Neither matches `example.com` itself; declare it as well if it is meant.
//! Matching ignores case. A name or pattern with a final dot is refused (not
//! silently stripped), an internationalised name must be written in its ASCII
//! (`xn--`) form, and an IP address is not a name.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;

mod service;

pub use service::ResolverConfig;

use super::dns::check_name;
use crate::AmbientAuthority;
use crate::sandbox::{Grant, Policy};

/// A host-name pattern: `api.example.com`, `*.example.com` (one label) or
/// `**.example.com` (one or more labels). See the [module](self) docs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NamePattern {
    kind: PatternKind,
    /// The whole name for `Exact`, the suffix after `*.`/`**.` otherwise.
    name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PatternKind {
    Exact,
    OneLabel,
    AnyLabels,
}

impl NamePattern {
    /// Parses a pattern; the error names it and says what is wrong.
    pub fn parse(pattern: &str) -> io::Result<NamePattern> {
        let (kind, rest) = if let Some(rest) = pattern.strip_prefix("**.") {
            (PatternKind::AnyLabels, rest)
        } else if let Some(rest) = pattern.strip_prefix("*.") {
            (PatternKind::OneLabel, rest)
        } else {
            (PatternKind::Exact, pattern)
        };
        if rest.contains('*') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "name pattern `{pattern}`: a wildcard is only `*.` (one label) or `**.` (one or more) at the start"
                ),
            ));
        }
        let name = check_name(rest)
            .map_err(|e| io::Error::new(e.kind(), format!("name pattern `{pattern}`: {e}")))?;
        if kind != PatternKind::Exact && !name.contains('.') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "name pattern `{pattern}` would match every name under a top-level domain; name at least two labels after the wildcard"
                ),
            ));
        }
        Ok(NamePattern { kind, name })
    }

    /// Whether `name` (checked and lower-cased, as [`Resolver`] passes it)
    /// matches.
    pub fn matches(&self, name: &str) -> bool {
        match self.kind {
            PatternKind::Exact => name == self.name,
            PatternKind::OneLabel | PatternKind::AnyLabels => {
                let Some(head) = name
                    .strip_suffix(self.name.as_str())
                    .and_then(|h| h.strip_suffix('.'))
                else {
                    return false;
                };
                !head.is_empty() && (self.kind == PatternKind::AnyLabels || !head.contains('.'))
            }
        }
    }

    /// Whether every name `other` matches, this one matches too.
    pub fn covers(&self, other: &NamePattern) -> bool {
        let under =
            |suffix: &str| suffix == self.name || suffix.ends_with(&format!(".{}", self.name));
        match (other.kind, self.kind) {
            (PatternKind::Exact, _) => self.matches(&other.name),
            (_, PatternKind::Exact) | (PatternKind::AnyLabels, PatternKind::OneLabel) => false,
            (PatternKind::OneLabel, PatternKind::OneLabel) => other.name == self.name,
            (PatternKind::OneLabel | PatternKind::AnyLabels, PatternKind::AnyLabels) => {
                under(&other.name)
            }
        }
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PatternKind::Exact => f.write_str(&self.name),
            PatternKind::OneLabel => write!(f, "*.{}", self.name),
            PatternKind::AnyLabels => write!(f, "**.{}", self.name),
        }
    }
}

impl std::str::FromStr for NamePattern {
    type Err = io::Error;
    fn from_str(s: &str) -> io::Result<NamePattern> {
        NamePattern::parse(s)
    }
}

/// Parses a list of patterns.
pub fn parse_patterns<S: AsRef<str>>(patterns: &[S]) -> io::Result<Vec<NamePattern>> {
    patterns
        .iter()
        .map(|p| NamePattern::parse(p.as_ref()))
        .collect()
}

/// Where a [`Resolver`] sends the names it lets through: the broker's
/// resolver service ([`Builder::resolver`](super::Builder::resolver)), or anything else
/// that resolves (a test's table, a stub resolver used before the lock).
pub trait Lookup: Send + Sync + fmt::Debug {
    /// The addresses of `name` (checked, lower case, matching the resolver's
    /// patterns).
    fn lookup(&self, name: &str) -> io::Result<Vec<IpAddr>>;

    /// Resolves `name` and connects a TCP stream to `port` on one of its
    /// addresses, returning the stream's descriptor and the address: done
    /// by the broker's resolver service when it was given the port
    /// ([`ResolverConfig::connect_ports`]); `Unsupported` by default.
    fn connect(
        &self,
        name: &str,
        port: u16,
    ) -> io::Result<(std::os::fd::OwnedFd, std::net::SocketAddr)> {
        let _ = port;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("connect `{name}`: this resolver does not connect"),
        ))
    }

    /// What the sandbox must keep for look-ups to work after the lock (the
    /// connection to the broker); nothing by default.
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        let _ = policy;
    }
}

/// The authority to resolve host names matching declared patterns — ambit's
/// `cap_dns`. Names are checked here and again by the broker, which holds
/// the hosts file and the nameserver sockets; a sandboxed program resolves
/// names nowhere else.
///
/// Like every handle it only narrows: [`Resolver::narrow`] keeps a subset of
/// the patterns and refuses a wider one. Cloning copies the authority.
///
/// ```
/// use std::net::IpAddr;
/// use cap_core::broker::{Lookup, Resolver};
///
/// #[derive(Debug)]
/// struct Table;
/// impl Lookup for Table {
///     fn lookup(&self, _name: &str) -> std::io::Result<Vec<IpAddr>> {
///         Ok(vec![IpAddr::from([127, 0, 0, 1])])
///     }
/// }
///
/// let dns = Resolver::from_lookup(&["*.example.com"], Table, cap_core::ambient_authority())?;
/// assert_eq!(dns.resolve("api.example.com")?, vec![IpAddr::from([127, 0, 0, 1])]);
/// let err = dns.resolve("example.org").unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
/// let api = dns.narrow(&["api.example.com"])?;
/// assert!(api.resolve("www.example.com").is_err());
/// assert!(api.narrow(&["*.example.com"]).is_err()); // never wider
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Resolver {
    patterns: Arc<[NamePattern]>,
    backend: Arc<dyn Lookup>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("patterns", &self.label())
            .field("backend", &self.backend)
            .finish()
    }
}

impl fmt::Display for Resolver {
    /// ``resolver `*.example.com, api.example.org` ``: how errors name it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "resolver `{}`", self.label())
    }
}

impl Resolver {
    /// A resolver for `patterns` that sends names to `backend`.
    ///
    /// # Ambient Authority
    ///
    /// `backend` may resolve names by any means; the broker's resolver
    /// service ([`Builder::resolver`](super::Builder::resolver)) is the one
    /// that holds only its nameservers and hosts file.
    pub fn from_lookup<S: AsRef<str>>(
        patterns: &[S],
        backend: impl Lookup + 'static,
        ambient: AmbientAuthority,
    ) -> io::Result<Resolver> {
        let _ = ambient;
        Ok(Resolver::with_backend(
            parse_patterns(patterns)?,
            Arc::new(backend),
        ))
    }

    pub(crate) fn with_backend(patterns: Vec<NamePattern>, backend: Arc<dyn Lookup>) -> Resolver {
        Resolver {
            patterns: patterns.into(),
            backend,
        }
    }

    /// The patterns, comma-separated.
    pub fn label(&self) -> String {
        self.patterns
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The patterns this resolver allows.
    pub fn patterns(&self) -> &[NamePattern] {
        &self.patterns
    }

    /// Whether `name` is a valid host name matching a pattern.
    pub fn allows(&self, name: &str) -> bool {
        check_name(name).is_ok_and(|n| self.patterns.iter().any(|p| p.matches(&n)))
    }

    /// Whether every name `pattern` matches is allowed here.
    pub fn covers(&self, pattern: &NamePattern) -> bool {
        self.patterns.iter().any(|p| p.covers(pattern))
    }

    /// The checked, lower-case name, or `PermissionDenied` naming it and the
    /// patterns.
    pub(crate) fn check(&self, name: &str) -> io::Result<String> {
        let name = check_name(name)?;
        if self.patterns.iter().any(|p| p.matches(&name)) {
            Ok(name)
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "resolving `{name}` refused: it matches none of the patterns of the {self}"
                ),
            ))
        }
    }

    /// The addresses of `name`, if it matches a pattern: resolved by the
    /// backend (the broker, after the lock). Corresponds to
    /// [`std::net::ToSocketAddrs`] on `(name, 0)`, but names outside the
    /// patterns are refused with `PermissionDenied`.
    pub fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let name = self.check(name)?;
        let addrs = self
            .backend
            .lookup(&name)
            .map_err(|e| io::Error::new(e.kind(), format!("resolve `{name}`: {e}")))?;
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("resolve `{name}`: no addresses"),
            ));
        }
        Ok(addrs)
    }

    /// Resolves `name` (if it matches a pattern) and connects a TCP stream
    /// to `port` in the broker, which passes the stream back: the program
    /// needs no network grant and never connects by address itself. The
    /// broker must have been given the port
    /// ([`ResolverConfig::connect_ports`]); it checks the name and the port
    /// again. This is how a name-scoped grant has to work in FreeBSD's
    /// capability mode.
    pub fn connect_tcp(&self, name: &str, port: u16) -> io::Result<crate::net::TcpStream> {
        let name = self.check(name)?;
        let (fd, addr) = self.backend.connect(&name, port).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("connect `{name}:{port}` through the {self}: {e}"),
            )
        })?;
        Ok(crate::net::TcpStream::from_owned_fd(
            fd,
            crate::Rights::NET,
            &addr.to_string(),
        ))
    }

    /// The same resolver with only `patterns`, each of which must be covered
    /// by this one's; a wider pattern is refused (`PermissionDenied`, naming
    /// it).
    pub fn narrow<S: AsRef<str>>(&self, patterns: &[S]) -> io::Result<Resolver> {
        let patterns = parse_patterns(patterns)?;
        for p in &patterns {
            if !self.covers(p) {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("narrowing the {self} to `{p}` refused: that would widen it"),
                ));
            }
        }
        Ok(Resolver::with_backend(patterns, Arc::clone(&self.backend)))
    }
}

impl Grant for Resolver {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        self.backend.grant(policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NamePattern {
        NamePattern::parse(s).unwrap()
    }

    #[test]
    fn patterns_match_by_label_count_and_ignore_case() {
        assert!(p("api.example.com").matches("api.example.com"));
        assert!(!p("api.example.com").matches("x.api.example.com"));
        let one = p("*.Example.com");
        assert_eq!(one.to_string(), "*.example.com");
        assert!(one.matches("api.example.com"));
        assert!(!one.matches("a.b.example.com"));
        assert!(!one.matches("example.com"));
        assert!(!one.matches("badexample.com"));
        let any = p("**.example.com");
        assert!(any.matches("a.b.example.com"));
        assert!(any.matches("api.example.com"));
        assert!(!any.matches("example.com"));
        assert!(!any.matches("xexample.com"));
    }

    #[test]
    fn bad_patterns_are_refused_naming_them() {
        for bad in [
            "*",
            "*.com",
            "**.com",
            "a.*.com",
            "api.example.com.",
            "*.exämple.com",
            "*x.example.com",
            "",
        ] {
            let err = NamePattern::parse(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
            assert!(
                err.to_string().contains(&format!("`{bad}`")),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn covers_is_subset() {
        assert!(p("*.example.com").covers(&p("api.example.com")));
        assert!(!p("*.example.com").covers(&p("a.b.example.com")));
        assert!(p("**.example.com").covers(&p("*.b.example.com")));
        assert!(p("**.example.com").covers(&p("**.example.com")));
        assert!(p("**.example.com").covers(&p("*.example.com")));
        assert!(!p("*.example.com").covers(&p("**.example.com")));
        assert!(!p("*.example.com").covers(&p("*.b.example.com")));
        assert!(!p("api.example.com").covers(&p("*.example.com")));
        assert!(!p("**.example.com").covers(&p("**.other.com")));
        assert!(!p("**.ample.com").covers(&p("*.example.com")));
    }

    #[derive(Debug)]
    struct Fixed(Vec<IpAddr>);
    impl Lookup for Fixed {
        fn lookup(&self, _: &str) -> io::Result<Vec<IpAddr>> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn resolver_refuses_names_outside_and_never_widens() {
        let ip = IpAddr::from([10, 1, 2, 3]);
        let dns = Resolver::from_lookup(
            &["*.example.com", "db.internal"],
            Fixed(vec![ip]),
            crate::ambient_authority(),
        )
        .unwrap();
        assert_eq!(dns.resolve("API.example.com").unwrap(), vec![ip]);
        let err = dns.resolve("evil.com").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            err.to_string(),
            "resolving `evil.com` refused: it matches none of the patterns of the resolver `*.example.com, db.internal`"
        );
        assert_eq!(
            dns.resolve("api.example.com.").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        let narrow = dns.narrow(&["api.example.com"]).unwrap();
        assert!(narrow.resolve("www.example.com").is_err());
        assert!(narrow.resolve("db.internal").is_err());
        let err = narrow.narrow(&["*.example.com"]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            err.to_string()
                .contains("`*.example.com` refused: that would widen it"),
            "{err}"
        );
        let none = Resolver::from_lookup(
            &["x.example.com"],
            Fixed(vec![]),
            crate::ambient_authority(),
        )
        .unwrap();
        assert_eq!(
            none.resolve("x.example.com").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
