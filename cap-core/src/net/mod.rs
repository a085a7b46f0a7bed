//! Network handles: a capability-typed [`std::net`] (and unix-domain sockets).
//!
//! Two kinds of authority, kept apart:
//!
//! - **Handles** you hold: [`TcpListener<R>`], [`TcpStream<R>`], [`UdpSocket<R>`],
//!   [`UnixListener<R>`], [`UnixStream<R>`], [`UnixDatagram<R>`]. Each carries
//!   its rights in its type, like the filesystem handles: `accept` needs
//!   `Accept`, reading a stream needs `Read`, `send` on a datagram socket needs
//!   `Send`, `shutdown` needs `Shutdown`, socket options need `SetOpt`, and the
//!   local and peer addresses need `Stat`. Rights only narrow
//!   (`narrow::<S>()`), never widen. Without type parameters each names the
//!   handle with every right that applies to it (`TcpListener` is
//!   `TcpListener<`[`Listener`]`>`).
//! - **Grants** to make new sockets: a [`Net`] is scoped to operations
//!   ([`Op`]: TCP connect, TCP bind, UDP bind, UDP connect, UDP `send_to`),
//!   addresses and ports. Host names are resolved when the grant is built
//!   (before the sandbox is entered); afterwards a name is looked up in the
//!   grant's own table, never in DNS. A grant narrows ([`Net::only_ops`],
//!   [`Net::only_addrs`], [`Net::only_ports`]) and never widens: nothing adds to it
//!   after [`NetBuilder::build`], and building needs the ambient token.
//!
//! Unix-domain sockets are named by paths, so their authority is a
//! directory: [`Dir::bind_unix_listener`](crate::fs::Dir::bind_unix_listener)
//! and friends bind and connect beneath a [`Dir`](crate::fs::Dir).
//!
//! Conversions to `std` (`into_std`) give up the typing and are the way to hand
//! a socket to another library (tokio, hyper, tiny_http, rustls); they take the
//! ambient token, because the result is no longer limited by the handle's
//! rights. Conversions from `std` (`from_std`) take it too, because a `std`
//! socket was made by name.
//!
//! ```
//! use std::io::{Read, Write};
//! use cap_core::{ambient_authority, net::Net, rights};
//!
//! // The grant: bind any loopback port, and connect to loopback.
//! let net = Net::builder(ambient_authority())
//!     .bind("127.0.0.1:0")?
//!     .allow(cap_core::net::Op::TcpConnect, "127.0.0.1/32".parse().unwrap(), 1..=65535)
//!     .build();
//! let listener = net.bind_tcp("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let mut client = net.connect_tcp(addr)?;
//! let (mut server, _) = listener.accept()?;
//! client.write_all(b"ping")?;
//! let mut buf = [0; 4];
//! server.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"ping");
//!
//! // Out of the grant: refused, and the message says why.
//! let err = net.connect_tcp("127.0.0.2:80").unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
//! assert!(err.to_string().contains("127.0.0.2:80"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

pub use by_name::NameRule;
pub use grant::{Addrs, Net, NetBuilder, Op, Scope, Target};
pub use ipnet::IpNet;
pub use std::net::{Shutdown, SocketAddr};
pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixSocketAddr, UnixStream};

use crate::rights::Rights;
pub use crate::rights::{Datagram, Listener, Stream};

/// The rights that mean something on a listener.
pub(crate) const LISTENER_RIGHTS: Rights =
    Rights::ACCEPT.union(Rights::SET_OPT).union(Rights::STAT);
/// The rights that mean something on a stream.
pub(crate) const STREAM_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::SHUTDOWN)
    .union(Rights::SET_OPT)
    .union(Rights::STAT);
/// The rights that mean something on a datagram socket.
pub(crate) const DATAGRAM_RIGHTS: Rights = Rights::SEND
    .union(Rights::RECV)
    .union(Rights::SHUTDOWN)
    .union(Rights::SET_OPT)
    .union(Rights::STAT);

/// Wraps `source` so its message says what was being done to which socket.
#[allow(clippy::needless_pass_by_value)] // used as `map_err(|e| ctx(.., e))`
pub(crate) fn ctx(what: &dyn std::fmt::Display, source: io::Error) -> io::Error {
    io::Error::new(source.kind(), format!("{what}: {source}"))
}

/// Socket options shared by several handles, each a thin call to the `std`
/// socket's own method: `set_*` needs `SetOpt`, `take_error` needs `Stat`.
/// Used inside an `impl<R: RightSet> Handle<R>` block, naming the `std` type
/// the methods mirror and the options that type has.
macro_rules! socket_options {
    ($std:ty; $($option:ident),* $(,)?) => {
        $( socket_options!(@one $std, $option); )*
    };
    (@one $std:ty, set_read_timeout) => {
        /// Sets the read timeout. Needs `SetOpt`.
        #[doc = concat!("See [`", stringify!($std), "::set_read_timeout`].")]
        pub fn set_read_timeout(&self, dur: Option<::std::time::Duration>) -> ::std::io::Result<()>
        where
            R: $crate::rights::HasSetOpt,
        {
            self.need($crate::rights::Rights::SET_OPT)?;
            self.inner.set_read_timeout(dur)
        }
    };
    (@one $std:ty, set_write_timeout) => {
        /// Sets the write timeout. Needs `SetOpt`.
        #[doc = concat!("See [`", stringify!($std), "::set_write_timeout`].")]
        pub fn set_write_timeout(&self, dur: Option<::std::time::Duration>) -> ::std::io::Result<()>
        where
            R: $crate::rights::HasSetOpt,
        {
            self.need($crate::rights::Rights::SET_OPT)?;
            self.inner.set_write_timeout(dur)
        }
    };
    (@one $std:ty, set_ttl) => {
        /// Sets `IP_TTL`. Needs `SetOpt`.
        #[doc = concat!("See [`", stringify!($std), "::set_ttl`].")]
        pub fn set_ttl(&self, ttl: u32) -> ::std::io::Result<()>
        where
            R: $crate::rights::HasSetOpt,
        {
            self.need($crate::rights::Rights::SET_OPT)?;
            self.inner.set_ttl(ttl)
        }
    };
    (@one $std:ty, set_nonblocking) => {
        /// Moves the socket in or out of non-blocking mode. Needs `SetOpt`.
        #[doc = concat!("See [`", stringify!($std), "::set_nonblocking`].")]
        pub fn set_nonblocking(&self, nonblocking: bool) -> ::std::io::Result<()>
        where
            R: $crate::rights::HasSetOpt,
        {
            self.need($crate::rights::Rights::SET_OPT)?;
            self.inner.set_nonblocking(nonblocking)
        }
    };
    (@one $std:ty, take_error) => {
        /// Takes the pending socket error (`SO_ERROR`). Needs `Stat`.
        #[doc = concat!("See [`", stringify!($std), "::take_error`].")]
        pub fn take_error(&self) -> ::std::io::Result<Option<::std::io::Error>>
        where
            R: $crate::rights::HasStat,
        {
            self.need($crate::rights::Rights::STAT)?;
            self.inner.take_error()
        }
    };
}

// The handle modules come after `socket_options!`, which they use.
mod by_name;
mod grant;
mod tcp;
mod udp;
#[cfg(unix)]
mod unix;

/// The boilerplate shared by every socket handle: the struct, its formatting,
/// its rights face (`rights`, `narrow`, `into_dynamic`, `try_narrow`), the
/// run-time check, `try_clone`, the `std` conversions and the sandbox grant.
macro_rules! socket_handle {
    (
        $(#[$meta:meta])*
        $name:ident, $default:ty, $inner:ty, $std:ty, $kind:ident, $mask:expr, $noun:literal, $labeler:path
    ) => {
        $(#[$meta])*
        pub struct $name<R: $crate::rights::RightSet = $default> {
            inner: $inner,
            rights: $crate::rights::Rights,
            label: ::std::sync::Arc<str>,
            _rights: ::std::marker::PhantomData<fn() -> R>,
        }

        impl<R: $crate::rights::RightSet> ::std::fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("label", &self.label)
                    .field("rights", &format_args!("{}", self.rights))
                    .finish_non_exhaustive()
            }
        }

        impl<R: $crate::rights::RightSet> ::std::fmt::Display for $name<R> {
            #[doc = concat!("`", $noun, " `label``: how errors name this handle.")]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!($noun, " `{}`"), self.label)
            }
        }

        impl<R: $crate::rights::RightSet> $name<R> {
            pub(crate) fn from_parts(inner: $inner, rights: $crate::rights::Rights, label: ::std::sync::Arc<str>) -> Self {
                Self { inner, rights: rights & $mask, label, _rights: ::std::marker::PhantomData }
            }

            /// The descriptor, for `cap_core::process` (handle tables, passing).
            #[cfg(unix)]
            pub(crate) fn fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(&self.inner)
            }

            /// A handle around a descriptor received or inherited, for `cap_core::process`.
            #[cfg(unix)]
            pub(crate) fn from_owned_fd(fd: ::std::os::fd::OwnedFd, rights: $crate::rights::Rights, label: &str) -> Self {
                Self::from_parts(<$inner>::from(fd), rights, ::std::sync::Arc::from(label))
            }

            /// The rights of this handle, as a mask.
            pub fn rights(&self) -> $crate::rights::Rights {
                self.rights
            }

            /// What this handle is bound or connected to (an address or a
            /// path), for messages and reports only.
            pub fn label(&self) -> &str {
                &self.label
            }

            /// Gives up rights: the same socket with the rights `S`, a subset
            /// of `R`. A wider `S` does not compile.
            pub fn narrow<S: $crate::rights::SubsetOf<R>>(self) -> $name<S> {
                let rights = if S::DYNAMIC { self.rights } else { S::RIGHTS & self.rights };
                $name::from_parts(self.inner, rights, self.label)
            }

            /// Moves the rights check to run time: the same socket as a
            /// `Dynamic` handle with this handle's mask.
            pub fn into_dynamic(self) -> $name<$crate::rights::Dynamic> {
                $name::from_parts(self.inner, self.rights, self.label)
            }

            /// Converts to the static rights `S` if this handle has all of them
            /// (checked at run time; the error names the missing rights).
            pub fn try_narrow<S: $crate::rights::RightSet>(self) -> ::std::io::Result<$name<S>> {
                if !S::DYNAMIC {
                    $crate::rights::require(self.rights, S::RIGHTS & $mask, &self)?;
                }
                let rights = if S::DYNAMIC { self.rights } else { S::RIGHTS & $mask };
                Ok($name::from_parts(self.inner, rights, self.label))
            }

            /// Checks the run-time mask; a no-op for static rights, whose
            /// check the compiler already made.
            #[inline]
            pub(crate) fn need(&self, need: $crate::rights::Rights) -> ::std::io::Result<()> {
                if R::DYNAMIC { $crate::rights::require(self.rights, need, self) } else { Ok(()) }
            }

            /// Another handle to the same socket, with the same rights
            #[doc = concat!("(see [`", stringify!($std), "::try_clone`]).")]
            pub fn try_clone(&self) -> ::std::io::Result<Self> {
                let inner = self.inner.try_clone().map_err(|e| $crate::net::ctx(&format_args!("clone {self}"), e))?;
                Ok(Self::from_parts(inner, self.rights, self.label.clone()))
            }

            /// Gives up the typing: the
            #[doc = concat!("[`", stringify!($std), "`]")]
            /// behind this handle, which can do anything its descriptor allows
            /// whatever rights this handle had. This is how a socket is handed
            /// to another library (tokio, hyper, tiny_http, rustls...); the
            /// kernel policy can no longer tell what that library does with it.
            /// Takes the ambient token because the result is not limited by
            /// this handle's rights (a read-only stream becomes writable, a
            /// socket without `Send` can send anywhere), as `File::into_std`
            /// and `Dir::into_cap_std` do.
            ///
            /// # Ambient Authority
            ///
            /// The result is not limited by this handle's rights.
            pub fn into_std(self, ambient: $crate::AmbientAuthority) -> $std {
                let _ = ambient;
                #[cfg(unix)]
                return <$std>::from(::std::os::fd::OwnedFd::from(self.inner));
                #[cfg(windows)]
                return <$std>::from(::std::os::windows::io::OwnedSocket::from(self.inner));
            }

            /// Wraps a `std` socket with the rights `R` (of which only those
            /// that apply to this kind of socket are kept). Takes the ambient
            /// token because the `std` socket was made by name.
            ///
            /// # Ambient Authority
            ///
            /// The socket may be bound or connected to anything.
            pub fn from_std(std: $std, ambient: $crate::AmbientAuthority) -> Self {
                let _ = ambient;
                let label = ::std::sync::Arc::from($labeler(&std));
                #[cfg(unix)]
                let owned = ::std::os::fd::OwnedFd::from(std);
                #[cfg(windows)]
                let owned = ::std::os::windows::io::OwnedSocket::from(std);
                Self::from_parts(<$inner>::from(owned), R::RIGHTS, label)
            }
        }

        impl<R: $crate::rights::RightSet> $crate::sandbox::Grant for $name<R> {
            fn grant<'a>(&'a self, policy: &mut $crate::sandbox::Policy<'a>) {
                #[cfg(unix)]
                let fd = ::std::os::fd::AsFd::as_fd(&self.inner);
                #[cfg(windows)]
                let fd = ::std::os::windows::io::AsSocket::as_socket(&self.inner).into();
                policy.socket(fd, ::cap_runtime::SocketKind::$kind, self.rights, &self.label);
            }
        }

    };
}
pub(crate) use socket_handle;
