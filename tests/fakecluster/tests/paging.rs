//! List paging (`limit`/`continue`) as the real server does it, at fleet size.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn fleet(n: usize, cache: usize) -> FakeCluster {
    FakeCluster::start(Options {
        tls: false,
        pods: n,
        watch_cache_size: cache,
        ..Options::default()
    })
    .unwrap()
}

#[test]
fn pages_are_consistent_at_the_first_pages_resource_version() {
    let fc = fleet(1200, 10_000);
    let all = get(&fc, "/api/v1/namespaces/default/pods").json();
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        1202,
        "1200 + web-0, lonely"
    );
    assert!(all["metadata"].get("continue").is_none());

    let p1 = get(&fc, "/api/v1/namespaces/default/pods?limit=500").json();
    let rv = p1["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(p1["items"].as_array().unwrap().len(), 500);
    assert_eq!(p1["metadata"]["remainingItemCount"], 702);
    let c1 = p1["metadata"]["continue"].as_str().unwrap().to_string();
    assert_eq!(names(&p1)[0], "audit-0000");

    // Changes after the first page do not show on the next ones.
    let mut changed = fc.pod("default", "audit-1100").unwrap();
    changed["metadata"]["labels"]["changed"] = json!("yes");
    fc.put_pod(changed);
    fc.delete_pod("default", "audit-1101");
    fc.create_pod(json!({"metadata":{"name":"audit-1100a","labels":{"app":"audit"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}))
        .unwrap();

    let p2 = get(
        &fc,
        &format!("/api/v1/namespaces/default/pods?limit=500&continue={c1}"),
    )
    .json();
    assert_eq!(p2["metadata"]["resourceVersion"], rv.as_str());
    assert_eq!(names(&p2)[0], "audit-0500");
    assert_eq!(p2["metadata"]["remainingItemCount"], 202);
    let c2 = p2["metadata"]["continue"].as_str().unwrap().to_string();
    let p3 = get(
        &fc,
        &format!("/api/v1/namespaces/default/pods?limit=500&continue={c2}"),
    )
    .json();
    assert_eq!(p3["metadata"]["resourceVersion"], rv.as_str());
    let n3 = names(&p3);
    assert_eq!(n3.len(), 202);
    assert!(
        p3["metadata"].get("continue").is_none(),
        "the last page has no token"
    );
    assert!(p3["metadata"].get("remainingItemCount").is_none());
    assert!(
        n3.contains(&"audit-1101".to_string()),
        "deleted after the snapshot"
    );
    assert!(
        !n3.contains(&"audit-1100a".to_string()),
        "created after the snapshot"
    );
    let p = p3["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "audit-1100")
        .unwrap();
    assert!(
        p["metadata"]["labels"].get("changed").is_none(),
        "as it was"
    );

    // Every name exactly once over the pages.
    let mut seen: Vec<String> = [names(&p1), names(&p2), n3].concat();
    let n = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), n);
    assert_eq!(n, 1202);

    // The request log keeps the query.
    let log = fc.requests();
    let lists: Vec<&Value> = log
        .iter()
        .filter(|e| e["method"] == "GET" && e["path"] == "/api/v1/namespaces/default/pods")
        .collect();
    assert!(lists.iter().any(|e| e["query"]["limit"] == "500"));
    assert!(lists.iter().any(|e| e["query"]["continue"] == c1.as_str()
        && e["raw_query"].as_str().unwrap().contains("limit=500")));
}

#[test]
fn selectors_tables_and_bad_or_expired_tokens() {
    let fc = fleet(30, 20);
    // With a selector: no remainingItemCount; the pages still cover every match once.
    let mut got = Vec::new();
    let mut cont = String::new();
    loop {
        let l = get(
            &fc,
            &format!("/api/v1/pods?labelSelector=app%3Daudit&limit=7&continue={cont}"),
        )
        .json();
        assert!(l["metadata"].get("remainingItemCount").is_none());
        assert!(names(&l).len() <= 7);
        got.extend(names(&l));
        match l["metadata"]["continue"].as_str() {
            Some(c) => cont = c.to_string(),
            None => break,
        }
    }
    assert_eq!(got.len(), 30);
    assert!(got.iter().all(|n| n.starts_with("audit-")));

    // Tables (kubectl get) carry the token too.
    let t = raw(
        &fc,
        "GET",
        "/api/v1/namespaces/default/pods?limit=10",
        &[(
            "Accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )],
        b"",
    )
    .json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["rows"].as_array().unwrap().len(), 10);
    assert!(t["metadata"]["continue"].is_string());

    // A token that does not decode: 400.
    let r = get(
        &fc,
        "/api/v1/namespaces/default/pods?limit=10&continue=bogus!",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["reason"], "BadRequest");

    // The first page's version leaves the window (20 events): 410 Expired, with a token
    // that continues at the current version.
    let p1 = get(&fc, "/api/v1/namespaces/default/pods?limit=10").json();
    let c1 = p1["metadata"]["continue"].as_str().unwrap().to_string();
    let pod = fc.pod("default", "lonely").unwrap();
    for i in 0..25 {
        let mut p = pod.clone();
        p["metadata"]["labels"]["step"] = json!(i.to_string());
        fc.put_pod(p);
    }
    let r = get(
        &fc,
        &format!("/api/v1/namespaces/default/pods?limit=10&continue={c1}"),
    );
    assert_eq!(r.status, 410);
    let st = r.json();
    assert_eq!(st["reason"], "Expired");
    assert!(st["message"]
        .as_str()
        .unwrap()
        .starts_with("The provided continue parameter is too old"));
    let again = st["metadata"]["continue"].as_str().unwrap();
    let p2 = get(
        &fc,
        &format!("/api/v1/namespaces/default/pods?limit=10&continue={again}"),
    )
    .json();
    assert_eq!(names(&p2)[0], names(&p1)[9].replace("0009", "0010"));
    assert_eq!(
        p2["metadata"]["resourceVersion"],
        fc.pod("default", "lonely").unwrap()["metadata"]["resourceVersion"]
    );
}

#[test]
fn kubectl_reads_a_fleet_in_pages_of_500() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(
        k,
        Options {
            pods: 1000,
            ..Options::default()
        },
    );
    let r = kube.run_with(
        &["get", "pods", "-l", "app=audit", "-o", "name"],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1000);
    let log = kube.fc.requests();
    let lists: Vec<&Value> = log
        .iter()
        .filter(|e| e["path"] == "/api/v1/namespaces/default/pods")
        .collect();
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert_eq!(lists[0]["query"]["limit"], "500");
    assert!(lists[0]["query"].get("continue").is_none());
    assert_eq!(lists[1]["query"]["limit"], "500");
    assert!(lists[1]["query"]["continue"].is_string());
}
