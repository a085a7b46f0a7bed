//! [`Command`] and [`Child`] (Linux): spawn from an executable handle, hold
//! the child as a pidfd.

use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use cap_runtime::linux::spawn as rt;
use rustix::process::{Signal, WaitId, WaitIdOptions};

use super::Passable;
use crate::AmbientAuthority;
use crate::fs::{Dir, File};
use crate::rights::{HasExec, HasLookup, RightSet, Rights};
use crate::sandbox::{Grant, Mode, Policy, Report};

/// What a child's standard stream (0, 1 or 2) is, unless the table puts a
/// handle there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stdio {
    /// The parent's own descriptor (the default, as in `std`).
    #[default]
    Inherit,
    /// A new pipe; the parent's end is in [`Child::stdin`], [`Child::stdout`]
    /// or [`Child::stderr`].
    Piped,
    /// Closed in the child. (A Rust program whose 0, 1 or 2 is closed at
    /// start reopens it on `/dev/null`, and aborts if it cannot, as in a
    /// sandbox without `/dev`: pipe or inherit its stdio instead.)
    Closed,
}

enum Exe<'a> {
    Borrowed(BorrowedFd<'a>),
    Owned(OwnedFd),
    /// Opening it failed; `spawn` returns the recorded error.
    Failed,
}

enum Sandboxing {
    /// Derived from the table (the default).
    Derived(Mode),
    /// None: the child keeps the parent's authority (and its sandbox, if the
    /// parent is in one).
    Off,
}

/// A process to spawn from an executable handle, like
/// [`std::process::Command`] but never from a path: see the
/// [module documentation](super).
///
/// ```no_run
/// use cap_core::fs::File;
/// use cap_core::process::{Command, Stdio};
/// use cap_core::{ambient_authority, rights};
/// # fn main() -> std::io::Result<()> {
/// let gzip = File::<rights![Read, Exec]>::open_ambient("/usr/bin/gzip", ambient_authority())?;
/// let libs = cap_core::fs::Dir::<rights![Lookup, Read, Exec]>::open_ambient_dir("/usr/lib", ambient_authority())?;
/// let input = File::<rights![Read]>::open_ambient("notes.txt", ambient_authority())?;
/// let mut child = Command::new(&gzip)
///     .arg("-c")
///     .handle(0, &input)
///     .loader_dir(&libs)
///     .stdout(Stdio::Piped)
///     .spawn()?;
/// let status = child.wait()?;
/// assert!(status.success());
/// # Ok(()) }
/// ```
pub struct Command<'a> {
    exe: Exe<'a>,
    label: PathBuf,
    args: Vec<CString>,
    env: Vec<CString>,
    table: Vec<(RawFd, BorrowedFd<'a>, &'a dyn Grant)>,
    grants: Vec<&'a dyn Grant>,
    stdio: [Stdio; 3],
    sandbox: Sandboxing,
    unmodified: bool,
    error: Option<io::Error>,
}

impl fmt::Debug for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("program", &self.label)
            .field("args", &self.args)
            .field("env", &self.env.len())
            .field(
                "table",
                &self.table.iter().map(|(t, _, _)| *t).collect::<Vec<_>>(),
            )
            .field("stdio", &self.stdio)
            .finish_non_exhaustive()
    }
}

fn cstring(what: &str, s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} `{}` contains a NUL byte", s.to_string_lossy()),
        )
    })
}

impl<'a> Command<'a> {
    fn with_exe(exe: Exe<'a>, label: PathBuf) -> Self {
        let arg0 = label
            .file_name()
            .map_or_else(|| label.as_os_str().to_owned(), OsStr::to_owned);
        let mut cmd = Self {
            exe,
            label,
            args: Vec::new(),
            env: Vec::new(),
            table: Vec::new(),
            grants: Vec::new(),
            stdio: [Stdio::Inherit; 3],
            sandbox: Sandboxing::Derived(Mode::Strict),
            unmodified: false,
            error: None,
        };
        cmd.push_arg(&arg0);
        cmd
    }

    /// A command that runs the executable file `exe` (opened before the
    /// lock with `Exec`), like [`std::process::Command::new`] but from a
    /// handle. `argv[0]` is the file's name; change it with
    /// [`Command::arg0`].
    pub fn new<R: RightSet + HasExec>(exe: &'a File<R>) -> Self {
        let fd = exe.as_cap_std().as_fd();
        // (`components` drops the trailing `/` of a file's origin.)
        let label = exe.origin().components().collect();
        let mut cmd = Self::with_exe(Exe::Borrowed(fd), label);
        if R::DYNAMIC && !exe.rights().contains(Rights::EXEC) {
            cmd.error = Some(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{exe} has no Exec right: it cannot be run"),
            ));
        }
        cmd
    }

    /// A command that runs the file `name` beneath `dir` (held with `Exec`
    /// and `Lookup`). The name is resolved beneath the handle, as every
    /// `Dir` path is: `..` or an absolute path cannot leave it.
    pub fn beneath<R: RightSet + HasExec + HasLookup>(
        dir: &'a Dir<R>,
        name: impl AsRef<Path>,
    ) -> Self {
        let name = name.as_ref();
        let label = dir.origin().join(name);
        match dir.need(Rights::EXEC | Rights::LOOKUP).and_then(|()| {
            dir.as_cap_std()
                .open(name)
                .map_err(|e| crate::fs::at("open for exec", dir.origin(), name, e))
        }) {
            Ok(file) => Self::with_exe(Exe::Owned(OwnedFd::from(file.into_std())), label),
            Err(e) => {
                let mut cmd = Self::with_exe(Exe::Failed, label);
                cmd.error = Some(e);
                cmd
            }
        }
    }

    fn push_arg(&mut self, arg: &OsStr) {
        match cstring("argument", arg) {
            Ok(c) => self.args.push(c),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Replaces `argv[0]` (by default the executable's file name).
    pub fn arg0(mut self, arg0: impl AsRef<OsStr>) -> Self {
        match cstring("argument", arg0.as_ref()) {
            Ok(c) => self.args[0] = c,
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Adds an argument. See [`std::process::Command::arg`].
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.push_arg(arg.as_ref());
        self
    }

    /// Adds arguments. See [`std::process::Command::args`].
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self.push_arg(a.as_ref());
        }
        self
    }

    /// Sets one environment variable in the child. The child's environment
    /// starts empty: unlike [`std::process::Command`], nothing of the
    /// parent's is passed unless asked for. (One variable is set when the
    /// table has handles above stdio: `AMBIT_FDS`, their descriptor
    /// numbers, which [`inherited`] checks.)
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        let key = key.as_ref();
        if key.is_empty() || key.as_bytes().contains(&b'=') {
            self.error.get_or_insert(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "environment variable name `{}` is empty or contains `=`",
                    key.to_string_lossy()
                ),
            ));
            return self;
        }
        let mut kv = OsString::from(key);
        kv.push("=");
        kv.push(value.as_ref());
        match cstring("environment variable", &kv) {
            Ok(c) => {
                let prefix = key.len() + 1;
                self.env
                    .retain(|e| e.as_bytes().get(..prefix) != Some(&kv.as_bytes()[..prefix]));
                self.env.push(c);
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Passes the named variables of the parent's own environment, those
    /// that are set (`LANG`, `TZ`...).
    pub fn env_from_parent<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for name in names {
            if let Some(value) = std::env::var_os(name.as_ref()) {
                self = self.env(name, value);
            }
        }
        self
    }

    /// Puts `handle` at descriptor `target` in the child (with its rights in
    /// the child's sandbox). Any cap-core handle: narrow it first
    /// (`file.narrow::<ReadOnly>()`) to give less. A handle at 0, 1 or 2
    /// replaces that standard stream.
    pub fn handle<H: Passable + Grant>(mut self, target: RawFd, handle: &'a H) -> Self {
        if target < 0 {
            self.error.get_or_insert(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("handle table: negative descriptor number {target}"),
            ));
            return self;
        }
        if self.table.iter().any(|(t, _, _)| *t == target) {
            self.error.get_or_insert(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("handle table: descriptor {target} is given twice"),
            ));
            return self;
        }
        self.table.push((target, handle.pass_fd(), handle));
        self
    }

    /// Declares a directory the program needs to start: for a dynamically
    /// linked program, the loader's and the libraries' directories
    /// (`/lib64`, `/usr/lib`...), held with `Lookup`, `Read` and `Exec`. It
    /// enters the child's sandbox only (read and execute beneath it); it is
    /// not in the child's descriptor table.
    pub fn loader_dir<R: RightSet + HasExec>(mut self, dir: &'a Dir<R>) -> Self {
        self.grants.push(dir);
        self
    }

    /// Adds `handle`'s authority to the child's sandbox without putting the
    /// handle in the child's descriptor table: the child reaches the same
    /// directory, file or address by name, within the handle's rights (a
    /// `Dir` grants its rights beneath its path, a `Net` its ports). This is
    /// how a program that was not written against ambit is confined: it
    /// opens paths itself, and the kernel allows exactly what the parent's
    /// handles would.
    pub fn grant<H: Grant>(mut self, handle: &'a H) -> Self {
        self.grants.push(handle);
        self
    }

    /// The child's standard input.
    pub fn stdin(mut self, s: Stdio) -> Self {
        self.stdio[0] = s;
        self
    }

    /// The child's standard output.
    pub fn stdout(mut self, s: Stdio) -> Self {
        self.stdio[1] = s;
        self
    }

    /// The child's standard error.
    pub fn stderr(mut self, s: Stdio) -> Self {
        self.stdio[2] = s;
        self
    }

    /// Strict (the default) or best-effort for the child's sandbox.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.sandbox = Sandboxing::Derived(mode);
        self
    }

    /// Runs the child without a sandbox of its own: it keeps whatever the
    /// parent's process may do (and the parent's sandbox, if it entered
    /// one). Takes the ambient token, because the child is not limited to
    /// its table.
    ///
    /// # Ambient Authority
    ///
    /// The child may open any path and reach any address the parent's
    /// process can.
    pub fn unsandboxed(mut self, ambient: AmbientAuthority) -> Self {
        let _ = ambient;
        self.sandbox = Sandboxing::Off;
        self
    }

    /// Says that the program was not written against ambit (`ambit run`):
    /// its sandbox also allows the seccomp group `unmodified` (timers,
    /// process groups and sessions, terminal attributes: see
    /// [`Policy::unmodified_program`]). Paths and ports are still exactly
    /// the handles' (Landlock); the program opens them by name itself.
    pub fn unmodified_program(mut self) -> Self {
        self.unmodified = true;
        self
    }

    /// The policy the child's sandbox is derived from: its table, the
    /// executable, the loader directories and the other grants.
    pub fn policy(&self) -> Policy<'_> {
        let mut policy = Policy::new();
        if self.unmodified {
            policy.unmodified_program();
        }
        for (_, _, handle) in &self.table {
            handle.grant(&mut policy);
        }
        if let Some(fd) = self.exe_fd() {
            policy.file(fd, Rights::EXEC | Rights::READ, &self.label);
        }
        for handle in &self.grants {
            handle.grant(&mut policy);
        }
        policy
    }

    fn exe_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.exe {
            Exe::Borrowed(fd) => Some(*fd),
            Exe::Owned(fd) => Some(fd.as_fd()),
            Exe::Failed => None,
        }
    }

    /// Spawns the child. See [`std::process::Command::spawn`].
    pub fn spawn(&self) -> io::Result<Child> {
        let (Some(exe), None) = (self.exe_fd(), &self.error) else {
            let e = self.error.as_ref().map_or_else(
                || io::Error::other("the executable could not be opened"),
                |e| io::Error::new(e.kind(), e.to_string()),
            );
            return Err(io::Error::new(
                e.kind(),
                format!("spawn {}: {e}", self.label.display()),
            ));
        };
        let mut table: Vec<(RawFd, BorrowedFd<'_>)> =
            self.table.iter().map(|(t, fd, _)| (*t, *fd)).collect();
        let (mut stdin, mut stdout, mut stderr) = (None, None, None);
        let mut child_ends: Vec<OwnedFd> = Vec::new();
        let (std_in, std_out, std_err) = (io::stdin(), io::stdout(), io::stderr());
        for (n, s) in (0..3).zip(self.stdio) {
            if table.iter().any(|(t, _)| *t == n) {
                continue;
            }
            match s {
                Stdio::Inherit => table.push((
                    n,
                    match n {
                        0 => std_in.as_fd(),
                        1 => std_out.as_fd(),
                        _ => std_err.as_fd(),
                    },
                )),
                Stdio::Closed => {}
                Stdio::Piped => {
                    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
                    let (ours, theirs) = if n == 0 { (write, read) } else { (read, write) };
                    let ours = std::fs::File::from(ours);
                    match n {
                        0 => stdin = Some(ChildStdin(ours)),
                        1 => stdout = Some(ChildStdout(ours)),
                        _ => stderr = Some(ChildStderr(ours)),
                    }
                    child_ends.push(theirs);
                }
            }
        }
        // The child ends of the pipes, borrowed for the spawn.
        let mut k = 0;
        for (n, s) in (0..3).zip(self.stdio) {
            if s == Stdio::Piped && !self.table.iter().any(|(t, _, _)| *t == n) {
                table.push((n, child_ends[k].as_fd()));
                k += 1;
            }
        }
        let mut env = self.env.clone();
        // Only a table above stdio is named: a program that was not written
        // against ambit (`ambit run`) sees exactly the variables passed.
        if table.iter().any(|(t, _)| *t > 2) {
            env.push(rt::table_env(table.iter().map(|(t, _)| *t)));
        }
        let request = rt::SpawnRequest {
            exe,
            args: &self.args,
            env: &env,
            table: &table,
        };
        let (spawned, report) = match self.sandbox {
            Sandboxing::Off => (rt::spawn(&request, None), None),
            Sandboxing::Derived(mode) => {
                let policy = self.policy();
                let prepared = rt::ChildSandbox::prepare(&policy, mode).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("spawn {}: child sandbox: {e}", self.label.display()),
                    )
                })?;
                let spawned = rt::spawn(&request, Some(&prepared));
                let mut report = prepared.into_report();
                // The table's handles come first in the policy: name them by
                // their number in the child.
                for (h, (target, _, _)) in report.handles.iter_mut().zip(&self.table) {
                    h.fd = *target;
                }
                (spawned, Some(report))
            }
        };
        let spawned = spawned.map_err(|e| {
            io::Error::new(e.kind(), format!("spawn {}: {e}", self.label.display()))
        })?;
        Ok(Child {
            pidfd: spawned.pidfd,
            pid: spawned.pid,
            status: None,
            label: self.label.clone(),
            report,
            stdin,
            stdout,
            stderr,
        })
    }

    /// Spawns the child, collects its standard output (piped) and waits for
    /// it. Standard error stays as set (inherited by default). See
    /// [`std::process::Command::output`].
    pub fn output(self) -> io::Result<(ExitStatus, Vec<u8>)> {
        let mut child = self.stdout(Stdio::Piped).spawn()?;
        let mut out = Vec::new();
        if let Some(mut s) = child.stdout.take() {
            s.read_to_end(&mut out)?;
        }
        Ok((child.wait()?, out))
    }
}

/// How a child ended, like [`std::process::ExitStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    code: Option<i32>,
    signal: Option<i32>,
}

impl ExitStatus {
    /// Exited with status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The exit status, if it exited.
    pub fn code(&self) -> Option<i32> {
        self.code
    }

    /// The signal that ended it, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.signal
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(c), _) => write!(f, "exit status: {c}"),
            (None, Some(s)) => write!(f, "signal: {s}"),
            (None, None) => write!(f, "unknown status"),
        }
    }
}

/// A running or finished child, held as a pidfd (FreeBSD's process
/// descriptor, `pdfork`): see the [module documentation](super).
///
/// Dropping a `Child` that was not waited for sends it `SIGKILL` and reaps
/// it (through the pidfd), so no zombie and no orphan is left; call
/// [`Child::wait`] first to let it finish.
pub struct Child {
    pidfd: OwnedFd,
    pid: i32,
    status: Option<ExitStatus>,
    label: PathBuf,
    report: Option<Report>,
    /// The parent's end of the child's standard input, if piped.
    pub stdin: Option<ChildStdin>,
    /// The parent's end of the child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The parent's end of the child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("program", &self.label)
            .field("pid", &self.pid)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Child {
    /// The process id, for messages and logs only: no API here takes one.
    pub fn id(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// The report of the child's sandbox, as planned in the parent (`None`
    /// for an unsandboxed child). The child applied exactly this plan
    /// before exec, or failed to start. The handles of the table are listed
    /// by their descriptor number in the child; the executable and loader
    /// directories (not in the table) by the parent's.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// The pidfd.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    fn reap(&mut self, options: WaitIdOptions) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        let status = loop {
            match rustix::process::waitid(WaitId::PidFd(self.pidfd.as_fd()), options) {
                Err(rustix::io::Errno::INTR) => {}
                other => break other?,
            }
        };
        let Some(status) = status else {
            return Ok(None);
        };
        // WNOHANG with nothing to report fills a zeroed siginfo.
        if !status.exited() && !status.killed() && !status.dumped() {
            return Ok(None);
        }
        let s = ExitStatus {
            code: status.exit_status(),
            signal: status.terminating_signal(),
        };
        self.status = Some(s);
        Ok(Some(s))
    }

    /// Waits for the child to exit (`waitid(P_PIDFD)`), closing its piped
    /// standard input first so it does not wait for more. See
    /// [`std::process::Child::wait`].
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        self.reap(WaitIdOptions::EXITED)?
            .ok_or_else(|| io::Error::other(format!("wait {}: no status", self.label.display())))
    }

    /// The exit status if the child has exited, without blocking. See
    /// [`std::process::Child::try_wait`].
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reap(WaitIdOptions::EXITED | WaitIdOptions::NOHANG)
    }

    /// Sends `signal` through the pidfd (`pidfd_send_signal`): it reaches
    /// this child or nobody, never a process that reused its pid. An error
    /// once the child has been reaped.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "signal {}: the child was already reaped",
                    self.label.display()
                ),
            ));
        }
        rustix::process::pidfd_send_signal(&self.pidfd, signal).map_err(io::Error::from)
    }

    /// Sends `SIGKILL`. See [`std::process::Child::kill`].
    pub fn kill(&mut self) -> io::Result<()> {
        self.signal(Signal::KILL)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = rustix::process::pidfd_send_signal(&self.pidfd, Signal::KILL);
            let _ = self.reap(WaitIdOptions::EXITED);
        }
    }
}

macro_rules! pipe_end {
    ($(#[$m:meta])* $name:ident, $($tr:ident)*) => {
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name(std::fs::File);
        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0.as_fd()
            }
        }
    };
}

pipe_end!(
    /// The parent's end of a child's piped standard input.
    ChildStdin,
);
pipe_end!(
    /// The parent's end of a child's piped standard output.
    ChildStdout,
);
pipe_end!(
    /// The parent's end of a child's piped standard error.
    ChildStderr,
);

impl Write for ChildStdin {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Read for ChildStdout {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Read for ChildStderr {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Takes the handle a parent put at descriptor `fd` of this process's
/// table, as the type `H`: call it at the start of a child program. The
/// descriptor must have been open when the process started, and can be
/// taken once. The rights are `H`'s (a `Dynamic` `H` gets the rights the
/// descriptor's kind allows); the child's sandbox, derived by the parent
/// from the handle it passed, is what the kernel enforces. A descriptor that
/// is not of `H`'s kind (a file where a directory is expected) is an error,
/// and is closed.
pub fn inherited<H: Passable>(fd: RawFd) -> io::Result<H> {
    let label = format!("inherited fd {fd}");
    let owned = rt::adopt_inherited(fd)?;
    super::passing::check_fd_kind(H::KIND, owned.as_fd(), &label)?;
    let rights = H::WANTS.unwrap_or(Rights::all());
    Ok(H::from_passed(owned, rights, &label))
}
