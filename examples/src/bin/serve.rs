//! `serve`: a static HTTP file server confined to its document root and its
//! listening socket.
//!
//! ```text
//! cargo run -p ambit-examples --bin serve                      # examples/site on 127.0.0.1:8080
//! cargo run -p ambit-examples --bin serve -- --root DIR --addr 127.0.0.1:0
//! ```
//!
//! It pre-opens the document root (read-only) and binds the listener, enters
//! capability mode, prints the report and the address it serves on, then
//! answers GET and HEAD until it is killed. Paths with `..`, absolute paths
//! and symlinks that lead out of the root get 403; missing files 404.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::time::Duration;

use ambit_examples::http::{self, Request, Response};
use cap_core::fs::Dir;
use cap_core::net::{TcpListener, TcpStream};
use cap_core::rights;

/// The document root's rights: look up, read and stat; no write of any kind.
type Site = rights![Lookup, Read, Stat];

#[cap_core::sandboxed(
    site = dir(arg = "--root", env = "SERVE_ROOT", default = "examples/site"),
    http = listen(arg = "--addr", default = "127.0.0.1:8080"),
    report,
)]
fn main(site: Dir<Site>, http: TcpListener) -> io::Result<()> {
    println!(
        "serving {} on http://{}/",
        site.origin().display(),
        http.local_addr()?
    );
    io::stdout().flush()?;
    for stream in http.incoming() {
        match stream {
            Ok(stream) => {
                if let Err(e) = answer(&site, stream) {
                    eprintln!("serve: connection: {e}");
                }
            }
            Err(e) => eprintln!("serve: accept: {e}"),
        }
    }
    Ok(())
}

/// Reads one request and writes its response; one request per connection.
fn answer(site: &Dir<Site>, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.by_ref().take(8192).read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
        if head.len() > 64 * 1024 {
            break;
        }
    }
    let mut stream = reader.into_inner();
    let response = match http::parse_request(&head) {
        Ok(request) => respond(site, &request),
        Err(status) => Response::error(status),
    };
    eprintln!(
        "serve: {} {}",
        head.lines().next().unwrap_or(""),
        response.status
    );
    response.write_to(&mut stream)?;
    stream.flush()
}

fn respond(site: &Dir<Site>, request: &Request) -> Response {
    let Some(path) = http::resolve_path(&request.path) else {
        return Response::error(403);
    };
    let path = if path.as_os_str().is_empty() || site.is_dir(&path) {
        path.join("index.html")
    } else {
        path
    };
    match site.read(&path) {
        Ok(body) => Response::file(&path, body, request.head_only),
        Err(e) => Response::error(http::status_for(&e)),
    }
}
