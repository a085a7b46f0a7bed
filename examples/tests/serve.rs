//! `serve`, run as a user would: spawned, talked to over loopback.
#![cfg(unix)] // the fixtures are unix symlinks

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

use common::{Server, workspace_root};

#[test]
fn serves_the_bundled_site_from_the_workspace_root_as_the_readme_says() {
    // The README's command, with a free port instead of 8080.
    let server = Server::start(&workspace_root(), &["--addr", "127.0.0.1:0"]);
    let (status, head, body) = server.get("/");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("Content-Type: text/html"), "{head}");
    assert!(body.contains("Hello from ambit"), "{body}");
    let (status, head, _) = server.get("/style.css");
    assert_eq!(status, 200);
    assert!(head.contains("text/css"), "{head}");
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
    assert!(
        head.contains(&format!("Content-Length: {length}")),
        "{head}"
    );
    assert_eq!(server.get("/nope.html").0, 404);
    assert_eq!(server.request("DELETE /index.html HTTP/1.0\r\n\r\n").0, 405);
}

#[test]
fn escapes_from_the_document_root_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    fs::create_dir(&site).unwrap();
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

    let server = Server::start(
        tmp.path(),
        &["--addr", "127.0.0.1:0", "--root", site.to_str().unwrap()],
    );
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
