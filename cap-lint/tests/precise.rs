//! One real run of `cargo cap-lint --precise` on a small crate: clippy with the
//! generated configuration finds calls the syntactic tier cannot type, the two
//! tiers' findings are merged by location, and each says which tier found it.

use std::path::Path;
use std::process::Command;

#[test]
fn precise_tier_merges_type_resolved_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"precise-fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n").unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/precise/lib.rs");
    let text = std::fs::read_to_string(fixture).unwrap();
    std::fs::write(d.join("src/lib.rs"), &text).unwrap();
    std::fs::write(
        d.join("cap-lint.toml"),
        "[[allow]]\nreason = \"tests may use files\"\nscopes = [\"tests\"]\n",
    )
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_cargo-cap-lint"))
        .current_dir(d)
        .args([
            "cap-lint",
            "--precise",
            "--message-format",
            "json",
            "--show-suppressed",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<(u64, String, String, bool)> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["line"].as_u64().unwrap(),
                v["api"].as_str().unwrap().to_owned(),
                v["tier"].as_str().unwrap().to_owned(),
                v["suppressed"].is_string(),
            )
        })
        .collect();
    got.sort();
    let mut expected = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, rest)) = line.split_once("//~") else {
            continue;
        };
        for item in rest.split(',') {
            let words: Vec<&str> = item.split_whitespace().collect();
            expected.push((
                i as u64 + 1,
                words[0].to_owned(),
                words[1].to_owned(),
                words.get(2) == Some(&"allowed"),
            ));
        }
    }
    expected.sort();
    assert_eq!(got, expected);
}
