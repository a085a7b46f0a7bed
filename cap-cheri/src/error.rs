//! Why a capability operation was refused.

use std::fmt;

use crate::Perms;

/// A refused capability operation: what a CHERI processor would trap on (or
/// answer by clearing the tag), as a value.
///
/// Every variant names the capability's bounds, address or object type so the
/// message says which capability and which rule. The `Display` form is one
/// line; the panicking forms (`load`, `store`, ...) panic with it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapError {
    /// The capability's tag is clear: it was moved outside its representable
    /// window, so it no longer authorises anything.
    Untagged {
        /// The capability's address.
        addr: usize,
    },
    /// The capability is sealed: it cannot be used or changed until unsealed.
    Sealed {
        /// Its object type.
        otype: u64,
    },
    /// `unseal` was given a capability that is not sealed.
    NotSealed {
        /// The capability's address.
        addr: usize,
    },
    /// The access `[addr, addr + size)` is not inside `[base, top)`.
    OutOfBounds {
        /// First byte accessed.
        addr: usize,
        /// Bytes accessed.
        size: usize,
        /// The capability's base.
        base: usize,
        /// The capability's top (exclusive).
        top: usize,
    },
    /// The operation needs permissions the capability does not hold.
    PermissionDenied {
        /// What the operation needs.
        needed: Perms,
        /// What the capability holds.
        held: Perms,
    },
    /// New bounds were asked for that are not inside the current ones
    /// (derivation may only narrow).
    Widening {
        /// Requested base.
        requested_base: usize,
        /// Requested top (exclusive; `usize::MAX` stands for an overflowing request).
        requested_top: usize,
        /// Current base.
        base: usize,
        /// Current top.
        top: usize,
    },
    /// The requested bounds cannot be encoded exactly in the capability
    /// format; `representable` is what `CSetBounds` would round them to.
    NotRepresentable {
        /// The format, e.g. `"Morello"`.
        format: &'static str,
        /// Requested `(base, top)`.
        requested: (u64, u128),
        /// The smallest representable `(base, top)` containing the request.
        representable: (u64, u128),
    },
    /// `unseal` with a sealing capability for a different object type.
    WrongType {
        /// The sealed capability's object type.
        sealed_with: u64,
        /// The sealing capability's object type.
        unseal_with: u64,
    },
    /// The sealing capability's object type is outside its own range.
    OtypeOutOfBounds {
        /// The object type asked for.
        otype: u64,
        /// First object type of the range.
        base: u64,
        /// End of the range (exclusive).
        top: u64,
    },
    /// The process has handed out all its object types.
    OtypesExhausted {
        /// How many were asked for.
        requested: usize,
        /// How many remain.
        remaining: usize,
    },
    /// A `&[T]` view was asked at an address that is not a multiple of the
    /// element alignment.
    Misaligned {
        /// The capability's address.
        addr: usize,
        /// The alignment needed.
        align: usize,
    },
    /// A `&[T]` view was asked of a capability derived from a `&mut`:
    /// another copy of it may store, so only copying loads are allowed.
    Aliased {
        /// The capability's address.
        addr: usize,
    },
}

impl fmt::Display for CapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapError::Untagged { addr } => write!(
                f,
                "capability at {addr:#x} is untagged (its address left the representable window); it authorises nothing"
            ),
            CapError::Sealed { otype } => {
                write!(
                    f,
                    "capability is sealed with object type {otype}; unseal it before use"
                )
            }
            CapError::NotSealed { addr } => write!(f, "capability at {addr:#x} is not sealed"),
            CapError::OutOfBounds {
                addr,
                size,
                base,
                top,
            } => write!(
                f,
                "access of {size} byte(s) at {addr:#x} is outside the capability's bounds [{base:#x}, {top:#x})"
            ),
            CapError::PermissionDenied { needed, held } => write!(
                f,
                "capability lacks permission: needs {needed}, holds {held}"
            ),
            CapError::Widening {
                requested_base,
                requested_top,
                base,
                top,
            } => write!(
                f,
                "bounds [{requested_base:#x}, {requested_top:#x}) are not inside the capability's bounds [{base:#x}, {top:#x}); capabilities only narrow"
            ),
            CapError::NotRepresentable {
                format,
                requested,
                representable,
            } => write!(
                f,
                "bounds [{:#x}, {:#x}) are not exactly representable in {format}; the nearest are [{:#x}, {:#x})",
                requested.0, requested.1, representable.0, representable.1
            ),
            CapError::WrongType {
                sealed_with,
                unseal_with,
            } => write!(
                f,
                "capability sealed with object type {sealed_with} cannot be unsealed with object type {unseal_with}"
            ),
            CapError::OtypeOutOfBounds { otype, base, top } => write!(
                f,
                "object type {otype} is outside the sealing capability's range [{base}, {top})"
            ),
            CapError::OtypesExhausted {
                requested,
                remaining,
            } => write!(
                f,
                "cannot allocate {requested} object type(s): {remaining} remain"
            ),
            CapError::Misaligned { addr, align } => {
                write!(
                    f,
                    "address {addr:#x} is not aligned to {align} for a slice view"
                )
            }
            CapError::Aliased { addr } => write!(
                f,
                "capability at {addr:#x} comes from a `&mut`: it gives copies (load), not `&` views"
            ),
        }
    }
}

impl std::error::Error for CapError {}

impl From<CapError> for std::io::Error {
    fn from(e: CapError) -> Self {
        let kind = match e {
            CapError::OutOfBounds { .. }
            | CapError::Widening { .. }
            | CapError::NotRepresentable { .. } => std::io::ErrorKind::InvalidInput,
            _ => std::io::ErrorKind::PermissionDenied,
        };
        std::io::Error::new(kind, e)
    }
}
