//! The fault table: one test per way the network, the server or the credentials can fail.
//! Each row checks the message and the exit code, that the run ends quickly, that nothing
//! panicked, and (for the rows that create a pod with `--rm`) that no pod is left behind.

use std::time::{Duration, Instant};

use fakecluster::{Fault, Options};
use serde_json::Value;

use crate::util::{Env, Run};

/// Checks that a run failed cleanly: the code, the message, no panic, and its duration.
#[track_caller]
fn expect(r: &Run, code: i32, message: &str, started: Instant, within: Duration) {
    r.assert_code(code);
    r.assert_stderr_contains(message);
    assert!(
        !r.stderr().contains("panicked"),
        "kdebug panicked{}",
        r.dump()
    );
    assert!(
        started.elapsed() < within,
        "took {:?} (limit {within:?}){}",
        started.elapsed(),
        r.dump()
    );
}

fn count(env: &Env, method: &str, path_end: &str) -> usize {
    env.cluster
        .requests()
        .iter()
        .filter(|r| {
            r["method"] == method && r["path"].as_str().is_some_and(|p| p.ends_with(path_end))
        })
        .count()
}

fn watches(env: &Env) -> Vec<Value> {
    env.cluster
        .requests()
        .into_iter()
        .filter(|r| r["query"]["watch"] == "true")
        .collect()
}

fn lists(env: &Env) -> usize {
    env.cluster
        .requests()
        .iter()
        .filter(|r| {
            r["method"] == "GET"
                && r["path"] == "/api/v1/namespaces/default/pods"
                && r["query"]["watch"].is_null()
        })
        .count()
}

/// A kubeconfig for `env`'s cluster with `user` (YAML lines under `user:`, indented 4).
fn kubeconfig_with_user(env: &Env, name: &str, user: &str) -> std::path::PathBuf {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(env.cluster.ca_pem().unwrap());
    env.dir.write(
        name,
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: default\ncurrent-context: c\nusers:\n- name: u\n  user:\n{user}",
            env.cluster.url()
        ),
    )
}

/// The copy journey with `--rm`, attached to a command that prints and exits 3.
const COPY_RM: &[&str] = &[
    "web-0",
    "--image=busybox",
    "--copy-to=web-fault",
    "-c",
    "dbg",
    "--rm",
    "--attach",
    "--",
    "sh",
    "-c",
    "echo hello; exit 3",
];

#[track_caller]
fn assert_copy_removed(env: &Env) {
    assert!(
        env.cluster.pod("default", "web-fault").is_none(),
        "the --rm copy was left behind: {:#?}",
        env.request_lines()
    );
}

// --- reaching the server -------------------------------------------------------------------

#[test]
fn connection_refused() {
    let env = Env::new("f-refused");
    // A port that was just free: bind, learn it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("https://127.0.0.1:{port}");
    let t = Instant::now();
    let r = env.run(&["-s", &server, "web-0", "--image=busybox"]);
    expect(
        &r,
        1,
        &format!("The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?"),
        t,
        Duration::from_secs(10),
    );
}

#[test]
fn dns_failure() {
    let env = Env::new("f-dns");
    let t = Instant::now();
    let r = env.run(&[
        "-s",
        "https://does-not-exist.invalid",
        "--request-timeout=10s",
        "web-0",
        "--image=busybox",
    ]);
    expect(
        &r,
        1,
        "Unable to connect to the server: dial tcp: lookup does-not-exist.invalid",
        t,
        Duration::from_secs(20),
    );
    r.assert_stderr_contains("no such host");
}

// --- TLS -------------------------------------------------------------------------------------

#[test]
fn tls_unknown_authority() {
    let env = Env::new("f-unknown-ca");
    let other = fakecluster::FakeCluster::start(Options::default()).unwrap();
    let ca = env.dir.write("other-ca.pem", &other.ca_pem().unwrap());
    let t = Instant::now();
    let r = env.run(&[
        "--certificate-authority",
        ca.to_str().unwrap(),
        "web-0",
        "--image=busybox",
    ]);
    expect(
        &r,
        1,
        "Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority",
        t,
        Duration::from_secs(10),
    );
    assert!(env.cluster.requests().is_empty(), "a request got through");
}

#[test]
fn tls_wrong_host() {
    let env = Env::new("f-wrong-host");
    let t = Instant::now();
    let r = env.run(&[
        "--tls-server-name",
        "wrong.example",
        "web-0",
        "--image=busybox",
    ]);
    expect(
        &r,
        1,
        "Unable to connect to the server: tls: failed to verify certificate: x509: certificate is valid for localhost, not wrong.example",
        t,
        Duration::from_secs(10),
    );
    assert!(env.cluster.requests().is_empty(), "a request got through");
}

#[test]
fn tls_expired_certificate() {
    let env = Env::with(
        "f-expired",
        Options {
            expired_server_cert: true,
            ..Options::default()
        },
    );
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox"]);
    expect(
        &r,
        1,
        "Unable to connect to the server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time ",
        t,
        Duration::from_secs(10),
    );
    r.assert_stderr_contains("is after 2021-01-01T00:00:00Z");
    assert!(env.cluster.requests().is_empty(), "a request got through");
}

#[test]
fn tls_client_certificate_rejected() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let env = Env::new("f-client-cert");
    // A certificate from another cluster's CA: the server's TLS layer refuses it.
    let other = fakecluster::FakeCluster::start(Options::default()).unwrap();
    let foreign = other.client_cert().unwrap();
    let kc = kubeconfig_with_user(
        &env,
        "foreign-cert",
        &format!(
            "    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(&foreign.cert_pem),
            b64(&foreign.key_pem)
        ),
    );
    let t = Instant::now();
    let r = env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "web-0",
        "--image=busybox",
    ]);
    expect(
        &r,
        1,
        "Unable to connect to the server: remote error: tls: ",
        t,
        Duration::from_secs(10),
    );
    r.assert_stderr_contains("check the client certificate");
    assert!(env.cluster.requests().is_empty(), "a request got through");
}

// --- credentials -----------------------------------------------------------------------------

/// An exec plugin (a shell script) that hands out `first` on its first run and `later` after.
fn exec_plugin(env: &Env, first: &str, later: &str) -> std::path::PathBuf {
    let counter = env.dir.path().join("plugin-runs");
    let script = format!(
        "#!/bin/sh\nn=$(cat '{c}' 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > '{c}'\nif [ $n -eq 1 ]; then tok='{first}'; else tok='{later}'; fi\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"%s\"}}}}' \"$tok\"\n",
        c = counter.display()
    );
    let path = env.dir.write("plugin.sh", &script);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    kubeconfig_with_user(
        env,
        "exec-kubeconfig",
        &format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            path.display()
        ),
    )
}

fn plugin_runs(env: &Env) -> usize {
    std::fs::read_to_string(env.dir.path().join("plugin-runs"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn unauthorized_then_the_exec_plugin_refreshes() {
    let env = Env::new("f-401-refresh");
    let good = env.cluster.token().to_string();
    let kc = exec_plugin(&env, "stale-token", &good);
    let t = Instant::now();
    let r = env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
    ]);
    r.assert_code(0);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(plugin_runs(&env), 2, "{}", r.dump());
    assert_eq!(count(&env, "PATCH", "/ephemeralcontainers"), 1);
}

#[test]
fn unauthorized_and_the_exec_plugin_cannot_help() {
    let env = Env::new("f-401-stuck");
    let kc = exec_plugin(&env, "stale-token", "still-stale");
    let t = Instant::now();
    let r = env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "web-0",
        "--image=busybox",
    ]);
    expect(
        &r,
        1,
        "error: You must be logged in to the server (Unauthorized)",
        t,
        Duration::from_secs(10),
    );
    // One refresh, not a loop.
    assert_eq!(plugin_runs(&env), 2, "{}", r.dump());
}

#[test]
fn forbidden_names_the_missing_permission() {
    let env = Env::new("f-403");
    let token = env.cluster.readonly_token().to_string();
    let t = Instant::now();
    let r = env.run(&["--token", &token, "web-0", "--image=busybox"]);
    expect(
        &r,
        1,
        "Error from server (Forbidden): pods \"web-0\" is forbidden: User \"fake-viewer\" cannot patch resource \"pods/ephemeralcontainers\" in API group \"\" in the namespace \"default\"",
        t,
        Duration::from_secs(10),
    );
}

// --- API answers -----------------------------------------------------------------------------

#[test]
fn pod_not_found() {
    let env = Env::new("f-404-pod");
    let t = Instant::now();
    let r = env.run(&["nope", "--image=busybox"]);
    expect(
        &r,
        1,
        "Error from server (NotFound): pods \"nope\" not found",
        t,
        Duration::from_secs(10),
    );
    assert!(env.mutations().is_empty());
}

#[test]
fn ephemeral_containers_disabled() {
    let env = Env::new("f-404-sub");
    env.cluster
        .set_fault_on(Fault::NoSuchResource { requests: 1 }, "ephemeralcontainers");
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox"]);
    expect(
        &r,
        1,
        "error: ephemeral containers are disabled for this cluster (error from server: \"the server could not find the requested resource\")",
        t,
        Duration::from_secs(10),
    );
}

#[test]
fn conflict_on_the_patch_is_retried_with_the_fresh_pod() {
    let env = Env::new("f-409");
    env.cluster.set_fault(Fault::ConflictOnNextPatch);
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "-c", "dbg"]);
    r.assert_code(0);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(count(&env, "PATCH", "/ephemeralcontainers"), 2);
    // The pod was read again between the two patches.
    let lines = env.request_lines();
    let first = lines.iter().position(|l| l.starts_with("PATCH")).unwrap();
    assert!(
        lines[first..]
            .iter()
            .any(|l| l == "GET /api/v1/namespaces/default/pods/web-0"),
        "{lines:#?}"
    );
}

#[test]
fn conflict_retries_are_bounded() {
    let env = Env::new("f-409-bounded");
    for _ in 0..10 {
        env.cluster.set_fault(Fault::ConflictOnNextPatch);
    }
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "-c", "dbg"]);
    expect(
        &r,
        1,
        "Error from server (Conflict): Operation cannot be fulfilled on pods \"web-0\": the object has been modified; please apply your changes to the latest version and try again",
        t,
        Duration::from_secs(10),
    );
    assert_eq!(count(&env, "PATCH", "/ephemeralcontainers"), 4);
}

#[test]
fn gone_watch_event_relists() {
    let env = Env::with(
        "f-410-event",
        Options {
            kubelet_delay_ms: 300,
            ..Options::default()
        },
    );
    // The first watch (opened with the create, before any resourceVersion is known) drops
    // after the pod's first event; the resumed one, from that resourceVersion, is too old.
    env.cluster.set_fault(Fault::DropWatchAfter { events: 1 });
    env.cluster
        .set_fault_on(Fault::GoneOnNextWatch, "resourceVersion=");
    let t = Instant::now();
    let r = env.run(COPY_RM);
    r.assert_code(3);
    assert!(t.elapsed() < Duration::from_secs(15), "{}", r.dump());
    assert!(r.stdout().contains("hello"), "{}", r.dump());
    assert!(lists(&env) >= 1, "no relist: {:#?}", env.request_lines());
    assert_copy_removed(&env);
}

#[test]
fn gone_watch_http_relists() {
    let env = Env::with(
        "f-410-http",
        Options {
            kubelet_delay_ms: 300,
            ..Options::default()
        },
    );
    env.cluster.set_fault(Fault::DropWatchAfter { events: 1 });
    env.cluster
        .set_fault_on(Fault::GoneHttpOnNextWatch, "resourceVersion=");
    let t = Instant::now();
    let r = env.run(COPY_RM);
    r.assert_code(3);
    assert!(t.elapsed() < Duration::from_secs(15), "{}", r.dump());
    assert!(lists(&env) >= 1, "no relist: {:#?}", env.request_lines());
    assert_copy_removed(&env);
}

#[test]
fn validation_error_shows_the_servers_message() {
    let env = Env::new("f-422");
    let custom = env.dir.write(
        "custom.json",
        r#"{"volumeMounts":[{"name":"no-such-volume","mountPath":"/x"}]}"#,
    );
    let t = Instant::now();
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--custom",
        custom.to_str().unwrap(),
    ]);
    expect(
        &r,
        1,
        "The Pod \"web-0\" is invalid: spec.ephemeralContainers[0].volumeMounts[0].name: Not found: \"no-such-volume\"",
        t,
        Duration::from_secs(10),
    );
}

#[test]
fn too_many_requests_honours_retry_after() {
    let env = Env::new("f-429");
    env.cluster.set_fault_on(
        Fault::TooManyRequests {
            requests: 2,
            retry_after_secs: 1,
        },
        "ephemeralcontainers",
    );
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "-c", "dbg"]);
    r.assert_code(0);
    assert!(t.elapsed() >= Duration::from_secs(2), "Retry-After ignored");
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(count(&env, "PATCH", "/ephemeralcontainers"), 3);
}

#[test]
fn too_many_requests_gives_up() {
    let env = Env::new("f-429-bounded");
    env.cluster.set_fault_on(
        Fault::TooManyRequests {
            requests: 100,
            retry_after_secs: 1,
        },
        "ephemeralcontainers",
    );
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "-c", "dbg"]);
    expect(
        &r,
        1,
        "Error from server (TooManyRequests): Too many requests, please try again later.",
        t,
        Duration::from_secs(15),
    );
    let patches = count(&env, "PATCH", "/ephemeralcontainers");
    assert!((2..=11).contains(&patches), "{patches} attempts");
}

#[test]
fn retry_after_is_bounded_by_the_request_timeout() {
    let env = Env::new("f-429-long");
    env.cluster.set_fault_on(
        Fault::TooManyRequests {
            requests: 100,
            retry_after_secs: 3600,
        },
        "ephemeralcontainers",
    );
    let t = Instant::now();
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--request-timeout=3s",
    ]);
    expect(
        &r,
        1,
        "Error from server (TooManyRequests): Too many requests, please try again later.",
        t,
        Duration::from_secs(8),
    );
}

#[test]
fn unavailable_honours_retry_after() {
    let env = Env::new("f-503");
    env.cluster.set_fault_on(
        Fault::Unavailable {
            requests: 2,
            retry_after_secs: 1,
        },
        "/pods/web-0",
    );
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "-c", "dbg"]);
    r.assert_code(0);
    assert!(t.elapsed() >= Duration::from_secs(2), "Retry-After ignored");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn internal_error() {
    let env = Env::new("f-500");
    env.cluster
        .set_fault_on(Fault::InternalError { requests: 1 }, "ephemeralcontainers");
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "-c", "dbg"]);
    expect(
        &r,
        1,
        "Error from server (InternalError): Internal error occurred: fakecluster: injected fault",
        t,
        Duration::from_secs(10),
    );
    // No Retry-After: not retried.
    assert_eq!(count(&env, "PATCH", "/ephemeralcontainers"), 1);
}

#[test]
fn slow_body_past_the_request_timeout() {
    let env = Env::new("f-slow-body");
    env.cluster.set_fault_on(
        Fault::SlowBody {
            requests: 5,
            delay_ms: 1500,
        },
        "/pods/web-0",
    );
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "--request-timeout=1s"]);
    expect(
        &r,
        1,
        "Unable to connect to the server: ",
        t,
        Duration::from_secs(6),
    );
    r.assert_stderr_contains("(--request-timeout)");
    assert!(env.mutations().is_empty());
}

#[test]
fn slow_server_past_the_request_timeout() {
    let env = Env::with(
        "f-slow",
        Options {
            latency_ms: 3000,
            ..Options::default()
        },
    );
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "--request-timeout=1s"]);
    expect(
        &r,
        1,
        "Unable to connect to the server: GET https://127.0.0.1:",
        t,
        Duration::from_secs(6),
    );
    r.assert_stderr_contains(
        "/api/v1/namespaces/default/pods/web-0 timed out after 1s (--request-timeout)",
    );
}

#[test]
fn watch_dropped_mid_wait_resumes() {
    let env = Env::with(
        "f-drop-watch",
        Options {
            kubelet_delay_ms: 300,
            ..Options::default()
        },
    );
    env.cluster.set_fault(Fault::DropWatchAfter { events: 0 });
    env.cluster.set_fault(Fault::DropWatchAfter { events: 1 });
    let t = Instant::now();
    let r = env.run(COPY_RM);
    r.assert_code(3);
    assert!(t.elapsed() < Duration::from_secs(15), "{}", r.dump());
    assert!(r.stdout().contains("hello"), "{}", r.dump());
    let w = watches(&env);
    assert!(w.len() >= 2, "no resumed watch: {:#?}", env.request_lines());
    // Resumed from a resourceVersion, not from scratch.
    assert!(
        w[1..].iter().all(|q| q["query"]["resourceVersion"]
            .as_str()
            .is_some_and(|v| v != "0" && !v.is_empty())),
        "{w:#?}"
    );
    // The first watch is opened with the create and needs no list; a drop must not cause one.
    assert_eq!(lists(&env), 0, "relisted instead of resuming");
    assert_copy_removed(&env);
}

#[test]
fn garbage_body() {
    let env = Env::new("f-garbage");
    env.cluster
        .set_fault_on(Fault::Garbage { requests: 1 }, "/pods/web-0");
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox"]);
    expect(
        &r,
        1,
        "error: failed to decode the response to GET /api/v1/namespaces/default/pods/web-0: ",
        t,
        Duration::from_secs(10),
    );
    assert!(env.mutations().is_empty());
}

#[test]
fn websocket_closed_mid_session() {
    let env = Env::new("f-ws-close");
    env.cluster
        .set_fault(Fault::CloseWebSocketAfter { frames: 1 });
    let t = Instant::now();
    let r = env.run_with_stdin(
        &[
            "web-0",
            "--image=busybox",
            "--copy-to=web-fault",
            "-c",
            "dbg",
            "-i",
            "--rm",
            // Lost is final without reconnecting (tests/converge.rs has the reattach).
            "--reconnect-window=0",
            "--",
            "cat",
        ],
        Some("one\n"),
    );
    expect(
        &r,
        126,
        "error: lost the connection to the debug container: the server closed the connection without ending the session",
        t,
        Duration::from_secs(15),
    );
    assert_copy_removed(&env);
}

#[test]
fn upgrade_never_answered() {
    let env = Env::new("f-upgrade-hang");
    // Every attach hangs: one that is made again would go through, and kdebug tries again.
    for _ in 0..5 {
        env.cluster.set_fault(Fault::UpgradeNeverAnswers);
    }
    let t = Instant::now();
    let r = env.run_with_stdin(
        &[
            "web-0",
            "--image=busybox",
            "--copy-to=web-fault",
            "-c",
            "dbg",
            "-i",
            "--rm",
            "--request-timeout=2s",
            "--",
            "sh",
            "-c",
            // Still running when the attach fails, past kdebug's patience with a refusal: a
            // container that has already exited is no fallback but a finished run (R5, R10).
            "echo from-logs; sleep 6; exit 4",
        ],
        Some(""),
    );
    // kubectl's fallback: the logs, then the container's own exit code.
    expect(
        &r,
        4,
        "warning: couldn't attach to pod/web-fault, falling back to streaming logs: ",
        t,
        Duration::from_secs(15),
    );
    r.assert_stderr_contains("did not answer the attach upgrade within 2s");
    assert_copy_removed(&env);
}

#[test]
fn upgrade_refused() {
    let env = Env::new("f-upgrade-refuse");
    for _ in 0..10 {
        env.cluster.set_fault(Fault::RefuseUpgrade);
    }
    let t = Instant::now();
    let r = env.run_with_stdin(
        &[
            "web-0",
            "--image=busybox",
            "--copy-to=web-fault",
            "-c",
            "dbg",
            "-i",
            "--rm",
            "--",
            "sh",
            "-c",
            // Still running when the attach fails, past kdebug's patience with a refusal: a
            // container that has already exited is no fallback but a finished run (R5, R10).
            "echo from-logs; sleep 6; exit 4",
        ],
        Some(""),
    );
    expect(
        &r,
        4,
        "warning: couldn't attach to pod/web-fault, falling back to streaming logs: Error from server (BadRequest): fakecluster: upgrade refused",
        t,
        Duration::from_secs(15),
    );
    assert_copy_removed(&env);
}

#[test]
fn wait_timeout_removes_the_copy() {
    let env = Env::with(
        "f-wait-timeout",
        Options {
            kubelet_delay_ms: 30_000,
            ..Options::default()
        },
    );
    let t = Instant::now();
    let mut args = COPY_RM.to_vec();
    args.insert(0, "--timeout=1s");
    let r = env.run(&args);
    expect(
        &r,
        124,
        "error: timed out after 1s waiting for container dbg to start",
        t,
        Duration::from_secs(10),
    );
    assert_copy_removed(&env);
}

#[test]
fn server_error_while_waiting_removes_the_copy() {
    let env = Env::with(
        "f-500-wait",
        Options {
            kubelet_delay_ms: 500,
            ..Options::default()
        },
    );
    // Every list of the wait fails; the pod created before it must still go.
    env.cluster.set_fault_on(
        Fault::InternalError { requests: 1000 },
        "fieldSelector=metadata.name",
    );
    let t = Instant::now();
    let r = env.run(COPY_RM);
    expect(
        &r,
        1,
        "Error from server (InternalError): Internal error occurred: fakecluster: injected fault",
        t,
        Duration::from_secs(10),
    );
    assert_copy_removed(&env);
}
