//! client-go's ConfirmUsable: every problem of the chosen context, user and cluster, found
//! at once and worded as client-go words them (validateAuthInfo, validateClusterInfo).

use std::fmt;
use std::path::Path;

use super::load::go_io_error;
use super::model::{AuthInfo, Cluster};

/// One reason the configuration cannot be used.
#[derive(Debug)]
pub enum Unusable {
    ContextNotFound(String),
    Namespace {
        namespace: String,
        context: String,
    },
    // The user's (named by `user`).
    CertDataAndFile {
        user: String,
    },
    KeyDataAndFile {
        user: String,
    },
    NoClientKey {
        user: String,
    },
    /// A file named by the user or the cluster (`owner`) that cannot be opened.
    Unreadable {
        what: &'static str,
        path: String,
        owner: String,
        cause: std::io::Error,
    },
    ExecWithAuthProvider {
        user: String,
    },
    ExecNoCommand {
        user: String,
    },
    ExecNoApiVersion {
        user: String,
    },
    ExecEnvWithoutName {
        user: String,
    },
    ExecNoInteractiveMode {
        user: String,
    },
    ExecInteractiveMode {
        user: String,
        mode: String,
    },
    ManyAuthMethods {
        user: String,
        methods: Vec<&'static str>,
    },
    ImpersonateWithoutUser {
        user: String,
    },
    // The cluster's (named by `cluster`).
    NoDefaultServer,
    NoServer {
        cluster: String,
    },
    ProxyScheme {
        url: String,
        cluster: String,
        scheme: String,
    },
    CaDataAndFile {
        cluster: String,
    },
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const EXEC: &str = "to use exec authentication plugin";
        match self {
            Unusable::ContextNotFound(n) => {
                write!(f, "context was not found for specified context: {n}")
            }
            Unusable::Namespace { namespace, context } => write!(
                f,
                "namespace {namespace:?} for context {context:?} does not conform to the kubernetes DNS_LABEL rules"
            ),
            Unusable::CertDataAndFile { user } => write!(f, "client-cert-data and client-cert are both specified for {user}. client-cert-data will override."),
            Unusable::KeyDataAndFile { user } => write!(f, "client-key-data and client-key are both specified for {user}; client-key-data will override"),
            Unusable::NoClientKey { user } => write!(f, "client-key-data or client-key must be specified for {user} to use the clientCert authentication method."),
            Unusable::Unreadable {
                what,
                path,
                owner,
                cause,
            } => write!(
                f,
                "unable to read {what} {path} for {owner} due to {}",
                go_io_error("open", Path::new(path), cause)
            ),
            Unusable::ExecWithAuthProvider { user } => write!(
                f,
                "authProvider cannot be provided in combination with an exec plugin for {user}"
            ),
            Unusable::ExecNoCommand { user } => {
                write!(f, "command must be specified for {user} {EXEC}")
            }
            Unusable::ExecNoApiVersion { user } => {
                write!(f, "apiVersion must be specified for {user} {EXEC}")
            }
            Unusable::ExecEnvWithoutName { user } => {
                write!(f, "env variable name must be specified for {user} {EXEC}")
            }
            Unusable::ExecNoInteractiveMode { user } => {
                write!(f, "interactiveMode must be specified for {user} {EXEC}")
            }
            Unusable::ExecInteractiveMode { user, mode } => {
                write!(f, "invalid interactiveMode for {user}: {mode:?}")
            }
            Unusable::ManyAuthMethods { user, methods } => write!(
                f,
                "more than one authentication method found for {user}; found [{}], only one is allowed",
                methods.join(" ")
            ),
            Unusable::ImpersonateWithoutUser { user } => write!(
                f,
                "requesting uid, groups or user-extra for {user} without impersonating a user"
            ),
            Unusable::NoDefaultServer => f.write_str("default cluster has no server defined"),
            Unusable::NoServer { cluster } => write!(f, "no server found for cluster {cluster:?}"),
            Unusable::ProxyScheme {
                url,
                cluster,
                scheme,
            } => write!(
                f,
                "invalid 'proxy-url' {url:?} for cluster {cluster:?}: unsupported scheme {scheme:?}, must be http, https, or socks5"
            ),
            Unusable::CaDataAndFile { cluster } => write!(f, "certificate-authority-data and certificate-authority are both specified for {cluster}. certificate-authority-data will override."),
        }
    }
}

/// An RFC 1123 label, as a namespace must be.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A file the configuration names that cannot be opened.
fn unreadable(what: &'static str, path: &str, owner: &str) -> Option<Unusable> {
    if path.is_empty() {
        return None;
    }
    std::fs::File::open(path)
        .err()
        .map(|cause| Unusable::Unreadable {
            what,
            path: path.to_string(),
            owner: owner.to_string(),
            cause,
        })
}

/// client-go validateAuthInfo.
pub fn auth_info(name: &str, u: &AuthInfo) -> Vec<Unusable> {
    let user = || name.to_string();
    let mut errs = Vec::new();
    let mut methods = Vec::new();
    if !u.token.expose().is_empty() {
        methods.push("token");
    }
    if !u.username.is_empty() || !u.password.expose().is_empty() {
        methods.push("basicAuth");
    }
    if !u.client_certificate.is_empty() || !u.client_certificate_data.is_empty() {
        if !u.client_certificate.is_empty() && !u.client_certificate_data.is_empty() {
            errs.push(Unusable::CertDataAndFile { user: user() });
        }
        if !u.client_key.is_empty() && !u.client_key_data.expose().is_empty() {
            errs.push(Unusable::KeyDataAndFile { user: user() });
        }
        if u.client_key.is_empty() && u.client_key_data.expose().is_empty() {
            errs.push(Unusable::NoClientKey { user: user() });
        }
        errs.extend(unreadable("client-cert", &u.client_certificate, name));
        errs.extend(unreadable("client-key", &u.client_key, name));
    }
    if let Some(x) = &u.exec {
        if u.auth_provider.is_some() {
            errs.push(Unusable::ExecWithAuthProvider { user: user() });
        }
        if x.command.is_empty() {
            errs.push(Unusable::ExecNoCommand { user: user() });
        }
        if x.api_version.is_empty() {
            errs.push(Unusable::ExecNoApiVersion { user: user() });
        }
        for v in x.env.iter().flatten() {
            if v.name.is_empty() {
                errs.push(Unusable::ExecEnvWithoutName { user: user() });
            }
        }
        match x.interactive_mode.as_str() {
            "" => errs.push(Unusable::ExecNoInteractiveMode { user: user() }),
            "Never" | "IfAvailable" | "Always" => {}
            other => errs.push(Unusable::ExecInteractiveMode {
                user: user(),
                mode: other.to_string(),
            }),
        }
    }
    if methods.len() > 1 {
        errs.push(Unusable::ManyAuthMethods {
            user: user(),
            methods,
        });
    }
    if (!u.impersonate_uid.is_empty()
        || !u.impersonate_groups.is_empty()
        || !u.impersonate_user_extra.is_empty())
        && u.impersonate.is_empty()
    {
        errs.push(Unusable::ImpersonateWithoutUser { user: user() });
    }
    errs
}

/// client-go parseProxyURL: http, https or socks5; any other scheme is returned.
fn unsupported_proxy_scheme(url: &str) -> Option<String> {
    let scheme = url
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    match scheme.as_str() {
        "http" | "https" | "socks5" => None,
        _ => Some(scheme),
    }
}

/// client-go validateClusterInfo.
pub fn cluster(name: &str, c: &Cluster) -> Vec<Unusable> {
    let mut errs = Vec::new();
    if c.server.is_empty() {
        if name.is_empty() {
            errs.push(Unusable::NoDefaultServer);
        } else {
            errs.push(Unusable::NoServer {
                cluster: name.to_string(),
            });
        }
    }
    if !c.proxy_url.is_empty() {
        if let Some(scheme) = unsupported_proxy_scheme(&c.proxy_url) {
            errs.push(Unusable::ProxyScheme {
                url: c.proxy_url.clone(),
                cluster: name.to_string(),
                scheme,
            });
        }
    }
    // Fatal in client-go despite the wording.
    if !c.certificate_authority.is_empty() && !c.certificate_authority_data.is_empty() {
        errs.push(Unusable::CaDataAndFile {
            cluster: name.to_string(),
        });
    }
    errs.extend(unreadable(
        "certificate-authority",
        &c.certificate_authority,
        name,
    ));
    errs
}
