//! [`Walk`]: every entry beneath a directory, as `find`, `tree` or
//! `grep -r` visit them, in order on one thread or unordered on several.
//!
//! A walk descends only into entries the listing reports as directories
//! (`d_type`), with one `openat` of the name relative to the listed
//! directory that never follows it (`O_NOFOLLOW | O_DIRECTORY` on Linux;
//! elsewhere the directory opened must have the device and inode the
//! entry has). A symlink is an entry like any other and is never followed,
//! so a walk stays beneath the directory it started from, gives each entry
//! once, and cannot loop. A directory swapped for a symlink between the
//! listing and the descent is an error (`NotADirectory`, naming it) and is
//! not descended: not into the outside, not into another directory of the
//! tree, and not into one the walk's filter left out.
//!
//! A walk holds one descriptor per level of the path it is in, as a
//! recursive `std::fs::read_dir` walk does: a tree deeper than the
//! process's descriptor limit ends in `EMFILE` errors for its deepest
//! levels.
//!
//! [`Walk::for_each_parallel`] lists directories on several threads: on a
//! tree of many directories the kernel's `getdents64` is most of a walk's
//! time, and directories can be read side by side.

use std::any::Any;
use std::fmt;
use std::io;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use super::{DirEntry, ReadDir};
use crate::rights::{HasLookup, HasRead, RightSet};

/// Decides which entries a walk keeps (see [`Walk::filter_entry`]).
type Keep<R> = dyn Fn(&WalkEntry<R>) -> bool + Send + Sync;
type Filter<R> = Arc<Keep<R>>;

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
/// directory that cannot be listed (or is no longer a directory when the
/// walk descends) gives an error naming it, and the walk goes on.
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

    /// The most threads [`Walk::for_each_parallel`] lists directories on
    /// (0, the default: as many as this process may use cores). Threads
    /// beyond the calling one are started only when there is work to hand
    /// them (a directory to descend into, a batch of entries), so a small
    /// tree is walked on the calling thread alone.
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
    /// [`Walk::threads`]; the calling thread is one of them). Directories
    /// are listed on the same threads as they are found, and the entries
    /// of a large directory are handed in batches to threads that have
    /// nothing else to do. Returns when every entry was visited. The order
    /// is not set. An error (a directory that cannot be listed) is visited
    /// too, and the walk goes on.
    ///
    /// A `visit` that panics stops the walk: the other threads finish the
    /// entry they are at and take no more, and the panic goes on in the
    /// caller, with its own payload.
    ///
    /// The threads are started and joined within this call: none is left
    /// running, so it may be called before a sandbox is entered (Landlock
    /// restricts a process whose threads all exist at the time). A thread
    /// that cannot be started is done without.
    pub fn for_each_parallel(self, visit: impl Fn(io::Result<&WalkEntry<R>>) + Sync) {
        let Ok(()) = self.try_for_each_parallel(|e| {
            visit(e);
            Ok::<(), std::convert::Infallible>(())
        });
    }

    /// [`Walk::for_each_parallel`] that stops at the first `Err` its visitor
    /// returns (a search that found what it wanted, `find -quit`): the other
    /// threads finish the entry they are at and take no more, and that
    /// error is returned.
    ///
    /// # Errors
    ///
    /// The first error `visit` returned.
    pub fn try_for_each_parallel<E: Send>(
        self,
        visit: impl Fn(io::Result<&WalkEntry<R>>) -> Result<(), E> + Sync,
    ) -> Result<(), E> {
        let threads = match self.threads {
            0 => cores(),
            n => n,
        };
        if threads == 1 {
            for e in self {
                match e {
                    Ok(e) => visit(Ok(&e))?,
                    Err(err) => visit(Err(err))?,
                }
            }
            return Ok(());
        }
        let Walk {
            stack,
            pending,
            root,
            max_depth,
            filter,
            ..
        } = self;
        if let Some(err) = pending {
            visit(Err(err))?;
        }
        let shared = Shared {
            state: Mutex::new(State {
                work: stack.into_iter().map(Work::Listing).collect(),
                busy: 0,
                idle: 0,
            }),
            wake: Condvar::new(),
            idle: AtomicUsize::new(0),
            to_start: AtomicUsize::new(threads - 1),
            stop: AtomicBool::new(false),
            panic: Mutex::new(None),
        };
        let error = Mutex::new(None);
        std::thread::scope(|scope| {
            Worker {
                scope,
                shared: &shared,
                visit: &visit,
                error: &error,
                keep: filter.as_deref(),
                root,
                max_depth,
            }
            .run();
        });
        let payload = shared
            .panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(payload) = payload {
            std::panic::resume_unwind(payload);
        }
        match error.into_inner().unwrap_or_else(PoisonError::into_inner) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Entries of one listing visited by the thread that lists it before some
/// are handed to idle threads.
const BATCH: usize = 32;

/// The cores this process may run on, asked once: the answer reads the
/// cgroup's CPU limit from `/proc` and `/sys`, about 20 system calls.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// What one thread of a parallel walk needs (each thread has a copy).
struct Worker<'s, 'e, R: RightSet, V, E> {
    /// Where more threads are started, when there is work for them.
    scope: &'s std::thread::Scope<'s, 'e>,
    shared: &'e Shared<R>,
    visit: &'e V,
    /// The first error a visit returned.
    error: &'e Mutex<Option<E>>,
    keep: Option<&'e Keep<R>>,
    root: usize,
    max_depth: usize,
}

impl<R: RightSet, V, E> Clone for Worker<'_, '_, R, V, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: RightSet, V, E> Copy for Worker<'_, '_, R, V, E> {}

impl<R, V, E> Worker<'_, '_, R, V, E>
where
    R: RightSet + HasLookup + HasRead,
    V: Fn(io::Result<&WalkEntry<R>>) -> Result<(), E> + Sync,
    E: Send,
{
    /// Whether another thread can take work now: one is waiting, or one
    /// more was started (threads are started only when there is work for
    /// them, so a small tree is walked on the calling thread alone).
    fn more_hands(&self) -> bool {
        if self.shared.someone_idle() {
            return true;
        }
        let shared = self.shared;
        let start = shared
            .to_start
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if !start {
            return false;
        }
        let worker = *self;
        let started = std::thread::Builder::new().spawn_scoped(self.scope, move || worker.run());
        if started.is_err() {
            // The system has no more threads to give: go on with these.
            shared.to_start.store(0, Ordering::Relaxed);
        }
        started.is_ok()
    }

    /// Visits one entry or error; an `Err` from the visitor stops the walk.
    fn call(&self, e: io::Result<&WalkEntry<R>>) {
        if let Err(err) = (self.visit)(e) {
            self.error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(err);
            self.shared.halt();
        }
    }

    fn run(&self) {
        while let Some(work) = self.shared.take() {
            // Given back (and the others woken) however this ends.
            let done = Done(self.shared);
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.work(work))) {
                self.shared.stop(payload);
            }
            drop(done);
        }
    }

    fn work(&self, work: Work<R>) {
        match work {
            Work::Listing(level) => self.list(level.list, level.depth),
            Work::Descend(e) => match e.entry.read_dir_nofollow() {
                Ok(list) => self.list(list, e.depth + 1),
                Err(err) => self.call(Err(err)),
            },
            Work::Visit(batch) => self.visit_all(batch),
        }
    }

    fn list(&self, list: ReadDir<R>, depth: usize) {
        if depth > self.max_depth {
            return;
        }
        let mut batch = Vec::new();
        for entry in list {
            if self.shared.stopped() {
                return;
            }
            match entry {
                Err(err) => self.call(Err(err)),
                Ok(entry) => {
                    let entry = WalkEntry {
                        entry,
                        root: self.root,
                        depth,
                    };
                    if self.keep.is_none_or(|keep| keep(&entry)) {
                        batch.push(entry);
                    }
                }
            }
            if batch.len() == BATCH {
                let full = std::mem::take(&mut batch);
                if self.more_hands() {
                    self.shared.give(Work::Visit(full));
                } else {
                    self.visit_all(full);
                }
            }
        }
        self.visit_all(batch);
    }

    /// Visits `batch`; each directory in it is handed on to be descended
    /// at once, so an idle thread can take it while this one goes on.
    fn visit_all(&self, batch: Vec<WalkEntry<R>>) {
        for entry in batch {
            if self.shared.stopped() {
                return;
            }
            self.call(Ok(&entry));
            if entry.depth < self.max_depth && entry.is_dir() {
                self.shared.give(Work::Descend(entry));
                self.more_hands();
            }
        }
    }
}

/// What a thread of a parallel walk does next.
enum Work<R: RightSet> {
    /// Read a listing already open (where the walk starts).
    Listing(Level<R>),
    /// Open a directory met in a listing, and read it. Kept unopened until
    /// then: its listing holds the one descriptor its siblings share.
    Descend(WalkEntry<R>),
    /// Visit entries another thread listed.
    Visit(Vec<WalkEntry<R>>),
}

struct State<R: RightSet> {
    /// Last in, first out: deep first, so few listings are held at once.
    work: Vec<Work<R>>,
    /// Threads that took work and have not given theirs back.
    busy: usize,
    /// Threads waiting for work (woken only when there is some: a wake-up
    /// is a system call).
    idle: usize,
}

struct Shared<R: RightSet> {
    state: Mutex<State<R>>,
    wake: Condvar,
    /// `State::idle`, readable without the lock (whether to hand a batch on).
    idle: AtomicUsize,
    /// Threads not started yet (of `threads - 1`).
    to_start: AtomicUsize,
    /// A visitor panicked or returned an error: no more work is taken.
    stop: AtomicBool,
    /// The first panic's payload, resumed in the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl<R: RightSet> Shared<R> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<R>> {
        // A visitor that panicked poisons nothing the walk relies on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn someone_idle(&self) -> bool {
        self.idle.load(Ordering::Relaxed) > 0
    }

    /// The next work, or `None` when there is none left anywhere (or the
    /// walk was stopped).
    fn take(&self) -> Option<Work<R>> {
        let mut state = self.lock();
        loop {
            if self.stopped() {
                return None;
            }
            if let Some(work) = state.work.pop() {
                state.busy += 1;
                return Some(work);
            }
            if state.busy == 0 {
                return None;
            }
            state.idle += 1;
            self.idle.store(state.idle, Ordering::Relaxed);
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
            self.idle.store(state.idle, Ordering::Relaxed);
        }
    }

    fn give(&self, work: Work<R>) {
        let mut state = self.lock();
        state.work.push(work);
        let wake = state.idle > 0;
        drop(state);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Stops the walk after a visitor panicked, keeping the first payload.
    fn stop(&self, payload: Box<dyn Any + Send>) {
        let mut first = self.panic.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(payload);
        drop(first);
        self.halt();
    }

    /// No more work is taken: the waiting threads are woken to end.
    fn halt(&self) {
        // Set under the lock, so a thread about to wait sees it.
        let state = self.lock();
        self.stop.store(true, Ordering::Relaxed);
        drop(state);
        self.wake.notify_all();
    }
}

/// Ends one thread's turn: it is no longer busy, and the others may be
/// waiting to learn that nothing is left.
struct Done<'a, R: RightSet>(&'a Shared<R>);

impl<R: RightSet> Drop for Done<'_, R> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.busy -= 1;
        // The last busy thread ends the walk for the waiting ones.
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
                match entry.entry.read_dir_nofollow() {
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
