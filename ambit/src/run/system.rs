//! `--system`: what a dynamically linked program needs to start, and no
//! more. `ambit run --system --dry-run -- PROGRAM` lists what was opened.

use cap_runtime::Rights;

use super::options::{PathRequest, Shape};
use crate::policy;

/// Directories granted read and execute beneath: the loader (`PT_INTERP`
/// is `/lib64/ld-linux-x86-64.so.2` on x86_64, `/lib/ld-linux-aarch64.so.1`
/// on aarch64) and the shared libraries, with the multiarch subdirectories,
/// glibc's `gconv` modules and `/usr/lib/locale` beneath them. Those absent
/// on this system are skipped; on a merged-`/usr` system `/lib` and
/// `/usr/lib` are the same directory and are granted once.
pub const DIRS: [&str; 4] = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"];

/// Files granted read: the loader's cache of library paths and its preload
/// list (read by every dynamically linked glibc program, when present).
pub const FILES: [&str; 2] = ["/etc/ld.so.cache", "/etc/ld.so.preload"];

/// Files granted read and write: `/dev/null`, which shells and many
/// programs open for discarding output or as empty input.
pub const DEVICES: [&str; 1] = ["/dev/null"];

/// The preset as path requests (absent ones are skipped, not errors).
pub fn requests() -> Vec<PathRequest> {
    let entry = |path: &str, rights: Rights, shape: Shape| PathRequest {
        path: path.into(),
        rights,
        shape,
        from: "--system".into(),
        optional: true,
    };
    DIRS.iter()
        .map(|p| entry(p, policy::EXEC, Shape::Dir))
        .chain(FILES.iter().map(|p| entry(p, policy::RO, Shape::File)))
        .chain(
            DEVICES
                .iter()
                .map(|p| entry(p, Rights::READ | Rights::WRITE | Rights::STAT, Shape::File)),
        )
        .collect()
}
