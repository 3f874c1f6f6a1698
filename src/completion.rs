//! `kdebug __complete WORDS...` (hidden; the completion scripts call it): prints the
//! candidates for the last word. Names come from the API server, asked with a short request
//! timeout, or from the kubeconfig. Any failure offers nothing and prints nothing.

use std::io::Write;
use std::time::Duration;

use crate::cli::complete::{self, Completion, Remote};
use crate::cli::{args, plan};
use crate::kube::{self as api, target::Kind};
use crate::kubeconfig::load;
use crate::session::{Connection, RunError};

/// A completion waits at most this long for each answer: a shell must not hang on Tab.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Prints the candidates for `words`; always exits 0.
pub fn run(
    words: Vec<String>,
    connect: &dyn Fn(&plan::Draft) -> Result<Connection, RunError>,
    out: &mut dyn Write,
) -> u8 {
    let c = complete::analyze(&words);
    if c.files {
        let _ = writeln!(out, ":files");
        return 0;
    }
    // A server that cannot be asked: nothing at all, not even the names known without it.
    let found = match &c.remote {
        None => Vec::new(),
        Some(remote) => match lookup(&c, remote, connect) {
            Some(found) => found,
            None => return 0,
        },
    };
    for cand in c.candidates(&found) {
        let _ = writeln!(out, "{cand}");
    }
    0
}

fn lookup(
    c: &Completion,
    remote: &Remote,
    connect: &dyn Fn(&plan::Draft) -> Result<Connection, RunError>,
) -> Option<Vec<String>> {
    let raw = args::flags(c.globals.iter().map(Into::into).collect()).ok()?;
    if let Remote::Contexts | Remote::Clusters | Remote::Users = remote {
        let explicit = raw.global.overrides.kubeconfig.as_deref();
        let cfg = load::load(&load::sources_from_env(explicit), true).ok()?;
        let names = match remote {
            Remote::Contexts => cfg.contexts.into_keys().collect(),
            Remote::Clusters => cfg.clusters.into_keys().collect(),
            _ => cfg.auth_infos.into_keys().collect(),
        };
        return Some(names);
    }
    let draft = plan::build(raw)
        .ok()?
        .request_timeout_at_most(REQUEST_TIMEOUT);
    let conn = connect(&draft).ok()?;
    let ns = conn.namespace.as_str();
    let names = |path: String| -> Option<Vec<String>> {
        let list = conn.client.get_query(&path, &[("limit", "500")]).ok()?;
        Some(
            api::items(&list)
                .iter()
                .filter_map(|o| Some(api::Meta::read(o).ok()?.name.to_string()))
                .collect(),
        )
    };
    match remote {
        Remote::Pods => names(api::pods_path(ns)),
        Remote::Namespaces => names("/api/v1/namespaces".into()),
        Remote::Objects(Kind::Node) => names("/api/v1/nodes".into()),
        Remote::Objects(kind) => names(format!(
            "{}/namespaces/{ns}/{}",
            kind.api_prefix(),
            kind.resource()
        )),
        Remote::Containers { pod, ephemeral } => {
            let pod = conn.client.get(&api::pod_path(ns, pod)).ok()?;
            let pod = api::Pod::read(&pod).ok()?;
            Some(if *ephemeral {
                api::ephemeral_names(&pod)
            } else {
                container_names(&pod)
            })
        }
        Remote::Contexts | Remote::Clusters | Remote::Users => None,
    }
}

/// The pod's regular containers (what `--target` may name).
fn container_names(pod: &api::Pod) -> Vec<String> {
    pod.spec
        .containers
        .iter()
        .map(|c| c.name.to_string())
        .collect()
}
