//! The software model of a capability, for every non-CHERI target.

use std::ptr;

use crate::concentrate::{Format, Representability};
use crate::encoding::Capability;
use crate::perms::Perms;

/// First object type handed out (Morello reserves 0–3: unsealed, sentry,
/// load-pair-branch, load-branch).
const FIRST_OTYPE: usize = 4;
/// One past the last object type (Morello's object type field is 15 bits).
const OTYPE_LIMIT: usize = 1 << 15;

/// A capability: an address with provenance, bounds, permissions, object type
/// and tag.
///
/// `ptr` carries the provenance of the reference the capability was made from;
/// its address is the capability's address. Address changes use
/// [`pointer::with_addr`], so the provenance is never lost or forged (the model
/// is clean under `-Zmiri-strict-provenance`).
#[derive(Clone, Copy)]
pub(crate) struct Raw {
    ptr: *mut u8,
    base: usize,
    top: usize,
    perms: Perms,
    otype: Option<u64>,
    tag: bool,
}

impl Raw {
    /// A capability over `[ptr, ptr + len)` with `perms`.
    pub(crate) fn root(ptr: *mut u8, len: usize, perms: Perms) -> Raw {
        let base = ptr.addr();
        let top = base
            .checked_add(len)
            .expect("a Rust object never wraps the address space");
        Raw {
            ptr,
            base,
            top,
            perms,
            otype: None,
            tag: true,
        }
    }

    /// The root of the object-type space: what CheriBSD's
    /// `sysarch(CHERI_GET_SEALCAP)` hands a process.
    pub(crate) fn sealing_root() -> Raw {
        Raw {
            // Object types are numbers, not memory: no provenance to carry.
            ptr: ptr::without_provenance_mut(FIRST_OTYPE),
            base: FIRST_OTYPE,
            top: OTYPE_LIMIT,
            perms: Perms::SEALING,
            otype: None,
            tag: true,
        }
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub(crate) fn addr(&self) -> usize {
        self.ptr.addr()
    }

    pub(crate) fn base(&self) -> usize {
        self.base
    }

    pub(crate) fn top(&self) -> usize {
        self.top
    }

    pub(crate) fn perms(&self) -> Perms {
        self.perms
    }

    pub(crate) fn otype(&self) -> Option<u64> {
        self.otype
    }

    pub(crate) fn tag(&self) -> bool {
        self.tag
    }

    /// `SCVALUE`: same provenance, new address; the tag survives only if
    /// `format`'s hardware check (the fast one) finds the address
    /// representable for the encoded bounds, as the hardware would.
    pub(crate) fn with_addr(self, addr: usize, format: Format) -> Raw {
        let in_bounds = (self.base..self.top).contains(&addr);
        let keeps_tag = in_bounds || {
            // The 128 bits this capability would have: its bounds encoded
            // (rounded out, for a referent whose size is not representable),
            // at its current address.
            let bounds = format.set_bounds(self.base as u64, self.top as u128);
            Capability::with_ebt(format, bounds.ebt, self.addr() as u64)
                .is_representable_address(addr as u64, Representability::Fast)
        };
        Raw {
            ptr: self.ptr.with_addr(addr),
            tag: self.tag && keeps_tag,
            ..self
        }
    }

    /// `SCBNDSE` at `base`: the rules checked that `[base, top)` is inside the
    /// current bounds and representable, so the address `base` is in bounds.
    pub(crate) fn set_bounds(self, base: usize, top: usize) -> Raw {
        Raw {
            ptr: self.ptr.with_addr(base),
            base,
            top,
            ..self
        }
    }

    /// `CLRPERM`: keeps only `keep`.
    pub(crate) fn and_perms(self, keep: Perms) -> Raw {
        Raw {
            perms: self.perms & keep,
            ..self
        }
    }

    /// `SEAL` with the object type `sealer.addr()`.
    pub(crate) fn seal(self, sealer: &Raw) -> Raw {
        Raw {
            otype: Some(sealer.addr() as u64),
            ..self
        }
    }

    /// `UNSEAL` (the rules checked the object type); Global survives only if
    /// the sealing capability is global too.
    pub(crate) fn unseal(self, sealer: &Raw) -> Raw {
        let mut perms = self.perms;
        if !sealer.perms.contains(Perms::GLOBAL) {
            perms.remove(Perms::GLOBAL);
        }
        Raw {
            otype: None,
            perms,
            ..self
        }
    }
}
