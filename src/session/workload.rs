//! Workload targets (`deploy/x`, `rs/`, `sts/`, `ds/`, `job/`, `svc/`): resolved through their
//! selector to pods with one GET of the workload and one list of pods, no discovery.

use serde_json::Value;

use crate::client::{ApiError, Client};
use crate::kube as api;
use crate::kube::target::{Kind, Target};
use crate::sys::report::Failure;

#[derive(Debug)]
pub enum WorkloadError {
    Api(ApiError),
    NoSelector(String),
    NoPods(String),
}

impl std::fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkloadError::Api(e) => write!(f, "{e}"),
            WorkloadError::NoSelector(t) => {
                write!(f, "{t} has no selector to find its pods")
            }
            WorkloadError::NoPods(t) => write!(f, "no pods found for {t}"),
        }
    }
}

impl Failure for WorkloadError {
    fn prefixed(&self) -> bool {
        match self {
            WorkloadError::Api(e) => e.prefixed(),
            WorkloadError::NoSelector(_) | WorkloadError::NoPods(_) => true,
        }
    }
}

impl From<ApiError> for WorkloadError {
    fn from(e: ApiError) -> Self {
        WorkloadError::Api(e)
    }
}

/// A label selector string (`a=b,c in (d,e),!f`) from a workload's selector object.
/// Services carry a plain map; the others a LabelSelector with matchLabels/matchExpressions.
pub fn selector_string(kind: Kind, obj: &Value) -> Option<String> {
    let sel = obj.get("spec")?.get("selector")?;
    let mut parts = Vec::new();
    let labels = if kind == Kind::Service {
        Some(sel)
    } else {
        sel.get("matchLabels")
    };
    if let Some(m) = labels.and_then(Value::as_object) {
        for (k, v) in m {
            parts.push(format!("{k}={}", v.as_str().unwrap_or("")));
        }
    }
    if kind != Kind::Service {
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = api::str_at(e, &["key"]);
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            parts.push(match api::str_at(e, &["operator"]) {
                "In" => format!("{key} in ({})", values.join(",")),
                "NotIn" => format!("{key} notin ({})", values.join(",")),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                _ => continue,
            });
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(","))
    }
}

fn is_ready(pod: &Value) -> bool {
    pod.get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| api::str_at(c, &["type"]) == "Ready" && api::str_at(c, &["status"]) == "True")
}

/// Orders pods the way `kubectl logs deploy/x` picks one: running and ready first, then
/// newest first; deleted-in-progress pods last.
pub fn rank(pods: &mut [Value]) {
    pods.sort_by(|a, b| {
        let key = |p: &Value| {
            let running = api::str_at(p, &["status", "phase"]) == "Running";
            let deleting = p
                .get("metadata")
                .and_then(|m| m.get("deletionTimestamp"))
                .is_some();
            (deleting, !running, !is_ready(p))
        };
        key(a).cmp(&key(b)).then_with(|| {
            api::str_at(b, &["metadata", "creationTimestamp"])
                .cmp(api::str_at(a, &["metadata", "creationTimestamp"]))
        })
    });
}

/// The pods of a workload target, best first.
pub fn pods(client: &Client, ns: &str, target: &Target) -> Result<Vec<Value>, WorkloadError> {
    let path = format!(
        "{}/namespaces/{ns}/{}/{}",
        target.kind.api_prefix(),
        target.kind.resource(),
        target.name
    );
    let obj = client.get(&path)?;
    let selector = selector_string(target.kind, &obj)
        .ok_or_else(|| WorkloadError::NoSelector(target.to_string()))?;
    let list = client.get_query(&api::pods_path(ns), &[("labelSelector", &selector)])?;
    let mut items = api::items(&list);
    if items.is_empty() {
        return Err(WorkloadError::NoPods(target.to_string()));
    }
    rank(&mut items);
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_from_each_shape() {
        let deploy = json!({"spec": {"selector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "canary", "operator": "DoesNotExist"}]}}});
        assert_eq!(
            selector_string(Kind::Deployment, &deploy).as_deref(),
            Some("app=web,tier in (a,b),!canary")
        );
        let svc = json!({"spec": {"selector": {"app": "web"}}});
        assert_eq!(
            selector_string(Kind::Service, &svc).as_deref(),
            Some("app=web")
        );
        assert_eq!(selector_string(Kind::Service, &json!({"spec": {}})), None);
    }

    #[test]
    fn ranks_running_ready_newest_first() {
        let p = |name: &str, phase: &str, ready: bool, created: &str| {
            json!({"metadata": {"name": name, "creationTimestamp": created},
                   "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
        };
        let mut pods = vec![
            p("pending", "Pending", false, "2024-01-03T00:00:00Z"),
            p("old-ready", "Running", true, "2024-01-01T00:00:00Z"),
            p("new-ready", "Running", true, "2024-01-02T00:00:00Z"),
            p("running-unready", "Running", false, "2024-01-04T00:00:00Z"),
        ];
        rank(&mut pods);
        let names: Vec<&str> = pods.iter().map(api::name).collect();
        assert_eq!(
            names,
            ["new-ready", "old-ready", "running-unready", "pending"]
        );
    }
}
