//! Go's struct field order, so the objects we build serialise like `json.Marshal` of the
//! typed struct (sorted keys and Go's escaping are in `text::go`).

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
}
