//! Workload targets (`deploy/x`, `rs/`, `sts/`, `ds/`, `job/`, `svc/`): resolved through their
//! selector to pods with one GET of the workload and one list of pods, no discovery.

use serde::Deserialize;
use serde_json::Value;

use crate::client::{ApiError, Client};
use crate::kube::pod::zero;
use crate::kube::target::{Kind, Target};
use crate::kube::{self as api, Pod};
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

/// One of a LabelSelector's matchExpressions.
#[derive(serde::Deserialize)]
struct Requirement<'a> {
    #[serde(borrow, default, deserialize_with = "zero")]
    key: &'a str,
    #[serde(borrow, default, deserialize_with = "zero")]
    operator: &'a str,
    #[serde(borrow, default, deserialize_with = "zero")]
    values: Vec<&'a str>,
}

/// A label selector string (`a=b,c in (d,e),!f`) from a workload's selector object.
/// Services carry a plain map; the others a LabelSelector with matchLabels/matchExpressions.
/// The labels keep the server's order; an expression that is not one is an error.
pub fn selector_string(kind: Kind, obj: &Value) -> Result<Option<String>, ApiError> {
    let Some(sel) = obj.get("spec").and_then(|s| s.get("selector")) else {
        return Ok(None);
    };
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
            let e = Requirement::deserialize(e).map_err(|cause| ApiError::Decode {
                what: "the selector's matchExpressions".into(),
                cause: cause.to_string(),
            })?;
            let (key, values) = (e.key, e.values);
            parts.push(match e.operator {
                "In" => format!("{key} in ({})", values.join(",")),
                "NotIn" => format!("{key} notin ({})", values.join(",")),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                _ => continue,
            });
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join(",")))
}

/// Where a pod ranks: deleted-in-progress, not running, not ready (false first), then
/// newest first.
fn rank_key(pod: &Pod) -> (bool, bool, bool, std::cmp::Reverse<String>) {
    let ready = pod
        .status
        .conditions
        .iter()
        .any(|c| c.kind == "Ready" && c.status == "True");
    (
        pod.metadata.deletion_timestamp.is_some(),
        pod.status.phase != "Running",
        !ready,
        std::cmp::Reverse(pod.metadata.creation_timestamp.to_string()),
    )
}

/// Orders pods the way `kubectl logs deploy/x` picks one: running and ready first, then
/// newest first; deleted-in-progress pods last.
pub fn rank(pods: Vec<Value>) -> Result<Vec<Value>, ApiError> {
    let mut keyed = pods
        .into_iter()
        .map(|p| Ok((rank_key(&Pod::read(&p)?), p)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keyed.into_iter().map(|(_, p)| p).collect())
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
    let selector = selector_string(target.kind, &obj)?
        .ok_or_else(|| WorkloadError::NoSelector(target.to_string()))?;
    let list = client.get_query(&api::pods_path(ns), &[("labelSelector", &selector)])?;
    let items = api::items(&list);
    if items.is_empty() {
        return Err(WorkloadError::NoPods(target.to_string()));
    }
    Ok(rank(items)?)
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
            selector_string(Kind::Deployment, &deploy)
                .unwrap()
                .as_deref(),
            Some("app=web,tier in (a,b),!canary")
        );
        let svc = json!({"spec": {"selector": {"app": "web"}}});
        assert_eq!(
            selector_string(Kind::Service, &svc).unwrap().as_deref(),
            Some("app=web")
        );
        assert_eq!(
            selector_string(Kind::Service, &json!({"spec": {}})).unwrap(),
            None
        );
    }

    #[test]
    fn ranks_running_ready_newest_first() {
        let p = |name: &str, phase: &str, ready: bool, created: &str| {
            json!({"metadata": {"name": name, "creationTimestamp": created},
                   "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
        };
        let pods = vec![
            p("pending", "Pending", false, "2024-01-03T00:00:00Z"),
            p("old-ready", "Running", true, "2024-01-01T00:00:00Z"),
            p("new-ready", "Running", true, "2024-01-02T00:00:00Z"),
            p("running-unready", "Running", false, "2024-01-04T00:00:00Z"),
        ];
        let pods = rank(pods).unwrap();
        let names: Vec<&str> = pods
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["new-ready", "old-ready", "running-unready", "pending"]
        );
    }
}
