//! `serve`, run as a user would: spawned, talked to over loopback.
#![cfg(unix)] // the fixtures are unix symlinks

mod common;

use std::fs;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::symlink;
use std::process::Command;

use common::{Server, read_response, workspace_root};

#[test]
fn serves_the_bundled_site_from_the_workspace_root_as_the_readme_says() {
    // The README's command, with a free port instead of 8080.
    let server = Server::start(&workspace_root(), &["--addr", "127.0.0.1:0"]);
    let (status, head, body) = server.get("/");
    assert_eq!(status, 200, "{head}");
    assert_eq!(
        common::header(&head, "content-type"),
        Some("text/html; charset=utf-8"),
        "{head}"
    );
    assert!(body.contains("Hello from ambit"), "{body}");
    let (status, head, _) = server.get("/style.css");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/css"), "{head}");
    let stderr = server.stop();
    // The `report` option: the report is printed before serving.
    assert!(
        stderr.starts_with("capability mode (Strict, linux)"),
        "no report first on stderr: {stderr}"
    );
}

#[test]
fn head_missing_and_other_methods() {
    let site = format!("{}/site", env!("CARGO_MANIFEST_DIR"));
    let server = Server::start(
        &workspace_root(),
        &["--addr", "127.0.0.1:0", "--root", &site],
    );
    let (status, head, body) = server.request("HEAD /index.html HTTP/1.0\r\n\r\n");
    assert_eq!(status, 200);
    assert!(body.is_empty(), "HEAD has no body");
    let length = fs::metadata(format!("{site}/index.html")).unwrap().len();
    assert_eq!(
        common::header(&head, "content-length"),
        Some(length.to_string().as_str()),
        "{head}"
    );
    assert_eq!(server.get("/nope.html").0, 404);
    assert_eq!(server.request("DELETE /index.html HTTP/1.0\r\n\r\n").0, 405);
}

#[test]
fn escapes_from_the_document_root_are_refused() {
    let (tmp, site) = empty_site();
    fs::write(site.join("index.html"), "<p>public</p>").unwrap();
    fs::write(tmp.path().join("secret.txt"), "TOP SECRET").unwrap();
    symlink("../secret.txt", site.join("relative-leak.txt")).unwrap();
    symlink(
        tmp.path().join("secret.txt"),
        site.join("absolute-leak.txt"),
    )
    .unwrap();
    symlink(tmp.path(), site.join("up")).unwrap();
    fs::write(site.join("allowed-target.txt"), "fine").unwrap();
    symlink("allowed-target.txt", site.join("inside-link.txt")).unwrap();

    let server = serve_site(tmp.path(), &site, &[]);
    // The twins: the root's own files, and a symlink that stays inside.
    assert_eq!(server.get("/").2, "<p>public</p>");
    assert_eq!(server.get("/inside-link.txt").2, "fine");
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/a/../../secret.txt",
        "/relative-leak.txt",
        "/absolute-leak.txt",
        "/up/secret.txt",
    ] {
        let (status, _, body) = server.get(path);
        assert!(status == 403 || status == 404, "{path}: {status}");
        assert!(!body.contains("TOP SECRET"), "{path} leaked");
    }
    assert_eq!(server.get("/../secret.txt").0, 403);
    assert_eq!(server.get("/absolute-leak.txt").0, 403);
}

#[test]
fn preopen_failures_name_the_resource_and_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--root", "/nonexistent/ambit-site", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "error: resource `site` (dir \"/nonexistent/ambit-site\"): No such file or directory"
        ),
        "{err}"
    );

    // The port is taken: the listener is named, and the directory opened
    // before it is closed with the process (nothing locked, nothing served).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--addr", &addr])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("error: resource `http` (listen \"{addr}\"): ")),
        "{err}"
    );
    assert!(err.contains("in use"), "{err}");
    assert!(out.stdout.is_empty());

    let out = Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--addr", "not an address"])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: resource `http` (listen \"not an address\"): ")
    );
}

/// `serve` on `site` at a free loopback port, run in `dir`, with `env`.
fn serve_site(dir: &std::path::Path, site: &std::path::Path, env: &[(&str, &str)]) -> Server {
    Server::start_with_env(
        dir,
        &["--addr", "127.0.0.1:0", "--root", site.to_str().unwrap()],
        env,
    )
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// An empty document root `site` in a temporary directory.
fn empty_site() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    fs::create_dir(&site).unwrap();
    (tmp, site)
}

/// A document root with a large file, beside a secret outside it.
fn big_site() -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let (tmp, site) = empty_site();
    fs::write(site.join("index.html"), "<p>index</p>").unwrap();
    let big: Vec<u8> = (0..8u32 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    fs::write(site.join("big.bin"), &big).unwrap();
    fs::write(tmp.path().join("secret.txt"), "TOP SECRET").unwrap();
    (tmp, site, big)
}

#[test]
fn idle_slow_header_and_non_reading_clients_do_not_delay_others() {
    let (tmp, site, _) = big_site();
    // Long limits: the three bad clients are certainly still held while the
    // good ones are served.
    let server = serve_site(
        tmp.path(),
        &site,
        &[
            ("SERVE_HEADER_TIMEOUT", "60"),
            ("SERVE_WRITE_TIMEOUT", "60"),
        ],
    );
    let idle = server.connect();
    let mut slow = server.connect();
    slow.write_all(b"GET /index.html HTTP/1.1\r\nHo").unwrap();
    let mut never_reads = server.connect();
    never_reads
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Let the server fill the non-reader's socket buffers and block on it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    for _ in 0..20 {
        let (status, _, body) = server.get("/index.html");
        assert_eq!(status, 200);
        assert_eq!(body, "<p>index</p>");
    }
    // The slow client finishes its head and is answered too: it was held,
    // not dropped.
    slow.write_all(b"st: x\r\n\r\n").unwrap();
    let (status, _, body) = read_response(&mut slow, false);
    assert_eq!((status, body.as_slice()), (200, &b"<p>index</p>"[..]));
    drop((idle, never_reads));
}

#[test]
fn timeouts_end_idle_slow_and_non_reading_connections() {
    let (tmp, site, big) = big_site();
    let server = serve_site(
        tmp.path(),
        &site,
        &[("SERVE_HEADER_TIMEOUT", "1"), ("SERVE_WRITE_TIMEOUT", "1")],
    );
    let mut idle = server.connect();
    let mut slow = server.connect();
    let mut never_reads = server.connect();
    never_reads
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // A byte every 300 ms: progress, but the head never completes in time.
    for b in b"GET /index.html HTTP/1.1\r\n" {
        if slow.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let closed = |s: &mut std::net::TcpStream| {
        let mut rest = Vec::new();
        match s.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    };
    assert!(closed(&mut idle), "idle connection still open");
    assert!(closed(&mut slow), "slow-header connection still open");
    // The non-reader was cut off: it gets less than the whole file.
    let mut got = Vec::new();
    let _ = never_reads.read_to_end(&mut got);
    assert!(
        got.len() < big.len(),
        "a client that did not read for seconds still got all {} bytes",
        got.len()
    );
    // And the server still answers.
    assert_eq!(server.get("/index.html").0, 200);
    let stderr = server.stop();
    assert!(stderr.contains("write timeout"), "{stderr}");
}

#[test]
fn fifos_and_sockets_in_the_root_are_refused_without_blocking() {
    let (tmp, site) = empty_site();
    fs::write(site.join("index.html"), "<p>index</p>").unwrap();
    mkfifo(&site.join("pipe"));
    let _socket = std::os::unix::net::UnixListener::bind(site.join("sock")).unwrap();
    symlink("pipe", site.join("link-to-pipe")).unwrap();
    let server = serve_site(tmp.path(), &site, &[]);
    for path in ["/pipe", "/sock", "/link-to-pipe"] {
        // Twice: a server that opened the FIFO would hang on the first.
        for _ in 0..2 {
            assert_eq!(server.get(path).0, 403, "{path}");
        }
    }
    // The twin: the regular file beside them.
    assert_eq!(server.get("/index.html").2, "<p>index</p>");
}

#[test]
fn traversal_variants_are_refused() {
    let (tmp, site, _) = big_site();
    fs::create_dir(site.join("sub")).unwrap();
    fs::write(site.join("sub/page.txt"), "page").unwrap();
    let server = serve_site(tmp.path(), &site, &[]);
    // The twins: the same shapes, staying inside.
    assert_eq!(server.get("/sub/../index.html").0, 403); // `..` is refused even inside
    assert_eq!(server.get("/sub/page.txt").2, "page");
    assert_eq!(server.get("/sub%2fpage.txt").2, "page");
    assert_eq!(server.get("/./sub/./page.txt").2, "page");
    assert_eq!(server.get("//sub//page.txt").2, "page");
    for (path, expect) in [
        ("/../secret.txt", 403),
        ("/%2e%2e/secret.txt", 403),
        ("/%2E%2E%2Fsecret.txt", 403),
        ("/..%2fsecret.txt", 403),
        ("/sub/%2e%2e/%2e%2e/secret.txt", 403),
        ("/.%2e/secret.txt", 403),
        ("/%5c..%5csecret.txt", 403),
        ("/..%5csecret.txt", 403),
        ("/index.html%00.txt", 403),
        ("/%00", 403),
        ("/%c0%ae%c0%ae/secret.txt", 403),
        ("/%e0%80%ae%e0%80%ae/secret.txt", 403),
        ("/%c0%af../secret.txt", 403),
        ("/%2", 403),
        ("/%zz", 403),
        ("/%252e%252e/secret.txt", 404),
        ("/....//secret.txt", 404),
        ("/.../secret.txt", 404),
    ] {
        let (status, _, body) = server.get(path);
        assert!(!body.contains("TOP SECRET"), "{path} leaked");
        assert_eq!(status, expect, "{path}");
    }
    // A raw backslash or `..` in the request target: refused by the parser
    // or the path check, never served.
    for target in [
        "/..\\secret.txt",
        "/\\..\\secret.txt",
        "/sub/../../secret.txt",
    ] {
        let (status, _, body) =
            server.request(&format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(status == 400 || status == 403, "{target}: {status}");
        assert!(!body.contains("TOP SECRET"), "{target} leaked");
    }
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let (tmp, site, big) = big_site();
    let server = serve_site(tmp.path(), &site, &[]);
    let mut stream = server.connect();
    for _ in 0..5 {
        stream
            .write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (status, head, body) = read_response(&mut stream, false);
        assert_eq!(status, 200);
        assert_eq!(body, b"<p>index</p>");
        assert_ne!(common::header(&head, "connection"), Some("close"));
    }
    // Pipelined: two requests in one write, two answers in order; the
    // second a streamed large file.
    stream
        .write_all(
            b"HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
    let (status, head, body) = read_response(&mut stream, true);
    assert_eq!((status, body.len()), (200, 0));
    assert_eq!(common::header(&head, "content-length"), Some("12"));
    let (status, _, body) = read_response(&mut stream, false);
    assert_eq!(status, 200);
    assert!(body == big, "the streamed file differs");
}

#[test]
fn ranges_give_206_and_416() {
    let (tmp, site, big) = big_site();
    let server = serve_site(tmp.path(), &site, &[]);
    let range = |spec: &str| {
        let mut s = server.connect();
        s.write_all(
            format!("GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: {spec}\r\n\r\n").as_bytes(),
        )
        .unwrap();
        read_response(&mut s, false)
    };
    let len = big.len();
    let (status, head, body) = range("bytes=0-9");
    assert_eq!(status, 206);
    assert_eq!(body, &big[..10]);
    assert_eq!(
        common::header(&head, "content-range"),
        Some(format!("bytes 0-9/{len}").as_str())
    );
    // A large middle part: streamed from the right offset.
    let (status, _, body) = range("bytes=1000000-3000000");
    assert_eq!(status, 206);
    assert!(body == big[1_000_000..=3_000_000], "middle range differs");
    let (status, _, body) = range("bytes=-100");
    assert_eq!((status, body.as_slice()), (206, &big[len - 100..]));
    let (status, head, _) = range(&format!("bytes={len}-"));
    assert_eq!(status, 416);
    assert_eq!(
        common::header(&head, "content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    // Several ranges: the whole file (allowed by RFC 9110).
    let (status, _, body) = range("bytes=0-1,5-6");
    assert_eq!((status, body.len()), (200, len));
}

#[test]
fn validators_give_304() {
    let (tmp, site, _) = big_site();
    let server = serve_site(tmp.path(), &site, &[]);
    let (status, head, _) = server.get("/index.html");
    assert_eq!(status, 200);
    let etag = common::header(&head, "etag").unwrap().to_owned();
    let modified = common::header(&head, "last-modified").unwrap().to_owned();
    let ask = |h: &str| {
        server.request(&format!(
            "GET /index.html HTTP/1.1\r\nHost: x\r\n{h}\r\n\r\n"
        ))
    };
    let (status, head, body) = ask(&format!("If-None-Match: {etag}"));
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(common::header(&head, "etag"), Some(etag.as_str()));
    assert_eq!(ask(&format!("If-Modified-Since: {modified}")).0, 304);
    // The twins: another tag, an older date.
    assert_eq!(ask("If-None-Match: \"other\"").0, 200);
    assert_eq!(
        ask("If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT").0,
        200
    );
    // A changed file gets a new tag.
    fs::write(site.join("index.html"), "<p>changed</p>").unwrap();
    let (status, _, body) = ask(&format!("If-None-Match: {etag}"));
    assert_eq!((status, body.as_str()), (200, "<p>changed</p>"));
}

#[test]
fn sigterm_finishes_gracefully() {
    let (tmp, site, _) = big_site();
    let server = serve_site(tmp.path(), &site, &[]);
    // An idle keep-alive connection must not hold the shutdown up.
    let mut open = server.connect();
    open.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut open, false).0, 200);
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("serve: SIGTERM: shutting down"), "{stderr}");
    assert!(
        stderr.contains("stopped after 1 connections, 1 requests (0 cut off)"),
        "{stderr}"
    );
    // The access log line for the request.
    assert!(stderr.contains("\"GET / HTTP/1.1\" 200 12"), "{stderr}");
}

#[test]
fn reads_in_the_blocking_pool_serve_the_same_bytes() {
    let (tmp, site, big) = big_site();
    let server = serve_site(tmp.path(), &site, &[("SERVE_READS", "pool")]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-3000000\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut stream, false);
    assert_eq!((status, body.as_slice()), (200, &b"<p>index</p>"[..]));
    let (status, _, body) = read_response(&mut stream, false);
    assert_eq!(status, 200);
    assert!(body == big, "the file streamed from the pool differs");
    let (status, _, body) = read_response(&mut stream, false);
    assert_eq!(status, 206);
    assert!(body == big[1_000_000..=3_000_000], "middle range differs");
    // Not a regular file: refused in the pool as inline.
    mkfifo(&site.join("pipe"));
    stream
        .write_all(b"GET /pipe HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, _, _) = read_response(&mut stream, false);
    assert_eq!(status, 403);
}

#[test]
fn a_bad_reads_setting_is_named() {
    a_bad_setting_is_named(
        "SERVE_READS",
        "sometimes",
        "serve: SERVE_READS=\"sometimes\": expected \"inline\" or \"pool\"\n",
    );
}

/// `serve` with `var=value` in its environment exits 2 with `message`.
fn a_bad_setting_is_named(var: &str, value: &str, message: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--addr", "127.0.0.1:0"])
        .env(var, value)
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(message), "{err}");
}

/// A small file, kept open by the server after its first request, then
/// changed on disk in every way a name can change: each request is answered
/// from what the path names now, never from the descriptor kept for what it
/// named before.
#[test]
fn kept_open_files_answer_for_what_the_path_names_now() {
    let (tmp, site) = empty_site();
    let file = site.join("a.txt");
    fs::write(&file, "one").unwrap();
    fs::write(tmp.path().join("secret.txt"), "TOP SECRET").unwrap();
    let server = serve_site(tmp.path(), &site, &[("SERVE_ACCESS_LOG", "0")]);
    let (status, head, body) = server.get("/a.txt");
    assert_eq!((status, body.as_str()), (200, "one"));
    let etag = head
        .lines()
        .find(|l| l.starts_with("etag:"))
        .unwrap()
        .to_owned();
    // Rewritten in place (the same inode): the new bytes and a new ETag.
    fs::write(&file, "two, longer").unwrap();
    let (status, head, body) = server.get("/a.txt");
    assert_eq!((status, body.as_str()), (200, "two, longer"));
    assert!(!head.contains(&etag), "a stale ETag: {head}");
    // Renamed over by another file: the other file.
    fs::write(site.join("b.txt"), "three").unwrap();
    fs::rename(site.join("b.txt"), &file).unwrap();
    assert_eq!(server.get("/a.txt").2, "three");
    // No longer readable (the server holds no capability that overrides
    // file modes, even as root): refused as a fresh open is; then readable
    // again, the twin.
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    assert_eq!(server.get("/a.txt").0, 403);
    fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    assert_eq!(server.get("/a.txt").2, "three");
    // Replaced by a symlink out of the root: refused, the secret never sent.
    fs::rename(&file, site.join("kept.txt")).unwrap();
    symlink("../secret.txt", &file).unwrap();
    let (status, _, body) = server.get("/a.txt");
    assert!(status == 403 || status == 404, "{status} {body}");
    assert!(!body.contains("TOP SECRET"));
    assert_eq!(server.get("/kept.txt").2, "three", "the twin inside");
    // Replaced by a FIFO: refused without blocking.
    fs::remove_file(&file).unwrap();
    mkfifo(&file);
    assert_eq!(server.get("/a.txt").0, 403);
    // Moved out of the root, then changed there: not found, never served.
    assert_eq!(server.get("/kept.txt").2, "three");
    fs::rename(site.join("kept.txt"), tmp.path().join("moved.txt")).unwrap();
    fs::write(tmp.path().join("moved.txt"), "outside now").unwrap();
    let (status, _, body) = server.get("/kept.txt");
    assert_eq!(status, 404, "{body}");
}

/// The descriptors the server holds open.
fn open_descriptors(server: &Server) -> usize {
    fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .unwrap()
        .count()
}

#[test]
fn kept_open_files_are_bounded_by_serve_open_files() {
    let (tmp, site) = empty_site();
    for i in 0..6 {
        fs::write(site.join(format!("{i}.txt")), format!("file {i}")).unwrap();
    }
    for (setting, kept) in [("2", 2), ("0", 0), ("128", 6)] {
        let server = serve_site(
            tmp.path(),
            &site,
            &[("SERVE_OPEN_FILES", setting), ("SERVE_ACCESS_LOG", "0")],
        );
        let mut stream = server.connect();
        // One request first, so the connection and the runtime's own
        // descriptors are all in the count before the files.
        stream
            .write_all(b"HEAD /0.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        read_response(&mut stream, true);
        let before = open_descriptors(&server) - usize::from(kept > 0);
        for round in 0..2 {
            for i in 0..6 {
                stream
                    .write_all(format!("GET /{i}.txt HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                    .unwrap();
                let (status, _, body) = read_response(&mut stream, false);
                assert_eq!(
                    (status, body.as_slice()),
                    (200, format!("file {i}").as_bytes()),
                    "SERVE_OPEN_FILES={setting}, round {round}"
                );
            }
        }
        assert_eq!(
            open_descriptors(&server),
            before + kept,
            "SERVE_OPEN_FILES={setting}"
        );
        // Which requests were answered from a kept file: the first GET of
        // `0.txt` (kept by the HEAD) whenever anything is kept; with room for
        // all six, the whole second round too; with room for two of six,
        // taken in turn, nothing else (the least recently used is always the
        // next one asked for).
        let hits = match kept {
            0 => 0,
            6 => 7,
            _ => 1,
        };
        let (status, stderr) = server.terminate();
        assert!(status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "13 requests (0 cut off), {hits} from files kept open"
            )),
            "SERVE_OPEN_FILES={setting}: {stderr}"
        );
    }
    a_bad_setting_is_named(
        "SERVE_OPEN_FILES",
        "many",
        "serve: SERVE_OPEN_FILES=\"many\": expected a number\n",
    );
}

/// A server out of descriptors closes what it keeps open for speed before it
/// fails a request: with room for only a few descriptors beside its own,
/// sixty different small files are all served, twice.
#[test]
fn kept_open_files_give_way_when_descriptors_run_out() {
    let (tmp, site) = empty_site();
    // Nested names too: their `stat` goes through the full resolution,
    // which itself needs a descriptor.
    fs::create_dir(site.join("sub")).unwrap();
    for i in 0..60 {
        let name = if i % 2 == 0 {
            format!("{i}.txt")
        } else {
            format!("sub/{i}.txt")
        };
        fs::write(site.join(name), format!("file {i}")).unwrap();
    }
    let limit = 40;
    let server = Server::start_with_nofile(
        tmp.path(),
        &["--addr", "127.0.0.1:0", "--root", site.to_str().unwrap()],
        &[("SERVE_OPEN_FILES", "128"), ("SERVE_ACCESS_LOG", "0")],
        limit,
    );
    let mut stream = server.connect();
    for round in 0..2 {
        for i in 0..60 {
            let path = if i % 2 == 0 {
                format!("/{i}.txt")
            } else {
                format!("/sub/{i}.txt")
            };
            stream
                .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .unwrap();
            let (status, _, body) = read_response(&mut stream, false);
            assert_eq!(
                (status, String::from_utf8_lossy(&body).as_ref()),
                (200, format!("file {i}").as_str()),
                "round {round}, {path}"
            );
        }
    }
    // Sixty kept files cannot fit under the limit, so the requests above
    // ran out of descriptors on the way (without the release, the first to
    // do so is answered 503) and recovered. The cache still works after:
    // the file asked for last is kept, and asked again, answered from it.
    stream
        .write_all(b"GET /sub/59.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut stream, false);
    assert_eq!((status, body.as_slice()), (200, &b"file 59"[..]));
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    let hits: u64 = stderr
        .split("(0 cut off), ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary: {stderr}"));
    assert!(hits > 0, "{stderr}");
}

/// An ACL entry that stops the server reading a kept file changes neither
/// its mode nor its owner, only its `ctime`: the file is opened afresh and
/// refused. The server runs as root with every capability dropped, so the
/// named-user entry for uid 0 applies to it on a file another user owns;
/// run as another user, the test has no such entry to set and checks the
/// twin only.
#[test]
fn kept_open_files_see_an_acl_that_revokes_reading() {
    let (tmp, site) = empty_site();
    let file = site.join("a.txt");
    fs::write(&file, "one").unwrap();
    let root =
        fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if root {
        std::os::unix::fs::chown(&file, Some(1000), Some(1000)).unwrap();
    }
    let server = serve_site(tmp.path(), &site, &[("SERVE_ACCESS_LOG", "0")]);
    assert_eq!(server.get("/a.txt").2, "one");
    assert_eq!(
        server.get("/a.txt").2,
        "one",
        "the twin, from the kept file"
    );
    if !root {
        return;
    }
    let setfacl = |args: &[&str]| {
        let done = Command::new("setfacl").args(args).arg(&file).status();
        assert!(
            done.is_ok_and(|s| s.success()),
            "setfacl {args:?} (package acl)"
        );
    };
    setfacl(&["-m", "u:0:---"]);
    assert_eq!(server.get("/a.txt").0, 403, "the ACL revoked reading");
    setfacl(&["-b"]);
    assert_eq!(server.get("/a.txt").2, "one", "the ACL removed again");
}

/// The server raises its soft descriptor limit to the hard one before it
/// locks (it needs one per connection and per kept file); the hard limit
/// stays where it was.
#[test]
fn the_soft_descriptor_limit_is_raised_to_the_hard_one() {
    let (tmp, site) = empty_site();
    let server = Server::start_with_nofile_limits(
        tmp.path(),
        &["--addr", "127.0.0.1:0", "--root", site.to_str().unwrap()],
        &[],
        (256, 4096),
    );
    let limits = fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = open_files.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["4096", "4096"], "{open_files}");
}

/// A kept file that nobody asks for is closed after its idle time by the
/// server's timer, with no request to trigger it: a removed file does not
/// stay open on an idle server.
#[test]
fn idle_kept_files_are_closed_without_a_request() {
    let (tmp, site) = empty_site();
    fs::write(site.join("a.txt"), "a").unwrap();
    fs::write(site.join("b.txt"), "b").unwrap();
    let server = serve_site(
        tmp.path(),
        &site,
        &[("SERVE_OPEN_FILES_IDLE", "1"), ("SERVE_ACCESS_LOG", "0")],
    );
    // One connection throughout, and a first request that keeps nothing,
    // so the runtime's and the connection's descriptors are all counted.
    let mut stream = server.connect();
    let mut get = |path: &str| {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        let (status, _, body) = read_response(&mut stream, false);
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    assert_eq!(get("/missing").0, 404);
    let before = open_descriptors(&server);
    assert_eq!(get("/a.txt").1, "a");
    assert_eq!(open_descriptors(&server), before + 1);
    fs::remove_file(site.join("a.txt")).unwrap();
    let started = std::time::Instant::now();
    while open_descriptors(&server) > before {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the removed file is still held open"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The twin: a file asked for again within the idle time stays kept.
    for _ in 0..4 {
        assert_eq!(get("/b.txt").1, "b");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (_, stderr) = server.terminate();
    assert!(
        stderr.contains("6 requests (0 cut off), 3 from files kept open"),
        "{stderr}"
    );
}
