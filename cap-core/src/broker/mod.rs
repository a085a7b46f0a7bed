//! The broker: a small process, made before the lock, that holds the
//! authority capability mode forbids the program to use by name, and answers
//! narrow typed requests for it — ambit's libcasper.
//!
//! A locked program cannot open a path the user names after start, resolve
//! a host name, or reach syslog. The broker holds what those need (the roots
//! of a [`FileArgs`], …), is itself locked by ambit's own sandbox derived
//! from exactly that, and passes back descriptors (`SCM_RIGHTS`) as typed
//! handles.
//!
//! ```no_run
//! use cap_core::broker::Broker;
//! use cap_core::fs::Dir;
//! use cap_core::rights::ReadOnly;
//! use cap_core::sandbox::{InheritedFds, Sandbox};
//! # fn main() -> std::io::Result<()> {
//! let snapshot = InheritedFds::snapshot();
//! let root: Dir<ReadOnly> = Dir::open_ambient_dir("/srv/in", cap_core::ambient_authority())?;
//! let mut builder = Broker::builder();
//! let inputs = builder.fileargs([root]);
//! let broker = builder.spawn()?; // before any thread exists
//! let inputs = broker.claim(inputs)?;
//! Sandbox::new().grant(&broker).inherited_fds(snapshot).enter().map_err(std::io::Error::other)?;
//! // Locked: a path typed by the user is opened by the broker, beneath /srv/in.
//! let text = std::io::read_to_string(inputs.open("/srv/in/today.txt")?)?;
//! # Ok(()) }
//! ```
//!
//! # Architecture
//!
//! - [`Builder::spawn`] forks the process (without exec; it must be
//!   single-threaded, checked) and connects the two with a
//!   `SOCK_SEQPACKET` socketpair. The child sets `PR_SET_PDEATHSIG`, closes
//!   every descriptor but the socket and its services' handles, enters
//!   ambit's sandbox derived from exactly those (strict: Landlock + seccomp),
//!   tells the parent it is ready (or why it could not lock itself), and
//!   serves requests until the socket reaches end of stream.
//! - The program holds the broker as a pidfd child ([`Broker`]); it is
//!   stopped and reaped when the `Broker` and every client handle are
//!   dropped.
//! - Requests go one at a time through a [`Connection`] (a clone per
//!   client handle), each answered by a reply or an error reply, matched
//!   by request id; a broker that does not answer within the timeout
//!   (default 1 s, [`Builder::timeout`]) or has exited makes the call fail
//!   with an error naming it ([`BrokerError`]).
//! - The wire format is in [`protocol`].
//!
//! # Services (the extension interface)
//!
//! A service is a broker-side [`Service`] (the authority it holds and how it
//! answers) and a program-side client handle built from a [`Connection`] and
//! the service id. To add one inside this crate:
//!
//! 1. implement [`Service`]: `name` (for messages), `grant` (every
//!    descriptor the service keeps and the network it needs: the broker's
//!    sandbox is derived from these, and every other descriptor is closed
//!    in the broker), `handle(op, body)` returning a [`Reply`] (body and
//!    descriptors) or a [`ServiceError`] (turned into an error reply);
//! 2. add a `Builder` method that calls `self.register(Box::new(svc))`,
//!    which returns the service id, and returns
//!    `Ticket::new(self, move |conn| Client { conn, id, .. })`;
//! 3. the client calls `conn.call(id, op, &body)` and decodes the reply
//!    with [`protocol::FieldReader`]; the body is built with
//!    [`protocol::Fields`].
//!
//! The rights a client handle's type promises are checked again in the
//! broker: the client's type is not trusted.

pub mod protocol;

mod client;
pub mod dns;
mod fileargs;
pub mod logger;
#[cfg(feature = "broker-probe")]
mod probe;
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
mod process;
mod resolver;

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use client::{BrokerError, Connection};
pub use fileargs::FileArgs;
#[cfg(feature = "tracing")]
pub use logger::TracingLayer;
pub use logger::{Format, Level, LogSink, Logger, Record, Stamp, SyslogWriter};
pub use resolver::{Lookup, NamePattern, Resolver, ResolverConfig, parse_patterns};

use crate::sandbox::{Grant, Policy, Report};

/// What a service answers: a body and descriptors (at most
/// [`protocol::MAX_FDS`]).
#[derive(Debug, Default)]
pub struct Reply {
    /// The reply's body (at most [`protocol::MAX_FRAME`] bytes).
    pub body: Vec<u8>,
    /// Descriptors sent with it (`SCM_RIGHTS`); closed in the broker once
    /// sent.
    pub fds: Vec<OwnedFd>,
}

/// Why a service refused or failed a request: sent back as an error reply.
#[derive(Debug)]
pub struct ServiceError {
    /// The error's kind (the client's `io::Error` gets it).
    pub kind: io::ErrorKind,
    /// The errno behind it, if one.
    pub errno: Option<i32>,
    /// The message (names the path, name or right concerned).
    pub message: String,
}

impl From<String> for ServiceError {
    fn from(message: String) -> Self {
        Self {
            kind: io::ErrorKind::InvalidInput,
            errno: None,
            message,
        }
    }
}

impl From<io::Error> for ServiceError {
    fn from(e: io::Error) -> Self {
        Self {
            kind: e.kind(),
            errno: crate::fs::raw_os_error(&e),
            message: e.to_string(),
        }
    }
}

impl ServiceError {
    /// A refusal for lack of a right (`PermissionDenied`).
    pub fn denied(message: String) -> Self {
        Self {
            kind: io::ErrorKind::PermissionDenied,
            errno: None,
            message,
        }
    }
}

/// A service run inside the broker. See the [module documentation](self).
pub trait Service: Send {
    /// The service's name, for messages (`"fileargs"`).
    fn name(&self) -> &str;
    /// Adds every descriptor this service keeps (and the network it needs)
    /// to the broker's sandbox policy. Descriptors not granted are closed
    /// in the broker before it locks itself.
    fn grant<'a>(&'a self, policy: &mut Policy<'a>);
    /// Answers one request.
    fn handle(&mut self, op: u8, body: &[u8]) -> Result<Reply, ServiceError>;
}

static NEXT_BUILDER: AtomicU64 = AtomicU64::new(1);

/// Declares a broker's services, then makes it ([`Builder::spawn`]).
pub struct Builder {
    services: Vec<Box<dyn Service>>,
    timeout: Duration,
    nonce: u64,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field(
                "services",
                &self.services.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The promise of a client handle for a service declared on a [`Builder`],
/// redeemed with [`Broker::claim`] once the broker runs.
pub struct Ticket<T> {
    nonce: u64,
    make: Box<dyn FnOnce(Connection) -> T>,
    _t: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Ticket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket").finish_non_exhaustive()
    }
}

impl<T> Ticket<T> {
    /// A ticket of `builder` whose client is made by `make`.
    pub(crate) fn new(builder: &Builder, make: impl FnOnce(Connection) -> T + 'static) -> Self {
        Self {
            nonce: builder.nonce,
            make: Box::new(make),
            _t: PhantomData,
        }
    }
}

impl Builder {
    /// Registers a service; returns its id (from 1, in order).
    pub(crate) fn register(&mut self, service: Box<dyn Service>) -> u8 {
        self.services.push(service);
        u8::try_from(self.services.len()).unwrap_or(u8::MAX)
    }

    /// How long a call waits for the broker's reply (default 1 s).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Makes the broker process: forks this process (which must be
    /// single-threaded: call it before any thread starts, and before the
    /// lock), locks the broker in its own sandbox derived from its
    /// services' handles, and waits until it is ready. The services' handles
    /// are closed in this process.
    ///
    /// Linux (a pidfd child locked with Landlock and seccomp) and FreeBSD (a
    /// `pdfork` child in Capsicum's capability mode, compile-checked only);
    /// elsewhere an `Unsupported` error.
    pub fn spawn(self) -> io::Result<Broker> {
        if self.services.len() > usize::from(u8::MAX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "broker: more than 255 services",
            ));
        }
        #[cfg(any(target_os = "linux", target_os = "freebsd"))]
        {
            process::spawn(self)
        }
        #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
        {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "the broker process is implemented on Linux and FreeBSD only, not on {}",
                    std::env::consts::OS
                ),
            ))
        }
    }
}

/// The broker process, held as a pidfd child, and the connection to it.
/// Dropping it (and every client handle made from it) closes the socket,
/// stops and reaps the broker.
pub struct Broker {
    conn: Connection,
    nonce: u64,
    report: Option<Report>,
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("connection", &self.conn)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A builder with no service and the default timeout (1 s).
    pub fn builder() -> Builder {
        Builder {
            services: Vec::new(),
            timeout: Duration::from_secs(1),
            nonce: NEXT_BUILDER.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The client handle promised by `ticket`; an error if the ticket is of
    /// another builder.
    pub fn claim<T>(&self, ticket: Ticket<T>) -> io::Result<T> {
        if ticket.nonce != self.nonce {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "broker (pid {}): this ticket was issued by another broker's builder",
                    self.conn.pid()
                ),
            ));
        }
        Ok((ticket.make)(self.conn.clone()))
    }

    /// The broker's pid, for messages only.
    pub fn id(&self) -> i32 {
        self.conn.pid()
    }

    /// The report of the broker's own sandbox, as it entered it.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// The broker's pidfd.
    pub fn pidfd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.conn.pidfd().as_fd()
    }

    /// Sends `SIGKILL` to the broker through its pidfd (`pidfd_send_signal`,
    /// refused inside a sandbox without the exec group).
    pub fn kill(&self) -> io::Result<()> {
        client::pidfd::kill(self.conn.pidfd()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("kill broker (pid {}): {e}", self.conn.pid()),
            )
        })
    }

    /// A request as raw parts, for tests that play a lying client.
    #[cfg(feature = "broker-probe")]
    #[doc(hidden)]
    pub fn raw_call(
        &self,
        service: u8,
        op: u8,
        body: &[u8],
    ) -> Result<(Vec<u8>, Vec<OwnedFd>), BrokerError> {
        self.conn.call(service, op, body)
    }

    /// One raw frame out and the next frame back, for the protocol tests.
    #[cfg(feature = "broker-probe")]
    #[doc(hidden)]
    pub fn raw_exchange(&self, frame: &[u8]) -> Result<Vec<u8>, BrokerError> {
        self.conn.exchange_raw(frame)
    }
}

/// The program keeps the socket to its broker (a held unix socket: no
/// network or unix grant is needed to use it).
impl Grant for Broker {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        use std::os::fd::AsFd;
        policy.socket(
            self.conn.socket().as_fd(),
            cap_runtime::SocketKind::UnixStream,
            crate::Rights::READ | crate::Rights::WRITE,
            &format!("broker socket (pid {})", self.conn.pid()),
        );
    }
}

#[cfg(feature = "broker-probe")]
#[doc(hidden)]
pub use probe::ProbeOp;

#[cfg(feature = "broker-probe")]
impl Builder {
    /// Registers the test-only probe service (escape attempts from inside
    /// the broker, a hang, a crash); returns its id.
    #[doc(hidden)]
    pub fn probe(&mut self) -> u8 {
        self.register(Box::new(probe::Probe))
    }
}
