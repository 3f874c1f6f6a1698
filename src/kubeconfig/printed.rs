//! The kubeconfig as `kubectl config view` prints it: clientcmdapi's field names and order,
//! credentials and certificate data redacted unless `--raw`.

use serde_json::{json, Map, Value};

use super::model::{AuthInfo, Cluster, Config, Context, ExecConfig};
use crate::text::{b64, go};

/// kubectl's placeholders (clientcmdapi.ShortenConfig).
const REDACTED: &str = "REDACTED";
const DATA_OMITTED: &str = "DATA+OMITTED";

/// Extension payloads went through Go maps, so their keys come out sorted.
fn extensions_json(ext: &std::collections::BTreeMap<String, Value>) -> Value {
    Value::Array(
        ext.iter()
            .map(|(k, v)| json!({"name": k, "extension": go::sorted(v)}))
            .collect(),
    )
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: &str) {
    if !v.is_empty() {
        m.insert(k.into(), Value::String(v.into()));
    }
}

fn put_data(m: &mut Map<String, Value>, k: &str, v: &[u8], redact: bool) {
    if !v.is_empty() {
        let s = if redact {
            DATA_OMITTED.to_string()
        } else {
            b64::encode(v)
        };
        m.insert(k.into(), Value::String(s));
    }
}

fn cluster_json(c: &Cluster, redact: bool) -> Value {
    let mut m = Map::new();
    m.insert("server".into(), Value::String(c.server.clone()));
    put_str(&mut m, "tls-server-name", &c.tls_server_name);
    if c.insecure_skip_tls_verify {
        m.insert("insecure-skip-tls-verify".into(), Value::Bool(true));
    }
    put_str(&mut m, "certificate-authority", &c.certificate_authority);
    put_data(
        &mut m,
        "certificate-authority-data",
        &c.certificate_authority_data,
        redact,
    );
    put_str(&mut m, "proxy-url", &c.proxy_url);
    if c.disable_compression {
        m.insert("disable-compression".into(), Value::Bool(true));
    }
    if !c.extensions.is_empty() {
        m.insert("extensions".into(), extensions_json(&c.extensions));
    }
    Value::Object(m)
}

fn exec_json(x: &ExecConfig) -> Value {
    let mut m = Map::new();
    m.insert("command".into(), Value::String(x.command.clone()));
    m.insert(
        "args".into(),
        x.args.as_ref().map_or(Value::Null, |a| json!(a)),
    );
    m.insert(
        "env".into(),
        x.env.as_ref().map_or(Value::Null, |e| {
            Value::Array(
                e.iter()
                    .map(|v| json!({"name": v.name, "value": v.value.expose()}))
                    .collect(),
            )
        }),
    );
    put_str(&mut m, "apiVersion", &x.api_version);
    put_str(&mut m, "installHint", &x.install_hint);
    m.insert(
        "provideClusterInfo".into(),
        Value::Bool(x.provide_cluster_info),
    );
    put_str(&mut m, "interactiveMode", &x.interactive_mode);
    Value::Object(m)
}

fn user_json(u: &AuthInfo, redact: bool) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "client-certificate", &u.client_certificate);
    put_data(
        &mut m,
        "client-certificate-data",
        &u.client_certificate_data,
        redact,
    );
    put_str(&mut m, "client-key", &u.client_key);
    put_data(
        &mut m,
        "client-key-data",
        u.client_key_data.expose(),
        redact,
    );
    if !u.token.expose().is_empty() {
        put_str(
            &mut m,
            "token",
            if redact { REDACTED } else { u.token.expose() },
        );
    }
    put_str(&mut m, "tokenFile", &u.token_file);
    put_str(&mut m, "as", &u.impersonate);
    put_str(&mut m, "as-uid", &u.impersonate_uid);
    if !u.impersonate_groups.is_empty() {
        m.insert("as-groups".into(), json!(u.impersonate_groups));
    }
    if !u.impersonate_user_extra.is_empty() {
        m.insert("as-user-extra".into(), json!(u.impersonate_user_extra));
    }
    put_str(&mut m, "username", &u.username);
    if !u.password.expose().is_empty() {
        put_str(
            &mut m,
            "password",
            if redact {
                REDACTED
            } else {
                u.password.expose()
            },
        );
    }
    if let Some(ap) = &u.auth_provider {
        // kubectl prints these as they are; kdebug redacts the tokens and secrets of an
        // auth-provider too (id-token, refresh-token, client-secret, ...) unless --raw.
        let secret_key = |k: &str| {
            let k = k.to_ascii_lowercase();
            ["token", "secret", "password"]
                .iter()
                .any(|w| k.contains(w))
        };
        let config = ap.config.as_ref().map_or(Value::Null, |c| {
            Value::Object(
                c.iter()
                    .map(|(k, v)| {
                        let shown = if redact && secret_key(k) {
                            REDACTED.to_string()
                        } else {
                            v.expose().clone()
                        };
                        (k.clone(), Value::String(shown))
                    })
                    .collect(),
            )
        });
        m.insert(
            "auth-provider".into(),
            json!({"name": ap.name, "config": config}),
        );
    }
    if let Some(x) = &u.exec {
        m.insert("exec".into(), exec_json(x));
    }
    if !u.extensions.is_empty() {
        m.insert("extensions".into(), extensions_json(&u.extensions));
    }
    Value::Object(m)
}

fn context_json(c: &Context) -> Value {
    let mut m = Map::new();
    m.insert("cluster".into(), Value::String(c.cluster.clone()));
    m.insert("user".into(), Value::String(c.auth_info.clone()));
    put_str(&mut m, "namespace", &c.namespace);
    if !c.extensions.is_empty() {
        m.insert("extensions".into(), extensions_json(&c.extensions));
    }
    Value::Object(m)
}

fn named_list<T>(
    items: &std::collections::BTreeMap<String, T>,
    field: &str,
    f: impl Fn(&T) -> Value,
) -> Value {
    if items.is_empty() {
        return Value::Null;
    }
    Value::Array(
        items
            .iter()
            .map(|(k, v)| json!({"name": k, field: f(v)}))
            .collect(),
    )
}

/// The v1 Config as kubectl prints it, fields in Go's struct order. `redact` applies
/// ShortenConfig (tokens and passwords REDACTED, `*-data` DATA+OMITTED).
pub fn config_to_json(config: &Config, redact: bool) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("Config"));
    m.insert("apiVersion".into(), json!("v1"));
    let mut prefs = Map::new();
    if config.preferences.colors {
        prefs.insert("colors".into(), Value::Bool(true));
    }
    if !config.preferences.extensions.is_empty() {
        prefs.insert(
            "extensions".into(),
            extensions_json(&config.preferences.extensions),
        );
    }
    m.insert("preferences".into(), Value::Object(prefs));
    m.insert(
        "clusters".into(),
        named_list(&config.clusters, "cluster", |c| cluster_json(c, redact)),
    );
    m.insert(
        "users".into(),
        named_list(&config.auth_infos, "user", |u| user_json(u, redact)),
    );
    m.insert(
        "contexts".into(),
        named_list(&config.contexts, "context", context_json),
    );
    m.insert(
        "current-context".into(),
        Value::String(config.current_context.clone()),
    );
    if !config.extensions.is_empty() {
        m.insert("extensions".into(), extensions_json(&config.extensions));
    }
    Value::Object(m)
}
