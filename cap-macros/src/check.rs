//! Binding the declarations to the function's parameters, and every check
//! that can be made before expansion. The first mistake found is the one
//! reported, spanned on its token, so there is never a cascade.

use std::collections::HashSet;

use syn::{Error, FnArg, Ident, ItemFn, Pat, Result, Type};

use crate::model::{ArgSource, Attribute, Declaration};

/// The handle types of `cap_core` that need a declaration: a parameter of one
/// of these without one is surely a forgotten declaration, not a `Preopen` set.
const HANDLE_TYPES: [&str; 12] = [
    "Dir",
    "File",
    "TcpListener",
    "TcpStream",
    "UdpSocket",
    "Net",
    "UnixListener",
    "UnixStream",
    "UnixDatagram",
    "Resolver",
    "FileArgs",
    "Logger",
];

/// How a parameter gets its value.
pub(crate) enum Binding {
    /// From its declaration in the attribute.
    Declared(Box<Declaration>),
    /// From its type's `Preopen` implementation.
    Preopen,
}

/// A parameter of the entry point.
pub(crate) struct Param {
    pub(crate) name: Ident,
    pub(crate) ty: Box<Type>,
    pub(crate) binding: Binding,
}

/// The checked entry point: its parameters bound, in order.
pub(crate) struct Entry {
    pub(crate) func: ItemFn,
    pub(crate) params: Vec<Param>,
    /// The program's own flags without a value.
    pub(crate) flags: Vec<syn::LitStr>,
    /// The program's own flags with a value.
    pub(crate) value_flags: Vec<syn::LitStr>,
    /// The program's own positional arguments, 1 and on.
    pub(crate) args: Vec<syn::LitStr>,
    /// The soft limit on open descriptors to raise first.
    pub(crate) open_files: Option<crate::model::OpenFiles>,
}

/// Whether `attr` looks like an async runtime's entry attribute
/// (`#[tokio::main]`, `#[async_std::main]`, `#[actix_web::main]`, ...).
pub(crate) fn is_runtime_attribute(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "main")
}

/// Checks the function against the attribute and binds each parameter.
pub(crate) fn bind(attr: Attribute, func: ItemFn) -> Result<Entry> {
    let sig = &func.sig;
    if let Some(param) = sig.generics.params.first() {
        return Err(Error::new_spanned(
            param,
            "a #[sandboxed] entry point cannot be generic: it is called once, by the program",
        ));
    }
    if let Some(clause) = &sig.generics.where_clause {
        return Err(Error::new_spanned(
            clause,
            "a #[sandboxed] entry point cannot have a where clause",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(Error::new_spanned(
            variadic,
            "a #[sandboxed] entry point cannot be variadic",
        ));
    }
    let mut names = HashSet::new();
    for declaration in &attr.declarations {
        if !names.insert(declaration.name.to_string()) {
            return Err(Error::new(
                declaration.name.span(),
                format!("resource `{}` is declared twice", declaration.name),
            ));
        }
    }

    // A resource cannot read a position the program names as its own.
    for d in &attr.declarations {
        if let Some(ArgSource::Position(n)) = &d.sources.arg
            && let Some(own) = n
                .base10_parse::<usize>()
                .ok()
                .and_then(|n| attr.args.get(n.wrapping_sub(1)))
        {
            return Err(Error::new(
                n.span(),
                format!(
                    "positional argument {n} is the program's own `{}` (`args = [..]`): number the resource after them (`arg = {}`)",
                    own.value(),
                    attr.args.len() + 1
                ),
            ));
        }
    }
    let mut declarations = attr.declarations;
    let mut params = Vec::new();
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                return Err(Error::new_spanned(
                    receiver,
                    "a #[sandboxed] entry point is a free function: it cannot take `self`",
                ));
            }
            FnArg::Typed(typed) => typed,
        };
        let Pat::Ident(pat) = &*typed.pat else {
            return Err(Error::new_spanned(
                &typed.pat,
                "a #[sandboxed] parameter is a plain name, bound to a declaration of the same name",
            ));
        };
        if let Some(by_ref) = &pat.by_ref {
            return Err(Error::new_spanned(
                by_ref,
                "a #[sandboxed] parameter owns its handle: remove `ref`",
            ));
        }
        if let Some((_, sub)) = &pat.subpat {
            return Err(Error::new_spanned(
                sub,
                "a #[sandboxed] parameter is a plain name",
            ));
        }
        let name = pat.ident.clone();
        let binding = match declarations.iter().position(|d| d.name == name) {
            Some(index) => Binding::Declared(Box::new(declarations.remove(index))),
            None if names_a_handle(&typed.ty) => {
                return Err(Error::new(
                    name.span(),
                    format!(
                        "parameter `{name}` has no declaration: add `{name} = dir(\"..\")` (or the kind it is) to #[sandboxed(..)]"
                    ),
                ));
            }
            None => Binding::Preopen,
        };
        params.push(Param {
            name,
            ty: typed.ty.clone(),
            binding,
        });
    }
    if let Some(unused) = declarations.first() {
        return Err(Error::new(
            unused.name.span(),
            format!(
                "resource `{}` is declared, but `{}` has no parameter `{}` to receive it",
                unused.name, sig.ident, unused.name
            ),
        ));
    }
    Ok(Entry {
        func,
        params,
        flags: attr.flags,
        value_flags: attr.value_flags,
        args: attr.args,
        open_files: attr.open_files,
    })
}

/// Whether `ty` is one of `cap_core`'s handle types (by its last path segment).
fn names_a_handle(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| HANDLE_TYPES.iter().any(|h| segment.ident == h)),
        Type::Group(group) => names_a_handle(&group.elem),
        Type::Paren(paren) => names_a_handle(&paren.elem),
        _ => false,
    }
}
