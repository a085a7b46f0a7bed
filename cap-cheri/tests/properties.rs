//! Property tests over both formats, with a fixed-seed generator (no
//! dependency, reproducible, and small enough for Miri, where the case count
//! is cut further):
//!
//! - decode(encode(c)) = c for every capability reached by derivation;
//! - every derivation (bounds, permissions, address moves) is monotonic: a
//!   tagged result's bounds lie inside the source's, its permissions are a
//!   subset;
//! - a capability never gains a tag;
//! - the same for `Cap`/`CapSlice` through the public API, in both formats.

// Random values are cut to width on purpose (the tests run on 64-bit hosts).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

use cap_cheri::encoding::Capability;
use cap_cheri::{CapFormat, CapSlice, Cheri128, Format, Morello, Perms, Representability};

const CASES: usize = if cfg!(miri) { 16 } else { 3000 };
const STEPS: usize = 12;

/// xorshift64*: the same sequence on every run and host.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// A value spread over all magnitudes.
    fn wide(&mut self) -> u64 {
        let shift = self.below(64) as u32;
        self.next() >> shift
    }
}

/// One random derivation of `c`, as the hardware would perform it.
fn derive(rng: &mut Rng, c: &Capability) -> Capability {
    let len = c.length();
    match rng.below(6) {
        // Set-bounds at an address inside the bounds, for part of the rest.
        0 | 1 => {
            let off = u128::from(rng.next()) % (len + 1);
            let at = (u128::from(c.base()) + off) as u64;
            let rest = len - off;
            let want = u128::from(rng.wide()) % (rest + 1);
            c.with_address(at, Representability::Fast)
                .set_bounds(want)
                .0
        }
        // Set-bounds that may reach outside (must then lose the tag).
        2 => c.set_bounds(u128::from(rng.wide())).0,
        3 => c.and_permissions(rng.next()),
        // Address moves: near, far, flag bits, bit 55.
        4 => {
            let delta = match rng.below(4) {
                0 => rng.below(256).wrapping_sub(128),
                1 => rng.wide(),
                2 => rng.below(256) << 56,
                _ => 1 << 55,
            };
            let check = if rng.below(2) == 0 {
                Representability::Fast
            } else {
                Representability::Precise
            };
            c.with_address(c.address().wrapping_add(delta), check)
        }
        _ => c.with_address(rng.next(), Representability::Fast),
    }
}

fn check_capabilities(format: Format, seed: u64) {
    let mut rng = Rng(seed);
    let mut tagged_steps = 0usize;
    for _ in 0..CASES {
        let mut c = Capability::root(format, rng.next());
        for _ in 0..STEPS {
            let d = derive(&mut rng, &c);
            // decode(encode(c)) = c, register and memory forms.
            let (pesbt, addr) = d.encode();
            assert_eq!(Capability::decode(format, pesbt, addr, d.tag()), d);
            let (mem, addr) = d.encode_mem();
            assert_eq!(Capability::decode_mem(format, mem, addr, d.tag()), d);
            if d.tag() {
                tagged_steps += 1;
                assert!(c.tag(), "{}: gained a tag: {c:?} -> {d:?}", format.name());
                assert!(
                    d.base() >= c.base() && d.top() <= c.top(),
                    "{}: bounds grew: {c:?} -> {d:?}",
                    format.name()
                );
                assert_eq!(
                    d.permissions() & !c.permissions(),
                    0,
                    "{}: permissions grew: {c:?} -> {d:?}",
                    format.name()
                );
                assert!(d.bounds_valid() && d.reserved() == 0 && !d.is_sealed());
                // A tagged capability's own address is representable.
                assert!(d.is_representable_address(d.address(), Representability::Fast));
                // encode(decoded bounds): asking for exactly these bounds is
                // exact and gives them back, so the abstract capability
                // (bounds, permissions, address) determines its encoding's
                // meaning.
                if d.top() <= 1 << 64 {
                    let b = format.set_bounds(d.base(), d.top());
                    assert!(b.exact, "{}: {d:?} not re-encodable: {b:?}", format.name());
                    assert_eq!((b.base, b.top), (d.base(), d.top()));
                    let again = Capability::decode(
                        format,
                        (d.pesbt() & !format.ebt_mask()) | b.ebt,
                        d.address(),
                        true,
                    );
                    assert_eq!((again.base(), again.top()), (d.base(), d.top()));
                    assert_eq!(again.permissions(), d.permissions());
                }
            }
            c = d;
        }
    }
    // The walk must exercise tagged derivations, not only lose the tag at once.
    assert!(
        tagged_steps > CASES,
        "{}: {tagged_steps} tagged steps",
        format.name()
    );
}

#[test]
fn isav9_derivations_are_monotonic_and_round_trip() {
    check_capabilities(Format::CHERI_128, 0x5eed_0001);
}

#[test]
fn morello_derivations_are_monotonic_and_round_trip() {
    check_capabilities(Format::MORELLO, 0x5eed_0002);
}

#[test]
fn fast_check_never_keeps_what_the_precise_rule_clears() {
    // The hardware's check is the conservative one: whenever it keeps the
    // tag, the bounds really do decode the same.
    for format in [Format::CHERI_128, Format::MORELLO] {
        let mut rng = Rng(0x5eed_0003);
        for _ in 0..CASES * 4 {
            let base = rng.wide() & 0x00ff_ffff_ffff_ffff;
            let len = u128::from(rng.wide()).min((1u128 << 64) - u128::from(base));
            let (c, _) = Capability::root(format, base).set_bounds(len);
            let to = c
                .address()
                .wrapping_add(rng.wide().wrapping_sub(rng.wide()));
            if c.is_representable_address(to, Representability::Fast) {
                assert!(
                    c.is_representable_address(to, Representability::Precise),
                    "{}: fast keeps, precise clears: {c:?} -> {to:#x}",
                    format.name()
                );
            }
        }
    }
}

/// The same properties through the provenance-typed API.
fn check_cap_api<F: CapFormat>(format: F, seed: u64) {
    let mut rng = Rng(seed);
    // Byte i holds i mod 256. Larger than both formats' exact-length limits
    // (2^12, 2^14),
    // so narrowing meets rounding. (Checked below by arithmetic, not by
    // indexing `data`: under Miri every `&data[..]` retags all 70,000 bytes.)
    let size = if cfg!(miri) { 20_000 } else { 70_000 };
    let data: Vec<u8> = (0..=255).cycle().take(size).collect();
    let start_addr = data.as_ptr().addr();
    let root = CapSlice::from_slice_in(&data, format);
    let (mut narrowed, mut loads) = (0usize, 0usize);
    for _ in 0..CASES {
        let mut c = root.clone();
        let mut was_tagged = true;
        for _ in 0..STEPS {
            let next = match rng.below(4) {
                0 => {
                    let len = c.top() - c.base();
                    let start = rng.below(len as u64 + 1) as usize;
                    let end = start + rng.below((len - start) as u64 + 1) as usize;
                    let from = c.with_addr_checked(c.base());
                    from.and_then(|s| s.restrict_bounds(start..end).ok())
                }
                1 => c
                    .restrict_perms(Perms::from_bits_truncate(rng.next() as u32))
                    .ok(),
                2 => c.offset((rng.wide() as usize).cast_signed()).ok(),
                _ => c.offset(rng.below(1 << 20) as isize - (1 << 19)).ok(),
            };
            let Some(d) = next else { continue };
            if d.is_tagged() && d.top() - d.base() < c.top() - c.base() {
                narrowed += 1;
            }
            if d.is_tagged() {
                assert!(was_tagged, "tag regained: {d:?}");
                assert!(d.base() >= c.base() && d.top() <= c.top(), "{c:?} -> {d:?}");
                assert!(c.perms().contains(d.perms()), "{c:?} -> {d:?}");
            }
            // Loads succeed only when tagged, in bounds and permitted.
            if let Ok(v) = d.try_load(0) {
                assert!(d.is_tagged() && d.perms().contains(Perms::LOAD));
                assert!(d.addr() >= d.base() && d.addr() < d.top());
                assert_eq!(usize::from(v), (d.addr() - start_addr) % 256);
                loads += 1;
            }
            was_tagged = d.is_tagged();
            c = d;
        }
    }
    assert!(
        narrowed > CASES / 10 && loads > CASES / 10,
        "{narrowed} narrowings, {loads} loads"
    );
}

/// Moving a slice capability to an absolute address (element size 1).
trait WithAddrChecked: Sized {
    fn with_addr_checked(&self, addr: usize) -> Option<Self>;
}

impl<F: CapFormat> WithAddrChecked for CapSlice<'_, u8, F> {
    fn with_addr_checked(&self, addr: usize) -> Option<Self> {
        self.offset(addr.wrapping_sub(self.addr()).cast_signed())
            .ok()
    }
}

#[test]
fn cap_api_is_monotonic_in_isav9() {
    check_cap_api(Cheri128, 0x5eed_0004);
}

#[test]
fn cap_api_is_monotonic_in_morello() {
    check_cap_api(Morello, 0x5eed_0005);
}
