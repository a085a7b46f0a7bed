//! Options for [`Dir::open_with`](super::Dir::open_with).

use std::io;
use std::path::Path;

#[cfg(unix)]
use super::dir_builder::creation_mode;
use crate::rights::Rights;

/// How to open a file: like [`std::fs::OpenOptions`], except that the access
/// mode (read, write) is not an option: it follows the rights of the `File`
/// type asked for, so that a handle's type and its descriptor always agree.
///
/// | option | needs |
/// |---|---|
/// | `create`, `create_new` | `Create` on the directory |
/// | `truncate` | `Truncate` on the file |
/// | `append` | `Write` on the file |
/// | `mode` with set-uid, set-gid, sticky, group or other write bits | `SetMeta` on the directory |
///
/// Without `SetMeta` on the directory the default mode of a new file is
/// `0o644` (see [`SET_META_MODE_BITS`](super::SET_META_MODE_BITS)).
///
/// ```
/// # use cap_core::{fs::{Dir, File, OpenOptions}, rights, ambient_authority};
/// # let tmp = tempfile::tempdir().unwrap();
/// let dir = Dir::<rights![Lookup, Create, Write]>::open_ambient_dir(tmp.path(), ambient_authority())?;
/// let log: File<rights![Write]> = dir.open_with("log.txt", OpenOptions::new().create(true).append(true))?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    pub(crate) create: bool,
    pub(crate) create_new: bool,
    pub(crate) truncate: bool,
    pub(crate) append: bool,
    pub(crate) nofollow: bool,
    pub(crate) nonblock: bool,
    pub(crate) mode: Option<u32>,
}

impl OpenOptions {
    /// No creation, no truncation, following symlinks (beneath the directory).
    pub fn new() -> Self {
        Self::default()
    }

    /// Create the file if it does not exist (`O_CREAT`). See [`std::fs::OpenOptions::create`].
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// Create the file, failing if it exists (`O_CREAT | O_EXCL`). See
    /// [`std::fs::OpenOptions::create_new`].
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// Truncate the file to length 0 (`O_TRUNC`). See [`std::fs::OpenOptions::truncate`].
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// Write at the end of the file (`O_APPEND`). See [`std::fs::OpenOptions::append`].
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self
    }

    /// Refuse to follow a symlink in the last component (`O_NOFOLLOW`), as
    /// `cap_fs_ext::OpenOptionsFollowExt::follow(FollowSymlinks::No)`.
    pub fn nofollow(&mut self, nofollow: bool) -> &mut Self {
        self.nofollow = nofollow;
        self
    }

    /// Open without waiting (`O_NONBLOCK`): opening a FIFO or a device
    /// whose open would block returns at once. A program that walks a tree it
    /// does not trust opens with this and then checks
    /// [`File::metadata`](super::File::metadata) for a regular file, so a
    /// symlink to a FIFO cannot stall it. No effect on regular files.
    pub fn nonblock(&mut self, nonblock: bool) -> &mut Self {
        self.nonblock = nonblock;
        self
    }

    /// The permission bits of a file created by this open. See
    /// [`std::os::unix::fs::OpenOptionsExt::mode`]. Bits in
    /// [`SET_META_MODE_BITS`](super::SET_META_MODE_BITS) need `SetMeta` on the
    /// directory: without it the open is refused.
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// The rights these options need beyond the file's own: `Create` on the
    /// directory for `create`/`create_new`, `Truncate` and `Write` on the file.
    pub(crate) fn needs(&self) -> Rights {
        let mut need = Rights::LOOKUP;
        if self.create || self.create_new {
            need |= Rights::CREATE;
        }
        if self.truncate {
            need |= Rights::TRUNCATE;
        }
        if self.append || self.truncate {
            need |= Rights::WRITE;
        }
        need
    }

    /// The `cap_std` options for a file with `file_rights` beneath a
    /// directory with `dir_rights` (whose `SetMeta` decides the mode a created
    /// file may have), or the refusal naming `handle` and `path`.
    pub(crate) fn to_cap_std(
        &self,
        file_rights: Rights,
        dir_rights: Rights,
        handle: &Path,
        path: &Path,
    ) -> io::Result<cap_std::fs::OpenOptions> {
        use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
        #[cfg(unix)]
        use cap_std::fs::OpenOptionsExt;
        let mut o = cap_std::fs::OpenOptions::new();
        o.read(file_rights.contains(Rights::READ))
            .write(file_rights.contains(Rights::WRITE) && !self.append)
            .append(self.append)
            .create(self.create)
            .create_new(self.create_new)
            .truncate(self.truncate);
        if self.nofollow {
            o.follow(FollowSymlinks::No);
        }
        #[cfg(unix)]
        if self.nonblock {
            o.custom_flags(libc_o_nonblock());
        }
        // Unix permission bits; Windows has none to set (as with std's
        // unix-only `OpenOptionsExt::mode`).
        #[cfg(unix)]
        if (self.create || self.create_new)
            && let Some(mode) = creation_mode(self.mode, 0o666, dir_rights, handle, path)?
        {
            o.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = (dir_rights, handle, path);
        Ok(o)
    }
}

/// `O_NONBLOCK` for this platform, from rustix.
#[cfg(unix)]
fn libc_o_nonblock() -> i32 {
    i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).expect("O_NONBLOCK fits in an int")
}
