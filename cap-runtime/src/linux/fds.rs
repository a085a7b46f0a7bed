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

/// How many threads the process has (the `Threads:` line of
/// `/proc/self/status`); the errno when that cannot be read, since a count
/// that cannot be checked must not pass as one.
pub fn thread_count() -> Result<usize, i32> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or(libc::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

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
