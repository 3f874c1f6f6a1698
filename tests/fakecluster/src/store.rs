//! The object store: one global resourceVersion, a bounded event history for watches.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{json, Value};

/// A resource type the server knows about.
#[derive(Debug, Clone, Copy)]
pub struct ResourceType {
    pub resource: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// (subresource, response kind group, version, kind, verbs)
    pub subresources: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    )],
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

pub const TYPES: &[ResourceType] = &[
    ResourceType {
        resource: "pods",
        singular: "pod",
        kind: "Pod",
        group: "",
        version: "v1",
        namespaced: true,
        short: &["po"],
        categories: &["all"],
        subresources: &[
            ("attach", "", "v1", "PodAttachOptions", &["create", "get"]),
            ("binding", "", "v1", "Binding", &["create"]),
            ("ephemeralcontainers", "", "v1", "Pod", STATUS_VERBS),
            ("eviction", "policy", "v1", "Eviction", &["create"]),
            ("exec", "", "v1", "PodExecOptions", &["create", "get"]),
            ("log", "", "v1", "Pod", &["get"]),
            (
                "portforward",
                "",
                "v1",
                "PodPortForwardOptions",
                &["create", "get"],
            ),
            (
                "proxy",
                "",
                "v1",
                "PodProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            ("resize", "", "v1", "Pod", STATUS_VERBS),
            ("status", "", "v1", "Pod", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "nodes",
        singular: "node",
        kind: "Node",
        group: "",
        version: "v1",
        namespaced: false,
        short: &["no"],
        categories: &[],
        subresources: &[
            (
                "proxy",
                "",
                "v1",
                "NodeProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            ("status", "", "v1", "Node", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        group: "",
        version: "v1",
        namespaced: false,
        short: &["ns"],
        categories: &[],
        subresources: &[
            ("finalize", "", "v1", "Namespace", &["update"]),
            ("status", "", "v1", "Namespace", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "services",
        singular: "service",
        kind: "Service",
        group: "",
        version: "v1",
        namespaced: true,
        short: &["svc"],
        categories: &["all"],
        subresources: &[
            (
                "proxy",
                "",
                "v1",
                "ServiceProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            ("status", "", "v1", "Service", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "replicationcontrollers",
        singular: "replicationcontroller",
        kind: "ReplicationController",
        group: "",
        version: "v1",
        namespaced: true,
        short: &["rc"],
        categories: &["all"],
        subresources: &[
            ("scale", "autoscaling", "v1", "Scale", STATUS_VERBS),
            ("status", "", "v1", "ReplicationController", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "deployments",
        singular: "deployment",
        kind: "Deployment",
        group: "apps",
        version: "v1",
        namespaced: true,
        short: &["deploy"],
        categories: &["all"],
        subresources: &[
            ("scale", "autoscaling", "v1", "Scale", STATUS_VERBS),
            ("status", "apps", "v1", "Deployment", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        group: "apps",
        version: "v1",
        namespaced: true,
        short: &["rs"],
        categories: &["all"],
        subresources: &[
            ("scale", "autoscaling", "v1", "Scale", STATUS_VERBS),
            ("status", "apps", "v1", "ReplicaSet", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "statefulsets",
        singular: "statefulset",
        kind: "StatefulSet",
        group: "apps",
        version: "v1",
        namespaced: true,
        short: &["sts"],
        categories: &["all"],
        subresources: &[
            ("scale", "autoscaling", "v1", "Scale", STATUS_VERBS),
            ("status", "apps", "v1", "StatefulSet", STATUS_VERBS),
        ],
    },
    ResourceType {
        resource: "daemonsets",
        singular: "daemonset",
        kind: "DaemonSet",
        group: "apps",
        version: "v1",
        namespaced: true,
        short: &["ds"],
        categories: &["all"],
        subresources: &[("status", "apps", "v1", "DaemonSet", STATUS_VERBS)],
    },
    ResourceType {
        resource: "jobs",
        singular: "job",
        kind: "Job",
        group: "batch",
        version: "v1",
        namespaced: true,
        short: &[],
        categories: &["all"],
        subresources: &[("status", "batch", "v1", "Job", STATUS_VERBS)],
    },
    ResourceType {
        resource: "cronjobs",
        singular: "cronjob",
        kind: "CronJob",
        group: "batch",
        version: "v1",
        namespaced: true,
        short: &["cj"],
        categories: &["all"],
        subresources: &[("status", "batch", "v1", "CronJob", STATUS_VERBS)],
    },
];

pub fn verbs() -> &'static [&'static str] {
    ALL_VERBS
}

pub fn find_type(group: &str, version: &str, resource: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .find(|t| t.group == group && t.version == version && t.resource == resource)
}

pub fn type_for_kind(kind: &str) -> Option<&'static ResourceType> {
    TYPES.iter().find(|t| t.kind == kind)
}

pub fn api_version(t: &ResourceType) -> String {
    if t.group.is_empty() {
        t.version.to_string()
    } else {
        format!("{}/{}", t.group, t.version)
    }
}

/// One stored watch event.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub resource: &'static str,
    pub namespace: String,
    pub kind: &'static str,
    pub object: Value,
}

pub const HISTORY: usize = 10_000;

/// All objects, keyed by resource then (namespace, name).
#[derive(Debug, Default)]
pub struct Store {
    pub rv: u64,
    /// Watches from a resourceVersion older than this get 410 Expired.
    pub oldest_rv: u64,
    pub objects: BTreeMap<&'static str, BTreeMap<(String, String), Value>>,
    pub history: VecDeque<Event>,
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(|v| v.as_str())
        .unwrap_or("")
}

impl Store {
    pub fn new(start_rv: u64) -> Store {
        Store {
            rv: start_rv,
            oldest_rv: start_rv,
            ..Default::default()
        }
    }

    /// Insert an object as initial state (no event), keeping its resourceVersion if set.
    pub fn seed(&mut self, t: &'static ResourceType, mut obj: Value) {
        let ns = if t.namespaced {
            let n = meta_str(&obj, "namespace");
            if n.is_empty() {
                "default".to_string()
            } else {
                n.to_string()
            }
        } else {
            String::new()
        };
        let name = meta_str(&obj, "name").to_string();
        if let Some(o) = obj.as_object_mut() {
            let mut m = serde_json::Map::new();
            m.insert("kind".into(), json!(t.kind));
            m.insert("apiVersion".into(), json!(api_version(t)));
            for (k, v) in o.iter() {
                if k != "kind" && k != "apiVersion" {
                    m.insert(k.clone(), v.clone());
                }
            }
            *o = m;
        }
        let meta = obj
            .as_object_mut()
            .and_then(|o| {
                o.entry("metadata")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
            })
            .expect("object");
        if t.namespaced {
            meta.insert("namespace".into(), json!(ns));
        }
        if !meta.contains_key("uid") {
            meta.insert("uid".into(), json!(crate::util::uuid4()));
        }
        if !meta.contains_key("creationTimestamp") {
            meta.insert(
                "creationTimestamp".into(),
                json!(crate::util::now_rfc3339()),
            );
        }
        let rv = meta
            .get("resourceVersion")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<u64>().ok());
        match rv {
            Some(rv) if rv <= self.rv => {}
            Some(rv) => {
                self.rv = rv;
                self.oldest_rv = rv;
            }
            None => {
                meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
            }
        }
        self.objects
            .entry(t.resource)
            .or_default()
            .insert((ns, name), obj);
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(resource)
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
    }

    pub fn list(&self, resource: &str, ns: Option<&str>) -> Vec<Value> {
        self.objects
            .get(resource)
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.map(|x| x == n).unwrap_or(true))
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn push(&mut self, t: &'static ResourceType, ns: &str, kind: &'static str, obj: Value) {
        self.history.push_back(Event {
            rv: self.rv,
            resource: t.resource,
            namespace: ns.to_string(),
            kind,
            object: obj,
        });
        while self.history.len() > HISTORY {
            if let Some(e) = self.history.pop_front() {
                self.oldest_rv = e.rv;
            }
        }
    }

    /// Store a new or changed object, bump the resourceVersion and record the event.
    pub fn put(&mut self, t: &'static ResourceType, mut obj: Value) -> Value {
        self.rv += 1;
        let ns = if t.namespaced {
            meta_str(&obj, "namespace").to_string()
        } else {
            String::new()
        };
        let name = meta_str(&obj, "name").to_string();
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let key = (ns.clone(), name);
        let map = self.objects.entry(t.resource).or_default();
        let kind = if map.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        map.insert(key, obj.clone());
        self.push(t, &ns, kind, obj.clone());
        obj
    }

    pub fn delete(&mut self, t: &'static ResourceType, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self
            .objects
            .get_mut(t.resource)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.push(t, ns, "DELETED", obj.clone());
        Some(obj)
    }
}

/// A parsed label or field selector requirement.
#[derive(Debug, Clone, PartialEq)]
pub enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Split on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c)
            }
            ')' => {
                depth -= 1;
                cur.push(c)
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub fn parse_selector(s: &str) -> Result<Vec<Req>, String> {
    let mut reqs = Vec::new();
    for part in split_top(s) {
        let set = |rest: &str| -> Vec<String> {
            rest.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };
        if let Some((k, v)) = part.split_once("!=") {
            reqs.push(Req::NotEq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = part.split_once("==") {
            reqs.push(Req::Eq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = part.split_once('=') {
            reqs.push(Req::Eq(k.trim().into(), v.trim().into()));
        } else if let Some(idx) = part.find(" notin ") {
            reqs.push(Req::NotIn(part[..idx].trim().into(), set(&part[idx + 7..])));
        } else if let Some(idx) = part.find(" in ") {
            reqs.push(Req::In(part[..idx].trim().into(), set(&part[idx + 4..])));
        } else if let Some(k) = part.strip_prefix('!') {
            reqs.push(Req::NotExists(k.trim().into()));
        } else if part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            reqs.push(Req::Exists(part.clone()));
        } else {
            return Err(format!("unable to parse requirement: {part}"));
        }
    }
    Ok(reqs)
}

pub fn matches_labels(obj: &Value, reqs: &[Req]) -> bool {
    let labels = obj.get("metadata").and_then(|m| m.get("labels"));
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(|v| v.as_str());
    reqs.iter().all(|r| match r {
        Req::Eq(k, v) => get(k) == Some(v.as_str()),
        Req::NotEq(k, v) => get(k) != Some(v.as_str()),
        Req::In(k, vs) => get(k).map(|x| vs.iter().any(|v| v == x)).unwrap_or(false),
        Req::NotIn(k, vs) => get(k).map(|x| !vs.iter().any(|v| v == x)).unwrap_or(true),
        Req::Exists(k) => get(k).is_some(),
        Req::NotExists(k) => get(k).is_none(),
    })
}

/// Field selector value lookup (the fields the real server supports for pods and others).
pub fn field_value(obj: &Value, field: &str) -> String {
    let mut cur = obj;
    for part in field.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

pub fn matches_fields(obj: &Value, reqs: &[Req]) -> bool {
    reqs.iter().all(|r| match r {
        Req::Eq(k, v) => &field_value(obj, k) == v,
        Req::NotEq(k, v) => &field_value(obj, k) != v,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        let o = json!({"metadata":{"labels":{"app":"web","tier":"fe"}}});
        let ok = |s: &str| matches_labels(&o, &parse_selector(s).unwrap());
        assert!(ok("app=web"));
        assert!(ok("app==web,tier"));
        assert!(!ok("app!=web"));
        assert!(ok("app in (web, db)"));
        assert!(!ok("app notin (web)"));
        assert!(ok("!missing"));
        assert!(!ok("missing"));
        assert!(ok(""));
    }

    #[test]
    fn field_selectors() {
        let o = json!({"metadata":{"name":"web"},"spec":{"nodeName":"node-1"}});
        let ok = |s: &str| matches_fields(&o, &parse_selector(s).unwrap());
        assert!(ok("metadata.name=web"));
        assert!(ok("spec.nodeName==node-1,metadata.name!=x"));
        assert!(!ok("metadata.name=other"));
    }
}
