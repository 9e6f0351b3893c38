//! The core's modules import each other in one direction only: `policy` and `vocabulary`
//! do no I/O and depend on nothing that does, and no two modules need each other.

use std::collections::{BTreeMap, BTreeSet};

/// Each module of `src/` and the modules of the crate it `use`s.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let used: BTreeSet<String> = text
            .lines()
            .filter_map(|line| {
                let line = line.trim_start();
                let rest = line
                    .strip_prefix("use crate::")
                    .or_else(|| line.strip_prefix("pub use crate::"))?;
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                Some(module)
            })
            .filter(|module| !module.is_empty() && module != &name)
            .collect();
        graph.insert(name, used);
    }
    graph
}

#[test]
fn src_has_no_circular_imports() {
    let graph = imports();
    assert!(graph.len() > 10, "{graph:?}");
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
fn the_policy_imports_nothing_that_does_io() {
    let graph = imports();
    let io = [
        "db", "seats", "accounts", "throttle", "changes", "login", "signing",
    ];
    for module in ["policy", "vocabulary", "lifecycle"] {
        let used = &graph[module];
        assert!(
            used.iter().all(|m| !io.contains(&m.as_str())),
            "{module} uses {used:?}"
        );
    }
}
