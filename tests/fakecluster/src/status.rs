//! metav1.Status bodies shaped like the real API server's.

use serde_json::{json, Map, Value};

use crate::http::Response;

/// An API error: HTTP code plus the Status body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn response(&self) -> Response {
        let mut r = Response::json(self.code, &self.body);
        r.headers = self.headers.clone();
        r
    }
}

pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("Status"));
    m.insert("apiVersion".into(), json!("v1"));
    m.insert("metadata".into(), json!({}));
    m.insert("status".into(), json!("Failure"));
    m.insert("message".into(), json!(message));
    if !reason.is_empty() {
        m.insert("reason".into(), json!(reason));
    }
    if let Some(d) = details {
        m.insert("details".into(), d);
    }
    m.insert("code".into(), json!(code));
    Value::Object(m)
}

pub fn err(code: u16, reason: &str, message: &str, details: Option<Value>) -> ApiError {
    ApiError {
        code,
        body: status(code, reason, message, details),
        headers: Vec::new(),
    }
}

pub fn not_found(resource: &str, name: &str) -> ApiError {
    err(
        404,
        "NotFound",
        &format!("{resource} \"{name}\" not found"),
        Some(json!({"name": name, "kind": resource})),
    )
}

/// 404 for a URL the server does not serve at all.
pub fn page_not_found() -> ApiError {
    err(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

pub fn already_exists(resource: &str, name: &str) -> ApiError {
    err(
        409,
        "AlreadyExists",
        &format!("{resource} \"{name}\" already exists"),
        Some(json!({"name": name, "kind": resource})),
    )
}

pub fn conflict(resource: &str, name: &str) -> ApiError {
    err(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
        Some(json!({"name": name, "kind": resource})),
    )
}

pub fn bad_request(message: &str) -> ApiError {
    err(400, "BadRequest", message, None)
}

pub fn unauthorized() -> ApiError {
    err(401, "Unauthorized", "Unauthorized", None)
}

pub fn forbidden(
    user: &str,
    verb: &str,
    resource: &str,
    subresource: &str,
    group: &str,
    ns: &str,
    name: &str,
) -> ApiError {
    let res = if subresource.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{subresource}")
    };
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let scope = if ns.is_empty() {
        " at the cluster scope".to_string()
    } else {
        format!(" in the namespace \"{ns}\"")
    };
    let subject = if name.is_empty() {
        format!("{qualified} is forbidden")
    } else {
        format!("{qualified} \"{name}\" is forbidden")
    };
    let message = format!(
        "{subject}: User \"{user}\" cannot {verb} resource \"{res}\" in API group \"{group}\"{scope}"
    );
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), json!(name));
    }
    details.insert("kind".into(), json!(resource));
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    err(403, "Forbidden", &message, Some(Value::Object(details)))
}

pub fn method_not_allowed() -> ApiError {
    err(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        Some(json!({})),
    )
}

pub fn unsupported_media_type(ct: &str) -> ApiError {
    err(
        415,
        "UnsupportedMediaType",
        &format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {ct}"),
        Some(json!({})),
    )
}

pub fn internal(message: &str) -> ApiError {
    err(500, "InternalError", message, Some(json!({})))
}

/// One field error (k8s.io/apimachinery/pkg/util/validation/field).
#[derive(Debug, Clone)]
pub struct FieldError {
    pub kind: FieldErrorKind,
    pub field: String,
    pub value: Option<Value>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    Required,
    Invalid,
    Duplicate,
    NotFound,
    Forbidden,
    NotSupported,
}

impl FieldErrorKind {
    fn reason(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::Duplicate => "FieldValueDuplicate",
            FieldErrorKind::NotFound => "FieldValueNotFound",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
        }
    }
    fn text(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Invalid => "Invalid value",
            FieldErrorKind::Duplicate => "Duplicate value",
            FieldErrorKind::NotFound => "Not found",
            FieldErrorKind::Forbidden => "Forbidden",
            FieldErrorKind::NotSupported => "Unsupported value",
        }
    }
}

fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s),
        other => other.to_string(),
    }
}

impl FieldError {
    pub fn new(kind: FieldErrorKind, field: &str, value: Option<Value>, detail: &str) -> Self {
        FieldError {
            kind,
            field: field.into(),
            value,
            detail: detail.into(),
        }
    }

    /// The error without the field path, as in StatusCause.message.
    pub fn body(&self) -> String {
        let mut s = self.kind.text().to_string();
        match self.kind {
            FieldErrorKind::Required | FieldErrorKind::Forbidden => {}
            _ => {
                if let Some(v) = &self.value {
                    s.push_str(": ");
                    s.push_str(&go_value(v));
                }
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    pub fn full(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }
}

/// 422 Invalid, as NewInvalid(kind, name, errs) prints it.
pub fn invalid(kind: &str, name: &str, errs: &[FieldError]) -> ApiError {
    let list: Vec<String> = errs.iter().map(|e| e.full()).collect();
    let joined = if list.len() == 1 {
        list[0].clone()
    } else {
        format!("[{}]", list.join(", "))
    };
    let causes: Vec<Value> = errs
        .iter()
        .map(|e| json!({"reason": e.kind.reason(), "message": e.body(), "field": e.field}))
        .collect();
    err(
        422,
        "Invalid",
        &format!("{kind} \"{name}\" is invalid: {joined}"),
        Some(json!({"name": name, "kind": kind, "causes": causes})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_message_matches_server() {
        let e = invalid(
            "Pod",
            "web",
            &[FieldError::new(
                FieldErrorKind::Duplicate,
                "spec.ephemeralContainers[0].name",
                Some(json!("app")),
                "",
            )],
        );
        assert_eq!(
            e.body["message"],
            "Pod \"web\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"app\""
        );
        assert_eq!(
            e.body["details"]["causes"][0]["reason"],
            "FieldValueDuplicate"
        );
        assert_eq!(
            e.body["details"]["causes"][0]["message"],
            "Duplicate value: \"app\""
        );
    }

    #[test]
    fn forbidden_message() {
        let e = forbidden(
            "jane",
            "patch",
            "pods",
            "ephemeralcontainers",
            "",
            "default",
            "web",
        );
        assert_eq!(e.body["message"], "pods \"web\" is forbidden: User \"jane\" cannot patch resource \"pods/ephemeralcontainers\" in API group \"\" in the namespace \"default\"");
    }
}
