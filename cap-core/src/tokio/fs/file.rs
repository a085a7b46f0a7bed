//! [`File<R>`]: an async file with the rights `R`.

use std::fmt;
use std::io::{self, SeekFrom};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::{Metadata, Permissions};
use crate::fs as sync;
use crate::rights::{
    self, Dynamic, HasRead, HasSetMeta, HasStat, HasTruncate, HasWrite, RightSet, Rights, SubsetOf,
};

/// An open file with the rights `R`, like [`tokio::fs::File`](::tokio::fs::File)
/// (which it wraps: reads and writes go through tokio's blocking pool in
/// chunks, never the whole file at once).
///
/// [`AsyncRead`] is implemented where `R` has `Read`, [`AsyncWrite`] where it
/// has `Write`, [`AsyncSeek`] always; the descriptor was opened with the
/// matching access mode by the sync handle it came from, so the type and the
/// kernel agree. Get one from [`Dir::open`](super::Dir::open) and friends, or
/// `File::from(sync_file)`.
pub struct File<R: RightSet> {
    inner: ::tokio::fs::File,
    rights: Rights,
    origin: PathBuf,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> fmt::Debug for File<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tokio::fs::File")
            .field("origin", &self.origin)
            .field("rights", &format_args!("{}", self.rights))
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> fmt::Display for File<R> {
    /// `file `/srv/site/index.html``: how errors name this handle.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "file `{}`", self.origin.display())
    }
}

/// The async face of a sync file: same descriptor, same rights, no token.
impl<R: RightSet> From<sync::File<R>> for File<R> {
    fn from(file: sync::File<R>) -> Self {
        let rights = file.rights();
        let origin = file.origin();
        // The typing moves to this handle, which keeps `rights`; the token
        // only unwraps the descriptor inside cap-core.
        let std = file.into_std(crate::ambient_authority());
        Self::from_parts(::tokio::fs::File::from_std(std), rights, origin)
    }
}

impl<R: RightSet> File<R> {
    fn from_parts(inner: ::tokio::fs::File, rights: Rights, origin: PathBuf) -> Self {
        Self {
            inner,
            rights,
            origin,
            _rights: PhantomData,
        }
    }

    /// The rights of this handle, as a mask.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// The path this file was opened by, for messages and reports only.
    pub fn origin(&self) -> &Path {
        &self.origin
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

    #[inline]
    fn need(&self, need: Rights) -> io::Result<()> {
        if R::DYNAMIC {
            rights::require(self.rights, need, self)
        } else {
            Ok(())
        }
    }

    /// The file's metadata. Needs `Stat`. See
    /// [`tokio::fs::File::metadata`](::tokio::fs::File::metadata).
    pub async fn metadata(&self) -> io::Result<Metadata>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        let std = self.inner.metadata().await?;
        Ok(Metadata::from_just_metadata(std))
    }

    /// Truncates or extends the file. Needs `Truncate` and `Write`. See
    /// [`tokio::fs::File::set_len`](::tokio::fs::File::set_len).
    pub async fn set_len(&self, size: u64) -> io::Result<()>
    where
        R: HasTruncate + HasWrite,
    {
        self.need(Rights::TRUNCATE | Rights::WRITE)?;
        self.inner.set_len(size).await
    }

    /// Flushes data and metadata to the device. Needs `Write`. See
    /// [`tokio::fs::File::sync_all`](::tokio::fs::File::sync_all).
    pub async fn sync_all(&self) -> io::Result<()>
    where
        R: HasWrite,
    {
        self.need(Rights::WRITE)?;
        self.inner.sync_all().await
    }

    /// Flushes data to the device. Needs `Write`. See
    /// [`tokio::fs::File::sync_data`](::tokio::fs::File::sync_data).
    pub async fn sync_data(&self) -> io::Result<()>
    where
        R: HasWrite,
    {
        self.need(Rights::WRITE)?;
        self.inner.sync_data().await
    }

    /// Sets the file's permissions. Needs `SetMeta`. See
    /// [`tokio::fs::File::set_permissions`](::tokio::fs::File::set_permissions).
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()>
    where
        R: HasSetMeta,
    {
        self.need(Rights::SET_META)?;
        self.inner.set_permissions(perm_mode(&perm)).await
    }

    /// Another handle to the same open file, with the same rights. See
    /// [`tokio::fs::File::try_clone`](::tokio::fs::File::try_clone).
    pub async fn try_clone(&self) -> io::Result<Self> {
        Ok(Self::from_parts(
            self.inner.try_clone().await?,
            self.rights,
            self.origin.clone(),
        ))
    }

    /// The largest chunk one read or write hands to the blocking pool. See
    /// [`tokio::fs::File::set_max_buf_size`](::tokio::fs::File::set_max_buf_size).
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        self.inner.set_max_buf_size(max_buf_size);
    }
}

fn perm_mode(perm: &Permissions) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::Permissions::from_mode(cap_std::fs::PermissionsExt::mode(perm))
}

fn refused(rights: Rights, need: Rights, what: &dyn fmt::Display) -> Poll<io::Result<()>> {
    Poll::Ready(rights::require(rights, need, what))
}

impl<R: HasRead> AsyncRead for File<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if R::DYNAMIC && !this.rights.contains(Rights::READ) {
            return refused(this.rights, Rights::READ, this);
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<R: HasWrite> AsyncWrite for File<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if R::DYNAMIC && !this.rights.contains(Rights::WRITE) {
            return refused(this.rights, Rights::WRITE, this).map_ok(|()| 0);
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<R: RightSet> AsyncSeek for File<R> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        Pin::new(&mut self.get_mut().inner).start_seek(position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pin::new(&mut self.get_mut().inner).poll_complete(cx)
    }
}
