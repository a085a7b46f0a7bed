use std::net::Shutdown;

use cap_core::{net::TcpStream, rights};

fn close(stream: &TcpStream<rights![Read, Write]>) {
    let _ = stream.shutdown(Shutdown::Both);
}

fn main() {}
