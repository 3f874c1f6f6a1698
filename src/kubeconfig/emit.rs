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
            out.push_str(&scalar(v, 0, false));
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

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let mut first = true;
    for (k, v) in sorted(m) {
        if !first || !out.ends_with("- ") {
            pad(out, indent);
        }
        first = false;
        out.push_str(&string_scalar(k, indent, true));
        out.push(':');
        write_value_after_key(out, v, indent);
    }
}

fn write_value_after_key(out: &mut String, v: &Value, indent: usize) {
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
            out.push_str(&scalar(v, indent, false));
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
                out.push_str(&scalar(v, indent, false));
                out.push('\n');
            }
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn scalar(v: &Value, indent: usize, key: bool) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_scalar(s, indent, key),
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

fn printable(c: char) -> bool {
    matches!(c, '\t' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
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

fn string_scalar(s: &str, indent: usize, key: bool) -> String {
    let all_printable = s.chars().all(|c| printable(c) || c == '\n');
    if s.contains('\n') && !key && all_printable && !s.lines().any(|l| l.ends_with([' ', '\t'])) {
        return literal(s, indent);
    }
    if !all_printable || s.contains('\n') {
        return double_quoted(s);
    }
    if !reads_back_as_string(s) {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        if key {
            return s.to_string();
        }
        return fold_plain(s, indent);
    }
    format!("'{}'", s.replace('\'', "''"))
}

/// Breaks a long plain scalar at single spaces past the preferred width, like libyaml.
fn fold_plain(s: &str, indent: usize) -> String {
    if s.len() + indent < BEST_WIDTH || !s.contains(' ') {
        return s.to_string();
    }
    let mut out = String::new();
    // The scalar starts after "key: " at about indent + something; libyaml counts the real
    // column, which we approximate from the indentation.
    let mut col = indent + 2;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev_space = i > 0 && chars[i - 1] == ' ';
        if c == ' '
            && !prev_space
            && col > BEST_WIDTH
            && chars.get(i + 1).is_some_and(|n| *n != ' ')
        {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent + 2));
            col = indent + 2;
            continue;
        }
        out.push(c);
        col += 1;
    }
    out
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

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{B}' => out.push_str("\\v"),
            '\u{C}' => out.push_str("\\f"),
            '\u{1B}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{A0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !printable(c) => {
                let v = c as u32;
                if v <= 0xFF {
                    out.push_str(&format!("\\x{v:02X}"));
                } else if v <= 0xFFFF {
                    out.push_str(&format!("\\u{v:04X}"));
                } else {
                    out.push_str(&format!("\\U{v:08X}"));
                }
            }
            c => out.push(c),
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
