//! The attach/exec WebSocket protocol as a raw client sees it.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tungstenite::Message;

fn pod(fc: &FakeCluster, name: &str, c: Value) {
    fc.create_pod(json!({"metadata":{"name":name},"spec":{"containers":[c]}}))
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&fc.pod("default", name).unwrap(), "c").as_deref() == Some("running")
    }));
}

fn path(name: &str, q: &str) -> String {
    format!("/api/v1/namespaces/default/pods/{name}/attach?container=c&{q}")
}

#[test]
fn v5_session_with_close_signal_status_and_resize() {
    let fc = plain();
    pod(
        &fc,
        "talk",
        json!({"name":"c","image":"busybox","stdin":true,"tty":true}),
    );
    let (mut ws, proto) = ws_connect(
        &fc,
        &path("talk", "stdin=true&stdout=true&tty=true"),
        "v5.channel.k8s.io, v4.channel.k8s.io",
    )
    .unwrap();
    assert_eq!(proto, "v5.channel.k8s.io");
    assert_eq!(
        ws.read().unwrap(),
        Message::Binary(vec![1].into()),
        "initial empty stdout frame"
    );
    ws.send(Message::Binary(
        b"\x04{\"Width\":121,\"Height\":41}\n".to_vec().into(),
    ))
    .unwrap();
    ws.send(Message::Binary(
        b"\x04{\"Width\":120,\"Height\":40}\n".to_vec().into(),
    ))
    .unwrap();
    ws.send(Message::Binary(b"\x00hi\r".to_vec().into()))
        .unwrap();
    ws.send(Message::Binary(vec![255, 0].into())).unwrap();
    let (frames, clean) = ws_drain(&mut ws);
    assert!(clean);
    let out: Vec<u8> = frames
        .iter()
        .filter(|(c, _)| *c == 1)
        .flat_map(|(_, d)| d.clone())
        .collect();
    assert_eq!(out, b"hi\r\n");
    let status: Vec<&(u8, Vec<u8>)> = frames.iter().filter(|(c, _)| *c == 3).collect();
    assert_eq!(status.len(), 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&status[0].1).unwrap(),
        json!({"metadata":{},"status":"Success"})
    );
    let log = fc
        .requests()
        .into_iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/attach"))
        .unwrap();
    let w = &log["websocket"];
    assert_eq!(w["resize_events"][0]["Width"], 121);
    assert_eq!(w["resize_events"][1]["Height"], 40);
    assert_eq!(w["stream_close_signals"][0]["channel"], 0);
    assert_eq!(w["by_channel"]["0"], "hi\r");
    assert_eq!(w["exit_code"], 0);
    assert_eq!(log["response"]["status"], 101);
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&fc.pod("default", "talk").unwrap(), "c").as_deref() == Some("terminated")
    }));
}

#[test]
fn v4_negotiation_stderr_channel_and_detach() {
    let fc = plain();
    pod(
        &fc,
        "talk",
        json!({"name":"c","image":"busybox","stdin":true}),
    );
    let (mut ws, proto) = ws_connect(
        &fc,
        &path("talk", "stdin=true&stderr=true"),
        "v4.channel.k8s.io",
    )
    .unwrap();
    assert_eq!(proto, "v4.channel.k8s.io");
    assert_eq!(
        ws.read().unwrap(),
        Message::Binary(vec![2].into()),
        "no stdout: first frame on stderr"
    );
    // v4 has no close signal: [255, 0] is just an unknown channel.
    ws.send(Message::Binary(vec![255, 0].into())).unwrap();
    ws.close(None).unwrap();
    let _ = ws_drain(&mut ws);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        state_of(&fc.pod("default", "talk").unwrap(), "c").as_deref(),
        Some("running"),
        "detaching leaves it running"
    );
    // Unsupported protocols are refused.
    match ws_connect(&fc, &path("talk", "stdout=true"), "base64.channel.k8s.io").unwrap_err() {
        tungstenite::Error::Http(r) => assert_eq!(r.status(), 400),
        e => panic!("{e:?}"),
    }
    // Re-attach, say exit 7: attach still reports Success.
    let (mut ws, _) = ws_connect(
        &fc,
        &path("talk", "stdin=true&stdout=true"),
        "v5.channel.k8s.io",
    )
    .unwrap();
    ws.send(Message::Binary(b"\x00exit 7\n".to_vec().into()))
        .unwrap();
    let (frames, _) = ws_drain(&mut ws);
    let st = frames.iter().find(|(c, _)| *c == 3).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&st.1).unwrap()["status"],
        "Success"
    );
    assert!(wait_until(Duration::from_secs(5), || {
        fc.pod("default", "talk").unwrap()["status"]["containerStatuses"][0]["state"]["terminated"]
            ["exitCode"]
            == 7
    }));
}

#[test]
fn stderr_frames_and_exec_exit_codes() {
    let fc = plain();
    pod(
        &fc,
        "p",
        json!({"name":"c","image":"busybox","command":["sleep","3600"]}),
    );
    let q = "/api/v1/namespaces/default/pods/p/exec?container=c&command=sh&command=-c&command=echo%20out%3B%20echo%20err%20%3E%262%3B%20exit%205&stdout=true&stderr=true";
    let (mut ws, _) = ws_connect(&fc, q, "v5.channel.k8s.io").unwrap();
    let (frames, _) = ws_drain(&mut ws);
    let by = |ch: u8| -> Vec<u8> {
        frames
            .iter()
            .filter(|(c, _)| *c == ch)
            .flat_map(|(_, d)| d.clone())
            .collect()
    };
    assert_eq!(by(1), b"out\n");
    assert_eq!(by(2), b"err\n");
    let st: Value = serde_json::from_slice(&by(3)).unwrap();
    assert_eq!(st["reason"], "NonZeroExitCode");
    assert_eq!(
        st["details"]["causes"][0],
        json!({"reason":"ExitCode","message":"5"})
    );
}

#[test]
fn attach_errors() {
    let fc = plain();
    match ws_connect(
        &fc,
        "/api/v1/namespaces/default/pods/nope/attach?container=c&stdout=true",
        "v5.channel.k8s.io",
    )
    .unwrap_err()
    {
        tungstenite::Error::Http(r) => assert_eq!(r.status(), 404),
        e => panic!("{e:?}"),
    }
    match ws_connect(
        &fc,
        "/api/v1/namespaces/default/pods/web-0/attach?stdout=true",
        "v5.channel.k8s.io",
    )
    .unwrap_err()
    {
        tungstenite::Error::Http(r) => {
            assert_eq!(r.status(), 400);
            let body: Value = serde_json::from_slice(r.body().as_ref().unwrap()).unwrap();
            assert_eq!(body["message"], "a container name must be specified for pod web-0, choose one of: [app sidecar] or one of the init containers: [init]");
        }
        e => panic!("{e:?}"),
    }
    // Without an upgrade.
    let r = get(
        &fc,
        "/api/v1/namespaces/default/pods/web-0/attach?container=app&stdout=true",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "Upgrade request required");
}
