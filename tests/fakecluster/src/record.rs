//! One request as the server logged it, typed, with the questions the tests ask of it (what
//! kind of request, is it discovery, does it change the cluster), answered in one place.

use serde_json::Value;

/// What a request was, as `make bench` and the request tests count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Discovery,
    Attach,
    Exec,
    Log,
    Watch,
    List,
    Get,
    Create,
    Patch,
    Update,
    Delete,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Discovery => "discovery",
            Kind::Attach => "attach",
            Kind::Exec => "exec",
            Kind::Log => "log",
            Kind::Watch => "watch",
            Kind::List => "list",
            Kind::Get => "get",
            Kind::Create => "create",
            Kind::Patch => "patch",
            Kind::Update => "update",
            Kind::Delete => "delete",
        }
    }
}

/// A logged request. `raw` keeps the whole entry (headers, bodies, the WebSocket record).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    /// The response's status code (0 when none was logged).
    pub status: u16,
    pub raw: Value,
}

impl From<&Value> for Request {
    fn from(v: &Value) -> Request {
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        Request {
            method: s("method"),
            path: s("path"),
            raw_query: s("raw_query"),
            status: v["response"]["status"].as_u64().unwrap_or(0) as u16,
            raw: v.clone(),
        }
    }
}

impl Request {
    /// A query parameter (the last value when repeated).
    pub fn query(&self, key: &str) -> Option<&str> {
        self.raw["query"][key].as_str()
    }

    /// The request body, as logged (JSON), or Null.
    pub fn body(&self) -> &Value {
        &self.raw["body"]
    }

    /// `METHOD path`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    pub fn is_mutation(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PATCH" | "DELETE" | "PUT")
    }

    pub fn is_discovery(&self) -> bool {
        is_discovery_path(&self.path)
    }

    pub fn kind(&self) -> Kind {
        if self.is_discovery() {
            return Kind::Discovery;
        }
        let p = self.path.as_str();
        if p.ends_with("/attach") {
            return Kind::Attach;
        }
        if p.ends_with("/exec") {
            return Kind::Exec;
        }
        if p.ends_with("/log") {
            return Kind::Log;
        }
        match self.method.as_str() {
            "PATCH" => return Kind::Patch,
            "POST" => return Kind::Create,
            "PUT" => return Kind::Update,
            "DELETE" => return Kind::Delete,
            _ => {}
        }
        if self.query("watch") == Some("true") {
            return Kind::Watch;
        }
        // A collection: /api/v1/pods, /api/v1/namespaces/NS/pods, /apis/G/V/namespaces/NS/R.
        let parts: Vec<&str> = p.trim_matches('/').split('/').collect();
        let collection = matches!(
            parts.as_slice(),
            ["api", _, _]
                | ["apis", _, _, _]
                | ["api", _, "namespaces", _, _]
                | ["apis", _, _, "namespaces", _, _]
        );
        if collection {
            Kind::List
        } else {
            Kind::Get
        }
    }
}

/// Discovery: `/api`, `/api/v1`, `/apis`, `/apis/GROUP[/VERSION]` (no resource), `/version`,
/// `/openapi/...`.
pub fn is_discovery_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    matches!(path, "/api" | "/api/v1" | "/apis" | "/version")
        || path.starts_with("/openapi")
        || path.starts_with("/version/")
        || (path.starts_with("/apis/") && path.split('/').count() <= 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(method: &str, path: &str, watch: bool) -> Kind {
        let mut v = json!({"method": method, "path": path, "query": {}});
        if watch {
            v["query"]["watch"] = json!("true");
        }
        Request::from(&v).kind()
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("GET", "/api", false), Kind::Discovery);
        assert_eq!(kind("GET", "/api/v1", false), Kind::Discovery);
        assert_eq!(kind("GET", "/apis/apps/v1", false), Kind::Discovery);
        assert_eq!(
            kind("GET", "/apis/apps/v1/namespaces/d/deployments", false),
            Kind::List
        );
        assert_eq!(
            kind("GET", "/apis/apps/v1/namespaces/d/deployments/web", false),
            Kind::Get
        );
        assert_eq!(kind("GET", "/api/v1/namespaces/d/pods", true), Kind::Watch);
        assert_eq!(kind("GET", "/api/v1/namespaces/d/pods", false), Kind::List);
        assert_eq!(kind("GET", "/api/v1/nodes", false), Kind::List);
        assert_eq!(kind("GET", "/api/v1/nodes/n1", false), Kind::Get);
        assert_eq!(
            kind("GET", "/api/v1/namespaces/d/pods/w/log", false),
            Kind::Log
        );
        assert_eq!(
            kind("GET", "/api/v1/namespaces/d/pods/w/attach", false),
            Kind::Attach
        );
        assert_eq!(
            kind(
                "PATCH",
                "/api/v1/namespaces/d/pods/w/ephemeralcontainers",
                false
            ),
            Kind::Patch
        );
        assert_eq!(
            kind("POST", "/api/v1/namespaces/d/pods", false),
            Kind::Create
        );
        assert_eq!(
            kind("DELETE", "/api/v1/namespaces/d/pods/w", false),
            Kind::Delete
        );
    }
}
