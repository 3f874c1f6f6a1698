//! Connecting like kubectl: TLS verification, SNI, client certificates, tokens, basic auth,
//! impersonation, exec plugins (cached, re-run after a 401, install hints), and redaction.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use serde_json::Value;

use crate::util::{Dir, Env};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A kubeconfig for `env`'s cluster with the given cluster and user fields.
fn kubeconfig(env: &Env, server: &str, cluster_extra: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: {server}\n{cluster_extra}contexts:\n- name: c\n  context: {{cluster: k, user: u, namespace: default}}\nusers:\n- name: u\n  user:\n{user}",
    )
    .replace("@CA@", &b64(&env.cluster.ca_pem().unwrap_or_default()))
}

fn with_config(env: &Env, dir: &Dir, config: &str, args: &[&str]) -> crate::util::Run {
    let path = dir.write("config", config);
    let mut all = vec!["--kubeconfig", path.to_str().unwrap()];
    all.extend_from_slice(args);
    env.run(&all)
}

fn last_request(env: &Env) -> Value {
    env.cluster.requests().pop().expect("a request")
}

#[test]
fn verification_with_the_right_ca_and_failure_with_another() {
    let env = Env::new("tls-ca");
    let dir = Dir::new("tls-ca-cfg");
    let token = format!("    token: {}\n", env.cluster.token());
    let ok = kubeconfig(
        &env,
        &env.cluster.url(),
        "    certificate-authority-data: @CA@\n",
        &token,
    );
    with_config(&env, &dir, &ok, &["web-0", "--image=busybox", "-q"]).assert_code(0);

    // Another cluster's CA: refused, saying why.
    let other = fakecluster::FakeCluster::start(fakecluster::Options::default()).unwrap();
    let wrong = kubeconfig(
        &env,
        &env.cluster.url(),
        "    certificate-authority-data: @CA@\n",
        &token,
    )
    .replace(
        &b64(&env.cluster.ca_pem().unwrap()),
        &b64(&other.ca_pem().unwrap()),
    );
    with_config(&env, &dir, &wrong, &["web-0", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority");

    // insecure-skip-tls-verify needs no CA.
    let insecure = kubeconfig(
        &env,
        &env.cluster.url(),
        "    insecure-skip-tls-verify: true\n",
        &token,
    );
    with_config(&env, &dir, &insecure, &["web-0", "--image=busybox", "-q"]).assert_code(0);
    // And the flag does the same for a config without a CA.
    let plain = kubeconfig(&env, &env.cluster.url(), "", &token);
    with_config(
        &env,
        &dir,
        &plain,
        &[
            "web-0",
            "--image=busybox",
            "-q",
            "--insecure-skip-tls-verify",
        ],
    )
    .assert_code(0);
}

#[test]
fn tls_server_name_sets_the_verified_name() {
    let env = Env::new("tls-sni");
    let dir = Dir::new("tls-sni-cfg");
    let token = format!("    token: {}\n", env.cluster.token());
    let cfg = kubeconfig(
        &env,
        &env.cluster.url(),
        "    certificate-authority-data: @CA@\n    tls-server-name: localhost\n",
        &token,
    );
    with_config(&env, &dir, &cfg, &["web-0", "--image=busybox", "-q"]).assert_code(0);
    let bad = cfg.replace(
        "tls-server-name: localhost",
        "tls-server-name: wrong.example",
    );
    with_config(&env, &dir, &bad, &["web-0", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("x509: certificate is valid for localhost, not wrong.example");
}

#[test]
fn client_certificate_auth() {
    let env = Env::new("client-cert");
    let r = env.run(&["--context", "fake-cert", "web-0", "--image=busybox", "-q"]);
    r.assert_code(0);
    let req = last_request(&env);
    assert_eq!(req["auth"]["type"], "client-cert", "{req:#}");
    assert_eq!(req["auth"]["ok"], true, "{req:#}");
}

#[test]
fn token_basic_auth_and_impersonation_headers_arrive() {
    let env = Env::new("headers");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-q",
        "--as",
        "jane",
        "--as-group",
        "dev",
        "--as-group",
        "ops",
        "--as-uid",
        "42",
    ]);
    r.assert_code(0);
    let req = last_request(&env);
    assert_eq!(req["auth"]["type"], "bearer", "{req:#}");
    let h = req["all_headers"].clone();
    let h = if h.is_null() {
        req["headers"].clone()
    } else {
        h
    };
    let text = h.to_string();
    // The log keeps one value per header name; the groups are checked below from the auth view.
    assert!(text.contains("jane") && text.contains("42"), "{h:#}");
    assert!(text.contains("kdebug/v"), "{h:#}");
    assert_eq!(
        req["impersonated"]["groups"],
        serde_json::json!(["dev", "ops"]),
        "{req:#}"
    );

    let dir = Dir::new("basic-cfg");
    let cfg = kubeconfig(
        &env,
        &env.cluster.url(),
        "    certificate-authority-data: @CA@\n",
        "    username: admin\n    password: s3cret-basic\n",
    );
    let r = with_config(&env, &dir, &cfg, &["web-0", "--image=busybox", "-q"]);
    let req = last_request(&env);
    assert_eq!(req["auth"]["type"], "basic", "{req:#}{}", r.dump());
    assert!(!r.stderr().contains("s3cret-basic"));
}

#[test]
fn no_credentials_over_plain_http() {
    let env = Env::with(
        "plain-http",
        fakecluster::Options {
            tls: false,
            ..Default::default()
        },
    );
    let dir = Dir::new("plain-cfg");
    let cfg = kubeconfig(
        &env,
        &env.cluster.url(),
        "",
        &format!("    token: {}\n", env.cluster.token()),
    );
    let _ = with_config(&env, &dir, &cfg, &["web-0", "--image=busybox", "-q"]);
    for req in env.cluster.requests() {
        assert!(
            !req.to_string().contains("Bearer"),
            "a token went over http: {req:#}"
        );
    }
}

fn write_plugin(dir: &Path, body: &str) -> std::path::PathBuf {
    let p = dir.join("plugin.sh");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn exec_user(plugin: &Path) -> String {
    format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n      installHint: install the test plugin\n",
        plugin.display()
    )
}

#[test]
fn exec_plugin_runs_once_and_again_after_a_401() {
    let env = Env::new("exec-plugin");
    let dir = Dir::new("exec-cfg");
    let count = dir.path().join("count");
    let good = env.cluster.token().to_string();
    // First call hands out a bad token, later calls the good one.
    let plugin = write_plugin(
        dir.path(),
        &format!(
            "echo x >> {c}\nn=$(wc -l < {c})\nif [ \"$n\" -eq 1 ]; then t=bad-token; else t={good}; fi\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"%s\"}}}}' \"$t\"",
            c = count.display()
        ),
    );
    let cfg = kubeconfig(
        &env,
        &env.cluster.url(),
        "    certificate-authority-data: @CA@\n",
        &exec_user(&plugin),
    );
    // Several requests (get, patch, list, watch, logs): one refresh after the 401, no more.
    let r = with_config(
        &env,
        &dir,
        &cfg,
        &[
            "web-0",
            "--image=busybox",
            "-c",
            "dbg",
            "--attach",
            "--",
            "sh",
            "-c",
            "echo via-exec",
        ],
    );
    r.assert_code(0).assert_stdout_contains("via-exec");
    let runs = std::fs::read_to_string(&count).unwrap().lines().count();
    assert_eq!(runs, 2, "the plugin ran {runs} times{}", r.dump());
    assert!(!r.stderr().contains(&good));
}

#[test]
fn missing_exec_plugin_shows_its_install_hint() {
    let env = Env::new("exec-missing");
    let dir = Dir::new("exec-missing-cfg");
    let cfg = kubeconfig(
        &env,
        &env.cluster.url(),
        "    certificate-authority-data: @CA@\n",
        &exec_user(Path::new("/nonexistent/kubectl-login")),
    );
    with_config(&env, &dir, &cfg, &["web-0", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("install the test plugin");
}

#[test]
fn verbose_tracing_never_shows_secrets() {
    let env = Env::new("verbose");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--attach",
        "-v=9",
        "--",
        "sh",
        "-c",
        "echo v",
    ]);
    r.assert_code(0);
    assert!(r.stderr().contains("round_trippers"), "{}", r.dump());
    assert!(r.stderr().contains("Request Body"), "{}", r.dump());
    assert!(
        !r.stderr().contains(env.cluster.token()),
        "token leaked{}",
        r.dump()
    );
    assert!(!r.stdout().contains(env.cluster.token()));
}

/// A minimal CONNECT proxy on loopback that counts the tunnels it opened.
fn connect_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = tunnels.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let count = count.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let Ok(upstream) = TcpStream::connect(&target) else {
                    return;
                };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut c = client;
                c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let (mut c2, mut u2) = (c.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || std::io::copy(&mut u2, &mut c2));
                let mut u = upstream;
                let _ = std::io::copy(&mut c, &mut u);
            });
        }
    });
    (format!("http://{addr}"), tunnels)
}

#[test]
fn proxy_url_carries_requests_and_the_attach() {
    let env = Env::new("proxy");
    let dir = Dir::new("proxy-cfg");
    let (proxy, tunnels) = connect_proxy();
    let token = format!("    token: {}\n", env.cluster.token());
    let cfg = kubeconfig(
        &env,
        &env.cluster.url(),
        &format!("    certificate-authority-data: @CA@\n    proxy-url: {proxy}\n"),
        &token,
    );
    let path = dir.write("config", &cfg);
    let r = env.run_with_stdin(
        &[
            "--kubeconfig",
            path.to_str().unwrap(),
            "web-0",
            "--image=busybox",
            "-c",
            "dbg",
            "-i",
            "--",
            "cat",
        ],
        Some("through the proxy\n"),
    );
    r.assert_code(0).assert_stdout_contains("through the proxy");
    // At least one tunnel for the REST requests and one for the WebSocket.
    assert!(
        tunnels.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "{}",
        r.dump()
    );
}
