//! The hardware path: on a CHERI purecap target every pointer is a capability
//! and each operation here is one Morello instruction.
//!
//! NOT COMPILED OR RUN IN CI: no CHERI toolchain or board is available to this
//! project's CI. What is verified is the software model (`software.rs`), under
//! Miri with strict provenance; this file is kept small so that it can be
//! reviewed against the Morello architecture reference (DDI 0606) by eye.
//! Unverified assumptions, each to check on the first build for
//! `aarch64-unknown-freebsd-purecap`:
//!
//! 1. the fork's inline assembly accepts a pointer (a capability on purecap)
//!    as a `reg` operand and allocates it to a `C` register, printing it as
//!    `c<n>` in the template (the `:c` operand modifier would be the fork's
//!    spelling if it differs);
//! 2. the permission bit positions of `GCPERM`/`CLRPERM` below are those of the
//!    Morello permission field as laid out by `cheri-compressed-cap`'s
//!    `cheri_compressed_cap_128m.h` (Load = bit 17 … Global = bit 0);
//! 3. `CHERI_GET_SEALCAP` is CheriBSD's `sysarch` number for the sealing root
//!    (from `<machine/sysarch.h>`; the value below must be checked there).
//!
//! Every `unsafe` block here only executes a capability instruction on
//! capabilities this crate holds; the instructions cannot fault on an untagged
//! or sealed input (they clear the tag instead), and the rules layer has
//! already refused the cases where they would.
#![allow(unsafe_code)]
// Capability instructions read and write registers only, so `nomem` is right
// even though the operands are pointers (capabilities).
#![allow(clippy::pointers_in_nomem_asm_block)]
// Morello addresses and lengths are 64 bits, as is `usize` on the target.
#![allow(clippy::cast_possible_truncation)]

use core::arch::asm;
use core::ffi::{c_int, c_void};

use crate::perms::Perms;

/// `sysarch(2)` operation that returns the process's sealing root capability.
/// ASSUMPTION (3) above: check against CheriBSD `<machine/sysarch.h>`.
const CHERI_GET_SEALCAP: c_int = 11;

unsafe extern "C" {
    fn sysarch(number: c_int, args: *mut c_void) -> c_int;
}

/// Morello permission bits (`GCPERM` result, `CLRPERM` mask), ASSUMPTION (2).
const MORELLO_PERMS: [(Perms, u64); 8] = [
    (Perms::LOAD, 1 << 17),
    (Perms::STORE, 1 << 16),
    (Perms::EXECUTE, 1 << 15),
    (Perms::LOAD_CAP, 1 << 14),
    (Perms::STORE_CAP, 1 << 13),
    (Perms::SEAL, 1 << 11),
    (Perms::UNSEAL, 1 << 10),
    (Perms::GLOBAL, 1 << 0),
];

fn to_morello(p: Perms) -> u64 {
    MORELLO_PERMS
        .iter()
        .filter(|(q, _)| p.contains(*q))
        .map(|(_, bit)| bit)
        .sum()
}

fn from_morello(bits: u64) -> Perms {
    MORELLO_PERMS
        .iter()
        .filter(|(_, bit)| bits & bit != 0)
        .fold(Perms::empty(), |acc, (q, _)| acc | *q)
}

/// A hardware capability. Bounds, permissions, object type and tag live in
/// the capability register, not here.
#[derive(Clone, Copy)]
pub(crate) struct Raw {
    ptr: *mut u8,
}

macro_rules! get {
    ($insn:literal, $cap:expr) => {{
        let out: u64;
        // SAFETY: a GC* instruction only reads a field of the capability
        // register; it has no memory effect and never faults.
        unsafe { asm!(concat!($insn, " {out}, {cap}"), out = lateout(reg) out, cap = in(reg) $cap, options(pure, nomem, nostack, preserves_flags)); };
        out
    }};
}

impl Raw {
    pub(crate) fn root(ptr: *mut u8, len: usize, perms: Perms) -> Raw {
        // The compiler's capability for the referent may be wider (the whole
        // allocation); SCBNDS narrows it, rounding out only if the referent is
        // not representable (allocations are padded so rounding stays inside).
        let bounded: *mut u8;
        // SAFETY: SCBNDS derives a capability with bounds no wider than `ptr`'s
        // (the hardware clears the tag rather than widen); no memory effect.
        unsafe {
            asm!("scbnds {d}, {n}, {len}", d = lateout(reg) bounded, n = in(reg) ptr, len = in(reg) len, options(pure, nomem, nostack, preserves_flags));
        }
        Raw { ptr: bounded }.and_perms(perms)
    }

    pub(crate) fn sealing_root() -> Raw {
        let mut root: *mut u8 = core::ptr::null_mut();
        // SAFETY: sysarch(CHERI_GET_SEALCAP) writes one capability to the
        // pointed-to, properly aligned pointer-sized slot `root`.
        let rc = unsafe { sysarch(CHERI_GET_SEALCAP, (&raw mut root).cast()) };
        assert_eq!(rc, 0, "sysarch(CHERI_GET_SEALCAP) failed");
        Raw { ptr: root }
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub(crate) fn addr(&self) -> usize {
        self.ptr.addr()
    }

    pub(crate) fn base(&self) -> usize {
        get!("gcbase", self.ptr) as usize
    }

    pub(crate) fn top(&self) -> usize {
        self.base().saturating_add(get!("gclen", self.ptr) as usize)
    }

    pub(crate) fn perms(&self) -> Perms {
        from_morello(get!("gcperm", self.ptr))
    }

    pub(crate) fn otype(&self) -> Option<u64> {
        match get!("gctype", self.ptr) {
            0 => None,
            t => Some(t),
        }
    }

    pub(crate) fn tag(&self) -> bool {
        get!("gctag", self.ptr) != 0
    }

    pub(crate) fn with_addr(self, addr: usize, _format: crate::concentrate::Format) -> Raw {
        // `with_addr` is SCVALUE on purecap: the hardware clears the tag if the
        // address leaves Morello's representable window. A `Cap<_, Cheri128>`
        // on purecap therefore gets Morello's tag rule here (the rules layer
        // still applies ISAv9's exactness to its bounds).
        Raw {
            ptr: self.ptr.with_addr(addr),
        }
    }

    pub(crate) fn set_bounds(self, base: usize, top: usize) -> Raw {
        let at = Raw {
            ptr: self.ptr.with_addr(base),
        };
        let out: *mut u8;
        // SAFETY: SCBNDSE narrows bounds exactly or clears the tag; the rules
        // layer checked the range is inside and representable. No memory effect.
        unsafe {
            asm!("scbndse {d}, {n}, {len}", d = lateout(reg) out, n = in(reg) at.ptr, len = in(reg) top - base, options(pure, nomem, nostack, preserves_flags));
        }
        Raw { ptr: out }
    }

    pub(crate) fn and_perms(self, keep: Perms) -> Raw {
        let clear = to_morello(Perms::all() - keep);
        let out: *mut u8;
        // SAFETY: CLRPERM only removes permissions; no memory effect.
        unsafe {
            asm!("clrperm {d}, {n}, {m}", d = lateout(reg) out, n = in(reg) self.ptr, m = in(reg) clear, options(pure, nomem, nostack, preserves_flags));
        }
        Raw { ptr: out }
    }

    pub(crate) fn seal(self, sealer: &Raw) -> Raw {
        let out: *mut u8;
        // SAFETY: SEAL yields a sealed copy (or clears the tag if `sealer` does
        // not authorise it); no memory effect.
        unsafe {
            asm!("seal {d}, {n}, {m}", d = lateout(reg) out, n = in(reg) self.ptr, m = in(reg) sealer.ptr, options(pure, nomem, nostack, preserves_flags));
        }
        Raw { ptr: out }
    }

    pub(crate) fn unseal(self, sealer: &Raw) -> Raw {
        let out: *mut u8;
        // SAFETY: UNSEAL yields an unsealed copy (or clears the tag if
        // `sealer` does not authorise it); no memory effect.
        unsafe {
            asm!("unseal {d}, {n}, {m}", d = lateout(reg) out, n = in(reg) self.ptr, m = in(reg) sealer.ptr, options(pure, nomem, nostack, preserves_flags));
        }
        Raw { ptr: out }
    }
}
