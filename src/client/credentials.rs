//! From a resolved kubeconfig to a ready client: which credential to use, with client-go's
//! precedence (a token, basic auth or client certificate makes the exec plugin unnecessary;
//! a tokenFile is re-read; the exec plugin runs at the first request, not before).

use std::sync::Mutex;
use std::time::Duration;

use crate::client::{self, Auth, Client, ClientError, Impersonation, PluginCredential, Settings};
use crate::kubeconfig::ClientConfig;

pub fn client(
    cfg: &ClientConfig,
    request_timeout: Option<Duration>,
    verbosity: u8,
) -> Result<Client, ClientError> {
    let tls = client::tls::TlsSettings {
        ca_pem: cfg.ca_pem.clone(),
        insecure: cfg.insecure,
        server_name: cfg.tls_server_name.clone(),
        client_cert_pem: cfg.client_cert_pem.clone(),
        client_key_pem: cfg.client_key_pem.as_ref().map(|k| k.expose().clone()),
    };
    let has_cert = cfg.client_cert_pem.is_some();
    let auth = if let Some(path) = &cfg.token_file {
        Auth::TokenFile {
            path: path.clone(),
            cached: Mutex::new(None),
        }
    } else if let Some(t) = &cfg.token {
        Auth::Token(t.clone())
    } else if let Some((user, pass)) = &cfg.basic {
        Auth::Basic(user.clone(), pass.clone())
    } else if let Some(ap) = &cfg.auth_provider {
        auth_provider(ap, cfg, verbosity)?
    } else if let (Some(exec), false) = (&cfg.exec, has_cert) {
        let exec = exec.clone();
        let cluster = cfg.exec_cluster.clone();
        Auth::Exec {
            run: Box::new(move || {
                let interactive = crate::sys::term::is_terminal(0);
                let c = crate::kubeconfig::exec::run_plugin(&exec, cluster.as_ref(), interactive)?;
                Ok(PluginCredential {
                    token: c.token,
                    client_cert_pem: c.client_cert_pem,
                    client_key_pem: c.client_key_pem,
                    expiration: c.expiration,
                })
            }),
            cached: Mutex::new(None),
        }
    } else {
        Auth::None
    };
    let i = &cfg.impersonate;
    Client::new(Settings {
        server: cfg.server.clone(),
        tls,
        auth,
        impersonate: Impersonation {
            user: i.user.clone(),
            groups: i.groups.clone(),
            uid: i.uid.clone(),
            extra: i.extra.clone().into_iter().collect(),
        },
        proxy_url: cfg.proxy_url.clone(),
        request_timeout,
        verbosity,
    })
}

/// The deprecated auth-provider block: only `oidc` still works in kubectl. Its id-token is
/// refreshed at the first request when expired, and the new tokens written back into the
/// file that defined the user (src/client/oidc.rs).
fn auth_provider(
    ap: &crate::kubeconfig::model::AuthProviderConfig,
    cfg: &ClientConfig,
    verbosity: u8,
) -> Result<Auth, ClientError> {
    match ap.name.as_str() {
        "oidc" => {
            let origin = cfg.user_origin.clone();
            let user = cfg.user_name.clone();
            let persist: client::oidc::Persister = Box::new(move |updates| {
                if origin.as_os_str().is_empty() {
                    return Err(crate::kubeconfig::persist::PersistError::NoFile);
                }
                crate::kubeconfig::persist::write_auth_provider_config(&origin, &user, updates)
            });
            let oidc =
                client::oidc::Oidc::new(ap.config.clone().unwrap_or_default(), persist, verbosity)
                    .map_err(ClientError::Oidc)?;
            let oidc = Mutex::new(oidc);
            // The exec-plugin slot gives the caching: asked at the first request, again only
            // once the token nears its expiry (or after a 401, when it is still the same one).
            Ok(Auth::Exec {
                run: Box::new(move || {
                    let mut o = oidc.lock().unwrap_or_else(|p| p.into_inner());
                    let (token, expiration) = o.token()?;
                    Ok(PluginCredential {
                        token: Some(token),
                        expiration,
                        ..Default::default()
                    })
                }),
                cached: Mutex::new(None),
            })
        }
        "gcp" => Err(ClientError::RemovedAuthProvider {
            name: "gcp",
            instead: "\"gke-gcloud-auth-plugin\"",
        }),
        "azure" => Err(ClientError::RemovedAuthProvider {
            name: "azure",
            instead: "https://github.com/Azure/kubelogin",
        }),
        other => Err(ClientError::UnknownAuthProvider(other.into())),
    }
}
