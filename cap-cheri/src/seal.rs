//! Sealing: opaque capabilities, the basis of CHERI compartments.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::cap::Sealable;
use crate::raw::Raw;
use crate::rules::{self, Rounding};
use crate::{CapError, Format, Perms};

/// Object types already handed out, counted from the sealing root's base.
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// A sealing capability: authority over a range of *object types*.
///
/// Sealing a capability with object type `t` makes it opaque: it cannot be
/// loaded or stored through, moved, narrowed or have its permissions changed
/// until it is unsealed by a sealing capability for the same `t`. Code that
/// holds only the sealed capability can keep it and pass it back, nothing
/// else: an unforgeable token. This is how CHERI builds compartments, e.g.
/// a library hands its callers sealed handles to its private state and
/// unseals them when they come back.
///
/// Like a memory capability, a sealing capability has bounds (here over
/// object types, not addresses), a current value (the object type it seals
/// with, [`otype`](SealingCap::otype)) and permissions ([`Perms::SEAL`],
/// [`Perms::UNSEAL`], [`Perms::GLOBAL`]); it only narrows. There is no `std`
/// counterpart.
///
/// ```
/// use cap_cheri::{Cap, CapError, SealingCap};
///
/// let secret = 42u64;
/// let types = SealingCap::allocate(1)?;
/// let token = types.seal(Cap::from_ref(&secret))?;
/// // Whoever holds only `token` can neither read it nor change it...
/// assert!(matches!(token.try_load(), Err(CapError::Sealed { .. })));
/// assert!(token.with_addr(0).is_err());
/// // ...but the holder of the sealing capability can take it back.
/// assert_eq!(types.unseal(token)?.load(), 42);
/// # Ok::<(), CapError>(())
/// ```
#[derive(Clone)]
pub struct SealingCap {
    raw: Raw,
}

impl SealingCap {
    /// `count` fresh object types, never handed out before in this process,
    /// with [`Perms::SEALING`]; the capability's object type is the first.
    ///
    /// In the software model the object types come from a process-wide
    /// counter over Morello's 15-bit object-type space (4 to 32767; 0–3 are
    /// reserved by the architecture); on CheriBSD purecap they are carved
    /// from the sealing root `sysarch(CHERI_GET_SEALCAP)` returns.
    #[doc(alias = "CHERI_GET_SEALCAP")]
    pub fn allocate(count: usize) -> Result<SealingCap, CapError> {
        let root = Raw::sealing_root();
        let space = root.top() - root.base();
        // Claim the range only once the capability for it exists, so a
        // refused request (too many, not representable) consumes nothing.
        let mut used = ALLOCATED.load(Ordering::Relaxed);
        loop {
            let exhausted = CapError::OtypesExhausted {
                requested: count,
                remaining: space - used,
            };
            let end = used
                .checked_add(count)
                .filter(|&end| end <= space)
                .ok_or(exhausted)?;
            let raw = rules::narrow(
                root,
                root.base() + used,
                count,
                Rounding::Exact,
                Format::NATIVE,
            )?;
            match ALLOCATED.compare_exchange(used, end, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(SealingCap { raw }),
                Err(now) => used = now,
            }
        }
    }

    /// The object type this capability seals and unseals with.
    pub fn otype(&self) -> u64 {
        self.raw.addr() as u64
    }

    /// The object types this capability has authority over.
    pub fn otypes(&self) -> Range<u64> {
        self.raw.base() as u64..self.raw.top() as u64
    }

    /// The permissions.
    pub fn perms(&self) -> Perms {
        self.raw.perms()
    }

    /// The same authority, sealing with object type `otype` (which must be in
    /// [`otypes`](SealingCap::otypes) to be used).
    pub fn with_otype(&self, otype: u64) -> Result<SealingCap, CapError> {
        let addr = usize::try_from(otype).unwrap_or(usize::MAX);
        Ok(SealingCap {
            raw: rules::move_to(self.raw, addr, Format::NATIVE)?,
        })
    }

    /// Narrows the authority to the object types `range`; refused if not
    /// inside [`otypes`](SealingCap::otypes). The new object type is
    /// `range.start`.
    pub fn restrict_otypes(&self, range: Range<u64>) -> Result<SealingCap, CapError> {
        let start = usize::try_from(range.start).unwrap_or(usize::MAX);
        let len = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(usize::MAX);
        Ok(SealingCap {
            raw: rules::narrow(self.raw, start, len, Rounding::Exact, Format::NATIVE)?,
        })
    }

    /// Keeps only `keep` of the permissions (e.g. drop [`Perms::UNSEAL`] to
    /// give out a capability that can make tokens but not open them).
    pub fn restrict_perms(&self, keep: Perms) -> Result<SealingCap, CapError> {
        Ok(SealingCap {
            raw: rules::restrict_perms(self.raw, keep)?,
        })
    }

    /// Seals `cap` with this capability's object type (CHERI `CSeal`,
    /// Morello `SEAL`). Needs [`Perms::SEAL`] and an object type in range;
    /// `cap` must be tagged and not already sealed.
    #[doc(alias = "CSeal")]
    pub fn seal<C: Sealable>(&self, cap: C) -> Result<C, CapError> {
        let raw = rules::seal(cap.raw(), &self.raw)?;
        Ok(cap.replace_raw(raw))
    }

    /// Unseals `cap` if it was sealed with this capability's object type
    /// (CHERI `CUnseal`, Morello `UNSEAL`). Needs [`Perms::UNSEAL`]. If this
    /// sealing capability is not [`Perms::GLOBAL`], the result loses Global.
    #[doc(alias = "CUnseal")]
    pub fn unseal<C: Sealable>(&self, cap: C) -> Result<C, CapError> {
        let raw = rules::unseal(cap.raw(), &self.raw)?;
        Ok(cap.replace_raw(raw))
    }
}

impl fmt::Debug for SealingCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.otypes();
        write!(
            f,
            "SealingCap {{ otype {} of [{}, {}) {} }}",
            self.otype(),
            r.start,
            r.end,
            self.perms()
        )
    }
}
