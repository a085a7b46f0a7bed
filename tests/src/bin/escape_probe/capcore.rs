//! Every `cap-core` filesystem method, run inside a sandbox entered through
//! `cap_core::sandbox::Sandbox` with the handles that grant it (and outside,
//! as the baseline). Prints `METHOD <name> ok|err <errno> <message>` per call.

use std::io::{Read, Write};
use std::path::Path;

use cap_core::fs::{Dir, DirBuilder, OpenOptions, Permissions, SystemTimeSpec};
use cap_core::rights;
use cap_core::rights::{FullFs, ReadOnly};
use cap_core::sandbox::{InheritedFds, Mode, Sandbox};

type Rw = FullFs;

fn record(failures: &mut u32, name: &str, r: std::io::Result<impl Sized>) {
    match r {
        Ok(_) => println!("METHOD {name} ok"),
        Err(e) => {
            *failures += 1;
            println!("METHOD {name} err {} {e}", e.raw_os_error().unwrap_or(-1));
        }
    }
}

pub(crate) fn run(name: &str, fixture: &Path, sandboxed: bool) {
    let ambient = cap_core::ambient_authority();
    let ro: Dir<ReadOnly> = Dir::open_ambient_dir(fixture.join("ro"), ambient).expect("open ro");
    let rw: Dir<Rw> = Dir::open_ambient_dir(fixture.join("rw"), ambient).expect("open rw");
    if name == "capcore_strict_old_abi" {
        // The user-facing front, on a simulated ABI 2 kernel: Strict refuses,
        // naming the right and the handle, and nothing is applied.
        let err = Sandbox::new()
            .grant(&ro)
            .grant(&rw)
            .inherited_fds(InheritedFds::Keep)
            .assume_landlock_abi(2)
            .enter()
            .unwrap_err();
        println!("{err}");
        let names = matches!(&err, cap_core::sandbox::Error::NotEnforceable { gaps } if gaps.iter().any(|g| g.right == "Truncate" && g.subject.ends_with("/rw")));
        let unchanged = err.is_clean()
            && cap_core::sandbox::report().is_none()
            && std::fs::read(fixture.join("outside/secret.txt")).is_ok();
        // Best effort on the same simulated kernel enters and lists the gap.
        let report = Sandbox::new()
            .grant(&ro)
            .grant(&rw)
            .inherited_fds(InheritedFds::Keep)
            .mode(Mode::BestEffort)
            .assume_landlock_abi(2)
            .enter();
        let listed = report
            .as_ref()
            .is_ok_and(|r| r.landlock_abi == 2 && r.gaps.iter().any(|g| g.right == "Truncate"));
        let locked = std::fs::read(fixture.join("outside/secret.txt")).is_err();
        println!(
            "CHECK names Truncate on rw {names}\nCHECK unchanged {unchanged}\nCHECK best effort lists it {listed}\nCHECK locked {locked}"
        );
        println!(
            "RESULT {}",
            if names && unchanged && listed && locked {
                "ok 0"
            } else {
                "errno -1"
            }
        );
        return;
    }
    if sandboxed {
        let entered = Sandbox::new()
            .mode(Mode::Strict)
            .grant(&ro)
            .grant(&rw)
            .inherited_fds(InheritedFds::Close)
            .enter();
        match entered {
            Ok(report) => {
                assert_eq!(
                    cap_core::sandbox::report(),
                    Some(&report),
                    "report() returns the entered report"
                );
            }
            Err(e) => {
                println!("ENTER-FAILED {e}");
                std::process::exit(3);
            }
        }
    }
    let mut f = 0u32;
    let f = &mut f;

    // Read side, on the read-only handle.
    record(
        f,
        "Dir::open",
        ro.open("file.txt")
            .and_then(|mut file| file.read_to_string(&mut String::new())),
    );
    record(f, "Dir::read", ro.read("file.txt"));
    record(f, "Dir::read_to_string", ro.read_to_string("file.txt"));
    record(f, "Dir::open_dir", ro.open_dir("sub"));
    record(f, "Dir::open_dir_nofollow", ro.open_dir_nofollow("sub"));
    record(f, "Dir::canonicalize", ro.canonicalize("sub/../file.txt"));
    record(f, "Dir::metadata", ro.metadata("file.txt"));
    record(f, "Dir::symlink_metadata", ro.symlink_metadata("link_in"));
    record(f, "Dir::dir_metadata", ro.dir_metadata());
    record(f, "Dir::read_link", ro.read_link("link_in"));
    record(
        f,
        "Dir::read_link_contents",
        ro.read_link_contents("link_out"),
    );
    record(
        f,
        "Dir::exists",
        if ro.exists("file.txt") {
            Ok(())
        } else {
            Err(std::io::Error::other("false"))
        },
    );
    record(f, "Dir::try_exists", ro.try_exists("file.txt"));
    record(
        f,
        "Dir::is_file",
        if ro.is_file("file.txt") {
            Ok(())
        } else {
            Err(std::io::Error::other("false"))
        },
    );
    record(
        f,
        "Dir::is_dir",
        if ro.is_dir("sub") {
            Ok(())
        } else {
            Err(std::io::Error::other("false"))
        },
    );
    record(f, "Dir::try_clone", ro.try_clone());
    record(
        f,
        "Dir::entries",
        ro.entries().map(std::iter::Iterator::count),
    );
    record(
        f,
        "Dir::read_dir",
        ro.read_dir("sub").map(std::iter::Iterator::count),
    );
    let entry = ro
        .entries()
        .and_then(|mut it| {
            it.find(|e| e.as_ref().is_ok_and(|e| e.file_name() == "file.txt"))
                .transpose()
        })
        .and_then(|e| e.ok_or_else(|| std::io::Error::other("no entry")));
    record(
        f,
        "DirEntry::open",
        entry
            .as_ref()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(cap_core::fs::DirEntry::open),
    );
    record(
        f,
        "DirEntry::metadata",
        entry
            .as_ref()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(cap_core::fs::DirEntry::metadata),
    );
    record(
        f,
        "DirEntry::file_type",
        entry
            .as_ref()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(cap_core::fs::DirEntry::file_type),
    );
    let sub = ro
        .entries()
        .and_then(|mut it| {
            it.find(|e| e.as_ref().is_ok_and(|e| e.file_name() == "sub"))
                .transpose()
        })
        .and_then(|e| e.ok_or_else(|| std::io::Error::other("no entry")));
    record(
        f,
        "DirEntry::read_dir",
        sub.as_ref()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|e| e.read_dir().map(std::iter::Iterator::count)),
    );
    record(f, "DirEntry::open_dir", sub.and_then(|e| e.open_dir()));
    // The walks list every entry of `ro` (its symlinks as entries, the one
    // to outside not followed), also on threads started after the lock.
    let walked = |mut paths: Vec<String>| {
        paths.sort();
        let want = [
            "file.txt",
            "link_in",
            "link_out",
            "sub",
            "sub/inner.txt",
            "tiny",
        ];
        if paths == want {
            Ok(paths.len())
        } else {
            Err(std::io::Error::other(format!("walked {paths:?}")))
        }
    };
    record(
        f,
        "Dir::walk",
        ro.walk()
            .and_then(|w| {
                w.map(|e| e.map(|e| e.path().display().to_string()))
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .and_then(walked),
    );
    record(
        f,
        "Walk::for_each_parallel",
        ro.walk()
            .and_then(|w| {
                let seen = std::sync::Mutex::new(Ok(Vec::new()));
                w.threads(3).for_each_parallel(|e| {
                    let mut seen = seen.lock().unwrap();
                    match (e, seen.as_mut()) {
                        (Ok(e), Ok(paths)) => paths.push(e.path().display().to_string()),
                        (Err(err), Ok(_)) => *seen = Err(err),
                        (_, Err(_)) => {}
                    }
                });
                seen.into_inner().unwrap()
            })
            .and_then(walked),
    );

    // Write side, on the full handle.
    record(f, "Dir::create_dir", rw.create_dir("d1"));
    record(f, "Dir::create_dir_all", rw.create_dir_all("d2/a/b"));
    record(
        f,
        "Dir::create_dir_with",
        rw.create_dir_with("d3", &DirBuilder::new()),
    );
    record(
        f,
        "Dir::create",
        rw.create("c.txt")
            .and_then(|mut file| file.write_all(b"created")),
    );
    record(f, "Dir::write", rw.write("w.txt", b"written"));
    record(
        f,
        "Dir::open_with create_new",
        rw.open_with::<rights![Write]>("n.txt", OpenOptions::new().create_new(true)),
    );
    record(
        f,
        "Dir::open_with truncate",
        rw.open_with::<rights![Write, Truncate]>("w.txt", OpenOptions::new().truncate(true)),
    );
    record(f, "Dir::copy", rw.copy("c.txt", &rw, "copy.txt"));
    record(
        f,
        "Dir::copy from ro",
        ro.copy("file.txt", &rw, "copy-ro.txt"),
    );
    record(f, "Dir::hard_link", rw.hard_link("c.txt", &rw, "hard.txt"));
    record(
        f,
        "Dir::rename",
        rw.rename("hard.txt", &rw, "d1/renamed.txt"),
    );
    record(f, "Dir::symlink", rw.symlink("c.txt", "sym"));
    record(
        f,
        "Dir::symlink_contents",
        rw.symlink_contents("c.txt", "sym2"),
    );
    record(
        f,
        "Dir::set_permissions",
        rw.set_permissions(
            "c.txt",
            Permissions::from_std(std::fs::Permissions::from_mode_compat(0o640)),
        ),
    );
    record(
        f,
        "Dir::set_times",
        rw.set_times(
            "c.txt",
            Some(SystemTimeSpec::SymbolicNow),
            Some(SystemTimeSpec::SymbolicNow),
        ),
    );
    record(
        f,
        "Dir::set_symlink_times",
        rw.set_symlink_times("sym", Some(SystemTimeSpec::SymbolicNow), None),
    );
    let file = rw.open_with::<FullFsFile>("c.txt", &OpenOptions::new());
    match file {
        Ok(file) => {
            record(f, "File::sync_all", file.sync_all());
            record(f, "File::sync_data", file.sync_data());
            record(f, "File::set_len", file.set_len(3));
            record(f, "File::metadata", file.metadata());
            record(
                f,
                "File::set_permissions",
                file.set_permissions(Permissions::from_std(
                    std::fs::Permissions::from_mode_compat(0o600),
                )),
            );
            record(
                f,
                "File::set_times",
                file.set_times(Some(SystemTimeSpec::SymbolicNow), None),
            );
            record(f, "File::lock", file.lock());
            record(f, "File::unlock", file.unlock());
            record(f, "File::lock_shared", file.lock_shared());
            record(f, "File::unlock (shared)", file.unlock());
            record(f, "File::try_lock", file.try_lock());
            record(f, "File::unlock (try)", file.unlock());
            record(f, "File::try_lock_shared", file.try_lock_shared());
            record(f, "File::try_clone", file.try_clone());
        }
        Err(e) => record(f, "Dir::open_with all file rights", Err::<(), _>(e)),
    }
    record(f, "Dir::remove_file", rw.remove_file("copy.txt"));
    record(f, "Dir::remove_dir", rw.remove_dir("d3"));
    record(f, "Dir::remove_dir_all", rw.remove_dir_all("d2"));
    record(
        f,
        "DirEntry::remove_file",
        rw.entries().and_then(|mut it| {
            it.find(|e| e.as_ref().is_ok_and(|e| e.file_name() == "n.txt"))
                .transpose()?
                .ok_or_else(|| std::io::Error::other("no n.txt"))?
                .remove_file()
        }),
    );
    record(
        f,
        "Dir::remove_open_dir",
        rw.create_dir("gone")
            .and_then(|()| rw.open_dir("gone"))
            .and_then(Dir::remove_open_dir),
    );
    record(
        f,
        "Dir::remove_open_dir_all",
        rw.create_dir_all("gone2/x")
            .and_then(|()| rw.open_dir("gone2"))
            .and_then(Dir::remove_open_dir_all),
    );
    if *f == 0 {
        println!("RESULT ok 0");
    } else {
        println!("RESULT errno -1");
    }
}

type FullFsFile = rights![Read, Write, Truncate, Stat, SetMeta];

trait FromModeCompat {
    fn from_mode_compat(mode: u32) -> Self;
}

impl FromModeCompat for std::fs::Permissions {
    fn from_mode_compat(mode: u32) -> Self {
        std::os::unix::fs::PermissionsExt::from_mode(mode)
    }
}
