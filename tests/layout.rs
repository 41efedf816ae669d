//! The source tree has no import circle: every module of `src/` can be read after the modules it
//! names (`docs/architecture.md`). A circle is how the engine's stages once ran into each other
//! (seven files that all reached one another); the stage rules themselves are greps in `.ci/run`.
//!
//! A module "names" another when its text (code or doc comment, outside its `#[cfg(test)]` part)
//! holds a path to it: `crate::a::b`, `super::b`, `self::b`, or a child module's name `b::x`.
//! The paths are resolved to the longest module prefix that exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of `src/`, by its path from the crate root (`engine::time::windows`), with its
/// text up to its tests. `gen/` is mounted as `generate` (`src/lib.rs`).
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix("src").unwrap().with_extension("");
                let mut parts: Vec<String> =
                    rel.iter().map(|p| p.to_string_lossy().into()).collect();
                if parts
                    .last()
                    .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
                {
                    parts.pop();
                }
                if parts.first().is_some_and(|p| p == "gen") {
                    parts[0] = "generate".into();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let body = text.split("#[cfg(test)]").next().unwrap().to_string();
                let name = parts.join("::");
                // main.rs and lib.rs are both the root; keep both texts.
                out.entry(name).or_default().push_str(&body);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(Path::new("src"), &mut out);
    out
}

/// The paths in `text`: runs of `ident::ident...` that start at a word boundary.
fn paths(text: &str) -> Vec<Vec<&str>> {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ident(bytes[i]) && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == b':'));
        if !starts {
            i += 1;
            continue;
        }
        let mut parts = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            parts.push(&text[start..j]);
            if text[j..].starts_with("::") && j + 2 < bytes.len() && ident(bytes[j + 2]) {
                j += 2;
            } else {
                break;
            }
        }
        if parts.len() > 1 {
            out.push(parts);
        }
        i = j.max(i + 1);
    }
    out
}

/// The modules each module names.
fn graph(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, text) in modules {
        let here: Vec<&str> = name.split("::").filter(|p| !p.is_empty()).collect();
        let edges = graph.entry(name).or_default();
        for path in paths(text) {
            let (mut full, rest): (Vec<&str>, &[&str]) = match path[0] {
                "crate" => (Vec::new(), &path[1..]),
                "self" => (here.clone(), &path[1..]),
                "super" => {
                    let mut base = here.clone();
                    let mut rest = &path[..];
                    while rest.first() == Some(&"super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    (base, rest)
                }
                _ => (here.clone(), &path[..]),
            };
            full.extend_from_slice(rest);
            if let Some(target) = (1..=full.len())
                .rev()
                .map(|k| full[..k].join("::"))
                .find(|m| modules.contains_key(m))
                && target != *name
            {
                edges.insert(modules.get_key_value(&target).unwrap().0);
            }
        }
    }
    graph
}

/// The circles of `graph` (strongly connected components of more than one module).
fn circles<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    // Two modules are in one circle when each reaches the other.
    let reach = |from: &'a str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(m) = todo.pop() {
            for &n in graph.get(m).into_iter().flatten() {
                if seen.insert(n) {
                    todo.push(n);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&str, BTreeSet<&str>> = graph.keys().map(|&m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for (&m, r) in &reaches {
        if done.contains(m) || !r.contains(m) {
            continue;
        }
        let circle: Vec<&str> = r
            .iter()
            .copied()
            .filter(|n| reaches[n].contains(m))
            .collect();
        done.extend(circle.iter().copied());
        out.push(circle);
    }
    out
}

#[test]
fn no_module_of_src_names_a_module_that_names_it_back() {
    let modules = modules();
    assert!(
        modules.contains_key("engine::time::windows"),
        "run from the repository root"
    );
    let circles = circles(&graph(&modules));
    assert!(circles.is_empty(), "import circles in src/: {circles:?}");
}

#[test]
fn the_check_sees_a_circle_and_its_kinds_of_path() {
    let modules: BTreeMap<String, String> = [
        ("a", "use crate::a::b::thing;"),
        ("a::b", "/// Unlike [`super::c::f`]"),
        ("a::c", "fn f() { crate::a::x(); }"),
        ("d", "use self::e::g; e::h();"),
        ("d::e", ""),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_string(), t.to_string()))
    .collect();
    let graph = graph(&modules);
    assert_eq!(graph["a"], BTreeSet::from(["a::b"]));
    assert_eq!(graph["a::b"], BTreeSet::from(["a::c"]));
    assert_eq!(graph["d"], BTreeSet::from(["d::e"]));
    assert_eq!(circles(&graph), vec![vec!["a", "a::b", "a::c"]]);
}

/// A merge left unresolved is committed text like any other (it happened once, to the README
/// and docs/architecture.md): no tracked file holds a conflict marker.
#[test]
fn no_tracked_file_holds_a_merge_conflict_marker() {
    let root = env!("CARGO_MANIFEST_DIR");
    let listed = std::process::Command::new("git")
        .args(["-C", root, "ls-files", "-z"])
        .output()
        .expect("git ls-files");
    assert!(listed.status.success());
    let mut marked = Vec::new();
    for path in listed.stdout.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let path = std::path::Path::new(root).join(String::from_utf8_lossy(path).as_ref());
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // binary files
        };
        for (i, line) in text.lines().enumerate() {
            if ["<<<<<<< ", ">>>>>>> "].iter().any(|m| line.starts_with(m)) {
                marked.push(format!("{}:{}", path.display(), i + 1));
            }
        }
    }
    assert!(marked.is_empty(), "merge conflict markers: {marked:?}");
}
