//! Strategic merge patch (Kubernetes' built-in types), JSON merge patch and JSON patch.

use serde_json::{Map, Value};

use crate::http::Request;
use crate::status::{self, ApiError};

/// The merge key of a list field, from its name and the field names above it.
fn merge_key(path: &[String], field: &str) -> Option<&'static str> {
    let in_container = path.iter().any(|p| {
        matches!(
            p.as_str(),
            "containers" | "initContainers" | "ephemeralContainers"
        )
    });
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "imagePullSecrets"
        | "env"
        | "resourceClaims"
        | "schedulingGates" => Some("name"),
        "ports" if in_container => Some("containerPort"),
        "ports" if path.last().map(|p| p == "spec").unwrap_or(false) => Some("port"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        "topologySpreadConstraints" => Some("topologyKey"),
        _ => None,
    }
}

fn primitive_merge(field: &str) -> bool {
    matches!(field, "finalizers")
}

fn key_of<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m| m.get(key))
}

/// Apply a strategic merge patch to `original`.
pub fn strategic_merge(original: &Value, patch: &Value) -> Result<Value, String> {
    merge_value(original, patch, &mut Vec::new())
}

fn merge_value(original: &Value, patch: &Value, path: &mut Vec<String>) -> Result<Value, String> {
    match (original, patch) {
        (Value::Object(o), Value::Object(p)) => merge_map(o, p, path).map(Value::Object),
        (_, Value::Object(p)) => merge_map(&Map::new(), p, path).map(Value::Object),
        _ => Ok(patch.clone()),
    }
}

fn merge_map(
    orig: &Map<String, Value>,
    patch: &Map<String, Value>,
    path: &mut Vec<String>,
) -> Result<Map<String, Value>, String> {
    match patch.get("$patch").and_then(|v| v.as_str()) {
        Some("replace") => {
            let mut p = patch.clone();
            p.remove("$patch");
            return Ok(p);
        }
        Some("delete") => return Ok(Map::new()),
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch type: {other} in map: {patch:?}")),
    }
    let mut out = orig.clone();
    let mut orders: Vec<(String, Vec<Value>)> = Vec::new();
    for (k, v) in patch {
        if k == "$patch" || k == "$retainKeys" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$setElementOrder/") {
            if let Value::Array(a) = v {
                orders.push((field.to_string(), a.clone()));
            }
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(cur)), Value::Array(del)) = (out.get(field).cloned(), v) {
                let kept: Vec<Value> = cur.into_iter().filter(|x| !del.contains(x)).collect();
                out.insert(field.to_string(), Value::Array(kept));
            }
            continue;
        }
        if v.is_null() {
            out.remove(k);
            continue;
        }
        path.push(k.clone());
        let merged = match (out.get(k), v) {
            (Some(Value::Object(o)), Value::Object(p)) => Value::Object(merge_map(o, p, path)?),
            (None, Value::Object(p)) => Value::Object(merge_map(&Map::new(), p, path)?),
            (cur, Value::Array(p)) => {
                let parent = &path[..path.len() - 1];
                let cur = cur.and_then(|c| c.as_array()).cloned().unwrap_or_default();
                if let Some(key) = merge_key(parent, k) {
                    Value::Array(merge_list(&cur, p, key, path)?)
                } else if primitive_merge(k) {
                    let mut all = cur.clone();
                    for x in p {
                        if !all.contains(x) {
                            all.push(x.clone());
                        }
                    }
                    Value::Array(all)
                } else {
                    Value::Array(
                        p.iter()
                            .filter(|x| key_of(x, "$patch").is_none())
                            .cloned()
                            .collect(),
                    )
                }
            }
            _ => v.clone(),
        };
        path.pop();
        out.insert(k.clone(), merged);
    }
    for (field, order) in orders {
        let parent_key = merge_key(path, &field);
        if let (Some(key), Some(Value::Array(list))) = (parent_key, out.get(&field).cloned()) {
            out.insert(field.clone(), Value::Array(apply_order(list, &order, key)));
        }
    }
    if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(|v| v.as_str()).collect();
        out.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(out)
}

fn merge_list(
    orig: &[Value],
    patch: &[Value],
    key: &str,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    if patch
        .iter()
        .any(|p| key_of(p, "$patch").and_then(|v| v.as_str()) == Some("replace"))
    {
        return Ok(patch
            .iter()
            .filter(|p| key_of(p, "$patch").is_none())
            .cloned()
            .collect());
    }
    let mut out: Vec<Value> = orig.to_vec();
    for item in patch {
        let Some(kv) = key_of(item, key).cloned() else {
            if item.is_object() {
                return Err(format!(
                    "map: {item} does not contain declared merge key: {key}"
                ));
            }
            out.push(item.clone());
            continue;
        };
        let pos = out.iter().position(|o| key_of(o, key) == Some(&kv));
        if key_of(item, "$patch").and_then(|v| v.as_str()) == Some("delete") {
            if let Some(i) = pos {
                out.remove(i);
            }
            continue;
        }
        match pos {
            Some(i) => {
                let merged = merge_value(&out[i], item, path)?;
                out[i] = merged;
            }
            None => {
                let merged = merge_value(&Value::Object(Map::new()), item, path)?;
                out.push(merged);
            }
        }
    }
    Ok(out)
}

fn apply_order(list: Vec<Value>, order: &[Value], key: &str) -> Vec<Value> {
    let mut rest = list;
    let mut out = Vec::new();
    for o in order {
        if let Some(kv) = key_of(o, key) {
            if let Some(i) = rest.iter().position(|x| key_of(x, key) == Some(kv)) {
                out.push(rest.remove(i));
            }
        }
    }
    out.extend(rest);
    out
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(original: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = original.as_object().cloned().unwrap_or_default();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let cur = out.get(k).cloned().unwrap_or(Value::Null);
                    out.insert(k.clone(), merge_patch(&cur, v));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn pointer_parts(p: &str) -> Result<Vec<String>, String> {
    if p.is_empty() {
        return Ok(vec![]);
    }
    if !p.starts_with('/') {
        return Err(format!("invalid JSON pointer {p:?}"));
    }
    Ok(p[1..].split('/').map(unescape).collect())
}

fn get_mut<'a>(doc: &'a mut Value, parts: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for part in parts {
        cur = match cur {
            Value::Object(m) => m.get_mut(part).ok_or_else(|| {
                format!(
                    "replace operation does not apply: doc is missing path: /{}",
                    parts.join("/")
                )
            })?,
            Value::Array(a) => {
                let i: usize = part.parse().map_err(|_| format!("invalid index {part}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("array index out of bounds: {i}"))?
            }
            _ => return Err(format!("doc is missing path: /{}", parts.join("/"))),
        };
    }
    Ok(cur)
}

fn add(doc: &mut Value, parts: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent)) = parts.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent).map_err(|_| {
        format!(
            "add operation does not apply: doc is missing path: \"/{}\": missing value",
            parts.join("/")
        )
    })? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last.parse().map_err(|_| format!("invalid index {last}"))?;
            if i > a.len() {
                return Err(format!(
                    "add operation does not apply: index out of bounds: {i}"
                ));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err("add operation does not apply: parent is not a container".into()),
    }
}

fn remove(doc: &mut Value, parts: &[String]) -> Result<Value, String> {
    let Some((last, parent)) = parts.split_last() else {
        return Err("cannot remove the document root".into());
    };
    match get_mut(doc, parent)? {
        Value::Object(m) => m.remove(last).ok_or_else(|| {
            format!(
                "remove operation does not apply: doc is missing path: \"/{}\"",
                parts.join("/")
            )
        }),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| format!("invalid index {last}"))?;
            if i >= a.len() {
                return Err(format!(
                    "remove operation does not apply: index out of bounds: {i}"
                ));
            }
            Ok(a.remove(i))
        }
        _ => Err("remove operation does not apply".into()),
    }
}

/// RFC 6902 JSON patch.
pub fn json_patch(original: &Value, ops: &Value) -> Result<Value, String> {
    let mut doc = original.clone();
    let ops = ops.as_array().ok_or("a JSON patch must be an array")?;
    for op in ops {
        let name = op.get("op").and_then(|v| v.as_str()).unwrap_or("");
        let path = pointer_parts(op.get("path").and_then(|v| v.as_str()).unwrap_or(""))?;
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        match name {
            "add" => add(&mut doc, &path, value)?,
            "remove" => {
                remove(&mut doc, &path)?;
            }
            "replace" => {
                let target = get_mut(&mut doc, &path)?;
                *target = value;
            }
            "move" | "copy" => {
                let from = pointer_parts(op.get("from").and_then(|v| v.as_str()).unwrap_or(""))?;
                let v = if name == "move" {
                    remove(&mut doc, &from)?
                } else {
                    get_mut(&mut doc, &from)?.clone()
                };
                add(&mut doc, &path, v)?;
            }
            "test" => {
                let cur = get_mut(&mut doc, &path)?;
                if *cur != value {
                    return Err(format!(
                        "testing value /{} failed: test failed",
                        path.join("/")
                    ));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(doc)
}

/// Apply a PATCH request's body to `original` according to its content type.
pub fn apply_request(req: &Request, original: &Value) -> Result<Value, ApiError> {
    let ct = req
        .content_type()
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|e| status::bad_request(&format!("error decoding patch: {e}")))?;
    let unprocessable = |m: String| status::err(422, "Invalid", &m, None);
    match ct.as_str() {
        "application/strategic-merge-patch+json" => {
            if !body.is_object() {
                return Err(status::bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                ));
            }
            strategic_merge(original, &body).map_err(unprocessable)
        }
        "application/merge-patch+json" => Ok(merge_patch(original, &body)),
        "application/json-patch+json" => json_patch(original, &body).map_err(unprocessable),
        other => Err(status::unsupported_media_type(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn smp_appends_ephemeral_container_in_order() {
        let pod = json!({"spec":{"containers":[{"name":"app","image":"nginx"}],
            "ephemeralContainers":[{"name":"a","image":"x"}]}});
        let patch = json!({"spec":{"$setElementOrder/ephemeralContainers":[{"name":"a"},{"name":"b"}],
            "ephemeralContainers":[{"name":"b","image":"busybox"}]}});
        let out = strategic_merge(&pod, &patch).unwrap();
        let names: Vec<&str> = out["spec"]["ephemeralContainers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(out["spec"]["containers"][0]["name"], "app");
    }

    #[test]
    fn smp_merges_by_key_and_deletes() {
        let pod = json!({"spec":{"containers":[{"name":"app","image":"nginx","env":[{"name":"A","value":"1"}]}]}});
        let patch = json!({"spec":{"containers":[{"name":"app","image":"nginx:2","env":[{"name":"B","value":"2"}]}]},
            "metadata":{"labels":{"x":null}}});
        let out = strategic_merge(&pod, &patch).unwrap();
        assert_eq!(out["spec"]["containers"][0]["image"], "nginx:2");
        assert_eq!(
            out["spec"]["containers"][0]["env"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let del = json!({"spec":{"containers":[{"name":"app","$patch":"delete"}]}});
        let out = strategic_merge(&out, &del).unwrap();
        assert_eq!(out["spec"]["containers"], json!([]));
    }

    #[test]
    fn json_patch_ops() {
        let doc = json!({"spec":{"ephemeralContainers":[]}});
        let out = json_patch(
            &doc,
            &json!([{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"d"}}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["ephemeralContainers"][0]["name"], "d");
        assert!(json_patch(&doc, &json!([{"op":"test","path":"/spec","value":1}])).is_err());
    }

    #[test]
    fn merge_patch_replaces_lists() {
        let doc = json!({"a":{"b":1,"c":[1,2]}});
        let out = merge_patch(&doc, &json!({"a":{"b":null,"c":[3]}}));
        assert_eq!(out, json!({"a":{"c":[3]}}));
    }
}
