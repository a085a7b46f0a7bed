//! Opening what a [`Request`] names as cap-core handles, and finding the
//! program beneath them.

use std::fmt::Write as _;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cap_core::fs::{Dir, File, OpenOptions};
use cap_core::net::{Net, Op};
use cap_core::process::Command;
use cap_core::rights::Dynamic;
use cap_core::{AmbientAuthority, Rights};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::options::{PathRequest, Request, Shape};

/// A directory handle and what it came from.
#[derive(Debug)]
pub struct OpenDir {
    /// The handle.
    pub dir: Dir<Dynamic>,
    /// Its path with symlinks resolved (to find the program beneath it).
    pub real: PathBuf,
    /// Where it was asked for.
    pub from: String,
}

/// A file handle and what it came from.
#[derive(Debug)]
pub struct OpenFile {
    /// The handle.
    pub file: File<Dynamic>,
    /// `(st_dev, st_ino)` of the file (to know it as the program).
    pub id: (u64, u64),
    /// Where it was asked for.
    pub from: String,
}

/// Every handle `ambit run` grants to its child.
#[derive(Debug, Default)]
pub struct Handles {
    /// Directories.
    pub dirs: Vec<OpenDir>,
    /// Files.
    pub files: Vec<OpenFile>,
    /// The network grant (connect, bind, unix), if any.
    pub net: Option<Net>,
    /// `--system` entries absent on this system.
    pub skipped: Vec<PathBuf>,
}

fn at(from: &str, path: &Path, e: &dyn std::fmt::Display) -> String {
    format!("{from} {}: {e}", path.display())
}

impl Handles {
    /// Opens each path and builds the network grant, before anything is
    /// spawned. Errors name the option (or policy-file table) and the path.
    ///
    /// # Ambient Authority
    ///
    /// Opens the named paths and resolves the named hosts.
    pub fn open(req: &Request, ambient: AmbientAuthority) -> Result<Self, String> {
        let mut out = Self::default();
        for p in &req.paths {
            out.open_path(p, ambient)?;
        }
        out.net = net(req, ambient)?;
        Ok(out)
    }

    fn open_path(&mut self, p: &PathRequest, ambient: AmbientAuthority) -> Result<(), String> {
        let meta = match std::fs::metadata(&p.path) {
            Ok(m) => m,
            Err(e) if p.optional && e.kind() == io::ErrorKind::NotFound => {
                self.skipped.push(p.path.clone());
                return Ok(());
            }
            Err(e) => return Err(at(&p.from, &p.path, &e)),
        };
        let real = std::fs::canonicalize(&p.path).map_err(|e| at(&p.from, &p.path, &e))?;
        if meta.is_dir() {
            if p.shape == Shape::File {
                return Err(at(&p.from, &p.path, &"is a directory, not a file"));
            }
            // The same directory twice with no new right (`/lib` and
            // `/usr/lib` on a merged-/usr system): granted once.
            if self
                .dirs
                .iter()
                .any(|d| d.real == real && d.dir.rights().contains(p.rights & Rights::FS))
            {
                return Ok(());
            }
            let dir = Dir::open_ambient_dir_with_rights(&p.path, p.rights, ambient)
                .map_err(|e| at(&p.from, &p.path, &e))?;
            self.dirs.push(OpenDir {
                dir,
                real,
                from: p.from.clone(),
            });
            return Ok(());
        }
        if p.shape == Shape::Dir {
            return Err(at(&p.from, &p.path, &"is not a directory"));
        }
        // A file: opened beneath its (real) parent with the preset's rights;
        // the parent handle is not kept.
        let (Some(parent), Some(name)) = (real.parent(), real.file_name()) else {
            return Err(at(&p.from, &p.path, &"not a file"));
        };
        let dir = Dir::open_ambient_dir_with_rights(parent, p.rights | Rights::LOOKUP, ambient)
            .map_err(|e| at(&p.from, &p.path, &e))?;
        let file: File<Dynamic> = dir
            .open_with(name, &OpenOptions::new())
            .map_err(|e| at(&p.from, &p.path, &e))?;
        self.files.push(OpenFile {
            file,
            id: (meta.dev(), meta.ino()),
            from: p.from.clone(),
        });
        Ok(())
    }

    /// A command running the program `req` names: an `--exec` file that is
    /// it, or a file beneath an `--exec` directory. A bare name is looked
    /// up in the `--exec` directories only.
    ///
    /// # Ambient Authority
    ///
    /// Resolves the program's path (symlinks, the current directory) to
    /// compare it with the handles.
    ///
    /// Returns the command and how the program was found, for the plan.
    pub fn command(
        &self,
        program: &Path,
        ambient: AmbientAuthority,
    ) -> Result<(Command<'_>, String), String> {
        let _ = ambient;
        let exec_dirs = || {
            self.dirs
                .iter()
                .filter(|d| d.dir.rights().contains(Rights::EXEC | Rights::LOOKUP))
        };
        let shown = program.display();
        if program.components().count() == 1 && !program.is_absolute() {
            // A bare name: the first --exec directory that has it.
            for d in exec_dirs() {
                if d.real.join(program).is_file() {
                    let how = format!(
                        "{} beneath {} ({})",
                        program.display(),
                        d.dir.origin().display(),
                        d.from
                    );
                    return Ok((Command::beneath(&d.dir, program), how));
                }
            }
            return Err(format!(
                "PROGRAM `{shown}` was not found in any --exec directory (PATH is not searched): name it by its path, with --exec on it or on its directory"
            ));
        }
        let meta = std::fs::metadata(program).map_err(|e| format!("PROGRAM `{shown}`: {e}"))?;
        if let Some(f) = self
            .files
            .iter()
            .find(|f| f.id == (meta.dev(), meta.ino()) && f.file.rights().contains(Rights::EXEC))
        {
            let how = format!("{} ({})", f.file.origin().display(), f.from);
            return Ok((Command::new(&f.file), how));
        }
        let real = std::fs::canonicalize(program).map_err(|e| format!("PROGRAM `{shown}`: {e}"))?;
        for d in exec_dirs() {
            if let Ok(rest) = real.strip_prefix(&d.real) {
                let how = format!(
                    "{} beneath {} ({})",
                    rest.display(),
                    d.dir.origin().display(),
                    d.from
                );
                return Ok((Command::beneath(&d.dir, rest), how));
            }
        }
        Err(format!(
            "PROGRAM `{shown}` is not beneath an --exec directory nor an --exec file: add `--exec {shown}` (or --exec on its directory)"
        ))
    }

    /// The plan: each handle with its rights and where it came from.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for d in &self.dirs {
            let _ = writeln!(
                s,
                "  dir   {} {} ({})",
                d.dir.origin().display(),
                d.dir.rights(),
                d.from
            );
        }
        for f in &self.files {
            let _ = writeln!(
                s,
                "  file  {} {} ({})",
                f.file.origin().display(),
                f.file.rights(),
                f.from
            );
        }
        if let Some(n) = &self.net {
            let _ = writeln!(s, "  net   {}", n.label());
        }
        for p in &self.skipped {
            let _ = writeln!(s, "  (absent, skipped: {})", p.display());
        }
        s
    }
}

/// One grant for `--connect`, `--bind` and `--unix`, labelled with them.
fn net(req: &Request, ambient: AmbientAuthority) -> Result<Option<Net>, String> {
    if req.connect.is_empty() && req.bind.is_empty() && req.unix.is_empty() {
        return Ok(None);
    }
    let mut label = Vec::new();
    let mut b = Net::builder(ambient);
    for c in &req.connect {
        b = b
            .connect(c.value.as_str())
            .map_err(|e| format!("{} {}: {e}", c.from, c.value))?;
        label.push(format!("connect {}", c.value));
    }
    for p in &req.bind {
        let port = p.value;
        // Every address: Landlock's bind rule is by port only.
        for any in [IpNet::V4(Ipv4Net::default()), IpNet::V6(Ipv6Net::default())] {
            b = b.allow(Op::TcpBind, any, port..=port);
        }
        label.push(format!("bind {port}"));
    }
    for u in &req.unix {
        std::fs::metadata(&u.value).map_err(|e| at(&u.from, &u.value, &e))?;
        label.push(format!("unix {}", u.value.display()));
    }
    if !req.unix.is_empty() {
        b = b.unix();
    }
    Ok(Some(b.label(label.join(", ")).build()))
}
