//! Files kept open between requests, as nginx's `open_file_cache` does.
//!
//! Opening a file is the costliest step of answering a request for a small
//! cached file: `openat`, an `fstat` and a `close` around the read, and
//! under Landlock the open also walks the file's path up to the root (a
//! read-only grant never allows `truncate`, which the kernel computes on
//! every open), about 5% of a one-core server's time here. The server
//! `stat`s the requested path on every request anyway, to refuse what is not
//! a regular file before it could be opened; that `stat` names the inode
//! (device and inode number), and when a file of that inode is already open,
//! the request reads it with `pread` and makes no other call.
//!
//! Keyed by the inode, a hit serves exactly what opening the path now would:
//! the `stat` went through the held directory's resolution (a name that
//! became a symlink out of the root is refused there, as before), the
//! cached descriptor cannot outlive its inode number (an open file keeps its
//! inode alive, so the number is not reused), a file rewritten in place is
//! read as it is now, and a file renamed over or removed has a new inode or
//! none, so it is opened afresh or not found. The inode's change time
//! (`ctime`, to the nanosecond), owner and mode are part of the check: any
//! change of the inode's permissions (mode, owner, an ACL, a security label
//! or other extended attribute, a link count) moves its `ctime`, and such a
//! file is opened again, so a change that no longer allows reading is
//! refused as a fresh open would be. A write moves `ctime` too, which costs
//! one open. A kept file that fails to read (a stale handle on a network
//! filesystem) is dropped, and the request opens the path afresh.
//!
//! Only files small enough to be sent from memory are kept (larger ones are
//! streamed from a descriptor of their own). The cache holds at most
//! `capacity` descriptors; when full, the least recently used is closed. An
//! entry unused for its idle time ([`IDLE`] by default) is closed by the
//! next request after that, and by [`OpenFiles::sweep`], which the server
//! calls on a timer, so a removed file is not held open on an idle server
//! either. When the process runs out of descriptors
//! (any step of a request, or an accept, fails with `EMFILE`), the server
//! closes them all ([`OpenFiles::release`]) and tries once more.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cap_core::fs::{File, Metadata, MetadataExt as _};

/// How long an entry stays open without being used, by default.
pub const IDLE: Duration = Duration::from_secs(10);

/// Which inode: the device and the inode number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    dev: u64,
    ino: u64,
}

/// What decides whether a fresh open would still succeed: the change time
/// (seconds, nanoseconds), the mode (with the file type), owner and group.
type Access = (i64, i64, u32, u32, u32);

struct Entry<F> {
    file: Arc<F>,
    /// [`Access`] when it was opened.
    access: Access,
    used: Instant,
}

/// Open files keyed by inode. `F` is the open file type (the server's is a
/// read-only [`File`]).
pub struct OpenFiles<F = File<super::files::FileRights>> {
    capacity: usize,
    idle: Duration,
    inner: Mutex<Inner<F>>,
    hits: AtomicU64,
}

struct Inner<F> {
    entries: HashMap<Key, Entry<F>>,
    swept: Instant,
}

fn key(meta: &Metadata) -> (Key, Access) {
    (
        Key {
            dev: meta.dev(),
            ino: meta.ino(),
        },
        (
            meta.ctime(),
            meta.ctime_nsec(),
            meta.mode(),
            meta.uid(),
            meta.gid(),
        ),
    )
}

impl<F> OpenFiles<F> {
    /// A cache of at most `capacity` open files; 0 keeps none. An entry
    /// unused for [`IDLE`] is closed.
    pub fn new(capacity: usize) -> Self {
        Self::with_idle(capacity, IDLE)
    }

    /// A cache of at most `capacity` open files, each closed once unused
    /// for `idle`.
    pub fn with_idle(capacity: usize, idle: Duration) -> Self {
        Self {
            capacity,
            idle,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                swept: Instant::now(),
            }),
            hits: AtomicU64::new(0),
        }
    }

    /// The open file of the inode `meta` describes, if one is kept and the
    /// inode has not changed since (an entry whose inode has is dropped).
    pub fn get(&self, meta: &Metadata) -> Option<Arc<F>> {
        if self.capacity == 0 {
            return None;
        }
        let (key, access) = key(meta);
        let now = Instant::now();
        let mut inner = self.lock();
        if now.duration_since(inner.swept) >= Duration::from_secs(1) {
            inner.sweep(now, self.idle);
        }
        match inner.entries.get_mut(&key) {
            Some(entry) if entry.access == access => {
                entry.used = now;
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(Arc::clone(&entry.file))
            }
            Some(_) => {
                inner.entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `file`, whose own metadata (from `fstat`) is `meta`; when the
    /// cache is full the least recently used entry is closed first.
    pub fn insert(&self, meta: &Metadata, file: Arc<F>) {
        if self.capacity == 0 {
            return;
        }
        let (key, access) = key(meta);
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&key) {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(
            key,
            Entry {
                file,
                access,
                used: now,
            },
        );
    }

    /// Drops the entry of the inode `meta` describes, if there is one: its
    /// file failed to read.
    pub fn remove(&self, meta: &Metadata) {
        let (key, _) = key(meta);
        self.lock().entries.remove(&key);
    }

    /// Closes every entry unused for the idle time; says how many.
    pub fn sweep(&self) -> usize {
        let mut inner = self.lock();
        let before = inner.entries.len();
        inner.sweep(Instant::now(), self.idle);
        before - inner.entries.len()
    }

    /// How many lookups found a kept file.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Closes every kept file and says how many there were: for when the
    /// process has run out of descriptors (`EMFILE`), so that what is kept
    /// for speed never stands in the way of a request or a connection.
    pub fn release(&self) -> usize {
        let mut inner = self.lock();
        let kept = inner.entries.len();
        inner.entries.clear();
        kept
    }

    /// How many files are open in the cache.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache holds no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries, also after a panic elsewhere while they were held (each
    /// change to them is a single map operation, so they are never left
    /// half-changed).
    fn lock(&self) -> MutexGuard<'_, Inner<F>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<F> Inner<F> {
    /// Closes what has not been used for `idle`.
    fn sweep(&mut self, now: Instant, idle: Duration) {
        self.swept = now;
        self.entries
            .retain(|_, e| now.duration_since(e.used) < idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_core::ambient_authority;
    use cap_core::fs::{Dir, PermissionsExt as _};
    use cap_core::rights::FullFs as Rw;

    fn site() -> (tempfile::TempDir, Dir<Rw>) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        (tmp, dir)
    }

    #[test]
    fn hits_only_the_same_inode_with_the_same_access() {
        let (_tmp, dir) = site();
        dir.write("a", "one").unwrap();
        let cache: OpenFiles<&'static str> = OpenFiles::new(4);
        let meta = dir.metadata("a").unwrap();
        assert!(cache.get(&meta).is_none());
        cache.insert(&meta, Arc::new("a, first inode"));
        assert_eq!(
            cache.get(&dir.metadata("a").unwrap()).as_deref(),
            Some(&"a, first inode")
        );
        assert_eq!(cache.hits(), 1);
        // Its metadata changed without a new inode (here the times, as an
        // ACL or a label change moves `ctime`): a miss, and the entry goes.
        let meta = dir.metadata("a").unwrap();
        // Past the kernel's coarsest timestamp tick, so `ctime` moves.
        std::thread::sleep(Duration::from_millis(20));
        dir.set_times("a", Some(cap_core::fs::SystemTimeSpec::SymbolicNow), None)
            .unwrap();
        let changed = dir.metadata("a").unwrap();
        assert_eq!((changed.dev(), changed.ino()), (meta.dev(), meta.ino()));
        assert_ne!(
            (changed.ctime(), changed.ctime_nsec()),
            (meta.ctime(), meta.ctime_nsec())
        );
        assert!(cache.get(&changed).is_none());
        assert!(cache.is_empty());
        cache.insert(&changed, Arc::new("a, first inode"));
        // A kept file that failed to read is dropped.
        cache.remove(&changed);
        assert!(cache.is_empty());
        // Renamed over: a new inode, a miss.
        dir.write("b", "three").unwrap();
        dir.rename("b", &dir, "a").unwrap();
        assert!(cache.get(&dir.metadata("a").unwrap()).is_none());
        // Permissions changed: the entry is dropped, not served.
        let meta = dir.metadata("a").unwrap();
        cache.insert(&meta, Arc::new("a, second inode"));
        let mut perms = meta.permissions();
        perms.set_mode(0o000);
        dir.set_permissions("a", perms).unwrap();
        assert!(cache.get(&dir.metadata("a").unwrap()).is_none());
        assert!(cache.is_empty(), "both entries were dropped");
    }

    #[test]
    fn full_closes_the_least_recently_used() {
        let (_tmp, dir) = site();
        for name in ["a", "b", "c"] {
            dir.write(name, name).unwrap();
        }
        let meta = |name| dir.metadata(name).unwrap();
        let cache: OpenFiles<&'static str> = OpenFiles::new(2);
        cache.insert(&meta("a"), Arc::new("a"));
        std::thread::sleep(Duration::from_millis(2));
        cache.insert(&meta("b"), Arc::new("b"));
        std::thread::sleep(Duration::from_millis(2));
        // `a` used after `b`: `b` is now the least recently used.
        assert!(cache.get(&meta("a")).is_some());
        cache.insert(&meta("c"), Arc::new("c"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&meta("b")).is_none());
        assert!(cache.get(&meta("a")).is_some());
        assert!(cache.get(&meta("c")).is_some());
        // Out of descriptors: everything kept is closed.
        assert_eq!(cache.release(), 2);
        assert!(cache.is_empty());
        assert!(cache.get(&meta("a")).is_none());
        // A capacity of 0 keeps nothing.
        let none: OpenFiles<&'static str> = OpenFiles::new(0);
        none.insert(&meta("a"), Arc::new("a"));
        assert!(none.is_empty());
        assert!(none.get(&meta("a")).is_none());
    }

    #[test]
    fn idle_entries_are_closed_by_a_later_request() {
        let (_tmp, dir) = site();
        dir.write("a", "a").unwrap();
        dir.write("b", "b").unwrap();
        let cache: OpenFiles<&'static str> = OpenFiles::new(4);
        cache.insert(&dir.metadata("a").unwrap(), Arc::new("a"));
        // As if the entry had last been used longer than IDLE ago, and the
        // last sweep too.
        {
            let mut inner = cache.inner.lock().unwrap();
            let past = Instant::now().checked_sub(IDLE + Duration::from_secs(1));
            let Some(past) = past else { return };
            for entry in inner.entries.values_mut() {
                entry.used = past;
            }
            inner.swept = past;
        }
        assert!(cache.get(&dir.metadata("b").unwrap()).is_none());
        assert!(cache.is_empty(), "the idle entry was closed");
        // The timer's sweep: what is idle goes, what was just used stays.
        let cache: OpenFiles<&'static str> = OpenFiles::with_idle(4, Duration::from_millis(50));
        cache.insert(&dir.metadata("a").unwrap(), Arc::new("a"));
        std::thread::sleep(Duration::from_millis(80));
        cache.insert(&dir.metadata("b").unwrap(), Arc::new("b"));
        assert_eq!(cache.sweep(), 1);
        assert!(cache.get(&dir.metadata("b").unwrap()).is_some());
        assert_eq!(cache.len(), 1);
    }
}
