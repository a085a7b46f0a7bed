//! Filesystem handles: a capability-typed [`std::fs`].
//!
//! A [`Dir<R>`] is an open directory with the rights `R`; every path given to
//! it is resolved beneath it by `cap-std` (no `..` above it, no absolute paths,
//! no symlink that leads outside), and every method exists only where `R` has
//! the right the method needs. Files and directories opened from it get rights
//! derived from `R`, never more.
//!
//! Types that carry no authority are `cap-std`'s own: [`Metadata`],
//! [`Permissions`], [`FileType`]. [`DirBuilder`] is ambit's own, so that
//! the mode of a new directory follows the handle's `SetMeta`.

mod dir;
mod dir_builder;
mod error;
#[cfg(target_os = "linux")]
mod fast_path;
mod file;
mod in_place;
mod open_options;
mod origin;
mod read_dir;
mod temp;
mod walk;

/// `dev()`, `ino()`, `nlink()` of a [`Metadata`] where std has no unix
/// extension trait (cap-fs-ext's portable one).
#[cfg(not(unix))]
pub use cap_fs_ext::MetadataExt;
pub use cap_fs_ext::{AccessType, SystemTimeSpec};
pub use cap_std::fs::{FileType, Metadata, Permissions};
/// `mode()` and friends on [`Permissions`] and [`Metadata`], re-exported so
/// a program needs no direct cap-std dependency:
/// `use cap_core::fs::PermissionsExt; perms.mode()`.
#[cfg(unix)]
pub use cap_std::fs::{MetadataExt, PermissionsExt};
pub use cap_std::time::SystemTime;
pub use dir::Dir;
pub use dir_builder::{DirBuilder, SET_META_MODE_BITS};
pub use error::{PathError, raw_os_error};
pub use file::File;
pub use in_place::{InPlace, Rewrite};
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir};
pub use temp::{TempDir, TempFile};
pub use walk::{Walk, WalkEntry};

/// The origin of a file handle received from another process (its label),
/// for `cap_core::process`.
#[cfg(unix)]
pub(crate) fn origin_for_passing(label: &str) -> origin::Origin {
    let parent: std::sync::Arc<std::path::Path> = std::sync::Arc::from(std::path::Path::new(label));
    origin::Origin::new(&parent, std::path::Path::new(""))
}
#[cfg(target_os = "linux")]
pub(crate) use error::at;
