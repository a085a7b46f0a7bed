//! [`InPlace`]: a file given on the command line that the program rewrites
//! in place, held as its directory and its name.
//!
//! Rewriting a file safely (never a half-written file, even if the program
//! dies) means writing a temporary file beside it and renaming it over the
//! original, which needs authority over the *directory*. An `InPlace<R>`
//! holds exactly that directory with the rights `R` and one name in it; its
//! methods touch only that name (and the temporary file beside it). The
//! kernel cannot narrow a directory rule to one name: Landlock grants `R`
//! on the whole directory, which the report shows, so keep `R` as small as
//! the rewrite needs: `rights![Lookup, Read, Create, Write, Rename, Remove]`
//! ([`Rewrite`]).

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::fs::{Dir, File};
use crate::rights::{HasCreate, HasLookup, HasRead, HasRemove, HasRename, HasWrite, RightSet};
use crate::{AmbientAuthority, rights};

/// The rights a rewrite in place needs on the file's directory: read the
/// file, write a temporary file beside it, rename it over the original,
/// remove the temporary file if the rewrite fails.
pub type Rewrite = rights![Lookup, Read, Create, Write, Rename, Remove];

/// A file held through its directory, for rewriting in place. See the
/// module docs.
pub struct InPlace<R: RightSet> {
    dir: Dir<R>,
    name: PathBuf,
}

impl<R: RightSet> fmt::Debug for InPlace<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InPlace")
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> InPlace<R> {
    /// Opens the directory of the file at `path` with the rights `R`, using
    /// ambient authority; the file must exist and be a regular file.
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may access any path that the host
    /// process has access to.
    pub fn open_ambient(path: impl AsRef<Path>, ambient: AmbientAuthority) -> io::Result<Self> {
        let path = path.as_ref();
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: a file to rewrite must end in a file name",
                    path.display()
                ),
            )
        })?;
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = Dir::<R>::open_ambient_dir(parent, ambient)?;
        let meta = dir
            .as_cap_std()
            .symlink_metadata(name)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a regular file", path.display()),
            ));
        }
        Ok(Self {
            dir,
            name: PathBuf::from(name),
        })
    }

    /// The file's path as it was given (for messages).
    pub fn path(&self) -> PathBuf {
        self.dir.origin().join(&self.name)
    }

    /// The file's name in its directory.
    pub fn name(&self) -> &OsStr {
        self.name.as_os_str()
    }

    /// The directory handle (what the policy grants).
    pub fn dir(&self) -> &Dir<R> {
        &self.dir
    }

    /// Opens the file for reading. See [`Dir::open`].
    pub fn open(&self) -> io::Result<File<R::Reader>>
    where
        R: HasLookup + HasRead,
    {
        self.dir.open(&self.name)
    }

    /// The whole file. See [`Dir::read`].
    pub fn read(&self) -> io::Result<Vec<u8>>
    where
        R: HasLookup + HasRead,
    {
        self.dir.read(&self.name)
    }

    /// The whole file as UTF-8. See [`Dir::read_to_string`].
    pub fn read_to_string(&self) -> io::Result<String>
    where
        R: HasLookup + HasRead,
    {
        self.dir.read_to_string(&self.name)
    }

    /// Replaces the file's contents atomically: writes a temporary file
    /// beside it and renames it over the file. Readers see the old contents
    /// or the new ones, never a mix; on failure the file is unchanged and
    /// the temporary file is removed.
    pub fn replace(&self, contents: impl AsRef<[u8]>) -> io::Result<()>
    where
        R: HasLookup + HasCreate + HasWrite + HasRename + HasRemove,
    {
        let mut temp = self.dir.temp_file()?;
        io::Write::write_all(&mut temp, contents.as_ref())?;
        temp.replace(&self.name)
    }
}

impl<R: RightSet> crate::sandbox::Grant for InPlace<R> {
    fn grant<'a>(&'a self, policy: &mut crate::sandbox::Policy<'a>) {
        self.dir.grant(policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ambient_authority;

    #[test]
    fn replaces_only_its_own_name() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "old").unwrap();
        std::fs::write(tmp.path().join("other.txt"), "other").unwrap();
        let file =
            InPlace::<Rewrite>::open_ambient(tmp.path().join("notes.txt"), ambient_authority())
                .unwrap();
        assert_eq!(file.read_to_string().unwrap(), "old");
        file.replace("new").unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("other.txt")).unwrap(),
            "other"
        );
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            2,
            "no temporary file left"
        );
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let tmp = tempfile::tempdir().unwrap();
        let err = InPlace::<Rewrite>::open_ambient(tmp.path(), ambient_authority()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = InPlace::<Rewrite>::open_ambient(tmp.path().join("missing"), ambient_authority())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
