//! Filesystem handles: a capability-typed [`std::fs`].
//!
//! A [`Dir<R>`] is an open directory with the rights `R`; every path given to
//! it is resolved beneath it by `cap-std` (no `..` above it, no absolute paths,
//! no symlink that leads outside), and every method exists only where `R` has
//! the right the method needs. Files and directories opened from it get rights
//! derived from `R`, never more.
//!
//! Types that carry no authority are `cap-std`'s own: [`Metadata`],
//! [`Permissions`], [`FileType`], [`DirBuilder`].

mod dir;
mod error;
#[cfg(target_os = "linux")]
mod fast_path;
mod file;
mod open_options;
mod origin;
mod read_dir;

pub use cap_fs_ext::{AccessType, SystemTimeSpec};
pub use cap_std::fs::{DirBuilder, FileType, Metadata, Permissions};
pub use cap_std::time::SystemTime;
pub use dir::Dir;
pub use error::{PathError, raw_os_error};
pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir};
