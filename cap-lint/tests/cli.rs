//! The `cargo-cap-lint` binary end to end: exit codes, output formats,
//! configuration, baselines and workspace discovery, on projects written to
//! temporary directories.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-cap-lint"))
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn exit_codes_follow_the_deny_level() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "clean.rs",
        "fn main() { let _ = std::path::Path::new(\"x\").join(\"y\"); }\n",
    );
    write(
        tmp.path(),
        "env.rs",
        "fn main() { let _ = std::env::var(\"HOME\"); }\n",
    );
    write(
        tmp.path(),
        "fs.rs",
        "fn main() { let _ = std::fs::read(\"x\"); }\n",
    );
    assert_eq!(code(&run(tmp.path(), &["clean.rs"])), 0);
    let env = run(tmp.path(), &["env.rs"]);
    assert_eq!(code(&env), 1, "{}", stdout(&env));
    assert!(stdout(&env).contains("error[ambient::env]"));
    let lenient = run(tmp.path(), &["--deny", "medium", "env.rs"]);
    assert_eq!(
        code(&lenient),
        0,
        "a low finding below --deny medium does not fail"
    );
    assert!(
        stdout(&lenient).contains("warning[ambient::env]"),
        "but it is still shown"
    );
    assert_eq!(code(&run(tmp.path(), &["--deny=high", "fs.rs"])), 1);
}

#[test]
fn usage_io_and_parse_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = run(tmp.path(), &["--frobnicate"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("unknown option `--frobnicate`"));
    let missing = run(tmp.path(), &["no/such/file.rs"]);
    assert_eq!(code(&missing), 2);
    assert!(
        stderr(&missing).contains("no/such/file.rs"),
        "{}",
        stderr(&missing)
    );
    write(tmp.path(), "broken.rs", "struct S { x: }\nfn main() {}\n");
    write(tmp.path(), "fine.rs", "fn main() {}\n");
    let broken = run(tmp.path(), &["broken.rs", "fine.rs"]);
    assert_eq!(code(&broken), 2, "an unparseable file is never clean");
    assert!(stdout(&broken).contains("error[cap-lint::unparsed]"));
    assert!(stderr(&broken).contains("1 file not analysed"));
    // A syntax error inside a function body of a file that names nothing
    // in the catalogue: the pre-filter parses such a file without its
    // bodies, so only `--no-prefilter` sees it (a documented gap).
    write(tmp.path(), "body.rs", "fn main() { let = ; }\n");
    let whole = run(tmp.path(), &["--no-prefilter", "body.rs"]);
    assert_eq!(code(&whole), 2, "{}", stderr(&whole));
    assert!(stderr(&whole).contains("1 file not analysed"));
    assert_eq!(code(&run(tmp.path(), &["body.rs"])), 0);
    write(
        tmp.path(),
        "body_fs.rs",
        "fn main() { let = std::fs::read(\"x\"); }\n",
    );
    assert_eq!(
        code(&run(tmp.path(), &["body_fs.rs"])),
        2,
        "a file that names a catalogue entry is parsed whole"
    );
    assert_eq!(code(&run(tmp.path(), &["--deny", "severe", "fine.rs"])), 2);
}

#[test]
fn json_has_one_object_per_finding() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.rs",
        "use std::fs;\nfn f() {\n    let _ = fs::write(\"a\", \"b\");\n    let _ = std::env::var(\"X\");\n}\n",
    );
    let o = run(tmp.path(), &["--message-format", "json", "a.rs"]);
    assert_eq!(code(&o), 1);
    let v = json_lines(&o);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["file"], "a.rs");
    assert_eq!(v[0]["line"], 3);
    assert_eq!(v[0]["column"], 13);
    assert_eq!(v[0]["end"], serde_json::json!({"line": 3, "column": 32}));
    assert_eq!(v[0]["code"], "ambient::fs");
    assert_eq!(v[0]["category"], "fs");
    assert_eq!(v[0]["severity"], "high");
    assert_eq!(v[1]["severity"], "low");
    assert!(v[0]["help"].as_str().unwrap().contains("Dir::write"));
}

#[test]
fn sarif_is_a_2_1_0_log() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.rs",
        "fn f() { let _ = std::process::Command::new(\"sh\"); }\n",
    );
    let o = run(tmp.path(), &["--message-format", "sarif", "a.rs"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "cap-lint");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "ambient::process"));
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["ruleId"], "ambient::process");
    assert_eq!(
        rules[usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap()]["id"],
        "ambient::process"
    );
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(1), Some(18))
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "a.rs"
    );
}

#[test]
fn baseline_reports_only_new_findings() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.rs",
        "fn f() {\n    let _ = std::fs::read(\"old\");\n}\n",
    );
    let first = run(tmp.path(), &["--write-baseline", "base.json", "a.rs"]);
    assert_eq!(
        code(&first),
        0,
        "writing a baseline records findings, it does not fail"
    );
    assert!(
        stdout(&first).contains("std::fs::read"),
        "and still shows them"
    );
    assert_eq!(
        code(&run(tmp.path(), &["--baseline", "base.json", "a.rs"])),
        0
    );
    // Lines move and a new finding appears: only the new one is reported.
    write(
        tmp.path(),
        "a.rs",
        "// moved\n\nfn f() {\n    let _ = std::fs::read(\"old\");\n    let _ = std::fs::remove_file(\"new\");\n}\n",
    );
    let o = run(
        tmp.path(),
        &[
            "--baseline",
            "base.json",
            "--message-format",
            "json",
            "a.rs",
        ],
    );
    assert_eq!(code(&o), 1);
    let v = json_lines(&o);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["api"], "std::fs::remove_file");
    let bad = run(tmp.path(), &["--baseline", "missing.json", "a.rs"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("missing.json"));
}

#[test]
fn config_allows_by_scope_and_flags_extra_apis() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "cap-lint.toml",
        r#"
[[allow]]
reason = "tests use real temporary files"
scopes = ["tests"]
categories = ["fs"]

[[extra]]
path = "reqwest::get"
category = "net"
message = "fetches a URL"
help = "use a pre-opened `Net` grant"
"#,
    );
    write(
        tmp.path(),
        "tests/t.rs",
        "#[test]\nfn t() { let _ = std::fs::read(\"x\"); let _ = std::env::var(\"Y\"); }\n",
    );
    write(
        tmp.path(),
        "src/lib.rs",
        "pub async fn f() { let _ = reqwest::get(\"http://x\").await; }\n",
    );
    let o = run(
        tmp.path(),
        &[
            "--message-format",
            "json",
            "--show-suppressed",
            "tests",
            "src",
        ],
    );
    let v = json_lines(&o);
    let by_api = |api: &str| v.iter().find(|f| f["api"] == api).unwrap().clone();
    assert!(
        by_api("std::fs::read")["suppressed"]
            .as_str()
            .unwrap()
            .contains("tests use real temporary files")
    );
    assert!(
        by_api("std::env::var")["suppressed"].is_null(),
        "env is not allowed in tests"
    );
    assert_eq!(by_api("reqwest::get")["code"], "ambient::net");
    assert_eq!(code(&o), 1);
    // The suppressed one is not printed without --show-suppressed.
    let plain = json_lines(&run(
        tmp.path(),
        &["--message-format", "json", "tests", "src"],
    ));
    assert_eq!(plain.len(), 2);
    let listed = stdout(&run(tmp.path(), &["--list"]));
    assert!(listed.contains("reqwest::get") && listed.contains("std::fs::read"));
    let entries = json_lines(&run(tmp.path(), &["--list", "--message-format", "json"]));
    let get = entries
        .iter()
        .find(|e| e["path"] == "reqwest::get")
        .unwrap();
    assert_eq!(
        (
            get["code"].as_str(),
            get["kind"].as_str(),
            get["severity"].as_str()
        ),
        (Some("ambient::net"), Some("function"), Some("high"))
    );
    assert!(
        entries
            .iter()
            .any(|e| e["path"] == "std::path::Path::exists" && e["kind"] == "method")
    );
}

#[test]
fn config_errors_name_the_file_and_rule() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a.rs", "fn main() {}\n");
    write(tmp.path(), "cap-lint.toml", "[[allow]]\nreason = \"\"\n");
    let o = run(tmp.path(), &["a.rs"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cap-lint.toml: allow rule 1: `reason` must say why"),
        "{}",
        stderr(&o)
    );
    write(
        tmp.path(),
        "cap-lint.toml",
        "[[allow]]\nreason = \"x\"\ncategories = [\"disk\"]\n",
    );
    assert!(stderr(&run(tmp.path(), &["a.rs"])).contains("unknown category `disk`"));
    write(
        tmp.path(),
        "cap-lint.toml",
        "[[allow]]\nreason = \"x\"\ncategegories = [\"fs\"]\n",
    );
    assert!(stderr(&run(tmp.path(), &["a.rs"])).contains("categegories"));
}

#[test]
fn workspace_mode_checks_every_target_with_its_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "Cargo.toml",
        r#"[package]
name = "demo"
version = "0.1.0"
edition = "2021"

[[package.metadata.cap-lint.allow]]
reason = "the build script reads its environment, as cargo intends"
scopes = ["build"]
categories = ["env"]
"#,
    );
    write(
        d,
        "src/lib.rs",
        "mod inner;\npub fn a() { let _ = std::fs::read(\"lib\"); }\n",
    );
    write(
        d,
        "src/inner.rs",
        "pub fn b() { let _ = std::net::TcpStream::connect(\"x:1\"); }\n",
    );
    write(
        d,
        "src/main.rs",
        "fn main() { let _ = std::fs::remove_dir_all(\"/\"); }\n",
    );
    write(
        d,
        "build.rs",
        "fn main() { let _ = std::env::var(\"OUT_DIR\"); }\n",
    );
    write(
        d,
        "tests/it.rs",
        "#[test] fn t() { let _ = std::fs::write(\"t\", \"\"); }\n",
    );
    write(
        d,
        "examples/ex.rs",
        "fn main() { let _ = std::process::Command::new(\"ls\"); }\n",
    );
    write(
        d,
        "benches/b.rs",
        "fn main() { let _ = std::env::set_var(\"A\", \"B\"); }\n",
    );
    let o = bin()
        .current_dir(d)
        .args(["cap-lint", "--message-format", "json", "--show-suppressed"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json_lines(&o);
    let got: Vec<(String, String, String, bool)> = v
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["api"].as_str().unwrap().to_owned(),
                f["scope"].as_str().unwrap().to_owned(),
                f["suppressed"].is_string(),
            )
        })
        .collect();
    let want = |file: &str, api: &str, scope: &str, s: bool| {
        (file.to_owned(), api.to_owned(), scope.to_owned(), s)
    };
    let mut expected = vec![
        want("benches/b.rs", "std::env::set_var", "benches", false),
        want("build.rs", "std::env::var", "build", true),
        want(
            "examples/ex.rs",
            "std::process::Command::new",
            "examples",
            false,
        ),
        want("src/inner.rs", "std::net::TcpStream::connect", "lib", false),
        want("src/lib.rs", "std::fs::read", "lib", false),
        want("src/main.rs", "std::fs::remove_dir_all", "bins", false),
        want("tests/it.rs", "std::fs::write", "tests", false),
    ];
    expected.sort();
    let mut got = got;
    got.sort();
    assert_eq!(got, expected);
    assert!(v.iter().all(|f| f["package"] == "demo"));
}

#[test]
fn inside_a_member_only_that_package_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n",
    );
    for name in ["a", "b"] {
        write(
            d,
            &format!("{name}/Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        write(
            d,
            &format!("{name}/src/lib.rs"),
            "pub fn f() { let _ = std::fs::read(\"x\"); }\n",
        );
    }
    let packages = |dir: &Path, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["cap-lint", "--message-format", "json"];
        args.extend_from_slice(extra);
        let o = bin().current_dir(dir).args(&args).output().unwrap();
        let mut p: Vec<String> = json_lines(&o)
            .iter()
            .map(|v| v["package"].as_str().unwrap().to_owned())
            .collect();
        p.sort();
        p
    };
    assert_eq!(packages(d, &[]), ["a", "b"], "at the root: every member");
    assert_eq!(
        packages(&d.join("b"), &[]),
        ["b"],
        "inside a member: that package"
    );
    assert_eq!(packages(d, &["--manifest-path", "a/Cargo.toml"]), ["a"]);
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut many = String::new();
    for i in 0..2000 {
        let _ = writeln!(many, "fn f{i}() {{ let _ = std::fs::read(\"{i}\"); }}");
    }
    write(tmp.path(), "many.rs", &many);
    // `cargo cap-lint | head -1`, with the reader already gone.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = bin()
        .current_dir(tmp.path())
        .arg("many.rs")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        code(&o),
        1,
        "the findings still decide the status: {}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(stderr(&o).contains("2000 findings"), "{}", stderr(&o));
}

#[test]
fn parse_errors_name_the_delimiter_like_rustc() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "open.rs",
        "fn main() {\n    let v = vec![1, 2;\n}\n",
    );
    write(tmp.path(), "unclosed.rs", "mod m {\n    fn f() {}\n");
    write(tmp.path(), "extra.rs", "fn f() {}\n}\n");
    let o = run(tmp.path(), &["open.rs", "unclosed.rs", "extra.rs"]);
    assert_eq!(code(&o), 2);
    let out = stdout(&o);
    assert!(
        !out.contains("cannot parse string into token stream"),
        "{out}"
    );
    assert!(
        out.contains("mismatched closing delimiter: `}` (the `[` it closes was opened at 2:17)"),
        "{out}"
    );
    assert!(out.contains(" --> open.rs:3:1"), "{out}");
    assert!(
        out.contains("unclosed delimiter: `{` opened at 1:7"),
        "{out}"
    );
    assert!(out.contains("unexpected closing delimiter: `}`"), "{out}");
    assert!(out.contains(" --> extra.rs:2:1"), "{out}");
}

#[test]
fn help_points_to_the_attribute_the_config_and_the_book() {
    let o = run(Path::new("."), &["--help"]);
    assert_eq!(code(&o), 0);
    let help = stdout(&o);
    for needle in [
        "#[cap_core::ambient(reason",
        "cap-lint.toml",
        "book/src/cap-lint.md",
        "--deny-missing-modules",
        "--deps",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn macro_inputs_that_are_not_code_are_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "m.rs",
        "fn f() -> &'static str {\n    let _ = env!(\"HOME\");\n    let _ = concat!(\"a\", stringify!(std::fs::read(\"x\")));\n    stringify!(std::process::Command::new(\"sh\"))\n}\nfn g() { println!(\"{:?}\", std::fs::read(\"y\")); }\n",
    );
    let o = run(tmp.path(), &["--message-format", "json", "m.rs"]);
    let v = json_lines(&o);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["line"], 6, "println!'s argument is code: {v:?}");
}

#[test]
fn a_missing_module_fails_only_with_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", "mod gone;\npub fn f() {}\n");
    let o = run(tmp.path(), &["src/lib.rs"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("the file of `mod gone;` was not found"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("1 file not analysed"), "{}", stderr(&o));
    let strict = run(tmp.path(), &["--deny-missing-modules", "src/lib.rs"]);
    assert_eq!(code(&strict), 2);
    let json = run(tmp.path(), &["--message-format", "json", "src/lib.rs"]);
    let v = json_lines(&json);
    assert_eq!(v[0]["type"], "unanalysed");
    assert_eq!(v[0]["missing"], true);
    assert_eq!(v[0]["file"], "src/gone.rs");
}

/// The `cargo metadata` cache: a second run with nothing changed finds the
/// same, a target file added since (a new binary, a new example directory)
/// is checked at once, and `--no-cache` agrees with the cached run.
#[test]
fn a_target_added_after_a_cached_run_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "Cargo.toml",
        "[package]\nname = \"cached\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        d,
        "src/lib.rs",
        "pub fn a() { let _ = std::fs::read(\"lib\"); }\n",
    );
    let files = |o: &Output| {
        let mut f: Vec<String> = json_lines(o)
            .iter()
            .map(|v| v["file"].as_str().unwrap().to_owned())
            .collect();
        f.sort();
        f
    };
    let first = run(d, &["--message-format", "json"]);
    assert_eq!(files(&first), ["src/lib.rs"], "{}", stderr(&first));
    let again = run(d, &["--message-format", "json"]);
    assert_eq!(files(&again), ["src/lib.rs"]);
    write(
        d,
        "src/bin/tool.rs",
        "fn main() { let _ = std::fs::remove_file(\"x\"); }\n",
    );
    let with_bin = run(d, &["--message-format", "json"]);
    assert_eq!(files(&with_bin), ["src/bin/tool.rs", "src/lib.rs"]);
    write(
        d,
        "examples/demo/main.rs",
        "fn main() { let _ = std::env::var(\"HOME\"); }\n",
    );
    let cached = run(d, &["--message-format", "json"]);
    let fresh = run(d, &["--message-format", "json", "--no-cache"]);
    assert_eq!(
        files(&cached),
        ["examples/demo/main.rs", "src/bin/tool.rs", "src/lib.rs"]
    );
    assert_eq!(files(&cached), files(&fresh));
}

#[test]
fn results_are_kept_in_the_target_directory_and_edits_are_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "Cargo.toml",
        "[package]\nname = \"kept\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(d, "src/lib.rs", "mod a;\nmod b;\n");
    write(
        d,
        "src/a.rs",
        "pub fn a() { let _ = std::fs::read(\"a\"); }\n",
    );
    write(d, "src/b.rs", "pub fn b() {}\n");
    write(d, "src/main.rs", "fn main() {}\n");
    let apis = |o: &Output| {
        let mut f: Vec<String> = json_lines(o)
            .iter()
            .map(|v| {
                format!(
                    "{} {}",
                    v["file"].as_str().unwrap(),
                    v["api"].as_str().unwrap()
                )
            })
            .collect();
        f.sort();
        f
    };
    // Cargo's target directory here, whatever the environment says (CI
    // sets its own).
    let run = |d: &Path, args: &[&str]| {
        bin()
            .current_dir(d)
            .env("CARGO_TARGET_DIR", d.join("target"))
            .args(args)
            .output()
            .unwrap()
    };
    let first = run(d, &["--message-format", "json"]);
    assert_eq!(
        apis(&first),
        ["src/a.rs std::fs::read"],
        "{}",
        stderr(&first)
    );
    let kept: Vec<_> = std::fs::read_dir(d.join("target/cap-lint"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(kept.len(), 2, "one file per target (lib, bin): {kept:?}");
    // Saved the way many editors save: a new file renamed over the old one.
    write(
        d,
        "src/b.rs.new",
        "pub fn b() { let _ = std::env::var(\"B\"); }\n",
    );
    std::fs::rename(d.join("src/b.rs.new"), d.join("src/b.rs")).unwrap();
    let edited = run(d, &["--message-format", "json"]);
    let want = ["src/a.rs std::fs::read", "src/b.rs std::env::var"];
    assert_eq!(apis(&edited), want);
    assert_eq!(
        apis(&run(d, &["--message-format", "json", "--no-cache"])),
        want
    );
    // A file given as a PATH is checked without the cache.
    let by_path = run(d, &["--message-format", "json", "src/b.rs"]);
    assert_eq!(apis(&by_path), ["src/b.rs std::env::var"]);
}
