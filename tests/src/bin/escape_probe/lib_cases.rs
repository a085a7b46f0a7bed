//! The library call's behaviour around the lock: refusals leave the process
//! unchanged, inherited descriptors, strict mode on an older ABI, threads.
//! Each case prints `CHECK <what> ok|FAILED` lines and a final `RESULT`.

use std::fs;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd};

use std::path::Path;

use cap_runtime::linux::probe;
use cap_runtime::{Error, FdAction, InheritedFds, Mode, Options, Policy, Rights};

struct Checks(u32);

impl Checks {
    fn check(&mut self, what: &str, ok: bool) {
        println!("CHECK {what} {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            self.0 += 1;
        }
    }

    /// Nothing of the sandbox is in place.
    fn unchanged(&mut self, fixture: &Path) {
        self.check("no_new_privs still clear", probe::no_new_privs() == Ok(0));
        self.check(
            "capabilities still held",
            probe::effective_caps().is_ok_and(|c| c != 0),
        );
        self.check(
            "no seccomp filter",
            std::fs::read_to_string("/proc/self/status").is_ok_and(|s| s.contains("Seccomp:\t0")),
        );
        self.check(
            "paths outside still open",
            fs::read(fixture.join("outside/secret.txt")).is_ok(),
        );
        self.check("no report", cap_runtime::report().is_none());
    }
}

fn options(mode: Mode, fds: InheritedFds) -> Options {
    Options {
        mode,
        inherited_fds: fds,
        assume_landlock_abi: None,
    }
}

pub(crate) fn run(name: &str, fixture: &Path) {
    let mut c = Checks(0);
    let ro = fs::File::open(fixture.join("ro")).expect("ro");
    let rw = fs::File::open(fixture.join("rw")).expect("rw");
    let ro_rights = Rights::LOOKUP | Rights::READ | Rights::STAT;
    let rw_rights = ro_rights | Rights::WRITE | Rights::CREATE | Rights::TRUNCATE;
    let mut policy = Policy::new();
    policy.dir(ro.as_fd(), ro_rights, &fixture.join("ro"));
    policy.dir(rw.as_fd(), rw_rights, &fixture.join("rw"));
    match name {
        "lib_refuse_inherited" => {
            let stray = fs::File::open(fixture.join("outside/secret.txt")).expect("stray");
            let err =
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Refuse));
            println!("{err:?}");
            let listed = matches!(&err, Err(Error::InheritedFds { fds }) if fds.iter().any(|f| f.fd == stray.as_raw_fd() && f.target.ends_with("outside/secret.txt") && f.action == FdAction::Refused));
            c.check("refused with the stray fd and its path", listed);
            c.check(
                "message names the path",
                err.as_ref()
                    .is_err_and(|e| e.to_string().contains("outside/secret.txt")),
            );
            c.unchanged(fixture);
            c.check("the stray fd still works", stray.metadata().is_ok());
            // Then entering with Keep succeeds and lists it.
            let report =
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep));
            c.check("Keep enters", report.is_ok());
            let kept = report.as_ref().is_ok_and(|r| {
                r.inherited_fds
                    .iter()
                    .any(|f| f.fd == stray.as_raw_fd() && f.action == FdAction::Kept)
            });
            c.check("report lists the kept fd", kept);
            let mut s = String::new();
            c.check(
                "the kept fd still reads (opened before the lock)",
                std::io::Read::read_to_string(&mut &stray, &mut s).is_ok() && s == "secret\n",
            );
            c.check(
                "reopening its path is denied",
                fs::read(fixture.join("outside/secret.txt")).is_err(),
            );
        }
        "lib_close_inherited" => {
            let stray = fs::File::open(fixture.join("outside/secret.txt"))
                .expect("stray")
                .into_raw_fd();
            let report =
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Close));
            let closed = report.as_ref().is_ok_and(|r| {
                r.inherited_fds.iter().any(|f| {
                    f.fd == stray
                        && f.action == FdAction::Closed
                        && f.target.ends_with("outside/secret.txt")
                })
            });
            c.check("report lists the closed fd", closed);
            c.check("the fd is closed", !probe::fd_is_open(stray));
        }
        "lib_invalid_entry_unchanged" => {
            let file = fs::File::open(fixture.join("ro/file.txt")).expect("file");
            let mut bad = policy.clone();
            bad.dir(
                file.as_fd(),
                Rights::LOOKUP,
                Path::new("ro/file.txt (not a dir)"),
            );
            let err = cap_runtime::enter_with(&bad, &options(Mode::Strict, InheritedFds::Keep));
            println!("{err:?}");
            c.check("InvalidEntry naming the handle", matches!(&err, Err(Error::InvalidEntry { origin, .. }) if origin.ends_with("ro/file.txt (not a dir)")));
            let mut wrong = policy.clone();
            wrong.file(file.as_fd(), Rights::ACCEPT, Path::new("ro/file.txt"));
            c.check(
                "a socket right on a file is refused",
                matches!(
                    cap_runtime::enter_with(&wrong, &options(Mode::Strict, InheritedFds::Keep)),
                    Err(Error::InvalidEntry { .. })
                ),
            );
            c.unchanged(fixture);
            c.check(
                "a valid policy then enters",
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep))
                    .is_ok(),
            );
            c.check(
                "and is locked",
                fs::read(fixture.join("outside/secret.txt")).is_err(),
            );
            c.check(
                "a second enter is refused",
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep))
                    == Err(Error::AlreadyEntered),
            );
        }
        "lib_threads_refused" => {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let t = std::thread::spawn(move || rx.recv());
            let err = cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep));
            println!("{err:?}");
            c.check(
                "refused: 2 threads",
                err == Err(Error::ThreadsRunning { count: 2 }),
            );
            c.unchanged(fixture);
            tx.send(()).ok();
            t.join().ok();
            // /proc updates when the thread is reaped; join waits for it.
            c.check(
                "enters once alone",
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep))
                    .is_ok(),
            );
        }
        "lib_strict_old_abi" => {
            let mut o = options(Mode::Strict, InheritedFds::Keep);
            o.assume_landlock_abi = Some(2);
            let err = cap_runtime::enter_with(&policy, &o);
            println!(
                "{}",
                err.as_ref()
                    .map_or_else(ToString::to_string, |_| "entered".into())
            );
            let names_truncate = matches!(&err, Err(Error::NotEnforceable { gaps }) if gaps.iter().any(|g| g.right == "Truncate" && g.subject.ends_with("/rw")));
            c.check("NotEnforceable names Truncate on rw", names_truncate);
            c.unchanged(fixture);
            o.assume_landlock_abi = Some(0);
            let err = cap_runtime::enter_with(&policy, &o);
            c.check("ABI 0 (no Landlock) is refused", matches!(&err, Err(Error::NotEnforceable { gaps }) if gaps.iter().any(|g| g.right == "landlock")));
            c.unchanged(fixture);
        }
        "lib_best_effort_old_abi" => {
            let mut o = options(Mode::BestEffort, InheritedFds::Keep);
            o.assume_landlock_abi = Some(2);
            let report = cap_runtime::enter_with(&policy, &o).expect("best effort enters");
            println!("{report}");
            c.check(
                "report says ABI 2 of kernel 7",
                report.landlock_abi == 2 && report.landlock_abi_kernel >= 6,
            );
            c.check(
                "gap: Truncate on rw",
                report
                    .gaps
                    .iter()
                    .any(|g| g.right == "Truncate" && g.subject.ends_with("/rw") && !g.permanent),
            );
            c.check(
                "gap: signal scope",
                report.gaps.iter().any(|g| g.right == "scope signal"),
            );
            c.check("no scopes applied", report.scopes.is_empty());
            // The gap is real: ABI 2 does not handle TRUNCATE, so truncate(2)
            // of a writable file succeeds even without the right...
            let ro_path = fixture.join("rw/existing.txt");
            c.check(
                "truncate works (not enforced)",
                fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&ro_path)
                    .is_ok(),
            );
            // ...while what ABI 2 knows is enforced.
            c.check(
                "outside still denied",
                fs::read(fixture.join("outside/secret.txt")).is_err(),
            );
            c.check(
                "kill of parent allowed (no signal scope)",
                probe::kill(
                    i32::try_from(std::os::unix::process::parent_id()).unwrap_or(0),
                    0,
                )
                .is_ok(),
            );
        }
        "lib_socket_entries" => {
            use std::io::{Read, Write};
            use std::net::{TcpListener, TcpStream};
            let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
            let port = listener.local_addr().expect("addr").port();
            let mut client =
                TcpStream::connect(("127.0.0.1", port)).expect("connect before the lock");
            policy.socket(
                listener.as_fd(),
                cap_runtime::SocketKind::TcpListener,
                Rights::ACCEPT,
                &format!("127.0.0.1:{port}"),
            );
            policy.socket(
                client.as_fd(),
                cap_runtime::SocketKind::TcpStream,
                Rights::READ | Rights::WRITE,
                "client",
            );
            let report =
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep));
            c.check("enters with socket handles", report.is_ok());
            c.check(
                "report lists the listener",
                report.as_ref().is_ok_and(|r| {
                    r.handles
                        .iter()
                        .any(|h| h.kind == "tcp_listener" && h.origin.ends_with(&port.to_string()))
                }),
            );
            c.check(
                "accept group, no inet or unix group without a grant",
                report.as_ref().is_ok_and(|r| {
                    r.seccomp.as_ref().is_some_and(|s| {
                        s.groups.contains(&"accept".to_string())
                            && !s.groups.contains(&"inet".to_string())
                            && !s.groups.contains(&"unix".to_string())
                    })
                }),
            );
            c.check(
                "a new unix socket without a grant: EPERM",
                std::os::unix::net::UnixStream::connect(fixture.join("outside/sock"))
                    .is_err_and(|e| e.raw_os_error() == Some(libc::EPERM)),
            );
            c.check(
                "a new TCP socket without a grant: EPERM",
                probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0).err() == Some(libc::EPERM),
            );
            let accepted = listener.accept();
            c.check("accept on the held listener", accepted.is_ok());
            if let Ok((mut server, _)) = accepted {
                let mut buf = [0u8; 4];
                c.check(
                    "stream I/O",
                    client.write_all(b"ping").is_ok()
                        && server.read_exact(&mut buf).is_ok()
                        && &buf == b"ping",
                );
            }
            let again = TcpStream::connect(("127.0.0.1", port));
            c.check(
                "a new connect without a grant: EPERM (no socket)",
                again
                    .as_ref()
                    .is_err_and(|e| e.raw_os_error() == Some(libc::EPERM)),
            );
        }
        "lib_parent_locked_securebits" => {
            // A parent locked KEEP_CAPS on: setting ambit's bits wholesale
            // would fail with EPERM after Landlock, leaving no seccomp.
            c.check("lock KEEP_CAPS first", probe::set_securebits(0x30).is_ok());
            let report =
                cap_runtime::enter_with(&policy, &options(Mode::Strict, InheritedFds::Keep));
            println!("{report:?}");
            c.check("enters", report.is_ok());
            c.check(
                "seccomp is installed (reported, and socket() is refused)",
                report
                    .as_ref()
                    .is_ok_and(|r| r.mechanisms.iter().any(|m| m == "seccomp"))
                    && probe::socket(libc::AF_INET, libc::SOCK_STREAM, 0).err()
                        == Some(libc::EPERM),
            );
            c.check(
                "the report names the locked bit",
                report.as_ref().is_ok_and(|r| {
                    r.gaps
                        .iter()
                        .any(|g| g.right == "securebits" && g.reason.contains("keep_caps"))
                }),
            );
            c.check(
                "capabilities are empty",
                probe::effective_caps() == Ok(0) && probe::permitted_caps() == Ok(0),
            );
        }
        other => panic!("unknown case {other}"),
    }
    println!("RESULT {}", if c.0 == 0 { "ok 0" } else { "errno -1" });
}
