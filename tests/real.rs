//! What a real cluster does (`tests/fakecluster/REAL.md`, R1-R7) and kdebug's answer
//! to it, against fakecluster with its real-server behaviour (the default). Each test names the
//! observation it stands on.

use std::io::{Read, Write};
use std::net::TcpListener;

use fakecluster::{ContainerMode, Options};

use crate::util::{kdebug, wait_running, Dir, Env};

/// R1: a second run with the same `-c` would change nothing on the server (200, no new
/// container) and exit 0; kdebug refuses it before sending anything, naming the state.
#[test]
fn r1_a_used_ephemeral_container_name_is_refused() {
    let env = Env::new("r1-name");
    let first = [
        "web-0",
        "-c",
        "dbg",
        "--image=busybox:1.36",
        "--attach=false",
    ];
    env.run(&first).assert_code(0);
    let patches = |env: &Env| {
        env.mutations()
            .iter()
            .filter(|r| r["method"] == "PATCH")
            .count()
    };
    assert_eq!(patches(&env), 1);
    let r = env.run(&first);
    r.assert_code(1);
    r.assert_stderr_contains(
        "error: pod default/web-0 already has an ephemeral container \"dbg\" (it is ",
    );
    r.assert_stderr_contains("choose another -c, or reattach with: kdebug attach web-0 -c dbg -i)");
    assert_eq!(patches(&env), 1, "a refused run sends no PATCH");

    // The same through a selector (fan-out) and with -f.
    let r = env.run(&[
        "-l",
        "app=web",
        "-c",
        "dbg",
        "--image=busybox:1.36",
        "--",
        "true",
    ]);
    assert_ne!(r.code(), 0, "{}", r.dump());
    assert!(
        r.stderr().contains("already has an ephemeral container")
            || r.stdout().contains("already has an ephemeral container"),
        "{}",
        r.dump()
    );
    let pod = env.cluster.pod("default", "web-0").expect("web-0");
    let file = env.dir.write("pod.json", &pod.to_string());
    let r = env.run(&[
        "-f",
        file.to_str().unwrap(),
        "-c",
        "dbg",
        "--image=busybox:1.36",
        "--attach=false",
    ]);
    r.assert_code(1);
    r.assert_stderr_contains("already has an ephemeral container \"dbg\"");
    assert_eq!(patches(&env), 1);
}

/// R2: containerd stops an attach's output once the client's stdin ends, and the process
/// runs on; kdebug recovers the rest from the log and reports the exit code.
#[test]
fn r2_piped_stdin_loses_nothing_and_keeps_the_exit_code() {
    let env = Env::with(
        "r2-stdin",
        Options {
            container: ContainerMode::Shell,
            ..Options::default()
        },
    );
    let script = "echo early; sleep 2; echo late; exit 4\n";
    let r = env.run_with_stdin(
        &["web-0", "--image=busybox", "-c", "dbg", "-i", "--", "sh"],
        Some(script),
    );
    r.assert_code(4);
    assert_eq!(r.stdout(), "early\nlate\n", "{}", r.dump());

    // kdebug attach -i to a debug container already running.
    let env = Env::with(
        "r2-reattach",
        Options {
            container: ContainerMode::Shell,
            ..Options::default()
        },
    );
    env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "-i",
        "--attach=false",
        "--",
        "sh",
    ])
    .assert_code(0);
    wait_running(&env, "web-0", "dbg");
    let r = env.run_with_stdin(
        &["attach", "web-0", "-c", "dbg", "-i"],
        Some("echo one; sleep 1; echo two; exit 5\n"),
    );
    r.assert_code(5);
    assert_eq!(r.stdout(), "one\ntwo\n", "{}", r.dump());

    // A copy.
    let r = env.run_with_stdin(
        &[
            "web-0",
            "--image=busybox",
            "--copy-to=web-r2",
            "-c",
            "dbg",
            "-i",
            "--rm",
            "--",
            "sh",
        ],
        Some("echo in-copy; sleep 1; echo after; exit 6\n"),
    );
    r.assert_code(6);
    assert_eq!(r.stdout(), "in-copy\nafter\n", "{}", r.dump());

    // Node mode.
    let r = env.run_with_stdin(
        &[
            "node/node-1",
            "--image=busybox",
            "-q",
            "-i",
            "--rm",
            "--",
            "sh",
        ],
        Some("echo on-node; sleep 1; echo later; exit 7\n"),
    );
    r.assert_code(7);
    assert_eq!(r.stdout(), "on-node\nlater\n", "{}", r.dump());
}

/// R3: without -i, stdout and stderr stay apart (the attach carries them), the output from
/// before the attach connected is not lost (from the log, merged), and the exit code is real.
#[test]
fn r3_both_streams_apart_and_nothing_lost_before_the_attach() {
    let env = Env::new("r3-streams");
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo first-line; sleep 1; echo to-stderr >&2; echo last-line; exit 7",
    ]);
    r.assert_code(7);
    assert_eq!(r.stdout(), "first-line\nlast-line\n", "{}", r.dump());
    r.assert_stderr_contains("to-stderr\n");
    assert!(!r.stdout().contains("to-stderr"), "{}", r.dump());
    // The stream split came from the attach: the log was not asked to split (R3: refused).
    let reqs = env.cluster.requests();
    assert!(reqs
        .iter()
        .any(|q| q["path"].as_str().unwrap_or("").ends_with("/attach")));
    assert!(!reqs
        .iter()
        .any(|q| q["query"].to_string().contains("stream=")));
}

/// R5: the container ended before the attach (its status still said running: the kubelet
/// notices exits on its relist); the kubelet's `not found` is a finished run, not a failure.
#[test]
fn r5_attaching_too_late_reads_the_log_and_the_exit_code() {
    let env = Env::new("r5-late");
    let r = env.run_with_stdin(
        &[
            "web-0",
            "--image=busybox",
            "-c",
            "dbg",
            "-i",
            "--",
            "sh",
            "-c",
            "echo quick; exit 3",
        ],
        Some(""),
    );
    r.assert_code(3);
    assert_eq!(r.stdout(), "quick\n", "{}", r.dump());
    assert!(!r.stderr().contains("couldn't attach"), "{}", r.dump());
}

/// R7: an authenticating proxy in front of the API server answers 401 with no Status body.
#[test]
fn r7_a_bare_401_says_what_kubectl_says() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten().take(8) {
            let mut conn = conn;
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nUnauthorized\n",
            );
        }
    });
    let dir = Dir::new("r7-401");
    let cfg = dir.write(
        "kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user: {{}}\n"
        ),
    );
    let out = kdebug()
        .args(["web-0", "--image=busybox", "--attach=false"])
        .env("KUBECONFIG", &cfg)
        .env("HOME", dir.path())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    );
}
