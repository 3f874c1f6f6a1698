//! The server as a whole: the binary's contract, TLS and auth, discovery, lists and watches,
//! fixtures, shell mode.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tungstenite::Message;

#[test]
fn binary_prints_ready_writes_kubeconfig_and_stops_on_sigterm() {
    let dir = TempDir::new("bin");
    let kc = dir.path().join("kc");
    let log = dir.path().join("req.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fakecluster"))
        .args(["--listen", "127.0.0.1:0", "--plain", "--write-kubeconfig"])
        .arg(&kc)
        .arg("--request-log")
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("ready ")
        .expect("ready line")
        .trim()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let text = std::fs::read_to_string(&kc).unwrap();
    assert!(text.contains(&format!("server: {url}")));
    assert!(text.contains("current-context: fake"));
    assert!(text.contains("namespace: default"));
    let token = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    // The kubeconfig's token works.
    let mut s = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    write!(s, "GET /api/v1/namespaces/default/pods/web-0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let r = read_response(&mut BufReader::new(s)).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["name"], "web-0");
    // The request log file has the request as a JSON line.
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&log)
            .map(|t| t.contains('\n'))
            .unwrap_or(false)
    }));
    let logged: Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(logged["path"], "/api/v1/namespaces/default/pods/web-0");
    assert_eq!(logged["headers"]["Authorization"], "Bearer <redacted>");
    // SIGTERM stops it.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "{st:?}");
            break;
        }
        assert!(Instant::now() < end, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Bad flags are an error with a message.
    let out = Command::new(env!("CARGO_BIN_EXE_fakecluster"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
}

fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut inside = false;
    for l in pem.lines() {
        if l.starts_with("-----BEGIN CERTIFICATE") {
            inside = true;
            cur.clear();
        } else if l.starts_with("-----END CERTIFICATE") {
            inside = false;
            out.push(
                base64::engine::general_purpose::STANDARD
                    .decode(&cur)
                    .unwrap(),
            );
        } else if inside {
            cur.push_str(l.trim());
        }
    }
    out
}

fn tls_get(fc: &FakeCluster, auth: Option<&str>, path: &str) -> Resp {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(&fc.ca_pem().unwrap()) {
        roots
            .add(rustls::pki_types::CertificateDer::from(c))
            .unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let sock = TcpStream::connect(fc.addr()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    read_response(&mut BufReader::new(tls)).unwrap()
}

#[test]
fn tls_with_the_generated_ca_and_auth_failures() {
    let fc = FakeCluster::start(Options::default()).unwrap();
    assert!(fc.url().starts_with("https://127.0.0.1:"));
    let r = tls_get(
        &fc,
        Some(&format!("Bearer {}", fc.token())),
        "/api/v1/nodes/node-1",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["name"], "node-1");
    let unauthorized = json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401});
    let r = tls_get(&fc, Some("Bearer nope"), "/api/v1/nodes");
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), unauthorized);
    let r = tls_get(&fc, None, "/api");
    assert_eq!(r.status, 401);
    assert_eq!(
        tls_get(&fc, None, "/version").status,
        200,
        "/version is public"
    );
    let r = tls_get(
        &fc,
        Some(&format!("Bearer {}", fc.readonly_token())),
        "/api/v1/namespaces/default/pods/web-0/log?container=app",
    );
    assert_eq!(r.status, 200);
    let kc = fc.kubeconfig();
    assert!(kc.contains("certificate-authority-data: "));
    assert!(kc.contains("client-certificate-data: "));
    let cert = fc.client_cert().unwrap();
    assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(fc.requests().iter().any(|r| r["auth"]["ok"] == false));
}

#[test]
fn discovery_documents() {
    let fc = plain();
    let v = get(&fc, "/version").json();
    assert_eq!(v["gitVersion"], "v1.32.4");
    let agg = raw(
        &fc,
        "GET",
        "/api",
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
        b"",
    );
    assert_eq!(
        agg.header("Content-Type"),
        Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    );
    let pods = agg.json()["items"][0]["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "pods")
        .cloned()
        .unwrap();
    let subs: Vec<&str> = pods["subresources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subresource"].as_str().unwrap())
        .collect();
    for s in ["attach", "ephemeralcontainers", "exec", "log", "status"] {
        assert!(subs.contains(&s), "{s}");
    }
    let apis = raw(
        &fc,
        "GET",
        "/apis",
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        )],
        b"",
    )
    .json();
    let groups: Vec<&str> = apis["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["apps", "batch"]);
    assert_eq!(get(&fc, "/api").json()["versions"], json!(["v1"]));
    let rl = get(&fc, "/api/v1").json();
    assert!(rl["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "pods/ephemeralcontainers"));
    assert_eq!(get(&fc, "/apis/apps/v1").json()["groupVersion"], "apps/v1");
    assert_eq!(get(&fc, "/apis/nope/v1").status, 404);
    // Workloads from the default world.
    assert_eq!(
        get(&fc, "/apis/apps/v1/namespaces/default/deployments/web").json()["spec"]["selector"]
            ["matchLabels"]["app"],
        "web"
    );
    assert_eq!(
        get(
            &fc,
            "/apis/apps/v1/namespaces/default/replicasets/web-5d4f8"
        )
        .status,
        200
    );
    assert_eq!(
        get(&fc, "/api/v1/namespaces/default/services/web").status,
        200
    );
    assert_eq!(
        get(&fc, "/apis/batch/v1/namespaces/default/jobs").json()["kind"],
        "JobList"
    );
}

#[test]
fn lists_selectors_and_watch_semantics() {
    let fc = FakeCluster::start(Options {
        tls: false,
        bookmark_interval_ms: 100,
        ..Options::default()
    })
    .unwrap();
    let names = |q: &str| -> Vec<String> {
        get(&fc, &format!("/api/v1/namespaces/default/pods?{q}")).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(""), ["lonely", "web-0"]);
    assert_eq!(names("fieldSelector=metadata.name%3Dweb-0"), ["web-0"]);
    assert_eq!(names("labelSelector=app%3Dweb"), ["web-0"]);
    assert_eq!(names("labelSelector=app!%3Dweb"), ["lonely"]);
    assert_eq!(
        names("labelSelector=app+in+(web,lonely)"),
        ["lonely", "web-0"]
    );
    assert_eq!(names("labelSelector=app+notin+(web)"), ["lonely"]);
    assert_eq!(names("labelSelector=tier"), ["web-0"]);
    assert_eq!(names("labelSelector=!tier"), ["lonely"]);
    let list = get(&fc, "/api/v1/namespaces/default/pods").json();
    assert_eq!(list["kind"], "PodList");
    assert!(list["items"][0].get("kind").is_none());
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&fc, "/api/v1/pods").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Watch from the list's resourceVersion: only changes, filtered, plus bookmarks.
    let mut w = Stream::open(&fc, &format!("/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dlonely&allowWatchBookmarks=true&timeoutSeconds=2"));
    let mut web = fc.pod("default", "web-0").unwrap();
    web["metadata"]["labels"]["x"] = json!("1");
    fc.put_pod(web);
    let mut lonely = fc.pod("default", "lonely").unwrap();
    lonely["metadata"]["labels"]["x"] = json!("1");
    fc.put_pod(lonely);
    let mut types = Vec::new();
    let start = Instant::now();
    while let Some(ev) = w.next_event() {
        if ev["type"] != "BOOKMARK" {
            assert_eq!(ev["object"]["metadata"]["name"], "lonely");
        } else {
            assert_eq!(ev["object"]["kind"], "Pod");
            assert!(ev["object"]["metadata"]["resourceVersion"].is_string());
        }
        types.push(ev["type"].as_str().unwrap().to_string());
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "timeoutSeconds ends the watch"
    );
    assert_eq!(types[0], "MODIFIED");
    assert!(types.iter().any(|t| t == "BOOKMARK"), "{types:?}");
    // resourceVersion=0 starts with ADDED for what exists; deletes are seen.
    let mut w = Stream::open(&fc, "/api/v1/namespaces/default/pods?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dlonely&timeoutSeconds=1");
    assert_eq!(w.next_event().unwrap()["type"], "ADDED");
    fc.delete_pod("default", "lonely");
    assert_eq!(w.next_event().unwrap()["type"], "DELETED");
    // A kubelet run seen through a watch.
    let rv = get(&fc, "/api/v1/namespaces/default/pods").json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut w = Stream::open(
        &fc,
        &format!(
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}&timeoutSeconds=2"
        ),
    );
    fc.create_pod(json!({"metadata":{"name":"n"},"spec":{"containers":[{"name":"c","image":"x:1","command":["sleep","9"]}]}})).unwrap();
    let mut states = Vec::new();
    while let Some(ev) = w.next_event() {
        if ev["object"]["metadata"]["name"] == "n" {
            states.push((
                ev["type"].as_str().unwrap().to_string(),
                ev["object"]["status"]["phase"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                state_of(&ev["object"], "c"),
            ));
            if states.last().unwrap().1 == "Running" {
                break;
            }
        }
    }
    assert_eq!(states[0].0, "ADDED");
    assert_eq!(states[0].1, "Pending");
    assert!(
        states.iter().any(|s| s.2.as_deref() == Some("waiting")),
        "{states:?}"
    );
    assert_eq!(states.last().unwrap().2.as_deref(), Some("running"));
    let pod = fc.pod("default", "n").unwrap();
    assert_eq!(pod["spec"]["nodeName"], "node-1");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["image"],
        "docker.io/library/x:1"
    );
}

#[test]
fn fixture_files_and_annotations() {
    let fixture = json!({
        "resourceVersion": 500,
        "pods": [
            {"metadata": {"name": "a", "namespace": "team", "labels": {"k": "v"}}, "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo ready; sleep 3600"]}]}},
            {"metadata": {"name": "b", "annotations": {"fake.kdebug/log.c": "line one\nline two\n"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        ],
        "nodes": [{"metadata": {"name": "worker-9"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.99"}]}}],
        "statefulsets": [{"metadata": {"name": "db", "namespace": "team"}, "spec": {"selector": {"matchLabels": {"k": "v"}}}}]
    });
    let fc = FakeCluster::start(Options {
        tls: false,
        fixture: Some(fixture),
        ..Options::default()
    })
    .unwrap();
    let a = fc.pod("team", "a").unwrap();
    assert_eq!(
        a["status"]["phase"], "Running",
        "pods without status are made running"
    );
    assert_eq!(a["spec"]["containers"][0]["imagePullPolicy"], "Always");
    assert!(fc.object("namespaces", "", "team").is_some());
    assert!(fc.object("nodes", "", "node-1").is_none());
    assert_eq!(
        get(&fc, "/apis/apps/v1/namespaces/team/statefulsets/db").status,
        200
    );
    assert_eq!(get(&fc, "/api/v1/namespaces/default/pods/b/log").text(), "line one\nline two\n[fakecluster] default/b container c (busybox) started: <image entrypoint>\n");
    // New pods land on the fixture's node.
    fc.create_pod(json!({"metadata":{"name":"z"},"spec":{"containers":[{"name":"c","image":"invalid-config"}]}})).unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        fc.pod("default", "z").unwrap()["status"]["containerStatuses"][0]["state"]["waiting"]
            ["reason"]
            == "CreateContainerConfigError"
    }));
    assert_eq!(
        fc.pod("default", "z").unwrap()["spec"]["nodeName"],
        "worker-9"
    );
    assert!(FakeCluster::start(Options {
        tls: false,
        fixture: Some(json!({"bogus": []})),
        ..Options::default()
    })
    .is_err());
}

#[test]
fn shell_mode_runs_a_real_shell_in_a_pty() {
    if !std::path::Path::new("/bin/sh").exists() {
        eprintln!("skipping: no /bin/sh");
        return;
    }
    let fc = FakeCluster::start(Options {
        tls: false,
        container: ContainerMode::Shell,
        ..Options::default()
    })
    .unwrap();
    fc.create_pod(json!({"metadata":{"name":"sh"},"spec":{"containers":[{"name":"c","image":"busybox","stdin":true,"tty":true}]}})).unwrap();
    assert!(wait_until(Duration::from_secs(5), || state_of(
        &fc.pod("default", "sh").unwrap(),
        "c"
    )
    .as_deref()
        == Some("running")));
    let (mut ws, _) = ws_connect(
        &fc,
        "/api/v1/namespaces/default/pods/sh/attach?container=c&stdin=true&stdout=true&tty=true",
        "v5.channel.k8s.io",
    )
    .unwrap();
    ws.send(Message::Binary(
        b"\x04{\"Width\":77,\"Height\":33}\n".to_vec().into(),
    ))
    .unwrap();
    ws.send(Message::Binary(
        b"\x00echo $((6*7)); stty size\n".to_vec().into(),
    ))
    .unwrap();
    ws.send(Message::Binary(b"\x00exit 3\n".to_vec().into()))
        .unwrap();
    let (frames, _) = ws_drain(&mut ws);
    let out: String = frames
        .iter()
        .filter(|(c, _)| *c == 1)
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .collect();
    assert!(out.contains("42"), "{out:?}");
    assert!(out.contains("33 77"), "{out:?}");
    assert!(frames
        .iter()
        .any(|(c, d)| *c == 3 && String::from_utf8_lossy(d).contains("Success")));
    assert!(wait_until(Duration::from_secs(5), || {
        fc.pod("default", "sh").unwrap()["status"]["containerStatuses"][0]["state"]["terminated"]
            ["exitCode"]
            == 3
    }));
}
