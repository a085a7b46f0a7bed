//! `Cap<T>` and `CapSlice<T>`: pointers that carry bounds and permissions.
#![allow(unsafe_code)]

use std::fmt;
use std::marker::PhantomData;
use std::mem::size_of;
use std::ops::Range;

use crate::format::{CapFormat, Native};
use crate::raw::Raw;
use crate::rules::{self, Rounding};
use crate::{CapError, Format, Perms};

/// The lifetime and type markers of a capability.
///
/// Covariant in `'a` (a capability may be used for less long than the borrow
/// it came from); invariant in `T`, because a capability may store a `T`
/// (a `Cap<&'static str>` must not become a `Cap<&'short str>`).
/// The format is a zero-sized marker.
type Marker<'a, T, F> = PhantomData<(&'a (), fn(T) -> T, F)>;

/// A capability to one `T`: an address with provenance, bounds `[base, top)`,
/// a permission set, an object type (when sealed) and a tag.
///
/// The Rust counterpart is `&'a T` / `&'a mut T` (or `*const T` with a
/// lifetime), but where a reference's validity is a promise checked by the
/// compiler, a capability's is checked at every use: each load or store is
/// refused with a [`CapError`] if it is out of bounds, lacks the permission,
/// or the capability is sealed or untagged, exactly where CHERI hardware
/// would trap.
///
/// # Constructors
///
/// Only [`Cap::from_ref`] and [`Cap::from_mut`] (and [`CapSlice`]'s
/// `from_slice`/`from_mut_slice`; a `Box` or `Vec` derefs to one). There is no
/// constructor from an integer and none is possible: an integer has no
/// provenance, and on CHERI a capability made from one has no tag. Authority
/// comes only from authority already held; that is the whole point.
///
/// # Deriving
///
/// Every derivation returns a new capability with *at most* the authority of
/// the old one: [`restrict_bounds`](Cap::restrict_bounds) must stay inside,
/// [`restrict_perms`](Cap::restrict_perms) can only remove, and address
/// changes ([`with_addr`](Cap::with_addr), [`offset`](Cap::offset)) keep the
/// bounds, so an address outside them can be held but not used.
///
/// # Format
///
/// `F` is the 128-bit encoding whose rules apply ([`Morello`](crate::Morello)
/// by default, or [`Cheri128`](crate::Cheri128)): which bounds are exactly
/// representable, and how far the address may move before the tag is
/// cleared. [`Cap::from_ref`] makes a native (Morello) capability,
/// [`Cap::from_ref_in`] one of either format.
pub struct Cap<'a, T, F = Native> {
    raw: Raw,
    /// Made from a shared reference: nothing can store through any copy.
    shared: bool,
    _marker: Marker<'a, T, F>,
}

impl<T, F> Clone for Cap<'_, T, F> {
    fn clone(&self) -> Self {
        Cap {
            raw: self.raw,
            shared: self.shared,
            _marker: PhantomData,
        }
    }
}

impl<'a, T> Cap<'a, T> {
    /// A load-only capability to `*r`: bounds exactly `r`'s bytes,
    /// permissions [`Perms::SHARED_REF`]; [`Native`] format.
    pub fn from_ref(r: &'a T) -> Self {
        Cap::from_ref_in(r, Native::default())
    }

    /// A load/store capability to `*r` for as long as the borrow: bounds
    /// exactly `r`'s bytes, permissions [`Perms::MUT_REF`]; [`Native`] format.
    pub fn from_mut(r: &'a mut T) -> Self {
        Cap::from_mut_in(r, Native::default())
    }
}

impl<'a, T, F: CapFormat> Cap<'a, T, F> {
    /// [`Cap::from_ref`] in format `F`.
    pub fn from_ref_in(r: &'a T, _format: F) -> Self {
        let ptr = std::ptr::from_ref(r).cast::<u8>().cast_mut();
        Cap {
            raw: Raw::root(ptr, size_of::<T>(), Perms::SHARED_REF),
            shared: true,
            _marker: PhantomData,
        }
    }

    /// [`Cap::from_mut`] in format `F`.
    pub fn from_mut_in(r: &'a mut T, _format: F) -> Self {
        let ptr = std::ptr::from_mut(r).cast::<u8>();
        Cap {
            raw: Raw::root(ptr, size_of::<T>(), Perms::MUT_REF),
            shared: false,
            _marker: PhantomData,
        }
    }

    fn with_raw(&self, raw: Raw) -> Self {
        Cap {
            raw,
            shared: self.shared,
            _marker: PhantomData,
        }
    }

    /// The address (the `ptr.addr()` of std's strict-provenance API).
    pub fn addr(&self) -> usize {
        self.raw.addr()
    }

    /// The encoding whose rules this capability follows.
    pub fn format(&self) -> Format {
        F::FORMAT
    }

    /// The lowest address this capability authorises.
    pub fn base(&self) -> usize {
        self.raw.base()
    }

    /// One past the highest address this capability authorises.
    pub fn top(&self) -> usize {
        self.raw.top()
    }

    /// The permissions.
    pub fn perms(&self) -> Perms {
        self.raw.perms()
    }

    /// Whether the tag is set (the capability still authorises anything).
    pub fn is_tagged(&self) -> bool {
        self.raw.tag()
    }

    /// The object type it is sealed with, if sealed.
    pub fn otype(&self) -> Option<u64> {
        self.raw.otype()
    }

    /// The same capability at address `addr` (`std`: `ptr.with_addr`).
    ///
    /// The provenance and bounds are kept; the address may leave the bounds
    /// (accesses there fail). As on CHERI, moving far outside the bounds
    /// (beyond the representable window, see
    /// [`Format::representable_window`](crate::Format::representable_window))
    /// clears the tag for good: the hardware's fast representability check
    /// ([`Representability::Fast`](crate::Representability::Fast)) of format
    /// `F` decides, Morello's flag bits and bit-55 rule included. Fails only
    /// if sealed.
    #[doc(alias = "CSetAddr")]
    #[doc(alias = "SCVALUE")]
    pub fn with_addr(&self, addr: usize) -> Result<Self, CapError> {
        Ok(self.with_raw(rules::move_to(self.raw, addr, F::FORMAT)?))
    }

    /// The same capability `count` elements further (`std`:
    /// `ptr.wrapping_offset`). See [`with_addr`](Cap::with_addr).
    pub fn offset(&self, count: isize) -> Result<Self, CapError> {
        let bytes = count.wrapping_mul(size_of::<T>().cast_signed());
        self.with_addr(self.addr().wrapping_add_signed(bytes))
    }

    /// A capability with bounds `range` (absolute addresses), which must lie
    /// inside the current bounds and be exactly representable in format `F`
    /// (CHERI `CSetBoundsExact`).
    /// The new capability's address is `range.start`.
    #[doc(alias = "CSetBoundsExact")]
    #[doc(alias = "SCBNDSE")]
    pub fn restrict_bounds(&self, range: Range<usize>) -> Result<Self, CapError> {
        let len = rules::range_len(&self.raw, range.start, range.end)?;
        Ok(self.with_raw(rules::narrow(
            self.raw,
            range.start,
            len,
            Rounding::Exact,
            F::FORMAT,
        )?))
    }

    /// Like [`restrict_bounds`](Cap::restrict_bounds), but bounds the format
    /// cannot represent are rounded out (CHERI `CSetBounds`), as long as the
    /// rounded bounds still lie inside the current ones.
    #[doc(alias = "CSetBounds")]
    #[doc(alias = "SCBNDS")]
    pub fn restrict_bounds_rounded(&self, range: Range<usize>) -> Result<Self, CapError> {
        let len = rules::range_len(&self.raw, range.start, range.end)?;
        Ok(self.with_raw(rules::narrow(
            self.raw,
            range.start,
            len,
            Rounding::Out,
            F::FORMAT,
        )?))
    }

    /// A capability with only the permissions in both `self.perms()` and
    /// `keep` (CHERI `CAndPerm`): permissions can be removed, never added.
    #[doc(alias = "CAndPerm")]
    #[doc(alias = "CLRPERM")]
    pub fn restrict_perms(&self, keep: Perms) -> Result<Self, CapError> {
        Ok(self.with_raw(rules::restrict_perms(self.raw, keep)?))
    }

    /// Reads the `T` at the address (a CHERI load).
    pub fn try_load(&self) -> Result<T, CapError>
    where
        T: Copy,
    {
        rules::access(&self.raw, self.addr(), size_of::<T>(), Perms::LOAD)?;
        // SAFETY: `access` checked that [addr, addr + size_of::<T>()) lies in
        // the bounds, which are inside the referent this capability was made
        // from (bounds only narrow); `raw.ptr()` carries that referent's
        // provenance and the borrow lives for 'a. `T: Copy` makes the read a
        // plain copy; `read_unaligned` needs no alignment.
        Ok(unsafe { self.raw.ptr().cast::<T>().read_unaligned() })
    }

    /// Reads the `T` at the address; panics where CHERI would trap.
    pub fn load(&self) -> T
    where
        T: Copy,
    {
        self.try_load()
            .unwrap_or_else(|e| panic!("capability load refused: {e}"))
    }

    /// Writes `value` at the address (a CHERI store).
    pub fn try_store(&self, value: T) -> Result<(), CapError>
    where
        T: Copy,
    {
        rules::access(&self.raw, self.addr(), size_of::<T>(), Perms::STORE)?;
        // SAFETY: as in `try_load`; STORE is only ever granted by `from_mut`,
        // whose `&'a mut` borrow gives this capability (and its copies, which
        // only copy values in and out) exclusive access for 'a.
        unsafe { self.raw.ptr().cast::<T>().write_unaligned(value) };
        Ok(())
    }

    /// Writes `value` at the address; panics where CHERI would trap.
    pub fn store(&self, value: T)
    where
        T: Copy,
    {
        self.try_store(value)
            .unwrap_or_else(|e| panic!("capability store refused: {e}"));
    }
}

impl<'b, U, G, F: CapFormat> Cap<'_, Cap<'b, U, G>, F> {
    /// Loads the capability stored at the address: needs Load and
    /// Load-capability (CHERI `LC`/Morello `LDR Ct`).
    #[doc(alias = "CLC")]
    pub fn try_load_cap(&self) -> Result<Cap<'b, U, G>, CapError> {
        let need = Perms::LOAD | Perms::LOAD_CAP;
        rules::access(&self.raw, self.addr(), size_of::<Cap<'b, U, G>>(), need)?;
        // SAFETY: as in `try_load`; a `Cap` has no destructor and its fields
        // are plain data, so the copy is a clone.
        Ok(unsafe { self.raw.ptr().cast::<Cap<'b, U, G>>().read_unaligned() })
    }

    /// Stores a capability at the address: needs Store and Store-capability.
    #[doc(alias = "CSC")]
    pub fn try_store_cap(&self, value: &Cap<'b, U, G>) -> Result<(), CapError> {
        let need = Perms::STORE | Perms::STORE_CAP;
        rules::access(&self.raw, self.addr(), size_of::<Cap<'b, U, G>>(), need)?;
        // SAFETY: as in `try_store`; the old value has no destructor to run.
        unsafe {
            self.raw
                .ptr()
                .cast::<Cap<'b, U, G>>()
                .write_unaligned(value.clone());
        }
        Ok(())
    }
}

impl<T, F> fmt::Debug for Cap<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "Cap", self.raw)
    }
}

fn describe(f: &mut fmt::Formatter<'_>, name: &str, raw: Raw) -> fmt::Result {
    write!(
        f,
        "{name} {{ {:#x} [{:#x}, {:#x}) {}",
        raw.addr(),
        raw.base(),
        raw.top(),
        raw.perms()
    )?;
    if let Some(otype) = raw.otype() {
        write!(f, " sealed({otype})")?;
    }
    if !raw.tag() {
        write!(f, " untagged")?;
    }
    write!(f, " }}")
}

/// A capability to a run of `T`s: what a CHERI program holds for an array,
/// and what a Rust program holds as `&[T]` / `&mut [T]`.
///
/// Indices are relative to the capability's address; every access is checked
/// against the bounds, so [`len`](CapSlice::len) is what the holder was told,
/// while the bounds are what it may touch.
///
/// `F` is the format, as for [`Cap`]: [`CapSlice::from_slice`] is native
/// (Morello), [`CapSlice::from_slice_in`] either.
pub struct CapSlice<'a, T, F = Native> {
    raw: Raw,
    len: usize,
    shared: bool,
    _marker: Marker<'a, T, F>,
}

impl<T, F> Clone for CapSlice<'_, T, F> {
    fn clone(&self) -> Self {
        CapSlice {
            raw: self.raw,
            len: self.len,
            shared: self.shared,
            _marker: PhantomData,
        }
    }
}

impl<'a, T> CapSlice<'a, T> {
    /// A load-only capability to `s` (bounds exactly `s`'s bytes); [`Native`]
    /// format.
    pub fn from_slice(s: &'a [T]) -> Self {
        CapSlice::from_slice_in(s, Native::default())
    }

    /// A load/store capability to `s` for as long as the borrow; [`Native`]
    /// format.
    pub fn from_mut_slice(s: &'a mut [T]) -> Self {
        CapSlice::from_mut_slice_in(s, Native::default())
    }
}

impl<'a, T, F: CapFormat> CapSlice<'a, T, F> {
    /// [`CapSlice::from_slice`] in format `F`.
    pub fn from_slice_in(s: &'a [T], _format: F) -> Self {
        let ptr = s.as_ptr().cast::<u8>().cast_mut();
        let raw = Raw::root(ptr, size_of_val(s), Perms::SHARED_REF);
        CapSlice {
            raw,
            len: s.len(),
            shared: true,
            _marker: PhantomData,
        }
    }

    /// [`CapSlice::from_mut_slice`] in format `F`.
    pub fn from_mut_slice_in(s: &'a mut [T], _format: F) -> Self {
        let len = s.len();
        let raw = Raw::root(s.as_mut_ptr().cast::<u8>(), size_of_val(s), Perms::MUT_REF);
        CapSlice {
            raw,
            len,
            shared: false,
            _marker: PhantomData,
        }
    }

    /// The same capability claiming `len` elements (bounds unchanged).
    pub(crate) fn with_len(self, len: usize) -> Self {
        CapSlice { len, ..self }
    }

    fn with_raw(&self, raw: Raw, len: usize) -> Self {
        CapSlice {
            raw,
            len,
            shared: self.shared,
            _marker: PhantomData,
        }
    }

    /// The number of elements the slice covers from its address.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether [`len`](CapSlice::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address of element 0.
    pub fn addr(&self) -> usize {
        self.raw.addr()
    }

    /// The encoding whose rules this capability follows.
    pub fn format(&self) -> Format {
        F::FORMAT
    }

    /// The lowest address this capability authorises.
    pub fn base(&self) -> usize {
        self.raw.base()
    }

    /// One past the highest address this capability authorises.
    pub fn top(&self) -> usize {
        self.raw.top()
    }

    /// The permissions.
    pub fn perms(&self) -> Perms {
        self.raw.perms()
    }

    /// Whether the tag is set.
    pub fn is_tagged(&self) -> bool {
        self.raw.tag()
    }

    /// The object type it is sealed with, if sealed.
    pub fn otype(&self) -> Option<u64> {
        self.raw.otype()
    }

    fn elem_addr(&self, index: usize) -> usize {
        self.addr().wrapping_add(index.wrapping_mul(size_of::<T>()))
    }

    /// The same capability with its address moved `count` elements; `len` is
    /// kept. See [`Cap::with_addr`].
    pub fn offset(&self, count: isize) -> Result<Self, CapError> {
        let bytes = count.wrapping_mul(size_of::<T>().cast_signed());
        let raw = rules::move_to(self.raw, self.addr().wrapping_add_signed(bytes), F::FORMAT)?;
        Ok(self.with_raw(raw, self.len))
    }

    /// The sub-slice `range` (indices from the address, as `&s[range]`) with
    /// bounds narrowed to exactly those elements; refused if outside the
    /// current bounds or not exactly representable.
    #[doc(alias = "CSetBoundsExact")]
    #[doc(alias = "SCBNDSE")]
    pub fn restrict_bounds(&self, range: Range<usize>) -> Result<Self, CapError> {
        let start = self.elem_addr(range.start);
        let count = rules::range_len(&self.raw, range.start, range.end)?;
        // An overflowing length saturates, and `narrow` refuses it as widening.
        let len = count.saturating_mul(size_of::<T>());
        let raw = rules::narrow(self.raw, start, len, Rounding::Exact, F::FORMAT)?;
        Ok(self.with_raw(raw, count))
    }

    /// A capability with only the permissions in both `self.perms()` and `keep`.
    #[doc(alias = "CAndPerm")]
    #[doc(alias = "CLRPERM")]
    pub fn restrict_perms(&self, keep: Perms) -> Result<Self, CapError> {
        Ok(self.with_raw(rules::restrict_perms(self.raw, keep)?, self.len))
    }

    /// Reads element `index` (`std`: `s.get(index).copied()`), refused where
    /// CHERI would trap.
    pub fn try_load(&self, index: usize) -> Result<T, CapError>
    where
        T: Copy,
    {
        let addr = self.elem_addr(index);
        rules::access(&self.raw, addr, size_of::<T>(), Perms::LOAD)?;
        // SAFETY: `access` checked [addr, addr + size_of::<T>()) lies in the
        // bounds, inside the slice this capability was made from; the pointer
        // keeps that slice's provenance (`with_addr`), the borrow lives for 'a.
        Ok(unsafe { self.raw.ptr().with_addr(addr).cast::<T>().read_unaligned() })
    }

    /// Reads element `index`; panics where CHERI would trap.
    pub fn load(&self, index: usize) -> T
    where
        T: Copy,
    {
        self.try_load(index)
            .unwrap_or_else(|e| panic!("capability load refused: {e}"))
    }

    /// Writes element `index`.
    pub fn try_store(&self, index: usize, value: T) -> Result<(), CapError>
    where
        T: Copy,
    {
        let addr = self.elem_addr(index);
        rules::access(&self.raw, addr, size_of::<T>(), Perms::STORE)?;
        // SAFETY: as in `try_load`; STORE comes only from `from_mut_slice`,
        // whose `&'a mut` borrow is exclusive for 'a, and copies of this
        // capability only copy values in and out.
        unsafe {
            self.raw
                .ptr()
                .with_addr(addr)
                .cast::<T>()
                .write_unaligned(value);
        }
        Ok(())
    }

    /// Writes element `index`; panics where CHERI would trap.
    pub fn store(&self, index: usize, value: T)
    where
        T: Copy,
    {
        self.try_store(index, value)
            .unwrap_or_else(|e| panic!("capability store refused: {e}"));
    }

    /// Copies elements `start..start + dst.len()` into `dst` (one checked load
    /// of the whole run).
    pub fn try_read_into(&self, start: usize, dst: &mut [T]) -> Result<(), CapError>
    where
        T: Copy,
    {
        let addr = self.elem_addr(start);
        rules::access(&self.raw, addr, size_of_val(dst), Perms::LOAD)?;
        let src = self.raw.ptr().with_addr(addr).cast::<T>().cast_const();
        for (i, slot) in dst.iter_mut().enumerate() {
            // SAFETY: element i lies in [addr, addr + size_of_val(dst)), which
            // `access` checked is inside the bounds (see `try_load`).
            *slot = unsafe { src.wrapping_add(i).read_unaligned() };
        }
        Ok(())
    }

    /// The elements `0..len` as a `&[T]` (`std`: the slice itself).
    ///
    /// Only for capabilities made by [`from_slice`](CapSlice::from_slice):
    /// one made from a `&mut` may have a copy that stores, so it hands out
    /// copies, never references ([`CapError::Aliased`]).
    pub fn as_slice(&self) -> Result<&'a [T], CapError> {
        let bytes = self.len.saturating_mul(size_of::<T>());
        rules::access(&self.raw, self.addr(), bytes, Perms::LOAD)?;
        if !self.shared {
            return Err(CapError::Aliased { addr: self.addr() });
        }
        if !self.addr().is_multiple_of(align_of::<T>()) {
            // Only reachable by moving the address off the element grid.
            return Err(CapError::Misaligned {
                addr: self.addr(),
                align: align_of::<T>(),
            });
        }
        let ptr = self.raw.ptr().cast::<T>().cast_const();
        // SAFETY: the capability came from a `&'a [T]` (`shared`), so the
        // memory is immutable for 'a; `access` checked that the `len` elements
        // lie inside the bounds, i.e. inside that slice, whose provenance the
        // pointer carries; the address is aligned (checked above) and not null
        // (it is at or above the base, the address of a Rust slice).
        Ok(unsafe { std::slice::from_raw_parts(ptr, self.len) })
    }
}

impl<T, F> fmt::Debug for CapSlice<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "CapSlice", self.raw)
    }
}

/// A capability that [`SealingCap`](crate::SealingCap) can seal and unseal:
/// [`Cap`] and [`CapSlice`]. Not implementable outside this crate.
pub trait Sealable: private::HasRaw {}

impl<T, F: CapFormat> Sealable for Cap<'_, T, F> {}
impl<T, F: CapFormat> Sealable for CapSlice<'_, T, F> {}

pub(crate) mod private {
    use crate::raw::Raw;

    /// Access to the capability inside a [`Cap`](super::Cap) or
    /// [`CapSlice`](super::CapSlice); public in a private module so that
    /// [`Sealable`](super::Sealable) is sealed.
    #[allow(private_interfaces)]
    pub trait HasRaw {
        #[doc(hidden)]
        fn raw(&self) -> Raw;
        #[doc(hidden)]
        fn replace_raw(self, raw: Raw) -> Self;
    }
}

// `Raw` is crate-private; the trait's module is private, so outside code can
// name neither.
#[allow(private_interfaces)]
impl<T, F: CapFormat> private::HasRaw for Cap<'_, T, F> {
    fn raw(&self) -> Raw {
        self.raw
    }
    fn replace_raw(self, raw: Raw) -> Self {
        self.with_raw(raw)
    }
}

#[allow(private_interfaces)]
impl<T, F: CapFormat> private::HasRaw for CapSlice<'_, T, F> {
    fn raw(&self) -> Raw {
        self.raw
    }
    fn replace_raw(self, raw: Raw) -> Self {
        self.with_raw(raw, self.len)
    }
}
