//! Async filesystem handles: a capability-typed [`tokio::fs`](::tokio::fs).
//!
//! Get a [`Dir`] from a sync [`crate::fs::Dir`] (`Dir::from(sync)`) and a
//! [`File`] from a sync [`crate::fs::File`] or from an async `Dir`. Types that
//! carry no authority are `cap-std`'s own, re-exported by [`crate::fs`].

mod dir;
mod file;
mod read_dir;

pub use crate::fs::{FileType, Metadata, OpenOptions, Permissions};
pub use dir::Dir;
pub use file::File;
pub use read_dir::{DirEntry, ReadDir};
