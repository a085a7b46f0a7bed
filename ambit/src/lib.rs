//! `ambit`: the same capability mode for programs that were never written
//! for it. The library behind the `ambit` binary.
//!
//! - `ambit run [OPTIONS] -- PROGRAM [ARGS…]` opens each named resource as a
//!   cap-core handle and spawns `PROGRAM` in a sandbox derived from them.
//! - `ambit learn [--out FILE] -- PROGRAM [ARGS…]` runs a program once under
//!   observation and writes the policy file `ambit run --policy` enforces.

pub mod learn;
pub mod policy;
#[cfg(target_os = "linux")]
pub mod run;
