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
}

/// A `use` target as written: segments, possibly starting with `crate`,
/// `self`, `super`, `$crate` or `::` (for a leading `::`).
pub(crate) type UsePath = Vec<String>;

/// The names a module or block binds.
#[derive(Default, Debug)]
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
}

/// The parts of a parsed file that the module tree needs: plain data, so it
/// can be sent from the thread that parsed the file.
#[derive(Default, Debug)]
pub(crate) struct Skeleton {
    bindings: Bindings,
    mods: Vec<ModDecl>,
}

#[derive(Debug)]
struct ModDecl {
    name: String,
    /// Line and column of the module's name (with the file, its key).
    key: (usize, usize),
    path_attr: Option<String>,
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
            }],
            files: Vec::new(),
            mod_items: HashMap::new(),
            aliases: HashSet::new(),
            child_dirs: HashMap::new(),
            follow_files,
        };
        let dir = root.parent().unwrap_or(Path::new(".")).to_path_buf();
        tree.register(root, 0, dir);
        tree
    }

    /// The same tree with no files (for a root already checked elsewhere).
    pub(crate) fn without_files(mut self) -> Self {
        self.files.clear();
        self
    }

    fn register(&mut self, path: &Path, module: ModId, child_dir: PathBuf) -> usize {
        let index = self.files.len();
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
            let id = self.modules.len();
            self.modules.push(Module {
                parent: Some(module),
                bindings: Bindings::default(),
                children: HashMap::new(),
            });
            self.modules[module].children.insert(m.name.clone(), id);
            self.mod_items.insert((file, m.key.0, m.key.1), id);
            if let Some(inner) = m.inline {
                let child_dir = match &m.path_attr {
                    Some(p) => dir.join(p),
                    None => dir.join(&m.name),
                };
                self.collect_module(file, file_path, id, inner, &child_dir, skip, pending);
            } else if self.follow_files {
                let candidates = match &m.path_attr {
                    Some(p) => vec![file_path.parent().unwrap_or(Path::new(".")).join(p)],
                    None => vec![
                        dir.join(format!("{}.rs", m.name)),
                        dir.join(&m.name).join("mod.rs"),
                    ],
                };
                let Some(found) = candidates.into_iter().find(|c| c.is_file()) else {
                    continue;
                };
                if self.files.iter().any(|f| f.path == found) || skip(&found) {
                    continue;
                }
                let child_dir =
                    if found.file_name().is_some_and(|f| f == "mod.rs") || m.path_attr.is_some() {
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
}

/// Parses a file's text into its syntax tree, or the parse error.
pub(crate) fn parse(text: &str) -> Result<syn::File, FileError> {
    syn::parse_file(text).map_err(|e| {
        let start = e.span().start();
        FileError {
            line: start.line,
            column: start.column + 1,
            message: e.to_string(),
        }
    })
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
