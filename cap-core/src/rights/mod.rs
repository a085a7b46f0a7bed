//! Rights in types.
//!
//! Every handle carries a *right set* type parameter: `Dir<rights![Lookup, Read]>`.
//! A method that needs a right exists only where the set has it, and a call
//! without it fails at `cargo check` with a message naming the right:
//!
//! ```compile_fail
//! use cap_core::{rights, fs::Dir};
//! fn f(dir: &Dir<rights![Lookup, Read]>) {
//!     dir.remove_file("x"); // error: this handle does not have the `Remove` right
//! }
//! ```
//!
//! The same rights in any order name the same type, so nothing has to be said
//! twice in the same order:
//!
//! ```
//! use cap_core::rights;
//! fn same(x: std::marker::PhantomData<rights![Read, Lookup]>) -> std::marker::PhantomData<rights![Lookup, Read]> {
//!     x
//! }
//! ```
//!
//! Rights only narrow: `narrow::<S>()` compiles only when `S` is a subset, and
//! handles opened from a directory never get more than the directory has.
//! For rights known only at run time (from a configuration file, say) there is
//! [`Dynamic`]: the same methods, checked when called, failing with an
//! [`io::Error`](std::io::Error) that names the missing right.

use std::io;

pub use cap_runtime::Rights;

/// The catalogue of rights, one variant per right, in bit order.
///
/// This is what `rights![..]` takes; [`Rights`] is the same catalogue as a mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Right {
    /// Open paths beneath a directory.
    Lookup,
    /// Read files, list directories, read from streams.
    Read,
    /// Write existing files, write to streams.
    Write,
    /// Create files and directories.
    Create,
    /// Unlink files, remove directories.
    Remove,
    /// Rename and hard-link within the granted tree.
    Rename,
    /// Truncate files (`O_TRUNC`, `set_len`).
    Truncate,
    /// Create symbolic links.
    Symlink,
    /// Execute files beneath a directory.
    Exec,
    /// Read metadata.
    Stat,
    /// Change metadata: permissions, owner, times.
    SetMeta,
    /// Accept connections on a listener.
    Accept,
    /// Shut down a stream.
    Shutdown,
    /// Set socket options.
    SetOpt,
    /// Send datagrams.
    Send,
    /// Receive datagrams.
    Recv,
}

impl Right {
    /// This right as a one-bit mask.
    pub const fn mask(self) -> Rights {
        Rights::from_bits_retain(1 << self as u8)
    }
}

/// Whether `right` is listed in `list`: what `rights![..]` evaluates per position.
#[doc(hidden)]
pub const fn __has(list: &[Right], right: Right) -> bool {
    let mut i = 0;
    while i < list.len() {
        if list[i] as u8 == right as u8 {
            return true;
        }
        i += 1;
    }
    false
}

/// Names a right set type: `rights![Lookup, Read]`.
///
/// The order does not matter and a right listed twice counts once; the result
/// is a [`Set`] with one `bool` per right of the catalogue ([`Right`]).
#[macro_export]
macro_rules! rights {
    ($($right:ident),* $(,)?) => {
        $crate::rights::Set<
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Lookup) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Read) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Write) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Create) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Remove) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Rename) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Truncate) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Symlink) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Exec) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Stat) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::SetMeta) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Accept) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Shutdown) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::SetOpt) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Send) },
            { $crate::rights::__has(&[$($crate::rights::Right::$right),*], $crate::rights::Right::Recv) },
        >
    };
}

/// A right set known at compile time: one `bool` per right of the catalogue,
/// in [`Right`] order. Spell it with [`rights!`](crate::rights!).
///
/// It has no values; it only ever appears as a type parameter.
#[allow(clippy::type_complexity)]
pub enum Set<
    const LOOKUP: bool,
    const READ: bool,
    const WRITE: bool,
    const CREATE: bool,
    const REMOVE: bool,
    const RENAME: bool,
    const TRUNCATE: bool,
    const SYMLINK: bool,
    const EXEC: bool,
    const STAT: bool,
    const SET_META: bool,
    const ACCEPT: bool,
    const SHUTDOWN: bool,
    const SET_OPT: bool,
    const SEND: bool,
    const RECV: bool,
> {}

/// Rights known only at run time: the handle stores its mask, and each method
/// checks it when called, failing with an error that names the missing right.
///
/// Get one with `into_dynamic()` on any handle, or open one directly with a
/// mask (for example `Dir::open_ambient_dir_dynamic`).
pub enum Dynamic {}

mod sealed {
    pub trait Sealed {}
}

/// A right set: a [`Set`] or [`Dynamic`].
pub trait RightSet: sealed::Sealed + 'static {
    /// The rights of this set as a mask (everything, for [`Dynamic`], whose
    /// handles keep their real mask at run time).
    const RIGHTS: Rights;
    /// Whether the rights are checked at run time.
    const DYNAMIC: bool = false;
    /// What a file opened for reading from a directory with these rights gets:
    /// `Read`, `Stat` and `SetMeta`, where this set has them.
    type Reader: RightSet;
    /// What a file opened for writing gets: `Write`, `Truncate`, `Stat`, `SetMeta`.
    type Writer: RightSet;
    /// The rights that mean something on a file: `Read`, `Write`, `Truncate`,
    /// `Exec`, `Stat`, `SetMeta`.
    type FileRights: RightSet;
}

impl sealed::Sealed for Dynamic {}

/// A dynamic handle narrows to itself (its mask is what is checked).
impl SubsetOf<Dynamic> for Dynamic {}

impl RightSet for Dynamic {
    const RIGHTS: Rights = Rights::all();
    const DYNAMIC: bool = true;
    type Reader = Dynamic;
    type Writer = Dynamic;
    type FileRights = Dynamic;
}

/// `S: SubsetOf<R>` holds when every right of `S` is in `R`: narrowing from `R`
/// to `S` is allowed. There is no way to widen.
#[diagnostic::on_unimplemented(
    message = "cannot widen rights: `{Self}` is not a subset of the handle's rights `{R}`",
    note = "rights only narrow; open a handle that has the right instead"
)]
pub trait SubsetOf<R>: RightSet {}

/// A type-level boolean, used to compare two sets position by position.
#[doc(hidden)]
pub struct Bit<const B: bool>;

macro_rules! has_right {
    ($trait:ident, $doc:literal, $msg:literal, $label:literal, $note:literal, [$($before:ident)*], [$($after:ident)*]) => {
        #[doc = $doc]
        #[diagnostic::on_unimplemented(message = $msg, label = $label, note = $note)]
        pub trait $trait: RightSet {}
        impl<$(const $before: bool,)* $(const $after: bool,)*> $trait for Set<$($before,)* true, $($after,)*> {}
        impl $trait for Dynamic {}
    };
}

macro_rules! keeps_right {
    ($trait:ident, $msg:literal, $label:literal) => {
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(
            message = $msg,
            label = $label,
            note = "rights only narrow; open a handle that has the right instead"
        )]
        pub trait $trait {}
        impl $trait for (Bit<false>, Bit<false>) {}
        impl $trait for (Bit<false>, Bit<true>) {}
        impl $trait for (Bit<true>, Bit<true>) {}
    };
}

include!("positional.rs");

/// Read-only access to a tree: look up, read, stat.
pub type ReadOnly = rights![Lookup, Read, Stat];
/// Read and write a tree: everything in [`ReadOnly`], plus write, create,
/// remove, rename and truncate.
pub type ReadWrite = rights![Lookup, Read, Stat, Write, Create, Remove, Rename, Truncate];
/// Every filesystem right of the catalogue.
pub type FullFs =
    rights![Lookup, Read, Write, Create, Remove, Rename, Truncate, Symlink, Exec, Stat, SetMeta];
/// Write-only access to a tree: look up, create, write, truncate (an output
/// directory that cannot be read back or cleaned).
pub type WriteOnly = rights![Lookup, Create, Write, Truncate];

/// Checks that `have` contains `need`, for the run-time face of a handle.
///
/// The error is `PermissionDenied` and names the handle (`what`), the missing
/// rights and the rights the handle has.
pub fn require(have: Rights, need: Rights, what: &dyn std::fmt::Display) -> io::Result<()> {
    let missing = need - have;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{what} does not have the right {missing} (it has {have})"),
        ))
    }
}

/// Every right that applies to a listener ([`TcpListener`](crate::net::TcpListener),
/// [`UnixListener`](crate::net::UnixListener)): accept, set options, read its address.
pub type Listener = rights![Accept, SetOpt, Stat];
/// Every right that applies to a stream ([`TcpStream`](crate::net::TcpStream),
/// [`UnixStream`](crate::net::UnixStream)): read, write, shut down, set options,
/// read its addresses.
pub type Stream = rights![Read, Write, Shutdown, SetOpt, Stat];
/// Every right that applies to a datagram socket ([`UdpSocket`](crate::net::UdpSocket),
/// [`UnixDatagram`](crate::net::UnixDatagram)): send, receive, shut down, set
/// options, read its addresses.
pub type Datagram = rights![Send, Recv, Shutdown, SetOpt, Stat];
/// A stream that can only be read (and its peer asked for): hand it to code
/// that consumes a request.
pub type ReadStream = rights![Read, Stat];
/// A stream that can only be written: hand it to code that produces a response.
pub type WriteStream = rights![Write, Shutdown];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_duplicates_do_not_matter() {
        assert_eq!(<rights![Read, Lookup]>::RIGHTS, <rights![Lookup, Read, Read]>::RIGHTS);
        assert_eq!(
            <rights![Lookup, Read]>::RIGHTS,
            Rights::LOOKUP | Rights::READ
        );
        assert_eq!(<rights![]>::RIGHTS, Rights::empty());
    }

    #[test]
    fn every_position_maps_to_its_bit() {
        assert_eq!(<rights![Recv]>::RIGHTS, Rights::RECV);
        assert_eq!(<rights![SetMeta]>::RIGHTS, Rights::SET_META);
        assert_eq!(<FullFs>::RIGHTS, Rights::FS);
        for (i, (mask, _)) in Rights::NAMES.into_iter().enumerate() {
            let right: Right = unsafe_free_right(i);
            assert_eq!(right.mask(), mask);
        }
    }

    fn unsafe_free_right(i: usize) -> Right {
        [
            Right::Lookup,
            Right::Read,
            Right::Write,
            Right::Create,
            Right::Remove,
            Right::Rename,
            Right::Truncate,
            Right::Symlink,
            Right::Exec,
            Right::Stat,
            Right::SetMeta,
            Right::Accept,
            Right::Shutdown,
            Right::SetOpt,
            Right::Send,
            Right::Recv,
        ][i]
    }

    #[test]
    fn derived_file_rights_never_exceed_the_parent() {
        type R = rights![Lookup, Read, Write, Stat];
        assert_eq!(<R as RightSet>::Reader::RIGHTS, Rights::READ | Rights::STAT);
        assert_eq!(<R as RightSet>::Writer::RIGHTS, Rights::WRITE | Rights::STAT);
        assert_eq!(<ReadOnly as RightSet>::Writer::RIGHTS, Rights::STAT);
    }

    fn is_subset<S: SubsetOf<R>, R>() {}

    #[test]
    fn subsets_compile() {
        is_subset::<rights![Read], rights![Read, Lookup]>();
        is_subset::<rights![], ReadWrite>();
        is_subset::<ReadOnly, ReadWrite>();
        is_subset::<ReadWrite, ReadWrite>();
    }

    #[test]
    fn require_names_what_is_missing() {
        let err = require(Rights::READ, Rights::READ | Rights::WRITE, &"dir `out`").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            err.to_string(),
            "dir `out` does not have the right [Write] (it has [Read])"
        );
    }
}
