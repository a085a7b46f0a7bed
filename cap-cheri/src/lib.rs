//! `cap-cheri`: CHERI provenance types (in progress: representability model first).
pub mod concentrate;
pub mod perms;
