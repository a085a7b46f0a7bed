//! A test helper for `ambit run`'s network options: makes one connection or
//! binding by name, as an unmodified program would, and says whether the
//! kernel allowed it.
//!
//! `ambit-net-probe tcp-connect HOST:PORT | tcp-bind HOST:PORT | unix-connect PATH`:
//! exit 0 and `ok` when the call succeeds, 1 and the error otherwise, 2 for
//! a usage error.

use std::process::ExitCode;

#[cap_core::ambient(
    reason = "a probe run inside `ambit run`'s sandbox: it reaches the network by name on purpose, to show what the kernel allows"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, target] = args.as_slice() else {
        eprintln!("usage: ambit-net-probe tcp-connect|tcp-bind|unix-connect TARGET");
        return ExitCode::from(2);
    };
    let result = match op.as_str() {
        "tcp-connect" => std::net::TcpStream::connect(target.as_str()).map(drop),
        "tcp-bind" => std::net::TcpListener::bind(target.as_str()).map(drop),
        #[cfg(unix)]
        "unix-connect" => std::os::unix::net::UnixStream::connect(target).map(drop),
        _ => {
            eprintln!("ambit-net-probe: unknown operation `{op}`");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ambit-net-probe: {op} {target}: {e}");
            ExitCode::from(1)
        }
    }
}
