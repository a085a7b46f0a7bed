//! Code generation for `#[sandboxed]`: the prologue that pre-opens, locks and
//! calls the body. Generated code names `::cap_core::__private` only.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

use crate::attr;
use crate::check::{self, Binding, Entry};
use crate::model::{ArgSource, Kind, Mode, Sources};

/// The whole attribute: parse, check, expand; on error, the error alone, next
/// to the function unchanged so no secondary errors follow.
pub(crate) fn sandboxed(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(err) => return with_item(&err, item),
    };
    match attr::parse_sandboxed(args).and_then(|attr| {
        let mode = attr.mode;
        let report = attr.report;
        check::bind(attr, func).map(|entry| expand(&entry, mode, report))
    }) {
        Ok(tokens) => tokens,
        Err(err) => with_item(&err, item),
    }
}

/// The error, next to the function renamed out of the way (so its imports
/// stay used and its body is still checked) and a stub with the original
/// name and no parameters (so `main` exists): rustc then reports only ours.
fn with_item(err: &syn::Error, item: TokenStream) -> TokenStream {
    let error = err.to_compile_error();
    let Ok(mut func) = syn::parse2::<ItemFn>(item) else {
        return error;
    };
    let vis = func.vis.clone();
    let ident = func.sig.ident.clone();
    let output = func.sig.output.clone();
    let has_receiver = func.sig.receiver().is_some();
    func.attrs.retain(|a| a.path().is_ident("doc"));
    func.sig.ident = format_ident!("__ambit_unchecked_{}", ident);
    let original = (!has_receiver).then(|| quote!(#[allow(dead_code, unused_variables)] #func));
    quote! {
        #error
        #original
        #vis fn #ident() #output { ::core::unreachable!() }
    }
}

fn expand(entry: &Entry, mode: Mode, report: bool) -> TokenStream {
    let func = &entry.func;
    let vis = &func.vis;
    let name = &func.sig.ident;
    let output = &func.sig.output;
    let body = &func.block;
    let asyncness = &func.sig.asyncness;
    let inputs = &func.sig.inputs;
    let (outer_attrs, inner_attrs): (Vec<_>, Vec<_>) = func.attrs.iter().partition(|a| {
        a.path().is_ident("doc") || a.path().is_ident("cfg") || a.path().is_ident("cfg_attr")
    });

    let site = Span::mixed_site();
    let inner = format_ident!("__ambit_entry", span = site);
    let prologue = format_ident!("__ambit_prologue", span = site);

    let command_line = format_ident!("__ambit_command_line", span = site);
    let declares = entry.params.iter().map(|param| {
        let ty = &param.ty;
        let name = param.name.to_string();
        match &param.binding {
            Binding::Declared(declaration)
                if declaration.sources.from.is_none() && !declaration.kind.is_service() =>
            {
                let kind = declaration.kind.name();
                let list = declaration.kind.element().is_some();
                let source = source(&declaration.sources);
                quote! { #command_line.declare(#name, #kind, #source, #list); }
            }
            Binding::Declared(_) => quote! {},
            Binding::Preopen => quote_spanned! {ty.span()=>
                (&::cap_core::__private::DeclareProbe::<#ty>::new()).declare(&mut #command_line);
            },
        }
    });
    let own_flags = &entry.flags;
    let own_value_flags = &entry.value_flags;
    let own_args = &entry.args;
    let open_files = entry.open_files.map(|want| {
        let want = match want {
            crate::model::OpenFiles::Max => quote!(::cap_core::__private::OpenFiles::Max),
            crate::model::OpenFiles::AtLeast(n) => {
                quote!(::cap_core::__private::OpenFiles::AtLeast(#n))
            }
        };
        quote! { ::cap_core::__private::open_files(#want); }
    });

    let locals: Vec<_> = entry
        .params
        .iter()
        .map(|p| format_ident!("__ambit_{}", p.name, span = site))
        .collect();
    // Broker services: declared on one builder, the broker started before
    // any other pre-open (so it inherits as little as possible, and before
    // any thread), each parameter then claimed from it.
    let broker = format_ident!("__ambit_broker", span = site);
    let builder = format_ident!("__ambit_broker_builder", span = site);
    let services: Vec<_> = entry
        .params
        .iter()
        .zip(&locals)
        .filter_map(|(param, local)| match &param.binding {
            Binding::Declared(d) => d.service.as_ref().map(|args| (param, local, d, args)),
            Binding::Preopen => None,
        })
        .collect();
    let service_tickets = services.iter().map(|(param, local, declaration, args)| {
        let ty = &param.ty;
        let name = param.name.to_string();
        let ticket = format_ident!("{}_ticket", local, span = site);
        let call = if let Some(from) = &args.from {
            let method = format_ident!("{}_from", declaration.kind.name());
            quote_spanned! {ty.span()=> #prologue.#method(&mut #builder, #name, #from) }
        } else {
            match declaration.kind {
                Kind::Resolve => {
                    let patterns = &args.patterns;
                    quote_spanned! {ty.span()=> #prologue.resolve(&mut #builder, #name, &[#(#patterns),*]) }
                }
                Kind::FileArgs => {
                    let roots = &args.roots;
                    quote_spanned! {ty.span()=> #prologue.fileargs(&mut #builder, #name, &[#(#roots),*]) }
                }
                _ => {
                    let option = |lit: Option<&LitStr>| {
                        lit.map_or_else(
                            || quote!(::core::option::Option::None),
                            |lit| quote!(::core::option::Option::Some(#lit)),
                        )
                    };
                    let path = option(args.path.as_ref());
                    let format = option(args.format.as_ref());
                    quote_spanned! {ty.span()=> #prologue.syslog(&mut #builder, #name, #path, #format) }
                }
            }
        };
        quote! { let #ticket: ::cap_core::__private::Ticket<#ty> = #call; }
    });
    let service_claims = services.iter().map(|(param, local, _, _)| {
        let ty = &param.ty;
        let name = param.name.to_string();
        let ticket = format_ident!("{}_ticket", local, span = site);
        quote! { let #local: #ty = #prologue.claim(&#broker, #name, #ticket); }
    });
    let start_broker = if services.is_empty() {
        quote! {}
    } else {
        quote! {
            let mut #builder = ::cap_core::__private::Broker::builder();
            #(#service_tickets)*
            let #broker = #prologue.start_broker(#builder);
            #(#service_claims)*
        }
    };
    let broker_grant = if services.is_empty() {
        quote! {}
    } else {
        quote! { (&::cap_core::__private::Erase(&#broker)).erase(), }
    };
    // A service's client handle holds nothing of its own: the socket to
    // the broker is the broker's grant.
    let granted: Vec<_> = entry
        .params
        .iter()
        .zip(&locals)
        .filter(|(param, _)| !matches!(&param.binding, Binding::Declared(d) if d.service.is_some()))
        .map(|(_, local)| local)
        .collect();
    let opens = entry
        .params
        .iter()
        .zip(&locals)
        .filter(|(param, _)| !matches!(&param.binding, Binding::Declared(d) if d.service.is_some()))
        .map(|(param, local)| {
            let ty = &param.ty;
            let name = param.name.to_string();
            let call = match &param.binding {
                Binding::Declared(declaration) => {
                    let kind = kind_path(
                        declaration.kind.element().unwrap_or(declaration.kind),
                        declaration.kind_span,
                    );
                    if declaration.kind.element().is_some() {
                        let source = source(&declaration.sources);
                        quote_spanned! {ty.span()=>
                            #prologue.open_list::<_, #kind>(#name, #source)
                        }
                    } else if let Some(from) = &declaration.sources.from {
                        quote_spanned! {ty.span()=>
                            #prologue.open_from::<#ty, #kind>(#name, #from)
                        }
                    } else {
                        let source = source(&declaration.sources);
                        quote_spanned! {ty.span()=>
                            #prologue.open::<#ty, #kind>(#name, #source)
                        }
                    }
                }
                Binding::Preopen => quote_spanned! {ty.span()=>
                    #prologue.preopen::<#ty>(#name)
                },
            };
            quote! { let #local: #ty = #call; }
        });
    // An async body without a runtime attribute of its own runs on the
    // runtime cap-core starts after the lock (its `tokio` feature).
    let call = if asyncness.is_some() && !func.attrs.iter().any(check::is_runtime_attribute) {
        quote! { ::cap_core::__private::block_on(#inner(#(#locals),*)) }
    } else {
        quote! { #inner(#(#locals),*) }
    };
    let mode = match mode {
        Mode::Strict => quote!(::cap_core::__private::Mode::Strict),
        Mode::BestEffort => quote!(::cap_core::__private::Mode::BestEffort),
    };

    quote! {
        #(#outer_attrs)*
        #vis fn #name() #output {
            #(#inner_attrs)*
            #[allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]
            #asyncness fn #inner(#inputs) #output #body

            #[allow(unused_imports)]
            use ::cap_core::__private::{
                DeclareNothing as _, DeclarePreopen as _, EraseGrant as _, EraseNothing as _,
            };
            let mut #command_line = ::cap_core::__private::CommandLine::new();
            #(#declares)*
            #command_line.own_flags(&[#(#own_flags),*], &[#(#own_value_flags),*]);
            #command_line.own_args(&[#(#own_args),*]);
            #open_files
            let #prologue = ::cap_core::__private::Prologue::new(&#command_line, #report);
            #start_broker
            #(#opens)*
            #prologue.lock(#mode, &[#broker_grant #((&::cap_core::__private::Erase(&#granted)).erase()),*]);
            #call
        }
    }
}

/// `::cap_core::__private::kind::dir`, spanned on the kind's name.
pub(crate) fn kind_path(kind: Kind, span: Span) -> TokenStream {
    let ident = syn::Ident::new(kind.name(), span);
    quote!(::cap_core::__private::kind::#ident)
}

/// A `::cap_core::__private::Source` literal.
pub(crate) fn source(sources: &Sources) -> TokenStream {
    let option = |lit: Option<&LitStr>| {
        lit.map_or_else(
            || quote!(::core::option::Option::None),
            |lit| quote!(::core::option::Option::Some(#lit)),
        )
    };
    let (flag, position) = match &sources.arg {
        Some(ArgSource::Flag(flag)) => (option(Some(flag)), quote!(::core::option::Option::None)),
        Some(ArgSource::Position(n)) => {
            // Checked by the parser; re-emitted as a `usize` whatever its suffix.
            let n: usize = n.base10_parse().unwrap_or(1);
            (option(None), quote!(::core::option::Option::Some(#n)))
        }
        None => (option(None), quote!(::core::option::Option::None)),
    };
    let env = option(sources.env.as_ref());
    let default = option(sources.default.as_ref());
    quote! {
        ::cap_core::__private::Source {
            flag: #flag,
            position: #position,
            env: #env,
            default: #default,
        }
    }
}
