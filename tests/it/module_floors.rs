//! The floors of the crate (docs/architecture.md), checked on the source: every top-level
//! module of `src/` sits on one floor of [`FLOORS`], and a module imports (`crate::x`, in
//! `use` lines or in paths) only from its own floor or the floors below it. Imports within
//! a floor must not form a cycle either. A fitness test like `cli_vocabulary.rs`: it
//! reads the code as text, so it judges what is written, not what happens to compile.
//!
//! Test modules (`#[cfg(test)] mod … { … }`) and comments are left out: a test may reach
//! anywhere, and a doc link is not a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, lowest first. The same table is in docs/architecture.md; a new top-level
/// module gets a row here (the test fails until it has one).
const FLOORS: &[(&str, &[&str])] = &[
    (
        "ground",
        &[
            "error",
            "units",
            "duration",
            "version",
            "term",
            "fsread",
            "fs",
            "paths",
            "process",
            "shell",
            "privilege",
            "findings",
            "kv",
        ],
    ),
    ("sources", &["gguf", "ollama", "server", "secret", "claude"]),
    ("model", &["model", "memory"]),
    ("planner", &["planner"]),
    ("readings", &["logs", "predict", "runtime"]),
    ("commands", &["doctor", "setup"]),
    ("verify", &["verify"]),
    ("cli", &["cli"]),
];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`None`: lib.rs, main.rs).
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    if rel.components().count() > 1 {
        return Some(first);
    }
    match first.strip_suffix(".rs") {
        Some("lib" | "main") | None => None,
        Some(m) => Some(m.to_string()),
    }
}

/// The code of a file without comments and without its `#[cfg(test)]` modules.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t == "#[cfg(test)]" {
            let next = lines.peek().map(|l| l.trim_start().to_string());
            if let Some(n) = next.filter(|n| n.starts_with("mod ") && n.ends_with('{')) {
                let indent = line.len() - t.len();
                let _ = n;
                lines.next();
                let close = format!("{}}}", " ".repeat(indent));
                for l in lines.by_ref() {
                    if l == close {
                        break;
                    }
                }
                continue;
            }
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level modules named after `crate::` in `code`: `crate::a::…` and each item of
/// `crate::{a::…, b, …}`.
fn imported(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in macros is the same crate; a longer word such as `cclocal_crate::` is not.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.insert(ident(&item));
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove("");
    out
}

/// module → (module it imports → the files that do).
fn import_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let root = src();
    let mut files = Vec::new();
    rs_files(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().to_path_buf();
        let Some(top) = top_module(&rel) else {
            continue;
        };
        let code = production_code(&std::fs::read_to_string(&f).unwrap());
        let entry = graph.entry(top.clone()).or_default();
        for m in imported(&code) {
            if m != top && m != "self" && m != "super" {
                entry
                    .entry(m)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    graph
}

fn floor_of(module: &str) -> Option<(usize, &'static str)> {
    FLOORS
        .iter()
        .enumerate()
        .find(|(_, (_, ms))| ms.contains(&module))
        .map(|(i, (name, _))| (i, *name))
}

#[test]
fn every_module_has_a_floor() {
    let graph = import_graph();
    let missing: Vec<&String> = graph.keys().filter(|m| floor_of(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "top-level modules without a floor (add them to FLOORS here and in docs/architecture.md): {missing:?}"
    );
    let listed: Vec<&str> = FLOORS
        .iter()
        .flat_map(|(_, ms)| ms.iter().copied())
        .collect();
    let gone: Vec<&&str> = listed.iter().filter(|m| !graph.contains_key(**m)).collect();
    assert!(
        gone.is_empty(),
        "FLOORS names modules src/ does not have: {gone:?}"
    );
}

#[test]
fn no_import_goes_up_a_floor() {
    let mut up = Vec::new();
    for (from, targets) in import_graph() {
        let Some((f, fname)) = floor_of(&from) else {
            continue;
        };
        for (to, files) in targets {
            let Some((t, tname)) = floor_of(&to) else {
                continue;
            };
            if t > f {
                up.push(format!(
                    "{from} ({fname}) imports {to} ({tname}) in {}",
                    files.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    assert!(
        up.is_empty(),
        "imports that go up the floors (docs/architecture.md):\n  {}",
        up.join("\n  ")
    );
}

#[test]
fn no_cycle_between_top_level_modules() {
    let graph = import_graph();
    // Depth-first search with colours; a grey target closes a cycle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        colour: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        colour.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for to in graph.get(m).into_iter().flat_map(|t| t.keys()) {
            match colour.get(to.as_str()).copied().unwrap_or(0) {
                0 => visit(to, graph, colour, stack, cycles),
                1 => {
                    let at = stack.iter().position(|s| s == to).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(to.clone());
                    cycles.push(c.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(m.to_string(), 2);
    }
    let mut colour = BTreeMap::new();
    let mut cycles = Vec::new();
    for m in graph.keys() {
        if colour.get(m.as_str()).copied().unwrap_or(0) == 0 {
            visit(m, &graph, &mut colour, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(
        cycles.is_empty(),
        "cycles between top-level modules:\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn the_reader_sees_imports_and_skips_tests_and_comments() {
    let code = production_code(
        "use crate::{a::B, b::{C, D},\n    c};\n// crate::commented\nfn f() { crate::d::e(); }\n#[cfg(test)]\nmod tests {\n    use crate::tested;\n}\n",
    );
    let got: Vec<String> = imported(&code).into_iter().collect();
    assert_eq!(got, ["a", "b", "c", "d"]);
}

#[test]
fn the_floors_table_is_in_the_docs() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"),
    )
    .unwrap();
    for (name, modules) in FLOORS {
        let row = format!("| {name} | {} |", modules.join(", "));
        assert!(
            doc.contains(&row),
            "docs/architecture.md lacks the floors row {row:?}"
        );
    }
}
