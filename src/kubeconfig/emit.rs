//! A small YAML writer in the style kubectl prints (`sigs.k8s.io/yaml` -> go-yaml v2): keys
//! sorted, sequences in a mapping not indented, 2-space indentation, strings quoted whenever
//! they would read back as something else (bool, number, null) or cannot be plain, multi-line
//! strings as literal blocks, long plain strings folded after column 80.

use serde_json::Value;

use super::yaml;

/// go-yaml's preferred line width: a plain scalar breaks at the first space past it.
const BEST_WIDTH: usize = 80;

/// Renders a JSON value as a YAML document (ends with a newline).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        _ => {
            out.push_str(&scalar(v, 0, 0));
            out.push('\n');
        }
    }
    out
}

fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    v
}

fn is_empty_collection(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

/// go-yaml writes a key longer than this (in bytes), or one spanning lines, in the explicit
/// `? key` / `: value` form.
const MAX_SIMPLE_KEY: usize = 128;

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let mut first = true;
    for (k, v) in sorted(m) {
        if !first || !out.ends_with("- ") {
            pad(out, indent);
        }
        first = false;
        if k.len() > MAX_SIMPLE_KEY || k.contains('\n') {
            out.push_str("? ");
            out.push_str(&string_scalar(k, indent, indent + 2, false));
            out.push('\n');
            pad(out, indent);
            // After an explicit key, a collection starts on the `:` line (go-yaml).
            let mut sub = String::new();
            match v {
                Value::Object(m) if !m.is_empty() => write_map(&mut sub, m, indent + 2),
                Value::Array(a) if !a.is_empty() => write_seq(&mut sub, a, indent + 2),
                _ => {
                    out.push(':');
                    write_value_after_key(out, v, indent, indent + 1);
                    continue;
                }
            }
            out.push_str(": ");
            out.push_str(sub.trim_start_matches(' '));
            continue;
        }
        let key = string_scalar(k, indent, 0, true);
        let col = indent + key.chars().count() + 1;
        out.push_str(&key);
        out.push(':');
        write_value_after_key(out, v, indent, col);
    }
}

/// Writes what follows `key:`; `col` is the column just after the colon.
fn write_value_after_key(out: &mut String, v: &Value, indent: usize, col: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        // go-yaml writes a sequence under a key at the key's own indentation.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent);
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(v, indent, col + 1));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    for v in a {
        pad(out, indent);
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Value::Array(inner) if !inner.is_empty() => {
                // Nested sequence: first item on the same line.
                let mut sub = String::new();
                write_seq(&mut sub, inner, indent + 2);
                out.push_str(sub.trim_start_matches(' '));
            }
            _ => {
                out.push_str(&scalar(v, indent, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A value scalar starting at column `col`; a folded line continues at `indent + 2`.
fn scalar(v: &Value, indent: usize, col: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_scalar(s, indent, col, false),
        _ if is_empty_collection(v) => {
            if v.is_object() {
                "{}".into()
            } else {
                "[]".into()
            }
        }
        _ => String::new(),
    }
}

/// Does `s` read back as a string when written plain? (Else it must be quoted.)
fn reads_back_as_string(s: &str) -> bool {
    // `<<` is a merge key to go-yaml, so it is quoted everywhere.
    if s == "<<" {
        return false;
    }
    matches!(yaml::parse_value(format!("k: {s}").as_bytes(), ""), Ok(Value::Object(m)) if m.get("k") == Some(&Value::String(s.to_string())))
}

/// go-yaml's emitter `is_printable`: narrower than what the reader accepts. A tab, NEL or a
/// character beyond the BMP makes go-yaml double-quote the string (escaped: `\t`, `\N`,
/// `\U0001F680`), as kubectl prints it.
fn printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        && c != '\u{FEFF}'
}

/// Whether libyaml's emitter allows `s` as a plain scalar (block context).
fn plain_allowed(s: &str) -> bool {
    if s.is_empty() || s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let first = chars[0];
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if "?:-".contains(first) && chars.get(1).is_none_or(|c| *c == ' ' || *c == '\t') {
        return false;
    }
    for (i, &c) in chars.iter().enumerate() {
        if !printable(c) || c == '\n' {
            return false;
        }
        if c == ':' && chars.get(i + 1).is_none_or(|n| *n == ' ' || *n == '\t') {
            return false;
        }
        if c == '#' && i > 0 && (chars[i - 1] == ' ' || chars[i - 1] == '\t') {
            return false;
        }
    }
    true
}

/// A string scalar in go-yaml's style, starting at column `col`. Keys (`key`) are never
/// folded; values fold at spaces past column 80 and continue at `indent + 2`.
fn string_scalar(s: &str, indent: usize, col: usize, key: bool) -> String {
    let all_printable = s.chars().all(|c| printable(c) || c == '\n');
    if s.contains('\n') && !key && all_printable && !s.lines().any(|l| l.ends_with([' ', '\t'])) {
        return literal(s, indent);
    }
    let fold = (!key).then_some(indent + 2);
    if !all_printable || s.contains('\n') || !reads_back_as_string(s) {
        return double_quoted(s, col, fold);
    }
    if plain_allowed(s) {
        return plain(s, col, fold);
    }
    single_quoted(s, col, fold)
}

/// Whether go-yaml breaks the line at the space at `i`: past the preferred width, not after
/// another space (`spaces`), and not before one.
fn breaks_here(fold: Option<usize>, spaces: bool, col: usize, chars: &[char], i: usize) -> bool {
    fold.is_some() && !spaces && col > BEST_WIDTH && chars.get(i + 1) != Some(&' ')
}

/// libyaml's `write_plain_scalar`.
fn plain(s: &str, mut col: usize, fold: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            if breaks_here(fold, spaces, col, &chars, i) {
                col = newline(&mut out, fold);
            } else {
                out.push(' ');
                col += 1;
            }
            spaces = true;
        } else {
            out.push(c);
            col += 1;
            spaces = false;
        }
    }
    out
}

/// libyaml's `write_single_quoted`: folds like a plain scalar, never at either end.
fn single_quoted(s: &str, mut col: usize, fold: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("'");
    col += 1;
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            if i > 0 && i + 1 < chars.len() && breaks_here(fold, spaces, col, &chars, i) {
                col = newline(&mut out, fold);
            } else {
                out.push(' ');
                col += 1;
            }
            spaces = true;
        } else {
            if c == '\'' {
                out.push('\'');
                col += 1;
            }
            out.push(c);
            col += 1;
            spaces = false;
        }
    }
    out.push('\'');
    out
}

/// Starts a continuation line; returns the new column.
fn newline(out: &mut String, fold: Option<usize>) -> usize {
    let indent = fold.unwrap_or(0);
    out.push('\n');
    pad(out, indent);
    indent
}

fn literal(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    if s.starts_with(' ') || s.starts_with('\n') {
        out.push('2');
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent + 2);
            out.push_str(line);
        }
    }
    out
}

/// libyaml's `write_double_quoted`: escapes, and folds at spaces past the width (a space
/// right after the break is kept with a `\`).
fn double_quoted(s: &str, mut col: usize, fold: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("\"");
    col += 1;
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '"' => Some("\\\"".to_string()),
            '\\' => Some("\\\\".into()),
            '\n' => Some("\\n".into()),
            '\t' => Some("\\t".into()),
            '\r' => Some("\\r".into()),
            '\0' => Some("\\0".into()),
            '\u{7}' => Some("\\a".into()),
            '\u{8}' => Some("\\b".into()),
            '\u{B}' => Some("\\v".into()),
            '\u{C}' => Some("\\f".into()),
            '\u{1B}' => Some("\\e".into()),
            '\u{85}' => Some("\\N".into()),
            '\u{A0}' => Some("\\_".into()),
            '\u{2028}' => Some("\\L".into()),
            '\u{2029}' => Some("\\P".into()),
            c if !printable(c) || c == '\u{FEFF}' => {
                let v = c as u32;
                Some(if v <= 0xFF {
                    format!("\\x{v:02X}")
                } else if v <= 0xFFFF {
                    format!("\\u{v:04X}")
                } else {
                    format!("\\U{v:08X}")
                })
            }
            _ => None,
        };
        if let Some(e) = escape {
            col += e.chars().count();
            out.push_str(&e);
            spaces = false;
        } else if c == ' ' {
            if i > 0 && i + 1 < chars.len() && fold.is_some() && !spaces && col > BEST_WIDTH {
                col = newline(&mut out, fold);
                if chars[i + 1] == ' ' {
                    out.push('\\');
                    col += 1;
                }
            } else {
                out.push(' ');
                col += 1;
            }
            spaces = true;
        } else {
            out.push(c);
            col += 1;
            spaces = false;
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: Value) {
        let text = to_yaml(&v);
        let back = yaml::parse_value(text.as_bytes(), "emitted");
        assert_eq!(
            back.as_ref().ok(),
            Some(&v),
            "emitted:\n{text}\nparsed back: {back:?}"
        );
    }

    #[test]
    fn kubectl_style() {
        let v = json!({"b": [{"name": "x", "cluster": {"server": "https://x"}}], "a": {}, "c": [], "d": null, "e": ""});
        assert_eq!(
            to_yaml(&v),
            "a: {}\nb:\n- cluster:\n    server: https://x\n  name: x\nc: []\nd: null\ne: \"\"\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "y", "no", "on", "~", "null", "1", "0x1F", "1e3", ".5", ".inf", "<<", "", "true", "007",
        ] {
            let out = to_yaml(&json!({ "k": s }));
            assert!(out.contains('"'), "{s}: {out}");
        }
        assert_eq!(to_yaml(&json!({"k": "plain text"})), "k: plain text\n");
    }

    /// Outputs checked against kubectl 1.32's `config view --raw`.
    #[test]
    fn quoting_and_folding_like_go_yaml() {
        // Tabs and characters beyond the BMP are not printable to go-yaml's emitter.
        assert_eq!(
            to_yaml(&json!({"a": "https://x\there", "b": "rocket 🚀"})),
            "a: \"https://x\\there\"\nb: \"rocket \\U0001F680\"\n"
        );
        // A long key is written in the explicit form; a plain value folds past column 80
        // counted from where it really starts.
        let key = "k".repeat(130);
        let words = "w ".repeat(60);
        let v = json!({"config": {key.clone(): "v", "short": words.trim_end()}});
        let want = format!(
            "config:\n  ? {key}\n  : v\n  short: {}\n    {}\n",
            "w ".repeat(37).trim_end(),
            "w ".repeat(23).trim_end()
        );
        assert_eq!(to_yaml(&v), want);
        // A double-quoted value folds too.
        let s = format!("{}tab\there {}", "w ".repeat(30), "x ".repeat(30));
        assert_eq!(
            to_yaml(&json!({"current-context": s})),
            format!(
                "current-context: \"{}tab\\there\n  {}\"\n",
                "w ".repeat(30),
                "x ".repeat(30)
            )
        );
    }

    /// Found by the fuzzer (yaml target, round-trip property): a fold right after a tab
    /// lost the tab, and a key over 1024 characters could not be read back.
    #[test]
    fn fuzz_regressions_round_trip() {
        let s = format!(
            "{}clusterus\t sits next to {}",
            "word ".repeat(15),
            "word ".repeat(10)
        );
        round_trip(json!({ "k": s }));
        round_trip(json!({ "k".repeat(1100): "v", "a\nb": {"c": 1}, "d": [1] }));
        round_trip(json!({ "x".repeat(200): ["a", "b"] }));
        round_trip(json!({ "x".repeat(200): {"a": "b", "c": ["d", {"e": [[1]]}]}, "y": {} }));
    }

    #[test]
    fn round_trips() {
        round_trip(
            json!({"a": "x\ny\n", "b": "x\ny", "c": "x\n\n", "d": "  lead\nx", "e": "a: b", "f": "- x", "g": "#c", "h": "it's", "i": "tab\there", "j": "\u{1}", "k": " pad ", "l": [[1, 2], [3]], "m": [{"a": [1]}], "n": "é 🚀", "o": 2.5, "p": true, "q": ["y", "n"]}),
        );
        let long = "word ".repeat(40);
        round_trip(
            json!({"long": long.trim_end(), "nested": {"deeper": {"long": long.trim_end()}}}),
        );
    }
}
