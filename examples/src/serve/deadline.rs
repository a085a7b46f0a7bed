//! [`Deadlines`]: the idle and write timeouts of a connection, as a wrapper
//! around its stream.
//!
//! hyper's own `header_read_timeout` bounds how long a request head may take
//! (and so an idle keep-alive connection, which is waiting for a head). Two
//! more are needed against clients that hold a connection without speaking:
//! a **write timeout** (a write that makes no progress, such as a client that
//! never reads a large file) and an **idle timeout** (no byte moved either
//! way, such as a client that stops sending a request body).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep, sleep};

/// A stream whose reads fail with `TimedOut` after `idle` without progress in
/// either direction, and whose writes fail after `write` without progress.
pub struct Deadlines<IO> {
    io: IO,
    idle: Duration,
    write: Duration,
    /// The last time a byte moved; the idle timer is moved forward to it
    /// lazily, when it fires, rather than reset on every call.
    progress: Instant,
    idle_timer: Pin<Box<Sleep>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<IO> Deadlines<IO> {
    /// Wraps `io` with the two timeouts.
    pub fn new(io: IO, idle: Duration, write: Duration) -> Self {
        Self {
            io,
            idle,
            write,
            progress: Instant::now(),
            idle_timer: Box::pin(sleep(idle)),
            write_timer: None,
        }
    }

    /// Whether `idle` has passed since the last progress (re-arming the
    /// timer when progress was made meanwhile).
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.idle_timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let deadline = self.progress + self.idle;
            if deadline <= Instant::now() {
                return true;
            }
            self.idle_timer.as_mut().reset(deadline);
        }
    }
}

fn timed_out(what: &str, after: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{what} timeout ({after:?})"),
    )
}

impl<IO: AsyncRead + Unpin> AsyncRead for Deadlines<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.progress = Instant::now();
                }
                Poll::Ready(result)
            }
            Poll::Pending if this.idle_expired(cx) => {
                Poll::Ready(Err(timed_out("idle", this.idle)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<IO: AsyncWrite + Unpin> Deadlines<IO> {
    fn wrote<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.progress = Instant::now();
                self.write_timer = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let write = self.write;
                let timer = self
                    .write_timer
                    .get_or_insert_with(|| Box::pin(sleep(write)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(timed_out("write", write)));
                }
                Poll::Pending
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Deadlines<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_flush(cx);
        this.wrote(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_shutdown(cx);
        this.wrote(cx, poll)
    }
}
