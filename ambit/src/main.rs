//! The `ambit` command line (see the library's documentation).

use std::process::ExitCode;

const USAGE: &str = "usage: ambit run [OPTIONS] -- PROGRAM [ARGS...]\n       ambit learn [--out FILE] -- PROGRAM [ARGS...]\n       ambit --help";

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
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
