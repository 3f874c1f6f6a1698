//! Debug images for clusters that cannot pull (`KDEBUG_IMAGE`, the default image, is read
//! in `cli::cp`): when an image cannot be pulled, the images the pod's node already
//! holds that could serve (a shell and tar: busybox, alpine, debian, ubuntu), from the
//! node's `status.images` (R12 of tests/fakecluster/REAL.md). Reading the node may be forbidden:
//! then nothing more is said.

use crate::cli::cp::IMAGE_ENV as ENV;
use crate::client::Client;
use crate::kube::node::{node_path, NodeImages};
use crate::kube::{pod_path, Pod};

use super::wait::WaitError;

/// Image repositories known to carry a shell and tar.
const TOOLBOXES: [&str; 4] = ["busybox", "alpine", "debian", "ubuntu"];

/// The names among `images` (each image's names) that could serve as a debug image: a
/// known toolbox repository with a tag that is not `latest` (`latest` is pulled again,
/// pull policy Always, and fails the same way). At most `max`, the node's order kept.
pub fn toolboxes<'a>(images: impl Iterator<Item = &'a [String]>, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for names in images {
        let usable = names.iter().find(|n| {
            let Some((repo, tag)) = n.rsplit_once(':') else {
                return false;
            };
            let base = repo.rsplit('/').next().unwrap_or(repo);
            !n.contains('@') && !tag.contains('/') && tag != "latest" && TOOLBOXES.contains(&base)
        });
        if let Some(n) = usable {
            out.push(n.clone());
        }
        if out.len() == max {
            break;
        }
    }
    out
}

/// What to try when a container of pod `ns/pod` cannot pull its image: the usable images
/// its node holds. None when there are none, or the pod's node cannot be read.
pub fn pull_hint(client: &Client, ns: &str, pod: &str) -> Option<String> {
    let pod = client.get(&pod_path(ns, pod)).ok()?;
    let node = Pod::read(&pod).ok()?.spec.node_name.to_string();
    if node.is_empty() {
        return None;
    }
    let raw = client.get(&node_path(&node)).ok()?;
    let images: NodeImages = serde_json::from_value(raw).ok()?;
    hint_text(&node, &toolboxes(images.names(), 3))
}

/// `result`, with [`pull_hint`] after the kubelet's message when it is a failure to pull.
pub fn with_pull_hint<T>(
    client: &Client,
    ns: &str,
    pod: &str,
    result: Result<T, WaitError>,
) -> Result<T, WaitError> {
    match result {
        Err(WaitError::CannotStart {
            container,
            reason,
            message,
        }) if reason == "ErrImagePull" || reason == "ImagePullBackOff" => {
            let message = match pull_hint(client, ns, pod) {
                Some(hint) => format!("{message}\nhint: {hint}"),
                None => message,
            };
            Err(WaitError::CannotStart {
                container,
                reason,
                message,
            })
        }
        other => other,
    }
}

fn hint_text(node: &str, usable: &[String]) -> Option<String> {
    let first = usable.first()?;
    Some(format!(
        "node {node} already holds {}, with a shell and tar: try --image={first}, or set {ENV}={first} to make it the default",
        usable.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|n| n.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn picks_tagged_toolboxes_the_node_holds() {
        let node = names(&[
            &[
                "registry.k8s.io/pause@sha256:ee",
                "registry.k8s.io/pause:3.10",
            ],
            &[
                "docker.io/library/busybox@sha256:aa",
                "docker.io/library/busybox:1.36",
            ],
            &["docker.io/library/alpine:latest"],
            &["localhost:5000/tools/alpine:3.20"],
            &["docker.io/library/nginx:1.27"],
            &["ubuntu:24.04"],
        ]);
        let got = toolboxes(node.iter().map(Vec::as_slice), 3);
        assert_eq!(
            got,
            [
                "docker.io/library/busybox:1.36",
                "localhost:5000/tools/alpine:3.20",
                "ubuntu:24.04"
            ]
        );
        assert_eq!(
            hint_text("n1", &got[..1]).unwrap(),
            "node n1 already holds docker.io/library/busybox:1.36, with a shell and tar: try --image=docker.io/library/busybox:1.36, or set KDEBUG_IMAGE=docker.io/library/busybox:1.36 to make it the default"
        );
        assert_eq!(hint_text("n1", &[]), None);
        // A registry port is not a tag.
        assert!(toolboxes(
            names(&[&["localhost:5000/busybox"]])
                .iter()
                .map(Vec::as_slice),
            3
        )
        .is_empty());
    }
}
