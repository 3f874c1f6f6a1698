//! A container in a pod spec, as the builders read and make it: lookups by name, kubectl's
//! generated names, the container a new debug container starts as, and the warnings about
//! it. None of these panics on odd input: a field of the wrong type is treated as absent.

use serde_json::{Map, Value};

use super::{order, DebugError, DebugOptions, Malformed, Message, NON_ROOT_WARNING};

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

/// The metadata of an object from the server, read through kube's typed view.
pub(crate) fn meta(obj: &Value) -> Result<crate::kube::pod::Meta<'_>, DebugError> {
    crate::kube::pod::Meta::read(obj).map_err(|_| DebugError::MalformedObject(Malformed::Metadata))
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
