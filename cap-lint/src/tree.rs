//! A crate's module tree: its files (following `mod x;` declarations) and, per
//! module, the names it binds (`use` imports, `extern crate`, local items).
//!
//! This is what lets the checker resolve `crate::util::load` through a
//! `pub use std::fs::read as load;` in another file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// An index into [`CrateTree::modules`].
pub(crate) type ModId = usize;

/// A source file of the crate and its parse result.
pub(crate) struct SourceFile {
    /// The path as given (joined from the crate root).
    pub(crate) path: PathBuf,
    /// The full text.
    pub(crate) text: String,
    /// The syntax tree, or why there is none.
    pub(crate) ast: Result<syn::File, FileError>,
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

/// A crate: its modules and files.
pub(crate) struct CrateTree {
    /// Modules; index 0 is the crate root.
    pub(crate) modules: Vec<Module>,
    /// Files, in the order they were reached.
    pub(crate) files: Vec<SourceFile>,
    /// Inline and out-of-line `mod` items, keyed by (file index, line, column of
    /// the `mod` name), to the module they declare.
    pub(crate) mod_items: HashMap<(usize, usize, usize), ModId>,
    /// Whether `mod x;` declarations are followed to files.
    follow_files: bool,
    /// Names bound by renaming imports anywhere in the crate.
    pub(crate) aliases: HashSet<String>,
}

impl CrateTree {
    /// Loads the crate whose root file is `root`, following `mod` declarations
    /// (including those under any `cfg`). `skip` says which files were already
    /// analysed as part of another crate and are not to be loaded again.
    pub(crate) fn load(root: &Path, skip: &dyn Fn(&Path) -> bool) -> Self {
        let mut tree = CrateTree {
            modules: Vec::new(),
            files: Vec::new(),
            mod_items: HashMap::new(),
            follow_files: true,
            aliases: HashSet::new(),
        };
        tree.modules.push(Module {
            parent: None,
            bindings: Bindings::default(),
            children: HashMap::new(),
        });
        let dir = root.parent().unwrap_or(Path::new(".")).to_path_buf();
        tree.load_file(root, 0, &dir, skip);
        tree
    }

    /// Builds a tree from one source text (used by tests and for single files).
    pub(crate) fn from_source(path: &Path, text: String) -> Self {
        let mut tree = CrateTree {
            modules: Vec::new(),
            files: Vec::new(),
            mod_items: HashMap::new(),
            follow_files: false,
            aliases: HashSet::new(),
        };
        tree.modules.push(Module {
            parent: None,
            bindings: Bindings::default(),
            children: HashMap::new(),
        });
        tree.add_file(path, Ok(text), 0, Path::new(""), &|_| true);
        tree
    }

    fn load_file(
        &mut self,
        path: &Path,
        module: ModId,
        child_dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
    ) {
        if self.files.iter().any(|f| f.path == path) || skip(path) {
            return;
        }
        let text = std::fs::read_to_string(path);
        self.add_file(path, text, module, child_dir, skip);
    }

    fn add_file(
        &mut self,
        path: &Path,
        text: std::io::Result<String>,
        module: ModId,
        child_dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
    ) {
        let (text, ast) = match text {
            Ok(text) => {
                let ast = syn::parse_file(&text).map_err(|e| {
                    let start = e.span().start();
                    FileError {
                        line: start.line,
                        column: start.column + 1,
                        message: e.to_string(),
                    }
                });
                (text, ast)
            }
            Err(e) => (
                String::new(),
                Err(FileError {
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                }),
            ),
        };
        let index = self.files.len();
        let placeholder = Err(FileError {
            line: 0,
            column: 0,
            message: String::new(),
        });
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            text,
            ast: placeholder,
            module,
        });
        if let Ok(file) = &ast {
            self.collect_module(index, path, module, &file.items, child_dir, skip);
        }
        self.files[index].ast = ast;
    }

    fn collect_module(
        &mut self,
        file: usize,
        file_path: &Path,
        module: ModId,
        items: &[syn::Item],
        dir: &Path,
        skip: &dyn Fn(&Path) -> bool,
    ) {
        self.modules[module].bindings.collect(items);
        for (name, target) in &self.modules[module].bindings.uses {
            if target.last() != Some(name) {
                self.aliases.insert(name.clone());
            }
        }
        for item in items {
            if let syn::Item::Macro(mac) = item {
                // `cfg_fs! { pub mod fs; }`: items wrapped in a macro call
                // (tokio's style) are items of this module as far as we can tell.
                if let Some(inner) = macro_items(mac) {
                    self.collect_module(file, file_path, module, &inner, dir, skip);
                }
                continue;
            }
            let syn::Item::Mod(m) = item else { continue };
            let name = m.ident.to_string();
            let id = self.modules.len();
            self.modules.push(Module {
                parent: Some(module),
                bindings: Bindings::default(),
                children: HashMap::new(),
            });
            self.modules[module].children.insert(name.clone(), id);
            let start = m.ident.span().start();
            self.mod_items.insert((file, start.line, start.column), id);
            let explicit = path_attr(&m.attrs);
            if let Some((_, content)) = &m.content {
                let child_dir = match &explicit {
                    Some(p) => dir.join(p),
                    None => dir.join(&name),
                };
                self.collect_module(file, file_path, id, content, &child_dir, skip);
            } else if self.follow_files {
                let candidates = match &explicit {
                    Some(p) => vec![file_path.parent().unwrap_or(Path::new(".")).join(p)],
                    None => vec![
                        dir.join(format!("{name}.rs")),
                        dir.join(&name).join("mod.rs"),
                    ],
                };
                if let Some(found) = candidates.iter().find(|c| c.is_file()) {
                    let child_dir =
                        if found.file_name().is_some_and(|f| f == "mod.rs") || explicit.is_some() {
                            found.parent().unwrap_or(Path::new(".")).to_path_buf()
                        } else {
                            dir.join(&name)
                        };
                    self.load_file(found, id, &child_dir, skip);
                }
            }
        }
    }
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
