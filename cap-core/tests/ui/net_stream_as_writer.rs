use std::io::Write;

use cap_core::{net::TcpStream, rights::ReadStream};

fn respond(out: impl Write) {
    let _ = out;
}

fn main() {
    fn hand_on(stream: TcpStream<ReadStream>) {
        respond(stream);
    }
}
