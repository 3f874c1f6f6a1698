//! The kubeconfig file model (client-go's `clientcmd/api`), decoded from the YAML tree with the
//! same strictness as kubectl: YAML -> JSON -> typed structs with encoding/json rules
//! (case-sensitive keys, unknown fields ignored, null means "zero value", any other type
//! mismatch is an error), then the v1 lists turned into maps keyed by name (duplicates are an
//! error).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::sys::secret::Secret;
use crate::text::b64;
use crate::text::yaml::{self, Data, Entry, Pos, Value};

/// The exec apiVersions that get `interactiveMode: IfAvailable` by default (client-go
/// SetDefaults_ExecConfig); `v1` must say it explicitly.
const DEFAULTED_EXEC_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1alpha1",
    "client.authentication.k8s.io/v1beta1",
];

/// A whole kubeconfig (one file, or the merge of several).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub preferences: Preferences,
    /// Keyed by name; a BTreeMap because kubectl prints them sorted by name.
    pub clusters: BTreeMap<String, Cluster>,
    pub auth_infos: BTreeMap<String, AuthInfo>,
    pub contexts: BTreeMap<String, Context>,
    pub current_context: String,
    pub extensions: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Preferences {
    pub colors: bool,
    pub extensions: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cluster {
    /// The file this entry came from (client-go's LocationOfOrigin), as it was named.
    pub location_of_origin: PathBuf,
    pub server: String,
    pub tls_server_name: String,
    pub insecure_skip_tls_verify: bool,
    pub certificate_authority: String,
    pub certificate_authority_data: Vec<u8>,
    pub proxy_url: String,
    pub disable_compression: bool,
    pub extensions: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuthInfo {
    pub location_of_origin: PathBuf,
    pub client_certificate: String,
    pub client_certificate_data: Vec<u8>,
    pub client_key: String,
    pub client_key_data: Secret<Vec<u8>>,
    pub token: Secret<String>,
    pub token_file: String,
    pub impersonate: String,
    pub impersonate_uid: String,
    pub impersonate_groups: Vec<String>,
    /// `as-user-extra`; a `None` value is a JSON null in the file.
    pub impersonate_user_extra: BTreeMap<String, Option<Vec<String>>>,
    pub username: String,
    pub password: Secret<String>,
    pub auth_provider: Option<AuthProviderConfig>,
    pub exec: Option<ExecConfig>,
    pub extensions: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    pub location_of_origin: PathBuf,
    pub cluster: String,
    pub auth_info: String,
    pub namespace: String,
    pub extensions: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuthProviderConfig {
    pub name: String,
    /// `None` when the file has no `config` (kubectl prints `"config": null`).
    pub config: Option<BTreeMap<String, Secret<String>>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecConfig {
    pub command: String,
    /// `None` for absent/null (printed as null), `Some(vec![])` for `[]`.
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<ExecEnvVar>>,
    pub api_version: String,
    pub install_hint: String,
    pub provide_cluster_info: bool,
    /// `Never`, `IfAvailable`, `Always`, or empty (unset).
    pub interactive_mode: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecEnvVar {
    pub name: String,
    pub value: Secret<String>,
}

/// A decoding error: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    pub pos: Pos,
    pub msg: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line == 0 {
            f.write_str(&self.msg)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.pos.line, self.pos.col, self.msg
            )
        }
    }
}

type MResult<T> = Result<T, ModelError>;

fn type_err<T>(v: &Value, at: Pos, path: &str, want: &str) -> MResult<T> {
    Err(ModelError {
        pos: at,
        msg: format!("cannot use {} as {want} for field {path}", v.kind_name()),
    })
}

/// The zero position stands for "no line"; prefer the key's line, else the value's.
fn at_of(e: &Entry) -> Pos {
    if e.key_pos.line > 0 {
        e.key_pos
    } else {
        e.value.pos
    }
}

fn string(v: &Value, at: Pos, path: &str) -> MResult<String> {
    match &v.data {
        Data::Null => Ok(String::new()),
        Data::String(s) => Ok(s.clone()),
        _ => type_err(v, at, path, "a string"),
    }
}

fn boolean(v: &Value, at: Pos, path: &str) -> MResult<bool> {
    match &v.data {
        Data::Null => Ok(false),
        Data::Bool(b) => Ok(*b),
        _ => type_err(v, at, path, "a boolean"),
    }
}

/// A `[]byte` field: base64 text with Go's rules.
fn bytes(v: &Value, at: Pos, path: &str) -> MResult<Vec<u8>> {
    match &v.data {
        Data::Null => Ok(Vec::new()),
        Data::String(s) => b64::decode(s).map_err(|e| ModelError {
            pos: at,
            msg: format!("{path}: {e}"),
        }),
        _ => type_err(v, at, path, "base64 text"),
    }
}

fn string_list(v: &Value, at: Pos, path: &str) -> MResult<Option<Vec<String>>> {
    match &v.data {
        Data::Null => Ok(None),
        Data::Array(items) => items
            .iter()
            .map(|i| string(i, i.pos, path))
            .collect::<MResult<Vec<_>>>()
            .map(Some),
        _ => type_err(v, at, path, "a list of strings"),
    }
}

fn object<'v>(v: &'v Value, at: Pos, path: &str, what: &str) -> MResult<Option<&'v [Entry]>> {
    match &v.data {
        Data::Null => Ok(None),
        Data::Object(entries) => Ok(Some(entries)),
        _ => type_err(v, at, path, what),
    }
}

fn list<'v>(v: &'v Value, at: Pos, path: &str) -> MResult<&'v [Value]> {
    match &v.data {
        Data::Null => Ok(&[]),
        Data::Array(items) => Ok(items),
        _ => type_err(v, at, path, "a list"),
    }
}

/// Decodes one file's content. `None` (an empty document) is an empty config.
pub fn decode(root: Option<&Value>, origin: &std::path::Path) -> MResult<Config> {
    let mut cfg = Config::default();
    let root = match root {
        None => return Ok(cfg),
        Some(v) if v.is_null() => return Ok(cfg),
        Some(v) => v,
    };
    let entries = match &root.data {
        Data::Object(e) => e,
        _ => {
            return Err(ModelError {
                pos: root.pos,
                msg: format!(
                    "couldn't get version/kind: the document is {} {}, not a mapping",
                    article(root.kind_name()),
                    root.kind_name()
                ),
            })
        }
    };
    // apiVersion/kind: empty means the defaults (v1, Config); anything else is unknown.
    let mut version = String::new();
    let mut kind = String::new();
    for e in entries {
        match e.key.as_str() {
            "apiVersion" => version = string(&e.value, at_of(e), "apiVersion")?,
            "kind" => kind = string(&e.value, at_of(e), "kind")?,
            _ => {}
        }
    }
    let version_pos = root.get("apiVersion").map(at_of).unwrap_or(root.pos);
    let kind_pos = root.get("kind").map(at_of).unwrap_or(root.pos);
    if !version.is_empty() && version != "v1" {
        return Err(ModelError {
            pos: version_pos,
            msg: format!(
                "no kind \"Config\" is registered for version {version:?} (only v1 is known)"
            ),
        });
    }
    if !kind.is_empty() && kind != "Config" {
        return Err(ModelError {
            pos: kind_pos,
            msg: format!(
                "no kind {kind:?} is registered for version \"v1\" (expected kind Config)"
            ),
        });
    }
    for e in entries {
        let at = at_of(e);
        match e.key.as_str() {
            "preferences" => {
                if let Some(p) = object(&e.value, at, "preferences", "a mapping")? {
                    for pe in p {
                        match pe.key.as_str() {
                            "colors" => {
                                cfg.preferences.colors =
                                    boolean(&pe.value, at_of(pe), "preferences.colors")?
                            }
                            "extensions" => {
                                cfg.preferences.extensions =
                                    extensions(&pe.value, at_of(pe), "preferences.extensions")?
                            }
                            _ => {}
                        }
                    }
                }
            }
            "clusters" => {
                for (name, item, pos) in named(&e.value, at, "clusters", "cluster")? {
                    let c = cluster(item, pos, origin)?;
                    insert_unique(&mut cfg.clusters, name, c, pos, "clusters")?;
                }
            }
            "users" => {
                for (name, item, pos) in named(&e.value, at, "users", "user")? {
                    let u = auth_info(item, pos, origin)?;
                    insert_unique(&mut cfg.auth_infos, name, u, pos, "users")?;
                }
            }
            "contexts" => {
                for (name, item, pos) in named(&e.value, at, "contexts", "context")? {
                    let c = context(item, pos, origin)?;
                    insert_unique(&mut cfg.contexts, name, c, pos, "contexts")?;
                }
            }
            "current-context" => cfg.current_context = string(&e.value, at, "current-context")?,
            "extensions" => cfg.extensions = extensions(&e.value, at, "extensions")?,
            _ => {}
        }
    }
    Ok(cfg)
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'o']) {
        "an"
    } else {
        "a"
    }
}

fn insert_unique<T>(
    map: &mut BTreeMap<String, T>,
    name: String,
    item: T,
    pos: Pos,
    list: &str,
) -> MResult<()> {
    if map.contains_key(&name) {
        return Err(ModelError {
            pos,
            msg: format!("duplicate name {name:?} in {list}"),
        });
    }
    map.insert(name, item);
    Ok(())
}

/// One item of a v1 named list: its name, its body with the body key's position, its position.
type NamedItem<'v> = (String, Option<(&'v Value, Pos)>, Pos);

/// A v1 named list (`- name: x` + `<field>: {...}`): (name, the field's value, item position).
fn named<'v>(v: &'v Value, at: Pos, path: &str, field: &str) -> MResult<Vec<NamedItem<'v>>> {
    let mut out = Vec::new();
    for item in list(v, at, path)? {
        let entries = object(item, item.pos, path, "a mapping with name and value")?.unwrap_or(&[]);
        let mut name = String::new();
        let mut body = None;
        for e in entries {
            if e.key == "name" {
                name = string(&e.value, at_of(e), &format!("{path}.name"))?;
            } else if e.key == field {
                body = Some((&e.value, at_of(e)));
            }
        }
        out.push((name, body, item.pos));
    }
    Ok(out)
}

fn extensions(v: &Value, at: Pos, path: &str) -> MResult<BTreeMap<String, serde_json::Value>> {
    let mut map = BTreeMap::new();
    for (name, body, pos) in named(v, at, path, "extension")? {
        let payload = body
            .map(|(b, _)| b.to_json())
            .unwrap_or(serde_json::Value::Null);
        insert_unique(&mut map, name, payload, pos, path)?;
    }
    Ok(map)
}

fn cluster(body: Option<(&Value, Pos)>, _item: Pos, origin: &std::path::Path) -> MResult<Cluster> {
    let mut c = Cluster {
        location_of_origin: origin.to_path_buf(),
        ..Default::default()
    };
    let Some((v, at)) = body else { return Ok(c) };
    let Some(entries) = object(v, at, "clusters.cluster", "a mapping")? else {
        return Ok(c);
    };
    for e in entries {
        let (at, val) = (at_of(e), &e.value);
        let path = format!("clusters.cluster.{}", e.key);
        match e.key.as_str() {
            "server" => c.server = string(val, at, &path)?,
            "tls-server-name" => c.tls_server_name = string(val, at, &path)?,
            "insecure-skip-tls-verify" => c.insecure_skip_tls_verify = boolean(val, at, &path)?,
            "certificate-authority" => c.certificate_authority = string(val, at, &path)?,
            "certificate-authority-data" => c.certificate_authority_data = bytes(val, at, &path)?,
            "proxy-url" => c.proxy_url = string(val, at, &path)?,
            "disable-compression" => c.disable_compression = boolean(val, at, &path)?,
            "extensions" => c.extensions = extensions(val, at, &path)?,
            _ => {}
        }
    }
    Ok(c)
}

fn context(body: Option<(&Value, Pos)>, _item: Pos, origin: &std::path::Path) -> MResult<Context> {
    let mut c = Context {
        location_of_origin: origin.to_path_buf(),
        ..Default::default()
    };
    let Some((v, at)) = body else { return Ok(c) };
    let Some(entries) = object(v, at, "contexts.context", "a mapping")? else {
        return Ok(c);
    };
    for e in entries {
        let (at, val) = (at_of(e), &e.value);
        let path = format!("contexts.context.{}", e.key);
        match e.key.as_str() {
            "cluster" => c.cluster = string(val, at, &path)?,
            "user" => c.auth_info = string(val, at, &path)?,
            "namespace" => c.namespace = string(val, at, &path)?,
            "extensions" => c.extensions = extensions(val, at, &path)?,
            _ => {}
        }
    }
    Ok(c)
}

fn auth_info(
    body: Option<(&Value, Pos)>,
    _item: Pos,
    origin: &std::path::Path,
) -> MResult<AuthInfo> {
    let mut u = AuthInfo {
        location_of_origin: origin.to_path_buf(),
        ..Default::default()
    };
    let Some((v, at)) = body else { return Ok(u) };
    let Some(entries) = object(v, at, "users.user", "a mapping")? else {
        return Ok(u);
    };
    for e in entries {
        let (at, val) = (at_of(e), &e.value);
        let path = format!("users.user.{}", e.key);
        match e.key.as_str() {
            "client-certificate" => u.client_certificate = string(val, at, &path)?,
            "client-certificate-data" => u.client_certificate_data = bytes(val, at, &path)?,
            "client-key" => u.client_key = string(val, at, &path)?,
            "client-key-data" => u.client_key_data = Secret::new(bytes(val, at, &path)?),
            "token" => u.token = Secret::new(string(val, at, &path)?),
            "tokenFile" => u.token_file = string(val, at, &path)?,
            "as" => u.impersonate = string(val, at, &path)?,
            "as-uid" => u.impersonate_uid = string(val, at, &path)?,
            "as-groups" => u.impersonate_groups = string_list(val, at, &path)?.unwrap_or_default(),
            "as-user-extra" => {
                if let Some(m) = object(val, at, &path, "a mapping of lists")? {
                    for x in m {
                        let l = string_list(&x.value, at_of(x), &format!("{path}.{}", x.key))?;
                        u.impersonate_user_extra.insert(x.key.clone(), l);
                    }
                }
            }
            "username" => u.username = string(val, at, &path)?,
            "password" => u.password = Secret::new(string(val, at, &path)?),
            "auth-provider" => {
                if let Some(m) = object(val, at, &path, "a mapping")? {
                    let mut ap = AuthProviderConfig::default();
                    for x in m {
                        match x.key.as_str() {
                            "name" => {
                                ap.name = string(&x.value, at_of(x), &format!("{path}.name"))?
                            }
                            "config" => {
                                if let Some(cm) = object(
                                    &x.value,
                                    at_of(x),
                                    &format!("{path}.config"),
                                    "a mapping of strings",
                                )? {
                                    let mut out = BTreeMap::new();
                                    for ce in cm {
                                        let s = string(
                                            &ce.value,
                                            at_of(ce),
                                            &format!("{path}.config.{}", ce.key),
                                        )?;
                                        out.insert(ce.key.clone(), Secret::new(s));
                                    }
                                    ap.config = Some(out);
                                }
                            }
                            _ => {}
                        }
                    }
                    u.auth_provider = Some(ap);
                }
            }
            "exec" => {
                if let Some(m) = object(val, at, &path, "a mapping")? {
                    u.exec = Some(exec(m, &path)?);
                }
            }
            "extensions" => u.extensions = extensions(val, at, &path)?,
            _ => {}
        }
    }
    Ok(u)
}

fn exec(m: &[Entry], path: &str) -> MResult<ExecConfig> {
    let mut x = ExecConfig::default();
    for e in m {
        let (at, val) = (at_of(e), &e.value);
        let p = format!("{path}.{}", e.key);
        match e.key.as_str() {
            "command" => x.command = string(val, at, &p)?,
            "args" => x.args = string_list(val, at, &p)?,
            "env" => {
                x.env = match &val.data {
                    Data::Null => None,
                    Data::Array(items) => {
                        let mut env = Vec::new();
                        for it in items {
                            let mut var = ExecEnvVar::default();
                            for f in object(it, it.pos, &p, "a mapping with name and value")?
                                .unwrap_or(&[])
                            {
                                match f.key.as_str() {
                                    "name" => {
                                        var.name = string(&f.value, at_of(f), &format!("{p}.name"))?
                                    }
                                    "value" => {
                                        var.value = Secret::new(string(
                                            &f.value,
                                            at_of(f),
                                            &format!("{p}.value"),
                                        )?)
                                    }
                                    _ => {}
                                }
                            }
                            env.push(var);
                        }
                        Some(env)
                    }
                    _ => return type_err(val, at, &p, "a list of {name, value} entries"),
                }
            }
            "apiVersion" => x.api_version = string(val, at, &p)?,
            "installHint" => x.install_hint = string(val, at, &p)?,
            "provideClusterInfo" => x.provide_cluster_info = boolean(val, at, &p)?,
            "interactiveMode" => x.interactive_mode = string(val, at, &p)?,
            _ => {}
        }
    }
    if x.interactive_mode.is_empty() && DEFAULTED_EXEC_VERSIONS.contains(&x.api_version.as_str()) {
        x.interactive_mode = "IfAvailable".into();
    }
    Ok(x)
}

/// Parses and decodes one file's bytes. Errors carry a line when there is one.
pub fn load_bytes(src: &[u8], file: &str, origin: &std::path::Path) -> Result<Config, ModelError> {
    // client-go: an empty file is an empty config, whatever it would parse to.
    if src.is_empty() {
        return Ok(Config::default());
    }
    let root = yaml::parse(src, file).map_err(|e| ModelError {
        pos: e.pos,
        msg: e.msg,
    })?;
    decode(root.as_ref(), origin)
}

#[cfg(test)]
mod tests {
    /// Deterministic mutation fuzzing over every corpus file (plus built-in seeds): the reader
    /// must return Ok or Err, never panic or hang. `KDEBUG_FUZZ_ITERS` raises the count.
    #[test]
    fn mutated_inputs_never_panic() {
        let mut seeds: Vec<Vec<u8>> = vec![
            b"a: 1\nb: [x, {y: z}]\nc: |\n  t\n".to_vec(),
            b"- &a {k: v}\n- *a\n- <<: *a\n".to_vec(),
            b"%YAML 1.1\n---\n\"q\\x41\": 'it''s'\n...\n".to_vec(),
        ];
        let root = std::env::var_os("KUBECONFIG_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/work/shared/kubeconfig-corpus/cases".into());
        collect_files(&root, &mut seeds, 0);
        let iters: usize = std::env::var("KDEBUG_FUZZ_ITERS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10_000);
        let tokens: &[&[u8]] = &[
            b"[",
            b"]",
            b"{",
            b"}",
            b",",
            b":",
            b": ",
            b"- ",
            b"-",
            b"?",
            b"&a ",
            b"*a",
            b"<<: ",
            b"\t",
            b"\"",
            b"'",
            b"\\",
            b"\\u",
            b"|",
            b">",
            b"|2",
            b"#",
            b" #",
            b"!!",
            b"!!binary ",
            b"!x ",
            b"%YAML 1.1\n",
            b"---\n",
            b"...\n",
            b"\n",
            b"\r\n",
            b"    ",
            b"\xEF\xBB\xBF",
            b"\xFF",
            b"\x00",
            b".inf",
            b"~",
            b"y",
            b"0x",
        ];
        let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for n in 0..iters {
            let mut input = seeds[n % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                let len = input.len().max(1);
                let at = (next() as usize) % len;
                match next() % 6 {
                    0 if !input.is_empty() => {
                        let k = at.min(input.len() - 1);
                        input[k] ^= 1 << (next() % 8);
                    }
                    1 => input.truncate(at),
                    2 => {
                        let t = tokens[(next() as usize) % tokens.len()];
                        let at = at.min(input.len());
                        input.splice(at..at, t.iter().copied());
                    }
                    3 if !input.is_empty() => {
                        let end = (at + 1 + (next() as usize) % 16).min(input.len());
                        input.drain(at.min(end)..end);
                    }
                    4 => {
                        let end = (at + (next() as usize) % 64).min(input.len());
                        let chunk: Vec<u8> = input[at.min(end)..end].to_vec();
                        input.splice(at.min(input.len())..at.min(input.len()), chunk);
                    }
                    _ => {
                        let c = (next() % 256) as u8;
                        let at = at.min(input.len());
                        input.insert(at, c);
                    }
                }
            }
            let r = std::panic::catch_unwind(|| {
                // parse_here: the same reader without a thread per input (mutations stay
                // far below MAX_DEPTH, so the test thread's stack is enough).
                if let Ok(v) = crate::text::yaml::parse_here(&input, "fuzz") {
                    let _ = v.as_ref().map(Value::to_json);
                    let _ =
                        crate::kubeconfig::model::decode(v.as_ref(), std::path::Path::new("fuzz"));
                }
            });
            assert!(
                r.is_ok(),
                "panic on input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }

    fn collect_files(dir: &std::path::Path, out: &mut Vec<Vec<u8>>, depth: usize) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() && depth < 4 {
                collect_files(&p, out, depth + 1);
            } else if p.is_file() {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !name.starts_with("expected") && name != "cmd" && name != "README" {
                    if let Ok(b) = std::fs::read(&p) {
                        out.push(b);
                    }
                }
            }
        }
    }

    use super::*;
    use std::path::Path;

    fn load(s: &str) -> Result<Config, ModelError> {
        load_bytes(s.as_bytes(), "t", Path::new("t"))
    }

    #[test]
    fn decodes_a_typical_file() {
        let c = load(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://x, certificate-authority-data: aGk=}\nusers:\n- name: u\n  user:\n    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
        )
        .unwrap_or_default();
        assert_eq!(c.clusters["c"].server, "https://x");
        assert_eq!(c.clusters["c"].certificate_authority_data, b"hi");
        assert_eq!(
            c.auth_infos["u"]
                .exec
                .as_ref()
                .map(|e| e.interactive_mode.as_str()),
            Some("IfAvailable")
        );
        assert_eq!(c.current_context, "x");
    }

    #[test]
    fn strict_types_name_the_line() {
        let e = load("contexts:\n- name: no\n").err();
        assert_eq!(e.map(|e| e.pos.line), Some(2));
        let e = load("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: \"true\"\n")
            .err();
        assert_eq!(e.map(|e| e.pos.line), Some(4));
        let e = load("users:\n- name: a\n- name: a\n").err();
        assert!(e.is_some_and(|e| e.msg.contains("duplicate name \"a\"")));
        assert!(load("apiVersion: v2\n").is_err());
        assert!(load("kind: Pod\n").is_err());
        assert!(load("- a\n").is_err());
    }

    #[test]
    fn empty_and_unknown() {
        assert_eq!(load("").ok(), Some(Config::default()));
        assert_eq!(load("null").ok(), Some(Config::default()));
        assert_eq!(load("{}").ok(), Some(Config::default()));
        let c = load("Clusters: [{name: a}]\nfoo: bar\n").unwrap_or_default();
        assert!(c.clusters.is_empty());
    }
}
