//! The software model of a capability, for every non-CHERI target.

use std::ptr;

use crate::concentrate::Format;
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

    /// `SCVALUE`: same provenance, new address; the tag survives only inside
    /// the representable window of the bounds.
    pub(crate) fn with_addr(self, addr: usize) -> Raw {
        let in_bounds = (self.base..self.top).contains(&addr);
        let keeps_tag = in_bounds || {
            let bounds = Format::NATIVE.set_bounds(self.base as u64, self.top as u128);
            Format::NATIVE.is_representable_address(&bounds, addr as u64)
        };
        Raw {
            ptr: self.ptr.with_addr(addr),
            tag: self.tag && keeps_tag,
            ..self
        }
    }

    /// `SCBNDSE` at `base`: the rules checked that `[base, top)` is inside the
    /// current bounds and representable.
    pub(crate) fn set_bounds(self, base: usize, top: usize) -> Raw {
        Raw {
            base,
            top,
            ..self.with_addr(base)
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
