//! What `ambit run` costs a short program: spawning and waiting for
//! `/bin/true` directly (the baseline), under `ambit run --system`, and under
//! `bwrap` with the equivalent read-only binds (Debian's bubblewrap), each
//! launched with `std::process::Command` in the same run.
//!
//! Budget (issue 17): `ambit run --system` ≤ 2 ms over direct.
//!
//! Run: `cargo bench -p ambit --bench run` (`bwrap` must be installed:
//! `apt-get install -y bubblewrap`; without it that bench panics naming it).

#[cfg(target_os = "linux")]
use std::process::{Command, Stdio};

#[cfg(target_os = "linux")]
const AMBIT: &str = env!("CARGO_BIN_EXE_ambit");

fn main() {
    divan::main();
}

#[cfg(target_os = "linux")]
fn run(cmd: &mut Command) {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    assert!(status.success(), "{cmd:?}: {status}");
}

/// The baseline: `/bin/true` itself.
#[cfg(target_os = "linux")]
#[divan::bench(sample_count = 200)]
fn direct(b: divan::Bencher<'_, '_>) {
    b.bench(|| run(&mut Command::new("/bin/true")));
}

/// `ambit run --system --exec /bin/true -- /bin/true`.
#[cfg(target_os = "linux")]
#[divan::bench(sample_count = 200)]
fn ambit_run_system(b: divan::Bencher<'_, '_>) {
    b.bench(|| {
        run(Command::new(AMBIT).args([
            "run",
            "--system",
            "--exec",
            "/bin/true",
            "--",
            "/bin/true",
        ]));
    });
}

/// `bwrap` with read-only binds of what `--system` and `--exec /bin/true`
/// grant (the library directories, the loader cache, `/dev/null` and the
/// program), in a new mount namespace (bwrap's default).
#[cfg(target_os = "linux")]
#[divan::bench(sample_count = 200)]
fn bwrap_ro_binds(b: divan::Bencher<'_, '_>) {
    let mut args: Vec<String> = Vec::new();
    for dir in ["/lib", "/lib64", "/usr/lib", "/usr/lib64"] {
        let Ok(real) = std::fs::canonicalize(dir) else {
            continue;
        };
        let real = real.to_str().expect("UTF-8 path").to_owned();
        if real == dir {
            args.extend(["--ro-bind".into(), real.clone(), real]);
        } else {
            // A merged-/usr symlink: the same link inside.
            let target = std::fs::read_link(dir).expect("symlink");
            args.extend([
                "--symlink".into(),
                target.to_str().expect("UTF-8 path").into(),
                dir.into(),
            ]);
        }
    }
    let real_true = std::fs::canonicalize("/bin/true").expect("/bin/true");
    let real_true = real_true.to_str().expect("UTF-8 path");
    for file in ["/etc/ld.so.cache", real_true] {
        args.extend(["--ro-bind".into(), file.into(), file.into()]);
    }
    args.extend(["--dev-bind".into(), "/dev/null".into(), "/dev/null".into()]);
    args.extend(["--".into(), real_true.into()]);
    let usable = Command::new("bwrap")
        .args(&args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        usable,
        "bwrap is missing or cannot create namespaces here (apt-get install -y bubblewrap): {args:?}"
    );
    b.bench(|| run(Command::new("bwrap").args(&args)));
}
