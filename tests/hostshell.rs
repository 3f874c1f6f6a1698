//! `--host-shell`: the node pod enters PID 1's namespaces through nsenter (issue 16).

use serde_json::{json, Value};

use crate::util::Env;

const NSENTER_SH: &[&str] = &[
    "nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "sh",
];

#[test]
fn host_shell_creates_a_privileged_host_pid_pod_running_nsenter() {
    let env = Env::new("host-shell");
    env.run(&["node/node-1", "--host-shell", "-i", "--attach=false"])
        .assert_code(0);
    let m = env.mutations();
    assert_eq!(m.len(), 1, "{m:#?}");
    let name = m[0]["body"]["metadata"]["name"].as_str().unwrap();
    // What the cluster stored, not only what was sent.
    let pod = env.cluster.pod("default", name).expect("the node pod");
    let spec = &pod["spec"];
    assert_eq!(spec["nodeName"], "node-1");
    assert_eq!(spec["hostPID"], true);
    assert_eq!(spec["hostNetwork"], true);
    assert_eq!(spec["hostIPC"], true);
    let c = &spec["containers"][0];
    assert_eq!(c["securityContext"]["privileged"], true);
    assert_eq!(c["command"], json!(NSENTER_SH));
    assert_eq!(c["image"], "busybox");
    assert_eq!(c["stdin"], true);
}

#[test]
fn host_shell_dry_run_shows_the_command_and_sends_nothing() {
    let env = Env::new("host-shell-dry");
    let r = env.run(&[
        "node/node-1",
        "--host-shell",
        "--dry-run",
        "--",
        "journalctl",
        "-u",
        "kubelet",
    ]);
    r.assert_code(0);
    assert!(env.mutations().is_empty());
    let out: Value = serde_json::from_str(&r.stdout()).expect("one JSON request");
    assert_eq!(out["method"], "POST");
    let body = &out["body"];
    assert_eq!(body["spec"]["hostPID"], true);
    let c = &body["spec"]["containers"][0];
    assert_eq!(c["securityContext"]["privileged"], true);
    let mut want: Vec<&str> = NSENTER_SH[..9].to_vec();
    want.extend(["journalctl", "-u", "kubelet"]);
    assert_eq!(c["command"], json!(want));
}

#[test]
fn host_shell_is_refused_for_pods_and_other_profiles() {
    let env = Env::new("host-shell-refused");
    env.run(&["web-0", "--host-shell", "--image=busybox"])
        .assert_code(1)
        .assert_stderr_contains("--host-shell needs node/NAME");
    env.run(&["node/node-1", "--host-shell", "--profile=netadmin"])
        .assert_code(1)
        .assert_stderr_contains("sysadmin profile");
}
