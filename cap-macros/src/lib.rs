//! `cap-macros`: the `#[sandboxed]` attribute and `#[derive(Preopen)]` of ambit.
//!
//! Use them through `cap-core` (`cap_core::sandboxed`, `cap_core::Preopen`):
//! the generated code names `::cap_core::__private` paths only. The work is
//! split by stage: `attr` parses the attribute, `model` is the typed
//! declaration model, `check` binds it to the function and finds the
//! mistakes, `expand` writes the prologue; `derive` does the same for a
//! struct of handles. `ambient` is the suppression attribute that
//! `cargo cap-lint` reads.
#![forbid(unsafe_code)]

mod ambient;
mod attr;
mod check;
mod derive;
mod expand;
mod model;

use proc_macro::TokenStream;

/// Marks a program's entry point: pre-opens the declared resources while the
/// process still has ambient authority, locks it into capability mode with a
/// policy derived from exactly those handles, then runs the body with the
/// handles as its arguments.
///
/// ```text
/// #[cap_core::sandboxed(
///     site = dir(arg = "--root", default = "examples/site"),
///     http = listen(arg = "--addr", default = "127.0.0.1:8080"),
///     report,
/// )]
/// fn main(site: Dir<rights![Lookup, Read, Stat]>, http: TcpListener) -> std::io::Result<()> { .. }
/// ```
///
/// - Kinds: `dir`, `file`, `exec`, `listen`, `udp`, `connect`,
///   `unix_listen`, `unix_connect`; the rights come from the parameter's type.
///   `program` declares a program to spawn (`cap_core::process::Program`):
///   its executable and the loader directories it needs, found from its ELF
///   interpreter.
/// - Sources, tried in order: `arg = "--flag"` or `arg = N` (positional),
///   `env = "VAR"`, then `default = ".."` (or a bare literal); or
///   `from = EXPR` alone, an expression evaluated before the lock.
/// - A parameter without a declaration has a type implementing
///   `cap_core::Preopen`.
/// - Options: `mode = strict | best_effort`, `report`; `AMBIT_REPORT=1|json|0`
///   is read before the lock.
/// - The body returns what `main` may return (`Termination`); an async body
///   takes its runtime attribute *below* this one, so the runtime starts
///   after the lock.
/// - A pre-open failure prints ``error: resource `site` (dir "..."): why`` and
///   exits with status 2, before anything is locked.
///
/// The book's chapter "`#[sandboxed]` reference" (`book/src/sandboxed.md`)
/// is the full reference, with every compile error. There is no `std`
/// counterpart; it plays the part of FreeBSD's `cap_enter(2)` after
/// pre-opening, or OpenBSD's `unveil(2)` + `pledge(2)`.
#[proc_macro_attribute]
pub fn sandboxed(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::sandboxed(args.into(), item.into()).into()
}

/// Implements `cap_core::Preopen` (and `cap_core::sandbox::Grant`) for a
/// struct of handles. Each field is `#[preopen(kind(sources))]` (a handle,
/// declared as in `#[sandboxed]`), `#[preopen(with = EXPR)]` (plain data made
/// first, such as parsed `clap` arguments, not granted), or unmarked (a field
/// whose type is itself `Preopen`). Fields are made in order, so a later
/// `from = EXPR` source can use an earlier field: `dir(from = &cli.root)`.
#[proc_macro_derive(Preopen, attributes(preopen))]
pub fn derive_preopen(item: TokenStream) -> TokenStream {
    derive::preopen(item.into()).into()
}

/// Marks a function, impl block, module or item as using ambient authority on
/// purpose, and says why: `#[cap_core::ambient(reason = "…")]`.
///
/// It compiles to the item unchanged. `cargo cap-lint` reads it and reports the
/// ambient calls inside as suppressed, with the reason, instead of as findings.
/// Use it on the few places that must reach the world by name (the code that
/// pre-opens handles before the sandbox is entered); everything else should be
/// given handles. Re-exported as `cap_core::ambient`; the book chapter
/// "cargo cap-lint" has a compiled example.
///
/// The reason must be a non-empty string literal; anything else is a
/// `compile_error!` spanned on the offending tokens.
#[proc_macro_attribute]
pub fn ambient(args: TokenStream, item: TokenStream) -> TokenStream {
    match ambient::ambient_reason(args.into()) {
        Ok(_) => item,
        Err(e) => {
            // The item is kept, so the only error shown is the attribute's.
            let mut out = e.to_compile_error();
            out.extend(proc_macro2::TokenStream::from(item));
            out.into()
        }
    }
}
