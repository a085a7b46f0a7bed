//! Network handles and grants, over loopback only.
#![cfg(unix)] // unix paths, symlinks and unix-domain sockets throughout

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::thread;

use cap_core::fs::Dir;
use cap_core::net::{Net, Op, TcpListener, TcpStream, UdpSocket};
use cap_core::rights::{Dynamic, ReadStream, ReadWrite, WriteStream};
use cap_core::sandbox::{Grant, Policy};
use cap_core::{Rights, ambient_authority, rights};
use cap_runtime::{EntryKind, SocketKind};

/// A grant for loopback: bind any 127.0.0.1 port, connect to any 127.0.0.1 port,
/// and UDP on 127.0.0.1.
fn loopback() -> Net {
    let lo: cap_core::net::IpNet = "127.0.0.1/32".parse().unwrap();
    Net::builder(ambient_authority())
        .allow(Op::TcpBind, lo, 0..=65535)
        .allow(Op::TcpConnect, lo, 1..=65535)
        .allow(Op::UdpBind, lo, 0..=65535)
        .allow(Op::UdpSendTo, lo, 1..=65535)
        .allow(Op::UdpConnect, lo, 1..=65535)
        .label("loopback")
        .build()
}

fn assert_denied(err: &io::Error, needles: &[&str]) {
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "`{msg}` does not mention `{n}`");
    }
}

#[test]
fn tcp_accept_connect_echo_through_typed_handles() {
    let net = loopback();
    let listener: TcpListener = net.bind_tcp("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, peer) = listener.accept().unwrap();
        assert!(peer.ip().is_loopback());
        // The reading half and the writing half handed on with fewer rights.
        let reader: TcpStream<ReadStream> = stream.try_clone().unwrap().narrow();
        let mut writer: TcpStream<WriteStream> = stream.narrow();
        let mut buf = Vec::new();
        (&reader).read_to_end(&mut buf).unwrap();
        writer.write_all(&buf).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut client = net.connect_tcp(addr).unwrap();
    assert_eq!(client.peer_addr().unwrap(), addr);
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.write_all(b"hello, capability").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut echoed = String::new();
    client.read_to_string(&mut echoed).unwrap();
    assert_eq!(echoed, "hello, capability");
    server.join().unwrap();
}

#[test]
fn ambient_entry_points_and_std_round_trip() {
    let listener =
        TcpListener::<rights![Accept, Stat]>::bind_ambient("127.0.0.1:0", ambient_authority())
            .unwrap();
    assert_eq!(listener.rights(), Rights::ACCEPT | Rights::STAT);
    let addr = listener.local_addr().unwrap();
    let mut client =
        TcpStream::<rights![Write]>::connect_ambient(addr, ambient_authority()).unwrap();
    client.write_all(b"x").unwrap();
    let (mut s, _) = listener.accept().unwrap();
    let mut b = [0];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"x");
    // into_std gives up the typing; from_std takes the token back in.
    let std: std::net::TcpListener = listener.into_std(ambient_authority());
    assert_eq!(std.local_addr().unwrap(), addr);
    let back = TcpListener::<rights![Stat]>::from_std(std, ambient_authority());
    assert_eq!(back.local_addr().unwrap(), addr);
    assert_eq!(back.label(), addr.to_string());
}

#[test]
fn udp_send_and_recv() {
    let net = loopback();
    let a: UdpSocket = net.bind_udp("127.0.0.1:0").unwrap();
    let b: UdpSocket<rights![Recv, Stat]> = net.bind_udp("127.0.0.1:0").unwrap().narrow();
    let b_addr = b.local_addr().unwrap();
    assert_eq!(net.send_to(&a, b"datagram", b_addr).unwrap(), 8);
    let mut buf = [0; 32];
    let (n, from) = b.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from, a.local_addr().unwrap());

    // Connected: send/recv with no address.
    net.connect_udp(&a, b_addr).unwrap();
    a.send(b"again").unwrap();
    let n = b.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"again");
}

#[test]
fn out_of_grant_connect_bind_send_to_are_refused_with_a_useful_message() {
    // A narrow grant: connect to one port, bind one port, send to one port.
    let target =
        TcpListener::<rights![Accept, Stat]>::bind_ambient("127.0.0.1:0", ambient_authority())
            .unwrap();
    let port = target.local_addr().unwrap().port();
    let net = Net::builder(ambient_authority())
        .connect(("127.0.0.1", port))
        .unwrap()
        .udp_bind("127.0.0.1:0")
        .unwrap()
        .send_to("127.0.0.1:9")
        .unwrap()
        .build();

    // Allowed twin: connecting to the granted port works.
    net.connect_tcp(("127.0.0.1", port)).unwrap();

    let other = if port == 65535 { port - 1 } else { port + 1 };
    let err = net.connect_tcp(("127.0.0.1", other)).unwrap_err();
    assert_denied(
        &err,
        &[
            "tcp connect",
            &format!("127.0.0.1:{other}"),
            &format!("allows tcp connect 127.0.0.1 port {port}"),
        ],
    );
    let err = net.connect_tcp("127.0.0.2:80").unwrap_err();
    assert_denied(&err, &["127.0.0.2:80", "outside the grant"]);
    let err = net.connect_tcp("[::1]:80").unwrap_err();
    assert_denied(&err, &["[::1]:80"]);

    let err = net.bind_tcp("127.0.0.1:0").unwrap_err();
    assert_denied(&err, &["tcp bind", "127.0.0.1:0", "allows no tcp bind"]);

    // UDP: bind allowed on an ephemeral port, but not a fixed one.
    let sock = net.bind_udp("127.0.0.1:0").unwrap();
    let err = net.bind_udp("127.0.0.1:5353").unwrap_err();
    assert_denied(&err, &["udp bind", "127.0.0.1:5353"]);
    let err = net.send_to(&sock, b"x", "127.0.0.1:53").unwrap_err();
    assert_denied(
        &err,
        &[
            "udp send_to",
            "127.0.0.1:53",
            "allows udp send_to 127.0.0.1 port 9",
        ],
    );
    let err = net.connect_udp(&sock, "127.0.0.1:9").unwrap_err();
    assert_denied(&err, &["udp connect", "allows no udp connect"]);
    // Allowed twin of send_to (port 9 is discard; UDP send succeeds locally).
    assert_eq!(net.send_to(&sock, b"x", "127.0.0.1:9").unwrap(), 1);

    // A host name not resolved when the grant was built is refused without DNS.
    let err = net.connect_tcp("example.invalid:80").unwrap_err();
    assert_denied(
        &err,
        &["example.invalid", "not resolved when the grant was built"],
    );
}

#[test]
fn host_names_are_resolved_when_the_grant_is_built() {
    let listener =
        TcpListener::<rights![Accept, Stat]>::bind_ambient("127.0.0.1:0", ambient_authority())
            .unwrap();
    let port = listener.local_addr().unwrap().port();
    let net = Net::connect_ambient(("localhost", port), ambient_authority()).unwrap();
    // "localhost" is looked up in the grant's table; its 127.0.0.1 answer works.
    let s = net.connect_tcp(format!("localhost:{port}")).unwrap();
    assert_eq!(s.peer_addr().unwrap().port(), port);
    let err = Net::builder(ambient_authority())
        .connect("no-such-host.invalid:80")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("resolve `no-such-host.invalid:80` for the network grant"),
        "{err}"
    );
}

#[test]
fn narrowing_a_grant_removes_the_authority() {
    let net = loopback();
    let listener = net.bind_tcp("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Twin: the wide grant connects.
    net.connect_tcp(addr).unwrap();

    let no_connect = net.clone().only_ops(&[Op::TcpBind]);
    assert_denied(
        &no_connect.connect_tcp(addr).unwrap_err(),
        &["tcp connect", "allows no tcp connect", "narrowed"],
    );
    no_connect.bind_tcp("127.0.0.1:0").unwrap();

    let other_port = net.clone().only_ports(1..=u16::from(addr.port() != 1));
    assert_denied(
        &other_port.connect_tcp(addr).unwrap_err(),
        &[&addr.to_string()],
    );

    let other_net = net.clone().only_addrs("127.0.0.2/32".parse().unwrap());
    assert_denied(
        &other_net.connect_tcp(addr).unwrap_err(),
        &[&addr.to_string()],
    );
    // Narrowing never widens: 127.0.0.2 was not in the grant to begin with.
    assert!(other_net.scopes().is_empty());
    assert!(other_net.net_grant().tcp_connect_ports.is_empty());

    // Narrowing to the same scope keeps the authority.
    let same = net
        .only_addrs("127.0.0.0/8".parse().unwrap())
        .only_ports(addr.port()..=addr.port());
    same.connect_tcp(addr).unwrap();
}

#[test]
fn dynamic_rights_are_checked_when_used() {
    let net = loopback();
    let listener = net.bind_tcp("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client: TcpStream<ReadStream> = net.connect_tcp(addr).unwrap().narrow();
    let mut dynamic: TcpStream<Dynamic> = client.into_dynamic();
    let err = dynamic.write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    assert!(
        err.to_string().contains("does not have the right [Write]"),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("TCP stream `{addr}`")),
        "{err}"
    );
    let err = dynamic.shutdown(Shutdown::Both).unwrap_err();
    assert!(err.to_string().contains("[Shutdown]"), "{err}");
    // Twin: the right it has still works.
    assert_eq!(dynamic.peer_addr().unwrap(), addr);
    let err = dynamic.try_narrow::<rights::Stream>().unwrap_err();
    assert!(
        err.to_string().contains("[Write, Shutdown, SetOpt]"),
        "{err}"
    );

    let l: TcpListener<Dynamic> = listener.narrow::<rights![Stat]>().into_dynamic();
    assert!(l.accept().unwrap_err().to_string().contains("[Accept]"));
}

#[test]
fn handles_add_themselves_to_the_policy() {
    let net = loopback();
    let listener: TcpListener<rights![Accept]> = net.bind_tcp("127.0.0.1:0").unwrap().narrow();
    let udp = net
        .bind_udp("127.0.0.1:0")
        .unwrap()
        .narrow::<rights![Recv]>();
    let mut policy = Policy::new();
    listener.grant(&mut policy);
    udp.grant(&mut policy);
    net.grant(&mut policy);
    let e = policy.entries();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].kind, EntryKind::Socket(SocketKind::TcpListener));
    assert_eq!(e[0].rights, Rights::ACCEPT);
    assert_eq!(e[0].origin.to_str().unwrap(), listener.label());
    assert_eq!(e[1].kind, EntryKind::Socket(SocketKind::Udp));
    assert_eq!(e[1].rights, Rights::RECV);
    let g = &policy.net_grants()[0];
    assert_eq!(g.label, "loopback");
    assert!(g.udp);
    assert_eq!(g.tcp_bind_ports.len(), 65536);
    assert_eq!(g.tcp_connect_ports.first(), Some(&1));
}

#[test]
fn connection_refused_names_the_address() {
    // Bind then drop to find a port with (almost certainly) no listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = loopback().connect_tcp(("127.0.0.1", port)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

fn tmp_dir() -> (tempfile::TempDir, Dir<ReadWrite>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Dir::<ReadWrite>::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
    (tmp, dir)
}

#[test]
fn unix_stream_under_a_dir() {
    let (_tmp, dir) = tmp_dir();
    dir.create_dir("run").unwrap();
    let listener = dir.bind_unix_listener("run/app.sock").unwrap();
    assert!(
        listener.label().ends_with("run/app.sock"),
        "{}",
        listener.label()
    );
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0; 4];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
    });
    // Connecting needs only Lookup and Write on the directory.
    let connector: Dir<rights![Lookup, Write]> = dir.try_clone().unwrap().narrow();
    let mut c = connector.connect_unix_stream("run/app.sock").unwrap();
    c.write_all(b"ping").unwrap();
    let mut buf = [0; 4];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    server.join().unwrap();
}

#[test]
fn unix_datagram_under_a_dir() {
    let (_tmp, dir) = tmp_dir();
    let rx = dir.bind_unix_datagram("rx.sock").unwrap();
    let tx = dir.connect_unix_datagram("rx.sock").unwrap();
    tx.send(b"one").unwrap();
    let other = dir.bind_unix_datagram("tx.sock").unwrap();
    assert_eq!(
        dir.send_to_unix_datagram(&other, b"two", "rx.sock")
            .unwrap(),
        3
    );
    let mut buf = [0; 8];
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"one");
    let (n, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"two");
    assert!(from.as_pathname().is_some());
}

#[test]
fn unix_paths_cannot_leave_the_dir() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("inner")).unwrap();
    let outside = std::os::unix::net::UnixListener::bind(tmp.path().join("outside.sock")).unwrap();
    let dir =
        Dir::<ReadWrite>::open_ambient_dir(tmp.path().join("inner"), ambient_authority()).unwrap();

    // `..` and absolute paths are refused, for bind and for connect.
    let err = dir.connect_unix_stream("../outside.sock").unwrap_err();
    assert!(
        err.to_string().contains("`../outside.sock` beneath"),
        "{err}"
    );
    let abs = tmp.path().join("outside.sock");
    assert!(dir.connect_unix_stream(&abs).is_err());
    assert!(dir.bind_unix_listener("../new.sock").is_err());
    assert!(!tmp.path().join("new.sock").exists());
    assert!(dir.bind_unix_listener("..").is_err());

    // A symlink in place of the socket, pointing outside, is not followed.
    std::os::unix::fs::symlink(&abs, tmp.path().join("inner/link.sock")).unwrap();
    let err = dir.connect_unix_stream("link.sock").unwrap_err();
    assert!(err.to_string().contains("not a socket"), "{err}");
    assert!(dir.connect_unix_datagram("link.sock").is_err());
    // A symlinked parent directory that leads outside is refused by cap-std.
    std::os::unix::fs::symlink(tmp.path(), tmp.path().join("inner/up")).unwrap();
    assert!(dir.connect_unix_stream("up/outside.sock").is_err());
    assert!(dir.bind_unix_listener("up/new.sock").is_err());
    assert!(!tmp.path().join("new.sock").exists());
    outside.set_nonblocking(true).unwrap();
    assert!(
        outside.accept().is_err(),
        "nothing reached the outside socket"
    );

    // Twin: a socket inside is reachable.
    let _inside = dir.bind_unix_listener("ok.sock").unwrap();
    dir.connect_unix_stream("ok.sock").unwrap();
}

#[test]
fn unix_sockets_take_rights_from_the_dir() {
    let (_tmp, dir) = tmp_dir();
    let _l = dir.bind_unix_listener("s.sock").unwrap();
    let dynamic = dir
        .try_clone()
        .unwrap()
        .narrow::<rights![Lookup]>()
        .into_dynamic();
    let err = dynamic.connect_unix_stream("s.sock").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("[Write]"), "{err}");
    let err = dynamic.bind_unix_listener("t.sock").unwrap_err();
    assert!(err.to_string().contains("[Create]"), "{err}");
}

#[test]
fn addresses_are_not_leaked_through_labels_of_unconnected_std_sockets() {
    let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let a: SocketAddr = std.local_addr().unwrap();
    let s = UdpSocket::<rights![Stat]>::from_std(std, ambient_authority());
    assert_eq!(s.label(), a.to_string());
    assert_eq!(s.rights(), Rights::STAT);
}

#[test]
fn backlog_timeout_incoming_and_ipv6() {
    let lo6: cap_core::net::IpNet = "::1/128".parse().unwrap();
    let net = Net::builder(ambient_authority())
        .allow(Op::TcpBind, lo6, 0..=0)
        .allow(Op::TcpConnect, lo6, 1..=65535)
        .build();
    let listener = match net.bind_tcp_with_backlog("[::1]:0", Some(4)) {
        Ok(l) => l,
        // A machine without IPv6 loopback: nothing to test here.
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => return,
        Err(e) => panic!("{e}"),
    };
    let addr = listener.local_addr().unwrap();
    assert!(addr.is_ipv6());
    let mut c = net
        .connect_tcp_timeout(addr, std::time::Duration::from_secs(5))
        .unwrap();
    c.write_all(b"6").unwrap();
    let mut s = listener.incoming().next().unwrap().unwrap();
    let mut b = [0];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"6");
    // The IPv4 twin is outside this grant.
    assert_denied(
        &net.bind_tcp_with_backlog("127.0.0.1:0", None).unwrap_err(),
        &["tcp bind", "127.0.0.1:0", "::1"],
    );
    assert_denied(
        &net.connect_tcp_timeout("127.0.0.1:80", std::time::Duration::from_secs(1))
            .unwrap_err(),
        &["tcp connect", "127.0.0.1:80"],
    );
}

#[test]
fn handles_and_grants_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Net>();
    send_sync::<TcpListener>();
    send_sync::<TcpStream<Dynamic>>();
    send_sync::<UdpSocket>();
    send_sync::<cap_core::net::UnixDatagram>();
}

#[test]
fn socket_pairs_need_no_authority() {
    let (mut a, b) = cap_core::net::UnixStream::pair().unwrap();
    let mut b: cap_core::net::UnixStream<ReadStream> = b.narrow();
    a.write_all(b"pair").unwrap();
    let mut buf = [0; 4];
    b.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pair");
    let (x, y) = cap_core::net::UnixDatagram::pair().unwrap();
    let y = y.narrow::<rights![Recv]>();
    x.send(b"d").unwrap();
    assert_eq!(y.recv(&mut buf).unwrap(), 1);
    assert_eq!(y.label(), "(socket pair)");
}
