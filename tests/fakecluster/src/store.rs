//! The object store: one global resourceVersion, a bounded event history for watches.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex};

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

/// One committed change, shared (behind an `Arc`) by the history ring and the queues of the
/// watches it is routed to. Objects are kept serialized (compact JSON, a tenth of the size
/// of a `Value`), which is also what a watch writes.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub resource: &'static str,
    pub namespace: String,
    pub name: String,
    pub kind: &'static str,
    pub json: Arc<[u8]>,
    /// The object before this change (None for ADDED): a paged list reads the state at its
    /// first page's resourceVersion from it.
    pub prev: Option<Arc<[u8]>>,
}

impl Event {
    pub fn object(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// A stored object and its serialized form (shared with the events that carry it).
#[derive(Debug)]
struct Stored {
    value: Value,
    json: Arc<[u8]>,
}

impl Stored {
    fn new(value: Value) -> Stored {
        let json = serde_json::to_vec(&value).unwrap_or_default().into();
        Stored { value, json }
    }
}

/// Default number of events kept for watches and paged lists (the watch cache window).
pub const HISTORY: usize = 10_000;

/// Events a watch may have queued but not yet written before it is closed. Guess, not
/// observed: the real cacher gives each watcher a small buffer and ends a watcher that does
/// not drain it in time (the stream ends; the client watches again from its last
/// resourceVersion); the fake is more patient.
pub const WATCH_QUEUE_CAP: usize = 1_000;

/// What a watch was routed: the resource, the namespace and (from a
/// `fieldSelector=metadata.name=X`) the name. Other selectors are applied by the watch itself.
#[derive(Debug)]
pub struct WatchQueue {
    pub resource: &'static str,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub state: Mutex<QueueState>,
    pub cv: Condvar,
}

#[derive(Debug, Default)]
pub struct QueueState {
    pub events: VecDeque<Arc<Event>>,
    /// More than WATCH_QUEUE_CAP events were pending: the watch must end.
    pub overflowed: bool,
    /// Wake-up for a stopping server.
    pub woken: bool,
}

impl WatchQueue {
    fn routes(&self, e: &Event) -> bool {
        e.resource == self.resource
            && self.namespace.as_ref().is_none_or(|n| *n == e.namespace)
            && self.name.as_ref().is_none_or(|n| *n == e.name)
    }

    fn deliver(&self, e: &Arc<Event>, cap: Option<usize>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.overflowed {
            return;
        }
        if cap.is_some_and(|c| st.events.len() >= c) {
            st.overflowed = true;
            st.events.clear();
        } else {
            st.events.push_back(e.clone());
        }
        drop(st);
        self.cv.notify_one();
    }
}

type Key = (String, String);

/// All objects, keyed by resource then (namespace, name).
#[derive(Debug)]
pub struct Store {
    pub rv: u64,
    /// Watches from a resourceVersion older than this get 410 Expired.
    pub oldest_rv: u64,
    objects: BTreeMap<&'static str, BTreeMap<Key, Stored>>,
    /// The last `history_cap` events, oldest first (resourceVersions increasing).
    history: VecDeque<Arc<Event>>,
    pub history_cap: usize,
    watchers: Vec<Arc<WatchQueue>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(0)
    }
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(|v| v.as_str())
        .unwrap_or("")
}

/// Why a watch or a continued list cannot be served from the retained history.
#[derive(Debug, Clone, Copy)]
pub struct TooOld {
    pub rv: u64,
    pub oldest: u64,
}

impl Store {
    pub fn new(start_rv: u64) -> Store {
        Store {
            rv: start_rv,
            oldest_rv: start_rv,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_cap: HISTORY,
            watchers: Vec::new(),
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
            .insert((ns, name), Stored::new(obj));
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(resource)
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
            .map(|o| &o.value)
    }

    pub fn list(&self, resource: &str, ns: Option<&str>) -> Vec<Value> {
        self.objects
            .get(resource)
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.map(|x| x == n).unwrap_or(true))
                    .map(|(_, v)| v.value.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The objects of `resource` (in `ns`) that `keep` accepts, cloned: a watch's initial
    /// state, where a field selector picks one pod of thousands. Cloning every object first
    /// made each such watch cost the whole namespace, under the store's lock: with 1,000
    /// pods and 50 watches opened at a time the fake was the bottleneck (issue 14).
    pub fn list_where(
        &self,
        resource: &str,
        ns: Option<&str>,
        keep: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        self.objects
            .get(resource)
            .map(|m| {
                m.iter()
                    .filter(|((n, _), o)| ns.is_none_or(|x| x == n) && keep(&o.value))
                    .map(|(_, o)| o.value.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A page of the objects of `resource` (in `ns`) as they were at resourceVersion `at`,
    /// in key order (namespace, name), keys after `after` only, those `keep` accepts: at most
    /// `limit` of them, and how many more there are (with `count_rest`, else 1 if any). Err
    /// when `at` is older than the retained history (the real server's compaction).
    #[allow(clippy::too_many_arguments)]
    pub fn list_at(
        &self,
        resource: &str,
        ns: Option<&str>,
        at: u64,
        after: Option<&Key>,
        keep: impl Fn(&Value) -> bool,
        limit: Option<usize>,
        count_rest: bool,
    ) -> Result<(Vec<Value>, usize), TooOld> {
        if at < self.oldest_rv || at > self.rv {
            return Err(TooOld {
                rv: at,
                oldest: self.oldest_rv,
            });
        }
        enum Src<'a> {
            Now(&'a Value),
            Then(Arc<[u8]>),
        }
        let wanted = |k: &Key| ns.is_none_or(|n| n == k.0) && after.is_none_or(|a| k > a);
        let mut view: BTreeMap<Key, Src> = BTreeMap::new();
        if let Some(m) = self.objects.get(resource) {
            let lower = match after {
                Some(a) => Bound::Excluded(a.clone()),
                None => Bound::Unbounded,
            };
            for (k, v) in m.range((lower, Bound::Unbounded)) {
                if wanted(k) {
                    view.insert(k.clone(), Src::Now(&v.value));
                }
            }
        }
        // Undo what changed after `at`: the first later event of a key holds its state then.
        let from = self.history.partition_point(|e| e.rv <= at);
        let mut undone = std::collections::HashSet::new();
        for e in self.history.range(from..) {
            if e.resource != resource {
                continue;
            }
            let k = (e.namespace.clone(), e.name.clone());
            if !wanted(&k) || !undone.insert(k.clone()) {
                continue;
            }
            match &e.prev {
                Some(p) => view.insert(k, Src::Then(p.clone())),
                None => view.remove(&k),
            };
        }
        let mut items = Vec::new();
        let mut rest = 0;
        for src in view.into_values() {
            let full = limit.is_some_and(|l| items.len() >= l);
            let ok = match &src {
                Src::Now(v) => keep(v),
                Src::Then(b) => keep(&serde_json::from_slice(b).unwrap_or(Value::Null)),
            };
            if !ok {
                continue;
            }
            if full {
                rest += 1;
                if !count_rest {
                    break;
                }
                continue;
            }
            items.push(match src {
                Src::Now(v) => v.clone(),
                Src::Then(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
            });
        }
        Ok((items, rest))
    }

    fn push(&mut self, e: Event) {
        let e = Arc::new(e);
        for w in &self.watchers {
            if w.routes(&e) {
                w.deliver(&e, Some(WATCH_QUEUE_CAP));
            }
        }
        self.history.push_back(e);
        while self.history.len() > self.history_cap.max(1) {
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
        let key = (ns.clone(), name.clone());
        let stored = Stored::new(obj.clone());
        let json = stored.json.clone();
        let prev = self
            .objects
            .entry(t.resource)
            .or_default()
            .insert(key, stored)
            .map(|p| p.json);
        let kind = if prev.is_some() { "MODIFIED" } else { "ADDED" };
        self.push(Event {
            rv: self.rv,
            resource: t.resource,
            namespace: ns,
            name,
            kind,
            json,
            prev,
        });
        obj
    }

    pub fn delete(&mut self, t: &'static ResourceType, ns: &str, name: &str) -> Option<Value> {
        let prev = self
            .objects
            .get_mut(t.resource)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.rv += 1;
        let mut obj = prev.value;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.push(Event {
            rv: self.rv,
            resource: t.resource,
            namespace: ns.to_string(),
            name: name.to_string(),
            kind: "DELETED",
            json: serde_json::to_vec(&obj).unwrap_or_default().into(),
            prev: Some(prev.json),
        });
        Some(obj)
    }

    /// Register a watch that gets the events routed to it after resourceVersion `from`
    /// (those still in the history are queued now). Err when `from` is older than the window.
    pub fn watch(
        &mut self,
        resource: &'static str,
        namespace: Option<String>,
        name: Option<String>,
        from: u64,
    ) -> Result<Arc<WatchQueue>, TooOld> {
        if from < self.oldest_rv {
            return Err(TooOld {
                rv: from,
                oldest: self.oldest_rv,
            });
        }
        let q = Arc::new(WatchQueue {
            resource,
            namespace,
            name,
            state: Mutex::new(QueueState::default()),
            cv: Condvar::new(),
        });
        let start = self.history.partition_point(|e| e.rv <= from);
        for e in self.history.range(start..) {
            if q.routes(e) {
                q.deliver(e, None);
            }
        }
        self.watchers.push(q.clone());
        Ok(q)
    }

    pub fn unwatch(&mut self, q: &Arc<WatchQueue>) {
        self.watchers.retain(|w| !Arc::ptr_eq(w, q));
    }

    /// Wake every watch (the server is stopping).
    pub fn wake_watchers(&self) {
        for w in &self.watchers {
            w.state.lock().unwrap_or_else(|e| e.into_inner()).woken = true;
            w.cv.notify_all();
        }
    }

    /// Registered watches (for tests and the memory bound).
    pub fn watcher_count(&self) -> usize {
        self.watchers.len()
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

    fn pod(name: &str, step: u32) -> Value {
        json!({"metadata":{"name":name,"namespace":"default","labels":{"step":step.to_string()}}})
    }

    fn pods() -> &'static ResourceType {
        type_for_kind("Pod").unwrap()
    }

    #[test]
    fn watches_get_only_their_events_and_overflow_ends_them() {
        let mut s = Store::new(100);
        s.put(pods(), pod("a", 0));
        let a = s
            .watch("pods", Some("default".into()), Some("a".into()), 100)
            .unwrap();
        let all = s.watch("pods", None, None, 101).unwrap();
        let nodes = s.watch("nodes", None, None, 101).unwrap();
        s.put(pods(), pod("b", 0));
        s.put(pods(), pod("a", 1));
        let rvs = |q: &WatchQueue| -> Vec<u64> {
            q.state
                .lock()
                .unwrap()
                .events
                .iter()
                .map(|e| e.rv)
                .collect()
        };
        assert_eq!(
            rvs(&a),
            [101, 103],
            "replayed from the history, then routed by name"
        );
        assert_eq!(rvs(&all), [102, 103]);
        assert!(rvs(&nodes).is_empty());
        for i in 0..WATCH_QUEUE_CAP as u32 {
            s.put(pods(), pod("a", i + 2));
        }
        assert!(a.state.lock().unwrap().overflowed);
        assert!(a.state.lock().unwrap().events.is_empty(), "memory let go");
        s.unwatch(&a);
        s.unwatch(&all);
        s.unwatch(&nodes);
        assert_eq!(s.watcher_count(), 0);
    }

    #[test]
    fn history_window_and_lists_at_an_earlier_version() {
        let mut s = Store::new(100);
        s.history_cap = 4;
        s.put(pods(), pod("a", 0)); // 101
        s.put(pods(), pod("b", 0)); // 102
        s.put(pods(), pod("c", 0)); // 103
        s.put(pods(), pod("b", 1)); // 104
        s.delete(pods(), "default", "a"); // 105
        assert_eq!(s.oldest_rv, 101);
        let names = |v: (Vec<Value>, usize)| -> Vec<String> {
            v.0.iter()
                .map(|o| {
                    format!(
                        "{}:{}",
                        meta_str(o, "name"),
                        o["metadata"]["labels"]["step"].as_str().unwrap()
                    )
                })
                .collect()
        };
        assert_eq!(
            names(
                s.list_at("pods", None, 105, None, |_| true, None, true)
                    .unwrap()
            ),
            ["b:1", "c:0"]
        );
        assert_eq!(
            names(
                s.list_at("pods", None, 103, None, |_| true, None, true)
                    .unwrap()
            ),
            ["a:0", "b:0", "c:0"]
        );
        let after = ("default".to_string(), "a".to_string());
        assert_eq!(
            names(
                s.list_at(
                    "pods",
                    Some("default"),
                    102,
                    Some(&after),
                    |_| true,
                    None,
                    true
                )
                .unwrap()
            ),
            ["b:0"]
        );
        assert!(
            s.list_at("pods", None, 100, None, |_| true, None, true)
                .is_err(),
            "compacted"
        );
        assert!(s.watch("pods", None, None, 100).is_err(), "too old");
        assert!(s.watch("pods", None, None, 101).is_ok());
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
