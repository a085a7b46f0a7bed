//! `serve`: a static HTTP file server confined to its document root and its
//! listening socket.
//!
//! ```text
//! cargo run -p ambit-examples --bin serve                      # examples/site on 127.0.0.1:8080
//! cargo run -p ambit-examples --bin serve -- --root DIR --addr 127.0.0.1:0
//! ```
//!
//! It pre-opens the document root (read-only) and binds the listener, enters
//! capability mode, prints the report and the address it serves on, and only
//! then starts the tokio runtime (Landlock restricts the calling thread and
//! the threads it creates later, so the runtime's threads must come after the
//! lock). It serves with HTTP/1.1 keep-alive, many connections at once,
//! `Range`, `ETag`/`Last-Modified`, an access log on stderr, until SIGINT or
//! SIGTERM, then finishes the requests in flight and exits 0.
//!
//! Limits come from the environment (seconds): `SERVE_HEADER_TIMEOUT` (10),
//! `SERVE_IDLE_TIMEOUT` (60), `SERVE_WRITE_TIMEOUT` (30),
//! `SERVE_SHUTDOWN_GRACE` (10); `SERVE_MAX_CONNECTIONS` (1024);
//! `SERVE_ACCESS_LOG=0` turns the log off. `SERVE_READS=pool` moves the
//! file reads from the runtime threads (`inline`, the default) to tokio's
//! blocking pool, for a disk slow enough that a read should not hold up the
//! other connections. `SERVE_OPEN_FILES` (128) is how many small files stay
//! open between requests (0 opens the file for every request), and
//! `SERVE_OPEN_FILES_IDLE` (10 seconds) how long one stays open unused.

use std::io::{self, Write};
use std::time::Duration;

use ambit_examples::serve::{self, Config, Reads, Site};
use cap_core::fs::Dir;
use cap_core::net::TcpListener;

#[cap_core::sandboxed(
    site = dir(arg = "--root", env = "SERVE_ROOT", default = "examples/site"),
    http = listen(arg = "--addr", default = "127.0.0.1:8080"),
    // One descriptor per connection (up to `SERVE_MAX_CONNECTIONS`, 1024)
    // and per kept file (`SERVE_OPEN_FILES`, 128): more than the usual soft
    // limit of 1024. Raised to the hard limit before anything is opened.
    open_files = max,
    report,
)]
pub(crate) fn main(site: Dir<Site>, http: TcpListener) -> io::Result<()> {
    println!(
        "serving {} on http://{}/",
        site.origin().display(),
        http.local_addr()?
    );
    io::stdout().flush()?;
    let config = config_from_env().unwrap_or_else(|e| {
        eprintln!("serve: {e}");
        std::process::exit(2)
    });
    // Built after the lock: every thread it starts inherits the sandbox.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = runtime.block_on(async {
        let shutdown = serve::signals()?;
        let site = cap_core::tokio::fs::Dir::from(site);
        let http = cap_core::tokio::net::TcpListener::try_from(http)?;
        serve::run(site, http, config, shutdown).await
    })?;
    eprintln!(
        "serve: stopped after {} connections, {} requests ({} cut off), {} from files kept open",
        summary.connections, summary.requests, summary.cut_off, summary.kept_hits
    );
    Ok(())
}

/// The limits, from `SERVE_*` variables; a malformed one is an error naming it.
#[cap_core::ambient(
    reason = "reads the server's limits from SERVE_* environment variables (no access is made by them)"
)]
fn config_from_env() -> io::Result<Config> {
    let seconds = |name: &str, default: Duration| -> io::Result<Duration> {
        match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(v) => v
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{name}={v:?}: expected a number of seconds"),
                    )
                }),
        }
    };
    let count = |name: &str, default: usize| -> io::Result<usize> {
        match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(v) => v.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{name}={v:?}: expected a number"),
                )
            }),
        }
    };
    let d = Config::default();
    Ok(Config {
        header_timeout: seconds("SERVE_HEADER_TIMEOUT", d.header_timeout)?,
        idle_timeout: seconds("SERVE_IDLE_TIMEOUT", d.idle_timeout)?,
        write_timeout: seconds("SERVE_WRITE_TIMEOUT", d.write_timeout)?,
        shutdown_grace: seconds("SERVE_SHUTDOWN_GRACE", d.shutdown_grace)?,
        max_connections: count("SERVE_MAX_CONNECTIONS", d.max_connections)?,
        open_files: count("SERVE_OPEN_FILES", d.open_files)?,
        open_files_idle: seconds("SERVE_OPEN_FILES_IDLE", d.open_files_idle)?,
        access_log: std::env::var("SERVE_ACCESS_LOG").map_or(true, |v| v != "0"),
        reads: match std::env::var("SERVE_READS").as_deref() {
            Err(_) | Ok("inline") => Reads::Inline,
            Ok("pool") => Reads::BlockingPool,
            Ok(v) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("SERVE_READS={v:?}: expected \"inline\" or \"pool\""),
                ));
            }
        },
    })
}
