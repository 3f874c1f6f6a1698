//! From loaded kubeconfig + command-line overrides to one connection-ready [`ClientConfig`],
//! following client-go's DirectClientConfig / DeferredLoadingClientConfig.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use super::build::{build, in_cluster_config};
use super::exec::ClusterInfo;
use super::incluster::InCluster;
use super::load::{self, go_io_error, origin_dir, resolve_path, Sources};
use super::model::{AuthInfo, AuthProviderConfig, Cluster, Config, Context, ExecConfig};
use super::validate::{self, Unusable};
use super::KubeconfigError;
use crate::sys::report::Failure;
use crate::sys::secret::Secret;

/// The global connection flags (`--kubeconfig`, `--context`, `-n`, `--server`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub server: Option<String>,
    pub token: Option<Secret<String>>,
    pub as_user: Option<String>,
    pub as_groups: Vec<String>,
    pub as_uid: Option<String>,
    pub certificate_authority: Option<PathBuf>,
    pub client_certificate: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub insecure_skip_tls_verify: Option<bool>,
    pub tls_server_name: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
}

/// Who to impersonate (sent only when `user` is set, as client-go does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Impersonation {
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub uid: Option<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// Everything the REST client needs to talk to the API server.
///
/// Credentials and TLS settings are only meant for `https` servers: kubectl attaches no
/// token, client certificate, basic auth or CA to an `http://` (or scheme-less) server. The
/// client enforces that; [`ClientConfig::uses_tls`] says which case applies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientConfig {
    /// `https://host:port[/path]`; a path's query and fragment are dropped.
    pub server: String,
    /// PEM CA bundle: when set, the only roots to trust; else the system roots.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure: bool,
    /// SNI and the name verified in the server certificate.
    pub tls_server_name: Option<String>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Secret<Vec<u8>>>,
    /// Bearer token (the inline one, or read from `token_file`).
    pub token: Option<Secret<String>>,
    /// When set, the token is re-read from here (at most once a minute) and wins at request time.
    pub token_file: Option<PathBuf>,
    pub basic: Option<(String, Secret<String>)>,
    /// An exec plugin, command already resolved against its kubeconfig's directory. client-go
    /// skips it when a token, basic auth or a client certificate is present.
    pub exec: Option<ExecConfig>,
    /// What the exec plugin may be told about the cluster (`provideClusterInfo`).
    pub exec_cluster: Option<ClusterInfo>,
    /// The deprecated auth-provider (only `oidc` still works in kubectl).
    pub auth_provider: Option<AuthProviderConfig>,
    /// The user entry's name and the file that defined it: where refreshed auth-provider
    /// tokens are written back (client-go's persister).
    pub user_name: String,
    pub user_origin: PathBuf,
    pub impersonate: Impersonation,
    pub proxy_url: Option<String>,
    pub disable_compression: bool,
    pub namespace: String,
    /// True when the namespace came from `-n/--namespace`.
    pub namespace_explicit: bool,
    pub context_name: Option<String>,
    /// True when the service account of the pod we run in is used.
    pub in_cluster: bool,
}

impl ClientConfig {
    /// client-go IsConfigTransportTLS: only an explicit `https` scheme counts.
    pub fn uses_tls(&self) -> bool {
        self.server
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }
}

/// Configuration problems kubectl reports before connecting.
#[derive(Debug)]
pub enum ResolveError {
    /// Reading or parsing the kubeconfig files failed.
    Load(KubeconfigError),
    /// client-go's ConfirmUsable errors (printed as "Error in configuration:" + bullets).
    Invalid(Vec<Unusable>),
    /// `--context NAME` names no context (kubectl: `Error in configuration: context was not
    /// found for specified context: NAME`).
    ContextNotFound(String),
    /// With `-n`, `--context NAME` names no context (kubectl fails later, in getContext).
    NoSuchContext(String),
    /// The chosen context's user (`--user`) names no entry.
    NoSuchUser(String),
    /// The chosen context's cluster (`--cluster`) names no entry.
    NoSuchCluster(String),
    /// The namespace is not an RFC 1123 label.
    InvalidNamespace(String),
    /// A CA, client certificate or key file named by the kubeconfig could not be read.
    ReadFile {
        what: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A token file (the kubeconfig's `tokenFile`, or the service account's) could not be read.
    ReadToken {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A CA together with `insecure-skip-tls-verify`.
    InsecureWithCa,
}

/// kubectl's CheckErr prints an invalid configuration as `Error in configuration:` and its
/// list, except a single error, which it prints after `error: ` like any other.
impl Failure for ResolveError {
    fn prefixed(&self) -> bool {
        match self {
            ResolveError::Invalid(errs) => errs.len() <= 1,
            ResolveError::ContextNotFound(_) => false,
            ResolveError::Load(_)
            | ResolveError::NoSuchContext(_)
            | ResolveError::NoSuchUser(_)
            | ResolveError::NoSuchCluster(_)
            | ResolveError::InvalidNamespace(_)
            | ResolveError::ReadFile { .. }
            | ResolveError::ReadToken { .. }
            | ResolveError::InsecureWithCa => true,
        }
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Load(e) => write!(f, "{e}"),
            ResolveError::Invalid(errs) if errs.len() > 1 => {
                f.write_str("Error in configuration: ")?;
                for e in errs {
                    write!(f, "\n* {e}")?;
                }
                Ok(())
            }
            ResolveError::Invalid(errs) => {
                for (i, e) in errs.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            ResolveError::ContextNotFound(n) => write!(
                f,
                "Error in configuration: context was not found for specified context: {n}"
            ),
            ResolveError::NoSuchContext(n) => write!(f, "context {n:?} does not exist"),
            ResolveError::NoSuchUser(n) => write!(f, "auth info {n:?} does not exist"),
            ResolveError::NoSuchCluster(n) => write!(f, "cluster {n:?} does not exist"),
            ResolveError::InvalidNamespace(ns) => write!(
                f,
                "invalid namespace {ns:?}: a namespace must be a lowercase RFC 1123 label"
            ),
            ResolveError::ReadFile { what, path, cause } => write!(
                f,
                "failed to read {what}: {}",
                go_io_error("open", path, cause)
            ),
            ResolveError::ReadToken { path, cause } => {
                f.write_str(&go_io_error("open", path, cause))
            }
            ResolveError::InsecureWithCa => f.write_str(
                "specifying a root certificates file with the insecure flag is not allowed",
            ),
        }
    }
}

impl std::error::Error for ResolveError {}

impl From<KubeconfigError> for ResolveError {
    fn from(e: KubeconfigError) -> Self {
        ResolveError::Load(e)
    }
}

/// What `resolve` reads from the process environment; a value so tests can supply their own.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub kubeconfig: Option<OsString>,
    pub home: Option<PathBuf>,
    /// `KUBERNETES_MASTER`, the default server (else `http://localhost:8080`).
    pub kubernetes_master: Option<String>,
    pub in_cluster: InCluster,
}

impl Environment {
    pub fn from_process() -> Self {
        Environment {
            kubeconfig: std::env::var_os("KUBECONFIG"),
            home: std::env::var_os("HOME").map(PathBuf::from),
            kubernetes_master: std::env::var("KUBERNETES_MASTER")
                .ok()
                .filter(|s| !s.is_empty()),
            in_cluster: InCluster::from_env(),
        }
    }

    fn default_server(&self) -> String {
        self.kubernetes_master
            .clone()
            .unwrap_or_else(|| "http://localhost:8080".into())
    }
}

/// Loads the kubeconfig per the loading rules and resolves it with `overrides`.
pub fn resolve(overrides: &Overrides) -> Result<ClientConfig, ResolveError> {
    resolve_in(overrides, &Environment::from_process())
}

/// [`resolve`] with an explicit environment.
pub fn resolve_in(o: &Overrides, env: &Environment) -> Result<ClientConfig, ResolveError> {
    let sources = load::sources(
        o.kubeconfig.as_deref(),
        env.kubeconfig.as_deref(),
        env.home.as_deref(),
    );
    if let Sources::Explicit(p) = &sources {
        if std::fs::metadata(p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            return Err(KubeconfigError::Missing { path: p.clone() }.into());
        }
    }
    let config = load::load(&sources, false)?;
    resolve_config(&config, o, env)
}

pub(super) fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// client-go ResolveLocalPaths: relative file references of an entry are relative to the
/// directory of the kubeconfig that defined it; so is an exec command containing '/'.
fn resolve_auth_paths(u: &mut AuthInfo) {
    let base = origin_dir(&u.location_of_origin);
    u.client_certificate = resolve_path(&u.client_certificate, &base);
    u.client_key = resolve_path(&u.client_key, &base);
    u.token_file = resolve_path(&u.token_file, &base);
    if let Some(x) = &mut u.exec {
        if x.command.contains('/') {
            x.command = resolve_path(&x.command, &base);
        }
    }
}

/// The context chosen by `--context` or current-context, with the flag overrides.
struct Chosen {
    name: String,
    /// `--context` was given (it must exist).
    required: bool,
    context: Context,
}

fn choose_context(config: &Config, o: &Overrides) -> Chosen {
    // --context (must exist) or current-context (a dangling one is still an error in
    // ConfirmUsable).
    let name = non_empty(&o.context)
        .map(str::to_string)
        .unwrap_or_else(|| config.current_context.clone());
    let mut context: Context = config.contexts.get(&name).cloned().unwrap_or_default();
    if let Some(c) = non_empty(&o.cluster) {
        context.cluster = c.to_string();
    }
    if let Some(u) = non_empty(&o.user) {
        context.auth_info = u.to_string();
    }
    if let Some(ns) = non_empty(&o.namespace) {
        context.namespace = ns.to_string();
    }
    Chosen {
        name,
        required: non_empty(&o.context).is_some(),
        context,
    }
}

/// The cluster: defaults, then the named entry, then the flag overrides.
fn choose_cluster(config: &Config, name: &str, o: &Overrides, default_server: &str) -> Cluster {
    let mut cluster = Cluster {
        server: default_server.to_string(),
        ..Default::default()
    };
    if let Some(c) = config.clusters.get(name) {
        let mut c = c.clone();
        if c.server.is_empty() {
            c.server = default_server.to_string(); // mergo: an empty field does not override
        }
        c.certificate_authority =
            resolve_path(&c.certificate_authority, &origin_dir(&c.location_of_origin));
        cluster = c;
    }
    if let Some(s) = non_empty(&o.server) {
        cluster.server = s.to_string();
    }
    let ca_override = o
        .certificate_authority
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty());
    // An --insecure-skip-tls-verify or --certificate-authority override resets all CA fields.
    if o.insecure_skip_tls_verify == Some(true) || ca_override.is_some() {
        cluster.insecure_skip_tls_verify = o.insecure_skip_tls_verify == Some(true);
        cluster.certificate_authority = ca_override
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        cluster.certificate_authority_data = Vec::new();
    }
    // --tls-server-name, and also --server alone, replace the kubeconfig's tls-server-name.
    if non_empty(&o.tls_server_name).is_some() || non_empty(&o.server).is_some() {
        cluster.tls_server_name = o.tls_server_name.clone().unwrap_or_default();
    }
    cluster
}

/// The user: the named entry overlaid field by field with the flags.
fn choose_user(config: &Config, name: &str, o: &Overrides) -> Result<AuthInfo, ResolveError> {
    let mut user = AuthInfo::default();
    if let Some(u) = config.auth_infos.get(name) {
        user = u.clone();
        resolve_auth_paths(&mut user);
    } else if non_empty(&o.user).is_some() {
        return Err(ResolveError::NoSuchUser(name.to_string()));
    }
    if let Some(t) = o.token.as_ref().filter(|t| !t.expose().is_empty()) {
        user.token = t.clone();
    }
    if let Some(p) = o
        .client_certificate
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        user.client_certificate = p.to_string_lossy().into_owned();
    }
    if let Some(p) = o.client_key.as_ref().filter(|p| !p.as_os_str().is_empty()) {
        user.client_key = p.to_string_lossy().into_owned();
    }
    if let Some(u) = non_empty(&o.username) {
        user.username = u.to_string();
    }
    if let Some(p) = o.password.as_ref().filter(|p| !p.expose().is_empty()) {
        user.password = p.clone();
    }
    if let Some(a) = non_empty(&o.as_user) {
        user.impersonate = a.to_string();
    }
    if !o.as_groups.is_empty() {
        user.impersonate_groups = o.as_groups.clone();
    }
    if let Some(u) = non_empty(&o.as_uid) {
        user.impersonate_uid = u.to_string();
    }
    Ok(user)
}

/// ConfirmUsable: every problem at once ([`validate`]).
fn confirm_usable(
    config: &Config,
    o: &Overrides,
    chosen: &Chosen,
    user: &AuthInfo,
    cluster: &Cluster,
    cluster_missing: bool,
) -> Result<(), ResolveError> {
    let (name, context) = (&chosen.name, &chosen.context);
    let mut errors = Vec::new();
    if !name.is_empty() && !config.contexts.contains_key(name) {
        // With -n, kubectl skips ConfirmUsable in Namespace() and fails later in getContext.
        if chosen.required && non_empty(&o.namespace).is_some() {
            return Err(ResolveError::NoSuchContext(name.clone()));
        }
        errors.push(Unusable::ContextNotFound(name.clone()));
    }
    errors.extend(validate::auth_info(&context.auth_info, user));
    // client-go's ConfirmUsable ignores getCluster's "does not exist" and validates an empty
    // cluster instead: `--cluster=nope` reads `no server found for cluster "nope"`.
    if cluster_missing {
        errors.extend(validate::cluster(&context.cluster, &Cluster::default()));
    } else {
        errors.extend(validate::cluster(&context.cluster, cluster));
    }
    if !context.namespace.is_empty() && !validate::is_dns1123_label(&context.namespace) {
        errors.push(Unusable::Namespace {
            namespace: context.namespace.clone(),
            context: name.clone(),
        });
    }
    match errors.as_slice() {
        [] => Ok(()),
        [Unusable::ContextNotFound(_)] => Err(ResolveError::ContextNotFound(name.clone())),
        _ => Err(ResolveError::Invalid(errors)),
    }
}

/// Whether the kubeconfig gave nothing beyond the defaults (then the in-cluster
/// configuration is used when there is one).
fn is_default(cc: &ClientConfig, default_server: &str) -> bool {
    cc.server == default_server
        && cc.impersonate.user.is_none()
        && cc.proxy_url.is_none()
        && !cc.disable_compression
        && !(cc.uses_tls()
            && (cc.token.is_some()
                || cc.basic.is_some()
                || cc.client_cert_pem.is_some()
                || cc.exec.is_some()
                || cc.ca_pem.is_some()
                || cc.insecure))
}

/// Resolution proper, on an already loaded config: the context, its cluster and user with
/// the flags applied, ConfirmUsable, the client configuration (or the in-cluster one), then
/// the namespace.
pub fn resolve_config(
    config: &Config,
    o: &Overrides,
    env: &Environment,
) -> Result<ClientConfig, ResolveError> {
    let chosen = choose_context(config, o);
    let context = &chosen.context;
    let default_server = env.default_server();
    let cluster = choose_cluster(config, &context.cluster, o, &default_server);
    let cluster_missing =
        non_empty(&o.cluster).is_some() && !config.clusters.contains_key(&context.cluster);
    let user = choose_user(config, &context.auth_info, o)?;
    confirm_usable(config, o, &chosen, &user, &cluster, cluster_missing)?;
    if cluster_missing {
        return Err(ResolveError::NoSuchCluster(context.cluster.clone()));
    }

    let mut cc = build(&cluster, &user)?;
    cc.user_name = context.auth_info.clone();
    cc.user_origin = user.location_of_origin.clone();
    cc.context_name = (!chosen.name.is_empty()).then_some(chosen.name.clone());
    if is_default(&cc, &default_server) && env.in_cluster.possible() {
        cc = in_cluster_config(&env.in_cluster, o)?;
    }

    // Namespace: -n, the context's, the in-cluster one, default.
    if let Some(ns) = non_empty(&o.namespace) {
        cc.namespace = ns.to_string();
        cc.namespace_explicit = true;
    } else if !context.namespace.is_empty() {
        cc.namespace = context.namespace.clone();
    } else if env.in_cluster.possible() {
        cc.namespace = env.in_cluster.namespace();
    } else {
        cc.namespace = "default".into();
    }
    if !validate::is_dns1123_label(&cc.namespace) {
        return Err(ResolveError::InvalidNamespace(cc.namespace.clone()));
    }
    Ok(cc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::build::clean_server;
    use crate::kubeconfig::model;
    use std::path::Path;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kdebug-resolve-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    }

    fn cfg(text: &str, dir: &Path) -> Config {
        let file = dir.join("config");
        model::load_bytes(text.as_bytes(), "config", &file).unwrap_or_default()
    }

    fn env() -> Environment {
        Environment {
            in_cluster: InCluster {
                dir: PathBuf::from("/nonexistent"),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    const BASE: &str = "clusters:\n- name: c\n  cluster: {server: https://k:6443, tls-server-name: sni, certificate-authority-data: aGk=}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: team}\ncurrent-context: x\n";

    #[test]
    fn selects_the_current_context() {
        let d = tmpdir("basic");
        let cc = resolve_config(&cfg(BASE, &d), &Overrides::default(), &env());
        let cc = match cc {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cc.server, "https://k:6443");
        assert_eq!(cc.tls_server_name.as_deref(), Some("sni"));
        assert_eq!(cc.ca_pem.as_deref(), Some(&b"hi"[..]));
        assert_eq!(cc.token.as_ref().map(|t| t.expose().as_str()), Some("t"));
        assert_eq!(
            (cc.namespace.as_str(), cc.namespace_explicit),
            ("team", false)
        );
        assert!(cc.uses_tls());
    }

    #[test]
    fn flag_overrides() {
        let d = tmpdir("flags");
        let o = Overrides {
            server: Some("https://other".into()),
            insecure_skip_tls_verify: Some(true),
            namespace: Some("ns".into()),
            as_user: Some("me".into()),
            as_groups: vec!["g".into()],
            ..Default::default()
        };
        let cc = resolve_config(&cfg(BASE, &d), &o, &env())
            .ok()
            .unwrap_or_default();
        assert_eq!(cc.server, "https://other");
        assert_eq!(cc.tls_server_name, None, "--server clears tls-server-name");
        assert!(cc.insecure);
        assert_eq!(cc.ca_pem, None, "--insecure-skip-tls-verify resets the CA");
        assert_eq!((cc.namespace.as_str(), cc.namespace_explicit), ("ns", true));
        assert_eq!(cc.impersonate.user.as_deref(), Some("me"));
        assert_eq!(cc.impersonate.groups, vec!["g".to_string()]);
    }

    #[test]
    fn kubectl_errors() {
        use crate::sys::report::error_text;
        let d = tmpdir("errors");
        let c = cfg(BASE, &d);
        let e = resolve_config(
            &c,
            &Overrides {
                context: Some("nope".into()),
                ..Default::default()
            },
            &env(),
        )
        .err();
        assert_eq!(
            e.map(|e| error_text(&e)).as_deref(),
            Some("Error in configuration: context was not found for specified context: nope")
        );
        let both = cfg("clusters:\n- name: c\n  cluster: {server: https://k, certificate-authority: /x/ca.crt, certificate-authority-data: aGk=}\nusers:\n- name: u\n  user: {token: t, username: a, password: b}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n", &d);
        let msg = resolve_config(&both, &Overrides::default(), &env())
            .err()
            .map(|e| error_text(&e))
            .unwrap_or_default();
        assert!(msg.starts_with("Error in configuration: \n* "), "{msg}");
        assert!(msg.contains("more than one authentication method found for u; found [token basicAuth], only one is allowed"), "{msg}");
        assert!(
            msg.contains(
                "certificate-authority-data and certificate-authority are both specified for c."
            ),
            "{msg}"
        );
        assert!(msg.contains("unable to read certificate-authority /x/ca.crt for c due to open /x/ca.crt: no such file or directory"), "{msg}");
        let v1 = cfg("users:\n- name: u\n  user:\n    exec: {command: x, apiVersion: client.authentication.k8s.io/v1}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://k}\ncurrent-context: x\n", &d);
        let msg = resolve_config(&v1, &Overrides::default(), &env())
            .err()
            .map(|e| error_text(&e))
            .unwrap_or_default();
        assert_eq!(
            msg,
            "error: interactiveMode must be specified for u to use exec authentication plugin"
        );
        let e = resolve_config(
            &c,
            &Overrides {
                user: Some("ghost".into()),
                ..Default::default()
            },
            &env(),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("auth info \"ghost\" does not exist"));
        // kubectl 1.33: ConfirmUsable validates an empty cluster for a missing --cluster.
        let e = resolve_config(
            &c,
            &Overrides {
                cluster: Some("ghost".into()),
                server: Some("https://elsewhere".into()),
                ..Default::default()
            },
            &env(),
        )
        .err()
        .map(|e| error_text(&e));
        assert_eq!(
            e.as_deref(),
            Some("error: no server found for cluster \"ghost\"")
        );
    }

    #[test]
    fn relative_paths_follow_their_file() {
        let d = tmpdir("paths");
        let _ = std::fs::create_dir_all(d.join("pki"));
        let _ = std::fs::write(d.join("pki/ca.crt"), "CA");
        let _ = std::fs::write(d.join("tok"), "file-token\n");
        let text = "clusters:\n- name: c\n  cluster: {server: https://k, certificate-authority: pki/ca.crt}\nusers:\n- name: u\n  user:\n    tokenFile: tok\n    exec: {command: ./bin/login, apiVersion: client.authentication.k8s.io/v1beta1}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
        let cc = resolve_config(&cfg(text, &d), &Overrides::default(), &env());
        let cc = match cc {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cc.ca_pem.as_deref(), Some(&b"CA"[..]));
        assert_eq!(
            cc.token.as_ref().map(|t| t.expose().as_str()),
            Some("file-token")
        );
        assert_eq!(cc.token_file, Some(d.join("tok")));
        assert_eq!(
            cc.exec.map(|x| x.command),
            Some(d.join("bin/login").to_string_lossy().into_owned())
        );
    }

    #[test]
    fn in_cluster_fallback() {
        let d = tmpdir("sa");
        let _ = std::fs::write(d.join("token"), "sa-token\n");
        let _ = std::fs::write(d.join("namespace"), "pod-ns\n");
        let e = Environment {
            in_cluster: InCluster {
                dir: d.clone(),
                host: Some("10.0.0.1".into()),
                port: Some("443".into()),
                pod_namespace: None,
            },
            ..Default::default()
        };
        let cc = resolve_config(&Config::default(), &Overrides::default(), &e)
            .ok()
            .unwrap_or_default();
        assert!(cc.in_cluster);
        assert_eq!(cc.server, "https://10.0.0.1:443");
        assert_eq!(
            cc.token.as_ref().map(|t| t.expose().as_str()),
            Some("sa-token")
        );
        assert_eq!(cc.namespace, "pod-ns");
        // Without the service account: the built-in default server.
        let cc = resolve_config(&Config::default(), &Overrides::default(), &env())
            .ok()
            .unwrap_or_default();
        assert_eq!(
            (cc.server.as_str(), cc.in_cluster, cc.namespace.as_str()),
            ("http://localhost:8080", false, "default")
        );
    }

    #[test]
    fn server_path_loses_query() {
        assert_eq!(clean_server("https://h/p?x=1#f"), "https://h/p");
        assert_eq!(clean_server("https://h?x=1"), "https://h?x=1");
    }
}
