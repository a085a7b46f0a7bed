//! The capability itself: a software model, or the hardware's.
//!
//! Both backends give the same `Raw` type with the same methods; the checks
//! that turn a rule into a [`CapError`](crate::CapError) live above them (in
//! `rules.rs`), so both targets refuse the same operations with the same
//! errors. The backend only performs what the rules already allowed.
//!
//! - `software` (every target that is not CHERI purecap): a pointer with
//!   provenance plus bounds, permissions, object type and tag in plain fields.
//! - `purecap` (`cfg(ambit_cheri_purecap)`, see build.rs): the pointer *is* a
//!   128-bit hardware capability and every operation is one Morello
//!   instruction; the hardware enforces the rules a second time.

#[cfg(not(ambit_cheri_purecap))]
mod software;
#[cfg(not(ambit_cheri_purecap))]
pub(crate) use software::Raw;

#[cfg(ambit_cheri_purecap)]
mod purecap;
#[cfg(ambit_cheri_purecap)]
pub(crate) use purecap::Raw;
