//! A small DNS stub resolver of ambit's own, for the resolver service.
//!
//! It does what the broker needs and no more: look a name up in a hosts file
//! (read through a held handle), then ask configured nameservers for its `A`
//! and `AAAA` records over UDP, through sockets connected before the lock.
//! It never calls the C library's `getaddrinfo`, which would load NSS
//! modules with `dlopen` and open files by name (`/etc/nsswitch.conf`,
//! `/etc/gai.conf`, ...) that the broker's sandbox does not hold.
//!
//! Every answer is checked: the id and question must be ours, the response
//! bit set, names well formed (letters, digits, `-`, `_`, at most 255 bytes),
//! compression pointers must point backwards (so they cannot loop) and are
//! followed at most [`MAX_POINTERS`] times, and `CNAME` chains are followed at
//! most [`MAX_CNAMES`] links. The parser never panics on any input (see the
//! property test at the end).
//!
//! Not done: TCP fallback for truncated answers (a truncated answer is an
//! error naming the server), EDNS, DNSSEC validation, search domains and
//! `ndots` (a name is always taken as fully qualified), source-port
//! randomisation per query (each nameserver socket keeps the port it was
//! bound to before the lock; the 16-bit query id is random).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// At most this many compression pointers are followed in one name.
pub const MAX_POINTERS: usize = 16;
/// At most this many `CNAME` links are followed for one look-up.
pub const MAX_CNAMES: usize = 8;
/// The longest name, in presentation form without the final dot.
pub const MAX_NAME: usize = 253;
/// The largest datagram read (answers without EDNS are at most 512 bytes;
/// some servers send more anyway).
const MAX_DATAGRAM: usize = 4096;

/// Record types used here.
pub const TYPE_A: u16 = 1;
/// `CNAME`.
pub const TYPE_CNAME: u16 = 5;
/// `AAAA`.
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

/// Why a DNS message could not be read: what was wrong and at which byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub what: &'static str,
    /// The offset in the message where it was found.
    pub at: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed DNS message: {} (at byte {})",
            self.what, self.at
        )
    }
}

impl std::error::Error for ParseError {}

fn bad<T>(what: &'static str, at: usize) -> Result<T, ParseError> {
    Err(ParseError { what, at })
}

/// The data of one answer record, as far as the resolver cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rdata {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An alias: the canonical name.
    Cname(String),
    /// Any other type, kept by number only.
    Other(u16),
}

/// One resource record of the answer section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its owner name, lower case, without the final dot.
    pub name: String,
    /// Its data.
    pub data: Rdata,
}

/// A parsed response: the header fields the resolver checks, the question
/// and the answer section (authority and additional sections are skipped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The query id it answers.
    pub id: u16,
    /// The QR bit: set in a response.
    pub is_response: bool,
    /// The TC bit: the answer did not fit.
    pub truncated: bool,
    /// The opcode (0 for a standard query).
    pub opcode: u8,
    /// The response code (0 no error, 2 server failure, 3 no such name, ...).
    pub rcode: u8,
    /// The first question, if any: name and type.
    pub question: Option<(String, u16)>,
    /// The answer records.
    pub answers: Vec<Record>,
}

/// Reads a big-endian `u16` at `at`.
fn u16_at(msg: &[u8], at: usize) -> Result<u16, ParseError> {
    match msg.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => bad("message ends inside a 16-bit field", at),
    }
}

/// Reads a (possibly compressed) name starting at `start`. Returns the name
/// (lower case, dot-separated, without the final dot; the root is `""`) and
/// the offset just after the name where it started (after the first pointer
/// if it was compressed).
pub fn read_name(msg: &[u8], start: usize) -> Result<(String, usize), ParseError> {
    let mut name = String::new();
    let mut pos = start;
    let mut after: Option<usize> = None;
    let mut pointers = 0;
    // Pointers must point strictly before the label they replace: with that
    // and the counter, no name can loop.
    let mut lowest = start;
    loop {
        let Some(&len) = msg.get(pos) else {
            return bad("message ends inside a name", pos);
        };
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((name, after.unwrap_or(pos + 1)));
            }
            0x00 => {
                let len = usize::from(len);
                let Some(label) = msg.get(pos + 1..pos + 1 + len) else {
                    return bad("message ends inside a label", pos);
                };
                if !name.is_empty() {
                    name.push('.');
                }
                for &b in label {
                    if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                        name.push(char::from(b.to_ascii_lowercase()));
                    } else {
                        return bad(
                            "a label holds a byte that is not a letter, digit, `-` or `_`",
                            pos,
                        );
                    }
                }
                if name.len() > MAX_NAME {
                    return bad("name longer than 253 bytes", pos);
                }
                pos += 1 + len;
            }
            0xc0 => {
                let target = usize::from(u16_at(msg, pos)? & 0x3fff);
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return bad("too many compression pointers", pos);
                }
                if target >= lowest {
                    return bad("compression pointer does not point backwards", pos);
                }
                if after.is_none() {
                    after = Some(pos + 2);
                }
                lowest = target;
                pos = target;
            }
            _ => return bad("unknown label type", pos),
        }
    }
}

/// Parses a response.
pub fn parse_response(msg: &[u8]) -> Result<Response, ParseError> {
    if msg.len() < 12 {
        return bad("shorter than a DNS header", msg.len());
    }
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    let qdcount = u16_at(msg, 4)?;
    let ancount = u16_at(msg, 6)?;
    let mut pos = 12;
    let mut question = None;
    for i in 0..qdcount {
        let (name, next) = read_name(msg, pos)?;
        let qtype = u16_at(msg, next)?;
        u16_at(msg, next + 2)?;
        if i == 0 {
            question = Some((name, qtype));
        }
        pos = next + 4;
    }
    let mut answers = Vec::new();
    for _ in 0..ancount {
        let (name, next) = read_name(msg, pos)?;
        let rtype = u16_at(msg, next)?;
        let class = u16_at(msg, next + 2)?;
        // ttl: 4 bytes at next + 4, unused (the broker does not cache).
        let rdlen = usize::from(u16_at(msg, next + 8)?);
        let rdata_at = next + 10;
        let Some(rdata) = msg.get(rdata_at..rdata_at + rdlen) else {
            return bad("record data runs past the end", rdata_at);
        };
        let data = match (class, rtype) {
            (CLASS_IN, TYPE_A) => match <[u8; 4]>::try_from(rdata) {
                Ok(b) => Rdata::A(Ipv4Addr::from(b)),
                Err(_) => return bad("an A record is not 4 bytes", rdata_at),
            },
            (CLASS_IN, TYPE_AAAA) => match <[u8; 16]>::try_from(rdata) {
                Ok(b) => Rdata::Aaaa(Ipv6Addr::from(b)),
                Err(_) => return bad("an AAAA record is not 16 bytes", rdata_at),
            },
            (CLASS_IN, TYPE_CNAME) => {
                let (target, end) = read_name(msg, rdata_at)?;
                if end != rdata_at + rdlen {
                    return bad("a CNAME's name does not fill its record", rdata_at);
                }
                Rdata::Cname(target)
            }
            (_, other) => Rdata::Other(other),
        };
        answers.push(Record { name, data });
        pos = rdata_at + rdlen;
    }
    Ok(Response {
        id,
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0xf) as u8,
        question,
        answers,
    })
}

/// Builds a standard recursive query for `name` (already checked by
/// [`check_name`]) and `qtype`.
pub fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&1u16.to_be_bytes());
    q.extend_from_slice(&[0; 6]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // check_name bounds each label to 63 bytes.
        q.push(u8::try_from(label.len()).unwrap_or(63));
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    q
}

/// Checks that `name` is a host name this resolver will look up: ASCII
/// letters, digits, `-` and `_` in labels of 1 to 63 bytes, at most 253 bytes,
/// no final dot, not an IP address. Returns it in lower case. An
/// internationalised name must be given in its ASCII (`xn--`) form.
pub fn check_name(name: &str) -> io::Result<String> {
    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` is not a host name this resolver looks up: {why}"),
        )
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.ends_with('.') {
        return Err(invalid(
            "it ends with a dot (write the name without it; every name is fully qualified)",
        ));
    }
    if name.len() > MAX_NAME {
        return Err(invalid("it is longer than 253 bytes"));
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(invalid("it is an IP address, not a name"));
    }
    if !name.is_ascii() {
        return Err(invalid(
            "it is not ASCII (give an internationalised name in its `xn--` form)",
        ));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid("each label between dots has 1 to 63 bytes"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "a label holds a byte that is not a letter, digit, `-` or `_`",
            ));
        }
    }
    Ok(name.to_ascii_lowercase())
}

/// The addresses `name` has in the hosts-file text `hosts` (`/etc/hosts`
/// format: an address, then names, `#` comments). Names compare without
/// case; an entry's final dot is ignored.
pub fn hosts_lookup(hosts: &str, name: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(Ok(ip)) = fields.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        if fields.any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(name))
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    found
}

/// What a `resolv.conf` says that this resolver uses: the nameservers (at
/// most three, as the C library takes) and the per-try timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvConf {
    /// The nameservers, port 53.
    pub nameservers: Vec<SocketAddr>,
    /// `options timeout:N` (default 5 seconds, capped at 30).
    pub timeout: Duration,
    /// `options attempts:N` (default 2, capped at 5).
    pub attempts: u32,
}

impl ResolvConf {
    /// Parses `resolv.conf` text. Lines it does not use (`search`, `domain`,
    /// other options) are ignored; a nameserver that is not an IP address is
    /// skipped.
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(5),
            attempts: 2,
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut fields = line.split_whitespace();
            match fields.next() {
                Some("nameserver") => {
                    if let Some(Ok(ip)) = fields
                        .next()
                        .map(|s| s.split('%').next().unwrap_or(s).parse::<IpAddr>())
                        && conf.nameservers.len() < 3
                    {
                        conf.nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
                Some("options") => {
                    for option in fields {
                        if let Some(n) = option
                            .strip_prefix("timeout:")
                            .and_then(|n| n.parse::<u64>().ok())
                        {
                            conf.timeout = Duration::from_secs(n.clamp(1, 30));
                        } else if let Some(n) = option
                            .strip_prefix("attempts:")
                            .and_then(|n| n.parse::<u32>().ok())
                        {
                            conf.attempts = n.clamp(1, 5);
                        }
                    }
                }
                _ => {}
            }
        }
        conf
    }
}

/// A random-enough 16-bit query id: the standard library's randomly keyed
/// hasher over a counter and the clock (no extra dependency, no `unsafe`).
fn query_id() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    (h.finish() & 0xffff) as u16
}

/// One nameserver: its address and a UDP socket connected to it (made
/// before the lock).
#[derive(Debug)]
pub struct Nameserver {
    /// Its address.
    pub addr: SocketAddr,
    /// The socket, connected to `addr`.
    pub socket: UdpSocket,
}

impl Nameserver {
    /// Binds a UDP socket on an ephemeral port of the matching family and
    /// connects it to `addr`.
    ///
    /// # Ambient Authority
    ///
    /// Any address may be named.
    pub fn connect_ambient(
        addr: SocketAddr,
        ambient: crate::AmbientAuthority,
    ) -> io::Result<Nameserver> {
        let _ = ambient;
        let local: SocketAddr = if addr.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local)
            .and_then(|s| s.connect(addr).map(|()| s))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("connect a UDP socket to the nameserver {addr}: {e}"),
                )
            })?;
        Ok(Nameserver { addr, socket })
    }

    /// Sends `query` and waits until `deadline` for the response with the
    /// same id and question, skipping stray or late datagrams.
    fn exchange(
        &self,
        query: &[u8],
        id: u16,
        name: &str,
        qtype: u16,
        deadline: Instant,
    ) -> io::Result<Response> {
        self.socket.send(query).map_err(|e| self.error(&e))?;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the nameserver {} did not answer in time", self.addr),
                ));
            }
            self.socket
                .set_read_timeout(Some(left))
                .map_err(|e| self.error(&e))?;
            let n = match self.socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(self.error(&e)),
            };
            let Ok(response) = parse_response(&buf[..n]) else {
                continue; // garbage on our port: not an answer to us
            };
            let ours = response.id == id
                && response.is_response
                && response
                    .question
                    .as_ref()
                    .is_some_and(|(n, t)| n == name && *t == qtype);
            if ours {
                return Ok(response);
            }
        }
    }

    fn error(&self, e: &io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("nameserver {}: {e}", self.addr))
    }
}

/// Where names are looked up: a hosts file, then nameservers.
#[derive(Debug)]
pub struct Stub {
    /// The hosts file, read again at each look-up through the held handle.
    pub hosts: Option<crate::fs::File<crate::rights::ReadOnly>>,
    /// The nameservers, tried in order.
    pub nameservers: Vec<Nameserver>,
    /// How long one try waits for an answer.
    pub timeout: Duration,
    /// How many times each nameserver is tried.
    pub attempts: u32,
}

/// What a name look-up over DNS gives: addresses, or a CNAME to follow.
enum Answer {
    Addrs(Vec<IpAddr>),
    Alias(String),
    NoName,
    NoData,
}

/// Walks the answer records from `name`: the addresses of `qtype` found at
/// the end of its CNAME chain (at most [`MAX_CNAMES`] links), or the alias
/// the chain ends in when the response has no address for it.
fn follow(answers: &[Record], name: &str) -> Answer {
    let mut current = name.to_owned();
    for _ in 0..=MAX_CNAMES {
        let addrs: Vec<IpAddr> = answers
            .iter()
            .filter(|r| r.name == current)
            .filter_map(|r| match r.data {
                Rdata::A(a) => Some(IpAddr::V4(a)),
                Rdata::Aaaa(a) => Some(IpAddr::V6(a)),
                _ => None,
            })
            .collect();
        if !addrs.is_empty() {
            return Answer::Addrs(addrs);
        }
        match answers.iter().find_map(|r| match &r.data {
            Rdata::Cname(target) if r.name == current => Some(target.clone()),
            _ => None,
        }) {
            Some(target) => current = target,
            None if current == name => return Answer::NoData,
            None => return Answer::Alias(current),
        }
    }
    Answer::NoData
}

impl Stub {
    /// The addresses of `name`: from the hosts file if it lists the name,
    /// else from the nameservers (`A` and `AAAA`, IPv4 first).
    pub fn lookup(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let name = check_name(name)?;
        if let Some(hosts) = &self.hosts {
            let mut text = String::new();
            let mut file = hosts;
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.take(1 << 20).read_to_string(&mut text))
                .map_err(|e| io::Error::new(e.kind(), format!("read the hosts file: {e}")))?;
            let found = hosts_lookup(&text, &name);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        if self.nameservers.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{name}` is not in the hosts file and no nameserver is configured"),
            ));
        }
        // One budget for the whole look-up, CNAME links included: what one
        // name costs at worst (every try of every nameserver, A and AAAA).
        let tries = u32::try_from(self.nameservers.len()).unwrap_or(3) * self.attempts.max(1) * 2;
        let deadline = Instant::now() + self.timeout * tries;
        let mut current = name.clone();
        for _ in 0..=MAX_CNAMES {
            let mut addrs = Vec::new();
            let mut alias = None;
            let mut no_name = false;
            for qtype in [TYPE_A, TYPE_AAAA] {
                match self.ask(&current, qtype, deadline)? {
                    Answer::Addrs(a) => addrs.extend(a),
                    Answer::Alias(a) => alias = Some(a),
                    Answer::NoName => no_name = true,
                    Answer::NoData => {}
                }
            }
            if !addrs.is_empty() {
                return Ok(addrs);
            }
            match alias {
                Some(target) => current = target,
                None if no_name => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("`{name}` does not exist (NXDOMAIN for `{current}`)"),
                    ));
                }
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("`{name}` has no A or AAAA record"),
                    ));
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{name}`: more than {MAX_CNAMES} CNAME links"),
        ))
    }

    /// Asks each nameserver in turn (each up to `attempts` times) until one
    /// gives a usable answer.
    fn ask(&self, name: &str, qtype: u16, deadline: Instant) -> io::Result<Answer> {
        let mut last = None;
        for _ in 0..self.attempts.max(1) {
            for ns in &self.nameservers {
                let id = query_id();
                let query = build_query(id, name, qtype);
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("looking up `{name}` took longer than its budget"),
                    ));
                }
                let until = (Instant::now() + self.timeout).min(deadline);
                let response = match ns.exchange(&query, id, name, qtype, until) {
                    Ok(r) => r,
                    Err(e) => {
                        last = Some(e);
                        continue;
                    }
                };
                let refuse = |why: &str| {
                    io::Error::other(format!("nameserver {} for `{name}`: {why}", ns.addr))
                };
                match response.rcode {
                    0 if response.truncated => {
                        last = Some(refuse(
                            "the answer was truncated (TCP fallback is not implemented)",
                        ));
                    }
                    0 => return Ok(follow(&response.answers, name)),
                    3 => return Ok(Answer::NoName),
                    rcode => last = Some(refuse(&format!("response code {rcode}"))),
                }
            }
        }
        Err(last
            .unwrap_or_else(|| io::Error::other(format!("no nameserver answered for `{name}`"))))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A response to `query` (as built by `build_query`) answering with
    /// `answers`: each an owner name and rdata (type and bytes).
    pub(crate) fn respond(query: &[u8], rcode: u8, answers: &[(&str, u16, Vec<u8>)]) -> Vec<u8> {
        let mut r = query.to_vec();
        r[2] = 0x81; // QR, RD
        r[3] = 0x80 | rcode; // RA
        r[6..8].copy_from_slice(&u16::try_from(answers.len()).unwrap().to_be_bytes());
        for (name, rtype, data) in answers {
            for label in name.split('.') {
                r.push(u8::try_from(label.len()).unwrap());
                r.extend_from_slice(label.as_bytes());
            }
            r.push(0);
            r.extend_from_slice(&rtype.to_be_bytes());
            r.extend_from_slice(&1u16.to_be_bytes());
            r.extend_from_slice(&60u32.to_be_bytes());
            r.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
            r.extend_from_slice(data);
        }
        r
    }

    pub(crate) fn wire_name(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for label in name.split('.') {
            v.push(u8::try_from(label.len()).unwrap());
            v.extend_from_slice(label.as_bytes());
        }
        v.push(0);
        v
    }

    #[test]
    fn query_round_trips_through_the_parser() {
        let q = build_query(0xbeef, "api.example.com", TYPE_AAAA);
        let parsed = parse_response(&q).unwrap();
        assert_eq!(parsed.id, 0xbeef);
        assert!(!parsed.is_response);
        assert_eq!(parsed.question, Some(("api.example.com".into(), TYPE_AAAA)));
    }

    #[test]
    fn answers_with_compression_and_cname_chains() {
        let q = build_query(7, "www.example.com", TYPE_A);
        // The CNAME target is written as `edge` + a pointer to `example.com`
        // in the question (offset 12 + 4).
        let mut cname = vec![4];
        cname.extend_from_slice(b"edge");
        cname.extend_from_slice(&[0xc0, 16]);
        let r = respond(
            &q,
            0,
            &[
                ("www.example.com", TYPE_CNAME, cname),
                ("edge.example.com", TYPE_A, vec![10, 0, 0, 7]),
            ],
        );
        let parsed = parse_response(&r).unwrap();
        assert!(parsed.is_response);
        assert_eq!(
            parsed.answers[0].data,
            Rdata::Cname("edge.example.com".into())
        );
        match follow(&parsed.answers, "www.example.com") {
            Answer::Addrs(a) => assert_eq!(a, vec![IpAddr::from([10, 0, 0, 7])]),
            _ => panic!("the chain ends in an address"),
        }
        match follow(&parsed.answers[..1], "www.example.com") {
            Answer::Alias(a) => assert_eq!(a, "edge.example.com"),
            _ => panic!("the chain ends in an alias"),
        }
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        let mut msg = build_query(1, "a.b", TYPE_A);
        // A name at the end that points at itself.
        let at = msg.len();
        msg.extend_from_slice(&[0xc0, u8::try_from(at).unwrap()]);
        assert_eq!(
            read_name(&msg, at).unwrap_err().what,
            "compression pointer does not point backwards"
        );
        // Two names pointing at each other: the second hop goes forward.
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
        assert!(read_name(&msg, 14).is_err());
        // Bad label bytes (a dot inside a label) are refused, not joined.
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(&[3, b'a', b'.', b'b', 0]);
        assert!(read_name(&msg, 12).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("API.Example.com").unwrap(), "api.example.com");
        assert_eq!(
            check_name("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "api.example.com.",
            "a..b",
            "bücher.example",
            "127.0.0.1",
            "a b",
            &"a".repeat(64),
        ] {
            let err = check_name(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn hosts_and_resolv_conf() {
        let hosts = "127.0.0.1 localhost\n# 10.0.0.1 api.example.com\n10.0.0.2\tAPI.example.com. api # c\n::1 api.example.com\nbad line\n";
        assert_eq!(
            hosts_lookup(hosts, "api.example.com"),
            vec![
                IpAddr::from([10, 0, 0, 2]),
                IpAddr::from(Ipv6Addr::LOCALHOST)
            ]
        );
        assert!(hosts_lookup(hosts, "example.com").is_empty());
        let conf = ResolvConf::parse(
            "search x\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:2 timeout:1 attempts:9\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n",
        );
        assert_eq!(
            conf.nameservers,
            vec![
                "10.0.0.53:53".parse().unwrap(),
                "[fe80::1]:53".parse().unwrap(),
                "1.1.1.1:53".parse().unwrap()
            ]
        );
        assert_eq!(conf.timeout, Duration::from_secs(1));
        assert_eq!(conf.attempts, 5);
    }

    /// Name, type, response code and answers (owner, type, rdata).
    pub(crate) type Table = Vec<(String, u16, u8, Vec<(String, u16, Vec<u8>)>)>;

    /// A nameserver on loopback answering from a table, for `n` queries.
    pub(crate) fn responder(table: Table, n: usize) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..n {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    return;
                };
                let q = parse_response(&buf[..len]).unwrap();
                let (qname, qtype) = q.question.unwrap();
                let (rcode, answers) = table
                    .iter()
                    .find(|(n, t, _, _)| *n == qname && *t == qtype)
                    .map_or((0, Vec::new()), |(_, _, rc, a)| (*rc, a.clone()));
                let answers: Vec<(&str, u16, Vec<u8>)> = answers
                    .iter()
                    .map(|(n, t, d)| (n.as_str(), *t, d.clone()))
                    .collect();
                // A stray datagram with a wrong id first: must be skipped.
                let mut stray = respond(&buf[..len], 0, &[]);
                stray[0] ^= 0xff;
                socket.send_to(&stray, from).unwrap();
                socket
                    .send_to(&respond(&buf[..len], rcode, &answers), from)
                    .unwrap();
            }
        });
        (addr, thread)
    }

    #[test]
    fn stub_asks_a_nameserver_and_follows_a_cname() {
        let table = vec![
            (
                "www.test".to_owned(),
                TYPE_A,
                0,
                vec![("www.test".to_owned(), TYPE_CNAME, wire_name("edge.test"))],
            ),
            (
                "www.test".to_owned(),
                TYPE_AAAA,
                0,
                vec![("www.test".to_owned(), TYPE_CNAME, wire_name("edge.test"))],
            ),
            (
                "edge.test".to_owned(),
                TYPE_A,
                0,
                vec![("edge.test".to_owned(), TYPE_A, vec![127, 0, 0, 9])],
            ),
            ("gone.test".to_owned(), TYPE_A, 3, vec![]),
            ("gone.test".to_owned(), TYPE_AAAA, 3, vec![]),
        ];
        let (addr, thread) = responder(table, 6);
        let stub = Stub {
            hosts: None,
            nameservers: vec![
                Nameserver::connect_ambient(addr, crate::ambient_authority()).unwrap(),
            ],
            timeout: Duration::from_secs(5),
            attempts: 1,
        };
        assert_eq!(
            stub.lookup("WWW.test").unwrap(),
            vec![IpAddr::from([127, 0, 0, 9])]
        );
        let err = stub.lookup("gone.test").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("NXDOMAIN"), "{err}");
        thread.join().unwrap();
    }

    #[test]
    fn a_silent_nameserver_times_out_naming_it() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let stub = Stub {
            hosts: None,
            nameservers: vec![
                Nameserver::connect_ambient(addr, crate::ambient_authority()).unwrap(),
            ],
            timeout: Duration::from_millis(100),
            attempts: 1,
        };
        let err = stub.lookup("quiet.test").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }

    /// A tiny xorshift generator: the property test needs no dependency.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    #[allow(clippy::cast_possible_truncation, clippy::range_plus_one)]
    fn parser_never_panics_on_random_truncated_or_mutated_messages() {
        let q = build_query(9, "www.example.com", TYPE_A);
        let mut cname = vec![4];
        cname.extend_from_slice(b"edge");
        cname.extend_from_slice(&[0xc0, 16]);
        let valid = respond(
            &q,
            0,
            &[
                ("www.example.com", TYPE_CNAME, cname),
                ("edge.example.com", TYPE_A, vec![10, 0, 0, 7]),
                ("edge.example.com", TYPE_AAAA, vec![0; 16]),
            ],
        );
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut parsed = 0;
        for round in 0..20_000u32 {
            let r = xorshift(&mut state);
            let msg: Vec<u8> = match round % 3 {
                // Every truncation of a valid answer.
                0 => valid[..(r as usize) % (valid.len() + 1)].to_vec(),
                // A valid answer with a few bytes changed.
                1 => {
                    let mut m = valid.clone();
                    for _ in 0..1 + r % 4 {
                        let at = (xorshift(&mut state) as usize) % m.len();
                        m[at] = xorshift(&mut state) as u8;
                    }
                    m
                }
                // Random bytes of random length, header counts included.
                _ => (0..r % 600).map(|_| xorshift(&mut state) as u8).collect(),
            };
            if let Ok(resp) = parse_response(&msg) {
                parsed += 1;
                let _ = follow(&resp.answers, "www.example.com");
            }
            for start in [0, 12, msg.len() / 2] {
                let _ = read_name(&msg, start);
            }
        }
        // The mutations leave some messages valid: the property is not vacuous.
        assert!(parsed > 100, "{parsed}");
    }
}
