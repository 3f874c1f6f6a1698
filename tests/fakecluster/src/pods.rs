//! Pod specifics: server defaulting, create validation, graceful delete, subresources.

use std::io;
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::api::{self, Target};
use crate::server::Ctx;
use crate::status::{self, FieldError, FieldErrorKind};
use crate::store::{meta_str, type_for_kind};
use crate::{kubelet, patch, validate, Shared};

pub const SA_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// imagePullPolicy default: Always for `:latest` or untagged images, IfNotPresent otherwise.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_probe(p: &mut Value) {
    let Some(m) = p.as_object_mut() else { return };
    for (k, v) in [
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        m.entry(k).or_insert(json!(v));
    }
    if let Some(h) = m.get_mut("httpGet").and_then(|h| h.as_object_mut()) {
        h.entry("scheme").or_insert(json!("HTTP"));
    }
}

pub fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    let image = m
        .get("image")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    if !m.contains_key("resources") {
        m.insert("resources".into(), json!({}));
    }
    m.entry("terminationMessagePath")
        .or_insert(json!("/dev/termination-log"));
    m.entry("terminationMessagePolicy").or_insert(json!("File"));
    if !image.is_empty() {
        m.entry("imagePullPolicy")
            .or_insert(json!(default_pull_policy(&image)));
    }
    if let Some(ports) = m.get_mut("ports").and_then(|p| p.as_array_mut()) {
        for p in ports {
            if let Some(pm) = p.as_object_mut() {
                pm.entry("protocol").or_insert(json!("TCP"));
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(probe) {
            default_probe(p);
        }
    }
    if let Some(env) = m.get_mut("env").and_then(|p| p.as_array_mut()) {
        for e in env {
            if let Some(fr) = e
                .pointer_mut("/valueFrom/fieldRef")
                .and_then(|f| f.as_object_mut())
            {
                fr.entry("apiVersion").or_insert(json!("v1"));
            }
        }
    }
}

fn default_volume(v: &mut Value) {
    let Some(m) = v.as_object_mut() else { return };
    for (src, field) in [
        ("projected", "defaultMode"),
        ("configMap", "defaultMode"),
        ("secret", "defaultMode"),
        ("downwardAPI", "defaultMode"),
    ] {
        if let Some(s) = m.get_mut(src).and_then(|s| s.as_object_mut()) {
            s.entry(field).or_insert(json!(420));
        }
    }
    if let Some(s) = m.get_mut("hostPath").and_then(|s| s.as_object_mut()) {
        s.entry("type").or_insert(json!(""));
    }
    if let Some(sources) = m
        .get_mut("projected")
        .and_then(|p| p.get_mut("sources"))
        .and_then(|s| s.as_array_mut())
    {
        for s in sources {
            if let Some(t) = s
                .get_mut("serviceAccountToken")
                .and_then(|t| t.as_object_mut())
            {
                t.entry("expirationSeconds").or_insert(json!(3600));
            }
            if let Some(items) = s
                .pointer_mut("/downwardAPI/items")
                .and_then(|i| i.as_array_mut())
            {
                for i in items {
                    if let Some(fr) = i.get_mut("fieldRef").and_then(|f| f.as_object_mut()) {
                        fr.entry("apiVersion").or_insert(json!("v1"));
                    }
                }
            }
        }
    }
}

fn sa_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ],
            "defaultMode": 420
        }
    })
}

/// The ServiceAccount admission plugin: mount the projected token volume into every container.
fn mount_service_account(spec: &mut Map<String, Value>) {
    if spec.get("automountServiceAccountToken") == Some(&json!(false)) {
        return;
    }
    let volumes = spec
        .entry("volumes")
        .or_insert(json!([]))
        .as_array_mut()
        .map(|v| v.clone())
        .unwrap_or_default();
    let existing = volumes.iter().find_map(|v| {
        let n = v.get("name").and_then(|n| n.as_str()).unwrap_or("");
        n.starts_with("kube-api-access-").then(|| n.to_string())
    });
    let vol_name = existing
        .clone()
        .unwrap_or_else(|| format!("kube-api-access-{}", crate::util::rand_suffix(5)));
    let mut used = false;
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec.get_mut(list).and_then(|c| c.as_array_mut()) {
            for c in cs {
                let has = c
                    .get("volumeMounts")
                    .and_then(|m| m.as_array())
                    .map(|m| {
                        m.iter().any(|vm| {
                            vm.get("mountPath").and_then(|p| p.as_str()) == Some(SA_MOUNT_PATH)
                        })
                    })
                    .unwrap_or(false);
                if has {
                    continue;
                }
                used = true;
                let Some(cm) = c.as_object_mut() else {
                    continue;
                };
                let mounts = cm.entry("volumeMounts").or_insert(json!([]));
                if let Some(a) = mounts.as_array_mut() {
                    a.push(json!({"name": vol_name, "readOnly": true, "mountPath": SA_MOUNT_PATH}));
                }
            }
        }
    }
    if existing.is_none() && used {
        if let Some(a) = spec.get_mut("volumes").and_then(|v| v.as_array_mut()) {
            a.push(sa_volume(&vol_name));
        }
    }
    if spec
        .get("volumes")
        .and_then(|v| v.as_array())
        .map(|a| a.is_empty())
        .unwrap_or(false)
    {
        spec.remove("volumes");
    }
}

/// DefaultTolerationSeconds admission.
fn default_tolerations(spec: &mut Map<String, Value>) {
    let tols = spec
        .get("tolerations")
        .and_then(|t| t.as_array())
        .cloned()
        .unwrap_or_default();
    let covers = |key: &str| {
        tols.iter().any(|t| {
            let k = t.get("key").and_then(|v| v.as_str()).unwrap_or("");
            let e = t.get("effect").and_then(|v| v.as_str()).unwrap_or("");
            (k == key || k.is_empty()) && (e == "NoExecute" || e.is_empty())
        })
    };
    let mut add = Vec::new();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        if !covers(key) {
            add.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    if !add.is_empty() {
        let mut all = tols;
        all.extend(add);
        spec.insert("tolerations".into(), json!(all));
    }
}

pub fn qos_class(spec: &Value) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for c in spec
        .get("containers")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        let req = c.pointer("/resources/requests").and_then(|r| r.as_object());
        let lim = c.pointer("/resources/limits").and_then(|r| r.as_object());
        if req.map(|r| !r.is_empty()).unwrap_or(false)
            || lim.map(|r| !r.is_empty()).unwrap_or(false)
        {
            any = true;
        }
        let ok = ["cpu", "memory"].iter().all(|k| {
            let l = lim.and_then(|l| l.get(*k));
            let r = req.and_then(|r| r.get(*k)).or(l);
            l.is_some() && r == l
        });
        guaranteed &= ok;
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Defaulting and admission for a new pod.
pub fn default_pod(pod: &mut Value) {
    if let Some(meta) = pod.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.insert("generation".into(), json!(1));
        for k in ["managedFields", "selfLink"] {
            meta.remove(k);
        }
    }
    if !pod.get("spec").map(|s| s.is_object()).unwrap_or(false) {
        pod["spec"] = json!({});
    }
    let spec = pod["spec"].as_object_mut().expect("spec");
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(|c| c.as_array_mut()) {
            for c in cs {
                default_container(c);
            }
        }
    }
    if let Some(vs) = spec.get_mut("volumes").and_then(|c| c.as_array_mut()) {
        for v in vs {
            default_volume(v);
        }
    }
    spec.entry("restartPolicy").or_insert(json!("Always"));
    spec.entry("terminationGracePeriodSeconds")
        .or_insert(json!(30));
    spec.entry("dnsPolicy").or_insert(json!("ClusterFirst"));
    if !spec.contains_key("serviceAccountName") {
        let sa = spec
            .get("serviceAccount")
            .cloned()
            .unwrap_or(json!("default"));
        spec.insert("serviceAccountName".into(), sa);
    }
    let sa = spec["serviceAccountName"].clone();
    spec.insert("serviceAccount".into(), sa);
    spec.entry("securityContext").or_insert(json!({}));
    spec.entry("schedulerName")
        .or_insert(json!("default-scheduler"));
    mount_service_account(spec);
    default_tolerations(spec);
    spec.entry("priority").or_insert(json!(0));
    spec.entry("enableServiceLinks").or_insert(json!(true));
    spec.entry("preemptionPolicy")
        .or_insert(json!("PreemptLowerPriority"));
    let qos = qos_class(&pod["spec"]);
    pod["status"] = json!({"phase": "Pending", "qosClass": qos});
}

fn names(spec: &Value, list: &str) -> Vec<String> {
    spec.get(list)
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .map(|c| {
                    c.get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The subset of pod create validation a debugging client can trip over.
pub fn validate_create(pod: &Value) -> Result<(), status::ApiError> {
    let name = meta_str(pod, "name").to_string();
    let spec = pod.get("spec").cloned().unwrap_or(json!({}));
    let mut errs = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for list in ["initContainers", "containers"] {
        let cs = spec
            .get(list)
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        if list == "containers" && cs.is_empty() {
            errs.push(FieldError::new(
                FieldErrorKind::Required,
                "spec.containers",
                None,
                "",
            ));
        }
        for (i, c) in cs.iter().enumerate() {
            let path = format!("spec.{list}[{i}]");
            let cname = c.get("name").and_then(|n| n.as_str()).unwrap_or("");
            if cname.is_empty() {
                errs.push(FieldError::new(
                    FieldErrorKind::Required,
                    &format!("{path}.name"),
                    None,
                    "",
                ));
            } else if let Some(e) = validate::dns_label(cname, &format!("{path}.name")) {
                errs.push(e);
            } else if seen.iter().any(|s| s == cname) {
                errs.push(FieldError::new(
                    FieldErrorKind::Duplicate,
                    &format!("{path}.name"),
                    Some(json!(cname)),
                    "",
                ));
            } else {
                seen.push(cname.to_string());
            }
            if c.get("image")
                .and_then(|i| i.as_str())
                .unwrap_or("")
                .is_empty()
            {
                errs.push(FieldError::new(
                    FieldErrorKind::Required,
                    &format!("{path}.image"),
                    None,
                    "",
                ));
            }
            // validateEnvVarValueFrom (kubectl's --custom can produce both: its Go decoding
            // leaves an old `value` on an env var that gained a `valueFrom`).
            let env = c.get("env").and_then(|e| e.as_array());
            for (j, e) in env.into_iter().flatten().enumerate() {
                let value = e.get("value").and_then(|v| v.as_str()).unwrap_or("");
                if !value.is_empty() && e.get("valueFrom").is_some_and(|v| !v.is_null()) {
                    errs.push(FieldError::new(
                        FieldErrorKind::Invalid,
                        &format!("{path}.env[{j}].valueFrom"),
                        Some(json!("")),
                        "may not be specified when `value` is not empty",
                    ));
                }
            }
        }
    }
    if spec
        .get("ephemeralContainers")
        .and_then(|e| e.as_array())
        .map(|a| !a.is_empty())
        .unwrap_or(false)
    {
        errs.push(FieldError::new(
            FieldErrorKind::Forbidden,
            "spec.ephemeralContainers",
            None,
            "cannot be set on create",
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(status::invalid("Pod", &name, &errs))
    }
}

/// Create a pod from the library API (same path as a POST without the HTTP layer).
pub fn create_pod(shared: &std::sync::Arc<Shared>, pod: Value) -> Result<Value, status::ApiError> {
    let mut obj = pod;
    if !obj.is_object() {
        return Err(status::bad_request("the pod must be a JSON object"));
    }
    if !obj.get("metadata").map(|m| m.is_object()).unwrap_or(false) {
        obj["metadata"] = json!({});
    }
    let mut ns = meta_str(&obj, "namespace").to_string();
    if ns.is_empty() {
        ns = "default".into();
    }
    obj["kind"] = json!("Pod");
    obj["apiVersion"] = json!("v1");
    obj["metadata"]["namespace"] = json!(ns);
    let mut name = meta_str(&obj, "name").to_string();
    if name.is_empty() {
        name = format!(
            "{}{}",
            meta_str(&obj, "generateName"),
            crate::util::rand_suffix(5)
        );
        obj["metadata"]["name"] = json!(name);
    }
    validate_create(&obj)?;
    default_pod(&mut obj);
    obj["metadata"]["uid"] = json!(crate::util::uuid4());
    obj["metadata"]["creationTimestamp"] = json!(crate::util::now_rfc3339());
    let obj = crate::world::order_object(obj);
    let t = type_for_kind("Pod").expect("pod type");
    let stored = shared.with_store(|s| {
        if s.get("pods", &ns, &name).is_some() {
            return Err(status::already_exists("pods", &name));
        }
        Ok(s.put(t, obj))
    })?;
    kubelet::pod_created(shared, &ns, &name);
    Ok(stored)
}

/// Delete a pod: immediately for grace 0, else mark it terminating and remove it shortly.
pub fn delete_pod(
    shared: &std::sync::Arc<Shared>,
    ns: &str,
    name: &str,
    grace: i64,
) -> Option<Value> {
    let t = type_for_kind("Pod")?;
    if grace <= 0 {
        let r = shared.with_store(|s| s.delete(t, ns, name));
        kubelet::pod_deleted(shared, ns, name);
        return r;
    }
    let marked = shared.with_store(|s| {
        let mut p = s.get("pods", ns, name)?.clone();
        if p.pointer("/metadata/deletionTimestamp").is_none() {
            let (now, _) = crate::util::now_parts();
            p["metadata"]["deletionTimestamp"] = json!(crate::util::rfc3339(now + grace));
            p["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            Some(s.put(t, p))
        } else {
            Some(p)
        }
    })?;
    let shared2 = shared.clone();
    let (ns2, name2) = (ns.to_string(), name.to_string());
    let delay = shared.opts.kubelet_delay_ms.min(grace as u64 * 1000);
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(delay));
        shared2.with_store(|s| s.delete(t, &ns2, &name2));
        kubelet::pod_deleted(&shared2, &ns2, &name2);
    });
    Some(marked)
}

pub fn subresource(ctx: &mut Ctx, target: &Target, sub: &str) -> io::Result<bool> {
    let method = ctx.req.method.clone();
    // The API server reaches the kubelet for these; while it restarts, it cannot (R14; the
    // wording is the apiserver's proxy error, a guess: R14 did not record it).
    if matches!(sub, "log" | "attach" | "exec") && ctx.shared.kubelet_down() {
        return ctx.respond_error(&status::internal(
            "error dialing backend: dial tcp 127.0.0.1:10250: connect: connection refused",
        ));
    }
    match (method.as_str(), sub) {
        ("GET", "ephemeralcontainers") | ("GET", "status") => {
            let t = Target {
                sub: None,
                ..target.clone()
            };
            api::get(ctx, &t)
        }
        ("PATCH", "ephemeralcontainers") | ("PUT", "ephemeralcontainers") => {
            ephemeral_update(ctx, target)
        }
        ("PATCH", "status") => api::patch_object(ctx, target, Some("status")),
        ("PUT", "status") => api::update_object(ctx, target, Some("status")),
        ("GET", "log") => crate::logs::serve(ctx, target),
        ("GET", "attach") | ("POST", "attach") => crate::attach::serve(ctx, target, false),
        ("GET", "exec") | ("POST", "exec") => crate::attach::serve(ctx, target, true),
        _ => ctx.respond_error(&status::method_not_allowed()),
    }
}

fn ephemeral_update(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let ns = target.ns.clone().unwrap_or_default();
    let name = target.name.clone().unwrap_or_default();
    if api::conflict_fault(ctx) {
        return ctx.respond_error(&status::conflict("pods", &name));
    }
    let old = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("pods", &ns, &name)
        .cloned();
    let Some(old) = old else {
        return ctx.respond_error(&status::not_found("pods", &name));
    };
    let new = if ctx.req.method == "PUT" {
        match api::decode_body(&ctx.req) {
            Ok(v) => {
                let rv = meta_str(&v, "resourceVersion");
                if !rv.is_empty() && rv != meta_str(&old, "resourceVersion") {
                    return ctx.respond_error(&status::conflict("pods", &name));
                }
                v
            }
            Err(e) => return ctx.respond_error(&e),
        }
    } else {
        match patch::apply_request(&ctx.req, &old) {
            Ok(v) => v,
            Err(e) => return ctx.respond_error(&e),
        }
    };
    let mut ecs = new
        .pointer("/spec/ephemeralContainers")
        .cloned()
        .unwrap_or(json!([]));
    if ecs.is_null() {
        ecs = json!([]);
    }
    if let Some(a) = ecs.as_array_mut() {
        for c in a.iter_mut() {
            default_container(c);
        }
    }
    let mut candidate = old.clone();
    if ecs.as_array().map(|a| a.is_empty()).unwrap_or(true) {
        candidate["spec"]
            .as_object_mut()
            .map(|s| s.remove("ephemeralContainers"));
    } else {
        candidate["spec"]["ephemeralContainers"] = ecs;
    }
    candidate = crate::world::order_object(candidate);
    if let Err(errs) = validate::ephemeral_update(&old, &candidate) {
        return ctx.respond_error(&status::invalid("Pod", &name, &errs));
    }
    // R1: a merge that leaves the pod as it is (the same container sent again) is 200 with
    // the stored pod: no write, so the same resourceVersion, no watch event, nothing started.
    if candidate == old {
        ctx.entry
            .insert("ephemeral_containers_added".into(), json!([]));
        ctx.entry.insert("unchanged".into(), json!(true));
        return ctx.respond_json(200, &old);
    }
    let before = names(&old["spec"], "ephemeralContainers");
    let added: Vec<String> = names(&candidate["spec"], "ephemeralContainers")
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    let namespace = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("namespaces", "", &ns)
        .cloned();
    if let Some(level) = crate::podsecurity::enforced(namespace.as_ref()) {
        let new_ones: Vec<&Value> = candidate["spec"]["ephemeralContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| added.iter().any(|n| Some(n.as_str()) == c["name"].as_str()))
            .collect();
        if let Err(e) = crate::podsecurity::check(level, &name, &new_ones) {
            return ctx.respond_error(&e);
        }
    }
    if api::dry_run(&ctx.req) {
        return ctx.respond_json(200, &candidate);
    }
    let t = type_for_kind("Pod").expect("pod type");
    let stored = ctx.shared.with_store(|s| s.put(t, candidate));
    ctx.entry
        .insert("ephemeral_containers_added".into(), json!(added));
    for c in &added {
        kubelet::ephemeral_added(ctx.shared, &ns, &name, c);
    }
    ctx.respond_json(200, &stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_value_and_value_from_are_exclusive() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i",
            "env": [{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]}});
        let e = validate_create(&pod).unwrap_err();
        assert!(
            format!("{e:?}").contains("may not be specified when `value` is not empty"),
            "{e:?}"
        );
    }
}
