//! [`Body`]: a response body that is empty, a few bytes in memory, or a file
//! streamed in chunks (never read whole).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use cap_core::rights::HasRead;
use cap_core::tokio::fs::File;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};

/// The largest chunk read from a file at a time.
const CHUNK: usize = 64 * 1024;

/// A response body.
pub enum Body {
    /// No body (HEAD, 304, errors without text).
    Empty,
    /// Bytes already in memory (small files, error pages).
    Full(Option<Bytes>),
    /// `remaining` bytes of a file, from its current position.
    File {
        /// The open file, positioned at the first byte to send.
        file: File<cap_core::rights![Read, Stat]>,
        /// How many bytes are left to send.
        remaining: u64,
    },
}

impl Body {
    /// A body of `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Body::Full(Some(bytes.into()))
    }
}

fn poll_chunk<R: HasRead>(
    file: &mut File<R>,
    remaining: &mut u64,
    cx: &mut Context<'_>,
) -> Poll<Option<io::Result<Frame<Bytes>>>> {
    if *remaining == 0 {
        return Poll::Ready(None);
    }
    let want = usize::try_from(*remaining).map_or(CHUNK, |r| r.min(CHUNK));
    let mut buf = BytesMut::zeroed(want);
    let mut read = ReadBuf::new(&mut buf);
    match Pin::new(file).poll_read(cx, &mut read) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
        Poll::Ready(Ok(())) => {
            let n = read.filled().len();
            if n == 0 {
                // The file shrank under us: end the body short, which the
                // client sees as a truncated response (Content-Length).
                *remaining = 0;
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while being sent",
                ))));
            }
            *remaining -= n as u64;
            buf.truncate(n);
            Poll::Ready(Some(Ok(Frame::data(buf.freeze()))))
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::File { file, remaining } => poll_chunk(file, remaining, cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_none(),
            Body::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
