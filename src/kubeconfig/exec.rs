//! Exec credential plugins (client-go `plugin/pkg/client/auth/exec`): run the configured
//! command directly (never through a shell), hand it `KUBERNETES_EXEC_INFO`, read an
//! `ExecCredential` from its stdout.

use std::fmt;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde_json::{json, Map, Value};

use super::model::ExecConfig;
use crate::sys::secret::Secret;
use crate::text::b64;

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// The name of the cluster extension whose payload goes to the plugin as `spec.cluster.config`.
pub const EXEC_EXTENSION: &str = "client.authentication.k8s.io/exec";

/// client-go's help text appended when the plugin binary is missing.
const INSTALL_HELP: &str = "It looks like you are trying to use a client-go credential plugin that is not installed.\n\nTo learn more about this feature, consult the documentation available at:\n      https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins";

/// What the plugin is told about the cluster when `provideClusterInfo: true`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterInfo {
    pub server: String,
    pub tls_server_name: String,
    pub insecure_skip_tls_verify: bool,
    pub certificate_authority_data: Vec<u8>,
    pub proxy_url: String,
    pub disable_compression: bool,
    /// The payload of the cluster extension named `client.authentication.k8s.io/exec`.
    pub config: Option<Value>,
}

/// The credentials a plugin returned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecCredential {
    pub token: Option<Secret<String>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Secret<Vec<u8>>>,
    /// When the credentials must be fetched again; `None` means "valid until a 401".
    pub expiration: Option<SystemTime>,
}

/// Why a plugin gave no credentials; the texts are client-go's.
#[derive(Debug)]
pub enum ExecError {
    InvalidApiVersion(String),
    InvalidInteractiveMode(String),
    NotATerminal,
    NotFound {
        command: String,
        install_hint: String,
    },
    ExitCode {
        command: String,
        code: i32,
    },
    Killed {
        command: String,
    },
    Spawn {
        command: String,
        cause: std::io::Error,
    },
    Decode(serde_json::Error),
    StatusNotObject(Value),
    FieldNotString {
        key: &'static str,
        value: Value,
    },
    WrongApiVersion {
        configured: String,
        returned: String,
    },
    NoStatus,
    NoCredentials,
    HalfPair,
    BadExpiration(String),
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::InvalidApiVersion(v) => write!(f, "exec plugin: invalid apiVersion {v:?}"),
            ExecError::InvalidInteractiveMode(m) => {
                write!(f, "exec plugin: invalid interactiveMode {m:?}")
            }
            ExecError::NotATerminal => f.write_str(
                "exec plugin cannot support interactive mode: standard input is not a terminal",
            ),
            ExecError::NotFound {
                command,
                install_hint,
            } => {
                write!(f, "exec: executable {command} not found\n\n{INSTALL_HELP}")?;
                if !install_hint.is_empty() {
                    write!(f, "\n\n{install_hint}")?;
                }
                Ok(())
            }
            ExecError::ExitCode { command, code } => {
                write!(f, "exec: executable {command} failed with exit code {code}")
            }
            ExecError::Killed { command } => {
                write!(f, "exec: executable {command} was killed by a signal")
            }
            ExecError::Spawn { command, cause } => {
                write!(f, "exec: failed to start {command}: {cause}")
            }
            ExecError::Decode(e) => write!(f, "decoding stdout: {e}"),
            ExecError::StatusNotObject(v) => {
                write!(f, "decoding stdout: status must be an object, not {v}")
            }
            ExecError::FieldNotString { key, value } => {
                write!(
                    f,
                    "decoding stdout: status.{key} must be a string, not {value}"
                )
            }
            ExecError::WrongApiVersion {
                configured,
                returned,
            } => {
                write!(f, "exec plugin is configured to use API version {configured}, plugin returned version {returned}")
            }
            ExecError::NoStatus => f.write_str("exec plugin didn't return a status field"),
            ExecError::NoCredentials => {
                f.write_str("exec plugin didn't return a token or cert/key pair")
            }
            ExecError::HalfPair => {
                f.write_str("exec plugin returned only certificate or key, not both")
            }
            ExecError::BadExpiration(s) => write!(
                f,
                "exec plugin returned an invalid expirationTimestamp {s:?}"
            ),
        }
    }
}

impl std::error::Error for ExecError {}

/// Strips terminal escape sequences from an install hint (client-go cleanANSIEscapeCodes).
pub fn clean_install_hint(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            if it.peek() == Some(&'[') {
                it.next();
                // CSI: parameters and intermediates, then one final byte in @..~.
                for d in it.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The `KUBERNETES_EXEC_INFO` document.
pub fn exec_info(exec: &ExecConfig, cluster: Option<&ClusterInfo>, interactive: bool) -> Value {
    let mut spec = Map::new();
    if exec.provide_cluster_info {
        if let Some(c) = cluster {
            let mut m = Map::new();
            m.insert("server".into(), json!(c.server));
            if !c.tls_server_name.is_empty() {
                m.insert("tls-server-name".into(), json!(c.tls_server_name));
            }
            if c.insecure_skip_tls_verify {
                m.insert("insecure-skip-tls-verify".into(), json!(true));
            }
            if !c.certificate_authority_data.is_empty() {
                m.insert(
                    "certificate-authority-data".into(),
                    json!(b64::encode(&c.certificate_authority_data)),
                );
            }
            if !c.proxy_url.is_empty() {
                m.insert("proxy-url".into(), json!(c.proxy_url));
            }
            if c.disable_compression {
                m.insert("disable-compression".into(), json!(true));
            }
            if let Some(cfg) = c.config.as_ref().filter(|v| !v.is_null()) {
                m.insert("config".into(), cfg.clone());
            }
            spec.insert("cluster".into(), Value::Object(m));
        }
    }
    spec.insert("interactive".into(), json!(interactive));
    json!({"kind": "ExecCredential", "apiVersion": exec.api_version, "spec": spec})
}

/// Runs the plugin once and returns its credentials. `exec.command` must already be resolved
/// (a relative command containing '/' made absolute against its kubeconfig's directory); a
/// bare name is looked up on PATH. No shell is involved: the command and its arguments go
/// straight to the OS. The plugin's stderr is passed through; it gets stdin only when the
/// session is interactive.
pub fn run_plugin(
    exec: &ExecConfig,
    cluster: Option<&ClusterInfo>,
    stdin_is_terminal: bool,
) -> Result<ExecCredential, ExecError> {
    if exec.api_version != V1 && exec.api_version != V1BETA1 {
        return Err(ExecError::InvalidApiVersion(exec.api_version.clone()));
    }
    let interactive = match exec.interactive_mode.as_str() {
        "Never" => false,
        "IfAvailable" | "" => stdin_is_terminal,
        "Always" => {
            if !stdin_is_terminal {
                return Err(ExecError::NotATerminal);
            }
            true
        }
        other => return Err(ExecError::InvalidInteractiveMode(other.to_string())),
    };
    let info = exec_info(exec, cluster, interactive);
    let mut cmd = Command::new(&exec.command);
    cmd.args(exec.args.iter().flatten());
    // Environment: ours, then the configured variables, then KUBERNETES_EXEC_INFO.
    for var in exec.env.iter().flatten() {
        cmd.env(&var.name, var.value.expose());
    }
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    cmd.stdin(if interactive {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped());
    cmd.stderr(Stdio::inherit());
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ExecError::NotFound {
                command: exec.command.clone(),
                install_hint: clean_install_hint(&exec.install_hint),
            })
        }
        Err(e) => {
            return Err(ExecError::Spawn {
                command: exec.command.clone(),
                cause: e,
            })
        }
    };
    if !out.status.success() {
        return Err(match out.status.code() {
            Some(code) => ExecError::ExitCode {
                command: exec.command.clone(),
                code,
            },
            None => ExecError::Killed {
                command: exec.command.clone(),
            },
        });
    }
    parse_credential(&out.stdout, &exec.api_version)
}

/// Decodes a plugin's stdout.
pub fn parse_credential(stdout: &[u8], api_version: &str) -> Result<ExecCredential, ExecError> {
    let v: Value = serde_json::from_slice(stdout).map_err(ExecError::Decode)?;
    let returned = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    if returned != api_version || kind != "ExecCredential" {
        return Err(ExecError::WrongApiVersion {
            configured: api_version.to_string(),
            returned: if kind == "ExecCredential" || kind.is_empty() {
                returned.to_string()
            } else {
                format!("{returned}, Kind={kind}")
            },
        });
    }
    let status = match v.get("status") {
        Some(Value::Object(s)) => s,
        Some(Value::Null) | None => return Err(ExecError::NoStatus),
        Some(other) => return Err(ExecError::StatusNotObject(other.clone())),
    };
    let text = |k: &'static str| -> Result<Option<String>, ExecError> {
        match status.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ExecError::FieldNotString {
                key: k,
                value: other.clone(),
            }),
        }
    };
    let token = text("token")?;
    let cert = text("clientCertificateData")?;
    let key = text("clientKeyData")?;
    if cert.is_some() != key.is_some() {
        return Err(ExecError::HalfPair);
    }
    if token.is_none() && cert.is_none() {
        return Err(ExecError::NoCredentials);
    }
    let expiration = match text("expirationTimestamp")? {
        None => None,
        Some(s) => Some(crate::text::time::parse(&s).ok_or(ExecError::BadExpiration(s))?),
    };
    Ok(ExecCredential {
        token: token.map(Secret::new),
        client_cert_pem: cert.map(String::into_bytes),
        client_key_pem: key.map(|k| Secret::new(k.into_bytes())),
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::model::ExecEnvVar;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn script(name: &str, body: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kdebug-exec-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join(name);
        let _ = std::fs::write(&p, format!("#!/bin/sh\n{body}\n"));
        let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
        p
    }

    fn cfg(cmd: &std::path::Path, version: &str, mode: &str) -> ExecConfig {
        ExecConfig {
            command: cmd.to_string_lossy().into_owned(),
            api_version: version.into(),
            interactive_mode: mode.into(),
            ..Default::default()
        }
    }

    #[test]
    fn token_plugin_sees_env_and_args() {
        let p = script(
            "token.sh",
            r#"[ "$1" = "--flag" ] || exit 3
[ "$MY_VAR" = "x y" ] || exit 4
case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 5;; esac
case "$KUBERNETES_EXEC_INFO" in *'"server":"https://k:6443"'*) ;; *) exit 6;; esac
echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"abc","expirationTimestamp":"2030-01-02T03:04:05Z"}}'"#,
        );
        let mut c = cfg(&p, V1, "IfAvailable");
        c.args = Some(vec!["--flag".into()]);
        c.env = Some(vec![ExecEnvVar {
            name: "MY_VAR".into(),
            value: Secret::new("x y".into()),
        }]);
        c.provide_cluster_info = true;
        let cluster = ClusterInfo {
            server: "https://k:6443".into(),
            ..Default::default()
        };
        let cred = run_plugin(&c, Some(&cluster), false);
        let cred = match cred {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            cred.token.as_ref().map(|t| t.expose().as_str()),
            Some("abc")
        );
        assert_eq!(
            cred.expiration,
            crate::text::time::parse("2030-01-02T03:04:05Z")
        );
    }

    #[test]
    fn plugin_errors() {
        let fail = script("fail.sh", "exit 7");
        let e = run_plugin(&cfg(&fail, V1BETA1, "Never"), None, false)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.ends_with("failed with exit code 7")));

        let mut missing = cfg(
            std::path::Path::new("kdebug-no-such-plugin"),
            V1BETA1,
            "Never",
        );
        missing.install_hint = "install it \u{1b}[1mnow\u{1b}[0m".into();
        let e = run_plugin(&missing, None, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("exec: executable kdebug-no-such-plugin not found"),
            "{e}"
        );
        assert!(e.ends_with("install it now"), "{e}");

        let e = run_plugin(
            &cfg(&fail, "client.authentication.k8s.io/v1alpha1", "Never"),
            None,
            false,
        )
        .err();
        assert!(matches!(e, Some(ExecError::InvalidApiVersion(_))));
        let e = run_plugin(&cfg(&fail, V1, "Always"), None, false).err();
        assert!(matches!(e, Some(ExecError::NotATerminal)));

        let other = script(
            "other.sh",
            r#"echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}'"#,
        );
        let e = run_plugin(&cfg(&other, V1, "Never"), None, false).err();
        assert!(matches!(e, Some(ExecError::WrongApiVersion { .. })));
    }

    #[test]
    fn credential_shapes() {
        let ok = |s: &str| parse_credential(s.as_bytes(), V1);
        let head = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1""#;
        assert!(matches!(ok(&format!("{head}}}")), Err(ExecError::NoStatus)));
        assert!(matches!(
            ok(&format!("{head},\"status\":{{}}}}")),
            Err(ExecError::NoCredentials)
        ));
        assert!(matches!(
            ok(&format!("{head},\"status\":{{\"clientKeyData\":\"k\"}}}}")),
            Err(ExecError::HalfPair)
        ));
        let c = ok(&format!(
            "{head},\"status\":{{\"clientKeyData\":\"k\",\"clientCertificateData\":\"c\"}}}}"
        ));
        assert!(
            c.is_ok_and(|c| c.client_cert_pem.as_deref() == Some(&b"c"[..]) && c.token.is_none())
        );
    }

    #[test]
    fn rfc3339() {
        let t = |s: &str| {
            crate::text::time::parse(s)
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
        };
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(t("2024-03-05T10:11:12Z"), Some(1_709_633_472));
        assert_eq!(t("2024-03-05T12:11:12.5+02:00"), Some(1_709_633_472));
        assert_eq!(t("2024-03-05 10:11:12Z"), None);
        assert_eq!(t("2024-13-05T10:11:12Z"), None);
    }

    #[test]
    fn exec_info_shape() {
        let c = ExecConfig {
            api_version: V1.into(),
            provide_cluster_info: true,
            ..Default::default()
        };
        let cl = ClusterInfo {
            server: "https://s".into(),
            certificate_authority_data: b"hi".to_vec(),
            config: Some(json!({"a": 1})),
            ..Default::default()
        };
        assert_eq!(
            exec_info(&c, Some(&cl), true).to_string(),
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://s","certificate-authority-data":"aGk=","config":{"a":1}},"interactive":true}}"#
        );
    }
}
