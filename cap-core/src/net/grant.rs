//! [`Net`]: the authority to make new sockets, scoped to operations,
//! addresses and ports.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, ToSocketAddrs};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use cap_net_ext::{AddressFamily, Blocking, PoolExt as _, TcpListenerExt as _};
use cap_runtime::NetGrant;
use ipnet::IpNet;

use super::by_name::{self, NameRule};
use super::{TcpListener, TcpStream, UdpSocket};
use crate::AmbientAuthority;
#[cfg(unix)]
use crate::broker::Resolver;
use crate::rights::{HasSend, RightSet, Rights};

/// One operation a [`Net`] grant can allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Connect a TCP stream ([`Net::connect_tcp`]).
    TcpConnect,
    /// Bind a TCP listener ([`Net::bind_tcp`]).
    TcpBind,
    /// Bind a UDP socket ([`Net::bind_udp`]).
    UdpBind,
    /// Connect a UDP socket to a peer ([`Net::connect_udp`]).
    UdpConnect,
    /// Send a UDP datagram to an address ([`Net::send_to`]).
    UdpSendTo,
}

impl Op {
    /// Every operation, in order.
    pub const ALL: [Op; 5] = [
        Op::TcpConnect,
        Op::TcpBind,
        Op::UdpBind,
        Op::UdpConnect,
        Op::UdpSendTo,
    ];

    /// Whether this is a UDP operation.
    pub const fn is_udp(self) -> bool {
        matches!(self, Op::UdpBind | Op::UdpConnect | Op::UdpSendTo)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Op {
    /// `tcp connect`, `tcp bind`, `udp bind`, `udp connect`, `udp send_to`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::TcpConnect => "tcp connect",
            Op::TcpBind => "tcp bind",
            Op::UdpBind => "udp bind",
            Op::UdpConnect => "udp connect",
            Op::UdpSendTo => "udp send_to",
        })
    }
}

/// One rule of a grant: an operation on an address range and a port range.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The operation allowed.
    pub op: Op,
    /// The addresses (a single address is a `/32` or `/128` network).
    pub addrs: IpNet,
    /// The ports, both ends included. Port 0 in a bind scope means "any
    /// port the kernel picks".
    pub ports: RangeInclusive<u16>,
}

impl Scope {
    /// Whether `addr` falls inside this scope (for any operation).
    pub fn contains(&self, addr: &SocketAddr) -> bool {
        self.addrs.contains(&addr.ip()) && self.ports.contains(&addr.port())
    }

    /// The part of this scope inside `addrs` and `ports`, if any.
    fn intersect(&self, addrs: &IpNet, ports: &RangeInclusive<u16>) -> Option<Scope> {
        // Two networks are either nested or disjoint: the intersection is the
        // smaller one, or empty.
        let addrs = if addrs.contains(&self.addrs) {
            self.addrs
        } else if self.addrs.contains(addrs) {
            *addrs
        } else {
            return None;
        };
        let start = *self.ports.start().max(ports.start());
        let end = *self.ports.end().min(ports.end());
        (start <= end).then_some(Scope {
            op: self.op,
            addrs,
            ports: start..=end,
        })
    }
}

impl fmt::Display for Scope {
    /// `tcp connect 127.0.0.1 port 9000`, `udp bind 10.0.0.0/8 ports 1024-65535`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.op)?;
        if self.addrs.prefix_len() == self.addrs.max_prefix_len() {
            write!(f, "{}", self.addrs.addr())?;
        } else {
            write!(f, "{}", self.addrs)?;
        }
        if self.ports.start() == self.ports.end() {
            write!(f, " port {}", self.ports.start())
        } else {
            write!(f, " ports {}-{}", self.ports.start(), self.ports.end())
        }
    }
}

/// An address as given to a grant or to one of its operations, before it is
/// checked: resolved socket addresses, or a host name and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Already addresses (an IP literal, a `SocketAddr`): no look-up needed.
    Addrs(Vec<SocketAddr>),
    /// A host name and a port. [`NetBuilder`] resolves it with DNS; a [`Net`]
    /// looks it up in what the builder resolved, never in DNS.
    Host(String, u16),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Host(host, port) => write!(f, "{host}:{port}"),
            Target::Addrs(addrs) if addrs.len() == 1 => write!(f, "{}", addrs[0]),
            Target::Addrs(addrs) => {
                f.write_str("[")?;
                for (i, a) in addrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// What a grant and its operations take as an address: the same inputs as
/// [`std::net::ToSocketAddrs`] (`"127.0.0.1:80"`, `"example.com:443"`,
/// `("example.com", 443)`, a [`SocketAddr`], `(IpAddr, u16)`, a slice of
/// addresses), but host names are kept as names so that a [`Net`] can look
/// them up in what was resolved when it was built, instead of asking DNS.
pub trait Addrs {
    /// Parses this into a [`Target`]. A string that is not `host:port` is an
    /// `InvalidInput` error naming it.
    fn target(&self) -> io::Result<Target>;
}

fn parse_host_port(s: &str) -> io::Result<Target> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(Target::Addrs(vec![addr]));
    }
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{s}` is not an address of the form `host:port`"),
        )
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    host_port(host, port)
}

fn host_port(host: &str, port: u16) -> io::Result<Target> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Target::Addrs(vec![SocketAddr::new(ip, port)]));
    }
    if host.is_empty() || host.contains(['[', ']', ':', '/', ' ']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{host}` is not a host name or an IP address"),
        ));
    }
    Ok(Target::Host(host.to_ascii_lowercase(), port))
}

impl Addrs for str {
    fn target(&self) -> io::Result<Target> {
        parse_host_port(self)
    }
}
impl Addrs for String {
    fn target(&self) -> io::Result<Target> {
        parse_host_port(self)
    }
}
impl Addrs for (&str, u16) {
    fn target(&self) -> io::Result<Target> {
        host_port(self.0, self.1)
    }
}
impl Addrs for (String, u16) {
    fn target(&self) -> io::Result<Target> {
        host_port(&self.0, self.1)
    }
}
impl Addrs for [SocketAddr] {
    fn target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.to_vec()))
    }
}
impl Addrs for Vec<SocketAddr> {
    fn target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.clone()))
    }
}
impl<const N: usize> Addrs for [SocketAddr; N] {
    fn target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.to_vec()))
    }
}
impl<T: Addrs + ?Sized> Addrs for &T {
    fn target(&self) -> io::Result<Target> {
        (**self).target()
    }
}
macro_rules! addrs_via_socket_addr {
    ($($t:ty),*) => {$(
        impl Addrs for $t {
            fn target(&self) -> io::Result<Target> {
                Ok(Target::Addrs(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}
addrs_via_socket_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

/// Builds a [`Net`] grant. Each method adds what it names; DNS look-ups
/// happen here, once, and their answers are kept in the grant. Get one from
/// [`Net::builder`], which takes the ambient token.
///
/// ```
/// use cap_core::{ambient_authority, net::{Net, Op}};
/// let net = Net::builder(ambient_authority())
///     .connect("localhost:9000")?      // TCP connect, resolved now
///     .bind("127.0.0.1:0")?            // TCP bind, any port the kernel picks
///     .allow(Op::UdpSendTo, "127.0.0.0/8".parse().unwrap(), 5300..=5399)
///     .label("api client")
///     .build();
/// assert!(net.allows(Op::TcpConnect, &"127.0.0.1:9000".parse().unwrap()));
/// assert!(!net.allows(Op::TcpConnect, &"127.0.0.1:9001".parse().unwrap()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct NetBuilder {
    ambient: AmbientAuthority,
    scopes: Vec<Scope>,
    names: Vec<(String, Vec<IpAddr>)>,
    unix: bool,
    declared: Vec<String>,
    label: Option<String>,
    by_name: Vec<NameRule>,
}

impl fmt::Debug for NetBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetBuilder")
            .field("scopes", &self.scopes)
            .field("unix", &self.unix)
            .finish_non_exhaustive()
    }
}

impl NetBuilder {
    /// Adds `op` on the addresses of `addr`, resolving a host name with DNS
    /// now. Each address is granted with its exact port.
    pub fn add(mut self, op: Op, addr: impl Addrs) -> io::Result<Self> {
        let target = addr.target()?;
        let addrs = match &target {
            Target::Addrs(addrs) => addrs.clone(),
            Target::Host(host, port) => {
                let resolved: Vec<SocketAddr> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("resolve `{target}` for the network grant ({op}): {e}"),
                        )
                    })?
                    .collect();
                let ips: Vec<IpAddr> = resolved.iter().map(SocketAddr::ip).collect();
                match self.names.iter_mut().find(|(n, _)| n == host) {
                    Some((_, known)) => {
                        for ip in ips {
                            if !known.contains(&ip) {
                                known.push(ip);
                            }
                        }
                    }
                    None => self.names.push((host.clone(), ips)),
                }
                resolved
            }
        };
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{target}` has no addresses, so the network grant ({op}) would be empty"),
            ));
        }
        for a in addrs {
            self.push(Scope {
                op,
                addrs: IpNet::from(a.ip()),
                ports: a.port()..=a.port(),
            });
        }
        self.declared.push(format!("{op} {target}"));
        Ok(self)
    }

    /// Allows connecting TCP streams to `addr` (a host name is resolved now).
    /// Corresponds to [`std::net::TcpStream::connect`].
    pub fn connect(self, addr: impl Addrs) -> io::Result<Self> {
        self.add(Op::TcpConnect, addr)
    }

    /// Allows binding TCP listeners on `addr`; port 0 allows whatever port
    /// the kernel picks. Corresponds to [`std::net::TcpListener::bind`].
    pub fn bind(self, addr: impl Addrs) -> io::Result<Self> {
        self.add(Op::TcpBind, addr)
    }

    /// Allows binding UDP sockets on `addr`. Corresponds to
    /// [`std::net::UdpSocket::bind`].
    pub fn udp_bind(self, addr: impl Addrs) -> io::Result<Self> {
        self.add(Op::UdpBind, addr)
    }

    /// Allows connecting UDP sockets to `addr`. Corresponds to
    /// [`std::net::UdpSocket::connect`].
    pub fn udp_connect(self, addr: impl Addrs) -> io::Result<Self> {
        self.add(Op::UdpConnect, addr)
    }

    /// Allows sending UDP datagrams to `addr`. Corresponds to
    /// [`std::net::UdpSocket::send_to`].
    pub fn send_to(self, addr: impl Addrs) -> io::Result<Self> {
        self.add(Op::UdpSendTo, addr)
    }

    /// Allows `op` on a range of addresses and ports (both ends included),
    /// with no DNS.
    pub fn allow(mut self, op: Op, addrs: IpNet, ports: RangeInclusive<u16>) -> Self {
        let scope = Scope {
            op,
            addrs: addrs.trunc(),
            ports,
        };
        self.declared.push(scope.to_string());
        self.push(scope);
        self
    }

    /// Declares that the program makes unix-domain sockets (beneath a
    /// [`Dir`](crate::fs::Dir)) after entering the sandbox, so the kernel
    /// policy keeps that socket family. The paths are governed by the
    /// directory handles, not by this grant.
    pub fn unix(mut self) -> Self {
        self.unix = true;
        self.declared.push("unix".to_owned());
        self
    }

    /// Allows connecting TCP streams to the hosts matching `rule`
    /// (`"api.example.com:443"`, `"*.example.com:443"`), each resolved
    /// through `resolver` when it is connected to — after the lock, by the
    /// broker. The pattern must be within the resolver's (a wider one is
    /// refused, naming it). See [`Net::by_name`].
    #[cfg(unix)]
    pub fn connect_by_name(mut self, resolver: &Resolver, rule: &str) -> io::Result<Self> {
        let rule = NameRule::parse(resolver, rule)?;
        self.declared.push(rule.to_string());
        self.by_name.push(rule);
        Ok(self)
    }

    /// Names the grant in messages and in the sandbox report (by default, a
    /// list of what was declared).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    fn push(&mut self, scope: Scope) {
        if !self.scopes.contains(&scope) {
            self.scopes.push(scope);
        }
    }

    /// The grant. Nothing can be added to it afterwards.
    pub fn build(self) -> Net {
        let label = self.label.unwrap_or_else(|| self.declared.join(", "));
        Net::from_parts(
            label,
            self.scopes,
            self.names,
            self.unix,
            self.by_name,
            self.ambient,
        )
    }
}

/// The authority to make new sockets: an operation ([`Op`]) on addresses and
/// ports, like [`cap_std::net::Pool`] (on which it is built) with the
/// operations kept apart.
///
/// Build one with [`Net::builder`] (which takes the ambient token), before
/// entering the sandbox: host names are resolved then. A grant can be
/// narrowed ([`only_ops`](Self::only_ops), [`only_addrs`](Self::only_addrs),
/// [`only_ports`](Self::only_ports)), never widened. Cloning a grant copies
/// its authority, as cloning a `Pool` does.
///
/// An operation outside the grant fails with
/// [`PermissionDenied`](io::ErrorKind::PermissionDenied) and a message naming
/// the address, the operation and what the grant allows.
#[derive(Clone)]
pub struct Net {
    inner: Arc<Inner>,
}

struct Inner {
    label: String,
    scopes: Vec<Scope>,
    names: Vec<(String, Vec<IpAddr>)>,
    unix: bool,
    /// TCP connect by name, resolved through a `Resolver` at each connect.
    by_name: Vec<NameRule>,
    /// One `cap_std` pool per operation, holding exactly that operation's scopes.
    pools: [cap_std::net::Pool; 5],
    ambient: AmbientAuthority,
}

impl fmt::Debug for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Net")
            .field("label", &self.inner.label)
            .field("scopes", &self.inner.scopes)
            .field("names", &self.inner.names)
            .field("unix", &self.inner.unix)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Net {
    /// `network grant `label``: how errors name the grant.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "network grant `{}`", self.inner.label)
    }
}

impl Net {
    /// Starts an empty grant. See [`NetBuilder`].
    ///
    /// # Ambient Authority
    ///
    /// The grant may name any address or port.
    pub fn builder(ambient: AmbientAuthority) -> NetBuilder {
        NetBuilder {
            ambient,
            scopes: Vec::new(),
            names: Vec::new(),
            unix: false,
            declared: Vec::new(),
            label: None,
            by_name: Vec::new(),
        }
    }

    /// A grant to connect TCP streams to the hosts matching `rule`
    /// (`"api.example.com:443"` or `"*.example.com:443"`), and nothing else;
    /// what `#[sandboxed(api = connect_by_name(dns, "api.example.com:443"))]`
    /// would declare.
    ///
    /// Unlike [`NetBuilder::connect`], nothing is resolved now:
    /// [`connect_tcp`](Self::connect_tcp) asks `resolver` for the host's
    /// addresses at each call — after the lock, the broker's resolver
    /// service, which checks the pattern again — and connects to one of
    /// them on the rule's port. Who enforces what: the port is a Landlock
    /// rule like every grant's; the name is checked by this grant, by the
    /// resolver, and by the broker; the address is whatever the broker
    /// answered (the kernel does not know names).
    ///
    /// Needs no ambient token: the names are bounded by `resolver` (the
    /// pattern must be within its patterns), and a grant made after the
    /// lock adds no port to the kernel policy.
    #[cfg(unix)]
    pub fn by_name(resolver: &Resolver, rule: &str) -> io::Result<Net> {
        let rule = NameRule::parse(resolver, rule)?;
        Ok(Net::from_parts(
            rule.to_string(),
            Vec::new(),
            Vec::new(),
            false,
            vec![rule],
            crate::ambient_authority(),
        ))
    }

    /// The by-name rules of this grant ([`Net::by_name`]).
    pub fn name_rules(&self) -> &[NameRule] {
        &self.inner.by_name
    }

    /// A grant to connect TCP streams to `addr` and nothing else: what
    /// `#[sandboxed(api = connect("host:port"))]` declares.
    ///
    /// # Ambient Authority
    ///
    /// `addr` may be any address; a host name is resolved now.
    pub fn connect_ambient(addr: impl Addrs, ambient: AmbientAuthority) -> io::Result<Net> {
        Ok(Net::builder(ambient).connect(addr)?.build())
    }

    fn from_parts(
        label: String,
        scopes: Vec<Scope>,
        names: Vec<(String, Vec<IpAddr>)>,
        unix: bool,
        by_name: Vec<NameRule>,
        ambient: AmbientAuthority,
    ) -> Net {
        let mut pools: [cap_std::net::Pool; 5] = Default::default();
        for s in &scopes {
            // The token was given to the builder of this grant (or of the grant
            // this one was narrowed from); every scope here is within what it
            // was given for.
            let end = s.ports.end().checked_add(1);
            pools[s.op.index()].insert_ip_net_port_range(s.addrs, *s.ports.start(), end, ambient);
        }
        Net {
            inner: Arc::new(Inner {
                label,
                scopes,
                names,
                unix,
                by_name,
                pools,
                ambient,
            }),
        }
    }

    fn narrowed(&self, scopes: Vec<Scope>, unix: bool, how: &dyn fmt::Display) -> Net {
        self.narrowed_by_name(scopes, unix, self.inner.by_name.clone(), how)
    }

    fn narrowed_by_name(
        &self,
        scopes: Vec<Scope>,
        unix: bool,
        by_name: Vec<NameRule>,
        how: &dyn fmt::Display,
    ) -> Net {
        let label = format!("{} narrowed to {how}", self.inner.label);
        let names = self.inner.names.clone();
        Net::from_parts(label, scopes, names, unix, by_name, self.inner.ambient)
    }

    /// The grant with only the operations in `ops`.
    pub fn only_ops(self, ops: &[Op]) -> Net {
        let scopes = self
            .inner
            .scopes
            .iter()
            .filter(|s| ops.contains(&s.op))
            .cloned()
            .collect();
        let how = ops
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let by_name = if ops.contains(&Op::TcpConnect) {
            self.inner.by_name.clone()
        } else {
            Vec::new()
        };
        self.narrowed_by_name(scopes, self.inner.unix, by_name, &format_args!("{{{how}}}"))
    }

    /// The grant with only the addresses inside `addrs`.
    pub fn only_addrs(self, addrs: IpNet) -> Net {
        let addrs = addrs.trunc();
        let scopes = self
            .inner
            .scopes
            .iter()
            .filter_map(|s| s.intersect(&addrs, &(0..=u16::MAX)))
            .collect();
        // The addresses of a by-name rule are only known at connect time:
        // narrowing to addresses drops the rule rather than guess.
        self.narrowed_by_name(scopes, self.inner.unix, Vec::new(), &addrs)
    }

    /// The grant with only the ports inside `ports` (both ends included).
    pub fn only_ports(self, ports: RangeInclusive<u16>) -> Net {
        let all: IpNet = IpNet::V6(ipnet::Ipv6Net::default());
        let scopes = self
            .inner
            .scopes
            .iter()
            .filter_map(|s| {
                let any = if s.addrs.addr().is_ipv4() {
                    IpNet::V4(ipnet::Ipv4Net::default())
                } else {
                    all
                };
                s.intersect(&any, &ports)
            })
            .collect();
        let by_name = self
            .inner
            .by_name
            .iter()
            .filter_map(|r| r.only_ports(&ports))
            .collect();
        self.narrowed_by_name(
            scopes,
            self.inner.unix,
            by_name,
            &format_args!("ports {}-{}", ports.start(), ports.end()),
        )
    }

    /// The grant without the unix-socket declaration.
    pub fn without_unix(self) -> Net {
        self.narrowed(self.inner.scopes.clone(), false, &"no unix sockets")
    }

    /// The rules of this grant.
    pub fn scopes(&self) -> &[Scope] {
        &self.inner.scopes
    }

    /// The label of this grant.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The host names resolved when the grant was built, with their addresses.
    pub fn names(&self) -> impl Iterator<Item = (&str, &[IpAddr])> {
        self.inner
            .names
            .iter()
            .map(|(n, a)| (n.as_str(), a.as_slice()))
    }

    /// Whether the grant declares unix-domain sockets ([`NetBuilder::unix`]).
    pub fn uses_unix(&self) -> bool {
        self.inner.unix
    }

    /// Whether the grant allows any TCP operation (connect or bind).
    pub fn uses_tcp(&self) -> bool {
        self.inner.scopes.iter().any(|s| !s.op.is_udp()) || !self.inner.by_name.is_empty()
    }

    /// Whether the grant allows any UDP operation (bind, connect, send_to).
    pub fn uses_udp(&self) -> bool {
        self.inner.scopes.iter().any(|s| s.op.is_udp())
    }

    /// Whether `op` on `addr` is inside the grant.
    pub fn allows(&self, op: Op, addr: &SocketAddr) -> bool {
        self.inner
            .scopes
            .iter()
            .any(|s| s.op == op && s.contains(addr))
    }

    /// What the kernel policy needs from this grant: exact TCP ports for
    /// connect and bind (a port range is listed port by port), and whether
    /// UDP and unix sockets are used at all.
    pub fn net_grant(&self) -> NetGrant {
        let ports = |op: Op| {
            let mut ports: Vec<u16> = self
                .inner
                .scopes
                .iter()
                .filter(|s| s.op == op)
                .flat_map(|s| s.ports.clone())
                .collect();
            if op == Op::TcpConnect {
                ports.extend(self.inner.by_name.iter().flat_map(|r| r.ports().clone()));
            }
            ports.sort_unstable();
            ports.dedup();
            ports
        };
        NetGrant {
            label: self.inner.label.clone(),
            tcp_connect_ports: ports(Op::TcpConnect),
            tcp_bind_ports: ports(Op::TcpBind),
            udp: self.inner.scopes.iter().any(|s| s.op.is_udp()),
            unix: self.inner.unix,
        }
    }

    /// Resolves `addr` without DNS: addresses as given, host names from the
    /// grant's table. Then keeps the addresses `op` may reach; fails with
    /// `PermissionDenied` naming the address and the grant when none.
    fn check(&self, op: Op, addr: &dyn Addrs) -> io::Result<Vec<SocketAddr>> {
        let target = addr.target()?;
        let candidates = match &target {
            Target::Addrs(addrs) => addrs.clone(),
            Target::Host(host, port) => match self.inner.names.iter().find(|(n, _)| n == host) {
                Some((_, ips)) => ips.iter().map(|ip| SocketAddr::new(*ip, *port)).collect(),
                None if op == Op::TcpConnect
                    && self.inner.by_name.iter().any(|r| r.allows(host, *port)) =>
                {
                    // Resolved now, through the rule's resolver (the broker
                    // after the lock); the addresses it gives are the grant.
                    return by_name::resolve(&self.inner.by_name, host, *port);
                }
                None => {
                    return Err(self.denied(
                        op,
                        &target,
                        &format_args!(
                            "the host `{host}` was not resolved when the grant was built"
                        ),
                    ));
                }
            },
        };
        let allowed: Vec<SocketAddr> = candidates
            .iter()
            .copied()
            .filter(|a| self.allows(op, a))
            .collect();
        if allowed.is_empty() {
            let why = if candidates.is_empty() {
                "it has no addresses"
            } else {
                "it is outside the grant"
            };
            return Err(self.denied(op, &target, &why));
        }
        Ok(allowed)
    }

    fn denied(&self, op: Op, target: &Target, why: &dyn fmt::Display) -> io::Error {
        let allowed: Vec<String> = self
            .inner
            .scopes
            .iter()
            .filter(|s| s.op == op)
            .map(ToString::to_string)
            .chain(
                self.inner
                    .by_name
                    .iter()
                    .filter(|_| op == Op::TcpConnect)
                    .map(ToString::to_string),
            )
            .collect();
        let allows = if allowed.is_empty() {
            format!("no {op}")
        } else {
            allowed.join(", ")
        };
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{op} to `{target}` refused: {why}; the {self} allows {allows}"),
        )
    }

    fn pool(&self, op: Op) -> &cap_std::net::Pool {
        &self.inner.pools[op.index()]
    }

    /// The pool to connect a TCP stream to `a` with: the grant's, or, for an
    /// address a by-name rule's resolver gave (`each` passes only checked
    /// addresses), a pool of that one address.
    fn connect_pool(&self, a: SocketAddr) -> std::borrow::Cow<'_, cap_std::net::Pool> {
        if self.allows(Op::TcpConnect, &a) {
            std::borrow::Cow::Borrowed(self.pool(Op::TcpConnect))
        } else {
            let mut pool = cap_std::net::Pool::new();
            pool.insert_socket_addr(a, self.inner.ambient);
            std::borrow::Cow::Owned(pool)
        }
    }

    /// Tries `f` on each allowed address in turn, like `std` does, and
    /// returns the first success or the last error (naming the address).
    fn each<T>(
        &self,
        op: Op,
        addr: &dyn Addrs,
        mut f: impl FnMut(SocketAddr) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut last = None;
        for a in self.check(op, addr)? {
            match f(a) {
                Ok(t) => return Ok(t),
                Err(e) => {
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("{op} to `{a}` (under the {self}): {e}"),
                    ));
                }
            }
        }
        Err(last.expect("check returns at least one address"))
    }

    /// Connects a TCP stream to `addr`, if the grant allows `tcp connect`
    /// there. See [`cap_std::net::Pool::connect_tcp_stream`].
    pub fn connect_tcp(&self, addr: impl Addrs) -> io::Result<TcpStream> {
        // In Capsicum's capability mode `connect` to an address is refused:
        // a by-name rule's stream is connected by the broker instead.
        #[cfg(target_os = "freebsd")]
        if let Ok(Target::Host(host, port)) = addr.target()
            && !self.inner.names.iter().any(|(n, _)| *n == host)
            && self.inner.by_name.iter().any(|r| r.allows(&host, port))
        {
            return by_name::connect_brokered(&self.inner.by_name, &host, port);
        }
        self.each(Op::TcpConnect, &addr, |a| {
            let s = self.connect_pool(a).connect_tcp_stream(a)?;
            Ok(TcpStream::from_parts(
                s,
                Rights::NET,
                Arc::from(a.to_string()),
            ))
        })
    }

    /// Connects a TCP stream to `addr` with a timeout. See
    /// [`cap_std::net::Pool::connect_timeout_tcp_stream`].
    pub fn connect_tcp_timeout(
        &self,
        addr: impl Addrs,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        self.each(Op::TcpConnect, &addr, |a| {
            let s = self
                .connect_pool(a)
                .connect_timeout_tcp_stream(&a, timeout)?;
            Ok(TcpStream::from_parts(
                s,
                Rights::NET,
                Arc::from(a.to_string()),
            ))
        })
    }

    /// Binds a TCP listener on `addr`, if the grant allows `tcp bind` there.
    /// See [`cap_std::net::Pool::bind_tcp_listener`].
    pub fn bind_tcp(&self, addr: impl Addrs) -> io::Result<TcpListener> {
        self.each(Op::TcpBind, &addr, |a| {
            let l = self.pool(Op::TcpBind).bind_tcp_listener(a)?;
            let label = l
                .local_addr()
                .map_or_else(|_| a.to_string(), |l| l.to_string());
            Ok(TcpListener::from_parts(l, Rights::NET, Arc::from(label)))
        })
    }

    /// Binds a TCP listener on `addr` with a listen backlog of `backlog`
    /// (`None`: the system's default). See [`cap_net_ext::PoolExt::bind_existing_tcp_listener`].
    pub fn bind_tcp_with_backlog(
        &self,
        addr: impl Addrs,
        backlog: Option<i32>,
    ) -> io::Result<TcpListener> {
        self.each(Op::TcpBind, &addr, |a| {
            let l =
                cap_std::net::TcpListener::new(AddressFamily::of_socket_addr(a), Blocking::Yes)?;
            self.pool(Op::TcpBind).bind_existing_tcp_listener(&l, a)?;
            l.listen(backlog)?;
            let label = l
                .local_addr()
                .map_or_else(|_| a.to_string(), |l| l.to_string());
            Ok(TcpListener::from_parts(l, Rights::NET, Arc::from(label)))
        })
    }

    /// Binds a UDP socket on `addr`, if the grant allows `udp bind` there.
    /// See [`cap_std::net::Pool::bind_udp_socket`].
    pub fn bind_udp(&self, addr: impl Addrs) -> io::Result<UdpSocket> {
        self.each(Op::UdpBind, &addr, |a| {
            let s = self.pool(Op::UdpBind).bind_udp_socket(a)?;
            let label = s
                .local_addr()
                .map_or_else(|_| a.to_string(), |l| l.to_string());
            Ok(UdpSocket::from_parts(s, Rights::NET, Arc::from(label)))
        })
    }

    /// Connects `socket` to `addr` (its peer for [`UdpSocket::send`] and
    /// [`UdpSocket::recv`]), if the grant allows `udp connect` there. See
    /// [`cap_std::net::Pool::connect_udp_socket`].
    pub fn connect_udp<R: RightSet>(
        &self,
        socket: &UdpSocket<R>,
        addr: impl Addrs,
    ) -> io::Result<()> {
        self.each(Op::UdpConnect, &addr, |a| {
            self.pool(Op::UdpConnect)
                .connect_udp_socket(socket.as_cap_std(), a)
        })
    }

    /// Sends `buf` from `socket` to `addr`, if the grant allows `udp send_to`
    /// there and the socket has `Send`. See
    /// [`cap_std::net::Pool::send_to_udp_socket_addr`].
    pub fn send_to<R: HasSend>(
        &self,
        socket: &UdpSocket<R>,
        buf: &[u8],
        addr: impl Addrs,
    ) -> io::Result<usize> {
        socket.need(Rights::SEND)?;
        self.each(Op::UdpSendTo, &addr, |a| {
            self.pool(Op::UdpSendTo)
                .send_to_udp_socket_addr(socket.as_cap_std(), buf, a)
        })
    }
}

impl crate::sandbox::Grant for Net {
    fn grant<'a>(&'a self, policy: &mut crate::sandbox::Policy<'a>) {
        policy.net(self.net_grant());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ambient_authority;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn targets_parse_without_dns() {
        assert_eq!(
            "127.0.0.1:80".target().unwrap(),
            Target::Addrs(vec![sa("127.0.0.1:80")])
        );
        assert_eq!(
            "[::1]:80".target().unwrap(),
            Target::Addrs(vec![sa("[::1]:80")])
        );
        assert_eq!(
            "Example.COM:443".target().unwrap(),
            Target::Host("example.com".into(), 443)
        );
        assert_eq!(
            ("::1", 8).target().unwrap(),
            Target::Addrs(vec![sa("[::1]:8")])
        );
        let err = "no-port".target().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("`no-port`"), "{err}");
        assert!("host:99999".target().is_err());
    }

    #[test]
    fn grant_produces_the_net_grant_the_kernel_needs() {
        let net = Net::builder(ambient_authority())
            .connect("127.0.0.1:9000")
            .unwrap()
            .connect("[::1]:9000")
            .unwrap()
            .connect("127.0.0.1:443")
            .unwrap()
            .bind("127.0.0.1:8080")
            .unwrap()
            .allow(Op::TcpBind, "127.0.0.0/8".parse().unwrap(), 7000..=7002)
            .build();
        let g = net.net_grant();
        assert_eq!(g.tcp_connect_ports, vec![443, 9000]);
        assert_eq!(g.tcp_bind_ports, vec![7000, 7001, 7002, 8080]);
        assert!(!g.udp);
        assert!(!g.unix);
        assert_eq!(
            g.label,
            "tcp connect 127.0.0.1:9000, tcp connect [::1]:9000, tcp connect 127.0.0.1:443, tcp bind 127.0.0.1:8080, tcp bind 127.0.0.0/8 ports 7000-7002"
        );

        let mut policy = crate::sandbox::Policy::new();
        crate::sandbox::Grant::grant(&net, &mut policy);
        assert_eq!(policy.net_grants(), &[g]);
        assert!(policy.entries().is_empty());
    }

    #[test]
    fn udp_and_unix_flags() {
        let net = Net::builder(ambient_authority())
            .send_to("127.0.0.1:53")
            .unwrap()
            .unix()
            .label("dns")
            .build();
        let g = net.net_grant();
        assert!(g.udp && g.unix);
        assert!(net.uses_udp() && !net.uses_tcp());
        assert!(g.tcp_connect_ports.is_empty() && g.tcp_bind_ports.is_empty());
        assert_eq!(g.label, "dns");
        let g = net.only_ops(&[Op::TcpConnect]).without_unix().net_grant();
        assert!(!g.udp && !g.unix);
    }

    #[test]
    fn host_names_resolve_at_build_and_are_looked_up_in_the_grant() {
        let net = Net::builder(ambient_authority())
            .connect("localhost:9000")
            .unwrap()
            .build();
        let (name, ips) = net.names().next().unwrap();
        assert_eq!(name, "localhost");
        assert!(ips.iter().all(IpAddr::is_loopback), "{ips:?}");
        assert!(
            !net.check(Op::TcpConnect, &"LOCALHOST:9000")
                .unwrap()
                .is_empty()
        );
        let err = net.check(Op::TcpConnect, &"localhost:9001").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let err = net
            .check(Op::TcpConnect, &"other.invalid:9000")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            err.to_string()
                .contains("`other.invalid` was not resolved when the grant was built"),
            "{err}"
        );
    }

    #[test]
    fn narrowing_intersects_and_never_widens() {
        let net = Net::builder(ambient_authority())
            .allow(Op::TcpConnect, "127.0.0.0/8".parse().unwrap(), 1000..=2000)
            .allow(Op::UdpBind, "10.0.0.0/8".parse().unwrap(), 0..=0)
            .build();
        let n = net.clone().only_addrs("127.0.0.0/24".parse().unwrap());
        assert_eq!(n.scopes().len(), 1);
        assert!(n.allows(Op::TcpConnect, &sa("127.0.0.9:1500")));
        assert!(!n.allows(Op::TcpConnect, &sa("127.0.1.9:1500")));
        // Narrowing to a wider network keeps the narrower one.
        let n = net.clone().only_addrs("0.0.0.0/0".parse().unwrap());
        assert_eq!(n.scopes(), net.scopes());
        let n = net.clone().only_ports(1500..=3000);
        assert_eq!(n.scopes().len(), 1);
        assert_eq!(n.scopes()[0].ports, 1500..=2000);
        let n = net.clone().only_ops(&[Op::UdpBind]);
        assert!(!n.allows(Op::TcpConnect, &sa("127.0.0.1:1500")));
        assert!(n.allows(Op::UdpBind, &sa("10.1.2.3:0")));
        assert!(
            n.label().contains("narrowed to {udp bind}"),
            "{}",
            n.label()
        );
    }

    #[test]
    fn refusal_names_address_operation_and_grant() {
        let net = Net::builder(ambient_authority())
            .connect("127.0.0.1:9000")
            .unwrap()
            .build();
        let err = net.check(Op::TcpConnect, &"127.0.0.1:22").unwrap_err();
        assert_eq!(
            err.to_string(),
            "tcp connect to `127.0.0.1:22` refused: it is outside the grant; the network grant `tcp connect 127.0.0.1:9000` allows tcp connect 127.0.0.1 port 9000"
        );
        let err = net.check(Op::TcpBind, &"127.0.0.1:9000").unwrap_err();
        assert!(err.to_string().ends_with("allows no tcp bind"), "{err}");
    }
}
