//! `cap-macros`: see the workspace README.

use proc_macro::TokenStream;

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
    match ambient_reason(args.into()) {
        Ok(_) => item,
        Err(e) => {
            // The item is kept, so the only error shown is the attribute's.
            let mut out = e.to_compile_error();
            out.extend(proc_macro2::TokenStream::from(item));
            out.into()
        }
    }
}

/// Parses `reason = "<non-empty string>"` and returns the reason.
fn ambient_reason(args: proc_macro2::TokenStream) -> syn::Result<String> {
    use syn::parse::Parser;
    const EXPECTED: &str = "expected `reason = \"…\"`: say why this code needs ambient authority";
    let parser = |input: syn::parse::ParseStream<'_>| {
        if input.is_empty() {
            return Err(input.error(EXPECTED));
        }
        let key: syn::Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), EXPECTED))?;
        if key != "reason" {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown key `{key}`; {EXPECTED}"),
            ));
        }
        input.parse::<syn::Token![=]>()?;
        let value: syn::Expr = input.parse()?;
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(reason),
            ..
        }) = &value
        else {
            return Err(syn::Error::new_spanned(
                &value,
                "the reason must be a string literal",
            ));
        };
        if reason.value().trim().is_empty() {
            return Err(syn::Error::new(
                reason.span(),
                "the reason must not be empty: say why this code needs ambient authority",
            ));
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the reason"));
        }
        Ok(reason.value())
    };
    let empty = args.is_empty();
    parser.parse2(args).map_err(|e| {
        if empty {
            syn::Error::new(proc_macro2::Span::call_site(), EXPECTED)
        } else {
            e
        }
    })
}
