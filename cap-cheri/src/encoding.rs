//! The 128-bit capability itself, bit for bit: a 64-bit metadata word
//! (permissions, object type, flags and the bounds field `EBT`), a 64-bit
//! address, and the tag held beside them.
//!
//! [`Capability`] decodes any metadata word, including malformed ones, the
//! way the architecture does, and performs the derivations whose tag rules
//! depend on the encoding: `CSetBounds` ([`Capability::set_bounds`]), address
//! changes ([`Capability::with_address`], with the precise or the hardware's
//! fast representability check) and `CAndPerm`
//! ([`Capability::and_permissions`]).
//!
//! # Layouts (bit numbers of the metadata word, i.e. capability bits 127..64)
//!
//! | field | ISAv9 128 ([`Format::CHERI_128`]) | Morello ([`Format::MORELLO`]) |
//! |---|---|---|
//! | permissions | 63..60 user, 59..48 hardware | 63..46 (user perms at 51..48) |
//! | reserved | 47..46 | — |
//! | flags | 45 (mode) | address bits 63..56 |
//! | object type | 44..27 (unsealed = `2^18 - 1`) | 45..31 (unsealed = 0) |
//! | bounds (`EBT`) | 26..0: IE 26, `T` 25..14, `B` 13..0 | 30..0: IE 30 (inverted), `T` 29..16, `B` 15..0 |
//! | exponent (IE form) | `T[2:0]` high, `B[2:0]` low | same, stored inverted |
//! | in memory | XOR `0x0000_1fff_fc01_8004` | as is |
//!
//! Sources: ISAv9 (UCAM-CL-TR-987) §3.5.4 and the Sail `capToBits`,
//! `capBitsToCapability`, `getCapBounds`, `setCapBounds`, `fastRepCheck`;
//! Arm DDI 0606 (Morello) `CapGetBounds`, `CapSetBounds`, `CapBoundsAddress`,
//! `CapIsRepresentableFast`. Checked against the vectors in `tests/vectors/`.

// Bit fields are cut to their width on purpose throughout.
#![allow(clippy::cast_possible_truncation)]

use std::fmt;

use crate::concentrate::{Bounds, BoundsBits, Format, Representability};

/// `2^64`, the top of the address space.
const SPACE_TOP: u128 = 1 << 64;

/// A 128-bit capability: metadata word, address and tag, with its bounds
/// decoded.
///
/// ```
/// use cap_cheri::encoding::Capability;
/// use cap_cheri::{Format, Representability};
///
/// // All-zero memory is the null capability in both formats.
/// let null = Capability::decode_mem(Format::CHERI_128, 0, 0, false);
/// assert_eq!((null.base(), null.top()), (0, 1 << 64));
/// assert_eq!(null.otype(), Capability::unsealed_otype(Format::CHERI_128));
///
/// // A root capability, narrowed to 0x1000 bytes at 0x10000.
/// let root = Capability::root(Format::MORELLO, 0x1_0000);
/// let (c, exact) = root.set_bounds(0x1000);
/// assert!(exact && c.tag());
/// assert_eq!((c.base(), c.top()), (0x1_0000, 0x1_1000));
/// // It survives a round trip through its 128 bits.
/// let (pesbt, addr) = c.encode();
/// assert_eq!(Capability::decode(Format::MORELLO, pesbt, addr, true), c);
/// // Morello's flags (address bits 63..56) do not move the bounds.
/// assert!(c.with_address(c.address() | 0x2a << 56, Representability::Fast).tag());
/// # assert!(!c.with_address(c.address() | 1 << 55, Representability::Fast).tag());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    format: Format,
    pesbt: u64,
    address: u64,
    tag: bool,
    base: u64,
    top: u128,
    exponent: u32,
    bounds_valid: bool,
}

impl Capability {
    /// Decodes the capability `pesbt` (metadata word, as held in a register)
    /// at address `address`, with tag `tag`.
    ///
    /// Every metadata word decodes: an ISAv9 exponent above `E max` is
    /// clamped to it, a Morello one gives bounds `[0, 2^64)` and is malformed
    /// ([`bounds_valid`](Capability::bounds_valid) false) unless it is 63.
    /// The tag is taken as given (decoding is not derivation).
    pub fn decode(format: Format, pesbt: u64, address: u64, tag: bool) -> Capability {
        let bits = format.bounds_bits(pesbt);
        let bounds = format.decode_bounds(&bits, address);
        Capability {
            format,
            pesbt,
            address,
            tag,
            base: bounds.base,
            top: bounds.top,
            exponent: bits.exponent,
            bounds_valid: bounds.valid,
        }
    }

    /// Decodes a capability as stored in memory (the metadata word XORed
    /// with [`Format::memory_xor_mask`]).
    pub fn decode_mem(format: Format, pesbt: u64, address: u64, tag: bool) -> Capability {
        Capability::decode(format, pesbt ^ format.memory_xor_mask(), address, tag)
    }

    /// The metadata word and the address: the capability's 128 bits.
    pub fn encode(&self) -> (u64, u64) {
        (self.pesbt, self.address)
    }

    /// The 128 bits as stored in memory.
    pub fn encode_mem(&self) -> (u64, u64) {
        (self.pesbt ^ self.format.memory_xor_mask(), self.address)
    }

    /// The object type of an unsealed capability in `format` (ISAv9: `2^18 -
    /// 1`, special types count down from it; Morello: 0).
    pub const fn unsealed_otype(format: Format) -> u64 {
        if format.is_morello() {
            0
        } else {
            (1 << 18) - 1
        }
    }

    /// All permission bits of `format` (ISAv9: 12 hardware + 4 user;
    /// Morello: 18).
    pub const fn all_permissions(format: Format) -> u64 {
        if format.is_morello() {
            0x3_ffff
        } else {
            0x7_8fff
        }
    }

    /// The root capability: tagged, every permission, unsealed, bounds
    /// `[0, 2^64)`, at address `address` (what a CHERI processor holds after
    /// reset).
    pub fn root(format: Format, address: u64) -> Capability {
        let (ebt, exact, _) = format.encode_bounds(0, SPACE_TOP);
        debug_assert!(exact);
        let pesbt = ebt
            | Self::permission_field(format, Self::all_permissions(format))
            | Self::otype_field(format, Self::unsealed_otype(format));
        Capability::decode(format, pesbt, address, true)
    }

    /// The capability `Format::set_bounds` describes: the root narrowed to
    /// `bounds`, at the requested base.
    pub(crate) fn from_bounds(format: Format, bounds: &Bounds) -> Capability {
        let mut cap = Capability::root(format, bounds.requested.0);
        cap.replace_ebt(bounds.ebt);
        cap
    }

    /// The root capability with bounds field `ebt`, at `address` (the
    /// software model's tag rule; on purecap the hardware decides).
    #[cfg_attr(ambit_cheri_purecap, allow(dead_code))]
    pub(crate) fn with_ebt(format: Format, ebt: u64, address: u64) -> Capability {
        let mut cap = Capability::root(format, address);
        cap.replace_ebt(ebt);
        cap
    }

    fn permission_field(format: Format, perms: u64) -> u64 {
        if format.is_morello() {
            (perms & 0x3_ffff) << 46
        } else {
            ((perms & 0xfff) << 48) | (((perms >> 15) & 0xf) << 60)
        }
    }

    fn otype_field(format: Format, otype: u64) -> u64 {
        if format.is_morello() {
            (otype & 0x7fff) << 31
        } else {
            (otype & 0x3_ffff) << 27
        }
    }

    /// Puts a new bounds field in the metadata word and decodes it at the
    /// current address.
    fn replace_ebt(&mut self, ebt: u64) {
        let mask = self.format.ebt_mask();
        *self = Capability::decode(
            self.format,
            (self.pesbt & !mask) | (ebt & mask),
            self.address,
            self.tag,
        );
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The metadata word (capability bits 127..64, register form).
    pub fn pesbt(&self) -> u64 {
        self.pesbt
    }

    /// The address (Morello: including the flags in bits 63..56).
    pub fn address(&self) -> u64 {
        self.address
    }

    /// The tag.
    pub fn tag(&self) -> bool {
        self.tag
    }

    /// The decoded base.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The decoded top, 65 bits.
    pub fn top(&self) -> u128 {
        self.top
    }

    /// `top - base`, 65 bits.
    pub fn length(&self) -> u128 {
        self.top.wrapping_sub(u128::from(self.base)) & ((1 << 65) - 1)
    }

    /// The bounds fields.
    pub fn bounds_bits(&self) -> BoundsBits {
        self.format.bounds_bits(self.pesbt)
    }

    /// The exponent as stored (may exceed [`Format::max_exponent`] if malformed).
    pub fn exponent(&self) -> u32 {
        self.exponent
    }

    /// Whether the bounds field is well formed (see [`Capability::decode`]).
    pub fn bounds_valid(&self) -> bool {
        self.bounds_valid
    }

    /// The permissions in the format's own numbering (`GCPERM`/`CGetPerm`:
    /// ISAv9 hardware bits 11..0 and user bits 18..15; Morello bits 17..0).
    pub fn permissions(&self) -> u64 {
        if self.format.is_morello() {
            self.pesbt >> 46
        } else {
            ((self.pesbt >> 48) & 0xfff) | (((self.pesbt >> 60) & 0xf) << 15)
        }
    }

    /// The object type.
    pub fn otype(&self) -> u64 {
        if self.format.is_morello() {
            (self.pesbt >> 31) & 0x7fff
        } else {
            (self.pesbt >> 27) & 0x3_ffff
        }
    }

    /// Whether sealed (object type other than unsealed).
    pub fn is_sealed(&self) -> bool {
        self.otype() != Self::unsealed_otype(self.format)
    }

    /// The flags: ISAv9 the one mode bit (45); Morello the address's top byte.
    pub fn flags(&self) -> u8 {
        if self.format.is_morello() {
            (self.address >> 56) as u8
        } else {
            ((self.pesbt >> 45) & 1) as u8
        }
    }

    /// The reserved bits of the metadata word (ISAv9 47..46; none on
    /// Morello). A tagged capability never has them set.
    pub fn reserved(&self) -> u64 {
        if self.format.is_morello() {
            0
        } else {
            (self.pesbt >> 46) & 3
        }
    }

    /// Whether the capability keeps its tag when its address becomes
    /// `new_address`, by `check`.
    ///
    /// Morello first refuses a change of address bit 55 while the bounds use
    /// the address (`E < 48`), and any change on a malformed exponent; flags
    /// (bits 63..56) alone never matter. An address inside the bounds is
    /// always representable.
    pub fn is_representable_address(&self, new_address: u64, check: Representability) -> bool {
        let f = self.format;
        if f.is_morello() {
            let sign_change = (new_address ^ self.address) & (1 << 55) != 0;
            if sign_change && f.bounds_use_address(self.exponent) {
                return false;
            }
            if !self.bounds_valid {
                return false;
            }
        }
        let value = f.bounds_address(new_address);
        if value >= self.base && u128::from(value) < self.top {
            return true;
        }
        match check {
            Representability::Precise => {
                let moved = f.decode_bounds(&self.bounds_bits(), new_address);
                moved.base == self.base && moved.top == self.top && moved.valid
            }
            Representability::Fast => self.fast_check(new_address),
        }
    }

    /// The hardware's check on the increment (Sail `fastRepCheck`, Morello
    /// `CapIsRepresentableFast`).
    fn fast_check(&self, new_address: u64) -> bool {
        if self.top == SPACE_TOP && self.base == 0 {
            return true;
        }
        let f = self.format;
        let mw = f.mantissa_width();
        let bits = self.bounds_bits();
        let e = bits.exponent;
        let field = (1u64 << mw) - 1;
        let inc = f.bounds_address(new_address.wrapping_sub(self.address));
        let cursor = f.bounds_address(self.address);
        let i_top = inc.cast_signed() >> (e + mw).min(63);
        let e_shift = e.min(63);
        let i_mid = (inc >> e_shift) & field;
        let a_mid = (cursor >> e_shift) & field;
        let b3 = u64::from(bits.b >> (mw - 3));
        let r3 = b3.wrapping_sub(1) & 7;
        let r = (r3 << (mw - 3)) & field;
        let diff = r.wrapping_sub(a_mid) & field;
        let diff1 = diff.wrapping_sub(1) & field;
        let in_limits = match i_top {
            0 => i_mid < diff1,
            -1 => i_mid >= diff && r != a_mid,
            _ => false,
        };
        in_limits || e + 2 >= f.max_exponent()
    }

    /// The capability at `new_address` (`CSetAddr`; Morello `SCVALUE`): the
    /// tag is kept only if the address is representable by `check` (the
    /// hardware uses [`Representability::Fast`]) and the capability is not
    /// sealed; the bounds are decoded again at the new address.
    #[doc(alias = "CSetAddr")]
    #[doc(alias = "SCVALUE")]
    pub fn with_address(&self, new_address: u64, check: Representability) -> Capability {
        let keeps = self.is_representable_address(new_address, check);
        let tag = self.tag && keeps && !self.is_sealed();
        if keeps {
            Capability {
                address: new_address,
                tag,
                ..*self
            }
        } else {
            Capability::decode(self.format, self.pesbt, new_address, false)
        }
    }

    /// `CSetBounds` (Morello `SCBNDS`) with base the current address and
    /// length `length`: the new capability and whether the bounds are exact.
    ///
    /// The tag is cleared if the capability is sealed, if (Morello) its
    /// bounds are malformed, if the request leaves the current bounds, or
    /// (Morello) if a capability whose bounds did not use the address gets
    /// ones that do while its address has flag bits or a different bit 55.
    #[doc(alias = "CSetBounds")]
    #[doc(alias = "SCBNDS")]
    pub fn set_bounds(&self, length: u128) -> (Capability, bool) {
        let f = self.format;
        let mut tag = self.tag && !self.is_sealed();
        let mut req_base = self.address;
        let from_large = !f.bounds_use_address(self.exponent);
        if f.is_morello() {
            tag &= self.bounds_valid;
            if !from_large {
                req_base = f.bounds_address(req_base);
            }
        }
        let req_top = u128::from(req_base) + length;
        if req_base < self.base || req_top > self.top {
            tag = false;
        }
        let (ebt, exact, _) = f.encode_bounds(req_base, req_top);
        let mut out = *self;
        out.replace_ebt(ebt);
        if f.is_morello() {
            let to_small = f.bounds_use_address(out.exponent);
            if from_large && to_small && f.bounds_address(self.address) != self.address {
                tag = false;
            }
        }
        out.tag = tag;
        (out, exact)
    }

    /// `CAndPerm` (Morello `CLRPERM` with the complement): keeps only the
    /// permissions in `mask`; a sealed capability loses its tag.
    #[doc(alias = "CAndPerm")]
    pub fn and_permissions(&self, mask: u64) -> Capability {
        let f = self.format;
        let kept = self.permissions() & mask;
        let all = Self::permission_field(f, Self::all_permissions(f));
        let pesbt = (self.pesbt & !all) | Self::permission_field(f, kept);
        Capability {
            pesbt,
            tag: self.tag && !self.is_sealed(),
            ..*self
        }
    }

    /// Clears the tag (what any non-monotonic change does).
    pub fn untagged(&self) -> Capability {
        Capability {
            tag: false,
            ..*self
        }
    }
}

impl fmt::Debug for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Capability {{ {} {:#018x}:{:#018x} {} [{:#x}, {:#x}) E={} perms={:#x} otype={:#x}{} }}",
            self.format.name(),
            self.pesbt,
            self.address,
            if self.tag { "tagged" } else { "untagged" },
            self.base,
            self.top,
            self.exponent,
            self.permissions(),
            self.otype(),
            if self.bounds_valid { "" } else { " malformed" }
        )
    }
}

#[cfg(test)]
mod tests;
