//! Go's view of JSON: sorted keys (so a strategic-merge patch serialises like `json.Marshal`
//! of a `map[string]interface{}`) and Go's string escaping.

use serde_json::{Map, Value};

/// A copy of `v` with the keys of every object sorted, as Go marshals a generic map.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(x) = m.get(k) {
                    out.insert(k.clone(), sorted(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Serialises like Go's `json.Marshal`: compact, object keys in the order given, and strings
/// escaped the Go way (`<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`).
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go(v, &mut out);
    out
}

fn write_go(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_go_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                write_go(x, out);
            }
            out.push('}');
        }
    }
}

fn write_go_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_sorts_recursively() {
        let v = json!({"b": [{"z": 1, "a": 2}], "a": {"y": 1, "x": 2}});
        assert_eq!(
            go_json(&sorted(&v)),
            r#"{"a":{"x":2,"y":1},"b":[{"a":2,"z":1}]}"#
        );
    }

    #[test]
    fn go_json_escapes_like_go() {
        let v = json!({"c": ["a<b>&c", "\u{2028}\u{1}\t\"\\"]});
        assert_eq!(
            go_json(&v),
            r#"{"c":["a\u003cb\u003e\u0026c","\u2028\u0001\t\"\\"]}"#
        );
    }
}
