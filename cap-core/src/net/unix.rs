//! Unix-domain sockets, bound and connected beneath a [`Dir`].
//!
//! A path names a unix socket, so the authority to bind or connect one is a
//! directory handle, and the path is resolved beneath it the way `cap-std`
//! resolves every path. `cap-std` does not implement these operations yet; we
//! do it without `unsafe`: the parent directory is opened through `cap-std`
//! (so it cannot lie outside the handle), the last component must be a plain
//! name, and the socket call resolves that name from the parent's descriptor,
//! with what each OS offers:
//!
//! - Linux: the socket call goes through `/proc/self/fd/N/name`. To connect,
//!   the socket file itself is first opened with `O_PATH | O_NOFOLLOW`
//!   beneath that parent and checked to be a socket, so a symlink in its
//!   place cannot lead outside.
//! - FreeBSD: `bindat(2)` and `connectat(2)` on the parent's descriptor
//!   (which also work in capability mode). Before connecting, the name is
//!   checked with `fstatat(AT_SYMLINK_NOFOLLOW)` to be a socket; a symlink
//!   swapped in between the check and the call is followed (outside
//!   capability mode, where `connectat` is not confined beneath the
//!   descriptor). Sending to a path (`send_to_unix_datagram`) has no
//!   `sendtoat`: it returns [`io::ErrorKind::Unsupported`].
//! - Every other unix (macOS, OpenBSD, ...): no way to name a socket relative
//!   to a descriptor without `unsafe` process-wide `chdir`, so each method
//!   returns [`io::ErrorKind::Unsupported`] naming the OS.

use std::ffi::OsStr;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::unix::net as std_unix;
use std::path::{Component, Path};
use std::sync::Arc;

use cap_std::os::unix::net as cap_unix;

use super::tcp::stream_io;
use super::{DATAGRAM_RIGHTS, LISTENER_RIGHTS, STREAM_RIGHTS, ctx, socket_handle};
use crate::fs::Dir;
use crate::rights::{
    Datagram, HasAccept, HasCreate, HasLookup, HasRead, HasRecv, HasSend, HasShutdown, HasStat,
    HasWrite, Listener, RightSet, Rights, Stream,
};

pub use std::os::unix::net::SocketAddr as UnixSocketAddr;

fn path_label(addr: io::Result<std_unix::SocketAddr>) -> String {
    match addr {
        Ok(a) => a
            .as_pathname()
            .map_or_else(|| "(unnamed)".to_owned(), |p| p.display().to_string()),
        Err(_) => "(unknown)".to_owned(),
    }
}

fn listener_label(l: &std_unix::UnixListener) -> String {
    path_label(l.local_addr())
}
fn stream_label(s: &std_unix::UnixStream) -> String {
    path_label(s.peer_addr())
}
fn datagram_label(s: &std_unix::UnixDatagram) -> String {
    path_label(s.local_addr())
}

socket_handle! {
    /// A listening unix-domain stream socket with the rights `R`, like
    /// [`std::os::unix::net::UnixListener`] (built on
    /// [`cap_std::os::unix::net::UnixListener`]). `accept` needs `Accept`,
    /// `local_addr` needs `Stat`, `set_nonblocking` needs `SetOpt`. Get one
    /// from [`Dir::bind_unix_listener`].
    UnixListener, Listener, cap_unix::UnixListener, std_unix::UnixListener, UnixListener, LISTENER_RIGHTS, "unix listener", listener_label
}

socket_handle! {
    /// A connected unix-domain stream socket with the rights `R`, like
    /// [`std::os::unix::net::UnixStream`] (built on
    /// [`cap_std::os::unix::net::UnixStream`]). [`Read`] needs `Read`,
    /// [`Write`] needs `Write`, `shutdown` needs `Shutdown`. Get one from
    /// [`Dir::connect_unix_stream`] or [`UnixListener::accept`].
    UnixStream, Stream, cap_unix::UnixStream, std_unix::UnixStream, UnixStream, STREAM_RIGHTS, "unix stream", stream_label
}

socket_handle! {
    /// A unix-domain datagram socket with the rights `R`, like
    /// [`std::os::unix::net::UnixDatagram`] (built on
    /// [`cap_std::os::unix::net::UnixDatagram`]). Sending needs `Send`,
    /// receiving `Recv`. Get one from [`Dir::bind_unix_datagram`] or
    /// [`Dir::connect_unix_datagram`]; sending to a path is
    /// [`Dir::send_to_unix_datagram`].
    UnixDatagram, Datagram, cap_unix::UnixDatagram, std_unix::UnixDatagram, UnixDatagram, DATAGRAM_RIGHTS, "unix datagram socket", datagram_label
}

stream_io!(UnixStream);

impl<R: RightSet> UnixListener<R> {
    /// Accepts a connection; the stream gets every stream right ([`Stream`]).
    /// Needs `Accept`. See [`std::os::unix::net::UnixListener::accept`].
    pub fn accept(&self) -> io::Result<(UnixStream, UnixSocketAddr)>
    where
        R: HasAccept,
    {
        self.need(Rights::ACCEPT)?;
        let (s, peer) = self
            .inner
            .accept()
            .map_err(|e| ctx(&format_args!("accept on {self}"), e))?;
        let label = Arc::from(format!("peer of {}", self.label));
        Ok((UnixStream::from_parts(s, Rights::NET, label), peer))
    }

    /// The address this listener is bound to. Needs `Stat`. See
    /// [`std::os::unix::net::UnixListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<UnixSocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    socket_options!(std::os::unix::net::UnixListener; set_nonblocking);
}

impl UnixStream {
    /// A pair of connected streams, each with every stream right. Needs no
    /// authority: the sockets have no name anyone else could reach. See
    /// [`std::os::unix::net::UnixStream::pair`].
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = cap_unix::UnixStream::pair()?;
        let label = || Arc::from("(socket pair)");
        Ok((
            UnixStream::from_parts(a, Rights::NET, label()),
            UnixStream::from_parts(b, Rights::NET, label()),
        ))
    }
}

impl<R: RightSet> UnixStream<R> {
    /// Shuts down the read half, the write half or both. Needs `Shutdown`.
    /// See [`std::os::unix::net::UnixStream::shutdown`].
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()>
    where
        R: HasShutdown,
    {
        self.need(Rights::SHUTDOWN)?;
        self.inner
            .shutdown(how)
            .map_err(|e| ctx(&format_args!("shut down {self}"), e))
    }

    /// The peer's address. Needs `Stat`.
    pub fn peer_addr(&self) -> io::Result<UnixSocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.peer_addr()
    }

    socket_options!(std::os::unix::net::UnixStream; set_read_timeout, set_write_timeout, set_nonblocking);
}

impl UnixDatagram {
    /// A pair of connected datagram sockets, each with every datagram right.
    /// Needs no authority. See [`std::os::unix::net::UnixDatagram::pair`].
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = cap_unix::UnixDatagram::pair()?;
        let label = || Arc::from("(socket pair)");
        Ok((
            UnixDatagram::from_parts(a, Rights::NET, label()),
            UnixDatagram::from_parts(b, Rights::NET, label()),
        ))
    }
}

impl<R: RightSet> UnixDatagram<R> {
    /// Sends `buf` to the connected peer. Needs `Send`. See
    /// [`std::os::unix::net::UnixDatagram::send`].
    pub fn send(&self, buf: &[u8]) -> io::Result<usize>
    where
        R: HasSend,
    {
        self.need(Rights::SEND)?;
        self.inner.send(buf)
    }

    /// Receives a datagram. Needs `Recv`. See
    /// [`std::os::unix::net::UnixDatagram::recv`].
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.recv(buf)
    }

    /// Receives a datagram and its sender's address. Needs `Recv`. See
    /// [`std::os::unix::net::UnixDatagram::recv_from`].
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, UnixSocketAddr)>
    where
        R: HasRecv,
    {
        self.need(Rights::RECV)?;
        self.inner.recv_from(buf)
    }

    /// Shuts down the read half, the write half or both. Needs `Shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()>
    where
        R: HasShutdown,
    {
        self.need(Rights::SHUTDOWN)?;
        self.inner.shutdown(how)
    }

    /// The local address. Needs `Stat`.
    pub fn local_addr(&self) -> io::Result<UnixSocketAddr>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.local_addr()
    }

    socket_options!(std::os::unix::net::UnixDatagram; set_read_timeout, set_nonblocking);
}

/// The parent directory (opened beneath `dir` by `cap-std`, or `dir` itself)
/// and the last component of `path`, which must be a plain name.
enum Parent<'a> {
    Same(&'a cap_std::fs::Dir),
    Opened(cap_std::fs::Dir),
}

impl Parent<'_> {
    fn get(&self) -> &cap_std::fs::Dir {
        match self {
            Parent::Same(d) => d,
            Parent::Opened(d) => d,
        }
    }
}

fn split(path: &Path) -> io::Result<(&Path, &OsStr)> {
    let Some(Component::Normal(name)) = path.components().next_back() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` does not end in a file name (a unix socket is named by one)",
                path.display()
            ),
        ));
    };
    Ok((path.parent().unwrap_or(Path::new("")), name))
}

impl<R: RightSet> Dir<R> {
    fn unix_parent<'a>(&'a self, path: &'a Path) -> io::Result<(Parent<'a>, &'a OsStr)> {
        let (parent, name) = split(path)?;
        let parent = if parent.as_os_str().is_empty() {
            Parent::Same(self.as_cap_std())
        } else {
            Parent::Opened(self.as_cap_std().open_dir(parent)?)
        };
        Ok((parent, name))
    }

    fn unix_err<'a>(
        &'a self,
        op: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(io::Error) -> io::Error + 'a {
        move |e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{op} `{}` beneath `{}`: {e}",
                    path.display(),
                    self.origin().display()
                ),
            )
        }
    }

    fn unix_label(&self, path: &Path) -> Arc<str> {
        Arc::from(self.origin().join(path).display().to_string())
    }

    /// Binds a unix-domain listener at `path` beneath this directory (which
    /// creates the socket file there). Needs `Lookup` and `Create`. The
    /// listener gets every listener right ([`Listener`]). Corresponds to
    /// `cap_std::fs::Dir::bind_unix_listener` (not yet implemented in
    /// `cap-std`) and [`std::os::unix::net::UnixListener::bind`].
    pub fn bind_unix_listener(&self, path: impl AsRef<Path>) -> io::Result<UnixListener>
    where
        R: HasLookup + HasCreate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE)?;
        let err = self.unix_err("bind unix listener", path);
        let bound = self
            .unix_parent(path)
            .and_then(|(parent, name)| beneath::bind_listener(parent.get(), name));
        let l = bound.map_err(err)?;
        Ok(UnixListener::from_parts(
            cap_unix::UnixListener::from_std(l),
            Rights::NET,
            self.unix_label(path),
        ))
    }

    /// Connects a unix-domain stream to the socket at `path` beneath this
    /// directory. Needs `Lookup` and `Write` (connecting writes to the
    /// socket's owner). The stream gets every stream right ([`Stream`]).
    /// Corresponds to `cap_std::fs::Dir::connect_unix_stream` (not yet
    /// implemented in `cap-std`) and [`std::os::unix::net::UnixStream::connect`].
    pub fn connect_unix_stream(&self, path: impl AsRef<Path>) -> io::Result<UnixStream>
    where
        R: HasLookup + HasWrite,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::WRITE)?;
        let err = self.unix_err("connect unix stream", path);
        let s = self
            .unix_parent(path)
            .and_then(|(parent, name)| beneath::connect_stream(parent.get(), name))
            .map_err(err)?;
        Ok(UnixStream::from_parts(
            cap_unix::UnixStream::from_std(s),
            Rights::NET,
            self.unix_label(path),
        ))
    }

    /// Binds a unix-domain datagram socket at `path` beneath this directory.
    /// Needs `Lookup` and `Create`. The socket gets every datagram right
    /// ([`Datagram`]). Corresponds to `cap_std::fs::Dir::bind_unix_datagram`
    /// and [`std::os::unix::net::UnixDatagram::bind`].
    pub fn bind_unix_datagram(&self, path: impl AsRef<Path>) -> io::Result<UnixDatagram>
    where
        R: HasLookup + HasCreate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE)?;
        let err = self.unix_err("bind unix datagram socket", path);
        let bound = self
            .unix_parent(path)
            .and_then(|(parent, name)| beneath::bind_datagram(parent.get(), name));
        let s = bound.map_err(err)?;
        Ok(UnixDatagram::from_parts(
            cap_unix::UnixDatagram::from_std(s),
            Rights::NET,
            self.unix_label(path),
        ))
    }

    /// A new, unbound unix-domain datagram socket connected to the socket at
    /// `path` beneath this directory. Needs `Lookup` and `Write`. Corresponds
    /// to `cap_std::fs::Dir::connect_unix_datagram` and
    /// [`std::os::unix::net::UnixDatagram::connect`].
    pub fn connect_unix_datagram(&self, path: impl AsRef<Path>) -> io::Result<UnixDatagram>
    where
        R: HasLookup + HasWrite,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::WRITE)?;
        let err = self.unix_err("connect unix datagram socket", path);
        let s = self
            .unix_parent(path)
            .and_then(|(parent, name)| beneath::connect_datagram(parent.get(), name))
            .map_err(err)?;
        Ok(UnixDatagram::from_parts(
            cap_unix::UnixDatagram::from_std(s),
            Rights::NET,
            self.unix_label(path),
        ))
    }

    /// Sends `buf` from `socket` to the socket at `path` beneath this
    /// directory. Needs `Lookup` and `Write` here, and `Send` on the socket.
    /// Corresponds to `cap_std::fs::Dir::send_to_unix_datagram_addr` and
    /// [`std::os::unix::net::UnixDatagram::send_to`].
    pub fn send_to_unix_datagram<S: HasSend>(
        &self,
        socket: &UnixDatagram<S>,
        buf: &[u8],
        path: impl AsRef<Path>,
    ) -> io::Result<usize>
    where
        R: HasLookup + HasWrite,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::WRITE)?;
        socket.need(Rights::SEND)?;
        let err = self.unix_err("send to unix datagram socket", path);
        self.unix_parent(path)
            .and_then(|(parent, name)| beneath::send_to(parent.get(), name, &socket.inner, buf))
            .map_err(err)
    }
}

/// Linux: the name is reached through `/proc/self/fd`.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod beneath {
    use std::ffi::OsStr;
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    use std::os::unix::net as std_unix;
    use std::path::PathBuf;

    /// The name of `name` in the directory `fd` through `/proc/self/fd`, so
    /// the kernel resolves it from the descriptor, not from a global path.
    fn via_proc(fd: &impl AsFd, name: Option<&OsStr>) -> PathBuf {
        let mut p = PathBuf::from(format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd()));
        if let Some(name) = name {
            p.push(name);
        }
        p
    }

    /// The socket file `name`, opened `O_PATH | O_NOFOLLOW` beneath `parent`
    /// and checked to be a socket: what `connect` is pointed at.
    fn target(parent: &cap_std::fs::Dir, name: &OsStr) -> io::Result<OwnedFd> {
        use rustix::fs::{FileType, Mode, OFlags};
        let fd = rustix::fs::openat(
            parent,
            name,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let kind = FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode);
        if kind != FileType::Socket {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("it is not a socket (it is a {kind:?})"),
            ));
        }
        Ok(fd)
    }

    pub(super) fn bind_listener(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixListener> {
        std_unix::UnixListener::bind(via_proc(parent, Some(name)))
    }

    pub(super) fn bind_datagram(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixDatagram> {
        std_unix::UnixDatagram::bind(via_proc(parent, Some(name)))
    }

    pub(super) fn connect_stream(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixStream> {
        let fd = target(parent, name)?;
        std_unix::UnixStream::connect(via_proc(&fd, None))
    }

    pub(super) fn connect_datagram(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixDatagram> {
        let fd = target(parent, name)?;
        let s = std_unix::UnixDatagram::unbound()?;
        s.connect(via_proc(&fd, None))?;
        Ok(s)
    }

    pub(super) fn send_to(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
        socket: &impl AsFd,
        buf: &[u8],
    ) -> io::Result<usize> {
        let fd = target(parent, name)?;
        let to = rustix::net::SocketAddrUnix::new(via_proc(&fd, None))?;
        Ok(rustix::net::sendto(
            socket.as_fd(),
            buf,
            rustix::net::SendFlags::empty(),
            &to,
        )?)
    }
}

/// FreeBSD: `bindat(2)` and `connectat(2)` on the parent's descriptor.
#[cfg(target_os = "freebsd")]
mod beneath {
    use std::ffi::OsStr;
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::net as std_unix;

    use rustix::net::{AddressFamily, SocketFlags, SocketType};

    fn socket(kind: SocketType) -> io::Result<OwnedFd> {
        Ok(rustix::net::socket_with(
            AddressFamily::UNIX,
            kind,
            SocketFlags::CLOEXEC,
            None,
        )?)
    }

    /// Checks that `name` beneath `parent` is a socket, not following a
    /// symlink in its place.
    fn check_target(parent: &cap_std::fs::Dir, name: &OsStr) -> io::Result<()> {
        use rustix::fs::{AtFlags, FileType};
        let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)?;
        let kind = FileType::from_raw_mode(st.st_mode);
        if kind != FileType::Socket {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("it is not a socket (it is a {kind:?})"),
            ));
        }
        Ok(())
    }

    pub(super) fn bind_listener(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixListener> {
        let s = socket(SocketType::STREAM)?;
        cap_runtime::freebsd::bind_unix_at(parent.as_fd(), s.as_fd(), name)?;
        rustix::net::listen(&s, 128)?;
        Ok(std_unix::UnixListener::from(s))
    }

    pub(super) fn bind_datagram(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixDatagram> {
        let s = socket(SocketType::DGRAM)?;
        cap_runtime::freebsd::bind_unix_at(parent.as_fd(), s.as_fd(), name)?;
        Ok(std_unix::UnixDatagram::from(s))
    }

    pub(super) fn connect_stream(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixStream> {
        check_target(parent, name)?;
        let s = socket(SocketType::STREAM)?;
        cap_runtime::freebsd::connect_unix_at(parent.as_fd(), s.as_fd(), name)?;
        Ok(std_unix::UnixStream::from(s))
    }

    pub(super) fn connect_datagram(
        parent: &cap_std::fs::Dir,
        name: &OsStr,
    ) -> io::Result<std_unix::UnixDatagram> {
        check_target(parent, name)?;
        let s = socket(SocketType::DGRAM)?;
        cap_runtime::freebsd::connect_unix_at(parent.as_fd(), s.as_fd(), name)?;
        Ok(std_unix::UnixDatagram::from(s))
    }

    pub(super) fn send_to(
        _parent: &cap_std::fs::Dir,
        _name: &OsStr,
        _socket: &impl AsFd,
        _buf: &[u8],
    ) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "FreeBSD has no sendtoat: connect a datagram socket with Dir::connect_unix_datagram and send on it",
        ))
    }
}

/// Every other unix: no descriptor-relative way to name a socket.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
mod beneath {
    use std::ffi::OsStr;
    use std::io;
    use std::os::fd::AsFd;
    use std::os::unix::net as std_unix;

    fn unsupported<T>() -> io::Result<T> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "unix sockets beneath a directory handle need /proc/self/fd (Linux) or bindat/connectat (FreeBSD); {} offers neither",
                std::env::consts::OS
            ),
        ))
    }

    pub(super) fn bind_listener(
        _parent: &cap_std::fs::Dir,
        _name: &OsStr,
    ) -> io::Result<std_unix::UnixListener> {
        unsupported()
    }

    pub(super) fn bind_datagram(
        _parent: &cap_std::fs::Dir,
        _name: &OsStr,
    ) -> io::Result<std_unix::UnixDatagram> {
        unsupported()
    }

    pub(super) fn connect_stream(
        _parent: &cap_std::fs::Dir,
        _name: &OsStr,
    ) -> io::Result<std_unix::UnixStream> {
        unsupported()
    }

    pub(super) fn connect_datagram(
        _parent: &cap_std::fs::Dir,
        _name: &OsStr,
    ) -> io::Result<std_unix::UnixDatagram> {
        unsupported()
    }

    pub(super) fn send_to(
        _parent: &cap_std::fs::Dir,
        _name: &OsStr,
        _socket: &impl AsFd,
        _buf: &[u8],
    ) -> io::Result<usize> {
        unsupported()
    }
}
