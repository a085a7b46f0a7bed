//! `cap-cheri` (`cap_core::cheri`): CHERI's capability rules for memory, on
//! every target.
//!
//! CHERI processors make every pointer a *capability*: an address plus bounds,
//! permissions, an object type and a hidden validity tag, where new
//! capabilities can only be derived from existing ones with equal or fewer
//! rights and never made from an integer. ambit's handles follow the same
//! monotonic rule for descriptors; this crate gives Rust programs the rule for
//! memory.
//!
//! - [`Cap<T>`] and [`CapSlice<T>`]: made only from references
//!   ([`Cap::from_ref`], [`Cap::from_mut`], [`CapSlice::from_slice`],
//!   [`CapSlice::from_mut_slice`]); they narrow with `restrict_bounds` and
//!   `restrict_perms`; every load and store is checked and refused with a
//!   [`CapError`] where CHERI would trap.
//! - [`CapBuf`]: an allocation padded and aligned, as CHERI allocators do, so
//!   its capability's bounds are exactly representable.
//! - [`SealingCap`]: sealing and unsealing, for opaque tokens and compartments.
//! - [`concentrate`]: which bounds 128-bit capabilities can represent
//!   ([`Format::representable_length`], CRRL; [`Format::representable_alignment_mask`], CRAM).
//! - [`encoding`]: the 128 bits themselves ([`encoding::Capability`]),
//!   decoded and encoded bit for bit in both formats, with the hardware's
//!   tag rules for set-bounds and address moves.
//! - Formats: `Cap<'a, T, F>` follows [`Morello`] (the default, [`Native`])
//!   or [`Cheri128`] (ISAv9); `Cap::from_ref_in(&x, Cheri128)`.
//!
//! On a CHERI purecap target (`cfg(ambit_cheri_purecap)`, set by the build
//! script for any `*-purecap` target triple) the same types wrap hardware
//! capabilities and each derivation is one Morello instruction; elsewhere a
//! software model enforces the same rules. The model's pointer arithmetic
//! uses only the strict-provenance API (`addr`, `with_addr`), and its tests
//! run under Miri with `-Zmiri-strict-provenance`.
//!
//! ```
//! use cap_cheri::{CapSlice, CapError, Perms};
//!
//! let input = *b"GET /index.html";
//! let whole = CapSlice::from_slice(&input);
//! // Give a parser only the path, read-only.
//! let path = whole.restrict_bounds(4..15)?.restrict_perms(Perms::LOAD)?;
//! assert_eq!(path.load(0), b'/');
//! // It cannot read the method in front of it, nor past its end...
//! assert!(matches!(path.offset(-4)?.try_load(0), Err(CapError::OutOfBounds { .. })));
//! assert!(matches!(path.try_load(11), Err(CapError::OutOfBounds { .. })));
//! // ...nor get its bounds back.
//! assert!(matches!(path.offset(-4)?.restrict_bounds(0..15), Err(CapError::Widening { .. })));
//! # Ok::<(), CapError>(())
//! ```

mod buf;
mod cap;
pub mod concentrate;
pub mod encoding;
mod error;
mod format;
mod perms;
mod raw;
mod rules;
mod seal;

pub use buf::CapBuf;
pub use cap::{Cap, CapSlice, Sealable};
pub use concentrate::{Bounds, BoundsBits, DecodedBounds, Format, Representability};
pub use error::CapError;
pub use format::{CapFormat, Cheri128, Morello, Native};
pub use perms::Perms;
pub use seal::SealingCap;
