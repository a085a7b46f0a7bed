//! Linux fast paths beneath a held directory, each with cap-std's full
//! resolution as its fallback.
//!
//! cap-std resolves every path with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)` and then acts on the descriptor it got: a `stat`
//! is `openat2(O_PATH)` + `statx` + `close` where `std::fs` makes one `statx`.
//! For the paths programs use most, a single name in the held directory, the
//! kernel can be asked directly, without the escape risks that `RESOLVE_BENEATH`
//! exists for:
//!
//! - the name has no `/` and is not `.` or `..`, so the lookup is one step
//!   inside the held directory: there is no component to climb out with and
//!   no absolute path;
//! - the last (only) component is not followed if it is a symlink
//!   (`AT_SYMLINK_NOFOLLOW`, `O_NOFOLLOW`). A symlink, magic links included,
//!   is reported back as a symlink (`statx`) or refused with `ELOOP`
//!   (`openat`), and the caller then falls back to cap-std, which follows it
//!   beneath the directory or refuses it.
//!
//! Each call is one system call on one name, so there is no window between a
//! check and a use: a name swapped for a symlink after the call is seen by the
//! next call, which falls back.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::Metadata;

/// `path` as one name in the directory, when it is exactly that: not empty, no
/// `/` anywhere (a trailing `/` asks the kernel to follow a symlink), not `.`
/// or `..`, no NUL (which the kernel would cut the name at).
pub(super) fn single_name(path: &Path) -> Option<&OsStr> {
    let bytes = path.as_os_str().as_bytes();
    let plain = !bytes.is_empty()
        && bytes != b"."
        && bytes != b".."
        && !bytes.iter().any(|&b| b == b'/' || b == 0);
    plain.then_some(path.as_os_str())
}

/// Opens the name `name` in `dir` with `flags` plus `O_NOFOLLOW | O_CLOEXEC`.
/// `Ok(None)` when the name is (or may be) a symlink: the caller then opens it
/// with cap-std, which follows it beneath `dir` or refuses it.
pub(super) fn open_name(
    dir: &cap_std::fs::Dir,
    name: &OsStr,
    flags: OFlags,
    mode: Mode,
) -> io::Result<Option<cap_std::fs::File>> {
    match rustix::fs::openat(dir, name, flags | OFlags::NOFOLLOW | OFlags::CLOEXEC, mode) {
        Ok(fd) => Ok(Some(cap_std::fs::File::from_std(std::fs::File::from(fd)))),
        Err(Errno::LOOP) => Ok(None),
        // With `O_DIRECTORY`, a symlink answers `ENOTDIR` rather than `ELOOP`;
        // so does a file, for which cap-std gives the same answer again.
        Err(Errno::NOTDIR) if flags.contains(OFlags::DIRECTORY) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The flags of a read-only open, as `std::fs::File::open` and cap-std use.
pub(super) const READ: OFlags = OFlags::RDONLY;
/// The flags of `create`: write, create, truncate (`std::fs::File::create`).
pub(super) const CREATE: OFlags = OFlags::WRONLY.union(OFlags::CREATE).union(OFlags::TRUNC);
/// A directory opened for listing.
pub(super) const LIST: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY);

/// Opens `path` beneath `dir` for listing: one `openat` for a single name, else
/// cap-std's `openat2(RESOLVE_BENEATH)` (which follows symlinks beneath `dir`).
pub(super) fn open_for_listing(
    dir: &cap_std::fs::Dir,
    path: &Path,
) -> io::Result<cap_std::fs::Dir> {
    if let Some(name) = single_name(path)
        && let Some(file) = open_name(dir, name, LIST, Mode::empty())?
    {
        return Ok(cap_std::fs::Dir::from_std_file(file.into_std()));
    }
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true);
    cap_std::fs::OpenOptionsExt::custom_flags(&mut options, LIST.bits().cast_signed());
    let file = dir.open_with(path, &options)?;
    Ok(cap_std::fs::Dir::from_std_file(file.into_std()))
}

/// Opens the name `name` (one component, from a listing) for listing,
/// never following it: a symlink there, or anything else that is not a
/// directory, is `ENOTDIR` (a walk's descent: a directory swapped for a
/// symlink after it was listed is not followed, even beneath `dir`).
pub(super) fn open_name_for_listing_nofollow(
    dir: &cap_std::fs::Dir,
    name: &OsStr,
) -> io::Result<cap_std::fs::Dir> {
    let fd = rustix::fs::openat(
        dir,
        name,
        LIST | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(cap_std::fs::Dir::from_std_file(std::fs::File::from(fd)))
}

/// A second descriptor for `dir` itself, with its own read position, for
/// listing it (`openat(dir, ".")`; `.` names `dir`, never anything above it).
pub(super) fn reopen_for_listing(dir: &cap_std::fs::Dir) -> io::Result<cap_std::fs::Dir> {
    let fd = rustix::fs::openat(dir, ".", LIST | OFlags::CLOEXEC, Mode::empty())?;
    Ok(cap_std::fs::Dir::from_std_file(std::fs::File::from(fd)))
}

/// The metadata of the name `name`, one `statx` without following it.
/// `Ok(None)` when it is a symlink: the caller falls back to cap-std.
pub(super) fn stat_name(dir: &cap_std::fs::Dir, name: &OsStr) -> io::Result<Option<Metadata>> {
    // cap-std's own single-name `symlink_metadata` is one `statx(dirfd, name,
    // AT_SYMLINK_NOFOLLOW)`, and builds its `Metadata` (which has no public
    // constructor from a `statx`).
    let meta = dir.symlink_metadata(name)?;
    Ok((!meta.is_symlink()).then_some(meta))
}

/// Removes the name `name` from `dir`: one `unlinkat`, a directory's with
/// `AT_REMOVEDIR`. Removing never follows the name: a symlink is removed
/// itself, wherever it points, as cap-std does after resolving the parent
/// (which for a single name is `dir` itself).
pub(super) fn remove_name(dir: &cap_std::fs::Dir, name: &OsStr, directory: bool) -> io::Result<()> {
    let flags = if directory {
        rustix::fs::AtFlags::REMOVEDIR
    } else {
        rustix::fs::AtFlags::empty()
    };
    Ok(rustix::fs::unlinkat(dir, name, flags)?)
}

/// Reads the whole of `file` as `std::fs::read` does: one `statx` for the
/// size, a read into a buffer one byte longer, and the read that returns 0,
/// which is left out when the first read already met the end (see
/// [`read_whole_sized`]). (cap-std's `Dir::read` asks for the size twice and
/// seeks once more.)
pub(super) fn read_whole(file: &cap_std::fs::File) -> io::Result<Vec<u8>> {
    let (size, mount) = size_and_mount(file);
    read_whole_sized(file, size, MOST_READ_AT_ONCE, || {
        mounts::short_read_ends(file, mount)
    })
}

/// The size of `file` (a hint: 0 when unknown), and the unique ID of its
/// mount when it is a regular file and the kernel gives one.
fn size_and_mount(file: &cap_std::fs::File) -> (usize, Option<u64>) {
    use rustix::fs::{AtFlags, FileType, StatxFlags};
    let mask = StatxFlags::TYPE | StatxFlags::SIZE | MNT_ID_UNIQUE;
    if let Ok(x) = rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, mask) {
        let size = usize::try_from(x.stx_size).unwrap_or(0);
        let regular = FileType::from_raw_mode(x.stx_mode.into()) == FileType::RegularFile;
        let unique = StatxFlags::from_bits_retain(x.stx_mask).contains(MNT_ID_UNIQUE);
        return (size, (regular && unique).then_some(x.stx_mnt_id));
    }
    // No `statx` (an old kernel, a filter that refuses it, a file system
    // that fails it): the size from `fstat`, and no mount to judge. The size
    // is only a hint, as for std: unknown is 0, and the reads say the rest.
    let size = rustix::fs::fstat(file).map_or(0, |st| st.st_size);
    (usize::try_from(size).unwrap_or(0), None)
}

/// `STATX_MNT_ID_UNIQUE` (Linux 6.8): a mount ID that is never reused, unlike
/// `STATX_MNT_ID`'s, so what is learned about a mount can be kept by its ID.
/// Older kernels leave it out of the answer's mask.
const MNT_ID_UNIQUE: rustix::fs::StatxFlags = rustix::fs::StatxFlags::from_bits_retain(0x4000);

/// The first read of a file whose size says 0 (see [`read_on`]).
const UNSIZED_FIRST_READ: usize = 8 * 1024;

/// One `read` returns at most `MAX_RW_COUNT` bytes (`INT_MAX` rounded down
/// to a page: 2 GiB − 4 KiB with 4 KiB pages, less with larger ones), so a
/// read that asked for more can come back short anywhere. A short read is
/// taken as the end only when it asked for at most this, below the limit
/// for every page size.
const MOST_READ_AT_ONCE: usize = 1 << 30;

/// Reads `file`, which had `size` bytes, to its end: one read into a buffer
/// of `size + 1` bytes, and the read that returns 0. See [`read_on`].
fn read_whole_sized(
    file: &cap_std::fs::File,
    size: usize,
    most_at_once: usize,
    short_read_is_end: impl FnMut() -> bool,
) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    read_on(file, &mut buf, size, most_at_once, short_read_is_end)?;
    Ok(buf)
}

/// `Read::read_to_end` for a file: appends the rest of `file` to `buf`, as
/// [`read_whole`] reads a whole file. The rest is taken to be the file's
/// size when it is small (a file read from its start, the usual case, needs
/// no position: one system call less than std, which asks it with `lseek`);
/// for a larger file the position is asked, so that a file read from near
/// its end does not reserve its whole size. Either way a wrong guess only
/// costs the read that returns 0.
pub(super) fn read_to_end(file: &cap_std::fs::File, buf: &mut Vec<u8>) -> io::Result<usize> {
    /// Up to this size, the whole size is reserved whatever the position.
    const SMALL: usize = 64 * 1024;
    let start = buf.len();
    let (size, mount) = size_and_mount(file);
    let left = if size <= SMALL {
        size
    } else {
        let at = rustix::fs::seek(file, rustix::fs::SeekFrom::Current(0))?;
        size.saturating_sub(usize::try_from(at).unwrap_or(usize::MAX))
    };
    read_on(file, buf, left, MOST_READ_AT_ONCE, || {
        mounts::short_read_ends(file, mount)
    })?;
    Ok(buf.len() - start)
}

/// Appends what is left of `file`, `left` bytes when it was sized, to `buf`:
/// reads into `left + 1` bytes of room (8 KiB when `left` is 0: a size of 0
/// says nothing, and `/proc/sys` files must be read in one read), and then
/// the read that returns 0.
/// The second read is left out when all of these hold, because the file
/// then ended where it was expected to when it was read:
///
/// - a read stopped at exactly `left` bytes appended, short of what it
///   asked (a file that grew fills the room; one that shrank, or was not
///   read from where it was assumed, stops elsewhere; a `/proc` file that
///   says 0 never gets here);
/// - it asked for at most `most_at_once` bytes ([`MOST_READ_AT_ONCE`]);
/// - `short_read_is_end()`: the file is a regular file on a file system
///   whose reads stop short only at the end (asked only here, so a mount is
///   judged the first time it matters).
///
/// Anything else (FUSE, whose server may answer any read short; a network
/// file system; a pipe) reads on until a read returns 0. On an error, what
/// was read stays in `buf`, as with `Read::read_to_end`.
fn read_on(
    file: &cap_std::fs::File,
    buf: &mut Vec<u8>,
    left: usize,
    most_at_once: usize,
    mut short_read_is_end: impl FnMut() -> bool,
) -> io::Result<()> {
    let start = buf.len();
    let capacity = buf.capacity();
    // Room for what is left and one byte more; a file that says 0 (`/proc`,
    // a pipe) gets a first read of 8 KiB, because many `/proc/sys` files
    // answer only a read at offset 0 and return nothing after it.
    let room = if left == 0 {
        UNSIZED_FIRST_READ
    } else {
        left.saturating_add(1)
    };
    buf.try_reserve_exact(room)
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
    let done = |buf: &mut Vec<u8>| {
        if buf.len() == start {
            // Nothing came: give back the room taken for it.
            buf.shrink_to(capacity);
        }
    };
    loop {
        if buf.len() == buf.capacity() {
            // The file grew since the `statx`: keep reading.
            buf.reserve(buf.capacity().max(8192));
        }
        let asked = buf.capacity() - buf.len();
        match rustix::io::read(file, rustix::buffer::spare_capacity(buf)) {
            Ok(0) => {
                done(buf);
                return Ok(());
            }
            Ok(got)
                if got < asked
                    && asked <= most_at_once
                    && buf.len() - start == left
                    && short_read_is_end() =>
            {
                return Ok(());
            }
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => {
                done(buf);
                return Err(e.into());
            }
        }
    }
}

/// What is known about mounts, by their unique IDs.
mod mounts {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    /// Slots for mounts of each kind. A program reads from a handful of file
    /// systems, but each bind mount (a container's volumes, its
    /// `/etc/hosts`, each Kubernetes secret) is a mount of its own.
    const SLOTS: usize = 64;

    /// Mounts whose regular files read short only at their end, and mounts
    /// that may not, each with the slot the next one learned goes in; 0 is
    /// an empty slot (no mount has ID 0).
    struct Known {
        ids: [AtomicU64; SLOTS],
        next: AtomicUsize,
    }

    impl Known {
        const fn new() -> Self {
            Self {
                ids: [const { AtomicU64::new(0) }; SLOTS],
                next: AtomicUsize::new(0),
            }
        }

        fn has(&self, id: u64) -> bool {
            self.ids.iter().any(|s| s.load(Ordering::Relaxed) == id)
        }

        /// Two threads learning at once may overwrite each other's slot:
        /// that mount is then learned again, never misjudged.
        fn add(&self, id: u64) {
            let slot = self.next.fetch_add(1, Ordering::Relaxed) % SLOTS;
            self.ids[slot].store(id, Ordering::Relaxed);
        }
    }

    static END_AT_SHORT: Known = Known::new();
    static MAY_STOP_SHORT: Known = Known::new();

    /// Whether a read of a regular file on mount `id` (which `file` is on)
    /// that returns fewer bytes than asked (and asked for no more than one
    /// read can give) has met the file's end. True for the local file
    /// systems of [`reads_end_short`]; false for everything else, FUSE
    /// (whose server may answer any read short) and network file systems
    /// included. Learned with one `fstatfs` the first time a mount matters,
    /// then kept (up to [`SLOTS`] mounts of each kind): a mount's file
    /// system never changes, and unique mount IDs are never reused.
    pub(super) fn short_read_is_end(file: &cap_std::fs::File, id: u64) -> bool {
        judge(id, || magic(file).is_some_and(reads_end_short))
    }

    /// [`short_read_is_end`] for a file whose mount has a unique ID (from
    /// [`super::size_and_mount`]); never for one without.
    pub(super) fn short_read_ends(file: &cap_std::fs::File, mount: Option<u64>) -> bool {
        mount.is_some_and(|id| short_read_is_end(file, id))
    }

    /// The `statfs` magic number of the file system `file` is on.
    pub(super) fn magic(file: &cap_std::fs::File) -> Option<u32> {
        // `f_type` is an `i64` or an `i32` by platform; the magic numbers are
        // 32 bits.
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        rustix::fs::fstatfs(file).ok().map(|fs| fs.f_type as u32)
    }

    /// The answer kept for `id`, or `ask`'s, then kept.
    pub(super) fn judge(id: u64, ask: impl FnOnce() -> bool) -> bool {
        if id == 0 {
            return false;
        }
        if END_AT_SHORT.has(id) {
            return true;
        }
        if MAY_STOP_SHORT.has(id) {
            return false;
        }
        let ends = ask();
        if ends { &END_AT_SHORT } else { &MAY_STOP_SHORT }.add(id);
        ends
    }

    /// The file systems (`statfs` magic numbers) whose regular-file reads
    /// return fewer bytes than asked only at the end of the file: ext2/3/4,
    /// XFS, Btrfs and tmpfs. Each reads through the page cache
    /// (`filemap_read`, tmpfs's `shmem_file_read_iter`) or, with DAX, from
    /// memory directly; either copies until the request is met or the
    /// file's size is reached, and stops early only on an error or a fatal
    /// signal.
    pub(super) fn reads_end_short(magic: u32) -> bool {
        const EXT4: u32 = 0xEF53;
        const XFS: u32 = 0x5846_5342;
        const BTRFS: u32 = 0x9123_683E;
        const TMPFS: u32 = 0x0102_1994;
        matches!(magic, EXT4 | XFS | BTRFS | TMPFS)
    }
}

/// Copies the `len` bytes that `src` had when it was checked into `dst` with
/// `copy_file_range`, knowing the length, as cap-std does: no size lookups and
/// no closing call that returns 0 (`io::copy` makes two `statx` and that
/// call). Falls back to `io::copy` where the kernel cannot copy between these
/// files, and for an empty file (a `/proc` file says 0 and has contents).
pub(super) fn copy_contents(
    src: &cap_std::fs::File,
    dst: &cap_std::fs::File,
    len: u64,
) -> io::Result<u64> {
    let mut copied = 0u64;
    while copied < len {
        let want = usize::try_from(len - copied)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        match rustix::fs::copy_file_range(src, None, dst, None, want) {
            // The file shrank since it was checked.
            Ok(0) if copied > 0 => return Ok(copied),
            // Some file systems answer 0 for files they cannot copy this way.
            Ok(0) => break,
            Ok(n) => copied += n as u64,
            Err(Errno::INTR) => {}
            Err(_) if copied == 0 => break,
            Err(e) => return Err(e.into()),
        }
    }
    if copied == 0 {
        return io::copy(&mut &*src, &mut &*dst);
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    fn file(path: &Path, write: bool) -> cap_std::fs::File {
        let f = std::fs::OpenOptions::new()
            .read(!write)
            .write(write)
            .create(write)
            .truncate(write)
            .open(path)
            .unwrap();
        cap_std::fs::File::from_std(f)
    }

    #[test]
    fn copy_contents_copies_all_and_falls_back_for_files_that_say_empty() {
        let t = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..(1 << 20) + 3)
            .map(|i: u32| i.to_le_bytes()[0])
            .collect();
        std::fs::write(t.path().join("src"), &data).unwrap();
        let n = copy_contents(
            &file(&t.path().join("src"), false),
            &file(&t.path().join("dst"), true),
            data.len() as u64,
        )
        .unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(std::fs::read(t.path().join("dst")).unwrap(), data);
        // `/proc` files have size 0 and contents.
        let proc_path = Path::new("/proc/self/status");
        let n = copy_contents(
            &file(proc_path, false),
            &file(&t.path().join("status"), true),
            0,
        )
        .unwrap();
        assert!(n > 0);
        let copied = std::fs::read_to_string(t.path().join("status")).unwrap();
        assert!(copied.starts_with("Name:"), "{copied}");
        // `read_whole` sizes by `statx` and still reads a file that says 0.
        let status = read_whole(&file(proc_path, false)).unwrap();
        assert!(status.starts_with(b"Name:"));
        assert_eq!(
            read_whole(&file(&t.path().join("src"), false)).unwrap(),
            data
        );
    }

    fn magic(file: &cap_std::fs::File) -> u32 {
        mounts::magic(file).unwrap()
    }

    /// How `read_whole` judges `file`: whether a short read would end it.
    fn judged(file: &cap_std::fs::File) -> bool {
        mounts::short_read_ends(file, size_and_mount(file).1)
    }

    /// Whether this kernel gives unique mount IDs (Linux 6.8); without them
    /// no file is judged to end at a short read.
    fn unique_mount_ids() -> bool {
        let probe = file(Path::new("/proc/self/status"), false);
        let x =
            rustix::fs::statx(&probe, "", rustix::fs::AtFlags::EMPTY_PATH, MNT_ID_UNIQUE).unwrap();
        rustix::fs::StatxFlags::from_bits_retain(x.stx_mask).contains(MNT_ID_UNIQUE)
    }

    #[test]
    fn only_local_page_cache_file_systems_end_at_a_short_read() {
        // ext4, XFS, Btrfs, tmpfs.
        for fs in [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994] {
            assert!(mounts::reads_end_short(fs), "{fs:#x}");
        }
        // FUSE, NFS, SMB, 9p, overlayfs, procfs, sysfs, pipefs.
        for fs in [
            0x6573_5546,
            0x6969,
            0xFE53_4D42,
            0x0102_1997,
            0x794C_7630,
            0x9FA0,
            0x6265_6572,
            0x5049_5045,
        ] {
            assert!(!mounts::reads_end_short(fs), "{fs:#x}");
        }
        // And as judged from open files: a tmpfs file (`/dev/shm`), a FIFO
        // on the same tmpfs (not a regular file), a `/proc` file, a pipe,
        // and this test's temporary file, judged by its file system.
        let unique = unique_mount_ids();
        let shm = tempfile::tempfile_in("/dev/shm").expect("/dev/shm is a tmpfs");
        let shm = cap_std::fs::File::from_std(shm);
        assert_eq!(magic(&shm), 0x0102_1994, "/dev/shm is a tmpfs");
        assert_eq!(judged(&shm), unique, "a tmpfs file");
        let t = tempfile::tempdir_in("/dev/shm").unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            t.path().join("fifo"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let fifo = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed())
            .open(t.path().join("fifo"))
            .unwrap();
        let fifo = cap_std::fs::File::from_std(fifo);
        assert_eq!(magic(&fifo), 0x0102_1994);
        assert!(!judged(&fifo), "a FIFO on a tmpfs");
        let proc_file = file(Path::new("/proc/self/status"), false);
        assert!(!judged(&proc_file), "a /proc file");
        let (reader, _writer) = std::io::pipe().unwrap();
        let pipe =
            cap_std::fs::File::from_std(std::fs::File::from(std::os::fd::OwnedFd::from(reader)));
        assert!(!judged(&pipe), "a pipe");
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), "abc").unwrap();
        let f = file(&t.path().join("f"), false);
        assert_eq!(size_and_mount(&f).0, 3);
        assert_eq!(judged(&f), unique && mounts::reads_end_short(magic(&f)));
    }

    #[test]
    fn a_mount_is_judged_once_and_then_known() {
        use std::cell::Cell;
        // IDs no mount has (unique mount IDs count up from 2^31).
        let (ends, stops) = (u64::MAX - 1, u64::MAX - 2);
        for (id, answer) in [(ends, true), (stops, false)] {
            let asked = Cell::new(0);
            let ask = || {
                asked.set(asked.get() + 1);
                answer
            };
            assert_eq!(mounts::judge(id, ask), answer);
            assert_eq!(mounts::judge(id, ask), answer);
            assert_eq!(mounts::judge(id, || !answer), answer, "kept, not asked");
            assert_eq!(asked.get(), 1, "judged once");
        }
        assert!(!mounts::judge(0, || true), "no mount has ID 0");
    }

    #[test]
    fn a_short_read_ends_the_file_only_where_short_reads_are_the_end() {
        use std::io::Write;
        let pipe_with = |first: &'static [u8], later: &'static [u8]| {
            let (reader, mut writer) = std::io::pipe().unwrap();
            writer.write_all(first).unwrap();
            let late = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                writer.write_all(later).unwrap();
            });
            let pipe = cap_std::fs::File::from_std(std::fs::File::from(
                std::os::fd::OwnedFd::from(reader),
            ));
            (pipe, late)
        };
        // A pipe reads short while more is to come, as a FUSE server may
        // answer: with 5 bytes said and 5 there, the first read stops at 5,
        // and the rest comes later. Where a short read is not the end, all
        // of it arrives (and the judgement is asked for: the read was short
        // at the size).
        let (pipe, late) = pipe_with(b"first", b", then more");
        let asked = std::cell::Cell::new(false);
        let all = read_whole_sized(&pipe, 5, MOST_READ_AT_ONCE, || {
            asked.set(true);
            false
        });
        assert_eq!(all.unwrap(), b"first, then more");
        assert!(asked.get());
        late.join().unwrap();
        // Nor when the read asked for more than one read gives (here a
        // limit of 4 bytes stands in for the kernel's 2 GiB − 4 KiB).
        let (pipe, late) = pipe_with(b"first", b", then more");
        let all = read_whole_sized(&pipe, 5, 4, || true);
        assert_eq!(all.unwrap(), b"first, then more");
        late.join().unwrap();
        // The same short read taken as the end stops there: what only the
        // local file systems' reads may be taken as.
        let (pipe, late) = pipe_with(b"first", b"");
        assert_eq!(
            read_whole_sized(&pipe, 5, MOST_READ_AT_ONCE, || true).unwrap(),
            b"first"
        );
        late.join().unwrap();
        // On a regular file taken to end at a short read, a file that grew
        // or shrank since its size was taken, or says 0, is still read
        // whole.
        let t = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..100u8).collect();
        std::fs::write(t.path().join("f"), &data).unwrap();
        for said in [0, 1, 50, 99, 100, 101, 200] {
            let f = file(&t.path().join("f"), false);
            let read = read_whole_sized(&f, said, MOST_READ_AT_ONCE, || true).unwrap();
            assert_eq!(read, data, "{said}");
        }
    }

    #[test]
    fn single_name_accepts_only_one_plain_component() {
        for ok in ["a", "file.txt", "...", ".hidden", "a b", "..x"] {
            assert!(single_name(Path::new(ok)).is_some(), "{ok}");
        }
        for no in [
            "", ".", "..", "/", "/etc", "a/", "a/b", "./a", "../a", "a/.", "a\0b",
        ] {
            assert!(single_name(Path::new(no)).is_none(), "{no:?}");
        }
    }
}
