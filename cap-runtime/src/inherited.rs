//! What becomes of undeclared descriptors, decided without the kernel: the
//! part of the inherited-descriptor handling the BSD planners share.

use std::io;

use crate::policy::RawFd;
use crate::report::{FdAction, InheritedFd};
use crate::{Error, InheritedFds};

/// An open descriptor above stdio that no policy entry declares, as a
/// backend's facts record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undeclared {
    /// The descriptor.
    pub fd: RawFd,
    /// What it points to, for the report (a path, or its file type).
    pub target: String,
    /// `(st_dev, st_ino)` of its file, when `fstat` worked.
    pub id: Option<(u64, u64)>,
}

/// The action for each undeclared descriptor under `choice`, or the refusal
/// ([`Error::InheritedFds`]) when the choice is [`InheritedFds::Refuse`] and
/// there are any, or the snapshot's own error.
pub fn decide(
    undeclared: &[Undeclared],
    choice: &InheritedFds,
) -> Result<Vec<(RawFd, String, FdAction)>, Error> {
    if let InheritedFds::CloseInherited(snapshot) = choice
        && let Some(errno) = snapshot.error()
    {
        return Err(Error::Kernel {
            step: "snapshot of open descriptors",
            errno,
            applied: Vec::new(),
        });
    }
    if *choice == InheritedFds::Refuse && !undeclared.is_empty() {
        return Err(Error::InheritedFds {
            fds: undeclared
                .iter()
                .map(|u| InheritedFd {
                    fd: u.fd,
                    target: u.target.clone(),
                    action: FdAction::Refused,
                })
                .collect(),
        });
    }
    Ok(undeclared
        .iter()
        .map(|u| {
            let action = match choice {
                InheritedFds::Close => FdAction::Closed,
                // Open at the snapshot and still the same file: inherited.
                InheritedFds::CloseInherited(snapshot) => match u.id {
                    Some((dev, ino)) if snapshot.contains(u.fd, dev, ino) => FdAction::Closed,
                    _ => FdAction::Kept,
                },
                InheritedFds::Keep | InheritedFds::Refuse => FdAction::Kept,
            };
            (u.fd, u.target.clone(), action)
        })
        .collect())
}

/// Whether a helper may be forked without exec, from the process's thread
/// count (or the error of counting them, and how they were counted): only
/// with exactly one thread, since a lock another thread holds at the fork
/// stays held forever in the child. The error names the count or the cause.
pub fn single_threaded(count: io::Result<usize>, counted_by: &str) -> io::Result<()> {
    match count {
        Ok(1) => Ok(()),
        Ok(n) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "cannot fork a helper process: the process has {n} threads, and only a single-threaded process can fork without exec (make it before any thread starts)"
            ),
        )),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!(
                "cannot fork a helper process: counting the threads ({counted_by}) failed: {e}"
            ),
        )),
    }
}

/// The ranges `(first, last)` of descriptors above stdio that are not in
/// `keep`, for `close_range` in a forked helper that closes all but its own
/// (the last range ends at the largest descriptor number).
pub fn gaps_above_stdio(keep: &[RawFd]) -> Vec<(u32, u32)> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|fd| u32::try_from(*fd).ok())
        .filter(|fd| *fd > 2)
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut gaps = Vec::new();
    let mut next = 3u32;
    for fd in keep {
        if fd > next {
            gaps.push((next, fd - 1));
        }
        next = fd + 1;
    }
    gaps.push((next, u32::MAX));
    gaps
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_one_thread_may_fork_a_helper() {
        use super::single_threaded;
        assert!(single_threaded(Ok(1), "x").is_ok());
        let e = single_threaded(Ok(3), "x").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        assert!(e.to_string().contains("the process has 3 threads"), "{e}");
        let e = single_threaded(
            Err(std::io::Error::from_raw_os_error(13)),
            "/proc/self/status",
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "cannot fork a helper process: counting the threads (/proc/self/status) failed: "
            ),
            "{e}"
        );
    }

    #[test]
    fn gaps_above_stdio_leave_out_the_kept_and_stdio() {
        use super::gaps_above_stdio as gaps;
        assert_eq!(gaps(&[]), vec![(3, u32::MAX)]);
        assert_eq!(gaps(&[0, 1, 2]), vec![(3, u32::MAX)]);
        assert_eq!(gaps(&[3]), vec![(4, u32::MAX)]);
        assert_eq!(gaps(&[7, 5, 5, -1]), vec![(3, 4), (6, 6), (8, u32::MAX)]);
        assert_eq!(gaps(&[4, 3]), vec![(5, u32::MAX)]);
    }

    use super::*;

    fn one(fd: RawFd) -> Undeclared {
        Undeclared {
            fd,
            target: format!("file {fd}"),
            id: Some((1, 100 + u64::try_from(fd).unwrap())),
        }
    }

    #[test]
    fn refuse_lists_every_descriptor_and_passes_when_none() {
        let err = decide(&[one(5), one(7)], &InheritedFds::Refuse).unwrap_err();
        let Error::InheritedFds { fds } = err else {
            panic!("{err:?}")
        };
        assert_eq!(fds.iter().map(|f| f.fd).collect::<Vec<_>>(), [5, 7]);
        assert!(decide(&[], &InheritedFds::Refuse).unwrap().is_empty());
    }

    #[test]
    fn close_keep_and_close_inherited() {
        let all = [one(5), one(7)];
        let closed = decide(&all, &InheritedFds::Close).unwrap();
        assert!(closed.iter().all(|(_, _, a)| *a == FdAction::Closed));
        let kept = decide(&all, &InheritedFds::Keep).unwrap();
        assert!(kept.iter().all(|(_, _, a)| *a == FdAction::Kept));
        // 5 was open at the snapshot as the same file: inherited, closed.
        // 7 was another file then (its number reused): kept.
        let snapshot = crate::FdSnapshot::from_fds(vec![(5, 1, 105), (7, 1, 999)]);
        let inherited = decide(&all, &InheritedFds::CloseInherited(snapshot)).unwrap();
        assert_eq!(inherited[0].2, FdAction::Closed);
        assert_eq!(inherited[1].2, FdAction::Kept);
    }
}
