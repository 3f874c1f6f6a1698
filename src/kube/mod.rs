//! API paths and the views of the objects kdebug reads. Objects stay `serde_json::Value` so
//! that a copied pod keeps every field, known or not; [`pod`] reads the few fields we need.

pub mod node;
pub mod pod;
pub mod target;
pub mod watch;

pub use pod::{Meta, Object, Pod, State};

use serde_json::{json, Value};

pub fn pod_path(ns: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods/{name}")
}

pub fn pods_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods")
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
pub fn default_container(pod: &Pod) -> Result<(String, Option<String>), NoContainers> {
    let spec = &pod.spec;
    let Some(first) = spec.containers.first().map(|c| c.name) else {
        return Err(NoContainers {
            namespace: pod.metadata.namespace.to_string(),
            pod: pod.metadata.name.to_string(),
        });
    };
    let wanted = pod
        .metadata
        .annotations
        .get("kubectl.kubernetes.io/default-container")
        .copied()
        .unwrap_or("");
    if !wanted.is_empty() && pod.container(wanted).is_some() {
        return Ok((wanted.to_string(), None));
    }
    let several = spec.containers.len() > 1
        || !spec.init_containers.is_empty()
        || !spec.ephemeral_containers.is_empty();
    let note = several.then(|| {
        // kubectl's AllContainerNames order: regular, ephemeral, init.
        let all: Vec<String> = spec
            .containers
            .iter()
            .map(|c| c.name.to_string())
            .chain(
                spec.ephemeral_containers
                    .iter()
                    .map(|c| format!("{} (ephem)", c.name)),
            )
            .chain(
                spec.init_containers
                    .iter()
                    .map(|c| format!("{} (init)", c.name)),
            )
            .collect();
        format!("Defaulted container {first:?} out of: {}", all.join(", "))
    });
    Ok((first.to_string(), note))
}

/// The ephemeral containers' names, in the order they were added.
pub fn ephemeral_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .ephemeral_containers
        .iter()
        .map(|c| c.name.to_string())
        .collect()
}

/// What deleting needs: one DELETE request with a body (the REST client makes it).
pub trait Delete {
    type Error;
    fn delete(&self, path: &str, body: &Value) -> Result<Value, Self::Error>;
}

/// Deletes a pod kdebug made, at once: a debug shell has nothing to shut down gracefully.
pub fn delete_pod<D: Delete>(api: &D, ns: &str, name: &str) -> Result<Value, D::Error> {
    let body = json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0});
    api.delete(&pod_path(ns, name), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert_eq!(
            default_container(&Pod::read(&pod).unwrap()).unwrap(),
            ("sidecar".into(), None)
        );
        pod["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/default-container": "gone"});
        assert_eq!(
            default_container(&Pod::read(&pod).unwrap()).unwrap(),
            (
                "app".into(),
                Some(
                    "Defaulted container \"app\" out of: app, sidecar, dbg (ephem), dbg2 (ephem), init (init)"
                        .into()
                )
            )
        );
        assert_eq!(ephemeral_names(&Pod::read(&pod).unwrap()), ["dbg", "dbg2"]);
        let lonely = json!({"spec": {"containers": [{"name": "main"}]}});
        assert_eq!(
            default_container(&Pod::read(&lonely).unwrap()).unwrap(),
            ("main".into(), None)
        );
        let empty = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {}});
        assert_eq!(
            default_container(&Pod::read(&empty).unwrap())
                .unwrap_err()
                .to_string(),
            "pod ns/p does not have any containers"
        );
    }
}
