//! Go's text, for the places kdebug must print byte for byte what kubectl prints:
//! `strconv.Quote` (what `%q` prints), `encoding/json` (sorted generic maps, compact and
//! indented output, Go's string escaping) and `strconv.FormatFloat`.

use serde_json::{Map, Value};

/// Go's `strconv.Quote` (what `%q` prints).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if let Some(e) = short_escape(c) {
            out.push_str(e);
            continue;
        }
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The escapes Go's `%q` and its JSON encoder share.
fn short_escape(c: char) -> Option<&'static str> {
    Some(match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\u{8}' => "\\b",
        '\u{c}' => "\\f",
        _ => return None,
    })
}

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
pub fn json(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out, None, 0);
    out
}

/// Serialises like Go's `json.MarshalIndent(v, "", "    ")` (what `kubectl config view -o
/// json` prints): one member per line, `": "` between key and value, `[]` and `{}` when empty.
pub fn json_indent(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out, Some("    "), 0);
    out
}

/// One writer for both layouts: `indent` None is compact.
fn write_json(v: &Value, out: &mut String, indent: Option<&str>, depth: usize) {
    let newline = |out: &mut String, depth: usize| {
        if let Some(unit) = indent {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(unit);
            }
        }
    };
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
                newline(out, depth + 1);
                write_json(x, out, indent, depth + 1);
            }
            if !a.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_go_string(k, out);
                out.push_str(if indent.is_some() { ": " } else { ":" });
                write_json(x, out, indent, depth + 1);
            }
            if !m.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
    }
}

fn write_go_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        if let Some(e) = short_escape(c) {
            out.push_str(e);
            continue;
        }
        match c {
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

/// strconv.FormatFloat(f, 'g', -1, 32), with go-yaml's names for the special values.
pub fn format_float32_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let x = f as f32;
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    shortest_g(&format!("{:e}", x.abs()), x < 0.0)
}

/// strconv.FormatFloat(f, 'g', -1, 64) for a finite, non-zero `f`.
pub fn format_float64_g(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    shortest_g(&format!("{:e}", f.abs()), f < 0.0)
}

/// Go's shortest %g from the shortest digits and exponent Rust's `{:e}` gives ("d.ddde<exp>").
fn shortest_g(e: &str, negative: bool) -> String {
    let (mant, exp) = match e.split_once('e') {
        Some((m, x)) => (m.replace('.', ""), x.parse::<i32>().unwrap_or(0)),
        None => (e.to_string(), 0),
    };
    let nd = mant.len() as i32;
    let sign = if negative { "-" } else { "" };
    // Go's shortest %g switches to %e when exp < -4 || exp >= 6.
    let use_exp = !(-4..6).contains(&exp);
    if use_exp {
        let mut m = mant[..1].to_string();
        if nd > 1 {
            m.push('.');
            m.push_str(&mant[1..]);
        }
        let es = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{es}{:02}", exp.abs());
    }
    let dp = exp + 1; // digits before the decimal point
    let s = if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), mant)
    } else if dp >= nd {
        format!("{}{}", mant, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &mant[..dp as usize], &mant[dp as usize..])
    };
    format!("{sign}{s}")
}

/// A number read on kubectl's YAML path into a string field, as Go's
/// `strconv.FormatFloat(f, 'g', -1, 64)` writes it in the usual cases (integral values as
/// integers; the exponent forms of very large or small numbers differ).
pub fn format_float_plain(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_sorts_recursively() {
        let v = json!({"b": [{"z": 1, "a": 2}], "a": {"y": 1, "x": 2}});
        assert_eq!(
            json(&sorted(&v)),
            r#"{"a":{"x":2,"y":1},"b":[{"a":2,"z":1}]}"#
        );
    }

    #[test]
    fn go_json_escapes_like_go() {
        let v = json!({"c": ["a<b>&c", "\u{2028}\u{1}\t\"\\"]});
        assert_eq!(
            json(&v),
            r#"{"c":["a\u003cb\u003e\u0026c","\u2028\u0001\t\"\\"]}"#
        );
    }

    #[test]
    fn json_indent_like_marshal_indent() {
        assert_eq!(
            json_indent(&json!({"a": "<&>"})),
            "{\n    \"a\": \"\\u003c\\u0026\\u003e\"\n}"
        );
        assert_eq!(
            json_indent(&json!({"a": [1, {}], "b": [], "c": {"d": null}})),
            "{\n    \"a\": [\n        1,\n        {}\n    ],\n    \"b\": [],\n    \"c\": {\n        \"d\": null\n    }\n}"
        );
    }

    #[test]
    fn quote_like_strconv() {
        assert_eq!(quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
    }

    #[test]
    fn float_keys_format_like_go() {
        assert_eq!(format_float32_g(1.0), "1");
        assert_eq!(format_float32_g(1000.0), "1000");
        assert_eq!(format_float32_g(2.5), "2.5");
        assert_eq!(format_float32_g(0.1), "0.1");
        assert_eq!(format_float32_g(1e21), "1e+21");
        assert_eq!(format_float32_g(1e6), "1e+06");
        assert_eq!(format_float32_g(123456.0), "123456");
        assert_eq!(format_float32_g(0.00001), "1e-05");
    }
}
