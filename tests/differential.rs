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
    files: Vec<(&'static str, String)>,
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
    fn file(mut self, name: &'static str, contents: &str) -> Scenario {
        self.files.push((name, contents.to_string()));
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
const PROFILES: [&str; 6] = [
    "legacy",
    "general",
    "baseline",
    "restricted",
    "netadmin",
    "sysadmin",
];

fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();

    // --- ephemeral containers: every profile, then the flags one by one.
    for (i, p) in PROFILES.iter().enumerate() {
        let name: &'static str = [
            "eph-legacy",
            "eph-general",
            "eph-baseline",
            "eph-restricted",
            "eph-netadmin",
            "eph-sysadmin",
        ][i];
        let profile: &'static str = Box::leak(format!("--profile={p}").into_boxed_str());
        v.push(sc(name, 0, &["web-0", IMG, profile]));
    }
    v.push(sc(
        "eph-named-command",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--",
            "sh",
            "-c",
            "echo hi",
        ],
    ));
    v.push(sc(
        "eph-arguments-only",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--arguments-only",
            "--",
            "sleep",
            "1",
        ],
    ));
    v.push(sc(
        "eph-env",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--env",
            "A=1",
            "--env=B=2,C=3",
        ],
    ));
    v.push(sc(
        "eph-image-pull-policy",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--image-pull-policy=Never",
        ],
    ));
    v.push(sc(
        "eph-target",
        0,
        &["web-0", IMG, "--profile=general", "--target=app"],
    ));
    v.push(sc(
        "eph-quiet",
        0,
        &["web-0", IMG, "--profile=general", "--target=app", "-q"],
    ));
    v.push(sc(
        "eph-stdin-tty-no-attach",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "-i",
            "-t",
            "--attach=false",
        ],
    ));
    v.push(sc(
        "eph-existing-ephemeral",
        0,
        &["withephem", IMG, "--profile=general"],
    ));
    v.push(
        sc(
            "eph-custom-json",
            0,
            &["web-0", IMG, "--profile=general", "--custom=custom.json"],
        )
        .file("custom.json", CUSTOM_JSON),
    );
    v.push(
        sc(
            "eph-custom-yaml",
            0,
            &[
                "web-0",
                IMG,
                "--profile=netadmin",
                "--custom=custom.yaml",
                "--attach=false",
            ],
        )
        .file("custom.yaml", CUSTOM_YAML),
    );
    v.push(sc(
        "eph-two-pods",
        0,
        &["web-0", "lonely", IMG, "--profile=general"],
    ));
    v.push(
        sc(
            "eph-from-file-yaml",
            0,
            &["-f", "pod.yaml", IMG, "--profile=general"],
        )
        .file("pod.yaml", POD_YAML),
    );
    v.push(
        sc(
            "eph-from-file-json",
            0,
            &["-f", "pod.json", IMG, "--profile=baseline"],
        )
        .file("pod.json", POD_JSON),
    );
    v.push(sc(
        "eph-namespace",
        0,
        &["-n", "other-ns", "api", IMG, "--profile=general"],
    ));
    v.push(sc(
        "eph-pod-slash-name",
        0,
        &["pod/web-0", IMG, "--profile=general"],
    ));
    v.push(sc(
        "eph-image-digest",
        0,
        &[
            "web-0",
            "--image=busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "--profile=general",
        ],
    ));
    v.push(sc(
        "eph-sysadmin-nonroot",
        0,
        &["nonroot", IMG, "--profile=sysadmin"],
    ));
    // Deliberate difference: kdebug's default profile is `general`, kubectl 1.33's is `legacy`.
    // kubectl runs with `--profile=general` here; `default_profile_differs` then runs kubectl
    // with its default and shows that only the profile and the deprecation warning differ.
    v.push(
        sc("default-profile", 0, &["web-0", IMG, "-c", "dbg"])
            .kubectl_args(&["web-0", IMG, "-c", "dbg", "--profile=general"])
            .check(default_profile_differs),
    );

    v.push(sc(
        "eph-env-duplicate-and-empty",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--env=A=1",
            "--env=A=2",
            "--env=B=",
        ],
    ));
    v.push(sc(
        "eph-env-csv",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--env=A=b=c",
            "--env=\"B=1,2\",C=3",
            "--env=D=4,5",
        ],
    ));
    v.push(sc("err-env-empty", 1, &["web-0", IMG, "--env="]));
    v.push(sc(
        "err-env-csv-split",
        1,
        &["web-0", IMG, "--env=X=1", "--env=A=1,b,C=2"],
    ));
    v.push(sc(
        "err-empty-profile",
        1,
        &["web-0", IMG, "-c", "dbg", "--profile="],
    ));
    v.push(
        sc(
            "eph-multi-document-yaml",
            0,
            &["-f", "pods.yaml", IMG, "--profile=general"],
        )
        .file("pods.yaml", &format!("{POD_YAML}---\n{}", POD_JSON)),
    );
    v.push(
        sc(
            "eph-from-stdin",
            0,
            &["-f", "-", IMG, "--profile=general", "-c", "dbg"],
        )
        .stdin(POD_YAML),
    );
    v.push(sc(
        "eph-image-registry-port",
        0,
        &[
            "web-0",
            "--image=localhost:5000/tools/debug:v1",
            "-c",
            "dbg",
            "--profile=general",
        ],
    ));
    v.push(sc(
        "err-image-short-digest",
        1,
        &["web-0", "--image=busybox@sha256:abc"],
    ));
    v.push(sc(
        "err-image-uppercase-repo",
        1,
        &["web-0", "--image=Busybox"],
    ));
    // --custom: Go's decoding (case-insensitive names, unknown fields dropped, lists replaced,
    // maps and keyed lists merged).
    v.push(
        sc("custom-case-insensitive-unknown", 0, &["web-0", IMG, "-c", "dbg", "--profile=general", "--custom=c.json"])
            .file("c.json", r#"{"WorkingDir": "/w", "SecurityContext": {"RunAsUser": 0, "capabilities": {"add": ["NET_RAW"]}}, "bogus": 1}"#),
    );
    v.push(
        sc(
            "custom-empty-file",
            0,
            &[
                "web-0",
                IMG,
                "-c",
                "dbg",
                "--profile=netadmin",
                "--custom=c.yaml",
            ],
        )
        .file("c.yaml", ""),
    );
    v.push(
        sc("custom-env-merge", 0, &["rich", "--copy-to=rich-copy", "-c", "app", "--image=nginx:debug", "--profile=general", "--env=APP_MODE=debug,X=1", "--custom=c.yaml"])
            .file("c.yaml", "env:\n- name: X\n  value: custom\n- name: Y\n  value: \"2\"\nvolumeMounts:\n- name: extra\n  mountPath: /extra\n"),
    );
    v.push(
        sc("custom-node-volume-mounts", 0, &["node/node-1", IMG, "--profile=sysadmin", "--custom=c.yaml"])
            .file("c.yaml", "volumeMounts:\n- name: host-root\n  mountPath: /host\n  readOnly: true\n- name: other\n  mountPath: /other\nstdin: false\ntty: true\n"),
    );
    // Go's strategic merge puts new keyed elements first, and kubectl decodes the result onto
    // the old container: a new element inherits what the element at its index had (here a
    // `value` beside the new `valueFrom`, which the API server then refuses).
    v.push(
        sc(
            "custom-env-inherits",
            1,
            &[
                "rich",
                "--copy-to=rich-copy",
                "-c",
                "app",
                "--profile=general",
                "--image=nginx:debug",
                "--custom=c.yaml",
            ],
        )
        .file(
            "c.yaml",
            "env:\n- name: POD\n  valueFrom:\n    fieldRef:\n      fieldPath: metadata.name\n",
        ),
    );
    v.push(
        sc(
            "eph-custom-env-order",
            0,
            &[
                "web-0",
                IMG,
                "-c",
                "dbg",
                "--profile=general",
                "--env=FOO=bar",
                "--custom=c.json",
            ],
        )
        .file(
            "c.json",
            r#"{"env": [{"name": "C", "value": "x"}, {"name": "FOO", "value": "baz"}]}"#,
        ),
    );
    v.push(
        sc(
            "err-custom-not-an-object",
            1,
            &["web-0", IMG, "--custom=c.json"],
        )
        .file("c.json", "[1, 2]"),
    );
    v.push(
        sc(
            "err-custom-forbidden-name",
            1,
            &["web-0", IMG, "--custom=c.yaml"],
        )
        .file("c.yaml", "name: x\n"),
    );
    v.push(
        sc(
            "err-custom-forbidden-lifecycle",
            1,
            &["web-0", IMG, "--custom=c.yaml"],
        )
        .file(
            "c.yaml",
            "lifecycle:\n  preStop:\n    exec:\n      command: [x]\n",
        ),
    );
    v.push(
        sc(
            "err-custom-wrong-type",
            1,
            &["web-0", IMG, "--custom=c.json"],
        )
        .file("c.json", r#"{"stdin": "yes"}"#),
    );
    v.push(
        sc(
            "err-order-custom-decode-before-attach",
            1,
            &["web-0", "--attach=true", "--custom=c.json"],
        )
        .file("c.json", "[1]"),
    );
    v.push(sc(
        "eph-impersonate",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--as=alice",
            "--as-group=devs",
            "--as-group=ops",
            "--as-uid=1234",
        ],
    ));
    v.push(sc(
        "err-copy-replace-already-exists",
        1,
        &[
            "web-0",
            IMG,
            "--copy-to=lonely",
            "--replace",
            "--profile=general",
        ],
    ));
    v.push(
        sc(
            "copy-from-file-share-false",
            0,
            &[
                "-f",
                "pod.yaml",
                IMG,
                "-c",
                "dbg",
                "--copy-to=c",
                "--profile=sysadmin",
            ],
        )
        .file(
            "pod.yaml",
            &POD_YAML.replace(
                "  securityContext: {}\n",
                "  securityContext: {}\n  shareProcessNamespace: false\n",
            ),
        ),
    );
    v.push(sc(
        "err-pull-policy-case",
        1,
        &["web-0", IMG, "--image-pull-policy=always"],
    ));
    v.push(sc("eph-image-tag-and-digest", 0, &["web-0", "--image=busybox:1.36@sha256:0000000000000000000000000000000000000000000000000000000000000000", "-c", "dbg", "--profile=general"]));
    v.push(
        // kubectl's builder does not flatten Lists: web-0 is debugged, then the List is refused.
        sc(
            "err-file-list",
            1,
            &[
                "-f",
                "pod.yaml",
                "-f",
                "list.json",
                IMG,
                "--profile=general",
            ],
        )
        .file("pod.yaml", POD_YAML)
        .file(
            "list.json",
            &format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{}]}}",
                POD_JSON.trim()
            ),
        ),
    );
    v.push(sc(
        "eph-legacy-quiet",
        0,
        &["web-0", IMG, "--profile=legacy", "-q", "--target=app"],
    ));
    v.push(sc(
        "eph-general-nonroot",
        0,
        &["nonroot", IMG, "--profile=general", "-c", "dbg"],
    ));
    v.push(sc(
        "eph-restricted-nonroot",
        0,
        &["nonroot", IMG, "--profile=restricted", "-c", "dbg"],
    ));
    v.push(
        sc(
            "eph-target-custom",
            0,
            &[
                "rich",
                IMG,
                "--profile=sysadmin",
                "--target=app",
                "--custom=custom.json",
            ],
        )
        .file("custom.json", CUSTOM_JSON),
    );
    v.push(sc(
        "eph-attach-false",
        0,
        &[
            "lonely",
            IMG,
            "--profile=restricted",
            "--attach=false",
            "--",
            "true",
        ],
    ));
    // Deliberate difference (a kdebug extension, reference section 8 #14): kubectl refuses
    // workloads; kdebug debugs the workload's pod and then sends exactly what kubectl sends for
    // that pod. kubectl runs on the pod here; `kubectl_refuses_workloads` runs it on the
    // deployment. The reads differ by the deployment GET and the pod list.
    v.push(
        sc(
            "workload-target",
            0,
            &["deployment/web", IMG, "--profile=general", "-c", "dbg"],
        )
        .kubectl_args(&["web-0", IMG, "--profile=general", "-c", "dbg"])
        .reads_differ()
        .check(kubectl_refuses_workloads),
    );

    // Copy-only flags that kubectl accepts and ignores elsewhere.
    v.push(sc(
        "eph-copy-only-flags-ignored",
        0,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--profile=general",
            "--share-processes=false",
            "--keep-labels",
            "--keep-init-containers=false",
        ],
    ));
    v.push(sc(
        "node-copy-only-flags-ignored",
        0,
        &[
            "node/node-1",
            IMG,
            "--profile=general",
            "--share-processes",
            "--keep-annotations",
            "--keep-liveness",
        ],
    ));

    // --- copies.
    for (i, p) in PROFILES.iter().enumerate() {
        let name: &'static str = [
            "copy-legacy",
            "copy-general",
            "copy-baseline",
            "copy-restricted",
            "copy-netadmin",
            "copy-sysadmin",
        ][i];
        let profile: &'static str = Box::leak(format!("--profile={p}").into_boxed_str());
        v.push(sc(
            name,
            0,
            &["rich", IMG, "-c", "dbg", "--copy-to=rich-copy", profile],
        ));
    }
    v.push(sc(
        "copy-generated-name",
        0,
        &["web-0", IMG, "--copy-to=web-copy", "--profile=general"],
    ));
    v.push(sc(
        "copy-keep-all",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=general",
            "--keep-labels",
            "--keep-annotations",
            "--keep-liveness",
            "--keep-readiness",
            "--keep-startup",
            "--keep-init-containers=false",
        ],
    ));
    v.push(sc(
        "copy-keep-legacy-ignored",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=legacy",
            "--keep-labels",
            "--keep-init-containers=false",
        ],
    ));
    v.push(sc(
        "copy-share-processes-false",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=general",
            "--share-processes=false",
        ],
    ));
    v.push(sc(
        "copy-share-processes-legacy",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=legacy",
            "--share-processes",
        ],
    ));
    v.push(sc(
        "copy-same-node",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=general",
            "--same-node",
        ],
    ));
    v.push(sc(
        "copy-replace",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=general",
            "--replace",
        ],
    ));
    v.push(sc(
        "copy-set-image-star",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "--profile=general",
            "--set-image=*=busybox:1.37,sidecar=alpine:3",
        ],
    ));
    v.push(sc(
        "copy-modify-app-image",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "app",
            "--image=nginx:debug",
            "--profile=baseline",
            "--",
            "sh",
        ],
    ));
    v.push(sc(
        "copy-modify-app-args-only",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "app",
            "--profile=general",
            "--arguments-only",
            "--env=DEBUG=1",
            "--image-pull-policy=Always",
            "--",
            "--verbose",
        ],
    ));
    v.push(sc(
        "copy-modify-init",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "init-db",
            "--profile=sysadmin",
            "--",
            "sleep",
            "1d",
        ],
    ));
    v.push(
        sc(
            "copy-custom-yaml",
            0,
            &[
                "rich",
                IMG,
                "-c",
                "dbg",
                "--copy-to=rich-copy",
                "--profile=general",
                "--custom=custom.yaml",
            ],
        )
        .file("custom.yaml", CUSTOM_YAML),
    );
    v.push(sc(
        "copy-stdin-tty-quiet",
        0,
        &[
            "web-0",
            IMG,
            "--copy-to=web-copy",
            "--profile=restricted",
            "-i",
            "-t",
            "--attach=false",
            "-q",
        ],
    ));
    v.push(
        sc(
            "copy-from-file",
            0,
            &[
                "-f",
                "pod.yaml",
                IMG,
                "-c",
                "dbg",
                "--copy-to=web-copy",
                "--profile=general",
            ],
        )
        .file("pod.yaml", POD_YAML),
    );

    v.push(sc(
        "copy-of-pod-with-ephemeral",
        0,
        &["withephem", IMG, "--copy-to=we-copy", "--profile=general"],
    ));
    v.push(
        sc(
            "copy-custom-json",
            0,
            &[
                "rich",
                IMG,
                "-c",
                "dbg",
                "--copy-to=rich-copy",
                "--profile=netadmin",
                "--custom=custom.json",
            ],
        )
        .file("custom.json", CUSTOM_JSON),
    );
    v.push(sc(
        "copy-modify-sidecar-set-image-env",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "sidecar",
            "--image=alpine:3",
            "--set-image=*=busybox:1.37",
            "--env=A=1,B=2",
            "--profile=netadmin",
            "--keep-liveness",
        ],
    ));
    v.push(sc(
        "copy-legacy-share-false-same-node",
        0,
        &[
            "rich",
            IMG,
            "-c",
            "dbg",
            "--copy-to=rich-copy",
            "--profile=legacy",
            "--share-processes=false",
            "--same-node",
            "--replace",
        ],
    ));
    v.push(sc(
        "copy-sysadmin-nonroot",
        0,
        &[
            "nonroot",
            IMG,
            "--copy-to=nr-copy",
            "--profile=sysadmin",
            "-c",
            "dbg",
        ],
    ));
    v.push(sc(
        "copy-namespace",
        0,
        &[
            "--namespace=other-ns",
            "api",
            IMG,
            "--copy-to=api-copy",
            "--profile=baseline",
        ],
    ));

    v.push(sc(
        "copy-modify-init-dropped",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "init-db",
            IMG,
            "--keep-init-containers=false",
            "--profile=general",
        ],
    ));
    v.push(sc(
        "copy-new-args-only",
        0,
        &[
            "web-0",
            "--copy-to=web-copy",
            IMG,
            "--arguments-only",
            "--profile=general",
            "--",
            "a",
            "b",
        ],
    ));
    v.push(sc(
        "copy-set-image-and-share-true",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "--set-image=app=nginx:1.28",
            "--share-processes",
            "--profile=baseline",
        ],
    ));

    v.push(sc(
        "copy-netadmin-app",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "app",
            "--profile=netadmin",
            "--",
            "sleep",
            "1d",
        ],
    ));
    v.push(sc(
        "copy-restricted-sidecar",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "sidecar",
            "--profile=restricted",
            "--keep-readiness",
            "--",
            "sh",
        ],
    ));
    v.push(sc(
        "copy-image-beats-set-image",
        0,
        &[
            "rich",
            "--copy-to=rich-copy",
            "-c",
            "app",
            "--image=nginx:debug",
            "--set-image=app=nginx:1.28,*=busybox:1.37",
            "--profile=general",
        ],
    ));
    v.push(sc(
        "mixed-copy-and-node",
        0,
        &[
            "web-0",
            "node/node-1",
            IMG,
            "--copy-to=web-copy",
            "--profile=sysadmin",
        ],
    ));

    // --- nodes.
    for (i, p) in PROFILES.iter().enumerate() {
        let name: &'static str = [
            "node-legacy",
            "node-general",
            "node-baseline",
            "node-restricted",
            "node-netadmin",
            "node-sysadmin",
        ][i];
        let profile: &'static str = Box::leak(format!("--profile={p}").into_boxed_str());
        v.push(sc(name, 0, &["node/node-1", IMG, profile]));
    }
    v.push(sc(
        "node-container-command-env",
        0,
        &[
            "node/node-1",
            IMG,
            "-c",
            "shell",
            "--profile=sysadmin",
            "--env=X=1",
            "--image-pull-policy=IfNotPresent",
            "--",
            "chroot",
            "/host",
        ],
    ));
    v.push(sc(
        "node-quiet-target",
        0,
        &[
            "node/node-1",
            IMG,
            "--profile=general",
            "-q",
            "--target=app",
        ],
    ));
    v.push(
        sc(
            "node-custom-json",
            0,
            &[
                "nodes/node-1",
                IMG,
                "--profile=general",
                "--custom=custom.json",
            ],
        )
        .file("custom.json", CUSTOM_JSON),
    );
    v.push(
        sc(
            "node-from-file",
            0,
            &["-f", "node.yaml", IMG, "--profile=netadmin"],
        )
        .file("node.yaml", NODE_YAML),
    );
    v.push(sc(
        "node-legacy-quiet",
        0,
        &["node/node-1", IMG, "--profile=legacy", "-q"],
    ));
    v.push(sc(
        "node-namespace",
        0,
        &["-n", "other-ns", "node/node-1", IMG, "--profile=netadmin"],
    ));
    v.push(sc(
        "node-stdin-tty-no-attach",
        0,
        &[
            "no/node-1",
            IMG,
            "--profile=sysadmin",
            "-i",
            "-t",
            "--attach=false",
        ],
    ));
    v.push(
        sc(
            "node-custom-yaml",
            0,
            &[
                "node/node-1",
                IMG,
                "--profile=restricted",
                "--custom=custom.yaml",
                "--arguments-only",
                "--",
                "-c",
                "id",
            ],
        )
        .file("custom.yaml", CUSTOM_YAML),
    );
    v.push(sc(
        "mixed-targets",
        0,
        &[
            "web-0",
            "node/node-1",
            IMG,
            "--profile=general",
            "-c",
            "dbg",
        ],
    ));

    // --- validation errors, one by one in kubectl's order, then pairs that show the order.
    v.push(sc(
        "err-unknown-profile",
        1,
        &["web-0", IMG, "--profile=foo"],
    ));
    v.push(sc(
        "err-custom-missing-file",
        1,
        &["web-0", IMG, "--custom=nope.json"],
    ));
    v.push(
        sc(
            "err-custom-invalid-file",
            1,
            &["web-0", IMG, "--custom=custom.txt"],
        )
        .file("custom.txt", CUSTOM_INVALID),
    );
    v.push(sc(
        "err-attach-without-container",
        1,
        &["web-0", "--attach=true"],
    ));
    v.push(sc("err-copy-nothing", 1, &["web-0", "--copy-to=web-copy"]));
    v.push(sc(
        "err-copy-args-without-container",
        1,
        &[
            "web-0",
            "--copy-to=web-copy",
            "--set-image=*=busybox",
            "--",
            "sh",
        ],
    ));
    v.push(sc(
        "err-replace-without-copy",
        1,
        &["web-0", IMG, "--replace"],
    ));
    v.push(sc(
        "err-same-node-without-copy",
        1,
        &["web-0", IMG, "--same-node"],
    ));
    v.push(sc(
        "err-set-image-without-copy",
        1,
        &["web-0", IMG, "--set-image=app=nginx"],
    ));
    v.push(sc("err-missing-image", 1, &["web-0"]));
    v.push(sc("err-invalid-image", 1, &["web-0", "--image=Not A Ref"]));
    v.push(sc("err-no-target", 1, &[IMG]));
    v.push(sc(
        "err-pull-policy",
        1,
        &["web-0", IMG, "--image-pull-policy=Sometimes"],
    ));
    v.push(sc(
        "err-invalid-set-image",
        1,
        &["web-0", "--copy-to=c", "--set-image=app=Bad::Ref"],
    ));
    v.push(sc(
        "err-target-with-copy",
        1,
        &["web-0", IMG, "--copy-to=c", "--target=app"],
    ));
    v.push(sc(
        "err-tty-without-stdin",
        1,
        &["web-0", IMG, "-t", "--target=app"],
    ));
    v.push(
        sc(
            "err-custom-forbidden",
            1,
            &["web-0", IMG, "--custom=custom.json"],
        )
        .file("custom.json", CUSTOM_FORBIDDEN),
    );
    v.push(
        sc(
            "err-custom-invalid-line-3",
            1,
            &["web-0", IMG, "--custom=c.yaml"],
        )
        .file("c.yaml", "a: 1\nb: 2\nthis: is: bad\n"),
    );
    // pflag errors: kubectl adds "See 'kubectl debug --help' for usage.".
    v.push(sc("err-env-format", 1, &["web-0", IMG, "--env=A"]));
    v.push(sc(
        "err-set-image-format",
        1,
        &["web-0", "--copy-to=c", "--set-image=x"],
    ));
    v.push(sc("err-bool-flag", 1, &["web-0", IMG, "--attach=maybe"]));
    v.push(sc("err-flag-needs-value", 1, &["web-0", "--image"]));
    v.push(sc(
        "err-order-profile-first",
        1,
        &["web-0", "--profile=foo", "--replace", "-t"],
    ));
    v.push(sc(
        "err-order-replace-before-same-node",
        1,
        &["web-0", "--replace", "--same-node"],
    ));
    v.push(sc(
        "err-order-image-before-target",
        1,
        &["--image=Bad::Ref"],
    ));
    v.push(sc(
        "err-order-pull-policy-before-tty",
        1,
        &["web-0", IMG, "--image-pull-policy=x", "-t"],
    ));
    // Each adjacent pair of kubectl's checks, the earlier one winning.
    v.push(sc(
        "err-order-config-before-profile",
        1,
        &["web-0", IMG, "--context=nope", "--profile=foo"],
    ));
    v.push(sc(
        "err-config-cluster",
        1,
        &["web-0", IMG, "--cluster=nope"],
    ));
    v.push(sc(
        "err-config-cluster-with-server",
        1,
        &[
            "web-0",
            IMG,
            "--cluster=nope",
            "--server=https://127.0.0.1:9",
        ],
    ));
    v.push(sc(
        "err-config-user",
        1,
        &["web-0", IMG, "--user=nope", "--profile=general"],
    ));
    v.push(sc(
        "err-config-token-and-basic",
        1,
        &[
            "web-0",
            IMG,
            "--username=u",
            "--password=p",
            "--profile=general",
        ],
    ));
    v.push(sc(
        "err-order-profile-before-custom",
        1,
        &["web-0", IMG, "--profile=foo", "--custom=nope.json"],
    ));
    v.push(sc(
        "err-order-custom-before-attach",
        1,
        &["web-0", "--custom=nope.json", "--attach=true"],
    ));
    v.push(sc(
        "err-order-attach-before-copy-nothing",
        1,
        &["web-0", "--copy-to=c", "--attach=true"],
    ));
    v.push(sc(
        "err-order-copy-args-before-set-image-value",
        1,
        &[
            "web-0",
            "--copy-to=c",
            "--set-image=app=Bad::Ref",
            "--",
            "sh",
        ],
    ));
    v.push(sc(
        "err-order-set-image-before-missing-image",
        1,
        &["web-0", "--set-image=app=nginx"],
    ));
    v.push(sc(
        "err-order-no-target-before-pull-policy",
        1,
        &[IMG, "--image-pull-policy=x"],
    ));
    v.push(sc(
        "err-order-pull-policy-before-set-image-value",
        1,
        &[
            "web-0",
            "--copy-to=c",
            "--image-pull-policy=x",
            "--set-image=app=Bad::Ref",
        ],
    ));
    v.push(sc(
        "err-order-set-image-value-before-target",
        1,
        &[
            "web-0",
            "--copy-to=c",
            "--set-image=app=Bad::Ref",
            "--target=app",
        ],
    ));
    v.push(sc(
        "err-order-target-before-tty",
        1,
        &["web-0", IMG, "--copy-to=c", "--target=app", "-t"],
    ));
    v.push(
        sc(
            "err-order-tty-before-custom",
            1,
            &[
                "web-0",
                IMG,
                "-t",
                "--custom=custom.json",
                "--profile=legacy",
            ],
        )
        .file("custom.json", CUSTOM_FORBIDDEN),
    );
    v.push(
        sc(
            "err-order-custom-before-legacy-warning",
            1,
            &["web-0", IMG, "--custom=custom.json", "--profile=legacy"],
        )
        .file("custom.json", CUSTOM_FORBIDDEN),
    );

    // --- errors from the server (and from reading the targets).
    v.push(sc(
        "err-pod-not-found",
        1,
        &["nope", IMG, "--profile=general"],
    ));
    v.push(sc(
        "err-node-not-found",
        1,
        &["node/nope", IMG, "--profile=general"],
    ));
    v.push(sc(
        "err-copy-already-exists",
        1,
        &["web-0", IMG, "--copy-to=lonely", "--profile=general"],
    ));
    v.push(sc(
        "err-duplicate-container-name",
        1,
        &["web-0", IMG, "-c", "app", "--profile=general"],
    ));
    v.push(
        sc(
            "err-unsupported-kind",
            1,
            &["-f", "svc.yaml", IMG, "--profile=general"],
        )
        .file("svc.yaml", SERVICE_YAML),
    );
    // -c names an existing container: kubectl's profile changes that container (the patch
    // carries it), and the server refuses the duplicate name.
    v.push(sc(
        "err-eph-existing-name-baseline",
        1,
        &["rich", IMG, "-c", "app", "--profile=baseline"],
    ));
    v.push(sc(
        "err-eph-existing-init-name-netadmin",
        1,
        &["rich", IMG, "-c", "init-db", "--profile=netadmin"],
    ));
    v.push(sc(
        "err-namespace-pod-not-found",
        1,
        &["-n", "other-ns", "web-0", IMG, "--profile=general"],
    ));
    v.push(sc(
        "err-namespace-not-found",
        1,
        &["-n", "ghost", "web-0", IMG, "--profile=general"],
    ));
    v.push(sc(
        "err-unknown-resource-type",
        1,
        &["foo/bar", IMG, "--profile=general"],
    ));
    v.push(sc(
        "err-target-container-not-found",
        1,
        &[
            "web-0",
            IMG,
            "-c",
            "dbg",
            "--target=nope",
            "--profile=general",
        ],
    ));
    v.push(
        sc(
            "err-file-namespace-mismatch",
            1,
            &["-n", "other-ns", "-f", "pod.yaml", IMG, "--profile=general"],
        )
        .file("pod.yaml", POD_YAML),
    );
    v.push(sc(
        "err-copy-two-targets-same-name",
        1,
        &[
            "web-0",
            "lonely",
            IMG,
            "-c",
            "dbg",
            "--copy-to=the-copy",
            "--profile=general",
        ],
    ));
    v.push(sc(
        "err-second-target-missing",
        1,
        &["web-0", "nope", IMG, "--profile=general"],
    ));
    v
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

fn run_side(
    tool: Tool,
    args: &[String],
    files: &[(&'static str, String)],
    stdin: Option<&str>,
) -> Side {
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
