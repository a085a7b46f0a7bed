//! The broker's wire format: one frame per `SOCK_SEQPACKET` message, a fixed
//! header and a body, descriptors beside it as `SCM_RIGHTS`.
//!
//! ```text
//! offset  size  field
//!      0     2  magic "AB"
//!      2     1  version (VERSION)
//!      3     1  kind: 1 request, 2 reply, 3 error reply
//!      4     1  service id (assigned by the builder, from 1)
//!      5     1  operation (the service's own numbering)
//!      6     2  reserved, 0
//!      8     4  request id, little-endian (a reply carries its request's)
//!     12     4  body length, little-endian (must equal what follows)
//!     16     …  body (at most MAX_FRAME bytes)
//! ```
//!
//! A body is a sequence of fields written with [`Fields`] and read with
//! [`FieldReader`]: `u8`, `u32` (little-endian) and byte strings (a `u32`
//! length, then the bytes). An error reply's body is an error kind code
//! (`u8`), the errno or 0 (`u32`) and the message (a string).
//!
//! [`decode`] never panics and never allocates from a length it was sent:
//! the body length must match the bytes actually received, and a frame over
//! [`MAX_FRAME`] is cut by the receive buffer and refused as oversized.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

/// The protocol version this build speaks.
pub const VERSION: u8 = 1;
/// The header's size in bytes.
pub const HEADER: usize = 16;
/// The largest body of a frame, in bytes.
pub const MAX_FRAME: usize = 64 * 1024;
/// The most descriptors one frame carries.
pub const MAX_FDS: usize = 4;
const MAGIC: [u8; 2] = *b"AB";

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A request from the program to a service.
    Request = 1,
    /// A successful reply.
    Reply = 2,
    /// An error reply: the request was refused or failed.
    Error = 3,
}

/// A frame's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Request, reply or error reply.
    pub kind: Kind,
    /// The service addressed (or answering).
    pub service: u8,
    /// The service's operation.
    pub op: u8,
    /// The request id, matched by the reply.
    pub id: u32,
    /// The body's length.
    pub len: u32,
}

impl Header {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..2].copy_from_slice(&MAGIC);
        h[2] = VERSION;
        h[3] = self.kind as u8;
        h[4] = self.service;
        h[5] = self.op;
        h[8..12].copy_from_slice(&self.id.to_le_bytes());
        h[12..16].copy_from_slice(&self.len.to_le_bytes());
        h
    }
}

/// Why a frame was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than a header.
    Short(usize),
    /// Not a broker frame.
    Magic,
    /// A protocol version this build does not speak.
    Version(u8),
    /// An unknown frame kind.
    Kind(u8),
    /// The header's body length is not the number of bytes that came.
    Length {
        /// What the header said.
        said: u32,
        /// What came.
        got: usize,
    },
    /// A body over [`MAX_FRAME`].
    Oversized(usize),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Short(n) => write!(
                f,
                "a frame of {n} bytes is shorter than the {HEADER}-byte header"
            ),
            Self::Magic => write!(f, "not a broker frame (bad magic)"),
            Self::Version(v) => write!(
                f,
                "protocol version {v} is not supported (this broker speaks {VERSION})"
            ),
            Self::Kind(k) => write!(f, "unknown frame kind {k}"),
            Self::Length { said, got } => {
                write!(f, "the header says a body of {said} bytes but {got} came")
            }
            Self::Oversized(n) => write!(
                f,
                "a frame body of {n} bytes or more is over the limit of {MAX_FRAME}"
            ),
        }
    }
}

/// Decodes one frame: its header and body. Never panics, whatever `frame`
/// holds.
pub fn decode(frame: &[u8]) -> Result<(Header, &[u8]), DecodeError> {
    if frame.len() < HEADER {
        return Err(DecodeError::Short(frame.len()));
    }
    let (h, body) = frame.split_at(HEADER);
    if h[..2] != MAGIC {
        return Err(DecodeError::Magic);
    }
    if h[2] != VERSION {
        return Err(DecodeError::Version(h[2]));
    }
    let kind = match h[3] {
        1 => Kind::Request,
        2 => Kind::Reply,
        3 => Kind::Error,
        k => return Err(DecodeError::Kind(k)),
    };
    let len = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    if body.len() > MAX_FRAME {
        return Err(DecodeError::Oversized(body.len()));
    }
    if usize::try_from(len).ok() != Some(body.len()) {
        return Err(DecodeError::Length {
            said: len,
            got: body.len(),
        });
    }
    Ok((
        Header {
            kind,
            service: h[4],
            op: h[5],
            id: u32::from_le_bytes([h[8], h[9], h[10], h[11]]),
            len,
        },
        body,
    ))
}

/// The request id of a frame that may not decode (0 when too short), so a
/// refusal can still be matched to its request.
pub fn request_id(frame: &[u8]) -> u32 {
    match frame.get(8..12) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Writes the fields of a body.
#[derive(Debug, Default)]
pub struct Fields {
    buf: Vec<u8>,
}

impl Fields {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a byte.
    pub fn u8(mut self, v: u8) -> Self {
        self.buf.push(v);
        self
    }

    /// Appends a little-endian `u32`.
    pub fn u32(mut self, v: u32) -> Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a byte string (its length, then the bytes). A string over
    /// [`MAX_FRAME`] is cut there (the frame would be refused anyway).
    pub fn bytes(mut self, v: &[u8]) -> Self {
        let v = &v[..v.len().min(MAX_FRAME)];
        self = self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
        self
    }

    /// Appends a UTF-8 string.
    pub fn str(self, v: &str) -> Self {
        self.bytes(v.as_bytes())
    }

    /// The body.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads the fields of a body, in the order they were written; each read
/// fails with a message naming the field when the body is too short.
#[derive(Debug)]
pub struct FieldReader<'a> {
    rest: &'a [u8],
}

impl<'a> FieldReader<'a> {
    /// A reader over `body`.
    pub fn new(body: &'a [u8]) -> Self {
        Self { rest: body }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!(
                "malformed body: {what} needs {n} bytes, {} left",
                self.rest.len()
            ));
        }
        let (v, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(v)
    }

    /// Reads a byte.
    pub fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads a little-endian `u32`.
    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a byte string.
    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.u32(what)?).unwrap_or(usize::MAX);
        self.take(len, what)
    }

    /// Reads a UTF-8 string.
    pub fn str(&mut self, what: &str) -> Result<&'a str, String> {
        let b = self.bytes(what)?;
        std::str::from_utf8(b).map_err(|_| format!("malformed body: {what} is not UTF-8"))
    }

    /// Checks that nothing is left.
    pub fn end(&self) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "malformed body: {} bytes left over",
                self.rest.len()
            ))
        }
    }
}

/// `io::ErrorKind` as a byte on the wire (for error replies).
#[cfg_attr(not(any(target_os = "linux", target_os = "freebsd")), allow(dead_code))]
pub(crate) fn kind_code(kind: io::ErrorKind) -> u8 {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => 1,
        K::PermissionDenied => 2,
        K::InvalidInput => 3,
        K::InvalidData => 4,
        K::TimedOut => 5,
        K::Unsupported => 6,
        K::AlreadyExists => 7,
        K::NotADirectory => 8,
        K::IsADirectory => 9,
        K::ConnectionRefused => 10,
        _ => 0,
    }
}

/// The `io::ErrorKind` of a wire code.
pub(crate) fn code_kind(code: u8) -> io::ErrorKind {
    use io::ErrorKind as K;
    match code {
        1 => K::NotFound,
        2 => K::PermissionDenied,
        3 => K::InvalidInput,
        4 => K::InvalidData,
        5 => K::TimedOut,
        6 => K::Unsupported,
        7 => K::AlreadyExists,
        8 => K::NotADirectory,
        9 => K::IsADirectory,
        10 => K::ConnectionRefused,
        _ => K::Other,
    }
}

/// `MSG_NOSIGNAL` where it exists.
#[cfg(not(target_vendor = "apple"))]
const NOSIGNAL: SendFlags = SendFlags::NOSIGNAL;
#[cfg(target_vendor = "apple")]
const NOSIGNAL: SendFlags = SendFlags::empty();

#[cfg(not(target_vendor = "apple"))]
const RECV_CLOEXEC: RecvFlags = RecvFlags::CMSG_CLOEXEC;
#[cfg(target_vendor = "apple")]
const RECV_CLOEXEC: RecvFlags = RecvFlags::empty();

/// Sends one frame (header, body and descriptors) as one message.
pub(crate) fn send_frame(
    socket: BorrowedFd<'_>,
    header: &Header,
    body: &[u8],
    fds: &[BorrowedFd<'_>],
) -> io::Result<()> {
    send_raw(socket, &[&header.encode(), body], fds)
}

/// Sends the byte slices as one message with `fds`.
pub(crate) fn send_raw(
    socket: BorrowedFd<'_>,
    parts: &[&[u8]],
    fds: &[BorrowedFd<'_>],
) -> io::Result<()> {
    let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("broker: a frame carries at most {MAX_FDS} descriptors"),
        ));
    }
    loop {
        match rustix::net::sendmsg(socket, &slices, &mut control, NOSIGNAL) {
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
            Ok(_) => return Ok(()),
        }
    }
}

/// One received message.
#[derive(Debug)]
pub(crate) struct Received {
    /// How many bytes came (into the caller's buffer).
    pub(crate) len: usize,
    /// The message was longer than the buffer (the rest is lost).
    pub(crate) truncated: bool,
    /// The descriptors that came with it.
    pub(crate) fds: Vec<OwnedFd>,
}

/// Receives one message into `buf` (which should hold `HEADER + MAX_FRAME`
/// bytes). `None` at end of stream (the peer closed its end). An empty
/// message reads the same as the end of stream, so an empty read is the end
/// only when the peer has hung up; otherwise it is an empty frame (which
/// does not decode, and is answered as any malformed frame is).
pub(crate) fn recv_frame(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Option<Received>> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    loop {
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let msg = match rustix::net::recvmsg(
            socket,
            &mut [IoSliceMut::new(buf)],
            &mut control,
            RECV_CLOEXEC,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(m) => m,
        };
        let mut fds = Vec::new();
        for m in control.drain() {
            if let RecvAncillaryMessage::ScmRights(got) = m {
                fds.extend(got);
            }
        }
        if msg.bytes == 0 && fds.is_empty() && hung_up(socket)? {
            return Ok(None);
        }
        let truncated = msg.flags.contains(ReturnFlags::TRUNC);
        if msg.flags.contains(ReturnFlags::CTRUNC) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("broker: more than {MAX_FDS} descriptors came with a frame (cut off)"),
            ));
        }
        return Ok(Some(Received {
            len: msg.bytes,
            truncated,
            fds,
        }));
    }
}

/// Whether the peer of `socket` will send no more, asked without waiting:
/// its end closed (`POLLHUP`, set on a connected `SOCK_SEQPACKET` socket
/// once the other end is gone) or shut down for writing (`POLLRDHUP` on
/// Linux and FreeBSD, where a half-close sets no `POLLHUP`).
fn hung_up(socket: BorrowedFd<'_>) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    let ended = PollFlags::HUP | PollFlags::ERR | PollFlags::RDHUP;
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let ended = PollFlags::HUP | PollFlags::ERR;
    let mut fds = [PollFd::new(&socket, PollFlags::IN | ended)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        match rustix::event::poll(&mut fds, Some(&now)) {
            Ok(_) => return Ok(fds[0].revents().intersects(ended)),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so the fuzz loop needs no
    /// dependency and every run tries the same cases.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap()
        }
    }

    fn request(service: u8, op: u8, id: u32, body: &[u8]) -> Vec<u8> {
        let h = Header {
            kind: Kind::Request,
            service,
            op,
            id,
            len: u32::try_from(body.len()).unwrap(),
        };
        let mut f = h.encode().to_vec();
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn a_frame_round_trips() {
        let body = Fields::new()
            .u8(7)
            .u32(0xdead_beef)
            .str("/srv/in/a.txt")
            .finish();
        let frame = request(3, 1, 42, &body);
        let (h, b) = decode(&frame).unwrap();
        assert_eq!((h.kind, h.service, h.op, h.id), (Kind::Request, 3, 1, 42));
        let mut r = FieldReader::new(b);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u32("b").unwrap(), 0xdead_beef);
        assert_eq!(r.str("c").unwrap(), "/srv/in/a.txt");
        r.end().unwrap();
        assert!(r.u8("past the end").unwrap_err().contains("past the end"));
    }

    #[test]
    fn bad_frames_are_refused_with_a_reason() {
        let good = request(1, 1, 9, b"abc");
        assert_eq!(decode(&good[..10]), Err(DecodeError::Short(10)));
        let mut v = good.clone();
        v[2] = 2;
        assert_eq!(decode(&v), Err(DecodeError::Version(2)));
        let mut k = good.clone();
        k[3] = 9;
        assert_eq!(decode(&k), Err(DecodeError::Kind(9)));
        let mut m = good.clone();
        m[0] = b'X';
        assert_eq!(decode(&m), Err(DecodeError::Magic));
        // A huge length is compared, never allocated.
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            decode(&huge),
            Err(DecodeError::Length {
                said: u32::MAX,
                got: 3
            })
        );
        // Truncated: fewer body bytes than the header says.
        assert!(matches!(
            decode(&good[..good.len() - 1]),
            Err(DecodeError::Length { said: 3, got: 2 })
        ));
        assert_eq!(request_id(&good), 9);
        assert_eq!(request_id(&good[..5]), 0);
        let big = vec![0u8; HEADER + MAX_FRAME + 1];
        let mut big = big;
        big[..HEADER].copy_from_slice(&request(1, 1, 1, b"")[..HEADER]);
        assert!(matches!(decode(&big), Err(DecodeError::Oversized(_))));
    }

    #[allow(clippy::cast_possible_truncation)] // random bytes from random words
    /// The decoder and the field reader over 200 000 random, truncated and
    /// mutated frames: no panic, and every accepted frame's body length is
    /// what its header says.
    #[test]
    fn decoder_fuzz_no_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let seeds: Vec<Vec<u8>> = vec![
            request(
                1,
                1,
                1,
                &Fields::new().str("/srv/in/a").u32(3).u8(0).finish(),
            ),
            request(2, 4, 7, b""),
            request(0, 0, 0, &[0xff; 40]),
        ];
        let mut accepted = 0;
        for i in 0..200_000 {
            let frame: Vec<u8> = match i % 4 {
                // Random bytes of random length.
                0 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
                // A valid frame cut anywhere.
                1 => {
                    let s = &seeds[rng.below(seeds.len())];
                    s[..rng.below(s.len() + 1)].to_vec()
                }
                // A valid frame with random bytes flipped (the header too).
                2 => {
                    let mut s = seeds[rng.below(seeds.len())].clone();
                    for _ in 0..=rng.below(4) {
                        let at = rng.below(s.len());
                        s[at] = rng.next() as u8;
                    }
                    s
                }
                // A valid header with a random (often huge) length.
                _ => {
                    let mut s = seeds[rng.below(seeds.len())].clone();
                    let len = rng.next() as u32;
                    s[12..16].copy_from_slice(&len.to_le_bytes());
                    s
                }
            };
            let _ = request_id(&frame);
            if let Ok((h, body)) = decode(&frame) {
                accepted += 1;
                assert_eq!(h.len as usize, body.len());
                // Read the body as any service would: fields until one fails.
                let mut r = FieldReader::new(body);
                for _ in 0..8 {
                    let _ = match rng.below(4) {
                        0 => r.u8("x").map(|_| ()),
                        1 => r.u32("x").map(|_| ()),
                        2 => r.bytes("x").map(|_| ()),
                        _ => r.str("x").map(|_| ()),
                    };
                }
                let _ = r.end();
            }
        }
        // The mutations leave some frames valid: the accepting path ran too.
        assert!(accepted > 1000, "{accepted}");
    }
}
