//! Sessions that converge on the truth (the container's log and its state) whatever happens
//! to the streams on the way: every refusal an attach gets as its container exits (R10, R5),
//! an API server restart (R11), a kubelet restart (R14), and a server that stays away. The
//! cluster faults are `FakeCluster::restart_apiserver` and `restart_kubelet`, and the seeded
//! refusal family (`Options::seed`); see tests/fakecluster/REAL.md.

use std::process::Child;
use std::time::{Duration, Instant};

use fakecluster::Options;

use crate::util::{wait_until, wait_with_timeout, Captured, Env};

fn opts(seed: u64) -> Options {
    Options {
        seed,
        // The kubelet's relist, shorter than a real node's second: more runs per minute, the
        // same race (the status says running after the process has exited).
        relist_ms: 300,
        pods: 50,
        ..Options::default()
    }
}

/// Waits until the container's log holds `text` (the session is under way).
fn until_logged(env: &Env, pod: &str, container: &str, text: &str) {
    wait_until(
        &format!("{container} in {pod} to write {text:?}"),
        Duration::from_secs(30),
        || {
            env.cluster
                .container_log("default", pod, container)
                .is_some_and(|l| l.contains(text))
        },
    );
}

fn finish(child: Child) -> crate::util::Run {
    crate::util::Run {
        args: vec![],
        output: wait_with_timeout(child, Duration::from_secs(120)),
    }
}

/// What every converged session's stderr must not hold: a library's words, or an error.
#[track_caller]
fn clean(r: &crate::util::Run) {
    let err = r.stderr();
    for bad in ["IO error", "docs.rs", "error:", "close_notify"] {
        assert!(!err.contains(bad), "stderr holds {bad:?}{}", r.dump());
    }
}

#[test]
fn a_command_that_exits_at_once_keeps_its_output_and_code_over_the_refusal_family() {
    // 200 runs over four seeds, eight at a time: each run's attach races the exit.
    let mut refusals = std::collections::BTreeMap::new();
    for seed in [1u64, 2, 3, 4] {
        let env = Env::with(&format!("refusals-{seed}"), opts(seed));
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..8)
                .map(|w| {
                    let env = &env;
                    s.spawn(move || {
                        for i in (w..50).step_by(8) {
                            let pod = format!("audit-{i:04}");
                            let r = env.run(&[
                                &pod,
                                "--image=busybox",
                                "-c",
                                "dbg",
                                "--attach",
                                "--",
                                "sh",
                                "-c",
                                "echo f; exit 6",
                            ]);
                            r.assert_code(6);
                            assert_eq!(r.stdout(), "f\n", "{}", r.dump());
                            clean(&r);
                        }
                    })
                })
                .collect();
            for r in runs {
                r.join().unwrap();
            }
        });
        for rec in env.cluster.requests() {
            if !rec["path"].as_str().unwrap_or("").ends_with("/attach") {
                continue;
            }
            let kind = match (&rec["fault"], &rec["response"]["status"]) {
                (f, _) if f == "r10-refusal" => "after the upgrade (R10)",
                (_, s) if s == 500 => "the upgrade refused (R5)",
                (_, s) if s == 101 => "attached",
                _ => "other",
            };
            *refusals.entry(kind).or_insert(0) += 1;
        }
    }
    // The family was exercised, not one member of it.
    assert!(
        refusals
            .get("after the upgrade (R10)")
            .copied()
            .unwrap_or(0)
            >= 10
            && refusals
                .get("the upgrade refused (R5)")
                .copied()
                .unwrap_or(0)
                >= 10,
        "{refusals:?}"
    );
}

#[test]
fn fan_out_over_fifty_pods_keeps_every_output_and_code() {
    let env = Env::with("refusals-fanout", opts(9));
    let r = env.run(&[
        "-l",
        "app=audit",
        "--image=busybox",
        "-c",
        "chk",
        "--max-parallel=25",
        "--",
        "sh",
        "-c",
        "echo f; exit 6",
    ]);
    each_pod_said(&r, 50, &["f"], "6");
}

/// A fan-out's output: each of `pods` pods printed each of `lines` exactly once, and the
/// summary gives each the exit code `code`.
#[track_caller]
fn each_pod_said(r: &crate::util::Run, pods: usize, lines: &[&str], code: &str) {
    let out = r.stdout();
    for i in 0..pods {
        for text in lines {
            let line = format!("audit-{i:04}: {text}\n");
            assert_eq!(out.matches(&line).count(), 1, "{line:?}{}", r.dump());
        }
    }
    let codes = out
        .lines()
        .filter(|l| l.starts_with("audit-") && l.contains(" chk "))
        .filter(|l| l.split_whitespace().nth(2) == Some(code))
        .count();
    assert_eq!(codes, pods, "{}", r.dump());
}

/// The reconnect lines: said once each.
#[track_caller]
fn said_once_each(r: &crate::util::Run) {
    let err = r.stderr();
    assert_eq!(
        err.matches("lost the connection to the API server").count(),
        1,
        "{}",
        r.dump()
    );
    assert_eq!(
        err.matches("reconnected to the API server").count(),
        1,
        "{}",
        r.dump()
    );
}

/// A non-TTY session with a restart in its middle: every line once, and the exit code.
fn restart_mid_session(name: &str, seed: u64, restart: impl FnOnce(&Env)) -> crate::util::Run {
    let env = Env::with(
        name,
        Options {
            seed,
            ..Options::default()
        },
    );
    let child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo before; sleep 3; echo after-restart; exit 5",
    ]);
    until_logged(&env, "web-0", "dbg", "before");
    restart(&env);
    let r = finish(child);
    r.assert_code(5);
    assert_eq!(r.stdout(), "before\nafter-restart\n", "{}", r.dump());
    clean(&r);
    r
}

#[test]
fn an_api_server_restart_during_a_session_loses_nothing() {
    let r = restart_mid_session("restart-session", 0, |env| {
        env.cluster.restart_apiserver(Duration::from_secs(2))
    });
    said_once_each(&r);
}

#[test]
fn a_kubelet_restart_during_a_session_loses_nothing() {
    // Two seeds: the restart's streams end in the ways the fake plays (see restart_kubelet;
    // the 20-pod fan-out below draws both for its followed logs).
    for seed in 0..2 {
        restart_mid_session("kubelet-restart", seed, |env| {
            env.cluster.restart_kubelet(Duration::from_secs(2))
        });
    }
}

#[test]
fn an_api_server_restart_while_waiting_for_the_container() {
    let env = Env::with(
        "restart-wait",
        Options {
            kubelet_delay_ms: 1500,
            ..Options::default()
        },
    );
    let child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo started; exit 3",
    ]);
    // The PATCH is in: the wait is under way.
    wait_until("the PATCH", Duration::from_secs(20), || {
        env.cluster
            .pod("default", "web-0")
            .is_some_and(|p| p.to_string().contains("\"dbg\""))
    });
    env.cluster.restart_apiserver(Duration::from_secs(2));
    let r = finish(child);
    r.assert_code(3);
    assert_eq!(r.stdout(), "started\n", "{}", r.dump());
    said_once_each(&r);
}

/// A fan-out of 20 pods with a restart while every command runs: each line once per pod,
/// and each pod's exit code.
fn restart_during_a_fan_out(name: &str, restart: impl FnOnce(&Env)) -> crate::util::Run {
    let env = Env::with(
        name,
        Options {
            pods: 20,
            ..Options::default()
        },
    );
    let child = env.spawn(&[
        "-l",
        "app=audit",
        "--image=busybox",
        "-c",
        "chk",
        "--max-parallel=20",
        "--",
        "sh",
        "-c",
        "echo one; sleep 3; echo two; exit 4",
    ]);
    for i in 0..20 {
        until_logged(&env, &format!("audit-{i:04}"), "chk", "one");
    }
    restart(&env);
    let r = finish(child);
    each_pod_said(&r, 20, &["one", "two"], "4");
    r
}

#[test]
fn an_api_server_restart_during_a_fan_out_of_twenty_pods() {
    let r = restart_during_a_fan_out("restart-fanout", |env| {
        env.cluster.restart_apiserver(Duration::from_secs(2))
    });
    said_once_each(&r);
}

#[test]
fn a_kubelet_restart_during_a_fan_out_of_twenty_pods() {
    let r = restart_during_a_fan_out("kubelet-fanout", |env| {
        env.cluster.restart_kubelet(Duration::from_secs(2))
    });
    clean(&r);
}

/// A `--rm` copy with a restart during its command: the output, the code, and the copy
/// deleted at the end.
fn restart_during_a_copy_with_rm(name: &str, restart: impl FnOnce(&Env)) {
    let env = Env::new(name);
    let child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-0-dbg",
        "--container=dbg",
        "--rm",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo x; sleep 3; echo y; exit 2",
    ]);
    until_logged(&env, "web-0-dbg", "dbg", "x");
    restart(&env);
    let r = finish(child);
    r.assert_code(2);
    assert_eq!(r.stdout(), "x\ny\n", "{}", r.dump());
    assert!(
        env.cluster.pod("default", "web-0-dbg").is_none(),
        "{}",
        r.dump()
    );
    r.assert_stderr_contains("pod/web-0-dbg deleted");
}

#[test]
fn an_api_server_restart_during_a_copy_with_rm_still_cleans_up() {
    restart_during_a_copy_with_rm("restart-rm", |env| {
        env.cluster.restart_apiserver(Duration::from_secs(2))
    });
}

#[test]
fn a_kubelet_restart_during_a_copy_with_rm_still_cleans_up() {
    restart_during_a_copy_with_rm("kubelet-rm", |env| {
        env.cluster.restart_kubelet(Duration::from_secs(2))
    });
}

#[test]
fn a_server_that_stays_away_ends_the_session_after_the_window() {
    let env = Env::new("restart-gone");
    let child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-0-gone",
        "--container=dbg",
        "--rm",
        "--attach",
        "--reconnect-window=2s",
        "--",
        "sh",
        "-c",
        "echo x; sleep 30",
    ]);
    until_logged(&env, "web-0-gone", "dbg", "x");
    let start = Instant::now();
    env.cluster.restart_apiserver(Duration::from_secs(60));
    let r = finish(child);
    assert!(start.elapsed() < Duration::from_secs(20), "{}", r.dump());
    r.assert_code(126);
    let server = env.cluster.url();
    r.assert_stderr_contains(&format!(
        "error: lost the API server at {server}: kdebug tried to reconnect for 2s"
    ));
    // The copy could not be deleted: it is named as left behind.
    r.assert_stderr_contains("web-0-gone, could not delete it");
    assert!(!r.stderr().contains("IO error"), "{}", r.dump());
}

#[test]
fn ctrl_c_while_reconnecting_ends_the_session_and_cleans_up_once() {
    let env = Env::new("restart-ctrl-c");
    let mut child = env.spawn(&[
        "web-0",
        "--image=busybox",
        "--copy-to=web-0-int",
        "--container=dbg",
        "--rm",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo x; sleep 30",
    ]);
    let said = Captured::new(child.stderr.take().unwrap());
    until_logged(&env, "web-0-int", "dbg", "x");
    env.cluster.restart_apiserver(Duration::from_secs(60));
    said.wait_for("reconnecting", 1);
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = wait_with_timeout(child, Duration::from_secs(10));
    let said = said.settled(Duration::from_millis(100));
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(said.contains("web-0-int, could not delete it"), "{said}");
}
