//! [`DebugError`]: the builders' and the option checks' failures, in kubectl's words.

use std::fmt;

use super::custom;

/// What an object from the server lacks (it never should).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    NodeName,
    PodSpec,
    CopyName,
    /// A metadata field of the wrong type (kube's typed view refused it).
    Metadata,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::NodeName => "node has no name",
            Malformed::PodSpec => "pod has no spec",
            Malformed::CopyName => "--copy-to has no name",
            Malformed::Metadata => "a metadata field of the wrong type",
        })
    }
}

/// Errors of the builders and of the option checks, with kubectl's exact wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugError {
    UnknownProfile(String),
    /// Copy mode, `-c` names no existing container and there is no `--image`.
    ImageRequiredForNewContainer,
    CustomForbiddenFields,
    /// kubectl's custom-profile lookup only searches regular containers.
    CustomContainerNotFound {
        container: String,
        pod: String,
    },
    /// The `--custom` file does not decode into a Container: `<path> does not contain a valid
    /// container spec: <cause>`. [`custom::decode_file`] builds it; the CLI builds it too for
    /// YAML syntax errors (`error converting YAML to JSON: yaml: …`).
    CustomSpec {
        path: String,
        cause: custom::DecodeError,
    },
    /// The same without the file name, from the builders (the CLI has checked the file by then).
    CustomDecode(custom::DecodeError),
    InvalidImage(String),
    InvalidSetImage {
        image: String,
        container: String,
    },
    InvalidPullPolicy(String),
    AttachWithoutContainer,
    CopyNothingToDo,
    CopyArgsWithoutContainer,
    ReplaceWithoutCopy,
    SameNodeWithoutCopy,
    SetImageWithoutCopy,
    ImageRequired,
    NameRequired,
    TargetWithCopy,
    TtyWithoutStdin,
    /// The pod/node JSON lacks something every API object has.
    MalformedObject(Malformed),
    /// `--mirror` problems (kdebug extension).
    InvalidMirror(String),
    MirrorNeedsTarget,
    MirrorNeedsContainer,
    MirrorSourceNotFound {
        container: String,
        pod: String,
    },
    MirrorOnNode,
    /// `-c` names an ephemeral container the pod already has. The API server would answer
    /// 200 and change nothing, or 422 if the fields differ (tests/fakecluster/REAL.md R1).
    EphemeralNameInUse {
        namespace: String,
        pod: String,
        container: String,
        /// `running`, `terminated`, `waiting` or `not started`.
        state: String,
    },
}

impl fmt::Display for DebugError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DebugError::*;
        match self {
            UnknownProfile(p) => write!(f, "unknown profile: {p}"),
            ImageRequiredForNewContainer => {
                f.write_str("you must specify image when creating new container")
            }
            CustomForbiddenFields => f.write_str(
                "name, command, image, lifecycle and volume devices are not modifiable via custom profile",
            ),
            CustomContainerNotFound { container, pod } => {
                write!(f, "unable to find the {container} container in the pod {pod}")
            }
            CustomSpec { path, cause } => {
                write!(f, "{path} does not contain a valid container spec: {cause}")
            }
            CustomDecode(e) => write!(f, "{e}"),
            InvalidImage(i) => write!(
                f,
                "invalid image name {}: invalid reference format",
                crate::text::go::quote(i)
            ),
            InvalidSetImage { image, container } => write!(
                f,
                "invalid image name {} for container {}: invalid reference format",
                crate::text::go::quote(image),
                crate::text::go::quote(container)
            ),
            InvalidPullPolicy(p) => write!(f, "invalid image pull policy: {p}"),
            AttachWithoutContainer => f.write_str(
                "you must specify --container or create a new container using --image in order to attach.",
            ),
            CopyNothingToDo => {
                f.write_str("you must specify --image, --set-image or command arguments.")
            }
            CopyArgsWithoutContainer => f.write_str(
                "you must specify an existing container or a new image when specifying args.",
            ),
            ReplaceWithoutCopy => f.write_str("--replace may only be used with --copy-to."),
            SameNodeWithoutCopy => f.write_str("--same-node may only be used with --copy-to."),
            SetImageWithoutCopy => f.write_str("--set-image may only be used with --copy-to."),
            ImageRequired => f.write_str("you must specify --image when not using --copy-to."),
            NameRequired => f.write_str("NAME or filename is required for debug"),
            TargetWithCopy => f.write_str(
                "--target is incompatible with --copy-to. Use --share-processes instead.",
            ),
            TtyWithoutStdin => f.write_str("-i/--stdin is required for containers with -t/--tty=true"),
            MalformedObject(m) => write!(f, "malformed object: {m}"),
            InvalidMirror(v) => write!(
                f,
                "invalid --mirror value {}: expected a comma-separated list of volumes, env, user, or all",
                crate::text::go::quote(v)
            ),
            MirrorNeedsTarget => {
                f.write_str("--mirror needs --target to name the container to mirror")
            }
            MirrorNeedsContainer => f.write_str(
                "--mirror with --copy-to needs -c/--container to name an existing container to mirror",
            ),
            MirrorSourceNotFound { container, pod } => write!(
                f,
                "cannot mirror container {}: not found in pod {}",
                crate::text::go::quote(container),
                crate::text::go::quote(pod)
            ),
            MirrorOnNode => f.write_str("--mirror only applies to pod targets, not nodes"),
            EphemeralNameInUse {
                namespace,
                pod,
                container,
                state,
            } => write!(
                f,
                "pod {namespace}/{pod} already has an ephemeral container {container:?} (it is {state}; choose another -c, or reattach with: kdebug attach {pod} -c {container} -i)"
            ),
        }
    }
}

impl std::error::Error for DebugError {}

/// kubectl prints its option checks after `error: `.
impl crate::sys::report::Failure for DebugError {}
