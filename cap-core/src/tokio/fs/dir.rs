//! [`Dir<R>`]: an async directory handle with the rights `R`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{File, Metadata, OpenOptions, Permissions, ReadDir};
use crate::fs as sync;
use crate::rights::{
    HasCreate, HasLookup, HasRead, HasRemove, HasRename, HasSetMeta, HasStat, HasSymlink,
    HasTruncate, HasWrite, RightSet, Rights, SubsetOf,
};
use crate::tokio::blocking;

/// An open directory with the rights `R`, like [`tokio::fs`](::tokio::fs)'s free
/// functions but relative to a held directory: every path is resolved beneath
/// it by `cap-std`, and each method exists only where `R` has the rights it
/// needs (the same bounds as the sync [`crate::fs::Dir`], whose method each
/// one runs on tokio's blocking pool).
///
/// Cloning is cheap and shares the descriptor, so a `Dir` can be handed to
/// many tasks (an axum state, a hyper service) without `Arc` or
/// `spawn_blocking` in user code.
///
/// ```
/// use cap_core::{ambient_authority, rights};
/// # let tmp = tempfile::tempdir()?;
/// let sync = cap_core::fs::Dir::<rights![Lookup, Create, Write, Truncate]>::open_ambient_dir(tmp.path(), ambient_authority())?;
/// # let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// let out = cap_core::tokio::fs::Dir::from(sync);
/// out.write("report.txt", "done").await?;
/// // out.read("report.txt") does not compile: the type has no `Read`.
/// # Ok::<(), std::io::Error>(()) })?;
/// # assert_eq!(std::fs::read_to_string(tmp.path().join("report.txt"))?, "done");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A method whose right the type lacks does not compile:
///
/// ```compile_fail
/// # use cap_core::rights::WriteOnly;
/// async fn peek(out: &cap_core::tokio::fs::Dir<WriteOnly>) {
///     out.read("report.txt").await; // no `Read` in WriteOnly
/// }
/// ```
pub struct Dir<R: RightSet> {
    inner: Arc<sync::Dir<R>>,
}

impl<R: RightSet> Clone for Dir<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R: RightSet> fmt::Debug for Dir<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("tokio::fs::Dir").field(&self.inner).finish()
    }
}

/// The async face of a sync directory: same descriptor, same rights, no token.
impl<R: RightSet> From<sync::Dir<R>> for Dir<R> {
    fn from(dir: sync::Dir<R>) -> Self {
        Self {
            inner: Arc::new(dir),
        }
    }
}

impl<R: RightSet> Dir<R> {
    /// The rights of this handle, as a mask.
    pub fn rights(&self) -> Rights {
        self.inner.rights()
    }

    /// The path this handle was opened from, for messages and reports only.
    pub fn origin(&self) -> &Path {
        self.inner.origin()
    }

    /// The sync handle behind this one (the same descriptor). Blocking calls
    /// on it block the calling task; use it from `spawn_blocking` or for
    /// cheap calls.
    pub fn as_sync(&self) -> &sync::Dir<R> {
        &self.inner
    }

    /// Back to a sync handle with the same rights: the handle itself if this
    /// is the last clone, else a duplicate of the descriptor.
    pub fn into_sync(self) -> io::Result<sync::Dir<R>> {
        match Arc::try_unwrap(self.inner) {
            Ok(dir) => Ok(dir),
            Err(shared) => shared.try_clone(),
        }
    }

    /// Gives up rights: the same directory with the rights `S`, a subset of
    /// `R` (a wider `S` does not compile). Duplicates the descriptor when
    /// other clones of this handle exist, which is why it can fail.
    pub fn narrow<S: SubsetOf<R>>(self) -> io::Result<Dir<S>> {
        Ok(Dir::from(self.into_sync()?.narrow::<S>()))
    }

    /// Opens a file for reading. Needs `Lookup` and `Read`. See
    /// [`tokio::fs::File::open`](::tokio::fs::File::open) and [`crate::fs::Dir::open`].
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File<R::Reader>>
    where
        R: HasLookup + HasRead,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.open(path)).await.map(File::from)
    }

    /// Opens a file with the rights `S` and `options`. See
    /// [`crate::fs::Dir::open_with`] for the rights it needs.
    pub async fn open_with<S>(
        &self,
        path: impl AsRef<Path>,
        options: &OpenOptions,
    ) -> io::Result<File<S>>
    where
        R: HasLookup,
        S: SubsetOf<R::FileRights>,
    {
        let (dir, path) = self.with(path);
        let options = options.clone();
        blocking(move || dir.open_with::<S>(path, &options))
            .await
            .map(File::from)
    }

    /// Creates (or truncates) a file for writing. Needs `Lookup`, `Create`,
    /// `Write` and `Truncate`. See [`tokio::fs::File::create`](::tokio::fs::File::create).
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<File<R::Writer>>
    where
        R: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.create(path)).await.map(File::from)
    }

    /// Opens a subdirectory with the same rights. Needs `Lookup`.
    pub async fn open_dir(&self, path: impl AsRef<Path>) -> io::Result<Dir<R>>
    where
        R: HasLookup,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.open_dir(path)).await.map(Dir::from)
    }

    /// Creates a directory. Needs `Lookup` and `Create`. See
    /// [`tokio::fs::create_dir`](::tokio::fs::create_dir).
    pub async fn create_dir(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasCreate,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.create_dir(path)).await
    }

    /// Creates a directory and its missing parents. Needs `Lookup` and
    /// `Create`. See [`tokio::fs::create_dir_all`](::tokio::fs::create_dir_all).
    pub async fn create_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasCreate,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.create_dir_all(path)).await
    }

    /// Reads a whole file. Needs `Lookup` and `Read`. See
    /// [`tokio::fs::read`](::tokio::fs::read).
    pub async fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>>
    where
        R: HasLookup + HasRead,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.read(path)).await
    }

    /// Reads a whole file as UTF-8. Needs `Lookup` and `Read`. See
    /// [`tokio::fs::read_to_string`](::tokio::fs::read_to_string).
    pub async fn read_to_string(&self, path: impl AsRef<Path>) -> io::Result<String>
    where
        R: HasLookup + HasRead,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.read_to_string(path)).await
    }

    /// Writes a whole file, creating or truncating it. Needs `Lookup`,
    /// `Create`, `Write` and `Truncate`. See [`tokio::fs::write`](::tokio::fs::write).
    pub async fn write(&self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()>
    where
        R: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        let (dir, path) = self.with(path);
        let contents = contents.as_ref().to_owned();
        blocking(move || dir.write(path, contents)).await
    }

    /// Metadata, following symlinks (which must stay beneath). Needs `Lookup`
    /// and `Stat`. See [`tokio::fs::metadata`](::tokio::fs::metadata).
    pub async fn metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata>
    where
        R: HasLookup + HasStat,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.metadata(path)).await
    }

    /// Metadata, not following a final symlink. Needs `Lookup` and `Stat`.
    /// See [`tokio::fs::symlink_metadata`](::tokio::fs::symlink_metadata).
    pub async fn symlink_metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata>
    where
        R: HasLookup + HasStat,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.symlink_metadata(path)).await
    }

    /// Whether `path` exists (an error when that cannot be told). Needs
    /// `Lookup` and `Stat`. See [`tokio::fs::try_exists`](::tokio::fs::try_exists).
    pub async fn try_exists(&self, path: impl AsRef<Path>) -> io::Result<bool>
    where
        R: HasLookup + HasStat,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.try_exists(path)).await
    }

    /// The entries of this directory, as a stream. Needs `Read`.
    pub async fn entries(&self) -> io::Result<ReadDir<R>>
    where
        R: HasRead,
    {
        let dir = Arc::clone(&self.inner);
        blocking(move || dir.entries().map(ReadDir::new)).await
    }

    /// The entries of the subdirectory `path`, as a stream. Needs `Lookup`
    /// and `Read`. See [`tokio::fs::read_dir`](::tokio::fs::read_dir).
    pub async fn read_dir(&self, path: impl AsRef<Path>) -> io::Result<ReadDir<R>>
    where
        R: HasLookup + HasRead,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.read_dir(path).map(ReadDir::new)).await
    }

    /// Reads a symlink's target, which must stay beneath. Needs `Lookup` and
    /// `Stat`. See [`tokio::fs::read_link`](::tokio::fs::read_link).
    pub async fn read_link(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>
    where
        R: HasLookup + HasStat,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.read_link(path)).await
    }

    /// The path beneath this directory that `path` resolves to. Needs
    /// `Lookup` and `Stat`. See [`tokio::fs::canonicalize`](::tokio::fs::canonicalize).
    pub async fn canonicalize(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>
    where
        R: HasLookup + HasStat,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.canonicalize(path)).await
    }

    /// Removes a file. Needs `Lookup` and `Remove`. See
    /// [`tokio::fs::remove_file`](::tokio::fs::remove_file).
    pub async fn remove_file(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasRemove,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.remove_file(path)).await
    }

    /// Removes an empty directory. Needs `Lookup` and `Remove`. See
    /// [`tokio::fs::remove_dir`](::tokio::fs::remove_dir).
    pub async fn remove_dir(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasRemove,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.remove_dir(path)).await
    }

    /// Removes a directory and everything beneath it. Needs `Lookup`, `Read`
    /// and `Remove`. See [`tokio::fs::remove_dir_all`](::tokio::fs::remove_dir_all).
    pub async fn remove_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasRead + HasRemove,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.remove_dir_all(path)).await
    }

    /// Renames `from` beneath this directory to `to` beneath `to_dir`. Both
    /// need `Lookup` and `Rename`. See [`tokio::fs::rename`](::tokio::fs::rename).
    pub async fn rename<T>(
        &self,
        from: impl AsRef<Path>,
        to_dir: &Dir<T>,
        to: impl AsRef<Path>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasRename,
        T: HasLookup + HasRename,
    {
        let (dir, from) = self.with(from);
        let (to_dir, to) = to_dir.with(to);
        blocking(move || dir.rename(from, &to_dir, to)).await
    }

    /// Copies `from` beneath this directory to `to` beneath `to_dir`. This
    /// directory needs `Lookup` and `Read`; `to_dir` needs `Lookup`, `Create`,
    /// `Write` and `Truncate`. See [`tokio::fs::copy`](::tokio::fs::copy).
    pub async fn copy<T>(
        &self,
        from: impl AsRef<Path>,
        to_dir: &Dir<T>,
        to: impl AsRef<Path>,
    ) -> io::Result<u64>
    where
        R: HasLookup + HasRead,
        T: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        let (dir, from) = self.with(from);
        let (to_dir, to) = to_dir.with(to);
        blocking(move || dir.copy(from, &to_dir, to)).await
    }

    /// Makes `dst` beneath `dst_dir` a hard link to `src` beneath this
    /// directory. Both need `Lookup` and `Rename`. See
    /// [`tokio::fs::hard_link`](::tokio::fs::hard_link).
    pub async fn hard_link<T>(
        &self,
        src: impl AsRef<Path>,
        dst_dir: &Dir<T>,
        dst: impl AsRef<Path>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasRename,
        T: HasLookup + HasRename,
    {
        let (dir, src) = self.with(src);
        let (dst_dir, dst) = dst_dir.with(dst);
        blocking(move || dir.hard_link(src, &dst_dir, dst)).await
    }

    /// Creates a symlink `link` to `original`, which must stay beneath. Needs
    /// `Lookup` and `Symlink`. See [`tokio::fs::symlink`](::tokio::fs::symlink).
    pub async fn symlink(
        &self,
        original: impl AsRef<Path>,
        link: impl AsRef<Path>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasSymlink,
    {
        let (dir, link) = self.with(link);
        let original = original.as_ref().to_owned();
        blocking(move || dir.symlink(original, link)).await
    }

    /// Sets a file's permissions. Needs `Lookup` and `SetMeta`. See
    /// [`tokio::fs::set_permissions`](::tokio::fs::set_permissions).
    pub async fn set_permissions(&self, path: impl AsRef<Path>, perm: Permissions) -> io::Result<()>
    where
        R: HasLookup + HasSetMeta,
    {
        let (dir, path) = self.with(path);
        blocking(move || dir.set_permissions(path, perm)).await
    }

    /// What a blocking closure needs: the shared handle and an owned path.
    fn with(&self, path: impl AsRef<Path>) -> (Arc<sync::Dir<R>>, PathBuf) {
        (Arc::clone(&self.inner), path.as_ref().to_owned())
    }
}
