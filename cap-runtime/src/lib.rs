//! `cap-runtime`: locks the process into the operating system's capability
//! mode, with a policy derived from the handles it holds.
//!
//! This crate knows file descriptors and rights masks, never `cap-core`'s typed
//! handles: `cap-core` turns its handles into a policy and asks this crate to
//! enforce it.

pub mod rights;

pub use rights::Rights;
