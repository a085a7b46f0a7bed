//! Parsing `#[sandboxed(..)]` and `#[preopen(..)]` arguments into the model.
//!
//! Grammar (one error per mistake, spanned on the offending token):
//!
//! ```text
//! args        := item (',' item)* ','?
//! item        := NAME '=' KIND '(' sources ')'      a resource declaration
//!              | 'mode' '=' ('strict' | 'best_effort')
//!              | 'report' ('=' BOOL)?
//! sources     := source (',' source)* ','?
//! source      := STR                                the value itself (same as default)
//!              | 'arg' '=' (STR | INT)              "--flag", or the n-th positional
//!              | 'env' '=' STR                      an environment variable
//!              | 'default' '=' STR                  used when no other source gives one
//!              | 'from' '=' EXPR                     an expression (alone): AsRef<OsStr>
//! ```

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{Error, Ident, Lit, LitStr, Result, Token};

use crate::model::{
    ArgSource, Attribute, Declaration, Kind, Mode, OpenFiles, ServiceArgs, Sources,
};

/// Parses the arguments of `#[sandboxed(..)]`.
pub(crate) fn parse_sandboxed(args: TokenStream) -> Result<Attribute> {
    let parser = |input: ParseStream| {
        let mut attr = Attribute::default();
        let mut seen_mode = false;
        let mut seen_report = false;
        while !input.is_empty() {
            let name: Ident = input.parse()?;
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                if input.peek(Ident) && input.peek2(syn::token::Paren) {
                    attr.declarations.push(parse_declaration_rhs(name, input)?);
                } else if name == "mode" {
                    once(&mut seen_mode, &name)?;
                    attr.mode = parse_mode(input)?;
                } else if name == "report" {
                    once(&mut seen_report, &name)?;
                    attr.report = input.parse::<syn::LitBool>()?.value;
                } else if name == "flags" || name == "value_flags" {
                    let list = if name == "flags" {
                        &mut attr.flags
                    } else {
                        &mut attr.value_flags
                    };
                    if !list.is_empty() {
                        return Err(Error::new(name.span(), format!("`{name}` is given twice")));
                    }
                    *list = parse_flag_list(input)?;
                } else if name == "args" {
                    if !attr.args.is_empty() {
                        return Err(duplicate(&name));
                    }
                    attr.args = parse_arg_names(input)?;
                } else if name == "open_files" {
                    if attr.open_files.is_some() {
                        return Err(duplicate(&name));
                    }
                    attr.open_files = Some(parse_open_files(input)?);
                } else {
                    return Err(unknown_option(&name));
                }
            } else if name == "report" {
                once(&mut seen_report, &name)?;
                attr.report = true;
            } else {
                return Err(unknown_option(&name));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(attr)
    };
    parser.parse2(args)
}

/// Parses `kind(sources)`, the right-hand side of a declaration, from a
/// stream positioned after `name =` (shared with `#[preopen(kind(..))]`).
pub(crate) fn parse_declaration_rhs(name: Ident, input: ParseStream) -> Result<Declaration> {
    let kind_ident: Ident = input.parse()?;
    let Some(kind) = Kind::from_name(&kind_ident.to_string()) else {
        return Err(Error::new(
            kind_ident.span(),
            format!(
                "unknown resource kind `{kind_ident}`; expected one of: {}",
                Kind::list()
            ),
        ));
    };
    let content;
    syn::parenthesized!(content in input);
    if kind.is_service() {
        let service = parse_service(&content, kind, kind_ident.span())?;
        return Ok(Declaration {
            name,
            kind,
            kind_span: kind_ident.span(),
            sources: Sources::default(),
            service: Some(Box::new(service)),
        });
    }
    let sources = parse_sources(&content, &name, kind, kind_ident.span())?;
    Ok(Declaration {
        name,
        kind,
        kind_span: kind_ident.span(),
        sources,
        service: None,
    })
}

/// The arguments of a broker service kind:
///
/// ```text
/// resolve(STR, ..)                        name patterns (at least one)
/// fileargs(root = STR, ..)                roots (at least one)
/// syslog(path = STR?, format = STR?)      the log socket and its format
/// KIND(from = EXPR)                       the service's configuration, computed
/// ```
fn parse_service(input: ParseStream, kind: Kind, kind_span: Span) -> Result<ServiceArgs> {
    let mut args = ServiceArgs::default();
    let mut from_key: Option<Ident> = None;
    let mut first_other: Option<Span> = None;
    while !input.is_empty() {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if kind != Kind::Resolve {
                return Err(Error::new(
                    lit.span(),
                    format!(
                        "`{}` takes named arguments ({}), not a bare string",
                        kind.name(),
                        service_keys(kind)
                    ),
                ));
            }
            first_other.get_or_insert(lit.span());
            args.patterns.push(lit);
        } else {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let text = key.to_string();
            match (kind, text.as_str()) {
                (_, "from") => {
                    if from_key.is_some() {
                        return Err(duplicate(&key));
                    }
                    args.from = Some(input.parse::<syn::Expr>()?);
                    from_key = Some(key);
                }
                (Kind::FileArgs, "root") => {
                    first_other.get_or_insert(key.span());
                    args.roots.push(input.parse()?);
                }
                (Kind::Syslog, "path") => {
                    if args.path.is_some() {
                        return Err(duplicate(&key));
                    }
                    first_other.get_or_insert(key.span());
                    args.path = Some(input.parse()?);
                }
                (Kind::Syslog, "format") => {
                    if args.format.is_some() {
                        return Err(duplicate(&key));
                    }
                    let format: LitStr = input.parse()?;
                    if !matches!(format.value().as_str(), "rfc3164" | "rfc5424" | "journald") {
                        return Err(Error::new(
                            format.span(),
                            "unknown log format; expected \"rfc3164\", \"rfc5424\" or \"journald\"",
                        ));
                    }
                    first_other.get_or_insert(key.span());
                    args.format = Some(format);
                }
                _ => {
                    return Err(Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{key}` of `{}`; expected {}",
                            kind.name(),
                            service_keys(kind)
                        ),
                    ));
                }
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    if let (Some(key), Some(_)) = (&from_key, first_other) {
        return Err(Error::new(
            key.span(),
            "`from = ..` computes the service's configuration itself: it takes no other argument",
        ));
    }
    if from_key.is_none() {
        if kind == Kind::Resolve && args.patterns.is_empty() {
            return Err(Error::new(
                kind_span,
                "`resolve` needs at least one name pattern: `resolve(\"api.example.com\", \"*.example.com\")`",
            ));
        }
        if kind == Kind::FileArgs && args.roots.is_empty() {
            return Err(Error::new(
                kind_span,
                "`fileargs` needs at least one root: `fileargs(root = \"/srv/in\")`",
            ));
        }
    }
    Ok(args)
}

fn service_keys(kind: Kind) -> &'static str {
    match kind {
        Kind::Resolve => "name patterns as strings, or `from = ..`",
        Kind::FileArgs => "`root = \"..\"` (repeatable), or `from = ..`",
        _ => "`path = \"..\"`, `format = \"..\"`, or `from = ..`",
    }
}

fn parse_sources(input: ParseStream, name: &Ident, kind: Kind, kind_span: Span) -> Result<Sources> {
    let mut sources = Sources::default();
    let mut value_span: Option<Span> = None;
    let mut from_key: Option<Ident> = None;
    while !input.is_empty() {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if sources.default.is_some() {
                return Err(Error::new(
                    lit.span(),
                    "a resource has one value: give either a literal or `default = ..`, once",
                ));
            }
            value_span = Some(lit.span());
            sources.default = Some(lit);
        } else {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "arg" {
                if sources.arg.is_some() {
                    return Err(duplicate(&key));
                }
                sources.arg = Some(match input.parse::<Lit>()? {
                    Lit::Str(flag) => {
                        let text = flag.value();
                        if !text.starts_with("--") || text.len() < 3 || text.contains(['=', ' ']) {
                            return Err(Error::new(
                                flag.span(),
                                "a flag is spelled `--name` (or use `arg = N` for the n-th positional argument)",
                            ));
                        }
                        ArgSource::Flag(flag)
                    }
                    Lit::Int(position) => {
                        if position.base10_parse::<usize>()? == 0 {
                            return Err(Error::new(
                                position.span(),
                                "positional arguments count from 1 (the first argument after the program name)",
                            ));
                        }
                        ArgSource::Position(position)
                    }
                    other => {
                        return Err(Error::new(
                            other.span(),
                            "`arg` takes a flag (`\"--root\"`) or a position (`1`)",
                        ));
                    }
                });
            } else if key == "env" {
                if sources.env.is_some() {
                    return Err(duplicate(&key));
                }
                let var: LitStr = input.parse()?;
                if var.value().is_empty() || var.value().contains(['=', '\0']) {
                    return Err(Error::new(var.span(), "not an environment variable name"));
                }
                sources.env = Some(var);
            } else if key == "from" {
                if sources.from.is_some() {
                    return Err(duplicate(&key));
                }
                sources.from = Some(input.parse::<syn::Expr>()?);
                from_key = Some(key);
            } else if key == "default" {
                let lit: LitStr = input.parse()?;
                if value_span.is_some() {
                    return Err(Error::new(
                        lit.span(),
                        "a resource has one value: give either a literal or `default = ..`, once",
                    ));
                }
                value_span = Some(lit.span());
                sources.default = Some(lit);
            } else {
                return Err(Error::new(
                    key.span(),
                    format!(
                        "unknown source `{key}`; expected a literal value, `arg = \"--flag\"`, `arg = N`, `env = \"VAR\"`, `default = \"..\"` or `from = expression`"
                    ),
                ));
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    if let Some(key) = &from_key
        && kind.element().is_some()
    {
        return Err(Error::new(
            key.span(),
            format!(
                "a list (`{}`) takes its values from the command line (`arg = N` for every argument from N on, or a repeated `arg = \"--flag\"`), `env` or `default`, not `from`",
                kind.name()
            ),
        ));
    }
    if let Some(key) = from_key
        && (sources.arg.is_some() || sources.env.is_some() || sources.default.is_some())
    {
        return Err(Error::new(
            key.span(),
            "`from = ..` computes the value itself: it takes no other source",
        ));
    }
    if sources.from.is_none()
        && sources.arg.is_none()
        && sources.env.is_none()
        && sources.default.is_none()
    {
        return Err(Error::new(
            kind_span,
            format!(
                "resource `{name}` has no value: write `{}(\"..\")`, or name a source (`arg`, `env`, `default`, `from`)",
                kind.name()
            ),
        ));
    }
    Ok(sources)
}

fn parse_mode(input: ParseStream) -> Result<Mode> {
    let mode: Ident = input.parse()?;
    if mode == "strict" {
        Ok(Mode::Strict)
    } else if mode == "best_effort" {
        Ok(Mode::BestEffort)
    } else {
        Err(Error::new(
            mode.span(),
            format!("unknown mode `{mode}`; expected `strict` or `best_effort`"),
        ))
    }
}

fn once(seen: &mut bool, name: &Ident) -> Result<()> {
    if std::mem::replace(seen, true) {
        Err(duplicate(name))
    } else {
        Ok(())
    }
}

/// `open_files = max` or `open_files = 4096`: the soft limit on open
/// descriptors the prologue raises before opening anything.
fn parse_open_files(input: ParseStream) -> Result<OpenFiles> {
    let wrong = |span| {
        Error::new(
            span,
            "`open_files` is `max` (the hard limit) or a number of descriptors, as in `open_files = 4096`",
        )
    };
    if input.peek(Ident) {
        let word: Ident = input.parse()?;
        return if word == "max" {
            Ok(OpenFiles::Max)
        } else {
            Err(wrong(word.span()))
        };
    }
    match input.parse::<Lit>()? {
        Lit::Int(n) => match n.base10_parse::<u64>() {
            Ok(v) if v > 0 => Ok(OpenFiles::AtLeast(v)),
            _ => Err(wrong(n.span())),
        },
        other => Err(wrong(other.span())),
    }
}

fn duplicate(name: &Ident) -> Error {
    Error::new(name.span(), format!("`{name}` is given twice"))
}

fn unknown_option(name: &Ident) -> Error {
    Error::new(
        name.span(),
        format!(
            "unknown option `{name}`: the options are `mode`, `report`, `flags`, `value_flags`, `args` and `open_files`, and a resource is declared as `{name} = dir(\"path\")` (kinds: {})",
            Kind::list()
        ),
    )
}

/// `["..", ..]`: a bracketed list of strings, each checked by `check`
/// (which says what is wrong with one).
fn parse_str_list(
    input: ParseStream,
    check: fn(&str) -> Option<&'static str>,
) -> Result<Vec<LitStr>> {
    let content;
    syn::bracketed!(content in input);
    let items = content.parse_terminated(|s: ParseStream| s.parse::<LitStr>(), Token![,])?;
    let items: Vec<LitStr> = items.into_iter().collect();
    for item in &items {
        if let Some(wrong) = check(&item.value()) {
            return Err(Error::new(item.span(), wrong));
        }
    }
    Ok(items)
}

/// `args = ["FROM", "TO"]`: names for the program's own positional
/// arguments, 1 and on, for the usage line and `--help`.
fn parse_arg_names(input: ParseStream) -> Result<Vec<LitStr>> {
    parse_str_list(input, |text| {
        (text.is_empty() || text.starts_with('-') || text.contains(char::is_whitespace))
            .then_some("an argument's name is one word that does not start with `-` (`FROM`)")
    })
}

/// `["-i", "--count"]`: the program's own flags.
fn parse_flag_list(input: ParseStream) -> Result<Vec<LitStr>> {
    parse_str_list(input, |text| {
        if !text.starts_with('-') || text.len() < 2 || text == "--" || text.contains(['=', ' ']) {
            Some("a program flag is spelled `-x` or `--name`")
        } else if text == "-h" || text == "--help" {
            Some("`-h` and `--help` print the help generated from the declarations")
        } else {
            None
        }
    })
}
