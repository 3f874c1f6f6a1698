//! The in-cluster fallback (client-go rest.InClusterConfig): a pod's service account.

use std::path::{Path, PathBuf};

/// Where Kubernetes mounts the service account of a pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// What the in-cluster fallback looks at. The directory is a field so tests can point it at
/// a temporary one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InCluster {
    /// The service account directory (token, ca.crt, namespace).
    pub dir: PathBuf,
    /// `KUBERNETES_SERVICE_HOST`.
    pub host: Option<String>,
    /// `KUBERNETES_SERVICE_PORT`.
    pub port: Option<String>,
    /// `POD_NAMESPACE` (set through the downward API).
    pub pod_namespace: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

impl InCluster {
    /// The real environment of this process.
    pub fn from_env() -> Self {
        InCluster {
            dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
            host: non_empty(std::env::var("KUBERNETES_SERVICE_HOST").ok()),
            port: non_empty(std::env::var("KUBERNETES_SERVICE_PORT").ok()),
            pod_namespace: non_empty(std::env::var("POD_NAMESPACE").ok()),
        }
    }

    pub fn token_path(&self) -> PathBuf {
        self.dir.join("token")
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// client-go inClusterClientConfig.Possible: both variables set and the token is a file.
    pub fn possible(&self) -> bool {
        self.host.is_some()
            && self.port.is_some()
            && std::fs::metadata(self.token_path()).is_ok_and(|m| !m.is_dir())
    }

    /// `https://host:port`, IPv6 hosts in brackets (net.JoinHostPort).
    pub fn server(&self) -> Option<String> {
        let (h, p) = (self.host.as_deref()?, self.port.as_deref()?);
        Some(if h.contains(':') {
            format!("https://[{h}]:{p}")
        } else {
            format!("https://{h}:{p}")
        })
    }

    /// The CA bundle, when the file exists and looks like PEM certificates (client-go only
    /// uses it if it parses; otherwise it logs and carries on with the system roots).
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        let data = std::fs::read(self.ca_path()).ok()?;
        let text = String::from_utf8_lossy(&data);
        text.contains("-----BEGIN CERTIFICATE-----").then_some(data)
    }

    /// client-go inClusterClientConfig.Namespace: POD_NAMESPACE, then the namespace file
    /// (trimmed), then `default`.
    pub fn namespace(&self) -> String {
        if let Some(ns) = &self.pod_namespace {
            return ns.clone();
        }
        if let Ok(data) = std::fs::read_to_string(self.dir.join("namespace")) {
            let ns = data.trim();
            if !ns.is_empty() {
                return ns.to_string();
            }
        }
        "default".into()
    }

    /// Reads the service account token (trimmed, as client-go's token file source does).
    pub fn token(&self) -> std::io::Result<String> {
        read_token(&self.token_path())
    }
}

/// A bearer token file's content without surrounding whitespace.
pub fn read_token(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_directory() {
        let dir = std::env::temp_dir().join(format!("kdebug-incluster-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let ic = InCluster {
            dir: dir.clone(),
            host: Some("fd00::1".into()),
            port: Some("443".into()),
            pod_namespace: None,
        };
        assert!(!ic.possible());
        let _ = std::fs::write(dir.join("token"), "tok\n");
        let _ = std::fs::write(dir.join("namespace"), " team-a \n");
        let _ = std::fs::write(dir.join("ca.crt"), "not a cert");
        assert!(ic.possible());
        assert_eq!(ic.server().as_deref(), Some("https://[fd00::1]:443"));
        assert_eq!(ic.namespace(), "team-a");
        assert_eq!(ic.token().ok().as_deref(), Some("tok"));
        assert_eq!(ic.ca_pem(), None);
        let ic2 = InCluster {
            pod_namespace: Some("from-env".into()),
            ..ic
        };
        assert_eq!(ic2.namespace(), "from-env");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
