//! Differential test: every case in `tests/vectors/` (produced by the
//! CTSRD-CHERI `cheri-compressed-cap` library, see `tests/vectors/README.md`)
//! must come out the same from this crate, bit for bit.
//!
//! Natively every line is checked (25,000 cases per format). Under Miri
//! (`cap-cheri/ci.sh`) an evenly spread sample of 150 lines per file is
//! checked, to keep the interpreter's run short.

use cap_cheri::encoding::Capability;
use cap_cheri::{Format, Representability};

/// Lines checked per file under Miri.
const MIRI_SAMPLE: usize = 150;

fn lines(text: &'static str) -> Vec<&'static str> {
    if !cfg!(miri) {
        return text.lines().collect();
    }
    // Jump to evenly spaced byte offsets and take the line starting after
    // each, without walking the whole file in the interpreter.
    let step = text.len() / MIRI_SAMPLE;
    (0..MIRI_SAMPLE)
        .filter_map(|i| {
            let at = i * step;
            let start = if at == 0 {
                0
            } else {
                at + text[at..].find('\n')? + 1
            };
            let rest = &text[start..];
            let end = rest.find('\n').unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}

fn hex(s: &str) -> u128 {
    u128::from_str_radix(s, 16).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

fn hex64(s: &str) -> u64 {
    u64::try_from(hex(s)).unwrap_or_else(|_| panic!("{s:?} wider than 64 bits"))
}

fn flag(s: &str) -> bool {
    match s {
        "0" => false,
        "1" => true,
        _ => panic!("bad flag {s:?}"),
    }
}

/// Columns: base length exact new_base new_top ebt bounds_valid crrl cram
/// addr precise_fast. See the README.
fn check_bounds(format: Format, text: &'static str) -> usize {
    let mut mismatches = Vec::new();
    let cases = lines(text);
    for line in &cases {
        let c: Vec<&str> = line.split(' ').collect();
        assert_eq!(c.len(), 11, "{}: malformed line {line:?}", format.name());
        let (base, len) = (hex64(c[0]), hex(c[1]));
        let (cap, exact) = Capability::root(format, base).set_bounds(len);
        // The library's CRRL/CRAM take the length modulo 2^64.
        let l64 = u64::try_from(len & u128::from(u64::MAX)).expect("masked to 64 bits");
        let addr = hex64(c[9]);
        let rep = c[10].as_bytes();
        let got = (
            exact,
            cap.base(),
            cap.top(),
            cap.pesbt() & format.ebt_mask(),
            cap.bounds_valid(),
            format.representable_length(l64),
            format.representable_alignment_mask(l64),
            cap.is_representable_address(addr, Representability::Precise),
            cap.is_representable_address(addr, Representability::Fast),
        );
        let want = (
            flag(c[2]),
            hex64(c[3]),
            hex(c[4]),
            hex64(c[5]),
            flag(c[6]),
            hex64(c[7]),
            hex64(c[8]),
            rep[0] == b'1',
            rep[1] == b'1',
        );
        // The free function agrees with the capability path.
        if len <= 1 << 64 {
            let b = format.set_bounds(base, u128::from(base) + len);
            assert_eq!(
                (b.exact, b.base, b.top, b.ebt),
                (got.0, got.1, got.2, got.3),
                "{}: Format::set_bounds vs Capability::set_bounds on {line}",
                format.name()
            );
        }
        if got != want {
            mismatches.push(format!("{line}\n   got {got:x?}\n  want {want:x?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}: {} of {} set-bounds cases disagree with the reference, e.g.\n{}",
        format.name(),
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
    cases.len()
}

/// Columns: pesbt cursor base top B T E IE bounds_valid perms otype.
fn check_decode(format: Format, text: &'static str) -> usize {
    let mut mismatches = Vec::new();
    let cases = lines(text);
    for line in &cases {
        let c: Vec<&str> = line.split(' ').collect();
        assert_eq!(c.len(), 11, "{}: malformed line {line:?}", format.name());
        let (pesbt, cursor) = (hex64(c[0]), hex64(c[1]));
        let cap = Capability::decode(format, pesbt, cursor, false);
        let bits = cap.bounds_bits();
        let got = (
            cap.base(),
            cap.top(),
            bits.b,
            bits.t,
            bits.exponent,
            bits.internal_exponent,
            cap.bounds_valid(),
            cap.permissions(),
            cap.otype(),
        );
        let want = (
            hex64(c[2]),
            hex(c[3]),
            u32::try_from(hex(c[4])).unwrap(),
            u32::try_from(hex(c[5])).unwrap(),
            c[6].parse::<u32>().unwrap(),
            flag(c[7]),
            flag(c[8]),
            hex64(c[9]),
            hex64(c[10]),
        );
        if got != want {
            mismatches.push(format!("{line}\n   got {got:x?}\n  want {want:x?}"));
        }
        // Encoding is the identity on the 128 bits, in both forms.
        assert_eq!(cap.encode(), (pesbt, cursor));
        let mem = Capability::decode_mem(format, pesbt ^ format.memory_xor_mask(), cursor, false);
        assert_eq!(mem, cap);
    }
    assert!(
        mismatches.is_empty(),
        "{}: {} of {} decode cases disagree with the reference, e.g.\n{}",
        format.name(),
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
    cases.len()
}

/// Columns: parent_base parent_length addr length TXT new_base new_top pesbt.
fn check_derive(format: Format, text: &'static str) -> usize {
    let mut mismatches = Vec::new();
    let cases = lines(text);
    for line in &cases {
        let c: Vec<&str> = line.split(' ').collect();
        assert_eq!(c.len(), 8, "{}: malformed line {line:?}", format.name());
        let (parent, _) = Capability::root(format, hex64(c[0])).set_bounds(hex(c[1]));
        let moved = parent.with_address(hex64(c[2]), Representability::Fast);
        let (cap, exact) = moved.set_bounds(hex(c[3]));
        let flags = c[4].as_bytes();
        let got = (
            moved.tag(),
            exact,
            cap.tag(),
            cap.base(),
            cap.top(),
            cap.pesbt(),
        );
        let want = (
            flags[0] == b'1',
            flags[1] == b'1',
            flags[2] == b'1',
            hex64(c[5]),
            hex(c[6]),
            hex64(c[7]),
        );
        if got != want {
            mismatches.push(format!("{line}\n   got {got:x?}\n  want {want:x?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}: {} of {} derivation cases disagree with the reference, e.g.\n{}",
        format.name(),
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
    cases.len()
}

#[test]
fn isav9_bounds_match_reference() {
    let n = check_bounds(Format::CHERI_128, include_str!("vectors/isav9-bounds.txt"));
    assert!(cfg!(miri) || n >= 10_000, "{n} cases");
}

#[test]
fn morello_bounds_match_reference() {
    let n = check_bounds(Format::MORELLO, include_str!("vectors/morello-bounds.txt"));
    assert!(cfg!(miri) || n >= 10_000, "{n} cases");
}

#[test]
fn isav9_decode_matches_reference() {
    let n = check_decode(Format::CHERI_128, include_str!("vectors/isav9-decode.txt"));
    assert!(cfg!(miri) || n >= 10_000, "{n} cases");
}

#[test]
fn morello_decode_matches_reference() {
    let n = check_decode(Format::MORELLO, include_str!("vectors/morello-decode.txt"));
    assert!(cfg!(miri) || n >= 10_000, "{n} cases");
}

#[test]
fn isav9_derivations_match_reference() {
    let n = check_derive(Format::CHERI_128, include_str!("vectors/isav9-derive.txt"));
    assert!(cfg!(miri) || n >= 5_000, "{n} cases");
}

#[test]
fn morello_derivations_match_reference() {
    let n = check_derive(Format::MORELLO, include_str!("vectors/morello-derive.txt"));
    assert!(cfg!(miri) || n >= 5_000, "{n} cases");
}
