//! The policy file: what `ambit learn` writes and `ambit run --policy`
//! enforces. TOML, versioned, in the vocabulary of the `#[sandboxed]`
//! declarations (`dir`, `file`, `exec`, `connect`, `unix_connect`) and of
//! the report (rights by their catalogue names: `Lookup`, `Read`...).
//!
//! ```toml
//! version = 1
//! mode = "strict"            # or "best-effort"
//! system = true              # the loader and shared-library preset
//! env = ["LANG", "TZ=UTC"]   # NAME (passed from ambit's environment) or NAME=VALUE
//!
//! [[dir]]
//! path = "/srv/in"
//! access = "ro"              # "ro", "rw" or "exec" (the `--ro`/`--rw`/`--exec` sets)
//!
//! [[dir]]
//! path = "/srv/out"
//! rights = ["Lookup", "Create", "Write"]   # or an explicit set instead of `access`
//!
//! [[file]]
//! path = "/etc/hostname"
//! access = "ro"
//!
//! [[connect]]
//! addr = "127.0.0.1:9000"
//!
//! [[bind]]
//! port = 8080
//!
//! [[unix_connect]]
//! path = "/run/app.sock"
//! ```

use std::path::PathBuf;

use cap_runtime::Rights;
use serde::{Deserialize, Serialize};

/// The policy-file format version this build reads and writes.
pub const VERSION: u32 = 1;

/// A whole policy file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Must be [`VERSION`].
    pub version: u32,
    /// `"strict"` (the default) or `"best-effort"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Whether the loader and shared-library preset (`--system`) is granted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
    /// Environment variables passed: `NAME` or `NAME=VALUE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Directory grants (rights beneath the path).
    #[serde(default, rename = "dir", skip_serializing_if = "Vec::is_empty")]
    pub dirs: Vec<PathGrant>,
    /// Single-file grants.
    #[serde(default, rename = "file", skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PathGrant>,
    /// TCP connect grants (`HOST:PORT`).
    #[serde(default, rename = "connect", skip_serializing_if = "Vec::is_empty")]
    pub connect: Vec<AddrGrant>,
    /// TCP bind grants (a port).
    #[serde(default, rename = "bind", skip_serializing_if = "Vec::is_empty")]
    pub bind: Vec<PortGrant>,
    /// Unix-socket connect grants (a socket path).
    #[serde(
        default,
        rename = "unix_connect",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unix_connect: Vec<PathGrant>,
}

/// A path and what may be done beneath it (or to it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathGrant {
    /// Absolute path.
    pub path: PathBuf,
    /// A preset: `"ro"`, `"rw"` or `"exec"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    /// An explicit right set, by catalogue names (instead of `access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<String>>,
}

/// A `HOST:PORT` address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddrGrant {
    /// `HOST:PORT`.
    pub addr: String,
}

/// A TCP port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortGrant {
    /// The port.
    pub port: u16,
}

/// The rights of the `--ro` preset: read and list.
pub const RO: Rights = Rights::LOOKUP.union(Rights::READ).union(Rights::STAT);

/// The rights of the `--exec` preset: read and execute beneath.
pub const EXEC: Rights = RO.union(Rights::EXEC);

/// The rights of the `--rw` preset: read, write, create, remove, rename,
/// truncate, symlink.
pub const RW: Rights = RO
    .union(Rights::WRITE)
    .union(Rights::CREATE)
    .union(Rights::REMOVE)
    .union(Rights::RENAME)
    .union(Rights::TRUNCATE)
    .union(Rights::SYMLINK);

impl PathGrant {
    /// The right set this grant names, or an error naming the path and the
    /// bad value.
    pub fn rights(&self) -> Result<Rights, String> {
        match (&self.access, &self.rights) {
            (Some(_), Some(_)) => Err(format!(
                "{}: give `access` or `rights`, not both",
                self.path.display()
            )),
            (None, None) => Err(format!(
                "{}: give `access` (\"ro\", \"rw\", \"exec\") or `rights`",
                self.path.display()
            )),
            (Some(a), None) => match a.as_str() {
                "ro" => Ok(RO),
                "rw" => Ok(RW),
                "exec" => Ok(EXEC),
                other => Err(format!(
                    "{}: unknown access `{other}` (expected \"ro\", \"rw\" or \"exec\")",
                    self.path.display()
                )),
            },
            (None, Some(names)) => names.iter().try_fold(Rights::empty(), |acc, n| {
                Rights::from_catalogue_name(n)
                    .map(|r| acc | r)
                    .ok_or_else(|| format!("{}: unknown right `{n}`", self.path.display()))
            }),
        }
    }
}

impl PolicyFile {
    /// Parses a policy file's text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self, String> {
        let file: Self = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        if file.version != VERSION {
            return Err(format!(
                "{source}: policy version {} is not supported (this ambit reads version {VERSION})",
                file.version
            ));
        }
        if let Some(mode) = &file.mode
            && mode != "strict"
            && mode != "best-effort"
        {
            return Err(format!(
                "{source}: unknown mode `{mode}` (expected \"strict\" or \"best-effort\")"
            ));
        }
        for g in file
            .dirs
            .iter()
            .chain(&file.files)
            .chain(&file.unix_connect)
        {
            if !g.path.is_absolute() {
                return Err(format!(
                    "{source}: path `{}` is not absolute",
                    g.path.display()
                ));
            }
        }
        for g in file.dirs.iter().chain(&file.files) {
            g.rights().map_err(|e| format!("{source}: {e}"))?;
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = "version = 1\nmode = \"strict\"\nsystem = true\nenv = [\"LANG\", \"TZ=UTC\"]\n\
            [[dir]]\npath = \"/srv/in\"\naccess = \"ro\"\n\
            [[dir]]\npath = \"/srv/out\"\nrights = [\"Lookup\", \"Create\", \"Write\"]\n\
            [[connect]]\naddr = \"127.0.0.1:9000\"\n[[bind]]\nport = 8080\n";
        let p = PolicyFile::parse(text, "p.toml").unwrap();
        assert_eq!(p.dirs[0].rights().unwrap(), RO);
        assert_eq!(
            p.dirs[1].rights().unwrap(),
            Rights::LOOKUP | Rights::CREATE | Rights::WRITE
        );
        assert_eq!(p.bind[0].port, 8080);
        let again = PolicyFile::parse(&toml::to_string(&p).unwrap(), "again").unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn unknown_keys_versions_and_rights_are_errors_naming_them() {
        let e = PolicyFile::parse("version = 1\nfoo = 2\n", "p.toml").unwrap_err();
        assert!(e.contains("p.toml") && e.contains("foo"), "{e}");
        let e = PolicyFile::parse("version = 2\n", "p.toml").unwrap_err();
        assert!(e.contains("version 2"), "{e}");
        let e = PolicyFile::parse(
            "version = 1\n[[dir]]\npath = \"/x\"\nrights = [\"Fly\"]\n",
            "p",
        )
        .unwrap_err();
        assert!(e.contains("Fly") && e.contains("/x"), "{e}");
        let e = PolicyFile::parse(
            "version = 1\n[[dir]]\npath = \"rel\"\naccess = \"ro\"\n",
            "p",
        )
        .unwrap_err();
        assert!(e.contains("rel"), "{e}");
    }
}
