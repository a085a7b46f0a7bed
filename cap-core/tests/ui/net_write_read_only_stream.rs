use std::io::Write;

use cap_core::{net::TcpStream, rights::ReadStream};

fn reply(mut stream: TcpStream<ReadStream>) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
}

fn main() {}
