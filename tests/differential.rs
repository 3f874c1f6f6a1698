//! Differential test: every scenario runs through the real kubectl 1.33 and through kdebug, each
//! against its own fresh fakecluster, and what they did is compared: exit code, stdout and
//! stderr, the reads that are not discovery, the mutating requests (method, path and query,
//! content type, Impersonate-* headers, body; the ephemeral-container patch also literally and
//! by its effect on the pod). kdebug must also send no discovery request.
//!
//! Deliberate differences are handled in one place each, with the reason next to the code:
//! * the default profile (kdebug: `general`; kubectl 1.33: `legacy`): bodies are compared with
//!   `--profile` passed explicitly; one scenario (`default-profile`) shows the difference;
//! * kdebug's marks (label `app.kubernetes.io/managed-by: kdebug`, annotations
//!   `kdebug.io/target` / `kdebug.io/created` on copy and node pods, env `KDEBUG=1` appended to
//!   ephemeral containers) are asserted present, then stripped;
//! * `--env` order (a Go map in kubectl, so random): env lists are compared as sets;
//! * kubectl's name in messages: `kubectl` is read as `kdebug`;
//! * encoding: kubectl sends pod creates and deletes as protobuf, kdebug as JSON; the fake
//!   decodes both and the bodies are compared as JSON values;
//! * workloads (`deployment/web`): kubectl refuses them, kdebug debugs their pod
//!   (`workload-target`);
//! * generated names (`debugger-xxxxx`, `node-debugger-node-1-xxxxx`, and the fake's random
//!   `kube-api-access-xxxxx`) are numbered in order of appearance.
//!
//! Not compared: headers other than Content-Type and Impersonate-* (User-Agent, Accept and
//! kubectl's Kubectl-Command/Kubectl-Session are kubectl's own).
//!
//! The scenarios are data, in `tests/differential-scenarios.txt`; this file reads and runs them.
//! Set `KDEBUG_DIFF_ONLY=name,name` to run only some scenarios. The whole test is skipped (with
//! a message) when kubectl 1.33 is not installed.

mod util;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fakecluster::{FakeCluster, Options};
use serde_json::{json, Value};

use util::{kdebug, wait_with_timeout, Dir};

const KUBECTL: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

const LEGACY_WARNING: &str = "--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example \"--profile=general\".";

// ------------------------------------------------------------------------------------------
// Scenario table

type Check = fn(&Side, &Side);

struct Scenario {
    name: &'static str,
    args: Vec<String>,
    /// kubectl's arguments when they must differ from kdebug's (deliberate; see the scenario).
    kubectl_args: Option<Vec<String>>,
    /// Files written into the working directory of both runs (relative names, so that the
    /// messages that quote them are the same).
    files: Vec<(String, String)>,
    /// The exit code both must have: guards against two runs failing the same wrong way.
    code: i32,
    /// Extra assertions on the raw (un-normalised) runs: kubectl first, then kdebug.
    check: Option<Check>,
    /// Compare the non-discovery reads too (off only where the scenario says why).
    compare_reads: bool,
    /// Piped to both (`-f -`); stdin is closed otherwise.
    stdin: Option<String>,
}

fn sc(name: &'static str, code: i32, args: &[&str]) -> Scenario {
    Scenario {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        kubectl_args: None,
        files: Vec::new(),
        code,
        check: None,
        compare_reads: true,
        stdin: None,
    }
}

impl Scenario {
    fn file(mut self, name: &str, contents: &str) -> Scenario {
        self.files.push((name.to_string(), contents.to_string()));
        self
    }
    fn kubectl_args(mut self, args: &[&str]) -> Scenario {
        self.kubectl_args = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }
    fn stdin(mut self, text: &str) -> Scenario {
        self.stdin = Some(text.to_string());
        self
    }
    fn reads_differ(mut self) -> Scenario {
        self.compare_reads = false;
        self
    }
    fn check(mut self, f: Check) -> Scenario {
        self.check = Some(f);
        self
    }
    /// `--env` given: env lists are compared as sets (kubectl's order is a Go map's).
    fn env_as_set(&self) -> bool {
        self.args.iter().any(|a| a.starts_with("--env"))
    }
}

const CUSTOM_JSON: &str = r#"{
  "env": [{"name": "CUSTOM_ENV", "value": "from-json"}],
  "workingDir": "/tmp",
  "securityContext": {"runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"]}}
}
"#;

const CUSTOM_YAML: &str = "# partial container spec applied on top of the chosen --profile
env:
- name: CUSTOM_ENV
  value: from-yaml
securityContext:
  runAsNonRoot: true
  capabilities:
    drop: [\"ALL\"]
stdin: true
";

const CUSTOM_FORBIDDEN: &str = r#"{"image": "evil:latest", "env": [{"name": "X", "value": "y"}]}"#;
const CUSTOM_INVALID: &str = "this: is: not: [valid\n";

// The file pods carry `securityContext: {}` as every pod read from a server does: without it
// kubectl 1.33 dereferences a nil pointer (debug.go displayWarning) and panics with exit 2.
const POD_YAML: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: default
  labels:
    app: web
spec:
  containers:
  - name: app
    image: nginx:1.25
  - name: sidecar
    image: busybox:1.36
  securityContext: {}
";

const POD_JSON: &str = r#"{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "lonely", "namespace": "default", "labels": {"app": "lonely"}},
 "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "infinity"]}], "securityContext": {}}}
"#;

const NODE_YAML: &str = "apiVersion: v1
kind: Node
metadata:
  name: node-1
";

const SERVICE_YAML: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  ports:
  - port: 80
";

const IMG: &str = "--image=busybox:1.36";

/// The scenarios: the data in `tests/differential-scenarios.txt` (its header says how it
/// reads), read into [`Scenario`]s.
fn scenarios() -> Vec<Scenario> {
    const TABLE: &str = include_str!("differential-scenarios.txt");
    let mut v: Vec<Scenario> = Vec::new();
    for (n, line) in TABLE.lines().enumerate() {
        let fail = |why: &str| -> ! { panic!("differential-scenarios.txt:{}: {why}", n + 1) };
        let body = line.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let (head, rest) = body.split_once(' ').unwrap_or((body, ""));
        let words = words(rest).unwrap_or_else(|e| fail(&e));
        let plain = || words.iter().map(|(_, w)| w.as_str()).collect::<Vec<_>>();
        if !line.starts_with(' ') {
            let Some(((_, code), args)) = words.split_first() else {
                fail("a scenario needs a name and an exit code")
            };
            let code = code
                .parse()
                .unwrap_or_else(|_| fail("the exit code is no number"));
            let args: Vec<&str> = args.iter().map(|(_, w)| w.as_str()).collect();
            v.push(sc(head, code, &args));
            continue;
        }
        let Some(s) = v.pop() else {
            fail("an indented line before any scenario")
        };
        let text = |(quoted, w): &(bool, String)| match w.strip_prefix('@') {
            Some(name) if !quoted => named_text(name).unwrap_or_else(|| fail("no such text")),
            _ => w.clone(),
        };
        v.push(match (head, words.as_slice()) {
            ("kubectl", _) => s.kubectl_args(&plain()),
            ("file", [(_, name), t]) => s.file(name, &text(t)),
            ("stdin", [t]) => s.stdin(&text(t)),
            ("reads-differ", []) => s.reads_differ(),
            ("check", [(_, f)]) => s.check(check_named(f).unwrap_or_else(|| fail("no such check"))),
            _ => fail("not a scenario line"),
        });
    }
    v
}

/// The words of a table line: as written, or a JSON string in double quotes (`true` for
/// those).
fn words(line: &str) -> Result<Vec<(bool, String)>, String> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if rest.starts_with('"') {
            let mut escaped = false;
            let end = rest[1..]
                .char_indices()
                .find(|&(_, c)| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })
                .map(|(i, _)| i + 2)
                .ok_or("an unterminated quoted word")?;
            let w: String = serde_json::from_str(&rest[..end]).map_err(|e| e.to_string())?;
            out.push((true, w));
            rest = &rest[end..];
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push((false, rest[..end].to_string()));
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    Ok(out)
}

/// The texts the table names with `@NAME`.
fn named_text(name: &str) -> Option<String> {
    let t = match name {
        "CUSTOM_JSON" => CUSTOM_JSON,
        "CUSTOM_YAML" => CUSTOM_YAML,
        "CUSTOM_FORBIDDEN" => CUSTOM_FORBIDDEN,
        "CUSTOM_INVALID" => CUSTOM_INVALID,
        "POD_YAML" => POD_YAML,
        "POD_JSON" => POD_JSON,
        "NODE_YAML" => NODE_YAML,
        "SERVICE_YAML" => SERVICE_YAML,
        _ => return None,
    };
    Some(t.to_string())
}

/// The checks the table names with `check`.
fn check_named(name: &str) -> Option<Check> {
    match name {
        "default_profile_differs" => Some(default_profile_differs),
        "kubectl_refuses_workloads" => Some(kubectl_refuses_workloads),
        _ => None,
    }
}

/// `default-profile`: kdebug without `--profile` must equal kubectl with `--profile=general`
/// (compared by the harness); and kubectl's own default must be `legacy`, i.e. exactly kubectl
/// with `--profile=legacy`, warning included. kdebug prints no deprecation warning.
fn default_profile_differs(_kubectl_general: &Side, kdebug: &Side) {
    assert!(
        !kdebug.stderr.contains("deprecated"),
        "kdebug printed a deprecation warning:\n{}",
        kdebug.stderr
    );
    let args = ["web-0", IMG, "-c", "dbg"];
    let default = run_side(Tool::Kubectl, &args.map(String::from), &[], None);
    let mut legacy_args: Vec<String> = args.map(String::from).to_vec();
    legacy_args.push("--profile=legacy".into());
    let legacy = run_side(Tool::Kubectl, &legacy_args, &[], None);
    assert_eq!(default.code, 0, "{}", default.dump());
    assert!(
        default.stderr.contains(LEGACY_WARNING),
        "kubectl 1.33's default is no longer legacy?{}",
        default.dump()
    );
    assert_eq!(default.stderr, legacy.stderr);
    assert_eq!(default.stdout, legacy.stdout);
    let bodies = |s: &Side| -> Vec<Value> { s.mutations.iter().map(|m| m.body.clone()).collect() };
    assert_eq!(
        bodies(&default),
        bodies(&legacy),
        "kubectl's default is not legacy"
    );
    // And the difference between the profiles is the SYS_PTRACE capability of `general`.
    let caps = &kdebug.mutations[0].body["spec"]["ephemeralContainers"][0]["securityContext"];
    assert_eq!(caps, &json!({"capabilities": {"add": ["SYS_PTRACE"]}}));
    assert!(default.mutations[0].body["spec"]["ephemeralContainers"][0]
        .get("securityContext")
        .is_none());
}

/// `workload-target`: kdebug on `deployment/web` sent what kubectl sends on its pod `web-0`
/// (compared by the harness); kubectl itself refuses the deployment.
fn kubectl_refuses_workloads(_kubectl_on_pod: &Side, kdebug: &Side) {
    assert!(
        kdebug
            .requests
            .iter()
            .any(|r| r.contains("/deployments/web")),
        "kdebug did not read the deployment:{}",
        kdebug.dump()
    );
    let args = ["deployment/web", IMG, "--profile=general", "-c", "dbg"].map(String::from);
    let refused = run_side(Tool::Kubectl, &args, &[], None);
    assert_eq!(refused.code, 1, "{}", refused.dump());
    assert_eq!(
        refused.stderr,
        "error: \"apps/v1, Kind=Deployment\" not supported by debug\n"
    );
    assert!(refused.mutations.is_empty());
}

// ------------------------------------------------------------------------------------------
// The world both runs start from: fakecluster's default (node-1; pods web-0 and lonely) plus a
// few pods recorded from a real v1.32 API server's shape.

fn extra_pods() -> Vec<Value> {
    let sa_mount = json!({"name": "kube-api-access-x7k2p", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"});
    let sa_volume = json!({"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}});
    let probe = |path: &str, failure: u32| json!({"httpGet": {"path": path, "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": failure});
    let common = |containers: Value| {
        json!({
            "containers": containers,
            "volumes": [sa_volume],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "nodeName": "node-1",
            "securityContext": {}, "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"
        })
    };
    let plain = |name: &str, image: &str| json!({"name": name, "image": image, "resources": {}, "volumeMounts": [sa_mount], "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"});

    let mut rich_spec = common(json!([
        {"name": "app", "image": "nginx:1.27",
         "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
         "volumeMounts": [sa_mount], "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
         "imagePullPolicy": "IfNotPresent", "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
         "env": [{"name": "APP_MODE", "value": "production"}],
         "livenessProbe": probe("/healthz", 3), "readinessProbe": probe("/ready", 3), "startupProbe": probe("/started", 30),
         "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
         "stdin": true},
        {"name": "sidecar", "image": "busybox:1.36", "resources": {}, "volumeMounts": [sa_mount],
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
         "command": ["sh", "-c", "while true; do date; sleep 10; done"],
         "livenessProbe": {"exec": {"command": ["true"]}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}}
    ]));
    let mut init = plain("init-db", "busybox:1.36");
    init["command"] = json!(["sh", "-c", "echo init done"]);
    init["readinessProbe"] = probe("/init", 3);
    rich_spec["initContainers"] = json!([init]);
    let rich = json!({
        "metadata": {"name": "rich", "namespace": "default", "generateName": "rich-5d9c7b8f6-",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rich-5d9c7b8f6", "uid": "0b1f5d3c-2222-4c3a-9e1e-7a6b5c4d3e99", "controller": true, "blockOwnerDeletion": true}],
            "labels": {"app": "rich", "tier": "frontend", "pod-template-hash": "5d9c7b8f6"},
            "annotations": {"example.com/owner": "team-a", "kubectl.kubernetes.io/default-container": "app"},
            "finalizers": ["example.com/keep"]},
        "spec": rich_spec,
    });

    let mut withephem_spec = common(json!([plain("main", "nginx:1.27")]));
    withephem_spec["ephemeralContainers"] = json!([{"name": "debugger-old", "image": "busybox:1.36", "stdin": true, "tty": true, "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}]);
    let withephem = json!({"metadata": {"name": "withephem", "namespace": "default", "labels": {"app": "withephem"}}, "spec": withephem_spec});

    let mut nonroot_spec = common(json!([plain("main", "nginx:1.27")]));
    nonroot_spec["securityContext"] = json!({"runAsUser": 1000, "runAsGroup": 3000});
    let nonroot =
        json!({"metadata": {"name": "nonroot", "namespace": "default"}, "spec": nonroot_spec});

    let api = json!({"metadata": {"name": "api", "namespace": "other-ns", "labels": {"app": "api"}}, "spec": common(json!([plain("api", "example.com/api:2")]))});
    vec![rich, withephem, nonroot, api]
}

fn start_cluster() -> FakeCluster {
    let cluster = FakeCluster::start(Options::default()).expect("start fakecluster");
    cluster.put_object("Namespace", json!({"metadata": {"name": "other-ns"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}));
    for p in extra_pods() {
        cluster.put_pod(p);
    }
    cluster
}

// ------------------------------------------------------------------------------------------
// One run

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Kubectl,
    Kdebug,
}

/// One mutating request as the fake saw it.
#[derive(Clone, Debug)]
struct Mutation {
    method: String,
    path: String,
    content_type: String,
    body: Value,
    /// PATCH only: the target pod's `spec.ephemeralContainers` after the run.
    effect: Option<Value>,
    /// The `Impersonate-*` headers, sorted (`--as`, `--as-group`, `--as-uid`).
    impersonation: Vec<String>,
}

/// What one tool did in one scenario.
struct Side {
    tool: Tool,
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
    mutations: Vec<Mutation>,
    /// `METHOD path` of every request.
    requests: Vec<String>,
}

impl Side {
    fn dump(&self) -> String {
        format!(
            "\n--- {:?} {}\n--- exit {}\n--- stdout:\n{}--- stderr:\n{}--- requests:\n{}\n",
            self.tool,
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr,
            self.requests.join("\n")
        )
    }
}

fn run_side(tool: Tool, args: &[String], files: &[(String, String)], stdin: Option<&str>) -> Side {
    let cluster = start_cluster();
    let dir = Dir::new(&format!("diff-{tool:?}"));
    for (name, contents) in files {
        dir.write(name, contents);
    }
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let mut cmd = match tool {
        Tool::Kubectl => {
            let mut c = Command::new(KUBECTL);
            c.arg(format!("--kubeconfig={}", kubeconfig.display()))
                .arg("debug");
            c
        }
        Tool::Kdebug => {
            let mut c = kdebug();
            c.arg(format!("--kubeconfig={}", kubeconfig.display()));
            c
        }
    };
    cmd.args(args)
        .env("HOME", dir.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("KUBECTL_COMMAND_HEADERS")
        .current_dir(dir.path())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {tool:?}: {e}"));
    if let Some(text) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let out = wait_with_timeout(child, Duration::from_secs(60));
    let log = cluster.requests();
    let mut mutations = Vec::new();
    for r in &log {
        let method = r["method"].as_str().unwrap_or("").to_string();
        if !matches!(method.as_str(), "POST" | "PATCH" | "DELETE" | "PUT") {
            continue;
        }
        let path = r["path"].as_str().unwrap_or("").to_string();
        let effect = if method == "PATCH" {
            pod_of_path(&path).map(|(ns, name)| {
                cluster
                    .pod(&ns, &name)
                    .and_then(|p| p.pointer("/spec/ephemeralContainers").cloned())
                    .unwrap_or(Value::Null)
            })
        } else {
            None
        };
        // The query too (field managers, dry-run, ...): both send none today.
        let query = r["raw_query"].as_str().unwrap_or("");
        let path = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        mutations.push(Mutation {
            method,
            path,
            content_type: r["content_type"].as_str().unwrap_or("").to_string(),
            impersonation: {
                let mut h: Vec<String> = r["headers"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.to_ascii_lowercase().starts_with("impersonate-"))
                    .flat_map(|(k, v)| {
                        // The fake logs a repeated header as a list of its values.
                        let values: Vec<&Value> = match v {
                            Value::Array(a) => a.iter().collect(),
                            one => vec![one],
                        };
                        values.into_iter().map(move |v| {
                            format!("{}={}", k.to_ascii_lowercase(), v.as_str().unwrap_or(""))
                        })
                    })
                    .collect();
                h.sort();
                h
            },
            body: r.get("body").cloned().unwrap_or(Value::Null),
            effect,
        });
    }
    let requests = log
        .iter()
        .map(|r| {
            let q = r["raw_query"].as_str().unwrap_or("");
            format!(
                "{} {}{}{}",
                r["method"].as_str().unwrap_or(""),
                r["path"].as_str().unwrap_or(""),
                if q.is_empty() { "" } else { "?" },
                q
            )
        })
        .collect();
    Side {
        tool,
        args: args.to_vec(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        mutations,
        requests,
    }
}

/// `/api/v1/namespaces/NS/pods/NAME/...` -> (NS, NAME).
fn pod_of_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let mut parts = rest.split('/');
    let ns = parts.next()?;
    (parts.next()? == "pods").then_some(())?;
    Some((ns.to_string(), parts.next()?.to_string()))
}

/// `METHOD path?query` is discovery (fakecluster's one definition).
fn is_discovery(request: &str) -> bool {
    let path = request.split_once(' ').map_or(request, |(_, p)| p);
    fakecluster::record::is_discovery_path(path)
}

// ------------------------------------------------------------------------------------------
// Normalisation

/// Generated names (`debugger-xxxxx`, `node-debugger-<node>-xxxxx`, `kube-api-access-xxxxx`)
/// -> `<prefix>#N`, numbered
/// in order of first appearance, so that the same name maps the same way everywhere in a run.
#[derive(Default)]
struct Names(Vec<String>);

const NAME_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

impl Names {
    fn token(&mut self, t: &str) -> String {
        // kube-api-access-xxxxx: the fake names the service-account volume of a pod it
        // defaults (e.g. `lonely`) at random, per cluster.
        let generated = (t.starts_with("debugger-")
            || t.starts_with("node-debugger-")
            || t.starts_with("kube-api-access-"))
            && t.len() > 6
            && t.as_bytes()[t.len() - 6] == b'-'
            && t[t.len() - 5..].chars().all(|c| NAME_ALPHABET.contains(c));
        if !generated {
            return t.to_string();
        }
        let n = match self.0.iter().position(|s| s == t) {
            Some(i) => i + 1,
            None => {
                self.0.push(t.to_string());
                self.0.len()
            }
        };
        format!("{}#{n}", &t[..t.len() - 5])
    }

    fn text(&mut self, s: &str) -> String {
        let mut out = String::new();
        let mut tok = String::new();
        for c in s.chars() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                tok.push(c);
            } else {
                out.push_str(&self.token(&tok));
                tok.clear();
                out.push(c);
            }
        }
        out.push_str(&self.token(&tok));
        out
    }

    fn value(&mut self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (self.text(k), self.value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Sorts every `env` list by name (`--env` comes from a Go map in kubectl: random order).
fn sort_env(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "env" {
                    if let Value::Array(a) = x {
                        a.sort_by(|p, q| {
                            p["name"]
                                .as_str()
                                .unwrap_or("")
                                .cmp(q["name"].as_str().unwrap_or(""))
                        });
                    }
                }
                sort_env(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(sort_env),
        _ => {}
    }
}

fn is_pod_create(m: &Mutation) -> bool {
    m.method == "POST" && m.path.ends_with("/pods")
}

/// kdebug's marks: asserted present, then removed (deliberate difference, issue "Leave nothing
/// behind": kdebug labels and annotates what it creates so that `kdebug gc` can find it).
fn strip_marks(m: &mut Mutation, scenario: &str) {
    if is_pod_create(m) {
        let name = m.body["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let node = m.body["spec"]["nodeName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let meta = m.body["metadata"].as_object_mut().expect("metadata");
        let labels = meta
            .get_mut("labels")
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{scenario}: kdebug's pod has no labels"));
        assert_eq!(
            labels.shift_remove("app.kubernetes.io/managed-by"),
            Some(json!("kdebug")),
            "{scenario}: managed-by label"
        );
        let empty_labels = labels.is_empty();
        let ann = meta
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{scenario}: kdebug's pod has no annotations"));
        let target = ann.shift_remove("kdebug.io/target");
        let target = target.as_ref().and_then(Value::as_str).unwrap_or("");
        // A node pod names its node; a copy names the pod it copies (not itself).
        if name.starts_with("node-debugger-") {
            assert_eq!(
                target,
                format!("node/{node}"),
                "{scenario}: kdebug.io/target"
            );
        } else {
            assert!(
                target.starts_with("pod/") && target != format!("pod/{name}"),
                "{scenario}: kdebug.io/target annotation: {target:?}"
            );
        }
        let created = ann.shift_remove("kdebug.io/created");
        assert!(
            matches!(created.as_ref().and_then(Value::as_str), Some(t) if t.len() >= 20 && t.contains('T') && t.ends_with('Z')),
            "{scenario}: kdebug.io/created annotation: {created:?}"
        );
        let empty_ann = ann.is_empty();
        if empty_labels {
            meta.shift_remove("labels");
        }
        if empty_ann {
            meta.shift_remove("annotations");
        }
    }
    if m.method == "PATCH" {
        let list = m.body["spec"]["ephemeralContainers"]
            .as_array_mut()
            .expect("patch lists ephemeralContainers");
        let new = list.last_mut().expect("a new ephemeral container");
        let env = new["env"].as_array_mut().unwrap_or_else(|| {
            panic!("{scenario}: the ephemeral container has no env (KDEBUG=1 missing)")
        });
        assert_eq!(
            env.pop(),
            Some(json!({"name": "KDEBUG", "value": "1"})),
            "{scenario}: KDEBUG=1 must be appended last"
        );
        if env.is_empty() {
            new.as_object_mut().unwrap().shift_remove("env");
        }
        if let Some(Value::Array(effect)) = &mut m.effect {
            for c in effect.iter_mut() {
                if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
                    env.retain(|e| e != &json!({"name": "KDEBUG", "value": "1"}));
                    if env.is_empty() {
                        c.as_object_mut().unwrap().shift_remove("env");
                    }
                }
            }
        }
    }
}

/// A run reduced to what must be equal between kubectl and kdebug.
#[derive(Debug, PartialEq)]
struct Normal {
    code: i32,
    stdout: String,
    stderr: String,
    mutations: Vec<(String, String, String, Value, Option<Value>)>,
    /// Literal form of each body (key order kept), for the PATCH.
    literal: Vec<String>,
    /// The reads that are not discovery.
    reads: Vec<String>,
}

fn normalise(side: &Side, s: &Scenario) -> Normal {
    let mut names = Names::default();
    let mut mutations = Vec::new();
    let mut literal = Vec::new();
    for m in &side.mutations {
        let mut m = m.clone();
        if side.tool == Tool::Kdebug {
            strip_marks(&mut m, s.name);
        }
        // Encoding (deliberate): kubectl sends creates and deletes as protobuf, kdebug as
        // JSON. The fake decodes both; only the encoding may differ.
        let ct = match (side.tool, m.content_type.as_str()) {
            (Tool::Kubectl, "application/vnd.kubernetes.protobuf") => {
                assert!(
                    m.method == "POST" || m.method == "DELETE",
                    "{}: kubectl sent protobuf on {}",
                    s.name,
                    m.method
                );
                "application/json".to_string()
            }
            (_, ct) => ct.to_string(),
        };
        let mut body = names.value(&m.body);
        let mut effect = m.effect.as_ref().map(|e| names.value(e));
        if s.env_as_set() {
            sort_env(&mut body);
            if let Some(e) = &mut effect {
                sort_env(e);
            }
        }
        if m.method == "PATCH" {
            literal.push(serde_json::to_string(&body).unwrap());
        }
        let ct = if m.impersonation.is_empty() {
            ct
        } else {
            format!("{ct} [{}]", m.impersonation.join(" "))
        };
        mutations.push((m.method.clone(), m.path.clone(), ct, body, effect));
    }
    let text = |t: &str, names: &mut Names| {
        let t = if side.tool == Tool::Kubectl {
            // kubectl names itself in some messages; kdebug names itself.
            // `kubectl debug --help` is `kdebug --help`.
            t.replace("kubectl debug", "kdebug")
                .replace("kubectl", "kdebug")
        } else {
            t.to_string()
        };
        names.text(&t)
    };
    let stdout = text(&side.stdout, &mut names);
    let stderr = text(&side.stderr, &mut names);
    let reads = side
        .requests
        .iter()
        .filter(|r| r.starts_with("GET ") && !is_discovery(r))
        .map(|r| names.text(r))
        .collect();
    Normal {
        code: side.code,
        stdout,
        stderr,
        mutations,
        literal,
        reads,
    }
}

/// Paths where two JSON values differ (for readable failures).
fn json_diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => json_diff(u, v, &p, out),
                    (u, v) => out.push(format!("{p}: kubectl {u:?} / kdebug {v:?}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                json_diff(u, v, &format!("{path}/{i}"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: kubectl {a} / kdebug {b}")),
        _ => {}
    }
}

/// Compares one scenario; returns the differences found (empty = pass).
fn compare(s: &Scenario) -> Vec<String> {
    let kubectl_args = s.kubectl_args.clone().unwrap_or_else(|| s.args.clone());
    let k = run_side(Tool::Kubectl, &kubectl_args, &s.files, s.stdin.as_deref());
    let d = run_side(Tool::Kdebug, &s.args, &s.files, s.stdin.as_deref());
    let mut problems = Vec::new();
    // kdebug needs no discovery: it knows pods and nodes.
    let discovery: Vec<&String> = d.requests.iter().filter(|r| is_discovery(r)).collect();
    if !discovery.is_empty() {
        problems.push(format!("kdebug sent discovery requests: {discovery:?}"));
    }
    if k.code != s.code {
        problems.push(format!(
            "kubectl exited {} (the scenario expects {}){}",
            k.code,
            s.code,
            k.dump()
        ));
        return problems;
    }
    let (nk, nd) = (normalise(&k, s), normalise(&d, s));
    if nk.code != nd.code {
        problems.push(format!(
            "exit code: kubectl {} / kdebug {}",
            nk.code, nd.code
        ));
    }
    if nk.stdout != nd.stdout {
        problems.push(format!(
            "stdout:\n  kubectl: {:?}\n  kdebug:  {:?}",
            nk.stdout, nd.stdout
        ));
    }
    if nk.stderr != nd.stderr {
        problems.push(format!(
            "stderr:\n  kubectl: {:?}\n  kdebug:  {:?}",
            nk.stderr, nd.stderr
        ));
    }
    if s.compare_reads && nk.reads != nd.reads {
        problems.push(format!(
            "reads:\n  kubectl: {:?}\n  kdebug:  {:?}",
            nk.reads, nd.reads
        ));
    }
    if nk.mutations.len() != nd.mutations.len() {
        let line = |n: &Normal| -> Vec<String> {
            n.mutations
                .iter()
                .map(|m| format!("{} {}", m.0, m.1))
                .collect()
        };
        problems.push(format!(
            "mutating requests:\n  kubectl: {:?}\n  kdebug:  {:?}",
            line(&nk),
            line(&nd)
        ));
    } else {
        for (a, b) in nk.mutations.iter().zip(&nd.mutations) {
            let what = format!("{} {}", a.0, a.1);
            if (&a.0, &a.1, &a.2) != (&b.0, &b.1, &b.2) {
                problems.push(format!(
                    "request: kubectl {} {} ({}) / kdebug {} {} ({})",
                    a.0, a.1, a.2, b.0, b.1, b.2
                ));
            }
            let mut diff = Vec::new();
            json_diff(&a.3, &b.3, "", &mut diff);
            if !diff.is_empty() {
                problems.push(format!("{what} body differs:\n    {}", diff.join("\n    ")));
            }
            let mut diff = Vec::new();
            if let (Some(x), Some(y)) = (&a.4, &b.4) {
                json_diff(x, y, "", &mut diff);
            }
            if !diff.is_empty() {
                problems.push(format!(
                    "{what}: effect on the pod's ephemeralContainers differs:\n    {}",
                    diff.join("\n    ")
                ));
            }
        }
        if problems.is_empty() && nk.literal != nd.literal {
            problems.push(format!(
                "patch bodies are equal as values but not literally:\n  kubectl: {:?}\n  kdebug:  {:?}",
                nk.literal, nd.literal
            ));
        }
    }
    if problems.is_empty() {
        if let Some(check) = s.check {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&k, &d)));
            if let Err(e) = r {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                problems.push(format!("extra check failed: {msg}"));
            }
        }
    }
    if !problems.is_empty() {
        problems.push(k.dump());
        problems.push(d.dump());
    }
    problems
}

fn kubectl_available() -> Option<PathBuf> {
    let p = Path::new(KUBECTL);
    p.exists().then(|| p.to_path_buf())
}

#[test]
fn kdebug_matches_kubectl_on_the_wire() {
    if kubectl_available().is_none() {
        fakecluster::kubectl_missing(KUBECTL);
        return;
    }
    let all = scenarios();
    assert!(all.len() >= 40, "only {} scenarios", all.len());
    let mut seen = BTreeSet::new();
    for s in &all {
        assert!(seen.insert(s.name), "duplicate scenario name {}", s.name);
    }
    let only: Option<Vec<String>> = std::env::var("KDEBUG_DIFF_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let selected: Vec<Scenario> = all
        .into_iter()
        .filter(|s| only.as_ref().is_none_or(|o| o.iter().any(|n| n == s.name)))
        .collect();
    let total = selected.len();
    let queue = Arc::new(Mutex::new(selected));
    let failures = Arc::new(Mutex::new(Vec::<(String, Vec<String>)>::new()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let failures = Arc::clone(&failures);
            std::thread::spawn(move || loop {
                let Some(s) = queue.lock().unwrap().pop() else {
                    return;
                };
                let problems = compare(&s);
                if problems.is_empty() {
                    println!("ok   {}", s.name);
                } else {
                    println!("FAIL {}", s.name);
                    failures
                        .lock()
                        .unwrap()
                        .push((s.name.to_string(), problems));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("scenario thread");
    }
    let failures = failures.lock().unwrap();
    if !failures.is_empty() {
        let mut report = String::new();
        for (name, problems) in failures.iter() {
            report.push_str(&format!("\n===== {name}\n{}\n", problems.join("\n")));
        }
        panic!(
            "{} of {total} scenarios differ from kubectl 1.33:{report}",
            failures.len()
        );
    }
    println!("{total} scenarios match kubectl 1.33");
}

#[test]
fn name_normalisation() {
    let mut n = Names::default();
    assert_eq!(
        n.text("Defaulting debug container name to debugger-p94g4."),
        "Defaulting debug container name to debugger-#1."
    );
    assert_eq!(
        n.text("debugger-p94g4 debugger-old debugger"),
        "debugger-#1 debugger-old debugger"
    );
    assert_eq!(
        n.text("Creating debugging pod node-debugger-node-1-g4q99 with container debugger"),
        "Creating debugging pod node-debugger-node-1-#2 with container debugger"
    );
}

/// The comparison is not vacuous: a different image, profile or target is reported.
#[test]
fn harness_detects_differences() {
    if kubectl_available().is_none() {
        fakecluster::kubectl_missing(KUBECTL);
        return;
    }
    let base = ["web-0", IMG, "-c", "dbg", "--profile=general"];
    let s = sc("self-check-image", 0, &base).kubectl_args(&[
        "web-0",
        "--image=busybox:1.37",
        "-c",
        "dbg",
        "--profile=general",
    ]);
    let problems = compare(&s).join("\n");
    assert!(
        problems.contains("/spec/ephemeralContainers/0/image"),
        "{problems}"
    );
    assert!(problems.contains("effect on the pod"), "{problems}");
    let s = sc(
        "self-check-copy",
        0,
        &["rich", IMG, "-c", "dbg", "--copy-to=c", "--profile=general"],
    )
    .kubectl_args(&[
        "rich",
        IMG,
        "-c",
        "dbg",
        "--copy-to=c",
        "--profile=general",
        "--keep-labels",
    ]);
    let problems = compare(&s).join("\n");
    assert!(problems.contains("/metadata/labels"), "{problems}");
    let s = sc("self-check-messages", 0, &base).kubectl_args(&[
        "web-0",
        IMG,
        "-c",
        "dbg",
        "--profile=general",
        "--target=app",
    ]);
    let problems = compare(&s).join("\n");
    assert!(problems.contains("stdout:"), "{problems}");
}

/// The table reads: every scenario once, and a quoted word is a JSON string.
#[test]
fn the_scenario_table_reads() {
    let all = scenarios();
    let names: BTreeSet<&str> = all.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), all.len(), "a scenario name twice");
    assert!(all.len() >= 140, "only {} scenarios", all.len());
    let s = all.iter().find(|s| s.name == "eph-named-command").unwrap();
    assert_eq!(s.args[s.args.len() - 3..], ["sh", "-c", "echo hi"]);
    assert_eq!(
        words(r#"a "b c" "d\"e\n" @X"#).unwrap(),
        [
            (false, "a".to_string()),
            (true, "b c".into()),
            (true, "d\"e\n".into()),
            (false, "@X".into())
        ]
    );
    assert!(words(r#"a "b"#).is_err());
}
