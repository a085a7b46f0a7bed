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

/// Reads the whole of `file` as `std::fs::read` does: one `fstat` for the
/// size, a read into a buffer one byte longer, and the read that returns 0.
/// (cap-std's `Dir::read` asks for the size twice and seeks once more.)
pub(super) fn read_whole(file: &cap_std::fs::File) -> io::Result<Vec<u8>> {
    let size = rustix::fs::fstat(file)?.st_size;
    let size = usize::try_from(size).unwrap_or(0);
    let mut buf = Vec::new();
    buf.try_reserve_exact(size.saturating_add(1))
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
    loop {
        if buf.len() == buf.capacity() {
            // The file grew since the `fstat`: keep reading.
            buf.reserve(buf.capacity().max(8192));
        }
        match rustix::io::read(file, rustix::buffer::spare_capacity(&mut buf)) {
            Ok(0) => return Ok(buf),
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
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
        // `read_whole` sizes by `fstat` and still reads a file that says 0.
        let status = read_whole(&file(proc_path, false)).unwrap();
        assert!(status.starts_with(b"Name:"));
        assert_eq!(
            read_whole(&file(&t.path().join("src"), false)).unwrap(),
            data
        );
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
