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
//!   descriptions above, not taken from it; our tests check it against the
//!   worked examples listed in `tests` below.
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
//!
//! Both decode bounds with ISAv9's three-bit correction (`R3 = B[MW-1:MW-3] - 1`).
//!
//! Not modelled: Morello's top-byte flags and the sign extension of bit 55
//! when bounds are decoded (only addresses at or above `2^55` are affected,
//! never user-space pointers on CheriBSD), and the out-of-range exponents only
//! a malformed capability can hold.

use std::fmt;

/// A CHERI Concentrate bounds format: the parameters of one 128-bit capability
/// encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Format {
    name: &'static str,
    mantissa_width: u32,
}

/// Exponent bits stored in the low bits of each of `B` and `T` in the IE form.
const EXP_LOW_BITS: u32 = 3;
/// `2^64`: the top of the address space (a 65-bit quantity).
const SPACE_TOP: u128 = 1 << 64;

impl Format {
    /// 128-bit CHERI as in ISAv9 (CHERI-RISC-V and CHERI-MIPS): `MW = 14`,
    /// `E max = 52`.
    pub const CHERI_128: Format = Format {
        name: "CHERI-128 (ISAv9)",
        mantissa_width: 14,
    };

    /// Arm Morello: `MW = 16`, `E max = 50`.
    pub const MORELLO: Format = Format {
        name: "Morello",
        mantissa_width: 16,
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

    /// What `CSetBounds` produces for the request `[base, top)`: the smallest
    /// representable bounds containing it, and whether they are exactly the
    /// request (what `CSetBoundsExact` requires).
    ///
    /// `top` is 65 bits wide, as in the hardware: a capability near the top of
    /// the address space may end past `2^64 - 1`.
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
        let mw = self.mantissa_width;
        let length = top - base_wide;
        let mut exponent = self.exponent(length);
        let internal_exponent = exponent != 0 || (length >> (mw - 2)) & 1 == 1;
        if !internal_exponent {
            return Bounds {
                base,
                top,
                exponent: 0,
                internal_exponent,
                exact: true,
                requested: (base, top),
            };
        }
        // IE form: base and top are kept to a multiple of 2^(E+3).
        let (mut lo, mut hi) = round_out(base_wide, top, exponent + EXP_LOW_BITS);
        // Rounding may have carried the length into the next binade: the
        // mantissa of (T - B) would need MW-3 bits; take one more exponent.
        if hi - lo >= 1 << (mw - 4) {
            exponent += 1;
            (lo, hi) = round_out(base_wide, top, exponent + EXP_LOW_BITS);
        }
        let shift = exponent + EXP_LOW_BITS;
        let new_base =
            u64::try_from(lo << shift).expect("rounding down keeps the base in the address space");
        let new_top = hi << shift;
        Bounds {
            base: new_base,
            top: new_top,
            exponent,
            internal_exponent,
            exact: new_base == base && new_top == top,
            requested: (base, top),
        }
    }

    /// `CRAM` / Morello `RRMASK`: the mask a base must be aligned to (`base &
    /// mask == base`) for a capability of length `length` to be exact.
    ///
    /// All ones for lengths below [`Format::exact_length_limit`].
    #[doc(alias = "CRAM")]
    #[doc(alias = "RRMASK")]
    pub fn representable_alignment_mask(&self, length: u64) -> u64 {
        let bounds = self.set_bounds(0, u128::from(length));
        if bounds.internal_exponent {
            u64::MAX << (bounds.exponent + EXP_LOW_BITS)
        } else {
            u64::MAX
        }
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
    /// (This is the precise rule; an implementation's fast check may give up a
    /// little earlier, and addresses inside the bounds are always kept.)
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

    /// Whether a capability with `bounds` keeps its tag at address `addr`.
    pub fn is_representable_address(&self, bounds: &Bounds, addr: u64) -> bool {
        match self.representable_window(bounds) {
            None => true,
            Some((start, size)) => addr.wrapping_sub(start) < size,
        }
    }
}

/// Rounds `[base, top)` out to multiples of `2^shift`; returns them in units
/// of `2^shift`.
fn round_out(base: u128, top: u128, shift: u32) -> (u128, u128) {
    let lo = base >> shift;
    let hi = (top >> shift) + u128::from(top & ((1 << shift) - 1) != 0);
    (lo, hi)
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Format")
            .field("name", &self.name)
            .field("mantissa_width", &self.mantissa_width)
            .field("max_exponent", &self.max_exponent())
            .finish()
    }
}

/// The bounds a capability gets for a request: the result of
/// [`Format::set_bounds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The representable base (at or below the requested one).
    pub base: u64,
    /// The representable top (at or above the requested one; up to `2^64`).
    pub top: u128,
    /// The exponent `E` of the encoding (0 when `internal_exponent` is false).
    pub exponent: u32,
    /// Whether the IE form is used (base and top multiples of `2^(E+3)`).
    pub internal_exponent: bool,
    /// Whether `base` and `top` are exactly the request.
    pub exact: bool,
    /// The request, `(base, top)`.
    pub requested: (u64, u128),
}

impl Bounds {
    /// The representable length, `top - base`.
    pub fn length(&self) -> u128 {
        self.top - u128::from(self.base)
    }
}

#[cfg(test)]
mod tests;
