//! Where a file handle came from, kept for messages and reports.
//!
//! Opening a file is hot; joining its path onto the directory's and putting
//! the result on the heap cost about 5% of an open+read (measured by
//! `benches/fs.rs`). So a file keeps its directory's shared path and the
//! relative path inline when it is short, and joins them only when asked.

#[cfg(unix)]
use std::ffi::OsStr;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const INLINE: usize = 46;

#[derive(Clone, Debug)]
enum Rel {
    #[cfg_attr(not(unix), allow(dead_code))]
    Inline {
        len: u8,
        buf: [u8; INLINE],
    },
    Heap(Box<Path>),
}

impl Rel {
    #[cfg(unix)]
    fn of(rel: &Path) -> Self {
        let bytes = rel.as_os_str().as_bytes();
        if bytes.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..bytes.len()].copy_from_slice(bytes);
            #[allow(clippy::cast_possible_truncation)] // INLINE < 256
            Rel::Inline {
                len: bytes.len() as u8,
                buf,
            }
        } else {
            Rel::Heap(rel.into())
        }
    }

    /// Only unix turns bytes back into an `OsStr` without `unsafe`.
    #[cfg(not(unix))]
    fn of(rel: &Path) -> Self {
        Rel::Heap(rel.into())
    }
}

/// A directory's path and a path relative to it.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    parent: Arc<Path>,
    rel: Rel,
}

impl Origin {
    /// `rel` beneath `parent`; `rel` may be `.` or empty for the dir itself.
    pub(crate) fn new(parent: &Arc<Path>, rel: &Path) -> Self {
        Self {
            parent: parent.clone(),
            rel: Rel::of(rel),
        }
    }

    fn rel(&self) -> &Path {
        match &self.rel {
            #[cfg(unix)]
            Rel::Inline { len, buf } => Path::new(OsStr::from_bytes(&buf[..usize::from(*len)])),
            #[cfg(not(unix))]
            Rel::Inline { .. } => unreachable!("inline only on unix"),
            Rel::Heap(p) => p,
        }
    }

    /// The joined path.
    pub(crate) fn path(&self) -> PathBuf {
        // An empty `rel` (a file opened by its own path) is the parent
        // itself; joining "" would add a trailing `/`.
        let rel = self.rel();
        if rel.as_os_str().is_empty() {
            self.parent.to_path_buf()
        } else {
            self.parent.join(rel)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_paths_join() {
        let parent: Arc<Path> = Arc::from(Path::new("/srv/site"));
        assert_eq!(
            Origin::new(&parent, Path::new("a/b.txt")).path(),
            Path::new("/srv/site/a/b.txt")
        );
        let long = "d/".repeat(40) + "f";
        assert_eq!(
            Origin::new(&parent, Path::new(&long)).path(),
            Path::new("/srv/site").join(&long)
        );
        let exact = "x".repeat(INLINE);
        assert_eq!(
            Origin::new(&parent, Path::new(&exact)).path(),
            Path::new("/srv/site").join(&exact)
        );
    }
}
