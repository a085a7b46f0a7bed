//! Interop: a `cap_core` listener handed to a real HTTP server crate
//! (`tiny_http`), serving a request over loopback.
#![cfg(unix)] // unix paths, symlinks and unix-domain sockets throughout

use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;

use cap_core::net::{Net, Op, TcpListener};
use cap_core::{ambient_authority, rights};

#[test]
fn tiny_http_serves_on_a_cap_core_listener() {
    let lo = "127.0.0.1/32".parse().unwrap();
    let net = Net::builder(ambient_authority())
        .bind("127.0.0.1:0")
        .unwrap()
        .allow(Op::TcpConnect, lo, 1024..=65535)
        .label("http test")
        .build();

    // The server side holds only a listener that can accept.
    let listener: TcpListener<rights![Accept, Stat]> =
        net.bind_tcp("127.0.0.1:0").unwrap().narrow();
    let addr = listener.local_addr().unwrap();
    // Handing it to another library gives up the typing: `into_std`.
    let server =
        tiny_http::Server::from_listener(listener.into_std(ambient_authority()), None).unwrap();
    let serving = thread::spawn(move || {
        let request = server.recv().unwrap();
        let reply = format!("{} {}", request.method(), request.url());
        request
            .respond(tiny_http::Response::from_string(reply))
            .unwrap();
    });

    // The client connects through the grant.
    let mut client = net.connect_tcp(addr).unwrap();
    write!(
        client,
        "GET /hello?cap=1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    serving.join().unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("GET /hello?cap=1"), "{response}");
}

#[test]
fn tiny_http_serves_on_a_unix_listener_beneath_a_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = cap_core::fs::Dir::<rights![Lookup, Create, Write]>::open_ambient_dir(
        tmp.path(),
        ambient_authority(),
    )
    .unwrap();
    let listener = dir.bind_unix_listener("http.sock").unwrap();
    let server =
        tiny_http::Server::from_listener(listener.into_std(ambient_authority()), None).unwrap();
    let serving = thread::spawn(move || {
        let request = server.recv().unwrap();
        let reply = request.url().to_owned();
        request
            .respond(tiny_http::Response::from_string(reply))
            .unwrap();
    });
    let mut client = dir.connect_unix_stream("http.sock").unwrap();
    client
        .write_all(b"GET /over-unix HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    serving.join().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("/over-unix"), "{response}");
}
