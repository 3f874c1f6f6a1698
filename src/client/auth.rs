//! How requests authenticate and whom they impersonate: tokens, token files re-read as
//! client-go does, basic auth, exec plugins (cached, re-run after a 401, their client
//! certificates swapped into the TLS configuration), and the impersonation headers.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;

use super::error::{Credentials, Transport};
use super::{encode, tls, ApiError, Client};
use crate::sys::secret::Secret;

/// Credentials from an exec plugin.
#[derive(Clone, Debug, Default)]
pub struct PluginCredential {
    pub token: Option<Secret<String>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Secret<Vec<u8>>>,
    pub expiration: Option<SystemTime>,
}

/// Runs the exec credential plugin; the client caches its answer until it expires or the
/// server says 401.
/// Its failure keeps its own type (kubeconfig's exec errors), boxed.
pub type PluginRunner = Box<
    dyn Fn() -> Result<PluginCredential, Box<dyn std::error::Error + Send + Sync>> + Send + Sync,
>;

/// How requests authenticate.
pub enum Auth {
    None,
    Token(Secret<String>),
    /// `tokenFile` is re-read at most once a minute (client-go's cache), so rotated
    /// service-account tokens are picked up.
    TokenFile {
        path: std::path::PathBuf,
        cached: Mutex<Option<(Instant, Secret<String>)>>,
    },
    Basic(String, Secret<String>),
    Exec {
        run: PluginRunner,
        cached: Mutex<Option<PluginCredential>>,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Impersonation {
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub uid: Option<String>,
    pub extra: Vec<(String, Vec<String>)>,
}

impl Client {
    pub(super) fn auth_headers(
        &self,
        force_refresh: bool,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let bearer = |t: &str| vec![("Authorization".to_string(), format!("Bearer {t}"))];
        Ok(match &self.auth {
            Auth::None => Vec::new(),
            Auth::Token(t) => bearer(t.expose()),
            Auth::Basic(user, pass) => {
                let raw = format!("{user}:{}", pass.expose());
                vec![(
                    "Authorization".into(),
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    ),
                )]
            }
            Auth::TokenFile { path, cached } => {
                let mut guard = cached.lock().unwrap_or_else(|p| p.into_inner());
                let fresh =
                    matches!(&*guard, Some((at, _)) if at.elapsed() < Duration::from_secs(60));
                if !fresh {
                    let token = std::fs::read_to_string(path).map_err(|cause| {
                        ApiError::Transport(Transport::Credentials(Credentials::TokenFile {
                            path: path.clone(),
                            cause,
                        }))
                    })?;
                    *guard = Some((Instant::now(), Secret::new(token.trim().to_string())));
                }
                match &*guard {
                    Some((_, t)) => bearer(t.expose()),
                    None => Vec::new(),
                }
            }
            Auth::Exec { run, cached } => {
                let mut guard = cached.lock().unwrap_or_else(|p| p.into_inner());
                let expired = match &*guard {
                    None => true,
                    Some(c) => c.expiration.is_some_and(|e| SystemTime::now() >= e),
                };
                if expired || force_refresh {
                    let cred = run().map_err(|e| {
                        ApiError::Transport(Transport::Credentials(Credentials::Plugin(e)))
                    })?;
                    if let (Some(cert), Some(key)) = (&cred.client_cert_pem, &cred.client_key_pem) {
                        let mut s = self.tls_settings.clone();
                        s.client_cert_pem = Some(cert.clone());
                        s.client_key_pem = Some(key.expose().clone());
                        let config = tls::client_config(&s).map_err(|e| {
                            ApiError::Transport(Transport::Credentials(
                                Credentials::PluginCertificate(e),
                            ))
                        })?;
                        *self
                            .connector
                            .config
                            .write()
                            .unwrap_or_else(|p| p.into_inner()) = config;
                    }
                    *guard = Some(cred);
                }
                match guard.as_ref().and_then(|c| c.token.as_ref()) {
                    Some(t) => bearer(t.expose()),
                    None => Vec::new(),
                }
            }
        })
    }

    pub(super) fn forget_plugin_credential(&self) {
        if let Auth::Exec { cached, .. } = &self.auth {
            *cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    pub(super) fn impersonation_headers(&self) -> Vec<(String, String)> {
        let i = &self.impersonate;
        let mut h = Vec::new();
        // client-go sends the other impersonation headers only together with a user.
        let Some(user) = &i.user else { return h };
        h.push(("Impersonate-User".into(), user.clone()));
        for g in &i.groups {
            h.push(("Impersonate-Group".into(), g.clone()));
        }
        if let Some(uid) = &i.uid {
            h.push(("Impersonate-Uid".into(), uid.clone()));
        }
        for (k, vs) in &i.extra {
            for v in vs {
                h.push((format!("Impersonate-Extra-{}", encode(k)), v.clone()));
            }
        }
        h
    }
}
