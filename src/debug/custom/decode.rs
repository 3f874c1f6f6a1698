//! Go's `json.Unmarshal` into a Container and `json.Marshal` back, on kubectl's lenient YAML
//! path, with Go's error messages.

use serde_json::{Map, Number, Value};

use super::schema::Ty::*;
use super::schema::*;
use crate::debug::DebugError;

/// Decodes a `--custom` document the way kubectl does and returns the JSON Go would marshal
/// back. `name` is `""` here; the merge sets it to the debug container's name.
///
/// kubectl tries `json.Unmarshal` first and, when that fails, `sigs.k8s.io/yaml` (YAML to
/// JSON, then `json.Unmarshal`), reporting the second error. The YAML path is more lenient:
/// scalars meant for string fields become strings (`{"command": [3]}` is `["3"]`) and
/// integral floats fit integer fields (`1.0`). A document without type errors decodes the same
/// both ways, so decoding once with the lenient rules gives kubectl's result and its message.
pub fn decode(doc: &Value) -> Result<Value, DebugError> {
    match doc {
        Value::Object(_) => {
            let mut path = Vec::new();
            decode_struct(doc, &CONTAINER_T, &mut path)
                .map(Value::Object)
                .map_err(DebugError::CustomDecode)
        }
        other => Err(DebugError::CustomDecode(DecodeError::NotContainer(
            json_kind(other),
        ))),
    }
}

/// Go's `UnmarshalTypeError`: what was found, in which struct, at which field path, and the
/// field's Go type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    what: String,
    strukt: &'static str,
    path: String,
    want: String,
}

/// Why a `--custom` document does not decode into a Container, as Go's json.Unmarshal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The document is no object (its JSON kind).
    NotContainer(String),
    Type(Box<TypeMismatch>),
    /// A `resource.Quantity` that does not parse.
    Quantity,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("error unmarshaling JSON: while decoding JSON: ")?;
        match self {
            DecodeError::NotContainer(kind) => write!(
                f,
                "json: cannot unmarshal {kind} into Go value of type v1.Container"
            ),
            DecodeError::Type(t) => write!(
                f,
                "json: cannot unmarshal {} into Go struct field {}.{} of type {}",
                t.what, t.strukt, t.path, t.want
            ),
            DecodeError::Quantity => f.write_str("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        }
    }
}

/// [`decode`] with kubectl's message naming the file:
/// `<path> does not contain a valid container spec: …`.
pub fn decode_file(path: &str, doc: &Value) -> Result<Value, DebugError> {
    decode(doc).map_err(|e| match e {
        DebugError::CustomDecode(cause) => DebugError::CustomSpec {
            path: path.to_string(),
            cause,
        },
        other => other,
    })
}

pub(super) fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

pub(super) fn go_type(ty: Ty) -> String {
    match ty {
        Str | PtrStr => "string".into(),
        Bool | PtrBool => "bool".into(),
        I32 => "int32".into(),
        I64 | PtrI64 => "int64".into(),
        IntOrStr => "intstr.IntOrString".into(),
        Quantity => "resource.Quantity".into(),
        StrList => "[]string".into(),
        QtyMap => "v1.ResourceList".into(),
        Struct(s) => format!("v1.{}", s.name),
        Ptr(s) => format!("*v1.{}", s.name),
        List(s) => format!("[]v1.{}", s.name),
    }
}

/// Go's `UnmarshalTypeError`: the innermost struct, the whole field path.
pub(super) fn type_error(what: String, ty: Ty, s: &S, path: &[&str]) -> DecodeError {
    DecodeError::Type(Box::new(TypeMismatch {
        what,
        strukt: s.name,
        path: path.join("."),
        want: go_type(ty),
    }))
}

/// Go matches JSON keys to fields exactly first, then case-insensitively.
pub(super) fn field_index(s: &S, key: &str) -> Option<usize> {
    s.fields.iter().position(|f| f.json == key).or_else(|| {
        s.fields
            .iter()
            .position(|f| f.json.eq_ignore_ascii_case(key))
    })
}

pub(super) fn decode_struct(
    v: &Value,
    s: &'static S,
    path: &mut Vec<&'static str>,
) -> Result<Map<String, Value>, DecodeError> {
    let mut slots: Vec<Option<Value>> = vec![None; s.fields.len()];
    if let Value::Object(m) = v {
        for (k, x) in m {
            let Some(idx) = field_index(s, k) else {
                continue; // unknown field: dropped
            };
            let Some(field) = s.fields.get(idx) else {
                continue;
            };
            path.push(field.json);
            let decoded = decode_value(x, field.ty, s, path);
            path.pop();
            let decoded = decoded?;
            if let Some(slot) = slots.get_mut(idx) {
                // A later spelling of the same field overwrites the earlier one.
                if decoded.is_some() || x.is_null() {
                    *slot = decoded;
                }
            }
        }
    }
    let mut out = Map::new();
    for (field, slot) in s.fields.iter().zip(slots) {
        if let Some(v) = marshal_field(field, slot) {
            out.insert(field.json.to_string(), v);
        }
    }
    Ok(out)
}

/// Go's marshal of one field: `None` when `omitempty` drops it.
pub(super) fn marshal_field(field: &F, slot: Option<Value>) -> Option<Value> {
    let is_empty = |v: &Value| match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Null => true,
    };
    match field.ty {
        // Structs ignore omitempty: always written, zero when unset.
        Struct(s) => Some(slot.unwrap_or_else(|| {
            let mut p = Vec::new();
            decode_struct(&Value::Null, s, &mut p)
                .map(Value::Object)
                .unwrap_or(Value::Object(Map::new()))
        })),
        IntOrStr => Some(slot.unwrap_or(Value::Number(Number::from(0)))),
        Quantity => Some(slot.unwrap_or(Value::String("0".into()))),
        // Pointers: written when non-nil, whatever the pointee.
        PtrStr | PtrBool | PtrI64 | Ptr(_) => match slot {
            Some(v) => Some(v),
            None if field.omitempty => None,
            None => Some(Value::Null),
        },
        Str | Bool | I32 | I64 | StrList | QtyMap | List(_) => {
            let zero = match field.ty {
                Str => Value::String(String::new()),
                Bool => Value::Bool(false),
                I32 | I64 => Value::Number(Number::from(0)),
                _ => Value::Null,
            };
            let v = slot.unwrap_or(zero);
            if field.omitempty && is_empty(&v) {
                None
            } else {
                Some(v)
            }
        }
    }
}

/// Decodes one JSON value for a field of type `ty`; `Ok(None)` for JSON null (Go leaves the
/// field zero/nil).
pub(super) fn decode_value(
    x: &Value,
    ty: Ty,
    s: &'static S,
    path: &mut Vec<&'static str>,
) -> Result<Option<Value>, DecodeError> {
    if x.is_null() {
        return Ok(None);
    }
    let mismatch = |what: String, path: &[&str]| Err(type_error(what, ty, s, path));
    match ty {
        Str | PtrStr => match yaml_string(x) {
            Some(v) => Ok(Some(v)),
            None => mismatch(json_kind(x), path),
        },
        Bool | PtrBool => match x {
            Value::Bool(_) => Ok(Some(x.clone())),
            other => mismatch(json_kind(other), path),
        },
        I32 | I64 | PtrI64 => match x {
            Value::Number(n) => match integer(n, matches!(ty, I32)) {
                Some(i) => Ok(Some(Value::Number(Number::from(i)))),
                None => mismatch(format!("number {n}"), path),
            },
            other => mismatch(json_kind(other), path),
        },
        // IntOrString unmarshals non-strings into its int32; the error gets the field context.
        IntOrStr => match x {
            Value::String(_) => Ok(Some(x.clone())),
            Value::Number(n) => match integer(n, true) {
                Some(i) => Ok(Some(Value::Number(Number::from(i)))),
                None => Err(type_error(format!("number {n}"), I32, s, path)),
            },
            other => Err(type_error(json_kind(other), I32, s, path)),
        },
        Quantity => decode_quantity(x).map(Some),
        StrList => match x {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match (item, yaml_string(item)) {
                        (_, Some(v)) => out.push(v),
                        // Go decodes null into a string element as "".
                        (Value::Null, None) => out.push(Value::String(String::new())),
                        (other, None) => {
                            return Err(type_error(json_kind(other), Str, s, path));
                        }
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => mismatch(json_kind(other), path),
        },
        QtyMap => match x {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, q) in m {
                    out.insert(k.clone(), decode_quantity(q)?);
                }
                Ok(Some(Value::Object(out)))
            }
            other => mismatch(json_kind(other), path),
        },
        Struct(inner) | Ptr(inner) => match x {
            Value::Object(_) => decode_struct(x, inner, path).map(|m| Some(Value::Object(m))),
            other => mismatch(json_kind(other), path),
        },
        List(inner) => match x {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Object(_) | Value::Null => {
                            out.push(Value::Object(decode_struct(item, inner, path)?));
                        }
                        other => return Err(type_error(json_kind(other), Struct(inner), s, path)),
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => mismatch(json_kind(other), path),
        },
    }
}

/// A string field's value on kubectl's YAML path: strings as they are, numbers and booleans
/// turned into their text.
pub(super) fn yaml_string(x: &Value) -> Option<Value> {
    match x {
        Value::String(_) => Some(x.clone()),
        Value::Bool(b) => Some(Value::String(b.to_string())),
        Value::Number(n) => Some(Value::String(match n.as_f64() {
            Some(f) if n.is_f64() => crate::text::go::format_float_plain(f),
            _ => n.to_string(),
        })),
        _ => None,
    }
}

/// An integer for an int field: integer literals, and integral floats (the YAML path turns
/// `1.0` into `1`); `int32` fields are range-checked.
pub(super) fn integer(n: &Number, int32: bool) -> Option<i64> {
    let i = match n.as_i64() {
        Some(i) => i,
        None => {
            let f = n.as_f64()?;
            if f.fract() != 0.0 || f.abs() > 9.0e18 {
                return None;
            }
            f as i64
        }
    };
    if int32 && i32::try_from(i).is_err() {
        return None;
    }
    Some(i)
}

/// `resource.Quantity` accepts a string or a bare number. The canonical re-formatting Go does
/// (`1000m` -> `1`) is left to the server, which canonicalises again anyway.
pub(super) fn decode_quantity(x: &Value) -> Result<Value, DecodeError> {
    let text = match x {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => return Ok(Value::String("0".into())),
        _ => String::new(),
    };
    if is_quantity(&text) {
        Ok(Value::String(text))
    } else {
        Err(DecodeError::Quantity)
    }
}

/// `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`
pub(super) fn is_quantity(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let start = i;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
        i += 1;
    }
    if i == start {
        return false;
    }
    while b.get(i).is_some_and(|c| b"eEinumkKMGTP".contains(c)) {
        i += 1;
    }
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        for ok in ["1", "100m", "1Gi", "1e3", "+1.5", "0.5"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "lots", "1 Gi", "Gi"] {
            assert!(!is_quantity(bad), "{bad}");
        }
        let d = decode(&json!({"resources": {"requests": {"cpu": 2}}})).unwrap();
        assert_eq!(d["resources"]["requests"]["cpu"], "2");
    }
}
