use cap_core::{
    net::{Net, UdpSocket},
    rights,
};

fn probe(net: &Net, socket: &UdpSocket<rights![Recv]>) {
    let _ = net.send_to(socket, b"ping", "127.0.0.1:9");
}

fn main() {}
