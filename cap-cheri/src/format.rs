//! Which 128-bit encoding a [`Cap`](crate::Cap) follows: a type parameter,
//! so one program can hold capabilities of both formats and the compiler
//! keeps them apart.

use std::fmt::Debug;
use std::hash::Hash;

use crate::concentrate::Format;

/// A capability format as a type: [`Morello`] (the default, [`Native`]) or
/// [`Cheri128`] (ISAv9). Sealed: the two formats this crate models are the
/// only ones.
///
/// ```
/// use cap_cheri::{Cap, CapError, CapSlice, Cheri128, Morello};
///
/// let data = [0u8; 8192];
/// let morello = CapSlice::from_slice(&data); // CapSlice<'_, u8, Morello>
/// let isav9 = CapSlice::from_slice_in(&data, Cheri128);
/// // 5000 bytes at offset 4: exact on Morello (below 2^14), not on ISAv9.
/// assert!(morello.restrict_bounds(4..5004).is_ok());
/// assert!(matches!(
///     isav9.restrict_bounds(4..5004),
///     Err(CapError::NotRepresentable { format: "CHERI-128 (ISAv9)", .. })
/// ));
/// ```
pub trait CapFormat: sealed::Sealed + Copy + Default + Debug + Eq + Hash + 'static {
    /// The format's parameters.
    const FORMAT: Format;
}

/// Arm Morello ([`Format::MORELLO`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Morello;

/// 128-bit CHERI as in ISAv9 ([`Format::CHERI_128`]): CHERI-RISC-V, CHERI-MIPS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cheri128;

/// The format of the hardware the purecap target runs on ([`Format::NATIVE`]).
pub type Native = Morello;

impl CapFormat for Morello {
    const FORMAT: Format = Format::MORELLO;
}

impl CapFormat for Cheri128 {
    const FORMAT: Format = Format::CHERI_128;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Morello {}
    impl Sealed for super::Cheri128 {}
}
