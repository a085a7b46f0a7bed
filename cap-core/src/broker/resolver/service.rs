//! The resolver service in the broker, its configuration, and the client
//! the program's [`Resolver`] sends names through.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use super::{Lookup, NamePattern, Resolver, parse_patterns};
use crate::AmbientAuthority;
use crate::broker::dns::{self, Nameserver, ResolvConf, Stub};
use crate::broker::protocol::{FieldReader, Fields};
use crate::broker::{Builder, Connection, Reply, Service, ServiceError, Ticket};
use crate::fs::File;
use crate::rights::ReadOnly;
use crate::sandbox::Policy;

/// The resolver service's one operation: body the name, reply the count of
/// addresses and each address as 4 or 16 bytes.
pub(crate) const OP_RESOLVE: u8 = 1;
/// Resolve and connect a TCP stream: body the name and the port (`u32`),
/// reply the address connected to and the stream's descriptor.
pub(crate) const OP_CONNECT: u8 = 2;

/// What the broker's resolver service holds: the patterns it answers for,
/// the hosts file (a held handle) and UDP sockets connected to the
/// nameservers, all opened before the lock. Give it to
/// [`Builder::resolver`].
#[derive(Debug)]
pub struct ResolverConfig {
    patterns: Vec<NamePattern>,
    stub: Stub,
    connect_ports: Vec<u16>,
    /// Given with the connect ports: the broker connects through a pool
    /// of the addresses it resolved.
    connect_ambient: Option<Token>,
}

/// The token given with the connect ports (shown as such in `Debug`).
#[derive(Clone, Copy)]
struct Token(AmbientAuthority);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AmbientAuthority")
    }
}

impl ResolverConfig {
    /// Patterns and nothing to ask yet: add a hosts file or nameservers.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> io::Result<ResolverConfig> {
        Ok(ResolverConfig {
            patterns: parse_patterns(patterns)?,
            stub: Stub {
                hosts: None,
                nameservers: Vec::new(),
                timeout: Duration::from_secs(2),
                attempts: 2,
            },
            connect_ports: Vec::new(),
            connect_ambient: None,
        })
    }

    /// The system's configuration: `/etc/hosts` (if it exists) and the
    /// nameservers and timeouts of `/etc/resolv.conf` (per-try timeout
    /// capped at 2 s so a look-up fits the broker's call timeout).
    ///
    /// # Ambient Authority
    ///
    /// Opens both files by name and connects sockets to the nameservers.
    pub fn system<S: AsRef<str>>(
        patterns: &[S],
        ambient: AmbientAuthority,
    ) -> io::Result<ResolverConfig> {
        let mut config = ResolverConfig::new(patterns)?;
        match File::<ReadOnly>::open_ambient("/etc/hosts", ambient) {
            Ok(hosts) => config = config.hosts_file(hosts),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let text = match File::<ReadOnly>::open_ambient("/etc/resolv.conf", ambient) {
            Ok(file) => io::read_to_string(file)
                .map_err(|e| io::Error::new(e.kind(), format!("read /etc/resolv.conf: {e}")))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let conf = ResolvConf::parse(&text);
        config.stub.timeout = conf.timeout.min(Duration::from_secs(2));
        config.stub.attempts = conf.attempts.min(2);
        for ns in conf.nameservers {
            config = config.nameserver(ns, ambient)?;
        }
        Ok(config)
    }

    /// Adds a nameserver (tried in the order added), with a UDP socket
    /// connected to it now.
    ///
    /// # Ambient Authority
    ///
    /// Any address may be named.
    pub fn nameserver(
        mut self,
        addr: SocketAddr,
        ambient: AmbientAuthority,
    ) -> io::Result<ResolverConfig> {
        self.stub
            .nameservers
            .push(Nameserver::connect_ambient(addr, ambient)?);
        Ok(self)
    }

    /// Looks names up in `hosts` (`/etc/hosts` format) first, read again
    /// through the handle at each look-up.
    pub fn hosts_file(mut self, hosts: File<ReadOnly>) -> ResolverConfig {
        self.stub.hosts = Some(hosts);
        self
    }

    /// Lets the broker also connect TCP streams to the names it resolves,
    /// on these ports only, and pass them back
    /// ([`Resolver::connect_tcp`]): how a name-scoped grant works where the
    /// program may not connect by address (FreeBSD's capability mode). The
    /// broker's own sandbox gains a Landlock connect rule for exactly these
    /// ports (and, like every TCP grant, on any address).
    ///
    /// # Ambient Authority
    ///
    /// The broker may connect to any address its nameservers or hosts file
    /// give for the patterns, on these ports.
    pub fn connect_ports(mut self, ports: &[u16], ambient: AmbientAuthority) -> ResolverConfig {
        self.connect_ports = ports.to_vec();
        self.connect_ambient = Some(Token(ambient));
        self
    }

    /// How long one try waits for a nameserver's answer (default 2 s), and
    /// how many tries each nameserver gets (default 2).
    pub fn timeout(mut self, timeout: Duration, attempts: u32) -> ResolverConfig {
        self.stub.timeout = timeout;
        self.stub.attempts = attempts.max(1);
        self
    }

    /// The longest a look-up can take: every try of every nameserver, for
    /// `A` and `AAAA`.
    fn worst_case(&self) -> Duration {
        let tries =
            u32::try_from(self.stub.nameservers.len()).unwrap_or(3) * self.stub.attempts * 2;
        self.stub.timeout * tries
    }
}

/// The broker side: checks each name against its own patterns (the
/// client's check is not trusted), then looks it up.
struct ResolverService {
    patterns: Vec<NamePattern>,
    stub: Stub,
    connect_ports: Vec<u16>,
    connect_ambient: Option<Token>,
}

impl ResolverService {
    /// The checked name, if it matches a pattern.
    fn check(&self, name: &str) -> Result<String, ServiceError> {
        let name = dns::check_name(name)?;
        if self.patterns.iter().any(|p| p.matches(&name)) {
            return Ok(name);
        }
        let patterns: Vec<String> = self.patterns.iter().map(ToString::to_string).collect();
        Err(ServiceError::denied(format!(
            "resolver service: `{name}` matches none of its patterns ({})",
            patterns.join(", ")
        )))
    }

    /// Resolves `name` and connects to `port` on the first address that
    /// answers.
    fn connect(&self, r: &mut FieldReader<'_>) -> Result<Reply, ServiceError> {
        let name = self.check(r.str("name")?)?;
        let port = u16::try_from(r.u32("port")?)
            .map_err(|_| ServiceError::from("resolver: port out of range".to_owned()))?;
        r.end()?;
        let ambient = self
            .connect_ambient
            .filter(|_| self.connect_ports.contains(&port));
        let Some(Token(ambient)) = ambient else {
            return Err(ServiceError::denied(format!(
                "resolver service: connecting to `{name}` on port {port} refused: it may connect on ports {:?} only",
                self.connect_ports
            )));
        };
        let mut last = None;
        for ip in self.stub.lookup(&name)? {
            let addr = SocketAddr::new(ip, port);
            // A pool of this one address: the name and the port were
            // checked against what the config's token was given for.
            let mut pool = cap_std::net::Pool::new();
            pool.insert_socket_addr(addr, ambient);
            match pool.connect_timeout_tcp_stream(&addr, self.stub.timeout) {
                Ok(stream) => {
                    return Ok(Reply {
                        body: Fields::new().str(&addr.to_string()).finish(),
                        fds: vec![std::os::fd::OwnedFd::from(stream)],
                    });
                }
                Err(e) => {
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("connect to `{name}` ({addr}): {e}"),
                    ));
                }
            }
        }
        Err(last
            .unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("`{name}` has no address"))
            })
            .into())
    }
}

impl Service for ResolverService {
    #[allow(clippy::unnecessary_literal_bound)] // the trait returns names borrowed from self too
    fn name(&self) -> &str {
        "resolver"
    }

    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        if let Some(hosts) = &self.stub.hosts {
            crate::sandbox::Grant::grant(hosts, policy);
        }
        for ns in &self.stub.nameservers {
            policy.socket(
                ns.socket.as_fd(),
                cap_runtime::SocketKind::Udp,
                crate::Rights::SEND | crate::Rights::RECV,
                &format!("nameserver {}", ns.addr),
            );
        }
        if !self.connect_ports.is_empty() {
            policy.net(cap_runtime::NetGrant {
                label: format!(
                    "resolver: tcp connect by name, ports {:?}",
                    self.connect_ports
                ),
                tcp_connect_ports: self.connect_ports.clone(),
                tcp_bind_ports: Vec::new(),
                udp: false,
                unix: false,
            });
        }
    }

    fn handle(&mut self, op: u8, body: &[u8]) -> Result<Reply, ServiceError> {
        let mut r = FieldReader::new(body);
        match op {
            OP_RESOLVE => {}
            OP_CONNECT => return self.connect(&mut r),
            _ => {
                return Err(ServiceError::from(format!(
                    "resolver: unknown operation {op}"
                )));
            }
        }
        let name = self.check(r.str("name")?)?;
        r.end()?;
        let addrs = self.stub.lookup(&name)?;
        let mut reply = Fields::new().u32(u32::try_from(addrs.len()).unwrap_or(0));
        for ip in &addrs {
            reply = match ip {
                IpAddr::V4(v4) => reply.bytes(&v4.octets()),
                IpAddr::V6(v6) => reply.bytes(&v6.octets()),
            };
        }
        Ok(Reply {
            body: reply.finish(),
            fds: Vec::new(),
        })
    }
}

/// The program side: sends names to the broker's resolver service.
#[derive(Clone)]
struct BrokerLookup {
    conn: Connection,
    service: u8,
}

impl fmt::Debug for BrokerLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "broker resolver service (broker pid {})",
            self.conn.pid()
        )
    }
}

/// Reads the resolver service's reply.
pub(crate) fn decode_addrs(body: &[u8]) -> Result<Vec<IpAddr>, String> {
    let mut r = FieldReader::new(body);
    let n = r.u32("address count")?;
    if n > 256 {
        return Err(format!("{n} addresses in one answer"));
    }
    let mut addrs = Vec::new();
    for _ in 0..n {
        let b = r.bytes("address")?;
        addrs.push(match b.len() {
            4 => IpAddr::V4(Ipv4Addr::from(
                <[u8; 4]>::try_from(b).map_err(|_| "bad address")?,
            )),
            16 => IpAddr::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(b).map_err(|_| "bad address")?,
            )),
            n => return Err(format!("an address of {n} bytes")),
        });
    }
    r.end()?;
    Ok(addrs)
}

impl Lookup for BrokerLookup {
    fn connect(&self, name: &str, port: u16) -> io::Result<(std::os::fd::OwnedFd, SocketAddr)> {
        let body = Fields::new().str(name).u32(u32::from(port)).finish();
        let (reply, mut fds) = self.conn.call(self.service, OP_CONNECT, &body)?;
        let malformed = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the broker's answer to connect `{name}:{port}` {what}"),
            )
        };
        let addr: SocketAddr = FieldReader::new(&reply)
            .str("address")
            .ok()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| malformed("has no address"))?;
        let fd = fds.pop().ok_or_else(|| malformed("has no descriptor"))?;
        Ok((fd, addr))
    }

    fn lookup(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let body = Fields::new().str(name).finish();
        let (reply, _fds) = self.conn.call(self.service, OP_RESOLVE, &body)?;
        decode_addrs(&reply).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the broker's answer for `{name}` is malformed: {e}"),
            )
        })
    }
}

impl Builder {
    /// Declares a resolver service: names matching the config's patterns
    /// are resolved by the broker, which holds the config's hosts file and
    /// nameserver sockets (and nothing else for this service). The client
    /// is a [`Resolver`] with the same patterns. Raises the broker's call
    /// timeout, if needed, to the longest a look-up can take.
    pub fn resolver(&mut self, config: ResolverConfig) -> Ticket<Resolver> {
        let worst = config.worst_case() + Duration::from_millis(500);
        if self.timeout < worst {
            self.timeout = worst;
        }
        let patterns = config.patterns.clone();
        let id = self.register(Box::new(ResolverService {
            patterns: config.patterns,
            stub: config.stub,
            connect_ports: config.connect_ports,
            connect_ambient: config.connect_ambient,
        }));
        Ticket::new(self, move |conn| {
            Resolver::with_backend(patterns, Arc::new(BrokerLookup { conn, service: id }))
        })
    }
}
