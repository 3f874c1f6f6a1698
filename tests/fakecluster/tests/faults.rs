//! Every fault knob, seen by a raw client.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const POD: &str = "/api/v1/namespaces/default/pods/web-0";

fn touch(fc: &FakeCluster, n: usize) {
    for i in 0..n {
        let mut p = fc.pod("default", "lonely").unwrap();
        p["metadata"]["labels"]["touch"] = json!(i.to_string());
        fc.put_pod(p);
    }
}

#[test]
fn latency_per_request() {
    let fc = FakeCluster::start(Options {
        tls: false,
        latency_ms: 150,
        ..Options::default()
    })
    .unwrap();
    let t = Instant::now();
    assert_eq!(get(&fc, "/version").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    let fc = plain();
    fc.set_fault(Fault::Latency { ms: 200 });
    let t = Instant::now();
    assert_eq!(get(&fc, POD).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    fc.clear_faults();
    let t = Instant::now();
    get(&fc, POD);
    assert!(t.elapsed() < Duration::from_millis(200));
}

#[test]
fn watch_dropped_after_n_events() {
    let fc = plain();
    fc.set_fault(Fault::DropWatchAfter { events: 2 });
    let mut w = Stream::open(
        &fc,
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion=100",
    );
    assert_eq!(w.status, 200);
    std::thread::sleep(Duration::from_millis(100));
    touch(&fc, 3);
    assert_eq!(w.next_event().unwrap()["type"], "MODIFIED");
    assert_eq!(w.next_event().unwrap()["type"], "MODIFIED");
    assert!(w.next_event().is_none(), "the stream ends after 2 events");
    // The server records the request once its handler returns, just after the stream ends.
    let t = Instant::now();
    let log = loop {
        let log = fc
            .requests()
            .into_iter()
            .find(|r| r["query"]["watch"] == "true")
            .unwrap();
        if !log["watch"]["end"].is_null() || t.elapsed() > Duration::from_secs(5) {
            break log;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(log["fault"], "drop-watch");
    assert_eq!(log["watch"]["end"], "dropped");
}

#[test]
fn conflict_on_next_patch() {
    let fc = plain();
    fc.set_fault(Fault::ConflictOnNextPatch);
    let body = json!({"spec": {"ephemeralContainers": [{"name": "d", "image": "busybox", "terminationMessagePolicy": "File"}]}});
    let r = patch(
        &fc,
        &format!("{POD}/ephemeralcontainers"),
        "application/strategic-merge-patch+json",
        &body,
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"Operation cannot be fulfilled on pods \"web-0\": the object has been modified; please apply your changes to the latest version and try again",
        "reason":"Conflict","details":{"name":"web-0","kind":"pods"},"code":409})
    );
    let r = patch(
        &fc,
        &format!("{POD}/ephemeralcontainers"),
        "application/strategic-merge-patch+json",
        &body,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn gone_on_next_watch_and_too_old_resource_version() {
    let fc = plain();
    fc.set_fault(Fault::GoneOnNextWatch);
    let mut w = Stream::open(
        &fc,
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion=100",
    );
    let ev = w.next_event().unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(w.next_event().is_none());
    // A too old resourceVersion without any fault.
    let mut w = Stream::open(
        &fc,
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion=5",
    );
    let ev = w.next_event().unwrap();
    assert_eq!(ev["object"]["message"], "too old resource version: 5 (100)");
    // The HTTP flavour.
    fc.set_fault(Fault::GoneHttpOnNextWatch);
    let r = get(
        &fc,
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion=100",
    );
    assert_eq!(r.status, 410);
    assert_eq!(r.json()["reason"], "Expired");
}

#[test]
fn too_many_requests_and_unavailable_with_retry_after() {
    let fc = plain();
    fc.set_fault(Fault::TooManyRequests {
        requests: 2,
        retry_after_secs: 3,
    });
    for _ in 0..2 {
        let r = get(&fc, POD);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("Retry-After"), Some("3"));
        assert_eq!(r.json()["reason"], "TooManyRequests");
        assert_eq!(r.json()["details"]["retryAfterSeconds"], 3);
    }
    assert_eq!(get(&fc, POD).status, 200);
    fc.set_fault_on(
        Fault::Unavailable {
            requests: 1,
            retry_after_secs: 1,
        },
        "/pods/lonely",
    );
    assert_eq!(get(&fc, POD).status, 200, "the filter spares other paths");
    let r = get(&fc, "/api/v1/namespaces/default/pods/lonely");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(r.json()["reason"], "ServiceUnavailable");
    fc.set_fault(Fault::InternalError { requests: 1 });
    let r = get(&fc, POD);
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["reason"], "InternalError");
    assert_eq!(get(&fc, POD).status, 200);
}

#[test]
fn slow_body_and_garbage() {
    let fc = plain();
    fc.set_fault(Fault::SlowBody {
        requests: 1,
        delay_ms: 100,
    });
    let t = Instant::now();
    let r = get(&fc, POD);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(r.json()["metadata"]["name"], "web-0", "the body is intact");
    fc.set_fault(Fault::Garbage { requests: 1 });
    let r = get(&fc, POD);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert_eq!(get(&fc, POD).json()["metadata"]["name"], "web-0");
}

fn start_talker(fc: &FakeCluster) {
    fc.create_pod(json!({"metadata":{"name":"talk"},"spec":{"containers":[{"name":"c","image":"busybox","stdin":true}]}}))
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&fc.pod("default", "talk").unwrap(), "c").as_deref() == Some("running")
    }));
}

const ATTACH: &str =
    "/api/v1/namespaces/default/pods/talk/attach?container=c&stdin=true&stdout=true&stderr=true";

#[test]
fn websocket_closed_mid_stream() {
    let fc = plain();
    start_talker(&fc);
    fc.set_fault(Fault::CloseWebSocketAfter { frames: 2 });
    let (mut ws, _) = ws_connect(&fc, ATTACH, "v5.channel.k8s.io").unwrap();
    ws.send(tungstenite::Message::Binary(b"\x00one\n".to_vec().into()))
        .unwrap();
    ws.send(tungstenite::Message::Binary(b"\x00two\n".to_vec().into()))
        .unwrap();
    let (frames, clean) = ws_drain(&mut ws);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!(frames[0], (1, vec![]));
    assert!(!clean, "no close frame");
    assert!(frames.iter().all(|(c, _)| *c != 3), "no status");
}

#[test]
fn upgrade_that_never_answers_and_refused_upgrade() {
    let fc = plain();
    start_talker(&fc);
    fc.set_fault(Fault::UpgradeNeverAnswers);
    let mut s = TcpStream::connect(fc.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    write!(s, "GET {ATTACH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n", fc.token()).unwrap();
    let mut b = [0u8; 16];
    let e = s.read(&mut b).unwrap_err();
    assert!(matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    drop(s);
    fc.set_fault(Fault::RefuseUpgrade);
    let e = ws_connect(&fc, ATTACH, "v5.channel.k8s.io").unwrap_err();
    match e {
        tungstenite::Error::Http(r) => assert_eq!(r.status(), 400),
        other => panic!("{other:?}"),
    }
    // Afterwards attach works again.
    assert!(ws_connect(&fc, ATTACH, "v5.channel.k8s.io").is_ok());
}
