//! Compiles: every accepted form of the attribute (not run: it would lock).
use cap_core::fs::{Dir, File};
use cap_core::rights::{ReadOnly, WriteOnly};
use cap_core::{Preopen, rights};

#[derive(Preopen)]
struct Logs {
    #[preopen(dir(env = "LOG_DIR", default = "/tmp"))]
    dir: Dir<WriteOnly>,
}

#[cap_core::sandboxed(
    site = dir(arg = "--root", env = "SITE", default = "/"),
    index = file(arg = 1, default = "/bin/sh"),
    tool = exec("/bin/true"),
    mode = best_effort,
    report,
)]
fn main(
    mut site: Dir<ReadOnly>,
    index: File<ReadOnly>,
    tool: File<rights![Read, Exec]>,
    logs: Logs,
) -> std::io::Result<()> {
    site = site.try_clone()?;
    let _ = (site, index, tool, logs.dir);
    Ok(())
}
