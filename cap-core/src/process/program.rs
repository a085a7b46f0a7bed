//! [`Program`]: an executable handle with the loader directories it needs to
//! start, opened before the lock.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::Command;
use crate::AmbientAuthority;
use crate::fs::{Dir, File};
use crate::preopen::{Preopen, PreopenError};
use crate::rights;
use crate::sandbox::{Grant, Policy};

/// The rights of a program's executable file.
pub type ExecRights = rights![Read, Exec];
/// The rights of a loader directory: look up, read and map libraries.
pub type LoaderRights = rights![Lookup, Read, Exec];

/// A program to spawn: its executable file and, for a dynamically linked
/// one, the directories its loader and libraries are in. Grant it to the
/// parent's sandbox (it implements [`Grant`]) and spawn it with
/// [`Program::command`], which declares the loader directories in the
/// child's sandbox.
#[derive(Debug)]
pub struct Program {
    exe: File<ExecRights>,
    loaders: Vec<Dir<LoaderRights>>,
}

impl Program {
    /// Opens the executable at `path` and the directory of its ELF
    /// interpreter (`PT_INTERP`, symlinks resolved: where the loader and, on
    /// Debian-style systems, libc live). A static program gets none; add
    /// others with [`Program::with_loader_dir`].
    ///
    /// # Ambient Authority
    ///
    /// Opens `path` and the interpreter's directory by name.
    pub fn open_ambient(path: impl AsRef<Path>, ambient: AmbientAuthority) -> io::Result<Self> {
        let path = path.as_ref();
        let exe = File::<ExecRights>::open_ambient(path, ambient)?;
        let mut loaders = Vec::new();
        if let Some(interp) = interpreter(&exe)? {
            let real = std::fs::canonicalize(&interp).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "the loader `{}` of `{}`: {e}",
                        interp.display(),
                        path.display()
                    ),
                )
            })?;
            if let Some(dir) = real.parent() {
                loaders.push(Dir::open_ambient_dir(dir, ambient)?);
            }
        }
        Ok(Self { exe, loaders })
    }

    /// Adds a directory the program needs to start (a library directory
    /// outside the loader's).
    pub fn with_loader_dir(mut self, dir: Dir<LoaderRights>) -> Self {
        self.loaders.push(dir);
        self
    }

    /// The executable.
    pub fn exe(&self) -> &File<ExecRights> {
        &self.exe
    }

    /// The loader directories.
    pub fn loader_dirs(&self) -> &[Dir<LoaderRights>] {
        &self.loaders
    }

    /// A command running this program, its loader directories declared.
    pub fn command(&self) -> Command<'_> {
        self.loaders
            .iter()
            .fold(Command::new(&self.exe), Command::loader_dir)
    }
}

impl Grant for Program {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        self.exe.grant(policy);
        for d in &self.loaders {
            d.grant(policy);
        }
    }
}

/// `PT_INTERP` of an ELF file, if it has one.
fn interpreter(exe: &File<ExecRights>) -> io::Result<Option<PathBuf>> {
    let mut head = Vec::new();
    exe.take(64 * 1024).read_to_end(&mut head)?;
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{exe}: not a 64-bit little-endian ELF file"),
        )
    };
    if head.len() < 64 || head[..4] != *b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        return Err(bad());
    }
    let u16_at = |o: usize| head.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u64_at = |o: usize| {
        head.get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let phoff = u64_at(0x20).ok_or_else(bad)?;
    let phentsize = usize::from(u16_at(0x36).ok_or_else(bad)?);
    let phnum = usize::from(u16_at(0x38).ok_or_else(bad)?);
    let phoff = usize::try_from(phoff).map_err(|_| bad())?;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let Some(kind) = head.get(ph..ph + 4) else {
            break;
        };
        if kind != [3, 0, 0, 0] {
            continue;
        }
        let offset = u64_at(ph + 8).and_then(|v| usize::try_from(v).ok());
        let size = u64_at(ph + 32).and_then(|v| usize::try_from(v).ok());
        let (Some(offset), Some(size)) = (offset, size) else {
            return Err(bad());
        };
        let raw = head.get(offset..offset + size).ok_or_else(bad)?;
        let raw = raw.split(|b| *b == 0).next().unwrap_or_default();
        let path = std::str::from_utf8(raw).map_err(|_| bad())?;
        return Ok(Some(PathBuf::from(path)));
    }
    Ok(None)
}

/// This program itself (`/proc/self/exe`), with its loader directories: to
/// run a privilege-separated helper by re-executing itself. As a parameter
/// of `#[sandboxed]` without a declaration, it is opened before the lock
/// and granted (`Exec` on the file, read and execute beneath the loader
/// directories).
#[derive(Debug)]
pub struct CurrentExe(pub Program);

impl Preopen for CurrentExe {
    const READS_COMMAND_LINE: bool = false;

    fn preopen(ambient: AmbientAuthority) -> Result<Self, PreopenError> {
        Program::open_ambient("/proc/self/exe", ambient)
            .map(CurrentExe)
            .map_err(|e| PreopenError::new("current_exe", "exec \"/proc/self/exe\"", e))
    }
}

impl Grant for CurrentExe {
    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        self.0.grant(policy);
    }
}
