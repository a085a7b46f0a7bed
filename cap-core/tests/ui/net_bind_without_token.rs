use cap_core::net::{Net, TcpListener};

fn main() {
    // Binding by name needs the ambient token; so does building a grant.
    let _ = TcpListener::<cap_core::rights::Listener>::bind_ambient("127.0.0.1:0");
    let _ = Net::builder();
}
