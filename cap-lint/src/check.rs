//! The syntactic checker: walks a crate's syntax trees, resolves each path the
//! way rustc would as far as syntax allows (imports, aliases, globs, local
//! items, re-exports across modules, block-local `use`), infers the few
//! receiver types that matter, and reports calls into the catalogue.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Type};

use crate::catalogue::{Index, Kind, canonical_alias};
use crate::finding::{Finding, Range, Region, Scope, Tier};
use crate::tree::{Bindings, CrateTree, ModId};

/// The result of resolving a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Res {
    /// A path into another crate, fully spelled (`["std", "fs", "read"]`).
    Extern(Vec<String>),
    /// A module of this crate.
    Module(ModId),
    /// Something this crate defines (a fn, type, variable...): never catalogued.
    Local,
    /// Could not be resolved.
    Unknown,
}

/// A receiver type the checker tracks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Ty {
    /// A catalogued type, by canonical path (`std::path::PathBuf`).
    Named(String),
    /// `impl AsRef<T>` or a generic `P: AsRef<T>`: `.as_ref()` gives `T`.
    AsRef(String),
    /// A struct field holding the `AmbientAuthority` token: the struct's
    /// methods are authority roots.
    AmbientToken,
    /// Some other type, by its last name: a struct of this crate whose
    /// fields may be known (`settings.root.exists()`).
    Local(String),
}

/// Names bound in a block (or a function's parameters).
#[derive(Default)]
struct Block {
    bindings: Bindings,
    /// Local variables and their tracked type, if known (`None` shadows).
    vars: HashMap<String, Option<Ty>>,
    /// Generic parameters with an `AsRef<T>` bound.
    generics: HashMap<String, Ty>,
    /// What each of `bindings.globs` names, resolved once when the block is
    /// entered (against the blocks outside it).
    globs: Vec<Res>,
}

/// A memoised module-level lookup.
#[derive(Clone)]
enum Memo {
    /// Being computed: a glob or import cycle leads back here, and the
    /// name is not found along that way.
    InProgress,
    Done(Option<Res>),
}

const MAX_DEPTH: usize = 24;

/// Constructors of a catalogued type that return that type
/// ([`Checker::returns`]).
const CONSTRUCTORS: &[&str] = &[
    "new",
    "new_in",
    "with_prefix",
    "with_prefix_in",
    "from",
    "default",
    "bind",
    "unbound",
    "new_v4",
    "new_v6",
    "with_capacity",
];

/// Well-known functions that return a `std::path::PathBuf`
/// ([`Checker::returns`]; the pre-filter uses their names too).
pub(crate) const PATH_SOURCES: &[&str] = &[
    "std::env::current_dir",
    "std::env::temp_dir",
    "std::env::home_dir",
    "std::env::current_exe",
    "std::fs::canonicalize",
    "std::fs::read_link",
    "std::path::absolute",
];

/// Whether [`Checker::returns`] may know the return type of a function
/// whose last path segment is `name`.
fn known_returning(name: &str) -> bool {
    CONSTRUCTORS.contains(&name)
        || name == "options"
        || PATH_SOURCES
            .iter()
            .any(|p| p.rsplit("::").next() == Some(name))
}

/// Methods whose return type [`Checker::method_returns`] knows.
const TYPED_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "clone",
    "unwrap_or_default",
    "as_ref",
    "join",
    "with_file_name",
    "with_extension",
    "to_path_buf",
    "to_owned",
    "canonicalize",
    "read_link",
    "parent",
    "as_path",
    "strip_prefix",
    "read",
    "write",
    "append",
    "truncate",
    "create",
    "create_new",
    "mode",
    "custom_flags",
    "recursive",
];

/// Macros whose input is a comma-separated list of expressions.
const EXPR_MACROS: &[&str] = &[
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "vec",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "dbg",
    "format_args",
    "todo",
    "unimplemented",
    "unreachable",
    "anyhow",
    "bail",
    "ensure",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
];

/// Macros whose input is not code that runs: tokens turned into text,
/// compile-time lookups. Their arguments are left alone.
const NON_CODE_MACROS: &[&str] = &[
    "stringify",
    "concat",
    "concat_idents",
    "include_str",
    "include_bytes",
    "include",
    "env",
    "option_env",
    "cfg",
    "compile_error",
    "module_path",
    "file",
    "line",
    "column",
];

/// Checks one crate: every file of `tree`, with `scope` as the base scope.
/// What the crate's item signatures say about types: struct fields and the
/// return types of its functions and methods, so that `settings.root`,
/// `data_dir()` and `self.config()` have a type.
#[derive(Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Facts {
    /// Struct name → field name → type.
    pub(crate) fields: HashMap<String, HashMap<String, Ty>>,
    /// Free function name → return type (`None` where two disagree).
    pub(crate) fns: HashMap<String, Option<Ty>>,
    /// (type name, method name) → return type (`None` where two disagree).
    #[serde(with = "pairs")]
    pub(crate) methods: HashMap<(String, String), Option<Ty>>,
    /// The method names in `methods`.
    pub(crate) method_names: HashSet<String>,
}

/// A map with tuple keys as a list of pairs (JSON keys are strings).
mod pairs {
    use std::collections::HashMap;
    use std::hash::Hash;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S, K, V>(map: &HashMap<K, V>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        K: Serialize,
        V: Serialize,
    {
        s.collect_seq(map.iter())
    }

    pub(super) fn deserialize<'de, D, K, V>(d: D) -> Result<HashMap<K, V>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

fn record<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Option<Ty>>, key: K, ty: Option<Ty>) {
    map.entry(key)
        .and_modify(|e| {
            if *e != ty {
                *e = None;
            }
        })
        .or_insert(ty);
}

impl Facts {
    /// Adds another worker's facts (names two workers disagree on become unknown).
    pub(crate) fn merge(&mut self, other: &Facts) {
        for (name, map) in &other.fields {
            let mine = self.fields.entry(name.clone()).or_default();
            for (k, v) in map {
                mine.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in &other.fns {
            record(&mut self.fns, k.clone(), v.clone());
        }
        for (k, v) in &other.methods {
            record(&mut self.methods, k.clone(), v.clone());
        }
        self.method_names.extend(other.method_names.iter().cloned());
    }

    /// A hash of everything the facts say, independent of the maps' order:
    /// the file cache reuses a file's findings only while it is unchanged.
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut fields: Vec<(&String, Vec<(&String, &Ty)>)> = self
            .fields
            .iter()
            .map(|(s, m)| {
                let mut v: Vec<_> = m.iter().collect();
                v.sort_by(|a, b| a.0.cmp(b.0));
                (s, v)
            })
            .collect();
        fields.sort_by(|a, b| a.0.cmp(b.0));
        fields.hash(&mut h);
        let mut fns: Vec<_> = self.fns.iter().collect();
        fns.sort_by(|a, b| a.0.cmp(b.0));
        fns.hash(&mut h);
        let mut methods: Vec<_> = self.methods.iter().collect();
        methods.sort_by(|a, b| a.0.cmp(b.0));
        methods.hash(&mut h);
        let mut names: Vec<_> = self.method_names.iter().collect();
        names.sort();
        names.hash(&mut h);
        h.finish()
    }

    /// The names of fields, functions and methods whose type is a tracked
    /// one (for the pre-filter: a receiver can get its type through them).
    pub(crate) fn typed_names(&self) -> HashSet<String> {
        let tracked = |t: &Option<Ty>| matches!(t, Some(Ty::Named(_) | Ty::AsRef(_)));
        let mut out = HashSet::new();
        for map in self.fields.values() {
            for (name, ty) in map {
                if tracked(&Some(ty.clone())) {
                    out.insert(name.clone());
                }
            }
        }
        out.extend(
            self.fns
                .iter()
                .filter(|(_, t)| tracked(t))
                .map(|(n, _)| n.clone()),
        );
        out.extend(
            self.methods
                .iter()
                .filter(|(_, t)| tracked(t))
                .map(|((_, n), _)| n.clone()),
        );
        out
    }
}

fn checker<'a>(tree: &'a CrateTree, index: &'a Index, scope: Scope) -> Checker<'a> {
    Checker {
        tree,
        index,
        file: 0,
        module: 0,
        blocks: Vec::new(),
        self_ty: None,
        facts: Facts::default(),
        suppress: Vec::new(),
        test_depth: 0,
        sandboxed_depth: 0,
        graph: None,
        preopen_impl: false,
        base_scope: scope,
        out: Vec::new(),
        regions: Vec::new(),
        aliases: tree.aliases.clone(),
        memo: RefCell::new(HashMap::new()),
    }
}

/// The tracked field types of the structs declared in `files`.
pub(crate) fn facts(tree: &CrateTree, index: &Index, files: &[(usize, syn::File)]) -> Facts {
    let mut c = checker(tree, index, Scope::Lib);
    for (i, ast) in files {
        c.file = *i;
        c.module = tree.files[*i].module;
        c.collect_fields_in(&ast.items);
    }
    c.facts
}

/// A call of the syntactic call graph: what a call expression names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Callee {
    /// A path into another crate, canonical (`tokio::fs::read`).
    Extern(String),
    /// A function of this crate, by name.
    Local(String),
    /// A method, by name (receiver type unknown).
    Method(String),
}

/// The call graph of one crate at function granularity: functions are
/// named `name` or `Type::name`; code outside any function is `<top>`.
#[derive(Default, Debug)]
pub struct Graph {
    stack: Vec<String>,
    /// (caller, callee) edges.
    pub edges: Vec<(String, Callee)>,
    /// Every function defined.
    pub functions: Vec<String>,
}

impl Graph {
    fn current(&self) -> String {
        self.stack
            .last()
            .cloned()
            .unwrap_or_else(|| "<top>".to_owned())
    }
}

/// Checks `files` (index into the tree's files, syntax tree) of a crate.
pub(crate) fn check_files(
    tree: &CrateTree,
    index: &Index,
    scope: Scope,
    files: &[(usize, syn::File)],
    facts: &Facts,
    graph: Option<&mut Graph>,
) -> (Vec<Finding>, Vec<Region>) {
    let mut c = checker(tree, index, scope);
    c.facts.clone_from(facts);
    if graph.is_some() {
        c.graph = Some(Graph::default());
    }
    for (i, ast) in files {
        c.file = *i;
        c.module = tree.files[*i].module;
        c.blocks.clear();
        // Nothing one file's check learns may reach the next file's: the
        // renaming imports of its function bodies, and lookups memoised
        // while a glob cycle was half explored (whose answers depend on
        // where the lookup started). A file's findings then do not depend
        // on which files its thread checked before it.
        c.aliases.clone_from(&tree.aliases);
        c.memo.borrow_mut().clear();
        // A file reached through `#[cfg(test)] mod tests;` is test code throughout.
        c.test_depth = usize::from(tree.modules[c.module].test);
        if c.test_depth > 0 {
            let text = &tree.files[*i].text;
            c.regions.push(Region {
                file: tree.files[*i].path.display().to_string(),
                range: Range {
                    start: crate::finding::Pos { line: 1, column: 1 },
                    end: crate::finding::Pos {
                        line: text.lines().count() + 1,
                        column: 1,
                    },
                },
                reason: None,
                test: true,
            });
        }
        c.visit_file(ast);
    }
    if let (Some(out), Some(g)) = (graph, c.graph.take()) {
        out.edges.extend(g.edges);
        out.functions.extend(g.functions);
    }
    (c.out, c.regions)
}

struct Checker<'a> {
    tree: &'a CrateTree,
    index: &'a Index,
    file: usize,
    module: ModId,
    blocks: Vec<Block>,
    /// The `Self` type's name inside an impl, for `self.field`.
    self_ty: Option<String>,
    /// Struct name → field name → tracked type.
    facts: Facts,
    /// Reasons of enclosing suppressions and authority roots.
    suppress: Vec<String>,
    test_depth: usize,
    /// Inside the body of a `#[sandboxed]` function.
    sandboxed_depth: usize,
    /// The call graph, when recorded: enclosing functions, and the edges.
    graph: Option<Graph>,
    preopen_impl: bool,
    base_scope: Scope,
    out: Vec<Finding>,
    regions: Vec<Region>,
    /// Names bound by renaming imports (`use a::b as c`) anywhere in the crate.
    aliases: HashSet<String>,
    /// Module → name → what the name resolves to there. Each (module, name)
    /// is resolved once, so resolution is linear in the names looked up
    /// however many globs a module has, and glob cycles end.
    memo: RefCell<HashMap<ModId, HashMap<String, Memo>>>,
}

fn path_segments(path: &syn::Path) -> Vec<String> {
    let mut segs = Vec::with_capacity(path.segments.len() + 1);
    if path.leading_colon.is_some() {
        segs.push("::".to_owned());
    }
    segs.extend(path.segments.iter().map(|s| s.ident.to_string()));
    segs
}

fn canon(path: &[String]) -> String {
    let joined = path.join("::");
    canonical_alias(&joined).unwrap_or(joined)
}

/// Whether an attribute marks test code: `#[test]`, `#[tokio::test]`, `#[cfg(test)]`.
pub(crate) fn is_test_attr(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    if path.segments.last().is_some_and(|s| s.ident == "test") {
        return true;
    }
    path.is_ident("cfg")
        && attr
            .parse_args::<syn::Meta>()
            .is_ok_and(|m| cfg_implies_test(&m))
}

/// Whether a `cfg` predicate holds only when `test` does: `test`,
/// `all(test, unix)`, `any(test, test)`; not `not(test)` or `any(test, unix)`.
fn cfg_implies_test(meta: &syn::Meta) -> bool {
    let nested = |list: &syn::MetaList| {
        list.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
            .map(|p| p.into_iter().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    match meta {
        syn::Meta::Path(p) => p.is_ident("test"),
        syn::Meta::List(l) if l.path.is_ident("all") => nested(l).iter().any(cfg_implies_test),
        syn::Meta::List(l) if l.path.is_ident("any") => {
            let items = nested(l);
            !items.is_empty() && items.iter().all(cfg_implies_test)
        }
        _ => false,
    }
}

impl Checker<'_> {
    // ---- name resolution ----

    fn parent(&self, m: ModId) -> ModId {
        self.tree.modules[m].parent.unwrap_or(0)
    }

    fn resolve(&self, segs: &[String]) -> Res {
        self.resolve_from(segs, self.blocks.len(), self.module, 0)
    }

    fn resolve_from(&self, segs: &[String], nblocks: usize, module: ModId, depth: usize) -> Res {
        if depth > MAX_DEPTH || segs.is_empty() {
            return Res::Unknown;
        }
        let head = match segs[0].as_str() {
            "::" => return Res::Extern(segs[1..].to_vec()),
            "crate" | "$crate" => Res::Module(0),
            "self" => Res::Module(module),
            "super" => Res::Module(self.parent(module)),
            "Self" => return Res::Local,
            name => self.lookup(name, nblocks, module, depth, segs.len() == 1),
        };
        self.walk(head, &segs[1..], depth)
    }

    fn lookup(&self, name: &str, nblocks: usize, module: ModId, depth: usize, single: bool) -> Res {
        for i in (0..nblocks).rev() {
            let b = &self.blocks[i];
            if single && b.vars.contains_key(name) {
                return Res::Local;
            }
            if b.bindings.items.contains(name) {
                return Res::Local;
            }
            if let Some(target) = b.bindings.uses.get(name) {
                return self.resolve_from(target, i + 1, module, depth + 1);
            }
        }
        for i in (0..nblocks).rev() {
            for glob in &self.blocks[i].globs {
                if let Some(r) = self.glob_member(glob, name, module, depth) {
                    return r;
                }
            }
        }
        self.lookup_in_module(module, name, depth)
            .unwrap_or_else(|| Res::Extern(vec![name.to_owned()]))
    }

    fn lookup_in_module(&self, m: ModId, name: &str, depth: usize) -> Option<Res> {
        if depth > MAX_DEPTH {
            return Some(Res::Unknown);
        }
        if let Some(memo) = self.memo.borrow().get(&m).and_then(|names| names.get(name)) {
            return match memo {
                Memo::InProgress => None,
                Memo::Done(r) => r.clone(),
            };
        }
        self.memo
            .borrow_mut()
            .entry(m)
            .or_default()
            .insert(name.to_owned(), Memo::InProgress);
        let found = self.lookup_in_module_uncached(m, name, depth);
        if let Some(names) = self.memo.borrow_mut().get_mut(&m) {
            names.insert(name.to_owned(), Memo::Done(found.clone()));
        }
        found
    }

    fn lookup_in_module_uncached(&self, m: ModId, name: &str, depth: usize) -> Option<Res> {
        let module = &self.tree.modules[m];
        if let Some(&child) = module.children.get(name) {
            return Some(Res::Module(child));
        }
        if module.bindings.items.contains(name) {
            return Some(Res::Local);
        }
        if let Some(target) = module.bindings.uses.get(name) {
            return Some(self.resolve_from(target, 0, m, depth + 1));
        }
        module
            .bindings
            .globs
            .iter()
            .find_map(|glob| self.glob_lookup(glob, name, 0, m, depth))
    }

    /// `name` through a glob import whose path resolved to `glob`.
    fn glob_member(&self, glob: &Res, name: &str, module: ModId, depth: usize) -> Option<Res> {
        match glob {
            Res::Module(id) if *id != module => self.lookup_in_module(*id, name, depth + 1),
            Res::Extern(p) => {
                let mut p = p.clone();
                p.push(name.to_owned());
                self.index.has_prefix(&canon(&p)).then_some(Res::Extern(p))
            }
            _ => None,
        }
    }

    fn glob_lookup(
        &self,
        glob: &[String],
        name: &str,
        nblocks: usize,
        module: ModId,
        depth: usize,
    ) -> Option<Res> {
        if depth > MAX_DEPTH {
            return None;
        }
        let target = self.resolve_from(glob, nblocks, module, depth + 1);
        self.glob_member(&target, name, module, depth)
    }

    /// Resolves a block's glob imports (against the blocks outside it) before
    /// it is entered.
    fn resolve_block_globs(&self, block: &mut Block) {
        let outer = self.blocks.len();
        block.globs = block
            .bindings
            .globs
            .iter()
            .map(|g| self.resolve_from(g, outer, self.module, 0))
            .collect();
    }

    fn walk(&self, mut head: Res, rest: &[String], depth: usize) -> Res {
        for seg in rest {
            head = match head {
                Res::Module(id) => match seg.as_str() {
                    "super" => Res::Module(self.parent(id)),
                    "self" => Res::Module(id),
                    _ => self
                        .lookup_in_module(id, seg, depth + 1)
                        .unwrap_or(Res::Unknown),
                },
                Res::Extern(mut p) => {
                    p.push(seg.clone());
                    Res::Extern(p)
                }
                Res::Local | Res::Unknown => return head,
            };
        }
        head
    }

    /// The canonical path a syntax path names in another crate, if any.
    fn extern_path(&self, path: &syn::Path) -> Option<String> {
        match self.resolve(&path_segments(path)) {
            Res::Extern(p) => Some(canon(&p)),
            _ => None,
        }
    }

    /// The catalogue entry an expression path names, if any (plain paths,
    /// UFCS `<T>::m` and `<T as Trait>::m`).
    fn match_expr_path(&self, p: &syn::ExprPath) -> Option<usize> {
        // Most paths are variables and local items: a path whose last name is
        // neither a catalogue name nor an import alias cannot match.
        let last = p.path.segments.last()?.ident.to_string();
        if !self.index.is_name(&last) && !self.aliases.contains(&last) {
            return None;
        }
        let Some(qself) = &p.qself else {
            return self
                .extern_path(&p.path)
                .and_then(|s| self.index.by_path(&s));
        };
        let segs = path_segments(&p.path);
        let pos = qself.position + usize::from(p.path.leading_colon.is_some());
        let rest = &segs[pos.min(segs.len())..];
        let mut candidates = Vec::new();
        if pos > 0
            && let Res::Extern(mut t) = self.resolve(&segs[..pos])
        {
            t.extend(rest.iter().cloned());
            candidates.push(canon(&t));
        }
        if let Some(Ty::Named(ty)) = self.resolve_type(&qself.ty) {
            candidates.push(format!("{ty}::{}", rest.join("::")));
        } else if let Type::Path(tp) = &*qself.ty
            && let Some(ty) = self.extern_path(&tp.path)
        {
            candidates.push(format!("{ty}::{}", rest.join("::")));
        }
        candidates.iter().find_map(|c| self.index.by_path(c))
    }

    /// Whether the trait at canonical path `trait_path` is in scope here.
    fn trait_in_scope(&self, trait_path: &str) -> bool {
        let name = trait_path.rsplit("::").next().unwrap_or(trait_path);
        if let Res::Extern(p) = self.resolve(&[name.to_owned()])
            && canon(&p) == trait_path
        {
            return true;
        }
        let anonymous_here = |bindings: &Bindings, nblocks: usize, module: ModId| {
            bindings.anonymous.iter().any(|a| matches!(self.resolve_from(a, nblocks, module, 0), Res::Extern(p) if canon(&p) == trait_path))
        };
        for (i, b) in self.blocks.iter().enumerate() {
            if anonymous_here(&b.bindings, i, self.module) {
                return true;
            }
        }
        anonymous_here(&self.tree.modules[self.module].bindings, 0, self.module)
    }

    // ---- types ----

    fn resolve_type(&self, ty: &Type) -> Option<Ty> {
        match ty {
            Type::Reference(r) => self.resolve_type(&r.elem),
            Type::Paren(p) => self.resolve_type(&p.elem),
            Type::Group(g) => self.resolve_type(&g.elem),
            Type::Path(tp) if tp.qself.is_none() => {
                if let Some(ident) = tp.path.get_ident() {
                    let name = ident.to_string();
                    if let Some(t) = self.blocks.iter().rev().find_map(|b| b.generics.get(&name)) {
                        return Some(t.clone());
                    }
                }
                let last = tp.path.segments.last()?;
                if ["Box", "Arc", "Rc", "Cow", "Option", "Result"]
                    .contains(&last.ident.to_string().as_str())
                    && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                {
                    return args.args.iter().find_map(|a| match a {
                        syn::GenericArgument::Type(t) => self.resolve_type(t),
                        _ => None,
                    });
                }
                match self.extern_path(&tp.path) {
                    Some(path) if self.index.is_tracked_type(&path) => Some(Ty::Named(path)),
                    // A type of this crate, perhaps a struct whose fields we know.
                    _ => Some(Ty::Local(last.ident.to_string())),
                }
            }
            Type::ImplTrait(it) => it.bounds.iter().find_map(|b| self.as_ref_bound(b)),
            _ => None,
        }
    }

    /// `AsRef<Path>` as a bound gives `Ty::AsRef(Path)`.
    fn as_ref_bound(&self, bound: &syn::TypeParamBound) -> Option<Ty> {
        let syn::TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident != "AsRef" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => match self.resolve_type(t) {
                Some(Ty::Named(p)) => Some(Ty::AsRef(p)),
                _ => None,
            },
            _ => None,
        })
    }

    fn var_type(&self, name: &str) -> Option<Ty> {
        self.blocks
            .iter()
            .rev()
            .find_map(|b| b.vars.get(name))
            .cloned()
            .flatten()
    }

    /// The tracked type of an expression, when it is evident from syntax.
    fn type_of(&self, e: &Expr) -> Option<Ty> {
        match e {
            Expr::Paren(x) => self.type_of(&x.expr),
            Expr::Group(x) => self.type_of(&x.expr),
            Expr::Reference(x) => self.type_of(&x.expr),
            Expr::Try(x) => self.type_of(&x.expr),
            Expr::Await(x) => self.type_of(&x.base),
            Expr::Unary(x) if matches!(x.op, syn::UnOp::Deref(_)) => self.type_of(&x.expr),
            Expr::Path(p) if p.path.is_ident("self") => self.self_ty.clone().map(Ty::Local),
            Expr::Path(p) if p.qself.is_none() => self.var_type(&p.path.get_ident()?.to_string()),
            Expr::Field(f) => {
                let syn::Member::Named(field) = &f.member else {
                    return None;
                };
                let Ty::Local(owner) = self.type_of(&f.base)? else {
                    return None;
                };
                self.facts
                    .fields
                    .get(&owner)?
                    .get(&field.to_string())
                    .cloned()
            }
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return None };
                let last = p.path.segments.last()?.ident.to_string();
                let known = known_returning(&last);
                let segs = &p.path.segments;
                // `Settings::load()`, `Self::new()`: an associated function of a local type.
                // (A lowercase segment before the name is a module: `util::data_dir()`.)
                let owner = (segs.len() >= 2)
                    .then(|| segs[segs.len() - 2].ident.to_string())
                    .filter(|o| o.starts_with(char::is_uppercase))
                    .map(|o| {
                        if o == "Self" {
                            self.self_ty.clone().unwrap_or(o)
                        } else {
                            o
                        }
                    });
                let local = match &owner {
                    Some(o) => self.facts.methods.contains_key(&(o.clone(), last.clone())),
                    None => self.facts.fns.contains_key(&last),
                };
                if p.qself.is_some() || (!known && !local) {
                    return None;
                }
                match self.resolve(&path_segments(&p.path)) {
                    Res::Extern(path) if known => self.returns(&canon(&path)),
                    Res::Local if local => match owner {
                        Some(o) => self.facts.methods.get(&(o, last)).cloned().flatten(),
                        None => self.facts.fns.get(&last).cloned().flatten(),
                    },
                    _ => None,
                }
            }
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let typed = TYPED_METHODS.contains(&name.as_str());
                let local = self.facts.method_names.contains(&name);
                if !typed && !local {
                    return None;
                }
                let receiver = self.type_of(&m.receiver);
                if let (true, Some(Ty::Local(owner))) = (local, &receiver)
                    && let Some(ty) = self.facts.methods.get(&(owner.clone(), name.clone()))
                {
                    return ty.clone();
                }
                Self::method_returns(receiver, &name)
            }
            _ => None,
        }
    }

    /// The type a catalogued-type constructor or a well-known function returns.
    fn returns(&self, path: &str) -> Option<Ty> {
        let (owner, name) = path.rsplit_once("::")?;
        if self.index.is_tracked_type(owner) && CONSTRUCTORS.contains(&name) {
            return Some(Ty::Named(owner.to_owned()));
        }
        let ty = match path {
            "std::fs::File::options" => "std::fs::OpenOptions",
            "tokio::fs::File::options" => "tokio::fs::OpenOptions",
            _ if PATH_SOURCES.contains(&path) => "std::path::PathBuf",
            _ => return None,
        };
        Some(Ty::Named(ty.to_owned()))
    }

    fn method_returns(receiver: Option<Ty>, method: &str) -> Option<Ty> {
        if ["unwrap", "expect", "clone", "unwrap_or_default"].contains(&method) {
            return receiver;
        }
        match receiver? {
            Ty::AmbientToken | Ty::Local(_) => None,
            Ty::AsRef(t) => (method == "as_ref").then_some(Ty::Named(t)),
            Ty::Named(t) => {
                let family = t
                    .strip_suffix("::PathBuf")
                    .or_else(|| t.strip_suffix("::Path"))
                    .filter(|f| f.ends_with("path"));
                if let Some(family) = family {
                    return match method {
                        "join" | "with_file_name" | "with_extension" | "to_path_buf"
                        | "to_owned" | "canonicalize" | "read_link" => {
                            Some(Ty::Named(format!("{family}::PathBuf")))
                        }
                        "parent" | "as_path" | "strip_prefix" | "as_ref" => {
                            Some(Ty::Named(format!("{family}::Path")))
                        }
                        _ => None,
                    };
                }
                let builder = if t.ends_with("::OpenOptions") {
                    [
                        "read",
                        "write",
                        "append",
                        "truncate",
                        "create",
                        "create_new",
                        "mode",
                        "custom_flags",
                    ]
                    .contains(&method)
                } else if t.ends_with("::DirBuilder") {
                    ["recursive", "mode"].contains(&method)
                } else {
                    false
                };
                builder.then_some(Ty::Named(t))
            }
        }
    }

    fn collect_fields_in(&mut self, items: &[syn::Item]) {
        for item in items {
            match item {
                syn::Item::Struct(s) => {
                    let fields: HashMap<String, Ty> = s
                        .fields
                        .iter()
                        .filter_map(|f| {
                            let ty = if type_mentions(&f.ty, "AmbientAuthority") {
                                Ty::AmbientToken
                            } else {
                                self.resolve_type(&f.ty)?
                            };
                            Some((f.ident.as_ref()?.to_string(), ty))
                        })
                        .collect();
                    if !fields.is_empty() {
                        self.facts
                            .fields
                            .entry(s.ident.to_string())
                            .or_default()
                            .extend(fields);
                    }
                }
                syn::Item::Fn(f) => {
                    let ty = self.return_type(&f.sig);
                    record(&mut self.facts.fns, f.sig.ident.to_string(), ty);
                }
                syn::Item::Impl(i) => {
                    let Type::Path(tp) = &*i.self_ty else {
                        continue;
                    };
                    let Some(owner) = tp.path.segments.last().map(|s| s.ident.to_string()) else {
                        continue;
                    };
                    for item in &i.items {
                        if let syn::ImplItem::Fn(m) = item {
                            let ty = self.return_type(&m.sig);
                            let name = m.sig.ident.to_string();
                            self.facts.method_names.insert(name.clone());
                            record(&mut self.facts.methods, (owner.clone(), name), ty);
                        }
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, content)) = &m.content {
                        let saved = self.module;
                        if let Some(id) = self.mod_id(m) {
                            self.module = id;
                        }
                        self.collect_fields_in(content);
                        self.module = saved;
                    }
                }
                _ => {}
            }
        }
    }

    /// A signature's return type, when it is one we track.
    fn return_type(&self, sig: &syn::Signature) -> Option<Ty> {
        let syn::ReturnType::Type(_, ty) = &sig.output else {
            return None;
        };
        self.resolve_type(ty).filter(|t| *t != Ty::AmbientToken)
    }

    fn mod_id(&self, m: &syn::ItemMod) -> Option<ModId> {
        let start = m.ident.span().start();
        self.tree
            .mod_items
            .get(&(self.file, start.line, start.column))
            .copied()
    }

    // ---- scopes, suppression ----

    fn push_block(&mut self, stmts: &[syn::Stmt]) {
        let mut block = Block::default();
        block.bindings.collect(stmts.iter().filter_map(|s| match s {
            syn::Stmt::Item(i) => Some(i),
            _ => None,
        }));
        self.note_aliases(&block.bindings);
        self.resolve_block_globs(&mut block);
        self.blocks.push(block);
    }

    /// Adds the names `bindings` imports by renaming to those a path's
    /// last segment may be (the quick reject before resolving a path).
    fn note_aliases(&mut self, bindings: &Bindings) {
        for (name, target) in &bindings.uses {
            if target.last() != Some(name) {
                self.aliases.insert(name.clone());
            }
        }
    }

    fn bind_pat(&mut self, pat: &Pat, ty: Option<Ty>) {
        if self.blocks.is_empty() {
            self.blocks.push(Block::default());
        }
        match pat {
            Pat::Ident(pi) if pi.subpat.is_none() => {
                self.blocks
                    .last_mut()
                    .unwrap()
                    .vars
                    .insert(pi.ident.to_string(), ty);
            }
            Pat::Type(pt) => {
                let ty = self.resolve_type(&pt.ty).or(ty);
                self.bind_pat(&pt.pat, ty);
            }
            other => {
                let mut names = PatNames(Vec::new());
                names.visit_pat(other);
                let vars = &mut self.blocks.last_mut().unwrap().vars;
                for n in names.0 {
                    vars.insert(n, None);
                }
            }
        }
    }

    /// The reason of a `#[cap_core::ambient(reason = "…")]` among `attrs`.
    fn ambient_reason(&self, attrs: &[syn::Attribute]) -> Option<String> {
        attrs.iter().find_map(|attr| {
            let path = attr.path();
            if path.is_ident("allow") || path.is_ident("expect") {
                return lint_reason(attr);
            }
            if path.segments.last()?.ident != "ambient" {
                return None;
            }
            let resolved = self.extern_path(path)?;
            if resolved != "cap_core::ambient" && resolved != "cap_macros::ambient" {
                return None;
            }
            let reason = attr
                .parse_args_with(|input: syn::parse::ParseStream<'_>| {
                    let key: syn::Ident = input.parse()?;
                    let _: syn::Token![=] = input.parse()?;
                    let value: syn::LitStr = input.parse()?;
                    if key != "reason" {
                        return Err(syn::Error::new(key.span(), "expected `reason`"));
                    }
                    Ok(value.value())
                })
                .ok()?;
            (!reason.trim().is_empty()).then(|| format!("suppressed: {reason}"))
        })
    }

    /// Enters an item or statement with `attrs`; returns what to undo.
    fn enter_attrs(&mut self, attrs: &[syn::Attribute], node: &dyn Spanned) -> (bool, bool) {
        if attrs.is_empty() {
            return (false, false);
        }
        let reason = self.ambient_reason(attrs);
        let suppressed = reason.is_some();
        let test = attrs.iter().any(is_test_attr);
        if suppressed || test {
            self.regions.push(Region {
                file: self.tree.files[self.file].path.display().to_string(),
                range: Range::of(node.span()),
                reason: reason.clone(),
                test,
            });
        }
        if let Some(reason) = reason {
            self.suppress.push(reason);
        }
        if test {
            self.test_depth += 1;
        }
        (suppressed, test)
    }

    /// Enters an authority root: code in `node` is suppressed with `reason`.
    fn enter_root(&mut self, reason: &str, node: &dyn Spanned) {
        self.regions.push(Region {
            file: self.tree.files[self.file].path.display().to_string(),
            range: Range::of(node.span()),
            reason: Some(reason.to_owned()),
            test: false,
        });
        self.suppress.push(reason.to_owned());
    }

    fn leave_attrs(&mut self, (suppressed, test): (bool, bool)) {
        if suppressed {
            self.suppress.pop();
        }
        if test {
            self.test_depth -= 1;
        }
    }

    /// Pushes a scope with a function's parameters and generic bounds, and
    /// whether the function is an authority root.
    fn enter_fn(&mut self, sig: &syn::Signature, node: &dyn Spanned) -> bool {
        let mut block = Block::default();
        for param in &sig.generics.params {
            if let syn::GenericParam::Type(tp) = param
                && let Some(t) = tp.bounds.iter().find_map(|b| self.as_ref_bound(b))
            {
                block.generics.insert(tp.ident.to_string(), t);
            }
        }
        if let Some(wc) = &sig.generics.where_clause {
            for pred in &wc.predicates {
                if let syn::WherePredicate::Type(pt) = pred
                    && let (Type::Path(tp), Some(t)) = (
                        &pt.bounded_ty,
                        pt.bounds.iter().find_map(|b| self.as_ref_bound(b)),
                    )
                    && let Some(id) = tp.path.get_ident()
                {
                    block.generics.insert(id.to_string(), t);
                }
            }
        }
        self.blocks.push(block);
        let mut root = false;
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            if type_mentions(&pt.ty, "AmbientAuthority") {
                root = true;
            }
            let ty = self.resolve_type(&pt.ty);
            self.bind_pat(&pt.pat, ty);
        }
        if root {
            self.enter_root("authority root: takes an `AmbientAuthority` token", node);
        }
        root
    }

    fn leave_fn(&mut self, root: bool) {
        self.blocks.pop();
        if root {
            self.suppress.pop();
        }
    }

    // ---- reporting ----

    fn enter_graph_fn(&mut self, name: String) {
        if let Some(g) = &mut self.graph {
            g.functions.push(name.clone());
            g.stack.push(name);
        }
    }

    fn leave_graph_fn(&mut self) {
        if let Some(g) = &mut self.graph {
            g.stack.pop();
        }
    }

    fn record_call(&mut self, callee: Callee) {
        if let Some(g) = &mut self.graph {
            let caller = g.current();
            g.edges.push((caller, callee));
        }
    }

    fn report(&mut self, id: usize, span: Range, name: Option<Range>) {
        self.report_api(self.index.get(id), span, name);
    }

    fn report_api(&mut self, api: &crate::catalogue::Api, span: Range, name: Option<Range>) {
        let scope = if self.test_depth > 0 {
            Scope::Tests
        } else {
            self.base_scope
        };
        let file = self.tree.files[self.file].path.display().to_string();
        let mut finding = Finding::for_api(api, file, span, Tier::Syntactic, scope);
        finding.name_span = name;
        finding.suppressed = self.suppress.last().cloned();
        finding.function = self.graph.as_ref().map(Graph::current);
        self.out.push(finding);
    }

    // ---- macros ----

    fn check_macro(&mut self, mac: &syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if name == "macro_rules" {
            self.scan_tokens(mac.tokens.clone());
            return;
        }
        if NON_CODE_MACROS.contains(&name.as_str()) {
            return;
        }
        let parser = Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        if let Ok(exprs) = mac.parse_body_with(parser) {
            for e in &exprs {
                self.visit_expr(e);
            }
            return;
        }
        if EXPR_MACROS.contains(&name.as_str()) {
            // `vec![elem; n]`
            let repeat = |input: syn::parse::ParseStream<'_>| {
                let a: Expr = input.parse()?;
                let _: syn::Token![;] = input.parse()?;
                let b: Expr = input.parse()?;
                Ok((a, b))
            };
            if let Ok((a, b)) = mac.parse_body_with(repeat) {
                self.visit_expr(&a);
                self.visit_expr(&b);
                return;
            }
        }
        if let Ok(block) = mac.parse_body_with(syn::Block::parse_within) {
            self.push_block(&block);
            for stmt in &block {
                self.visit_stmt(stmt);
            }
            self.blocks.pop();
            return;
        }
        self.scan_tokens(mac.tokens.clone());
    }

    /// The type of the receiver that ends `before` (the tokens up to a `.`):
    /// a constructor call `Path::new(..)` or a variable; with where it starts.
    fn token_receiver(&self, before: &[TokenTree]) -> (Option<crate::finding::Pos>, Option<Ty>) {
        match before.last() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                let Some((at, segs)) = trailing_path(&before[..before.len() - 1]) else {
                    return (None, None);
                };
                let start = Some(Range::of(before[at].span()).start);
                let ty = match self.resolve(&segs) {
                    Res::Extern(p) => self.returns(&canon(&p)),
                    _ => None,
                };
                (start, ty)
            }
            Some(TokenTree::Ident(id)) => (
                Some(Range::of(id.span()).start),
                self.var_type(&id.to_string()),
            ),
            _ => (None, None),
        }
    }

    /// Finds calls in tokens that do not parse as Rust (macro bodies): paths
    /// followed by an argument list, paths to catalogued values, and method
    /// calls of catalogued traits in scope.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => {
                    self.scan_tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(first) => {
                    let prev_punct = i.checked_sub(1).and_then(|p| match &trees[p] {
                        TokenTree::Punct(p) => Some(p.as_char()),
                        _ => None,
                    });
                    let leading = i >= 2
                        && prev_punct == Some(':')
                        && matches!(&trees[i - 2], TokenTree::Punct(p) if p.as_char() == ':');
                    let mut segs = if leading {
                        vec!["::".to_owned()]
                    } else {
                        Vec::new()
                    };
                    segs.push(first.to_string());
                    let start = if leading {
                        trees[i - 2].span()
                    } else {
                        first.span()
                    };
                    let mut j = i + 1;
                    while j + 2 < trees.len() + 1 {
                        let colons = matches!(&trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                            && matches!(&trees.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                        match (colons, trees.get(j + 2)) {
                            (true, Some(TokenTree::Ident(id))) => {
                                segs.push(id.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    let last_span = trees[j - 1].span();
                    let call_group = match trees.get(j) {
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                            Some(g.clone())
                        }
                        _ => None,
                    };
                    let after_dot = prev_punct == Some('.') && !leading;
                    let after_dollar = prev_punct == Some('$');
                    if after_dot {
                        if let (Some(group), 1) = (&call_group, segs.len()) {
                            let name = &segs[0];
                            let (receiver_start, receiver) = self.token_receiver(&trees[..i - 1]);
                            let on_type = match receiver {
                                Some(Ty::Named(t)) if self.index.is_method_name(name) => {
                                    self.index.method_on(&t, name)
                                }
                                _ => None,
                            };
                            let hit = on_type.or_else(|| {
                                self.index
                                    .trait_methods(name)
                                    .iter()
                                    .copied()
                                    .find(|&id| self.trait_in_scope(self.index.get(id).owner()))
                            });
                            if let Some(id) = hit {
                                let start = match (on_type, receiver_start) {
                                    (Some(_), Some(start)) => start,
                                    _ => Range::of(first.span()).start,
                                };
                                let span = Range {
                                    start,
                                    end: Range::of(group.span()).end,
                                };
                                self.report(id, span, Some(Range::of(first.span())));
                            }
                        }
                    } else if !after_dollar {
                        let hit = match self.resolve(&segs) {
                            Res::Extern(p) => self.index.by_path(&canon(&p)),
                            _ => None,
                        };
                        if let Some(id) = hit {
                            let value_use = self.index.get(id).kind == Kind::Value;
                            if call_group.is_some() || value_use || segs.len() > 1 {
                                let end = call_group
                                    .as_ref()
                                    .map_or(Range::of(last_span).end, |g| Range::of(g.span()).end);
                                let span = Range {
                                    start: Range::of(start).start,
                                    end,
                                };
                                self.report(id, span, Some(Range::of(last_span)));
                            }
                        }
                    }
                    i = j;
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => i += 1,
            }
        }
    }
}

/// The reason of `#[allow(clippy::disallowed_methods, reason = "…")]` (or
/// `expect`): the stable way to suppress one statement, honoured by both tiers.
fn lint_reason(attr: &syn::Attribute) -> Option<String> {
    let mut lint = false;
    let mut reason = None;
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("reason") {
            let value: syn::LitStr = meta.value()?.parse()?;
            reason = Some(value.value());
        } else if meta.path.segments.len() == 2
            && meta.path.segments[0].ident == "clippy"
            && meta.path.segments[1].ident == "disallowed_methods"
        {
            lint = true;
        }
        Ok(())
    })
    .ok()?;
    let reason = reason.filter(|r| !r.trim().is_empty())?;
    lint.then(|| format!("suppressed: {reason}"))
}

/// The outer attributes of an expression.
fn expr_attrs(e: &Expr) -> &[syn::Attribute] {
    match e {
        Expr::Array(x) => &x.attrs,
        Expr::Assign(x) => &x.attrs,
        Expr::Async(x) => &x.attrs,
        Expr::Await(x) => &x.attrs,
        Expr::Binary(x) => &x.attrs,
        Expr::Block(x) => &x.attrs,
        Expr::Break(x) => &x.attrs,
        Expr::Call(x) => &x.attrs,
        Expr::Cast(x) => &x.attrs,
        Expr::Closure(x) => &x.attrs,
        Expr::Const(x) => &x.attrs,
        Expr::Continue(x) => &x.attrs,
        Expr::Field(x) => &x.attrs,
        Expr::ForLoop(x) => &x.attrs,
        Expr::Group(x) => &x.attrs,
        Expr::If(x) => &x.attrs,
        Expr::Index(x) => &x.attrs,
        Expr::Let(x) => &x.attrs,
        Expr::Lit(x) => &x.attrs,
        Expr::Loop(x) => &x.attrs,
        Expr::Macro(x) => &x.attrs,
        Expr::Match(x) => &x.attrs,
        Expr::MethodCall(x) => &x.attrs,
        Expr::Paren(x) => &x.attrs,
        Expr::Path(x) => &x.attrs,
        Expr::Range(x) => &x.attrs,
        Expr::Reference(x) => &x.attrs,
        Expr::Repeat(x) => &x.attrs,
        Expr::Return(x) => &x.attrs,
        Expr::Struct(x) => &x.attrs,
        Expr::Try(x) => &x.attrs,
        Expr::TryBlock(x) => &x.attrs,
        Expr::Tuple(x) => &x.attrs,
        Expr::Unary(x) => &x.attrs,
        Expr::Unsafe(x) => &x.attrs,
        Expr::While(x) => &x.attrs,
        Expr::Yield(x) => &x.attrs,
        _ => &[],
    }
}

/// The path segments ending a token slice (`a::b::c`), with the index of
/// the first token of the path.
fn trailing_path(trees: &[TokenTree]) -> Option<(usize, Vec<String>)> {
    let mut end = trees.len();
    let mut segs = Vec::new();
    while let Some(TokenTree::Ident(id)) = end.checked_sub(1).and_then(|i| trees.get(i)) {
        segs.push(id.to_string());
        end -= 1;
        let colons = end >= 2
            && matches!(&trees[end - 1], TokenTree::Punct(p) if p.as_char() == ':')
            && matches!(&trees[end - 2], TokenTree::Punct(p) if p.as_char() == ':');
        if !colons {
            break;
        }
        end -= 2;
    }
    segs.reverse();
    (!segs.is_empty()).then_some((end, segs))
}

/// Whether a type mentions a path segment named `name` anywhere.
fn type_mentions(ty: &Type, name: &str) -> bool {
    struct Find<'n>(&'n str, bool);
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            if seg.ident == self.0 {
                self.1 = true;
            }
            visit::visit_path_segment(self, seg);
        }
    }
    let mut f = Find(name, false);
    f.visit_type(ty);
    f.1
}

/// The names a pattern binds.
struct PatNames(Vec<String>);

impl<'ast> Visit<'ast> for PatNames {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.push(p.ident.to_string());
        visit::visit_pat_ident(self, p);
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {
        // Attribute arguments are not run-time code (and `#[sandboxed(...)]`'s
        // are the pre-open declarations: an authority root by design).
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let attrs = self.enter_attrs(&f.attrs, f);
        let sandboxed = f.attrs.iter().any(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "sandboxed")
        });
        let root = self.enter_fn(&f.sig, f);
        self.enter_graph_fn(f.sig.ident.to_string());
        self.sandboxed_depth += usize::from(sandboxed);
        self.visit_block(&f.block);
        self.sandboxed_depth -= usize::from(sandboxed);
        self.leave_graph_fn();
        self.leave_fn(root);
        self.leave_attrs(attrs);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let attrs = self.enter_attrs(&f.attrs, f);
        let preopen = self.preopen_impl && f.sig.ident == "preopen";
        if preopen {
            self.enter_root(
                "authority root: `Preopen::preopen` runs before the sandbox is entered",
                f,
            );
        }
        let root = self.enter_fn(&f.sig, f);
        let name = match &self.self_ty {
            Some(owner) => format!("{owner}::{}", f.sig.ident),
            None => f.sig.ident.to_string(),
        };
        self.enter_graph_fn(name);
        self.visit_block(&f.block);
        self.leave_graph_fn();
        self.leave_fn(root);
        if preopen {
            self.suppress.pop();
        }
        self.leave_attrs(attrs);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        let attrs = self.enter_attrs(&f.attrs, f);
        let root = self.enter_fn(&f.sig, f);
        if let Some(block) = &f.default {
            self.visit_block(block);
        }
        self.leave_fn(root);
        self.leave_attrs(attrs);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let attrs = self.enter_attrs(&i.attrs, i);
        let saved_self = self.self_ty.take();
        let saved_preopen = self.preopen_impl;
        if let Type::Path(tp) = &*i.self_ty {
            self.self_ty = tp.path.segments.last().map(|s| s.ident.to_string());
        }
        let holder = self.self_ty.as_ref().is_some_and(|name| {
            self.facts
                .fields
                .get(name)
                .is_some_and(|f| f.values().any(|t| *t == Ty::AmbientToken))
        });
        if holder {
            self.enter_root(
                "authority root: its type holds an `AmbientAuthority` token",
                i,
            );
        }
        self.preopen_impl = i
            .trait_
            .as_ref()
            .is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == "Preopen"));
        for item in &i.items {
            self.visit_impl_item(item);
        }
        self.self_ty = saved_self;
        self.preopen_impl = saved_preopen;
        if holder {
            self.suppress.pop();
        }
        self.leave_attrs(attrs);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let attrs = self.enter_attrs(&m.attrs, m);
        if let Some((_, items)) = &m.content {
            let saved_module = self.module;
            let saved_blocks = std::mem::take(&mut self.blocks);
            if let Some(id) = self.mod_id(m) {
                self.module = id;
            } else {
                // A module inside a function body: its items are local.
                let mut block = Block::default();
                block.bindings.collect(items);
                self.note_aliases(&block.bindings);
                self.resolve_block_globs(&mut block);
                self.blocks.push(block);
            }
            for item in items {
                self.visit_item(item);
            }
            self.module = saved_module;
            self.blocks = saved_blocks;
        }
        self.leave_attrs(attrs);
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let attrs = self.enter_attrs(&t.attrs, t);
        visit::visit_item_trait(self, t);
        self.leave_attrs(attrs);
    }

    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        let attrs = self.enter_attrs(&c.attrs, c);
        visit::visit_item_const(self, c);
        self.leave_attrs(attrs);
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        let attrs = self.enter_attrs(&s.attrs, s);
        visit::visit_item_static(self, s);
        self.leave_attrs(attrs);
    }

    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        let attrs = self.enter_attrs(&m.attrs, m);
        if let Some(items) = crate::tree::macro_items(m) {
            // Items of the enclosing module (their names were collected with it).
            for item in &items {
                self.visit_item(item);
            }
            self.leave_attrs(attrs);
            return;
        }
        self.check_macro(&m.mac);
        self.leave_attrs(attrs);
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.push_block(&b.stmts);
        for stmt in &b.stmts {
            self.visit_stmt(stmt);
        }
        self.blocks.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        let attrs = self.enter_attrs(&l.attrs, l);
        let mut ty = None;
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
            ty = self.type_of(&init.expr);
        }
        self.bind_pat(&l.pat, ty);
        self.leave_attrs(attrs);
    }

    fn visit_stmt_macro(&mut self, m: &'ast syn::StmtMacro) {
        let attrs = self.enter_attrs(&m.attrs, m);
        self.check_macro(&m.mac);
        self.leave_attrs(attrs);
    }

    fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
        self.check_macro(&m.mac);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.check_macro(m);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.blocks.push(Block::default());
        for input in &c.inputs {
            self.bind_pat(input, None);
        }
        self.visit_expr(&c.body);
        self.blocks.pop();
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        // Attributes on any expression (`#[allow(clippy::disallowed_methods,
        // reason = "…")] call()?;`) cover the whole expression.
        let undo = self.enter_attrs(expr_attrs(e), e);
        visit::visit_expr(self, e);
        self.leave_attrs(undo);
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        self.blocks.push(Block::default());
        self.bind_pat(&f.pat, None);
        self.visit_block(&f.body);
        self.blocks.pop();
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.blocks.push(Block::default());
        self.bind_pat(&arm.pat, None);
        if let Some((_, guard)) = &arm.guard {
            self.visit_expr(guard);
        }
        self.visit_expr(&arm.body);
        self.blocks.pop();
    }

    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        self.visit_expr(&l.expr);
        self.bind_pat(&l.pat, None);
    }

    fn visit_expr_block(&mut self, b: &'ast syn::ExprBlock) {
        self.visit_block(&b.block);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if self.sandboxed_depth > 0
            && let Expr::Path(p) = &*call.func
            && let Some(last) = p.path.segments.last()
        {
            let name = last.ident.to_string();
            let escape = if name == "ambient_authority" || name.contains("_ambient") {
                Some(0)
            } else if name == "from_std" {
                Some(2)
            } else {
                None
            };
            if let Some(e) = escape {
                let api = &crate::catalogue::escapes()[e];
                self.report_api(
                    api,
                    Range::of(call.span()),
                    Some(Range::of(last.ident.span())),
                );
            }
        }
        if self.graph.is_some()
            && let Expr::Path(p) = &*call.func
            && p.qself.is_none()
            && let Some(last) = p.path.segments.last()
        {
            let callee = match self.resolve(&path_segments(&p.path)) {
                Res::Extern(path) => Callee::Extern(canon(&path)),
                _ => Callee::Local(last.ident.to_string()),
            };
            self.record_call(callee);
        }
        if let Expr::Path(p) = &*call.func
            && let Some(id) = self.match_expr_path(p)
        {
            let name = p.path.segments.last().map(|s| Range::of(s.ident.span()));
            self.report(id, Range::of(call.span()), name);
            for arg in &call.args {
                self.visit_expr(arg);
            }
            return;
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(id) = self.match_expr_path(p) {
            let name = p.path.segments.last().map(|s| Range::of(s.ident.span()));
            self.report(id, Range::of(p.span()), name);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        if self.graph.is_some() {
            self.record_call(Callee::Method(name.clone()));
        }
        if self.sandboxed_depth > 0 && name == "into_std" {
            let api = &crate::catalogue::escapes()[1];
            self.report_api(api, Range::of(m.span()), Some(Range::of(m.method.span())));
        }
        let mut hit = None;
        if self.index.is_method_name(&name)
            && let Some(Ty::Named(ty)) = self.type_of(&m.receiver)
        {
            hit = self.index.method_on(&ty, &name);
        }
        if hit.is_none() && !self.index.trait_methods(&name).is_empty() {
            hit = self
                .index
                .trait_methods(&name)
                .iter()
                .copied()
                .find(|&id| self.trait_in_scope(self.index.get(id).owner()));
        }
        if let Some(id) = hit {
            self.report(id, Range::of(m.span()), Some(Range::of(m.method.span())));
        }
        visit::visit_expr_method_call(self, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfg_test_detection() {
        let attr = |s: &str| -> syn::Attribute {
            let file: syn::File = syn::parse_str(&format!("#[{s}] fn f() {{}}")).unwrap();
            let syn::Item::Fn(f) = &file.items[0] else {
                unreachable!()
            };
            f.attrs[0].clone()
        };
        for yes in [
            "test",
            "tokio::test",
            "cfg(test)",
            "cfg(all(test, unix))",
            "cfg(all(test, not(miri)))",
            "cfg(any(test, all(test, unix)))",
        ] {
            assert!(is_test_attr(&attr(yes)), "{yes}");
        }
        for no in [
            "cfg(not(test))",
            "cfg(any(test, unix))",
            "cfg(unix)",
            "inline",
            "cfg(feature = \"test\")",
        ] {
            assert!(!is_test_attr(&attr(no)), "{no}");
        }
    }
}
