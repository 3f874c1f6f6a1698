//! Server-side printing (meta.k8s.io/v1 Table) for `kubectl get`.

use serde_json::{json, Value};

use crate::store::{meta_str, ResourceType};

fn col(name: &str, ty: &str, format: &str, desc: &str, priority: u8) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": desc, "priority": priority})
}

/// kubectl's short human duration.
pub fn human_age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 120 {
        format!("{s}s")
    } else if s < 600 {
        let m = s / 60;
        let r = s % 60;
        if r == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{r}s")
        }
    } else if s < 3 * 3600 {
        format!("{}m", s / 60)
    } else if s < 8 * 3600 {
        let h = s / 3600;
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{m}m")
        }
    } else if s < 48 * 3600 {
        format!("{}h", s / 3600)
    } else if s < 8 * 86400 {
        let d = s / 86400;
        let h = (s % 86400) / 3600;
        if h == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{h}h")
        }
    } else if s < 365 * 86400 * 2 {
        format!("{}d", s / 86400)
    } else {
        format!("{}y", s / (365 * 86400))
    }
}

fn age(obj: &Value) -> String {
    let ts = meta_str(obj, "creationTimestamp");
    match crate::util::parse_rfc3339(ts) {
        Some(t) => human_age(crate::util::now_parts().0 - t),
        None => "<unknown>".into(),
    }
}

fn pod_cells(p: &Value) -> Vec<Value> {
    let statuses = |k: &str| -> Vec<Value> {
        p.pointer(&format!("/status/{k}"))
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let total = p
        .pointer("/spec/containers")
        .and_then(|c| c.as_array())
        .map(|a| a.len())
        .unwrap_or(0);
    let mut reason = p
        .pointer("/status/reason")
        .or_else(|| p.pointer("/status/phase"))
        .and_then(|v| v.as_str())
        .unwrap_or("Pending")
        .to_string();
    let mut restarts = 0;
    let mut ready = 0;
    let n_init = p
        .pointer("/spec/initContainers")
        .and_then(|c| c.as_array())
        .map(|a| a.len())
        .unwrap_or(0);
    let mut initializing = false;
    for (i, s) in statuses("initContainerStatuses").iter().enumerate() {
        restarts += s.get("restartCount").and_then(|r| r.as_i64()).unwrap_or(0);
        if s.pointer("/state/terminated/exitCode")
            .and_then(|c| c.as_i64())
            == Some(0)
        {
            continue;
        }
        initializing = true;
        reason = if let Some(r) = s
            .pointer("/state/terminated/reason")
            .and_then(|r| r.as_str())
        {
            format!("Init:{r}")
        } else if let Some(r) = s
            .pointer("/state/waiting/reason")
            .and_then(|r| r.as_str())
            .filter(|r| *r != "PodInitializing")
        {
            format!("Init:{r}")
        } else {
            format!("Init:{i}/{n_init}")
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        for s in statuses("containerStatuses").iter().rev() {
            restarts += s.get("restartCount").and_then(|r| r.as_i64()).unwrap_or(0);
            if let Some(r) = s.pointer("/state/waiting/reason").and_then(|r| r.as_str()) {
                reason = r.to_string();
            } else if let Some(t) = s.pointer("/state/terminated") {
                reason = t
                    .get("reason")
                    .and_then(|r| r.as_str())
                    .map(String::from)
                    .unwrap_or_else(|| {
                        format!(
                            "ExitCode:{}",
                            t.get("exitCode").and_then(|c| c.as_i64()).unwrap_or(0)
                        )
                    });
            } else if s.pointer("/state/running").is_some() && s.get("ready") == Some(&json!(true))
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if p.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    let ip = p
        .pointer("/status/podIP")
        .and_then(|v| v.as_str())
        .unwrap_or("<none>");
    let node = p
        .pointer("/spec/nodeName")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("<none>");
    vec![
        json!(meta_str(p, "name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts),
        json!(age(p)),
        json!(ip),
        json!(node),
        json!("<none>"),
        json!("<none>"),
    ]
}

fn node_cells(n: &Value) -> Vec<Value> {
    let ready = n
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .and_then(|c| c.iter().find(|x| x.get("type") == Some(&json!("Ready"))))
        .and_then(|c| c.get("status"))
        .and_then(|s| s.as_str())
        == Some("True");
    let roles: Vec<String> = n
        .pointer("/metadata/labels")
        .and_then(|l| l.as_object())
        .map(|l| {
            l.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/").map(String::from))
                .collect()
        })
        .unwrap_or_default();
    vec![
        json!(meta_str(n, "name")),
        json!(if ready { "Ready" } else { "NotReady" }),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        }),
        json!(age(n)),
        json!(n
            .pointer("/status/nodeInfo/kubeletVersion")
            .and_then(|v| v.as_str())
            .unwrap_or("")),
    ]
}

/// A Table of `items`. `include` is the includeObject query (None, Metadata or Object).
pub fn table(
    t: &ResourceType,
    items: &[Value],
    rv: &str,
    include: Option<&str>,
    with_columns: bool,
) -> Value {
    let name_col = col(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        0,
    );
    let age_col = col(
        "Age",
        "string",
        "",
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        0,
    );
    let columns = match t.resource {
        "pods" => vec![
            name_col,
            col("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
            col("Status", "string", "", "The aggregate status of the containers in this pod.", 0),
            col("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
            age_col,
            col("IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
            col("Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1),
            col("Nominated Node", "string", "", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
            col("Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
        ],
        "nodes" => vec![
            name_col,
            col("Status", "string", "", "The status of the node", 0),
            col("Roles", "string", "", "The roles of the node", 0),
            age_col,
            col("Version", "string", "", "Kubelet Version reported by the node.", 0),
        ],
        _ => vec![name_col, age_col],
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let cells = match t.resource {
                "pods" => pod_cells(o),
                "nodes" => node_cells(o),
                _ => vec![json!(meta_str(o, "name")), json!(age(o))],
            };
            let object = match include.unwrap_or("Metadata") {
                "None" => Value::Null,
                "Object" => o.clone(),
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or(json!({})),
                }),
            };
            let mut row = json!({"cells": cells});
            if !object.is_null() {
                row["object"] = object;
            }
            row
        })
        .collect();
    let mut out = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
    });
    if with_columns {
        out["columnDefinitions"] = json!(columns);
    } else {
        out["columnDefinitions"] = Value::Null;
    }
    out["rows"] = json!(rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(human_age(5), "5s");
        assert_eq!(human_age(150), "2m30s");
        assert_eq!(human_age(3 * 86400), "3d");
    }
}
