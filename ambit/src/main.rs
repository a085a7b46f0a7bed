//! The `ambit` command line (see the library's documentation).

use std::process::ExitCode;

const USAGE: &str = "usage: ambit run [OPTIONS] -- PROGRAM [ARGS...]\n       ambit learn [--out FILE] -- PROGRAM [ARGS...]\n       ambit --help\n\n`ambit run --help` lists run's options.";

#[cfg(target_os = "linux")]
fn run(args: &[std::ffi::OsString]) -> ExitCode {
    ExitCode::from(u8::try_from(ambit::run::main(args)).unwrap_or(u8::MAX))
}

#[cfg(not(target_os = "linux"))]
fn run(_args: &[std::ffi::OsString]) -> ExitCode {
    eprintln!("ambit run: Linux only for now (spawning a program with a child sandbox is)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some("run") => run(&args[1..]),
        Some("learn") => ambit::learn::main(args[1..].to_vec()),
        Some("--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("ambit: unknown command `{other}`\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
