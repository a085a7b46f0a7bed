//! The upload service behind the `upload` example: an axum router that
//! stores request bodies in a **write-only** directory and lists a
//! **read-only** one. The types say which is which: the inbox handle has no
//! `Read` (nothing uploaded can be read back through it) and the shelf
//! handle has no `Create` or `Write` (nothing can be planted there), and
//! under `#[sandboxed]` the kernel enforces the same split.
//!
//! - `PUT /upload/{name}`: streams the body into `inbox/{name}` (201, or 400
//!   for a name that is not one plain file name);
//! - `GET /files`: one line per entry of the shelf, `name<TAB>size`.
//!
//! No `Arc`, no `spawn_blocking`, no ambient token: the async handles are
//! cheap to clone into the router's state and run their blocking calls on
//! tokio's pool themselves.

use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use cap_core::rights::{ReadOnly, WriteOnly};
use cap_core::tokio::fs::Dir;
use cap_core::tokio::net::{TcpListener, TcpStream};
use http_body_util::BodyExt as _;
use tokio::io::AsyncWriteExt as _;

/// The two directories the service holds.
#[derive(Clone, Debug)]
pub struct Dirs {
    /// Where uploads go: look up, create, write, truncate; no read.
    pub inbox: Dir<WriteOnly>,
    /// What is listed: look up, read, stat; no write.
    pub shelf: Dir<ReadOnly>,
}

/// The router: `PUT /upload/{name}` and `GET /files`.
pub fn router(dirs: Dirs) -> Router {
    Router::new()
        .route("/upload/{name}", put(upload))
        .route("/files", get(list))
        .with_state(dirs)
}

/// A name is one plain file name: no separator, no `.` or `..`, no NUL.
fn plain_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(parts.next(), Some(Component::Normal(_)))
        && parts.next().is_none()
        && !name.contains(['/', '\\', '\0'])
}

async fn upload(
    State(dirs): State<Dirs>,
    UrlPath(name): UrlPath<String>,
    body: Body,
) -> (StatusCode, String) {
    if !plain_name(&name) {
        return (
            StatusCode::BAD_REQUEST,
            format!("not a plain file name: {name:?}\n"),
        );
    }
    match store(&dirs.inbox, &name, body).await {
        Ok(n) => (StatusCode::CREATED, format!("stored {name} ({n} bytes)\n")),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// Streams `body` into a new file `name` in `inbox`, frame by frame.
async fn store(inbox: &Dir<WriteOnly>, name: &str, body: Body) -> io::Result<u64> {
    let mut file = inbox.create(name).await?;
    let mut body = body;
    let mut written = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(io::Error::other)?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data).await?;
            written += data.len() as u64;
        }
    }
    file.flush().await?;
    Ok(written)
}

async fn list(State(dirs): State<Dirs>) -> (StatusCode, String) {
    match listing(&dirs.shelf).await {
        Ok(text) => (StatusCode::OK, text),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

async fn listing(shelf: &Dir<ReadOnly>) -> io::Result<String> {
    let mut lines = Vec::new();
    let mut entries = shelf.entries().await?;
    while let Some(entry) = entries.next_entry().await? {
        let size = entry.metadata().await?.len();
        lines.push(format!("{}\t{size}\n", entry.file_name().to_string_lossy()));
    }
    lines.sort();
    Ok(lines.concat())
}

/// A held listener as axum's [`Listener`](axum::serve::Listener), so
/// `axum::serve` accepts on it directly.
#[derive(Debug)]
pub struct Accept(pub TcpListener);

impl axum::serve::Listener for Accept {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok(accepted) => return accepted,
                Err(e) => {
                    eprintln!("upload: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_names() {
        for ok in ["a.txt", "report 2024.pdf", "..hidden"] {
            assert!(super::plain_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "../x", "/etc/passwd", "a\\b", "a\0b"] {
            assert!(!super::plain_name(bad), "{bad:?}");
        }
    }
}
