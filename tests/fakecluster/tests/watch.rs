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
