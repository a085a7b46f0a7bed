//! Attempts of issue #14 (hardening), each in its own fresh process with its
//! own policy: mode bits at creation, entering all-or-nothing against a
//! parent's Landlock layers and seccomp budget, and the gaps the report must
//! name (unix connect with a TCP grant, `O_PATH` outside every rule).
//! Prints `RESULT ok <v>` or `RESULT errno <n>` like the other attempts.

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cap_core::fs::{Dir, DirBuilder, OpenOptions};
use cap_core::rights;
use cap_core::sandbox::{InheritedFds, Sandbox};
use cap_runtime::linux::probe;
use cap_runtime::{Error, NetGrant, Options, Policy, Report, Rights};

type Res = Result<i64, i32>;

/// A read-write directory without `SetMeta`.
type NoMeta = rights![Lookup, Read, Write, Create, Remove, Truncate, Stat];

fn mode_of(p: &Path) -> u32 {
    fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o7777)
}

/// The outcome of a refusal by the types: `EPERM` when the error is the
/// `SetMeta` refusal and nothing was created.
fn refused(r: std::io::Result<impl Sized>, created: &Path) -> Res {
    match r {
        Ok(_) => Ok(i64::from(mode_of(created))),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && !created.exists() => {
            println!("refused: {e}");
            Err(libc::EPERM)
        }
        Err(e) => {
            println!("other error: {e}");
            Err(-1)
        }
    }
}

fn enter_rw(rw: &Dir<NoMeta>, sandboxed: bool) {
    if sandboxed
        && let Err(e) = Sandbox::new()
            .grant(rw)
            .inherited_fds(InheritedFds::Close)
            .enter()
    {
        println!("ENTER-FAILED {e}");
        std::process::exit(3);
    }
    // umask is not mediated: the sandboxed code can always clear it.
    rustix::process::umask(rustix::fs::Mode::empty());
}

/// A small policy of one read-only directory, entered with `options`.
fn enter_small(fixture: &Path, report: bool) -> Result<Report, Error> {
    let ro = fs::File::open(fixture.join("ro")).expect("open ro");
    let mut policy = Policy::new();
    policy.dir(
        ro.as_fd(),
        Rights::LOOKUP | Rights::READ,
        &fixture.join("ro"),
    );
    let r = cap_runtime::enter_with(
        &policy,
        &Options {
            inherited_fds: InheritedFds::Keep,
            ..Options::default()
        },
    );
    if report && let Ok(r) = &r {
        println!("{}", r.to_json());
    }
    r
}

/// Enters after a parent's leftovers were set up; a clean refusal is the
/// errno, and anything applied (no_new_privs set, the outside readable no
/// more) is -2.
fn enter_all_or_nothing(fixture: &Path) -> Res {
    match enter_small(fixture, false) {
        Ok(_) => Ok(0),
        Err(e) => {
            println!("refused: {e}");
            let nnp = probe::no_new_privs();
            let readable = fs::read(fixture.join("outside/secret.txt")).is_ok();
            println!("CHECK no_new_privs {nnp:?} outside readable {readable}");
            match e {
                Error::Kernel { errno, applied, .. }
                    if applied.is_empty() && nnp == Ok(0) && readable =>
                {
                    Err(errno)
                }
                _ => Err(-2),
            }
        }
    }
}

fn gap_named(report: &Report, right: &str) -> bool {
    report.gaps.iter().any(|g| g.right == right && g.permanent)
}

pub(crate) fn run(name: &str, fixture: &Path, sandboxed: bool) -> Res {
    let ambient = cap_core::ambient_authority();
    let rw_path = fixture.join("rw");
    match name {
        // Mode bits at creation need SetMeta on the directory.
        "harden_mode_setuid_refused" => {
            let rw: Dir<NoMeta> = Dir::open_ambient_dir(&rw_path, ambient).expect("rw");
            enter_rw(&rw, sandboxed);
            let r = rw.open_with::<rights![Write]>(
                "suid",
                OpenOptions::new().create_new(true).mode(0o4777),
            );
            refused(r, &rw_path.join("suid"))
        }
        "harden_mode_world_writable_refused" => {
            let rw: Dir<NoMeta> = Dir::open_ambient_dir(&rw_path, ambient).expect("rw");
            enter_rw(&rw, sandboxed);
            let r = rw
                .open_with::<rights![Write]>("ww", OpenOptions::new().create_new(true).mode(0o666));
            refused(r, &rw_path.join("ww"))
        }
        "harden_dir_mode_sticky_refused" => {
            let rw: Dir<NoMeta> = Dir::open_ambient_dir(&rw_path, ambient).expect("rw");
            enter_rw(&rw, sandboxed);
            let r = rw.create_dir_with("sticky", DirBuilder::new().mode(0o3777));
            refused(r, &rw_path.join("sticky"))
        }
        "harden_twin_mode_plain" => {
            let rw: Dir<NoMeta> = Dir::open_ambient_dir(&rw_path, ambient).expect("rw");
            enter_rw(&rw, sandboxed);
            let file = rw.open_with::<rights![Write]>(
                "plain",
                OpenOptions::new().create_new(true).mode(0o640),
            );
            let dir = rw.create_dir_with("plaind", DirBuilder::new().mode(0o750));
            match (file, dir) {
                (Ok(_), Ok(())) => Ok(i64::from(
                    mode_of(&rw_path.join("plain")) == 0o640
                        && mode_of(&rw_path.join("plaind")) == 0o750,
                ) - 1),
                (f, d) => {
                    println!("{:?} {d:?}", f.err());
                    Err(-1)
                }
            }
        }
        // With umask 0 the defaults would be 0o666 and 0o777: masked.
        "harden_default_mode_masked" => {
            let rw: Dir<NoMeta> = Dir::open_ambient_dir(&rw_path, ambient).expect("rw");
            enter_rw(&rw, sandboxed);
            let made = rw
                .write("w", b"x")
                .and_then(|()| rw.create_dir("d"))
                .and_then(|()| rw.create_dir_all("a/b"))
                .and_then(|()| {
                    rw.open_with::<rights![Write]>("o", OpenOptions::new().create(true))
                        .map(drop)
                });
            if let Err(e) = made {
                println!("{e}");
                return Err(-1);
            }
            let modes = [
                mode_of(&rw_path.join("w")),
                mode_of(&rw_path.join("o")),
                mode_of(&rw_path.join("d")),
                mode_of(&rw_path.join("a/b")),
            ];
            println!(
                "modes {:o} {:o} {:o} {:o}",
                modes[0], modes[1], modes[2], modes[3]
            );
            if modes == [0o644, 0o644, 0o755, 0o755] {
                Ok(0)
            } else {
                Err(-1)
            }
        }
        // The kernel does not mediate the mode given at creation: raw
        // openat beneath a writable directory still makes a set-uid file.
        "gap_raw_openat_setuid_mode" => {
            let rw: Dir<NoMeta> = Dir::open_ambient_dir(&rw_path, ambient).expect("rw");
            enter_rw(&rw, sandboxed);
            let fd = rustix::fs::open(
                rw_path.join("raw"),
                rustix::fs::OFlags::CREATE | rustix::fs::OFlags::WRONLY,
                rustix::fs::Mode::from_raw_mode(0o4777),
            );
            match fd {
                Ok(_) if mode_of(&rw_path.join("raw")) == 0o4777 => Ok(0),
                Ok(_) => Err(-1),
                Err(e) => Err(e.raw_os_error()),
            }
        }
        // All or nothing: a parent stacked 16 Landlock layers (the kernel's
        // limit); the unsandboxed twin stacks 15, so ours is the 16th.
        "harden_landlock_16_layers" => {
            probe::stack_landlock_layers(if sandboxed { 16 } else { 15 })
                .expect("stack Landlock layers");
            enter_all_or_nothing(fixture)
        }
        // A parent's filters used up the seccomp instruction budget; the
        // unsandboxed twin leaves room for ours.
        "harden_seccomp_budget" => {
            let n = probe::stack_seccomp_filters(sandboxed).expect("stack seccomp filters");
            println!("stacked {n} filters");
            enter_all_or_nothing(fixture)
        }
        // With a TCP grant `connect` is allowed, so a held unconnected unix
        // socket connects to any pathname unix socket: the report names it.
        "gap_unix_connect_with_tcp_grant" => {
            let ro = fs::File::open(fixture.join("ro")).expect("open ro");
            let held = std::os::unix::net::UnixDatagram::unbound().expect("unbound");
            let mut policy = Policy::new();
            policy.dir(
                ro.as_fd(),
                Rights::LOOKUP | Rights::READ,
                &fixture.join("ro"),
            );
            policy.socket(
                held.as_fd(),
                cap_runtime::SocketKind::UnixDatagram,
                Rights::SEND | Rights::RECV,
                "held unbound datagram",
            );
            policy.net(NetGrant {
                label: "tcp 1".into(),
                tcp_connect_ports: vec![1],
                ..NetGrant::default()
            });
            let named = if sandboxed {
                let options = Options {
                    inherited_fds: InheritedFds::Keep,
                    ..Options::default()
                };
                match cap_runtime::enter_with(&policy, &options) {
                    Ok(r) => gap_named(&r, "unix path"),
                    Err(e) => {
                        println!("ENTER-FAILED {e}");
                        std::process::exit(3);
                    }
                }
            } else {
                true
            };
            let r = held
                .connect(fixture.join("outside/dsock"))
                .and_then(|()| held.send(b"x"));
            println!("CHECK report names unix path {named}");
            match r {
                Ok(_) if named => Ok(0),
                Ok(_) => Err(-1),
                Err(e) => Err(e.raw_os_error().unwrap_or(-1)),
            }
        }
        // O_PATH opens outside every rule succeed (metadata only): the
        // report names it, and reading through the descriptor fails.
        "gap_opath_outside" => {
            let named =
                !sandboxed || enter_small(fixture, false).is_ok_and(|r| gap_named(&r, "O_PATH"));
            let fd = rustix::fs::open(
                fixture.join("outside/secret.txt"),
                rustix::fs::OFlags::PATH,
                rustix::fs::Mode::empty(),
            );
            println!("CHECK report names O_PATH {named}");
            match fd {
                Ok(fd) => {
                    let stat = rustix::fs::fstat(&fd).is_ok();
                    let mut buf = [0u8; 8];
                    let read = rustix::io::read(&fd, &mut buf).is_ok();
                    println!("CHECK fstat {stat} read {read}");
                    if named && stat && !read {
                        Ok(0)
                    } else {
                        Err(-1)
                    }
                }
                Err(e) => Err(e.raw_os_error()),
            }
        }
        other => panic!("unknown hardening attempt {other}"),
    }
}
