//! Pod Security admission, only as far as the capabilities an ephemeral container adds.
//!
//! A guess, not an observation of tests/fakecluster/REAL.md: the real admission plugin enforces the
//! level named by the namespace label `pod-security.kubernetes.io/enforce` and answers 403
//! with `violates PodSecurity "LEVEL:latest": ...`; the wording below follows the upstream
//! plugin's check for added capabilities. Its other checks (privileged, host namespaces,
//! runAsNonRoot, seccomp) are not modelled.

use serde_json::{json, Value};

use crate::status::{err, ApiError};

/// Capabilities the baseline level allows to be added (restricted allows only the last).
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
    "NET_BIND_SERVICE",
];

/// The level a namespace enforces, from its labels.
pub fn enforced(namespace: Option<&Value>) -> Option<&str> {
    namespace?
        .pointer("/metadata/labels/pod-security.kubernetes.io~1enforce")?
        .as_str()
        .filter(|l| matches!(*l, "baseline" | "restricted"))
}

/// Refuses new containers that add capabilities the level does not allow.
pub fn check(level: &str, pod: &str, containers: &[&Value]) -> Result<(), ApiError> {
    let allowed: &[&str] = if level == "restricted" {
        &["NET_BIND_SERVICE"]
    } else {
        BASELINE_CAPS
    };
    let mut bad = Vec::new();
    for c in containers {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let caps: Vec<&str> = c
            .pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|cap| !allowed.contains(cap))
            .collect();
        if !caps.is_empty() {
            let list = caps
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            bad.push(format!(
                "container {name:?} must not include {list} in securityContext.capabilities.add"
            ));
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let what = if level == "restricted" {
        "unrestricted capabilities"
    } else {
        "non-default capabilities"
    };
    let message = format!(
        "pods {pod:?} is forbidden: violates PodSecurity \"{level}:latest\": {what} ({})",
        bad.join("; ")
    );
    Err(err(
        403,
        "Forbidden",
        &message,
        Some(json!({"name": pod, "kind": "pods"})),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_refuses_sys_ptrace_and_names_the_container() {
        let ns =
            json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
        let level = enforced(Some(&ns)).unwrap();
        let c = json!({"name": "cp", "securityContext": {"capabilities": {"add": ["SYS_PTRACE", "CHOWN"]}}});
        let e = check(level, "web-0", &[&c]).unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.body["message"],
            "pods \"web-0\" is forbidden: violates PodSecurity \"baseline:latest\": non-default capabilities (container \"cp\" must not include \"SYS_PTRACE\" in securityContext.capabilities.add)"
        );
        let plain = json!({"name": "cp"});
        assert!(check(level, "web-0", &[&plain]).is_ok());
        assert_eq!(enforced(Some(&json!({"metadata": {}}))), None);
    }
}
