//! The static file server behind `serve`, as a library: [`run`] serves a
//! document root on a listener until a shutdown future completes, so the
//! binary runs it inside the sandbox and a benchmark can run the very same
//! server with and without the lock.
//!
//! Each connection is its own task (no client waits for another), speaking
//! HTTP/1.1 with keep-alive through hyper. Three timeouts bound what a client
//! can hold: the request head must arrive within `header_timeout` (which also
//! ends idle keep-alive connections), a write that makes no progress fails
//! after `write_timeout` (a client that never reads), and a connection where
//! no byte moves either way ends after `idle_timeout`. Files are read where
//! [`Config::reads`] says (on the runtime thread by default), large ones
//! streamed in chunks, small ones kept open between requests
//! ([`OpenFiles`]); [`files::respond`] is the handler.

pub mod body;
pub mod deadline;
pub mod files;
pub mod open_files;

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cap_core::tokio::fs::Dir;
use cap_core::tokio::net::TcpListener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;

pub use body::Body;
pub use files::{Site, respond, respond_with};
pub use open_files::OpenFiles;

/// The server's limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a request head may take to arrive, counted from when the
    /// server starts waiting for it (so also how long an idle keep-alive
    /// connection stays open).
    pub header_timeout: Duration,
    /// How long a connection may go without a byte moving either way.
    pub idle_timeout: Duration,
    /// How long one write may make no progress.
    pub write_timeout: Duration,
    /// How long connections get to finish after shutdown is asked.
    pub shutdown_grace: Duration,
    /// How many connections are served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Whether each request is logged to stderr.
    pub access_log: bool,
    /// Where files are read.
    pub reads: Reads,
    /// How many small files are kept open between requests ([`OpenFiles`]);
    /// 0 opens the file for every request.
    pub open_files: usize,
    /// How long a kept file stays open unused; a timer closes it after at
    /// most twice that.
    pub open_files_idle: Duration,
}

/// Where the server does its filesystem work (stat, open, read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reads {
    /// On the runtime thread that answers the request, as nginx does by
    /// default: the fastest when the files are in the page cache, but a read
    /// from a slow disk (a network filesystem, a cold cache) stalls the other
    /// connections of that thread while it lasts.
    #[default]
    Inline,
    /// In tokio's blocking pool, as `tokio::fs` does: every stat, open and
    /// chunk is a hand-off to another thread and back (25–35% fewer
    /// requests per second on small cached files here, about half on 1 MiB
    /// files), and a slow disk delays only the requests that wait for it.
    BlockingPool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 1024,
            access_log: true,
            reads: Reads::Inline,
            open_files: 128,
            open_files_idle: open_files::IDLE,
        }
    }
}

/// What a run did, for the last line of the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Connections accepted.
    pub connections: u64,
    /// Requests answered.
    pub requests: u64,
    /// Connections still open when the grace period ended (cut off).
    pub cut_off: usize,
    /// Requests answered from a file kept open ([`OpenFiles`]).
    pub kept_hits: u64,
}

/// Serves `site` on `listener` until `shutdown` completes, then stops
/// accepting, lets open connections finish their current request (idle
/// keep-alive connections are closed) for up to `config.shutdown_grace`, and
/// returns what it did.
pub async fn run(
    site: Dir<Site>,
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Summary> {
    let config = Arc::new(config);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let requests = Arc::new(AtomicU64::new(0));
    let open_files = Arc::new(OpenFiles::with_idle(
        config.open_files,
        config.open_files_idle,
    ));
    // Closes idle kept files even when no request comes to do it.
    let sweeper = (config.open_files > 0).then(|| {
        let open_files = Arc::clone(&open_files);
        let every = config.open_files_idle.max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                open_files.sweep();
            }
        })
    });
    let mut connections = 0u64;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&slots).acquire_owned() => permit.map_err(io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: say so, close the
                    // files kept open for speed, and back off.
                    if crate::http::out_of_descriptors(&e) {
                        open_files.release();
                    }
                    eprintln!("serve: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        connections += 1;
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(deadline::Deadlines::new(
            stream,
            config.idle_timeout,
            config.write_timeout,
        ));
        let site = site.clone();
        let log = config.access_log;
        let reads = config.reads;
        let requests = Arc::clone(&requests);
        let open_files = Arc::clone(&open_files);
        let service = service_fn(move |request: Request<Incoming>| {
            let site = site.clone();
            let requests = Arc::clone(&requests);
            let open_files = Arc::clone(&open_files);
            async move {
                let started = Instant::now();
                let response = respond_with(&site, &request, reads, &open_files).await;
                requests.fetch_add(1, Ordering::Relaxed);
                if log {
                    access_log(peer, &request, &response, started);
                }
                Ok::<_, Infallible>(response)
            }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            .serve_connection(io, service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await
                && log
            {
                eprintln!("serve: {peer}: {}", chain(&e));
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    let cut_off = if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
        .await
        .is_ok()
    {
        0
    } else {
        open
    };
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    Ok(Summary {
        connections,
        requests: requests.load(Ordering::Relaxed),
        cut_off,
        kept_hits: open_files.hits(),
    })
}

/// An error and its sources, `: `-separated (hyper's own message names the
/// stage, its source the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One line per request: peer, request line, status, length, time.
fn access_log(
    peer: SocketAddr,
    request: &Request<Incoming>,
    response: &Response<Body>,
    started: Instant,
) {
    let length = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let _ = writeln!(
        io::stderr().lock(),
        "serve: {peer} \"{} {} {:?}\" {} {length} {}us",
        request.method(),
        request.uri(),
        request.version(),
        response.status().as_u16(),
        started.elapsed().as_micros()
    );
}

/// A future that completes when the process gets SIGINT or SIGTERM (and
/// says which). The handlers are installed when this is called, inside a
/// runtime.
pub fn signals() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        eprintln!("serve: {name}: shutting down");
    })
}
