//! [`Policy`]: what the process may keep once it is in capability mode,
//! described as file descriptors with rights masks and network grants.

use std::path::{Path, PathBuf};

#[cfg(not(unix))]
pub use self::non_unix::{BorrowedFd, RawFd};
#[cfg(unix)]
pub use std::os::fd::{BorrowedFd, RawFd};

use crate::Rights;

/// The kind of a held socket: decides the seccomp groups and Landlock rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketKind {
    /// A listening TCP socket.
    TcpListener,
    /// A connected TCP stream.
    TcpStream,
    /// A UDP socket.
    Udp,
    /// A listening unix-domain stream socket.
    UnixListener,
    /// A connected unix-domain stream socket.
    UnixStream,
    /// A unix-domain datagram socket.
    UnixDatagram,
}

/// What one held handle contributes: its descriptor, rights and where it came from.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The descriptor; it must stay open until [`enter`](crate::enter) returns.
    pub fd: RawFd,
    /// The handle's rights.
    pub rights: Rights,
    /// What the handle is.
    pub kind: EntryKind,
    /// The path it was opened from, or a label (an address) for sockets.
    pub origin: PathBuf,
}

/// What a held descriptor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A directory: a Landlock path-beneath rule.
    Dir,
    /// A regular file: a Landlock rule on the file itself.
    File,
    /// A socket.
    Socket(SocketKind),
}

/// The network authority of a grant, as the kernel policy needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetGrant {
    /// A label for the report (the grant as the program declared it).
    pub label: String,
    /// TCP ports the program may connect to.
    pub tcp_connect_ports: Vec<u16>,
    /// TCP ports the program may bind.
    pub tcp_bind_ports: Vec<u16>,
    /// Whether the grant lets the program make UDP sockets.
    pub udp: bool,
    /// Whether the grant lets the program make unix-domain sockets.
    pub unix: bool,
}

/// What the sandbox keeps: held descriptors and network grants.
///
/// Built by `cap-core` from typed handles (`cap_core::Sandbox`), and consumed
/// by [`enter`](crate::enter). Borrowing the descriptors ties the policy's
/// life to the handles', so none can be closed before the lock.
#[derive(Clone, Debug, Default)]
pub struct Policy<'a> {
    entries: Vec<Entry>,
    net: Vec<NetGrant>,
    unmodified: bool,
    _fds: std::marker::PhantomData<BorrowedFd<'a>>,
}

impl<'a> Policy<'a> {
    /// An empty policy: after entering, only stdio and memory remain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps a directory with `rights` beneath it.
    pub fn dir(&mut self, fd: BorrowedFd<'a>, rights: Rights, origin: &Path) -> &mut Self {
        self.push(fd, rights, EntryKind::Dir, origin)
    }

    /// Keeps a regular file with `rights`.
    pub fn file(&mut self, fd: BorrowedFd<'a>, rights: Rights, origin: &Path) -> &mut Self {
        self.push(fd, rights, EntryKind::File, origin)
    }

    /// Keeps a socket of `kind` with `rights`; `label` names it in the report
    /// (its address, for example).
    pub fn socket(
        &mut self,
        fd: BorrowedFd<'a>,
        kind: SocketKind,
        rights: Rights,
        label: &str,
    ) -> &mut Self {
        self.push(fd, rights, EntryKind::Socket(kind), Path::new(label))
    }

    /// Keeps the authority of a network grant.
    pub fn net(&mut self, grant: NetGrant) -> &mut Self {
        self.net.push(grant);
        self
    }

    fn push(
        &mut self,
        fd: BorrowedFd<'a>,
        rights: Rights,
        kind: EntryKind,
        origin: &Path,
    ) -> &mut Self {
        #[cfg(unix)]
        let fd = std::os::fd::AsRawFd::as_raw_fd(&fd);
        #[cfg(not(unix))]
        let fd = fd.number();
        self.entries.push(Entry {
            fd,
            rights,
            kind,
            origin: origin.to_path_buf(),
        });
        self
    }

    /// Says that the process entering this sandbox runs a program that was
    /// not written against ambit (`ambit run`): it opens paths by name
    /// itself, Landlock being what limits them, as for every program, and
    /// it may use what such programs use and the typed path does not: the
    /// seccomp group `unmodified` (POSIX and interval timers, `pause`,
    /// `getpriority`, process groups and sessions, and the terminal
    /// `ioctl`s `tcsetattr` and `tcsetpgrp` make). Nothing else changes:
    /// paths, ports and scopes are the handles' as always.
    pub fn unmodified_program(&mut self) -> &mut Self {
        self.unmodified = true;
        self
    }

    /// Whether [`Policy::unmodified_program`] was called.
    pub fn is_unmodified_program(&self) -> bool {
        self.unmodified
    }

    /// The held descriptors, in the order they were added.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The network grants.
    pub fn net_grants(&self) -> &[NetGrant] {
        &self.net
    }
}

/// Descriptors on an OS without `std::os::fd` (Windows): a borrowed handle
/// or socket, kept only to tie the policy's life to the handle's and to name
/// it in the report. No backend enforces anything there.
#[cfg(not(unix))]
mod non_unix {
    use std::marker::PhantomData;

    /// A descriptor number in the [`Entry`](super::Entry): on this OS, the
    /// low 31 bits of the handle or socket value, a label for the report.
    pub type RawFd = i32;

    /// A borrowed Windows handle or socket, in place of
    /// `std::os::fd::BorrowedFd`.
    #[derive(Clone, Copy, Debug)]
    pub struct BorrowedFd<'a> {
        number: RawFd,
        _life: PhantomData<&'a ()>,
    }

    impl BorrowedFd<'_> {
        pub(crate) fn number(self) -> RawFd {
            self.number
        }

        fn label(raw: usize) -> RawFd {
            // Truncation on purpose: the value only names the handle.
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let number = (raw & 0x7fff_ffff) as RawFd;
            number
        }
    }

    #[cfg(windows)]
    impl<'a> From<std::os::windows::io::BorrowedHandle<'a>> for BorrowedFd<'a> {
        fn from(handle: std::os::windows::io::BorrowedHandle<'a>) -> Self {
            use std::os::windows::io::AsRawHandle;
            Self {
                number: Self::label(handle.as_raw_handle() as usize),
                _life: PhantomData,
            }
        }
    }

    #[cfg(windows)]
    impl<'a> From<std::os::windows::io::BorrowedSocket<'a>> for BorrowedFd<'a> {
        fn from(socket: std::os::windows::io::BorrowedSocket<'a>) -> Self {
            use std::os::windows::io::AsRawSocket;
            // A SOCKET is a u64 on 64-bit Windows; only its low bits are kept.
            #[allow(clippy::cast_possible_truncation)]
            let raw = socket.as_raw_socket() as usize;
            Self {
                number: Self::label(raw),
                _life: PhantomData,
            }
        }
    }
}

/// The checks that need no kernel: each entry's rights mean something on its
/// kind, and each grant's ports are usable.
pub(crate) fn validate_portable(policy: &Policy<'_>) -> Result<(), crate::Error> {
    for entry in policy.entries() {
        let allowed = match entry.kind {
            EntryKind::Dir => Rights::FS,
            EntryKind::File => Rights::FILE,
            EntryKind::Socket(_) => Rights::NET,
        };
        let extra = entry.rights.difference(allowed);
        if !extra.is_empty() {
            return Err(crate::Error::InvalidEntry {
                fd: entry.fd,
                origin: entry.origin.clone(),
                reason: format!(
                    "the rights {extra} mean nothing on a {:?} handle",
                    entry.kind
                ),
            });
        }
        if entry.fd < 0 {
            return Err(crate::Error::InvalidEntry {
                fd: entry.fd,
                origin: entry.origin.clone(),
                reason: "negative descriptor".into(),
            });
        }
    }
    for grant in policy.net_grants() {
        if grant.tcp_connect_ports.contains(&0) {
            return Err(crate::Error::InvalidGrant {
                label: grant.label.clone(),
                reason: "TCP connect port 0 is not a port one can connect to".into(),
            });
        }
    }
    Ok(())
}

/// A descriptor for planner unit tests on any host: this test binary, open.
#[cfg(test)]
pub(crate) mod test_fd {
    /// An open file to borrow a descriptor from.
    pub(crate) fn held() -> std::fs::File {
        std::fs::File::open(std::env::current_exe().unwrap()).unwrap()
    }

    /// Its descriptor, as the policy takes it.
    pub(crate) fn of(file: &std::fs::File) -> super::BorrowedFd<'_> {
        #[cfg(unix)]
        return std::os::fd::AsFd::as_fd(file);
        #[cfg(windows)]
        return std::os::windows::io::AsHandle::as_handle(file).into();
    }
}
