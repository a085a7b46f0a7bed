//! The rules every capability operation obeys, checked before the backend
//! performs it. One place, shared by both backends, so a refused operation
//! gives the same [`CapError`] on every target.

use crate::concentrate::Format;
use crate::raw::Raw;
use crate::{CapError, Perms};

/// The capability may be used or changed: tagged and unsealed.
pub(crate) fn live(raw: &Raw) -> Result<(), CapError> {
    if !raw.tag() {
        return Err(CapError::Untagged { addr: raw.addr() });
    }
    if let Some(otype) = raw.otype() {
        return Err(CapError::Sealed { otype });
    }
    Ok(())
}

/// An access of `size` bytes at `addr` needing `needed` (a CHERI load or store).
pub(crate) fn access(raw: &Raw, addr: usize, size: usize, needed: Perms) -> Result<(), CapError> {
    live(raw)?;
    if !raw.perms().contains(needed) {
        return Err(CapError::PermissionDenied {
            needed,
            held: raw.perms(),
        });
    }
    let (base, top) = (raw.base(), raw.top());
    let inside = addr >= base && addr.checked_add(size).is_some_and(|end| end <= top);
    if !inside {
        return Err(CapError::OutOfBounds {
            addr,
            size,
            base,
            top,
        });
    }
    Ok(())
}

/// The length of `[start, end)`; an inverted range is never inside any bounds.
pub(crate) fn range_len(raw: &Raw, start: usize, end: usize) -> Result<usize, CapError> {
    end.checked_sub(start).ok_or(CapError::Widening {
        requested_base: start,
        requested_top: end,
        base: raw.base(),
        top: raw.top(),
    })
}

/// How to treat bounds the format cannot represent exactly.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    /// Refuse them (`CSetBoundsExact`).
    Exact,
    /// Round out to the nearest representable bounds (`CSetBounds`), which
    /// must still lie inside the current bounds.
    Out,
}

/// Narrows `raw` to `[base, base + len)` (`SCBNDS`/`SCBNDSE`); the result's
/// address is `base`.
pub(crate) fn narrow(
    raw: Raw,
    base: usize,
    len: usize,
    rounding: Rounding,
    format: Format,
) -> Result<Raw, CapError> {
    live(&raw)?;
    let (cur_base, cur_top) = (raw.base(), raw.top());
    let widening = |top| CapError::Widening {
        requested_base: base,
        requested_top: top,
        base: cur_base,
        top: cur_top,
    };
    let top = base.checked_add(len).ok_or_else(|| widening(usize::MAX))?;
    if base < cur_base || top > cur_top {
        return Err(widening(top));
    }
    let b = format.set_bounds(base as u64, top as u128);
    let refuse = CapError::NotRepresentable {
        format: format.name(),
        requested: b.requested,
        representable: (b.base, b.top),
    };
    // (Morello reports a request whose base has flag bits as exact while
    // decoding it without them; only bounds that decode as asked are exact.)
    if b.exact && b.base == base as u64 && b.top == top as u128 {
        return Ok(raw.set_bounds(base, top));
    }
    match rounding {
        Rounding::Exact => Err(refuse),
        Rounding::Out => {
            let (lo, hi) = (usize::try_from(b.base), usize::try_from(b.top));
            match (lo, hi) {
                (Ok(lo), Ok(hi)) if lo >= cur_base && hi <= cur_top => {
                    Ok(raw.set_bounds(lo, hi).with_addr(base, format))
                }
                _ => Err(refuse),
            }
        }
    }
}

/// Keeps only `keep` of the permissions (`CLRPERM`).
pub(crate) fn restrict_perms(raw: Raw, keep: Perms) -> Result<Raw, CapError> {
    live(&raw)?;
    Ok(raw.and_perms(keep))
}

/// Moves the address (`SCVALUE`); a sealed capability cannot be moved.
pub(crate) fn move_to(raw: Raw, addr: usize, format: Format) -> Result<Raw, CapError> {
    if let Some(otype) = raw.otype() {
        return Err(CapError::Sealed { otype });
    }
    Ok(raw.with_addr(addr, format))
}

/// `sealer` may seal or unseal (needs `perm`) with its current object type.
fn sealer_ok(sealer: &Raw, perm: Perms) -> Result<u64, CapError> {
    let otype = sealer.addr() as u64;
    access(sealer, sealer.addr(), 1, perm).map_err(|e| match e {
        CapError::OutOfBounds { base, top, .. } => CapError::OtypeOutOfBounds {
            otype,
            base: base as u64,
            top: top as u64,
        },
        other => other,
    })?;
    Ok(otype)
}

/// Seals `raw` with `sealer`'s object type (`SEAL`).
pub(crate) fn seal(raw: Raw, sealer: &Raw) -> Result<Raw, CapError> {
    sealer_ok(sealer, Perms::SEAL)?;
    live(&raw)?;
    Ok(raw.seal(sealer))
}

/// Unseals `raw` if `sealer` holds its object type (`UNSEAL`).
pub(crate) fn unseal(raw: Raw, sealer: &Raw) -> Result<Raw, CapError> {
    let unseal_with = sealer_ok(sealer, Perms::UNSEAL)?;
    if !raw.tag() {
        return Err(CapError::Untagged { addr: raw.addr() });
    }
    match raw.otype() {
        None => Err(CapError::NotSealed { addr: raw.addr() }),
        Some(sealed_with) if sealed_with != unseal_with => Err(CapError::WrongType {
            sealed_with,
            unseal_with,
        }),
        Some(_) => Ok(raw.unseal(sealer)),
    }
}
