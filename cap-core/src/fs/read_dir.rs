//! [`ReadDir`] and [`DirEntry`]: directory listings whose entries open with
//! their directory's rights.
//!
//! On Linux the listing is read with `getdents64` from one descriptor opened
//! for it (one `openat` for a single name, else cap-std's `openat2`), and the
//! entries act on that same descriptor: `openat`, `statx` and `unlinkat` do
//! not use or move its read position. cap-std opens the directory, then
//! reopens `.` for its own iterator (`openat` + `fcntl` + `close` more), and
//! each of its entries holds a reference count on top of the one this crate
//! added for the origin path; here an entry holds one. Elsewhere the listing
//! is cap-std's.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use super::error::at;
use super::{Dir, File, FileType, Metadata};
use crate::rights::{self, HasLookup, HasRead, HasRemove, HasStat, RightSet, Rights};

/// An iterator over the entries of a directory, like [`cap_std::fs::ReadDir`].
pub struct ReadDir<R: RightSet> {
    inner: imp::Entries,
    rights: Rights,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> ReadDir<R> {
    /// The entries of `dir` itself.
    pub(crate) fn of_dir(
        dir: &cap_std::fs::Dir,
        rights: Rights,
        origin: &Arc<Path>,
    ) -> io::Result<Self> {
        Ok(Self {
            inner: imp::Entries::of_dir(dir, origin)?,
            rights,
            _rights: PhantomData,
        })
    }

    /// The entries of `path` beneath `dir`.
    pub(crate) fn beneath(
        dir: &cap_std::fs::Dir,
        path: &Path,
        rights: Rights,
        origin: &Arc<Path>,
    ) -> io::Result<Self> {
        Ok(Self {
            inner: imp::Entries::beneath(dir, path, origin)?,
            rights,
            _rights: PhantomData,
        })
    }
}

impl<R: RightSet> fmt::Debug for ReadDir<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir")
            .field("origin", &self.inner.origin())
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> Iterator for ReadDir<R> {
    type Item = io::Result<DirEntry<R>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|entry| match entry {
            Ok(inner) => Ok(DirEntry {
                inner,
                rights: self.rights,
                _rights: PhantomData,
            }),
            // A listing that fails part way (the directory removed, an I/O
            // error) says which directory.
            Err(e) => Err(at("read directory", &self.inner.origin(), Path::new(""), e)),
        })
    }
}

/// An entry of a directory listing, like [`cap_std::fs::DirEntry`]: it opens
/// relative to its directory, with the directory's rights.
pub struct DirEntry<R: RightSet> {
    inner: imp::Entry,
    rights: Rights,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> fmt::Debug for DirEntry<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirEntry")
            .field("origin", &self.inner.origin())
            .field("name", &self.inner.file_name())
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> fmt::Display for DirEntry<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry `{}`",
            self.inner.origin().join(self.inner.file_name()).display()
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
        Arc::from(self.inner.origin().join(self.inner.file_name()))
    }

    fn err(&self, op: &'static str) -> impl FnOnce(io::Error) -> io::Error + '_ {
        move |e| {
            at(
                op,
                &self.inner.origin(),
                Path::new(&self.inner.file_name()),
                e,
            )
        }
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
        Ok(File::from_parts(file, rights, self.inner.file_origin()))
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

    /// The entries of the entry, as a directory (following a symlink beneath
    /// the listed directory). Needs `Lookup` and `Read`, as [`Dir::read_dir`]
    /// does. See [`cap_std::fs::DirEntry::read_dir`].
    ///
    /// This is how a tree walk should descend: on Linux it is one `openat` of
    /// the name, where `open_dir` and then `entries` are two.
    pub fn read_dir(&self) -> io::Result<ReadDir<R>>
    where
        R: HasLookup + HasRead,
    {
        self.need(Rights::LOOKUP | Rights::READ)?;
        let inner = self.inner.read_dir().map_err(self.err("read directory"))?;
        Ok(ReadDir {
            inner,
            rights: self.rights,
            _rights: PhantomData,
        })
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

    /// The entry's file type, usually without a system call (on Linux a
    /// directory or a regular file never needs one). See
    /// [`cap_std::fs::DirEntry::file_type`].
    pub fn file_type(&self) -> io::Result<FileType> {
        self.inner.file_type()
    }

    /// [`DirEntry::read_dir`] for a walk: only if the entry is a directory
    /// itself, never through a symlink (a directory swapped for one after
    /// it was listed is refused, `NotADirectory`), so a walk cannot repeat
    /// a directory, loop, or reach one its filter left out.
    pub(crate) fn read_dir_nofollow(&self) -> io::Result<ReadDir<R>>
    where
        R: HasLookup + HasRead,
    {
        let inner = self
            .inner
            .read_dir_nofollow()
            .map_err(self.err("read directory"))?;
        Ok(ReadDir {
            inner,
            rights: self.rights,
            _rights: PhantomData,
        })
    }

    /// The path of the directory the entry was listed in: its handle's
    /// origin joined with the names descended through ([`super::WalkEntry`]
    /// takes its relative path from it).
    pub(crate) fn listing_path(&self) -> &Path {
        self.inner.listing_path()
    }

    /// The entry's name. See [`cap_std::fs::DirEntry::file_name`].
    pub fn file_name(&self) -> OsString {
        self.inner.file_name()
    }
}

#[cfg(target_os = "linux")]
mod imp {
    //! The listing read with `getdents64`, entries acting on its descriptor.

    use std::collections::VecDeque;
    use std::ffi::{OsStr, OsString};
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, OnceLock};

    use rustix::fs::{FileType as RawType, Mode, RawDir};

    use super::super::fast_path;
    use super::super::origin::Origin;
    use super::super::{FileType, Metadata};

    /// The size of one `getdents64` read, as glibc's `opendir` uses.
    const BATCH: usize = 32 * 1024;

    /// The listed directory: its descriptor, opened for reading, and where it
    /// came from. Shared by the iterator and its entries.
    struct Listing {
        dir: cap_std::fs::Dir,
        origin: Origin,
        /// `origin` joined, made when an entry first needs it (to open a file
        /// or a directory), then shared by all of them.
        joined: OnceLock<Arc<Path>>,
    }

    impl Listing {
        fn joined(&self) -> &Arc<Path> {
            self.joined.get_or_init(|| Arc::from(self.origin.path()))
        }
    }

    /// The longest name kept in an entry itself. Longer names (rare: most
    /// are well under 38 bytes) are put on the heap.
    const INLINE: usize = 38;

    /// An entry's name, in the entry when it fits, so that listing a
    /// directory allocates nothing per entry (std allocates a `CString`
    /// for each).
    enum Name {
        Inline { len: u8, bytes: [u8; INLINE] },
        Heap(Box<OsStr>),
    }

    impl Name {
        fn new(name: &[u8]) -> Self {
            match u8::try_from(name.len()) {
                Ok(len) if name.len() <= INLINE => {
                    let mut bytes = [0; INLINE];
                    bytes[..name.len()].copy_from_slice(name);
                    Name::Inline { len, bytes }
                }
                _ => Name::Heap(OsStr::from_bytes(name).into()),
            }
        }

        fn as_os_str(&self) -> &OsStr {
            match self {
                Name::Inline { len, bytes } => OsStr::from_bytes(&bytes[..usize::from(*len)]),
                Name::Heap(name) => name,
            }
        }
    }

    #[derive(Clone, Copy)]
    enum Kind {
        Dir,
        File,
        /// A symlink, a device, a socket, or a file system that does not say:
        /// asked with `statx` when wanted, as cap-std and std do.
        Other,
    }

    pub(super) struct Entries {
        listing: Arc<Listing>,
        buf: Vec<u8>,
        batch: VecDeque<(Name, Kind)>,
        done: bool,
    }

    impl Entries {
        fn new(dir: cap_std::fs::Dir, origin: Origin) -> Self {
            Self {
                listing: Arc::new(Listing {
                    dir,
                    origin,
                    joined: OnceLock::new(),
                }),
                buf: Vec::new(),
                // Most directories fit: no regrowing while the first batch is read.
                batch: VecDeque::with_capacity(64),
                done: false,
            }
        }

        pub(super) fn of_dir(dir: &cap_std::fs::Dir, origin: &Arc<Path>) -> io::Result<Self> {
            let dir = fast_path::reopen_for_listing(dir)?;
            Ok(Self::new(dir, Origin::new(origin, Path::new(""))))
        }

        pub(super) fn beneath(
            dir: &cap_std::fs::Dir,
            path: &Path,
            origin: &Arc<Path>,
        ) -> io::Result<Self> {
            let dir = fast_path::open_for_listing(dir, path)?;
            Ok(Self::new(dir, Origin::new(origin, path)))
        }

        pub(super) fn origin(&self) -> PathBuf {
            self.listing.origin.path()
        }

        /// Reads one `getdents64` batch into `self.batch`.
        fn fill(&mut self) -> io::Result<()> {
            let Self {
                listing,
                buf,
                batch,
                done,
            } = self;
            if buf.capacity() == 0 {
                buf.reserve_exact(BATCH);
            }
            let mut raw = RawDir::new(&listing.dir, buf.spare_capacity_mut());
            loop {
                let Some(entry) = raw.next() else {
                    *done = true;
                    return Ok(());
                };
                let entry = entry?;
                let name = entry.file_name().to_bytes();
                if name != b"." && name != b".." {
                    let kind = match entry.file_type() {
                        RawType::Directory => Kind::Dir,
                        RawType::RegularFile => Kind::File,
                        _ => Kind::Other,
                    };
                    batch.push_back((Name::new(name), kind));
                }
                if raw.is_buffer_empty() && !batch.is_empty() {
                    return Ok(());
                }
            }
        }

        pub(super) fn next(&mut self) -> Option<io::Result<Entry>> {
            while self.batch.is_empty() && !self.done {
                if let Err(e) = self.fill() {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            let (name, kind) = self.batch.pop_front()?;
            Some(Ok(Entry {
                listing: self.listing.clone(),
                name,
                kind,
            }))
        }
    }

    pub(super) struct Entry {
        listing: Arc<Listing>,
        name: Name,
        kind: Kind,
    }

    impl Entry {
        pub(super) fn origin(&self) -> PathBuf {
            self.listing.origin.path()
        }

        pub(super) fn file_origin(&self) -> Origin {
            Origin::new(self.listing.joined(), Path::new(self.name()))
        }

        pub(super) fn listing_path(&self) -> &Path {
            self.listing.joined()
        }

        pub(super) fn file_name(&self) -> OsString {
            self.name().to_os_string()
        }

        fn name(&self) -> &OsStr {
            self.name.as_os_str()
        }

        fn dir(&self) -> &cap_std::fs::Dir {
            &self.listing.dir
        }

        pub(super) fn open(&self) -> io::Result<cap_std::fs::File> {
            // A name from `getdents64` is one component, never `.` or `..`.
            let opened =
                fast_path::open_name(self.dir(), self.name(), fast_path::READ, Mode::empty())?;
            match opened {
                Some(file) => Ok(file),
                None => self.dir().open(self.name()),
            }
        }

        pub(super) fn open_dir(&self) -> io::Result<cap_std::fs::Dir> {
            self.dir().open_dir(self.name())
        }

        pub(super) fn read_dir(&self) -> io::Result<Entries> {
            let dir = fast_path::open_for_listing(self.dir(), Path::new(self.name()))?;
            Ok(Entries::new(
                dir,
                Origin::new(self.listing.joined(), Path::new(self.name())),
            ))
        }

        pub(super) fn read_dir_nofollow(&self) -> io::Result<Entries> {
            let dir = fast_path::open_name_for_listing_nofollow(self.dir(), self.name())?;
            Ok(Entries::new(
                dir,
                Origin::new(self.listing.joined(), Path::new(self.name())),
            ))
        }

        pub(super) fn remove_file(&self) -> io::Result<()> {
            self.dir().remove_file(self.name())
        }

        pub(super) fn remove_dir(&self) -> io::Result<()> {
            self.dir().remove_dir(self.name())
        }

        pub(super) fn metadata(&self) -> io::Result<Metadata> {
            self.dir().symlink_metadata(self.name())
        }

        pub(super) fn file_type(&self) -> io::Result<FileType> {
            match self.kind {
                Kind::Dir => Ok(FileType::dir()),
                Kind::File => Ok(FileType::file()),
                // cap-std's `FileType` has no public constructor for the
                // other kinds, so ask: one `statx` of the name.
                Kind::Other => Ok(self.metadata()?.file_type()),
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    //! cap-std's listing.

    use std::ffi::OsString;
    use std::io;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use super::super::origin::Origin;
    use super::super::{FileType, Metadata};

    pub(super) struct Entries {
        inner: cap_std::fs::ReadDir,
        origin: Arc<Path>,
    }

    impl Entries {
        pub(super) fn of_dir(dir: &cap_std::fs::Dir, origin: &Arc<Path>) -> io::Result<Self> {
            Ok(Self {
                inner: dir.entries()?,
                origin: origin.clone(),
            })
        }

        pub(super) fn beneath(
            dir: &cap_std::fs::Dir,
            path: &Path,
            origin: &Arc<Path>,
        ) -> io::Result<Self> {
            Ok(Self {
                inner: dir.read_dir(path)?,
                origin: Arc::from(origin.join(path)),
            })
        }

        pub(super) fn origin(&self) -> PathBuf {
            self.origin.to_path_buf()
        }

        pub(super) fn next(&mut self) -> Option<io::Result<Entry>> {
            self.inner.next().map(|entry| {
                entry.map(|inner| Entry {
                    inner,
                    origin: self.origin.clone(),
                })
            })
        }
    }

    pub(super) struct Entry {
        inner: cap_std::fs::DirEntry,
        origin: Arc<Path>,
    }

    impl Entry {
        pub(super) fn origin(&self) -> PathBuf {
            self.origin.to_path_buf()
        }

        pub(super) fn file_origin(&self) -> Origin {
            Origin::new(&self.origin, Path::new(&self.inner.file_name()))
        }

        pub(super) fn listing_path(&self) -> &Path {
            &self.origin
        }

        pub(super) fn file_name(&self) -> OsString {
            self.inner.file_name()
        }

        pub(super) fn open(&self) -> io::Result<cap_std::fs::File> {
            self.inner.open()
        }

        pub(super) fn open_dir(&self) -> io::Result<cap_std::fs::Dir> {
            self.inner.open_dir()
        }

        pub(super) fn read_dir(&self) -> io::Result<Entries> {
            Ok(Entries {
                // cap-std's `DirEntry` has no `read_dir`.
                inner: self.inner.open_dir()?.entries()?,
                origin: Arc::from(self.origin.join(self.inner.file_name())),
            })
        }

        /// cap-std's `DirEntry` opens a directory following a symlink
        /// beneath its directory, and has no `O_NOFOLLOW` form: the
        /// directory opened must be the one the entry is (the same device
        /// and inode as the entry's own, unfollowed metadata).
        pub(super) fn read_dir_nofollow(&self) -> io::Result<Entries> {
            use cap_fs_ext::MetadataExt as _;
            let listed = self.inner.metadata()?;
            let dir = self.inner.open_dir()?;
            let opened = dir.dir_metadata()?;
            if !listed.is_dir() || (listed.dev(), listed.ino()) != (opened.dev(), opened.ino()) {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "no longer the directory that was listed",
                ));
            }
            Ok(Entries {
                inner: dir.entries()?,
                origin: Arc::from(self.origin.join(self.inner.file_name())),
            })
        }

        pub(super) fn remove_file(&self) -> io::Result<()> {
            self.inner.remove_file()
        }

        pub(super) fn remove_dir(&self) -> io::Result<()> {
            self.inner.remove_dir()
        }

        pub(super) fn metadata(&self) -> io::Result<Metadata> {
            self.inner.metadata()
        }

        pub(super) fn file_type(&self) -> io::Result<FileType> {
            self.inner.file_type()
        }
    }
}
