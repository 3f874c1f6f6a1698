//! The real kubectl against the fake: if kubectl cannot complete a scenario, the fake is wrong.
//! Skips (with a message) when the versioned kubectl binaries are absent.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn requests_matching(fc: &FakeCluster, method: &str, path_suffix: &str) -> Vec<Value> {
    fc.requests()
        .into_iter()
        .filter(|r| {
            r["method"] == method && r["path"].as_str().unwrap_or("").ends_with(path_suffix)
        })
        .collect()
}

#[test]
fn ephemeral_container_without_attach() {
    for k in kubectls() {
        let kube = Kube::new(k.clone(), Options::default());
        let r = kube.run(&[
            "debug",
            "web-0",
            "--image=busybox",
            "--attach=false",
            "-c",
            "dbg",
        ]);
        assert_eq!(r.code, Some(0), "{k:?}: {r:?}");
        let patches = requests_matching(&kube.fc, "PATCH", "/pods/web-0/ephemeralcontainers");
        assert_eq!(patches.len(), 1);
        let p = &patches[0];
        assert_eq!(p["content_type"], "application/strategic-merge-patch+json");
        assert_eq!(p["response"]["status"], 200);
        let ec = &p["body"]["spec"]["ephemeralContainers"][0];
        assert_eq!(ec["name"], "dbg");
        assert_eq!(ec["image"], "busybox");
        assert_eq!(p["ephemeral_containers_added"], json!(["dbg"]));
        assert_eq!(p["headers"]["Kubectl-Command"], "kubectl debug");
        assert!(wait_until(Duration::from_secs(5), || {
            state_of(&kube.fc.pod("default", "web-0").unwrap(), "dbg").as_deref() == Some("running")
        }));
        let pod = kube.fc.pod("default", "web-0").unwrap();
        let dbg = &pod["spec"]["ephemeralContainers"][0];
        assert_eq!(dbg["imagePullPolicy"], "Always", "busybox is untagged");
        assert_eq!(dbg["terminationMessagePath"], "/dev/termination-log");
    }
}

/// R2: `kubectl debug -i` with piped stdin. While stdin stays open the output comes back;
/// once kubectl says stdin ended (v5 close), containerd detaches the attach: kubectl exits 0
/// with whatever had arrived (on the real node: nothing), and the container runs on (`cat`
/// keeps its stdin, as `stdinOnce` is unset), its output in the log.
#[test]
fn interactive_debug_with_piped_stdin() {
    for k in kubectls() {
        let kube = Kube::new(k.clone(), Options::default());
        let args = |c: &'static str| {
            [
                "debug",
                "-i",
                "web-0",
                "--image=busybox",
                "-c",
                c,
                "--",
                "cat",
            ]
        };
        // `(printf 'hello\nworld\n'; sleep 2) | kubectl debug -i ...`
        let r = kube.run_holding_stdin(
            &args("dbg1"),
            Some("hello\nworld\n"),
            Duration::from_secs(2),
            Duration::from_secs(30),
        );
        assert_eq!(r.code, Some(0), "{k:?}: {r:?}");
        assert_eq!(r.stdout, "hello\nworld\n", "{r:?}");
        assert!(
            r.stderr.contains("If you don't see a command prompt"),
            "{r:?}"
        );
        // `printf 'hello\nworld\n' | kubectl debug -i ...`
        let r = kube.run_with(
            &args("dbg2"),
            Some("hello\nworld\n"),
            Duration::from_secs(30),
        );
        assert_eq!(r.code, Some(0), "{k:?}: {r:?}");
        assert_eq!(r.stdout, "", "R2: kubectl prints nothing: {r:?}");
        let attach = requests_matching(&kube.fc, "GET", "/pods/web-0/attach");
        assert_eq!(attach.len(), 2, "{attach:?}");
        for (a, c) in attach.iter().zip(["dbg1", "dbg2"]) {
            assert_eq!(a["query"]["container"], c);
            assert_eq!(a["query"]["stdin"], "true");
            assert_eq!(a["response"]["status"], 101);
            assert_eq!(a["websocket"]["subprotocol"], "v5.channel.k8s.io");
            assert_eq!(a["websocket"]["by_channel"]["0"], "hello\nworld\n");
            assert_eq!(a["websocket"]["stream_close_signals"][0]["channel"], 0);
            assert_eq!(a["websocket"]["ended"], "stdin-closed-detached");
        }
        // The informer's list + watch came first.
        let watches: Vec<Value> = kube
            .fc
            .requests()
            .into_iter()
            .filter(|r| r["query"]["watch"] == "true")
            .collect();
        assert!(!watches.is_empty());
        assert_eq!(watches[0]["query"]["fieldSelector"], "metadata.name=web-0");
        // Both containers still run and their logs hold what they echoed.
        let pod = kube.fc.pod("default", "web-0").unwrap();
        for c in ["dbg1", "dbg2"] {
            assert_eq!(state_of(&pod, c).as_deref(), Some("running"), "{c}");
            let logs = kube.run(&["logs", "web-0", "-c", c]);
            assert_eq!(logs.stdout, "hello\nworld\n", "{logs:?}");
        }
    }
}

#[test]
fn copy_mode_creates_a_protobuf_pod() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    let r = kube.run(&[
        "debug",
        "web-0",
        "--copy-to",
        "web-copy",
        "--image",
        "busybox",
        "--attach=false",
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout
            .contains("Defaulting debug container name to debugger-"),
        "{r:?}"
    );
    let posts = requests_matching(&kube.fc, "POST", "/namespaces/default/pods");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0]["content_type"],
        "application/vnd.kubernetes.protobuf"
    );
    assert_eq!(posts[0]["body"]["metadata"]["name"], "web-copy");
    assert_eq!(posts[0]["response"]["status"], 201);
    let pod = kube.fc.pod("default", "web-copy").expect("copy exists");
    assert!(pod["metadata"].get("ownerReferences").is_none());
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..2], ["app", "sidecar"]);
    assert!(names[2].starts_with("debugger-"));
    assert!(wait_until(Duration::from_secs(5), || {
        kube.fc.pod("default", "web-copy").unwrap()["status"]["phase"] == "Running"
    }));
    // --replace deletes the original with a protobuf DeleteOptions.
    let r = kube.run(&[
        "debug",
        "lonely",
        "--copy-to",
        "lonely-copy",
        "--replace",
        "--image",
        "busybox",
        "--attach=false",
        "-c",
        "dbg",
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let dels = requests_matching(&kube.fc, "DELETE", "/namespaces/default/pods/lonely");
    assert_eq!(
        dels[0]["body"],
        json!({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})
    );
    assert!(kube.fc.pod("default", "lonely").is_none());
}

#[test]
fn node_debug_pod_is_scheduled_and_runs() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    let r = kube.run(&[
        "debug",
        "node/node-1",
        "--image",
        "busybox",
        "--attach=false",
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout
            .starts_with("Creating debugging pod node-debugger-node-1-"),
        "{r:?}"
    );
    let name = r.stdout.split_whitespace().nth(3).unwrap().to_string();
    let pod = kube.fc.pod("default", &name).expect("node pod");
    assert_eq!(pod["spec"]["nodeName"], "node-1");
    assert_eq!(pod["spec"]["hostPID"], true);
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    assert!(wait_until(Duration::from_secs(5), || {
        state_of(&kube.fc.pod("default", &name).unwrap(), "debugger").as_deref() == Some("running")
    }));
}

#[test]
fn get_pods_watch_sees_kubelet_transitions() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(
        k,
        Options {
            kubelet_delay_ms: 300,
            ..Options::default()
        },
    );
    let mut child = kube
        .command(&["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || kube
        .fc
        .requests()
        .iter()
        .any(|r| r["query"]["watch"] == "true")));
    kube.fc
        .create_pod(json!({"metadata":{"name":"fresh"},"spec":{"containers":[{"name":"c","image":"busybox","command":["sleep","3600"]}]}}))
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        kube.fc.pod("default", "fresh").unwrap()["status"]["phase"] == "Running"
    }));
    std::thread::sleep(Duration::from_millis(500));
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let fresh: Vec<&str> = out.lines().filter(|l| l.starts_with("fresh")).collect();
    assert!(fresh.iter().any(|l| l.contains("Pending")), "{out}");
    assert!(
        fresh.iter().any(|l| l.contains("ContainerCreating")),
        "{out}"
    );
    assert!(
        fresh
            .iter()
            .any(|l| l.contains("Running") && l.contains("1/1")),
        "{out}"
    );
}

#[test]
fn logs_and_attach() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    kube.fc
        .create_pod(
            json!({"metadata":{"name":"job"},"spec":{"restartPolicy":"Never","containers":[
            {"name":"c","image":"busybox","command":["sh","-c","echo hi; echo there; exit 3"]}]}}),
        )
        .unwrap();
    kube.fc
        .create_pod(json!({"metadata":{"name":"talk"},"spec":{"containers":[
            {"name":"c","image":"busybox","stdin":true}]}}))
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        kube.fc.pod("default", "job").unwrap()["status"]["phase"] == "Failed"
            && state_of(&kube.fc.pod("default", "talk").unwrap(), "c").as_deref() == Some("running")
    }));
    let job = kube.fc.pod("default", "job").unwrap();
    assert_eq!(
        job["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        3
    );
    let r = kube.run(&["logs", "job"]);
    assert_eq!(r.stdout, "hi\nthere\n", "{r:?}");
    let r = kube.run(&["logs", "job", "--tail=1"]);
    assert_eq!(r.stdout, "there\n", "{r:?}");
    let r = kube.run(&["logs", "job", "--timestamps"]);
    assert!(r.stdout.lines().all(|l| l.contains("Z ")), "{r:?}");
    let r = kube.run(&["logs", "web-0"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains("container app"),
        "default container from the annotation: {r:?}"
    );

    // R2: kubectl's stdin close detaches the attach; what had come back by then is printed
    // (with stdin held open, all of it).
    let r = kube.run_holding_stdin(
        &["attach", "-i", "talk", "-c", "c"],
        Some("ping\nexit 4\n"),
        Duration::from_secs(1),
        Duration::from_secs(20),
    );
    assert_eq!(r.code, Some(0), "attach never reports exit codes: {r:?}");
    assert!(r.stdout.contains("ping\n"), "{r:?}");
    assert!(wait_until(Duration::from_secs(5), || {
        kube.fc.pod("default", "talk").unwrap()["status"]["containerStatuses"][0]["state"]
            ["terminated"]["exitCode"]
            == 4
    }));
}

#[test]
fn attach_failure_falls_back_to_logs() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    let mut pod = kube.fc.pod("default", "lonely").unwrap();
    pod["metadata"]["annotations"] = json!({"fake.kdebug/attach": "refuse"});
    kube.fc.put_pod(pod);
    let r = kube.run_with(
        &[
            "debug",
            "-i",
            "lonely",
            "--image=busybox",
            "-c",
            "dbg",
            "--",
            "sh",
            "-c",
            "echo from-log; sleep 30",
        ],
        Some(""),
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr
            .contains("warning: couldn't attach to pod/lonely, falling back to streaming logs"),
        "{r:?}"
    );
    assert_eq!(r.stdout, "from-log\n", "{r:?}");
}

#[test]
fn terminated_debug_container_shows_its_logs() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    let mut pod = kube.fc.pod("default", "lonely").unwrap();
    pod["metadata"]["annotations"] = json!({"fake.kdebug/terminated": "0"});
    kube.fc.put_pod(pod);
    let r = kube.run_with(
        &["debug", "-i", "lonely", "--image=busybox", "-c", "dbg"],
        Some(""),
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let logs = requests_matching(&kube.fc, "GET", "/pods/lonely/log");
    assert_eq!(
        logs.len(),
        1,
        "kubectl reads the logs of a terminated container"
    );
    assert!(requests_matching(&kube.fc, "GET", "/pods/lonely/attach").is_empty());
}

#[test]
fn server_errors_as_kubectl_prints_them() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    let r = kube.run(&[
        "debug",
        "web-0",
        "--image=busybox",
        "--attach=false",
        "-c",
        "app",
    ]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("The Pod \"web-0\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"app\""), "{r:?}");
    let r = kube.run(&[
        "debug",
        "web-0",
        "--image=busybox",
        "--attach=false",
        "-c",
        "d2",
        "--target",
        "nope",
    ]);
    assert!(
        r.stderr
            .contains("spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\""),
        "{r:?}"
    );
    let r = kube.run(&["debug", "nope", "--image=busybox"]);
    assert!(
        r.stderr
            .contains("Error from server (NotFound): pods \"nope\" not found"),
        "{r:?}"
    );
    let r = kube.run(&["debug", "node/nope", "--image=busybox"]);
    assert!(
        r.stderr
            .contains("Error from server (NotFound): nodes \"nope\" not found"),
        "{r:?}"
    );
    let r = kube.run(&[
        "debug",
        "web-0",
        "--copy-to",
        "lonely",
        "--image=busybox",
        "--attach=false",
    ]);
    assert!(
        r.stderr
            .contains("Error from server (AlreadyExists): pods \"lonely\" already exists"),
        "{r:?}"
    );
}

#[test]
fn authentication_modes() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    let r = kube.run(&[
        "--context",
        "fake-cert",
        "get",
        "pod",
        "web-0",
        "-o",
        "name",
    ]);
    assert_eq!(r.stdout.trim(), "pod/web-0", "{r:?}");
    let last = kube.fc.requests().last().cloned().unwrap();
    assert_eq!(last["auth"]["type"], "client-cert");
    assert_eq!(last["auth"]["user"], "fake-admin");
    let r = kube.run(&["--token", "wrong", "get", "pods"]);
    assert!(
        r.stderr
            .contains("error: You must be logged in to the server (Unauthorized)"),
        "{r:?}"
    );
    let ro = kube.fc.readonly_token().to_string();
    let r = kube.run(&[
        "--token",
        &ro,
        "debug",
        "web-0",
        "--image=busybox",
        "--attach=false",
        "-c",
        "x",
    ]);
    assert!(r.stderr.contains("Error from server (Forbidden): pods \"web-0\" is forbidden: User \"fake-viewer\" cannot patch resource \"pods/ephemeralcontainers\" in API group \"\" in the namespace \"default\""), "{r:?}");
}

#[test]
fn image_pull_failure_warnings() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(
        k,
        Options {
            kubelet_delay_ms: 50,
            ..Options::default()
        },
    );
    // kubectl waits forever on a failing pull; it prints the kubelet's messages meanwhile.
    let r = kube.run_with(
        &[
            "debug",
            "-i",
            "web-0",
            "--image=busybox-does-not-exist",
            "-c",
            "bad",
        ],
        Some(""),
        Duration::from_secs(3),
    );
    assert_eq!(r.code, None, "killed by the timeout: {r:?}");
    assert!(
        r.stderr
            .contains("Warning: container bad: Failed to pull image \"busybox-does-not-exist\": "),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("Warning: container bad: Back-off pulling image \"busybox-does-not-exist\""),
        "{r:?}"
    );
}

#[test]
fn kubectl_retries_429_and_503() {
    let Some(k) = kubectl() else { return };
    let kube = Kube::new(k, Options::default());
    kube.fc.set_fault_on(
        Fault::TooManyRequests {
            requests: 2,
            retry_after_secs: 1,
        },
        "/pods/web-0",
    );
    let r = kube.run(&["get", "pod", "web-0", "-o", "name"]);
    assert_eq!(r.stdout.trim(), "pod/web-0", "{r:?}");
    let codes: Vec<u64> = requests_matching(&kube.fc, "GET", "/pods/web-0")
        .iter()
        .map(|r| r["response"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [429, 429, 200]);
    kube.fc
        .set_fault_on(Fault::InternalError { requests: 1 }, "/pods/web-0");
    let r = kube.run(&["get", "pod", "web-0", "-o", "name"]);
    assert!(
        r.stderr.contains("Error from server (InternalError)"),
        "{r:?}"
    );
}
