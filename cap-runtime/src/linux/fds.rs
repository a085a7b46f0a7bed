//! Descriptors that are neither stdio nor granted.

use std::os::fd::RawFd;

use super::sys;

/// Every open descriptor above 2, sorted. An error when `/proc/self/fd`
/// cannot be read: a listing that cannot be made must not pass as empty.
pub fn open_fds() -> Result<Vec<RawFd>, i32> {
    open_fds_in(std::path::Path::new("/proc/self/fd"))
}

fn open_fds_in(listing: &std::path::Path) -> Result<Vec<RawFd>, i32> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(listing)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let own = dir.as_raw_fd();
    let mut found = Vec::new();
    // One getdents64 into a stack buffer usually gets the whole listing.
    let mut buf = [0u8; 4096];
    loop {
        let filled = sys::getdents64(&dir, &mut buf)?;
        if filled == 0 {
            break;
        }
        for name in dirent_names(&buf[..filled]) {
            if name == b"." || name == b".." {
                continue;
            }
            let fd: RawFd = std::str::from_utf8(name)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(libc::EINVAL)?;
            // The listing's own descriptor is in it, and closed below.
            if fd > 2 && fd != own {
                found.push(fd);
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// The names in a buffer of `struct linux_dirent64` records (`d_ino` u64,
/// `d_off` i64, `d_reclen` u16, `d_type` u8, then the NUL-terminated name).
fn dirent_names(mut records: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let reclen = usize::from(u16::from_ne_bytes(records.get(16..18)?.try_into().ok()?));
        let record = records.get(..reclen).filter(|_| reclen > 19)?;
        records = &records[reclen..];
        let name = &record[19..];
        Some(&name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())])
    })
}

/// Every open descriptor above 2 that is not in `keep`, with what it points
/// to; the errno when they cannot be listed.
pub fn undeclared(keep: &[RawFd]) -> Result<Vec<(RawFd, String)>, i32> {
    Ok(open_fds()?
        .into_iter()
        .filter(|fd| !keep.contains(fd))
        .map(|fd| {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .map_or_else(|e| format!("? ({e})"), |p| p.display().to_string());
            (fd, target)
        })
        .collect())
}

/// What entering needs from `/proc/self/status`, from one read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcStatus {
    /// `Threads:`, the number of threads of the process.
    pub threads: usize,
    /// `CapEff:`, the effective capabilities of the calling thread.
    pub cap_eff: u64,
    /// `CapBnd:`, the bounding set.
    pub cap_bnd: u64,
    /// `Seccomp_filters:`, the number of seccomp filters already stacked (0
    /// on kernels that do not show the line).
    pub seccomp_filters: usize,
}

impl ProcStatus {
    /// The capabilities in the bounding set, by number.
    pub fn bounding(&self) -> Vec<u32> {
        (0..64)
            .filter(|cap| self.cap_bnd & (1 << cap) != 0)
            .collect()
    }

    /// Whether `CAP_SETPCAP` is effective (needed to drop the bounding set
    /// and set securebits).
    pub fn setpcap(&self) -> bool {
        self.cap_eff & (1 << super::caps::CAP_SETPCAP) != 0
    }
}

/// Reads `/proc/self/status` once, into a buffer on the stack (the file is
/// about 1.5 KiB; one `read` gets it all), for the thread count, the
/// effective and bounding capability sets and the seccomp filter count. The
/// errno when it cannot be read or a needed line is missing, since a count
/// that cannot be checked must not pass as one.
pub fn status() -> Result<ProcStatus, i32> {
    use std::io::Read;
    let mut file = std::fs::File::open("/proc/self/status")
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let mut buf = [0u8; 8192];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }
    parse_status(&buf[..len]).ok_or(libc::EINVAL)
}

fn parse_status(text: &[u8]) -> Option<ProcStatus> {
    let text = std::str::from_utf8(text).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let hex = |name: &str| field(name).and_then(|v| u64::from_str_radix(v, 16).ok());
    Some(ProcStatus {
        threads: field("Threads")?.parse().ok()?,
        cap_eff: hex("CapEff")?,
        cap_bnd: hex("CapBnd")?,
        seccomp_filters: field("Seccomp_filters").map_or(Some(0), |v| v.parse().ok())?,
    })
}

/// How many threads the process has (the `Threads:` line of
/// `/proc/self/status`); the errno when that cannot be read.
pub fn thread_count() -> Result<usize, i32> {
    status().map(|s| s.threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_parsed_from_one_read() {
        let text = b"Name:\tx\nThreads:\t3\nCapEff:\t0000000000000100\nCapBnd:\t000001ffffffffff\nSeccomp_filters:\t2\n";
        assert_eq!(
            parse_status(text),
            Some(ProcStatus {
                threads: 3,
                cap_eff: 0x100,
                cap_bnd: 0x1ff_ffff_ffff,
                seccomp_filters: 2
            })
        );
        assert_eq!(parse_status(b"Threads:\t1\n"), None, "capabilities missing");
        let own = status().unwrap();
        assert!(own.threads >= 1);
    }

    #[test]
    fn dirent_records_are_split_by_their_length() {
        let mut buf = Vec::new();
        for name in [&b"."[..], b"12", b"345"] {
            let reclen = (19 + name.len() + 1).next_multiple_of(8);
            let mut rec = vec![0u8; reclen];
            rec[16..18].copy_from_slice(&u16::try_from(reclen).unwrap().to_ne_bytes());
            rec[19..19 + name.len()].copy_from_slice(name);
            buf.extend(rec);
        }
        let names: Vec<&[u8]> = dirent_names(&buf).collect();
        assert_eq!(names, [&b"."[..], b"12", b"345"]);
        assert_eq!(
            dirent_names(&buf[..10]).count(),
            0,
            "a cut record ends the list"
        );
    }

    #[test]
    fn the_listing_leaves_out_its_own_descriptor() {
        let file = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let listed = open_fds().unwrap();
        assert!(listed.contains(&fd));
        drop(file);
        // Other tests open and close descriptors meanwhile: only the shape
        // of the listing can be checked here (the escape corpus checks the
        // descriptors of a single-threaded process exactly).
        let again = open_fds().unwrap();
        assert!(again.iter().all(|f| *f > 2));
        assert_eq!(
            again.windows(2).find(|w| w[0] >= w[1]),
            None,
            "sorted, no repeats"
        );
    }

    #[test]
    fn an_unreadable_listing_is_an_error_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(open_fds_in(&dir.path().join("missing")), Err(libc::ENOENT));
        std::fs::write(dir.path().join("not-a-number"), "").unwrap();
        assert_eq!(open_fds_in(dir.path()), Err(libc::EINVAL));
    }

    #[test]
    fn lists_an_open_descriptor_with_its_target() {
        let file = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let listed = undeclared(&[]).unwrap();
        assert!(
            listed
                .iter()
                .any(|(f, t)| *f == fd && t == &format!("/proc/{}/status", std::process::id())),
            "{listed:?}"
        );
        assert!(!undeclared(&[fd]).unwrap().iter().any(|(f, _)| *f == fd));
    }

    #[test]
    fn a_snapshot_knows_the_file_behind_each_descriptor() {
        let file = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let snapshot = crate::FdSnapshot::take();
        let (_, dev, ino) = sys::fstat_id(fd).unwrap();
        assert_eq!(snapshot.error(), None);
        assert!(snapshot.contains(fd, dev, ino));
        assert!(
            !snapshot.contains(fd, dev, ino + 1),
            "another file under the same number"
        );
    }
}
