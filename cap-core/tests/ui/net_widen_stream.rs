use cap_core::{
    net::TcpStream,
    rights::{ReadStream, Stream},
};

fn widen(stream: TcpStream<ReadStream>) -> TcpStream<Stream> {
    stream.narrow::<Stream>()
}

fn main() {}
