//! The program's side of the broker: a [`Connection`] that serializes
//! requests, waits for the matching reply with a timeout, and turns a dead or
//! hung broker into an error that names it.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use super::protocol::{self, FieldReader, HEADER, Header, Kind, MAX_FRAME};

/// Why a call to the broker failed.
#[derive(Debug)]
pub enum BrokerError {
    /// No reply came within the timeout.
    Timeout {
        /// The broker's pid (for the message).
        pid: i32,
        /// The timeout.
        after: Duration,
    },
    /// The broker is gone (its socket closed, or sending failed).
    Exited {
        /// The broker's pid.
        pid: i32,
        /// How it ended, as far as is known.
        status: String,
    },
    /// The service refused or failed the request.
    Refused {
        /// The service's name.
        service: String,
        /// The error's kind, as the service gave it.
        kind: io::ErrorKind,
        /// The errno behind it, if there was one.
        errno: Option<i32>,
        /// The service's message.
        message: String,
    },
    /// The request could not be sent or the reply made no sense.
    Protocol(String),
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout { pid, after } => {
                write!(f, "broker (pid {pid}) did not answer within ")?;
                if after.subsec_millis() == 0 {
                    write!(f, "{} s", after.as_secs())
                } else {
                    write!(f, "{} ms", after.as_millis())
                }
            }
            Self::Exited { pid, status } => write!(f, "broker (pid {pid}) exited: {status}"),
            Self::Refused {
                service, message, ..
            } => write!(f, "{service} (broker): {message}"),
            Self::Protocol(m) => write!(f, "broker: {m}"),
        }
    }
}

impl std::error::Error for BrokerError {}

impl From<BrokerError> for io::Error {
    fn from(e: BrokerError) -> Self {
        let kind = match &e {
            BrokerError::Timeout { .. } => io::ErrorKind::TimedOut,
            BrokerError::Exited { .. } => io::ErrorKind::BrokenPipe,
            BrokerError::Refused { kind, .. } => *kind,
            BrokerError::Protocol(_) => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

struct State {
    next_id: u32,
    buf: Vec<u8>,
}

struct Inner {
    socket: OwnedFd,
    pidfd: OwnedFd,
    pid: i32,
    timeout: Duration,
    names: Vec<String>,
    state: Mutex<State>,
}

impl Drop for Inner {
    /// The last handle on the broker is gone: close its socket (it exits on
    /// end of stream), make sure with `SIGKILL` (refused in a sandbox
    /// without the exec group; the end of stream is enough there), and reap
    /// it, so no zombie is left.
    fn drop(&mut self) {
        let _ = rustix::net::shutdown(&self.socket, rustix::net::Shutdown::Both);
        let _ = pidfd::kill(&self.pidfd);
        pidfd::reap(&self.pidfd);
    }
}

/// A connection to a broker: cloneable (every clone shares the socket), one
/// request at a time. The broker is stopped and reaped when the last clone
/// (and the [`Broker`](super::Broker)) is dropped.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("pid", &self.inner.pid)
            .field("timeout", &self.inner.timeout)
            .field("services", &self.inner.names)
            .finish_non_exhaustive()
    }
}

fn set_timeout(socket: &OwnedFd, timeout: Duration) -> io::Result<()> {
    rustix::net::sockopt::set_socket_timeout(
        socket,
        rustix::net::sockopt::Timeout::Recv,
        Some(timeout),
    )
    .map_err(|e| {
        io::Error::new(
            io::Error::from(e).kind(),
            format!("broker socket: set the receive timeout: {e}"),
        )
    })
}

#[cfg_attr(not(any(target_os = "linux", target_os = "freebsd")), allow(dead_code))]
impl Connection {
    /// The connection over `socket` to the broker `pidfd`. The socket's
    /// receive timeout (`SO_RCVTIMEO`) is set to `timeout`: a call waits in
    /// one blocking `recvmsg`, with no `poll` before it.
    pub(crate) fn new(
        socket: OwnedFd,
        pidfd: OwnedFd,
        pid: i32,
        timeout: Duration,
        names: Vec<String>,
    ) -> io::Result<Self> {
        // A zero timeout would mean "never" to the kernel.
        let timeout = timeout.max(Duration::from_millis(1));
        set_timeout(&socket, timeout)?;
        Ok(Self {
            inner: Arc::new(Inner {
                socket,
                pidfd,
                pid,
                timeout,
                names,
                state: Mutex::new(State {
                    next_id: 1,
                    buf: vec![0; HEADER + MAX_FRAME],
                }),
            }),
        })
    }

    /// The broker's pid (for messages).
    pub fn pid(&self) -> i32 {
        self.inner.pid
    }

    /// The broker's pidfd.
    pub(crate) fn pidfd(&self) -> &OwnedFd {
        &self.inner.pidfd
    }

    /// The socket (for the program's own sandbox policy).
    pub(crate) fn socket(&self) -> &OwnedFd {
        &self.inner.socket
    }

    fn service_name(&self, service: u8) -> String {
        usize::from(service)
            .checked_sub(1)
            .and_then(|i| self.inner.names.get(i))
            .map_or_else(|| format!("service {service}"), Clone::clone)
    }

    /// How the broker ended, as far as can be told now: waits up to 100 ms
    /// for it to become a zombie (the socket closes a moment before), then
    /// reads its status without reaping it.
    fn exit_status(&self) -> String {
        let mut fds = [PollFd::new(&self.inner.pidfd, PollFlags::IN)];
        let _ = rustix::event::poll(
            &mut fds,
            Some(&Timespec::try_from(Duration::from_millis(100)).unwrap_or_default()),
        );
        pidfd::status(&self.inner.pidfd).unwrap_or_else(|| "its socket is closed".to_owned())
    }

    fn exited(&self) -> BrokerError {
        BrokerError::Exited {
            pid: self.inner.pid,
            status: self.exit_status(),
        }
    }

    /// Sends a request to `service` and waits for its reply: the body and
    /// the descriptors that came with it. Requests are serialized; a reply
    /// to an earlier request that timed out is skipped by its id.
    pub(crate) fn call(
        &self,
        service: u8,
        op: u8,
        body: &[u8],
    ) -> Result<(Vec<u8>, Vec<OwnedFd>), BrokerError> {
        if body.len() > MAX_FRAME {
            return Err(BrokerError::Protocol(format!(
                "a request of {} bytes to {} is over the limit of {MAX_FRAME}",
                body.len(),
                self.service_name(service)
            )));
        }
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = state.next_id;
        state.next_id = state.next_id.wrapping_add(1).max(1);
        let header = Header {
            kind: Kind::Request,
            service,
            op,
            id,
            len: u32::try_from(body.len()).unwrap_or(u32::MAX),
        };
        if let Err(e) = protocol::send_frame(self.inner.socket.as_fd(), &header, body, &[]) {
            return Err(match e.raw_os_error() {
                Some(libc_epipe) if libc_epipe == rustix::io::Errno::PIPE.raw_os_error() => {
                    self.exited()
                }
                _ => BrokerError::Protocol(format!(
                    "sending to broker (pid {}): {e}",
                    self.inner.pid
                )),
            });
        }
        self.wait_reply(&mut state, id, service, self.inner.timeout)
    }

    /// Waits for the broker's first frame (request id 0): ready, with the
    /// report of its sandbox, or why it could not lock itself.
    pub(crate) fn ready(&self, timeout: Duration) -> Result<Vec<u8>, BrokerError> {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        set_timeout(&self.inner.socket, timeout)
            .map_err(|e| BrokerError::Protocol(e.to_string()))?;
        let ready = self.wait_reply(&mut state, 0, 0, timeout);
        set_timeout(&self.inner.socket, self.inner.timeout)
            .map_err(|e| BrokerError::Protocol(e.to_string()))?;
        ready.map(|(body, _)| body)
    }

    /// Sends raw bytes as one message and returns the next reply frame as it
    /// came (for the protocol tests).
    #[cfg(feature = "broker-probe")]
    pub(crate) fn exchange_raw(&self, frame: &[u8]) -> Result<Vec<u8>, BrokerError> {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        protocol::send_raw(self.inner.socket.as_fd(), &[frame], &[])
            .map_err(|e| BrokerError::Protocol(e.to_string()))?;
        let deadline = Instant::now() + self.inner.timeout;
        self.poll_until(deadline, self.inner.timeout)?;
        let got = protocol::recv_frame(self.inner.socket.as_fd(), &mut state.buf)
            .map_err(|e| BrokerError::Protocol(e.to_string()))?
            .ok_or_else(|| self.exited())?;
        Ok(state.buf[..got.len].to_vec())
    }

    #[cfg(feature = "broker-probe")]
    fn poll_until(&self, deadline: Instant, after: Duration) -> Result<(), BrokerError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = BrokerError::Timeout {
                pid: self.inner.pid,
                after,
            };
            if left.is_zero() {
                return Err(timeout);
            }
            let mut fds = [PollFd::new(&self.inner.socket, PollFlags::IN)];
            let ts = Timespec::try_from(left).unwrap_or_default();
            match rustix::event::poll(&mut fds, Some(&ts)) {
                Ok(0) => return Err(timeout),
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    return Err(BrokerError::Protocol(format!(
                        "waiting for broker (pid {}): {e}",
                        self.inner.pid
                    )));
                }
            }
        }
    }

    fn wait_reply(
        &self,
        state: &mut State,
        id: u32,
        service: u8,
        timeout: Duration,
    ) -> Result<(Vec<u8>, Vec<OwnedFd>), BrokerError> {
        let deadline = Instant::now() + timeout;
        loop {
            // One blocking recvmsg, bounded by SO_RCVTIMEO (the timeout):
            // EAGAIN when nothing came. After a stale reply the wait can
            // run up to one timeout past the deadline.
            let got = match protocol::recv_frame(self.inner.socket.as_fd(), &mut state.buf) {
                Ok(Some(got)) => got,
                Ok(None) => return Err(self.exited()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(BrokerError::Timeout {
                            pid: self.inner.pid,
                            after: timeout,
                        });
                    }
                    continue;
                }
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::CONNRESET.raw_os_error()) => {
                    return Err(self.exited());
                }
                Err(e) => return Err(BrokerError::Protocol(e.to_string())),
            };
            let frame = &state.buf[..got.len];
            if got.truncated {
                return Err(BrokerError::Protocol(format!(
                    "broker (pid {}) sent a reply over {MAX_FRAME} bytes",
                    self.inner.pid
                )));
            }
            let (header, body) = protocol::decode(frame).map_err(|e| {
                BrokerError::Protocol(format!(
                    "broker (pid {}) sent a bad reply: {e}",
                    self.inner.pid
                ))
            })?;
            if header.id != id {
                // The late reply to a request that timed out.
                continue;
            }
            return match header.kind {
                Kind::Reply => Ok((body.to_vec(), got.fds)),
                Kind::Error => Err(self.refusal(service, body)),
                Kind::Request => Err(BrokerError::Protocol(format!(
                    "broker (pid {}) sent a request instead of a reply",
                    self.inner.pid
                ))),
            };
        }
    }

    fn refusal(&self, service: u8, body: &[u8]) -> BrokerError {
        let mut r = FieldReader::new(body);
        let parsed = (|| {
            let kind = protocol::code_kind(r.u8("error kind")?);
            let errno = r.u32("errno")?;
            let message = r.str("message")?.to_owned();
            Ok::<_, String>((kind, errno, message))
        })();
        match parsed {
            Ok((kind, errno, message)) => BrokerError::Refused {
                service: self.service_name(service),
                kind,
                errno: i32::try_from(errno).ok().filter(|e| *e != 0),
                message,
            },
            Err(e) => BrokerError::Protocol(format!(
                "broker (pid {}) sent a malformed error reply: {e}",
                self.inner.pid
            )),
        }
    }
}

/// The pidfd calls (Linux).
#[cfg(target_os = "linux")]
pub(crate) mod pidfd {
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};

    use rustix::process::{Signal, WaitId, WaitIdOptions};

    /// `SIGKILL` through the pidfd.
    pub(crate) fn kill(pidfd: &OwnedFd) -> io::Result<()> {
        rustix::process::pidfd_send_signal(pidfd, Signal::KILL).map_err(io::Error::from)
    }

    /// Waits for the process to end and reaps it.
    pub(crate) fn reap(pidfd: &OwnedFd) {
        while let Err(rustix::io::Errno::INTR) =
            rustix::process::waitid(WaitId::PidFd(pidfd.as_fd()), WaitIdOptions::EXITED)
        {}
    }

    /// How the process ended, if it has (without reaping it).
    pub(crate) fn status(pidfd: &OwnedFd) -> Option<String> {
        match rustix::process::waitid(
            WaitId::PidFd(pidfd.as_fd()),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT,
        ) {
            Ok(Some(s)) if s.exited() => {
                Some(format!("exit status {}", s.exit_status().unwrap_or(-1)))
            }
            Ok(Some(s)) if s.killed() || s.dumped() => Some(format!(
                "killed by signal {}",
                s.terminating_signal().unwrap_or(-1)
            )),
            _ => None,
        }
    }
}

/// The process-descriptor calls on FreeBSD (`pdkill`, `pdgetpid` + `wait6`).
#[cfg(target_os = "freebsd")]
pub(crate) use cap_runtime::freebsd::fork as pidfd;

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
pub(crate) mod pidfd {
    use std::io;
    use std::os::fd::OwnedFd;

    pub(crate) fn kill(_: &OwnedFd) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn reap(_: &OwnedFd) {}

    pub(crate) fn status(_: &OwnedFd) -> Option<String> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::os::fd::{AsFd, OwnedFd};
    use std::time::Duration;

    use rustix::net::{AddressFamily, SocketFlags, SocketType};

    use super::super::protocol::{self, Fields, HEADER, Header, Kind, MAX_FRAME};
    use super::super::{Reply, Service, ServiceError};
    use super::{BrokerError, Connection};
    use crate::sandbox::Policy;

    fn pair() -> (OwnedFd, OwnedFd) {
        rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap()
    }

    /// A connection whose "broker" is a `sleep` child (its pidfd) and whose
    /// socket's other end is served by the test.
    // The connection's drop kills and reaps the child through its pidfd.
    #[allow(clippy::zombie_processes)]
    fn connection(socket: OwnedFd, timeout: Duration) -> Connection {
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = rustix::process::Pid::from_child(&child);
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap();
        Connection::new(
            socket,
            pidfd,
            pid.as_raw_nonzero().get(),
            timeout,
            vec!["echo".to_owned()],
        )
        .unwrap()
    }

    struct Echo;
    impl Service for Echo {
        fn name(&self) -> &'static str {
            "echo"
        }
        fn grant<'a>(&'a self, _: &mut Policy<'a>) {}
        fn handle(&mut self, op: u8, body: &[u8]) -> Result<Reply, ServiceError> {
            match op {
                1 => Ok(Reply {
                    body: body.to_vec(),
                    fds: vec![rustix::io::dup(std::io::stderr().as_fd()).unwrap()],
                }),
                3 => panic!("echo: asked to panic"),
                _ => Err(ServiceError::denied(format!("echo: op {op} refused"))),
            }
        }
    }

    #[test]
    fn serve_answers_every_request_and_passes_descriptors() {
        let (ours, theirs) = pair();
        let server = std::thread::spawn(move || {
            let mut services: Vec<Box<dyn Service>> = vec![Box::new(Echo)];
            super::super::process::serve(theirs.as_fd(), &mut services);
        });
        let conn = connection(ours, Duration::from_secs(5));
        let (body, fds) = conn.call(1, 1, b"hello").unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(fds.len(), 1);
        match conn.call(1, 2, b"") {
            Err(BrokerError::Refused {
                service,
                kind,
                message,
                ..
            }) => {
                assert_eq!(service, "echo");
                assert_eq!(kind, std::io::ErrorKind::PermissionDenied);
                assert!(message.contains("op 2 refused"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // A panicking service is an error reply; the broker serves on.
        let e = conn.call(1, 3, b"").unwrap_err().to_string();
        assert!(
            e.contains("echo: the service panicked on operation 3"),
            "{e}"
        );
        assert_eq!(conn.call(1, 1, b"again").unwrap().0, b"again");
        let e = conn.call(9, 1, b"").unwrap_err().to_string();
        assert!(e.contains("unknown service 9"), "{e}");
        let e = conn
            .call(1, 1, &vec![0; MAX_FRAME + 1])
            .unwrap_err()
            .to_string();
        assert!(e.contains("over the limit"), "{e}");
        // The connection closes: the server sees the end of stream.
        drop(conn);
        server.join().unwrap();
    }

    #[test]
    fn an_empty_message_is_refused_and_does_not_stop_the_broker() {
        let (ours, theirs) = pair();
        let server = std::thread::spawn(move || {
            let mut services: Vec<Box<dyn Service>> = vec![Box::new(Echo)];
            super::super::process::serve(theirs.as_fd(), &mut services);
        });
        // An empty message reads like the end of the stream; the broker must
        // tell the two apart by whether the program hung up.
        rustix::net::send(&ours, &[], rustix::net::SendFlags::empty()).unwrap();
        let mut buf = vec![0u8; HEADER + MAX_FRAME];
        let got = protocol::recv_frame(ours.as_fd(), &mut buf)
            .unwrap()
            .expect("the broker stopped on an empty message");
        let (header, _) = protocol::decode(&buf[..got.len]).unwrap();
        assert_eq!(header.kind, Kind::Error);
        // Twin: the next request is answered, and closing still ends it.
        let conn = connection(ours, Duration::from_secs(5));
        assert_eq!(conn.call(1, 1, b"after").unwrap().0, b"after");
        drop(conn);
        server.join().unwrap();
    }

    #[test]
    fn a_program_that_shuts_its_end_for_writing_ends_the_broker() {
        let (ours, theirs) = pair();
        let (ended, end) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut services: Vec<Box<dyn Service>> = vec![Box::new(Echo)];
            super::super::process::serve(theirs.as_fd(), &mut services);
            drop(theirs);
            let _ = ended.send(());
        });
        // A half-close sets no POLLHUP, only POLLRDHUP: still the end (a
        // broker that missed it would answer empty reads forever).
        rustix::net::shutdown(&ours, rustix::net::Shutdown::Write).unwrap();
        assert!(
            end.recv_timeout(Duration::from_secs(10)).is_ok(),
            "the broker did not end"
        );
        // And the broker answered nothing: it took the end as the end, not
        // as an empty frame to refuse.
        let mut buf = vec![0u8; HEADER + MAX_FRAME];
        assert!(
            protocol::recv_frame(ours.as_fd(), &mut buf)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_late_reply_is_skipped_by_its_id() {
        let (ours, theirs) = pair();
        let fake = std::thread::spawn(move || {
            let mut buf = vec![0u8; HEADER + MAX_FRAME];
            let reply = |id: u32, text: &str| {
                let body = Fields::new().str(text).finish();
                let h = Header {
                    kind: Kind::Reply,
                    service: 1,
                    op: 0,
                    id,
                    len: u32::try_from(body.len()).unwrap(),
                };
                protocol::send_frame(theirs.as_fd(), &h, &body, &[]).unwrap();
            };
            let first = protocol::recv_frame(theirs.as_fd(), &mut buf)
                .unwrap()
                .unwrap();
            let (h1, _) = protocol::decode(&buf[..first.len]).unwrap();
            // Hung past the client's timeout, then answers late.
            std::thread::sleep(Duration::from_millis(400));
            reply(h1.id, "late");
            let second = protocol::recv_frame(theirs.as_fd(), &mut buf)
                .unwrap()
                .unwrap();
            let (h2, _) = protocol::decode(&buf[..second.len]).unwrap();
            assert_ne!(h1.id, h2.id);
            reply(h2.id, "fresh");
        });
        let conn = connection(ours, Duration::from_millis(200));
        let e = conn.call(1, 1, b"").unwrap_err();
        assert!(matches!(e, BrokerError::Timeout { .. }), "{e}");
        assert!(
            e.to_string().contains("did not answer within 200 ms"),
            "{e}"
        );
        // Wait for the late reply to be in the socket before asking again.
        std::thread::sleep(Duration::from_millis(400));
        let conn2 = Connection {
            inner: conn.inner.clone(),
        };
        let (body, _) = Connection::call(&conn2, 1, 1, b"").unwrap();
        assert_eq!(super::FieldReader::new(&body).str("text").unwrap(), "fresh");
        fake.join().unwrap();
    }
}
