//! A YAML-subset reader that behaves like kubectl's `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1).
//!
//! Two stages, like kubectl: the text is parsed into a [`Node`] tree (syntax only, positions
//! kept), then [`Node`]s are converted into a [`Value`] (a JSON-shaped tree that still knows
//! where each value came from) with YAML 1.1 typing, merge keys, alias expansion and
//! sigs.k8s.io/yaml's map-key stringification. [`Value::to_json`] gives a `serde_json::Value`.
//!
//! The reader must never panic and never recurse without bound: nesting is capped at
//! [`MAX_DEPTH`] and alias expansion at [`MAX_EXPANDED_NODES`] / [`MAX_EXPANDED_BYTES`].

use std::fmt;

mod decode;
mod parser;
mod tree;
mod typing;

pub use tree::{Data, Entry, Node, NodeKind, Style, Value};
pub(crate) use typing::plain_resolves_to_string;

use decode::decode;
use parser::Parser;
use typing::Converter;

type PResult<T> = Result<T, YamlError>;

/// Deepest nesting of collections accepted (parsing and alias expansion alike).
pub const MAX_DEPTH: usize = 200;
/// Most nodes a document may expand to once aliases are followed (billion-laughs guard).
pub const MAX_EXPANDED_NODES: usize = 1_000_000;
/// Most scalar bytes a document may expand to once aliases are followed, beyond its own size.
pub const MAX_EXPANDED_BYTES: usize = 64 << 20;
/// go-yaml drops a "simple key" candidate once the ':' is more than 1024 characters away.
const MAX_IMPLICIT_KEY: usize = 1024;

/// A position in the source: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A syntax or typing error, naming the file, the line and the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub file: String,
    pub pos: Pos,
    pub msg: String,
}

impl YamlError {
    /// The error without the file name: `line L, column C: what`.
    pub fn detail(&self) -> String {
        if self.pos.line == 0 {
            self.msg.clone()
        } else {
            format!(
                "line {}, column {}: {}",
                self.pos.line, self.pos.col, self.msg
            )
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to parse {:?}: {}", self.file, self.detail())
    }
}

impl std::error::Error for YamlError {}

/// Parses the first document of `src` into a typed tree (`None` for an empty document).
pub fn parse(src: &[u8], file: &str) -> Result<Option<Value>, YamlError> {
    // Recursion is bounded by MAX_DEPTH, but frames are large in debug builds and callers may
    // run on small thread stacks, so the work happens on a thread with a stack we choose.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("yaml-reader".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(src, file));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => parse_here(src, file),
        }
    })
}

/// Stack for the parsing thread: ample for MAX_DEPTH levels even in debug builds.
const PARSER_STACK: usize = 16 << 20;

pub(crate) fn parse_here(src: &[u8], file: &str) -> Result<Option<Value>, YamlError> {
    let chars = decode(src, file)?;
    let mut p = Parser::new(chars, file);
    let root = p.parse_stream()?;
    match root {
        None => Ok(None),
        Some(node) => {
            let mut conv = Converter::new(file, MAX_EXPANDED_BYTES + src.len());
            conv.value(&node, 0).map(Some)
        }
    }
}

/// Parses `src` (YAML 1.1 or JSON) into a `serde_json::Value` the way kubectl's
/// `sigs.k8s.io/yaml.YAMLToJSON` does; an empty document is `null`.
pub fn parse_value(src: &[u8], file: &str) -> Result<serde_json::Value, YamlError> {
    Ok(parse(src, file)?
        .map(|v| v.to_json())
        .unwrap_or(serde_json::Value::Null))
}

fn err_at(file: &str, pos: Pos, msg: impl Into<String>) -> YamlError {
    YamlError {
        file: file.to_string(),
        pos,
        msg: msg.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> serde_json::Value {
        match parse_value(s.as_bytes(), "t") {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn perr(s: &str) -> YamlError {
        match parse_value(s.as_bytes(), "t") {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn block_mapping_and_sequences() {
        assert_eq!(
            p("a: 1\nb:\n- x\n- y: z\n  w: v\n"),
            json!({"a": 1, "b": ["x", {"true": "z", "w": "v"}]})
        );
        assert_eq!(
            p("a:\n  - 1\n  -\n    b: c\n"),
            json!({"a": [1, {"b": "c"}]})
        );
        assert_eq!(p("- - a\n  - b\n- c"), json!([["a", "b"], "c"]));
        assert_eq!(p("a:\nb: ~\n"), json!({"a": null, "b": null}));
        assert_eq!(p("a:\n-\n- \n-  # c\n"), json!({"a": [null, null, null]}));
        assert_eq!(
            p("? e\n: 3\n? f\nq: 1\n"),
            json!({"e": 3, "f": null, "q": 1})
        );
        assert!(parse_value(b"a: {\"x\"\n : 1}", "t").is_err());
    }

    #[test]
    fn yaml11_typing() {
        let v = p("[y, Y, yes, on, ON, n, off, yEs, nULL, ~, null, 0x1F, 0o17, 0b101, 007, 1_000, 1e3, .5, 0., 1.2.3, v1.27, 1e, 0x, 12:30:00, 2024-01-01, -1, +1, 08]");
        assert_eq!(
            v,
            json!([
                true,
                true,
                true,
                true,
                true,
                false,
                false,
                "yEs",
                "nULL",
                null,
                null,
                31,
                15,
                5,
                7,
                1000,
                1000,
                0.5,
                0,
                "1.2.3",
                "v1.27",
                "1e",
                "0x",
                "12:30:00",
                "2024-01-01",
                -1,
                1,
                8
            ])
        );
        assert!(perr("a: .inf").msg.contains("+Inf"));
        assert!(perr("a: [.nan]").msg.contains("NaN"));
    }

    #[test]
    fn keys_are_stringified() {
        assert_eq!(
            p("on: a\nno: b\n1.0: c\n0x10: d\n007: e\n1e3: f\n2.5: g\n"),
            json!({"true": "a", "false": "b", "1": "c", "16": "d", "7": "e", "1000": "f", "2.5": "g"})
        );
        assert!(perr("~: a").msg.contains("null"));
    }

    #[test]
    fn quoting_and_escapes() {
        assert_eq!(
            p(r#"a: "t\tn\n\x41\u00e9\U0001F680\\\"""#),
            json!({"a": "t\tn\nAé🚀\\\""})
        );
        assert_eq!(p("a: 'it''s'"), json!({"a": "it's"}));
        assert_eq!(
            p("a: \"one \\\n   two\"\nb: 'x\n  y\n\n  z'"),
            json!({"a": "one two", "b": "x y\nz"})
        );
        assert!(perr(r#"a: "\/""#).msg.contains("escape"));
        assert!(perr(r#"a: "\ud83d\ude80""#).msg.contains("Unicode"));
        assert!(perr(r#"a: "C:\Users""#).msg.contains("hexadecimal"));
    }

    #[test]
    fn block_scalars() {
        assert_eq!(p("a: |\n  x\n  y\nb: 1"), json!({"a": "x\ny\n", "b": 1}));
        assert_eq!(p("a: |-\n  x\n"), json!({"a": "x"}));
        assert_eq!(p("a: |+\n  x\n\nb: 1"), json!({"a": "x\n\n", "b": 1}));
        assert_eq!(
            p("a: >\n  x\n  y\n\n  z\n   w\n  v\n"),
            json!({"a": "x y\nz\n w\nv\n"})
        );
        assert_eq!(
            p("k:\n  a: |2\n      two\n    n\n"),
            json!({"k": {"a": "  two\nn\n"}})
        );
    }

    #[test]
    fn multi_line_plain_and_comments() {
        assert_eq!(
            p("a: x\n  y\n\n  z # c\nb: q#r"),
            json!({"a": "x y\nz", "b": "q#r"})
        );
        assert!(perr("a: b: c").msg.contains("mapping values"));
    }

    #[test]
    fn flow_collections_and_json() {
        assert_eq!(
            p("{a: [1, 2,], b: {c: d,}, e: http://x:1}"),
            json!({"a": [1, 2], "b": {"c": "d"}, "e": "http://x:1"})
        );
        assert_eq!(
            p("{\"a\":1,\n\t\"b\": [true, null]}"),
            json!({"a": 1, "b": [true, null]})
        );
        assert_eq!(p("[a: b, c]"), json!([{"a": "b"}, "c"]));
        assert!(perr("a: [1, 2\n").msg.contains("never closed"));
    }

    #[test]
    fn anchors_aliases_merges() {
        assert_eq!(
            p("a: &x {p: 1, q: 2}\nb:\n  q: 9\n  <<: *x\n  p: 3\n"),
            json!({"a": {"p": 1, "q": 2}, "b": {"q": 2, "p": 3}})
        );
        assert_eq!(
            p("b:\n  <<: [{k: 1}, {k: 2, m: 3}]\n"),
            json!({"b": {"k": 1, "m": 3}})
        );
        assert!(perr("a: *nope").msg.contains("unknown anchor"));
    }

    #[test]
    fn tags() {
        assert_eq!(p("a: !!str 1.10\nb: !!bool \"true\"\nc: !!binary aGk=\nd: !x 12\ne: !<tag:yaml.org,2002:str> 5"), json!({"a": "1.10", "b": true, "c": "hi", "d": "12", "e": "5"}));
    }

    #[test]
    fn documents_and_directives() {
        assert_eq!(p("%YAML 1.1\n---\na: 1\n...\n--- b\n"), json!({"a": 1}));
        assert!(perr("%YAML 1.2\n---\na: 1").msg.contains("1.2"));
        assert_eq!(p(""), serde_json::Value::Null);
        assert_eq!(p("# only\n"), serde_json::Value::Null);
        assert_eq!(
            parse_value(b"\xEF\xBB\xBFa: 1\r\nb: |\r\n  x\r\n", "t").ok(),
            Some(json!({"a": 1, "b": "x\n"}))
        );
    }

    #[test]
    fn tabs() {
        assert_eq!(
            p("a:\tb\t# c\nc: {\td: e}"),
            json!({"a": "b", "c": {"d": "e"}})
        );
        assert_eq!(perr("a:\n\tb: c").pos.line, 2);
        assert!(parse_value(b"a:\n-\tb", "t").is_err());
        assert!(parse_value(b"a:\n- \tb", "t").is_err());
    }

    #[test]
    fn go_yaml_quirks() {
        // Properties before a key belong to the key; the mapping starts at them.
        assert_eq!(p("&k a: 1\nb: *k\n"), json!({"a": 1, "b": "a"}));
        // '#' at a flow token boundary is a comment even without a blank before it.
        assert_eq!(p("a: [x,#b\n c]\n"), json!({"a": ["x", "c"]}));
        // Content after a flow root, or left of a block root, is an ignored second document.
        assert_eq!(p("{\"a\": 1} x\n"), json!({"a": 1}));
        assert_eq!(p("  a: 1\n b: 2\n"), json!({"a": 1}));
        // NEL and LS break lines.
        assert!(parse_value("a: x\u{2028}y\n".as_bytes(), "t").is_err());
        let long = format!("{{{}: 1}}", "k".repeat(1100));
        assert!(parse_value(long.as_bytes(), "t").is_err());
    }

    #[test]
    fn implicit_key_limit() {
        let k1024 = "k".repeat(1024);
        assert!(parse_value(format!("{k1024}: v").as_bytes(), "t").is_ok());
        let k1025 = "k".repeat(1025);
        assert!(parse_value(format!("{k1025}: v").as_bytes(), "t").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let e = perr("a: 1\nb:\n  c: 2\n d: 3\n");
        assert_eq!(e.pos.line, 4);
        let e = parse_value(b"a: 1\nb: \xe9\n", "f").err();
        assert_eq!(e.map(|e| e.pos.line), Some(2));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(perr(&deep).msg.contains("nested"));
        let mut block = String::new();
        for i in 0..5000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        assert!(perr(&block).msg.contains("nested"));
        let dashes = "- ".repeat(50_000);
        assert!(perr(&dashes).msg.contains("nested"));
        // Safe even when the caller runs on a tiny stack.
        let small = std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(move || {
                parse_value(block.as_bytes(), "t").is_err()
                    && parse_value(deep.as_bytes(), "t").is_err()
            });
        assert!(small.is_ok_and(|h| h.join().unwrap_or(false)));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names: Vec<char> = "bcdefghijk".chars().collect();
        let mut prev = 'a';
        for &n in &names {
            s.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n;
        }
        let e = perr(&s);
        assert!(e.msg.contains("too many nodes"), "{e}");
    }
}
