//! What a real cluster did (`tests/fakecluster/REAL.md`, R1-R6), reproduced by the
//! default fake. Each test names the observation it reproduces.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tungstenite::Message;

const NS: &str = "/api/v1/namespaces/default";

fn running_pod(fc: &FakeCluster, name: &str) {
    fc.create_pod(json!({"metadata":{"name":name},"spec":{"containers":[
        {"name":"app","image":"nginx:1.25"}]}}))
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&fc.pod("default", name).unwrap(), "app").as_deref() == Some("running")
    }));
}

fn add_ephemeral(fc: &FakeCluster, pod: &str, c: Value) -> Resp {
    patch(
        fc,
        &format!("{NS}/pods/{pod}/ephemeralcontainers"),
        "application/strategic-merge-patch+json",
        &json!({"spec": {"ephemeralContainers": [c]}}),
    )
}

fn rv(pod: &Value) -> String {
    pod["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn status_of(pod: &Value, c: &str) -> Option<Value> {
    pod["status"]["ephemeralContainerStatuses"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == c)
        .cloned()
}

/// R1: the same ephemeral container sent again merges to the pod as it is: 200 with the
/// stored pod, the same resourceVersion, no watch event and nothing started.
#[test]
fn r1_a_patch_that_changes_nothing_is_200_without_a_write() {
    let fc = plain();
    running_pod(&fc, "q1");
    let dbg = json!({"name":"dbg","image":"busybox:1.36","stdin":true,
        "terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"});
    let first = add_ephemeral(&fc, "q1", dbg.clone());
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&fc.pod("default", "q1").unwrap(), "dbg").as_deref() == Some("running")
    }));
    let before = fc.pod("default", "q1").unwrap();
    let mut watch = Stream::open(
        &fc,
        &format!(
            "{NS}/pods?watch=true&fieldSelector=metadata.name%3Dq1&resourceVersion={}&timeoutSeconds=1",
            rv(&before)
        ),
    );
    fc.clear_requests();
    let again = add_ephemeral(&fc, "q1", dbg);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), before, "the unchanged pod comes back");
    assert_eq!(rv(&fc.pod("default", "q1").unwrap()), rv(&before));
    let mut events = Vec::new();
    while let Some(e) = watch.next_event() {
        events.push(e);
    }
    assert!(events.is_empty(), "no watch event: {events:?}");
    let log = fc.requests();
    let p = log
        .iter()
        .find(|r| r["method"] == "PATCH")
        .expect("the PATCH");
    assert_eq!(
        p["ephemeral_containers_added"],
        json!([]),
        "nothing started"
    );
}

/// R1: changing an existing ephemeral container is 422, and kubectl renders the Status as
/// the real one (`The Pod "q1" is invalid: ...`), exiting 1 on its second run.
#[test]
fn r1_changing_an_existing_ephemeral_container_is_422() {
    let fc = plain();
    running_pod(&fc, "q1");
    let dbg = json!({"name":"dbg","image":"busybox:1.36"});
    assert_eq!(add_ephemeral(&fc, "q1", dbg).status, 200);
    let r = add_ephemeral(
        &fc,
        "q1",
        json!({"name":"dbg","image":"busybox:1.36",
            "securityContext":{"capabilities":{"add":["SYS_PTRACE","SYS_PTRACE"]}}}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let s = r.json();
    assert_eq!(s["kind"], "Status");
    assert_eq!(s["reason"], "Invalid");
    assert_eq!(s["code"], 422);
    let msg = s["message"].as_str().unwrap();
    assert_eq!(
        msg.lines().next().unwrap(),
        "Pod \"q1\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may not be changed"
    );
    assert_eq!(s["details"]["kind"], "Pod");
    assert_eq!(s["details"]["name"], "q1");
    let cause = &s["details"]["causes"][0];
    assert_eq!(cause["reason"], "FieldValueForbidden");
    assert_eq!(cause["field"], "spec.ephemeralContainers");
    assert!(cause["message"]
        .as_str()
        .unwrap()
        .starts_with("Forbidden: existing ephemeral containers \"dbg\" may not be changed\n"));

    let Some(k) = kubectls().into_iter().last() else {
        eprintln!("skipping the kubectl half: no versioned kubectl");
        return;
    };
    let kube = Kube::new(k, Options::default());
    running_pod(&kube.fc, "q1");
    let args = [
        "debug",
        "q1",
        "-c",
        "dbg",
        "--image=busybox:1.36",
        "--attach=false",
        "--profile=general",
    ];
    let first = kube.run(&args);
    assert_eq!(first.code, Some(0), "{first:?}");
    let second = kube.run(&args);
    assert_eq!(second.code, Some(1), "{second:?}");
    assert!(
        second.stderr.contains("The Pod \"q1\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may not be changed\n"),
        "{second:?}"
    );
}

/// R2: a non-TTY attach to a `stdin: true` container (no `stdinOnce`): once the client says
/// its stdin ended (v5 `[255, 0]`), nothing more reaches the attach and it ends with Success;
/// the process runs on, its output going to the log, its exit code to the status.
#[test]
fn r2_stdin_close_detaches_a_non_tty_attach() {
    let fc = FakeCluster::start(Options {
        tls: false,
        container: ContainerMode::Shell,
        ..Options::default()
    })
    .unwrap();
    running_pod(&fc, "rk-s06");
    let r = add_ephemeral(
        &fc,
        "rk-s06",
        json!({"name":"de","image":"busybox:1.36","stdin":true}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&fc.pod("default", "rk-s06").unwrap(), "de").as_deref() == Some("running")
    }));
    let (mut ws, proto) = ws_connect(
        &fc,
        &format!("{NS}/pods/rk-s06/attach?container=de&stdin=true&stdout=true&stderr=true"),
        "v5.channel.k8s.io",
    )
    .unwrap();
    assert_eq!(proto, "v5.channel.k8s.io");
    ws.send(Message::Binary(
        b"\x00echo early; sleep 2; echo late; exit 4\n"
            .to_vec()
            .into(),
    ))
    .unwrap();
    ws.send(Message::Binary(vec![255, 0].into())).unwrap();
    let (frames, clean) = ws_drain(&mut ws);
    assert!(clean, "a normal close");
    let out: Vec<u8> = frames
        .iter()
        .filter(|(c, _)| *c == 1 || *c == 2)
        .flat_map(|(_, d)| d.clone())
        .collect();
    let out = String::from_utf8_lossy(&out);
    assert!(!out.contains("late"), "output after the close: {out:?}");
    let status: Vec<Value> = frames
        .iter()
        .filter(|(c, _)| *c == 3)
        .map(|(_, d)| serde_json::from_slice(d).unwrap())
        .collect();
    assert_eq!(status, [json!({"metadata":{},"status":"Success"})]);
    // The process goes on running.
    assert_eq!(
        state_of(&fc.pod("default", "rk-s06").unwrap(), "de").as_deref(),
        Some("running")
    );
    let a = fc
        .requests()
        .into_iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/attach"))
        .unwrap();
    assert_eq!(a["websocket"]["ended"], "stdin-closed-detached");
    assert!(a["websocket"].get("exit_code").is_none());
    // Everything it wrote is in the log; the exit code reaches the status.
    assert!(wait_until(Duration::from_secs(10), || {
        status_of(&fc.pod("default", "rk-s06").unwrap(), "de")
            .map(|s| s["state"]["terminated"]["exitCode"] == 4)
            .unwrap_or(false)
    }));
    let log = get(&fc, &format!("{NS}/pods/rk-s06/log?container=de"));
    assert_eq!(log.text(), "early\nlate\n");
}

/// R2, containerd's other branch: with `stdinOnce` the container's stdin is closed and the
/// attach keeps its output until the process exits. The annotation
/// `fake.kdebug/stdin-close: ignore` makes the signal change nothing.
#[test]
fn r2_stdin_once_closes_stdin_and_keeps_the_output() {
    let fc = plain();
    running_pod(&fc, "once");
    for (name, once) in [("c1", true), ("c2", false)] {
        let r = add_ephemeral(
            &fc,
            "once",
            json!({"name":name,"image":"busybox:1.36","stdin":true,"stdinOnce":once,
                "command":["sh","-c","cat; echo after-eof; exit 5"]}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    assert!(wait_until(Duration::from_secs(5), || {
        let p = fc.pod("default", "once").unwrap();
        state_of(&p, "c1").as_deref() == Some("running")
            && state_of(&p, "c2").as_deref() == Some("running")
    }));
    let session = |c: &str| {
        let (mut ws, _) = ws_connect(
            &fc,
            &format!("{NS}/pods/once/attach?container={c}&stdin=true&stdout=true&stderr=true"),
            "v5.channel.k8s.io",
        )
        .unwrap();
        ws.send(Message::Binary(vec![255, 0].into())).unwrap();
        let (frames, _) = ws_drain(&mut ws);
        frames
            .iter()
            .filter(|(ch, _)| *ch == 1)
            .flat_map(|(_, d)| d.clone())
            .collect::<Vec<u8>>()
    };
    assert_eq!(session("c1"), b"after-eof\n", "stdinOnce: stdin closed");
    assert_eq!(session("c2"), b"", "no stdinOnce: detached");
    // Stdin followed at once by its close (`printf 'hi\n' | ...`): the answer to it is lost,
    // as kubectl's and kdebug's output was on the node; it is in the log.
    let (mut ws, _) = ws_connect(
        &fc,
        &format!("{NS}/pods/once/attach?container=c2&stdin=true&stdout=true&stderr=true"),
        "v5.channel.k8s.io",
    )
    .unwrap();
    ws.send(Message::Binary(b"\x00hi\n".to_vec().into()))
        .unwrap();
    ws.send(Message::Binary(vec![255, 0].into())).unwrap();
    let (frames, _) = ws_drain(&mut ws);
    assert!(
        frames.iter().all(|(ch, d)| *ch == 3 || d.is_empty()),
        "{frames:?}"
    );
    assert!(wait_until(Duration::from_secs(5), || fc
        .container_log("default", "once", "c2")
        .as_deref()
        == Some("hi\n")));
    let p = fc.pod("default", "once").unwrap();
    assert_eq!(
        state_of(&p, "c2").as_deref(),
        Some("running"),
        "cat still reads"
    );
}

/// R3: `stream=` on pods/log is Forbidden while the split-streams feature is off.
#[test]
fn r3_log_stream_is_forbidden() {
    let fc = plain();
    running_pod(&fc, "rk-x");
    for q in [
        "container=app&stream=Stderr",
        "stream=All",
        "stream=Stdout&follow=true",
    ] {
        let r = get(&fc, &format!("{NS}/pods/rk-x/log?{q}"));
        assert_eq!(r.status, 422, "{q}: {}", r.text());
        let s = r.json();
        assert_eq!(
            s["message"],
            "PodLogOptions \"rk-x\" is invalid: stream: Forbidden: may not be specified"
        );
        assert_eq!(s["reason"], "Invalid");
        assert_eq!(s["details"]["kind"], "PodLogOptions");
        assert_eq!(s["details"]["name"], "rk-x");
        assert_eq!(
            s["details"]["causes"],
            json!([{"reason":"FieldValueForbidden","message":"Forbidden: may not be specified","field":"stream"}])
        );
    }
    // Without it, the log is stdout and stderr merged.
    assert_eq!(
        get(&fc, &format!("{NS}/pods/rk-x/log?container=app")).status,
        200
    );
}

/// R4: a new ephemeral container shows up as spec only, then waiting ContainerCreating,
/// running, and terminated only after the kubelet's relist (1 s by default).
#[test]
fn r4_status_sequence_of_a_new_ephemeral_container() {
    let fc = plain();
    running_pod(&fc, "rk-s04");
    let pod = fc.pod("default", "rk-s04").unwrap();
    let mut watch = Stream::open(
        &fc,
        &format!(
            "{NS}/pods?watch=true&fieldSelector=metadata.name%3Drk-s04&resourceVersion={}",
            rv(&pod)
        ),
    );
    let patched = Instant::now();
    let r = add_ephemeral(
        &fc,
        "rk-s04",
        json!({"name":"dw","image":"busybox:1.36","command":["sh","-c","echo x; exit 3"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut states = Vec::new();
    let mut terminated_after = None;
    while let Some(e) = watch.next_event() {
        assert_eq!(e["type"], "MODIFIED", "{e}");
        let o = &e["object"];
        assert!(o["spec"]["ephemeralContainers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "dw"));
        let st = status_of(o, "dw");
        let state = st
            .as_ref()
            .map(|s| {
                let (k, v) = s["state"].as_object().unwrap().iter().next().unwrap();
                match v.get("reason") {
                    Some(r) if k == "waiting" => format!("waiting {}", r.as_str().unwrap()),
                    _ => k.clone(),
                }
            })
            .unwrap_or_else(|| "none".into());
        if state == "terminated" {
            terminated_after = Some(patched.elapsed());
            let t = &st.unwrap()["state"]["terminated"];
            assert_eq!(t["exitCode"], 3);
            assert_eq!(t["reason"], "Error");
            assert!(t["startedAt"].is_string() && t["finishedAt"].is_string());
        }
        if states.last() != Some(&state) {
            states.push(state);
        }
        if terminated_after.is_some() {
            break;
        }
    }
    assert_eq!(
        states,
        ["none", "waiting ContainerCreating", "running", "terminated"]
    );
    // The process exits at once; its status waits for the relist.
    assert!(
        terminated_after.unwrap() >= Duration::from_millis(1000),
        "{terminated_after:?}"
    );
}

/// R4: the relist delay is an option (`relist_ms`, `--relist-ms`): until it has passed, an
/// exited container still shows as running.
#[test]
fn r4_relist_delay_is_settable() {
    let fc = FakeCluster::start(Options {
        tls: false,
        relist_ms: 2500,
        ..Options::default()
    })
    .unwrap();
    running_pod(&fc, "slow");
    let r = add_ephemeral(
        &fc,
        "slow",
        json!({"name":"dw","image":"busybox:1.36","command":["sh","-c","echo x; exit 3"]}),
    );
    assert_eq!(r.status, 200);
    assert!(wait_until(Duration::from_secs(5), || {
        fc.container_log("default", "slow", "dw").as_deref() == Some("x\n")
    }));
    let exited = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        state_of(&fc.pod("default", "slow").unwrap(), "dw").as_deref(),
        Some("running"),
        "the exit is not seen before the relist"
    );
    assert!(wait_until(Duration::from_secs(10), || {
        state_of(&fc.pod("default", "slow").unwrap(), "dw").as_deref() == Some("terminated")
    }));
    assert!(exited.elapsed() >= Duration::from_millis(2000));
}

/// R5: attaching to a terminated ephemeral container fails the upgrade with the kubelet's
/// plain-text message (500, as its streaming.WriteError answers a non-gRPC error), which
/// kubectl prints as `error: unable to upgrade connection: <message>`.
#[test]
fn r5_attach_to_a_terminated_container_fails_the_upgrade() {
    let fc = plain();
    running_pod(&fc, "rk-s05");
    let r = add_ephemeral(
        &fc,
        "rk-s05",
        json!({"name":"dw","image":"busybox:1.36","command":["sh","-c","echo x; exit 3"]}),
    );
    assert_eq!(r.status, 200);
    // Once the status says terminated, every attach gets R5's answer (before that, R10's
    // family: see the next test).
    {
        assert!(wait_until(Duration::from_secs(5), || {
            state_of(&fc.pod("default", "rk-s05").unwrap(), "dw").as_deref() == Some("terminated")
        }));
        let e = ws_connect(
            &fc,
            &format!("{NS}/pods/rk-s05/attach?container=dw&stdout=true&stderr=true"),
            "v5.channel.k8s.io",
        )
        .map(|_| ())
        .expect_err("the upgrade fails");
        match e {
            tungstenite::Error::Http(resp) => {
                assert_eq!(resp.status().as_u16(), 500);
                assert_eq!(
                    resp.headers()["content-type"].to_str().unwrap(),
                    "text/plain; charset=utf-8"
                );
                assert_eq!(
                    String::from_utf8_lossy(resp.body().as_deref().unwrap()),
                    "container dw not found in pod rk-s05_default"
                );
            }
            other => panic!("not an HTTP refusal: {other:?}"),
        }
    }
    let Some(k) = kubectls().into_iter().last() else {
        eprintln!("skipping the kubectl half: no versioned kubectl");
        return;
    };
    let kube = Kube::new(k, Options::default());
    running_pod(&kube.fc, "rk-s05");
    let r = kube.run(&[
        "debug",
        "rk-s05",
        "-c",
        "dw",
        "--image=busybox:1.36",
        "--attach=false",
        "--",
        "sh",
        "-c",
        "echo x; exit 3",
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&kube.fc.pod("default", "rk-s05").unwrap(), "dw").as_deref() == Some("terminated")
    }));
    let r = kube.run(&["attach", "rk-s05", "-c", "dw"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.stderr.contains(
            "error: unable to upgrade connection: container dw not found in pod rk-s05_default"
        ),
        "{r:?}"
    );
}

/// R6: an image that cannot be pulled stays `waiting ContainerCreating` for a while
/// (`image_pull_fail_ms`; about 15 s on the real node), then `ErrImagePull`.
#[test]
fn r6_pull_failure_comes_after_a_delay() {
    let fc = FakeCluster::start(Options {
        tls: false,
        image_pull_fail_ms: 800,
        ..Options::default()
    })
    .unwrap();
    running_pod(&fc, "pull");
    let t = Instant::now();
    let r = add_ephemeral(
        &fc,
        "pull",
        json!({"name":"dw","image":"registry.example/does-not-exist:1"}),
    );
    assert_eq!(r.status, 200);
    let reason = |fc: &FakeCluster| {
        status_of(&fc.pod("default", "pull").unwrap(), "dw")
            .and_then(|s| s["state"]["waiting"]["reason"].as_str().map(String::from))
    };
    assert!(wait_until(Duration::from_secs(5), || reason(&fc)
        .as_deref()
        == Some("ContainerCreating")));
    assert!(wait_until(Duration::from_secs(5), || reason(&fc)
        .as_deref()
        == Some("ErrImagePull")));
    assert!(
        t.elapsed() >= Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
    let st = status_of(&fc.pod("default", "pull").unwrap(), "dw").unwrap();
    assert!(st["state"]["waiting"]["message"]
        .as_str()
        .unwrap()
        .contains("failed to pull and unpack image"));
}

/// R10 (and R5): as the container exits, before the kubelet's relist reports it, the attach
/// is refused in one of four ways, the seed picking which: R5's plain-text 500 on the
/// upgrade, or a successful upgrade followed by a Status on the error channel carrying one
/// of R10's three wordings, then the close.
#[test]
fn r10_attach_as_the_container_exits_gets_one_of_the_refusal_family() {
    let fc = FakeCluster::start(Options {
        tls: false,
        relist_ms: 5000,
        seed: 7,
        ..Options::default()
    })
    .expect("start");
    running_pod(&fc, "r10");
    let r = add_ephemeral(
        &fc,
        "r10",
        json!({"name":"race1","image":"busybox:1.36","command":["sh","-c","echo fast; exit 6"]}),
    );
    assert_eq!(r.status, 200);
    assert!(wait_until(Duration::from_secs(5), || {
        fc.container_log("default", "r10", "race1").as_deref() == Some("fast\n")
    }));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        match ws_connect(
            &fc,
            &format!("{NS}/pods/r10/attach?container=race1&stdout=true&stderr=true"),
            "v5.channel.k8s.io",
        ) {
            Err(tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), 500);
                assert_eq!(
                    String::from_utf8_lossy(resp.body().as_deref().unwrap()),
                    "container race1 not found in pod r10_default"
                );
                seen.insert("R5".to_string());
            }
            Err(other) => panic!("{other:?}"),
            Ok((mut ws, _)) => {
                let mut status = None;
                while let Ok(m) = ws.read() {
                    if let tungstenite::Message::Binary(b) = m {
                        if b.first() == Some(&3) {
                            status = Some(serde_json::from_slice::<Value>(&b[1..]).unwrap());
                        }
                    }
                }
                let st = status.expect("a Status on the error channel");
                assert_eq!(st["status"], "Failure");
                assert_eq!(st["reason"], "InternalError");
                assert_eq!(st["code"], 500);
                let msg = st["message"].as_str().unwrap();
                assert!(
                    msg.starts_with("Internal error occurred: Internal error occurred: error attaching to container: "),
                    "{msg}"
                );
                let kind = if msg.contains("CONTAINER_EXITED") {
                    "exited"
                } else if msg.ends_with("no running task found: not found") {
                    "no task"
                } else {
                    assert!(msg.contains("no running task found: task "), "{msg}");
                    "no task id"
                };
                seen.insert(kind.to_string());
            }
        }
    }
    assert_eq!(seen.len(), 4, "the whole family: {seen:?}");
    assert_ne!(
        state_of(&fc.pod("default", "r10").unwrap(), "race1").as_deref(),
        Some("terminated"),
        "still within the relist"
    );
}

/// R11: an API server restart closes every open connection without an answer, refuses new
/// ones while it is down, then serves the same state; the container runs on throughout.
#[test]
fn r11_an_api_server_restart_drops_connections_refuses_then_serves_the_same_state() {
    use std::io::{Read, Write};
    let fc = plain();
    running_pod(&fc, "r11");
    let before = fc.pod("default", "r11").unwrap();
    let mut watch = std::net::TcpStream::connect(fc.addr()).unwrap();
    write!(
        watch,
        "GET {NS}/pods?watch=true&fieldSelector=metadata.name%3Dr11 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        fc.token()
    )
    .unwrap();
    watch
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 65536];
    assert!(watch.read(&mut buf).unwrap() > 0, "the watch is open");
    fc.restart_apiserver(Duration::from_millis(1500));
    // The open watch ends without its terminating chunk.
    let mut rest = Vec::new();
    loop {
        match watch.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => rest.extend_from_slice(&buf[..n]),
        }
    }
    assert!(!rest.ends_with(b"0\r\n\r\n"), "no clean end: {rest:?}");
    let e = std::net::TcpStream::connect(fc.addr()).expect_err("refused while down");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    std::thread::sleep(Duration::from_millis(1700));
    let after = get(&fc, &format!("{NS}/pods/r11"));
    assert_eq!(after.status, 200);
    let after: Value = serde_json::from_slice(&after.body).unwrap();
    assert_eq!(rv(&after), rv(&before), "the same state");
}

/// R14: a kubelet restart ends the streams through it (a log follow here: its body ends, or
/// the connection is cut, the seed picking) and, while it is away, the API server answers
/// the log with an error; containers and logs are untouched.
#[test]
fn r14_a_kubelet_restart_ends_log_follows_and_refuses_for_a_while() {
    use std::io::{BufReader, Write};
    let mut ends = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let fc = FakeCluster::start(Options {
            tls: false,
            seed,
            ..Options::default()
        })
        .expect("start");
        running_pod(&fc, "r14");
        let r = add_ephemeral(
            &fc,
            "r14",
            json!({"name":"k","image":"busybox:1.36","command":["sh","-c","echo one; sleep 30"]}),
        );
        assert_eq!(r.status, 200);
        assert!(wait_until(Duration::from_secs(5), || {
            fc.container_log("default", "r14", "k").as_deref() == Some("one\n")
        }));
        let mut s = std::net::TcpStream::connect(fc.addr()).unwrap();
        write!(
            s,
            "GET {NS}/pods/r14/log?container=k&follow=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            fc.token()
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = BufReader::new(s);
        // read_response reads the chunked body to its end, or fails when it is cut.
        let follow = std::thread::scope(|t| {
            t.spawn(|| {
                std::thread::sleep(Duration::from_millis(200));
                fc.restart_kubelet(Duration::from_millis(500));
            });
            read_response(&mut reader)
        });
        match follow {
            Ok(head) => {
                assert_eq!((head.status, head.body.as_slice()), (200, &b"one\n"[..]));
                ends.insert("body ended");
            }
            Err(_) => {
                ends.insert("cut");
            }
        }
        let refused = get(&fc, &format!("{NS}/pods/r14/log?container=k"));
        assert_eq!(
            refused.status,
            500,
            "{:?}",
            String::from_utf8_lossy(&refused.body)
        );
        assert!(wait_until(Duration::from_secs(5), || {
            let log = get(&fc, &format!("{NS}/pods/r14/log?container=k"));
            (log.status, log.body.as_slice()) == (200, &b"one\n"[..])
        }));
        assert_eq!(
            state_of(&fc.pod("default", "r14").unwrap(), "k").as_deref(),
            Some("running")
        );
        if ends.len() == 2 {
            return;
        }
    }
    panic!("only {ends:?} over 16 seeds");
}
