//! The house's rules, checked on the sources: inside every crate, the
//! top-level modules import each other in one direction only (no circles).
//! Cargo already refuses circles between crates.
//!
//! An import of module `b` by module `a` is any `crate::b` path in `a`'s
//! files (inside `use crate::{…}` groups too), a `super::b` from `a`'s own
//! top file, or a `crate::Item` that the crate root re-exports from `b`.
//! The crate root is the crate's face, not a module: it declares the
//! modules and may hold the type they extend (cassa-store's `Store`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn workspace_crates() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found: Vec<PathBuf> = fs::read_dir(&crates)
        .expect("the crates folder")
        .map(|entry| entry.expect("a crate folder").path())
        .filter(|path| path.join("Cargo.toml").exists() && path.join("src").exists())
        .collect();
    found.sort();
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a source entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first segments of every path after `prefix` (`crate::` or
/// `super::`), with `{a, b::c}` groups opened.
fn first_segments<'a>(source: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue; // `foo_crate::` or `a::super::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        names.push(identifier(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            names.push(identifier(rest));
        }
    }
    names
}

/// What the root re-exports, by the module it comes from:
/// `pub use a::{X, Y}` and `pub use a::X`.
fn reexports(root: &str) -> BTreeMap<String, String> {
    let mut from = BTreeMap::new();
    for statement in root.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.strip_prefix("crate::").unwrap_or(rest);
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let last = item.split("::").last().unwrap_or_default();
            let name = last.split(" as ").last().unwrap_or_default().trim();
            if !name.is_empty() {
                from.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    from
}

/// Each top-level module of the crate at `dir` and the modules it imports.
fn module_imports(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = dir.join("src");
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|p| p.exists())
        .expect("a crate root");
    let root = fs::read_to_string(&root_file).expect("the crate root");
    let exported = reexports(&root);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let module_of = |path: &Path| -> Option<(String, bool)> {
        let relative = path.strip_prefix(&src).ok()?;
        let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
        let first = parts[0].trim_end_matches(".rs").to_owned();
        let top_file = parts.len() == 1 || (parts.len() == 2 && parts[1] == "mod.rs");
        Some((first, top_file))
    };
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(f))
        .map(|(m, _)| m)
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some((module, top_file)) = module_of(file) else {
            continue;
        };
        if !modules.contains(&module) {
            continue; // the root
        }
        let source = fs::read_to_string(file).expect("a source file");
        let mut named: Vec<&str> = first_segments(&source, "crate::");
        if top_file {
            named.extend(first_segments(&source, "super::"));
        }
        let entry = imports.entry(module.clone()).or_default();
        for name in named {
            let target = if modules.contains(name) {
                Some(name.to_owned())
            } else {
                exported.get(name).cloned()
            };
            if let Some(target) = target.filter(|t| *t != module && modules.contains(t)) {
                entry.insert(target);
            }
        }
    }
    imports
}

/// The strongly connected groups of more than one module (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    group.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

#[test]
fn no_module_imports_another_that_imports_it_back() {
    let mut all = Vec::new();
    for dir in workspace_crates() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let imports = module_imports(&dir);
        for group in circles(&imports) {
            let edges: Vec<String> = group
                .iter()
                .map(|m| {
                    let inside: Vec<&str> = imports[m]
                        .iter()
                        .filter(|t| group.contains(t))
                        .map(String::as_str)
                        .collect();
                    format!("{m} -> {}", inside.join(", "))
                })
                .collect();
            all.push(format!("{name}: {}", edges.join("; ")));
        }
    }
    assert!(all.is_empty(), "modules in circles:\n{}", all.join("\n"));
}

#[test]
fn the_checker_sees_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
    let source = "use crate::{jobs::Job, db::{self, X}};\nlet x = crate::files::f();\nmy_crate::no";
    assert_eq!(
        first_segments(source, "crate::"),
        vec!["jobs", "db", "files"]
    );
    assert_eq!(
        reexports("pub use db::{Backend, Store as S};\npub use error::StoreError;")
            .into_iter()
            .collect::<Vec<_>>(),
        vec![
            ("Backend".to_owned(), "db".to_owned()),
            ("S".to_owned(), "db".to_owned()),
            ("StoreError".to_owned(), "error".to_owned())
        ]
    );
}
