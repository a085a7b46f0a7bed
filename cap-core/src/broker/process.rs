//! The broker process (Linux and FreeBSD): fork, lock, serve. The fork is
//! `clone(CLONE_PIDFD)` on Linux and `pdfork` on FreeBSD, both held as a
//! process descriptor; the lock is the platform's own sandbox (Landlock,
//! seccomp on Linux; Capsicum on FreeBSD), derived from the services' handles.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

#[cfg(target_os = "freebsd")]
use cap_runtime::freebsd::fork::{self, Forked};
#[cfg(target_os = "linux")]
use cap_runtime::linux::fork::{self, Forked};
use rustix::net::{AddressFamily, SocketFlags, SocketType};

use super::protocol::{self, Fields, HEADER, Header, Kind, MAX_FDS, MAX_FRAME};
use super::{Broker, Builder, Connection, Service, ServiceError};
use crate::sandbox::{Policy, Report};

/// How long [`spawn`] waits for the broker to lock itself and say so.
const STARTUP: Duration = Duration::from_secs(10);

pub(super) fn spawn(builder: Builder) -> io::Result<Broker> {
    let Builder {
        services,
        timeout,
        nonce,
    } = builder;
    let (ours, theirs) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let names: Vec<String> = services.iter().map(|s| s.name().to_owned()).collect();
    match fork::fork_helper().map_err(|e| io::Error::new(e.kind(), format!("broker: {e}")))? {
        Forked::Child => child_main(&theirs, services),
        Forked::Parent(child) => {
            drop(theirs);
            // The services' handles live on in the broker only.
            drop(services);
            let conn = Connection::new(ours, child.pidfd, child.pid, timeout, names)?;
            let report = wait_ready(&conn)?;
            Ok(Broker {
                conn,
                nonce,
                report,
            })
        }
    }
}

/// Reads the broker's first frame: ready (with the report of its sandbox)
/// or the reason it could not lock itself.
fn wait_ready(conn: &Connection) -> io::Result<Option<Report>> {
    let body = conn.ready(STARTUP).map_err(|e| {
        let message = format!("broker (pid {}) did not start: {e}", conn.pid());
        io::Error::new(io::Error::from(e).kind(), message)
    })?;
    Ok(serde_json::from_slice(&body).ok())
}

/// The broker's whole life: never returns into the program's code.
fn child_main(socket: &OwnedFd, mut services: Vec<Box<dyn Service>>) -> ! {
    let code = match lock(socket.as_fd(), &services) {
        Ok(report) => {
            let ready = serde_json::to_vec(&report).unwrap_or_default();
            let header = Header {
                kind: Kind::Reply,
                service: 0,
                op: 0,
                id: 0,
                len: u32::try_from(ready.len()).unwrap_or(0),
            };
            if protocol::send_frame(socket.as_fd(), &header, &ready, &[]).is_ok() {
                serve(socket.as_fd(), &mut services);
            }
            0
        }
        Err(e) => {
            let _ = send_error(
                socket.as_fd(),
                0,
                0,
                &ServiceError {
                    kind: e.kind(),
                    errno: None,
                    message: format!("the broker could not lock itself: {e}"),
                },
            );
            70
        }
    };
    fork::exit_now(code)
}

/// Closes everything but the socket and the services' handles, and enters
/// the sandbox derived from exactly those.
fn lock(socket: BorrowedFd<'_>, services: &[Box<dyn Service>]) -> io::Result<Report> {
    let mut policy = Policy::new();
    policy.socket(
        socket,
        cap_runtime::SocketKind::UnixStream,
        crate::Rights::READ | crate::Rights::WRITE,
        "broker socket",
    );
    for s in services {
        s.grant(&mut policy);
    }
    let keep: Vec<RawFd> = policy.entries().iter().map(|e| e.fd).collect();
    fork::close_all_except(&keep)?;
    #[cfg(target_os = "freebsd")]
    if policy
        .net_grants()
        .iter()
        .any(|g| !g.tcp_connect_ports.is_empty())
    {
        return Ok(outside_capability_mode(&policy));
    }
    let options = cap_runtime::Options {
        mode: cap_runtime::Mode::Strict,
        inherited_fds: cap_runtime::InheritedFds::Refuse,
        assume_landlock_abi: None,
    };
    cap_runtime::enter_with(&policy, &options)
        .map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e.to_string()))
}

/// FreeBSD, a resolver with connect ports: capability mode refuses
/// `connect(2)` to an address (`ECAPMODE`), so this broker cannot enter it
/// and still connect by name. As libcasper's `cap_net` service, it stays
/// outside capability mode, holding only its services' descriptors (the
/// rest were closed), bounded by its own checks (the name patterns and the
/// ports); its report says so.
#[cfg(target_os = "freebsd")]
fn outside_capability_mode(policy: &Policy<'_>) -> Report {
    Report {
        os: std::env::consts::OS.to_owned(),
        mode: cap_runtime::Mode::BestEffort,
        mechanisms: vec!["descriptors closed".to_owned()],
        net_grants: policy.net_grants().to_vec(),
        gaps: vec![cap_runtime::Gap {
            subject: "broker".to_owned(),
            right: "capability mode".to_owned(),
            reason: "not entered: the resolver connects by address for the program, which capability mode refuses (ECAPMODE); like libcasper's cap_net, the broker is bounded by its own checks (name patterns, ports) and holds only its services' descriptors".to_owned(),
            permanent: true,
        }],
        ..Report::default()
    }
}

fn send_error(socket: BorrowedFd<'_>, service: u8, id: u32, e: &ServiceError) -> io::Result<()> {
    let mut message = e.message.clone();
    if message.len() > MAX_FRAME - 64 {
        let mut cut = MAX_FRAME - 64;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    let body = Fields::new()
        .u8(protocol::kind_code(e.kind))
        .u32(e.errno.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
        .str(&message)
        .finish();
    let header = Header {
        kind: Kind::Error,
        service,
        op: 0,
        id,
        len: u32::try_from(body.len()).unwrap_or(0),
    };
    protocol::send_frame(socket, &header, &body, &[])
}

/// Answers requests until the program closes its end. Every request gets a
/// reply or an error reply; nothing a client sends makes it panic or stop.
pub(super) fn serve(socket: BorrowedFd<'_>, services: &mut [Box<dyn Service>]) {
    let mut buf = vec![0u8; HEADER + MAX_FRAME];
    loop {
        let got = match protocol::recv_frame(socket, &mut buf) {
            Ok(Some(got)) => got,
            Ok(None) => return,
            Err(e) => {
                // Too many descriptors (cut off): refuse, keep serving.
                if e.kind() == io::ErrorKind::InvalidData
                    && send_error(socket, 0, 0, &ServiceError::from(e)).is_ok()
                {
                    continue;
                }
                return;
            }
        };
        let frame = &buf[..got.len];
        let id = protocol::request_id(frame);
        let answer = answer(frame, &got, services);
        let sent = match answer {
            Ok((service, reply)) => {
                let fds: Vec<BorrowedFd<'_>> = reply.fds.iter().map(AsFd::as_fd).collect();
                let header = Header {
                    kind: Kind::Reply,
                    service,
                    op: 0,
                    id,
                    len: u32::try_from(reply.body.len()).unwrap_or(0),
                };
                protocol::send_frame(socket, &header, &reply.body, &fds)
            }
            Err((service, e)) => send_error(socket, service, id, &e),
        };
        if sent.is_err() {
            return;
        }
    }
}

type Answer = Result<(u8, super::Reply), (u8, ServiceError)>;

fn answer(frame: &[u8], got: &protocol::Received, services: &mut [Box<dyn Service>]) -> Answer {
    let refuse = |m: String| Err((0, ServiceError::from(m)));
    if got.truncated {
        return refuse(format!(
            "a frame over {} bytes was refused (MAX_FRAME is {MAX_FRAME})",
            HEADER + MAX_FRAME
        ));
    }
    if !got.fds.is_empty() {
        return refuse(format!(
            "requests carry no descriptors ({} came and were closed)",
            got.fds.len()
        ));
    }
    let (header, body) = match protocol::decode(frame) {
        Ok(d) => d,
        Err(e) => return refuse(e.to_string()),
    };
    if header.kind != Kind::Request {
        return refuse(format!("a {:?} frame is not a request", header.kind));
    }
    let Some(service) = usize::from(header.service)
        .checked_sub(1)
        .and_then(|i| services.get_mut(i))
    else {
        return refuse(format!(
            "unknown service {} (this broker has {} services)",
            header.service,
            services.len()
        ));
    };
    let sid = header.service;
    match catch_unwind(AssertUnwindSafe(|| service.handle(header.op, body))) {
        Ok(Ok(reply)) if reply.body.len() > MAX_FRAME || reply.fds.len() > MAX_FDS => Err((
            sid,
            ServiceError::from(format!(
                "{}: the reply ({} bytes, {} descriptors) is over the frame limits",
                service.name(),
                reply.body.len(),
                reply.fds.len()
            )),
        )),
        Ok(Ok(reply)) => Ok((sid, reply)),
        Ok(Err(e)) => Err((sid, e)),
        Err(_) => Err((
            sid,
            ServiceError::from(format!(
                "{}: the service panicked on operation {}",
                service.name(),
                header.op
            )),
        )),
    }
}
