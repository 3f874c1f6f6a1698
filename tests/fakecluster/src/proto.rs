//! A generic decoder for Kubernetes protobuf bodies (`k8s\0` + runtime.Unknown), driven by a
//! schema of field numbers (k8s-proto-schema.json), producing the JSON Go would print.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
struct Field {
    json: String,
    num: Option<u64>,
    ty: String,
    omitempty: bool,
    repeated: bool,
    inline: bool,
}

struct Schema {
    named: HashMap<String, String>,
    types: HashMap<String, Vec<Field>>,
}

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        let v: Value =
            serde_json::from_str(include_str!("k8s-proto-schema.json")).expect("schema json");
        let named = v["named"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut types = HashMap::new();
        for (k, t) in v["types"].as_object().into_iter().flatten() {
            let fields = t["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| Field {
                    json: f["json"].as_str().unwrap_or("").to_string(),
                    num: f["num"].as_u64(),
                    ty: f["type"].as_str().unwrap_or("").to_string(),
                    omitempty: f["omitempty"].as_bool().unwrap_or(false),
                    repeated: f["repeated"].as_bool().unwrap_or(false),
                    inline: f["inline"].as_bool().unwrap_or(false),
                })
                .collect();
            types.insert(k.clone(), fields);
        }
        Schema { named, types }
    })
}

/// Resolve named types to their underlying type (keeping a leading `*` or `[]`).
fn resolve(ty: &str) -> String {
    let s = schema();
    let mut t = ty.to_string();
    for _ in 0..8 {
        let (prefix, base) = if let Some(b) = t.strip_prefix('*') {
            ("*", b.to_string())
        } else if let Some(b) = t.strip_prefix("[]") {
            if b == "byte" {
                return t;
            }
            ("[]", b.to_string())
        } else {
            ("", t.clone())
        };
        match s.named.get(&base) {
            Some(u) => t = format!("{prefix}{u}"),
            None => {
                if base.starts_with("types.") {
                    return format!("{prefix}string");
                }
                return t;
            }
        }
    }
    t
}

// ---- wire format ----

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *self.b.get(self.i).ok_or("truncated varint")?;
            self.i += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err("varint too long".into());
            }
        }
    }

    fn next(&mut self) -> Result<Option<(u64, Wire<'a>)>, String> {
        if self.i >= self.b.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let num = key >> 3;
        let w = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                let s = self.b.get(self.i..self.i + 8).ok_or("truncated fixed64")?;
                self.i += 8;
                Wire::Fixed64(u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
            }
            2 => {
                let len = self.varint()? as usize;
                let s = self
                    .b
                    .get(self.i..self.i + len)
                    .ok_or("truncated length-delimited field")?;
                self.i += len;
                Wire::Bytes(s)
            }
            5 => {
                let s = self.b.get(self.i..self.i + 4).ok_or("truncated fixed32")?;
                self.i += 4;
                Wire::Fixed32(u32::from_le_bytes(s.try_into().unwrap_or([0; 4])))
            }
            other => return Err(format!("unsupported wire type {other}")),
        };
        Ok(Some((num, w)))
    }
}

fn fields_of(b: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, String> {
    let mut r = Reader { b, i: 0 };
    let mut out = Vec::new();
    while let Some(f) = r.next()? {
        out.push(f);
    }
    Ok(out)
}

fn int_of(w: &Wire, ty: &str) -> Value {
    match w {
        Wire::Varint(v) => match ty {
            "bool" => json!(*v != 0),
            "int32" => json!(*v as i64 as i32),
            "uint32" | "uint64" => json!(*v),
            _ => json!(*v as i64),
        },
        Wire::Fixed64(v) => json!(f64::from_bits(*v)),
        Wire::Fixed32(v) => json!(f32::from_bits(*v)),
        Wire::Bytes(_) => Value::Null,
    }
}

fn time_of(b: &[u8], micro: bool) -> Result<Value, String> {
    let mut secs = 0i64;
    let mut nanos = 0i64;
    for (n, w) in fields_of(b)? {
        if let Wire::Varint(v) = w {
            match n {
                1 => secs = v as i64,
                2 => nanos = v as i64 as i32 as i64,
                _ => {}
            }
        }
    }
    if secs == 0 && nanos == 0 {
        return Ok(Value::Null);
    }
    if micro {
        Ok(json!(crate::util::rfc3339_micro(
            secs,
            (nanos / 1000) as u32
        )))
    } else {
        Ok(json!(crate::util::rfc3339(secs)))
    }
}

fn string_field(b: &[u8], num: u64) -> Result<String, String> {
    for (n, w) in fields_of(b)? {
        if let (true, Wire::Bytes(s)) = (n == num, w) {
            return Ok(String::from_utf8_lossy(s).into_owned());
        }
    }
    Ok(String::new())
}

/// Decode one element (not a repeated container) of type `ty` from its wire value.
fn decode_elem(ty: &str, w: &Wire) -> Result<Value, String> {
    let ty = resolve(ty);
    let base = ty.trim_start_matches('*');
    match base {
        "string" => match w {
            Wire::Bytes(b) => Ok(json!(String::from_utf8_lossy(b))),
            _ => Ok(json!("")),
        },
        "bool" | "int32" | "int64" | "uint32" | "uint64" | "float64" | "float32" | "int" => {
            Ok(int_of(w, base))
        }
        "[]byte" => match w {
            Wire::Bytes(b) => {
                use base64::Engine;
                Ok(json!(base64::engine::general_purpose::STANDARD.encode(b)))
            }
            _ => Ok(Value::Null),
        },
        _ => {
            let Wire::Bytes(b) = w else {
                return Ok(int_of(w, "int64"));
            };
            match base {
                "meta.Time" => time_of(b, false),
                "meta.MicroTime" => time_of(b, true),
                "resource.Quantity" => Ok(json!(string_field(b, 1)?)),
                "intstr.IntOrString" => {
                    let mut kind = 0;
                    let mut iv = 0i64;
                    let mut sv = String::new();
                    for (n, w) in fields_of(b)? {
                        match (n, w) {
                            (1, Wire::Varint(v)) => kind = v,
                            (2, Wire::Varint(v)) => iv = v as i64 as i32 as i64,
                            (3, Wire::Bytes(s)) => sv = String::from_utf8_lossy(s).into_owned(),
                            _ => {}
                        }
                    }
                    Ok(if kind == 1 { json!(sv) } else { json!(iv) })
                }
                "runtime.RawExtension" | "meta.FieldsV1" => {
                    for (n, w) in fields_of(b)? {
                        if let (1, Wire::Bytes(raw)) = (n, w) {
                            return Ok(serde_json::from_slice(raw).unwrap_or(Value::Null));
                        }
                    }
                    Ok(Value::Null)
                }
                "meta.Duration" => {
                    for (n, w) in fields_of(b)? {
                        if let (1, Wire::Varint(v)) = (n, w) {
                            return Ok(json!(format!("{}s", v as f64 / 1e9)));
                        }
                    }
                    Ok(json!("0s"))
                }
                m if m.starts_with("map[") => {
                    // One map entry: {1: key, 2: value}.
                    let close = m.find(']').ok_or("bad map type")?;
                    let vt = &m[close + 1..];
                    let mut key = String::new();
                    let mut val = Value::Null;
                    for (n, w) in fields_of(b)? {
                        match n {
                            1 => {
                                if let Wire::Bytes(s) = w {
                                    key = String::from_utf8_lossy(s).into_owned();
                                }
                            }
                            2 => val = decode_elem(vt, &w)?,
                            _ => {}
                        }
                    }
                    if val.is_null() {
                        val = zero_of(vt);
                    }
                    Ok(json!({"k": key, "v": val}))
                }
                t if schema().types.contains_key(t) => decode_struct(t, b).map(Value::Object),
                other => Err(format!("no schema for type {other}")),
            }
        }
    }
}

fn zero_of(ty: &str) -> Value {
    let ty = resolve(ty);
    if ty.starts_with('*') || ty.starts_with("[]") || ty.starts_with("map[") {
        return Value::Null;
    }
    match ty.as_str() {
        "string" => json!(""),
        "bool" => json!(false),
        "int32" | "int64" | "uint32" | "uint64" | "int" => json!(0),
        "float64" | "float32" => json!(0.0),
        "meta.Time" | "meta.MicroTime" => Value::Null,
        "resource.Quantity" => json!("0"),
        "intstr.IntOrString" => json!(0),
        t if schema().types.contains_key(t) => decode_struct(t, &[])
            .map(Value::Object)
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn go_empty(ty: &str, v: &Value) -> bool {
    let ty = resolve(ty);
    if ty.starts_with('*') {
        return v.is_null();
    }
    if ty.starts_with("[]") || ty.starts_with("map[") {
        return match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::String(s) => s.is_empty(),
            _ => false,
        };
    }
    match ty.as_str() {
        "string" => v.as_str().map(|s| s.is_empty()).unwrap_or(true),
        "bool" => v == &json!(false),
        "int32" | "int64" | "uint32" | "uint64" | "int" | "float64" | "float32" => {
            v.as_f64() == Some(0.0)
        }
        _ => false,
    }
}

fn decode_struct(ty: &str, b: &[u8]) -> Result<Map<String, Value>, String> {
    let fields = schema()
        .types
        .get(ty)
        .ok_or_else(|| format!("no schema for {ty}"))?;
    let by_num: HashMap<u64, &Field> = fields
        .iter()
        .filter_map(|f| f.num.map(|n| (n, f)))
        .collect();
    let mut present: HashMap<String, Value> = HashMap::new();
    for (n, w) in fields_of(b)? {
        let Some(f) = by_num.get(&n) else { continue };
        let rty = resolve(&f.ty);
        let is_map = rty.trim_start_matches('*').starts_with("map[");
        let is_list = rty.starts_with("[]") && rty != "[]byte";
        if is_map {
            let e = decode_elem(&rty, &w)?;
            let slot = present.entry(f.json.clone()).or_insert_with(|| json!({}));
            if let (Some(o), Some(k)) = (slot.as_object_mut(), e["k"].as_str()) {
                o.insert(k.to_string(), e["v"].clone());
            }
        } else if is_list {
            let et = &rty[2..];
            let slot = present.entry(f.json.clone()).or_insert_with(|| json!([]));
            let arr = slot.as_array_mut().expect("array");
            // Packed scalars.
            let scalar = matches!(
                resolve(et).as_str(),
                "int32" | "int64" | "bool" | "uint32" | "uint64"
            );
            match (&w, scalar) {
                (Wire::Bytes(pb), true) => {
                    let mut r = Reader { b: pb, i: 0 };
                    while r.i < pb.len() {
                        arr.push(int_of(&Wire::Varint(r.varint()?), &resolve(et)));
                    }
                }
                _ => arr.push(decode_elem(et, &w)?),
            }
        } else {
            let v = decode_elem(&f.ty, &w)?;
            present.insert(f.json.clone(), v);
        }
    }
    let mut out = Map::new();
    for f in fields {
        if f.num.is_none() {
            // Inline TypeMeta and friends without a wire number.
            continue;
        }
        let rty = resolve(&f.ty);
        let v = match present.remove(&f.json) {
            Some(v) => v,
            None => {
                let pointer_like = rty.starts_with('*') || f.repeated || rty.starts_with("map[");
                if pointer_like {
                    if f.omitempty {
                        continue;
                    }
                    Value::Null
                } else {
                    zero_of(&rty)
                }
            }
        };
        if f.inline {
            if let Value::Object(m) = v {
                for (k, x) in m {
                    out.insert(k, x);
                }
            }
            continue;
        }
        if f.omitempty && go_empty(&rty, &v) {
            continue;
        }
        out.insert(f.json.clone(), v);
    }
    Ok(out)
}

fn type_for_kind(kind: &str) -> Option<String> {
    let s = schema();
    for prefix in ["core.", "meta."] {
        let t = format!("{prefix}{kind}");
        if s.types.contains_key(&t) {
            return Some(t);
        }
    }
    None
}

/// Decode a `k8s\0`-prefixed protobuf body to JSON (with kind and apiVersion first).
pub fn decode_k8s(body: &[u8]) -> Result<Value, String> {
    let raw = body
        .strip_prefix(b"k8s\0")
        .ok_or("missing the k8s protobuf magic prefix")?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut inner: &[u8] = &[];
    for (n, w) in fields_of(raw)? {
        match (n, w) {
            (1, Wire::Bytes(tm)) => {
                api_version = string_field(tm, 1)?;
                kind = string_field(tm, 2)?;
            }
            (2, Wire::Bytes(r)) => inner = r,
            _ => {}
        }
    }
    let ty = type_for_kind(&kind).ok_or_else(|| format!("cannot decode protobuf kind {kind:?}"))?;
    let fields = decode_struct(&ty, inner)?;
    let mut out = Map::new();
    out.insert("kind".into(), json!(kind));
    out.insert("apiVersion".into(), json!(api_version));
    out.extend(fields);
    Ok(Value::Object(out))
}

/// Reorder object keys to Go struct order for a schema type (unknown keys last).
pub fn order_like_go(v: Value, ty: &str) -> Value {
    let rty = resolve(ty);
    let base = rty.trim_start_matches('*').to_string();
    if let Some(et) = base.strip_prefix("[]") {
        if let Value::Array(a) = v {
            return Value::Array(a.into_iter().map(|x| order_like_go(x, et)).collect());
        }
        return v;
    }
    if base.starts_with("map[") {
        let vt = base[base.find(']').map(|i| i + 1).unwrap_or(0)..].to_string();
        if let Value::Object(m) = v {
            return Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, order_like_go(x, &vt)))
                    .collect(),
            );
        }
        return v;
    }
    let Value::Object(mut m) = v else { return v };
    let mut out = Map::new();
    for k in ["kind", "apiVersion"] {
        if let Some(x) = m.remove(k) {
            out.insert(k.into(), x);
        }
    }
    let mut order: Vec<(String, String)> = Vec::new();
    flatten_fields(&base, &mut order);
    for (name, fty) in order {
        if let Some(x) = m.remove(&name) {
            out.insert(name, order_like_go(x, &fty));
        }
    }
    out.extend(m);
    Value::Object(out)
}

fn flatten_fields(ty: &str, out: &mut Vec<(String, String)>) {
    let Some(fields) = schema().types.get(ty) else {
        return;
    };
    for f in fields {
        if f.inline {
            flatten_fields(resolve(&f.ty).trim_start_matches('*'), out);
        } else if !f.json.is_empty() {
            out.push((f.json.clone(), f.ty.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_options() {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD
            .decode("azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxICCAAaACIA")
            .unwrap();
        let v = decode_k8s(&b).unwrap();
        assert_eq!(
            v,
            json!({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})
        );
    }

    #[test]
    fn order() {
        let v = json!({"spec":{"containers":[{"image":"x","name":"a"}]},"metadata":{"name":"p"},"kind":"Pod"});
        let o = order_like_go(v, "core.Pod");
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"x"}]}}"#
        );
    }
}
