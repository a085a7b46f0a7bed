//! Runs `cheri_parse` on bundled inputs and checks what it prints.

use std::process::{Command, Output};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cheri_parse");

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cheri_parse"))
        .arg(DATA)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn parses_the_bundled_input() {
    let out = run(&["good.ns"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "0: hello\n1: world\n2: \n3: ambit + CHERI\n4 item(s)\n"
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn a_lying_length_cannot_read_past_the_input() {
    // `40:short,` claims 40 bytes where 6 remain: the parser trusts it and
    // reads on, into the session key the program keeps right after the input.
    let input = std::fs::read(format!("{DATA}/overread.ns")).unwrap();
    let out = run(&["overread.ns"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        !stdout.contains("SESSION-KEY") && !stderr.contains("SESSION-KEY"),
        "{stdout}{stderr}"
    );
    assert!(
        stderr.contains("parser read refused by its capability"),
        "{stderr}"
    );
    assert!(stderr.contains("access of 40 byte(s)"), "{stderr}");
    // The refused read was against bounds of exactly the input's length.
    let bounds = stderr.rsplit_once("bounds [").unwrap().1;
    let (base, top) = bounds
        .trim_end()
        .trim_end_matches(')')
        .split_once(", ")
        .unwrap();
    let parse = |s: &str| usize::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(parse(top) - parse(base), input.len(), "{stderr}");
}

#[test]
fn the_parser_cannot_write_its_input() {
    let out = run(&["good.ns", "--try-write"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .contains("write refused: capability lacks permission: needs -w------, holds r-------"),
        "{stderr}"
    );
    // The refused write changed nothing: the parse that follows is unchanged.
    assert!(out.status.success(), "{stderr}");
    assert!(text(&out.stdout).starts_with("0: hello\n"));
}

#[test]
fn malformed_input_is_reported_with_its_position() {
    let out = run(&["malformed.ns"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "cheri_parse: malformed.ns: malformed at byte 8: expected a decimal length and ':'\n"
    );
}

#[test]
fn the_directory_handle_keeps_reads_beneath_it() {
    let out = run(&["../../../Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("outside"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}
