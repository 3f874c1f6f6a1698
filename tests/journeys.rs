//! The three journeys end to end against fakecluster: what reaches the server, what the user
//! sees, and the exit code.

use serde_json::{json, Value};

use crate::util::Env;

fn ephemeral_names(pod: &Value) -> Vec<String> {
    pod["spec"]["ephemeralContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn ephemeral_without_attach_patches_and_returns() {
    let env = Env::new("eph-noattach");
    let r = env.run(&[
        "web-0",
        "--image=busybox:1.36",
        "-c",
        "dbg",
        "--",
        "sleep",
        "1",
    ]);
    r.assert_code(0);
    let m = env.mutations();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0]["method"], "PATCH");
    assert_eq!(
        m[0]["path"],
        "/api/v1/namespaces/default/pods/web-0/ephemeralcontainers"
    );
    assert_eq!(
        m[0]["content_type"],
        "application/strategic-merge-patch+json"
    );
    let c = &m[0]["body"]["spec"]["ephemeralContainers"][0];
    assert_eq!(c["name"], "dbg");
    assert_eq!(c["command"], json!(["sleep", "1"]));
    // kdebug's mark, and the general profile (kdebug's default).
    assert!(c["env"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "KDEBUG", "value": "1"})));
    assert_eq!(
        c["securityContext"]["capabilities"]["add"],
        json!(["SYS_PTRACE"])
    );
    assert!(
        ephemeral_names(&env.cluster.pod("default", "web-0").unwrap()).contains(&"dbg".to_string())
    );
    // No discovery: kdebug knows its resources.
    assert!(
        env.cluster.records().iter().all(|r| !r.is_discovery()),
        "{:?}",
        env.request_lines()
    );
}

#[test]
fn generated_name_is_announced() {
    let env = Env::new("eph-genname");
    let r = env.run(&["web-0", "--image=busybox"]);
    r.assert_code(0);
    let name = r
        .stdout()
        .trim()
        .strip_prefix("Defaulting debug container name to ")
        .and_then(|s| s.strip_suffix('.'))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no defaulting message{}", r.dump()));
    assert!(name.starts_with("debugger-") && name.len() == 14, "{name}");
    assert!(ephemeral_names(&env.cluster.pod("default", "web-0").unwrap()).contains(&name));
    // -q silences it.
    let q = env.run(&["web-0", "--image=busybox", "-q"]);
    q.assert_code(0);
    assert_eq!(q.stdout(), "", "{}", q.dump());
}

#[test]
fn attach_without_stdin_follows_logs_and_returns_the_exit_code() {
    let env = Env::new("eph-logs");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo hello; exit 3",
    ]);
    r.assert_code(3);
    assert_eq!(r.stdout(), "hello\n", "{}", r.dump());
    let lines = env.request_lines();
    assert!(
        lines
            .iter()
            .any(|l| l == "GET /api/v1/namespaces/default/pods/web-0/log"),
        "{lines:#?}"
    );
}

#[test]
fn interactive_stdin_reaches_the_container_and_stdin_eof_is_sent() {
    let env = Env::new("eph-stdin");
    let r = env.run_with_stdin(
        &["web-0", "--image=busybox", "-c", "dbg", "-i", "--", "cat"],
        Some("echo me\n"),
    );
    r.assert_code(0);
    assert_eq!(r.stdout(), "echo me\n", "{}", r.dump());
    r.assert_stderr_contains("If you don't see a command prompt, try pressing enter.");
    let attach = env.attach_request().expect("an attach request");
    assert_eq!(
        attach["raw_query"],
        "container=dbg&stderr=true&stdin=true&stdout=true"
    );
    let ws = &attach["websocket"];
    assert_eq!(ws["subprotocol"], "v5.channel.k8s.io");
    assert!(ws.to_string().contains("echo me"), "{ws:#}");
    assert!(
        !ws["stream_close_signals"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "no v5 stdin close: {ws:#}"
    );
}

#[test]
fn copy_mode_creates_a_marked_copy_and_rm_deletes_it() {
    let env = Env::new("copy-rm");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-dbg",
        "-c",
        "dbg",
        "--rm",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo copied",
    ]);
    r.assert_code(0);
    assert!(r.stdout().contains("copied"), "{}", r.dump());
    let m = env.mutations();
    let kinds: Vec<String> = m
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "POST /api/v1/namespaces/default/pods",
            "DELETE /api/v1/namespaces/default/pods/web-dbg"
        ],
        "{m:#?}"
    );
    let pod = &m[0]["body"];
    assert_eq!(
        pod["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kdebug"
    );
    assert_eq!(
        pod["metadata"]["annotations"]["kdebug.io/target"],
        "pod/web-0"
    );
    assert!(pod["metadata"].get("ownerReferences").is_none());
    assert!(
        env.cluster.pod("default", "web-dbg").is_none(),
        "the copy is still there"
    );
}

#[test]
fn copy_without_rm_leaves_the_copy() {
    let env = Env::new("copy-keep");
    env.run(&["web-0", "--image=busybox", "--copy-to=web-dbg", "-c", "dbg"])
        .assert_code(0);
    assert!(env.mutations().iter().all(|m| m["method"] != "DELETE"));
    assert!(env.cluster.pod("default", "web-dbg").is_some());
}

#[test]
fn node_mode_runs_and_cleans_up() {
    let env = Env::new("node-rm");
    let r = env.run(&[
        "node/node-1",
        "--image=busybox",
        "--rm",
        "--attach",
        "--profile=sysadmin",
        "--",
        "sh",
        "-c",
        "echo on-node; exit 4",
    ]);
    r.assert_code(4);
    assert!(r.stdout().contains("on-node"), "{}", r.dump());
    let m = env.mutations();
    assert_eq!(m.len(), 2, "{m:#?}");
    let pod = &m[0]["body"];
    assert!(pod["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("node-debugger-node-1-"));
    assert_eq!(pod["spec"]["nodeName"], "node-1");
    assert_eq!(pod["spec"]["hostPID"], true);
    assert_eq!(
        pod["spec"]["containers"][0]["securityContext"]["privileged"],
        true
    );
    assert_eq!(
        pod["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kdebug"
    );
    assert_eq!(m[1]["method"], "DELETE");
}

#[test]
fn dry_run_sends_nothing_and_prints_what_a_real_run_sends() {
    let env = Env::new("dry-run");
    let dry = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--dry-run",
        "--",
        "true",
    ]);
    dry.assert_code(0);
    assert!(env.mutations().is_empty(), "{:#?}", env.mutations());
    let printed: Value =
        serde_json::from_str(&dry.stdout()).unwrap_or_else(|e| panic!("{e}{}", dry.dump()));
    assert_eq!(printed["method"], "PATCH");
    env.run(&["web-0", "--image=busybox", "-c", "dbg", "--", "true"])
        .assert_code(0);
    let sent = &env.mutations()[0]["body"];
    let strip_created = |v: &Value| v.to_string();
    assert_eq!(strip_created(&printed["body"]), strip_created(sent));

    let yaml = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg2",
        "--dry-run",
        "-o",
        "yaml",
        "--copy-to=c",
        "--replace",
    ]);
    yaml.assert_code(0);
    let out = yaml.stdout();
    assert!(
        out.contains("method: POST") && out.contains("method: DELETE"),
        "{}",
        yaml.dump()
    );
    assert_eq!(env.mutations().len(), 1, "the YAML dry run sent something");
}

#[test]
fn image_pull_failure_fails_fast_and_cleans_up() {
    let env = Env::new("pull-fail");
    let start = std::time::Instant::now();
    let r = env.run(&[
        "web-0",
        "--image=registry.example/does-not-exist:1",
        "--copy-to=web-bad",
        "--rm",
        "-c",
        "dbg",
        "--attach",
        "--",
        "true",
    ]);
    r.assert_code(125);
    r.assert_stderr_contains("cannot start");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        env.cluster.pod("default", "web-bad").is_none(),
        "--rm left the pod{}",
        r.dump()
    );
}

#[test]
fn timeout_is_honoured() {
    let env = Env::with(
        "timeout",
        fakecluster::Options {
            kubelet_delay_ms: 30_000,
            ..Default::default()
        },
    );
    let start = std::time::Instant::now();
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--attach",
        "--timeout=1s",
        "--",
        "true",
    ]);
    r.assert_code(124);
    r.assert_stderr_contains("timed out after 1s");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn workload_targets_resolve_to_a_pod() {
    let env = Env::new("workloads");
    for t in [
        "deploy/web",
        "rs/web-5d4f8",
        "svc/web",
        "deployment.apps/web",
    ] {
        env.cluster.clear_requests();
        let r = env.run(&[t, "--image=busybox", "-q"]);
        r.assert_code(0);
        let m = env.mutations();
        assert_eq!(
            m[0]["path"], "/api/v1/namespaces/default/pods/web-0/ephemeralcontainers",
            "{t}: {m:#?}"
        );
    }
}

#[test]
fn rm_is_refused_for_ephemeral_containers() {
    let env = Env::new("rm-eph");
    let r = env.run(&["web-0", "--image=busybox", "--rm"]);
    r.assert_code(1);
    r.assert_stderr_contains("--rm works with --copy-to and node/NAME only");
    assert!(env.mutations().is_empty());
}

#[test]
fn list_and_gc_see_only_what_kdebug_made() {
    let env = Env::new("gc");
    env.run(&[
        "web-0",
        "--image=busybox",
        "--copy-to=old-copy",
        "-c",
        "dbg",
    ])
    .assert_code(0);
    env.run(&["web-0", "--image=busybox", "-c", "eph"])
        .assert_code(0);
    env.cluster.put_pod(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "someone-elses", "namespace": "default", "labels": {"app.kubernetes.io/managed-by": "helm"}},
        "spec": {"containers": [{"name": "c", "image": "x"}]}}));
    let list = env.run(&["list"]);
    list.assert_code(0);
    let out = list.stdout();
    assert!(
        out.contains("old-copy") && out.contains("copy"),
        "{}",
        list.dump()
    );
    assert!(
        out.contains("eph") && out.contains("ephemeral"),
        "{}",
        list.dump()
    );
    assert!(!out.contains("someone-elses"));

    // Younger than the cutoff: kept.
    env.run(&["gc", "--older-than=1h"]).assert_code(0);
    assert!(env.cluster.pod("default", "old-copy").is_some());
    let dry = env.run(&["gc", "--older-than=0s", "--dry-run"]);
    dry.assert_code(0).assert_stdout_contains("old-copy");
    assert!(env.cluster.pod("default", "old-copy").is_some());
    env.run(&["gc", "--older-than=0s"]).assert_code(0);
    assert!(env.cluster.pod("default", "old-copy").is_none());
    assert!(env.cluster.pod("default", "someone-elses").is_some());
    let deletes: Vec<Value> = env
        .mutations()
        .into_iter()
        .filter(|m| m["method"] == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:#?}");
}

#[test]
fn validation_errors_come_before_any_request() {
    let env = Env::new("validate");
    let cases: &[(&[&str], &str)] = &[
        (
            &["web-0"],
            "error: you must specify --image when not using --copy-to.",
        ),
        (
            &["web-0", "--image=busybox", "-t"],
            "error: -i/-t is required",
        ),
        (
            &["web-0", "--image=Not_A/Valid:Image:Ref"],
            "error: invalid image name \"Not_A/Valid:Image:Ref\": invalid reference format",
        ),
        (
            &["web-0", "--image=b", "--profile=foo"],
            "error: unknown profile: foo",
        ),
        (
            &["web-0", "--image=b", "--copy-to=c", "--target=app"],
            "error: --target is incompatible with --copy-to. Use --share-processes instead.",
        ),
        (
            &["web-0", "--imgae=b"],
            "error: unknown flag: --imgae (did you mean --image?)",
        ),
    ];
    for (args, want) in cases {
        env.cluster.clear_requests();
        let r = env.run(args);
        r.assert_code(1);
        let want = want.replace(
            "-i/-t is required",
            "-i/--stdin is required for containers with -t/--tty=true",
        );
        r.assert_stderr_contains(&want);
        assert!(env.cluster.requests().is_empty(), "{args:?} sent requests");
    }
}

#[test]
fn api_errors_read_like_kubectl() {
    let env = Env::new("api-errors");
    env.run(&["nope", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("Error from server (NotFound): pods \"nope\" not found");
    env.run(&["node/nope", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("Error from server (NotFound): nodes \"nope\" not found");
    env.run(&["web-0", "--image=busybox", "-c", "app"])
        .assert_code(1)
        .assert_stderr_contains("The Pod \"web-0\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"app\"");
}
