//! CHERI Concentrate: which bounds a 128-bit capability can represent.
//!
//! A 128-bit CHERI capability has 64 bits of address and 64 bits of metadata,
//! so its bounds cannot be two more 64-bit numbers. CHERI Concentrate stores a
//! floating-point-like encoding instead: a bottom `B` and top `T` mantissa of
//! `MW` bits, and an exponent `E`; the full base and top are rebuilt from `B`,
//! `T`, `E` and the capability's own address. Small objects (length below
//! `2^(MW-2)`) get byte-exact bounds with `E = 0` and no stored exponent. For
//! larger ones the *internal exponent* (IE) form steals 3 low bits from each of
//! `B` and `T` to hold `E`, so base and top must be multiples of `2^(E+3)`;
//! a request that is not gets rounded outwards (base down, top up), and
//! CHERI's `CSetBoundsExact` refuses it.
//!
//! This module computes, in software and for any host, exactly what the
//! hardware would: the exponent, the rounded bounds and whether they are exact
//! (`CSetBounds`), the representable length `CRRL` (Morello: `RRLEN`) and the
//! representable alignment mask `CRAM` (Morello: `RRMASK`), and the window of
//! addresses a capability may move to without losing its tag.
//!
//! # Sources
//!
//! - R. N. M. Watson et al., *Capability Hardware Enhanced RISC Instructions:
//!   CHERI Instruction-Set Architecture (Version 9)*, UCAM-CL-TR-987, 2023:
//!   §3.5.4 "CHERI Concentrate" (the encoding), the Sail definitions
//!   `setCapBounds`, `getRepresentableAlignmentMask` and
//!   `getRepresentableLength` (the CRRL/CRAM instructions), and
//!   `getCapBounds` (decoding with the `R = B[MW-1:MW-3] - 1` correction).
//! - Arm, *Arm Architecture Reference Manual Supplement: Morello for
//!   A-profile Architecture* (DDI 0606): `CapGetBounds`, `CapSetBounds`,
//!   `RRLEN`, `RRMASK`.
//! - The CTSRD-CHERI `cheri-compressed-cap` C library, which is tested against
//!   the Sail models: format parameters in `cheri_compressed_cap_128.h`
//!   (ISAv9 128-bit) and `cheri_compressed_cap_128m.h` (Morello), algorithm in
//!   `compute_ebt`/`get_alignment_mask`. Our code is written from the
//!   descriptions above, not taken from it; `tests/vectors.rs` checks it
//!   against 25,000 cases per format produced by that library (commit
//!   `0bd01cc`, see `tests/vectors/README.md`), and `tests` below against
//!   worked examples.
//!
//! # The parameters modelled
//!
//! | | [`Format::CHERI_128`] | [`Format::MORELLO`] |
//! |---|---|---|
//! | mantissa width `MW` | 14 | 16 |
//! | exponent bits taken from `B` and `T` when IE | 3 + 3 | 3 + 3 |
//! | largest exponent needed, `E max` (`= 64 - MW + 2`) | 52 | 50 |
//! | exact (IE = 0) for lengths below | `2^12` = 4096 | `2^14` = 16384 |
//! | representable window (see [`Format::representable_window`]) | `2^(E+14)` bytes | `2^(E+16)` bytes |
//! | bounds field (`EBT`) in the metadata word | bits 26..0 | bits 30..0 |
//! | IE flag | bit 26, 1 = internal exponent | bit 30, inverted (1 = exponent zero) |
//! | stored exponent | as is | inverted (`!E`) |
//! | exponents above `E max` | clamped to `E max` | bounds `[0, 2^64)`, malformed unless `E = 63` |
//! | address bits used for bounds | all 64 | 55..0, sign-extended from bit 55; 63..56 are flags |
//!
//! Both decode bounds with ISAv9's three-bit correction (`R3 = B[MW-1:MW-3] - 1`).
//! Everything here is bit-exact with the reference library on the committed
//! vectors (`tests/vectors/`); the full 128-bit capability (permissions,
//! object type, tag rules of `CSetBounds`/`SCVALUE`) is in
//! [`crate::encoding`].

// Bit fields are cut to their width on purpose throughout.
#![allow(clippy::cast_possible_truncation)]

use std::fmt;

/// Which of the two 128-bit layouts a [`Format`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// ISAv9 (CHERI-RISC-V, CHERI-MIPS): IE bit, plain exponent, 64-bit addresses.
    Isav9,
    /// Morello: "exponent zero" bit, inverted exponent, flags in the top byte.
    Morello,
}

/// A CHERI Concentrate bounds format: the parameters of one 128-bit capability
/// encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Format {
    name: &'static str,
    mantissa_width: u32,
    layout: Layout,
}

/// Exponent bits stored in the low bits of each of `B` and `T` in the IE form.
const EXP_LOW_BITS: u32 = 3;
/// `2^64`: the top of the address space (a 65-bit quantity).
const SPACE_TOP: u128 = 1 << 64;
/// The 65 bits a top (and the decoder's arithmetic) is kept to.
const LEN_MASK: u128 = (1 << 65) - 1;
/// Morello's largest stored exponent, the only out-of-range one that is well formed.
const MORELLO_MAX_ENCODABLE_EXPONENT: u32 = 63;
/// Morello: address bits 63..56 are flags, not part of the bounds arithmetic.
const MORELLO_VALUE_MASK: u64 = 0x00ff_ffff_ffff_ffff;

/// `2^n - 1` as a `u64`.
const fn ones(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1 << n) - 1 }
}

/// The bounds fields of a capability's metadata word, decoded: the `B` and
/// `T` mantissas (with `T`'s two inferred top bits filled in), the exponent
/// and the internal-exponent flag.
///
/// The architecture documents call this step `CapGetBounds`' field
/// extraction (Morello) / `getCapBounds`' first half (ISAv9 Sail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundsBits {
    /// The bottom mantissa `B` (`MW` bits; low 3 are zero in the IE form).
    pub b: u32,
    /// The top mantissa `T` (`MW` bits; the top two are inferred).
    pub t: u32,
    /// The exponent as stored (Morello: already un-inverted). May exceed
    /// [`Format::max_exponent`] in a malformed encoding.
    pub exponent: u32,
    /// Whether the internal-exponent form is used.
    pub internal_exponent: bool,
}

/// The bounds a metadata word decodes to at some address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodedBounds {
    /// The base (the low 64 bits of the decoded 65-bit base).
    pub base: u64,
    /// The top, a 65-bit value.
    pub top: u128,
    /// Whether the encoding is well formed: false only for Morello's exponents
    /// above [`Format::max_exponent`] other than 63, which decode to
    /// `[0, 2^64)` and whose address can never change with the tag kept.
    pub valid: bool,
}

/// Which representability check an address change uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representability {
    /// The precise rule: the tag is kept when the bounds decode the same at
    /// the new address (the library's `_precise_is_representable_new_addr`).
    Precise,
    /// The hardware's fast check on the increment (ISAv9 Sail
    /// `fastRepCheck`, Morello `CapIsRepresentableFast`): a little more
    /// conservative near the edges of the window. This is what `CSetAddr`,
    /// `CIncOffset` and Morello `SCVALUE`/`ADD` do.
    Fast,
}

impl Format {
    /// 128-bit CHERI as in ISAv9 (CHERI-RISC-V and CHERI-MIPS): `MW = 14`,
    /// `E max = 52`.
    pub const CHERI_128: Format = Format {
        name: "CHERI-128 (ISAv9)",
        mantissa_width: 14,
        layout: Layout::Isav9,
    };

    /// Arm Morello: `MW = 16`, `E max = 50`.
    pub const MORELLO: Format = Format {
        name: "Morello",
        mantissa_width: 16,
        layout: Layout::Morello,
    };

    /// The format this crate enforces: Morello, the CHERI hardware that the
    /// purecap target (`aarch64-unknown-freebsd-purecap`) runs on. Bounds that
    /// Morello cannot represent are refused on every host, so the mistake
    /// shows up in `cargo test`, not on the board.
    pub const NATIVE: Format = Format::MORELLO;

    /// The format's name, e.g. `"Morello"`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The mantissa width `MW` (bits of `B`).
    pub const fn mantissa_width(&self) -> u32 {
        self.mantissa_width
    }

    /// The largest exponent any length up to `2^64` needs: `64 - MW + 2`.
    pub const fn max_exponent(&self) -> u32 {
        64 - self.mantissa_width + 2
    }

    /// Lengths below this are always exact (`2^(MW-2)`; the IE = 0 form).
    pub const fn exact_length_limit(&self) -> u64 {
        1 << (self.mantissa_width - 2)
    }

    /// Whether this is the Morello layout.
    pub const fn is_morello(&self) -> bool {
        matches!(self.layout, Layout::Morello)
    }

    /// The bit of the metadata word holding the IE flag (ISAv9: 1 = internal
    /// exponent; Morello: 1 = exponent zero): `2 MW - 2`.
    pub const fn ie_bit(&self) -> u32 {
        2 * self.mantissa_width - 2
    }

    /// The mask of the bounds field (`EBT`) in the metadata word.
    pub const fn ebt_mask(&self) -> u64 {
        ones(self.ie_bit() + 1)
    }

    /// What is XORed into the metadata word when a capability is stored to
    /// memory, so that all-zero memory is the null capability (ISAv9:
    /// `0x0000_1fff_fc01_8004`; Morello needs none, its encoding of null is
    /// already all zero).
    pub const fn memory_xor_mask(&self) -> u64 {
        match self.layout {
            Layout::Isav9 => 0x0000_1fff_fc01_8004,
            Layout::Morello => 0,
        }
    }

    /// The address as the bounds arithmetic sees it. Morello: the flags
    /// (bits 63..56) removed and bit 55 sign-extended (`CapBoundsAddress`);
    /// ISAv9: the address itself.
    #[doc(alias = "CapBoundsAddress")]
    pub const fn bounds_address(&self, addr: u64) -> u64 {
        match self.layout {
            Layout::Isav9 => addr,
            Layout::Morello => {
                let value = addr & MORELLO_VALUE_MASK;
                if value & (1 << 55) == 0 {
                    value
                } else {
                    value | !MORELLO_VALUE_MASK
                }
            }
        }
    }

    /// Whether decoding bounds with exponent `e` reads the address (`E < 64 -
    /// MW`); above that, the bounds follow from `B`, `T` and `E` alone.
    pub const fn bounds_use_address(&self, exponent: u32) -> bool {
        exponent < 64 - self.mantissa_width
    }

    /// The exponent chosen for `length` before rounding: the one that puts the
    /// length's most significant bit at mantissa position `MW - 2`.
    ///
    /// Rounding may still add one (see [`Bounds::exponent`]).
    pub fn exponent(&self, length: u128) -> u32 {
        let mw = self.mantissa_width;
        if length > u128::from(u64::MAX) {
            65 - (mw - 1)
        } else if length < 1 << (mw - 1) {
            0
        } else {
            // Index of the most significant set bit, minus MW - 2.
            length.ilog2() - (mw - 2)
        }
    }

    /// The metadata word's IE field for `internal_exponent`.
    fn encode_ie(&self, internal_exponent: bool) -> u64 {
        let stored = match self.layout {
            Layout::Isav9 => internal_exponent,
            Layout::Morello => !internal_exponent,
        };
        u64::from(stored) << self.ie_bit()
    }

    /// The exponent split over `B`'s and `T`'s three low bits (Morello stores `!E`).
    fn encode_exponent(&self, exponent: u32) -> u64 {
        let e = u64::from(match self.layout {
            Layout::Isav9 => exponent,
            Layout::Morello => !exponent,
        });
        (e & 7) | (((e >> 3) & 7) << self.mantissa_width)
    }

    /// Extracts the bounds fields of metadata word `pesbt` and infers `T`'s
    /// top two bits from `B`'s, the carry, and the implied length bit
    /// (ISAv9 Sail `getCapBounds`, Morello `CapGetBounds`).
    pub fn bounds_bits(&self, pesbt: u64) -> BoundsBits {
        let mw = self.mantissa_width;
        let ie_stored = (pesbt >> self.ie_bit()) & 1 == 1;
        let internal_exponent = match self.layout {
            Layout::Isav9 => ie_stored,
            Layout::Morello => !ie_stored,
        };
        let (b, mut t, exponent, l_msb) = if internal_exponent {
            let stored = (pesbt & 7) | (((pesbt >> mw) & 7) << 3);
            let e = match self.layout {
                Layout::Isav9 => stored,
                Layout::Morello => !stored & 0x3f,
            };
            let b = ((pesbt >> EXP_LOW_BITS) & ones(mw - 3)) << EXP_LOW_BITS;
            let t = ((pesbt >> (mw + EXP_LOW_BITS)) & ones(mw - 5)) << EXP_LOW_BITS;
            (b, t, e, 1)
        } else {
            (pesbt & ones(mw), (pesbt >> mw) & ones(mw - 2), 0, 0)
        };
        let carry = u64::from(t < (b & ones(mw - 2)));
        let b_top2 = (b >> (mw - 2)) & 3;
        t |= ((b_top2 + carry + l_msb) & 3) << (mw - 2);
        BoundsBits {
            b: u32::try_from(b).expect("B is MW bits"),
            t: u32::try_from(t).expect("T is MW bits"),
            exponent: u32::try_from(exponent).expect("E is 6 bits"),
            internal_exponent,
        }
    }

    /// Decodes bounds fields at address `addr` (ISAv9 Sail `getCapBounds`,
    /// Morello `CapGetBounds`): the 65-bit base and top, with the region
    /// corrections from `R3 = B[MW-1:MW-3] - 1` and the final correction of
    /// top's bit 64 when base and top are more than an address space apart.
    #[doc(alias = "CapGetBounds")]
    #[doc(alias = "getCapBounds")]
    pub fn decode_bounds(&self, bits: &BoundsBits, addr: u64) -> DecodedBounds {
        let mw = self.mantissa_width;
        let max_e = self.max_exponent();
        if self.is_morello() && bits.exponent > max_e {
            return DecodedBounds {
                base: 0,
                top: SPACE_TOP,
                valid: bits.exponent == MORELLO_MAX_ENCODABLE_EXPONENT,
            };
        }
        let a = self.bounds_address(addr);
        let e = bits.exponent.min(max_e);
        let a_mid = (a >> (e + mw - 3)) & 7;
        let b3 = u64::from(bits.b >> (mw - 3));
        let t3 = u64::from(bits.t >> (mw - 3));
        let r3 = b3.wrapping_sub(1) & 7;
        let a_hi = i64::from(a_mid < r3);
        let correction_base = i64::from(b3 < r3) - a_hi;
        let correction_top = i64::from(t3 < r3) - a_hi;
        let a_top = a.checked_shr(e + mw).unwrap_or(0);
        let assemble = |correction: i64, mantissa: u32| -> u128 {
            let high = u128::from(a_top.wrapping_add_signed(correction));
            (((high << mw) | u128::from(mantissa)) << e) & LEN_MASK
        };
        let base = assemble(correction_base, bits.b);
        let mut top = assemble(correction_top, bits.t);
        // Base and top more than an address space apart: flip top's bit 64.
        let base2 = (base >> 63) & 1;
        let top2 = (top >> 63) & 3;
        if e + 1 < max_e && (top2 < base2 || top2 - base2 > 1) {
            top ^= SPACE_TOP;
        }
        DecodedBounds {
            base: base as u64,
            top,
            valid: true,
        }
    }

    /// Encodes the request `[base, top)` as bounds fields (ISAv9 Sail
    /// `setCapBounds`, Morello `CapSetBounds`): returns the `EBT` field of the
    /// metadata word, whether the encoding is exact, and the alignment mask
    /// that was applied to the base.
    ///
    /// `top` is 65 bits wide and must not be below `base`.
    #[doc(alias = "CapSetBounds")]
    #[doc(alias = "setCapBounds")]
    pub fn encode_bounds(&self, base: u64, top: u128) -> (u64, bool, u64) {
        let mw = self.mantissa_width;
        if self.is_morello() && base == 0 && top == SPACE_TOP {
            // Morello's reset capability: the largest required exponent.
            let e = self.max_exponent();
            return (
                self.encode_ie(true) | self.encode_exponent(e),
                true,
                u64::MAX,
            );
        }
        let base_wide = u128::from(base);
        let length = top.wrapping_sub(base_wide);
        let e = self.exponent(length);
        let internal_exponent = e != 0 || (length >> (mw - 2)) & 1 == 1;
        if !internal_exponent {
            let ebt =
                self.encode_ie(false) | ((top as u64 & ones(mw - 2)) << mw) | (base & ones(mw));
            return (ebt, true, u64::MAX);
        }
        let bw = mw - EXP_LOW_BITS;
        let field = |v: u128, shift: u32| (v >> shift) as u64 & ones(bw);
        let mut shift = e + EXP_LOW_BITS;
        let mut b_ie = field(base_wide, shift);
        let mut t_ie = field(top, shift);
        let lost = |v: u128, shift: u32| v & ((1 << shift) - 1) != 0;
        let mut lost_base = lost(base_wide, shift);
        let mut lost_top = lost(top, shift);
        if lost_top {
            t_ie = (t_ie + 1) & ones(bw);
        }
        // The length grew into the next binade (rounding up, or the bits of
        // base lost): one more exponent.
        let mut new_e = e;
        if (t_ie.wrapping_sub(b_ie) & ones(bw)) >> (bw - 1) == 1 {
            new_e += 1;
            lost_base |= b_ie & 1 == 1;
            lost_top |= t_ie & 1 == 1;
            shift += 1;
            b_ie = field(base_wide, shift);
            t_ie = field(top, shift);
            if lost_top {
                t_ie = (t_ie + 1) & ones(bw);
            }
        }
        let ebt = self.encode_exponent(new_e)
            | self.encode_ie(true)
            | ((t_ie & ones(mw - 5)) << (mw + EXP_LOW_BITS))
            | (b_ie << EXP_LOW_BITS);
        (ebt, !lost_base && !lost_top, u64::MAX << shift)
    }

    /// What `CSetBounds` produces for the request `[base, top)` on a
    /// capability whose address is `base` and whose bounds cover the whole
    /// address space: the smallest representable bounds containing it, and
    /// whether they are exactly the request (what `CSetBoundsExact` requires).
    ///
    /// `top` is 65 bits wide, as in the hardware: a capability near the top of
    /// the address space may end past `2^64 - 1`. A request with `top <= 2^64`
    /// gets a top `<= 2^64`; a request past `2^64` (which no tagged capability
    /// can make) gets the 65-bit top the hardware computes, which may wrap
    /// (base `0xffff_ffff_ff00_0000`, length `2^64 - 1` on ISAv9: base
    /// `0xff80_0000_0000_0000` and top `2^65` kept to 65 bits, i.e. 0). On Morello the
    /// bounds are decoded at the sign-extended address, so a base with bit 55
    /// set (or flag bits) decodes to the sign-extended base.
    ///
    /// # Panics
    ///
    /// If `top < base` or the length exceeds `2^64` (a request no capability
    /// can make).
    pub fn set_bounds(&self, base: u64, top: u128) -> Bounds {
        let base_wide = u128::from(base);
        assert!(
            top >= base_wide && top - base_wide <= SPACE_TOP,
            "bounds request [{base:#x}, {top:#x}) is not a range of at most 2^64 bytes"
        );
        let (ebt, exact, _) = self.encode_bounds(base, top);
        let bits = self.bounds_bits(ebt);
        let decoded = self.decode_bounds(&bits, base);
        Bounds {
            base: decoded.base,
            top: decoded.top,
            exponent: bits.exponent,
            internal_exponent: bits.internal_exponent,
            exact,
            requested: (base, top),
            ebt,
        }
    }

    /// `CRAM` / Morello `RRMASK`: the mask a base must be aligned to (`base &
    /// mask == base`) for a capability of length `length` to be exact.
    ///
    /// All ones for lengths below [`Format::exact_length_limit`].
    #[doc(alias = "CRAM")]
    #[doc(alias = "RRMASK")]
    pub fn representable_alignment_mask(&self, length: u64) -> u64 {
        if length == 0 {
            return u64::MAX;
        }
        self.encode_bounds(0, u128::from(length)).2
    }

    /// `CRRL` / Morello `RRLEN`: the smallest representable length at least
    /// `length` (for a base aligned to [`Format::representable_alignment_mask`]).
    ///
    /// Like the instruction, the result is a 64-bit value: a length whose
    /// rounding reaches `2^64` comes back as 0.
    #[doc(alias = "CRRL")]
    #[doc(alias = "RRLEN")]
    pub fn representable_length(&self, length: u64) -> u64 {
        let mask = self.representable_alignment_mask(length);
        length.wrapping_add(!mask) & mask
    }

    /// Whether `[base, base + length)` is exactly representable.
    pub fn is_exact(&self, base: u64, length: u64) -> bool {
        self.set_bounds(base, u128::from(base) + u128::from(length))
            .exact
    }

    /// The addresses a capability with these (representable) bounds may hold
    /// and still decode to the same bounds: `Some((start, size))` for the
    /// window `[start, start + size)` taken modulo `2^64`, or `None` when every
    /// address is representable.
    ///
    /// Moving the address outside the window (`CSetAddr`, `CIncOffset`, Morello
    /// `SCVALUE`/`ADD`) clears the tag, because the bounds would decode
    /// differently. Decoding compares the top three mantissa bits of the
    /// address with `R3 = B[MW-1:MW-3] - 1`, so the window is `2^(E+MW)` bytes
    /// starting one `2^(E+MW-3)`-byte block below the block holding the base.
    ///
    /// This is the window of the precise rule over the bounds arithmetic's
    /// address; it does not describe Morello's top byte (flags, and the bit-55
    /// sign rule), for which see [`Format::is_representable_address`].
    pub fn representable_window(&self, bounds: &Bounds) -> Option<(u64, u64)> {
        let mw = self.mantissa_width;
        let e = bounds.exponent;
        if e + mw >= 64 {
            return None;
        }
        let size = 1u64 << (e + mw);
        let block = 1u64 << (e + mw - 3);
        let start = (bounds.base & !(block - 1)).wrapping_sub(block);
        Some((start, size))
    }

    /// Whether a capability with `bounds` (made by [`Format::set_bounds`], so
    /// its address is the requested base) keeps its tag at address `addr`,
    /// by the precise rule. See [`crate::encoding::Capability`] for the
    /// hardware's fast check and the rest of the capability.
    pub fn is_representable_address(&self, bounds: &Bounds, addr: u64) -> bool {
        crate::encoding::Capability::from_bounds(*self, bounds)
            .is_representable_address(addr, Representability::Precise)
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Format")
            .field("name", &self.name)
            .field("mantissa_width", &self.mantissa_width)
            .field("max_exponent", &self.max_exponent())
            .field("layout", &self.layout)
            .finish()
    }
}

/// The bounds a capability gets for a request: the result of
/// [`Format::set_bounds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The representable base (at or below the requested one).
    pub base: u64,
    /// The representable top, 65 bits: at or above the requested one, and at
    /// most `2^64` when the request's top is (see [`Format::set_bounds`]).
    pub top: u128,
    /// The exponent `E` of the encoding (0 when `internal_exponent` is false).
    pub exponent: u32,
    /// Whether the IE form is used (base and top multiples of `2^(E+3)`).
    pub internal_exponent: bool,
    /// Whether `base` and `top` are exactly the request.
    pub exact: bool,
    /// The request, `(base, top)`.
    pub requested: (u64, u128),
    /// The bounds field (`EBT`) of the metadata word that encodes them.
    pub ebt: u64,
}

impl Bounds {
    /// The representable length, `top - base`.
    pub fn length(&self) -> u128 {
        self.top.wrapping_sub(u128::from(self.base)) & LEN_MASK
    }
}

#[cfg(test)]
mod tests;
