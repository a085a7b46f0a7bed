//! [`FileArgs`] (`cap_fileargs`): paths given at run time, opened by the
//! broker beneath declared roots, with rights at most the roots'.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::protocol::{FieldReader, Fields};
use super::{Builder, Connection, Reply, Service, ServiceError, Ticket};
use crate::fs::{Dir, File, OpenOptions};
use crate::process::Passable;
use crate::rights::{
    Dynamic, HasCreate, HasLookup, HasRead, HasTruncate, HasWrite, RightSet, Rights, SubsetOf,
};
use crate::sandbox::{Grant, Policy};

/// Open a file: path, rights wanted, option flags, creation mode (0: the
/// default).
pub(crate) const OP_OPEN: u8 = 1;
/// Open a directory: path, rights wanted.
pub(crate) const OP_OPEN_DIR: u8 = 2;

const CREATE: u8 = 1;
const CREATE_NEW: u8 = 2;
const TRUNCATE: u8 = 4;
const APPEND: u8 = 8;
const NOFOLLOW: u8 = 16;

fn flags_of(o: &OpenOptions) -> u8 {
    let mut f = 0;
    for (set, bit) in [
        (o.create, CREATE),
        (o.create_new, CREATE_NEW),
        (o.truncate, TRUNCATE),
        (o.append, APPEND),
        (o.nofollow, NOFOLLOW),
    ] {
        if set {
            f |= bit;
        }
    }
    f
}

fn options_of(flags: u8, mode: u32) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.create = flags & CREATE != 0;
    o.create_new = flags & CREATE_NEW != 0;
    o.truncate = flags & TRUNCATE != 0;
    o.append = flags & APPEND != 0;
    o.nofollow = flags & NOFOLLOW != 0;
    o.mode = (mode != 0).then_some(mode);
    o
}

// ---- the broker's side ----

/// The service: the roots, each a directory with its rights.
struct FileArgsService {
    roots: Vec<Dir<Dynamic>>,
}

impl FileArgsService {
    /// The root `path` is beneath and the rest of the path: an absolute path
    /// is matched (component by component) against the roots' origins, the
    /// longest first; a relative one is taken beneath the first root.
    fn resolve<'a>(&self, path: &'a Path) -> Result<(&Dir<Dynamic>, &'a Path), ServiceError> {
        if path.as_os_str().is_empty() {
            return Err(ServiceError::from("fileargs: an empty path".to_owned()));
        }
        if !path.has_root() {
            let root = self
                .roots
                .first()
                .ok_or_else(|| ServiceError::from("fileargs: no root was declared".to_owned()))?;
            return Ok((root, path));
        }
        self.roots
            .iter()
            .filter_map(|r| path.strip_prefix(r.origin()).ok().map(|rest| (r, rest)))
            .max_by_key(|(r, _)| r.origin().components().count())
            .map(|(r, rest)| {
                (
                    r,
                    if rest.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        rest
                    },
                )
            })
            .ok_or_else(|| {
                let roots: Vec<String> = self
                    .roots
                    .iter()
                    .map(|r| format!("`{}`", r.origin().display()))
                    .collect();
                ServiceError::denied(format!(
                    "fileargs: `{}` is outside every root ({})",
                    path.display(),
                    roots.join(", ")
                ))
            })
    }

    fn open(&self, r: &mut FieldReader<'_>) -> Result<Reply, ServiceError> {
        let path = Path::new(OsStr::from_bytes(r.bytes("path")?));
        let wanted = rights_field(r)?;
        let flags = r.u8("flags")?;
        let mode = r.u32("mode")?;
        r.end()?;
        let (root, rel) = self.resolve(path)?;
        let have = root.rights();
        let options = options_of(flags, mode);
        let file_rights = wanted & Rights::FILE;
        if wanted != file_rights {
            return Err(ServiceError::from(format!(
                "fileargs: {} are not rights of a file (open `{}`)",
                wanted - Rights::FILE,
                path.display()
            )));
        }
        // The rights check, again, here: the client's type is not trusted.
        let need = options.needs();
        denied_unless(
            have,
            file_rights | (need - (Rights::TRUNCATE | Rights::WRITE)),
            root,
            path,
        )?;
        if !(need & (Rights::TRUNCATE | Rights::WRITE))
            .difference(file_rights)
            .is_empty()
        {
            return Err(ServiceError::denied(format!(
                "fileargs: open `{}`: the options need {} on the file, which was asked with {file_rights}",
                path.display(),
                need & (Rights::TRUNCATE | Rights::WRITE)
            )));
        }
        if !file_rights.intersects(Rights::READ | Rights::WRITE) {
            return Err(ServiceError::from(format!(
                "fileargs: open `{}`: the rights {file_rights} include neither Read nor Write",
                path.display()
            )));
        }
        // A plain read-only open takes Dir::open's path (one `openat` for a
        // single name on Linux, cap-std's resolution otherwise), as a
        // `Dir` in the program would.
        if flags == 0 && (Rights::READ | Rights::STAT | Rights::SET_META).contains(file_rights) {
            let file = root.open(rel).map_err(ServiceError::from)?;
            let label = file.origin();
            return Ok(reply(file_rights, &label, file.into_owned_fd()));
        }
        let o = options.to_cap_std(file_rights, have, root.origin(), rel)?;
        let file = root
            .as_cap_std()
            .open_with(rel, &o)
            .map_err(|e| located("open", root, rel, &e))?;
        let fd = OwnedFd::from(file.into_std());
        Ok(reply(file_rights, &root.origin().join(rel), fd))
    }

    fn open_dir(&self, r: &mut FieldReader<'_>) -> Result<Reply, ServiceError> {
        let path = Path::new(OsStr::from_bytes(r.bytes("path")?));
        let wanted = rights_field(r)?;
        r.end()?;
        let (root, rel) = self.resolve(path)?;
        if !Rights::FS.contains(wanted) {
            return Err(ServiceError::from(format!(
                "fileargs: {} are not rights of a directory (open `{}`)",
                wanted - Rights::FS,
                path.display()
            )));
        }
        denied_unless(root.rights(), wanted | Rights::LOOKUP, root, path)?;
        let dir = root
            .as_cap_std()
            .open_dir(rel)
            .map_err(|e| located("open directory", root, rel, &e))?;
        let fd = OwnedFd::from(dir.into_std_file());
        let origin = if rel == Path::new(".") {
            root.origin().to_path_buf()
        } else {
            root.origin().join(rel)
        };
        Ok(reply(wanted, &origin, fd))
    }
}

fn rights_field(r: &mut FieldReader<'_>) -> Result<Rights, ServiceError> {
    let bits = r.u32("rights")?;
    Rights::from_bits(bits)
        .ok_or_else(|| ServiceError::from(format!("fileargs: unknown rights bits {bits:#x}")))
}

fn denied_unless(
    have: Rights,
    need: Rights,
    root: &Dir<Dynamic>,
    path: &Path,
) -> Result<(), ServiceError> {
    let missing = need - have;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::denied(format!(
            "fileargs: `{}` was asked with the right {missing}, which the root `{}` does not have (it has {have})",
            path.display(),
            root.origin().display()
        )))
    }
}

fn located(op: &str, root: &Dir<Dynamic>, rel: &Path, e: &io::Error) -> ServiceError {
    ServiceError {
        kind: e.kind(),
        errno: e.raw_os_error(),
        message: format!(
            "fileargs: {op} `{}` beneath `{}`: {e}",
            rel.display(),
            root.origin().display()
        ),
    }
}

fn reply(rights: Rights, label: &Path, fd: OwnedFd) -> Reply {
    Reply {
        body: Fields::new()
            .u32(rights.bits())
            .bytes(label.as_os_str().as_bytes())
            .finish(),
        fds: vec![fd],
    }
}

impl Service for FileArgsService {
    fn name(&self) -> &'static str {
        "fileargs"
    }

    fn grant<'a>(&'a self, policy: &mut Policy<'a>) {
        for root in &self.roots {
            root.grant(policy);
        }
    }

    fn handle(&mut self, op: u8, body: &[u8]) -> Result<Reply, ServiceError> {
        let mut r = FieldReader::new(body);
        match op {
            OP_OPEN => self.open(&mut r),
            OP_OPEN_DIR => self.open_dir(&mut r),
            _ => Err(ServiceError::from(format!(
                "fileargs: unknown operation {op}"
            ))),
        }
    }
}

impl Builder {
    /// Declares a [`FileArgs`] service: paths given at run time are opened
    /// beneath these roots, with at most each root's rights. The roots'
    /// descriptors move to the broker (they are closed here by
    /// [`Builder::spawn`]).
    pub fn fileargs<R: RightSet>(
        &mut self,
        roots: impl IntoIterator<Item = Dir<R>>,
    ) -> Ticket<FileArgs<R>> {
        let roots: Vec<Dir<Dynamic>> = roots.into_iter().map(Dir::into_dynamic).collect();
        let origins: Arc<[PathBuf]> = roots.iter().map(|r| r.origin().to_path_buf()).collect();
        let rights = if R::DYNAMIC {
            roots
                .iter()
                .fold(Rights::empty(), |acc, r| acc | r.rights())
        } else {
            R::RIGHTS
        };
        let id = self.register(Box::new(FileArgsService { roots }));
        Ticket::new(self, move |conn| FileArgs {
            conn,
            service: id,
            rights,
            roots: origins,
            _rights: PhantomData,
        })
    }
}

// ---- the program's side ----

/// Opens paths given at run time (a user's argument, a line of a list, a
/// reload) through the broker, beneath the roots declared before the lock,
/// with at most the rights `R` (FreeBSD's `cap_fileargs`).
///
/// An absolute path is matched against the roots' paths (a user types
/// `/srv/in/a.txt` for the root `/srv/in`); a relative one is taken beneath
/// the first root. The rest is resolved beneath the root by cap-std in the
/// broker: `..` above the root, absolute paths outside every root and
/// symlinks that lead out are refused exactly as [`Dir`] refuses them. The
/// broker checks the rights again (the client's type is not trusted), and
/// sends back the descriptor as a typed [`File`] or [`Dir`].
pub struct FileArgs<R: RightSet> {
    conn: Connection,
    service: u8,
    rights: Rights,
    roots: Arc<[PathBuf]>,
    _rights: PhantomData<fn() -> R>,
}

impl<R: RightSet> Clone for FileArgs<R> {
    fn clone(&self) -> Self {
        Self {
            conn: self.conn.clone(),
            service: self.service,
            rights: self.rights,
            roots: self.roots.clone(),
            _rights: PhantomData,
        }
    }
}

impl<R: RightSet> fmt::Debug for FileArgs<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileArgs")
            .field("roots", &self.roots)
            .field("rights", &format_args!("{}", self.rights))
            .field("broker", &self.conn.pid())
            .finish_non_exhaustive()
    }
}

impl<R: RightSet> fmt::Display for FileArgs<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        write!(f, "fileargs [{}]", roots.join(", "))
    }
}

impl<R: RightSet> FileArgs<R> {
    /// The rights, as a mask.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// The roots' paths, in declaration order.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Gives up rights: the same roots with the rights `S`, a subset of `R`.
    pub fn narrow<S: SubsetOf<R>>(self) -> FileArgs<S> {
        let rights = if S::DYNAMIC {
            self.rights
        } else {
            S::RIGHTS & self.rights
        };
        FileArgs {
            conn: self.conn,
            service: self.service,
            rights,
            roots: self.roots,
            _rights: PhantomData,
        }
    }

    fn need(&self, need: Rights) -> io::Result<()> {
        if R::DYNAMIC {
            crate::rights::require(self.rights, need, self)
        } else {
            Ok(())
        }
    }

    fn request(&self, op: u8, body: &[u8], path: &Path) -> io::Result<(Rights, String, OwnedFd)> {
        let (body, mut fds) = self.conn.call(self.service, op, body)?;
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "fileargs: the broker's reply for `{}` {what}",
                    path.display()
                ),
            )
        };
        let mut r = FieldReader::new(&body);
        let bits = r.u32("rights").map_err(|e| bad(&e))?;
        let label = r.bytes("label").map_err(|e| bad(&e))?;
        let rights = Rights::from_bits(bits).ok_or_else(|| bad("has unknown rights"))?;
        if fds.len() != 1 {
            return Err(bad("did not carry one descriptor"));
        }
        let fd = fds.remove(0);
        Ok((rights, String::from_utf8_lossy(label).into_owned(), fd))
    }

    fn open_file<S: RightSet>(
        &self,
        path: &Path,
        wanted: Rights,
        options: &OpenOptions,
    ) -> io::Result<File<S>> {
        let body = Fields::new()
            .bytes(path.as_os_str().as_bytes())
            .u32(wanted.bits())
            .u8(flags_of(options))
            .u32(options.mode.unwrap_or(0))
            .finish();
        let (got, label, fd) = self.request(OP_OPEN, &body, path)?;
        checked(got, wanted, path)?;
        Ok(File::<S>::from_passed(fd, wanted, &label))
    }

    /// Opens a file for reading (the path given at run time). Needs `Lookup`
    /// and `Read`; the file gets `Read`, `Stat` and `SetMeta` where `R` has
    /// them. The twin of [`Dir::open`].
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<File<R::Reader>>
    where
        R: HasLookup + HasRead,
    {
        self.need(Rights::LOOKUP | Rights::READ)?;
        let wanted = self.rights & (Rights::READ | Rights::STAT | Rights::SET_META);
        self.open_file(path.as_ref(), wanted, &OpenOptions::new())
    }

    /// Opens a file with the rights `S` and `options`, as [`Dir::open_with`]
    /// does (the access mode follows `S`).
    pub fn open_with<S>(&self, path: impl AsRef<Path>, options: &OpenOptions) -> io::Result<File<S>>
    where
        R: HasLookup,
        S: SubsetOf<R::FileRights>,
    {
        let wanted = if S::DYNAMIC {
            self.rights & Rights::FILE
        } else {
            S::RIGHTS & self.rights
        };
        self.need(Rights::LOOKUP)?;
        self.open_file(path.as_ref(), wanted, options)
    }

    /// Creates (or truncates) a file for writing. Needs `Lookup`, `Create`,
    /// `Write` and `Truncate`. The twin of [`Dir::create`].
    pub fn create(&self, path: impl AsRef<Path>) -> io::Result<File<R::Writer>>
    where
        R: HasLookup + HasCreate + HasWrite + HasTruncate,
    {
        self.need(Rights::LOOKUP | Rights::CREATE | Rights::WRITE | Rights::TRUNCATE)?;
        let wanted =
            self.rights & (Rights::WRITE | Rights::TRUNCATE | Rights::STAT | Rights::SET_META);
        let mut o = OpenOptions::new();
        o.create(true).truncate(true);
        self.open_file(path.as_ref(), wanted, &o)
    }

    /// Opens a directory beneath a root with the rights `R` (the root
    /// itself for its own path). Needs `Lookup`. The twin of [`Dir::open_dir`].
    pub fn open_dir(&self, path: impl AsRef<Path>) -> io::Result<Dir<R>>
    where
        R: HasLookup,
    {
        self.need(Rights::LOOKUP)?;
        let path = path.as_ref();
        let body = Fields::new()
            .bytes(path.as_os_str().as_bytes())
            .u32(self.rights.bits())
            .finish();
        let (got, label, fd) = self.request(OP_OPEN_DIR, &body, path)?;
        checked(got, self.rights, path)?;
        if !rustix::fs::fstat(fd.as_fd())
            .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "fileargs: the broker sent a non-directory for `{}`",
                    path.display()
                ),
            ));
        }
        Ok(Dir::<R>::from_passed(fd, self.rights, &label))
    }
}

/// The broker granted exactly what was asked (never more).
fn checked(got: Rights, wanted: Rights, path: &Path) -> io::Result<()> {
    if got == wanted {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "fileargs: the broker granted {got} for `{}`, {wanted} was asked",
                path.display()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::FileArgsService;
    use crate::fs::Dir;
    use crate::rights::{Dynamic, ReadOnly};

    fn dir(p: &Path) -> Dir<Dynamic> {
        Dir::<ReadOnly>::open_ambient_dir(p, crate::ambient_authority())
            .unwrap()
            .into_dynamic()
    }

    #[test]
    fn absolute_paths_match_roots_by_component_longest_first() {
        let tmp = tempfile::tempdir().unwrap();
        let (x, x2, sub) = (
            tmp.path().join("x"),
            tmp.path().join("x2"),
            tmp.path().join("x/sub"),
        );
        for d in [&x, &x2, &sub] {
            std::fs::create_dir_all(d).unwrap();
        }
        let svc = FileArgsService {
            roots: vec![dir(&x), dir(&x2), dir(&sub)],
        };
        let origin = |p: &Path| {
            svc.resolve(p)
                .map(|(root, rest)| (root.origin().to_path_buf(), rest.to_path_buf()))
        };
        // `x2/a` is beneath `x2`, not `x` (components, not string prefixes).
        assert_eq!(origin(&x2.join("a")).unwrap(), (x2.clone(), "a".into()));
        // The longest root wins.
        assert_eq!(origin(&sub.join("b")).unwrap(), (sub.clone(), "b".into()));
        assert_eq!(origin(&x.join("c/d")).unwrap(), (x.clone(), "c/d".into()));
        // The root itself is `.` beneath it; a relative path is beneath the first.
        assert_eq!(origin(&x).unwrap(), (x.clone(), ".".into()));
        assert_eq!(origin(Path::new("e")).unwrap(), (x.clone(), "e".into()));
        // `..` stays in the rest, for cap-std to refuse.
        assert_eq!(
            origin(&x.join("../x2/a")).unwrap(),
            (x.clone(), "../x2/a".into())
        );
        let e = origin(Path::new("/etc/passwd")).unwrap_err();
        assert!(
            e.message.contains("`/etc/passwd` is outside every root"),
            "{}",
            e.message
        );
        assert_eq!(e.kind, std::io::ErrorKind::PermissionDenied);
        assert!(origin(Path::new("")).is_err());
    }
}
