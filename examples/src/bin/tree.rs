//! `tree`: lists a directory tree through a read-only handle.
//!
//! ```text
//! cargo run -p ambit-examples --bin tree -- [-l] [DIR]   # default: the book's sources
//! ```
//!
//! With `-l`, symlinks to directories are followed, as `tree -l` does; one
//! that leads outside the tree is refused by the handle and shown as such.
//!
//! The directory is opened once, by name, before the lock; then `main`
//! runs in a sandbox (`#[sandboxed]`) that holds only the `Dir<ReadOnly>`
//! handle, which can list, read and stat beneath it and do nothing else.
//! A symlink that leads back to a directory being listed (`loop -> .`) is
//! shown and not followed again, as `tree -l` does.

use std::io::{self, Write};
use std::process::ExitCode;

use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

/// The directory to list: the last argument that is not `-l`, or the book's
/// sources.
fn root_arg() -> std::ffi::OsString {
    std::env::args_os()
        .skip(1)
        .rfind(|a| a != "-l")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src").into())
}

#[cap_core::sandboxed(root = dir(from = root_arg()), flags = ["-l"])]
fn main(root: Dir<ReadOnly>) -> ExitCode {
    let follow = std::env::args_os().skip(1).any(|a| a == "-l");
    let mut out = io::stdout().lock();
    let mut walk = Walk {
        follow,
        counts: (0, 0),
        ancestors: Vec::new(),
    };
    let result =
        writeln!(out, "{}", root.origin().display()).and_then(|()| walk.dir(&root, "", &mut out));
    let (dirs, files) = walk.counts;
    match result.and_then(|()| writeln!(out, "\n{dirs} directories, {files} files")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tree: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A listing in progress.
struct Walk {
    follow: bool,
    counts: (u32, u32),
    /// `(st_dev, st_ino)` of each directory from the root to the one being
    /// listed: a followed symlink to one of them is a loop.
    ancestors: Vec<(u64, u64)>,
}

fn identity(dir: &Dir<ReadOnly>) -> io::Result<(u64, u64)> {
    use cap_core::fs::MetadataExt;
    let m = dir.dir_metadata()?;
    Ok((m.dev(), m.ino()))
}

impl Walk {
    fn dir(&mut self, dir: &Dir<ReadOnly>, prefix: &str, out: &mut impl Write) -> io::Result<()> {
        self.ancestors.push(identity(dir)?);
        let result = self.entries(dir, prefix, out);
        self.ancestors.pop();
        result
    }

    fn entries(
        &mut self,
        dir: &Dir<ReadOnly>,
        prefix: &str,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let mut entries = dir.entries()?.collect::<io::Result<Vec<_>>>()?;
        entries.sort_by_key(cap_core::fs::DirEntry::file_name);
        let last = entries.len().saturating_sub(1);
        for (i, entry) in entries.iter().enumerate() {
            let (branch, indent) = if i == last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            let name = entry.file_name();
            let shown = name.to_string_lossy();
            let file_type = entry.file_type()?;
            let inner = format!("{prefix}{indent}");
            if file_type.is_dir() {
                writeln!(out, "{prefix}{branch}{shown}")?;
                self.counts.0 += 1;
                self.dir(&entry.open_dir()?, &inner, out)?;
            } else if file_type.is_symlink() {
                let target = dir.read_link_contents(&name)?;
                write!(out, "{prefix}{branch}{shown} -> {}", target.display())?;
                if self.follow && dir.is_dir(&name) {
                    let sub = dir.open_dir(&name)?;
                    self.counts.0 += 1;
                    if self.ancestors.contains(&identity(&sub)?) {
                        writeln!(out, "  [recursive, not followed]")?;
                    } else {
                        writeln!(out)?;
                        self.dir(&sub, &inner, out)?;
                    }
                } else if self.follow
                    && dir.symlink_metadata(&name).is_ok()
                    && dir.metadata(&name).is_err()
                {
                    // Dangling, or leading outside: the handle refuses to follow it.
                    let why = dir.metadata(&name).unwrap_err();
                    writeln!(out, "  [not followed: {why}]")?;
                    self.counts.1 += 1;
                } else {
                    writeln!(out)?;
                    self.counts.1 += 1;
                }
            } else {
                writeln!(out, "{prefix}{branch}{shown}")?;
                self.counts.1 += 1;
            }
        }
        Ok(())
    }
}
