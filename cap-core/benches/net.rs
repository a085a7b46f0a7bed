//! Loopback connect + ping-pong through `cap_core`, against `std::net` and
//! `cap_std` in the same run. Budget: `cap_core` within 3% of `cap_std`.
//!
//! Run with `cargo bench -p cap-core --bench net`. One echo server thread
//! serves every connection in turn; each sample connects, exchanges
//! `ROUNDS` 64-byte messages and closes (`connect_pingpong`), or exchanges
//! one message on an open connection (`pingpong`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::OnceLock;
use std::thread;

use cap_core::ambient_authority;
use cap_core::net::Net;

const MSG: [u8; 64] = [0x5a; 64];
const ROUNDS: usize = 8;

fn main() {
    divan::main();
}

/// The echo server, started once: it echoes 64-byte messages until EOF on
/// each connection, one connection at a time.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let l = StdListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        thread::spawn(move || {
            for s in l.incoming() {
                let mut s = s.unwrap();
                s.set_nodelay(true).unwrap();
                let mut buf = [0; 64];
                while s.read_exact(&mut buf).is_ok() {
                    if s.write_all(&buf).is_err() {
                        break;
                    }
                }
            }
        });
        addr
    })
}

fn pingpong(s: &mut (impl Read + Write), rounds: usize) {
    let mut buf = [0; 64];
    for _ in 0..rounds {
        s.write_all(&MSG).unwrap();
        s.read_exact(&mut buf).unwrap();
    }
    assert_eq!(buf, MSG);
}

fn cap_std_pool(addr: SocketAddr) -> cap_std::net::Pool {
    let mut pool = cap_std::net::Pool::new();
    pool.insert_socket_addr(addr, ambient_authority());
    pool
}

fn cap_core_net(addr: SocketAddr) -> Net {
    Net::builder(ambient_authority())
        .connect(addr)
        .unwrap()
        .build()
}

/// Connect, exchange `ROUNDS` messages, close.
mod connect_pingpong {
    use super::{ROUNDS, cap_core_net, cap_std_pool, pingpong, server};

    #[divan::bench(sample_count = 300, sample_size = 4)]
    fn std_net(b: divan::Bencher) {
        let addr = server();
        b.bench_local(|| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            pingpong(&mut s, ROUNDS);
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 4)]
    fn cap_std(b: divan::Bencher) {
        let addr = server();
        let pool = cap_std_pool(addr);
        b.bench_local(|| {
            let mut s = pool.connect_tcp_stream(addr).unwrap();
            s.set_nodelay(true).unwrap();
            pingpong(&mut s, ROUNDS);
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 4)]
    fn cap_core(b: divan::Bencher) {
        let addr = server();
        let net = cap_core_net(addr);
        b.bench_local(|| {
            let mut s = net.connect_tcp(addr).unwrap();
            s.set_nodelay(true).unwrap();
            pingpong(&mut s, ROUNDS);
        });
    }
}

/// One message there and back on an open connection: the per-call cost of
/// the typed stream.
mod pingpong_open {
    use super::{cap_core_net, cap_std_pool, pingpong, server};

    #[divan::bench(sample_count = 300, sample_size = 32)]
    fn std_net(b: divan::Bencher) {
        let mut s = std::net::TcpStream::connect(server()).unwrap();
        s.set_nodelay(true).unwrap();
        b.bench_local(|| pingpong(&mut s, 1));
    }

    #[divan::bench(sample_count = 300, sample_size = 32)]
    fn cap_std(b: divan::Bencher) {
        let addr = server();
        let mut s = cap_std_pool(addr).connect_tcp_stream(addr).unwrap();
        s.set_nodelay(true).unwrap();
        b.bench_local(|| pingpong(&mut s, 1));
    }

    #[divan::bench(sample_count = 300, sample_size = 32)]
    fn cap_core(b: divan::Bencher) {
        let addr = server();
        let mut s = cap_core_net(addr).connect_tcp(addr).unwrap();
        s.set_nodelay(true).unwrap();
        b.bench_local(|| pingpong(&mut s, 1));
    }
}
