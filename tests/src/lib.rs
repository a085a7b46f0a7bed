//! Cross-crate tests of ambit, and the book's Rust blocks as doctests.

/// The book's chapters, compiled and run as doctests by `cargo test`.
pub mod book {
    #[doc = include_str!("../../book/src/handles-and-rights.md")]
    pub mod handles_and_rights {}
    #[doc = include_str!("../../book/src/cap-lint.md")]
    pub mod cap_lint {}
}
