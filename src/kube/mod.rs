//! Minimal views of the API objects kdebug reads. Objects stay `serde_json::Value` so that a
//! copied pod keeps every field, known or not; these helpers read the few fields we need.

pub mod pod;
pub mod target;

use serde_json::{json, Value};

use crate::client::{ApiError, Client};

pub fn pod_path(ns: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods/{name}")
}

pub fn pods_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods")
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// The `items` of a list response (none when the answer has none).
pub fn items(list: &Value) -> Vec<Value> {
    list.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Page size for lists read in pages, kubectl's (`--chunk-size`, 500).
pub const PAGE_SIZE: &str = "500";

/// One page of a list as fan-out reads it: each item's name and namespace, and the token
/// for the next page. Every other field is skipped while decoding.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NamesPage {
    #[serde(default)]
    pub metadata: PageMeta,
    #[serde(default)]
    items: Option<Vec<ItemName>>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageMeta {
    /// Empty on the last page.
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct ItemName {
    metadata: ItemMeta,
}

#[derive(Debug, serde::Deserialize)]
struct ItemMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
}

impl NamesPage {
    /// (namespace, name) of each item, in the server's order.
    pub fn names(self) -> impl Iterator<Item = (String, String)> {
        self.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| (i.metadata.namespace, i.metadata.name))
    }

    /// The token for the next page; None on the last.
    pub fn next(&self) -> Option<String> {
        self.metadata
            .continue_token
            .clone()
            .filter(|c| !c.is_empty())
    }
}

pub fn name(obj: &Value) -> &str {
    str_at(obj, &["metadata", "name"])
}

pub fn namespace(obj: &Value) -> &str {
    str_at(obj, &["metadata", "namespace"])
}

/// The status of container `name`, looked up as kubectl does: init, regular, ephemeral.
pub fn container_status<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|k| pod.get("status")?.get(k)?.as_array())
    .flatten()
    .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
}

/// The spec of container `name` in any of the three lists.
pub fn container_spec<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| pod.get("spec")?.get(k)?.as_array())
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

/// A pod without a single regular container: there is none to default to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoContainers {
    pub namespace: String,
    pub pod: String,
}

impl std::fmt::Display for NoContainers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pod {}/{} does not have any containers",
            self.namespace, self.pod
        )
    }
}

/// The container kubectl picks when no `-c` is given (kubectl's
/// podcmd.FindOrDefaultContainerByName): the one the `kubectl.kubernetes.io/default-container`
/// annotation names, else the first regular container. The message is kubectl's "Defaulted
/// container" note, given only when the first container was picked out of several.
pub fn default_container(pod: &Value) -> Result<(String, Option<String>), NoContainers> {
    let names = |list: &str| -> Vec<&str> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| str_at(c, &["name"]))
            .collect()
    };
    let (regular, init, ephemeral) = (
        names("containers"),
        names("initContainers"),
        names("ephemeralContainers"),
    );
    let Some(first) = regular.first() else {
        return Err(NoContainers {
            namespace: namespace(pod).to_string(),
            pod: name(pod).to_string(),
        });
    };
    let wanted = str_at(
        pod,
        &[
            "metadata",
            "annotations",
            "kubectl.kubernetes.io/default-container",
        ],
    );
    if !wanted.is_empty() && container_spec(pod, wanted).is_some() {
        return Ok((wanted.to_string(), None));
    }
    let note = (regular.len() > 1 || !init.is_empty() || !ephemeral.is_empty()).then(|| {
        // kubectl's AllContainerNames order: regular, ephemeral, init.
        let all: Vec<String> = regular
            .iter()
            .map(|n| n.to_string())
            .chain(ephemeral.iter().map(|n| format!("{n} (ephem)")))
            .chain(init.iter().map(|n| format!("{n} (init)")))
            .collect();
        format!("Defaulted container {first:?} out of: {}", all.join(", "))
    });
    Ok((first.to_string(), note))
}

/// The ephemeral containers' names, in the order they were added.
pub fn ephemeral_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/ephemeralContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| str_at(c, &["name"]).to_string())
        .collect()
}

/// Where a container stands, from its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Unknown,
    Waiting { reason: String, message: String },
    Running,
    Terminated { exit_code: i32, reason: String },
}

pub fn state(status: Option<&Value>) -> State {
    let Some(st) = status.and_then(|s| s.get("state")) else {
        return State::Unknown;
    };
    if let Some(t) = st.get("terminated") {
        return State::Terminated {
            exit_code: t.get("exitCode").and_then(Value::as_i64).unwrap_or(0) as i32,
            reason: str_at(t, &["reason"]).to_string(),
        };
    }
    if st.get("running").is_some() {
        return State::Running;
    }
    if let Some(w) = st.get("waiting") {
        return State::Waiting {
            reason: str_at(w, &["reason"]).to_string(),
            message: str_at(w, &["message"]).to_string(),
        };
    }
    State::Unknown
}

/// Deletes a pod kdebug made, at once: a debug shell has nothing to shut down gracefully.
pub fn delete_pod(client: &Client, ns: &str, name: &str) -> Result<Value, ApiError> {
    let body = json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0});
    client.delete(&pod_path(ns, name), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_statuses_in_every_list() {
        let pod = json!({"status": {
            "containerStatuses": [{"name": "app", "state": {"running": {}}}],
            "ephemeralContainerStatuses": [{"name": "dbg", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}],
            "initContainerStatuses": [{"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}]
        }});
        assert_eq!(state(container_status(&pod, "app")), State::Running);
        assert_eq!(
            state(container_status(&pod, "dbg")),
            State::Terminated {
                exit_code: 3,
                reason: "Error".into()
            }
        );
        assert!(
            matches!(state(container_status(&pod, "init")), State::Waiting { reason, .. } if reason == "PodInitializing")
        );
        assert_eq!(state(container_status(&pod, "nope")), State::Unknown);
    }

    #[test]
    fn a_names_page_keeps_names_and_the_continue_token() {
        let page: NamesPage = serde_json::from_value(json!({
            "kind": "PodList", "metadata": {"resourceVersion": "9", "continue": "abc"},
            "items": [{"metadata": {"name": "a", "namespace": "ns", "labels": {"x": "y"}}, "spec": {"containers": []}}]
        }))
        .unwrap();
        assert_eq!(page.next().as_deref(), Some("abc"));
        assert_eq!(
            page.names().collect::<Vec<_>>(),
            [("ns".into(), "a".into())]
        );
        let last: NamesPage =
            serde_json::from_value(json!({"metadata": {"continue": ""}, "items": null})).unwrap();
        assert_eq!(last.next(), None);
        assert_eq!(last.names().count(), 0);
    }

    #[test]
    fn default_container_is_kubectls() {
        let mut pod = json!({
            "metadata": {"name": "web-0", "namespace": "default",
                "annotations": {"kubectl.kubernetes.io/default-container": "sidecar"}},
            "spec": {
                "containers": [{"name": "app"}, {"name": "sidecar"}],
                "initContainers": [{"name": "init"}],
                "ephemeralContainers": [{"name": "dbg"}, {"name": "dbg2"}]
            }
        });
        // The annotation wins, silently; never the last ephemeral container.
        assert_eq!(default_container(&pod).unwrap(), ("sidecar".into(), None));
        pod["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/default-container": "gone"});
        assert_eq!(
            default_container(&pod).unwrap(),
            (
                "app".into(),
                Some(
                    "Defaulted container \"app\" out of: app, sidecar, dbg (ephem), dbg2 (ephem), init (init)"
                        .into()
                )
            )
        );
        assert_eq!(ephemeral_names(&pod), ["dbg", "dbg2"]);
        let lonely = json!({"spec": {"containers": [{"name": "main"}]}});
        assert_eq!(default_container(&lonely).unwrap(), ("main".into(), None));
        let empty = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {}});
        assert_eq!(
            default_container(&empty).unwrap_err().to_string(),
            "pod ns/p does not have any containers"
        );
    }
}
