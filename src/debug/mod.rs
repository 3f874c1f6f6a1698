//! Pure builders for the three debug journeys (no I/O): an ephemeral container patch, a copy of
//! a pod, a pod on a node. They work on `serde_json::Value` so that every field of the original
//! pod that kdebug does not know about survives a copy untouched.
//!
//! Each builder returns the request body plus the user-visible messages it implies, in
//! kubectl's order and wording (section 2.5 of the reference). Messages that kubectl prints
//! once per run, before any target is touched (`Targeting container …`, the legacy-profile
//! warning), come from [`validate::validate`] / [`startup_messages`] instead, so that a run with
//! several targets prints them once.

pub use crate::sys::output::{Message, Stream};
pub use marks::{
    Mark, CREATED_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_SELECTOR, MANAGED_BY_VALUE, MARK_ENV,
    TARGET_ANNOTATION,
};
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

pub mod copy;
pub mod cp;
pub mod custom;
pub mod ephemeral;
pub mod image;
pub mod marks;
pub mod mirror;
pub mod names;
pub mod node;
pub mod order;
pub mod profiles;
pub mod validate;

#[cfg(test)]
mod testdata;

pub use mirror::Mirror;

/// `--profile`. kubectl 1.33 defaults to `legacy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    #[default]
    Legacy,
    General,
    Baseline,
    Restricted,
    Netadmin,
    Sysadmin,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Legacy => "legacy",
            Profile::General => "general",
            Profile::Baseline => "baseline",
            Profile::Restricted => "restricted",
            Profile::Netadmin => "netadmin",
            Profile::Sysadmin => "sysadmin",
        }
    }
}

impl FromStr for Profile {
    type Err = DebugError;
    fn from_str(s: &str) -> Result<Self, DebugError> {
        // kubectl compares the flag value exactly (no case folding, no trimming).
        match s {
            "legacy" => Ok(Profile::Legacy),
            "general" => Ok(Profile::General),
            "baseline" => Ok(Profile::Baseline),
            "restricted" => Ok(Profile::Restricted),
            "netadmin" => Ok(Profile::Netadmin),
            "sysadmin" => Ok(Profile::Sysadmin),
            other => Err(DebugError::UnknownProfile(other.to_string())),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the builders need from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct DebugOptions {
    pub image: Option<String>,
    pub container: Option<String>,
    pub image_pull_policy: Option<String>,
    /// `--env` pairs in command-line order (kubectl's order is random; ours is deterministic).
    pub env: Vec<(String, String)>,
    pub stdin: bool,
    pub tty: bool,
    pub target: Option<String>,
    pub args: Vec<String>,
    pub arguments_only: bool,
    pub profile: Profile,
    /// The parsed `--custom` file as JSON (YAML already converted by the caller). `Null` (an
    /// empty file) means no custom profile, like kubectl.
    pub custom: Option<Value>,
    pub copy_to: Option<String>,
    pub replace: bool,
    pub same_node: bool,
    /// `--share-processes`: `Some` only when given explicitly (kubectl ignores the default).
    pub share_processes: Option<bool>,
    pub set_image: Vec<(String, String)>,
    pub keep_labels: bool,
    pub keep_annotations: bool,
    pub keep_liveness: bool,
    pub keep_readiness: bool,
    pub keep_startup: bool,
    /// Defaults to true, like kubectl.
    pub keep_init_containers: bool,
    pub mirror: Mirror,
    /// `None` reproduces kubectl's bodies byte for byte.
    pub mark: Option<Mark>,
    /// `--host-shell` (node journey): the command runs through `nsenter` in PID 1's
    /// namespaces, under the sysadmin profile.
    pub host_shell: bool,
}

impl Default for DebugOptions {
    fn default() -> Self {
        DebugOptions {
            image: None,
            container: None,
            image_pull_policy: None,
            env: Vec::new(),
            stdin: false,
            tty: false,
            target: None,
            args: Vec::new(),
            arguments_only: false,
            profile: Profile::Legacy,
            custom: None,
            copy_to: None,
            replace: false,
            same_node: false,
            share_processes: None,
            set_image: Vec::new(),
            keep_labels: false,
            keep_annotations: false,
            keep_liveness: false,
            keep_readiness: false,
            keep_startup: false,
            keep_init_containers: true,
            mirror: Mirror::default(),
            mark: None,
            host_shell: false,
        }
    }
}

impl DebugOptions {
    /// The image, treating an empty string like kubectl's unset flag.
    pub(crate) fn image(&self) -> Option<&str> {
        self.image.as_deref().filter(|s| !s.is_empty())
    }
    pub(crate) fn container(&self) -> Option<&str> {
        self.container.as_deref().filter(|s| !s.is_empty())
    }
    pub(crate) fn pull_policy(&self) -> Option<&str> {
        self.image_pull_policy.as_deref().filter(|s| !s.is_empty())
    }
    pub(crate) fn target(&self) -> Option<&str> {
        self.target.as_deref().filter(|s| !s.is_empty())
    }
    /// The custom profile, unless absent or an empty document.
    pub(crate) fn custom(&self) -> Option<&Value> {
        self.custom.as_ref().filter(|v| !v.is_null())
    }
    /// `--env` as a Go map would hold it: one entry per name, the last value wins (pflag's
    /// stringToString), first-seen order kept.
    pub(crate) fn env_vars(&self) -> Vec<Value> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.env {
            match out.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = v.clone(),
                None => out.push((k.clone(), v.clone())),
            }
        }
        out.into_iter().map(|(k, v)| env_var(&k, &v)).collect()
    }
    /// `--set-image` as kubectl's map: the last value per container name wins.
    pub(crate) fn set_image_for(&self, name: &str) -> Option<&str> {
        self.set_image
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i.as_str())
    }
}

/// kubectl 1.32/1.33 text, printed to stderr on every run with the legacy profile, even with -q.
pub const LEGACY_WARNING: &str = "--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example \"--profile=general\".";

/// kubectl 1.33 (kubectl#1650), stderr, not suppressed by -q.
pub const NON_ROOT_WARNING: &str = "Warning: Non-root user is configured for the entire target Pod, and some capabilities granted by debug profile may not work. Please consider using \"--custom\" with a custom profile that specifies \"securityContext.runAsUser: 0\".";

/// The messages kubectl prints once per run during Validate: `Targeting container …` (stdout,
/// quiet-suppressed) and the legacy warning (stderr, even with -q). [`validate::validate`]
/// runs the checks in kubectl's order and returns these same messages.
pub fn startup_messages(opts: &DebugOptions) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(t) = opts.target() {
        out.push(Message::info(targeting_message(t)));
    }
    if opts.profile == Profile::Legacy {
        out.push(Message::warning(LEGACY_WARNING.to_string()));
    }
    out
}

pub(crate) fn targeting_message(target: &str) -> String {
    format!(
        "Targeting container {}. If you don't see processes from this container it may be because the container runtime doesn't support this feature.",
        crate::text::go::quote(target)
    )
}

/// What an object from the server lacks (it never should).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    NodeName,
    PodSpec,
    CopyName,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::NodeName => "node has no name",
            Malformed::PodSpec => "pod has no spec",
            Malformed::CopyName => "--copy-to has no name",
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

// ---------------------------------------------------------------------------------------------
// Small JSON helpers shared by the builders. None of them panics on odd input: a field of the
// wrong type is treated as absent.

pub(crate) fn env_var(name: &str, value: &str) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(name.into()));
    // Go omits an empty value (omitempty).
    if !value.is_empty() {
        m.insert("value".into(), Value::String(value.into()));
    }
    Value::Object(m)
}

pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `metadata.name` / `metadata.namespace` of an object.
pub(crate) fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata").and_then(|m| str_field(m, key))
}

/// The container lists in the order kubectl's `podutils.VisitContainers(AllContainers)` walks
/// them: init, regular, ephemeral.
pub(crate) const ALL_CONTAINER_LISTS: [&str; 3] =
    ["initContainers", "containers", "ephemeralContainers"];

/// Every container name of a pod spec (all three lists).
pub(crate) fn container_names(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for list in ALL_CONTAINER_LISTS {
        if let Some(items) = spec.get(list).and_then(Value::as_array) {
            for c in items {
                if let Some(n) = str_field(c, "name") {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}

/// Where a container sits in a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContainerRef {
    pub list: &'static str,
    pub index: usize,
}

/// First container named `name` among the given lists, in that order.
pub(crate) fn find_container(
    spec: &Value,
    name: &str,
    lists: &[&'static str],
) -> Option<ContainerRef> {
    for &list in lists {
        if let Some(items) = spec.get(list).and_then(Value::as_array) {
            if let Some(index) = items
                .iter()
                .position(|c| str_field(c, "name") == Some(name))
            {
                return Some(ContainerRef { list, index });
            }
        }
    }
    None
}

pub(crate) fn container_mut(spec: &mut Value, r: ContainerRef) -> Option<&mut Value> {
    spec.get_mut(r.list)?.as_array_mut()?.get_mut(r.index)
}

pub(crate) fn container_at(spec: &Value, r: ContainerRef) -> Option<&Value> {
    spec.get(r.list)?.as_array()?.get(r.index)
}

/// Draws `debugger-xxxxx` names until one collides with no container of `spec` (kubectl's
/// computeDebugContainerName).
pub(crate) fn generate_container_name(spec: &Value, names: &mut dyn FnMut() -> String) -> String {
    let taken = container_names(spec);
    loop {
        let candidate = format!("debugger-{}", names());
        if !taken.contains(&candidate) {
            return candidate;
        }
    }
}

pub(crate) fn defaulting_message(name: &str) -> Message {
    Message::info(format!("Defaulting debug container name to {name}."))
}

/// kubectl 1.33 displayWarning: the pod-level runAsUser is non-zero, the debug container's own
/// runAsUser is not 0, and the profile left it privileged or with added capabilities.
pub(crate) fn non_root_warning(pod_spec: &Value, dc: Option<&Value>) -> Option<Message> {
    let dc = dc?;
    let pod_user = pod_spec
        .get("securityContext")
        .and_then(|s| s.get("runAsUser"))
        .and_then(Value::as_i64)?;
    if pod_user == 0 {
        return None;
    }
    let sc = dc.get("securityContext").filter(|s| s.is_object())?;
    if sc.get("runAsUser").and_then(Value::as_i64) == Some(0) {
        return None;
    }
    let privileged = sc.get("privileged").and_then(Value::as_bool) == Some(true);
    let adds = sc
        .get("capabilities")
        .and_then(|c| c.get("add"))
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !privileged && !adds {
        return None;
    }
    Some(Message::warning(NON_ROOT_WARNING.to_string()))
}

/// Fills in the container fields kubectl sets from the options on a new debug container
/// (ephemeral and node journeys): image, command/args, env, pull policy, stdin/tty, with
/// `terminationMessagePolicy: File` and Go's empty `resources`.
pub(crate) fn new_container(name: &str, opts: &DebugOptions) -> Value {
    use order::CONTAINER;
    let mut c = Map::new();
    order::set(&mut c, "name", Value::String(name.into()), CONTAINER);
    if let Some(image) = opts.image() {
        order::set(&mut c, "image", Value::String(image.into()), CONTAINER);
    }
    if !opts.args.is_empty() {
        let key = if opts.arguments_only {
            "args"
        } else {
            "command"
        };
        order::set(&mut c, key, string_array(&opts.args), CONTAINER);
    }
    let env = opts.env_vars();
    if !env.is_empty() {
        order::set(&mut c, "env", Value::Array(env), CONTAINER);
    }
    // Go marshals the non-pointer ResourceRequirements struct even when empty.
    order::set(&mut c, "resources", Value::Object(Map::new()), CONTAINER);
    order::set(
        &mut c,
        "terminationMessagePolicy",
        Value::String("File".into()),
        CONTAINER,
    );
    if let Some(p) = opts.pull_policy() {
        order::set(
            &mut c,
            "imagePullPolicy",
            Value::String(p.into()),
            CONTAINER,
        );
    }
    if opts.stdin {
        order::set(&mut c, "stdin", Value::Bool(true), CONTAINER);
    }
    if opts.tty {
        order::set(&mut c, "tty", Value::Bool(true), CONTAINER);
    }
    Value::Object(c)
}

pub(crate) fn string_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

#[cfg(test)]
mod robustness {
    //! No panic on any input: every subtree of the fixture pod and node replaced by values of
    //! every JSON type, through every builder and profile.
    use super::*;
    use serde_json::json;

    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    at.push(k.clone());
                    paths(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn replace(v: &Value, path: &[String], with: &Value) -> Value {
        let mut v = v.clone();
        let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
        if let Some(slot) = v.pointer_mut(&pointer) {
            *slot = with.clone();
        }
        v
    }

    #[test]
    fn builders_never_panic() {
        let replacements = [
            json!(null),
            json!(true),
            json!(-1),
            json!("x"),
            json!([]),
            json!({}),
            json!([{}]),
        ];
        let option_sets: Vec<DebugOptions> = [
            Profile::Legacy,
            Profile::General,
            Profile::Restricted,
            Profile::Sysadmin,
        ]
        .into_iter()
        .map(|profile| DebugOptions {
            image: Some("busybox".into()),
            container: Some("app".into()),
            target: Some("app".into()),
            copy_to: Some("copy".into()),
            profile,
            mirror: Mirror::all(),
            custom: Some(json!({"env": [{"name": "A"}], "securityContext": {"runAsUser": 0}})),
            mark: Some(Mark {
                target: "pod/web".into(),
                created: "now".into(),
            }),
            ..DebugOptions::default()
        })
        .collect();
        let pod = testdata::pod("web");
        let mut all = Vec::new();
        paths(&pod, &mut Vec::new(), &mut all);
        let mut names = testdata::fixed_names(&[]);
        for path in &all {
            for r in &replacements {
                let p = replace(&pod, path, r);
                for o in &option_sets {
                    let _ = ephemeral::build(&p, o, &mut names);
                    let _ = copy::build(&p, o, &mut names);
                    let mut plain = o.clone();
                    plain.mirror = Mirror::default();
                    let _ = node::build(&p, "ns", &plain, &mut names);
                }
            }
        }
        // Odd --custom documents.
        let mut o = option_sets[1].clone();
        for doc in [
            json!(null),
            json!(1),
            json!("s"),
            json!([]),
            json!({"env": 1}),
            json!({"ports": [1]}),
            json!({"resources": {"limits": []}}),
            json!({"securityContext": {"capabilities": {"add": [{}]}}}),
        ] {
            o.custom = Some(doc);
            let _ = ephemeral::build(&pod, &o, &mut names);
            let _ = copy::build(&pod, &o, &mut names);
        }
    }
}
