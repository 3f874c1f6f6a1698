//! What `pods/exec` finds in a container, with `--rootfs`: the programs of a regular
//! container are those under its root (`ROOTFS/NS/POD/CONTAINER/{usr/,}{s,}bin`, the
//! runtime's default PATH), so a target "has tar" when the test puts one there (a symlink to
//! the host's will do); an exec into an ephemeral container that targets another sees the
//! target's root at `/proc/1/root` and its image's programs, as the kubelet's copy
//! containers do. None of this is an observation of REAL.md: R12 only says that
//! `kubectl exec` into a running ephemeral container works and needs `pods/exec`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::kubelet::annotation;
use crate::status::{self, ApiError};
use crate::Shared;

/// `fake.kdebug/forbidden: exec` (comma-separated subresources) answers 403 to those
/// subresources of the pod, as RBAC does for a user without `create` on `pods/exec`
/// (per pod only to keep the knob in one place; RBAC is per namespace or cluster).
pub const ANN_FORBIDDEN: &str = "fake.kdebug/forbidden";

/// Where an exec runs: see the module's comment.
#[derive(Default)]
pub struct Place {
    pub target_root: Option<PathBuf>,
    pub image_bin: Option<PathBuf>,
    /// Where the process runs for real (see `process::Spec::exec_root`).
    pub exec_root: Option<PathBuf>,
    /// A regular container's root: its programs are the only ones an exec finds.
    pub programs: Option<PathBuf>,
}

pub fn place(shared: &Shared, pod: &Value, ns: &str, name: &str, cname: &str) -> Place {
    let ephemeral = pod
        .pointer("/spec/ephemeralContainers")
        .and_then(Value::as_array)
        .and_then(|l| l.iter().find(|c| c["name"] == cname));
    if let Some(c) = ephemeral {
        return Place {
            target_root: crate::kubelet::target_root(shared, pod, c),
            image_bin: crate::kubelet::image_bin(shared, c["image"].as_str().unwrap_or("")),
            ..Place::default()
        };
    }
    let root = shared
        .opts
        .rootfs
        .as_ref()
        .map(|r| r.join(ns).join(name).join(cname))
        .filter(|d| d.is_dir());
    Place {
        exec_root: root.clone(),
        programs: root,
        ..Place::default()
    }
}

/// The runtime's default PATH inside a container.
const PATH: [&str; 6] = [
    "usr/local/sbin",
    "usr/local/bin",
    "usr/sbin",
    "usr/bin",
    "sbin",
    "bin",
];

/// The program `argv0` as found in the container's root, or None.
fn find(root: &Path, argv0: &str) -> Option<PathBuf> {
    if argv0.contains('/') {
        let p = root.join(argv0.trim_start_matches('/'));
        return p.exists().then_some(p);
    }
    PATH.iter()
        .map(|d| root.join(d).join(argv0))
        .find(|p| p.exists())
}

/// The Status an exec of a program the container lacks ends with. A guess at containerd
/// with runc's wording (101, then this on the error channel, as R10's refusals arrive);
/// REAL.md has no observation of it.
pub fn not_found(argv0: &str) -> Value {
    let inner = format!(
        "error executing command in container: failed to exec in container: failed to start exec \"0123456789abcdef\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"{argv0}\": executable file not found in $PATH: unknown"
    );
    json!({"metadata": {}, "status": "Failure",
        "message": format!("Internal error occurred: {inner}"),
        "reason": "InternalError", "details": {"causes": [{"message": inner}]}, "code": 500})
}

/// For an exec in a regular container whose root the server holds: the program found in
/// it (argv[0] replaced by its path there), or the Status of one it lacks.
pub fn resolve(place: &Place, argv: &mut [String]) -> Result<(), Value> {
    let (Some(root), Some(argv0)) = (&place.programs, argv.first()) else {
        return Ok(());
    };
    match find(root, argv0) {
        Some(p) => {
            argv[0] = p.to_string_lossy().into_owned();
            Ok(())
        }
        None => Err(not_found(argv0)),
    }
}

/// 403 for a subresource the pod's [`ANN_FORBIDDEN`] lists, as the API server words it.
pub fn forbidden(pod: &Value, user: &str, sub: &str, ns: &str, name: &str) -> Option<ApiError> {
    let listed = annotation(pod, ANN_FORBIDDEN)?
        .split(',')
        .any(|s| s.trim() == sub);
    listed.then(|| status::forbidden(user, "create", "pods", sub, "", ns, name))
}
