//! `upload`, run as a user would: uploads land in the write-only inbox,
//! listings come from the read-only shelf, and neither handle does the
//! other's job.
#![cfg(unix)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Service {
    child: Child,
    addr: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(inbox: &std::path::Path, shelf: &std::path::Path) -> Service {
    let mut child = Command::new(env!("CARGO_BIN_EXE_upload"))
        .args(["--addr", "127.0.0.1:0", "--inbox"])
        .arg(inbox)
        .arg("--shelf")
        .arg(shelf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some((_, addr)) = line.trim().rsplit_once(" on http://") else {
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("upload did not start: {line:?} {err}");
    };
    Service {
        child,
        addr: addr.trim_end_matches('/').to_owned(),
    }
}

/// One request with `Connection: close`; returns (status, body).
fn request(service: &Service, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(&service.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

#[test]
fn uploads_land_in_the_inbox_and_listings_come_from_the_shelf() {
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, shelf) = (tmp.path().join("inbox"), tmp.path().join("shelf"));
    fs::create_dir(&inbox).unwrap();
    fs::create_dir(&shelf).unwrap();
    fs::write(shelf.join("a.txt"), "12345").unwrap();
    fs::write(shelf.join("b.txt"), "").unwrap();
    let service = start(&inbox, &shelf);

    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let (status, body) = request(&service, "PUT", "/upload/notes.bin", &big);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, "stored notes.bin (300000 bytes)\n");
    assert!(fs::read(inbox.join("notes.bin")).unwrap() == big);

    let (status, body) = request(&service, "GET", "/files", b"");
    assert_eq!((status, body.as_str()), (200, "a.txt\t5\nb.txt\t0\n"));

    // Names that leave the inbox: refused before any file is made.
    for path in [
        "/upload/..",
        "/upload/%2e%2e%2fescaped",
        "/upload/a%2fb",
        "/upload/..%5cx",
    ] {
        let (status, _) = request(&service, "PUT", path, b"x");
        assert_eq!(status, 400, "{path}");
    }
    assert!(!tmp.path().join("escaped").exists());
    assert_eq!(fs::read_dir(&inbox).unwrap().count(), 1);
    // Uploading a name that is a symlink out of the inbox: the handle
    // refuses to follow it (a 500 naming the refusal), nothing is written.
    std::os::unix::fs::symlink("../shelf/a.txt", inbox.join("link")).unwrap();
    let (status, body) = request(&service, "PUT", "/upload/link", b"overwrite");
    assert_eq!(status, 500, "{body}");
    assert_eq!(fs::read_to_string(shelf.join("a.txt")).unwrap(), "12345");
}
