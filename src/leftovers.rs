//! What kdebug leaves in a cluster and how to find and remove it: `kdebug list` and
//! `kdebug gc`. Copy and node pods carry the label `app.kubernetes.io/managed-by=kdebug`;
//! ephemeral containers, which the API cannot remove, carry the env var `KDEBUG=1`.
//! `kdebug cp`'s idle helpers are ephemeral containers that run until idle: `gc` cannot
//! remove them either, but it makes them end (an exec that tells them to).

use std::io::Write;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::client::{ApiError, Client};
use crate::debug::marks::{
    CREATED_ANNOTATION, MANAGED_BY_LABEL as MANAGED_BY, MANAGED_BY_SELECTOR as SELECTOR,
    MANAGED_BY_VALUE, TARGET_ANNOTATION,
};
use crate::kube::pod::Meta;
use crate::kube::{self as api, delete_pod, Pod, State};
use crate::text::table::write_table;

/// One thing kdebug made.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub mode: &'static str,
    pub target: String,
    pub created: Option<SystemTime>,
    pub state: String,
}

fn created(meta: &Meta) -> Option<SystemTime> {
    let a = meta
        .annotations
        .get(CREATED_ANNOTATION)
        .copied()
        .unwrap_or("");
    crate::text::time::parse(a).or_else(|| crate::text::time::parse(meta.creation_timestamp))
}

fn pod_state(pod: &Pod) -> String {
    match pod.status.phase {
        "" => "Unknown".into(),
        phase => phase.into(),
    }
}

fn state_word(state: State) -> String {
    match state {
        State::Running => "Running".into(),
        State::Terminated {
            exit_code: Some(code),
            ..
        } => format!("Terminated ({code})"),
        State::Terminated {
            exit_code: None, ..
        } => "Terminated (no exit code)".into(),
        State::Waiting { reason, .. } => reason,
        State::Unknown => "Unknown".into(),
    }
}

fn ours(meta: &Meta) -> bool {
    meta.labels.get(MANAGED_BY) == Some(&MANAGED_BY_VALUE)
}

/// Pods labelled as ours, and ephemeral containers marked as ours, in `pods`.
pub fn find(pods: &[Value]) -> Result<Vec<Leftover>, ApiError> {
    let mut out = Vec::new();
    for raw in pods {
        let pod = Pod::read(raw)?;
        let meta = &pod.metadata;
        let (ns, name) = (meta.namespace.to_string(), meta.name.to_string());
        if ours(meta) {
            let target = meta
                .annotations
                .get(TARGET_ANNOTATION)
                .copied()
                .unwrap_or("")
                .to_string();
            let container = pod
                .spec
                .containers
                .last()
                .map(|c| c.name.to_string())
                .unwrap_or_default();
            out.push(Leftover {
                namespace: ns.clone(),
                pod: name.clone(),
                container,
                mode: if target.starts_with("node/") {
                    "node"
                } else {
                    "copy"
                },
                target,
                created: created(meta),
                state: pod_state(&pod),
            });
        }
        for c in &pod.spec.ephemeral_containers {
            let ours = c.env.iter().any(|e| e.name == "KDEBUG" && e.value == "1");
            if !ours {
                continue;
            }
            let target = c.target_container_name;
            let helper = raw["spec"]["ephemeralContainers"]
                .as_array()
                .and_then(|l| l.iter().find(|e| e["name"] == c.name))
                .is_some_and(|e| e["command"][3] == crate::debug::cp::HELPER_MARK);
            out.push(Leftover {
                namespace: ns.clone(),
                pod: name.clone(),
                container: c.name.to_string(),
                mode: if helper { "cp-helper" } else { "ephemeral" },
                target: if target.is_empty() {
                    format!("pod/{name}")
                } else {
                    format!("pod/{name} ({target})")
                },
                created: None,
                state: state_word(pod.state(c.name)),
            });
        }
    }
    Ok(out)
}

fn list_pods(
    client: &Client,
    ns: Option<&str>,
    selector: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    let path = match ns {
        Some(ns) => api::pods_path(ns),
        None => "/api/v1/pods".to_string(),
    };
    let q: Vec<(&str, &str)> = selector
        .map(|s| vec![("labelSelector", s)])
        .unwrap_or_default();
    let list = client.get_query(&path, &q)?;
    Ok(api::items(&list))
}

/// `kdebug list`: prints a table of what kdebug made. `ns` None means all namespaces.
pub fn list(client: &Client, ns: Option<&str>, out: &mut dyn Write) -> Result<usize, ApiError> {
    // Ephemeral containers live in arbitrary pods, so every pod is read.
    let pods = list_pods(client, ns, None)?;
    let found = find(&pods)?;
    let now = SystemTime::now();
    let mut rows = vec![[
        "NAMESPACE",
        "POD",
        "CONTAINER",
        "MODE",
        "TARGET",
        "AGE",
        "STATE",
    ]
    .map(String::from)
    .to_vec()];
    for l in &found {
        rows.push(vec![
            l.namespace.clone(),
            l.pod.clone(),
            l.container.clone(),
            l.mode.to_string(),
            l.target.clone(),
            l.created
                .map_or("-".into(), |c| crate::text::time::age(c, now)),
            l.state.clone(),
        ]);
    }
    if found.is_empty() {
        let _ = writeln!(out, "No debug pods or containers made by kdebug found.");
        return Ok(0);
    }
    write_table(out, &rows);
    Ok(found.len())
}

/// `kdebug gc`: deletes labelled pods older than `older_than`. Never touches a pod without
/// the label. Returns the names deleted (or that would be, with `dry_run`).
pub fn gc(
    client: &Client,
    ns: Option<&str>,
    older_than: Duration,
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<Vec<String>, ApiError> {
    let pods = list_pods(client, ns, Some(SELECTOR))?;
    let now = SystemTime::now();
    let mut done = Vec::new();
    for pod in &pods {
        let pod = Pod::read(pod)?;
        let meta = &pod.metadata;
        // The server filtered by label already; check again so a server that ignores the
        // selector cannot make us delete someone else's pod.
        if !ours(meta) {
            continue;
        }
        let age = created(meta)
            .and_then(|c| now.duration_since(c).ok())
            .unwrap_or_default();
        if age < older_than {
            continue;
        }
        let (pns, name) = (meta.namespace, meta.name);
        if dry_run {
            let _ = writeln!(
                out,
                "pod/{name} would be deleted (namespace {pns}, dry run)"
            );
        } else {
            match delete_pod(client, pns, name) {
                Ok(_) => {
                    let _ = writeln!(out, "pod/{name} deleted (namespace {pns})");
                }
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            }
        }
        done.push(format!("{pns}/{name}"));
    }
    let running: Vec<Leftover> = list_pods(client, ns, None)
        .and_then(|pods| find(&pods))
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.state == "Running")
        .collect();
    for h in running.iter().filter(|l| l.mode == "cp-helper") {
        let (pns, pod, c) = (&h.namespace, &h.pod, &h.container);
        if dry_run {
            let _ = writeln!(
                out,
                "helper container {c} of pod/{pod} would be stopped (namespace {pns}, dry run)"
            );
            continue;
        }
        match crate::session::cp::stop_helper(client, pns, pod, c) {
            Ok(()) => {
                let _ = writeln!(
                    out,
                    "helper container {c} of pod/{pod} stopped (namespace {pns}; it stays in the pod's spec)"
                );
                done.push(format!("{pns}/{pod}/{c}"));
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "helper container {c} of pod/{pod} not stopped (namespace {pns}): {e}"
                );
            }
        }
    }
    let ephemeral = running.iter().filter(|l| l.mode == "ephemeral").count();
    if ephemeral > 0 {
        let _ = writeln!(
            out,
            "{ephemeral} ephemeral debug container(s) still running; the API cannot remove them (see `kdebug list`)."
        );
    }
    if done.is_empty() {
        let _ = writeln!(out, "Nothing to delete.");
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_labelled_pods_and_marked_ephemeral_containers() {
        let pods = vec![
            json!({"metadata": {"name": "web-copy", "namespace": "default", "labels": {MANAGED_BY: "kdebug"},
                   "annotations": {TARGET_ANNOTATION: "pod/web", CREATED_ANNOTATION: "2024-01-01T00:00:00Z"}},
                   "spec": {"containers": [{"name": "app"}, {"name": "debugger-abcde"}]}, "status": {"phase": "Running"}}),
            json!({"metadata": {"name": "node-debugger-n1-xyz", "namespace": "default", "labels": {MANAGED_BY: "kdebug"},
                   "annotations": {TARGET_ANNOTATION: "node/n1"}}, "spec": {"containers": [{"name": "debugger"}]}}),
            json!({"metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "app"}], "ephemeralContainers": [
                       {"name": "debugger-zzzzz", "env": [{"name": "KDEBUG", "value": "1"}], "targetContainerName": "app"},
                       {"name": "someone-else"}]},
                   "status": {"ephemeralContainerStatuses": [{"name": "debugger-zzzzz", "state": {"running": {}}}]}}),
            json!({"metadata": {"name": "unrelated", "namespace": "default", "labels": {MANAGED_BY: "helm"}}}),
        ];
        let found = find(&pods).unwrap();
        let summary: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|l| (l.pod.as_str(), l.container.as_str(), l.mode))
            .collect();
        assert_eq!(
            summary,
            [
                ("web-copy", "debugger-abcde", "copy"),
                ("node-debugger-n1-xyz", "debugger", "node"),
                ("web", "debugger-zzzzz", "ephemeral")
            ]
        );
        assert_eq!(found[2].state, "Running");
        // A terminated container the server gave no exit code shows none, not a 0.
        let mut done = pods[2].clone();
        done["status"]["ephemeralContainerStatuses"][0]["state"] =
            json!({"terminated": {"reason": "Completed"}});
        assert_eq!(find(&[done]).unwrap()[0].state, "Terminated (no exit code)");
        assert_eq!(
            found[0].created,
            crate::text::time::parse("2024-01-01T00:00:00Z")
        );
    }

    #[test]
    fn table_alignment() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &[
                vec!["A".into(), "BB".into()],
                vec!["CCC".into(), "D".into()],
            ],
        );
        assert_eq!(String::from_utf8(out).unwrap(), "A     BB\nCCC   D\n");
    }
}
