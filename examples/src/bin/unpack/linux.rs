//! `unpack`: extracts a tar archive into an output directory, privilege
//! separated: the untrusted archive is parsed in a child that holds no
//! filesystem or network handle at all, and only the parent, which never
//! parses, holds the output directory.
//!
//! ```text
//! cargo run -p ambit-examples --bin unpack -- ARCHIVE.tar OUT_DIR
//! ```
//!
//! Before its lock the parent opens the archive read-only, the output
//! directory as `Dir<WriteOnly>` (look up, create, write, truncate), and
//! spawns the parser: this same program (`/proc/self/exe`, a
//! [`CurrentExe`]), whose table is its standard input (a pipe the parent
//! feeds the archive bytes into), a [`Channel`] back to the parent and
//! standard error. The parser's sandbox is derived from that table: no
//! directory, no socket but the channel, no network grant; only its own
//! executable and the loader's directory stay readable (the kernel needs
//! them to start it). It sends each entry back as a typed message.
//!
//! The parent checks each entry's path before it touches the disk (only
//! plain names, no `..`, no absolute path: nothing is created for a refused
//! entry, not even its parent directories) and writes through its handle,
//! which refuses anything outside it anyway (and the kernel behind it).
//! Symlink and hard-link entries are skipped: the handle has no `Symlink`
//! right. Exits 0 when every entry was extracted, 1 when some were refused or
//! skipped, 2 when the archive is unreadable or the parser failed.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use cap_core::fs::{Dir, File};
use cap_core::preopen::{Preopen, PreopenError};
use cap_core::process::{Channel, Child, ChildStdin, CurrentExe, Stdio};
use cap_core::rights;
use cap_core::rights::WriteOnly;
use cap_core::sandbox::{Grant, Policy};
use serde::{Deserialize, Serialize};
use tar::EntryType;

/// The argument that makes this program the parser child.
const PARSER: &str = "--ambit-unpack-parser";

/// What the parser sends the parent, one message per entry.
#[derive(Debug, Serialize, Deserialize)]
enum Entry {
    /// A directory to create.
    Dir(PathBuf),
    /// A regular file and its contents.
    File(PathBuf, Vec<u8>),
    /// An entry the parser does not extract, and why.
    Skipped(PathBuf, String),
    /// The archive is unreadable (the last message).
    Broken(String),
}

pub(crate) fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|a| a == PARSER) {
        return parser();
    }
    unpack()
}

/// The parser child: its table is stdin (the archive bytes), fd 3 (the
/// channel), stdout and stderr (inherited: a Rust program aborts at start
/// when they are closed and it cannot open `/dev/null`). It holds nothing
/// else.
fn parser() -> ExitCode {
    let socket = match cap_core::process::inherited(3) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("unpack parser: no channel: {e}");
            return ExitCode::from(2);
        }
    };
    let channel = Channel::<Entry, ()>::from_socket(socket);
    let result = parse(io::stdin().lock(), &channel);
    if let Err(e) = result {
        // The channel may be what failed; the parent reports a missing end.
        let _ = channel.send(&Entry::Broken(e.to_string()));
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn parse(input: impl io::Read, channel: &Channel<Entry, ()>) -> io::Result<()> {
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let msg = match entry.header().entry_type() {
            EntryType::Directory => Entry::Dir(path),
            EntryType::Regular | EntryType::Continuous => {
                let mut data = Vec::new();
                io::Read::read_to_end(&mut entry, &mut data)?;
                Entry::File(path, data)
            }
            EntryType::Symlink | EntryType::Link => {
                Entry::Skipped(path, "links are not extracted (no Symlink right)".into())
            }
            other => Entry::Skipped(path, format!("entry type {other:?} is not extracted")),
        };
        channel.send(&msg)?;
    }
    Ok(())
}

/// The parser child, spawned before the lock: its process, the pipe to its
/// standard input and the channel from it.
struct Parser {
    child: Child,
    stdin: ChildStdin,
    channel: Channel<(), Entry>,
}

impl Preopen for Parser {
    const READS_COMMAND_LINE: bool = false;

    fn preopen(ambient: cap_core::AmbientAuthority) -> Result<Self, PreopenError> {
        let fail = |e: io::Error| PreopenError::new("parser", "the archive parser child", e);
        let me = CurrentExe::preopen(ambient)?;
        let (channel, theirs) = Channel::<(), Entry>::pair().map_err(fail)?;
        let mut child =
            me.0.command()
                .arg(PARSER)
                .stdin(Stdio::Piped)
                .handle(3, theirs.socket())
                .spawn()
                .map_err(fail)?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| fail(io::Error::other("no stdin")))?;
        Ok(Self {
            child,
            stdin,
            channel,
        })
    }
}

impl Grant for Parser {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        self.channel.socket().grant(policy);
    }
}

#[cap_core::sandboxed(archive = file(arg = 1), out = dir(arg = 2))]
fn unpack(archive: File<rights![Read, Stat]>, out: Dir<WriteOnly>, parser: Parser) -> ExitCode {
    let Parser {
        mut child,
        mut stdin,
        channel,
    } = parser;
    // Feed the archive to the parser while reading its entries.
    let feeder = std::thread::spawn(move || {
        let mut archive = archive;
        let copied = io::copy(&mut archive, &mut stdin);
        drop(stdin);
        copied
    });
    let mut refused = 0;
    let mut broken = None;
    loop {
        match channel.recv() {
            Ok(Some(Entry::Dir(path))) => {
                refused += usize::from(!report(&path, create_dir(&out, &path)));
            }
            Ok(Some(Entry::File(path, data))) => {
                refused += usize::from(!report(&path, write_file(&out, &path, &data)));
            }
            Ok(Some(Entry::Skipped(path, why))) => {
                eprintln!("unpack: skipped {}: {why}", path.display());
                refused += 1;
            }
            Ok(Some(Entry::Broken(why))) => broken = Some(why),
            Ok(None) => break,
            Err(e) => {
                broken = Some(format!("the parser's channel failed: {e}"));
                break;
            }
        }
    }
    let fed = feeder.join();
    let status = child.wait();
    match (broken, status) {
        (Some(why), _) => {
            eprintln!("unpack: cannot read the archive: {why}");
            ExitCode::from(2)
        }
        (None, Ok(s)) if s.success() => {
            if let Ok(Err(e)) = fed {
                eprintln!("unpack: cannot read the archive: {e}");
                return ExitCode::from(2);
            }
            if refused == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("unpack: {refused} entries not extracted");
                ExitCode::from(1)
            }
        }
        (None, s) => {
            eprintln!("unpack: the parser failed: {s:?}");
            ExitCode::from(2)
        }
    }
}

/// Prints the outcome of one entry; whether it was extracted.
fn report(path: &Path, result: io::Result<()>) -> bool {
    match result {
        Ok(()) => {
            println!("{}", path.display());
            true
        }
        Err(e) => {
            eprintln!("unpack: refused {}: {e}", path.display());
            false
        }
    }
}

/// Refuses, before anything is created, a path that is not made of plain
/// names only (`..`, an absolute path, a prefix): the handle would refuse
/// it too, but only after its parent directories were made.
fn plain(path: &Path) -> io::Result<()> {
    if path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the path leaves the output directory (`..` or absolute)",
        ))
    }
}

fn create_dir(out: &Dir<WriteOnly>, path: &Path) -> io::Result<()> {
    plain(path)?;
    out.create_dir_all(path)
}

fn write_file(out: &Dir<WriteOnly>, path: &Path, data: &[u8]) -> io::Result<()> {
    plain(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        out.create_dir_all(parent)?;
    }
    let mut file = out.create(path)?;
    file.write_all(data)
}
