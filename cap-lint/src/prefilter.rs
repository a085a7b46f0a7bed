//! The lexical pre-filter: which files cannot contain a finding, so that
//! only their item skeleton is parsed (function bodies blanked) instead of
//! the whole file.
//!
//! A finding is reported only where a file's own tokens name a catalogue
//! entry: a path whose last segment is the entry's name (or an import
//! alias of it), a method call by the entry's name, or an escape hatch by
//! name. So a file none of whose code words (outside comments and literals)
//! could start such a match has nothing to report; its skeleton (imports,
//! items, `mod` declarations) and signature facts (field, return types) are
//! still needed by the other files, and those never look inside function
//! bodies. The rules, per kind of entry (see the book, "The pre-filter"):
//!
//! - a function or value of a module (`std::fs::read`): its name as a word
//!   not in method position (`x.read()` is a method call, never this entry;
//!   `write!` is a macro unless spelled with a path, `fs::write!`);
//! - an associated function of a built-in entry's type (`Command::new`):
//!   that name in path position *and* the type's name somewhere (associated
//!   functions cannot be imported, so the type is named at every call);
//! - a method of a tracked type (`Path::exists`): its name *and* a word that
//!   can give a receiver that type (the type's name, a type that derefs to
//!   it, a function known to return it), or a crate field/function/method
//!   whose signature has a tracked type (known once every skeleton is in);
//! - a trait method: its name; an escape hatch: a word with `ambient`,
//!   `from_std` or `into_std`;
//! - any file with a word that some import in the crate binds by renaming
//!   (`use std::fs::read as load;`) passes.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

/// A fast hasher for the words of a file (std's SipHash was a third of
/// the scan): multiply-rotate over 8-byte chunks, as rustc's `FxHasher`.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of words hashed with [`Fx`].
pub(crate) type WordSet = HashSet<String, BuildHasherDefault<Fx>>;

use crate::catalogue::{Index, Kind, builtin, deref_target};
use crate::tree::{raw_at, raw_end};

/// The words of one file's code (comments, strings and chars left out).
#[derive(Default, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Words {
    /// Every identifier-like word.
    pub(crate) all: WordSet,
    /// Words not in method position (not after a single `.`) and not a bare
    /// macro name (`write!`; `fs::write!` counts).
    pub(crate) path: WordSet,
    /// Words in path position only after a capitalised segment
    /// (`Lazy::get`): a type's associated item, unless a module of the
    /// crate has a capitalised name.
    pub(crate) qualified: WordSet,
    /// The file declares a module with a capitalised name.
    pub(crate) upper_mod: bool,
}

fn add(set: &mut WordSet, w: &str) {
    if !set.contains(w) {
        set.insert(w.to_owned());
    }
}

/// A lexed file: its words and the byte ranges of its function bodies
/// (inside the braces).
pub(crate) struct Scan {
    pub(crate) words: Words,
    /// Byte ranges to blank for the skeleton parse: function bodies
    /// (inside the braces) and comments, in order.
    blanks: Vec<(usize, usize)>,
}

/// A code token that matters to the scan.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ident(usize, usize),
    Punct(u8, usize),
}

fn ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Lexes `text` into identifiers and punctuation, skipping comments, string,
/// raw string, byte/C string and char literals (the same rules as the lexer
/// of `tree::plain_comments`).
fn tokens(text: &str, comments: &mut Vec<(usize, usize)>) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                comments.push((start, i));
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                comments.push((start, i.min(b.len())));
            }
            b'"' => {
                out.push(Tok::Punct(b'"', i));
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'\'' => {
                if b.get(i + 1) == Some(&b'\\') {
                    out.push(Tok::Punct(b'"', i));
                    i += 2;
                    while i < b.len() && b[i] != b'\'' && b[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    let next = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                    if b.get(i + 1 + next) == Some(&b'\'') {
                        out.push(Tok::Punct(b'"', i));
                        i += 2 + next;
                    } else {
                        out.push(Tok::Punct(b'\'', i));
                        i += 1;
                    }
                }
            }
            c if ident_byte(c) => {
                let start = i;
                while i < b.len() && ident_byte(b[i]) {
                    i += 1;
                }
                if matches!(&b[start..i], b"r" | b"br" | b"cr")
                    && let Some((hashes, open)) = raw_at(b, i)
                {
                    out.push(Tok::Punct(b'"', start));
                    i = raw_end(b, open, hashes);
                } else if matches!(&b[start..i], b"b" | b"c") && b.get(i) == Some(&b'"') {
                    // `b"…"`, `c"…"`: the string is lexed next.
                } else if b[start].is_ascii_digit() {
                    // A number (`self.0.get()`: `get` is still a method).
                    out.push(Tok::Punct(b'0', start));
                } else {
                    out.push(Tok::Ident(start, i));
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            c => {
                out.push(Tok::Punct(c, i));
                i += 1;
            }
        }
    }
    out
}

/// Keywords after which a word is the name being defined, not a path.
const DEFINING: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "union",
    "trait",
    "type",
    "mod",
    "const",
    "static",
    "macro_rules",
];

/// Scans a file: its code words, and where its function bodies are.
pub(crate) fn scan(text: &str) -> Scan {
    let mut comments = Vec::new();
    let toks = tokens(text, &mut comments);
    let word = |t: &Tok| match *t {
        Tok::Ident(s, e) => Some(&text[s..e]),
        Tok::Punct(..) => None,
    };
    let punct = |t: Option<&Tok>| match t {
        Some(&Tok::Punct(c, _)) => Some(c),
        _ => None,
    };
    let mut words = Words::default();
    let mut bodies = Vec::new();
    let mut skip_to = 0;
    for (k, t) in toks.iter().enumerate() {
        let Some(w) = word(t) else { continue };
        add(&mut words.all, w);
        let before = k.checked_sub(1).and_then(|p| punct(toks.get(p)));
        let before2 = k.checked_sub(2).and_then(|p| punct(toks.get(p)));
        let method = before == Some(b'.') && before2 != Some(b'.');
        let bare_macro = punct(toks.get(k + 1)) == Some(b'!') && before != Some(b':');
        // The name a definition gives (`fn get`) is not a path.
        let defined = k > 0
            && matches!(toks[k - 1], Tok::Ident(s, e) if DEFINING.contains(&&text[s..e]))
            && (k < 2 || punct(toks.get(k - 2)) != Some(b'\''));
        let upper_before = k >= 3
            && before == Some(b':')
            && before2 == Some(b':')
            && matches!(toks[k - 3], Tok::Ident(s, e) if text[s..e].starts_with(char::is_uppercase));
        if k > 0
            && matches!(toks[k - 1], Tok::Ident(s, e) if &text[s..e] == "mod")
            && w.starts_with(char::is_uppercase)
        {
            words.upper_mod = true;
        }
        if !method && !bare_macro && !defined {
            if upper_before {
                add(&mut words.qualified, w);
            } else {
                add(&mut words.path, w);
            }
        }
        if w == "fn"
            && k >= skip_to
            && matches!(toks.get(k + 1), Some(Tok::Ident(..)))
            && let Some(Body(open, close, end, args)) = body_of(&toks, k + 2)
        {
            // Parameters are not part of the skeleton or the facts either.
            bodies.extend(args.filter(|a| a.0 < a.1));
            bodies.push((open + 1, close));
            skip_to = end;
        }
    }
    // Comments inside a body are blanked with it.
    let mut blanks = Vec::with_capacity(bodies.len() + comments.len());
    let mut c = comments.into_iter().peekable();
    let mut end = 0;
    for body in bodies {
        while let Some(&cm) = c.peek() {
            if cm.0 >= body.0 {
                break;
            }
            if cm.0 >= end {
                blanks.push(cm);
                end = cm.1;
            }
            c.next();
        }
        blanks.push(body);
        end = body.1;
        while c.peek().is_some_and(|cm| cm.0 < end) {
            c.next();
        }
    }
    blanks.extend(c.filter(|cm| cm.0 >= end));
    Scan { words, blanks }
}

/// From just after a function's name: the byte offsets of its body's `{`
/// and `}` and the token index after it; `None` for a declaration without a
/// body (`fn f();`) or unbalanced tokens.
/// A function body found by [`body_of`]: the byte offsets of its braces,
/// the token index after it, and the byte range inside its parameter list.
struct Body(usize, usize, usize, Option<(usize, usize)>);

fn body_of(toks: &[Tok], from: usize) -> Option<Body> {
    let mut depth = 0usize;
    let mut k = from;
    // The first parenthesised list at depth 0: the parameters (or, when the
    // generics hold an `Fn(…)` bound, that bound's, which is as harmless).
    let mut args = None;
    let mut args_open = None;
    let open = loop {
        match toks.get(k)? {
            Tok::Punct(c @ (b'(' | b'['), at) => {
                if depth == 0 && *c == b'(' && args.is_none() {
                    args_open = Some(*at);
                }
                depth += 1;
            }
            Tok::Punct(b')' | b']', at) => {
                depth = depth.checked_sub(1)?;
                if depth == 0
                    && args.is_none()
                    && let Some(o) = args_open
                {
                    args = Some((o + 1, *at));
                }
            }
            Tok::Punct(b';', _) if depth == 0 => return None,
            Tok::Punct(b'{', at) if depth == 0 => break *at,
            _ => {}
        }
        k += 1;
    };
    // Every delimiter in the body must match, so that a lexical error
    // (`vec![1, 2;`) is left for the whole parse to report.
    let mut stack = Vec::new();
    while let Some(t) = toks.get(k) {
        if let Tok::Punct(c, at) = *t {
            match c {
                b'{' | b'(' | b'[' => stack.push(c),
                b'}' | b')' | b']' => {
                    let want = match c {
                        b'}' => b'{',
                        b')' => b'(',
                        _ => b'[',
                    };
                    if stack.pop()? != want {
                        return None;
                    }
                    if stack.is_empty() {
                        return Some(Body(open, at, k + 1, args));
                    }
                }
                _ => {}
            }
        }
        k += 1;
    }
    None
}

impl Scan {
    /// `text` without its function bodies' contents and its comments: their
    /// newlines are kept, and one space per character of a range's last
    /// line, so every line and column outside them is unchanged (`mod`
    /// declarations are known by line and column). `None` when there is
    /// neither a body nor a comment.
    pub(crate) fn light_text(&self, text: &str) -> Option<String> {
        if self.blanks.is_empty() {
            return None;
        }
        let b = text.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut at = 0;
        for &(start, end) in &self.blanks {
            out.extend_from_slice(&b[at..start]);
            at = end;
            let range = &b[start..end];
            if range.starts_with(b"//") {
                // A line comment: nothing follows it on its line.
                continue;
            }
            // Only what is on the range's last line needs its width kept
            // (the text after the range continues that line).
            let last_line = match range.iter().rposition(|&c| c == b'\n') {
                Some(nl) => {
                    out.extend(range.iter().copied().filter(|&c| c == b'\n'));
                    &range[nl + 1..]
                }
                None => range,
            };
            // One space per character: a UTF-8 continuation byte adds none.
            out.extend(
                last_line
                    .iter()
                    .filter(|&&c| !(0x80..=0xBF).contains(&c))
                    .map(|_| b' '),
            );
        }
        out.extend_from_slice(&b[at..]);
        String::from_utf8(out).ok()
    }
}

/// The catalogue as the pre-filter reads it.
pub(crate) struct Filter {
    /// Names that count as words in path position.
    path_names: HashSet<String>,
    /// Built-in associated functions: name → the owner types' names.
    owned: HashMap<String, Vec<String>>,
    /// Names that count anywhere (values, trait methods).
    any_names: HashSet<String>,
    /// Methods of tracked types: name → words that can type a receiver.
    methods: HashMap<String, HashSet<String>>,
    /// Functions that return a path type: in path position, they can type
    /// a receiver of the path methods (marked by an empty source word).
    path_returning: HashSet<String>,
}

fn last(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

impl Filter {
    pub(crate) fn new(index: &Index) -> Self {
        let built_in: HashSet<&str> = builtin().iter().map(|a| a.path.as_str()).collect();
        let mut f = Filter {
            path_names: HashSet::new(),
            owned: HashMap::new(),
            any_names: HashSet::new(),
            methods: HashMap::new(),
            path_returning: crate::check::PATH_SOURCES
                .iter()
                .map(|&p| last(p).to_owned())
                .collect(),
        };
        let tracked: Vec<&str> = index
            .apis()
            .iter()
            .filter(|a| a.kind == Kind::Method)
            .map(crate::catalogue::Api::owner)
            .chain(["std::path::PathBuf", "async_std::path::PathBuf"])
            .collect();
        for api in index.apis() {
            let name = api.name().to_owned();
            let owner = last(api.owner());
            match api.kind {
                Kind::Function
                    if built_in.contains(api.path.as_str())
                        && owner.starts_with(char::is_uppercase) =>
                {
                    f.owned.entry(name).or_default().push(owner.to_owned());
                }
                Kind::Function => {
                    f.path_names.insert(name);
                }
                Kind::Value | Kind::TraitMethod => {
                    f.any_names.insert(name);
                }
                Kind::Method => {
                    let ty = api.owner();
                    let sources = f.methods.entry(name).or_default();
                    sources.insert(owner.to_owned());
                    for t in &tracked {
                        if deref_target(t) == Some(ty) {
                            sources.insert(last(t).to_owned());
                        }
                    }
                    if ty.ends_with("::OpenOptions") {
                        sources.insert("File".to_owned());
                    }
                    if ty.ends_with("path::Path") || ty.ends_with("path::PathBuf") {
                        sources.insert(String::new());
                    }
                }
            }
        }
        f
    }

    /// Whether a file with these words may contain a finding, from the
    /// catalogue alone.
    pub(crate) fn intrinsic(&self, w: &Words) -> bool {
        if std::env::var_os("CAP_LINT_DEBUG").is_some() {
            let owned = |x: &String| {
                self.owned
                    .get(x)
                    .is_some_and(|owners| owners.iter().any(|o| w.all.contains(o)))
            };
            let p: Vec<_> = w
                .path
                .iter()
                .filter(|x| self.path_names.contains(*x) || owned(x))
                .collect();
            let q: Vec<_> = w
                .qualified
                .iter()
                .filter(|x| owned(x) || (w.upper_mod && self.path_names.contains(*x)))
                .collect();
            let a: Vec<_> = w
                .all
                .iter()
                .filter(|x| {
                    self.any_names.contains(*x)
                        || x.contains("ambient")
                        || self
                            .methods
                            .get(*x)
                            .is_some_and(|src| src.iter().any(|s| w.all.contains(s)))
                })
                .collect();
            eprintln!("why {p:?} {q:?} {a:?}");
        }
        let owned = |x: &String| {
            self.owned
                .get(x)
                .is_some_and(|owners| owners.iter().any(|o| w.all.contains(o)))
        };
        w.path
            .iter()
            .any(|x| self.path_names.contains(x) || owned(x))
            || w.qualified
                .iter()
                .any(|x| owned(x) || (w.upper_mod && self.path_names.contains(x)))
            || w.all.iter().any(|x| {
                self.any_names.contains(x)
                    || x.contains("ambient")
                    || x == "from_std"
                    || x == "into_std"
                    || self.methods.get(x).is_some_and(|src| {
                        src.iter().any(|s| w.all.contains(s))
                            || (src.contains("")
                                && w.path.iter().any(|p| self.path_returning.contains(p)))
                    })
            })
    }

    /// Whether a file the catalogue alone lets through needs the whole
    /// parse after all, given the crate's renaming-import names and the
    /// names of its fields, functions and methods whose type is tracked.
    pub(crate) fn with_crate(
        &self,
        w: &Words,
        aliases: &HashSet<String>,
        typed: &HashSet<String>,
        upper_modules: bool,
    ) -> bool {
        w.all.iter().any(|x| aliases.contains(x))
            || (upper_modules && w.qualified.iter().any(|x| self.path_names.contains(x)))
            || (w.all.iter().any(|x| self.methods.contains_key(x))
                && w.all.iter().any(|x| typed.contains(x)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> (Vec<String>, Vec<String>) {
        let s = scan(src);
        let mut all: Vec<_> = s.words.all.into_iter().collect();
        let mut path: Vec<_> = s.words.path.into_iter().collect();
        all.sort();
        path.sort();
        (all, path)
    }

    #[test]
    fn comments_and_literals_are_not_words_and_methods_are_not_paths() {
        let (all, path) = words(
            "// read\n/* open /* nested */ write */ let s = \"read\"; let r = r#\"open\"#; \
             let c = '\"'; x.get(); 0..put(); write!(f); fs::write!(); b\"exec\"; 'a: loop {}",
        );
        assert_eq!(
            all,
            [
                "a", "c", "f", "fs", "get", "let", "loop", "put", "r", "s", "write", "x"
            ]
        );
        assert!(!path.contains(&"get".to_owned()), "a method call");
        assert!(path.contains(&"put".to_owned()), "after `..` a path");
        assert!(path.contains(&"write".to_owned()), "`fs::write!` counts");
        let (_, path) = words("write!(f, \"x\")");
        assert!(!path.contains(&"write".to_owned()), "a bare macro name");
    }

    #[test]
    fn bodies_are_blanked_and_positions_kept() {
        let src = "/// doc é /* x */\nfn f(x: [u8; 2]) -> u8 { let é = '{'; { x[0] } }\nmod m; fn g();\n\
                   trait T { fn h() { 1 } }\nfn k() {\n  \"}\"\n} mod n;";
        let s = scan(src);
        let light = s.light_text(src).unwrap();
        let body = " ".repeat(" let é = '{'; { x[0] } ".chars().count());
        let expect = format!(
            "\nfn f(          ) -> u8 {{{body}}}\nmod m; fn g();\n\
             trait T {{ fn h() {{   }} }}\nfn k() {{\n\n}} mod n;"
        );
        assert_eq!(light, expect);
        assert_eq!(light.lines().count(), src.lines().count());
        // Every `mod` keeps its line and column.
        let mods = |t: &str| -> Vec<(usize, usize)> {
            t.lines()
                .enumerate()
                .flat_map(|(i, l)| {
                    l.match_indices("mod ")
                        .map(move |(at, _)| (i, l[..at].chars().count()))
                })
                .collect()
        };
        assert_eq!(mods(&light), mods(src));
        assert_eq!(mods(src).len(), 2);
        assert!(syn::parse_file(&light).is_ok());
    }

    #[test]
    fn rules() {
        let f = Filter::new(&Index::builtin());
        let pass = |src: &str| f.intrinsic(&scan(src).words);
        assert!(pass("fn f() { std::fs::read(\"x\"); }"));
        assert!(pass("use std::fs::read;"));
        assert!(!pass("fn f(v: &[u8]) -> Option<&u8> { v.get(0) }"));
        assert!(!pass("fn f() -> Vec<u8> { Vec::new() }"));
        assert!(pass("fn f() { Command::new(\"ls\"); }"));
        assert!(!pass("fn f(p: Wrapper) -> bool { p.exists() }"));
        assert!(pass("fn f(p: &Path) -> bool { p.exists() }"));
        assert!(pass(
            "fn f() { let _ = std::env::current_dir().unwrap().exists(); }"
        ));
        assert!(pass("fn f(c: &mut C) { c.exec(); }"));
        assert!(!pass("fn f(x: &mut X) { x.canonicalize(); x.0.get(); }"));
        assert!(pass("fn f() { 0..put(); }"));
        assert!(pass("fn f() { let a = ambient_authority(); }"));
        let mut aliases = HashSet::new();
        aliases.insert("load".to_owned());
        let w = scan("fn f() { crate::a::load(); }").words;
        assert!(!f.intrinsic(&w));
        assert!(f.with_crate(&w, &aliases, &HashSet::new(), false));
        let mut typed = HashSet::new();
        typed.insert("root".to_owned());
        let w = scan("fn f(s: &S) -> bool { s.root.exists() }").words;
        assert!(!f.intrinsic(&w));
        assert!(f.with_crate(&w, &HashSet::new(), &typed, false));
        // `Lazy::get` is a type's function unless a module is capitalised.
        let w = scan("fn f() { Lazy::get(&X); }").words;
        assert!(!f.intrinsic(&w));
        assert!(!f.with_crate(&w, &HashSet::new(), &HashSet::new(), false));
        assert!(f.with_crate(&w, &HashSet::new(), &HashSet::new(), true));
        assert!(pass(
            "mod Http { pub use reqwest::*; }\nfn f() { Http::get(\"u\"); }"
        ));
        assert!(pass("fn f() { Command::new(\"ls\"); }"));
    }
}
