use cap_core::{ambient_authority, net::TcpStream, rights};

fn main() {
    let stream =
        TcpStream::<rights![Read]>::connect_ambient("127.0.0.1:9", ambient_authority()).unwrap();
    // Giving up the typing would make a read-only stream writable: it takes the token.
    let _std: std::net::TcpStream = stream.into_std();
}
