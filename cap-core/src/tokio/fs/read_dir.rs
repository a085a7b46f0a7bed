//! [`ReadDir`] and [`DirEntry`]: async directory listings whose entries open
//! with their directory's rights.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use ::tokio::task::JoinHandle;

use super::{Dir, File, FileType, Metadata};
use crate::fs as sync;
use crate::rights::{HasLookup, HasRead, HasRemove, HasStat, RightSet};
use crate::tokio::blocking;

/// How many entries one trip to the blocking pool reads (tokio's `ReadDir`
/// reads 32 as well).
const CHUNK: usize = 32;

type Chunk<R> = (VecDeque<io::Result<DirEntry<R>>>, sync::ReadDir<R>, bool);

/// A stream of the entries of a directory, like
/// [`tokio::fs::ReadDir`](::tokio::fs::ReadDir): entries are read in chunks on
/// the blocking pool. Get one from [`Dir::entries`] or [`Dir::read_dir`].
///
/// ```
/// use cap_core::{ambient_authority, rights};
/// # let tmp = tempfile::tempdir()?; std::fs::write(tmp.path().join("a.txt"), "")?;
/// let sync = cap_core::fs::Dir::<rights![Read]>::open_ambient_dir(tmp.path(), ambient_authority())?;
/// # let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// let mut entries = cap_core::tokio::fs::Dir::from(sync).entries().await?;
/// while let Some(entry) = entries.next_entry().await? {
///     assert_eq!(entry.file_name(), "a.txt");
/// }
/// # Ok::<(), std::io::Error>(()) })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ReadDir<R: RightSet> {
    state: State<R>,
}

enum State<R: RightSet> {
    Idle(Option<Chunk<R>>),
    Pending(JoinHandle<Chunk<R>>),
}

impl<R: RightSet> fmt::Debug for ReadDir<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tokio::fs::ReadDir").finish_non_exhaustive()
    }
}

impl<R: RightSet> ReadDir<R> {
    /// Reads the first chunk at once: called on the blocking pool, in the
    /// same trip as the directory's open (as `tokio::fs::read_dir` does).
    pub(super) fn new(mut inner: sync::ReadDir<R>) -> Self {
        let mut buf = VecDeque::with_capacity(CHUNK);
        let more = next_chunk(&mut buf, &mut inner);
        Self {
            state: State::Idle(Some((buf, inner, more))),
        }
    }

    /// The next entry, or `None` at the end. See
    /// [`tokio::fs::ReadDir::next_entry`](::tokio::fs::ReadDir::next_entry).
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry<R>>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: the building block of a `Stream` adapter.
    /// See [`tokio::fs::ReadDir::poll_next_entry`](::tokio::fs::ReadDir::poll_next_entry).
    pub fn poll_next_entry(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<DirEntry<R>>>> {
        loop {
            match &mut self.state {
                State::Idle(idle) => {
                    let Some((mut buf, mut inner, more)) = idle.take() else {
                        return Poll::Ready(Ok(None));
                    };
                    if let Some(entry) = buf.pop_front() {
                        self.state = State::Idle(Some((buf, inner, more)));
                        return Poll::Ready(entry.map(Some));
                    }
                    if !more {
                        self.state = State::Idle(None);
                        return Poll::Ready(Ok(None));
                    }
                    self.state = State::Pending(::tokio::task::spawn_blocking(move || {
                        let more = next_chunk(&mut buf, &mut inner);
                        (buf, inner, more)
                    }));
                }
                State::Pending(task) => {
                    let chunk = ready!(std::pin::Pin::new(task).poll(cx));
                    match chunk {
                        Ok(chunk) => self.state = State::Idle(Some(chunk)),
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(io::Error::other(format!(
                                "blocking task failed: {e}"
                            ))));
                        }
                    }
                }
            }
        }
    }
}

/// Fills `buf` with up to [`CHUNK`] entries; false when the listing ended.
fn next_chunk<R: RightSet>(
    buf: &mut VecDeque<io::Result<DirEntry<R>>>,
    inner: &mut sync::ReadDir<R>,
) -> bool {
    for _ in 0..CHUNK {
        match inner.next() {
            Some(entry) => buf.push_back(entry.map(DirEntry::new)),
            None => return false,
        }
    }
    true
}

use std::future::Future as _;

/// An entry of a directory listing, like
/// [`tokio::fs::DirEntry`](::tokio::fs::DirEntry): it opens relative to its
/// directory, with the directory's rights.
pub struct DirEntry<R: RightSet> {
    inner: Arc<sync::DirEntry<R>>,
}

impl<R: RightSet> fmt::Debug for DirEntry<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("tokio::fs::DirEntry")
            .field(&self.inner)
            .finish()
    }
}

impl<R: RightSet> DirEntry<R> {
    fn new(inner: sync::DirEntry<R>) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The entry's name. See [`tokio::fs::DirEntry::file_name`](::tokio::fs::DirEntry::file_name).
    pub fn file_name(&self) -> OsString {
        self.inner.file_name()
    }

    /// The entry's file type (usually from the listing itself). See
    /// [`tokio::fs::DirEntry::file_type`](::tokio::fs::DirEntry::file_type).
    pub async fn file_type(&self) -> io::Result<FileType> {
        let entry = Arc::clone(&self.inner);
        blocking(move || entry.file_type()).await
    }

    /// The entry's metadata, not following symlinks. Needs `Stat`. See
    /// [`tokio::fs::DirEntry::metadata`](::tokio::fs::DirEntry::metadata).
    pub async fn metadata(&self) -> io::Result<Metadata>
    where
        R: HasStat,
    {
        let entry = Arc::clone(&self.inner);
        blocking(move || entry.metadata()).await
    }

    /// Opens the entry as a file for reading. Needs `Lookup` and `Read`.
    pub async fn open(&self) -> io::Result<File<R::Reader>>
    where
        R: HasLookup + HasRead,
    {
        let entry = Arc::clone(&self.inner);
        blocking(move || entry.open()).await.map(File::from)
    }

    /// Opens the entry as a directory with the same rights. Needs `Lookup`.
    pub async fn open_dir(&self) -> io::Result<Dir<R>>
    where
        R: HasLookup,
    {
        let entry = Arc::clone(&self.inner);
        blocking(move || entry.open_dir()).await.map(Dir::from)
    }

    /// Removes the entry as a file. Needs `Remove`.
    pub async fn remove_file(&self) -> io::Result<()>
    where
        R: HasRemove,
    {
        let entry = Arc::clone(&self.inner);
        blocking(move || entry.remove_file()).await
    }

    /// Removes the entry as an empty directory. Needs `Remove`.
    pub async fn remove_dir(&self) -> io::Result<()>
    where
        R: HasRemove,
    {
        let entry = Arc::clone(&self.inner);
        blocking(move || entry.remove_dir()).await
    }
}
