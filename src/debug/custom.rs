//! `--custom` (KEP-4292, reference 5.8): a partial `Container` merged onto the profile result.
//!
//! kubectl decodes the file into a Go `corev1.Container` and re-marshals it before applying it
//! as a strategic-merge patch, so what reaches the container is the Go round-trip of the file:
//! field names match case-insensitively, unknown fields vanish, `omitempty` drops false, "" and
//! empty lists of non-pointer fields, while pointer fields (`privileged: false`,
//! `runAsUser: 0`) survive and non-omitempty fields appear with their zero value
//! (`containerPort: 0`, `resources: {}`). [`decode`] reproduces that round-trip from a schema of
//! the Container type; [`merge_container`] applies the patch with the Container's merge keys.

use serde_json::{Map, Number, Value};

use super::order::{self, CONTAINER, SECURITY_CONTEXT};
use super::DebugError;

/// The Go type of a field, as far as JSON decoding and `omitempty` care.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    I32,
    I64,
    PtrStr,
    PtrBool,
    PtrI64,
    /// `intstr.IntOrString`: a struct with its own (un)marshaller.
    IntOrStr,
    /// `resource.Quantity`: a struct with its own (un)marshaller.
    Quantity,
    StrList,
    /// `map[ResourceName]resource.Quantity`.
    QtyMap,
    /// A non-pointer struct: always marshalled, `omitempty` or not.
    Struct(&'static S),
    Ptr(&'static S),
    List(&'static S),
}

/// A Go struct: its type name (for error messages) and JSON fields in declaration order.
struct S {
    name: &'static str,
    fields: &'static [F],
}

struct F {
    json: &'static str,
    ty: Ty,
    omitempty: bool,
}

const fn f(json: &'static str, ty: Ty) -> F {
    F {
        json,
        ty,
        omitempty: true,
    }
}

/// A field without `omitempty`.
const fn req(json: &'static str, ty: Ty) -> F {
    F {
        json,
        ty,
        omitempty: false,
    }
}

use Ty::*;

static CONTAINER_T: S = S {
    name: "Container",
    fields: &[
        req("name", Str),
        f("image", Str),
        f("command", StrList),
        f("args", StrList),
        f("workingDir", Str),
        f("ports", List(&CONTAINER_PORT)),
        f("envFrom", List(&ENV_FROM_SOURCE)),
        f("env", List(&ENV_VAR)),
        f("resources", Struct(&RESOURCE_REQUIREMENTS)),
        f("resizePolicy", List(&CONTAINER_RESIZE_POLICY)),
        f("restartPolicy", PtrStr),
        f("volumeMounts", List(&VOLUME_MOUNT)),
        f("volumeDevices", List(&VOLUME_DEVICE)),
        f("livenessProbe", Ptr(&PROBE)),
        f("readinessProbe", Ptr(&PROBE)),
        f("startupProbe", Ptr(&PROBE)),
        f("lifecycle", Ptr(&LIFECYCLE)),
        f("terminationMessagePath", Str),
        f("terminationMessagePolicy", Str),
        f("imagePullPolicy", Str),
        f("securityContext", Ptr(&SECURITY_CONTEXT_T)),
        f("stdin", Bool),
        f("stdinOnce", Bool),
        f("tty", Bool),
    ],
};

static CONTAINER_PORT: S = S {
    name: "ContainerPort",
    fields: &[
        f("name", Str),
        f("hostPort", I32),
        req("containerPort", I32),
        f("protocol", Str),
        f("hostIP", Str),
    ],
};

static ENV_FROM_SOURCE: S = S {
    name: "EnvFromSource",
    fields: &[
        f("prefix", Str),
        f("configMapRef", Ptr(&CONFIG_MAP_ENV_SOURCE)),
        f("secretRef", Ptr(&SECRET_ENV_SOURCE)),
    ],
};

static CONFIG_MAP_ENV_SOURCE: S = S {
    name: "ConfigMapEnvSource",
    fields: &[f("name", Str), f("optional", PtrBool)],
};

static SECRET_ENV_SOURCE: S = S {
    name: "SecretEnvSource",
    fields: &[f("name", Str), f("optional", PtrBool)],
};

static ENV_VAR: S = S {
    name: "EnvVar",
    fields: &[
        req("name", Str),
        f("value", Str),
        f("valueFrom", Ptr(&ENV_VAR_SOURCE)),
    ],
};

static ENV_VAR_SOURCE: S = S {
    name: "EnvVarSource",
    fields: &[
        f("fieldRef", Ptr(&OBJECT_FIELD_SELECTOR)),
        f("resourceFieldRef", Ptr(&RESOURCE_FIELD_SELECTOR)),
        f("configMapKeyRef", Ptr(&CONFIG_MAP_KEY_SELECTOR)),
        f("secretKeyRef", Ptr(&SECRET_KEY_SELECTOR)),
    ],
};

static OBJECT_FIELD_SELECTOR: S = S {
    name: "ObjectFieldSelector",
    fields: &[f("apiVersion", Str), req("fieldPath", Str)],
};

static RESOURCE_FIELD_SELECTOR: S = S {
    name: "ResourceFieldSelector",
    fields: &[
        f("containerName", Str),
        req("resource", Str),
        f("divisor", Quantity),
    ],
};

static CONFIG_MAP_KEY_SELECTOR: S = S {
    name: "ConfigMapKeySelector",
    fields: &[f("name", Str), req("key", Str), f("optional", PtrBool)],
};

static SECRET_KEY_SELECTOR: S = S {
    name: "SecretKeySelector",
    fields: &[f("name", Str), req("key", Str), f("optional", PtrBool)],
};

static RESOURCE_REQUIREMENTS: S = S {
    name: "ResourceRequirements",
    fields: &[
        f("limits", QtyMap),
        f("requests", QtyMap),
        f("claims", List(&RESOURCE_CLAIM)),
    ],
};

static RESOURCE_CLAIM: S = S {
    name: "ResourceClaim",
    fields: &[req("name", Str), f("request", Str)],
};

static CONTAINER_RESIZE_POLICY: S = S {
    name: "ContainerResizePolicy",
    fields: &[req("resourceName", Str), req("restartPolicy", Str)],
};

static VOLUME_MOUNT: S = S {
    name: "VolumeMount",
    fields: &[
        req("name", Str),
        f("readOnly", Bool),
        f("recursiveReadOnly", PtrStr),
        req("mountPath", Str),
        f("subPath", Str),
        f("mountPropagation", PtrStr),
        f("subPathExpr", Str),
    ],
};

static VOLUME_DEVICE: S = S {
    name: "VolumeDevice",
    fields: &[req("name", Str), req("devicePath", Str)],
};

static PROBE: S = S {
    name: "Probe",
    fields: &[
        f("exec", Ptr(&EXEC_ACTION)),
        f("httpGet", Ptr(&HTTP_GET_ACTION)),
        f("tcpSocket", Ptr(&TCP_SOCKET_ACTION)),
        f("grpc", Ptr(&GRPC_ACTION)),
        f("initialDelaySeconds", I32),
        f("timeoutSeconds", I32),
        f("periodSeconds", I32),
        f("successThreshold", I32),
        f("failureThreshold", I32),
        f("terminationGracePeriodSeconds", PtrI64),
    ],
};

static EXEC_ACTION: S = S {
    name: "ExecAction",
    fields: &[f("command", StrList)],
};

static HTTP_GET_ACTION: S = S {
    name: "HTTPGetAction",
    fields: &[
        f("path", Str),
        req("port", IntOrStr),
        f("host", Str),
        f("scheme", Str),
        f("httpHeaders", List(&HTTP_HEADER)),
    ],
};

static HTTP_HEADER: S = S {
    name: "HTTPHeader",
    fields: &[req("name", Str), req("value", Str)],
};

static TCP_SOCKET_ACTION: S = S {
    name: "TCPSocketAction",
    fields: &[req("port", IntOrStr), f("host", Str)],
};

static GRPC_ACTION: S = S {
    name: "GRPCAction",
    // `service` is a pointer without omitempty: Go writes `"service":null` when unset.
    fields: &[req("port", I32), req("service", PtrStr)],
};

static LIFECYCLE: S = S {
    name: "Lifecycle",
    fields: &[
        f("postStart", Ptr(&LIFECYCLE_HANDLER)),
        f("preStop", Ptr(&LIFECYCLE_HANDLER)),
        f("stopSignal", PtrStr),
    ],
};

static LIFECYCLE_HANDLER: S = S {
    name: "LifecycleHandler",
    fields: &[
        f("exec", Ptr(&EXEC_ACTION)),
        f("httpGet", Ptr(&HTTP_GET_ACTION)),
        f("tcpSocket", Ptr(&TCP_SOCKET_ACTION)),
        f("sleep", Ptr(&SLEEP_ACTION)),
    ],
};

static SLEEP_ACTION: S = S {
    name: "SleepAction",
    fields: &[req("seconds", I64)],
};

static SECURITY_CONTEXT_T: S = S {
    name: "SecurityContext",
    fields: &[
        f("capabilities", Ptr(&CAPABILITIES_T)),
        f("privileged", PtrBool),
        f("seLinuxOptions", Ptr(&SE_LINUX_OPTIONS)),
        f("windowsOptions", Ptr(&WINDOWS_OPTIONS)),
        f("runAsUser", PtrI64),
        f("runAsGroup", PtrI64),
        f("runAsNonRoot", PtrBool),
        f("readOnlyRootFilesystem", PtrBool),
        f("allowPrivilegeEscalation", PtrBool),
        f("procMount", PtrStr),
        f("seccompProfile", Ptr(&SECCOMP_PROFILE)),
        f("appArmorProfile", Ptr(&APP_ARMOR_PROFILE)),
    ],
};

static CAPABILITIES_T: S = S {
    name: "Capabilities",
    fields: &[f("add", StrList), f("drop", StrList)],
};

static SE_LINUX_OPTIONS: S = S {
    name: "SELinuxOptions",
    fields: &[
        f("user", Str),
        f("role", Str),
        f("type", Str),
        f("level", Str),
    ],
};

static WINDOWS_OPTIONS: S = S {
    name: "WindowsSecurityContextOptions",
    fields: &[
        f("gmsaCredentialSpecName", PtrStr),
        f("gmsaCredentialSpec", PtrStr),
        f("runAsUserName", PtrStr),
        f("hostProcess", PtrBool),
    ],
};

static SECCOMP_PROFILE: S = S {
    name: "SeccompProfile",
    fields: &[req("type", Str), f("localhostProfile", PtrStr)],
};

static APP_ARMOR_PROFILE: S = S {
    name: "AppArmorProfile",
    fields: &[req("type", Str), f("localhostProfile", PtrStr)],
};

/// Decodes a `--custom` document the way kubectl does and returns the JSON Go would marshal
/// back. `name` is `""` here; the merge sets it to the debug container's name.
///
/// kubectl tries `json.Unmarshal` first and, when that fails, `sigs.k8s.io/yaml` (YAML to
/// JSON, then `json.Unmarshal`), reporting the second error. The YAML path is more lenient:
/// scalars meant for string fields become strings (`{"command": [3]}` is `["3"]`) and
/// integral floats fit integer fields (`1.0`). A document without type errors decodes the same
/// both ways, so decoding once with the lenient rules gives kubectl's result and its message.
pub fn decode(doc: &Value) -> Result<Value, DebugError> {
    match doc {
        Value::Object(_) => {
            let mut path = Vec::new();
            decode_struct(doc, &CONTAINER_T, &mut path)
                .map(Value::Object)
                .map_err(DebugError::CustomDecode)
        }
        other => Err(DebugError::CustomDecode(DecodeError::NotContainer(
            json_kind(other),
        ))),
    }
}

/// Go's `UnmarshalTypeError`: what was found, in which struct, at which field path, and the
/// field's Go type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    what: String,
    strukt: &'static str,
    path: String,
    want: String,
}

/// Why a `--custom` document does not decode into a Container, as Go's json.Unmarshal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The document is no object (its JSON kind).
    NotContainer(String),
    Type(Box<TypeMismatch>),
    /// A `resource.Quantity` that does not parse.
    Quantity,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("error unmarshaling JSON: while decoding JSON: ")?;
        match self {
            DecodeError::NotContainer(kind) => write!(
                f,
                "json: cannot unmarshal {kind} into Go value of type v1.Container"
            ),
            DecodeError::Type(t) => write!(
                f,
                "json: cannot unmarshal {} into Go struct field {}.{} of type {}",
                t.what, t.strukt, t.path, t.want
            ),
            DecodeError::Quantity => f.write_str("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        }
    }
}

/// [`decode`] with kubectl's message naming the file:
/// `<path> does not contain a valid container spec: …`.
pub fn decode_file(path: &str, doc: &Value) -> Result<Value, DebugError> {
    decode(doc).map_err(|e| match e {
        DebugError::CustomDecode(cause) => DebugError::CustomSpec {
            path: path.to_string(),
            cause,
        },
        other => other,
    })
}

/// kubectl's Validate check on the decoded custom container.
pub fn check_forbidden(decoded: &Value) -> Result<(), DebugError> {
    let non_empty_str = |k: &str| {
        decoded
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let non_empty_list = |k: &str| {
        decoded
            .get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    let present = |k: &str| decoded.get(k).is_some_and(|v| !v.is_null());
    if non_empty_str("name")
        || non_empty_list("command")
        || non_empty_str("image")
        || present("lifecycle")
        || non_empty_list("volumeDevices")
    {
        return Err(DebugError::CustomForbiddenFields);
    }
    Ok(())
}

/// Applies the decoded custom container to `container` as kubectl does: the patch's name
/// becomes the container's name, then a strategic merge with the Container schema (`env` by
/// `name`, `volumeMounts` by `mountPath`, `ports` by `containerPort`, `volumeDevices` by
/// `devicePath`; maps merge recursively; other lists are replaced).
pub fn merge_container(container: &mut Value, decoded: &Value, name: &str) {
    let Some(patch) = decoded.as_object() else {
        return;
    };
    let mut patch = patch.clone();
    patch.insert("name".into(), Value::String(name.into()));
    if !container.is_object() {
        *container = Value::Object(Map::new());
    }
    let before = container.clone();
    if let Some(c) = container.as_object_mut() {
        merge_map(c, &patch, Level::Container);
    }
    *container = go_unmarshal_into(Some(&before), container);
}

/// Go's `json.Unmarshal` onto an existing value, as kubectl decodes the patched container onto
/// the container it patched: an object keeps the fields the JSON lacks (recursively), and the
/// i-th element of a list is decoded onto the old i-th element. So when the merge put a new
/// element where another one was, the new one inherits the fields it lacks from it (kubectl
/// 1.33: a custom volume mount placed first gets the old first mount's `readOnly: true`).
fn go_unmarshal_into(old: Option<&Value>, new: &Value) -> Value {
    match (old, new) {
        (Some(Value::Object(o)), Value::Object(n)) => {
            let mut out = Map::new();
            for (k, v) in n {
                out.insert(k.clone(), go_unmarshal_into(o.get(k), v));
            }
            for (k, v) in o {
                if !n.contains_key(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
        (Some(Value::Array(o)), Value::Array(n)) => Value::Array(
            n.iter()
                .enumerate()
                .map(|(i, x)| go_unmarshal_into(o.get(i), x))
                .collect(),
        ),
        _ => new.clone(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Container,
    SecurityContext,
    Other,
}

fn merge_key(level: Level, key: &str) -> Option<&'static str> {
    if level != Level::Container {
        return None;
    }
    match key {
        "env" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" => Some("containerPort"),
        "volumeDevices" => Some("devicePath"),
        _ => None,
    }
}

fn field_order(level: Level) -> &'static [&'static str] {
    match level {
        Level::Container => CONTAINER,
        Level::SecurityContext => SECURITY_CONTEXT,
        Level::Other => &[],
    }
}

fn merge_map(original: &mut Map<String, Value>, patch: &Map<String, Value>, level: Level) {
    for (k, pv) in patch {
        if pv.is_null() {
            // SMP: null deletes; with IgnoreUnmatchedNulls it is never added.
            order::remove(original, k);
            continue;
        }
        let child = if level == Level::Container && k == "securityContext" {
            Level::SecurityContext
        } else {
            Level::Other
        };
        match (original.get_mut(k), pv) {
            (Some(Value::Object(o)), Value::Object(p)) => merge_map(o, p, child),
            (Some(Value::Array(o)), Value::Array(p)) if merge_key(level, k).is_some() => {
                let key = merge_key(level, k).unwrap_or("name");
                merge_list(o, p, key);
            }
            (Some(slot), _) => *slot = pv.clone(),
            (None, _) => order::set(original, k, without_nulls(pv), field_order(level)),
        }
    }
}

/// Elements with the same merge key are merged, new ones added; then the order Go's strategic
/// merge gives (normalizeElementOrder): the patch's elements in patch order, the original's
/// other elements in their order, interleaved so that an original element goes before a patch
/// element only when both were in the original in that order. So a new element comes before
/// the original elements that follow it: `[sa]` + `[extra]` gives `[extra, sa]`.
fn merge_list(original: &mut Vec<Value>, patch: &[Value], key: &str) {
    let server_order = original.clone();
    for p in patch {
        let Some(pm) = p.as_object() else {
            original.push(p.clone());
            continue;
        };
        let k = pm.get(key);
        match original
            .iter_mut()
            .find(|o| k.is_some() && o.get(key) == k)
            .and_then(Value::as_object_mut)
        {
            Some(om) => merge_map(om, pm, Level::Other),
            None => original.push(without_nulls(p)),
        }
    }
    if !patch.iter().all(|p| p.get(key).is_some()) {
        return;
    }
    let index = |list: &[Value], item: &Value| {
        list.iter()
            .position(|x| x.get(key).is_some() && x.get(key) == item.get(key))
    };
    let (mut from_patch, server_only): (Vec<Value>, Vec<Value>) = std::mem::take(original)
        .into_iter()
        .partition(|item| index(patch, item).is_some());
    from_patch.sort_by_key(|item| index(patch, item));
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        from_patch.into_iter().peekable(),
    );
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index(&server_order, l), index(&server_order, r)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        original.extend(next);
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

// ------------------------------------------------------------------------------------------
// The Go decoder.

fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

fn go_type(ty: Ty) -> String {
    match ty {
        Str | PtrStr => "string".into(),
        Bool | PtrBool => "bool".into(),
        I32 => "int32".into(),
        I64 | PtrI64 => "int64".into(),
        IntOrStr => "intstr.IntOrString".into(),
        Quantity => "resource.Quantity".into(),
        StrList => "[]string".into(),
        QtyMap => "v1.ResourceList".into(),
        Struct(s) => format!("v1.{}", s.name),
        Ptr(s) => format!("*v1.{}", s.name),
        List(s) => format!("[]v1.{}", s.name),
    }
}

/// Go's `UnmarshalTypeError`: the innermost struct, the whole field path.
fn type_error(what: String, ty: Ty, s: &S, path: &[&str]) -> DecodeError {
    DecodeError::Type(Box::new(TypeMismatch {
        what,
        strukt: s.name,
        path: path.join("."),
        want: go_type(ty),
    }))
}

/// Go matches JSON keys to fields exactly first, then case-insensitively.
fn field_index(s: &S, key: &str) -> Option<usize> {
    s.fields.iter().position(|f| f.json == key).or_else(|| {
        s.fields
            .iter()
            .position(|f| f.json.eq_ignore_ascii_case(key))
    })
}

fn decode_struct(
    v: &Value,
    s: &'static S,
    path: &mut Vec<&'static str>,
) -> Result<Map<String, Value>, DecodeError> {
    let mut slots: Vec<Option<Value>> = vec![None; s.fields.len()];
    if let Value::Object(m) = v {
        for (k, x) in m {
            let Some(idx) = field_index(s, k) else {
                continue; // unknown field: dropped
            };
            let Some(field) = s.fields.get(idx) else {
                continue;
            };
            path.push(field.json);
            let decoded = decode_value(x, field.ty, s, path);
            path.pop();
            let decoded = decoded?;
            if let Some(slot) = slots.get_mut(idx) {
                // A later spelling of the same field overwrites the earlier one.
                if decoded.is_some() || x.is_null() {
                    *slot = decoded;
                }
            }
        }
    }
    let mut out = Map::new();
    for (field, slot) in s.fields.iter().zip(slots) {
        if let Some(v) = marshal_field(field, slot) {
            out.insert(field.json.to_string(), v);
        }
    }
    Ok(out)
}

/// Go's marshal of one field: `None` when `omitempty` drops it.
fn marshal_field(field: &F, slot: Option<Value>) -> Option<Value> {
    let is_empty = |v: &Value| match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Null => true,
    };
    match field.ty {
        // Structs ignore omitempty: always written, zero when unset.
        Struct(s) => Some(slot.unwrap_or_else(|| {
            let mut p = Vec::new();
            decode_struct(&Value::Null, s, &mut p)
                .map(Value::Object)
                .unwrap_or(Value::Object(Map::new()))
        })),
        IntOrStr => Some(slot.unwrap_or(Value::Number(Number::from(0)))),
        Quantity => Some(slot.unwrap_or(Value::String("0".into()))),
        // Pointers: written when non-nil, whatever the pointee.
        PtrStr | PtrBool | PtrI64 | Ptr(_) => match slot {
            Some(v) => Some(v),
            None if field.omitempty => None,
            None => Some(Value::Null),
        },
        Str | Bool | I32 | I64 | StrList | QtyMap | List(_) => {
            let zero = match field.ty {
                Str => Value::String(String::new()),
                Bool => Value::Bool(false),
                I32 | I64 => Value::Number(Number::from(0)),
                _ => Value::Null,
            };
            let v = slot.unwrap_or(zero);
            if field.omitempty && is_empty(&v) {
                None
            } else {
                Some(v)
            }
        }
    }
}

/// Decodes one JSON value for a field of type `ty`; `Ok(None)` for JSON null (Go leaves the
/// field zero/nil).
fn decode_value(
    x: &Value,
    ty: Ty,
    s: &'static S,
    path: &mut Vec<&'static str>,
) -> Result<Option<Value>, DecodeError> {
    if x.is_null() {
        return Ok(None);
    }
    let mismatch = |what: String, path: &[&str]| Err(type_error(what, ty, s, path));
    match ty {
        Str | PtrStr => match yaml_string(x) {
            Some(v) => Ok(Some(v)),
            None => mismatch(json_kind(x), path),
        },
        Bool | PtrBool => match x {
            Value::Bool(_) => Ok(Some(x.clone())),
            other => mismatch(json_kind(other), path),
        },
        I32 | I64 | PtrI64 => match x {
            Value::Number(n) => match integer(n, matches!(ty, I32)) {
                Some(i) => Ok(Some(Value::Number(Number::from(i)))),
                None => mismatch(format!("number {n}"), path),
            },
            other => mismatch(json_kind(other), path),
        },
        // IntOrString unmarshals non-strings into its int32; the error gets the field context.
        IntOrStr => match x {
            Value::String(_) => Ok(Some(x.clone())),
            Value::Number(n) => match integer(n, true) {
                Some(i) => Ok(Some(Value::Number(Number::from(i)))),
                None => Err(type_error(format!("number {n}"), I32, s, path)),
            },
            other => Err(type_error(json_kind(other), I32, s, path)),
        },
        Quantity => decode_quantity(x).map(Some),
        StrList => match x {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match (item, yaml_string(item)) {
                        (_, Some(v)) => out.push(v),
                        // Go decodes null into a string element as "".
                        (Value::Null, None) => out.push(Value::String(String::new())),
                        (other, None) => {
                            return Err(type_error(json_kind(other), Str, s, path));
                        }
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => mismatch(json_kind(other), path),
        },
        QtyMap => match x {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, q) in m {
                    out.insert(k.clone(), decode_quantity(q)?);
                }
                Ok(Some(Value::Object(out)))
            }
            other => mismatch(json_kind(other), path),
        },
        Struct(inner) | Ptr(inner) => match x {
            Value::Object(_) => decode_struct(x, inner, path).map(|m| Some(Value::Object(m))),
            other => mismatch(json_kind(other), path),
        },
        List(inner) => match x {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Object(_) | Value::Null => {
                            out.push(Value::Object(decode_struct(item, inner, path)?));
                        }
                        other => return Err(type_error(json_kind(other), Struct(inner), s, path)),
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => mismatch(json_kind(other), path),
        },
    }
}

/// A string field's value on kubectl's YAML path: strings as they are, numbers and booleans
/// turned into their text.
fn yaml_string(x: &Value) -> Option<Value> {
    match x {
        Value::String(_) => Some(x.clone()),
        Value::Bool(b) => Some(Value::String(b.to_string())),
        Value::Number(n) => Some(Value::String(match n.as_f64() {
            Some(f) if n.is_f64() => crate::text::go::format_float_plain(f),
            _ => n.to_string(),
        })),
        _ => None,
    }
}

/// An integer for an int field: integer literals, and integral floats (the YAML path turns
/// `1.0` into `1`); `int32` fields are range-checked.
fn integer(n: &Number, int32: bool) -> Option<i64> {
    let i = match n.as_i64() {
        Some(i) => i,
        None => {
            let f = n.as_f64()?;
            if f.fract() != 0.0 || f.abs() > 9.0e18 {
                return None;
            }
            f as i64
        }
    };
    if int32 && i32::try_from(i).is_err() {
        return None;
    }
    Some(i)
}

/// `resource.Quantity` accepts a string or a bare number. The canonical re-formatting Go does
/// (`1000m` -> `1`) is left to the server, which canonicalises again anyway.
fn decode_quantity(x: &Value) -> Result<Value, DecodeError> {
    let text = match x {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => return Ok(Value::String("0".into())),
        _ => String::new(),
    };
    if is_quantity(&text) {
        Ok(Value::String(text))
    } else {
        Err(DecodeError::Quantity)
    }
}

/// `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`
fn is_quantity(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let start = i;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
        i += 1;
    }
    if i == start {
        return false;
    }
    while b.get(i).is_some_and(|c| b"eEinumkKMGTP".contains(c)) {
        i += 1;
    }
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_names_and_unknown_fields() {
        let d = decode(
            &json!({"WorkingDir": "/x", "bogus": 1, "SECURITYCONTEXT": {"Privileged": false}}),
        )
        .unwrap();
        assert_eq!(
            crate::text::go::json(&d),
            r#"{"name":"","workingDir":"/x","resources":{},"securityContext":{"privileged":false}}"#
        );
    }

    #[test]
    fn omitempty_drops_zero_values_but_keeps_pointers() {
        let d = decode(&json!({
            "stdin": false, "tty": true, "args": [], "workingDir": "",
            "securityContext": {"runAsUser": 0, "runAsNonRoot": false, "capabilities": {"add": []}},
            "ports": [{"name": "x"}]
        }))
        .unwrap();
        assert_eq!(
            crate::text::go::json(&d),
            r#"{"name":"","ports":[{"name":"x","containerPort":0}],"resources":{},"securityContext":{"capabilities":{},"runAsUser":0,"runAsNonRoot":false},"tty":true}"#
        );
    }

    #[test]
    fn zero_structs_and_null_pointer_fields() {
        let d = decode(&json!({
            "env": [{"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}],
            "livenessProbe": {"grpc": {"port": 9}, "httpGet": {}}
        }))
        .unwrap();
        assert_eq!(
            d["env"][0]["valueFrom"]["resourceFieldRef"],
            json!({"resource": "limits.cpu", "divisor": "0"})
        );
        assert_eq!(
            crate::text::go::json(&d["livenessProbe"]),
            r#"{"httpGet":{"port":0},"grpc":{"port":9,"service":null}}"#
        );
    }

    #[test]
    fn type_errors_use_go_wording() {
        // Each message checked against kubectl 1.32 (`--custom=cN.json`).
        let msg = |doc: Value| decode_file("c.json", &doc).unwrap_err().to_string();
        let prefix = "c.json does not contain a valid container spec: error unmarshaling JSON: while decoding JSON: ";
        for (doc, want) in [
            (json!({"stdin": "yes"}), "json: cannot unmarshal string into Go struct field Container.stdin of type bool"),
            (json!({"securityContext": {"runAsUser": "x"}}), "json: cannot unmarshal string into Go struct field SecurityContext.securityContext.runAsUser of type int64"),
            (json!({"env": ["x"]}), "json: cannot unmarshal string into Go struct field Container.env of type v1.EnvVar"),
            (json!({"ports": [{"containerPort": 1.5}]}), "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.ports.containerPort of type int32"),
            (json!([1]), "json: cannot unmarshal array into Go value of type v1.Container"),
            (json!({"livenessProbe": {"httpGet": {"port": true}}}), "json: cannot unmarshal bool into Go struct field HTTPGetAction.livenessProbe.httpGet.port of type int32"),
            (json!({"resources": {"limits": {"cpu": "lots"}}}), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        ] {
            assert_eq!(msg(doc), format!("{prefix}{want}"));
        }
    }

    #[test]
    fn yaml_path_leniency() {
        // kubectl: `{"command":[3]}` is rejected as a forbidden field, not as a type error.
        let d = decode(&json!({"command": [3], "env": [{"name": "A", "value": 1}, {"name": "B", "value": true}],
                               "ports": [{"containerPort": 80.0}], "workingDir": 2.5}))
        .unwrap();
        assert_eq!(d["command"], json!(["3"]));
        assert_eq!(
            d["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "true"}])
        );
        assert_eq!(d["ports"], json!([{"containerPort": 80}]));
        assert_eq!(d["workingDir"], "2.5");
        assert_eq!(check_forbidden(&d), Err(DebugError::CustomForbiddenFields));
    }

    #[test]
    fn forbidden_fields() {
        for doc in [
            json!({"image": "x"}),
            json!({"Name": "x"}),
            json!({"command": ["sh"]}),
            json!({"lifecycle": {}}),
            json!({"volumeDevices": [{"name": "d", "devicePath": "/dev/x"}]}),
        ] {
            let d = decode(&doc).unwrap();
            assert_eq!(
                check_forbidden(&d),
                Err(DebugError::CustomForbiddenFields),
                "{doc}"
            );
        }
        for doc in [
            json!({"image": ""}),
            json!({"command": []}),
            json!({"lifecycle": null}),
            json!({"args": ["x"]}),
        ] {
            let d = decode(&doc).unwrap();
            assert_eq!(check_forbidden(&d), Ok(()), "{doc}");
        }
    }

    #[test]
    fn strategic_merge_rules() {
        let mut c = json!({
            "name": "dbg", "image": "busybox", "args": ["a", "b"],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "resources": {"limits": {"cpu": "1"}},
            "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "s"}, {"name": "k", "mountPath": "/k"}],
            "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}, "privileged": true}
        });
        let d = decode(&json!({
            "args": ["c"],
            "env": [{"name": "B", "value": "x"}, {"name": "C", "value": "3"}],
            "resources": {"limits": {"memory": "1Gi"}},
            "volumeMounts": [{"name": "w", "mountPath": "/v", "readOnly": true}, {"name": "u", "mountPath": "/u"}],
            "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "runAsUser": 0},
            "stdin": false
        }))
        .unwrap();
        merge_container(&mut c, &d, "dbg");
        assert_eq!(
            c,
            json!({
                "name": "dbg", "image": "busybox", "args": ["c"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}, {"name": "C", "value": "3"}],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                // kubectl's order (checked in tests/differential.rs): the patch's entries first,
                // then the untouched ones.
                "volumeMounts": [{"name": "w", "mountPath": "/v", "subPath": "s", "readOnly": true}, {"name": "u", "mountPath": "/u"}, {"name": "k", "mountPath": "/k"}],
                "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "privileged": true, "runAsUser": 0}
            })
        );
    }

    #[test]
    fn keyed_lists_are_ordered_like_go_strategic_merge() {
        // kubectl 1.33, `--custom` adding a volume mount to a container that has one: the new
        // mount comes first.
        let mut c = json!({"name": "app", "volumeMounts": [{"name": "sa", "mountPath": "/sa"}],
            "env": [{"name": "A"}, {"name": "B"}, {"name": "C"}]});
        let d = decode(
            &json!({"volumeMounts": [{"name": "extra", "mountPath": "/extra"}],
            "env": [{"name": "Z"}, {"name": "B", "value": "b"}]}),
        )
        .unwrap();
        merge_container(&mut c, &d, "app");
        let names = |list: &str, key: &str| -> Vec<String> {
            c[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[key].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("volumeMounts", "mountPath"), ["/extra", "/sa"]);
        // ...and Go decodes the result onto the old list: the new first mount keeps what the
        // old first one had and it lacks.
        let mut c = json!({"name": "app", "volumeMounts": [{"name": "sa", "readOnly": true, "mountPath": "/sa"}]});
        let d =
            decode(&json!({"volumeMounts": [{"name": "extra", "mountPath": "/extra"}]})).unwrap();
        merge_container(&mut c, &d, "app");
        assert_eq!(
            c["volumeMounts"],
            json!([{"name": "extra", "readOnly": true, "mountPath": "/extra"},
                   {"name": "sa", "readOnly": true, "mountPath": "/sa"}])
        );
        // Patch order [Z, B]: Z is new, so it goes before A; A was before B in the original,
        // C after it.
        assert_eq!(names("env", "name"), ["Z", "A", "B", "C"]);
    }

    #[test]
    fn quantities() {
        for ok in ["1", "100m", "1Gi", "1e3", "+1.5", "0.5"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "lots", "1 Gi", "Gi"] {
            assert!(!is_quantity(bad), "{bad}");
        }
        let d = decode(&json!({"resources": {"requests": {"cpu": 2}}})).unwrap();
        assert_eq!(d["resources"]["requests"]["cpu"], "2");
    }
}
