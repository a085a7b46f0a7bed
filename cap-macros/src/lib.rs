//! `cap-macros`: the `#[sandboxed]` attribute and `#[derive(Preopen)]` of ambit.
//!
//! Use them through `cap-core` (`cap_core::sandboxed`, `cap_core::Preopen`):
//! the generated code names `::cap_core::__private` paths only. The work is
//! split by stage: [`attr`] parses the attribute, [`model`] is the typed
//! declaration model, [`check`] binds it to the function and finds the
//! mistakes, [`expand`] writes the prologue; [`derive`] does the same for a
//! struct of handles.
#![forbid(unsafe_code)]

mod attr;
mod check;
mod derive;
mod expand;
mod model;

use proc_macro::TokenStream;

/// Pre-opens the declared resources, locks the process into capability mode
/// with a policy derived from exactly those handles, then runs the function
/// with the handles as its arguments. See `cap_core::sandboxed` for the
/// reference.
#[proc_macro_attribute]
pub fn sandboxed(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::sandboxed(args.into(), item.into()).into()
}

/// Implements `cap_core::Preopen` (and `cap_core::sandbox::Grant`) for a
/// struct of handles whose fields each carry a `#[preopen(kind(..))]`
/// declaration. See `cap_core::Preopen`.
#[proc_macro_derive(Preopen, attributes(preopen))]
pub fn derive_preopen(item: TokenStream) -> TokenStream {
    derive::preopen(item.into()).into()
}
