//! [`TcpListener<R>`] and [`TcpStream<R>`].

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use super::{LISTENER_RIGHTS, STREAM_RIGHTS, ctx, socket_handle};
use crate::AmbientAuthority;
use crate::rights::{
    HasAccept, HasRead, HasSetOpt, HasShutdown, HasStat, HasWrite, Listener, RightSet, Rights,
    Stream,
};

fn listener_label(l: &std::net::TcpListener) -> String {
    l.local_addr()
        .map_or_else(|_| "(unbound)".to_owned(), |a| a.to_string())
}

fn stream_label(s: &std::net::TcpStream) -> String {
    s.peer_addr()
        .map_or_else(|_| "(unconnected)".to_owned(), |a| a.to_string())
}

socket_handle! {
    /// A listening TCP socket with the rights `R`, like
    /// [`std::net::TcpListener`] (built on [`cap_std::net::TcpListener`]).
    ///
    /// `accept` needs `Accept`, `local_addr` needs `Stat`, socket options need
    /// `SetOpt`. `TcpListener` with no parameter is
    /// `TcpListener<`[`Listener`]`>`: all three. Get one from
    /// [`Net::bind_tcp`](super::Net::bind_tcp), or by name with
    /// [`bind_ambient`](Self::bind_ambient).
    TcpListener, Listener, cap_std::net::TcpListener, std::net::TcpListener, TcpListener, LISTENER_RIGHTS, "TCP listener", listener_label
}

socket_handle! {
    /// A connected TCP stream with the rights `R`, like
    /// [`std::net::TcpStream`] (built on [`cap_std::net::TcpStream`]).
    ///
    /// [`Read`] is implemented where `R` has `Read`, [`Write`] where it has
    /// `Write`; `shutdown` needs `Shutdown`, socket options `SetOpt`, the
    /// addresses `Stat`. `TcpStream` with no parameter is
    /// `TcpStream<`[`Stream`]`>`: all five. Get one from
    /// [`Net::connect_tcp`](super::Net::connect_tcp) or
    /// [`TcpListener::accept`].
    TcpStream, Stream, cap_std::net::TcpStream, std::net::TcpStream, TcpStream, STREAM_RIGHTS, "TCP stream", stream_label
}

impl<R: RightSet> TcpListener<R> {
    /// Binds a listener on `addr` by name, with the rights `R`. See
    /// [`std::net::TcpListener::bind`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may bind any address the process
    /// may bind.
    pub fn bind_ambient(addr: impl ToSocketAddrs, ambient: AmbientAuthority) -> io::Result<Self> {
        let std = std::net::TcpListener::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("bind a TCP listener: {e}")))?;
        Ok(Self::from_std(std, ambient))
    }

    /// Accepts a connection. The stream gets every stream right
    /// ([`Stream`]); narrow it to hand it on with fewer. Needs `Accept`. See
    /// [`std::net::TcpListener::accept`].
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)>
    where
        R: HasAccept,
    {
        self.need(Rights::ACCEPT)?;
        let (s, peer) = self
            .inner
            .accept()
            .map_err(|e| ctx(&format_args!("accept on {self}"), e))?;
        Ok((
            TcpStream::from_parts(s, Rights::NET, Arc::from(peer.to_string())),
            peer,
        ))
    }

    /// An endless iterator over accepted connections. Needs `Accept`. See
    /// [`std::net::TcpListener::incoming`].
    pub fn incoming(&self) -> Incoming<'_, R>
    where
        R: HasAccept,
    {
        Incoming { listener: self }
    }

    /// The address this listener is bound to. Needs `Stat`. See
    /// [`std::net::TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    /// The value of `IP_TTL`. Needs `Stat`. See [`std::net::TcpListener::ttl`].
    pub fn ttl(&self) -> io::Result<u32>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.ttl()
    }

    socket_options!(std::net::TcpListener; take_error, set_ttl, set_nonblocking);
}

/// The iterator of [`TcpListener::incoming`]: each item is an accepted
/// stream or the error of one `accept`.
pub struct Incoming<'a, R: RightSet> {
    listener: &'a TcpListener<R>,
}

impl<R: RightSet> std::fmt::Debug for Incoming<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}

impl<R: HasAccept> Iterator for Incoming<'_, R> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

impl<R: RightSet> TcpStream<R> {
    /// Connects to `addr` by name, with the rights `R`. See
    /// [`std::net::TcpStream::connect`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may connect anywhere the process
    /// may connect.
    pub fn connect_ambient(
        addr: impl ToSocketAddrs,
        ambient: AmbientAuthority,
    ) -> io::Result<Self> {
        let std = std::net::TcpStream::connect(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("connect a TCP stream: {e}")))?;
        Ok(Self::from_std(std, ambient))
    }

    /// The address of the peer. Needs `Stat`. See [`std::net::TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.peer_addr()
    }

    /// The local address. Needs `Stat`. See [`std::net::TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    /// Shuts down the read half, the write half or both. Needs `Shutdown`.
    /// See [`std::net::TcpStream::shutdown`].
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()>
    where
        R: HasShutdown,
    {
        self.need(Rights::SHUTDOWN)?;
        self.inner
            .shutdown(how)
            .map_err(|e| ctx(&format_args!("shut down {self}"), e))
    }

    /// Reads without consuming. Needs `Read`. See [`std::net::TcpStream::peek`].
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        R: HasRead,
    {
        self.need(Rights::READ)?;
        self.inner.peek(buf)
    }

    /// Sets `TCP_NODELAY`. Needs `SetOpt`. See [`std::net::TcpStream::set_nodelay`].
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()>
    where
        R: HasSetOpt,
    {
        self.need(Rights::SET_OPT)?;
        self.inner.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set. Needs `Stat`. See [`std::net::TcpStream::nodelay`].
    pub fn nodelay(&self) -> io::Result<bool>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.nodelay()
    }

    socket_options!(std::net::TcpStream; set_read_timeout, set_write_timeout, set_ttl, set_nonblocking, take_error);
}

macro_rules! stream_io {
    ($name:ident) => {
        impl<R: HasRead> Read for $name<R> {
            #[inline]
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.need(Rights::READ)?;
                self.inner.read(buf)
            }
            fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                self.need(Rights::READ)?;
                self.inner.read_vectored(bufs)
            }
            fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
                self.need(Rights::READ)?;
                self.inner.read_to_end(buf)
            }
            fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
                self.need(Rights::READ)?;
                self.inner.read_to_string(buf)
            }
        }

        impl<R: HasRead> Read for &$name<R> {
            #[inline]
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.need(Rights::READ)?;
                (&self.inner).read(buf)
            }
        }

        impl<R: HasWrite> Write for $name<R> {
            #[inline]
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.need(Rights::WRITE)?;
                self.inner.write(buf)
            }
            fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                self.need(Rights::WRITE)?;
                self.inner.write_vectored(bufs)
            }
            fn flush(&mut self) -> io::Result<()> {
                self.inner.flush()
            }
        }

        impl<R: HasWrite> Write for &$name<R> {
            #[inline]
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.need(Rights::WRITE)?;
                (&self.inner).write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                (&self.inner).flush()
            }
        }
    };
}
#[cfg_attr(not(unix), allow(unused_imports))] // the unix stream uses it too
pub(crate) use stream_io;

stream_io!(TcpStream);
