//! Worked examples for CHERI Concentrate.
//!
//! Where each expected value comes from:
//!
//! - [S] the ISAv9 Sail definitions (UCAM-CL-TR-987 §3.5.4, `setCapBounds`,
//!   `getRepresentableAlignmentMask`, `getRepresentableLength`) worked by hand;
//!   the arithmetic is shown beside the case.
//! - [T] a named test case of the `cheri-compressed-cap` library
//!   (CTSRD-CHERI, `test/setbounds_test_128.cpp`, `test/simple_test_common.cpp`,
//!   `test/simple_test_128r.cpp`, `test/setbounds_test_128m.cpp`), whose
//!   expectations were taken from runs of the Sail model, QEMU and cheritest.
//! - [L] the output of that library's `cc128_get_representable_length` /
//!   `cc128_get_alignment_mask` (ISAv9 128) and their `cc128m_` (Morello)
//!   twins at commit 0bd01cc, a library the CHERI project tests against the
//!   Sail models; we ran it once to produce these numbers, it is not a
//!   dependency.

use super::{Bounds, Format};

const CHERI: Format = Format::CHERI_128;
const MORELLO: Format = Format::MORELLO;
const TOP: u128 = 1 << 64;

fn bounds(f: Format, base: u64, len: u64) -> Bounds {
    f.set_bounds(base, u128::from(base) + u128::from(len))
}

#[test]
fn parameters() {
    assert_eq!((CHERI.mantissa_width(), CHERI.max_exponent()), (14, 52));
    assert_eq!((MORELLO.mantissa_width(), MORELLO.max_exponent()), (16, 50));
    assert_eq!(CHERI.exact_length_limit(), 4096);
    assert_eq!(MORELLO.exact_length_limit(), 16384);
    assert_eq!(Format::NATIVE, MORELLO);
}

/// (length, CRRL, CRAM) for ISAv9 128-bit. [L], and [S] for the hand-worked rows.
const CHERI_CRRL_CRAM: &[(u64, u64, u64)] = &[
    // [S] length 0 is exact: all-ones mask.
    (0, 0, u64::MAX),
    (1, 1, u64::MAX),
    // [S] 0xfff < 2^(MW-2) = 2^12: the IE = 0 form, exact at any alignment.
    (0xfff, 0xfff, u64::MAX),
    // [S] bit 12 set: IE form with E = 0, so alignment 2^(0+3) = 8.
    (0x1000, 0x1000, !0x7),
    (0x1001, 0x1008, !0x7),
    (0x1008, 0x1008, !0x7),
    // [S] E = 0 but T rounds up to 0x400 units of 8 = 2^(MW-4): E becomes 1, alignment 16.
    (0x1fff, 0x2000, !0xf),
    (0x2000, 0x2000, !0xf),
    (0x3039, 0x3040, !0xf),
    (0x3fff, 0x4000, !0x1f),
    (0x4001, 0x4020, !0x1f),
    (0xffff, 0x10000, !0x7f),
    (0x10001, 0x10080, !0x7f),
    // [S] msb 23 -> E = 23 - 12 = 11, alignment 2^14; rounds to 0x400 units -> E = 12, 2^15.
    (0xff_ffff, 0x100_0000, !0x7fff),
    (0x100_0001, 0x100_8000, !0x7fff),
    // [S] msb 28 -> E = 16, alignment 2^19 = 0x80000.
    (0x1000_0000, 0x1000_0000, !0x7_ffff),
    (0x1234_5678, 0x1238_0000, !0x7_ffff),
    (0x7fff_ffff_ffff, 0x8000_0000_0000, 0xffff_ffc0_0000_0000),
    (
        0x8000_0000_0000_0000,
        0x8000_0000_0000_0000,
        0xffc0_0000_0000_0000,
    ),
    // [L] rounding reaches 2^64: CRRL wraps to 0 as the instruction does.
    (u64::MAX, 0, 0xff80_0000_0000_0000),
    (0xffff_ffff_fa11_9000, 0, 0xff80_0000_0000_0000),
    // [T] "TestRIG setbounds result mismatch": length 3249 is exact.
    (3249, 3249, u64::MAX),
    // [T] simple_test_128r "bounds encoding exponent > 0": length 0x9e400, E = 7 -> 2^10.
    (0x9_e400, 0x9_e400, !0x3ff),
];

/// (length, RRLEN, RRMASK) for Morello. [L]
const MORELLO_CRRL_CRAM: &[(u64, u64, u64)] = &[
    (0, 0, u64::MAX),
    (0x1001, 0x1001, u64::MAX),
    // 0x3fff < 2^(MW-2) = 2^14: exact at any alignment on Morello, not on ISAv9.
    (0x3fff, 0x3fff, u64::MAX),
    (0x4000, 0x4000, !0x7),
    (0x4001, 0x4008, !0x7),
    (0xffff, 0x10000, !0x1f),
    (0x10001, 0x10020, !0x1f),
    (0xff_ffff, 0x100_0000, !0x1fff),
    (0x100_0001, 0x100_2000, !0x1fff),
    (0x1234_5678, 0x1236_0000, !0x1_ffff),
    (0x7fff_ffff_ffff, 0x8000_0000_0000, 0xffff_fff0_0000_0000),
    (
        0x8000_0000_0000_0000,
        0x8000_0000_0000_0000,
        0xfff0_0000_0000_0000,
    ),
    (u64::MAX, 0, 0xffe0_0000_0000_0000),
];

#[test]
fn crrl_and_cram_cheri_128() {
    for &(len, crrl, cram) in CHERI_CRRL_CRAM {
        assert_eq!(CHERI.representable_length(len), crrl, "CRRL({len:#x})");
        assert_eq!(
            CHERI.representable_alignment_mask(len),
            cram,
            "CRAM({len:#x})"
        );
    }
}

#[test]
fn crrl_and_cram_morello() {
    for &(len, crrl, cram) in MORELLO_CRRL_CRAM {
        assert_eq!(MORELLO.representable_length(len), crrl, "RRLEN({len:#x})");
        assert_eq!(
            MORELLO.representable_alignment_mask(len),
            cram,
            "RRMASK({len:#x})"
        );
    }
}

#[test]
fn cram_aligned_base_with_crrl_length_is_exact() {
    // The contract of CRRL/CRAM: base & CRAM(len) with length CRRL(len) is exact.
    for f in [CHERI, MORELLO] {
        let mut len = 1u64;
        while len < 1 << 40 {
            for l in [len - 1, len, len + 1, len + len / 3] {
                let crrl = f.representable_length(l);
                let base = 0x1234_5678_9abc & f.representable_alignment_mask(l);
                assert!(crrl >= l);
                assert!(
                    f.is_exact(base, crrl),
                    "{}: base {base:#x} len {crrl:#x}",
                    f.name()
                );
            }
            len <<= 1;
        }
    }
}

#[test]
fn set_bounds_cheritest_regression_rounds_out() {
    // [T] setbounds_test_128.cpp "regression from cheritest": base
    // 0xFFFFFFFFFF000000, length 0xffffff is inexact; length becomes 0x1000000.
    let b = bounds(CHERI, 0xFFFF_FFFF_FF00_0000, 0xff_ffff);
    assert!(!b.exact);
    assert_eq!(b.base, 0xFFFF_FFFF_FF00_0000);
    assert_eq!(b.length(), 0x100_0000);
    assert_eq!(b.top, TOP);
    assert_eq!(b.exponent, 12);
}

#[test]
fn set_bounds_old_format_regression() {
    // [T] "Old format setbounds regression with new format": address 7, length
    // 0x10000000 -> base 0, length 0x10080000.
    let b = bounds(CHERI, 7, 0x1000_0000);
    assert!(!b.exact);
    assert_eq!(b.base, 0);
    assert_eq!(b.length(), 0x1008_0000);
    assert_eq!(b.exponent, 16);
    // [L] Morello keeps two more mantissa bits: alignment 2^17.
    let m = bounds(MORELLO, 7, 0x1000_0000);
    assert_eq!(
        (m.base, m.top, m.exact, m.exponent),
        (0, 0x1002_0000, false, 14)
    );
}

#[test]
fn set_bounds_exact_cases() {
    // [T] "Cheritest regression case": base 0x160600000, length 0x300000 is exact.
    let b = bounds(CHERI, 0x1_6060_0000, 0x30_0000);
    assert!(b.exact);
    assert_eq!((b.base, b.length()), (0x1_6060_0000, 0x30_0000));
    // [T] "TestRIG setbounds result mismatch": base 0xFFFFFFFFFFFFF934, length
    // 3249: exact, top beyond 2^64 - 1 by 0b10111100101.
    let b = bounds(CHERI, 0xFFFF_FFFF_FFFF_F934, 3249);
    assert!(b.exact);
    assert_eq!(b.top, TOP + 0b101_1110_0101);
    // [T] simple_test_128r "bounds encoding exponent > 0": [0x8000, 0xA6400), "E = 52 - 45 = 7".
    let b = CHERI.set_bounds(0x8000, 0xA_6400);
    assert!(b.exact && b.internal_exponent);
    assert_eq!(b.exponent, 7);
    // [T] setbounds_test_128m "Morello setbounds with high bits": 16 bytes at 0x944 exact.
    assert!(bounds(MORELLO, 0x944, 16).exact);
}

#[test]
fn set_bounds_whole_space_and_max_addr() {
    // [T] simple_test_common "Check max size cap representable".
    let all = CHERI.set_bounds(0, TOP);
    assert!(all.exact);
    assert_eq!(all.exponent, 52);
    assert!(MORELLO.set_bounds(0, TOP).exact);
    assert_eq!(MORELLO.set_bounds(0, TOP).exponent, 50);
    assert!(CHERI.set_bounds(0, 0).exact, "zero length");
    assert!(!bounds(CHERI, 0, u64::MAX).exact, "MAX_ADDR length");
    assert!(
        !bounds(CHERI, 0xffff_ffff_ff00_0000, 0x00ff_ffff).exact,
        "length with too many bits"
    );
}

#[test]
fn morello_is_exact_where_isav9_rounds() {
    // [L] 5000 bytes at 4: below Morello's 2^14 exact limit, but IE with
    // alignment 8 on ISAv9, which rounds to [0, 0x1390).
    let c = bounds(CHERI, 4, 5000);
    assert_eq!((c.base, c.top, c.exact), (0, 0x1390, false));
    assert!(bounds(MORELLO, 4, 5000).exact);
    // [L] 4097 bytes at 0x1003 -> [0x1000, 0x2008) on ISAv9.
    let c = bounds(CHERI, 0x1003, 4097);
    assert_eq!((c.base, c.top, c.exact), (0x1000, 0x2008, false));
    assert!(bounds(MORELLO, 0x1003, 4097).exact);
}

#[test]
fn set_bounds_never_shrinks_the_request() {
    for f in [CHERI, MORELLO] {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        // Fewer under Miri (cap-cheri/ci.sh), where each case is interpreted.
        for _ in 0..if cfg!(miri) { 300 } else { 2000 } {
            // xorshift: deterministic spread of bases and lengths
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Morello sign-extends bases from bit 55 (see
            // `morello_sign_extends_bit_55`); tops stay within 2^64 (see
            // `top_past_2_64_wraps_like_the_hardware`).
            let mut base = x >> (x % 40);
            if f.is_morello() {
                base &= (1 << 55) - 1;
            }
            let len = ((x.rotate_left(17)) >> (x % 61 + 3)).min(base.wrapping_neg());
            let b = bounds(f, base, len);
            let top = u128::from(base) + u128::from(len);
            assert!(b.base <= base && b.top >= top);
            assert_eq!(b.exact, b.base == base && b.top == top);
            // The result is itself representable, and asking again is idempotent.
            let again = f.set_bounds(b.base, b.top);
            assert!(again.exact, "{}: {b:?}", f.name());
            // Requests at CRAM alignment with CRRL length are exact.
            if b.exact {
                assert_eq!(base & f.representable_alignment_mask(len), base);
            }
        }
    }
}

#[test]
fn representable_windows() {
    // [L] found by scanning cc128_/cc128m_is_representable_with_addr (precise check).
    let c = bounds(CHERI, 0x10000, 0x10);
    assert_eq!(CHERI.representable_window(&c), Some((0xf800, 0x4000)));
    let m = bounds(MORELLO, 0x10000, 0x10);
    assert_eq!(MORELLO.representable_window(&m), Some((0xe000, 0x10000)));
    let c = bounds(CHERI, 0x10_0000, 0x9_e400);
    assert_eq!(c.exponent, 7);
    assert_eq!(CHERI.representable_window(&c), Some((0xc_0000, 0x20_0000)));
    let m = bounds(MORELLO, 0x10_0000, 0x9_e400);
    assert_eq!(m.exponent, 5);
    assert_eq!(
        MORELLO.representable_window(&m),
        Some((0xc_0000, 0x20_0000))
    );
    assert!(MORELLO.is_representable_address(&m, 0xc_0000));
    assert!(!MORELLO.is_representable_address(&m, 0xb_ffff));
    assert!(MORELLO.is_representable_address(&m, 0x2b_ffff));
    assert!(!MORELLO.is_representable_address(&m, 0x2c_0000));
    // The whole address space: every address is representable.
    assert_eq!(CHERI.representable_window(&CHERI.set_bounds(0, TOP)), None);
}

#[test]
fn top_past_2_64_wraps_like_the_hardware() {
    // The case: base 0xffffffffff000000, length 2^64 - 1. The top
    // rounds up to 2^65, which 65 bits hold as 0: the reference library
    // (run once, [L]) gives base 0xff80_0000_0000_0000, top 0, E = 52,
    // where plain rounding would give 2^65.
    let b = bounds(CHERI, 0xffff_ffff_ff00_0000, u64::MAX);
    assert!(!b.exact);
    assert_eq!(b.exponent, 52);
    assert_eq!((b.base, b.top), (0xff80_0000_0000_0000, 0));
    // Any request with top <= 2^64 gets a top <= 2^64.
    let b = bounds(CHERI, 0xffff_ffff_ff00_0001, 0xff_ffff);
    assert_eq!(b.top, TOP);
}

#[test]
fn morello_sign_extends_bit_55() {
    // Morello's bounds see the address with the flags (63..56) removed and
    // bit 55 sign-extended: 16 bytes at 2^55 are [0xff80.., 0xff80.. + 16).
    let b = bounds(MORELLO, 1 << 55, 16);
    assert!(b.exact);
    assert_eq!(b.base, 0xff80_0000_0000_0000);
    // Flag bits in the requested base are dropped from the bounds.
    let b = bounds(MORELLO, 0x2a00_0000_0000_1000, 16);
    assert_eq!((b.base, b.top), (0x1000, 0x1010));
    // ISAv9 has neither.
    assert_eq!(bounds(CHERI, 1 << 55, 16).base, 1 << 55);
}

#[test]
#[should_panic(expected = "not a range of at most")]
fn inverted_request_panics() {
    let _ = CHERI.set_bounds(10, 5);
}
