//! `serve`: the static file server (see `imp.rs`). It runs on cap-core's async
//! handles, which are unix-only for now; elsewhere it says so and exits 2.

#[cfg(unix)]
mod imp;

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    imp::main()
}

#[cfg(not(unix))]
fn main() {
    eprintln!(
        "serve: needs a unix (cap-core's async handles are unix-only on {})",
        std::env::consts::OS
    );
    std::process::exit(2);
}
