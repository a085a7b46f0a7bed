//! `#[sandboxed]` prologue cases: the lock closes the undeclared descriptors
//! that were open before the prologue started (inherited), and keeps those
//! that pre-open code made since (a `with =` field may own one).

use std::fs;
use std::io::Read;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};

use cap_core::fs::Dir;
use cap_core::rights::ReadOnly;
use cap_core::{Preopen, sandboxed};
use cap_runtime::FdAction;
use cap_runtime::linux::probe;

/// The descriptor opened before the prologue, standing for one inherited
/// from the parent.
static INHERITED: AtomicI32 = AtomicI32::new(-1);

fn fixture() -> PathBuf {
    PathBuf::from(std::env::args().nth(3).expect("fixture argument"))
}

/// A file the pre-open code opens and a live object owns (not granted).
fn open_secret() -> fs::File {
    fs::File::open(fixture().join("outside/secret.txt")).expect("open before the lock")
}

#[derive(Preopen)]
struct Held {
    #[preopen(with = open_secret())]
    secret: fs::File,
    #[preopen(dir(from = fixture().join("ro")))]
    ro: Dir<ReadOnly>,
}

fn check(failures: &mut u32, what: &str, ok: bool) {
    println!("CHECK {what} {}", if ok { "ok" } else { "FAILED" });
    if !ok {
        *failures += 1;
    }
}

#[sandboxed]
fn with_file(held: Held) {
    let mut f = 0;
    let inherited: RawFd = INHERITED.load(Ordering::SeqCst);
    let mut text = String::new();
    check(
        &mut f,
        "the with-field's file still reads after the lock",
        (&held.secret).read_to_string(&mut text).is_ok() && text == "secret\n",
    );
    check(
        &mut f,
        "the granted dir reads",
        held.ro.read_to_string("file.txt").is_ok(),
    );
    check(
        &mut f,
        "reopening the secret by name is denied",
        fs::read(fixture().join("outside/secret.txt")).is_err(),
    );
    check(
        &mut f,
        "the descriptor open before the prologue is closed",
        !probe::fd_is_open(inherited),
    );
    let report = cap_core::sandbox::report();
    let action = |fd: RawFd| {
        report.and_then(|r| {
            r.inherited_fds
                .iter()
                .find(|i| i.fd == fd)
                .map(|i| i.action)
        })
    };
    check(
        &mut f,
        "the report lists the inherited one as closed",
        action(inherited) == Some(FdAction::Closed),
    );
    check(
        &mut f,
        "the report lists the with-field's one as kept",
        action(held.secret.as_raw_fd()) == Some(FdAction::Kept),
    );
    println!("RESULT {}", if f == 0 { "ok 0" } else { "errno -1" });
}

pub(crate) fn run(name: &str) {
    match name {
        "sandboxed_with_field_file_kept" => {
            let stray = fs::File::open(fixture().join("ro/file.txt"))
                .expect("stray")
                .into_raw_fd();
            INHERITED.store(stray, Ordering::SeqCst);
            with_file();
        }
        other => panic!("unknown case {other}"),
    }
}
