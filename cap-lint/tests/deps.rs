//! `cargo cap-lint --deps` on a fixture workspace whose path dependencies use
//! the filesystem, the network and processes: categories, call paths, the
//! per-dependency policy and the baseline diff.

use std::path::Path;
use std::process::{Command, Output};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn package(dir: &Path, name: &str, version: &str, deps: &str, lib: &str) {
    write(
        dir,
        &format!("{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
        ),
    );
    write(dir, &format!("{name}/src/lib.rs"), lib);
}

/// `app` (its own workspace) depends on `fsdep`, `netdep` and `procdep`
/// (path dependencies outside it); `netdep` reaches `fsdep` too.
fn fixture(dir: &Path, fs_version: &str, fs_lib: &str) {
    package(dir, "fsdep", fs_version, "", fs_lib);
    package(
        dir,
        "netdep",
        "0.1.0",
        "fsdep = { path = \"../fsdep\" }\n",
        "pub struct Client;\nimpl Client {\n    pub fn fetch(&self, addr: &str) -> bool {\n        let ok = std::net::TcpStream::connect(addr).is_ok();\n        ok && fsdep::save(addr)\n    }\n}\npub fn client() -> Client { Client }\n",
    );
    package(
        dir,
        "procdep",
        "0.1.0",
        "",
        "pub fn run(cmd: &str) -> bool { helper(cmd) }\nfn helper(cmd: &str) -> bool { std::process::Command::new(cmd).status().is_ok() }\npub fn unused() { let _ = std::env::var(\"NEVER\"); }\n",
    );
    write(
        dir,
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nnetdep = { path = \"../netdep\" }\nprocdep = { path = \"../procdep\" }\nfsdep = { path = \"../fsdep\" }\n",
    );
    write(
        dir,
        "app/src/main.rs",
        "fn main() {\n    let c = netdep::client();\n    c.fetch(\"127.0.0.1:1\");\n    procdep::run(\"true\");\n}\n",
    );
}

const FS_LIB: &str = "pub fn save(s: &str) -> bool { std::fs::write(\"/tmp/x\", s).is_ok() }\n";

fn deps(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-cap-lint"))
        .current_dir(dir.join("app"))
        .arg("--deps")
        .args(args)
        .output()
        .unwrap()
}

fn crates(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_name<'a>(v: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    v.iter().find(|c| c["name"] == name).unwrap()
}

#[test]
fn deps_audit_finds_categories_and_call_paths() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path(), "0.1.0", FS_LIB);
    let o = deps(tmp.path(), &["--message-format", "json"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let v = crates(&o);
    assert_eq!(
        v.len(),
        3,
        "the workspace's own package is not listed: {v:?}"
    );
    assert_eq!(
        by_name(&v, "fsdep")["categories"],
        serde_json::json!(["fs"])
    );
    assert_eq!(
        by_name(&v, "netdep")["categories"],
        serde_json::json!(["net"])
    );
    assert_eq!(
        by_name(&v, "procdep")["categories"],
        serde_json::json!(["env", "process"])
    );
    let path = |name: &str, cat: &str| {
        by_name(&v, name)["uses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["category"] == cat)
            .unwrap()["path"]
            .clone()
    };
    // Through a method call and across two dependencies.
    assert_eq!(
        path("fsdep", "fs"),
        serde_json::json!([
            "app::main",
            "netdep::Client::fetch",
            "fsdep::save",
            "std::fs::write"
        ])
    );
    assert_eq!(
        path("procdep", "process"),
        serde_json::json!([
            "app::main",
            "procdep::run",
            "procdep::helper",
            "std::process::Command::new"
        ])
    );
    assert_eq!(
        path("procdep", "env"),
        serde_json::Value::Null,
        "never called"
    );
    // The table and SARIF forms.
    let table = String::from_utf8_lossy(&deps(tmp.path(), &[]).stdout).into_owned();
    assert!(
        table.contains("net: app::main -> netdep::Client::fetch -> std::net::TcpStream::connect"),
        "{table}"
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&deps(tmp.path(), &["--message-format", "sarif"]).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 4);
}

#[test]
fn a_dependency_outside_its_policy_fails() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path(), "0.1.0", FS_LIB);
    write(
        tmp.path(),
        "app/cap-lint.toml",
        "[deps.fsdep]\nallow = [\"fs\"]\n\n[deps.netdep]\nallow = []\nreason = \"a pure parser\"\n",
    );
    let o = deps(tmp.path(), &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "netdep 0.1.0 uses net, which its [deps.netdep] in cap-lint.toml does not allow"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("fsdep 0.1.0 uses"),
        "fsdep is within its policy: {stderr}"
    );
    write(
        tmp.path(),
        "app/cap-lint.toml",
        "[deps.netdep]\nallow = [\"net\"]\n",
    );
    assert_eq!(deps(tmp.path(), &[]).status.code(), Some(0));
    write(
        tmp.path(),
        "app/cap-lint.toml",
        "[deps.netdep]\nallow = [\"web\"]\n",
    );
    let bad = deps(tmp.path(), &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown category `web`"));
}

#[test]
fn the_baseline_diff_names_what_an_upgrade_added() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path(), "0.1.0", FS_LIB);
    let base = tmp.path().join("deps.json");
    let w = deps(tmp.path(), &["--write-baseline", base.to_str().unwrap()]);
    assert_eq!(w.status.code(), Some(0));
    let same = deps(tmp.path(), &["--baseline", base.to_str().unwrap()]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    // fsdep 0.2.0 also reads the environment.
    fixture(
        tmp.path(),
        "0.2.0",
        "pub fn save(s: &str) -> bool { let _ = std::env::var(\"HOME\"); std::fs::write(\"/tmp/x\", s).is_ok() }\n",
    );
    let o = deps(tmp.path(), &["--baseline", base.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("upgrading fsdep from 0.1.0 to 0.2.0 added env"),
        "{stderr}"
    );
}
