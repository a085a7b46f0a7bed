//! `#[ambient(reason = "…")]`: the suppression attribute read by `cargo cap-lint`.

/// Parses `reason = "<non-empty string>"` and returns the reason.
pub(crate) fn ambient_reason(args: proc_macro2::TokenStream) -> syn::Result<String> {
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
