//! The Go `corev1.Container` type as JSON decoding and `omitempty` see it: each struct's
//! name (for error messages) and its fields in declaration order.

/// The Go type of a field, as far as JSON decoding and `omitempty` care.
#[derive(Clone, Copy)]
pub(super) enum Ty {
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
pub(super) struct S {
    pub(super) name: &'static str,
    pub(super) fields: &'static [F],
}

pub(super) struct F {
    pub(super) json: &'static str,
    pub(super) ty: Ty,
    pub(super) omitempty: bool,
}

pub(super) const fn f(json: &'static str, ty: Ty) -> F {
    F {
        json,
        ty,
        omitempty: true,
    }
}

/// A field without `omitempty`.
pub(super) const fn req(json: &'static str, ty: Ty) -> F {
    F {
        json,
        ty,
        omitempty: false,
    }
}

use Ty::*;

pub(super) static CONTAINER_T: S = S {
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

pub(super) static CONTAINER_PORT: S = S {
    name: "ContainerPort",
    fields: &[
        f("name", Str),
        f("hostPort", I32),
        req("containerPort", I32),
        f("protocol", Str),
        f("hostIP", Str),
    ],
};

pub(super) static ENV_FROM_SOURCE: S = S {
    name: "EnvFromSource",
    fields: &[
        f("prefix", Str),
        f("configMapRef", Ptr(&CONFIG_MAP_ENV_SOURCE)),
        f("secretRef", Ptr(&SECRET_ENV_SOURCE)),
    ],
};

pub(super) static CONFIG_MAP_ENV_SOURCE: S = S {
    name: "ConfigMapEnvSource",
    fields: &[f("name", Str), f("optional", PtrBool)],
};

pub(super) static SECRET_ENV_SOURCE: S = S {
    name: "SecretEnvSource",
    fields: &[f("name", Str), f("optional", PtrBool)],
};

pub(super) static ENV_VAR: S = S {
    name: "EnvVar",
    fields: &[
        req("name", Str),
        f("value", Str),
        f("valueFrom", Ptr(&ENV_VAR_SOURCE)),
    ],
};

pub(super) static ENV_VAR_SOURCE: S = S {
    name: "EnvVarSource",
    fields: &[
        f("fieldRef", Ptr(&OBJECT_FIELD_SELECTOR)),
        f("resourceFieldRef", Ptr(&RESOURCE_FIELD_SELECTOR)),
        f("configMapKeyRef", Ptr(&CONFIG_MAP_KEY_SELECTOR)),
        f("secretKeyRef", Ptr(&SECRET_KEY_SELECTOR)),
    ],
};

pub(super) static OBJECT_FIELD_SELECTOR: S = S {
    name: "ObjectFieldSelector",
    fields: &[f("apiVersion", Str), req("fieldPath", Str)],
};

pub(super) static RESOURCE_FIELD_SELECTOR: S = S {
    name: "ResourceFieldSelector",
    fields: &[
        f("containerName", Str),
        req("resource", Str),
        f("divisor", Quantity),
    ],
};

pub(super) static CONFIG_MAP_KEY_SELECTOR: S = S {
    name: "ConfigMapKeySelector",
    fields: &[f("name", Str), req("key", Str), f("optional", PtrBool)],
};

pub(super) static SECRET_KEY_SELECTOR: S = S {
    name: "SecretKeySelector",
    fields: &[f("name", Str), req("key", Str), f("optional", PtrBool)],
};

pub(super) static RESOURCE_REQUIREMENTS: S = S {
    name: "ResourceRequirements",
    fields: &[
        f("limits", QtyMap),
        f("requests", QtyMap),
        f("claims", List(&RESOURCE_CLAIM)),
    ],
};

pub(super) static RESOURCE_CLAIM: S = S {
    name: "ResourceClaim",
    fields: &[req("name", Str), f("request", Str)],
};

pub(super) static CONTAINER_RESIZE_POLICY: S = S {
    name: "ContainerResizePolicy",
    fields: &[req("resourceName", Str), req("restartPolicy", Str)],
};

pub(super) static VOLUME_MOUNT: S = S {
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

pub(super) static VOLUME_DEVICE: S = S {
    name: "VolumeDevice",
    fields: &[req("name", Str), req("devicePath", Str)],
};

pub(super) static PROBE: S = S {
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

pub(super) static EXEC_ACTION: S = S {
    name: "ExecAction",
    fields: &[f("command", StrList)],
};

pub(super) static HTTP_GET_ACTION: S = S {
    name: "HTTPGetAction",
    fields: &[
        f("path", Str),
        req("port", IntOrStr),
        f("host", Str),
        f("scheme", Str),
        f("httpHeaders", List(&HTTP_HEADER)),
    ],
};

pub(super) static HTTP_HEADER: S = S {
    name: "HTTPHeader",
    fields: &[req("name", Str), req("value", Str)],
};

pub(super) static TCP_SOCKET_ACTION: S = S {
    name: "TCPSocketAction",
    fields: &[req("port", IntOrStr), f("host", Str)],
};

pub(super) static GRPC_ACTION: S = S {
    name: "GRPCAction",
    // `service` is a pointer without omitempty: Go writes `"service":null` when unset.
    fields: &[req("port", I32), req("service", PtrStr)],
};

pub(super) static LIFECYCLE: S = S {
    name: "Lifecycle",
    fields: &[
        f("postStart", Ptr(&LIFECYCLE_HANDLER)),
        f("preStop", Ptr(&LIFECYCLE_HANDLER)),
        f("stopSignal", PtrStr),
    ],
};

pub(super) static LIFECYCLE_HANDLER: S = S {
    name: "LifecycleHandler",
    fields: &[
        f("exec", Ptr(&EXEC_ACTION)),
        f("httpGet", Ptr(&HTTP_GET_ACTION)),
        f("tcpSocket", Ptr(&TCP_SOCKET_ACTION)),
        f("sleep", Ptr(&SLEEP_ACTION)),
    ],
};

pub(super) static SLEEP_ACTION: S = S {
    name: "SleepAction",
    fields: &[req("seconds", I64)],
};

pub(super) static SECURITY_CONTEXT_T: S = S {
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

pub(super) static CAPABILITIES_T: S = S {
    name: "Capabilities",
    fields: &[f("add", StrList), f("drop", StrList)],
};

pub(super) static SE_LINUX_OPTIONS: S = S {
    name: "SELinuxOptions",
    fields: &[
        f("user", Str),
        f("role", Str),
        f("type", Str),
        f("level", Str),
    ],
};

pub(super) static WINDOWS_OPTIONS: S = S {
    name: "WindowsSecurityContextOptions",
    fields: &[
        f("gmsaCredentialSpecName", PtrStr),
        f("gmsaCredentialSpec", PtrStr),
        f("runAsUserName", PtrStr),
        f("hostProcess", PtrBool),
    ],
};

pub(super) static SECCOMP_PROFILE: S = S {
    name: "SeccompProfile",
    fields: &[req("type", Str), f("localhostProfile", PtrStr)],
};

pub(super) static APP_ARMOR_PROFILE: S = S {
    name: "AppArmorProfile",
    fields: &[req("type", Str), f("localhostProfile", PtrStr)],
};
