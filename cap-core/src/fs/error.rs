//! Errors that name the handle and the path.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An I/O error from an operation on a path beneath a handle: it says which
/// handle (the path it was opened from), which operation and which path.
///
/// It travels inside an [`io::Error`] of the same [`io::ErrorKind`]; the OS
/// error code stays reachable through [`raw_os_error`] and [`Error::source`].
#[derive(Debug)]
pub struct PathError {
    op: &'static str,
    handle: PathBuf,
    path: PathBuf,
    source: io::Error,
}

impl PathError {
    /// The operation that failed (`"open"`, `"remove_file"`, ...).
    pub fn op(&self) -> &'static str {
        self.op
    }
    /// The path the handle was opened from.
    pub fn handle(&self) -> &Path {
        &self.handle
    }
    /// The path given to the operation, relative to the handle.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` beneath `{}`: {}",
            self.op,
            self.path.display(),
            self.handle.display(),
            self.source
        )
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` so its message names the operation, the handle and the path.
pub(crate) fn at(op: &'static str, handle: &Path, path: &Path, source: io::Error) -> io::Error {
    io::Error::new(
        source.kind(),
        PathError {
            op,
            handle: handle.to_path_buf(),
            path: path.to_path_buf(),
            source,
        },
    )
}

/// The OS error code of `err`, looking through a [`PathError`] if there is one.
///
/// ```
/// # use cap_core::{fs::{Dir, raw_os_error}, rights::ReadOnly, ambient_authority};
/// let dir = Dir::<ReadOnly>::open_ambient_dir(".", ambient_authority()).unwrap();
/// let err = dir.open("no-such-file").unwrap_err();
/// assert_eq!(raw_os_error(&err), Some(2)); // ENOENT
/// ```
pub fn raw_os_error(err: &io::Error) -> Option<i32> {
    err.raw_os_error().or_else(|| {
        err.get_ref()
            .and_then(|e| e.downcast_ref::<PathError>())
            .and_then(|p| p.source.raw_os_error())
    })
}
