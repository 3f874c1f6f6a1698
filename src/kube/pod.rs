//! Typed views of the few pod fields kdebug reads, borrowed from the JSON the server sent
//! (which stays a `serde_json::Value`, so a copied pod keeps every field in order).
//!
//! Fields are read as Go reads them: a missing field and `null` are the zero value (an
//! empty string, false, an empty list), and a field of the wrong type is an error. Where the
//! zero value would read as an answer (a terminated container's exit code, a state) the view
//! says `None` instead.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Go's reading of a field: missing or `null` gives the zero value, a wrong type an error.
pub fn zero<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Declares views: structs whose every field is read with [`zero`] (and absent is zero
/// too), borrowing strings from the JSON, field names in the API's camelCase.
macro_rules! views {
    ($($(#[$m:meta])* pub struct $name:ident<$lt:lifetime> {
        $($(#[$fm:meta])* $field:ident: $ty:ty,)*
    })*) => {$(
        $(#[$m])*
        #[derive(Debug, Default, Deserialize)]
        #[serde(rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
        pub struct $name<$lt> {
            $($(#[$fm])* #[serde(default, deserialize_with = "zero")] pub $field: $ty,)*
        }
    )*};
}

views! {
    /// The metadata of any object (pod, node, list).
    pub struct Meta<'a> {
        name: &'a str,
        namespace: &'a str,
        resource_version: &'a str,
        creation_timestamp: &'a str,
        /// Set once the object is being deleted.
        deletion_timestamp: Option<&'a str>,
        labels: BTreeMap<&'a str, &'a str>,
        annotations: BTreeMap<&'a str, &'a str>,
    }

    /// Any object, as far as its kind and metadata go.
    pub struct Object<'a> {
        api_version: &'a str,
        kind: &'a str,
        metadata: Meta<'a>,
    }

    pub struct Pod<'a> {
        metadata: Meta<'a>,
        spec: Spec<'a>,
        status: Status<'a>,
    }

    pub struct Spec<'a> {
        restart_policy: &'a str,
        node_name: &'a str,
        containers: Vec<Container<'a>>,
        init_containers: Vec<Container<'a>>,
        ephemeral_containers: Vec<Container<'a>>,
    }

    /// A container of any of the three lists (`targetContainerName` only in ephemeral ones).
    pub struct Container<'a> {
        name: &'a str,
        tty: bool,
        target_container_name: &'a str,
        env: Vec<EnvVar<'a>>,
    }

    pub struct EnvVar<'a> {
        name: &'a str,
        value: &'a str,
    }

    pub struct Status<'a> {
        phase: &'a str,
        reason: &'a str,
        message: &'a str,
        conditions: Vec<Condition<'a>>,
        init_container_statuses: Vec<ContainerStatus<'a>>,
        container_statuses: Vec<ContainerStatus<'a>>,
        ephemeral_container_statuses: Vec<ContainerStatus<'a>>,
    }

    pub struct Condition<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        status: &'a str,
        reason: &'a str,
        message: &'a str,
    }

    pub struct ContainerStatus<'a> {
        name: &'a str,
        state: Option<ContainerState<'a>>,
    }

    /// One of the three, as the server reports it (Go's pointers: absent or `null` is None).
    pub struct ContainerState<'a> {
        waiting: Option<Waiting<'a>>,
        running: Option<serde::de::IgnoredAny>,
        terminated: Option<Terminated<'a>>,
    }

    pub struct Waiting<'a> {
        reason: &'a str,
        message: &'a str,
    }

    pub struct Terminated<'a> {
        /// None when the server gave none: never read as 0, which would be success.
        exit_code: Option<i32>,
        reason: &'a str,
    }
}

/// Where a container stands, from its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Unknown,
    Waiting {
        reason: String,
        message: String,
    },
    Running,
    /// `exit_code` is None when the server reported the end without one.
    Terminated {
        exit_code: Option<i32>,
        reason: String,
    },
}

impl State {
    pub fn of(status: Option<&ContainerStatus>) -> State {
        let Some(st) = status.and_then(|s| s.state.as_ref()) else {
            return State::Unknown;
        };
        if let Some(t) = &st.terminated {
            return State::Terminated {
                exit_code: t.exit_code,
                reason: t.reason.to_string(),
            };
        }
        if st.running.is_some() {
            return State::Running;
        }
        match &st.waiting {
            Some(w) => State::Waiting {
                reason: w.reason.to_string(),
                message: w.message.to_string(),
            },
            None => State::Unknown,
        }
    }
}

/// An object from the server with a field of the wrong type: its answer not understood.
#[derive(Debug)]
pub struct ReadError {
    /// Which object (`pod NS/NAME`).
    pub what: String,
    pub cause: serde_json::Error,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed to decode {}: {}", self.what, self.cause)
    }
}

impl std::error::Error for ReadError {}

/// Reads `v` as a `T`; `what` says which object it was.
fn read<'a, T: Deserialize<'a>>(
    v: &'a Value,
    what: impl FnOnce() -> String,
) -> Result<T, ReadError> {
    T::deserialize(v).map_err(|cause| ReadError {
        what: what(),
        cause,
    })
}

/// The object's name as far as it can be read, for the message saying it could not be.
fn said_name(v: &Value) -> String {
    let at = |f: &str| v.get("metadata")?.get(f)?.as_str();
    match (at("namespace"), at("name")) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.to_string(),
        _ => "(unnamed)".to_string(),
    }
}

impl<'a> Pod<'a> {
    /// The view of a pod; an error names the pod and the field of the wrong type's value.
    pub fn read(v: &'a Value) -> Result<Pod<'a>, ReadError> {
        read(v, || format!("pod {}", said_name(v)))
    }

    /// The status of container `name`, looked up as kubectl does: init, regular, ephemeral.
    pub fn container_status(&self, name: &str) -> Option<&ContainerStatus<'a>> {
        let s = &self.status;
        let lists = [
            &s.init_container_statuses,
            &s.container_statuses,
            &s.ephemeral_container_statuses,
        ];
        lists.into_iter().flatten().find(|c| c.name == name)
    }

    /// The state of container `name` (Unknown when the kubelet has not reported it).
    pub fn state(&self, name: &str) -> State {
        State::of(self.container_status(name))
    }

    /// The spec of container `name` in any of the three lists.
    pub fn container(&self, name: &str) -> Option<&Container<'a>> {
        let s = &self.spec;
        let lists = [&s.init_containers, &s.containers, &s.ephemeral_containers];
        lists.into_iter().flatten().find(|c| c.name == name)
    }
}

impl<'a> Object<'a> {
    pub fn read(v: &'a Value) -> Result<Object<'a>, ReadError> {
        read(v, || format!("object {}", said_name(v)))
    }
}

impl<'a> Meta<'a> {
    /// The metadata of any object (a node, a list).
    pub fn read(v: &'a Value) -> Result<Meta<'a>, ReadError> {
        Object::read(v).map(|o| o.metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_statuses_in_every_list() {
        let v = json!({"status": {
            "containerStatuses": [{"name": "app", "state": {"running": {}}}],
            "ephemeralContainerStatuses": [{"name": "dbg", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}],
            "initContainerStatuses": [{"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}]
        }});
        let pod = Pod::read(&v).unwrap();
        assert_eq!(pod.state("app"), State::Running);
        assert_eq!(
            pod.state("dbg"),
            State::Terminated {
                exit_code: Some(3),
                reason: "Error".into()
            }
        );
        assert!(
            matches!(pod.state("init"), State::Waiting { reason, .. } if reason == "PodInitializing")
        );
        assert_eq!(pod.state("nope"), State::Unknown);
    }

    #[test]
    fn a_terminated_state_without_an_exit_code_has_none() {
        let v = json!({"status": {"ephemeralContainerStatuses": [
            {"name": "dbg", "state": {"terminated": {"reason": "Completed"}}}]}});
        assert_eq!(
            Pod::read(&v).unwrap().state("dbg"),
            State::Terminated {
                exit_code: None,
                reason: "Completed".into()
            }
        );
    }

    #[test]
    fn missing_and_null_are_zero_a_wrong_type_is_an_error() {
        let v = json!({"metadata": {"name": "p", "creationTimestamp": null, "labels": null},
            "spec": {"containers": [{"name": "app", "tty": null}], "restartPolicy": null},
            "status": {"containerStatuses": [{"name": "app", "state": {"running": null}}]}});
        let pod = Pod::read(&v).unwrap();
        assert_eq!(pod.metadata.creation_timestamp, "");
        assert!(pod.metadata.labels.is_empty());
        assert_eq!(pod.spec.restart_policy, "");
        assert!(!pod.container("app").unwrap().tty);
        // Go's pointer: `null` is no state at all, not a running one.
        assert_eq!(pod.state("app"), State::Unknown);
        assert!(Pod::read(&json!({})).is_ok());

        let wrong = json!({"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": 5}});
        assert_eq!(
            Pod::read(&wrong).unwrap_err().to_string(),
            "failed to decode pod ns/p: invalid type: integer `5`, expected a borrowed string"
        );
        let exit = json!({"status": {"containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": "1"}}}]}});
        assert!(Pod::read(&exit).is_err());
        let node = json!({"metadata": {"name": 7}});
        assert_eq!(
            Meta::read(&node).unwrap_err().to_string(),
            "failed to decode object (unnamed): invalid type: integer `7`, expected a borrowed string"
        );
    }

    #[test]
    fn labels_and_annotations_by_key() {
        let v = json!({"metadata": {"labels": {"a": "1"}, "annotations": {"k/x": "v"}, "deletionTimestamp": "t"}});
        let meta = Meta::read(&v).unwrap();
        assert_eq!(meta.labels.get("a"), Some(&"1"));
        assert_eq!(meta.annotations.get("k/x"), Some(&"v"));
        assert_eq!(meta.deletion_timestamp, Some("t"));
    }
}
