//! Descriptors that are neither stdio nor granted.

use std::os::fd::RawFd;

use super::sys;

/// Every open descriptor above 2 that is not in `keep`, with what it points to.
pub fn undeclared(keep: &[RawFd]) -> Vec<(RawFd, String)> {
    let mut found: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect(),
        Err(_) => Vec::new(),
    };
    // The directory's own descriptor was in the listing and is closed now.
    found.retain(|fd| *fd > 2 && !keep.contains(fd) && sys::fd_is_open(*fd));
    found.sort_unstable();
    found
        .into_iter()
        .map(|fd| {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .map_or_else(|e| format!("? ({e})"), |p| p.display().to_string());
            (fd, target)
        })
        .collect()
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
