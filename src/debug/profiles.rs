//! The six `--profile`s and their effects per journey (reference section 5, kubectl 1.32/1.33).
//!
//! Mechanics copied on purpose: the debug container ("DC") is looked up by name across init,
//! regular and ephemeral containers, first match wins (`podutils.VisitContainers`); the `/host`
//! mount only looks at regular containers; capabilities are appended without de-duplication;
//! profiles never touch pod-level security settings.

use serde_json::{json, Map, Value};

use super::order::{self, CAPABILITIES, CONTAINER, POD_SPEC, SECURITY_CONTEXT};
use super::{container_mut, find_container, DebugOptions, Profile, ALL_CONTAINER_LISTS};

/// Which journey the profile is applied for (kubectl derives it from the target object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Ephemeral,
    Copy,
    Node,
}

/// The `--keep-*` flags (copy journey, non-legacy profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    pub labels: bool,
    pub annotations: bool,
    pub liveness: bool,
    pub readiness: bool,
    pub startup: bool,
    pub init_containers: bool,
}

impl Keep {
    pub fn from_options(opts: &DebugOptions) -> Keep {
        Keep {
            labels: opts.keep_labels,
            annotations: opts.keep_annotations,
            liveness: opts.keep_liveness,
            readiness: opts.keep_readiness,
            startup: opts.keep_startup,
            init_containers: opts.keep_init_containers,
        }
    }
}

/// Applies `profile` to `pod` (a whole Pod object: `metadata` and `spec`) for the debug
/// container named `dc`.
pub fn apply(profile: Profile, style: Style, pod: &mut Value, dc: &str, keep: Keep) {
    match profile {
        Profile::Legacy => match style {
            Style::Node => {
                mount_root_partition(pod, dc);
                use_host_namespaces(pod);
            }
            // Legacy copies always lose their labels; --keep-labels is ignored (3.3).
            Style::Copy => remove_metadata(pod, "labels"),
            Style::Ephemeral => {}
        },
        Profile::General => match style {
            Style::Node => {
                mount_root_partition(pod, dc);
                clear_security_context(pod, dc);
                use_host_namespaces(pod);
            }
            Style::Copy => {
                strip_copy(pod, keep);
                add_capabilities(pod, dc, &["SYS_PTRACE"]);
                share_process_namespace(pod);
            }
            Style::Ephemeral => add_capabilities(pod, dc, &["SYS_PTRACE"]),
        },
        Profile::Baseline => {
            clear_security_context(pod, dc);
            if style == Style::Copy {
                strip_copy(pod, keep);
                share_process_namespace(pod);
            }
        }
        Profile::Restricted => {
            clear_security_context(pod, dc);
            with_security_context(pod, dc, |sc| {
                order::set(sc, "runAsNonRoot", Value::Bool(true), SECURITY_CONTEXT);
                // The add list is cleared, drop becomes exactly ["ALL"].
                if let Some(caps) = object_field(sc, "capabilities", SECURITY_CONTEXT) {
                    order::set(caps, "drop", json!(["ALL"]), CAPABILITIES);
                    order::remove(caps, "add");
                }
                order::set(
                    sc,
                    "allowPrivilegeEscalation",
                    Value::Bool(false),
                    SECURITY_CONTEXT,
                );
                order::set(
                    sc,
                    "seccompProfile",
                    json!({"type": "RuntimeDefault"}),
                    SECURITY_CONTEXT,
                );
            });
            if style == Style::Copy {
                strip_copy(pod, keep);
                share_process_namespace(pod);
            }
        }
        Profile::Netadmin => {
            add_capabilities(pod, dc, &["NET_ADMIN", "NET_RAW"]);
            match style {
                Style::Node => use_host_namespaces(pod),
                Style::Copy => {
                    strip_copy(pod, keep);
                    share_process_namespace(pod);
                }
                Style::Ephemeral => {}
            }
        }
        Profile::Sysadmin => {
            with_security_context(pod, dc, |sc| {
                order::set(sc, "privileged", Value::Bool(true), SECURITY_CONTEXT);
            });
            match style {
                Style::Node => {
                    use_host_namespaces(pod);
                    mount_root_partition(pod, dc);
                }
                Style::Copy => {
                    strip_copy(pod, keep);
                    share_process_namespace(pod);
                }
                Style::Ephemeral => {}
            }
        }
    }
}

/// What every non-legacy profile strips from a copy, in kubectl's order.
fn strip_copy(pod: &mut Value, keep: Keep) {
    if !keep.labels {
        remove_metadata(pod, "labels");
    }
    if !keep.annotations {
        remove_metadata(pod, "annotations");
    }
    // Probes go from regular containers only; init/sidecar probes stay.
    if let Some(containers) = pod
        .get_mut("spec")
        .and_then(|s| s.get_mut("containers"))
        .and_then(Value::as_array_mut)
    {
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            if !keep.liveness {
                order::remove(c, "livenessProbe");
            }
            if !keep.readiness {
                order::remove(c, "readinessProbe");
            }
            if !keep.startup {
                order::remove(c, "startupProbe");
            }
        }
    }
    if !keep.init_containers {
        if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            order::remove(spec, "initContainers");
        }
    }
}

fn remove_metadata(pod: &mut Value, key: &str) {
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        order::remove(meta, key);
    }
}

fn spec_mut(pod: &mut Value) -> Option<&mut Map<String, Value>> {
    let obj = pod.as_object_mut()?;
    let spec = obj
        .entry("spec")
        .or_insert_with(|| Value::Object(Map::new()));
    if !spec.is_object() {
        *spec = Value::Object(Map::new());
    }
    spec.as_object_mut()
}

/// `shareProcessNamespace: true` only when it is unset: an explicit false (from the original or
/// from `--share-processes=false`) wins.
fn share_process_namespace(pod: &mut Value) {
    if let Some(spec) = spec_mut(pod) {
        if spec.get("shareProcessNamespace").is_none_or(Value::is_null) {
            order::set(spec, "shareProcessNamespace", Value::Bool(true), POD_SPEC);
        }
    }
}

fn use_host_namespaces(pod: &mut Value) {
    if let Some(spec) = spec_mut(pod) {
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            order::set(spec, key, Value::Bool(true), POD_SPEC);
        }
    }
}

/// The `host-root` hostPath volume (`/`, no type) mounted at `/host`. The volume is added even
/// when no regular container carries the DC name; only regular containers get the mount.
fn mount_root_partition(pod: &mut Value, dc: &str) {
    let Some(spec) = spec_mut(pod) else { return };
    let volume = json!({"name": "host-root", "hostPath": {"path": "/"}});
    push_to_list(spec, "volumes", volume, POD_SPEC);
    let Some(containers) = spec.get_mut("containers").and_then(Value::as_array_mut) else {
        return;
    };
    if let Some(c) = containers
        .iter_mut()
        .find(|c| super::str_field(c, "name") == Some(dc))
        .and_then(Value::as_object_mut)
    {
        let mount = json!({"name": "host-root", "mountPath": "/host"});
        push_to_list(c, "volumeMounts", mount, CONTAINER);
    }
}

pub(crate) fn push_to_list(map: &mut Map<String, Value>, key: &str, item: Value, order: &[&str]) {
    match map.get_mut(key) {
        Some(Value::Array(items)) => items.push(item),
        _ => order::set(map, key, Value::Array(vec![item]), order),
    }
}

/// The DC as a JSON object, first match across init, regular and ephemeral containers.
fn dc_mut<'a>(pod: &'a mut Value, dc: &str) -> Option<&'a mut Map<String, Value>> {
    let spec = pod.get_mut("spec")?;
    let r = find_container(spec, dc, &ALL_CONTAINER_LISTS)?;
    container_mut(spec, r)?.as_object_mut()
}

fn clear_security_context(pod: &mut Value, dc: &str) {
    if let Some(c) = dc_mut(pod, dc) {
        order::remove(c, "securityContext");
    }
}

/// Runs `f` on the DC's securityContext, creating it when missing (Go's nil check).
fn with_security_context(pod: &mut Value, dc: &str, f: impl FnOnce(&mut Map<String, Value>)) {
    if let Some(c) = dc_mut(pod, dc) {
        if let Some(sc) = object_field(c, "securityContext", CONTAINER) {
            f(sc);
        }
    }
}

/// `map[key]` as an object, created (in Go field order) when missing, null or not an object.
/// Always `Some`; the `Option` only avoids an unreachable panic path.
pub(crate) fn object_field<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    order: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    if !map.get(key).is_some_and(Value::is_object) {
        order::set(map, key, Value::Object(Map::new()), order);
    }
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// Appends capabilities to `securityContext.capabilities.add`, duplicates and all.
fn add_capabilities(pod: &mut Value, dc: &str, caps: &[&str]) {
    with_security_context(pod, dc, |sc| {
        if let Some(c) = object_field(sc, "capabilities", SECURITY_CONTEXT) {
            for cap in caps {
                push_to_list(c, "add", Value::String((*cap).into()), CAPABILITIES);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "p", "labels": {"a": "b"}, "annotations": {"x": "y"}},
            "spec": {
                "initContainers": [{"name": "init", "livenessProbe": {}}],
                "containers": [
                    {"name": "app", "livenessProbe": {}, "readinessProbe": {}, "startupProbe": {},
                     "securityContext": {"capabilities": {"add": ["SYS_PTRACE"], "drop": ["ALL"]}, "runAsUser": 5}},
                    {"name": "dbg"}
                ]
            }
        })
    }

    const KEEP_NONE: Keep = Keep {
        labels: false,
        annotations: false,
        liveness: false,
        readiness: false,
        startup: false,
        init_containers: true,
    };

    #[test]
    fn capabilities_are_appended_without_dedup() {
        let mut p = pod();
        apply(Profile::General, Style::Copy, &mut p, "app", KEEP_NONE);
        assert_eq!(
            p["spec"]["containers"][0]["securityContext"]["capabilities"]["add"],
            json!(["SYS_PTRACE", "SYS_PTRACE"])
        );
    }

    #[test]
    fn restricted_replaces_the_security_context() {
        let mut p = pod();
        apply(Profile::Restricted, Style::Copy, &mut p, "app", KEEP_NONE);
        assert_eq!(
            crate::text::go::json(&p["spec"]["containers"][0]["securityContext"]),
            r#"{"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"}}"#
        );
    }

    #[test]
    fn sysadmin_keeps_other_security_fields() {
        let mut p = pod();
        apply(
            Profile::Sysadmin,
            Style::Ephemeral,
            &mut p,
            "app",
            KEEP_NONE,
        );
        let sc = &p["spec"]["containers"][0]["securityContext"];
        assert_eq!(sc["privileged"], true);
        assert_eq!(sc["runAsUser"], 5);
        // Ephemeral style keeps labels in 1.32/1.33.
        assert_eq!(p["metadata"]["labels"], json!({"a": "b"}));
    }

    #[test]
    fn keep_flags_and_init_probes() {
        let mut p = pod();
        let keep = Keep {
            readiness: true,
            init_containers: true,
            ..KEEP_NONE
        };
        apply(Profile::Baseline, Style::Copy, &mut p, "dbg", keep);
        let app = &p["spec"]["containers"][0];
        assert!(app.get("livenessProbe").is_none());
        assert!(app.get("readinessProbe").is_some());
        assert!(app.get("startupProbe").is_none());
        // Init containers keep their probes.
        assert!(p["spec"]["initContainers"][0]
            .get("livenessProbe")
            .is_some());
        assert!(p["metadata"].get("labels").is_none());
        assert!(p["metadata"].get("annotations").is_none());
        assert_eq!(p["spec"]["shareProcessNamespace"], true);
    }

    #[test]
    fn share_process_namespace_respects_explicit_false() {
        let mut p = pod();
        p["spec"]["shareProcessNamespace"] = json!(false);
        apply(Profile::Netadmin, Style::Copy, &mut p, "dbg", KEEP_NONE);
        assert_eq!(p["spec"]["shareProcessNamespace"], false);
    }

    #[test]
    fn init_containers_removed_only_when_asked() {
        let mut p = pod();
        apply(
            Profile::General,
            Style::Copy,
            &mut p,
            "dbg",
            Keep {
                init_containers: false,
                ..KEEP_NONE
            },
        );
        assert!(p["spec"].get("initContainers").is_none());
    }

    #[test]
    fn dc_lookup_prefers_init_containers() {
        let mut p = pod();
        p["spec"]["containers"][1]["name"] = json!("init");
        apply(Profile::Sysadmin, Style::Copy, &mut p, "init", KEEP_NONE);
        assert_eq!(
            p["spec"]["initContainers"][0]["securityContext"]["privileged"],
            true
        );
        assert!(p["spec"]["containers"][1].get("securityContext").is_none());
    }

    #[test]
    fn legacy_copy_strips_labels_even_when_kept() {
        let mut p = pod();
        let keep = Keep {
            labels: true,
            ..KEEP_NONE
        };
        apply(Profile::Legacy, Style::Copy, &mut p, "dbg", keep);
        assert!(p["metadata"].get("labels").is_none());
        assert!(p["metadata"].get("annotations").is_some());
        assert!(p["spec"]["containers"][0].get("livenessProbe").is_some());
        assert!(p["spec"].get("shareProcessNamespace").is_none());
    }

    #[test]
    fn host_mount_only_on_regular_containers() {
        let mut p = json!({"spec": {"initContainers": [{"name": "d"}], "containers": []}});
        apply(Profile::Legacy, Style::Node, &mut p, "d", KEEP_NONE);
        assert_eq!(p["spec"]["volumes"][0]["name"], "host-root");
        assert!(p["spec"]["initContainers"][0].get("volumeMounts").is_none());
        assert_eq!(p["spec"]["hostPID"], true);
    }
}
