//! Name-scoped network grants: [`NameRule`], a host-name pattern and port
//! range whose addresses a [`Resolver`] gives at connect time.

#[cfg(unix)]
use std::fmt;
use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::ops::RangeInclusive;

#[cfg(unix)]
use crate::broker::{NamePattern, Resolver};
#[cfg(not(unix))]
pub use no_broker::NameRule;

/// One rule of a name-scoped grant ([`Net::by_name`](super::Net::by_name)):
/// TCP connect to the hosts matching a pattern, on a port, with the
/// addresses the resolver gives when connecting.
#[cfg(unix)]
#[derive(Clone, Debug)]
pub struct NameRule {
    pattern: NamePattern,
    ports: RangeInclusive<u16>,
    resolver: Resolver,
}

#[cfg(unix)]
impl NameRule {
    /// Parses `pattern:port` and checks that `resolver` covers the pattern.
    pub(super) fn parse(resolver: &Resolver, rule: &str) -> io::Result<NameRule> {
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("name rule `{rule}`: {why}"),
            )
        };
        let (pattern, port) = rule
            .rsplit_once(':')
            .ok_or_else(|| bad("write it as `host:port` or `*.domain:port`"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        let pattern = NamePattern::parse(pattern)?;
        if !resolver.covers(&pattern) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("name rule `{rule}` refused: `{pattern}` is not within the {resolver}"),
            ));
        }
        Ok(NameRule {
            pattern,
            ports: port..=port,
            resolver: resolver.clone(),
        })
    }

    /// The host-name pattern.
    pub fn pattern(&self) -> &NamePattern {
        &self.pattern
    }

    /// The ports, both ends included.
    pub fn ports(&self) -> &RangeInclusive<u16> {
        &self.ports
    }

    /// Whether `host` (lower case) on `port` is inside this rule.
    pub(super) fn allows(&self, host: &str, port: u16) -> bool {
        self.ports.contains(&port) && self.pattern.matches(host)
    }

    /// The rule with only the ports inside `ports`, if any.
    pub(super) fn only_ports(&self, ports: &RangeInclusive<u16>) -> Option<NameRule> {
        let start = *self.ports.start().max(ports.start());
        let end = *self.ports.end().min(ports.end());
        (start <= end).then(|| NameRule {
            ports: start..=end,
            ..self.clone()
        })
    }
}

#[cfg(unix)]
impl fmt::Display for NameRule {
    /// `tcp connect api.example.com port 443 (by name)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ports.start() == self.ports.end() {
            write!(
                f,
                "tcp connect {} port {} (by name)",
                self.pattern,
                self.ports.start()
            )
        } else {
            write!(
                f,
                "tcp connect {} ports {}-{} (by name)",
                self.pattern,
                self.ports.start(),
                self.ports.end()
            )
        }
    }
}

/// The addresses of `host` on `port` from the first rule that allows it:
/// resolved by that rule's resolver (which checks the name again).
#[cfg(unix)]
pub(super) fn resolve(rules: &[NameRule], host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let rule = rules.iter().find(|r| r.allows(host, port)).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("`{host}:{port}` matches no name rule"),
        )
    })?;
    let ips = rule.resolver.resolve(host)?;
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

/// The stream to `host` on `port`, connected by the broker's resolver
/// service of the first rule that allows it (which checks name and port
/// again) and passed back: the only way in Capsicum's capability mode.
#[cfg(target_os = "freebsd")]
pub(super) fn connect_brokered(
    rules: &[NameRule],
    host: &str,
    port: u16,
) -> io::Result<super::TcpStream> {
    let rule = rules.iter().find(|r| r.allows(host, port)).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("`{host}:{port}` matches no name rule"),
        )
    })?;
    rule.resolver.connect_tcp(host, port)
}

/// Without the broker (not unix) there is no resolver, so no rule.
#[cfg(not(unix))]
mod no_broker {
    use std::fmt;
    use std::ops::RangeInclusive;

    /// A name rule; none can exist on this OS (the broker is unix-only).
    #[derive(Clone, Debug)]
    pub enum NameRule {}

    impl NameRule {
        /// The ports (never called: no rule exists).
        pub fn ports(&self) -> &RangeInclusive<u16> {
            match *self {}
        }

        pub(in crate::net) fn allows(&self, _: &str, _: u16) -> bool {
            match *self {}
        }

        pub(in crate::net) fn only_ports(&self, _: &RangeInclusive<u16>) -> Option<NameRule> {
            match *self {}
        }
    }

    impl fmt::Display for NameRule {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            match *self {}
        }
    }
}

/// No rule exists without the broker.
#[cfg(not(unix))]
pub(super) fn resolve(_: &[NameRule], host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("`{host}:{port}`: name-scoped grants need the broker (unix only)"),
    ))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::io::{Read, Write};
    use std::net::IpAddr;

    use super::*;
    use crate::broker::Lookup;
    use crate::net::{Net, Op};

    #[derive(Debug)]
    struct Loopback;
    impl Lookup for Loopback {
        fn lookup(&self, name: &str) -> io::Result<Vec<IpAddr>> {
            if name == "gone.example.com" {
                return Err(io::Error::new(io::ErrorKind::NotFound, "NXDOMAIN"));
            }
            Ok(vec![IpAddr::from([127, 0, 0, 1])])
        }
    }

    #[test]
    fn connects_by_name_through_the_resolver_on_the_rule_port_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let dns = Resolver::from_lookup(&["*.example.com"], Loopback, crate::ambient_authority())
            .unwrap();
        let net = Net::by_name(&dns, &format!("api.example.com:{port}")).unwrap();
        assert_eq!(net.net_grant().tcp_connect_ports, vec![port]);
        assert!(net.uses_tcp());
        let mut s = net.connect_tcp(format!("API.example.com:{port}")).unwrap();
        s.write_all(b"hi").unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");

        // Another port, another name, an address: refused before any look-up.
        let err = net
            .connect_tcp(format!("api.example.com:{}", port ^ 1))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            err.to_string().contains(&format!(
                "tcp connect api.example.com port {port} (by name)"
            )),
            "{err}"
        );
        let err = net
            .connect_tcp(format!("www.example.com:{port}"))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let err = net.connect_tcp(format!("127.0.0.1:{port}")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        // The narrowing rules: ports intersect, other ops drop the rule.
        assert!(net.clone().only_ports(1..=port).name_rules().len() == 1);
        assert!(net.clone().only_ports(0..=0).name_rules().is_empty());
        assert!(net.clone().only_ops(&[Op::UdpBind]).name_rules().is_empty());
        assert!(
            net.only_addrs("127.0.0.0/8".parse().unwrap())
                .name_rules()
                .is_empty()
        );
    }

    #[test]
    fn rules_must_be_within_the_resolver() {
        let dns = Resolver::from_lookup(&["*.example.com"], Loopback, crate::ambient_authority())
            .unwrap();
        let err = Net::by_name(&dns, "**.example.com:443").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            err.to_string()
                .contains("`**.example.com` is not within the resolver `*.example.com`"),
            "{err}"
        );
        for bad in [
            "api.example.com",
            "api.example.com:0",
            "api.example.com:x",
            "api.example.com.:443",
        ] {
            assert_eq!(
                Net::by_name(&dns, bad).unwrap_err().kind(),
                io::ErrorKind::InvalidInput,
                "{bad}"
            );
        }
        let net = Net::by_name(&dns, "gone.example.com:443").unwrap();
        let err = net.connect_tcp("gone.example.com:443").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("resolve `gone.example.com`"),
            "{err}"
        );
    }
}
