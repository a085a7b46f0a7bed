//! Typed temporary files and directories beneath a [`Dir`]: the
//! capability form of `tempfile::tempfile_in`/`tempdir_in`.
//!
//! cap-tempfile's `TempFile` makes an unnamed `O_TMPFILE` file and names it
//! through `/proc/self/fd` when it is kept; inside the sandbox that link
//! fails (`EOPNOTSUPP` under Landlock), so a temporary file here always has
//! a random name (`O_CREAT | O_EXCL`), removed on drop, renamed on replace.
//!
//! Nothing here names a path outside the directory handle: the file or
//! directory is created beneath it, with a random name, and removed beneath
//! it. The rights are checked at compile time: a temporary file needs
//! `Create` and `Write`, replacing a file with it `Rename` as well; a
//! temporary directory `Lookup`, `Create` and `Remove`.

use std::fmt;
use std::io::{self, Read, Seek, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fs::Dir;
use crate::rights::{HasCreate, HasLookup, HasRemove, HasRename, HasWrite, RightSet, Rights};

/// A temporary file beneath a directory: written, then either given a name
/// with [`TempFile::replace`] (atomically, over any file of that name) or
/// removed when dropped. See [`Dir::temp_file`].
pub struct TempFile<'d, R: RightSet> {
    file: cap_std::fs::File,
    dir: &'d Dir<R>,
    /// The random name; `None` once renamed into place.
    name: Option<PathBuf>,
}

impl<R: RightSet> fmt::Debug for TempFile<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempFile")
            .field("dir", &self.dir.origin())
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> TempFile<'_, R> {
    /// Gives the file the name `name` beneath its directory, replacing any
    /// file of that name atomically (a rename). Corresponds to
    /// `cap_tempfile::TempFile::replace`; the temporary file is removed if
    /// it fails.
    pub fn replace(mut self, name: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasRename,
    {
        let target = name.as_ref();
        // `Dynamic` handles meet every bound: check the run-time rights.
        self.dir
            .need(Rights::LOOKUP | Rights::RENAME)
            .map_err(|e| {
                io::Error::new(e.kind(), format!("replace `{}`: {e}", target.display()))
            })?;
        let origin = self.dir.origin().join(target);
        let Some(temp) = self.name.take() else {
            unreachable!("a TempFile has its name until replace consumes it")
        };
        let inner = self.dir.as_cap_std();
        inner.rename(&temp, inner, target).map_err(|e| {
            // Put the name back so that drop removes the temporary file.
            self.name = Some(temp);
            io::Error::new(e.kind(), format!("{}: {e}", origin.display()))
        })
    }

    /// The file's metadata (`fstat`).
    pub fn metadata(&self) -> io::Result<crate::fs::Metadata> {
        self.file.metadata()
    }
}

impl<R: RightSet> Drop for TempFile<'_, R> {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = self.dir.as_cap_std().remove_file(name);
        }
    }
}

impl<R: RightSet> Write for TempFile<'_, R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl<R: RightSet> Read for TempFile<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl<R: RightSet> Seek for TempFile<'_, R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// A temporary directory beneath a directory, with the parent's rights;
/// removed with everything in it when dropped (or by [`TempDir::close`],
/// which reports errors). Dereferences to its [`Dir`]. See
/// [`Dir::temp_dir`].
pub struct TempDir<R: RightSet + HasRemove> {
    dir: Option<Dir<R>>,
    parent: cap_std::fs::Dir,
    name: PathBuf,
}

impl<R: RightSet + HasRemove> fmt::Debug for TempDir<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TempDir").field(&self.dir).finish()
    }
}

impl<R: RightSet + HasRemove> Deref for TempDir<R> {
    type Target = Dir<R>;
    fn deref(&self) -> &Dir<R> {
        self.dir.as_ref().expect("present until dropped")
    }
}

impl<R: RightSet + HasRemove> TempDir<R> {
    /// Removes the directory and everything in it, reporting what failed.
    pub fn close(mut self) -> io::Result<()> {
        self.dir.take();
        self.parent.remove_dir_all(&self.name)
    }

    /// Keeps the directory: it is not removed, and the handle is returned.
    pub fn into_dir(mut self) -> Dir<R> {
        let dir = self.dir.take().expect("present until dropped");
        self.name = PathBuf::new();
        dir
    }
}

impl<R: RightSet + HasRemove> Drop for TempDir<R> {
    fn drop(&mut self) {
        if self.dir.take().is_some() && !self.name.as_os_str().is_empty() {
            let _ = self.parent.remove_dir_all(&self.name);
        }
    }
}

/// A name no one else is likely to have chosen: the process id, the time
/// and a counter, mixed by the standard library's random hasher.
fn random_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    format!(".tmp-{:016x}", h.finish())
}

impl<R: RightSet> Dir<R> {
    /// A new temporary file beneath this directory under a random name
    /// (mode 0600; needs `Lookup`, `Create` and `Write`), removed when dropped unless given a name by
    /// [`TempFile::replace`]. Corresponds to `tempfile::NamedTempFile::new_in`
    /// / `cap_tempfile::TempFile::new`.
    pub fn temp_file(&self) -> io::Result<TempFile<'_, R>>
    where
        R: HasLookup + HasCreate + HasWrite,
    {
        self.need(Rights::LOOKUP | Rights::CREATE | Rights::WRITE)?;
        let mut options = cap_std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        cap_std::fs::OpenOptionsExt::mode(&mut options, 0o600);
        for _ in 0..64 {
            let name = PathBuf::from(random_name());
            match self.as_cap_std().open_with(&name, &options) {
                Ok(file) => {
                    return Ok(TempFile {
                        file,
                        dir: self,
                        name: Some(name),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("temporary file in {self}: {e}"),
                    ));
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("temporary file in {self}: no free name after 64 tries"),
        ))
    }

    /// A new directory beneath this one (mode 0700; needs `Lookup`,
    /// `Create` and `Remove`), with a random name and this handle's rights, removed with its contents when dropped. Corresponds
    /// to `tempfile::tempdir_in` / `cap_tempfile::TempDir::new_in`.
    pub fn temp_dir(&self) -> io::Result<TempDir<R>>
    where
        R: HasLookup + HasCreate + HasRemove,
    {
        self.need(Rights::LOOKUP | Rights::CREATE | Rights::REMOVE)?;
        let parent = self.as_cap_std().try_clone()?;
        // Private to this process's user whatever the umask (and never the
        // group/other-writable modes that need SetMeta).
        #[cfg_attr(not(unix), allow(unused_mut))]
        let mut builder = cap_std::fs::DirBuilder::new();
        #[cfg(unix)]
        cap_std::fs::DirBuilderExt::mode(&mut builder, 0o700);
        for _ in 0..64 {
            let name = PathBuf::from(random_name());
            match parent.create_dir_with(&name, &builder) {
                Ok(()) => {
                    let inner = match parent.open_dir(&name) {
                        Ok(inner) => inner,
                        Err(e) => {
                            let _ = parent.remove_dir(&name);
                            return Err(e);
                        }
                    };
                    let origin: Arc<Path> = Arc::from(self.origin().join(&name));
                    let dir = Dir::from_parts(inner, self.rights(), origin);
                    return Ok(TempDir {
                        dir: Some(dir),
                        parent,
                        name,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("temporary directory in {self}: {e}"),
                    ));
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("temporary directory in {self}: no free name after 64 tries"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use crate::fs::Dir;
    use crate::rights::ReadWrite;
    use crate::{ambient_authority, rights};

    #[test]
    fn a_temp_file_replaces_atomically_or_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("config"), "old").unwrap();
        let dir = Dir::<ReadWrite>::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        let mut file = dir.temp_file().unwrap();
        file.write_all(b"new").unwrap();
        file.replace("config").unwrap();
        assert_eq!(dir.read_to_string("config").unwrap(), "new");
        let mut dropped = dir.temp_file().unwrap();
        dropped.write_all(b"lost").unwrap();
        drop(dropped);
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a dropped temporary file leaves nothing");
        // Replacing cannot escape the directory.
        let mut escape = dir.temp_file().unwrap();
        escape.write_all(b"x").unwrap();
        assert!(escape.replace("../escaped").is_err());
        assert!(!tmp.path().parent().unwrap().join("escaped").exists());
    }

    #[test]
    #[cfg(unix)]
    fn dynamic_handles_are_checked_at_run_time() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("victim"), "safe").unwrap();
        let read_only =
            Dir::<crate::rights::ReadOnly>::open_ambient_dir(tmp.path(), ambient_authority())
                .unwrap()
                .into_dynamic();
        let err = read_only.temp_file().unwrap_err();
        assert!(err.to_string().contains("Create"), "{err}");
        assert!(read_only.temp_dir().is_err());
        // Create + Write but no Rename: a temp file, but no replacing.
        let no_rename = Dir::<rights![Lookup, Create, Write]>::open_ambient_dir(
            tmp.path(),
            ambient_authority(),
        )
        .unwrap()
        .into_dynamic();
        let mut file = no_rename.temp_file().unwrap();
        file.write_all(b"pwned").unwrap();
        let err = file.replace("victim").unwrap_err();
        assert!(err.to_string().contains("Rename"), "{err}");
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("victim")).unwrap(),
            "safe"
        );
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "the temporary file is gone"
        );
        // A temporary directory is private, whatever the umask.
        let dir = Dir::<ReadWrite>::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        let scratch = dir.temp_dir().unwrap();
        let mode = std::fs::metadata(scratch.origin())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_temp_dir_has_the_parent_rights_and_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::<rights![Lookup, Create, Remove, Write, Truncate]>::open_ambient_dir(
            tmp.path(),
            ambient_authority(),
        )
        .unwrap();
        let scratch = dir.temp_dir().unwrap();
        scratch.write("a.txt", "a").unwrap();
        assert!(scratch.origin().starts_with(tmp.path()));
        let path = scratch.origin().to_path_buf();
        assert!(path.join("a.txt").exists());
        drop(scratch);
        assert!(!path.exists(), "removed with its contents");
        let kept = dir.temp_dir().unwrap().into_dir();
        assert!(kept.origin().exists());
    }
}
