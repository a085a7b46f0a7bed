//! [`UdpSocket<R>`].

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{DATAGRAM_RIGHTS, socket_handle};
use crate::AmbientAuthority;
use crate::rights::{Datagram, HasRecv, HasSend, HasStat, RightSet, Rights};

fn udp_label(s: &std::net::UdpSocket) -> String {
    s.local_addr()
        .map_or_else(|_| "(unbound)".to_owned(), |a| a.to_string())
}

socket_handle! {
    /// A UDP socket with the rights `R`, like [`std::net::UdpSocket`] (built
    /// on [`cap_std::net::UdpSocket`]).
    ///
    /// Receiving needs `Recv`, sending needs `Send`, socket options `SetOpt`,
    /// the addresses `Stat`. `UdpSocket` with no parameter is
    /// `UdpSocket<`[`Datagram`]`>`. The socket itself cannot reach a new
    /// address: sending to one ([`Net::send_to`](super::Net::send_to)) or
    /// connecting ([`Net::connect_udp`](super::Net::connect_udp)) takes a
    /// [`Net`](super::Net) grant. Get one from
    /// [`Net::bind_udp`](super::Net::bind_udp), or by name with
    /// [`bind_ambient`](Self::bind_ambient).
    UdpSocket, Datagram, cap_std::net::UdpSocket, std::net::UdpSocket, Udp, DATAGRAM_RIGHTS, "UDP socket", udp_label
}

impl<R: RightSet> UdpSocket<R> {
    /// Binds a UDP socket on `addr` by name, with the rights `R`. See
    /// [`std::net::UdpSocket::bind`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may bind any address the process
    /// may bind.
    pub fn bind_ambient(addr: impl ToSocketAddrs, ambient: AmbientAuthority) -> io::Result<Self> {
        let std = std::net::UdpSocket::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("bind a UDP socket: {e}")))?;
        Ok(Self::from_std(std, ambient))
    }

    pub(crate) fn as_cap_std(&self) -> &cap_std::net::UdpSocket {
        &self.inner
    }

    /// Sends `buf` to the connected peer. Needs `Send`. See [`std::net::UdpSocket::send`].
    #[inline]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize>
    where
        R: HasSend,
    {
        self.need(Rights::SEND)?;
        self.inner.send(buf)
    }

    /// Receives a datagram from the connected peer. Needs `Recv`. See
    /// [`std::net::UdpSocket::recv`].
    #[inline]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.recv(buf)
    }

    /// Receives a datagram and the address it came from. Needs `Recv`. See
    /// [`std::net::UdpSocket::recv_from`].
    #[inline]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.recv_from(buf)
    }

    /// Receives a datagram without consuming it. Needs `Recv`. See
    /// [`std::net::UdpSocket::peek_from`].
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.peek_from(buf)
    }

    /// The local address. Needs `Stat`. See [`std::net::UdpSocket::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    /// The connected peer's address. Needs `Stat`. See [`std::net::UdpSocket::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.peer_addr()
    }

    socket_options!(std::net::UdpSocket; set_read_timeout, set_write_timeout, set_ttl, set_nonblocking, take_error);
}
