//! [`Walk`]: every entry beneath a directory, as `find`, `tree` or
//! `grep -r` visit them, in order on one thread or unordered on several.
//!
//! A walk descends only into entries the listing reports as directories
//! (`d_type`), and descends with [`DirEntry::read_dir`]: one `openat` of the
//! name relative to the listed directory, with `O_NOFOLLOW` on Linux. A
//! symlink is an entry like any other and is never followed, so a walk stays
//! beneath the directory it started from and cannot loop. A directory
//! swapped for a symlink between the listing and the descent is refused by
//! the open or resolved beneath the listed directory (cap-std's rule), never
//! outside it.
//!
//! [`Walk::for_each_parallel`] lists directories on several threads: on a
//! tree of many directories the kernel's `getdents64` is most of a walk's
//! time, and directories can be read side by side.

use std::fmt;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use super::{DirEntry, ReadDir};
use crate::rights::{HasLookup, HasRead, RightSet};

/// Decides which entries a walk keeps (see [`Walk::filter_entry`]).
type Filter<R> = Arc<dyn Fn(&WalkEntry<R>) -> bool + Send + Sync>;

/// An entry met on a [`Walk`]: a [`DirEntry`] (it derefs to one: open it,
/// ask its type or metadata, with the walked directory's rights), its path
/// relative to the walked directory and its depth.
pub struct WalkEntry<R: RightSet> {
    entry: DirEntry<R>,
    /// How many components the walked directory's own path has: the
    /// entry's listing path without them is its directory relative to the
    /// walk (no path of its own to share per entry: a reference count per
    /// entry was 4% of a walk).
    root: usize,
    depth: usize,
}

impl<R: RightSet> WalkEntry<R> {
    /// The entry's path relative to the walked directory (`sub/file.txt`).
    pub fn path(&self) -> PathBuf {
        let mut path: PathBuf = self
            .entry
            .listing_path()
            .components()
            .skip(self.root)
            .collect();
        path.push(self.entry.file_name());
        path
    }

    /// How deep the entry is: 1 for an entry of the walked directory itself.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The directory entry, to keep.
    pub fn into_entry(self) -> DirEntry<R> {
        self.entry
    }

    fn is_dir(&self) -> bool {
        self.entry.file_type().is_ok_and(|t| t.is_dir())
    }
}

impl<R: RightSet> Deref for WalkEntry<R> {
    type Target = DirEntry<R>;

    fn deref(&self) -> &DirEntry<R> {
        &self.entry
    }
}

impl<R: RightSet> fmt::Debug for WalkEntry<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalkEntry")
            .field("path", &self.path())
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

/// One open listing of a walk: its entries and their depth.
struct Level<R: RightSet> {
    list: ReadDir<R>,
    depth: usize,
}

/// A walk over every entry beneath a directory, made by [`super::Dir::walk`].
///
/// As an [`Iterator`] it is depth first and in listing order: a directory's
/// entry comes before the entries beneath it. [`Walk::for_each_parallel`]
/// visits the same entries on several threads, in no set order. Either way
/// each entry comes once, symlinks are reported and not followed, and a
/// directory that cannot be listed gives an error (naming it) and the walk
/// goes on.
pub struct Walk<R: RightSet> {
    stack: Vec<Level<R>>,
    /// The components of the walked directory's path (see [`WalkEntry`]).
    root: usize,
    /// An error to give after the entry that caused it.
    pending: Option<io::Error>,
    max_depth: usize,
    threads: usize,
    filter: Option<Filter<R>>,
}

impl<R: RightSet> fmt::Debug for Walk<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walk")
            .field("max_depth", &self.max_depth)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl<R: RightSet + HasLookup + HasRead> Walk<R> {
    pub(crate) fn new(root: ReadDir<R>, root_path: &Path) -> Self {
        Walk {
            stack: vec![Level {
                list: root,
                depth: 1,
            }],
            root: root_path.components().count(),
            pending: None,
            max_depth: usize::MAX,
            threads: 0,
            filter: None,
        }
    }

    /// Entries deeper than `depth` are not visited (1: the directory's own
    /// entries only; 0: none).
    #[must_use]
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// The threads [`Walk::for_each_parallel`] lists directories on (0, the
    /// default: as many as the machine has cores).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Keeps only the entries for which `keep` is true; a directory left
    /// out is not descended into (`e.file_name() != ".git"`).
    #[must_use]
    pub fn filter_entry(
        mut self,
        keep: impl Fn(&WalkEntry<R>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter = Some(Arc::new(keep));
        self
    }

    fn keeps(&self, e: &WalkEntry<R>) -> bool {
        self.filter.as_ref().is_none_or(|keep| keep(e))
    }

    /// Visits every entry, calling `visit` on several threads at once (see
    /// [`Walk::threads`]); directories are listed on the same threads, as
    /// they are found. Returns when every entry was visited. The order is
    /// not set. An error (a directory that cannot be listed) is visited
    /// too, and the walk goes on.
    ///
    /// The threads are started and joined within this call: none is left
    /// running, so it may be called before a sandbox is entered (Landlock
    /// restricts a process whose threads all exist at the time).
    pub fn for_each_parallel(self, visit: impl Fn(io::Result<&WalkEntry<R>>) + Sync) {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        };
        if threads == 1 {
            for e in self {
                visit(e.as_ref().map_err(copy_error));
            }
            return;
        }
        let Walk {
            stack,
            root,
            max_depth,
            filter,
            ..
        } = self;
        let shared = Shared {
            state: Mutex::new(State {
                work: stack.into_iter().map(Work::Listing).collect(),
                busy: 0,
                idle: 0,
            }),
            wake: Condvar::new(),
        };
        let keep = |e: &WalkEntry<R>| filter.as_ref().is_none_or(|keep| keep(e));
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    while let Some(work) = shared.take() {
                        // Given back (and the others woken) however this ends.
                        let done = Done(&shared);
                        let (list, depth) = match work {
                            Work::Listing(l) => (l.list, l.depth),
                            Work::Descend(e) => match e.entry.read_dir() {
                                Ok(list) => (list, e.depth + 1),
                                Err(err) => {
                                    visit(Err(err));
                                    drop(done);
                                    continue;
                                }
                            },
                        };
                        let mut found = Vec::new();
                        for entry in list {
                            let entry = match entry {
                                Ok(entry) => WalkEntry { entry, root, depth },
                                Err(err) => {
                                    visit(Err(err));
                                    continue;
                                }
                            };
                            if depth > max_depth || !keep(&entry) {
                                continue;
                            }
                            visit(Ok(&entry));
                            if depth < max_depth && entry.is_dir() {
                                found.push(Work::Descend(entry));
                            }
                        }
                        shared.give(found);
                        drop(done);
                    }
                });
            }
        });
    }
}

/// An error passed on by reference: the same kind and message.
fn copy_error(e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), e.to_string())
}

/// What a worker of a parallel walk does next.
enum Work<R: RightSet> {
    /// Read a listing already open (the walk's start).
    Listing(Level<R>),
    /// Open a directory met in a listing, and read it. Kept unopened until
    /// then: its listing holds the one descriptor its siblings share.
    Descend(WalkEntry<R>),
}

struct State<R: RightSet> {
    /// Last in, first out: deep first, so few listings are held at once.
    work: Vec<Work<R>>,
    /// Workers that took work and have not given theirs back.
    busy: usize,
    /// Workers waiting for work (woken only when there are some: a wake-up
    /// is a system call).
    idle: usize,
}

struct Shared<R: RightSet> {
    state: Mutex<State<R>>,
    wake: Condvar,
}

impl<R: RightSet> Shared<R> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<R>> {
        // A visitor that panicked poisons nothing the walk relies on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next work, or `None` when there is none left anywhere.
    fn take(&self) -> Option<Work<R>> {
        let mut state = self.lock();
        loop {
            if let Some(work) = state.work.pop() {
                state.busy += 1;
                return Some(work);
            }
            if state.busy == 0 {
                return None;
            }
            state.idle += 1;
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
        }
    }

    fn give(&self, found: Vec<Work<R>>) {
        if !found.is_empty() {
            let mut state = self.lock();
            state.work.extend(found);
            let wake = state.idle > 0;
            drop(state);
            if wake {
                self.wake.notify_all();
            }
        }
    }
}

/// Ends one worker's turn: it is no longer busy, and the others may be
/// waiting to learn that nothing is left (also when the visitor panicked).
struct Done<'a, R: RightSet>(&'a Shared<R>);

impl<R: RightSet> Drop for Done<'_, R> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.busy -= 1;
        // The last busy worker ends the walk for the waiting ones.
        let wake = state.idle > 0 && state.busy == 0;
        drop(state);
        if wake {
            self.0.wake.notify_all();
        }
    }
}

impl<R: RightSet + HasLookup + HasRead> Iterator for Walk<R> {
    type Item = io::Result<WalkEntry<R>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(err) = self.pending.take() {
                return Some(Err(err));
            }
            let level = self.stack.last_mut()?;
            if level.depth > self.max_depth {
                self.stack.pop();
                continue;
            }
            let entry = match level.list.next() {
                None => {
                    self.stack.pop();
                    continue;
                }
                Some(Err(err)) => return Some(Err(err)),
                Some(Ok(entry)) => WalkEntry {
                    entry,
                    root: self.root,
                    depth: level.depth,
                },
            };
            if !self.keeps(&entry) {
                continue;
            }
            if entry.depth < self.max_depth && entry.is_dir() {
                match entry.entry.read_dir() {
                    Ok(list) => self.stack.push(Level {
                        list,
                        depth: entry.depth + 1,
                    }),
                    Err(err) => self.pending = Some(err),
                }
            }
            return Some(Ok(entry));
        }
    }
}
