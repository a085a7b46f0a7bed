//! Name resolution through many globs and glob cycles, and the module tree:
//! every module file found (`#[path]`, `cfg_attr(…, path = …)` in all its
//! branches), missing ones reported, `#[cfg(test)] mod tests;` as test code.

use std::fmt::Write as _;
use std::path::Path;

use cap_lint::catalogue::Index;
use cap_lint::check_source;
use cap_lint::finding::Scope;

fn apis(a: &cap_lint::Analysis) -> Vec<(usize, String)> {
    a.findings
        .iter()
        .map(|f| (f.span.start.line, f.api.clone()))
        .collect()
}

#[test]
fn many_std_globs_in_one_module_resolve() {
    // Once exponential: each glob's path was resolved through every other glob.
    let mut src = String::new();
    for m in [
        "fs",
        "io",
        "net",
        "process",
        "env",
        "path",
        "collections",
        "fmt",
        "sync",
        "thread",
    ] {
        let _ = writeln!(src, "use std::{m}::*;");
    }
    src.push_str("fn f() {\n    let _ = read(\"x\");\n    let _ = TcpStream::connect(\"a:1\");\n    let _ = Command::new(\"ls\");\n    let _ = helper(unknown(1));\n}\n");
    let a = check_source("globs.rs", &src, &Index::builtin());
    assert_eq!(
        apis(&a),
        vec![
            (12, "std::fs::read".to_owned()),
            (13, "std::net::TcpStream::connect".to_owned()),
            (14, "std::process::Command::new".to_owned()),
        ]
    );
}

#[test]
fn glob_cycles_between_modules_end() {
    let src = r#"
mod a { pub use super::b::*; pub use std::fs::*; }
mod b { pub use super::a::*; pub use super::c::*; }
mod c { pub use super::b::*; pub use super::a::*; pub fn local() {} }
use b::*;
fn f() {
    let _ = read("x");
    local();
    let _ = nowhere();
    { use std::env::*; use a::*; let _ = var("X"); }
}
"#;
    let a = check_source("cycles.rs", src, &Index::builtin());
    assert_eq!(
        apis(&a),
        vec![
            (7, "std::fs::read".to_owned()),
            (10, "std::env::var".to_owned())
        ]
    );
}

#[test]
fn module_with_hundreds_of_globs_is_checked() {
    // 300 modules, each glob-importing its two neighbours and std::fs.
    let mut src = String::new();
    let n = 300;
    for i in 0..n {
        let _ = writeln!(
            src,
            "mod m{i} {{ pub use super::m{}::*; pub use super::m{}::*; pub use std::fs::*; pub use std::io::*; pub fn f{i}() {{ let _ = read(\"x\"); g{i}(); }} }}",
            (i + 1) % n,
            (i + n - 1) % n
        );
    }
    let a = check_source("ring.rs", &src, &Index::builtin());
    assert_eq!(a.findings.len(), n);
    assert!(a.findings.iter().all(|f| f.api == "std::fs::read"));
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn check_tree(dir: &Path) -> cap_lint::Analysis {
    let base = dir.to_path_buf();
    let label = move |p: &Path| p.strip_prefix(&base).unwrap_or(p).display().to_string();
    cap_lint::check_crate(
        &dir.join("src/lib.rs"),
        Scope::Lib,
        &Index::builtin(),
        &label,
        &|_| false,
    )
}

#[test]
fn cfg_attr_paths_are_followed_in_every_branch() {
    // tempfile's shape: one `mod platform;` whose file depends on the target.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "src/lib.rs", "mod file;\n");
    write(d, "src/file/mod.rs", "mod imp;\n");
    write(
        d,
        "src/file/imp/mod.rs",
        r#"#[cfg_attr(any(unix, target_os = "wasi"), path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
#[cfg_attr(not(any(unix, windows, target_os = "wasi")), path = "other.rs")]
mod platform;
#[cfg_attr(unix, cfg_attr(target_os = "linux", path = "nested/linux.rs"))]
mod nested;
#[path = "renamed_file.rs"]
mod renamed;
"#,
    );
    write(
        d,
        "src/file/imp/unix.rs",
        "pub fn a() { let _ = std::fs::File::create(\"u\"); }\n",
    );
    write(
        d,
        "src/file/imp/windows.rs",
        "pub fn b() { let _ = std::fs::remove_file(\"w\"); }\n",
    );
    write(
        d,
        "src/file/imp/other.rs",
        "pub fn c() { let _ = std::env::var(\"O\"); }\n",
    );
    write(
        d,
        "src/file/imp/nested/linux.rs",
        "pub fn d() { let _ = std::fs::read(\"l\"); }\n",
    );
    write(
        d,
        "src/file/imp/renamed_file.rs",
        "pub fn e() { let _ = std::net::TcpStream::connect(\"x\"); }\n",
    );
    let a = check_tree(d);
    assert!(a.unanalysed.is_empty(), "{:?}", a.unanalysed);
    let mut got: Vec<(String, String)> = a
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.api.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("src/file/imp/nested/linux.rs", "std::fs::read"),
            ("src/file/imp/other.rs", "std::env::var"),
            (
                "src/file/imp/renamed_file.rs",
                "std::net::TcpStream::connect"
            ),
            ("src/file/imp/unix.rs", "std::fs::File::create"),
            ("src/file/imp/windows.rs", "std::fs::remove_file"),
        ]
        .map(|(f, a)| (f.to_owned(), a.to_owned()))
    );
}

#[test]
fn a_missing_module_file_is_reported_not_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "src/lib.rs",
        "mod present;\nmod absent;\n#[path = \"gone.rs\"]\nmod moved;\n",
    );
    write(d, "src/present.rs", "pub fn f() {}\n");
    let a = check_tree(d);
    let missing: Vec<(&str, bool)> = a
        .unanalysed
        .iter()
        .map(|u| (u.file.as_str(), u.missing))
        .collect();
    assert_eq!(missing, [("src/absent.rs", true), ("src/gone.rs", true)]);
    assert!(
        a.unanalysed[0].error.contains("`mod absent;`"),
        "{}",
        a.unanalysed[0].error
    );
    assert!(a.unanalysed[0].error.contains("src/absent/mod.rs"));
}

#[test]
fn a_file_reached_through_cfg_test_is_test_code() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "src/lib.rs",
        "pub fn f() { let _ = std::fs::read(\"lib\"); }\n#[cfg(test)]\nmod tests;\n",
    );
    write(
        d,
        "src/tests.rs",
        "mod deeper;\n#[test]\nfn t() { let _ = std::fs::read(\"t\"); }\n",
    );
    write(
        d,
        "src/tests/deeper.rs",
        "fn h() { let _ = std::fs::write(\"d\", \"\"); }\n",
    );
    let a = check_tree(d);
    let scopes: Vec<(String, Scope)> = a
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.scope))
        .collect();
    assert_eq!(
        scopes,
        [
            ("src/lib.rs".to_owned(), Scope::Lib),
            ("src/tests.rs".to_owned(), Scope::Tests),
            ("src/tests/deeper.rs".to_owned(), Scope::Tests),
        ]
    );
}

#[test]
fn cfg_attr_variants_declaring_the_same_module_share_it_and_the_result_is_stable() {
    // rustix's shape: two backends behind `cfg_attr` paths each declare
    // `mod c;`; the libc one re-exports a C library. The second declaration
    // used to replace the first, by whichever file's parse came back last.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "src/lib.rs",
        "#[cfg_attr(libc, path = \"backend/libc/mod.rs\")]\n\
         #[cfg_attr(raw, path = \"backend/raw/mod.rs\")]\nmod backend;\n",
    );
    write(d, "src/backend/libc/mod.rs", "pub mod c;\npub mod fs;\n");
    write(d, "src/backend/libc/c.rs", "pub use std::fs::*;\n");
    write(
        d,
        "src/backend/libc/fs.rs",
        "pub fn f() {\n    let _ = crate::backend::c::remove_dir(\"x\");\n}\n",
    );
    write(d, "src/backend/raw/mod.rs", "pub mod c;\n");
    write(d, "src/backend/raw/c.rs", "pub fn other() {}\n");
    write(d, "src/backend/mod.rs", "");
    let first = check_tree(d);
    let found: Vec<(String, usize, String)> = first
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.span.start.line, f.api.clone()))
        .collect();
    assert_eq!(
        found,
        [(
            "src/backend/libc/fs.rs".to_owned(),
            2,
            "std::fs::remove_dir".to_owned()
        )]
    );
    for _ in 0..5 {
        let again = check_tree(d);
        assert_eq!(apis(&again), apis(&first));
    }
}
