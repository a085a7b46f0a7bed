//! [`ReadDir`] and [`DirEntry`]: directory listings whose entries open with
//! their directory's rights.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use super::error::at;
use super::origin::Origin;
use super::{Dir, File, FileType, Metadata};
use crate::rights::{self, HasLookup, HasRead, HasRemove, HasStat, RightSet, Rights};

/// An iterator over the entries of a directory, like [`cap_std::fs::ReadDir`].
pub struct ReadDir<R: RightSet> {
    inner: cap_std::fs::ReadDir,
    rights: Rights,
    origin: Arc<Path>,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> ReadDir<R> {
    pub(crate) fn new(inner: cap_std::fs::ReadDir, rights: Rights, origin: Arc<Path>) -> Self {
        Self {
            inner,
            rights,
            origin,
            _rights: PhantomData,
        }
    }
}

impl<R: RightSet> fmt::Debug for ReadDir<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> Iterator for ReadDir<R> {
    type Item = io::Result<DirEntry<R>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|entry| {
            entry.map(|inner| DirEntry {
                inner,
                rights: self.rights,
                origin: self.origin.clone(),
                _rights: PhantomData,
            })
        })
    }
}

/// An entry of a directory listing, like [`cap_std::fs::DirEntry`]: it opens
/// relative to its directory, with the directory's rights.
pub struct DirEntry<R: RightSet> {
    inner: cap_std::fs::DirEntry,
    rights: Rights,
    origin: Arc<Path>,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> fmt::Debug for DirEntry<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirEntry")
            .field("origin", &self.origin)
            .field("name", &self.inner.file_name())
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> fmt::Display for DirEntry<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry `{}`",
            self.origin.join(self.inner.file_name()).display()
        )
    }
}

impl<R: RightSet> DirEntry<R> {
    #[inline]
    fn need(&self, need: Rights) -> io::Result<()> {
        if R::DYNAMIC {
            rights::require(self.rights, need, self)
        } else {
            Ok(())
        }
    }

    fn child_origin(&self) -> Arc<Path> {
        Arc::from(self.origin.join(self.inner.file_name()))
    }

    fn err(&self, op: &'static str) -> impl FnOnce(io::Error) -> io::Error + '_ {
        let name = self.inner.file_name();
        move |e| at(op, &self.origin, Path::new(&name), e)
    }

    /// Opens the entry as a file for reading. Needs `Lookup` and `Read`, as
    /// [`Dir::open`] does. See [`cap_std::fs::DirEntry::open`].
    pub fn open(&self) -> io::Result<File<R::Reader>>
    where
        R: HasLookup + HasRead,
    {
        self.need(Rights::LOOKUP | Rights::READ)?;
        let file = self.inner.open().map_err(self.err("open"))?;
        let rights = self.rights & (Rights::READ | Rights::STAT | Rights::SET_META);
        Ok(File::from_parts(
            file,
            rights,
            Origin::new(&self.origin, Path::new(&self.inner.file_name())),
        ))
    }

    /// Opens the entry as a directory with the same rights. Needs `Lookup`, as
    /// [`Dir::open_dir`] does. See [`cap_std::fs::DirEntry::open_dir`].
    pub fn open_dir(&self) -> io::Result<Dir<R>>
    where
        R: HasLookup,
    {
        self.need(Rights::LOOKUP)?;
        let dir = self.inner.open_dir().map_err(self.err("open directory"))?;
        Ok(Dir::from_parts(dir, self.rights, self.child_origin()))
    }

    /// Removes the entry as a file. Needs `Remove`. See
    /// [`cap_std::fs::DirEntry::remove_file`].
    pub fn remove_file(&self) -> io::Result<()>
    where
        R: HasRemove,
    {
        self.need(Rights::REMOVE)?;
        self.inner.remove_file().map_err(self.err("remove_file"))
    }

    /// Removes the entry as an empty directory. Needs `Remove`. See
    /// [`cap_std::fs::DirEntry::remove_dir`].
    pub fn remove_dir(&self) -> io::Result<()>
    where
        R: HasRemove,
    {
        self.need(Rights::REMOVE)?;
        self.inner.remove_dir().map_err(self.err("remove_dir"))
    }

    /// The entry's metadata, not following symlinks. Needs `Stat`. See
    /// [`cap_std::fs::DirEntry::metadata`].
    pub fn metadata(&self) -> io::Result<Metadata>
    where
        R: HasStat,
    {
        self.need(Rights::STAT)?;
        self.inner.metadata().map_err(self.err("metadata"))
    }

    /// The entry's file type, usually without a system call. See
    /// [`cap_std::fs::DirEntry::file_type`].
    pub fn file_type(&self) -> io::Result<FileType> {
        self.inner.file_type()
    }

    /// The entry's name. See [`cap_std::fs::DirEntry::file_name`].
    pub fn file_name(&self) -> OsString {
        self.inner.file_name()
    }
}
