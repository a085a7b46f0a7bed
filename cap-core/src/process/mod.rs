//! Processes as capabilities: a child is spawned from an executable *handle*
//! (never a path), with an explicit handle table, in a sandbox derived from
//! that table, and is held as a pidfd.
//!
//! - [`Command`] is built from a [`File`] with `Exec` ([`Command::new`]) or a
//!   [`Dir`] with `Exec` and a name beneath it ([`Command::beneath`]). The
//!   child runs it with `execveat(fd, "", AT_EMPTY_PATH)`: no `PATH` search,
//!   no lookup by name in the parent's namespace. Arguments and environment
//!   are explicit: the child gets no environment variable unless the program
//!   passes it ([`Command::env`], [`Command::env_from_parent`]).
//! - The handle table ([`Command::handle`]) says which descriptor number each
//!   handle gets in the child; stdio is inherited, piped or closed
//!   ([`Stdio`]). Every other descriptor is closed in the child
//!   (`close_range`), whatever its close-on-exec flag.
//! - By default the child enters capability mode just before `exec`, with a
//!   policy derived from exactly its table, the executable and the loader
//!   directories given with [`Command::loader_dir`]. The Landlock ruleset and
//!   the seccomp program are built in the parent before the `clone`; the child
//!   only applies them. A child without a sandbox needs the ambient token
//!   ([`Command::unsandboxed`]).
//! - [`Child`] holds a pidfd (FreeBSD's `pdfork` analog): `wait`,
//!   `try_wait`, signals through `pidfd_send_signal` only. No method takes a
//!   pid. Dropping a `Child` that was not waited for kills and reaps it, so
//!   no zombie is left behind.
//! - Handles travel over unix sockets with their rights
//!   ([`UnixStream::send_handle`](crate::net::UnixStream::send_handle),
//!   [`recv_handle`](crate::net::UnixStream::recv_handle)), and a typed
//!   [`Channel`] carries messages between a parent and its child.
//!
//! Spawning is Linux-only for now ([`Command`], [`Child`]); passing and
//! channels work on every unix.

mod channel;
mod limits;
mod passing;

pub use channel::{Channel, MAX_MESSAGE};
pub use limits::{OpenFiles, raise_open_files};
pub use passing::{HandleKind, Passable};

#[cfg(target_os = "linux")]
mod program;
#[cfg(target_os = "linux")]
mod spawn;
#[cfg(target_os = "linux")]
pub use program::{CurrentExe, ExecRights, LoaderRights, Program};
#[cfg(target_os = "linux")]
pub use spawn::{
    Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio, inherited,
};

#[cfg(target_os = "linux")]
pub use rustix::process::Signal;

#[allow(unused_imports)]
use crate::fs::{Dir, File};
