//! From the chosen cluster and user to a [`ClientConfig`]: the files they name read, the
//! credential kept, the exec plugin prepared; and the in-cluster configuration's.

use std::path::{Path, PathBuf};

use super::exec::{clean_install_hint, ClusterInfo, EXEC_EXTENSION};
use super::incluster::{read_token, InCluster};
use super::model::{AuthInfo, Cluster};
use super::resolve::{non_empty, ClientConfig, Impersonation, Overrides, ResolveError};
use crate::sys::secret::Secret;

fn read_file(what: &'static str, path: &str) -> Result<Vec<u8>, ResolveError> {
    std::fs::read(path).map_err(|cause| ResolveError::ReadFile {
        what,
        path: PathBuf::from(path),
        cause,
    })
}

/// Drops a query and fragment when the server URL has a path (client-go ClientConfig).
pub(super) fn clean_server(server: &str) -> String {
    let Some((scheme, rest)) = server.split_once("://") else {
        return server.to_string();
    };
    let path_start = rest.find('/').unwrap_or(rest.len());
    let path_end = rest[path_start..]
        .find(['?', '#'])
        .map(|k| path_start + k)
        .unwrap_or(rest.len());
    if path_end - path_start > 1 {
        format!("{scheme}://{}", &rest[..path_end])
    } else {
        server.to_string()
    }
}

pub(super) fn build(cluster: &Cluster, user: &AuthInfo) -> Result<ClientConfig, ResolveError> {
    let mut cc = ClientConfig {
        server: clean_server(&cluster.server),
        ..Default::default()
    };
    cc.proxy_url = (!cluster.proxy_url.is_empty()).then(|| cluster.proxy_url.clone());
    cc.disable_compression = cluster.disable_compression;
    if !user.impersonate.is_empty() {
        cc.impersonate = Impersonation {
            user: Some(user.impersonate.clone()),
            groups: user.impersonate_groups.clone(),
            uid: (!user.impersonate_uid.is_empty()).then(|| user.impersonate_uid.clone()),
            extra: user
                .impersonate_user_extra
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                .collect(),
        };
    }
    // TLS (server identification).
    cc.insecure = cluster.insecure_skip_tls_verify;
    cc.tls_server_name =
        (!cluster.tls_server_name.is_empty()).then(|| cluster.tls_server_name.clone());
    if !cluster.certificate_authority_data.is_empty() {
        cc.ca_pem = Some(cluster.certificate_authority_data.clone());
    } else if !cluster.certificate_authority.is_empty() {
        cc.ca_pem = Some(read_file(
            "certificate-authority",
            &cluster.certificate_authority,
        )?);
    }
    if cc.insecure && cc.ca_pem.is_some() {
        return Err(ResolveError::InsecureWithCa);
    }
    // User identification: the token file is read now; the client re-reads it later.
    if !user.token.expose().is_empty() {
        cc.token = Some(user.token.clone());
        cc.token_file = (!user.token_file.is_empty()).then(|| PathBuf::from(&user.token_file));
    } else if !user.token_file.is_empty() {
        let t =
            read_token(Path::new(&user.token_file)).map_err(|cause| ResolveError::ReadToken {
                path: PathBuf::from(&user.token_file),
                cause,
            })?;
        cc.token = Some(Secret::new(t));
        cc.token_file = Some(PathBuf::from(&user.token_file));
    }
    if !user.client_certificate.is_empty() || !user.client_certificate_data.is_empty() {
        cc.client_cert_pem = Some(if !user.client_certificate_data.is_empty() {
            user.client_certificate_data.clone()
        } else {
            read_file("client-certificate", &user.client_certificate)?
        });
        cc.client_key_pem = Some(Secret::new(if !user.client_key_data.expose().is_empty() {
            user.client_key_data.expose().clone()
        } else {
            read_file("client-key", &user.client_key)?
        }));
    }
    if !user.username.is_empty() || !user.password.expose().is_empty() {
        cc.basic = Some((user.username.clone(), user.password.clone()));
    }
    cc.auth_provider = user.auth_provider.clone();
    if let Some(x) = &user.exec {
        let mut x = x.clone();
        x.install_hint = clean_install_hint(&x.install_hint);
        cc.exec = Some(x);
        cc.exec_cluster = Some(ClusterInfo {
            server: cc.server.clone(),
            tls_server_name: cluster.tls_server_name.clone(),
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
            certificate_authority_data: cc.ca_pem.clone().unwrap_or_default(),
            proxy_url: cluster.proxy_url.clone(),
            disable_compression: cluster.disable_compression,
            config: cluster.extensions.get(EXEC_EXTENSION).cloned(),
        });
    }
    Ok(cc)
}

/// client-go inClusterClientConfig.ClientConfig: only --server, --token and
/// --certificate-authority apply on top.
pub(super) fn in_cluster_config(
    ic: &InCluster,
    o: &Overrides,
) -> Result<ClientConfig, ResolveError> {
    let mut cc = ClientConfig {
        in_cluster: true,
        ..Default::default()
    };
    cc.server = non_empty(&o.server)
        .map(str::to_string)
        .or_else(|| ic.server())
        .unwrap_or_default();
    if let Some(t) = o.token.as_ref().filter(|t| !t.expose().is_empty()) {
        cc.token = Some(t.clone());
    } else {
        let t = ic.token().map_err(|cause| ResolveError::ReadToken {
            path: ic.token_path(),
            cause,
        })?;
        cc.token = Some(Secret::new(t));
        cc.token_file = Some(ic.token_path());
    }
    if let Some(ca) = o
        .certificate_authority
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        cc.ca_pem = Some(read_file("certificate-authority", &ca.to_string_lossy())?);
    } else {
        cc.ca_pem = ic.ca_pem();
    }
    Ok(cc)
}
