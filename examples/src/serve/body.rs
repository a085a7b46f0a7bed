//! [`Body`]: a response body that is empty, a few bytes in memory, or a file
//! streamed in chunks (never read whole).

use std::io::{self, Read as _};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use cap_core::fs::File;
use hyper::body::{Frame, SizeHint};
use tokio::task::JoinHandle;

use super::Reads;

/// The largest chunk read from a file at a time: one buffer in flight per
/// connection (and, with [`Reads::BlockingPool`], one trip to the pool).
const CHUNK: u64 = 256 * 1024;

/// The rights of a streamed file.
type Rights = cap_core::rights![Read, Stat];

/// A response body.
pub enum Body {
    /// No body (HEAD, 304, errors without text).
    Empty,
    /// Bytes already in memory (small files, error pages).
    Full(Option<Bytes>),
    /// The rest of a file, read in chunks.
    File(Stream),
}

impl Body {
    /// A body of `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Body::Full(Some(bytes.into()))
    }

    /// The next `remaining` bytes of `file`, from its current position,
    /// read where `reads` says.
    pub fn file(file: File<Rights>, remaining: u64, reads: Reads) -> Self {
        Body::File(Stream {
            state: State::Idle(Some(file)),
            remaining,
            reads,
        })
    }
}

/// A file being sent: each chunk is read straight into the buffer that
/// becomes the frame (no zeroing, no second copy), on the runtime thread or
/// in the blocking pool.
pub struct Stream {
    state: State,
    remaining: u64,
    reads: Reads,
}

type Chunk = (File<Rights>, io::Result<Vec<u8>>);

enum State {
    /// Between chunks (`None` once the file has failed).
    Idle(Option<File<Rights>>),
    /// A chunk is being read.
    Reading(JoinHandle<Chunk>),
}

fn read_chunk(mut file: File<Rights>, want: u64) -> Chunk {
    let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
    let result = (&mut file).take(want).read_to_end(&mut buf).map(|_| buf);
    (file, result)
}

impl Stream {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let (file, result) = match &mut self.state {
            State::Idle(file) => {
                let Some(file) = file.take() else {
                    return Poll::Ready(None);
                };
                let want = self.remaining.min(CHUNK);
                match self.reads {
                    Reads::Inline => read_chunk(file, want),
                    Reads::BlockingPool => {
                        let mut task = tokio::task::spawn_blocking(move || read_chunk(file, want));
                        let polled = Pin::new(&mut task).poll(cx);
                        self.state = State::Reading(task);
                        match ready!(polled) {
                            Ok(chunk) => chunk,
                            Err(e) => return Poll::Ready(Some(self.failed(io::Error::other(e)))),
                        }
                    }
                }
            }
            State::Reading(task) => match ready!(Pin::new(task).poll(cx)) {
                Ok(chunk) => chunk,
                Err(e) => return Poll::Ready(Some(self.failed(io::Error::other(e)))),
            },
        };
        Poll::Ready(Some(self.chunk_read(file, result)))
    }

    /// The frame of a chunk just read, or the error that ends the body.
    fn chunk_read(
        &mut self,
        file: File<Rights>,
        result: io::Result<Vec<u8>>,
    ) -> io::Result<Frame<Bytes>> {
        let buf = match result {
            Ok(buf) if !buf.is_empty() => buf,
            // The file shrank under us: end the body short, which the client
            // sees as a truncated response (Content-Length).
            Ok(_) => {
                return self.failed(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while being sent",
                ));
            }
            Err(e) => return self.failed(e),
        };
        self.remaining -= buf.len() as u64;
        self.state = State::Idle(Some(file));
        Ok(Frame::data(Bytes::from(buf)))
    }

    fn failed(&mut self, e: io::Error) -> io::Result<Frame<Bytes>> {
        self.state = State::Idle(None);
        self.remaining = 0;
        Err(e)
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
            Body::File(stream) => stream.poll_chunk(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_none(),
            Body::File(stream) => stream.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File(stream) => SizeHint::with_exact(stream.remaining),
        }
    }
}
