//! One test per rule of the capability model, each with the allowed twin.
//! Runs natively in `cargo test` and under Miri (`cap-cheri/ci.sh`).

use cap_cheri::{Cap, CapBuf, CapError, CapSlice, Format, Perms, SealingCap};

// ---- constructors -------------------------------------------------------

#[test]
fn from_ref_covers_exactly_the_referent_and_cannot_store() {
    let x = 7u32;
    let c = Cap::from_ref(&x);
    assert_eq!(c.base(), std::ptr::from_ref(&x).addr());
    assert_eq!(c.top() - c.base(), 4);
    assert_eq!(c.perms(), Perms::SHARED_REF);
    assert_eq!(c.load(), 7);
    assert_eq!(
        c.try_store(8),
        Err(CapError::PermissionDenied {
            needed: Perms::STORE,
            held: Perms::SHARED_REF
        })
    );
    assert_eq!(x, 7);
}

#[test]
fn from_mut_can_store_through_copies() {
    let mut x = 1u64;
    {
        let c = Cap::from_mut(&mut x);
        let d = c.clone();
        c.store(2);
        assert_eq!(d.load(), 2);
        d.store(3);
        assert_eq!(c.load(), 3);
    }
    assert_eq!(x, 3);
}

#[test]
fn slices_from_vec_and_box() {
    let mut v = vec![1u16, 2, 3];
    let s = CapSlice::from_mut_slice(&mut v);
    s.store(2, 30);
    assert_eq!(s.len(), 3);
    assert_eq!(s.top() - s.base(), 6);
    assert_eq!(v, [1, 2, 30]);
    let b: Box<[u8]> = Box::new([9, 8]);
    assert_eq!(CapSlice::from_slice(&b).load(1), 8);
}

// ---- bounds -------------------------------------------------------------

#[test]
fn out_of_bounds_loads_and_stores_fail_in_bounds_work() {
    let mut buf = [0u8; 16];
    let base = buf.as_ptr().addr();
    let s = CapSlice::from_mut_slice(&mut buf);
    s.store(15, 1);
    assert_eq!(s.load(15), 1);
    assert_eq!(
        s.try_load(16),
        Err(CapError::OutOfBounds {
            addr: base + 16,
            size: 1,
            base,
            top: base + 16
        })
    );
    assert!(matches!(
        s.try_store(16, 1),
        Err(CapError::OutOfBounds { .. })
    ));
    assert!(matches!(
        s.try_load(usize::MAX),
        Err(CapError::OutOfBounds { .. })
    ));
    // A multi-byte access straddling the top fails even though it starts inside.
    let words = [0u32; 2];
    let w = Cap::from_ref(&words)
        .restrict_bounds(words.as_ptr().addr()..words.as_ptr().addr() + 8)
        .unwrap();
    let last_byte = w.with_addr(w.top() - 1).unwrap();
    assert!(last_byte.is_tagged());
    let as_u32 = CapSlice::from_slice(&words).offset(1).unwrap();
    assert_eq!(as_u32.load(0), 0);
    assert!(matches!(
        as_u32.try_load(1),
        Err(CapError::OutOfBounds { .. })
    ));
}

#[test]
fn narrowing_works_and_then_limits_access() {
    let data: Vec<u8> = (0..64).collect();
    let all = CapSlice::from_slice(&data);
    let mid = all.restrict_bounds(16..32).unwrap();
    assert_eq!(mid.len(), 16);
    assert_eq!(mid.load(0), 16);
    assert_eq!(mid.load(15), 31);
    assert!(mid.try_load(16).is_err());
    // Moving the address back keeps provenance but not authority.
    let back = mid.offset(-16).unwrap();
    assert!(back.is_tagged());
    assert_eq!(back.addr(), all.addr());
    assert!(matches!(
        back.try_load(0),
        Err(CapError::OutOfBounds { .. })
    ));
    assert_eq!(back.load(16), 16);
}

#[test]
fn bounds_cannot_widen() {
    let data = [0u8; 32];
    let all = CapSlice::from_slice(&data);
    let mid = all.restrict_bounds(8..16).unwrap();
    let (b, t) = (mid.base(), mid.top());
    // Any range reaching outside [b, t) is refused: below, above, both.
    for (lo, hi) in [(-1isize, 8usize), (0, 9), (-8, 16), (8, 9)] {
        let start = mid.offset(lo).unwrap();
        let err = start.restrict_bounds(0..hi).unwrap_err();
        assert!(
            matches!(err, CapError::Widening { base, top, .. } if base == b && top == t),
            "{lo} {hi}: {err}"
        );
    }
    // Inverted and overflowing ranges are never inside.
    #[allow(clippy::reversed_empty_ranges)]
    let inverted = mid.restrict_bounds(5..3);
    assert!(matches!(inverted, Err(CapError::Widening { .. })));
    assert!(matches!(
        mid.restrict_bounds(1..usize::MAX),
        Err(CapError::Widening { .. })
    ));
    // The same range again, or a smaller one, is fine.
    assert!(mid.restrict_bounds(0..8).is_ok());
    assert_eq!(mid.restrict_bounds(2..3).unwrap().load(0), 0);
    // Single-object capabilities too.
    let x = 5u64;
    let c = Cap::from_ref(&x);
    assert!(matches!(
        c.restrict_bounds(c.base() - 1..c.top()),
        Err(CapError::Widening { .. })
    ));
    assert!(matches!(
        c.restrict_bounds(c.base()..c.top() + 1),
        Err(CapError::Widening { .. })
    ));
    assert!(matches!(
        c.restrict_bounds(c.base()..usize::MAX),
        Err(CapError::Widening { .. })
    ));
    assert_eq!(c.restrict_bounds(c.base()..c.top()).unwrap().load(), 5);
}

#[test]
fn unrepresentable_bounds_are_refused_or_rounded() {
    // 20000 bytes is above Morello's exact limit (16384): IE form, alignment 8.
    let data = vec![0u8; 20_100];
    let all = CapSlice::from_slice(&data);
    let at = (0..8).find(|i| (all.addr() + i) % 8 == 1).unwrap();
    let err = all.restrict_bounds(at..at + 20_001).unwrap_err();
    let CapError::NotRepresentable {
        format,
        requested,
        representable,
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!(format, "Morello");
    assert_eq!(requested.0, (all.addr() + at) as u64);
    assert_eq!(representable.0, (all.addr() + at - 1) as u64);
    assert_eq!(Format::NATIVE.representable_length(20_001), 20_008);
    // Exactly representable twin: aligned start and the CRRL length.
    let aligned = at + 7;
    assert!(all.restrict_bounds(aligned..aligned + 20_008).is_ok());
    // The rounded form gives the bounds CSetBounds would, inside the current ones.
    let arr: Box<[u8; 20_100]> = vec![0u8; 20_100].into_boxed_slice().try_into().unwrap();
    let c = Cap::from_ref(&*arr);
    let start = (c.base() + 1..c.base() + 9).find(|a| a % 8 == 1).unwrap();
    let r = c.restrict_bounds_rounded(start..start + 20_001).unwrap();
    assert_eq!((r.base(), r.addr()), (start - 1, start));
    assert!(r.top() >= start + 20_001 && r.top() <= c.top());
}

// ---- permissions --------------------------------------------------------

#[test]
fn permissions_only_shrink() {
    let mut x = 3u8;
    let c = Cap::from_mut(&mut x);
    let ro = c.restrict_perms(Perms::LOAD).unwrap();
    assert_eq!(ro.perms(), Perms::LOAD);
    assert_eq!(ro.load(), 3);
    assert!(matches!(
        ro.try_store(4),
        Err(CapError::PermissionDenied {
            needed: Perms::STORE,
            ..
        })
    ));
    // Asking for everything back adds nothing.
    let again = ro.restrict_perms(Perms::all()).unwrap();
    assert_eq!(again.perms(), Perms::LOAD);
    assert!(again.try_store(4).is_err());
    // Dropping LOAD makes loads fail; the original still stores.
    let wo = c.restrict_perms(Perms::STORE).unwrap();
    assert!(matches!(
        wo.try_load(),
        Err(CapError::PermissionDenied {
            needed: Perms::LOAD,
            ..
        })
    ));
    wo.store(9);
    assert_eq!(c.load(), 9);
    // Data capabilities never carry execute or sealing authority.
    assert!(
        !c.perms()
            .intersects(Perms::EXECUTE | Perms::SEAL | Perms::UNSEAL)
    );
}

#[test]
fn loading_and_storing_capabilities_needs_the_cap_permissions() {
    let secret = 11u32;
    let other = 12u32;
    let mut slot = Cap::from_ref(&secret);
    let holder = Cap::from_mut(&mut slot);
    assert_eq!(holder.try_load_cap().unwrap().load(), 11);
    holder.try_store_cap(&Cap::from_ref(&other)).unwrap();
    assert_eq!(holder.try_load_cap().unwrap().load(), 12);
    let data_only = holder.restrict_perms(Perms::LOAD | Perms::STORE).unwrap();
    assert!(matches!(
        data_only.try_load_cap(),
        Err(CapError::PermissionDenied { .. })
    ));
    assert!(matches!(
        data_only.try_store_cap(&Cap::from_ref(&secret)),
        Err(CapError::PermissionDenied { .. })
    ));
    assert_eq!(holder.try_load_cap().unwrap().load(), 12);
}

// ---- tag and representable window ----------------------------------------

#[test]
fn moving_far_away_clears_the_tag_for_good() {
    let data = [1u8; 64];
    let c = CapSlice::from_slice(&data);
    // Within the window: still tagged, usable once back in bounds.
    let near = c.offset(100).unwrap();
    assert!(near.is_tagged());
    assert_eq!(near.offset(-100).unwrap().load(0), 1);
    // Morello's window for a small object is 2^16 bytes: 2^17 away is outside.
    let far = c.offset(1 << 17).unwrap();
    assert!(!far.is_tagged());
    let home = far.offset(-(1 << 17)).unwrap();
    assert_eq!(home.addr(), c.addr());
    assert!(matches!(home.try_load(0), Err(CapError::Untagged { .. })));
    assert!(matches!(
        home.restrict_bounds(0..1),
        Err(CapError::Untagged { .. })
    ));
    assert!(matches!(
        home.restrict_perms(Perms::LOAD),
        Err(CapError::Untagged { .. })
    ));
}

// ---- sealing ------------------------------------------------------------

#[test]
fn sealed_capabilities_refuse_every_use_until_unsealed() {
    let mut x = 5i32;
    let types = SealingCap::allocate(2).unwrap();
    let c = Cap::from_mut(&mut x);
    let sealed = types.seal(c.clone()).unwrap();
    let ot = types.otype();
    assert_eq!(sealed.otype(), Some(ot));
    let is_sealed = |r: Result<(), CapError>| assert_eq!(r, Err(CapError::Sealed { otype: ot }));
    is_sealed(sealed.try_load().map(drop));
    is_sealed(sealed.try_store(1));
    is_sealed(sealed.with_addr(sealed.addr()).map(drop));
    is_sealed(sealed.offset(1).map(drop));
    is_sealed(
        sealed
            .restrict_bounds(sealed.base()..sealed.top())
            .map(drop),
    );
    is_sealed(sealed.restrict_perms(Perms::LOAD).map(drop));
    is_sealed(types.seal(sealed.clone()).map(drop));
    // The other object type of the same sealing capability does not match.
    let other = types.with_otype(ot + 1).unwrap();
    assert_eq!(
        other.unseal(sealed.clone()).unwrap_err(),
        CapError::WrongType {
            sealed_with: ot,
            unseal_with: ot + 1
        }
    );
    // The matching one opens it, and it works again.
    let open = types.unseal(sealed).unwrap();
    assert_eq!(open.otype(), None);
    open.store(6);
    assert_eq!(c.load(), 6);
    assert!(matches!(
        types.unseal(open),
        Err(CapError::NotSealed { .. })
    ));
}

#[test]
fn sealing_authority_narrows_too() {
    let types = SealingCap::allocate(4).unwrap();
    let r = types.otypes();
    assert_eq!(r.end - r.start, 4);
    // Fresh allocations never overlap.
    let more = SealingCap::allocate(4).unwrap();
    assert!(more.otypes().start >= r.end || more.otypes().end <= r.start);
    // Cannot unseal with another allocation's types.
    let x = 1u8;
    let sealed = types.seal(Cap::from_ref(&x)).unwrap();
    assert!(matches!(
        more.unseal(sealed.clone()),
        Err(CapError::WrongType { .. })
    ));
    // Object type outside the range cannot seal.
    let outside = types.with_otype(r.end).unwrap();
    assert!(matches!(
        outside.seal(Cap::from_ref(&x)),
        Err(CapError::OtypeOutOfBounds { .. })
    ));
    // Range only narrows.
    assert!(matches!(
        types.restrict_otypes(r.start..r.end + 1),
        Err(CapError::Widening { .. })
    ));
    let one = types.restrict_otypes(r.start + 1..r.start + 2).unwrap();
    assert_eq!(one.otype(), r.start + 1);
    // A seal-only capability makes tokens it cannot open.
    let seal_only = types.restrict_perms(Perms::SEAL | Perms::GLOBAL).unwrap();
    let t = seal_only.seal(Cap::from_ref(&x)).unwrap();
    assert!(matches!(
        seal_only.unseal(t.clone()),
        Err(CapError::PermissionDenied { .. })
    ));
    assert_eq!(types.unseal(t).unwrap().load(), 1);
    // Unsealing with a non-global sealing capability clears Global.
    let local = types.restrict_perms(Perms::UNSEAL).unwrap();
    let opened = local.unseal(sealed).unwrap();
    assert!(!opened.perms().contains(Perms::GLOBAL));
    assert_eq!(opened.load(), 1);
}

#[test]
fn object_types_run_out() {
    let err = SealingCap::allocate(1 << 20).unwrap_err();
    assert!(matches!(err, CapError::OtypesExhausted { requested, .. } if requested == 1 << 20));
    assert!(SealingCap::allocate(1).is_ok());
}

#[test]
fn sealed_slices_and_views() {
    let data = *b"token";
    let types = SealingCap::allocate(1).unwrap();
    let s = CapSlice::from_slice(&data);
    assert_eq!(s.as_slice().unwrap(), b"token");
    let sealed = types.seal(s).unwrap();
    assert!(matches!(sealed.as_slice(), Err(CapError::Sealed { .. })));
    assert!(matches!(sealed.try_load(0), Err(CapError::Sealed { .. })));
    let mut buf = [0u8; 5];
    assert!(sealed.try_read_into(0, &mut buf).is_err());
    let open = types.unseal(sealed).unwrap();
    open.try_read_into(0, &mut buf).unwrap();
    assert_eq!(&buf, b"token");
    // Views are only handed out for shared-origin capabilities.
    let mut m = *b"abc";
    let ms = CapSlice::from_mut_slice(&mut m);
    assert!(matches!(ms.as_slice(), Err(CapError::Aliased { .. })));
    assert_eq!(ms.load(1), b'b');
}

#[test]
fn errors_name_the_capability() {
    let x = [0u8; 4];
    let c = CapSlice::from_slice(&x);
    let msg = c.try_load(4).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("{:#x}", c.base())) && msg.contains("outside"),
        "{msg}"
    );
    let io: std::io::Error = c.try_store(0, 1).unwrap_err().into();
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
}

#[test]
#[should_panic(expected = "capability load refused")]
fn panicking_form_traps() {
    let x = [0u8; 1];
    let _ = CapSlice::from_slice(&x).load(1);
}

// ---- allocations --------------------------------------------------------

#[test]
fn allocations_get_exactly_representable_bounds() {
    for len in [0, 1, 4096, 16_383, 16_384, 16_385, 20_001, 100_000, 1 << 20] {
        let mut buf = CapBuf::zeroed(len);
        buf.check_representable().unwrap();
        let bounds_len = buf.bounds_len();
        assert_eq!(
            bounds_len as u64,
            Format::NATIVE.representable_length(len as u64)
        );
        let cap = buf.cap_mut();
        assert_eq!(cap.len(), len);
        assert_eq!(cap.top() - cap.base(), bounds_len);
        // Narrowing to the whole bounds is exact: no rounding, no refusal.
        assert!(cap.restrict_bounds(0..bounds_len).is_ok());
        if bounds_len > 0 {
            cap.store(bounds_len - 1, 7);
        }
        assert!(matches!(
            cap.try_load(bounds_len),
            Err(CapError::OutOfBounds { .. })
        ));
    }
    let mut buf = CapBuf::zeroed(3);
    buf.as_bytes_mut().copy_from_slice(b"abc");
    assert_eq!(buf.cap().as_slice().unwrap(), b"abc");
}
