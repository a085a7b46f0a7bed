//! A crate's module tree: its files (following `mod x;` declarations) and, per
//! module, the names it binds (`use` imports, `extern crate`, local items).
//!
//! This is what lets the checker resolve `crate::util::load` through a
//! `pub use std::fs::read as load;` in another file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// An index into [`CrateTree::modules`].
pub(crate) type ModId = usize;

/// A source file of the crate. Its syntax tree lives on the worker thread
/// that parsed it (syntax trees cannot cross threads); this is the rest.
pub(crate) struct SourceFile {
    /// The path as given (joined from the crate root).
    pub(crate) path: PathBuf,
    /// The full text.
    pub(crate) text: String,
    /// Why the file was not analysed, if it was not.
    pub(crate) error: Option<FileError>,
    /// The module this file is the body of.
    pub(crate) module: ModId,
}

/// Why a file was not analysed.
#[derive(Clone, Debug)]
pub(crate) struct FileError {
    /// 1-based line of the error (0 if unknown).
    pub(crate) line: usize,
    /// 1-based column of the error (0 if unknown).
    pub(crate) column: usize,
    /// The parser's or the OS's message.
    pub(crate) message: String,
    /// The file is a declared module's file that does not exist.
    pub(crate) missing: bool,
}

impl FileError {
    /// An error with no position.
    pub(crate) fn whole_file(message: String) -> Self {
        FileError {
            line: 0,
            column: 0,
            message,
            missing: false,
        }
    }
}

/// A `use` target as written: segments, possibly starting with `crate`,
/// `self`, `super`, `$crate` or `::` (for a leading `::`).
pub(crate) type UsePath = Vec<String>;

/// The names a module or block binds.
#[derive(Default, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Bindings {
    /// Items defined here (fns, types, consts, traits, macros...), by name.
    pub(crate) items: HashSet<String>,
    /// Named imports: `use a::b as c;` binds `c` to `a::b`.
    pub(crate) uses: HashMap<String, UsePath>,
    /// Glob imports: `use a::b::*;`.
    pub(crate) globs: Vec<UsePath>,
    /// Imports without a usable name (`use Trait as _;`): only bring traits in scope.
    pub(crate) anonymous: Vec<UsePath>,
}

impl Bindings {
    /// Records what `items` bind (non-module items and imports; modules are
    /// recorded by the caller, which knows their ids).
    pub(crate) fn collect<'a>(&mut self, items: impl IntoIterator<Item = &'a syn::Item>) {
        for item in items {
            match item {
                syn::Item::Use(u) => {
                    self.add_use_tree(&mut Vec::new(), &u.tree, u.leading_colon.is_some());
                }
                syn::Item::ExternCrate(e) => {
                    let name = e.rename.as_ref().map_or(&e.ident, |(_, r)| r).to_string();
                    if name != "_" {
                        let target = if e.ident == "self" {
                            vec!["crate".to_owned()]
                        } else {
                            vec!["::".to_owned(), e.ident.to_string()]
                        };
                        self.uses.insert(name, target);
                    }
                }
                other => {
                    if let Some(name) = item_name(other) {
                        self.items.insert(name);
                    }
                }
            }
        }
    }

    fn add_use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, leading_colon: bool) {
        let start = |prefix: &Vec<String>| {
            let mut p = Vec::with_capacity(prefix.len() + 2);
            if leading_colon {
                p.push("::".to_owned());
            }
            p.extend(prefix.iter().cloned());
            p
        };
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.add_use_tree(prefix, &p.tree, leading_colon);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut target = start(prefix);
                let name = n.ident.to_string();
                if name == "self" {
                    // `use a::b::{self}` binds `b`.
                    if let Some(last) = prefix.last() {
                        self.uses.insert(last.clone(), target);
                    }
                } else {
                    target.push(name.clone());
                    self.uses.insert(name, target);
                }
            }
            syn::UseTree::Rename(r) => {
                let mut target = start(prefix);
                if r.ident != "self" {
                    target.push(r.ident.to_string());
                }
                if r.rename == "_" {
                    self.anonymous.push(target);
                } else {
                    self.uses.insert(r.rename.to_string(), target);
                }
            }
            syn::UseTree::Glob(_) => self.globs.push(start(prefix)),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.add_use_tree(prefix, t, leading_colon);
                }
            }
        }
    }
}

/// The name an item binds in the type or value namespace, if any.
pub(crate) fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Mod(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// One module of the crate.
#[derive(Debug)]
pub(crate) struct Module {
    /// The enclosing module (`None` for the crate root).
    pub(crate) parent: Option<ModId>,
    /// What the module binds.
    pub(crate) bindings: Bindings,
    /// Child modules by name.
    pub(crate) children: HashMap<String, ModId>,
    /// Whether the module is test code (`#[cfg(test)] mod tests;`, or inside such a module).
    pub(crate) test: bool,
}

/// The parts of a parsed file that the module tree needs: plain data, so it
/// can be sent from the thread that parsed the file.
#[derive(Default, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Skeleton {
    bindings: Bindings,
    mods: Vec<ModDecl>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ModDecl {
    name: String,
    /// Line and column of the module's name (with the file, its key).
    key: (usize, usize),
    /// `#[path = "…"]`, if any.
    path_attr: Option<String>,
    /// The paths of `#[cfg_attr(…, path = "…")]`, every branch.
    cfg_paths: Vec<String>,
    /// Whether the declaration is test code (`#[cfg(test)]`).
    test: bool,
    inline: Option<Skeleton>,
}

impl Bindings {
    fn extend(&mut self, other: Bindings) {
        self.items.extend(other.items);
        self.uses.extend(other.uses);
        self.globs.extend(other.globs);
        self.anonymous.extend(other.anonymous);
    }
}

/// The skeleton of a list of items (a file, or an inline module's body).
pub(crate) fn skeleton(items: &[syn::Item]) -> Skeleton {
    let mut sk = Skeleton::default();
    sk.bindings.collect(items);
    for item in items {
        match item {
            syn::Item::Macro(mac) => {
                // `cfg_fs! { pub mod fs; }`: items wrapped in a macro call
                // (tokio's style) are items of this module as far as we can tell.
                if let Some(inner) = macro_items(mac) {
                    let inner = skeleton(&inner);
                    sk.bindings.extend(inner.bindings);
                    sk.mods.extend(inner.mods);
                }
            }
            syn::Item::Mod(m) => {
                let start = m.ident.span().start();
                sk.mods.push(ModDecl {
                    name: m.ident.to_string(),
                    key: (start.line, start.column),
                    path_attr: path_attr(&m.attrs),
                    cfg_paths: m.attrs.iter().flat_map(cfg_attr_paths).collect(),
                    test: m.attrs.iter().any(crate::check::is_test_attr),
                    inline: m.content.as_ref().map(|(_, items)| skeleton(items)),
                });
            }
            _ => {}
        }
    }
    sk
}

/// A file reached through a `mod x;` declaration, to be read and parsed.
pub(crate) struct Pending {
    /// Its index in [`CrateTree::files`].
    pub(crate) file: usize,
    /// Its path.
    pub(crate) path: PathBuf,
}

/// A crate: its modules and files.
pub(crate) struct CrateTree {
    /// Modules; index 0 is the crate root.
    pub(crate) modules: Vec<Module>,
    /// Files, in the order they were reached.
    pub(crate) files: Vec<SourceFile>,
    /// Inline and out-of-line `mod` items, keyed by (file index, line, column of
    /// the `mod` name), to the module they declare.
    pub(crate) mod_items: HashMap<(usize, usize, usize), ModId>,
    /// Names bound by renaming imports anywhere in the crate.
    pub(crate) aliases: HashSet<String>,
    /// Where each file's child modules live (`mod x;` → `dir/x.rs`).
    child_dirs: HashMap<usize, PathBuf>,
    /// Whether `mod x;` declarations are followed to files.
    follow_files: bool,
    /// The paths in `files`.
    known: HashSet<PathBuf>,
}

impl CrateTree {
    /// An empty tree whose root file is `root` (index 0, module 0).
    /// `follow_files` says whether `mod x;` declarations are followed.
    pub(crate) fn new(root: &Path, follow_files: bool) -> Self {
        let mut tree = CrateTree {
            modules: vec![Module {
                parent: None,
                bindings: Bindings::default(),
                children: HashMap::new(),
                test: false,
            }],
            files: Vec::new(),
            mod_items: HashMap::new(),
            aliases: HashSet::new(),
            child_dirs: HashMap::new(),
            follow_files,
            known: HashSet::new(),
        };
        let dir = root.parent().unwrap_or(Path::new(".")).to_path_buf();
        tree.register(root, 0, dir);
        tree
    }

    /// A hash of what checking one file can learn from the others: every
    /// module's bindings, children and test flag, the files (path, module,
    /// whether and why not analysed) and the renaming imports; not where in
    /// a file a `mod` item is (only that file's own check reads that).
    /// Independent of the maps' order.
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        fn sorted<T: Ord>(it: impl Iterator<Item = T>) -> Vec<T> {
            let mut v: Vec<T> = it.collect();
            v.sort();
            v
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.follow_files.hash(&mut h);
        for m in &self.modules {
            m.parent.hash(&mut h);
            m.test.hash(&mut h);
            sorted(m.bindings.items.iter()).hash(&mut h);
            sorted(m.bindings.uses.iter()).hash(&mut h);
            m.bindings.globs.hash(&mut h);
            m.bindings.anonymous.hash(&mut h);
            sorted(m.children.iter()).hash(&mut h);
        }
        for f in &self.files {
            f.path.hash(&mut h);
            f.module.hash(&mut h);
            f.error
                .as_ref()
                .map(|e| (e.missing, &e.message))
                .hash(&mut h);
        }
        sorted(self.aliases.iter()).hash(&mut h);
        h.finish()
    }

    /// The same tree with no files (for a root already checked elsewhere).
    pub(crate) fn without_files(mut self) -> Self {
        self.files.clear();
        self
    }

    fn register(&mut self, path: &Path, module: ModId, child_dir: PathBuf) -> usize {
        let index = self.files.len();
        self.known.insert(path.to_path_buf());
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            text: String::new(),
            error: None,
            module,
        });
        self.child_dirs.insert(index, child_dir);
        index
    }

    /// Records a parsed file: its text and skeleton (or why it has none).
    /// Returns the files its `mod` declarations reach that are new and not
    /// claimed by `skip`, already registered.
    pub(crate) fn add_parsed(
        &mut self,
        file: usize,
        text: String,
        result: Result<Skeleton, FileError>,
        skip: &dyn Fn(&Path) -> bool,
    ) -> Vec<Pending> {
        self.files[file].text = text;
        let mut pending = Vec::new();
        match result {
            Ok(sk) => {
                let module = self.files[file].module;
                let dir = self.child_dirs.get(&file).cloned().unwrap_or_default();
                let path = self.files[file].path.clone();
                self.collect_module(file, &path, module, sk, &dir, skip, &mut pending);
            }
            Err(e) => self.files[file].error = Some(e),
        }
        pending
    }

    #[allow(clippy::too_many_arguments)]
    fn collect_module(
        &mut self,
        file: usize,
        file_path: &Path,
        module: ModId,
        sk: Skeleton,
        dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
        pending: &mut Vec<Pending>,
    ) {
        for (name, target) in &sk.bindings.uses {
            if target.last() != Some(name) {
                self.aliases.insert(name.clone());
            }
        }
        self.modules[module].bindings.extend(sk.bindings);
        for m in sk.mods {
            // The same name declared again in this module (by another
            // `cfg_attr` variant of the module's file, or under another
            // `#[cfg]`) is the same module: its items are added to it, as
            // every variant's file is, rather than one hiding the other.
            let id = if let Some(&existing) = self.modules[module].children.get(&m.name) {
                existing
            } else {
                let id = self.modules.len();
                let test = m.test || self.modules[module].test;
                self.modules.push(Module {
                    parent: Some(module),
                    bindings: Bindings::default(),
                    children: HashMap::new(),
                    test,
                });
                self.modules[module].children.insert(m.name.clone(), id);
                id
            };
            self.mod_items.insert((file, m.key.0, m.key.1), id);
            if let Some(inner) = m.inline {
                let child_dir = match &m.path_attr {
                    Some(p) => dir.join(p),
                    None => dir.join(&m.name),
                };
                self.collect_module(file, file_path, id, inner, &child_dir, skip, pending);
            } else if self.follow_files {
                self.follow_mod(file_path, id, &m, dir, skip, pending);
            }
        }
    }

    /// Finds the file(s) of `mod name;`: the `#[path]` one, or each branch
    /// of `#[cfg_attr(…, path = …)]` and the default `name.rs` /
    /// `name/mod.rs` (the file when no branch applies). A file that must exist
    /// and does not is registered as not analysed.
    fn follow_mod(
        &mut self,
        file_path: &Path,
        id: ModId,
        m: &ModDecl,
        dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
        pending: &mut Vec<Pending>,
    ) {
        let here = file_path.parent().unwrap_or(Path::new("."));
        let default = [
            dir.join(format!("{}.rs", m.name)),
            dir.join(&m.name).join("mod.rs"),
        ];
        // (candidates for one variant, whether the variant must exist)
        let mut variants: Vec<(Vec<PathBuf>, bool)> = Vec::new();
        if let Some(p) = &m.path_attr {
            variants.push((vec![here.join(p)], true));
        } else {
            for p in &m.cfg_paths {
                variants.push((vec![here.join(p)], true));
            }
            // Without cfg_attr paths the default file must exist; with them it
            // is the file for when no branch applies, often never.
            variants.push((default.to_vec(), m.cfg_paths.is_empty()));
        }
        for (candidates, required) in variants {
            let Some(found) = candidates.iter().find(|c| c.is_file()).cloned() else {
                if required && !self.known.contains(&candidates[0]) && !skip(&candidates[0]) {
                    let tried: Vec<String> =
                        candidates.iter().map(|c| c.display().to_string()).collect();
                    let index = self.register(&candidates[0], id, PathBuf::new());
                    self.files[index].error = Some(FileError {
                        missing: true,
                        ..FileError::whole_file(format!(
                            "the file of `mod {};` was not found (tried {})",
                            m.name,
                            tried.join(", ")
                        ))
                    });
                }
                continue;
            };
            if self.known.contains(&found) || skip(&found) {
                continue;
            }
            let child_dir = if found.file_name().is_some_and(|f| f == "mod.rs")
                || m.path_attr.is_some()
                || found != default[0]
            {
                found.parent().unwrap_or(Path::new(".")).to_path_buf()
            } else {
                dir.join(&m.name)
            };
            let index = self.register(&found, id, child_dir);
            pending.push(Pending {
                file: index,
                path: found,
            });
        }
    }
}

/// Parses a file's text into its syntax tree, or the parse error. When the
/// text does not even lex (an unbalanced delimiter, an unterminated string),
/// the error names the culprit the way rustc does, rather than proc-macro2's
/// "cannot parse string into token stream".
pub(crate) fn parse(text: &str) -> Result<syn::File, FileError> {
    // Doc comments are the bulk of a well-documented crate's attributes, and
    // syn turns each into a `#[doc = "…"]` literal it escapes and unescapes
    // (about a fifth of the parse). The checker never reads them, so they are
    // parsed as plain comments: same bytes, spans unchanged. Should the plain
    // text not parse, the original is parsed again for the error's sake.
    if let Some(plain) = plain_comments(text)
        && let Ok(file) = syn::parse_file(&plain)
    {
        return Ok(file);
    }
    syn::parse_file(text).map_err(|e| {
        let start = e.span().start();
        let lexical = e
            .to_string()
            .contains("cannot parse string into token stream");
        if lexical && let Some(d) = lex_error(text) {
            return d;
        }
        FileError {
            line: start.line,
            column: start.column + 1,
            message: e.to_string(),
            missing: false,
        }
    })
}

/// `text` with every doc comment (`///`, `//!`, `/** */`, `/*! */`) made a
/// plain comment by overwriting its third character with a space, or `None`
/// when it has none. Only ASCII bytes are replaced, so byte offsets, lines
/// and character columns stay those of `text`. Strings, raw strings, byte and
/// C strings and char literals are skipped so their contents are never
/// touched.
pub(crate) fn plain_comments(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut edits = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let third = b.get(i + 2).copied();
                if third == Some(b'!') || (third == Some(b'/') && b.get(i + 3) != Some(&b'/')) {
                    edits.push(i + 2);
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let third = b.get(i + 2).copied();
                let fourth = b.get(i + 3).copied();
                if third == Some(b'!')
                    || (third == Some(b'*') && fourth != Some(b'*') && fourth != Some(b'/'))
                {
                    edits.push(i + 2);
                }
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
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' && b[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    let next = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                    if b.get(i + 1 + next) == Some(&b'\'') {
                        i += 2 + next;
                    } else {
                        i += 1;
                    }
                }
            }
            c if ident(c) => {
                let start = i;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                // `r"…"`, `br#"…"#`, `cr"…"`: the raw string starts after the prefix.
                if matches!(&b[start..i], b"r" | b"br" | b"cr") && raw_at(b, i).is_some() {
                    let (hashes, open) = raw_at(b, i).unwrap_or_default();
                    i = raw_end(b, open, hashes);
                }
            }
            _ => i += 1,
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = b.to_vec();
    for e in edits {
        out[e] = b' ';
    }
    String::from_utf8(out).ok()
}

/// At `i`, just after a raw string's `r`: the number of `#`s and the index
/// of the opening quote, if a raw string starts there.
pub(crate) fn raw_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((j - i, j))
}

/// The index just past the raw string whose opening quote is at `open`
/// and whose delimiter has `hashes` `#` (the end of `b` if it is not
/// closed).
pub(crate) fn raw_end(b: &[u8], open: usize, hashes: usize) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&h| h == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// Finds the first lexical error of `text`: an unclosed, unexpected or
/// mismatched delimiter, or an unterminated string, block comment or char.
/// Positions are 1-based lines and character columns.
fn lex_error(text: &str) -> Option<FileError> {
    let chars: Vec<char> = text.chars().collect();
    let mut line_of = Vec::with_capacity(chars.len() + 1);
    let (mut line, mut col) = (1, 1);
    for &c in &chars {
        line_of.push((line, col));
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    line_of.push((line, col));
    let err = |at: usize, message: String| {
        let (line, column) = line_of[at.min(line_of.len() - 1)];
        Some(FileError {
            line,
            column,
            message,
            missing: false,
        })
    };
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let start = i;
                let mut depth = 0;
                loop {
                    if i >= chars.len() {
                        return err(start, "unterminated block comment".to_owned());
                    }
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            'r' | 'b' | 'c'
                if (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
                    && raw_string_start(&chars, i).is_some() =>
            {
                let (hashes, body) = raw_string_start(&chars, i).unwrap_or((0, i));
                let start = i;
                i = body;
                loop {
                    if i >= chars.len() {
                        return err(start, "unterminated raw string".to_owned());
                    }
                    if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                        i += hashes + 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            '"' => {
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err(start, "unterminated double quote string".to_owned()),
                        Some('\\') => i += 2,
                        Some('"') => break,
                        Some(_) => i += 1,
                    }
                }
            }
            '\'' => {
                // A char literal ('a', '\n', '\u{..}') or a lifetime ('a).
                if at(i + 1) == '\\' {
                    let start = i;
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' && chars[i] != '\n' {
                        i += 1;
                    }
                    if at(i) != '\'' {
                        return err(start, "unterminated character literal".to_owned());
                    }
                } else if at(i + 2) == '\'' {
                    i += 2;
                }
            }
            '(' | '[' | '{' => open.push((c, i)),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match open.pop() {
                    None => return err(i, format!("unexpected closing delimiter: `{c}`")),
                    Some((o, _)) if o == want => {}
                    Some((o, at_open)) => {
                        let (l, cl) = line_of[at_open];
                        return err(
                            i,
                            format!(
                                "mismatched closing delimiter: `{c}` (the `{o}` it closes was opened at {l}:{cl})"
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let (o, at_open) = open.pop()?;
    let (l, cl) = line_of[at_open];
    err(
        chars.len(),
        format!("this file contains an unclosed delimiter: `{o}` opened at {l}:{cl}"),
    )
}

/// If a raw (byte/C) string starts at `i` (`r"`, `r#"`, `br"`, `cr##"`),
/// the number of `#` and the index of its first character.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((hashes, j + 1))
}

/// The value of a `#[path = "..."]` attribute.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("path") {
            return None;
        }
        let syn::Meta::NameValue(nv) = &a.meta else {
            return None;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
        else {
            return None;
        };
        Some(s.value())
    })
}

/// The `path = "…"` values of a `#[cfg_attr(pred, attr, …)]`, in every
/// branch (nested `cfg_attr` included), whatever the predicate.
fn cfg_attr_paths(attr: &syn::Attribute) -> Vec<String> {
    fn of_meta(meta: &syn::Meta, out: &mut Vec<String>) {
        match meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("path") => {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    out.push(s.value());
                }
            }
            syn::Meta::List(l) if l.path.is_ident("cfg_attr") => {
                let parser =
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated;
                if let Ok(items) = l.parse_args_with(parser) {
                    // The first item is the predicate.
                    for m in items.iter().skip(1) {
                        of_meta(m, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    of_meta(&attr.meta, &mut out);
    out
}

/// The items inside an item-position macro call whose body is a list of items
/// (not `macro_rules!`, whose body is patterns).
pub(crate) fn macro_items(mac: &syn::ItemMacro) -> Option<Vec<syn::Item>> {
    if mac.ident.is_some() || mac.mac.path.is_ident("macro_rules") || mac.mac.tokens.is_empty() {
        return None;
    }
    mac.mac
        .parse_body_with(|input: syn::parse::ParseStream<'_>| {
            let mut items = Vec::new();
            while !input.is_empty() {
                items.push(input.parse::<syn::Item>()?);
            }
            Ok(items)
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::plain_comments;

    #[test]
    fn doc_comments_become_plain_and_nothing_else_moves() {
        let text = "//! crate doc\n/// item doc\n//// plain\n/** block */ /*! inner */ /**/ /*** x */\nfn f<'a>(x: &'a str) -> [&'a str; 4] {\n    let _c = '\"'; let _q = b'/';\n    [\"/// not a comment\", r#\"//! \"raw\" \"#, br\"/** b\", x]\n}\n";
        let plain = plain_comments(text).expect("has doc comments");
        assert_eq!(plain.len(), text.len());
        assert_eq!(
            plain,
            "//  crate doc\n//  item doc\n//// plain\n/*  block */ /*  inner */ /**/ /*** x */\nfn f<'a>(x: &'a str) -> [&'a str; 4] {\n    let _c = '\"'; let _q = b'/';\n    [\"/// not a comment\", r#\"//! \"raw\" \"#, br\"/** b\", x]\n}\n"
        );
        assert!(syn::parse_file(&plain).is_ok());
        assert_eq!(plain_comments("fn f() {} // plain\n"), None);
    }

    #[test]
    fn findings_after_doc_comments_keep_their_position() {
        let src = "//! Crate — doc with ünïcode\n/// Reads.\n/** Block doc. */\npub fn f() {\n    /// Doc on a statement.\n    let _ = std::fs::read(\"x\");\n}\n";
        let a = crate::check_source("doc.rs", src, &crate::catalogue::Index::builtin());
        assert_eq!(a.findings.len(), 1, "{:?}", a.findings);
        assert_eq!(a.findings[0].api, "std::fs::read");
        assert_eq!(a.findings[0].span.start.line, 6);
        assert_eq!(a.findings[0].span.start.column, 13);
    }
}
