//! `unpack`: extracts a tar archive into an output directory that it holds
//! with create and write rights only.
//!
//! ```text
//! cargo run -p ambit-examples --bin unpack -- ARCHIVE.tar OUT_DIR
//! ```
//!
//! The archive is opened read-only and the output directory as
//! `Dir<WriteOnly>` (look up, create, write, truncate) before the lock. Each
//! entry is written through that handle, never by `tar`'s own `unpack`, so an
//! entry named `../x`, `/etc/x` or `a/../../x` is refused by the handle (and by
//! the kernel behind it) and reported. Symlink and hard-link entries are
//! skipped: the handle has no `Symlink` right, so the program could not make
//! them if it tried. Exits 0 when every entry was extracted, 1 when some were
//! refused or skipped, 2 when the archive is unreadable.

use std::io;
use std::path::Path;
use std::process::ExitCode;

use cap_core::fs::{Dir, File};
use cap_core::rights;
use cap_core::rights::WriteOnly;
use tar::EntryType;

#[cap_core::sandboxed(archive = file(arg = 1), out = dir(arg = 2))]
fn main(archive: File<rights![Read, Stat]>, out: Dir<WriteOnly>) -> ExitCode {
    match unpack(archive, &out) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(refused) => {
            eprintln!("unpack: {refused} entries not extracted");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("unpack: cannot read the archive: {e}");
            ExitCode::from(2)
        }
    }
}

/// Extracts every entry it can; returns how many it refused or skipped.
fn unpack(archive: File<rights![Read, Stat]>, out: &Dir<WriteOnly>) -> io::Result<usize> {
    let mut refused = 0;
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        let result = match kind {
            EntryType::Directory => out.create_dir_all(&path),
            EntryType::Regular | EntryType::Continuous => write_file(out, &path, &mut entry),
            EntryType::Symlink | EntryType::Link => {
                eprintln!(
                    "unpack: skipped {}: links are not extracted (no Symlink right)",
                    path.display()
                );
                refused += 1;
                continue;
            }
            other => {
                eprintln!(
                    "unpack: skipped {}: entry type {other:?} is not extracted",
                    path.display()
                );
                refused += 1;
                continue;
            }
        };
        match result {
            Ok(()) => println!("{}", path.display()),
            Err(e) => {
                eprintln!("unpack: refused {}: {e}", path.display());
                refused += 1;
            }
        }
    }
    Ok(refused)
}

fn write_file(out: &Dir<WriteOnly>, path: &Path, entry: &mut impl io::Read) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        out.create_dir_all(parent)?;
    }
    let mut file = out.create(path)?;
    io::copy(entry, &mut file)?;
    Ok(())
}
