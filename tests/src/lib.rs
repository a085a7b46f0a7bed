//! Cross-crate tests of ambit, and the book's Rust blocks as doctests.

pub mod differential;

/// The book's chapters, compiled and run as doctests by `cargo test`.
pub mod book {
    #[doc = include_str!("../../book/src/introduction.md")]
    pub mod introduction {}

    #[doc = include_str!("../../book/src/getting-started.md")]
    pub mod getting_started {}

    #[doc = include_str!("../../book/src/handles-and-rights.md")]
    pub mod handles_and_rights {}

    #[doc = include_str!("../../book/src/network.md")]
    pub mod network {}

    #[doc = include_str!("../../book/src/capability-mode.md")]
    pub mod capability_mode {}

    #[doc = include_str!("../../book/src/enforcement-matrix.md")]
    pub mod enforcement_matrix {}

    #[doc = include_str!("../../book/src/sandboxed.md")]
    pub mod sandboxed {}

    #[doc = include_str!("../../book/src/cap-lint.md")]
    pub mod cap_lint {}

    #[doc = include_str!("../../book/src/cheri.md")]
    pub mod cheri {}

    #[doc = include_str!("../../book/src/porting.md")]
    pub mod porting {}

    #[doc = include_str!("../../book/src/delegation.md")]
    pub mod delegation {}

    #[doc = include_str!("../../book/src/performance.md")]
    pub mod performance {}

    #[doc = include_str!("../../book/src/async-and-servers.md")]
    pub mod async_and_servers {}

    #[doc = include_str!("../../book/src/platforms.md")]
    pub mod platforms {}

    #[doc = include_str!("../../book/src/broker.md")]
    pub mod broker {}

    #[doc = include_str!("../../book/src/running-existing-programs.md")]
    pub mod running_existing_programs {}

    /// The README's fifteen-line example, run from the workspace root.
    #[doc = include_str!("../../README.md")]
    pub mod readme {}
}
