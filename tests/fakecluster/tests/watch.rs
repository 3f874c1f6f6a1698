//! Watch delivery under concurrent writes: no event is skipped, a bookmark never passes an
//! undelivered event, the retained window and its 410, per-watcher bounds.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn rv_of(ev: &Value) -> u64 {
    ev["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {ev}"))
}

fn list_rv(fc: &FakeCluster, path: &str) -> u64 {
    get(fc, path).json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The smallest reproduction of issue 14's lost state: one pod, one watcher with bookmarks,
/// one writer. Before the fix a bookmark set the watch's position to the store's current
/// resourceVersion, skipping the events committed while the previous batch was being written.
#[test]
fn bookmarks_never_skip_events_committed_during_a_batch() {
    let fc = FakeCluster::start(Options {
        tls: false,
        bookmark_interval_ms: 10,
        ..Options::default()
    })
    .unwrap();
    let start = list_rv(&fc, "/api/v1/namespaces/default/pods");
    let mut w = Stream::open(
        &fc,
        &format!("/api/v1/namespaces/default/pods?watch=true&resourceVersion={start}&fieldSelector=metadata.name%3Dlonely&allowWatchBookmarks=true&timeoutSeconds=30"),
    );
    const N: u64 = 300;
    let last = start + N;
    let pod = fc.pod("default", "lonely").unwrap();
    let mut seen = BTreeSet::new();
    std::thread::scope(|sc| {
        let fc = &fc;
        sc.spawn(move || {
            for i in 0..N {
                let mut p = pod.clone();
                p["metadata"]["labels"]["step"] = json!(i.to_string());
                fc.put_pod(p);
                if i % 16 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let Some(ev) = w.next_event() else { break };
            let rv = rv_of(&ev);
            if ev["type"] == "BOOKMARK" {
                // A bookmark says "everything up to rv was sent": nothing may be missing below.
                let missing: Vec<u64> = (start + 1..=rv.min(last))
                    .filter(|r| !seen.contains(r))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "bookmark at {rv} passed undelivered events {missing:?}"
                );
            } else {
                assert_eq!(ev["type"], "MODIFIED");
                seen.insert(rv);
            }
            if rv >= last {
                break;
            }
        }
    });
    let expected: BTreeSet<u64> = (start + 1..=last).collect();
    assert_eq!(seen, expected, "every committed change is delivered once");
}

#[test]
fn a_watch_from_before_the_retained_window_is_410_expired() {
    let fc = FakeCluster::start(Options {
        tls: false,
        watch_cache_size: 5,
        ..Options::default()
    })
    .unwrap();
    let start = list_rv(&fc, "/api/v1/namespaces/default/pods");
    let pod = fc.pod("default", "lonely").unwrap();
    for i in 0..10 {
        let mut p = pod.clone();
        p["metadata"]["labels"]["step"] = json!(i.to_string());
        fc.put_pod(p);
    }
    let mut w = Stream::open(
        &fc,
        &format!("/api/v1/namespaces/default/pods?watch=true&resourceVersion={start}"),
    );
    let ev = w.next_event().unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert_eq!(
        ev["object"]["message"],
        format!("too old resource version: {start} ({})", start + 5)
    );
    assert!(w.next_event().is_none(), "the stream ends after the error");
    // Inside the window: the retained events, in order.
    let mut w = Stream::open(
        &fc,
        &format!(
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion={}&timeoutSeconds=1",
            start + 7
        ),
    );
    let rvs: Vec<u64> = std::iter::from_fn(|| w.next_event())
        .map(|e| rv_of(&e))
        .collect();
    assert_eq!(rvs, [start + 8, start + 9, start + 10]);
}

#[test]
fn each_watch_holds_a_queue_only_while_it_is_open() {
    let fc = plain();
    assert_eq!(fc.open_watches(), 0);
    let mut a = Stream::open(
        &fc,
        "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dlonely&timeoutSeconds=1",
    );
    let mut b = Stream::open(
        &fc,
        "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb&timeoutSeconds=1",
    );
    assert!(wait_until(Duration::from_secs(5), || fc.open_watches() == 2));
    let mut web = fc.pod("default", "web-0").unwrap();
    web["metadata"]["annotations"]["x"] = json!("1");
    fc.put_pod(web);
    let types = |s: &mut Stream| -> Vec<(String, String)> {
        std::iter::from_fn(|| s.next_event())
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["object"]["metadata"]["name"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    assert_eq!(types(&mut a), [("ADDED".into(), "lonely".into())]);
    assert_eq!(
        types(&mut b),
        [
            ("ADDED".into(), "web-0".into()),
            ("MODIFIED".into(), "web-0".into())
        ]
    );
    assert!(wait_until(Duration::from_secs(5), || fc.open_watches() == 0));
}
