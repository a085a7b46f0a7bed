//! The ambient-authority token.
//!
//! A process starts with *ambient authority*: any code can name any path or
//! address. In ambit, the only functions that still take a name are the ones
//! that also take an [`AmbientAuthority`] token, so every place that reaches
//! the world by name is visible in the source (and found by `cargo cap-lint`).
//! Call [`ambient_authority()`] once, near `main`, to pre-open what the program
//! needs; after the sandbox is entered the kernel refuses such calls anyway.

pub use cap_std::{AmbientAuthority, ambient_authority};
