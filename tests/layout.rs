//! The shape of `src/`: dependencies between its top-level modules run one way (no cycle),
//! and no file holds more than 600 lines of non-test code except those named below with their
//! reason.
//!
//! A module's dependencies are the `crate::NAME` paths its files mention (in `use` lines and
//! inline), test code included: a test that reaches "up" is a cycle too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// Files allowed past [`MAX_LINES`] lines of non-test code, and why. The goal is three at
/// most: the YAML parser's core, the flag table and one more.
const LONG_FILES: &[(&str, &str)] = &[
    (
        "text/yaml/parser.rs",
        "the YAML parser's core: go-yaml's scanner and parser, one grammar kept together",
    ),
    (
        "cli/flags.rs",
        "the flag table: one entry per flag, its names, where its value goes and its help",
    ),
    (
        "archive/tar.rs",
        "the tar header formats (ustar, GNU, pax) in one reader and writer",
    ),
];

/// The lines of a file before its top-level test module (`#[cfg(test)]` then `mod`).
fn code_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .position(|w| w[0] == "#[cfg(test)]" && w[1].starts_with("mod "))
        .unwrap_or(lines.len())
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `session/wait.rs` -> `session`, `app.rs` -> `app`.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The `crate::NAME` modules a source text mentions.
fn mentions(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        // `kdebug::crate::` does not occur; skip identifiers that merely end in "crate".
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        // `crate::{a, b}` lists several.
        if name.is_empty() && rest.starts_with('{') {
            let end = rest.find('}').unwrap_or(rest.len());
            for part in rest[1..end].split(',') {
                let m: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !m.is_empty() {
                    out.insert(m);
                }
            }
        } else if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src_dir();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&root).unwrap()))
        .collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let from = module_of(f.strip_prefix(&root).unwrap());
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let deps = g.entry(from.clone()).or_default();
        for m in mentions(&text) {
            // `crate::MAX_INPUT_BYTES` and the like are the crate root's constants.
            if m != from && modules.contains(&m) && m != "lib" {
                deps.insert(m);
            }
        }
    }
    g
}

/// A cycle through `start`, if there is one, as the path of modules.
fn cycle_from(g: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        g: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(g, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(g, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn modules_depend_one_way() {
    let g = graph();
    assert!(g.len() >= 8, "expected the src/ modules, found {g:?}");
    for m in g.keys() {
        if let Some(path) = cycle_from(&g, m) {
            panic!(
                "dependency cycle between modules of src/: {}\nall dependencies: {g:#?}",
                path.join(" -> ")
            );
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycle_from(&g, "a").unwrap(), ["a", "b", "c", "a"]);
    g.insert("c".to_string(), BTreeSet::new());
    assert_eq!(cycle_from(&g, "a"), None);
    assert_eq!(
        mentions("use crate::{kube, sys::term};\nlet x = crate::text::b64::encode(y);"),
        BTreeSet::from(["kube".into(), "sys".into(), "text".into()])
    );
}

#[test]
fn no_file_is_too_long_without_a_reason() {
    let root = src_dir();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut long = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lines = code_lines(&std::fs::read_to_string(f).unwrap());
        let allowed = LONG_FILES.iter().any(|(name, _)| *name == rel);
        if lines > MAX_LINES && !allowed {
            long.push(format!("{rel}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines of non-test code (split them, or name them in LONG_FILES with a reason): {long:?}"
    );
    assert!(
        LONG_FILES.len() <= 3,
        "at most three files may pass {MAX_LINES} lines of non-test code: {LONG_FILES:?}"
    );
    for (name, _) in LONG_FILES {
        assert!(
            root.join(name).exists(),
            "LONG_FILES names {name}, which no longer exists"
        );
    }
}

#[test]
fn test_modules_do_not_count() {
    let text = "fn a() {}\n\n#[cfg(test)]\nmod tests {\n    fn t() {}\n}\n";
    assert_eq!(code_lines(text), 2);
    // A test-only item that is not the test module counts as code.
    assert_eq!(code_lines("#[cfg(test)]\nuse x;\nfn a() {}\n"), 3);
}
