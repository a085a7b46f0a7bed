//! Model-based differential testing of the types against the kernel: random
//! policies (dirs with random rights over a scratch tree, TCP grants on
//! loopback), each entered in a fresh `diff_probe` process that performs
//! every operation of a fixed list; the kernel's answers are compared with
//! what the types allow ([`ambit_tests::differential::allowed`]). Every
//! disagreement must be a gap the report names for that policy
//! ([`ambit_tests::differential::explanation`]); anything else fails.
//!
//! CI runs a fixed seed set; `AMBIT_DIFF_POLICIES=N` (and
//! `AMBIT_DIFF_SEED=S` for the first seed) runs a longer one.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use ambit_tests::differential::{Case, allowed, explanation, generate};

/// A static x86_64 ELF that calls `exit(42)`.
fn tiny_elf() -> Vec<u8> {
    let code: [u8; 12] = [0xbf, 42, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05];
    let total = 64 + 56 + code.len() as u64;
    let mut e = Vec::new();
    e.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    e.extend_from_slice(&2u16.to_le_bytes());
    e.extend_from_slice(&0x3eu16.to_le_bytes());
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&(0x40_0000u64 + 120).to_le_bytes());
    e.extend_from_slice(&64u64.to_le_bytes());
    e.extend_from_slice(&0u64.to_le_bytes());
    e.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 1, 64, 0, 0] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&5u32.to_le_bytes());
    for v in [0u64, 0x40_0000, 0x40_0000, total, total, 0x1000] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(&code);
    e
}

fn scratch_tree(root: &Path) {
    let elf = tiny_elf();
    for t in ["d0", "d1", "d2", "out"] {
        let d = root.join(t);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        for f in ["f.txt", "w.txt", "t.txt", "r.txt", "m.txt", "c.txt"] {
            std::fs::write(d.join(f), "data\n").unwrap();
        }
        std::fs::write(d.join("tiny"), &elf).unwrap();
        std::fs::set_permissions(d.join("tiny"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// What one policy showed.
#[derive(Default)]
struct Tally {
    operations: usize,
    agreed: usize,
    explained: BTreeMap<&'static str, usize>,
    unexplained: Vec<String>,
}

fn run_case(seed: u64, case: &Case, tally: &mut Tally) {
    let tmp = tempfile::tempdir().unwrap();
    scratch_tree(tmp.path());
    let connect = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let _dsock = std::os::unix::net::UnixDatagram::bind(tmp.path().join("out/dsock")).unwrap();
    let bind_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_diff_probe"))
        .arg(tmp.path())
        .args([
            connect.local_addr().unwrap().port().to_string(),
            bind_port.to_string(),
            other.local_addr().unwrap().port().to_string(),
            u8::from(case.tcp_connect).to_string(),
            u8::from(case.tcp_bind).to_string(),
            u8::from(case.held_unix).to_string(),
        ])
        .args(case.dirs.iter().map(|(i, r)| format!("{i}:{}", r.bits())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = stdout
        .lines()
        .find_map(|l| l.strip_prefix("REPORT "))
        .unwrap_or_else(|| {
            panic!(
                "seed {seed} {case:?}: did not enter:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    let gaps: Vec<&str> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["right"].as_str())
        .collect();
    for line in stdout.lines().filter_map(|l| l.strip_prefix("OP ")) {
        let (op, answer) = line.split_once(' ').unwrap();
        let kernel = answer == "ok";
        let types = allowed(case, op);
        tally.operations += 1;
        if kernel == types {
            tally.agreed += 1;
            continue;
        }
        let named = (kernel && !types)
            .then(|| explanation(case, op))
            .flatten()
            .filter(|gap| gaps.iter().any(|g| g.starts_with(gap)));
        match named {
            Some(gap) => *tally.explained.entry(gap).or_default() += 1,
            None => tally.unexplained.push(format!(
                "seed {seed} {case:?}: {op}: kernel {answer}, types {}",
                if types { "allow" } else { "deny" }
            )),
        }
    }
}

#[test]
fn types_and_kernel_agree_on_random_policies() {
    let policies: u64 = std::env::var("AMBIT_DIFF_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let first: u64 = std::env::var("AMBIT_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut tally = Tally::default();
    for seed in first..first + policies {
        run_case(seed, &generate(seed), &mut tally);
    }
    println!(
        "differential: {policies} policies × {} operations = {} answers; {} agree, {} disagree, each named by the report ({:?}), {} unexplained",
        tally.operations / usize::try_from(policies).unwrap().max(1),
        tally.operations,
        tally.agreed,
        tally.explained.values().sum::<usize>(),
        tally.explained,
        tally.unexplained.len()
    );
    assert!(tally.operations > 0);
    assert!(
        tally.unexplained.is_empty(),
        "disagreements the report does not name:\n{}",
        tally.unexplained.join("\n")
    );
}

#[test]
fn the_model_is_the_types() {
    // A hand-written case: the model says what the cap-core methods ask for.
    use cap_runtime::Rights;
    let case = Case {
        dirs: vec![(0, Rights::LOOKUP | Rights::READ), (1, Rights::READ)],
        tcp_connect: true,
        tcp_bind: false,
        held_unix: false,
    };
    assert!(allowed(&case, "read:d0"));
    assert!(!allowed(&case, "write:d0"));
    assert!(!allowed(&case, "read:d1"), "no Lookup");
    assert!(!allowed(&case, "read:out"));
    assert!(allowed(&case, "connect_granted") && !allowed(&case, "bind_granted"));
    assert_eq!(explanation(&case, "read:d1"), Some("Lookup"));
    assert_eq!(explanation(&case, "write:d0"), None);
    assert_eq!(generate(7), generate(7), "a seed names a policy");
}
