//! `cheri_parse`: a sandboxed parser that holds only a load-only, bounds-narrowed
//! capability to its input.
//!
//! ```text
//! cargo run -p ambit-examples --bin cheri_parse -- DIR FILE [--try-write]
//! ```
//!
//! `FILE` (beneath `DIR`) holds netstrings, `<length>:<bytes>,` one after
//! another (e.g. `5:hello,5:world,`); the program prints each one.
//!
//! The program has two kinds of authority and hands each out narrowly:
//!
//! - files: `DIR` is opened once, by name, as a `Dir<rights![Lookup, Read]>`;
//!   the input is read through that handle, which can do nothing else, and
//!   the process enters capability mode keeping only that handle before any
//!   input is read.
//! - memory: the input is read into a buffer that also holds the program's
//!   session key right after the input, as a real program's heap would hold
//!   other secrets. The parser gets a [`CapSlice<u8>`] narrowed to exactly the
//!   input bytes and to the Load permission. A netstring that lies about its
//!   length makes the parser read past the input, as a C parser with this bug
//!   would; here the capability refuses that read (on CHERI hardware, the
//!   load traps), so the key never reaches the output. With `--try-write`
//!   the parser also tries to write to its input, and is refused.
//!
//! Exit status: 0 parsed, 1 malformed input, 2 refused by a capability or I/O error.

use std::process::ExitCode;

use cap_core::ambient_authority;
use cap_core::cheri::{CapError, CapSlice, Perms};
use cap_core::fs::Dir;
use cap_core::rights;
use cap_core::sandbox::{InheritedFds, Sandbox};

/// What sits in memory right after the input: what an over-read would leak.
const SESSION_KEY: &[u8] = b"SESSION-KEY=7f3a9c0de1b2";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let try_write = args.iter().any(|a| a == "--try-write");
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [dir_path, file] = paths[..] else {
        eprintln!("usage: cheri_parse DIR FILE [--try-write]");
        return ExitCode::from(2);
    };

    // The only use of ambient authority: open the directory by name.
    let dir: Dir<rights![Lookup, Read]> = match Dir::open_ambient_dir(dir_path, ambient_authority())
    {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cheri_parse: {e}");
            return ExitCode::from(2);
        }
    };
    // The kernel lock, keeping only `dir`. No object owns another descriptor
    // yet, so inherited ones are closed rather than refused.
    if let Err(e) = Sandbox::new()
        .grant(&dir)
        .inherited_fds(InheritedFds::Close)
        .enter()
    {
        eprintln!("cheri_parse: cannot enter the sandbox: {e}");
        return ExitCode::from(2);
    }
    // Nothing below names a path or reaches outside `dir`.

    let mut memory = match dir.read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cheri_parse: {e}");
            return ExitCode::from(2);
        }
    };
    let input_len = memory.len();
    memory.extend_from_slice(SESSION_KEY);

    // The parser's whole authority: the input bytes, load only.
    let whole = CapSlice::from_mut_slice(&mut memory);
    let input = match whole
        .restrict_bounds(0..input_len)
        .and_then(|c| c.restrict_perms(Perms::LOAD))
    {
        Ok(input) => input,
        Err(e) => {
            eprintln!("cheri_parse: cannot narrow the input capability: {e}");
            return ExitCode::from(2);
        }
    };
    if try_write && let Err(e) = scribble(&input) {
        eprintln!("cheri_parse: write refused: {e}");
    }
    match parse(&input) {
        Ok(items) => {
            for (i, item) in items.iter().enumerate() {
                println!("{i}: {}", item.escape_ascii());
            }
            println!("{} item(s)", items.len());
            ExitCode::SUCCESS
        }
        Err(ParseError::Malformed { at, why }) => {
            eprintln!("cheri_parse: {file}: malformed at byte {at}: {why}");
            ExitCode::from(1)
        }
        Err(ParseError::Refused(e)) => {
            eprintln!("cheri_parse: {file}: parser read refused by its capability: {e}");
            ExitCode::from(2)
        }
    }
}

enum ParseError {
    Malformed { at: usize, why: &'static str },
    Refused(CapError),
}

impl From<CapError> for ParseError {
    fn from(e: CapError) -> Self {
        ParseError::Refused(e)
    }
}

/// Parses netstrings from `input`.
///
/// Written the way over-reading parsers are: it trusts each declared length
/// and reads that many bytes. Every read is a capability load, so a lying
/// length ends in [`CapError::OutOfBounds`], not in whatever lies beyond.
fn parse(input: &CapSlice<'_, u8>) -> Result<Vec<Vec<u8>>, ParseError> {
    let mut items = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let mut len = 0usize;
        let start = pos;
        loop {
            match input.try_load(pos)? {
                b':' if pos > start => break,
                d @ b'0'..=b'9' => {
                    len = len
                        .checked_mul(10)
                        .and_then(|l| l.checked_add(usize::from(d - b'0')))
                        .ok_or(ParseError::Malformed {
                            at: pos,
                            why: "length too large",
                        })?;
                }
                _ => {
                    return Err(ParseError::Malformed {
                        at: pos,
                        why: "expected a decimal length and ':'",
                    });
                }
            }
            pos += 1;
        }
        pos += 1;
        // Trusts `len`: the capability, not this code, keeps it inside the input.
        let mut item = vec![0u8; len];
        input.try_read_into(pos, &mut item)?;
        pos += len;
        if input.try_load(pos)? != b',' {
            return Err(ParseError::Malformed {
                at: pos,
                why: "expected ','",
            });
        }
        pos += 1;
        items.push(item);
    }
    Ok(items)
}

/// What a compromised parser might try: overwrite its input.
fn scribble(input: &CapSlice<'_, u8>) -> Result<(), CapError> {
    input.try_store(0, b'X')
}
