//! The provenance-typed API in both formats: where ISAv9 and Morello differ,
//! `Cap<_, Cheri128>` and `Cap<_, Morello>` differ the same way.

use cap_cheri::{Cap, CapError, CapFormat, CapSlice, Cheri128, Format, Morello, Perms};

#[test]
fn format_is_carried_by_the_type() {
    let x = 1u32;
    assert_eq!(Cap::from_ref(&x).format(), Format::MORELLO);
    assert_eq!(Cap::from_ref_in(&x, Cheri128).format(), Format::CHERI_128);
    assert_eq!(Cap::from_ref_in(&x, Morello).format(), Format::NATIVE);
}

#[test]
fn exactness_follows_the_format() {
    let data = vec![0u8; 1 << 14];
    // 4097 bytes at offset 3: exact on Morello (below 2^14), not on ISAv9.
    let m = CapSlice::from_slice_in(&data, Morello);
    assert!(m.restrict_bounds(3..4100).is_ok());
    let c = CapSlice::from_slice_in(&data, Cheri128);
    let err = c.restrict_bounds(3..4100).unwrap_err();
    assert!(
        matches!(err, CapError::NotRepresentable { format, .. } if format == Format::CHERI_128.name()),
        "{err}"
    );
    // The rounded twin succeeds when the rounded bounds fit (ISAv9 aligns to 8).
    let base = data.as_ptr().addr();
    let aligned = base.next_multiple_of(8) - base;
    let c = CapSlice::from_slice_in(&data, Cheri128);
    let ok = c.restrict_bounds(aligned..aligned + 4104).unwrap();
    assert_eq!(ok.top() - ok.base(), 4104);
}

fn window_check<F: CapFormat>(format: F, far: usize) -> bool {
    let data = [7u8; 16];
    let c = CapSlice::from_slice_in(&data, format);
    c.offset(far.cast_signed()).unwrap().is_tagged()
}

#[test]
fn representable_window_follows_the_format() {
    // A 16-byte object: Morello's window is 2^16 bytes, ISAv9's 2^14; the
    // window starts one eighth below the base's block, so 2^15 above is
    // inside Morello's and outside ISAv9's.
    assert!(window_check(Morello, 1 << 15));
    assert!(!window_check(Cheri128, 1 << 15));
    // Both keep it one byte past the top, both lose it 2^17 away.
    assert!(window_check(Morello, 16) && window_check(Cheri128, 16));
    assert!(!window_check(Morello, 1 << 17) && !window_check(Cheri128, 1 << 17));
}

#[test]
fn morello_flags_keep_the_tag_but_not_the_access() {
    let data = [5u8; 16];
    let m = CapSlice::from_slice_in(&data, Morello);
    // Only the top byte (flags) changes: the hardware keeps the tag...
    let flagged = m.offset(1 << 56).unwrap();
    assert!(flagged.is_tagged());
    // ...but this model refuses to access through a flagged address (the
    // software pointer would be a different address on the host).
    assert!(matches!(
        flagged.try_load(0),
        Err(CapError::OutOfBounds { .. })
    ));
    // Clearing the flags again gives a usable capability.
    let back = flagged.offset(-(1 << 56)).unwrap();
    assert!(back.is_tagged());
    assert_eq!(back.load(3), 5);
    // ISAv9 has no flags: 2^56 away is far outside the window.
    let c = CapSlice::from_slice_in(&data, Cheri128);
    assert!(!c.offset(1 << 56).unwrap().is_tagged());
    // Changing bit 55 (the sign of Morello's bounds) clears the tag for good.
    let crossed = m.offset(1 << 55).unwrap();
    assert!(!crossed.is_tagged());
    let back = crossed.offset(-(1 << 55)).unwrap();
    assert!(!back.is_tagged());
    assert!(matches!(back.try_load(0), Err(CapError::Untagged { .. })));
}

#[test]
fn capabilities_in_memory_work_in_either_format() {
    let x = 9u64;
    let inner = Cap::from_ref_in(&x, Cheri128);
    let mut slot = inner.clone();
    let outer = Cap::from_mut_in(&mut slot, Cheri128);
    outer.try_store_cap(&inner).unwrap();
    assert_eq!(outer.try_load_cap().unwrap().load(), 9);
    // Without Load-capability the load is refused, as in the native format.
    let no_lc = outer.restrict_perms(Perms::LOAD).unwrap();
    assert!(matches!(
        no_lc.try_load_cap(),
        Err(CapError::PermissionDenied { .. })
    ));
}

#[test]
fn allocations_are_padded_for_their_format() {
    use cap_cheri::CapBuf;
    // 5001 bytes: exact on Morello (below 2^14); ISAv9 needs 8-byte
    // granules above 2^12, so it pads to 5008 and aligns to 8.
    let m = CapBuf::zeroed(5001);
    assert_eq!(m.bounds_len(), 5001);
    let mut c = CapBuf::zeroed_in(5001, Cheri128);
    assert_eq!(c.bounds_len(), 5008);
    c.check_representable().unwrap();
    m.check_representable().unwrap();
    let cap = c.cap_mut();
    assert_eq!(cap.format(), Format::CHERI_128);
    assert_eq!(cap.base() % 8, 0);
    cap.store(5007, 1);
    assert!(cap.try_store(5008, 1).is_err());
    // The exact bounds narrow in their own format without rounding.
    assert!(cap.restrict_bounds(0..5008).is_ok());
}
