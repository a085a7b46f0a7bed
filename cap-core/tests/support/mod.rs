//! The harness shared by the test binaries that run programs of their own
//! executable in fresh processes (`harness = false`: `broker`,
//! `broker_services`, `process`): a list of named tests, run in order, with
//! libtest's name filter, its output lines, and ignored tests that run with
//! `--include-ignored`.
// Each test binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::process::ExitCode;

/// One test: its name, its body (a panic fails it), and why it is ignored
/// unless `--include-ignored` is given.
pub(crate) struct Test {
    pub(crate) name: &'static str,
    pub(crate) run: fn(),
    pub(crate) ignored: Option<&'static str>,
}

impl Test {
    /// A test that always runs.
    pub(crate) const fn new(name: &'static str, run: fn()) -> Self {
        Self {
            name,
            run,
            ignored: None,
        }
    }
}

/// Runs `tests` as libtest would with `args` (the first free argument is a
/// name filter), printing `test NAME ... ok|FAILED|ignored`; fails if any
/// test failed.
pub(crate) fn run_tests(args: &[String], tests: &[Test]) -> ExitCode {
    let filter = args.get(1).filter(|a| !a.starts_with('-'));
    let include_ignored = args.iter().any(|a| a == "--include-ignored");
    let mut failed = 0;
    for t in tests {
        if filter.is_some_and(|f| !t.name.contains(f.as_str())) {
            continue;
        }
        if let (Some(why), false) = (t.ignored, include_ignored) {
            println!("test {} ... ignored ({why})", t.name);
            continue;
        }
        let r = std::panic::catch_unwind(t.run);
        println!(
            "test {} ... {}",
            t.name,
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        failed += usize::from(r.is_err());
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
