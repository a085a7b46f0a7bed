//! Descriptors that are neither stdio nor granted.

use std::os::fd::RawFd;

use super::sys;

/// Every open descriptor above 2, sorted. An error when `/proc/self/fd`
/// cannot be read: a listing that cannot be made must not pass as empty.
pub fn open_fds() -> Result<Vec<RawFd>, i32> {
    open_fds_in(std::path::Path::new("/proc/self/fd"))
}

fn open_fds_in(listing: &std::path::Path) -> Result<Vec<RawFd>, i32> {
    let dir = std::fs::read_dir(listing).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let mut found = Vec::new();
    for entry in dir {
        let entry = entry.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        let fd = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse().ok())
            .ok_or(libc::EINVAL)?;
        found.push(fd);
    }
    // The directory's own descriptor was in the listing and is closed now.
    found.retain(|fd| *fd > 2 && sys::fd_is_open(*fd));
    found.sort_unstable();
    Ok(found)
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
