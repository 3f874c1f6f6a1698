//! `--rm` on every way out: signals while waiting and during a session, a dropped connection.

use std::process::Stdio;
use std::time::Duration;

use crate::util::{poll_until, wait_with_timeout, Captured, Env};

/// Waits until the fake has seen a request whose path contains `needle` (and `query` in its
/// raw query, when given).
fn wait_for_request(env: &Env, needle: &str, query: &str) {
    let seen = || {
        env.cluster.requests().iter().any(|r| {
            r["path"].as_str().is_some_and(|p| p.contains(needle))
                && r["raw_query"].as_str().is_some_and(|q| q.contains(query))
        })
    };
    assert!(
        poll_until(Duration::from_secs(20), seen),
        "no request to {needle} ({query}): {:#?}",
        env.request_lines()
    );
}

/// Waits until a `cat` session is up end to end: a line typed comes back. Returns stdin,
/// kept open (closing it would end the session) and what was printed.
fn session_up(child: &mut std::process::Child) -> (std::process::ChildStdin, Captured) {
    use std::io::Write;
    let out = Captured::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ready\n").unwrap();
    out.wait_for("ready", 1);
    (stdin, out)
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: sends a signal to our own child.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

fn deletes_of(env: &Env, name: &str) -> usize {
    env.mutations()
        .iter()
        .filter(|m| {
            m["method"] == "DELETE" && m["path"].as_str().is_some_and(|p| p.ends_with(name))
        })
        .count()
}

#[test]
fn sigterm_during_a_session_deletes_the_copy() {
    let env = Env::new("sigterm-session");
    let mut child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-term",
        "-c",
        "dbg",
        "-i",
        "--rm",
        "--",
        "cat",
    ]);
    wait_for_request(&env, "/attach", "");
    let _keep_stdin_open = session_up(&mut child);
    signal(child.id(), libc::SIGTERM);
    let out = wait_with_timeout(child, Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGTERM),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        deletes_of(&env, "/pods/web-term"),
        1,
        "{:#?}",
        env.request_lines()
    );
    assert!(env.cluster.pod("default", "web-term").is_none());
}

#[test]
fn ctrl_c_while_waiting_deletes_the_node_pod() {
    let env = Env::with(
        "sigint-wait",
        fakecluster::Options {
            kubelet_delay_ms: 30_000,
            ..Default::default()
        },
    );
    let child = env
        .cmd(&[
            "node/node-1",
            "--image=busybox",
            "--rm",
            "--attach",
            "--",
            "true",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Waiting: the watch is open and the pod created (the watch may be opened first).
    wait_for_request(&env, "/pods", "watch=true");
    let created = || env.mutations().iter().any(|m| m["method"] == "POST");
    assert!(
        poll_until(Duration::from_secs(20), created),
        "no pod created: {:#?}",
        env.request_lines()
    );
    signal(child.id(), libc::SIGINT);
    let out = wait_with_timeout(child, Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGINT),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Vec<String> = env
        .mutations()
        .iter()
        .filter(|m| m["method"] == "POST")
        .map(|m| {
            m["response_name"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(created.len(), 1);
    let deletes = env
        .mutations()
        .iter()
        .filter(|m| m["method"] == "DELETE")
        .count();
    assert_eq!(deletes, 1, "{:#?}", env.request_lines());
}

#[test]
fn sighup_during_a_session_deletes_the_node_pod() {
    let env = Env::new("sighup-session");
    let mut child = env.spawn(&["node/node-1", "--image=busybox", "-i", "--rm", "--", "cat"]);
    wait_for_request(&env, "/attach", "");
    let _keep_stdin_open = session_up(&mut child);
    signal(child.id(), libc::SIGHUP);
    let out = wait_with_timeout(child, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(128 + libc::SIGHUP));
    assert_eq!(
        env.mutations()
            .iter()
            .filter(|m| m["method"] == "DELETE")
            .count(),
        1,
        "{:#?}",
        env.request_lines()
    );
}

#[test]
fn a_dropped_connection_still_cleans_up() {
    use std::io::Write;
    let env = Env::new("ws-drop");
    // The initial empty frame and the echo of the first line, then the socket just closes.
    env.cluster
        .set_fault(fakecluster::Fault::CloseWebSocketAfter { frames: 2 });
    let mut child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-drop",
        "-c",
        "dbg",
        "-i",
        "--rm",
        // Lost is final without reconnecting (tests/converge.rs has the reattach).
        "--reconnect-window=0",
        "--",
        "cat",
    ]);
    let mut stdin = child.stdin.take().unwrap();
    wait_for_request(&env, "/attach", "");
    stdin.write_all(b"one\n").unwrap();
    let out = wait_with_timeout(child, Duration::from_secs(30));
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{stderr}");
    assert!(stderr.contains("lost the connection"), "{stderr}");
    assert_eq!(
        deletes_of(&env, "/pods/web-drop"),
        1,
        "{:#?}",
        env.request_lines()
    );
}

#[test]
fn a_failed_cleanup_says_what_it_left() {
    let env = Env::new("rm-fails");
    // The copy's own path: its attach and the log fallback (so the run fails, 126: cannot
    // attach) and then its DELETE all get a 500.
    env.cluster.set_fault_on(
        fakecluster::Fault::InternalError { requests: 3 },
        "/pods/web-left",
    );
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-left",
        "-c",
        "dbg",
        "--rm",
        "--",
        "sh",
        "-c",
        "echo ran",
    ]);
    r.assert_code(126);
    r.assert_stderr_contains("warning: created pod default/web-left, could not delete it: Error from server (InternalError)");
    r.assert_stderr_contains("run `kdebug gc`");
    assert!(env.cluster.pod("default", "web-left").is_some());
}
