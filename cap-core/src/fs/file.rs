//! [`File<R>`]: an open file with the rights `R`.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::at;
use super::origin::Origin;
use super::{Metadata, Permissions, SystemTimeSpec};
use crate::AmbientAuthority;
use crate::rights::{
    self, Dynamic, HasRead, HasSetMeta, HasStat, HasTruncate, HasWrite, RightSet, Rights, SubsetOf,
};

/// An open file with the rights `R`, like [`cap_std::fs::File`].
///
/// [`Read`] is implemented where `R` has `Read`, [`Write`] where it has
/// `Write`; the descriptor is opened with the matching access mode, so the
/// type and the kernel agree. Get one from a [`Dir`](super::Dir).
pub struct File<R: RightSet> {
    inner: cap_std::fs::File,
    rights: Rights,
    origin: Origin,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> fmt::Debug for File<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("origin", &self.origin.path())
            .field("rights", &format_args!("{}", self.rights))
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> fmt::Display for File<R> {
    /// `file `/srv/site/index.html``: how errors name this handle.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "file `{}`", self.origin.path().display())
    }
}

impl<R: RightSet> File<R> {
    pub(crate) fn from_parts(inner: cap_std::fs::File, rights: Rights, origin: Origin) -> Self {
        Self {
            inner,
            rights,
            origin,
            _rights: PhantomData,
        }
    }

    /// Opens the file at `path` for reading, using ambient authority, with the
    /// rights `R` (of which `Read`, `Stat`, `SetMeta` and `Exec` apply). See
    /// [`cap_std::fs::File::open_ambient`].
    ///
    /// # Ambient Authority
    ///
    /// This function is not sandboxed and may access any path that the host
    /// process has access to.
    pub fn open_ambient(path: impl AsRef<Path>, ambient: AmbientAuthority) -> io::Result<Self>
    where
        R: HasRead,
    {
        let path = path.as_ref();
        let inner = cap_std::fs::File::open_ambient(path, ambient)
            .map_err(|e| at("open", Path::new("(ambient)"), path, e))?;
        let rights = R::RIGHTS & (Rights::READ | Rights::STAT | Rights::SET_META | Rights::EXEC);
        let origin: Arc<Path> =
            std::path::absolute(path).map_or_else(|_| Arc::from(path), Arc::from);
        Ok(Self::from_parts(
            inner,
            rights,
            Origin::new(&origin, Path::new("")),
        ))
    }

    /// The rights of this handle, as a mask.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// The path this file was opened by (its directory's origin joined with
    /// the relative path), for messages and reports only.
    pub fn origin(&self) -> PathBuf {
        self.origin.path()
    }

    /// Gives up rights: the same file with the rights `S`, a subset of `R`.
    pub fn narrow<S: SubsetOf<R>>(self) -> File<S> {
        let rights = if S::DYNAMIC {
            self.rights
        } else {
            S::RIGHTS & self.rights
        };
        File::from_parts(self.inner, rights, self.origin)
    }

    /// Moves the rights check to run time.
    pub fn into_dynamic(self) -> File<Dynamic> {
        File::from_parts(self.inner, self.rights, self.origin)
    }

    /// Converts to the static rights `S` if this handle has all of them.
    pub fn try_narrow<S: RightSet>(self) -> io::Result<File<S>> {
        if !S::DYNAMIC {
            rights::require(self.rights, S::RIGHTS, &self)?;
        }
        let rights = if S::DYNAMIC { self.rights } else { S::RIGHTS };
        Ok(File::from_parts(self.inner, rights, self.origin))
    }

    #[inline]
    fn need(&self, need: Rights) -> io::Result<()> {
        if R::DYNAMIC {
            rights::require(self.rights, need, self)
        } else {
            Ok(())
        }
    }

    fn err(&self, op: &'static str) -> impl FnOnce(io::Error) -> io::Error + '_ {
        move |e| at(op, &self.origin.path(), Path::new("."), e)
    }

    /// Flushes data and metadata to the device. Needs `Write`. See
    /// [`cap_std::fs::File::sync_all`].
    pub fn sync_all(&self) -> io::Result<()>
    where
        R: HasWrite,
    {
        self.need(Rights::WRITE)?;
        self.inner.sync_all()
    }

    /// Flushes data to the device. Needs `Write`. See [`cap_std::fs::File::sync_data`].
    pub fn sync_data(&self) -> io::Result<()>
    where
        R: HasWrite,
    {
        self.need(Rights::WRITE)?;
        self.inner.sync_data()
    }

    /// Truncates or extends the file to `size` bytes. Needs `Truncate` (and a
    /// descriptor open for writing, so `Write` too). See [`cap_std::fs::File::set_len`].
    pub fn set_len(&self, size: u64) -> io::Result<()>
    where
        R: HasTruncate + HasWrite,
    {
        self.need(Rights::TRUNCATE | Rights::WRITE)?;
        self.inner.set_len(size).map_err(self.err("set_len"))
    }

    /// Reads from `offset` without moving the file's position (`pread`), so
    /// one open file can serve reads from several threads at once. Needs
    /// `Read`. See [`std::os::unix::fs::FileExt::read_at`].
    #[cfg(unix)]
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>
    where
        R: HasRead,
    {
        self.need(Rights::READ)?;
        cap_std::fs::FileExt::read_at(&self.inner, buf, offset)
    }

    /// Fills `buf` from `offset` without moving the file's position; an
    /// `UnexpectedEof` error when the file ends first. Needs `Read`. See
    /// [`std::os::unix::fs::FileExt::read_exact_at`].
    #[cfg(unix)]
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>
    where
        R: HasRead,
    {
        self.need(Rights::READ)?;
        cap_std::fs::FileExt::read_exact_at(&self.inner, buf, offset)
    }

    /// Writes at `offset` without moving the file's position (`pwrite`).
    /// Needs `Write`. See [`std::os::unix::fs::FileExt::write_at`].
    #[cfg(unix)]
    pub fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize>
    where
        R: HasWrite,
    {
        self.need(Rights::WRITE)?;
        cap_std::fs::FileExt::write_at(&self.inner, buf, offset)
    }

    /// Writes all of `buf` at `offset` without moving the file's position.
    /// Needs `Write`. See [`std::os::unix::fs::FileExt::write_all_at`].
    #[cfg(unix)]
    pub fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>
    where
        R: HasWrite,
    {
        self.need(Rights::WRITE)?;
        cap_std::fs::FileExt::write_all_at(&self.inner, buf, offset)
    }

    /// The file's metadata. Needs `Stat`. See [`cap_std::fs::File::metadata`].
    pub fn metadata(&self) -> io::Result<Metadata>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.metadata()
    }

    /// Changes the file's permissions. Needs `SetMeta`. See
    /// [`cap_std::fs::File::set_permissions`].
    pub fn set_permissions(&self, perm: Permissions) -> io::Result<()>
    where
        R: HasSetMeta,
    {
        self.need(Rights::SET_META)?;
        self.inner
            .set_permissions(perm)
            .map_err(self.err("set_permissions"))
    }

    /// Sets the access and modification times. Needs `SetMeta`. See
    /// [`cap_fs_ext::FileExt`]-style `set_times` and [`std::fs::File::set_times`].
    #[cfg(unix)]
    pub fn set_times(
        &self,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> io::Result<()>
    where
        R: HasSetMeta,
    {
        self.need(Rights::SET_META)?;
        let ts = |t: Option<SystemTimeSpec>| match t {
            None => rustix::fs::Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_OMIT,
            },
            Some(SystemTimeSpec::SymbolicNow) => rustix::fs::Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_NOW,
            },
            Some(SystemTimeSpec::Absolute(t)) => {
                let d = t
                    .into_std()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                rustix::fs::Timespec {
                    tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: d.subsec_nanos().into(),
                }
            }
        };
        let times = rustix::fs::Timestamps {
            last_access: ts(atime),
            last_modification: ts(mtime),
        };
        rustix::fs::futimens(&self.inner, &times)
            .map_err(io::Error::from)
            .map_err(self.err("set_times"))
    }

    /// Places an exclusive advisory lock, waiting for it. See [`std::fs::File::lock`].
    #[cfg(unix)]
    pub fn lock(&self) -> io::Result<()> {
        rustix::fs::flock(&self.inner, rustix::fs::FlockOperation::LockExclusive)
            .map_err(io::Error::from)
    }

    /// Places a shared advisory lock, waiting for it. See [`std::fs::File::lock_shared`].
    #[cfg(unix)]
    pub fn lock_shared(&self) -> io::Result<()> {
        rustix::fs::flock(&self.inner, rustix::fs::FlockOperation::LockShared)
            .map_err(io::Error::from)
    }

    /// Tries to place an exclusive lock; `Ok(false)` if another holds one. See
    /// [`std::fs::File::try_lock`].
    #[cfg(unix)]
    pub fn try_lock(&self) -> io::Result<bool> {
        try_flock(
            &self.inner,
            rustix::fs::FlockOperation::NonBlockingLockExclusive,
        )
    }

    /// Tries to place a shared lock; `Ok(false)` if another holds an exclusive
    /// one. See [`std::fs::File::try_lock_shared`].
    #[cfg(unix)]
    pub fn try_lock_shared(&self) -> io::Result<bool> {
        try_flock(
            &self.inner,
            rustix::fs::FlockOperation::NonBlockingLockShared,
        )
    }

    /// Releases this handle's lock. See [`std::fs::File::unlock`].
    #[cfg(unix)]
    pub fn unlock(&self) -> io::Result<()> {
        rustix::fs::flock(&self.inner, rustix::fs::FlockOperation::Unlock).map_err(io::Error::from)
    }

    /// Sets the access and modification times. Needs `SetMeta`. See
    /// [`std::fs::File::set_times`].
    #[cfg(not(unix))]
    pub fn set_times(
        &self,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> io::Result<()>
    where
        R: HasSetMeta,
    {
        self.need(Rights::SET_META)?;
        let at = |t: SystemTimeSpec| match t {
            SystemTimeSpec::SymbolicNow => std::time::SystemTime::now(),
            SystemTimeSpec::Absolute(t) => t.into_std(),
        };
        let mut times = std::fs::FileTimes::new();
        if let Some(t) = atime {
            times = times.set_accessed(at(t));
        }
        if let Some(t) = mtime {
            times = times.set_modified(at(t));
        }
        self.std_view()
            .set_times(times)
            .map_err(self.err("set_times"))
    }

    /// The open file as a `std` file, borrowed (no descriptor is duplicated).
    #[cfg(not(unix))]
    fn std_view(&self) -> cap_std::io_lifetimes::views::FilelikeView<'_, std::fs::File> {
        use cap_std::io_lifetimes::AsFilelike;
        self.inner.as_filelike_view::<std::fs::File>()
    }

    /// Places an exclusive advisory lock, waiting for it. See [`std::fs::File::lock`].
    #[cfg(not(unix))]
    pub fn lock(&self) -> io::Result<()> {
        self.std_view().lock()
    }

    /// Places a shared advisory lock, waiting for it. See [`std::fs::File::lock_shared`].
    #[cfg(not(unix))]
    pub fn lock_shared(&self) -> io::Result<()> {
        self.std_view().lock_shared()
    }

    /// Tries to place an exclusive lock; `Ok(false)` if another holds one. See
    /// [`std::fs::File::try_lock`].
    #[cfg(not(unix))]
    pub fn try_lock(&self) -> io::Result<bool> {
        match self.std_view().try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Tries to place a shared lock; `Ok(false)` if another holds an exclusive
    /// one. See [`std::fs::File::try_lock_shared`].
    #[cfg(not(unix))]
    pub fn try_lock_shared(&self) -> io::Result<bool> {
        match self.std_view().try_lock_shared() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Releases this handle's lock. See [`std::fs::File::unlock`].
    #[cfg(not(unix))]
    pub fn unlock(&self) -> io::Result<()> {
        self.std_view().unlock()
    }

    /// Another handle to the same open file, with the same rights. See
    /// [`cap_std::fs::File::try_clone`].
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self::from_parts(
            self.inner.try_clone()?,
            self.rights,
            self.origin.clone(),
        ))
    }

    /// Gives up the typing: the `std` file. Takes the ambient token because the
    /// result is no longer limited by this handle's rights (`set_permissions`,
    /// `set_len` become available whatever `R` said).
    ///
    /// # Ambient Authority
    ///
    /// The result is not limited by this handle's rights.
    pub fn into_std(self, _ambient: AmbientAuthority) -> std::fs::File {
        self.inner.into_std()
    }

    pub(crate) fn as_cap_std(&self) -> &cap_std::fs::File {
        &self.inner
    }

    /// The descriptor, to pass it on (the broker sends it to its program).
    #[cfg(unix)]
    pub(crate) fn into_owned_fd(self) -> std::os::fd::OwnedFd {
        self.inner.into_std().into()
    }
}

#[cfg(unix)]
fn try_flock(file: &cap_std::fs::File, op: rustix::fs::FlockOperation) -> io::Result<bool> {
    match rustix::fs::flock(file, op) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl<R: HasRead> Read for File<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.need(Rights::READ)?;
        self.inner.read(buf)
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.need(Rights::READ)?;
        self.inner.read_vectored(bufs)
    }
    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.need(Rights::READ)?;
        #[cfg(target_os = "linux")]
        {
            super::fast_path::read_to_end(&self.inner, buf)
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.inner.read_to_end(buf)
        }
    }
    fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
        self.need(Rights::READ)?;
        #[cfg(target_os = "linux")]
        {
            // As std does: read into the string's own bytes, and keep what
            // was appended only if it is UTF-8, else leave `buf` as it was
            // (a read error that cut the reading short is still returned
            // after what came before it).
            let mut bytes = std::mem::take(buf).into_bytes();
            let start = bytes.len();
            let read = super::fast_path::read_to_end(&self.inner, &mut bytes);
            let valid = std::str::from_utf8(&bytes[start..]).is_ok();
            if !valid {
                bytes.truncate(start);
            }
            match String::from_utf8(bytes) {
                Ok(text) => *buf = text,
                Err(_) => unreachable!("the bytes kept are the string's and UTF-8 appended to it"),
            }
            match read {
                Err(e) => Err(e),
                Ok(_) if !valid => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )),
                Ok(n) => Ok(n),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.inner.read_to_string(buf)
        }
    }
}

impl<R: HasRead> Read for &File<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.need(Rights::READ)?;
        (&self.inner).read(buf)
    }
}

impl<R: HasWrite> Write for File<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.need(Rights::WRITE)?;
        self.inner.write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.need(Rights::WRITE)?;
        self.inner.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: HasWrite> Write for &File<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.need(Rights::WRITE)?;
        (&self.inner).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        (&self.inner).flush()
    }
}

impl<R: RightSet> Seek for File<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: RightSet> Seek for &File<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        (&self.inner).seek(pos)
    }
}
