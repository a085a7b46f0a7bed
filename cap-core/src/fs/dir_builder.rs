//! Options for [`Dir::create_dir_with`](super::Dir::create_dir_with), and the
//! rule for the permission bits of anything a handle creates.

use std::io;
use std::path::Path;

use crate::rights::Rights;

/// The permission bits only a directory with `SetMeta` may choose for what it
/// creates: set-uid, set-gid, sticky, group write and other write. The mode
/// given at creation is not mediated by any kernel mechanism ambit uses (nor
/// is `umask`), so the types hold the line: without `SetMeta` an explicit mode
/// with one of these bits is refused, and the default mode is masked with
/// them (as a `umask` of `022` would).
pub const SET_META_MODE_BITS: u32 = 0o7022;

/// The mode to create with beneath a directory with `dir_rights`: `None`
/// keeps the platform default (only with `SetMeta`), an error names the
/// handle, the path and the bits that need `SetMeta`.
pub(crate) fn creation_mode(
    requested: Option<u32>,
    default: u32,
    dir_rights: Rights,
    handle: &Path,
    path: &Path,
) -> io::Result<Option<u32>> {
    if dir_rights.contains(Rights::SET_META) {
        return Ok(requested);
    }
    match requested {
        Some(mode) if mode & SET_META_MODE_BITS != 0 => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "create `{}` beneath `{}` with mode {mode:#o}: the bits {:#o} (set-uid, set-gid, sticky, group or other write) need the right SetMeta, which the handle does not have (it has {dir_rights})",
                path.display(),
                handle.display(),
                mode & SET_META_MODE_BITS
            ),
        )),
        Some(mode) => Ok(Some(mode)),
        None => Ok(Some(default & !SET_META_MODE_BITS)),
    }
}

/// How to create a directory: like [`std::fs::DirBuilder`] (recursive,
/// mode), used with [`Dir::create_dir_with`](super::Dir::create_dir_with).
///
/// Without `SetMeta` on the directory, a mode with set-uid, set-gid, sticky or
/// group/other write bits is refused and the default mode is `0o755`: see
/// [`SET_META_MODE_BITS`].
///
/// ```
/// # use cap_core::{fs::{Dir, DirBuilder}, rights, ambient_authority};
/// # let tmp = tempfile::tempdir().unwrap();
/// let dir = Dir::<rights![Lookup, Create]>::open_ambient_dir(tmp.path(), ambient_authority())?;
/// dir.create_dir_with("a/b", DirBuilder::new().recursive(true).mode(0o750))?;
/// assert!(dir.create_dir_with("c", DirBuilder::new().mode(0o1777)).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
    mode: Option<u32>,
}

impl DirBuilder {
    /// Not recursive, the default mode. See [`std::fs::DirBuilder::new`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Create missing parents too. See [`std::fs::DirBuilder::recursive`].
    pub fn recursive(&mut self, recursive: bool) -> &mut Self {
        self.recursive = recursive;
        self
    }

    /// The permission bits of the directories created. See
    /// [`std::os::unix::fs::DirBuilderExt::mode`].
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// Whether missing parents are created.
    pub fn is_recursive(&self) -> bool {
        self.recursive
    }

    /// The `cap_std` builder for a directory with `dir_rights`, or the refusal.
    pub(crate) fn to_cap_std(
        &self,
        dir_rights: Rights,
        handle: &Path,
        path: &Path,
    ) -> io::Result<cap_std::fs::DirBuilder> {
        let mut b = cap_std::fs::DirBuilder::new();
        b.recursive(self.recursive);
        if let Some(mode) = creation_mode(self.mode, 0o777, dir_rights, handle, path)? {
            #[cfg(unix)]
            cap_std::fs::DirBuilderExt::mode(&mut b, mode);
            #[cfg(not(unix))]
            let _ = mode;
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_set_meta_special_bits_are_refused_and_defaults_masked() {
        let (h, p) = (Path::new("/srv/h"), Path::new("x"));
        let no = Rights::LOOKUP | Rights::CREATE;
        let err = creation_mode(Some(0o4755), 0o666, no, h, p).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let msg = err.to_string();
        assert!(
            msg.contains("`x`") && msg.contains("`/srv/h`") && msg.contains("SetMeta"),
            "{msg}"
        );
        for bad in [0o2700, 0o1700, 0o620, 0o602, 0o7777] {
            assert!(
                creation_mode(Some(bad), 0o666, no, h, p).is_err(),
                "{bad:o}"
            );
        }
        assert_eq!(
            creation_mode(Some(0o750), 0o666, no, h, p).unwrap(),
            Some(0o750)
        );
        assert_eq!(creation_mode(None, 0o666, no, h, p).unwrap(), Some(0o644));
        assert_eq!(creation_mode(None, 0o777, no, h, p).unwrap(), Some(0o755));
        let yes = no | Rights::SET_META;
        assert_eq!(
            creation_mode(Some(0o7777), 0o666, yes, h, p).unwrap(),
            Some(0o7777)
        );
        assert_eq!(creation_mode(None, 0o666, yes, h, p).unwrap(), None);
    }
}
