//! Which objects a run debugs: the named pods and nodes, the pods of named workloads, the
//! `-f` objects, and what a selector picks, read in kubectl's order.

use std::fmt;

use serde_json::Value;

use crate::cli::plan::Plan;
use crate::client::ApiError;
use crate::kube::{self as api, target::Kind, Meta, NoContainers, Object};
use crate::text::yaml::YamlError;

use super::{Connection, RunError};

/// Why the objects to debug (or the pod to attach to) could not be found or read.
#[derive(Debug)]
pub enum TargetError {
    /// `-l` picked nothing.
    NoMatch { nodes: bool, selector: String },
    /// A `-f` object that is neither a Pod nor a Node (kubectl's wording, with its group,
    /// version and kind).
    UnsupportedKind { group_version: String, kind: String },
    /// A `-f` pod in another namespace than the explicit `-n`.
    NamespaceMismatch { object: String, namespace: String },
    /// A `-f` file (or stdin, `-`) could not be read.
    Read { path: String, cause: std::io::Error },
    /// A `-f` file larger than [`crate::MAX_INPUT_BYTES`].
    TooLarge { path: String },
    /// A `-f` file that is neither JSON nor YAML.
    Parse { path: String, cause: YamlError },
    /// A `-f` document that is not a mapping.
    NotAnObject { path: String },
    /// `kdebug attach` with no POD, or several.
    AttachNeedsOnePod,
    /// `kdebug attach` on a workload or node.
    AttachNotAPod(String),
    /// `kdebug attach` without `-c` on a pod that has no container to default to.
    NoContainers(NoContainers),
    /// `kdebug attach -c NAME` names no container of the pod.
    ContainerNotFound { container: String, pod: String },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::NoMatch { nodes, selector } => write!(
                f,
                "no {} match the selector {selector:?}",
                if *nodes { "nodes" } else { "pods" }
            ),
            TargetError::UnsupportedKind {
                group_version,
                kind,
            } => write!(f, "\"{group_version}, Kind={kind}\" not supported by debug"),
            TargetError::NamespaceMismatch { object, namespace } => write!(
                f,
                "the namespace from the provided object {object:?} does not match the namespace {namespace:?}. You must pass '--namespace={object}' to perform this operation."
            ),
            TargetError::Read { path, cause } => write!(f, "failed to read {path}: {cause}"),
            TargetError::TooLarge { path } => write!(
                f,
                "{path} is larger than {} bytes",
                crate::MAX_INPUT_BYTES
            ),
            TargetError::Parse { path, cause } => write!(f, "error parsing {path}: {cause}"),
            TargetError::NotAnObject { path } => {
                write!(f, "{path} does not contain a Kubernetes object")
            }
            TargetError::AttachNeedsOnePod => f.write_str("attach needs exactly one POD"),
            TargetError::AttachNotAPod(target) => {
                write!(f, "cannot attach to {target}: only pods have containers")
            }
            TargetError::NoContainers(e) => write!(f, "{e}"),
            TargetError::ContainerNotFound { container, pod } => {
                write!(f, "container {container} not found in pod {pod}")
            }
        }
    }
}

/// kubectl prints these after `error: `.
impl crate::sys::report::Failure for TargetError {}

impl std::error::Error for TargetError {}

impl From<NoContainers> for TargetError {
    fn from(e: NoContainers) -> Self {
        TargetError::NoContainers(e)
    }
}

/// A debug target once read from the server (or a file).
pub struct Resolved {
    pub kind: Kind,
    pub object: Value,
    /// Where it came from, for messages and the kdebug.io/target annotation.
    pub label: String,
    /// The object's own name (metadata.name).
    pub name: String,
}

impl Resolved {
    /// A target read from the server or a file; its name is read (and checked) now.
    fn new(
        kind: Kind,
        object: Value,
        label: impl FnOnce(&str) -> String,
    ) -> Result<Self, ApiError> {
        let name = Meta::read(&object)?.name.to_string();
        Ok(Resolved {
            kind,
            label: label(&name),
            object,
            name,
        })
    }
}

/// A fan-out target: read already (named targets, a workload's pods), or only listed by a
/// selector and read by the worker that takes it, so that memory follows `--max-parallel`
/// and not the size of the fleet.
pub enum Pending {
    Read(Box<Resolved>),
    /// Kept for every listed pod until a worker takes it: the namespace shared between
    /// pods, the name without spare capacity.
    Listed {
        kind: Kind,
        namespace: std::sync::Arc<str>,
        name: Box<str>,
    },
}

impl Pending {
    pub fn name(&self) -> &str {
        match self {
            Pending::Read(r) => &r.name,
            Pending::Listed { name, .. } => name,
        }
    }

    /// The target as the journeys need it: a listed one is read now (GET).
    pub fn resolve(self, conn: &Connection) -> Result<Resolved, RunError> {
        let (kind, ns, name) = match self {
            Pending::Read(r) => return Ok(*r),
            Pending::Listed {
                kind,
                namespace,
                name,
            } => (kind, namespace, name),
        };
        let (object, singular) = match kind {
            Kind::Node => (conn.client.get(&format!("/api/v1/nodes/{name}"))?, "node"),
            _ => (conn.client.get(&api::pod_path(&ns, &name))?, "pod"),
        };
        Ok(Resolved::new(kind, object, |_| {
            format!("{singular}/{name}")
        })?)
    }
}

/// Reads the targets named on the command line, in order, all of them before returning
/// (fan-out), then lists those a selector picks, in pages.
pub fn resolve_targets(conn: &Connection, p: &Plan) -> Result<Vec<Pending>, RunError> {
    let mut out = Vec::new();
    visit_targets(conn, p, &mut |r| {
        out.push(Pending::Read(Box::new(r)));
        Ok(())
    })?;
    if let Some(sel) = &p.selector {
        // `node/` with -l selects nodes; otherwise the selector picks pods.
        let nodes = p.targets.iter().any(|t| t.kind == Kind::Node);
        let (path, kind) = if nodes {
            ("/api/v1/nodes".to_string(), Kind::Node)
        } else if p.all_namespaces {
            ("/api/v1/pods".to_string(), Kind::Pod)
        } else {
            (api::pods_path(&conn.namespace), Kind::Pod)
        };
        let mut shared: Option<std::sync::Arc<str>> = None;
        list_names(conn, &path, sel, &mut |namespace, name| {
            let namespace = match &shared {
                Some(ns) if **ns == *namespace => ns.clone(),
                _ => shared.insert(namespace.into()).clone(),
            };
            out.push(Pending::Listed {
                kind,
                namespace,
                name: name.into(),
            })
        })?;
        // Held until the workers have taken every pod: no spare capacity from the pushes.
        out.shrink_to_fit();
        if out.is_empty() {
            return Err(TargetError::NoMatch {
                nodes,
                selector: sel.to_string(),
            }
            .into());
        }
    }
    Ok(out)
}

/// Lists what `selector` picks at `path` in pages of 500, as kubectl does (`limit`, then
/// `continue` until the server sends no token), handing each item's namespace and name to `f`.
fn list_names(
    conn: &Connection,
    path: &str,
    selector: &str,
    f: &mut dyn FnMut(String, String),
) -> Result<(), RunError> {
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("labelSelector", selector), ("limit", api::PAGE_SIZE)];
        if let Some(t) = &token {
            query.push(("continue", t));
        }
        let page: api::NamesPage = conn.client.get_as(path, &query)?;
        token = page.next();
        for (ns, name) in page.names() {
            f(ns, name);
        }
        if token.is_none() {
            return Ok(());
        }
    }
}

/// GET a named pod. On a 404 outside `default`, kubectl (cli-runtime's Info.Get) asks whether
/// the namespace exists, and reports `namespaces "x" not found` when it does not.
fn get_pod(conn: &Connection, ns: &str, name: &str) -> Result<Value, RunError> {
    match conn.client.get(&api::pod_path(ns, name)) {
        Err(e) if e.is_not_found() && !ns.is_empty() && ns != "default" => {
            match conn.client.get(&format!("/api/v1/namespaces/{ns}")) {
                Err(missing) if missing.is_not_found() => Err(missing.into()),
                _ => Err(e.into()),
            }
        }
        r => Ok(r?),
    }
}

/// Reads the named targets, then the `-f` objects, one at a time and in order, handing each
/// to `f` before reading the next: kubectl's visitor does the same, so with `web-0 nope`
/// web-0 is debugged before `nope` turns out to be missing.
pub fn visit_targets(
    conn: &Connection,
    p: &Plan,
    f: &mut dyn FnMut(Resolved) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let ns = conn.namespace.as_str();
    // With -l, `node/` only says "select nodes"; the selector names them below.
    for t in p
        .targets
        .iter()
        .filter(|t| !(p.selector.is_some() && t.kind == Kind::Node))
    {
        match t.kind {
            Kind::Pod => f(Resolved::new(
                Kind::Pod,
                get_pod(conn, ns, &t.name)?,
                |_| t.to_string(),
            )?)?,
            Kind::Node => f(Resolved::new(
                Kind::Node,
                conn.client.get(&format!("/api/v1/nodes/{}", t.name))?,
                |_| t.to_string(),
            )?)?,
            _ => {
                let pods = super::workload::pods(&conn.client, ns, t)?;
                let take = if p.all_pods { pods.len() } else { 1 };
                let count = pods.len();
                for (i, pod) in pods.into_iter().take(take).enumerate() {
                    let r = Resolved::new(Kind::Pod, pod, |name| format!("pod/{name}"))?;
                    if i == 0 && !p.all_pods && count > 1 {
                        p.printer()
                            .info(&format!("Found {count} pods, using {}", r.label));
                    }
                    f(r)?;
                }
            }
        }
    }
    for file in &p.filenames {
        for object in read_objects(file)? {
            let typed = Object::read(&object)?;
            let kind = match typed.kind {
                "Pod" => Kind::Pod,
                "Node" => Kind::Node,
                other => {
                    let api_version = typed.api_version;
                    let gv = if api_version.contains('/') {
                        api_version.to_string()
                    } else {
                        format!("/{api_version}")
                    };
                    return Err(TargetError::UnsupportedKind {
                        group_version: gv,
                        kind: other.to_string(),
                    }
                    .into());
                }
            };
            let obj_ns = typed.metadata.namespace;
            if kind == Kind::Pod
                && conn.namespace_explicit
                && !obj_ns.is_empty()
                && obj_ns != conn.namespace
            {
                return Err(TargetError::NamespaceMismatch {
                    object: obj_ns.to_string(),
                    namespace: conn.namespace.clone(),
                }
                .into());
            }
            let singular = if kind == Kind::Pod { "pod" } else { "node" };
            f(Resolved::new(kind, object, |name| {
                format!("{singular}/{name}")
            })?)?;
        }
    }
    Ok(())
}

/// `-f FILE`: JSON or a YAML stream (our own reader), `-` for stdin; one object per document.
fn read_objects(path: &str) -> Result<Vec<Value>, TargetError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let limit = crate::MAX_INPUT_BYTES as u64 + 1;
    let read = if path == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|cause| TargetError::Read {
        path: path.to_string(),
        cause,
    })?;
    if bytes.len() > crate::MAX_INPUT_BYTES {
        return Err(TargetError::TooLarge {
            path: path.to_string(),
        });
    }
    // JSON, else YAML documents split at `---` lines, as kubectl's reader does. A `List` is
    // not flattened: kubectl's builder hands it to debug, which refuses its kind.
    let docs = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => vec![v],
        Err(_) => yaml_documents(&bytes)
            .into_iter()
            .map(|doc| {
                crate::text::yaml::parse_value(doc, path).map_err(|cause| TargetError::Parse {
                    path: path.to_string(),
                    cause,
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut out = Vec::new();
    for v in docs {
        if v.is_null() {
            continue; // an empty document
        }
        if !v.is_object() {
            return Err(TargetError::NotAnObject {
                path: path.to_string(),
            });
        }
        out.push(v);
    }
    Ok(out)
}

/// Splits a YAML stream into documents at lines that start with `---` (apimachinery's
/// YAMLReader: only spaces or a comment may follow the marker).
fn yaml_documents(bytes: &[u8]) -> Vec<&[u8]> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        let rest = line
            .strip_prefix(b"---")
            .map(|r| String::from_utf8_lossy(r).trim().to_string());
        if rest.is_some_and(|r| r.is_empty() || r.starts_with('#')) {
            if pos > start {
                docs.push(&bytes[start..pos]);
            }
            start = end;
        }
        pos = end;
    }
    if start < bytes.len() {
        docs.push(&bytes[start..]);
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::yaml_documents;

    #[test]
    fn yaml_streams_split_at_document_markers() {
        let docs = |s: &'static str| -> Vec<String> {
            yaml_documents(s.as_bytes())
                .into_iter()
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .collect()
        };
        assert_eq!(docs("a: 1\n"), ["a: 1\n"]);
        assert_eq!(
            docs("---\na: 1\n--- # two\nb: 2\n---\n"),
            ["a: 1\n", "b: 2\n"]
        );
        // Not a marker: something else follows the dashes.
        assert_eq!(docs("a: |\n  ---x\n"), ["a: |\n  ---x\n"]);
        assert_eq!(docs("---x: 1\n"), ["---x: 1\n"]);
    }
}
