use cap_core::{net::TcpListener, rights};

fn serve(listener: &TcpListener<rights![Stat]>) {
    let _ = listener.accept();
}

fn main() {}
