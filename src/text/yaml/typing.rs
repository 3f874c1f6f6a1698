//! Stage two: the syntax tree to the typed tree, with YAML 1.1 typing as go-yaml v2 resolves
//! it, merge keys, alias expansion within the limits, and sigs.k8s.io/yaml's key strings.

use std::collections::HashMap;

use super::tree::YAML_TAG;
use super::tree::{Data, Entry, Node, NodeKind, Style, Value};
use super::{err_at, PResult, Pos, MAX_DEPTH, MAX_EXPANDED_NODES};

/// A resolved scalar.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Merge,
}

/// go-yaml v2's resolve(): the YAML 1.1 meaning of an untagged plain scalar.
pub(super) fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        "<<" => return Scalar::Merge,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        if is_yaml_float(s) {
            if let Some(f) = go_parse_float(s) {
                return Scalar::Float(f);
            }
        }
        return Scalar::Str(s.to_string());
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Scalar::Str(s.to_string());
    }
    // Timestamps stay text (go-yaml v2 keeps them as strings when decoding into interface{}).
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(v) = go_parse_int(&plain) {
        return v;
    }
    if is_yaml_float(&plain) {
        if let Some(f) = go_parse_float(&plain) {
            return Scalar::Float(f);
        }
    }
    Scalar::Str(s.to_string())
}

/// Whether go-yaml v2 resolves `s`, written plain, to a string (and not to a null, bool,
/// number or merge key). The writer quotes the other ones.
pub(crate) fn plain_resolves_to_string(s: &str) -> bool {
    matches!(resolve_plain(s), Scalar::Str(_))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub(super) fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// strconv.ParseFloat for the forms the regex admits; out of range is an error (-> string).
pub(super) fn go_parse_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() {
        None
    } else {
        Some(f)
    }
}

/// strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64): sign, 0x/0o/0b prefixes, leading-0 octal.
pub(super) fn go_parse_int(s: &str) -> Option<Scalar> {
    let (neg, signed, body) = match s.as_bytes().first()? {
        b'-' => (true, true, &s[1..]),
        b'+' => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= 1u64 << 63 {
            return Some(Scalar::Int((mag as i64).wrapping_neg()));
        }
        return None;
    }
    if mag <= i64::MAX as u64 {
        return Some(Scalar::Int(mag as i64));
    }
    if signed {
        return None; // ParseUint takes no sign
    }
    Some(Scalar::Uint(mag))
}

pub(super) struct Converter<'f> {
    file: &'f str,
    nodes: usize,
    bytes: usize,
    byte_budget: usize,
}

impl<'f> Converter<'f> {
    /// A conversion of `file` that may expand to `byte_budget` scalar bytes.
    pub(super) fn new(file: &'f str, byte_budget: usize) -> Converter<'f> {
        Converter {
            file,
            nodes: 0,
            bytes: 0,
            byte_budget,
        }
    }

    fn err<T>(&self, pos: Pos, msg: impl Into<String>) -> PResult<T> {
        Err(err_at(self.file, pos, msg))
    }

    fn count(&mut self, pos: Pos, bytes: usize) -> PResult<()> {
        self.nodes += 1;
        self.bytes += bytes;
        if self.nodes > MAX_EXPANDED_NODES || self.bytes > self.byte_budget {
            return self.err(pos, format!("document expands to too many nodes through aliases (more than {MAX_EXPANDED_NODES} nodes or {} bytes)", self.byte_budget));
        }
        Ok(())
    }

    /// Resolves a scalar node with its tag, as go-yaml v2's decoder does.
    fn scalar(&self, node: &Node, text: &str, style: Style) -> PResult<Scalar> {
        let tag = node.tag.as_deref();
        let short = tag.and_then(|t| t.strip_prefix(YAML_TAG));
        match (tag, short) {
            (None, _) if style == Style::Plain => Ok(resolve_plain(text)),
            (None, _) => Ok(Scalar::Str(text.to_string())),
            (Some(_), Some("str")) | (Some(_), Some("timestamp")) => {
                Ok(Scalar::Str(text.to_string()))
            }
            (Some(_), Some("binary")) => match crate::text::b64::decode(text) {
                Ok(bytes) => Ok(Scalar::Str(match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(e) => crate::text::b64::encode(e.as_bytes()),
                })),
                Err(e) => self.err(node.pos, format!("cannot decode !!binary value: {e}")),
            },
            (Some(_), Some(kind @ ("bool" | "int" | "float" | "null" | "merge"))) => {
                let r = if text.is_empty() {
                    Scalar::Null
                } else {
                    resolve_plain(text)
                };
                let ok = match (kind, &r) {
                    ("bool", Scalar::Bool(_))
                    | ("int", Scalar::Int(_) | Scalar::Uint(_))
                    | ("float", Scalar::Float(_)) => true,
                    ("null", Scalar::Null) | ("merge", Scalar::Merge) => true,
                    ("float", Scalar::Int(i)) => return Ok(Scalar::Float(*i as f64)),
                    ("float", Scalar::Uint(u)) => return Ok(Scalar::Float(*u as f64)),
                    _ => false,
                };
                if ok {
                    Ok(r)
                } else {
                    self.err(node.pos, format!("cannot decode {text:?} as a !!{kind}"))
                }
            }
            // Unknown tags (local `!x`, `%TAG` handles): the text is kept as a string.
            _ => Ok(Scalar::Str(text.to_string())),
        }
    }

    pub(super) fn value(&mut self, node: &Node, depth: usize) -> PResult<Value> {
        if depth > MAX_DEPTH {
            return self.err(
                node.pos,
                format!("document is nested more than {MAX_DEPTH} levels deep (through aliases)"),
            );
        }
        let pos = node.pos;
        match &node.kind {
            NodeKind::Alias(target) => {
                let mut v = self.value(target, depth + 1)?;
                v.pos = pos;
                Ok(v)
            }
            NodeKind::Scalar(text, style) => {
                self.count(pos, text.len())?;
                let data = match self.scalar(node, text, *style)? {
                    Scalar::Null => Data::Null,
                    Scalar::Bool(b) => Data::Bool(b),
                    Scalar::Int(i) => Data::Number(i.into()),
                    Scalar::Uint(u) => Data::Number(u.into()),
                    Scalar::Float(f) => Data::Number(float_number(f).ok_or_else(|| {
                        err_at(
                            self.file,
                            pos,
                            format!(
                                "unsupported value: {} (JSON has no infinity or NaN)",
                                go_float_name(f)
                            ),
                        )
                    })?),
                    Scalar::Str(s) => Data::String(s),
                    Scalar::Merge => Data::String("<<".into()),
                };
                Ok(Value { pos, data })
            }
            NodeKind::Seq(items) => {
                self.count(pos, 0)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.value(item, depth + 1)?);
                }
                Ok(Value {
                    pos,
                    data: Data::Array(out),
                })
            }
            NodeKind::Map(_) => {
                self.count(pos, 0)?;
                let mut map = ObjBuilder::default();
                self.fill_map(node, &mut map, depth)?;
                Ok(Value {
                    pos,
                    data: Data::Object(map.entries),
                })
            }
        }
    }

    /// Sets a mapping's pairs into `out` in order, each one overwriting an earlier equal key.
    /// `<<` merges the referenced mapping(s) the go-yaml v2 way: at the point where it is
    /// written (so it overwrites keys set before it), and for a list the first map wins.
    fn fill_map(&mut self, node: &Node, out: &mut ObjBuilder, depth: usize) -> PResult<()> {
        let pairs = match &node.kind {
            NodeKind::Map(p) => p,
            NodeKind::Alias(t) => return self.fill_map(t, out, depth + 1),
            _ => {
                return self.err(
                    node.pos,
                    "map merge requires a map or a sequence of maps as the value",
                )
            }
        };
        if depth > MAX_DEPTH {
            return self.err(
                node.pos,
                format!("document is nested more than {MAX_DEPTH} levels deep (through aliases)"),
            );
        }
        for (k, v) in pairs {
            let kn = deref(k);
            if let NodeKind::Scalar(text, style) = &kn.kind {
                if self.scalar(kn, text, *style)? == Scalar::Merge {
                    self.merge(v, out, depth + 1)?;
                    continue;
                }
            }
            let key = self.key_string(k)?;
            let value = self.value(v, depth + 1)?;
            out.set(key, k.pos, value);
        }
        Ok(())
    }

    fn merge(&mut self, v: &Node, out: &mut ObjBuilder, depth: usize) -> PResult<()> {
        let target = deref(v);
        match &target.kind {
            NodeKind::Map(_) => self.fill_map(target, out, depth),
            NodeKind::Seq(items) => {
                for item in items.iter().rev() {
                    let t = deref(item);
                    if !matches!(t.kind, NodeKind::Map(_)) {
                        return self.err(
                            item.pos,
                            "map merge requires a map or a sequence of maps as the value",
                        );
                    }
                    self.fill_map(t, out, depth + 1)?;
                }
                Ok(())
            }
            _ => self.err(
                v.pos,
                "map merge requires a map or a sequence of maps as the value",
            ),
        }
    }

    /// sigs.k8s.io/yaml turns map keys into strings: bools as true/false, numbers in Go's
    /// formatting (floats via FormatFloat(f, 'g', -1, 32)); a null key is an error.
    fn key_string(&mut self, k: &Node) -> PResult<String> {
        let kn = deref(k);
        match &kn.kind {
            NodeKind::Scalar(text, style) => match self.scalar(kn, text, *style)? {
                Scalar::Str(s) => Ok(s),
                Scalar::Merge => Ok("<<".into()),
                Scalar::Bool(b) => Ok(b.to_string()),
                Scalar::Int(i) => Ok(i.to_string()),
                Scalar::Float(f) => Ok(crate::text::go::format_float32_g(f)),
                Scalar::Uint(u) => self.err(
                    k.pos,
                    format!("unsupported map key {u} (too large for a signed integer)"),
                ),
                Scalar::Null => self.err(k.pos, "unsupported map key: null"),
            },
            _ => self.err(
                k.pos,
                "unsupported map key: a mapping or a sequence cannot be a key",
            ),
        }
    }
}

pub(super) fn deref(n: &Node) -> &Node {
    let mut cur = n;
    // Aliases point at complete, earlier nodes, so this chain is finite (usually one step).
    while let NodeKind::Alias(t) = &cur.kind {
        cur = t;
    }
    cur
}

/// Object under construction: later keys overwrite earlier ones in place (Go map semantics).
#[derive(Default)]
pub(super) struct ObjBuilder {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl ObjBuilder {
    fn set(&mut self, key: String, key_pos: Pos, value: Value) {
        match self.index.get(&key) {
            Some(&i) => {
                self.entries[i].value = value;
                self.entries[i].key_pos = key_pos;
            }
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push(Entry {
                    key,
                    key_pos,
                    value,
                });
            }
        }
    }
}

/// JSON numbers from floats; integral values print as integers (Go prints 1e3 as 1000).
pub(super) fn float_number(f: f64) -> Option<serde_json::Number> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(serde_json::Number::from(f as i64));
    }
    serde_json::Number::from_f64(f)
}

pub(super) fn go_float_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}
