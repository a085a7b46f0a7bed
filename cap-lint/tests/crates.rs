//! The built-in entries for common crates, and escape hatches inside
//! `#[sandboxed]` bodies.

use cap_lint::catalogue::{Category, Index, builtin};
use cap_lint::check_source;

#[test]
fn common_crates_are_in_the_builtin_catalogue() {
    for (krate, category) in [
        ("tempfile::", Category::Fs),
        ("walkdir::", Category::Fs),
        ("ignore::", Category::Fs),
        ("glob::", Category::Fs),
        ("dirs::", Category::Env),
        ("directories::", Category::Env),
        ("memmap2::", Category::Ffi),
        ("notify::", Category::Fs),
        ("reqwest::", Category::Net),
        ("ureq::", Category::Net),
        ("hyper::", Category::Net),
        ("rusqlite::", Category::Fs),
        ("libloading::", Category::Ffi),
        ("nix::unistd::", Category::Process),
        ("nix::sys::socket::", Category::Ffi),
        ("nix::fcntl::", Category::Ffi),
    ] {
        let entries: Vec<_> = builtin()
            .iter()
            .filter(|a| a.path.starts_with(krate))
            .collect();
        assert!(!entries.is_empty(), "no entries for {krate}");
        assert!(
            entries.iter().any(|a| a.category == category),
            "{krate} has no {category} entry"
        );
        assert!(
            entries.iter().all(|a| a.help.contains("cap_core")
                || a.help.contains("in-process")
                || a.help.contains("build time")),
            "{krate}: help must name the ambit form"
        );
    }
}

#[test]
fn crate_calls_are_found_without_extra_entries() {
    let src = r#"
use tempfile::NamedTempFile;
use walkdir::WalkDir;
fn f(dir: &std::path::Path) {
    let t = NamedTempFile::new_in(dir).unwrap();
    t.persist("out").unwrap();
    for e in WalkDir::new(".") {}
    let _ = dirs::home_dir();
    let _ = reqwest::blocking::get("http://example.com");
    let _ = rusqlite::Connection::open("db.sqlite");
    let _ = glob::glob("*.rs");
    let _ = unsafe { libloading::Library::new("libx.so") };
    let _ = nix::unistd::fork();
}
"#;
    let a = check_source("crates.rs", src, &Index::builtin());
    let got: Vec<(usize, &str)> = a
        .findings
        .iter()
        .map(|f| (f.span.start.line, f.api.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (5, "tempfile::NamedTempFile::new_in"),
            (6, "tempfile::NamedTempFile::persist"),
            (7, "walkdir::WalkDir::new"),
            (8, "dirs::home_dir"),
            (9, "reqwest::blocking::get"),
            (10, "rusqlite::Connection::open"),
            (11, "glob::glob"),
            (12, "libloading::Library::new"),
            (13, "nix::unistd::fork"),
        ]
    );
}

#[test]
fn escape_hatches_in_sandboxed_bodies_are_flagged() {
    let src = r#"
use cap_core::fs::Dir;
#[cap_core::sandboxed(site = dir("site"), api = connect("127.0.0.1:1"))]
fn main(site: Dir<cap_core::rights::ReadOnly>, api: cap_core::net::Net) {
    let token = cap_core::ambient_authority();
    let f = site.open("x").unwrap().into_std(token);
    let d = Dir::open_ambient_dir("/", cap_core::ambient_authority());
    let s = cap_core::net::TcpStream::from_std(std_stream(), token);
}
fn outside() {
    // Before the lock (not a sandboxed body) the token is how pre-opening works.
    let _ = Dir::open_ambient_dir("/", cap_core::ambient_authority());
}
"#;
    let a = check_source("main.rs", src, &Index::builtin());
    let got: Vec<(usize, &str, &str)> = a
        .findings
        .iter()
        .map(|f| (f.span.start.line, f.api.as_str(), f.code.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (5, "cap_core::ambient_authority", "ambient::escape"),
            (6, "cap_core::*::into_std", "ambient::escape"),
            (7, "cap_core::ambient_authority", "ambient::escape"),
            (7, "cap_core::ambient_authority", "ambient::escape"),
            (8, "cap_core::*::from_std", "ambient::escape"),
        ]
    );
}
