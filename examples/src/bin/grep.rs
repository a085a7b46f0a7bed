//! `grep`: searches the files of a tree for a fixed string, holding the tree
//! read-only.
//!
//! ```text
//! cargo run -p ambit-examples --bin grep -- PATTERN [DIR]
//! ```
//!
//! Prints `path:line:text` for each matching line of each file beneath `DIR`
//! (default `.`). The tree is opened as `Dir<ReadOnly>` before the lock;
//! symlinks are not followed out of it (the handle refuses, and the program
//! reports it). Files are opened without blocking and searched only when
//! they are regular files, so a FIFO (or a symlink to one) cannot stall the
//! search. Exits 0 when something matched, 1 when nothing did, 2 on a
//! usage error, like grep.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cap_core::fs::{Dir, OpenOptions};
use cap_core::rights;
use cap_core::rights::ReadOnly;

#[cap_core::sandboxed(root = dir(arg = 2, default = "."))]
fn main(root: Dir<ReadOnly>) -> ExitCode {
    let Some(pattern) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: grep PATTERN [DIR]");
        return ExitCode::from(2);
    };
    let mut search = Search {
        pattern,
        matched: false,
    };
    search.dir(&root, Path::new(""));
    if search.matched {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

struct Search {
    pattern: String,
    matched: bool,
}

impl Search {
    fn dir(&mut self, dir: &Dir<ReadOnly>, at: &Path) {
        let entries = match dir.entries() {
            Ok(entries) => entries,
            Err(e) => return eprintln!("grep: {}: {e}", at.display()),
        };
        let mut names: Vec<_> = entries.filter_map(Result::ok).collect();
        names.sort_by_key(cap_core::fs::DirEntry::file_name);
        for entry in names {
            let path: PathBuf = at.join(entry.file_name());
            match entry.file_type() {
                Ok(t) if t.is_dir() => match entry.open_dir() {
                    Ok(sub) => self.dir(&sub, &path),
                    Err(e) => eprintln!("grep: {}: {e}", path.display()),
                },
                Ok(t) if t.is_file() => self.file(dir, &entry.file_name(), &path),
                // A symlink is searched only if it resolves beneath the root:
                // the handle refuses the rest, and we say so.
                Ok(t) if t.is_symlink() => self.file(dir, &entry.file_name(), &path),
                Ok(_) => {}
                Err(e) => eprintln!("grep: {}: {e}", path.display()),
            }
        }
    }

    fn file(&mut self, dir: &Dir<ReadOnly>, name: &std::ffi::OsStr, path: &Path) {
        // Non-blocking: opening a FIFO for reading would wait for a writer.
        let file =
            match dir.open_with::<rights![Read, Stat]>(name, OpenOptions::new().nonblock(true)) {
                Ok(file) => file,
                Err(e) => return eprintln!("grep: {}: {e}", path.display()),
            };
        match file.metadata() {
            Ok(m) if m.is_file() => {}
            Ok(_) => return eprintln!("grep: {}: not a regular file, skipped", path.display()),
            Err(e) => return eprintln!("grep: {}: {e}", path.display()),
        }
        for (number, line) in BufReader::new(file).split(b'\n').enumerate() {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line);
            if text.contains(&self.pattern) {
                self.matched = true;
                println!("{}:{}:{}", path.display(), number + 1, text);
            }
        }
    }
}
