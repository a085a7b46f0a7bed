//! The escape corpus's helper binary (Linux only; elsewhere it does nothing).
//! See `linux.rs`.

#[cfg(target_os = "linux")]
mod linux;

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
}
