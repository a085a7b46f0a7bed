//! `#[derive(Preopen)]`: a struct of handles, each field with its declaration.
//!
//! ```text
//! #[derive(Preopen)]
//! struct Caps {
//!     #[preopen(dir(arg = "--root", default = "site"))]
//!     site: Dir<ReadOnly>,
//!     #[preopen(listen("127.0.0.1:8080"))]
//!     http: TcpListener,
//!     more: OtherCaps, // no attribute: a nested Preopen set
//! }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::ParseStream;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Expr, Fields, Ident, Result, Token};

use crate::attr;
use crate::expand::{kind_path, source};
use crate::model::Declaration;

pub(crate) fn preopen(item: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(item) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    match expand(&input) {
        Ok(tokens) => tokens,
        Err(err) => {
            // The error, and impls that never run, so uses of the type do not
            // add "not Preopen" errors of their own.
            let error = err.to_compile_error();
            let ident = &input.ident;
            if input.generics.params.is_empty() {
                quote! {
                    #error
                    impl ::cap_core::Preopen for #ident {
                        fn preopen(_: ::cap_core::AmbientAuthority) -> ::core::result::Result<Self, ::cap_core::PreopenError> {
                            ::core::unreachable!()
                        }
                    }
                    impl ::cap_core::__private::Grant for #ident {
                        fn grant<'a>(&'a self, _: &mut ::cap_core::__private::Policy<'a>) {}
                    }
                }
            } else {
                error
            }
        }
    }
}

fn expand(input: &DeriveInput) -> Result<TokenStream> {
    if let Some(param) = input.generics.params.first() {
        return Err(Error::new_spanned(
            param,
            "#[derive(Preopen)] is for a concrete set of handles: it cannot be generic",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(Error::new(
            input.ident.span(),
            "#[derive(Preopen)] is for structs of handles",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(Error::new_spanned(
            &data.fields,
            "#[derive(Preopen)] needs named fields: each name labels its resource in errors and the report",
        ));
    };

    let site = Span::mixed_site();
    let ambient = format_ident!("__ambit_ambient", span = site);
    let args = format_ident!("__ambit_args", span = site);
    let policy = format_ident!("__ambit_policy", span = site);
    let command_line = format_ident!("__ambit_command_line", span = site);
    let mut declares = Vec::new();
    let mut lets = Vec::new();
    let mut names = Vec::new();
    let mut grants = Vec::new();
    for field in &fields.named {
        let Some(name) = field.ident.as_ref() else {
            continue;
        };
        let ty = &field.ty;
        let name_text = name.to_string();
        let mut declaration = None;
        for a in field.attrs.iter().filter(|a| a.path().is_ident("preopen")) {
            if declaration.is_some() {
                return Err(Error::new_spanned(
                    a,
                    format!("field `{name}` has two #[preopen] declarations"),
                ));
            }
            let list = a.meta.require_list()?;
            declaration = Some(parse_field(name, list.tokens.clone())?);
        }
        let (init, granted) = match declaration {
            Some(Field::With(expr)) => {
                // Plain data computed by the program, perhaps by parsing the
                // command line itself (clap): flags it knows pass.
                declares.push(quote! { #command_line.external(#name_text); });
                (quote!(#expr), false)
            }
            Some(Field::Declared(decl)) => {
                let kind = kind_path(decl.kind.element().unwrap_or(decl.kind), decl.kind_span);
                let list = decl.kind.element().is_some();
                if decl.sources.from.is_none() {
                    let kind_name = decl.kind.name();
                    let source = source(&decl.sources);
                    declares.push(
                        quote! { #command_line.declare(#name_text, #kind_name, #source, #list); },
                    );
                }
                let open = if list {
                    let source = source(&decl.sources);
                    quote_spanned! {ty.span()=>
                        ::cap_core::__private::open_resource_list::<_, #kind>(#args, #name_text, &#source, #ambient)?
                    }
                } else if let Some(from) = &decl.sources.from {
                    quote_spanned! {ty.span()=>
                        ::cap_core::__private::open_resource_from::<#ty, #kind>(#name_text, #from, #ambient)?
                    }
                } else {
                    let source = source(&decl.sources);
                    quote_spanned! {ty.span()=>
                        ::cap_core::__private::open_resource::<#ty, #kind>(#args, #name_text, &#source, #ambient)?
                    }
                };
                (open, true)
            }
            None => {
                declares.push(quote_spanned! {ty.span()=>
                    <#ty as ::cap_core::Preopen>::__ambit_declare(#command_line);
                });
                (
                    quote_spanned! {ty.span()=>
                        <#ty as ::cap_core::Preopen>::__ambit_preopen(#args, #ambient)?
                    },
                    true,
                )
            }
        };
        // Each field is a local first, in order, so a later `from = ..` can
        // use an earlier field (`from = &cli.root`).
        lets.push(quote!(let #name: #ty = #init;));
        names.push(name);
        if granted {
            grants.push(quote!(::cap_core::__private::Grant::grant(&self.#name, #policy);));
        }
    }

    let ident = &input.ident;
    Ok(quote! {
        impl ::cap_core::Preopen for #ident {
            /// Opens the set on its own, reading the command line for its
            /// declarations only (other flags are skipped). Under
            /// `#[sandboxed]` the program's one parser is used instead.
            fn preopen(#ambient: ::cap_core::AmbientAuthority) -> ::core::result::Result<Self, ::cap_core::PreopenError> {
                let mut #command_line = ::cap_core::__private::CommandLine::new();
                <Self as ::cap_core::Preopen>::__ambit_declare(&mut #command_line);
                let #args = #command_line.parse_lenient(::std::env::args_os().skip(1))?;
                <Self as ::cap_core::Preopen>::__ambit_preopen(&#args, #ambient)
            }
            fn __ambit_declare(#command_line: &mut ::cap_core::__private::CommandLine) {
                #(#declares)*
            }
            fn __ambit_preopen(
                #args: &::cap_core::__private::Args,
                #ambient: ::cap_core::AmbientAuthority,
            ) -> ::core::result::Result<Self, ::cap_core::PreopenError> {
                #(#lets)*
                ::core::result::Result::Ok(Self { #(#names),* })
            }
        }
        impl ::cap_core::__private::Grant for #ident {
            #[allow(unused_variables)]
            fn grant<'a>(&'a self, #policy: &mut ::cap_core::__private::Policy<'a>) {
                #(#grants)*
            }
        }
    })
}

/// What a field's `#[preopen(..)]` says.
enum Field {
    /// `kind(sources)`: a handle to open.
    Declared(Declaration),
    /// `with = EXPR`: plain data computed before the handles (parsed
    /// arguments, say); not granted.
    With(Expr),
}

fn parse_field(name: &Ident, tokens: TokenStream) -> Result<Field> {
    let parser = |stream: ParseStream| {
        let field = if stream.peek(Ident) && stream.peek2(Token![=]) {
            let key: Ident = stream.parse()?;
            if key != "with" {
                return Err(Error::new(
                    key.span(),
                    format!(
                        "unknown field option `{key}`; expected `with = expression` or a declaration like `dir(\"..\")`"
                    ),
                ));
            }
            stream.parse::<Token![=]>()?;
            Field::With(stream.parse()?)
        } else {
            let declaration = attr::parse_declaration_rhs(name.clone(), stream)?;
            if declaration.kind.is_service() {
                return Err(Error::new(
                    declaration.kind_span,
                    format!(
                        "`{}` is a broker service: declare it on #[sandboxed], whose prologue starts the broker before the lock",
                        declaration.kind.name()
                    ),
                ));
            }
            Field::Declared(declaration)
        };
        if !stream.is_empty() {
            return Err(stream.error("one declaration per field"));
        }
        Ok(field)
    };
    parser.parse2(tokens)
}
