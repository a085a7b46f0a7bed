//! [`Channel`]: typed messages between two processes over a unix socketpair.

use std::fmt;
use std::io;
use std::marker::PhantomData;

use rustix::net::RecvFlags;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::passing::{Passable, stream_recv, stream_send};
use crate::net::UnixStream;

/// The largest message a channel accepts (a guard against a peer that sends
/// a huge length).
pub const MAX_MESSAGE: usize = 64 << 20;

/// One end of a typed channel: sends `Tx`, receives `Rx`, and passes handles
/// ([`Channel::send_handle`]). Messages are a 4-byte little-endian length and
/// the message as JSON.
///
/// Make a pair with [`Channel::pair`], put one end's socket in a child's
/// handle table ([`Channel::socket`] with
/// [`Command::handle`](super::Command::handle)), and in the child rebuild it
/// with [`Channel::from_socket`] from the inherited socket.
///
/// ```
/// use cap_core::process::Channel;
/// let (parent, child) = Channel::<String, u32>::pair()?;
/// parent.send(&"hello".to_owned())?;
/// assert_eq!(child.recv()?.as_deref(), Some("hello"));
/// child.send(&5)?;
/// assert_eq!(parent.recv()?, Some(5));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Channel<Tx, Rx = Tx> {
    socket: UnixStream,
    _types: PhantomData<fn(Tx) -> Rx>,
}

impl<Tx, Rx> fmt::Debug for Channel<Tx, Rx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("socket", &self.socket)
            .finish()
    }
}

impl<Tx: Serialize, Rx: DeserializeOwned> Channel<Tx, Rx> {
    /// Two connected ends: this one sends `Tx` and receives `Rx`, the other
    /// the reverse (a `socketpair`, close-on-exec).
    pub fn pair() -> io::Result<(Self, Channel<Rx, Tx>)>
    where
        Rx: Serialize,
        Tx: DeserializeOwned,
    {
        let (a, b) = UnixStream::pair()?;
        Ok((Self::from_socket(a), Channel::from_socket(b)))
    }

    /// The channel over a connected stream (one end of [`Channel::pair`],
    /// inherited by a child).
    pub fn from_socket(socket: UnixStream) -> Self {
        Self {
            socket,
            _types: PhantomData,
        }
    }

    /// The socket, to put in a child's handle table.
    pub fn socket(&self) -> &UnixStream {
        &self.socket
    }

    /// Sends one message.
    pub fn send(&self, msg: &Tx) -> io::Result<()> {
        let body = serde_json::to_vec(msg).map_err(io::Error::other)?;
        if body.len() > MAX_MESSAGE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "channel: a message of {} bytes is over the limit of {MAX_MESSAGE}",
                    body.len()
                ),
            ));
        }
        let len = u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes();
        self.write_all(&len)?;
        self.write_all(&body)
    }

    /// Receives one message; `None` when the peer closed the channel between
    /// messages.
    pub fn recv(&self) -> io::Result<Option<Rx>> {
        let mut len = [0u8; 4];
        if !self.read_exact(&mut len, true)? {
            return Ok(None);
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_MESSAGE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "channel: the peer sent a length of {len} bytes, over the limit of {MAX_MESSAGE}"
                ),
            ));
        }
        let mut body = vec![0u8; len];
        self.read_exact(&mut body, false)?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("channel: {e}")))
    }

    /// Sends a handle (see
    /// [`UnixStream::send_handle`](crate::net::UnixStream::send_handle)).
    pub fn send_handle<H: Passable>(&self, handle: &H) -> io::Result<()> {
        stream_send(self.socket.fd(), handle)
    }

    /// Receives a handle as the type `H` (see
    /// [`UnixStream::recv_handle`](crate::net::UnixStream::recv_handle)).
    pub fn recv_handle<H: Passable>(&self) -> io::Result<H> {
        stream_recv(self.socket.fd())
    }

    fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = rustix::net::send(self.socket.fd(), buf, super::passing::NOSIGNAL)?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Fills `buf`; `Ok(false)` on end of stream before the first byte when
    /// `eof_ok`.
    fn read_exact(&self, buf: &mut [u8], eof_ok: bool) -> io::Result<bool> {
        let mut got = 0;
        while got < buf.len() {
            let n = rustix::net::recv(self.socket.fd(), &mut buf[got..], RecvFlags::empty())?.0;
            if n == 0 {
                if got == 0 && eof_ok {
                    return Ok(false);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "channel: the peer closed the channel mid-message",
                ));
            }
            got += n;
        }
        Ok(true)
    }
}
