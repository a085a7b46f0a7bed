//! Example programs written against ambit; each is a binary in `src/bin`:
//!
//! - `serve`: a static HTTP file server confined to its document root and its
//!   listening socket (`cargo run -p ambit-examples --bin serve`); the server
//!   itself is the [`serve`] module, so it can be benchmarked locked and
//!   unlocked;
//! - `upload`: an axum service that stores uploads in a write-only directory
//!   and lists a read-only one;
//! - `unpack`: extracts a tar archive into a directory it can only create and
//!   write in;
//! - `grep`: searches a tree it can only read.
//!
//! This library holds the parts of them that can be tested or benchmarked
//! without the sandbox.

pub mod http;
// The servers run on cap-core's async handles, which are unix-only for now.
#[cfg(unix)]
pub mod serve;
#[cfg(unix)]
pub mod upload;
