//! `cap-runtime`: locks the process into the operating system's capability
//! mode, with a policy derived from the handles it holds.
//!
//! This crate knows file descriptors and rights masks, never `cap-core`'s typed
//! handles: `cap-core` turns its handles into a [`Policy`] and asks this crate
//! to enforce it with [`enter`].

pub mod policy;
pub mod rights;

pub use policy::{Entry, EntryKind, NetGrant, Policy, SocketKind};
pub use rights::Rights;

/// How strictly to enter capability mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Fail unless every right the policy needs is enforced by the kernel.
    #[default]
    Strict,
    /// Apply what the kernel supports and report every gap.
    BestEffort,
}
