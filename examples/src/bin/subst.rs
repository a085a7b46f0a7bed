//! `subst FROM TO FILE...`: replaces every `FROM` with `TO` in each file, in
//! place, the way `sed -i s/FROM/TO/g` would.
//!
//! Each FILE is held through its directory with the rights a safe rewrite
//! needs (`InPlace<Rewrite>`: write a temporary file beside it, rename it
//! over the original), and nothing else: after the lock the process cannot
//! open any other path, connect anywhere or run anything. FROM and TO are
//! positional arguments 1 and 2, read by the body and named for `--help`
//! (`args = ["FROM", "TO"]`); the files are positional arguments 3 and on
//! (`files(arg = 3)`). The porting guide in the book walks
//! through this program's port from `std::fs`.

use std::process::ExitCode;

use cap_core::fs::{InPlace, Rewrite};

#[cap_core::sandboxed(args = ["FROM", "TO"], files = files(arg = 3))]
fn main(files: Vec<InPlace<Rewrite>>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(from), Some(to)) = (args.first(), args.get(1)) else {
        eprintln!("usage: subst FROM TO FILE...");
        return ExitCode::from(2);
    };
    if from.is_empty() {
        eprintln!("subst: FROM must not be empty");
        return ExitCode::from(2);
    }
    let mut status = ExitCode::SUCCESS;
    for file in &files {
        let result = file.read_to_string().and_then(|text| {
            let count = text.matches(from.as_str()).count();
            if count > 0 {
                file.replace(text.replace(from.as_str(), to))?;
            }
            Ok(count)
        });
        match result {
            Ok(count) => println!("{}: {count} replaced", file.path().display()),
            Err(e) => {
                eprintln!("subst: {}: {e}", file.path().display());
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
