//! Environment-variable names are knowledge: each one cclocal writes in `src/` is a constant
//! (`cclocal::claude::vars`, `cclocal::ollama::vars`) that the program it belongs to reads,
//! by its own list in `data/`. A misspelt name in a fix or a launcher would silently do
//! nothing; this test names it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn names_in(file: &str) -> BTreeSet<String> {
    std::fs::read_to_string(root().join("data").join(file))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('|').next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn claude_names_are_in_claude_codes_lists() {
    let mut read = names_in("claude-env-vars-2.1.197.txt");
    read.extend(names_in("claude-env-vars-2.1.332.txt"));
    for n in cclocal::claude::vars::ALL {
        let listed = read.contains(*n);
        let never = cclocal::claude::vars::NOT_READ.contains(n);
        assert!(
            listed != never,
            "{n}: listed in data/claude-env-vars-*.txt: {listed}, in NOT_READ: {never}"
        );
    }
}

#[test]
fn ollama_names_are_in_ollamas_list() {
    let read = names_in("ollama-env-vars.txt");
    for n in cclocal::ollama::vars::ALL {
        assert!(read.contains(*n), "{n} is not in data/ollama-env-vars.txt");
    }
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `"ANTHROPIC_…"`, `"CLAUDE_…"`, `"OLLAMA_…"` (and Claude Code's other names) string
/// in the production code of `src/` is one of the constants: a new name gets a constant,
/// checked above, and a typo fails here.
#[test]
fn every_name_written_in_src_is_a_constant() {
    let known: BTreeSet<&str> = cclocal::claude::vars::ALL
        .iter()
        .chain(cclocal::ollama::vars::ALL)
        .copied()
        .collect();
    const PREFIXES: &[&str] = &[
        "ANTHROPIC_",
        "CLAUDE_",
        "OLLAMA_",
        "DISABLE_",
        "API_TIMEOUT",
        "MAX_THINKING",
    ];
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    let mut unknown = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // Production code only: unit tests may use made-up names.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for (i, _) in code.match_indices('"') {
            let rest = &code[i + 1..];
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let whole = rest[word.len()..].starts_with(['"', '=']);
            if whole
                && !word.ends_with('_')
                && PREFIXES.iter().any(|p| word.starts_with(p))
                && !known.contains(word.as_str())
            {
                unknown.insert(format!(
                    "{word} ({})",
                    f.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "names not in cclocal::claude::vars or cclocal::ollama::vars: {unknown:?}"
    );
}
