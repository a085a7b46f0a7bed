//! The process's limit on open descriptors (`RLIMIT_NOFILE`).
//!
//! A server holds a descriptor per connection and per file it keeps open;
//! the usual soft limit of 1024 is reached long before the hard limit the
//! system allows. Go's runtime raises the soft limit to the hard one for
//! every program; a Rust program does it itself, before it locks (after the
//! lock `prlimit64` on the process itself stays allowed on Linux, but a
//! `#[sandboxed]` entry point does it in its prologue, where a failure
//! still leaves nothing applied).

use std::io;

/// How many descriptors the process may hold open: what
/// [`raise_open_files`] (and `#[sandboxed(open_files = ..)]`) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenFiles {
    /// As many as the hard limit allows: the soft limit is raised to it.
    Max,
    /// At least this many: the soft limit is raised to it if it is lower.
    /// More than the hard limit is an error (raising the hard limit needs
    /// a privilege a sandboxed program should not use).
    AtLeast(u64),
}

/// Raises the soft limit on open descriptors as `want` says, never lowering
/// it and never touching the hard limit. Returns the soft limit now.
/// Children started after it inherit the raised limit.
///
/// # Errors
///
/// [`OpenFiles::AtLeast`] more than the hard limit (`InvalidInput`, naming
/// both), or the system refusing the change it asks for (its error, naming
/// the limit). [`OpenFiles::Max`] where the system refuses any change
/// keeps the limit as it is, and is not an error.
pub fn raise_open_files(want: OpenFiles) -> io::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is "unlimited".
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let soft = limit.current.unwrap_or(u64::MAX);
    let target = match want {
        // An unlimited hard limit (macOS) does not take an unlimited soft
        // one: the kernel's own ceiling is then the most.
        OpenFiles::Max if hard == u64::MAX => OPEN_MAX,
        OpenFiles::Max => hard,
        OpenFiles::AtLeast(n) if n > hard => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot allow {n} open files: this process's hard limit (RLIMIT_NOFILE) is {hard}"
                ),
            ));
        }
        OpenFiles::AtLeast(n) => n,
    };
    if target <= soft {
        return Ok(soft);
    }
    match setrlimit(
        Resource::Nofile,
        Rlimit {
            current: (target != u64::MAX).then_some(target),
            maximum: limit.maximum,
        },
    ) {
        Ok(()) => Ok(target),
        // "As many as allowed", where changing the limit is not allowed (a
        // filter refuses `setrlimit`): the limit as it is.
        Err(_) if want == OpenFiles::Max => Ok(soft),
        Err(e) => Err(io::Error::new(
            io::Error::from(e).kind(),
            format!(
                "cannot raise the soft limit on open files (RLIMIT_NOFILE) from {soft} to {target}: {e}"
            ),
        )),
    }
}

/// What `OpenFiles::Max` raises to when the hard limit is unlimited, which
/// a soft limit may not be: `OPEN_MAX`, which macOS (whose hard limit is
/// often unlimited) accepts. Linux and FreeBSD have a finite hard limit.
const OPEN_MAX: u64 = 10240;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn above_the_hard_limit_is_refused_naming_both() {
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .maximum
            .unwrap_or(u64::MAX);
        if hard == u64::MAX {
            return;
        }
        let before = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        let err = raise_open_files(OpenFiles::AtLeast(hard + 1)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let text = err.to_string();
        assert!(
            text.contains(&(hard + 1).to_string()) && text.contains(&hard.to_string()),
            "{text}"
        );
        // Nothing changed.
        assert_eq!(
            rustix::process::getrlimit(rustix::process::Resource::Nofile).current,
            before
        );
        // Asking for no more than there is changes nothing either.
        assert_eq!(
            raise_open_files(OpenFiles::AtLeast(1)).unwrap(),
            before.unwrap_or(u64::MAX)
        );
        // Exactly the hard limit is allowed.
        assert_eq!(raise_open_files(OpenFiles::AtLeast(hard)).unwrap(), hard);
    }
}
