//! `compress INPUT OUTPUT`: the system gzip run from a handle (see
//! `linux.rs`). It spawns gzip with `cap_core::process`, which
//! exists on Linux only (pidfds and a child sandbox built by the parent), so
//! elsewhere the program says so and exits 2.

#[cfg(target_os = "linux")]
mod linux;

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "compress: needs Linux (cap_core::process is Linux-only on {})",
        std::env::consts::OS
    );
    std::process::ExitCode::from(2)
}
