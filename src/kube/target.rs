//! Debug targets: `NAME`, `TYPE/NAME`. The aliases are known, so no discovery request is sent.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Node,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    Service,
}

impl Kind {
    /// The collection path segment below the group prefix.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Node => "nodes",
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::StatefulSet => "statefulsets",
            Kind::DaemonSet => "daemonsets",
            Kind::Job => "jobs",
            Kind::Service => "services",
        }
    }

    /// `/api/v1` or `/apis/<group>/<version>`.
    pub fn api_prefix(self) -> &'static str {
        match self {
            Kind::Pod | Kind::Node | Kind::Service => "/api/v1",
            Kind::Job => "/apis/batch/v1",
            _ => "/apis/apps/v1",
        }
    }

    pub fn is_workload(self) -> bool {
        !matches!(self, Kind::Pod | Kind::Node)
    }

    /// The short name used in messages (`deployment/web`).
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Pod => "pod",
            Kind::Node => "node",
            Kind::Deployment => "deployment",
            Kind::ReplicaSet => "replicaset",
            Kind::StatefulSet => "statefulset",
            Kind::DaemonSet => "daemonset",
            Kind::Job => "job",
            Kind::Service => "service",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.singular(), self.name)
    }
}

/// A positional target kubectl would not take, in kubectl's words.
#[derive(Debug, PartialEq, Eq)]
pub enum TargetError {
    UnknownType(String),
    NoName(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::UnknownType(ty) => {
                write!(f, "the server doesn't have a resource type {ty:?}")
            }
            TargetError::NoName(arg) => write!(
                f,
                "arguments in resource/name form must have a single resource and name: {arg:?}"
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// Parses one positional target. `TYPE NAME` (two words) is not a form kubectl accepts.
pub fn parse(arg: &str) -> Result<Target, TargetError> {
    let Some((ty, name)) = arg.split_once('/') else {
        return Ok(Target {
            kind: Kind::Pod,
            name: arg.to_string(),
        });
    };
    // `TYPE.VERSION.GROUP/NAME` is accepted for the core types.
    let kind = match ty.to_ascii_lowercase().as_str() {
        "pod" | "po" | "pods" | "pod.v1." | "pods.v1." => Kind::Pod,
        "node" | "no" | "nodes" | "node.v1." | "nodes.v1." => Kind::Node,
        "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps" => {
            Kind::Deployment
        }
        "rs" | "replicaset" | "replicasets" | "replicaset.apps" | "replicasets.apps" => {
            Kind::ReplicaSet
        }
        "sts" | "statefulset" | "statefulsets" | "statefulset.apps" | "statefulsets.apps" => {
            Kind::StatefulSet
        }
        "ds" | "daemonset" | "daemonsets" | "daemonset.apps" | "daemonsets.apps" => Kind::DaemonSet,
        "job" | "jobs" | "job.batch" | "jobs.batch" => Kind::Job,
        "svc" | "service" | "services" => Kind::Service,
        _ => return Err(TargetError::UnknownType(ty.to_string())),
    };
    // `node/` alone stands for "the nodes that -l selects" (checked in the plan stage).
    if name.is_empty() && kind != Kind::Node {
        return Err(TargetError::NoName(arg.to_string()));
    }
    Ok(Target {
        kind,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(parse("web").unwrap().kind, Kind::Pod);
        assert_eq!(parse("po/web").unwrap().kind, Kind::Pod);
        assert_eq!(
            parse("nodes/n1").unwrap(),
            Target {
                kind: Kind::Node,
                name: "n1".into()
            }
        );
        assert_eq!(parse("deploy/x").unwrap().kind, Kind::Deployment);
        assert_eq!(parse("sts/x").unwrap().kind.api_prefix(), "/apis/apps/v1");
        assert_eq!(parse("job/x").unwrap().kind.api_prefix(), "/apis/batch/v1");
    }

    #[test]
    fn unknown_types_get_kubectls_error() {
        assert_eq!(
            parse("foo/bar").unwrap_err().to_string(),
            "the server doesn't have a resource type \"foo\""
        );
        assert!(parse("pod/").is_err());
        assert_eq!(
            parse("node/").unwrap(),
            Target {
                kind: Kind::Node,
                name: String::new()
            }
        );
    }
}
