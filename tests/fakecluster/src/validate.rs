//! The API server's validation of the ephemeralcontainers subresource (messages as upstream).

use serde_json::{json, Value};

use crate::status::{FieldError, FieldErrorKind};

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// ValidateDNS1123Label.
pub fn dns_label(name: &str, field: &str) -> Option<FieldError> {
    if name.len() > 63 {
        return Some(FieldError::new(
            FieldErrorKind::Invalid,
            field,
            Some(json!(name)),
            "must be no more than 63 characters",
        ));
    }
    let b = name.as_bytes();
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = !b.is_empty()
        && ok_char(b[0])
        && ok_char(b[b.len() - 1])
        && b.iter().all(|&c| ok_char(c) || c == b'-');
    (!valid).then(|| {
        FieldError::new(
            FieldErrorKind::Invalid,
            field,
            Some(json!(name)),
            DNS1123_LABEL_MSG,
        )
    })
}

/// Go zero-value test for a JSON field (absent, null, false, 0, "" or {}).
fn is_zero(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Object(m)) => m.values().all(|x| is_zero(Some(x))),
        Some(Value::Array(_)) => false,
    }
}

/// Container fields in Go struct order with whether ephemeral containers may set them.
const EPHEMERAL_FIELDS: &[(&str, bool)] = &[
    ("name", true),
    ("image", true),
    ("command", true),
    ("args", true),
    ("workingDir", true),
    ("ports", false),
    ("envFrom", true),
    ("env", true),
    ("resources", false),
    ("resizePolicy", false),
    ("restartPolicy", false),
    ("volumeMounts", true),
    ("volumeDevices", true),
    ("livenessProbe", false),
    ("readinessProbe", false),
    ("startupProbe", false),
    ("lifecycle", false),
    ("terminationMessagePath", true),
    ("terminationMessagePolicy", true),
    ("imagePullPolicy", true),
    ("securityContext", true),
    ("stdin", true),
    ("stdinOnce", true),
    ("tty", true),
];

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

/// validateEphemeralContainers for the new pod's list.
pub fn ephemeral_containers(spec: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ecs = spec
        .get("ephemeralContainers")
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default();
    let mut other = names(spec, "containers");
    other.extend(names(spec, "initContainers"));
    let mut all = other.clone();
    let volumes = names(spec, "volumes");
    for (i, ec) in ecs.iter().enumerate() {
        let p = format!("spec.ephemeralContainers[{i}]");
        let name = ec.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let image = ec.get("image").and_then(|n| n.as_str()).unwrap_or("");
        // validateContainerCommon
        if name.is_empty() {
            errs.push(FieldError::new(
                FieldErrorKind::Required,
                &format!("{p}.name"),
                None,
                "",
            ));
        } else if let Some(e) = dns_label(name, &format!("{p}.name")) {
            errs.push(e);
        }
        if image.is_empty() {
            errs.push(FieldError::new(
                FieldErrorKind::Required,
                &format!("{p}.image"),
                None,
                "",
            ));
        }
        for (j, vm) in ec
            .get("volumeMounts")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let vname = vm.get("name").and_then(|n| n.as_str()).unwrap_or("");
            if vname.is_empty() {
                errs.push(FieldError::new(
                    FieldErrorKind::Required,
                    &format!("{p}.volumeMounts[{j}].name"),
                    None,
                    "",
                ));
            } else if !volumes.iter().any(|v| v == vname) {
                errs.push(FieldError::new(
                    FieldErrorKind::NotFound,
                    &format!("{p}.volumeMounts[{j}].name"),
                    Some(json!(vname)),
                    "",
                ));
            }
            let mp = vm.get("mountPath").and_then(|n| n.as_str()).unwrap_or("");
            if mp.is_empty() {
                errs.push(FieldError::new(
                    FieldErrorKind::Required,
                    &format!("{p}.volumeMounts[{j}].mountPath"),
                    None,
                    "",
                ));
            }
        }
        match ec.get("terminationMessagePolicy").and_then(|v| v.as_str()) {
            None | Some("") => errs.push(FieldError::new(
                FieldErrorKind::Required,
                &format!("{p}.terminationMessagePolicy"),
                None,
                "must be 'File' or 'FallbackToLogsOnError'",
            )),
            Some("File") | Some("FallbackToLogsOnError") => {}
            Some(other) => errs.push(FieldError::new(
                FieldErrorKind::Invalid,
                &format!("{p}.terminationMessagePolicy"),
                Some(json!(other)),
                "must be 'File' or 'FallbackToLogsOnError'",
            )),
        }
        match ec.get("imagePullPolicy").and_then(|v| v.as_str()) {
            None | Some("Always") | Some("IfNotPresent") | Some("Never") => {}
            Some("") => errs.push(FieldError::new(
                FieldErrorKind::Required,
                &format!("{p}.imagePullPolicy"),
                None,
                "",
            )),
            Some(other) => errs.push(FieldError::new(
                FieldErrorKind::NotSupported,
                &format!("{p}.imagePullPolicy"),
                Some(json!(other)),
                "supported values: \"Always\", \"IfNotPresent\", \"Never\"",
            )),
        }
        // validateContainerOnlyForPod
        if image.len() != image.trim().len() {
            errs.push(FieldError::new(
                FieldErrorKind::Invalid,
                &format!("{p}.image"),
                Some(json!(image)),
                "must not have leading or trailing whitespace",
            ));
        }
        if !name.is_empty() {
            if all.iter().any(|n| n == name) {
                errs.push(FieldError::new(
                    FieldErrorKind::Duplicate,
                    &format!("{p}.name"),
                    Some(json!(name)),
                    "",
                ));
            } else {
                all.push(name.to_string());
            }
        }
        if let Some(t) = ec.get("targetContainerName").and_then(|v| v.as_str()) {
            if !t.is_empty() && !other.iter().any(|n| n == t) {
                errs.push(FieldError::new(
                    FieldErrorKind::NotFound,
                    &format!("{p}.targetContainerName"),
                    Some(json!(t)),
                    "",
                ));
            }
        }
        for (field, allowed) in EPHEMERAL_FIELDS {
            if !allowed && !is_zero(ec.get(*field)) {
                errs.push(FieldError::new(
                    FieldErrorKind::Forbidden,
                    &format!("{p}.{field}"),
                    None,
                    "cannot be set for an Ephemeral Container",
                ));
            }
        }
        for (j, vm) in ec
            .get("volumeMounts")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            for sub in ["subPath", "subPathExpr"] {
                if !is_zero(vm.get(sub)) {
                    errs.push(FieldError::new(
                        FieldErrorKind::Forbidden,
                        &format!("{p}.volumeMounts[{j}].{sub}"),
                        None,
                        "cannot be set for an Ephemeral Container",
                    ));
                }
            }
        }
    }
    errs
}

/// ValidatePodEphemeralContainersUpdate: the new list must be valid and the old entries kept
/// unchanged.
pub fn ephemeral_update(old: &Value, new: &Value) -> Result<(), Vec<FieldError>> {
    let mut errs = ephemeral_containers(&new["spec"]);
    let new_list = new
        .pointer("/spec/ephemeralContainers")
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default();
    for o in old
        .pointer("/spec/ephemeralContainers")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        let name = o.get("name").and_then(|n| n.as_str()).unwrap_or("");
        match new_list
            .iter()
            .find(|n| n.get("name").and_then(|x| x.as_str()) == Some(name))
        {
            None => errs.push(FieldError::new(
                FieldErrorKind::Forbidden,
                "spec.ephemeralContainers",
                None,
                &format!("existing ephemeral containers \"{name}\" may not be removed\n"),
            )),
            // R1: the field is the list itself (upstream's specPath), the detail the
            // sentence, a newline and a diff of the container.
            Some(n) if n != o => errs.push(FieldError::new(
                FieldErrorKind::Forbidden,
                "spec.ephemeralContainers",
                None,
                &format!(
                    "existing ephemeral containers \"{name}\" may not be changed\n{}",
                    diff(o, n)
                ),
            )),
            Some(_) => {}
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// A small textual diff of two containers (upstream prints a cmp.Diff here).
fn diff(old: &Value, new: &Value) -> String {
    let mut out = String::from("  core.EphemeralContainer{\n");
    let keys: Vec<String> = old
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .chain(
            new.as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone()),
        )
        .collect();
    let mut seen = Vec::new();
    for k in keys {
        if seen.contains(&k) {
            continue;
        }
        seen.push(k.clone());
        let (a, b) = (old.get(&k), new.get(&k));
        if a != b {
            if let Some(a) = a {
                out.push_str(&format!("- \t{k}: {a},\n"));
            }
            if let Some(b) = b {
                out.push_str(&format!("+ \t{k}: {b},\n"));
            }
        }
    }
    out.push_str("  }\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ecs: Value) -> Value {
        json!({"spec":{"containers":[{"name":"app","image":"nginx"}],"initContainers":[{"name":"init","image":"busybox"}],"ephemeralContainers":ecs}})
    }

    fn msgs(ecs: Value) -> Vec<String> {
        ephemeral_containers(&pod(ecs)["spec"])
            .iter()
            .map(|e| e.full())
            .collect()
    }

    #[test]
    fn messages() {
        let base = json!({"name":"dbg","image":"busybox","terminationMessagePolicy":"File"});
        assert!(msgs(json!([base.clone()])).is_empty());
        let mut c = base.clone();
        c["ports"] = json!([{"containerPort": 80}]);
        assert_eq!(
            msgs(json!([c])),
            vec!["spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"]
        );
        let mut c = base.clone();
        c["name"] = json!("init");
        assert_eq!(
            msgs(json!([c])),
            vec!["spec.ephemeralContainers[0].name: Duplicate value: \"init\""]
        );
        let mut c = base.clone();
        c["targetContainerName"] = json!("nope");
        assert_eq!(
            msgs(json!([c])),
            vec!["spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\""]
        );
        let mut c = base.clone();
        c["image"] = json!("");
        assert_eq!(
            msgs(json!([c])),
            vec!["spec.ephemeralContainers[0].image: Required value"]
        );
        let mut c = base.clone();
        c["resources"] = json!({});
        assert!(msgs(json!([c])).is_empty());
    }
}
