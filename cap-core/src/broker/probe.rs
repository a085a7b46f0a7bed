//! A test-only service (feature `broker-probe`): makes the broker attempt
//! what its own sandbox must refuse and report the errno, hang, or crash.

use std::io::{self, Read};
use std::time::Duration;

use super::protocol::{FieldReader, Fields};
use super::{Reply, Service, ServiceError};
use crate::sandbox::Policy;

/// The probe's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ProbeOp {
    /// Read the file at an absolute path (body: the path). Replies the
    /// errno (0: read).
    ReadPath = 1,
    /// TCP connect to an address (body: `ip:port`). Replies the errno.
    ConnectTcp = 2,
    /// Make a new unix socket and connect it to a path (body: the path).
    /// Replies the errno.
    ConnectUnix = 3,
    /// Sleep (body: milliseconds as u32), then reply 0.
    Sleep = 4,
    /// Exit the broker at once with status 3, without replying.
    Exit = 5,
    /// Panic in the service.
    Panic = 6,
}

pub(super) struct Probe;

fn errno(r: io::Result<()>) -> u32 {
    r.map_or_else(
        |e| {
            e.raw_os_error()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(u32::MAX)
        },
        |()| 0,
    )
}

impl Service for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn grant<'a>(&'a self, _policy: &mut Policy<'a>) {}

    #[cap_macros::ambient(
        reason = "test-only probe (feature broker-probe): inside the locked broker it reads, connects and opens sockets by name on purpose, and the test asserts the broker's own sandbox refused each"
    )]
    fn handle(&mut self, op: u8, body: &[u8]) -> Result<Reply, ServiceError> {
        let mut r = FieldReader::new(body);
        let result = match op {
            1 => {
                let path = r.str("path")?;
                errno(
                    std::fs::File::open(path).and_then(|mut f| f.read(&mut [0u8; 16]).map(|_| ())),
                )
            }
            2 => {
                let addr: std::net::SocketAddr = r
                    .str("address")?
                    .parse()
                    .map_err(|e| ServiceError::from(format!("probe: {e}")))?;
                errno(
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map(|_| ()),
                )
            }
            3 => {
                let path = r.str("path")?;
                errno(std::os::unix::net::UnixStream::connect(path).map(|_| ()))
            }
            4 => {
                std::thread::sleep(Duration::from_millis(u64::from(r.u32("ms")?)));
                0
            }
            5 => exit_now(),
            6 => panic!("probe: asked to panic"),
            _ => return Err(ServiceError::from(format!("probe: unknown operation {op}"))),
        };
        Ok(Reply {
            body: Fields::new().u32(result).finish(),
            fds: Vec::new(),
        })
    }
}

/// Ends the broker at once, without replying (`_exit(3)`).
#[cfg(target_os = "linux")]
fn exit_now() -> ! {
    cap_runtime::linux::fork::exit_now(3)
}

/// Ends the broker at once, without replying (`_exit(3)`).
#[cfg(target_os = "freebsd")]
fn exit_now() -> ! {
    cap_runtime::freebsd::fork::exit_now(3)
}

/// (No broker runs on other systems.)
#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn exit_now() -> ! {
    std::process::exit(3)
}
