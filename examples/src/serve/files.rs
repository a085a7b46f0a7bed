//! The static-file handler: one request against a read-only document root.
//!
//! The decisions (which status, which byte range) are pure functions of the
//! file's metadata and the request's headers, tested without a server.
//!
//! The filesystem work for one request (stat, open, fstat and, for a file of
//! at most 64 KiB, the read; then the chunks of a larger file) runs where
//! [`Reads`] says: by default on the runtime thread that answers the request,
//! as nginx does it (on a page-cached file these are five system calls of a
//! few microseconds together, where a trip to tokio's blocking pool costs two
//! thread hand-offs), or in the blocking pool. None of them can wait on
//! anything but the disk: what is not a regular file is refused on its
//! `stat` before it is opened, and the open is `O_NONBLOCK`, so a FIFO put in
//! place of the file between the two calls is opened without waiting and
//! refused by the `fstat`. Small files stay open between requests
//! ([`OpenFiles`]): a request whose `stat` names an inode already open
//! reads it with one `pread`.

use std::io::{self, Seek as _, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cap_core::fs::{File as SyncFile, Metadata};
use cap_core::rights;
use cap_core::tokio::fs::Dir;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::Reads;
use super::body::Body;
use super::open_files::OpenFiles;
use crate::http;

/// The document root's rights: look up, read and stat; no write of any kind.
pub type Site = rights![Lookup, Read, Stat];
/// What a file opened from the root gets.
pub type FileRights = rights![Read, Stat];

/// Files up to this size are read in the same blocking call that opens them
/// and sent from memory; larger ones are streamed in chunks.
const SMALL: u64 = 64 * 1024;

/// Answers one request from `site`: `GET` and `HEAD` of regular files, with
/// conditional requests (`ETag`, `Last-Modified`, 304), single byte ranges
/// (206, 416), `index.html` for directories, and 403 for anything that is
/// not a regular file (FIFOs, devices, sockets are never opened), for paths
/// that try to leave the root, and for symlinks that lead out of it.
pub async fn respond<B>(site: &Dir<Site>, request: &Request<B>) -> Response<Body> {
    respond_with(site, request, Reads::Inline, &Arc::new(OpenFiles::new(0))).await
}

/// [`respond`], with the filesystem work done where `reads` says, and small
/// files kept open in `open_files` between requests.
pub async fn respond_with<B>(
    site: &Dir<Site>,
    request: &Request<B>,
    reads: Reads,
    open_files: &Arc<OpenFiles>,
) -> Response<Body> {
    let head_only = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = error(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
    };
    let url_path = request.uri().path();
    let Some(path) = http::resolve_path(url_path) else {
        return error(StatusCode::FORBIDDEN);
    };
    let ask = Ask::from_headers(request.headers(), head_only, url_path.ends_with('/'));
    let found = match reads {
        Reads::Inline => find(site.as_sync(), path, &ask, open_files),
        Reads::BlockingPool => {
            let dir = site.clone();
            let open_files = Arc::clone(open_files);
            tokio::task::spawn_blocking(move || find(dir.as_sync(), path, &ask, &open_files))
                .await
                .unwrap_or_else(|e| Err(Refusal::Io(io::Error::other(e))))
        }
    };
    match found {
        Ok(found) => found.into_response(reads),
        Err(Refusal::Io(e) | Refusal::Stale(e)) => error(status_for(&e)),
        Err(Refusal::NotRegular) => error(StatusCode::FORBIDDEN),
        Err(Refusal::Redirect) => {
            let mut response = error(StatusCode::MOVED_PERMANENTLY);
            if let Ok(location) = HeaderValue::try_from(format!("{url_path}/")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
    }
}

fn status_for(e: &io::Error) -> StatusCode {
    StatusCode::from_u16(http::status_for(e)).unwrap_or(StatusCode::FORBIDDEN)
}

/// An error page: the status and its reason as text.
pub fn error(status: StatusCode) -> Response<Body> {
    let text = format!(
        "{} {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut response = Response::new(Body::full(text.clone()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    response
}

/// What the request asks of the file.
#[derive(Debug, Default)]
pub struct Ask {
    head_only: bool,
    dir_slash: bool,
    if_none_match: Option<String>,
    if_modified_since: Option<SystemTime>,
    range: Option<String>,
    if_range: Option<String>,
}

impl Ask {
    fn from_headers(headers: &HeaderMap, head_only: bool, dir_slash: bool) -> Self {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            head_only,
            dir_slash,
            if_none_match: text(header::IF_NONE_MATCH),
            if_modified_since: text(header::IF_MODIFIED_SINCE)
                .and_then(|d| httpdate::parse_http_date(&d).ok()),
            range: text(header::RANGE),
            if_range: text(header::IF_RANGE),
        }
    }
}

/// Why a file is not sent.
enum Refusal {
    Io(io::Error),
    /// A kept file failed to read (a stale handle on a network filesystem,
    /// or a file cut short after its `stat`): it was dropped from the
    /// cache, and opening the path afresh may succeed.
    Stale(io::Error),
    /// A FIFO, device, socket: refused before it is opened.
    NotRegular,
    /// A directory named without its trailing slash.
    Redirect,
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Self {
        Refusal::Io(e)
    }
}

/// The validators of a file version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The length in bytes.
    pub len: u64,
    /// The modification time, if the filesystem has one.
    pub modified: Option<SystemTime>,
}

impl Version {
    fn of(meta: &Metadata) -> Self {
        Self {
            len: meta.len(),
            modified: meta.modified().ok().map(cap_core::fs::SystemTime::into_std),
        }
    }

    /// A strong entity tag: length and modification time.
    pub fn etag(&self) -> String {
        let since = self
            .modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .unwrap_or_default();
        format!(
            "\"{:x}-{:x}.{:x}\"",
            self.len,
            since.as_secs(),
            since.subsec_nanos()
        )
    }
}

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 304: the client's copy is current.
    NotModified,
    /// 200: the whole file.
    Whole,
    /// 206: bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// 416: no byte of the range exists.
    Unsatisfiable,
}

/// Decides the response from the file's version and the request's
/// conditional and range headers (RFC 9110 §13 and §14, single ranges only;
/// several ranges are answered with the whole file, which the RFC allows).
pub fn decide(
    version: &Version,
    if_none_match: Option<&str>,
    if_modified_since: Option<SystemTime>,
    range: Option<&str>,
    if_range: Option<&str>,
) -> Decision {
    let etag = version.etag();
    if let Some(tags) = if_none_match {
        if tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
        {
            return Decision::NotModified;
        }
    } else if let (Some(since), Some(modified)) = (if_modified_since, version.modified)
        && truncate_to_seconds(modified) <= since
    {
        return Decision::NotModified;
    }
    let Some(range) = range else {
        return Decision::Whole;
    };
    if let Some(validator) = if_range {
        let matches = validator == etag
            || version
                .modified
                .is_some_and(|m| httpdate::fmt_http_date(m) == validator);
        if !matches {
            return Decision::Whole;
        }
    }
    parse_range(range, version.len).unwrap_or(Decision::Whole)
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs())
}

/// Parses one `bytes=` range against a length; `None` when the header is not
/// one well-formed byte range (it is then ignored).
fn parse_range(header: &str, len: u64) -> Option<Decision> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        // A suffix: the last `n` bytes.
        if !digits(last) {
            return None;
        }
        let n: u64 = last.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Decision::Unsatisfiable);
        }
        return Some(Decision::Part {
            start: len.saturating_sub(n),
            end: len - 1,
        });
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return None;
    }
    let start: u64 = first.parse().ok()?;
    let end: u64 = if last.is_empty() {
        u64::MAX
    } else {
        last.parse().ok()?
    };
    if end < start {
        return None;
    }
    if start >= len {
        return Some(Decision::Unsatisfiable);
    }
    Some(Decision::Part {
        start,
        end: end.min(len - 1),
    })
}

/// A file found for a request, with what to send of it.
struct Found {
    path: PathBuf,
    version: Version,
    decision: Decision,
    content: Content,
}

enum Content {
    None,
    Memory(Bytes),
    Stream(SyncFile<FileRights>, u64),
}

/// [`look_up`], and once more when the first try failed in a way the cache
/// can mend: the process was out of descriptors at any step (the kept files
/// are closed first), or a kept file failed to read (it was dropped).
fn find(
    site: &cap_core::fs::Dir<Site>,
    path: PathBuf,
    ask: &Ask,
    open_files: &OpenFiles,
) -> Result<Found, Refusal> {
    match look_up(site, path.clone(), ask, open_files) {
        Err(Refusal::Stale(_)) => look_up(site, path, ask, open_files),
        Err(Refusal::Io(e)) if http::out_of_descriptors(&e) && open_files.release() > 0 => {
            look_up(site, path, ask, open_files)
        }
        found => found,
    }
}

/// The filesystem part of a request: stat (refusing what is not a regular
/// file before opening it), then either the open file of that inode kept in
/// `open_files`, or open without waiting and fstat; and read a small file.
fn look_up(
    site: &cap_core::fs::Dir<Site>,
    mut path: PathBuf,
    ask: &Ask,
    open_files: &OpenFiles,
) -> Result<Found, Refusal> {
    let root = path.as_os_str().is_empty();
    if root {
        path.push(".");
    }
    let mut meta = site.metadata(&path)?;
    if meta.is_dir() {
        if !root && !ask.dir_slash {
            return Err(Refusal::Redirect);
        }
        path.push("index.html");
        meta = site.metadata(&path)?;
    }
    if !meta.is_file() {
        return Err(Refusal::NotRegular);
    }
    // A kept file is the inode the `stat` just named, so `meta` is its
    // metadata now; otherwise the open file's own, in case the name changed
    // between the two calls.
    let kept = if meta.len() <= SMALL {
        open_files.get(&meta)
    } else {
        None
    };
    let hit = kept.is_some();
    let (file, meta) = if let Some(kept) = kept {
        (Opened::Kept(kept), meta)
    } else {
        let file: SyncFile<FileRights> =
            site.open_with(&path, cap_core::fs::OpenOptions::new().nonblock(true))?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(Refusal::NotRegular);
        }
        if meta.len() <= SMALL {
            let file = Arc::new(file);
            open_files.insert(&meta, Arc::clone(&file));
            (Opened::Kept(file), meta)
        } else {
            (Opened::Own(file), meta)
        }
    };
    let version = Version::of(&meta);
    let decision = decide(
        &version,
        ask.if_none_match.as_deref(),
        ask.if_modified_since,
        ask.range.as_deref(),
        ask.if_range.as_deref(),
    );
    let span = match decision {
        Decision::Whole => Some((0, version.len)),
        Decision::Part { start, end } => Some((start, end - start + 1)),
        Decision::NotModified | Decision::Unsatisfiable => None,
    };
    let content = match span {
        Some((start, count)) if !ask.head_only => {
            if count <= SMALL {
                let mut buf = vec![0; usize::try_from(count).unwrap_or(0)];
                if let Err(e) = file.get().read_exact_at(&mut buf, start) {
                    // Nothing that fails to read stays kept.
                    open_files.remove(&meta);
                    return Err(if hit {
                        Refusal::Stale(e)
                    } else {
                        Refusal::Io(e)
                    });
                }
                Content::Memory(Bytes::from(buf))
            } else {
                let Opened::Own(mut file) = file else {
                    unreachable!("only files of at most SMALL bytes are kept open")
                };
                file.seek(SeekFrom::Start(start))?;
                Content::Stream(file, count)
            }
        }
        _ => Content::None,
    };
    Ok(Found {
        path,
        version,
        decision,
        content,
    })
}

/// A file opened for this request, or one kept open between requests.
enum Opened {
    Own(SyncFile<FileRights>),
    Kept(Arc<SyncFile<FileRights>>),
}

impl Opened {
    fn get(&self) -> &SyncFile<FileRights> {
        match self {
            Opened::Own(file) => file,
            Opened::Kept(file) => file,
        }
    }
}

impl Found {
    fn into_response(self, reads: Reads) -> Response<Body> {
        let (status, length) = match self.decision {
            Decision::NotModified => (StatusCode::NOT_MODIFIED, None),
            Decision::Whole => (StatusCode::OK, Some(self.version.len)),
            Decision::Part { start, end } => (StatusCode::PARTIAL_CONTENT, Some(end - start + 1)),
            Decision::Unsatisfiable => (StatusCode::RANGE_NOT_SATISFIABLE, Some(0)),
        };
        let body = match self.content {
            Content::None => Body::Empty,
            Content::Memory(bytes) => Body::Full(Some(bytes)),
            Content::Stream(file, remaining) => Body::file(file, remaining, reads),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::try_from(self.version.etag()) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(modified) = self.version.modified
            && let Ok(date) = HeaderValue::try_from(httpdate::fmt_http_date(modified))
        {
            headers.insert(header::LAST_MODIFIED, date);
        }
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        if status == StatusCode::NOT_MODIFIED {
            return response;
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(http::content_type(&self.path)),
        );
        match self.decision {
            Decision::Part { start, end } => {
                if let Ok(v) =
                    HeaderValue::try_from(format!("bytes {start}-{end}/{}", self.version.len))
                {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            Decision::Unsatisfiable => {
                if let Ok(v) = HeaderValue::try_from(format!("bytes */{}", self.version.len)) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            Decision::Whole | Decision::NotModified => {}
        }
        if let Some(length) = length {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(len: u64) -> Version {
        Version {
            len,
            modified: Some(SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 5)),
        }
    }

    #[test]
    fn ranges() {
        let r = |h| decide(&v(100), None, None, Some(h), None);
        assert_eq!(r("bytes=0-9"), Decision::Part { start: 0, end: 9 });
        assert_eq!(r("bytes=90-"), Decision::Part { start: 90, end: 99 });
        assert_eq!(r("bytes=-10"), Decision::Part { start: 90, end: 99 });
        assert_eq!(r("bytes=-500"), Decision::Part { start: 0, end: 99 });
        assert_eq!(r("bytes=50-5000"), Decision::Part { start: 50, end: 99 });
        assert_eq!(r("bytes=100-"), Decision::Unsatisfiable);
        assert_eq!(r("bytes=-0"), Decision::Unsatisfiable);
        // Not one well-formed range: ignored, the whole file.
        for h in [
            "bytes=5-1",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(r(h), Decision::Whole, "{h}");
        }
        assert_eq!(
            decide(&v(0), None, None, Some("bytes=0-"), None),
            Decision::Unsatisfiable
        );
    }

    #[test]
    fn conditionals() {
        let version = v(100);
        let etag = version.etag();
        assert_eq!(
            decide(&version, Some(&etag), None, None, None),
            Decision::NotModified
        );
        assert_eq!(
            decide(
                &version,
                Some(&format!("\"x\", W/{etag}")),
                None,
                None,
                None
            ),
            Decision::NotModified
        );
        assert_eq!(
            decide(&version, Some("\"other\""), None, None, None),
            Decision::Whole
        );
        let modified = version.modified.unwrap();
        // Last-Modified has one-second precision: the same second is not modified.
        let same_second = truncate_to_seconds(modified);
        assert_eq!(
            decide(&version, None, Some(same_second), None, None),
            Decision::NotModified
        );
        assert_eq!(
            decide(
                &version,
                None,
                Some(same_second - Duration::from_secs(1)),
                None,
                None
            ),
            Decision::Whole
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            decide(&version, Some("\"other\""), Some(same_second), None, None),
            Decision::Whole
        );
        // If-Range with a stale validator: the whole file, not the range.
        assert_eq!(
            decide(&version, None, None, Some("bytes=0-1"), Some("\"stale\"")),
            Decision::Whole
        );
        assert_eq!(
            decide(&version, None, None, Some("bytes=0-1"), Some(&etag)),
            Decision::Part { start: 0, end: 1 }
        );
    }
}
