//! Async sockets: a capability-typed [`tokio::net`](::tokio::net).
//!
//! Each handle is the async face of a sync [`crate::net`] handle, with the
//! same rights in its type (`accept` needs `Accept`, reading needs `Read`,
//! `send` needs `Send`, the addresses need `Stat`...). Convert with
//! `TryFrom`: `TcpListener::try_from(sync_listener)?` keeps the rights, takes
//! no ambient token, and registers the socket with the current tokio runtime
//! (an error, not a panic, outside one). `into_sync` goes back.
//!
//! ```
//! use cap_core::{ambient_authority, net::Net};
//! use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
//! let net = Net::builder(ambient_authority()).bind("127.0.0.1:0")?.build();
//! let sync = net.bind_tcp("127.0.0.1:0")?;
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
//! # rt.block_on(async {
//! let listener = cap_core::tokio::net::TcpListener::try_from(sync)?;
//! let addr = listener.local_addr()?;
//! let client = tokio::spawn(async move {
//!     let mut s = tokio::net::TcpStream::connect(addr).await?;
//!     s.write_all(b"ping").await
//! });
//! let (mut stream, _) = listener.accept().await?;
//! let mut buf = [0; 4];
//! stream.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"ping");
//! client.await.unwrap()?;
//! # Ok::<(), std::io::Error>(()) })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::{self as sync, DATAGRAM_RIGHTS, LISTENER_RIGHTS, STREAM_RIGHTS};
use crate::rights::{
    self, Datagram, Dynamic, HasAccept, HasRead, HasRecv, HasSend, HasSetOpt, HasStat, HasWrite,
    Listener, RightSet, Rights, Stream, SubsetOf,
};

pub use ::tokio::net::unix::SocketAddr as UnixSocketAddr;

/// An error instead of tokio's panic when a socket is converted outside a
/// runtime.
fn need_runtime(what: &dyn fmt::Display) -> io::Result<()> {
    ::tokio::runtime::Handle::try_current().map(drop).map_err(|_| {
        io::Error::other(format!(
            "convert {what} to an async handle: no tokio runtime is running here (build the runtime first, after the sandbox is entered, and convert inside it)"
        ))
    })
}

/// The struct, rights face and conversions every async socket shares.
macro_rules! async_socket {
    (
        $(#[$meta:meta])*
        $name:ident, $default:ty, $tokio:ty, $sync:ident, $cap_std:ty, $mask:expr, $noun:literal
    ) => {
        $(#[$meta])*
        pub struct $name<R: RightSet = $default> {
            inner: $tokio,
            rights: Rights,
            label: Arc<str>,
            _rights: std::marker::PhantomData<fn() -> R>,
        }

        impl<R: RightSet> fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(concat!("tokio::net::", stringify!($name)))
                    .field("label", &self.label)
                    .field("rights", &format_args!("{}", self.rights))
                    .finish_non_exhaustive()
            }
        }

        impl<R: RightSet> fmt::Display for $name<R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($noun, " `{}`"), self.label)
            }
        }

        /// The async face of a sync socket: the same rights, no token. Needs a
        /// running tokio runtime with I/O enabled (an error otherwise).
        impl<R: RightSet> TryFrom<sync::$sync<R>> for $name<R> {
            type Error = io::Error;

            fn try_from(socket: sync::$sync<R>) -> io::Result<Self> {
                need_runtime(&socket)?;
                let rights = socket.rights();
                let label: Arc<str> = Arc::from(socket.label());
                // The typing moves to this handle, which keeps `rights`; the
                // token only unwraps the descriptor inside cap-core.
                let std = socket.into_std(crate::ambient_authority());
                std.set_nonblocking(true)?;
                Ok(Self::from_parts(<$tokio>::from_std(std)?, rights, label))
            }
        }

        impl<R: RightSet> $name<R> {
            fn from_parts(inner: $tokio, rights: Rights, label: Arc<str>) -> Self {
                Self { inner, rights: rights & $mask, label, _rights: std::marker::PhantomData }
            }

            /// The rights of this handle, as a mask.
            pub fn rights(&self) -> Rights {
                self.rights
            }

            /// What this handle is bound or connected to, for messages only.
            pub fn label(&self) -> &str {
                &self.label
            }

            /// Gives up rights: the same socket with the rights `S`, a subset
            /// of `R`. A wider `S` does not compile.
            pub fn narrow<S: SubsetOf<R>>(self) -> $name<S> {
                let rights = if S::DYNAMIC { self.rights } else { S::RIGHTS & self.rights };
                $name::from_parts(self.inner, rights, self.label)
            }

            /// Moves the rights check to run time.
            pub fn into_dynamic(self) -> $name<Dynamic> {
                $name::from_parts(self.inner, self.rights, self.label)
            }

            /// Back to the sync handle, with the same rights (deregistered
            /// from the runtime and set to blocking mode again).
            pub fn into_sync(self) -> io::Result<sync::$sync<R>> {
                let std = self.inner.into_std()?;
                std.set_nonblocking(false)?;
                let inner = <$cap_std>::from(OwnedFd::from(std));
                Ok(sync::$sync::from_parts(inner, self.rights, self.label))
            }

            #[inline]
            fn need(&self, need: Rights) -> io::Result<()> {
                if R::DYNAMIC { rights::require(self.rights, need, self) } else { Ok(()) }
            }
        }
    };
}

/// `AsyncRead` where `R` has `Read`, `AsyncWrite` where it has `Write`
/// (`poll_shutdown`, the end of writing, comes with `Write`).
macro_rules! stream_io {
    ($name:ident) => {
        impl<R: HasRead> AsyncRead for $name<R> {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let this = self.get_mut();
                this.need(Rights::READ)?;
                Pin::new(&mut this.inner).poll_read(cx, buf)
            }
        }

        impl<R: HasWrite> AsyncWrite for $name<R> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let this = self.get_mut();
                this.need(Rights::WRITE)?;
                Pin::new(&mut this.inner).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let this = self.get_mut();
                this.need(Rights::WRITE)?;
                Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.get_mut().inner).poll_flush(cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let this = self.get_mut();
                this.need(Rights::WRITE)?;
                Pin::new(&mut this.inner).poll_shutdown(cx)
            }
        }
    };
}

async_socket! {
    /// A listening TCP socket with the rights `R`, like
    /// [`tokio::net::TcpListener`](::tokio::net::TcpListener). `accept` needs
    /// `Accept`, `local_addr` needs `Stat`.
    TcpListener, Listener, ::tokio::net::TcpListener, TcpListener, cap_std::net::TcpListener, LISTENER_RIGHTS, "TCP listener"
}

async_socket! {
    /// A connected TCP stream with the rights `R`, like
    /// [`tokio::net::TcpStream`](::tokio::net::TcpStream). [`AsyncRead`] needs
    /// `Read`, [`AsyncWrite`] needs `Write`, the addresses `Stat`, `set_nodelay`
    /// `SetOpt`.
    TcpStream, Stream, ::tokio::net::TcpStream, TcpStream, cap_std::net::TcpStream, STREAM_RIGHTS, "TCP stream"
}

async_socket! {
    /// A UDP socket with the rights `R`, like
    /// [`tokio::net::UdpSocket`](::tokio::net::UdpSocket). Sending (to the
    /// connected peer) needs `Send`, receiving `Recv`, the addresses `Stat`.
    /// Sending to a new address takes a [`Net`](crate::net::Net) grant, on
    /// the sync side.
    UdpSocket, Datagram, ::tokio::net::UdpSocket, UdpSocket, cap_std::net::UdpSocket, DATAGRAM_RIGHTS, "UDP socket"
}

async_socket! {
    /// A listening unix-domain stream socket with the rights `R`, like
    /// [`tokio::net::UnixListener`](::tokio::net::UnixListener). `accept` needs
    /// `Accept`, `local_addr` needs `Stat`.
    UnixListener, Listener, ::tokio::net::UnixListener, UnixListener, cap_std::os::unix::net::UnixListener, LISTENER_RIGHTS, "unix listener"
}

async_socket! {
    /// A connected unix-domain stream socket with the rights `R`, like
    /// [`tokio::net::UnixStream`](::tokio::net::UnixStream). [`AsyncRead`]
    /// needs `Read`, [`AsyncWrite`] needs `Write`.
    UnixStream, Stream, ::tokio::net::UnixStream, UnixStream, cap_std::os::unix::net::UnixStream, STREAM_RIGHTS, "unix stream"
}

stream_io!(TcpStream);
stream_io!(UnixStream);

impl<R: RightSet> TcpListener<R> {
    /// Accepts a connection; the stream gets every stream right ([`Stream`]).
    /// Needs `Accept`. See [`tokio::net::TcpListener::accept`](::tokio::net::TcpListener::accept).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)>
    where
        R: HasAccept,
    {
        self.need(Rights::ACCEPT)?;
        let (stream, peer) = self
            .inner
            .accept()
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("accept on {self}: {e}")))?;
        let label = Arc::from(peer.to_string());
        Ok((TcpStream::from_parts(stream, Rights::NET, label), peer))
    }

    /// The address this listener is bound to. Needs `Stat`.
    pub fn local_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }
}

impl<R: RightSet> TcpStream<R> {
    /// The peer's address. Needs `Stat`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.peer_addr()
    }

    /// The local address. Needs `Stat`.
    pub fn local_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    /// Sets `TCP_NODELAY`. Needs `SetOpt`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()>
    where
        R: HasSetOpt,
    {
        self.need(Rights::SET_OPT)?;
        self.inner.set_nodelay(nodelay)
    }

    /// Reads without consuming. Needs `Read`. See
    /// [`tokio::net::TcpStream::peek`](::tokio::net::TcpStream::peek).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        R: HasRead,
    {
        self.need(Rights::READ)?;
        self.inner.peek(buf).await
    }
}

impl<R: RightSet> UdpSocket<R> {
    /// Sends to the connected peer. Needs `Send`.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize>
    where
        R: HasSend,
    {
        self.need(Rights::SEND)?;
        self.inner.send(buf).await
    }

    /// Receives from the connected peer. Needs `Recv`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.recv(buf).await
    }

    /// Receives a datagram and its sender. Needs `Recv`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.recv_from(buf).await
    }

    /// The local address. Needs `Stat`.
    pub fn local_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    /// The connected peer's address. Needs `Stat`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.peer_addr()
    }
}

impl<R: RightSet> UnixListener<R> {
    /// Accepts a connection; the stream gets every stream right. Needs
    /// `Accept`. See [`tokio::net::UnixListener::accept`](::tokio::net::UnixListener::accept).
    pub async fn accept(&self) -> io::Result<(UnixStream, UnixSocketAddr)>
    where
        R: HasAccept,
    {
        self.need(Rights::ACCEPT)?;
        let (stream, peer) = self
            .inner
            .accept()
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("accept on {self}: {e}")))?;
        let label = Arc::from(format!("peer of {}", self.label));
        Ok((UnixStream::from_parts(stream, Rights::NET, label), peer))
    }

    /// The address this listener is bound to. Needs `Stat`.
    pub fn local_addr(&self) -> io::Result<UnixSocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }
}

impl UnixStream {
    /// A pair of connected streams with every stream right; needs no
    /// authority. See [`tokio::net::UnixStream::pair`](::tokio::net::UnixStream::pair).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sync::UnixStream::pair()?;
        Ok((UnixStream::try_from(a)?, UnixStream::try_from(b)?))
    }
}

impl<R: RightSet> UnixStream<R> {
    /// The peer's address. Needs `Stat`.
    pub fn peer_addr(&self) -> io::Result<UnixSocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.peer_addr()
    }
}
