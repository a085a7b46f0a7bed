//! Hand-checked encodings. The bulk agreement with the reference library is
//! `tests/vectors.rs`; these pin the layouts to the architecture documents.

use super::Capability;
use crate::{Format, Representability};

const CHERI: Format = Format::CHERI_128;
const MORELLO: Format = Format::MORELLO;

#[test]
fn null_is_all_zero_in_memory() {
    for f in [CHERI, MORELLO] {
        let null = Capability::decode_mem(f, 0, 0, false);
        assert_eq!((null.base(), null.top()), (0, 1 << 64), "{}", f.name());
        assert_eq!(null.otype(), Capability::unsealed_otype(f));
        assert_eq!(null.permissions(), 0);
        assert!(null.bounds_bits().internal_exponent);
        assert_eq!(null.encode_mem(), (0, 0));
    }
    // ISAv9: the register form of null is the XOR mask itself: IE (bit 26),
    // E = 52 = 0b110_100 split 6 << 14 | 4, otype 2^18 - 1 at bit 27.
    assert_eq!(
        CHERI.memory_xor_mask(),
        (1 << 26) | (6 << 14) | 4 | (0x3_ffff << 27)
    );
    assert_eq!(Capability::decode_mem(CHERI, 0, 0, false).exponent(), 52);
    // Morello: IE is "exponent zero" = 0, exponent stored inverted: 0 -> 63.
    assert_eq!(Capability::decode(MORELLO, 0, 0, false).exponent(), 63);
}

#[test]
fn isav9_small_object_fields() {
    // [0x1000, 0x1010) at address 0x1000: IE = 0, B = 0x1000, T = 0x010 (12 bits).
    let (c, exact) = Capability::root(CHERI, 0x1000).set_bounds(0x10);
    assert!(exact && c.tag());
    let ebt = c.pesbt() & CHERI.ebt_mask();
    assert_eq!(ebt, (0x010 << 14) | 0x1000);
    let bits = c.bounds_bits();
    assert_eq!(
        (bits.b, bits.t, bits.exponent, bits.internal_exponent),
        (0x1000, 0x1010, 0, false)
    );
}

#[test]
fn morello_exponent_is_inverted() {
    // 0x10_0000 bytes at 0: E = 20 - 14 = 6, rounds to 7? No: exact power of
    // two, msb 20 -> E = 20 - (16 - 2) = 6; stored as !6 = 0b111_001.
    let (c, exact) = Capability::root(MORELLO, 0).set_bounds(0x10_0000);
    assert!(exact);
    assert_eq!(c.exponent(), 6);
    let p = c.pesbt();
    assert_eq!(p >> 30 & 1, 0, "IE form: the exponent-zero bit is clear");
    assert_eq!(p & 7, 0b001);
    assert_eq!(p >> 16 & 7, 0b111);
}

#[test]
fn morello_malformed_exponent() {
    // IE form (bit 30 clear), stored exponent !55 = 8: E = 55 > 50 -> [0, 2^64), malformed.
    let pesbt = 1 << 16; // high part 0b001, low part 0b000 -> stored 8 -> E = !8 & 63 = 55
    let c = Capability::decode(MORELLO, pesbt, 0x1234, true);
    assert_eq!(c.exponent(), 55);
    assert_eq!((c.base(), c.top()), (0, 1 << 64));
    assert!(!c.bounds_valid());
    // A malformed capability cannot move, even within its bounds...
    assert!(!c.with_address(0x1235, Representability::Precise).tag());
    // ...and set-bounds on it clears the tag.
    assert!(!c.set_bounds(1).0.tag());
    // E = 63 is the well-formed out-of-range exponent.
    let c63 = Capability::decode(MORELLO, 0, 0x1234, true);
    assert!(c63.bounds_valid());
    assert!(c63.with_address(0x1235, Representability::Precise).tag());
}

#[test]
fn isav9_malformed_exponent_is_clamped() {
    // IE set, E = 63: decoded with E = 52.
    let pesbt = (1 << 26) | (7 << 14) | 7;
    let c = Capability::decode(CHERI, pesbt, 0, false);
    assert_eq!(c.exponent(), 63);
    let clamped = (1 << 26) | (6 << 14) | 4;
    let d = Capability::decode(CHERI, clamped, 0, false);
    assert_eq!((c.base(), c.top()), (d.base(), d.top()));
}

#[test]
fn morello_flags_and_bit_55() {
    let (c, _) = Capability::root(MORELLO, 0x4000_0000).set_bounds(0x100);
    for check in [Representability::Precise, Representability::Fast] {
        // Only the flags change: kept, with the same bounds.
        let flagged = c.with_address(c.address() + (1 << 56), check);
        assert!(flagged.tag());
        assert_eq!((flagged.base(), flagged.top()), (c.base(), c.top()));
        assert_eq!(flagged.flags(), 1);
        // Across bit 55: cleared, and the bounds decode sign-extended.
        let crossed = c.with_address(c.address() | 1 << 55, check);
        assert!(!crossed.tag());
        assert_eq!(crossed.base() >> 56, 0xff);
    }
    // ISAv9 has no flags: 2^56 away is far outside the window.
    let (v, _) = Capability::root(CHERI, 0x4000_0000).set_bounds(0x100);
    assert!(
        !v.with_address(v.address() + (1 << 56), Representability::Fast)
            .tag()
    );
}

#[test]
fn permissions_only_shrink_and_round_trip() {
    for f in [CHERI, MORELLO] {
        let root = Capability::root(f, 0);
        assert_eq!(root.permissions(), Capability::all_permissions(f));
        let some = root.and_permissions(0b101);
        assert_eq!(some.permissions(), 0b101);
        assert_eq!(
            some.and_permissions(!0).permissions(),
            0b101,
            "and never adds"
        );
        let (p, a) = some.encode();
        assert_eq!(Capability::decode(f, p, a, true), some);
    }
}
