//! Example programs written against ambit; each is a binary in `src/bin`:
//!
//! - `serve`: a static HTTP file server confined to its document root and its
//!   listening socket (`cargo run -p ambit-examples --bin serve`);
//! - `unpack`: extracts a tar archive into a directory it can only create and
//!   write in;
//! - `grep`: searches a tree it can only read.
//!
//! This library holds the parts of them that touch neither the filesystem
//! nor the network, so they can be unit-tested.

pub mod http;
