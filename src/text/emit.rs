//! A small YAML writer in the style kubectl prints (`sigs.k8s.io/yaml` -> go-yaml v2): keys
//! sorted, sequences in a mapping not indented, 2-space indentation, strings quoted whenever
//! they would read back as something else (bool, number, null) or cannot be plain, multi-line
//! strings as literal blocks, long plain strings folded after column 80.

use serde_json::Value;

use crate::text::yaml;

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
    merge_sort(m.iter().collect(), &|a, b| key_order(a.0, b.0))
}

/// go-yaml's map key order (`keyList.Less`) for string keys: rune by rune, letters after
/// anything else, runs of digits compared as numbers (`item9` before `item10`).
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl { Less } else { Greater };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            // A zero after other digits is part of a number, not a leading zero.
            if ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|c| *c != '0')
            {
                an = 1;
                bn = 1;
            }
        }
        let digits = |r: &[char], mut n: i64| {
            let mut j = i;
            while j < r.len() && r[j].is_ascii_digit() {
                n = n.wrapping_mul(10).wrapping_add(r[j] as i64 - '0' as i64);
                j += 1;
            }
            (j, n)
        };
        let (ai, an) = digits(&ar, an);
        let (bi, bn) = digits(&br, bn);
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// A merge sort that accepts any comparison: go-yaml's order is not always a total order,
/// and the standard sorts may panic on those.
fn merge_sort<T: Copy>(v: Vec<T>, cmp: &dyn Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    if v.len() <= 1 {
        return v;
    }
    let right = merge_sort(v[v.len() / 2..].to_vec(), cmp);
    let left = merge_sort(v[..v.len() / 2].to_vec(), cmp);
    let mut out = Vec::with_capacity(v.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&right[j], &left[i]) == std::cmp::Ordering::Less {
            out.push(right[j]);
            j += 1;
        } else {
            out.push(left[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    out
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
        // Any line break makes the key multi-line to go-yaml, \r and NEL included.
        if k.len() > MAX_SIMPLE_KEY || k.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
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
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => go_float(f),
            _ => n.to_string(),
        },
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

/// A float as kubectl prints it: encoding/json writes it (exponent form below 1e-6 or from
/// 1e21, else decimal), go-yaml reads that back (an integer when there is no '.' or 'e') and
/// writes floats with strconv's shortest %g.
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if f == 0.0 {
        return "0".into();
    }
    // An integral value within int64 (or, positive, uint64) comes back from go-yaml as an
    // integer: its shortest decimal digits.
    if (1e-6..1e21).contains(&abs) && f.fract() == 0.0 && (abs < 9.2e18 || f > 0.0 && abs < 1.8e19)
    {
        return format!("{f}");
    }
    super::go::format_float64_g(f)
}

/// go-yaml's encoder writes a string plain (when the emitter allows it) only if it would not
/// read back as something else: a null, bool, number, merge key, base-60 float or timestamp.
fn can_use_plain(s: &str) -> bool {
    !s.is_empty() && yaml::plain_resolves_to_string(s) && !is_base60_float(s) && !is_timestamp(s)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let mut i = 0;
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let g = &b[start..i];
        let ok = match g {
            [d] => d.is_ascii_digit(),
            [a, _] => (b'0'..=b'5').contains(a),
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v2's parseTimestamp: `2006-1-2T15:4:5.999999999Z07:00` (T or t), `2006-1-2
/// 15:4:5.999999999` or `2006-1-2`, with Go's range checks.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // Up to `max_len` digits (at least one), within lo..=hi.
    let num = |i: &mut usize, max_len: usize, lo: u32, hi: u32| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max_len {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        let v: u32 = s[start..*i].parse().ok()?;
        (lo..=hi).contains(&v).then_some(v)
    };
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    let Some(month) = num(&mut i, 2, 1, 12) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if num(&mut i, 2, 1, days).is_none() {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zone = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    for (k, hi) in [(0, 23), (1, 59), (2, 59)] {
        if k > 0 {
            if b.get(i) != Some(&b':') {
                return false;
            }
            i += 1;
        }
        if num(&mut i, 2, 0, hi).is_none() {
            return false;
        }
    }
    if i + 1 < b.len() && (b[i] == b'.' || b[i] == b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if !zone {
        return i == b.len();
    }
    match &b[i..] {
        [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] => {
            (*sign == b'+' || *sign == b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
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
    let fold = (!key).then_some(indent + 2);
    // Line breaks other than \n (CR, NEL, LS, PS) are escaped: written raw, the reader would
    // take them for line ends (go-yaml writes them raw in single quotes; that does not read
    // back, found by fuzzing).
    if s.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return double_quoted(s, col, fold);
    }
    let all_printable = s.chars().all(|c| printable(c) || c == '\n');
    if s.contains('\n') && !key && all_printable && !s.lines().any(|l| l.ends_with([' ', '\t'])) {
        return literal(s, indent);
    }
    if !all_printable || s.contains('\n') || !can_use_plain(s) {
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
    // libyaml's chomping hint: strip without a final break, keep with two or when the
    // value is one line break alone (clipping would read back empty: fuzz crash-c14fb004).
    match trailing {
        0 => out.push('-'),
        1 if s.len() > 1 => {}
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

    /// Found by comparing with kubectl over the fuzz corpus: what go-yaml quotes.
    #[test]
    fn plain_only_when_it_reads_back_as_the_same_string() {
        let cases = [
            ("2001-12-14", "\"2001-12-14\""),
            (
                "2001-12-14t21:59:43.10-05:00",
                "\"2001-12-14t21:59:43.10-05:00\"",
            ),
            ("2001-12-14 21:59:43.10", "\"2001-12-14 21:59:43.10\""),
            ("2000-2-29", "\"2000-2-29\""),
            ("2001-2-30", "2001-2-30"),
            ("2001-12-14T1:2:3", "2001-12-14T1:2:3"),
            ("1:20", "\"1:20\""),
            ("190:20:30.15", "\"190:20:30.15\""),
            ("1:60", "1:60"),
            ("100:", "'100:'"),
            ("[a]", "'[a]'"),
            ("-", "'-'"),
            ("a: b", "'a: b'"),
            ("12e", "12e"),
            ("1_000", "\"1_000\""),
        ];
        for (s, want) in cases {
            assert_eq!(to_yaml(&json!({ "k": s })), format!("k: {want}\n"), "{s:?}");
        }
        assert_eq!(to_yaml(&json!({"us\r": "x"})), "? \"us\\r\"\n: x\n");
    }

    #[test]
    fn floats_and_key_order_like_kubectl() {
        let v = json!({"a": 1.5, "b": 12345678901234567890.0, "c": 6e-06, "d": 0.0001, "e": 1e21, "h": 123456.7, "i": 1.5e300, "k": 0.00001234, "l": 1234567.5});
        assert_eq!(
            to_yaml(&v),
            "a: 1.5\nb: 12345678901234567000\nc: 6e-06\nd: 0.0001\ne: 1e+21\nh: 123456.7\ni: 1.5e+300\nk: 1.234e-05\nl: 1.2345675e+06\n"
        );
        let keys =
            json!({"item10": 1, "item9": 2, "Zeta": 3, "_x": 4, "id-token": 5, "idp-url": 6});
        assert_eq!(
            to_yaml(&keys),
            "_x: 4\nZeta: 3\nid-token: 5\nidp-url: 6\nitem9: 2\nitem10: 1\n"
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
        round_trip(json!({"k": "\n", "l": ["\n"]}));
        assert_eq!(to_yaml(&json!({"k": "\n"})), "k: |2+\n\n");
        // crash-38d87d3d: a LINE SEPARATOR written raw inside single quotes.
        round_trip(
            json!({"k": "na\\\\\\\u{2028}   ", "a": "x\u{2028}y", "b": "x\u{85}y", "c": "x\u{2029} y", "d": "a\rb", "e": "l\u{2028}\nm\n"}),
        );
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
