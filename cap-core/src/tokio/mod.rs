//! Async handles over the tokio runtime (feature `tokio`): a capability-typed
//! [`tokio::fs`](::tokio::fs) and [`tokio::net`](::tokio::net).
//!
//! [`fs::Dir<R>`], [`fs::File<R>`] and [`fs::ReadDir<R>`] mirror `tokio::fs`
//! with the rights in the types, exactly as the sync [`crate::fs`] handles
//! do: a method exists only where `R` has the right it needs. Directory
//! operations run the sync handle's method on tokio's blocking pool, as
//! `tokio::fs` runs `std::fs`; a file is a `tokio::fs::File` inside, so
//! reads and writes stream through `AsyncRead`/`AsyncWrite`/`AsyncSeek`
//! without buffering whole files. io_uring is not used (the sandbox forbids
//! it).
//!
//! [`net`] holds the sockets: [`net::TcpListener`], [`net::TcpStream`],
//! [`net::UdpSocket`], [`net::UnixListener`], [`net::UnixStream`], each
//! registered with tokio's reactor.
//!
//! Every async handle comes **from a sync handle**, with the same rights and
//! no ambient token: pre-open and lock with `#[sandboxed]`, then build the
//! runtime and convert. The conversion of a socket registers it with the
//! current runtime, so it must run inside one (as tokio's `from_std` must).
//!
//! ```
//! use cap_core::{ambient_authority, rights};
//! # let tmp = tempfile::tempdir()?; std::fs::write(tmp.path().join("a.txt"), "hi")?;
//! let sync = cap_core::fs::Dir::<rights![Lookup, Read, Stat]>::open_ambient_dir(tmp.path(), ambient_authority())?;
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let site = cap_core::tokio::fs::Dir::from(sync);
//!     assert_eq!(site.read_to_string("a.txt").await?, "hi");
//!     assert!(site.read("../etc/passwd").await.is_err());
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod fs;
pub mod net;

use std::io;

/// Runs `f` on tokio's blocking pool, like `tokio::fs` does for each call.
pub(crate) async fn blocking<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match ::tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(io::Error::other(format!("blocking task failed: {e}"))),
    }
}
