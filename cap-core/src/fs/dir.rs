//! [`Dir<R>`]: an open directory with the rights `R`.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_fs_ext::DirExt as _;

use super::error::at;
#[cfg(target_os = "linux")]
use super::fast_path;
use super::origin::Origin;
use super::{
    AccessType, DirBuilder, File, Metadata, OpenOptions, Permissions, ReadDir, SystemTimeSpec, Walk,
};
use crate::AmbientAuthority;
use crate::rights::{
    self, Dynamic, HasCreate, HasLookup, HasRead, HasRemove, HasRename, HasSetMeta, HasStat,
    HasSymlink, HasTruncate, HasWrite, RightSet, Rights, SubsetOf,
};

/// An open directory with the rights `R`, like [`cap_std::fs::Dir`]: every path
/// given to it is resolved beneath it, and `..` above it, absolute paths and
/// symlinks that lead outside are errors.
///
/// Each method exists only where `R` has the rights it needs (the method's doc
/// says which); for [`Dynamic`] rights it checks them when called.
///
/// ```
/// use cap_core::{ambient_authority, fs::Dir, rights};
/// # let tmp = tempfile::tempdir()?; std::fs::write(tmp.path().join("hello.txt"), "hi")?;
/// let dir = Dir::<rights![Lookup, Read]>::open_ambient_dir(tmp.path(), ambient_authority())?;
/// assert_eq!(dir.read_to_string("hello.txt")?, "hi");
/// assert!(dir.read_to_string("../etc/passwd").is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Dir<R: RightSet> {
    inner: cap_std::fs::Dir,
    rights: Rights,
    origin: Arc<Path>,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> fmt::Debug for Dir<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dir")
            .field("origin", &self.origin)
            .field("rights", &format_args!("{}", self.rights))
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> Dir<R> {
    pub(crate) fn from_parts(inner: cap_std::fs::Dir, rights: Rights, origin: Arc<Path>) -> Self {
        Self {
            inner,
            rights,
            origin,
            _rights: PhantomData,
        }
    }

    /// Opens the directory at `path` with the rights `R`, using ambient authority.
    ///
    /// This is how a program gets its first handles, before it enters the
    /// sandbox. The path is kept for messages and for the kernel policy's
    /// report, never used again for access. See [`cap_std::fs::Dir::open_ambient_dir`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may access any path that the host
    /// process has access to.
    pub fn open_ambient_dir(path: impl AsRef<Path>, ambient: AmbientAuthority) -> io::Result<Self> {
        let path = path.as_ref();
        let inner = cap_std::fs::Dir::open_ambient_dir(path, ambient)
            .map_err(|e| at("open directory", Path::new("(ambient)"), path, e))?;
        // A `Dir<Dynamic>` opened this way starts with every filesystem right.
        Ok(Self::from_parts(
            inner,
            R::RIGHTS & Rights::FS,
            absolute_origin(path),
        ))
    }

    /// Creates the directory at `path` and its parents, using ambient authority.
    /// See [`cap_std::fs::Dir::create_ambient_dir_all`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may access any path that the host
    /// process has access to.
    pub fn create_ambient_dir_all(
        path: impl AsRef<Path>,
        ambient: AmbientAuthority,
    ) -> io::Result<()> {
        let path = path.as_ref();
        cap_std::fs::Dir::create_ambient_dir_all(path, ambient)
            .map_err(|e| at("create directory", Path::new("(ambient)"), path, e))
    }

    /// The rights of this handle, as a mask.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// The path this handle was opened from (for a subdirectory, its parent's
    /// path joined with the relative path it was opened by). For messages and
    /// reports only: it is never used for access.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Gives up rights: the same directory with the rights `S`, a subset of `R`.
    /// A wider `S` does not compile.
    ///
    /// ```
    /// # use cap_core::{ambient_authority, fs::Dir, rights::{self, ReadWrite, ReadOnly}};
    /// let rw = Dir::<ReadWrite>::open_ambient_dir(".", ambient_authority())?;
    /// let ro: Dir<ReadOnly> = rw.narrow();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn narrow<S: SubsetOf<R>>(self) -> Dir<S> {
        let rights = if S::DYNAMIC {
            self.rights
        } else {
            S::RIGHTS & self.rights
        };
        Dir::from_parts(self.inner, rights, self.origin)
    }

    /// Moves the rights check to run time: a `Dir<Dynamic>` with this handle's mask.
    pub fn into_dynamic(self) -> Dir<Dynamic> {
        Dir::from_parts(self.inner, self.rights, self.origin)
    }

    /// Converts to the static rights `S` if this handle has all of them (checked
    /// at run time; the error names the missing rights).
    pub fn try_narrow<S: RightSet>(self) -> io::Result<Dir<S>> {
        if !S::DYNAMIC {
            rights::require(self.rights, S::RIGHTS, &self)?;
        }
        let rights = if S::DYNAMIC { self.rights } else { S::RIGHTS };
        Ok(Dir::from_parts(self.inner, rights, self.origin))
    }

    /// The underlying `cap_std` directory. Crate-internal: handing it out would
    /// let a caller use rights the type does not have.
    pub(crate) fn as_cap_std(&self) -> &cap_std::fs::Dir {
        &self.inner
    }

    /// Checks the run-time mask; a no-op for static rights, whose check the
    /// compiler already made.
    #[inline]
    pub(crate) fn need(&self, need: Rights) -> io::Result<()> {
        if R::DYNAMIC {
            rights::require(self.rights, need, self)
        } else {
            Ok(())
        }
    }

    fn child_origin(&self, path: &Path) -> Arc<Path> {
        Arc::from(self.origin.join(path))
    }

    fn err<'a>(
        &'a self,
        op: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(io::Error) -> io::Error + 'a {
        move |e| at(op, &self.origin, path, e)
    }

    /// Opens `path` read-only: one `openat(O_NOFOLLOW)` for a single name on
    /// Linux, else (and for a symlink) cap-std's resolution.
    fn open_read(&self, path: &Path) -> io::Result<cap_std::fs::File> {
        #[cfg(target_os = "linux")]
        if let Some(name) = fast_path::single_name(path) {
            let opened = fast_path::open_name(
                &self.inner,
                name,
                fast_path::READ,
                rustix::fs::Mode::empty(),
            )?;
            if let Some(file) = opened {
                return Ok(file);
            }
        }
        self.inner.open(path)
    }

    /// Creates or truncates `path` for writing, with the same fast path as
    /// [`open_read`](Self::open_read).
    fn open_create(&self, path: &Path) -> io::Result<cap_std::fs::File> {
        // The mode follows SetMeta (see `creation_mode`): without it, never
        // group/other-writable whatever the umask.
        #[cfg(target_os = "linux")]
        if let Some(name) = fast_path::single_name(path) {
            let mode =
                super::dir_builder::creation_mode(None, 0o666, self.rights, &self.origin, path)?
                    .unwrap_or(0o666);
            let opened = fast_path::open_name(
                &self.inner,
                name,
                fast_path::CREATE,
                rustix::fs::Mode::from_raw_mode(mode),
            )?;
            if let Some(file) = opened {
                return Ok(file);
            }
        }
        let mut options = OpenOptions::new();
        options.create(true).truncate(true);
        let options = options.to_cap_std(Rights::WRITE, self.rights, &self.origin, path)?;
        self.inner.open_with(path, &options)
    }

    /// The metadata of `path`, following symlinks: one `statx` for a single
    /// name that is not a symlink on Linux, else cap-std's resolution.
    fn stat(&self, path: &Path) -> io::Result<Metadata> {
        #[cfg(target_os = "linux")]
        if let Some(name) = fast_path::single_name(path)
            && let Some(meta) = fast_path::stat_name(&self.inner, name)?
        {
            return Ok(meta);
        }
        self.inner.metadata(path)
    }

    /// Reads the whole of `path`.
    fn read_whole(&self, path: &Path) -> io::Result<Vec<u8>> {
        let file = self.open_read(path)?;
        #[cfg(target_os = "linux")]
        {
            fast_path::read_whole(&file)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut &file, &mut bytes)?;
            Ok(bytes)
        }
    }

    fn open_file<S: RightSet>(
        &self,
        path: &Path,
        options: &OpenOptions,
        file_rights: Rights,
    ) -> io::Result<File<S>> {
        let options = options.to_cap_std(file_rights, self.rights, &self.origin, path)?;
        let file = self
            .inner
            .open_with(path, &options)
            .map_err(self.err("open", path))?;
        Ok(File::from_parts(
            file,
            file_rights,
            Origin::new(&self.origin, path),
        ))
    }

    /// Opens a file for reading. Needs `Lookup` and `Read`; the file gets this
    /// directory's `Read`, `Stat` and `SetMeta`. See [`cap_std::fs::Dir::open`].
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<File<R::Reader>>
    where
        R: HasLookup + HasRead,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::READ)?;
        let file_rights = self.rights & (Rights::READ | Rights::STAT | Rights::SET_META);
        // cap-std's own read-only open: the same calls as `cap_std::fs::Dir::open`.
        let file = self.open_read(path).map_err(self.err("open", path))?;
        Ok(File::from_parts(
            file,
            file_rights,
            Origin::new(&self.origin, path),
        ))
    }

    /// Opens a file with the rights `S` (a subset of what files beneath this
    /// directory may have) and `options`. The access mode follows `S`: read if
    /// `S` has `Read`, write if it has `Write`. Needs `Lookup`, plus `Create` for
    /// `create`/`create_new`, and `S` must have `Truncate` for `truncate` and
    /// `Write` for `append`. See [`cap_std::fs::Dir::open_with`].
    pub fn open_with<S>(&self, path: impl AsRef<Path>, options: &OpenOptions) -> io::Result<File<S>>
    where
        R: HasLookup,
        S: SubsetOf<R::FileRights>,
    {
        let path = path.as_ref();
        let file_rights = if S::DYNAMIC {
            self.rights & Rights::FILE
        } else {
            S::RIGHTS & self.rights
        };
        let need = options.needs();
        rights::require(
            self.rights,
            need & !(Rights::TRUNCATE | Rights::WRITE),
            self,
        )?;
        rights::require(
            file_rights,
            need & (Rights::TRUNCATE | Rights::WRITE),
            &format_args!("the requested file rights for `{}`", path.display()),
        )?;
        if !file_rights.intersects(Rights::READ | Rights::WRITE) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "open `{}` beneath `{}`: the file's rights {file_rights} include neither Read nor Write, so there is no access mode to open it with",
                    path.display(),
                    self.origin.display()
                ),
            ));
        }
        self.open_file(path, options, file_rights)
    }

    /// Opens a subdirectory with the same rights. Needs `Lookup`. See
    /// [`cap_std::fs::Dir::open_dir`].
    pub fn open_dir(&self, path: impl AsRef<Path>) -> io::Result<Dir<R>>
    where
        R: HasLookup,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP)?;
        let inner = self
            .inner
            .open_dir(path)
            .map_err(self.err("open directory", path))?;
        Ok(Dir::from_parts(inner, self.rights, self.child_origin(path)))
    }

    /// Opens a subdirectory, refusing a symlink in the last component. Needs
    /// `Lookup`. See [`cap_fs_ext::DirExt::open_dir_nofollow`].
    pub fn open_dir_nofollow(&self, path: impl AsRef<Path>) -> io::Result<Dir<R>>
    where
        R: HasLookup,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP)?;
        let inner = self
            .inner
            .open_dir_nofollow(path)
            .map_err(self.err("open directory", path))?;
        Ok(Dir::from_parts(inner, self.rights, self.child_origin(path)))
    }

    /// Creates a directory. Needs `Lookup` and `Create`. See [`cap_std::fs::Dir::create_dir`].
    pub fn create_dir(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasCreate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE)?;
        let builder = DirBuilder::new().to_cap_std(self.rights, &self.origin, path)?;
        self.inner
            .create_dir_with(path, &builder)
            .map_err(self.err("create directory", path))
    }

    /// Creates a directory and its missing parents. Needs `Lookup` and
    /// `Create`. See [`cap_std::fs::Dir::create_dir_all`].
    pub fn create_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasCreate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE)?;
        let builder =
            DirBuilder::new()
                .recursive(true)
                .to_cap_std(self.rights, &self.origin, path)?;
        self.inner
            .create_dir_with(path, &builder)
            .map_err(self.err("create directory", path))
    }

    /// Creates a directory with `builder`'s options (recursive, mode). Needs
    /// `Lookup` and `Create`. See [`cap_std::fs::Dir::create_dir_with`].
    pub fn create_dir_with(&self, path: impl AsRef<Path>, builder: &DirBuilder) -> io::Result<()>
    where
        R: HasLookup + HasCreate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE)?;
        let builder = builder.to_cap_std(self.rights, &self.origin, path)?;
        self.inner
            .create_dir_with(path, &builder)
            .map_err(self.err("create directory", path))
    }

    /// Creates a file for writing, truncating it if it exists, like
    /// [`std::fs::File::create`]. Needs `Lookup`, `Create`, `Write` and
    /// `Truncate` (an existing file is truncated); the file gets `Write`,
    /// `Truncate`, `Stat` and `SetMeta` where this directory has them. To create
    /// without the `Truncate` right, use [`open_with`](Self::open_with) with
    /// `create_new`. See [`cap_std::fs::Dir::create`].
    pub fn create(&self, path: impl AsRef<Path>) -> io::Result<File<R::Writer>>
    where
        R: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE | Rights::WRITE | Rights::TRUNCATE)?;
        let file_rights =
            self.rights & (Rights::WRITE | Rights::TRUNCATE | Rights::STAT | Rights::SET_META);
        let file = self.open_create(path).map_err(self.err("create", path))?;
        Ok(File::from_parts(
            file,
            file_rights,
            Origin::new(&self.origin, path),
        ))
    }

    /// The path of `path` with symlinks and `..` resolved, relative to this
    /// directory. Needs `Lookup` and `Stat`. See [`cap_std::fs::Dir::canonicalize`].
    pub fn canonicalize(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        // A single name that is not a symlink is already canonical: one
        // `statx` to know it exists and is not a link.
        #[cfg(target_os = "linux")]
        if let Some(name) = fast_path::single_name(path) {
            let meta = self
                .inner
                .symlink_metadata(name)
                .map_err(self.err("canonicalize", path))?;
            if !meta.is_symlink() {
                return Ok(PathBuf::from(name));
            }
        }
        self.inner
            .canonicalize(path)
            .map_err(self.err("canonicalize", path))
    }

    /// Copies the contents of a file to `to` beneath `to_dir` (created, or
    /// truncated if it exists), returning the number of bytes copied. Needs
    /// `Lookup` and `Read` here, and `Lookup`, `Create`, `Write` and `Truncate`
    /// on `to_dir`. See [`cap_std::fs::Dir::copy`].
    ///
    /// Unlike `std::fs::copy` and cap-std's copy, the permissions are not
    /// copied: that is a `chmod` of the target, which needs `SetMeta`, a right
    /// this method does not ask for. Copy them with
    /// [`set_permissions`](Self::set_permissions) where the target has it. The
    /// source is checked to be a regular file before the target is touched.
    pub fn copy<T>(
        &self,
        from: impl AsRef<Path>,
        to_dir: &Dir<T>,
        to: impl AsRef<Path>,
    ) -> io::Result<u64>
    where
        R: HasLookup + HasRead,
        T: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        let (from, to) = (from.as_ref(), to.as_ref());
        self.need(Rights::LOOKUP | Rights::READ)?;
        to_dir.need(Rights::LOOKUP | Rights::CREATE | Rights::WRITE | Rights::TRUNCATE)?;
        let src = self.open_read(from).map_err(self.err("copy", from))?;
        let meta = src.metadata().map_err(self.err("copy", from))?;
        if !meta.is_file() {
            return Err(at(
                "copy",
                &self.origin,
                from,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the source is not a regular file",
                ),
            ));
        }
        let dst = to_dir.open_create(to).map_err(to_dir.err("copy to", to))?;
        #[cfg(target_os = "linux")]
        {
            fast_path::copy_contents(&src, &dst, meta.len()).map_err(to_dir.err("copy to", to))
        }
        #[cfg(not(target_os = "linux"))]
        {
            // The std forms let `io::copy` use copy_file_range/sendfile.
            let (mut src, mut dst) = (src.into_std(), dst.into_std());
            io::copy(&mut src, &mut dst).map_err(to_dir.err("copy to", to))
        }
    }

    /// Makes `dst` beneath `dst_dir` a new hard link to `src`. Needs `Lookup`
    /// and `Rename` on both directories (linking moves names around the
    /// granted tree as rename does). See [`cap_std::fs::Dir::hard_link`].
    pub fn hard_link<T>(
        &self,
        src: impl AsRef<Path>,
        dst_dir: &Dir<T>,
        dst: impl AsRef<Path>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasRename,
        T: HasLookup + HasRename,
    {
        let (src, dst) = (src.as_ref(), dst.as_ref());
        self.need(Rights::LOOKUP | Rights::RENAME)?;
        dst_dir.need(Rights::LOOKUP | Rights::RENAME)?;
        self.inner
            .hard_link(src, &dst_dir.inner, dst)
            .map_err(self.err("hard_link", src))
    }

    /// The metadata of `path`, following symlinks. Needs `Lookup` and `Stat`.
    /// See [`cap_std::fs::Dir::metadata`].
    pub fn metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        self.stat(path).map_err(self.err("metadata", path))
    }

    /// The metadata of `path`, not following a symlink in the last component.
    /// Needs `Lookup` and `Stat`. See [`cap_std::fs::Dir::symlink_metadata`].
    pub fn symlink_metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        self.inner
            .symlink_metadata(path)
            .map_err(self.err("symlink_metadata", path))
    }

    /// The metadata of this directory. Needs `Stat`. See [`cap_std::fs::Dir::dir_metadata`].
    pub fn dir_metadata(&self) -> io::Result<Metadata>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner
            .dir_metadata()
            .map_err(self.err("metadata", Path::new(".")))
    }

    /// The entries of this directory. Needs `Read`; the entries open with this
    /// directory's rights. See [`cap_std::fs::Dir::entries`].
    pub fn entries(&self) -> io::Result<ReadDir<R>>
    where
        R: HasRead,
    {
        self.need(Rights::READ)?;
        ReadDir::of_dir(&self.inner, self.rights, &self.origin)
            .map_err(self.err("read directory", Path::new(".")))
    }

    /// Every entry beneath this directory, as `find` or `grep -r` visit
    /// them: in order as an iterator, or on several threads with
    /// [`Walk::for_each_parallel`]. Symlinks are reported, never followed.
    /// Needs `Lookup` and `Read`; the entries open with this directory's
    /// rights.
    ///
    /// ```
    /// use cap_core::{ambient_authority, fs::Dir, rights};
    /// # let tmp = tempfile::tempdir()?;
    /// # std::fs::create_dir_all(tmp.path().join("a/b"))?;
    /// # std::fs::write(tmp.path().join("a/b/x.txt"), "x")?;
    /// let dir = Dir::<rights![Lookup, Read]>::open_ambient_dir(tmp.path(), ambient_authority())?;
    /// let mut paths = Vec::new();
    /// for entry in dir.walk()? {
    ///     paths.push(entry?.path());
    /// }
    /// assert_eq!(paths, ["a", "a/b", "a/b/x.txt"].map(std::path::PathBuf::from));
    ///
    /// let files = std::sync::atomic::AtomicUsize::new(0);
    /// dir.walk()?.for_each_parallel(|entry| {
    ///     if entry.is_ok_and(|e| e.file_type().is_ok_and(|t| t.is_file())) {
    ///         files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ///     }
    /// });
    /// assert_eq!(files.into_inner(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn walk(&self) -> io::Result<Walk<R>>
    where
        R: HasLookup + HasRead,
    {
        self.entries().map(|list| Walk::new(list, &self.origin))
    }

    /// The entries of the subdirectory `path`. Needs `Lookup` and `Read`. See
    /// [`cap_std::fs::Dir::read_dir`].
    pub fn read_dir(&self, path: impl AsRef<Path>) -> io::Result<ReadDir<R>>
    where
        R: HasLookup + HasRead,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::READ)?;
        ReadDir::beneath(&self.inner, path, self.rights, &self.origin)
            .map_err(self.err("read directory", path))
    }

    /// Reads a whole file. Needs `Lookup` and `Read`. See [`cap_std::fs::Dir::read`].
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>>
    where
        R: HasLookup + HasRead,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::READ)?;
        self.read_whole(path).map_err(self.err("read", path))
    }

    /// Reads a whole file as UTF-8. Needs `Lookup` and `Read`. See
    /// [`cap_std::fs::Dir::read_to_string`].
    pub fn read_to_string(&self, path: impl AsRef<Path>) -> io::Result<String>
    where
        R: HasLookup + HasRead,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::READ)?;
        let bytes = self.read_whole(path).map_err(self.err("read", path))?;
        String::from_utf8(bytes).map_err(|_| {
            at(
                "read",
                &self.origin,
                path,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                ),
            )
        })
    }

    /// The target of a symlink, refusing targets that lead outside this
    /// directory. Needs `Lookup` and `Stat`. See [`cap_std::fs::Dir::read_link`].
    pub fn read_link(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        self.inner
            .read_link(path)
            .map_err(self.err("read_link", path))
    }

    /// The raw contents of a symlink, wherever it points. Needs `Lookup` and
    /// `Stat`. See [`cap_std::fs::Dir::read_link_contents`].
    pub fn read_link_contents(&self, path: impl AsRef<Path>) -> io::Result<PathBuf>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        self.inner
            .read_link_contents(path)
            .map_err(self.err("read_link", path))
    }

    /// Removes an empty directory. Needs `Lookup` and `Remove`. See
    /// [`cap_std::fs::Dir::remove_dir`].
    pub fn remove_dir(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasRemove,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::REMOVE)?;
        #[cfg(target_os = "linux")]
        if let Some(name) = fast_path::single_name(path) {
            return fast_path::remove_name(&self.inner, name, true)
                .map_err(self.err("remove_dir", path));
        }
        self.inner
            .remove_dir(path)
            .map_err(self.err("remove_dir", path))
    }

    /// Removes a directory and everything beneath it. Needs `Lookup`, `Read`
    /// (to list it) and `Remove`. See [`cap_std::fs::Dir::remove_dir_all`].
    pub fn remove_dir_all(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasRead + HasRemove,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::READ | Rights::REMOVE)?;
        self.inner
            .remove_dir_all(path)
            .map_err(self.err("remove_dir_all", path))
    }

    /// Removes this directory, which must be empty, consuming the handle. Needs
    /// `Remove`. See [`cap_std::fs::Dir::remove_open_dir`].
    ///
    /// cap-std finds the directory's name through `/proc/self/fd`; inside the
    /// sandbox that needs the parent directory to be granted with `Remove`.
    pub fn remove_open_dir(self) -> io::Result<()>
    where
        R: HasRemove,
    {
        self.need(Rights::REMOVE)?;
        let origin = self.origin.clone();
        self.inner
            .remove_open_dir()
            .map_err(|e| at("remove_open_dir", &origin, Path::new("."), e))
    }

    /// Removes this directory and everything beneath it, consuming the handle.
    /// Needs `Read` and `Remove`. See [`cap_std::fs::Dir::remove_open_dir_all`].
    pub fn remove_open_dir_all(self) -> io::Result<()>
    where
        R: HasRead + HasRemove,
    {
        self.need(Rights::READ | Rights::REMOVE)?;
        let origin = self.origin.clone();
        self.inner
            .remove_open_dir_all()
            .map_err(|e| at("remove_open_dir_all", &origin, Path::new("."), e))
    }

    /// Removes a file or symlink. Needs `Lookup` and `Remove`. See
    /// [`cap_std::fs::Dir::remove_file`].
    pub fn remove_file(&self, path: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasRemove,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::REMOVE)?;
        #[cfg(target_os = "linux")]
        if let Some(name) = fast_path::single_name(path) {
            return fast_path::remove_name(&self.inner, name, false)
                .map_err(self.err("remove_file", path));
        }
        self.inner
            .remove_file(path)
            .map_err(self.err("remove_file", path))
    }

    /// Renames `from` to `to` beneath `to_dir`. Needs `Lookup` and `Rename` on
    /// both directories. See [`cap_std::fs::Dir::rename`].
    pub fn rename<T>(
        &self,
        from: impl AsRef<Path>,
        to_dir: &Dir<T>,
        to: impl AsRef<Path>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasRename,
        T: HasLookup + HasRename,
    {
        let (from, to) = (from.as_ref(), to.as_ref());
        self.need(Rights::LOOKUP | Rights::RENAME)?;
        to_dir.need(Rights::LOOKUP | Rights::RENAME)?;
        self.inner
            .rename(from, &to_dir.inner, to)
            .map_err(self.err("rename", from))
    }

    /// Changes the permissions of `path`. Needs `Lookup` and `SetMeta`. See
    /// [`cap_std::fs::Dir::set_permissions`].
    pub fn set_permissions(&self, path: impl AsRef<Path>, perm: Permissions) -> io::Result<()>
    where
        R: HasLookup + HasSetMeta,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::SET_META)?;
        self.inner
            .set_permissions(path, perm)
            .map_err(self.err("set_permissions", path))
    }

    /// Sets the access and modification times of `path`, following symlinks.
    /// Needs `Lookup` and `SetMeta`. See [`cap_fs_ext::DirExt::set_times`].
    pub fn set_times(
        &self,
        path: impl AsRef<Path>,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasSetMeta,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::SET_META)?;
        self.inner
            .set_times(path, atime, mtime)
            .map_err(self.err("set_times", path))
    }

    /// Sets the times of a symlink itself. Needs `Lookup` and `SetMeta`. See
    /// [`cap_fs_ext::DirExt::set_symlink_times`].
    pub fn set_symlink_times(
        &self,
        path: impl AsRef<Path>,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasSetMeta,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::SET_META)?;
        self.inner
            .set_symlink_times(path, atime, mtime)
            .map_err(self.err("set_symlink_times", path))
    }

    /// Writes `contents` to a file, creating or truncating it. Needs `Lookup`,
    /// `Create`, `Write` and `Truncate`. See [`cap_std::fs::Dir::write`].
    pub fn write(&self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()>
    where
        R: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::CREATE | Rights::WRITE | Rights::TRUNCATE)?;
        let mut file = self.open_create(path).map_err(self.err("write", path))?;
        io::Write::write_all(&mut file, contents.as_ref()).map_err(self.err("write", path))
    }

    /// Creates a symlink `link` pointing to `original`, which must stay beneath
    /// this directory. Needs `Lookup` and `Symlink`. See [`cap_std::fs::Dir::symlink`].
    pub fn symlink(&self, original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()>
    where
        R: HasLookup + HasSymlink,
    {
        let (original, link) = (original.as_ref(), link.as_ref());
        self.need(Rights::LOOKUP | Rights::SYMLINK)?;
        self.inner
            .symlink(original, link)
            .map_err(self.err("symlink", link))
    }

    /// Creates a symlink with arbitrary contents, which need not point beneath
    /// this directory (following it later is still confined). Needs `Lookup`
    /// and `Symlink`. See [`cap_std::fs::Dir::symlink_contents`] (unix only).
    #[cfg(unix)]
    pub fn symlink_contents(
        &self,
        original: impl AsRef<Path>,
        link: impl AsRef<Path>,
    ) -> io::Result<()>
    where
        R: HasLookup + HasSymlink,
    {
        let (original, link) = (original.as_ref(), link.as_ref());
        self.need(Rights::LOOKUP | Rights::SYMLINK)?;
        self.inner
            .symlink_contents(original, link)
            .map_err(self.err("symlink", link))
    }

    /// Whether `path` exists (false on any error, including a missing right).
    /// Needs `Lookup` and `Stat`. See [`cap_std::fs::Dir::exists`].
    pub fn exists(&self, path: impl AsRef<Path>) -> bool
    where
        R: HasLookup + HasStat,
    {
        self.try_exists(path).unwrap_or(false)
    }

    /// Whether `path` exists; errors other than "not found" are returned.
    /// Needs `Lookup` and `Stat`. See [`cap_std::fs::Dir::try_exists`].
    pub fn try_exists(&self, path: impl AsRef<Path>) -> io::Result<bool>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        match self.stat(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(at("stat", &self.origin, path, e)),
        }
    }

    /// Whether `path` is a regular file (following symlinks). Needs `Lookup`
    /// and `Stat`. See [`cap_std::fs::Dir::is_file`].
    pub fn is_file(&self, path: impl AsRef<Path>) -> bool
    where
        R: HasLookup + HasStat,
    {
        self.metadata(path).is_ok_and(|m| m.is_file())
    }

    /// Whether `path` is a directory (following symlinks). Needs `Lookup` and
    /// `Stat`. See [`cap_std::fs::Dir::is_dir`].
    pub fn is_dir(&self, path: impl AsRef<Path>) -> bool
    where
        R: HasLookup + HasStat,
    {
        self.metadata(path).is_ok_and(|m| m.is_dir())
    }

    /// Checks whether `path` exists and could be accessed as `access` asks
    /// (`faccessat`), following symlinks. Needs `Lookup` and `Stat`. See
    /// [`cap_fs_ext::DirExt::access`].
    pub fn access(&self, path: impl AsRef<Path>, access: AccessType) -> io::Result<()>
    where
        R: HasLookup + HasStat,
    {
        let path = path.as_ref();
        self.need(Rights::LOOKUP | Rights::STAT)?;
        self.inner
            .access(path, access)
            .map_err(self.err("access", path))
    }

    /// Another handle to the same directory, with the same rights. See
    /// [`cap_std::fs::Dir::try_clone`].
    pub fn try_clone(&self) -> io::Result<Self> {
        let inner = self
            .inner
            .try_clone()
            .map_err(self.err("clone", Path::new(".")))?;
        Ok(Self::from_parts(inner, self.rights, self.origin.clone()))
    }

    /// Gives up the typing: the `cap_std` directory, which can do anything the
    /// descriptor allows. Takes the ambient token because it widens authority.
    ///
    /// # Ambient Authority
    ///
    /// The result is not limited by this handle's rights.
    pub fn into_cap_std(self, _ambient: AmbientAuthority) -> cap_std::fs::Dir {
        self.inner
    }
}

impl Dir<Dynamic> {
    /// Opens the directory at `path` with rights known at run time (from a
    /// configuration file, say). See [`Dir::open_ambient_dir`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may access any path that the host
    /// process has access to.
    pub fn open_ambient_dir_with_rights(
        path: impl AsRef<Path>,
        rights: Rights,
        ambient: AmbientAuthority,
    ) -> io::Result<Self> {
        let path = path.as_ref();
        let inner = cap_std::fs::Dir::open_ambient_dir(path, ambient)
            .map_err(|e| at("open directory", Path::new("(ambient)"), path, e))?;
        Ok(Self::from_parts(
            inner,
            rights & Rights::FS,
            absolute_origin(path),
        ))
    }

    /// Gives up the rights outside `keep`, at run time.
    pub fn restrict(mut self, keep: Rights) -> Self {
        self.rights &= keep;
        self
    }
}

impl<R: RightSet> fmt::Display for Dir<R> {
    /// `directory `/srv/site``: how errors name this handle.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "directory `{}`", self.origin.display())
    }
}

/// The origin recorded for a handle opened by name: absolute where the
/// current directory is known, so reports and unveil get a usable path.
fn absolute_origin(path: &Path) -> Arc<Path> {
    std::path::absolute(path).map_or_else(|_| Arc::from(path), Arc::from)
}
