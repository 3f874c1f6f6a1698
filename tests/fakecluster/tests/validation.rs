//! The ephemeralcontainers subresource: patch semantics and the API server's 422 messages.

mod common;

use common::*;
use serde_json::{json, Value};

const SMP: &str = "application/strategic-merge-patch+json";
const EC: &str = "/api/v1/namespaces/default/pods/web-0/ephemeralcontainers";

fn add(fc: &FakeCluster, c: Value) -> Resp {
    patch(fc, EC, SMP, &json!({"spec": {"ephemeralContainers": [c]}}))
}

fn dbg() -> Value {
    json!({"name": "dbg", "image": "busybox", "resources": {}, "terminationMessagePolicy": "File"})
}

fn with(field: &str, v: Value) -> Value {
    let mut c = dbg();
    c[field] = v;
    c
}

/// The Status of a rejected patch: code 422, reason Invalid, the message and its causes.
fn rejected(r: &Resp) -> (String, Vec<Value>) {
    assert_eq!(r.status, 422, "{}", r.text());
    let s = r.json();
    assert_eq!(s["kind"], "Status");
    assert_eq!(s["apiVersion"], "v1");
    assert_eq!(s["status"], "Failure");
    assert_eq!(s["reason"], "Invalid");
    assert_eq!(s["code"], 422);
    assert_eq!(s["details"]["name"], "web-0");
    assert_eq!(s["details"]["kind"], "Pod");
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "metadata",
            "status",
            "message",
            "reason",
            "details",
            "code"
        ]
    );
    (
        s["message"].as_str().unwrap().to_string(),
        s["details"]["causes"].as_array().unwrap().clone(),
    )
}

#[test]
fn forbidden_fields_on_ephemeral_containers() {
    let fc = plain();
    let probe = json!({"exec": {"command": ["true"]}});
    for (field, value) in [
        ("ports", json!([{"containerPort": 80}])),
        ("resources", json!({"limits": {"cpu": "1"}})),
        (
            "resizePolicy",
            json!([{"resourceName": "cpu", "restartPolicy": "NotRequired"}]),
        ),
        ("restartPolicy", json!("Always")),
        ("livenessProbe", probe.clone()),
        ("readinessProbe", probe.clone()),
        ("startupProbe", probe.clone()),
        (
            "lifecycle",
            json!({"preStop": {"exec": {"command": ["true"]}}}),
        ),
    ] {
        let (msg, causes) = rejected(&add(&fc, with(field, value)));
        assert_eq!(
            msg,
            format!("Pod \"web-0\" is invalid: spec.ephemeralContainers[0].{field}: Forbidden: cannot be set for an Ephemeral Container")
        );
        assert_eq!(
            causes,
            vec![
                json!({"reason": "FieldValueForbidden", "message": "Forbidden: cannot be set for an Ephemeral Container", "field": format!("spec.ephemeralContainers[0].{field}")})
            ]
        );
    }
    // An empty resources object is what kubectl sends; it is allowed.
    assert_eq!(add(&fc, dbg()).status, 200);
}

#[test]
fn names_images_targets_and_mounts() {
    let fc = plain();
    let (msg, causes) = rejected(&add(&fc, with("name", json!("app"))));
    assert_eq!(
        msg,
        "Pod \"web-0\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"app\""
    );
    assert_eq!(causes[0]["reason"], "FieldValueDuplicate");
    let (msg, _) = rejected(&add(&fc, with("name", json!("init"))));
    assert_eq!(
        msg,
        "Pod \"web-0\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"init\""
    );
    let (msg, causes) = rejected(&add(&fc, with("image", json!(""))));
    assert_eq!(
        msg,
        "Pod \"web-0\" is invalid: spec.ephemeralContainers[0].image: Required value"
    );
    assert_eq!(
        causes[0],
        json!({"reason": "FieldValueRequired", "message": "Required value", "field": "spec.ephemeralContainers[0].image"})
    );
    let mut no_image = dbg();
    no_image.as_object_mut().unwrap().remove("image");
    let (msg, _) = rejected(&add(&fc, no_image));
    assert!(msg.ends_with("spec.ephemeralContainers[0].image: Required value"));
    let (msg, causes) = rejected(&add(&fc, with("targetContainerName", json!("nope"))));
    assert_eq!(msg, "Pod \"web-0\" is invalid: spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\"");
    assert_eq!(causes[0]["reason"], "FieldValueNotFound");
    let (msg, _) = rejected(&add(&fc, with("name", json!("Bad_Name"))));
    assert!(msg.starts_with("Pod \"web-0\" is invalid: spec.ephemeralContainers[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of"), "{msg}");
    let (msg, _) = rejected(&add(
        &fc,
        with(
            "volumeMounts",
            json!([{"name": "kube-api-access-x7k2p", "mountPath": "/sa", "subPath": "token"}]),
        ),
    ));
    assert_eq!(msg, "Pod \"web-0\" is invalid: spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container");
    let (msg, _) = rejected(&add(
        &fc,
        with("volumeMounts", json!([{"name": "nope", "mountPath": "/x"}])),
    ));
    assert_eq!(msg, "Pod \"web-0\" is invalid: spec.ephemeralContainers[0].volumeMounts[0].name: Not found: \"nope\"");
    // Several errors are listed in brackets.
    let mut c = with("ports", json!([{"containerPort": 1}]));
    c["targetContainerName"] = json!("nope");
    let (msg, causes) = rejected(&add(&fc, c));
    assert_eq!(msg, "Pod \"web-0\" is invalid: [spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\", spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container]");
    assert_eq!(causes.len(), 2);
    // A target that exists is fine.
    let ok = add(&fc, with("targetContainerName", json!("app")));
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[test]
fn existing_ephemeral_containers_are_immutable() {
    let fc = plain();
    assert_eq!(add(&fc, dbg()).status, 200);
    // A second one with the same name collides with the first.
    let (msg, _) = rejected(&add(&fc, with("image", json!("alpine"))));
    // R1: the field is the list, as upstream's specPath.
    assert!(msg.starts_with("Pod \"web-0\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may not be changed\n"), "{msg}");
    let r = patch(
        &fc,
        EC,
        "application/merge-patch+json",
        &json!({"spec": {"ephemeralContainers": []}}),
    );
    let (msg, _) = rejected(&r);
    assert_eq!(msg, "Pod \"web-0\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may not be removed\n");
}

#[test]
fn patch_flavours_and_missing_pod() {
    let fc = plain();
    // kubectl's two-way strategic merge patch.
    let r = patch(
        &fc,
        EC,
        SMP,
        &json!({"spec": {"$setElementOrder/ephemeralContainers": [{"name": "a"}], "ephemeralContainers": [{"name": "a", "image": "busybox:1.36", "resources": {}, "stdin": true, "terminationMessagePolicy": "File"}]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let pod = r.json();
    assert_eq!(pod["kind"], "Pod");
    let a = &pod["spec"]["ephemeralContainers"][0];
    assert_eq!(a["imagePullPolicy"], "IfNotPresent");
    assert_eq!(a["terminationMessagePath"], "/dev/termination-log");
    // JSON patch (the pre-1.29 kubectl fallback).
    let r = patch(
        &fc,
        EC,
        "application/json-patch+json",
        &json!([{"op": "add", "path": "/spec/ephemeralContainers/-", "value": {"name": "b", "image": "busybox", "terminationMessagePolicy": "File"}}]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Merge patch replaces the list: existing entries must be repeated.
    let mut list = r.json()["spec"]["ephemeralContainers"].clone();
    list.as_array_mut()
        .unwrap()
        .push(json!({"name": "c", "image": "busybox", "terminationMessagePolicy": "File"}));
    let r = patch(
        &fc,
        EC,
        "application/merge-patch+json",
        &json!({"spec": {"ephemeralContainers": list}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<Value> = r.json()["spec"]["ephemeralContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, [json!("a"), json!("b"), json!("c")]);
    // Only ephemeralContainers change through the subresource.
    let r = patch(
        &fc,
        EC,
        SMP,
        &json!({"metadata": {"labels": {"x": "y"}}, "spec": {"ephemeralContainers": [{"name": "d", "image": "busybox", "terminationMessagePolicy": "File"}]}}),
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["metadata"]["labels"].get("x").is_none());
    // A missing pod: 404 naming the pod (kubectl tells it apart from a disabled feature).
    let r = patch(
        &fc,
        "/api/v1/namespaces/default/pods/nope/ephemeralcontainers",
        SMP,
        &json!({"spec": {"ephemeralContainers": [dbg()]}}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404})
    );
    // Unsupported patch type.
    let r = patch(&fc, EC, "application/apply-patch+yaml", &json!({}));
    assert_eq!(r.status, 415);
    // The resourceVersion went up by one per change, globally.
    let rv: u64 = fc.pod("default", "web-0").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv > 100);
}

#[test]
fn pod_create_defaults_and_conflicts() {
    let fc = plain();
    let r = post(
        &fc,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"},{"name":"d","image":"busybox"}]}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let p = r.json();
    assert_eq!(
        p["status"],
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
    assert_eq!(
        p["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert_eq!(p["spec"]["containers"][1]["imagePullPolicy"], "Always");
    assert_eq!(
        p["spec"]["containers"][0]["terminationMessagePolicy"],
        "File"
    );
    assert_eq!(p["spec"]["restartPolicy"], "Always");
    assert_eq!(p["spec"]["dnsPolicy"], "ClusterFirst");
    assert_eq!(p["spec"]["schedulerName"], "default-scheduler");
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    assert_eq!(p["spec"]["securityContext"], json!({}));
    assert_eq!(p["spec"]["enableServiceLinks"], true);
    assert_eq!(p["spec"]["tolerations"].as_array().unwrap().len(), 2);
    assert!(p["spec"]["volumes"][0]["name"]
        .as_str()
        .unwrap()
        .starts_with("kube-api-access-"));
    assert_eq!(
        p["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    assert!(p["metadata"]["uid"].is_string());
    assert_eq!(p["metadata"]["generation"], 1);
    let r = post(
        &fc,
        "/api/v1/namespaces/default/pods",
        &json!({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["message"], "pods \"p\" already exists");
    assert_eq!(r.json()["reason"], "AlreadyExists");
    let r = post(
        &fc,
        "/api/v1/namespaces/default/pods",
        &json!({"metadata":{"name":"q"},"spec":{"containers":[{"name":"c"}]}}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "Pod \"q\" is invalid: spec.containers[0].image: Required value"
    );
    let r = post(
        &fc,
        "/api/v1/namespaces/nope/pods",
        &json!({"metadata":{"name":"q"},"spec":{"containers":[{"name":"c","image":"x"}]}}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "namespaces \"nope\" not found");
    // generateName.
    let r = post(
        &fc,
        "/api/v1/namespaces/default/pods",
        &json!({"metadata":{"generateName":"gen-"},"spec":{"containers":[{"name":"c","image":"x"}]}}),
    );
    assert_eq!(r.status, 201);
    assert!(r.json()["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("gen-"));
    // Delete returns the pod; graceful deletion marks it first.
    let r = raw(
        &fc,
        "DELETE",
        "/api/v1/namespaces/default/pods/p",
        &[("Content-Type", "application/json")],
        br#"{"gracePeriodSeconds":0}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["name"], "p");
    assert!(fc.pod("default", "p").is_none());
    let r = raw(
        &fc,
        "DELETE",
        "/api/v1/namespaces/default/pods/lonely",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    assert!(wait_until(std::time::Duration::from_secs(5), || fc
        .pod("default", "lonely")
        .is_none()));
    let r = raw(
        &fc,
        "DELETE",
        "/api/v1/namespaces/default/pods/lonely",
        &[],
        b"",
    );
    assert_eq!(r.status, 404);
}
