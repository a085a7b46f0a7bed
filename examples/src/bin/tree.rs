//! `tree`: lists a directory tree through a read-only handle.
//!
//! ```text
//! cargo run -p ambit-examples --bin tree -- [-l] [DIR]   # default: the book's sources
//! ```
//!
//! With `-l`, symlinks to directories are followed, as `tree -l` does; one
//! that leads outside the tree is refused by the handle and shown as such.
//!
//! The directory is opened once, by name, with the ambient token; everything
//! after that goes through the `Dir<ReadOnly>` handle, which can list, read and
//! stat beneath it and do nothing else.

use std::io::{self, Write};
use std::process::ExitCode;

use cap_core::ambient_authority;
use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let follow = args.first().is_some_and(|a| a == "-l");
    if follow {
        args.remove(0);
    }
    let path = args
        .pop()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src").into());
    let dir = match Dir::<ReadOnly>::open_ambient_dir(&path, ambient_authority()) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("tree: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = io::stdout().lock();
    let mut counts = (0, 0);
    let result = writeln!(out, "{}", dir.origin().display())
        .and_then(|()| walk(&dir, "", follow, &mut out, &mut counts));
    match result.and_then(|()| writeln!(out, "\n{} directories, {} files", counts.0, counts.1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tree: {e}");
            ExitCode::FAILURE
        }
    }
}

fn walk(
    dir: &Dir<ReadOnly>,
    prefix: &str,
    follow: bool,
    out: &mut impl Write,
    counts: &mut (u32, u32),
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
            counts.0 += 1;
            walk(&entry.open_dir()?, &inner, follow, out, counts)?;
        } else if file_type.is_symlink() {
            let target = dir.read_link_contents(&name)?;
            write!(out, "{prefix}{branch}{shown} -> {}", target.display())?;
            if follow && dir.is_dir(&name) {
                writeln!(out)?;
                counts.0 += 1;
                walk(&dir.open_dir(&name)?, &inner, follow, out, counts)?;
            } else if follow && dir.symlink_metadata(&name).is_ok() && dir.metadata(&name).is_err()
            {
                // Dangling, or leading outside: the handle refuses to follow it.
                let why = dir.metadata(&name).unwrap_err();
                writeln!(out, "  [not followed: {why}]")?;
                counts.1 += 1;
            } else {
                writeln!(out)?;
                counts.1 += 1;
            }
        } else {
            writeln!(out, "{prefix}{branch}{shown}")?;
            counts.1 += 1;
        }
    }
    Ok(())
}
