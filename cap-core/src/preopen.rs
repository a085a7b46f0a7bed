//! [`Preopen`]: a set of handles opened while the process still has ambient
//! authority, before `#[sandboxed]` locks it.
//!
//! `#[sandboxed]` opens each declared parameter itself; a parameter without a
//! declaration must have a type that implements [`Preopen`]. That is the
//! general form, for whatever the declarations cannot say (a path computed
//! from a `clap` struct, a configuration file read first, a directory
//! created if missing):
//!
//! ```
//! use cap_core::{AmbientAuthority, Preopen, PreopenError, fs::Dir, rights::ReadOnly};
//! use cap_core::sandbox::{Grant, Policy};
//!
//! struct Caps {
//!     verbose: bool,
//!     data: Dir<ReadOnly>,
//! }
//!
//! impl Preopen for Caps {
//!     fn preopen(ambient: AmbientAuthority) -> Result<Self, PreopenError> {
//!         let verbose = std::env::args().any(|a| a == "-v");
//!         let path = std::env::var("DATA_DIR").unwrap_or_else(|_| ".".into());
//!         let data = Dir::open_ambient_dir(&path, ambient)
//!             .map_err(|e| PreopenError::new("data", format!("dir {path:?}"), e))?;
//!         Ok(Caps { verbose, data })
//!     }
//! }
//!
//! impl Grant for Caps {
//!     fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
//!         self.data.grant(policy); // `verbose` is plain data: nothing to grant
//!     }
//! }
//! # let caps = Caps::preopen(cap_core::ambient_authority()).unwrap();
//! # assert!(caps.data.is_dir("."));
//! ```
//!
//! `#[derive(Preopen)]` writes both impls for a struct whose fields are
//! handles with the same declarations `#[sandboxed]` takes:
//!
//! ```
//! use cap_core::{Preopen, fs::Dir, rights::ReadOnly};
//!
//! #[derive(Preopen)]
//! struct Caps {
//!     #[preopen(dir(env = "DATA_DIR", default = "."))]
//!     data: Dir<ReadOnly>,
//! }
//! # let caps = Caps::preopen(cap_core::ambient_authority()).unwrap();
//! # assert!(caps.data.is_dir("."));
//! ```

use std::error::Error;
use std::fmt;
use std::io;

use crate::AmbientAuthority;
use crate::fs::PathError;
use crate::sandbox::Grant;

/// A set of handles that can open itself with ambient authority and grant
/// itself to the sandbox: what a `#[sandboxed]` parameter without a
/// declaration must be.
///
/// There is no `std` counterpart: this is the step a capability program adds
/// before it gives up ambient authority.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Preopen` set of handles",
    label = "this parameter has no declaration in #[sandboxed(..)], so its type must implement `Preopen`",
    note = "declare it (`name = dir(\"..\")`), or `#[derive(Preopen)]` on a struct of handles"
)]
pub trait Preopen: Grant + Sized {
    /// Opens every handle of the set, using ambient authority. The first
    /// failure is returned (the handles opened so far are closed), naming the
    /// resource.
    fn preopen(ambient: AmbientAuthority) -> Result<Self, PreopenError>;

    /// Whether [`Preopen::preopen`] reads the command line itself. If it may
    /// (the default for a hand-written impl), `#[sandboxed]` leaves flags it
    /// does not know to it and refuses positional declarations, whose
    /// numbering the unknown flags' values could shift. An impl that reads
    /// no argument says `const READS_COMMAND_LINE: bool = false;`.
    const READS_COMMAND_LINE: bool = true;

    /// Adds this set's command-line declarations to the program's one
    /// parser (`#[derive(Preopen)]` writes it). The default, for a
    /// hand-written impl, says that it reads the command line itself, so
    /// `#[sandboxed]` leaves flags it does not know to it.
    #[doc(hidden)]
    fn __ambit_declare(command_line: &mut crate::__private::CommandLine) {
        if Self::READS_COMMAND_LINE {
            command_line.external(std::any::type_name::<Self>());
        }
    }

    /// Opens the set from the program's parsed command line (`#[derive(Preopen)]`
    /// writes it); the default calls [`Preopen::preopen`].
    #[doc(hidden)]
    fn __ambit_preopen(
        args: &crate::__private::Args,
        ambient: AmbientAuthority,
    ) -> Result<Self, PreopenError> {
        let _ = args;
        Self::preopen(ambient)
    }
}

/// Why a resource could not be pre-opened: which resource, what it was
/// declared as, and the I/O error.
///
/// Displays as ``resource `site` (dir "examples/site"): No such file or
/// directory (os error 2)``, which `#[sandboxed]` prints after `error: ` before
/// exiting with status 2.
#[derive(Debug)]
pub struct PreopenError {
    resource: Option<String>,
    what: String,
    source: io::Error,
}

impl PreopenError {
    /// An error for the resource `resource`, declared as `what` (its kind and
    /// value, e.g. `dir "examples/site"`).
    pub fn new(resource: impl Into<String>, what: impl Into<String>, source: io::Error) -> Self {
        Self {
            resource: Some(resource.into()),
            what: what.into(),
            source,
        }
    }

    /// The resource's name, when known.
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// What the resource was declared as (`dir "examples/site"`).
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }

    /// Names the resource if no name was given yet (an error raised with `?`
    /// from an [`io::Error`] inside a [`Preopen`] impl).
    pub fn or_resource(mut self, resource: &str) -> Self {
        if self.resource.is_none() {
            self.resource = Some(resource.to_owned());
        }
        self
    }

    /// The cause to show: for errors from `cap_core::fs`, which already name
    /// the path this error names, the OS error alone.
    fn cause(&self) -> &(dyn Error + 'static) {
        match self
            .source
            .get_ref()
            .and_then(|e| e.downcast_ref::<PathError>())
        {
            Some(path_error) => path_error.source().unwrap_or(path_error),
            None => &self.source,
        }
    }
}

impl fmt::Display for PreopenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.resource, self.what.is_empty()) {
            (Some(name), false) => write!(f, "resource `{name}` ({}): {}", self.what, self.cause()),
            (Some(name), true) => write!(f, "resource `{name}`: {}", self.cause()),
            (None, false) => write!(f, "{}: {}", self.what, self.cause()),
            (None, true) => write!(f, "pre-open: {}", self.cause()),
        }
    }
}

impl Error for PreopenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// An error from a `?` in a [`Preopen`] impl; `#[sandboxed]` adds the
/// parameter's name.
impl From<io::Error> for PreopenError {
    fn from(source: io::Error) -> Self {
        Self {
            resource: None,
            what: String::new(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Dir;
    use crate::rights::ReadOnly;

    #[test]
    fn message_names_resource_declaration_and_os_error() {
        let err =
            Dir::<ReadOnly>::open_ambient_dir("/nonexistent/ambit", crate::ambient_authority())
                .unwrap_err();
        let err = PreopenError::new("site", "dir \"/nonexistent/ambit\"", err);
        assert_eq!(
            err.to_string(),
            format!(
                "resource `site` (dir \"/nonexistent/ambit\"): {}",
                io::Error::from_raw_os_error(libc_enoent())
            )
        );
    }

    fn libc_enoent() -> i32 {
        2
    }

    #[test]
    fn or_resource_only_fills_a_missing_name() {
        let err = PreopenError::from(io::Error::other("boom")).or_resource("caps");
        assert_eq!(err.to_string(), "resource `caps`: boom");
        let err = PreopenError::new("a", "dir \"x\"", io::Error::other("boom")).or_resource("caps");
        assert_eq!(err.resource(), Some("a"));
    }
}
