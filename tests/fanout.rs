//! Fan-out over many pods (`-l`, `--all-pods`) and mirroring the target.

use serde_json::{json, Value};

use crate::util::Env;

fn audit_pod(i: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("audit-{i:02}"), "namespace": "default", "labels": {"app": "audit"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}], "nodeName": "node-1", "restartPolicy": "Always"},
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": true, "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]}
    })
}

#[test]
fn fan_out_over_fifty_pods() {
    let env = Env::new("fanout");
    for i in 0..50 {
        env.cluster.put_pod(audit_pod(i));
    }
    // One pod's debug command fails: the run as a whole must say so.
    let r = env.run(&[
        "-l",
        "app=audit",
        "--image=busybox",
        "--max-parallel",
        "10",
        "-c",
        "audit",
        "--",
        "sh",
        "-c",
        "echo checked",
    ]);
    r.assert_code(0);
    let out = r.stdout();
    for i in 0..50 {
        let line = format!("audit-{i:02}: checked\n");
        assert_eq!(
            out.matches(&line).count(),
            1,
            "{line:?} not exactly once{}",
            r.dump()
        );
    }
    assert!(out.contains("50 of 50 succeeded"), "{}", r.dump());
    let patches: Vec<Value> = env
        .mutations()
        .into_iter()
        .filter(|m| m["method"] == "PATCH")
        .collect();
    assert_eq!(patches.len(), 50);
    // Every non-summary line of output is prefixed with its pod.
    for line in out.lines().take_while(|l| !l.is_empty()) {
        assert!(line.starts_with("audit-"), "unprefixed line {line:?}");
    }
}

#[test]
fn fan_out_reports_each_exit_code_and_fails_when_one_fails() {
    let env = Env::new("fanout-fail");
    for i in 0..6 {
        env.cluster.put_pod(audit_pod(i));
    }
    let r = env.run(&[
        "-l",
        "app=audit",
        "--image=busybox",
        "-c",
        "chk",
        "--max-parallel=3",
        "--",
        "sh",
        "-c",
        "echo x; exit 5",
    ]);
    r.assert_code(1);
    let out = r.stdout();
    let summary: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("audit-0") && l.contains(" chk "))
        .collect();
    assert_eq!(summary.len(), 6, "{}", r.dump());
    assert!(
        summary
            .iter()
            .all(|l| l.split_whitespace().nth(2) == Some("5")),
        "{summary:#?}"
    );
    assert!(r.stdout().contains("0 of 6 succeeded"));
}

#[test]
fn fan_out_copy_mode_cleans_up_with_rm() {
    let env = Env::new("fanout-rm");
    for i in 0..5 {
        env.cluster.put_pod(audit_pod(i));
    }
    let dir = env.dir.path().join("out");
    let r = env.run(&[
        "-l",
        "app=audit",
        "--image=busybox",
        "--copy-to=x",
        "-c",
        "dbg",
        "--rm",
        "--output-dir",
        dir.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo in-copy",
    ]);
    r.assert_code(0);
    for i in 0..5 {
        let log =
            std::fs::read_to_string(dir.join(format!("audit-{i:02}.log"))).unwrap_or_default();
        assert_eq!(log, "in-copy\n", "audit-{i:02}{}", r.dump());
    }
    let deletes = env
        .mutations()
        .into_iter()
        .filter(|m| m["method"] == "DELETE")
        .count();
    assert_eq!(deletes, 5, "{}", r.dump());
    assert!(!r.stderr().contains(" deleted"), "{}", r.dump());
}

#[test]
fn fan_out_refuses_interactive_flags() {
    let env = Env::new("fanout-it");
    let r = env.run(&["-l", "app=web", "--image=busybox", "-it"]);
    r.assert_code(1)
        .assert_stderr_contains("-i/-t cannot be used with -l/--selector");
    assert!(env.cluster.requests().is_empty());
}

#[test]
fn mirror_copies_mounts_env_and_user_from_the_target() {
    let env = Env::new("mirror");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--target=app",
        "--mirror=all",
        "--dry-run",
    ]);
    r.assert_code(0);
    let printed: Value =
        serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}{}", r.dump()));
    let c = &printed["body"]["spec"]["ephemeralContainers"][0];
    let app = env.cluster.pod("default", "web-0").unwrap()["spec"]["containers"][0].clone();
    let mounts: Vec<&Value> = app["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.get("subPath").is_none())
        .collect();
    assert_eq!(
        c["volumeMounts"].as_array().map(Vec::len),
        Some(mounts.len()),
        "{c:#}"
    );
    for m in mounts {
        assert!(
            c["volumeMounts"].as_array().unwrap().contains(m),
            "missing {m}"
        );
    }
    if let Some(env_vars) = app["env"].as_array() {
        for e in env_vars {
            assert!(c["env"].as_array().unwrap().contains(e), "missing env {e}");
        }
    }
}

#[test]
fn fan_out_over_nodes_by_selector() {
    let env = Env::new("fanout-nodes");
    for n in ["node-2", "node-3"] {
        env.cluster
            .put_node(json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n, "labels": {"pool": "gpu"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}));
    }
    let r = env.run(&[
        "node/",
        "-l",
        "pool=gpu",
        "--image=busybox",
        "--rm",
        "--",
        "sh",
        "-c",
        "echo host-check",
    ]);
    r.assert_code(0);
    let out = r.stdout();
    assert!(
        out.contains("node-2: host-check") && out.contains("node-3: host-check"),
        "{}",
        r.dump()
    );
    assert_eq!(out.matches("host-check").count(), 2, "{}", r.dump());
    let m = env.mutations();
    assert_eq!(m.iter().filter(|x| x["method"] == "POST").count(), 2);
    assert_eq!(m.iter().filter(|x| x["method"] == "DELETE").count(), 2);
    assert!(m.iter().all(|x| x["body"]["spec"]["nodeName"] != "node-1"));
    env.run(&["node/", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("needs -l/--selector");
}

/// A pod as a real cluster shows it: the projected service-account volume, a subPath mount,
/// envFrom a ConfigMap, and a securityContext at pod and container level.
fn realistic_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-7c9d", "namespace": "default", "labels": {"app": "api"}},
        "spec": {
            "securityContext": {"runAsUser": 2000, "runAsGroup": 3000, "fsGroup": 2000},
            "volumes": [
                {"name": "kube-api-access-x2x7q", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}], "defaultMode": 420}},
                {"name": "config", "configMap": {"name": "api-config"}}
            ],
            "containers": [{
                "name": "api", "image": "registry.example/api:2.1",
                "securityContext": {"runAsUser": 1001},
                "env": [{"name": "MODE", "value": "prod"}],
                "envFrom": [{"configMapRef": {"name": "api-env"}}],
                "volumeMounts": [
                    {"name": "kube-api-access-x2x7q", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true},
                    {"name": "config", "mountPath": "/etc/api/app.yaml", "subPath": "app.yaml"}
                ]
            }],
            "nodeName": "node-1"
        }
    })
}

fn mirrored(env: &Env, part: &str) -> (Value, String) {
    let r = env.run(&[
        "api-7c9d",
        "--image=busybox",
        "-c",
        "dbg",
        "--target=api",
        &format!("--mirror={part}"),
        "--dry-run",
    ]);
    r.assert_code(0);
    let v: Value = serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}{}", r.dump()));
    (
        v["body"]["spec"]["ephemeralContainers"][0].clone(),
        r.stderr(),
    )
}

#[test]
fn mirror_each_part_on_a_realistic_pod() {
    let env = Env::new("mirror-parts");
    env.cluster.put_pod(realistic_pod());

    let (c, warnings) = mirrored(&env, "volumes");
    assert_eq!(
        c["volumeMounts"],
        json!([{"name": "kube-api-access-x2x7q", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]),
        "{c:#}"
    );
    assert!(
        warnings.contains("/etc/api/app.yaml") && warnings.contains("subPath"),
        "{warnings}"
    );
    assert!(
        c.get("envFrom").is_none() && c["securityContext"].get("runAsUser").is_none(),
        "{c:#}"
    );

    let (c, _) = mirrored(&env, "env");
    assert_eq!(c["envFrom"], json!([{"configMapRef": {"name": "api-env"}}]));
    assert!(
        c["env"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "MODE", "value": "prod"})),
        "{c:#}"
    );
    assert!(c.get("volumeMounts").is_none());

    // The container's runAsUser wins over the pod's; the group comes from the pod.
    let (c, _) = mirrored(&env, "user");
    assert_eq!(c["securityContext"]["runAsUser"], 1001, "{c:#}");
    assert_eq!(c["securityContext"]["runAsGroup"], 3000, "{c:#}");

    // And the server accepts the result: a real run succeeds.
    env.run(&[
        "api-7c9d",
        "--image=busybox",
        "-c",
        "dbg2",
        "--target=api",
        "--mirror=all",
        "-q",
    ])
    .assert_code(0);
}
