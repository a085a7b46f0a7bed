//! `compress`: runs the system's `gzip` on pre-opened handles: the input
//! file is its standard input, a new file beneath the output directory its
//! standard output, and that is all it holds.
//!
//! ```text
//! cargo run -p ambit-examples --bin compress -- FILE OUT_DIR [GZIP]
//! ```
//!
//! `gzip` (default `/usr/bin/gzip`) is opened as a [`Program`]: the
//! executable and its loader's directory, found from its ELF interpreter.
//! The child is spawned from that handle (`execveat`, no `PATH` search) with
//! the table `0 = FILE` (read-only), `1 = OUT_DIR/FILE.gz` (write-only),
//! `2 = stderr`, no environment, and a sandbox derived from exactly that:
//! it cannot open any other path, connect anywhere or signal anyone. Then
//! this process locks itself too (it only waits) and prints the child's
//! report with `--report`.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use cap_core::fs::{Dir, File, OpenOptions};
use cap_core::process::Program;
use cap_core::rights;
use cap_core::sandbox::{InheritedFds, Sandbox};

pub(crate) fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let report = args.iter().any(|a| a == "--report");
    let args: Vec<&OsString> = args.iter().filter(|a| *a != "--report").collect();
    let (Some(input), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: compress FILE OUT_DIR [GZIP] [--report]");
        return ExitCode::from(2);
    };
    let gzip = args
        .get(2)
        .map_or_else(|| "/usr/bin/gzip".into(), |g| (*g).clone());
    match run(Path::new(input), Path::new(out), Path::new(&gzip), report) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("compress: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(input: &Path, out: &Path, gzip: &Path, report: bool) -> std::io::Result<ExitCode> {
    let ambient = cap_core::ambient_authority();
    let gzip = Program::open_ambient(gzip, ambient)?;
    let source = File::<rights![Read]>::open_ambient(input, ambient)?;
    let out = Dir::<rights![Lookup, Create, Write, Truncate]>::open_ambient_dir(out, ambient)?;
    let mut name = input.file_name().unwrap_or_default().to_owned();
    name.push(".gz");
    let target: File<rights![Write, Truncate]> =
        out.open_with(&name, OpenOptions::new().create(true).truncate(true))?;

    let mut child = gzip
        .command()
        .arg("-c")
        .handle(0, &source)
        .handle(1, &target)
        .spawn()?;
    // The parent only waits now: lock it too, keeping the child's pidfd.
    Sandbox::new()
        .inherited_fds(InheritedFds::Keep)
        .enter()
        .map_err(std::io::Error::other)?;
    if let (true, Some(r)) = (report, child.report()) {
        eprintln!("gzip's sandbox:\n{r}");
    }
    let status = child.wait()?;
    if status.success() {
        println!("{}", Path::new(&name).display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("compress: gzip failed: {status}");
        Ok(ExitCode::from(1))
    }
}
