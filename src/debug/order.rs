//! Go's view of JSON: struct field order (so the objects we build serialise like
//! `json.Marshal` of the typed struct), sorted keys (so a strategic-merge patch serialises like
//! `json.Marshal` of a `map[string]interface{}`), and Go's string escaping.

use serde_json::{Map, Value};

/// Field order of `core/v1.Pod` (plus TypeMeta).
pub const POD: &[&str] = &["kind", "apiVersion", "metadata", "spec", "status"];

/// Field order of `meta/v1.ObjectMeta`.
pub const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Field order of `core/v1.PodSpec` (v1.33).
pub const POD_SPEC: &[&str] = &[
    "volumes",
    "initContainers",
    "containers",
    "ephemeralContainers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "dnsPolicy",
    "nodeSelector",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "nodeName",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "shareProcessNamespace",
    "securityContext",
    "imagePullSecrets",
    "hostname",
    "subdomain",
    "affinity",
    "schedulerName",
    "tolerations",
    "hostAliases",
    "priorityClassName",
    "priority",
    "dnsConfig",
    "readinessGates",
    "runtimeClassName",
    "enableServiceLinks",
    "preemptionPolicy",
    "overhead",
    "topologySpreadConstraints",
    "setHostnameAsFQDN",
    "os",
    "hostUsers",
    "schedulingGates",
    "resourceClaims",
    "resources",
];

/// Field order of `core/v1.Container` / `EphemeralContainer` (v1.33).
pub const CONTAINER: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "volumeMounts",
    "volumeDevices",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
    "targetContainerName",
];

/// Field order of `core/v1.SecurityContext`.
pub const SECURITY_CONTEXT: &[&str] = &[
    "capabilities",
    "privileged",
    "seLinuxOptions",
    "windowsOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "procMount",
    "seccompProfile",
    "appArmorProfile",
];

pub const CAPABILITIES: &[&str] = &["add", "drop"];

/// Sets `key` in `map` at the position Go's struct order gives it: an existing key keeps its
/// place; a new key goes before the first existing key that Go writes after it. Keys unknown to
/// `order` (fields of newer API versions) stay where they are.
pub fn set(map: &mut Map<String, Value>, key: &str, value: Value, order: &[&str]) {
    if let Some(slot) = map.get_mut(key) {
        *slot = value;
        return;
    }
    let rank = |k: &str| order.iter().position(|o| *o == k);
    let Some(my_rank) = rank(key) else {
        map.insert(key.to_string(), value);
        return;
    };
    match map
        .keys()
        .position(|k| rank(k).is_some_and(|r| r > my_rank))
    {
        Some(index) => {
            map.shift_insert(index, key.to_string(), value);
        }
        None => {
            map.insert(key.to_string(), value);
        }
    }
}

/// Removes `key` keeping the order of the others.
pub fn remove(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    // With preserve_order, `Map::remove` is a swap-remove; `shift_remove` keeps the order.
    map.shift_remove(key)
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
    fn set_inserts_in_go_order_and_keeps_unknown_keys() {
        let mut m = json!({"name": "a", "zzz": 1, "resources": {}, "stdin": true})
            .as_object()
            .cloned()
            .unwrap();
        set(&mut m, "image", json!("busybox"), CONTAINER);
        set(&mut m, "tty", json!(true), CONTAINER);
        set(&mut m, "name", json!("b"), CONTAINER);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "zzz", "image", "resources", "stdin", "tty"]);
        assert_eq!(m["name"], "b");
    }

    #[test]
    fn remove_keeps_order() {
        let mut m = json!({"a": 1, "b": 2, "c": 3})
            .as_object()
            .cloned()
            .unwrap();
        remove(&mut m, "a");
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, ["b", "c"]);
    }

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
