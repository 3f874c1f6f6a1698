//! Attach: v5 and v4 servers, the fallbacks to logs, exit codes, and the same attach request
//! and stdin frames as kubectl 1.33.

use std::process::Stdio;

use serde_json::{json, Value};

use crate::util::{kubectl, wait_running, wait_until, wait_with_timeout, Captured, Env};

fn annotate(env: &Env, pod: &str, key: &str, value: &str) {
    let mut p = env.cluster.pod("default", pod).unwrap();
    p["metadata"]["annotations"][key] = json!(value);
    env.cluster.put_pod(p);
}

#[test]
fn a_v4_server_works_without_the_stdin_close_signal() {
    let env = Env::new("attach-v4");
    annotate(&env, "web-0", "fake.kdebug/protocols", "v4.channel.k8s.io");
    let mut child = env.spawn(&["web-0", "--image=busybox", "-c", "dbg", "-i", "--", "cat"]);
    let echoed = Captured::new(child.stdout.take().unwrap());
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"over v4\n").unwrap();
        // The echo comes back, then the session ends from the container's side.
        echoed.wait_for("over v4", 1);
        drop(stdin);
    }
    // v4 cannot half-close stdin, so `cat` keeps running; kdebug must not hang on its own:
    // stop the container the way a user would (here: the test deletes the pod). Nothing
    // outside kdebug shows it has read its stdin's end: the sleep lets it, so the deletion
    // comes after, as a user's would.
    std::thread::sleep(std::time::Duration::from_millis(300));
    env.cluster.delete_pod("default", "web-0");
    let out = wait_with_timeout(child, std::time::Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&echoed.finish()).into_owned();
    assert!(
        stdout.contains("over v4"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let req = env.attach_request().expect("an attach request");
    assert_eq!(
        req["websocket"]["subprotocol"], "v4.channel.k8s.io",
        "{req:#}"
    );
    assert!(
        req["websocket"]["stream_close_signals"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{req:#}"
    );
}

#[test]
fn a_terminated_container_prints_its_logs() {
    let env = Env::new("attach-terminated");
    annotate(&env, "web-0", "fake.kdebug/terminated", "6");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "-i",
        "--",
        "sh",
        "-c",
        "echo done-already",
    ]);
    r.assert_code(6);
    assert!(env
        .cluster
        .requests()
        .iter()
        .all(|q| !q["path"].as_str().unwrap_or("").ends_with("/attach")));
    assert!(
        env.request_lines()
            .iter()
            .any(|l| l.ends_with("/pods/web-0/log")),
        "{:#?}",
        env.request_lines()
    );
}

#[test]
fn a_refused_attach_falls_back_to_logs() {
    let env = Env::new("attach-refused");
    annotate(&env, "web-0", "fake.kdebug/attach", "refuse");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "-i",
        "--",
        "sh",
        "-c",
        // Running past kdebug's patience with a refused attach (a container that exits
        // first is a finished run: its log and exit code, no fallback).
        "echo from-log; sleep 5",
    ]);
    r.assert_stderr_contains(
        "warning: couldn't attach to pod/web-0, falling back to streaming logs:",
    );
    r.assert_stdout_contains("from-log");
    assert!(env
        .request_lines()
        .iter()
        .any(|l| l.ends_with("/pods/web-0/log")));
}

/// Attach request and stdin frames, as kubectl 1.33 and kdebug send them for `-i -- cat`.
fn attach_with(bin: &std::path::Path, env: &Env, extra: &[&str]) -> Value {
    let mut args = vec![
        "web-0",
        "--image=busybox:1.36",
        "-c",
        "dbg",
        "-i",
        "--profile=general",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "cat"]);
    let mut cmd = if bin.ends_with("kdebug") {
        env.cmd(&args)
    } else {
        let mut c = std::process::Command::new(bin);
        c.arg("debug")
            .arg("--kubeconfig")
            .arg(&env.kubeconfig)
            .args(&args)
            .env("HOME", env.dir.path());
        c
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"line one\nline two\n").unwrap();
    }
    let out = wait_with_timeout(child, std::time::Duration::from_secs(60));
    // kubectl loses the output: its stdin close detaches the attach on containerd (R2 of
    // tests/fakecluster/REAL.md, which the fake now reproduces), so only kdebug must show it.
    if bin.ends_with("kdebug") {
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("line two"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    env.attach_request().expect("an attach request")
}

#[test]
fn the_attach_request_and_stdin_frames_match_kubectl() {
    let Some(kubectl) = kubectl("1.33") else {
        fakecluster::kubectl_missing("kubectl.1.33");
        return;
    };
    let theirs = attach_with(&kubectl, &Env::new("attach-kubectl"), &[]);
    let ours = attach_with(
        std::path::Path::new(env!("CARGO_BIN_EXE_kdebug")),
        &Env::new("attach-kdebug"),
        &[],
    );
    assert_eq!(ours["path"], theirs["path"]);
    assert_eq!(ours["raw_query"], theirs["raw_query"]);
    assert_eq!(ours["method"], theirs["method"]);
    // kubectl offers only v5; kdebug offers v5 then v4, and both get v5 here.
    assert_eq!(
        ours["websocket"]["subprotocol"],
        theirs["websocket"]["subprotocol"]
    );
    let stdin = |r: &Value| r["websocket"]["by_channel"]["0"].clone();
    assert_eq!(
        stdin(&ours),
        stdin(&theirs),
        "stdin frames differ:\nkdebug {ours:#}\nkubectl {theirs:#}"
    );
    let closes = |r: &Value| -> Vec<Value> {
        r["websocket"]["stream_close_signals"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["channel"].clone())
            .collect()
    };
    assert_eq!(closes(&ours), vec![json!(0)]);
    assert_eq!(closes(&ours), closes(&theirs));
}

#[test]
fn kdebug_attach_reattaches_to_a_running_debug_container() {
    let env = Env::new("reattach");
    // Created with stdin open and not attached, as `--attach=false -i` leaves it.
    env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "-i",
        "--attach=false",
        "--",
        "cat",
    ])
    .assert_code(0);
    wait_running(&env, "web-0", "dbg");
    let r = env.run_with_stdin(
        &["attach", "web-0", "-c", "dbg", "-i"],
        Some("back again\n"),
    );
    r.assert_code(0).assert_stdout_contains("back again");
    let req = env.attach_request().expect("an attach request");
    assert_eq!(
        req["raw_query"],
        "container=dbg&stderr=true&stdin=true&stdout=true"
    );
    env.run(&["attach", "web-0", "-c", "nope"])
        .assert_code(1)
        .assert_stderr_contains("container nope not found in pod web-0");
}

#[test]
fn works_as_a_kubectl_plugin() {
    let Some(kubectl) = kubectl("1.33") else {
        fakecluster::kubectl_missing("kubectl.1.33");
        return;
    };
    let dir = crate::util::Dir::new("plugin");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kdebug"),
        dir.path().join("kubectl-kdebug"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // `version` needs no cluster: kubectl only finds the plugin on PATH and runs it.
    let out = std::process::Command::new(kubectl)
        .args(["kdebug", "version"])
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("kdebug v"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kdebug_attach_without_c_picks_kubectls_container_not_the_debug_one() {
    let env = Env::new("reattach-default");
    env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "-i",
        "--attach=false",
        "--",
        "cat",
    ])
    .assert_code(0);
    // No -i: kdebug follows the picked container's log; the request names it.
    let mut child = env.spawn(&["attach", "web-0"]);
    let log_request = || {
        env.cluster.requests().into_iter().find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/pods/web-0/log"))
        })
    };
    wait_until("a log request", std::time::Duration::from_secs(10), || {
        log_request().is_some()
    });
    let log = log_request().expect("a log request");
    let _ = child.kill();
    let _ = child.wait();
    // web-0's kubectl.kubernetes.io/default-container annotation names `app`.
    assert_eq!(log["query"]["container"], "app", "{log}");
}

/// Two `-i` targets in one run: what is typed after the first session ended goes to the
/// second (one stdin reader for the process; a reader per session kept stdin and ate it).
#[test]
fn a_second_interactive_target_gets_the_input_that_follows() {
    use std::io::Write;
    let env = Env::new("attach-two-stdin");
    let mut child = env.spawn(&["web-0", "lonely", "--image=busybox", "-i"]);
    let out = Captured::new(child.stdout.take().unwrap());
    let err = Captured::new(child.stderr.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"one\nexit 3\n").unwrap();
    // The second session starts once the first ended.
    err.wait_for("If you don't see a command prompt", 2);
    assert_eq!(
        err.text()
            .matches("If you don't see a command prompt")
            .count(),
        2,
        "{}",
        err.text()
    );
    stdin.write_all(b"two\nexit 4\n").unwrap();
    drop(stdin);
    let status = crate::util::wait_with_timeout(child, std::time::Duration::from_secs(30)).status;
    let out = String::from_utf8_lossy(&out.finish()).into_owned();
    assert!(out.contains("one") && out.contains("two"), "{out}");
    assert_eq!(status.code(), Some(4), "{out}");
}
