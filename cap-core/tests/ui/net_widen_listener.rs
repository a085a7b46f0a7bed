use cap_core::{net::TcpListener, rights};

fn widen(listener: TcpListener) -> TcpListener<rights![Accept]> {
    // Narrowing first, then trying to get `Accept` back.
    let stat_only: TcpListener<rights![Stat]> = listener.narrow();
    stat_only.narrow::<rights![Accept]>()
}

fn main() {}
