//! `CapBuf`: an allocation whose bounds the hardware can represent exactly.

use std::fmt;
use std::marker::PhantomData;

use crate::format::{CapFormat, Native};
use crate::{CapError, CapSlice};

/// A zeroed byte allocation laid out the way a CHERI allocator lays one out:
/// padded to the representable length (CRRL) and aligned to the representable
/// alignment (CRAM) of the format `F` ([`Native`], i.e. Morello, unless made
/// with [`CapBuf::zeroed_in`]), so a capability with exactly its bounds
/// exists and narrowing to it never rounds.
///
/// CheriBSD's `malloc` does the same; the padding (at most a few bytes per
/// thousand) is readable and writable through the capability, as it is on
/// CHERI. The `std` counterpart is `vec![0u8; len].into_boxed_slice()`.
///
/// ```
/// use cap_cheri::CapBuf;
///
/// let mut buf = CapBuf::zeroed(20_001);
/// assert_eq!(buf.len(), 20_001);
/// assert_eq!(buf.bounds_len(), 20_008); // Format::NATIVE.representable_length(20_001)
/// let cap = buf.cap_mut();
/// cap.store(20_007, 1); // the padding is inside the bounds
/// assert!(cap.try_store(20_008, 1).is_err());
/// ```
pub struct CapBuf<F = Native> {
    storage: Vec<u8>,
    start: usize,
    len: usize,
    bounds_len: usize,
    _format: PhantomData<F>,
}

impl CapBuf {
    /// `len` zero bytes, padded and aligned for exact bounds in the
    /// [`Native`] format.
    ///
    /// # Panics
    ///
    /// If the padded length overflows the address space (as `vec!` would).
    pub fn zeroed(len: usize) -> CapBuf {
        CapBuf::zeroed_in(len, Native::default())
    }
}

impl<F: CapFormat> CapBuf<F> {
    /// `len` zero bytes, padded and aligned for exact bounds in format `F`.
    ///
    /// # Panics
    ///
    /// If the padded length overflows the address space (as `vec!` would).
    pub fn zeroed_in(len: usize, _format: F) -> CapBuf<F> {
        let format = F::FORMAT;
        let len64 = len as u64;
        let bounds_len = usize::try_from(format.representable_length(len64))
            .ok()
            .filter(|&b| b >= len)
            .expect("allocation too large to represent");
        let align = usize::try_from(!format.representable_alignment_mask(len64))
            .expect("alignment fits the address space")
            + 1;
        let storage = vec![0u8; bounds_len + align - 1];
        let start = storage.as_ptr().addr().next_multiple_of(align) - storage.as_ptr().addr();
        CapBuf {
            storage,
            start,
            len,
            bounds_len,
            _format: PhantomData,
        }
    }

    /// The requested length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the requested length is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length of the capability's bounds: [`len`](CapBuf::len) rounded up
    /// to the representable length.
    pub fn bounds_len(&self) -> usize {
        self.bounds_len
    }

    /// The requested bytes (`std`: `&buf[..]`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    /// The requested bytes, mutably (`std`: `&mut buf[..]`).
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }

    /// A load-only capability with exactly representable bounds;
    /// [`len`](CapSlice::len) is the requested length.
    pub fn cap(&self) -> CapSlice<'_, u8, F> {
        let bounded = &self.storage[self.start..self.start + self.bounds_len];
        CapSlice::from_slice_in(bounded, F::default()).with_len(self.len)
    }

    /// A load/store capability with exactly representable bounds.
    pub fn cap_mut(&mut self) -> CapSlice<'_, u8, F> {
        let bounded = &mut self.storage[self.start..self.start + self.bounds_len];
        CapSlice::from_mut_slice_in(bounded, F::default()).with_len(self.len)
    }

    /// Checks the claim this type makes, for tests and assertions: the bounds
    /// are exactly representable in format `F`.
    pub fn check_representable(&self) -> Result<(), CapError> {
        let base = self.storage[self.start..].as_ptr().addr();
        let b = F::FORMAT.set_bounds(base as u64, (base + self.bounds_len) as u128);
        if b.exact {
            Ok(())
        } else {
            Err(CapError::NotRepresentable {
                format: F::FORMAT.name(),
                requested: b.requested,
                representable: (b.base, b.top),
            })
        }
    }
}

impl<F> fmt::Debug for CapBuf<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapBuf")
            .field("len", &self.len)
            .field("bounds_len", &self.bounds_len)
            .finish_non_exhaustive()
    }
}
