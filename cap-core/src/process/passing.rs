//! Handles over unix sockets: the descriptor travels as `SCM_RIGHTS`, its
//! kind, rights and label travel beside it in the same message.
//!
//! The receiver names the type it expects ([`UnixStream::recv_handle`]): if
//! the handle sent is of another kind, or narrower than the type asks for, it
//! gets an error naming the missing rights, and the descriptor is closed. A
//! receiver never gets more rights than were sent; a `Dynamic` receiver gets
//! exactly the rights sent.
//!
//! What the kernel narrows on the way differs by OS (see the book's
//! "Delegation" chapter): on Linux nothing — Landlock does not narrow an open
//! descriptor, so the rights beside it are the sender's word, enforced by
//! the receiver's types; the descriptor's own open mode (read-only,
//! write-only) is kept by the kernel. On FreeBSD the descriptor sent is a
//! duplicate limited with `cap_rights_limit` to the handle's rights
//! (`cap_runtime::freebsd::limited_duplicate`), and the limit travels with
//! it: the receiver's kernel enforces the rights too.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use crate::fs::{Dir, File, origin_for_passing};
use crate::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use crate::rights::{HasRecv, HasSend, RightSet, Rights};

/// What a passed descriptor is, as written on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum HandleKind {
    /// A [`Dir`].
    Dir = 1,
    /// A [`File`].
    File = 2,
    /// A [`TcpListener`].
    TcpListener = 3,
    /// A [`TcpStream`].
    TcpStream = 4,
    /// A [`UdpSocket`].
    UdpSocket = 5,
    /// A [`UnixListener`].
    UnixListener = 6,
    /// A [`UnixStream`].
    UnixStream = 7,
    /// A [`UnixDatagram`].
    UnixDatagram = 8,
}

impl HandleKind {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Dir,
            2 => Self::File,
            3 => Self::TcpListener,
            4 => Self::TcpStream,
            5 => Self::UdpSocket,
            6 => Self::UnixListener,
            7 => Self::UnixStream,
            8 => Self::UnixDatagram,
            _ => return None,
        })
    }
}

/// A handle that can be passed to another process (over a unix socket, or in
/// a child's handle table): its descriptor, rights and label, and the way
/// back from them.
pub trait Passable: Sized {
    /// What this handle is.
    const KIND: HandleKind;
    /// The rights a receiver of this type needs the sender to have given
    /// (`None` for a `Dynamic` handle, which takes what was sent).
    const WANTS: Option<Rights>;
    /// The descriptor.
    #[doc(hidden)]
    fn pass_fd(&self) -> BorrowedFd<'_>;
    /// The rights that travel with it.
    fn pass_rights(&self) -> Rights;
    /// The label (origin path or address) that travels with it.
    #[doc(hidden)]
    fn pass_label(&self) -> String;
    /// Rebuilds the handle from a received descriptor with the rights `rights`
    /// (already checked against [`Passable::WANTS`]).
    #[doc(hidden)]
    fn from_passed(fd: OwnedFd, rights: Rights, label: &str) -> Self;
}

impl<R: RightSet> Passable for Dir<R> {
    const KIND: HandleKind = HandleKind::Dir;
    const WANTS: Option<Rights> = if R::DYNAMIC { None } else { Some(R::RIGHTS) };
    fn pass_fd(&self) -> BorrowedFd<'_> {
        self.as_cap_std().as_fd()
    }
    fn pass_rights(&self) -> Rights {
        self.rights()
    }
    fn pass_label(&self) -> String {
        self.origin().display().to_string()
    }
    fn from_passed(fd: OwnedFd, rights: Rights, label: &str) -> Self {
        Dir::from_parts(
            cap_std::fs::Dir::from(fd),
            rights,
            Arc::from(Path::new(label)),
        )
    }
}

impl<R: RightSet> Passable for File<R> {
    const KIND: HandleKind = HandleKind::File;
    const WANTS: Option<Rights> = if R::DYNAMIC { None } else { Some(R::RIGHTS) };
    fn pass_fd(&self) -> BorrowedFd<'_> {
        self.as_cap_std().as_fd()
    }
    fn pass_rights(&self) -> Rights {
        self.rights()
    }
    fn pass_label(&self) -> String {
        self.origin().display().to_string()
    }
    fn from_passed(fd: OwnedFd, rights: Rights, label: &str) -> Self {
        File::from_parts(
            cap_std::fs::File::from_std(std::fs::File::from(fd)),
            rights,
            origin_for_passing(label),
        )
    }
}

macro_rules! passable_socket {
    ($($name:ident),*) => {$(
        impl<R: RightSet> Passable for $name<R> {
            const KIND: HandleKind = HandleKind::$name;
            const WANTS: Option<Rights> = if R::DYNAMIC { None } else { Some(R::RIGHTS) };
            fn pass_fd(&self) -> BorrowedFd<'_> {
                self.fd()
            }
            fn pass_rights(&self) -> Rights {
                self.rights()
            }
            fn pass_label(&self) -> String {
                self.label().to_owned()
            }
            fn from_passed(fd: OwnedFd, rights: Rights, label: &str) -> Self {
                Self::from_owned_fd(fd, rights, label)
            }
        }
    )*};
}
passable_socket!(
    TcpListener,
    TcpStream,
    UdpSocket,
    UnixListener,
    UnixStream,
    UnixDatagram
);

/// `MSG_NOSIGNAL` where it exists (not on Apple's systems, where the Rust
/// runtime's ignored `SIGPIPE` does the same).
#[cfg(not(target_vendor = "apple"))]
pub(crate) const NOSIGNAL: SendFlags = SendFlags::NOSIGNAL;
#[cfg(target_vendor = "apple")]
pub(crate) const NOSIGNAL: SendFlags = SendFlags::empty();

/// `MSG_CMSG_CLOEXEC` where it exists; elsewhere close-on-exec is set right
/// after the receipt ([`cloexec`]).
#[cfg(not(target_vendor = "apple"))]
const RECV_CLOEXEC: RecvFlags = RecvFlags::CMSG_CLOEXEC;
#[cfg(target_vendor = "apple")]
const RECV_CLOEXEC: RecvFlags = RecvFlags::empty();

fn cloexec(fd: &OwnedFd) -> io::Result<()> {
    if cfg!(target_vendor = "apple") {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    }
    Ok(())
}

const MAGIC: [u8; 4] = *b"AMBH";
const HEADER: usize = 4 + 1 + 1 + 4 + 2;
/// The longest label sent; longer ones are cut (labels are for messages).
const MAX_LABEL: usize = 1024;

fn encode<H: Passable>(handle: &H) -> Vec<u8> {
    let mut label = handle.pass_label().into_bytes();
    label.truncate(MAX_LABEL);
    let mut msg = Vec::with_capacity(HEADER + label.len());
    msg.extend_from_slice(&MAGIC);
    msg.push(1);
    msg.push(H::KIND as u8);
    msg.extend_from_slice(&handle.pass_rights().bits().to_le_bytes());
    msg.extend_from_slice(&u16::try_from(label.len()).unwrap_or(u16::MAX).to_le_bytes());
    msg.extend_from_slice(&label);
    msg
}

struct Header {
    kind: HandleKind,
    rights: Rights,
    label_len: usize,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("recv_handle: {what}"))
}

fn decode_header(h: &[u8]) -> io::Result<Header> {
    if h.len() < HEADER || h[..4] != MAGIC {
        return Err(bad("the message is not a passed handle"));
    }
    if h[4] != 1 {
        return Err(bad(&format!("unknown handle message version {}", h[4])));
    }
    let kind = HandleKind::from_u8(h[5]).ok_or_else(|| bad(&format!("unknown kind {}", h[5])))?;
    let bits = u32::from_le_bytes([h[6], h[7], h[8], h[9]]);
    let rights =
        Rights::from_bits(bits).ok_or_else(|| bad(&format!("unknown rights bits {bits:#x}")))?;
    let label_len = usize::from(u16::from_le_bytes([h[10], h[11]]));
    if label_len > MAX_LABEL {
        return Err(bad("label too long"));
    }
    Ok(Header {
        kind,
        rights,
        label_len,
    })
}

/// Checks that the descriptor is what `kind` says (a directory, a socket, or
/// another file), so a lying peer or a wrong table number is an error here
/// rather than odd failures later.
pub(crate) fn check_fd_kind(kind: HandleKind, fd: BorrowedFd<'_>, label: &str) -> io::Result<()> {
    let st = rustix::fs::fstat(fd)?;
    let ty = rustix::fs::FileType::from_raw_mode(st.st_mode);
    let ok = match kind {
        HandleKind::Dir => ty == rustix::fs::FileType::Directory,
        HandleKind::File => {
            ty != rustix::fs::FileType::Directory && ty != rustix::fs::FileType::Socket
        }
        _ => ty == rustix::fs::FileType::Socket && socket_is(kind, fd)?,
    };
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{label}` was declared a {kind:?} handle but its descriptor is a {ty:?}"),
        ))
    }
}

/// Whether the socket behind `fd` is the kind the header says: its family,
/// its type and, for listeners, whether it listens (a sender could otherwise
/// label a UDP socket a TCP stream).
#[cfg(target_os = "linux")]
fn socket_is(kind: HandleKind, fd: BorrowedFd<'_>) -> io::Result<bool> {
    use rustix::net::{AddressFamily, SocketType, sockopt};
    let family = sockopt::socket_domain(fd)?;
    let ty = sockopt::socket_type(fd)?;
    let inet = family == AddressFamily::INET || family == AddressFamily::INET6;
    let listening = || sockopt::socket_acceptconn(fd);
    Ok(match kind {
        HandleKind::TcpListener => inet && ty == SocketType::STREAM && listening()?,
        HandleKind::TcpStream => inet && ty == SocketType::STREAM && !listening()?,
        HandleKind::UdpSocket => inet && ty == SocketType::DGRAM,
        HandleKind::UnixListener => {
            family == AddressFamily::UNIX && ty == SocketType::STREAM && listening()?
        }
        HandleKind::UnixStream => {
            family == AddressFamily::UNIX && ty == SocketType::STREAM && !listening()?
        }
        HandleKind::UnixDatagram => family == AddressFamily::UNIX && ty == SocketType::DGRAM,
        HandleKind::Dir | HandleKind::File => false,
    })
}

/// Elsewhere only the descriptor's file type is checked (the socket options
/// that tell the family are not portable).
#[cfg(not(target_os = "linux"))]
#[allow(clippy::unnecessary_wraps)]
fn socket_is(_: HandleKind, _: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(true)
}

/// Checks what arrived against what the receiver's type asks for.
fn accept<H: Passable>(header: &Header, fd: OwnedFd, label: &str) -> io::Result<H> {
    if header.kind != H::KIND {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "recv_handle: expected a {:?} handle, `{label}` is a {:?}",
                H::KIND,
                header.kind
            ),
        ));
    }
    check_fd_kind(H::KIND, fd.as_fd(), label)?;
    let rights = match H::WANTS {
        None => header.rights,
        Some(want) => {
            let missing = want.difference(header.rights);
            if !missing.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "recv_handle: `{label}` was sent with the rights {}, narrower than the {} asked for: missing {missing}",
                        header.rights, want
                    ),
                ));
            }
            want
        }
    };
    Ok(H::from_passed(fd, rights, label))
}

fn send_with_fd(socket: BorrowedFd<'_>, msg: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    let fds = [fd];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(io::Error::other("send_handle: control buffer too small"));
    }
    let mut sent = rustix::net::sendmsg(socket, &[IoSlice::new(msg)], &mut control, NOSIGNAL)?;
    // A stream may take the message in parts; the descriptor went with the
    // first byte.
    while sent < msg.len() {
        sent += rustix::net::send(socket, &msg[sent..], NOSIGNAL)?;
    }
    Ok(())
}

/// Receives one message into `buf` and its single descriptor.
fn recv_with_fd(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, OwnedFd)> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg = rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(buf)],
        &mut control,
        RECV_CLOEXEC,
    )?;
    let mut fd = None;
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = m {
            for f in fds {
                // More than one: keep the first, the rest close on drop.
                if fd.is_none() {
                    fd = Some(f);
                }
            }
        }
    }
    if msg.flags.contains(ReturnFlags::CTRUNC) {
        return Err(bad("descriptors were cut off (control data truncated)"));
    }
    if msg.bytes == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "recv_handle: the peer closed the socket",
        ));
    }
    let fd = fd.ok_or_else(|| bad("no descriptor came with the message"))?;
    cloexec(&fd)?;
    Ok((msg.bytes, fd))
}

fn read_exact(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let n = rustix::net::recv(socket, &mut buf[got..], RecvFlags::empty())?.0;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "recv_handle: the peer closed the socket mid-message",
            ));
        }
        got += n;
    }
    Ok(())
}

/// The runtime's name for a kind of handle.
#[cfg(target_os = "freebsd")]
fn entry_kind(kind: HandleKind) -> cap_runtime::EntryKind {
    use cap_runtime::{EntryKind, SocketKind};
    match kind {
        HandleKind::Dir => EntryKind::Dir,
        HandleKind::File => EntryKind::File,
        HandleKind::TcpListener => EntryKind::Socket(SocketKind::TcpListener),
        HandleKind::TcpStream => EntryKind::Socket(SocketKind::TcpStream),
        HandleKind::UdpSocket => EntryKind::Socket(SocketKind::Udp),
        HandleKind::UnixListener => EntryKind::Socket(SocketKind::UnixListener),
        HandleKind::UnixStream => EntryKind::Socket(SocketKind::UnixStream),
        HandleKind::UnixDatagram => EntryKind::Socket(SocketKind::UnixDatagram),
    }
}

/// The descriptor that travels for `handle`. On FreeBSD: a duplicate
/// limited with `cap_rights_limit` to the handle's rights, so the receiver's
/// kernel enforces them (the sender's own descriptor keeps its rights).
#[cfg(target_os = "freebsd")]
fn travelling<H: Passable>(handle: &H) -> io::Result<OwnedFd> {
    cap_runtime::freebsd::limited_duplicate(
        handle.pass_fd(),
        entry_kind(H::KIND),
        handle.pass_rights(),
    )
}

/// The descriptor that travels for `handle`: elsewhere, the handle's own
/// (no kernel mechanism narrows a passed descriptor; the receiver's types
/// do).
#[cfg(not(target_os = "freebsd"))]
#[allow(clippy::unnecessary_wraps)] // FreeBSD's can fail
fn travelling<H: Passable>(handle: &H) -> io::Result<BorrowedFd<'_>> {
    Ok(handle.pass_fd())
}

pub(crate) fn stream_send<H: Passable>(socket: BorrowedFd<'_>, handle: &H) -> io::Result<()> {
    send_with_fd(socket, &encode(handle), travelling(handle)?.as_fd())
}

pub(crate) fn stream_recv<H: Passable>(socket: BorrowedFd<'_>) -> io::Result<H> {
    let mut head = [0u8; HEADER];
    let (n, fd) = recv_with_fd(socket, &mut head)?;
    read_exact(socket, &mut head[n..])?;
    let header = decode_header(&head)?;
    let mut label = vec![0u8; header.label_len];
    read_exact(socket, &mut label)?;
    accept(&header, fd, &String::from_utf8_lossy(&label))
}

impl<R: RightSet + crate::rights::HasWrite> UnixStream<R> {
    /// Sends `handle` over this stream: its descriptor (`SCM_RIGHTS`) with
    /// its kind, rights and label. Needs `Write`. The sender keeps its own
    /// handle; the receiver gets a duplicate descriptor.
    pub fn send_handle<H: Passable>(&self, handle: &H) -> io::Result<()> {
        self.need(Rights::WRITE)?;
        stream_send(self.fd(), handle)
            .map_err(|e| crate::net::ctx(&format_args!("send a handle over {self}"), e))
    }
}

impl<R: RightSet + crate::rights::HasRead> UnixStream<R> {
    /// Receives a handle sent with [`UnixStream::send_handle`], as the type
    /// `H`. Needs `Read`. Fails, closing the descriptor, if what arrived is
    /// of another kind or narrower than `H` asks for; never gives more than
    /// was sent.
    pub fn recv_handle<H: Passable>(&self) -> io::Result<H> {
        self.need(Rights::READ)?;
        stream_recv(self.fd())
    }
}

impl<R: RightSet + HasSend> UnixDatagram<R> {
    /// Sends `handle` to the connected peer in one datagram. Needs `Send`.
    pub fn send_handle<H: Passable>(&self, handle: &H) -> io::Result<()> {
        self.need(Rights::SEND)?;
        travelling(handle)
            .and_then(|fd| send_with_fd(self.fd(), &encode(handle), fd.as_fd()))
            .map_err(|e| crate::net::ctx(&format_args!("send a handle over {self}"), e))
    }
}

impl<R: RightSet + HasRecv> UnixDatagram<R> {
    /// Receives a handle sent with [`UnixDatagram::send_handle`], as the
    /// type `H`. Needs `Recv`. The same checks as
    /// [`UnixStream::recv_handle`].
    pub fn recv_handle<H: Passable>(&self) -> io::Result<H> {
        self.need(Rights::RECV)?;
        let mut buf = [0u8; HEADER + MAX_LABEL];
        let (n, fd) = recv_with_fd(self.fd(), &mut buf)?;
        let header = decode_header(&buf[..n])?;
        let label = buf
            .get(HEADER..HEADER + header.label_len)
            .filter(|_| n >= HEADER + header.label_len)
            .ok_or_else(|| bad("truncated label"))?;
        accept(&header, fd, &String::from_utf8_lossy(label))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod kind_tests {
    use std::os::fd::AsFd;

    use super::{HandleKind, check_fd_kind};

    #[test]
    fn a_socket_must_be_the_kind_its_header_says() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (unix, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        // A UDP socket labelled a TCP stream (or a listener) is refused...
        for kind in [
            HandleKind::TcpStream,
            HandleKind::TcpListener,
            HandleKind::UnixDatagram,
        ] {
            let err = check_fd_kind(kind, udp.as_fd(), "10.0.0.1:22").unwrap_err();
            assert!(err.to_string().contains("10.0.0.1:22"), "{err}");
        }
        assert!(check_fd_kind(HandleKind::TcpListener, stream.as_fd(), "s").is_err());
        assert!(check_fd_kind(HandleKind::TcpStream, listener.as_fd(), "l").is_err());
        assert!(check_fd_kind(HandleKind::TcpStream, unix.as_fd(), "u").is_err());
        // ...and each socket passes as what it is.
        check_fd_kind(HandleKind::UdpSocket, udp.as_fd(), "u").unwrap();
        check_fd_kind(HandleKind::TcpListener, listener.as_fd(), "l").unwrap();
        check_fd_kind(HandleKind::TcpStream, stream.as_fd(), "s").unwrap();
        check_fd_kind(HandleKind::UnixStream, unix.as_fd(), "u").unwrap();
    }
}
