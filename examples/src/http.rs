//! The little HTTP/1.0 that `serve` speaks: parse a request line, map a URL
//! path to a relative path, map errors and file names to statuses and
//! content types. Hand-written and small on purpose; nothing here touches the
//! filesystem or the network.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// A parsed request: the method's effect and the raw URL path.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// The URL path, query removed, not yet decoded.
    pub path: String,
    /// `HEAD`: answer without a body.
    pub head_only: bool,
}

/// Parses a request head (`GET /index.html HTTP/1.1` and headers). The error
/// is the status to answer: 400 for garbage, 405 for other methods.
pub fn parse_request(head: &str) -> Result<Request, u16> {
    let line = head.lines().next().ok_or(400u16)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/") || !target.starts_with('/') {
        return Err(400);
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Err(405),
    };
    let path = target.split(['?', '#']).next().unwrap_or("/").to_owned();
    Ok(Request { path, head_only })
}

/// Maps a URL path to a path relative to the document root, or `None` (403)
/// when it names anything above the root: a `..` segment (also percent-encoded),
/// a NUL, a backslash. The handle would refuse these anyway; refusing them
/// here gives the client a clear 403 instead of relying on the error kind.
pub fn resolve_path(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut path = PathBuf::new();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(path)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The status for an error from the document root: 404 for a missing file or
/// a directory, 503 when the process is out of descriptors (a passing
/// condition, not the file's fault), 403 for a refusal (an escape by
/// symlink, a missing right, or the kernel's denial).
pub fn status_for(err: &io::Error) -> u16 {
    if out_of_descriptors(err) {
        return 503;
    }
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::IsADirectory | io::ErrorKind::NotADirectory => 404,
        _ => 403,
    }
}

/// Whether `err` is `EMFILE` or `ENFILE` (24 and 23 on Linux, the BSDs and
/// macOS): this process, or the system, has no descriptor left.
pub fn out_of_descriptors(err: &io::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    cfg!(unix) && matches!(cap_core::fs::raw_os_error(err), Some(EMFILE | ENFILE))
}

/// The content type for a file name.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// A response ready to write.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    content_type: &'static str,
    length: usize,
    body: Vec<u8>,
}

impl Response {
    /// A file's contents (none for HEAD, but the length of the file).
    pub fn file(path: &Path, body: Vec<u8>, head_only: bool) -> Self {
        let length = body.len();
        Self {
            status: 200,
            content_type: content_type(path),
            length,
            body: if head_only { Vec::new() } else { body },
        }
    }

    /// An error page.
    pub fn error(status: u16) -> Self {
        let body = format!("{status} {}\n", reason(status)).into_bytes();
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            length: body.len(),
            body,
        }
    }

    /// Writes the status line, headers and body.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        write!(
            out,
            "HTTP/1.0 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.length
        )?;
        out.write_all(&self.body)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(
            parse_request("GET /a?b HTTP/1.1\r\nHost: x\r\n"),
            Ok(Request {
                path: "/a".into(),
                head_only: false
            })
        );
        assert_eq!(
            parse_request("HEAD / HTTP/1.0\r\n").map(|r| r.head_only),
            Ok(true)
        );
        assert_eq!(parse_request("POST / HTTP/1.1\r\n"), Err(405));
        assert_eq!(parse_request("garbage\r\n"), Err(400));
    }

    #[test]
    fn paths_above_the_root_are_refused() {
        assert_eq!(resolve_path("/a/b.html"), Some(PathBuf::from("a/b.html")));
        assert_eq!(resolve_path("/"), Some(PathBuf::new()));
        assert_eq!(resolve_path("/../etc/passwd"), None);
        assert_eq!(resolve_path("/a/%2e%2e/%2e%2e/x"), None);
        assert_eq!(resolve_path("/a%00b"), None);
        assert_eq!(
            resolve_path("/hello%20world.txt"),
            Some(PathBuf::from("hello world.txt"))
        );
    }

    #[test]
    fn types_and_statuses() {
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
        assert_eq!(status_for(&io::Error::from(io::ErrorKind::NotFound)), 404);
        assert_eq!(
            status_for(&io::Error::from(io::ErrorKind::PermissionDenied)),
            403
        );
        #[cfg(unix)]
        for (errno, status) in [(24, 503), (23, 503), (13, 403)] {
            assert_eq!(status_for(&io::Error::from_raw_os_error(errno)), status);
        }
    }
}
