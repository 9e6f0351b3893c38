//! Modules import each other in one direction only, in the core (`src/`), the Leptos app
//! (`app/src/`) and the host (`server/src/`): no two top-level modules of a crate need each
//! other, directly or around a loop. And the core's `policy`, `vocabulary` and `lifecycle` do
//! no I/O and depend on nothing that does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level module a file of `src` belongs to (`seats/rows.rs` and `seats/mod.rs` are
/// both `seats`); `None` for the crate root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// The names the crate root re-exports from its own modules (`pub use state::AppState;`):
/// `crate::AppState` is a use of `state`.
fn root_exports(src: &Path) -> BTreeMap<String, String> {
    let mut exports = BTreeMap::new();
    for root in ["lib.rs", "main.rs"] {
        let Ok(text) = std::fs::read_to_string(src.join(root)) else {
            continue;
        };
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("pub use ") else {
                continue;
            };
            let Some((module, names)) = rest.split_once("::") else {
                continue;
            };
            let names = names.trim_end_matches(';').trim_matches(|c| c == '{' || c == '}');
            for name in names.split(',') {
                let name = name.trim().rsplit("::").next().unwrap_or("").to_owned();
                if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    exports.insert(name, module.to_owned());
                }
            }
        }
    }
    exports
}

/// Each top-level module of the crate at `src` and the other top-level modules it `use`s.
fn imports(src: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(src);
    let exports = root_exports(&src);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(&src) {
        let Some(name) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // Every `crate::module` a line of code names, in a `use` or inline.
        let used = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .flat_map(|line| line.match_indices("crate::").map(move |(at, _)| &line[at + 7..]))
            .map(|rest| {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                exports.get(&name).cloned().unwrap_or(name)
            })
            .collect::<Vec<_>>();
        let entry = graph.entry(name.clone()).or_default();
        entry.extend(
            used.into_iter()
                .filter(|module| !module.is_empty() && module != &name),
        );
    }
    graph
}

fn assert_acyclic(crate_src: &str) {
    let graph = imports(crate_src);
    assert!(graph.len() > 5, "{crate_src}: {graph:?}");
    // Depth-first from every module; a module met again on the current path is a cycle.
    fn visit(module: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>) {
        if let Some(at) = path.iter().position(|m| m == module) {
            panic!("circular imports: {}", path[at..].join(" -> ") + " -> " + module);
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path);
        }
        path.pop();
    }
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new());
    }
}

#[test]
fn the_core_has_no_circular_imports() {
    assert_acyclic("src");
}

#[test]
fn the_app_has_no_circular_imports() {
    assert_acyclic("app/src");
}

#[test]
fn the_host_has_no_circular_imports() {
    assert_acyclic("server/src");
}

#[test]
fn the_policy_imports_nothing_that_does_io() {
    let graph = imports("src");
    let io = [
        "db", "seats", "accounts", "throttle", "changes", "login", "signing", "web",
    ];
    for module in ["policy", "vocabulary", "lifecycle"] {
        let used = &graph[module];
        assert!(
            used.iter().all(|m| !io.contains(&m.as_str())),
            "{module} uses {used:?}"
        );
    }
}

/// A name the crate root re-exports counts as a use of the module it comes from: the host's
/// layers use its state through `crate::AppState`.
#[test]
fn a_re_exported_name_counts_as_its_module() {
    let graph = imports("server/src");
    assert!(graph["layers"].contains("state"), "{graph:?}");
    assert!(!graph["live"].contains("state"), "{graph:?}");
}
