//! What kdebug asks the API server for in one debug run: no discovery, no list, one watch
//! opened alongside the write, the attach, the log reads that recover what an attach cannot
//! carry (R2, R3 of tests/fakecluster/REAL.md), and the exit code from that same watch. And the
//! fallbacks when that watch cannot be opened or drops.

mod util;

use std::collections::BTreeMap;

use fakecluster::Fault;
use util::Env;

fn kinds(env: &Env) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for r in env.cluster.records() {
        *m.entry(r.kind().as_str()).or_insert(0) += 1;
    }
    m
}

fn counts(pairs: &[(&'static str, usize)]) -> BTreeMap<&'static str, usize> {
    pairs.iter().copied().collect()
}

/// The requests of one run: exactly `fixed` (the write, the watch alongside it, no list, no
/// discovery), and within a budget the ones whose number depends on timing: log reads (to
/// measure the output before the attach, and for the rest), reads of the pod (the container's
/// state, when a stream ended), and attaches (one refused as its container exits, R5 and
/// R10, is made again while the status still says it runs).
fn assert_floor(env: &Env, fixed: &[(&'static str, usize)]) {
    let mut k = kinds(env);
    let lines = env.request_lines();
    let mut budget = |kind: &str, range: std::ops::RangeInclusive<usize>| {
        let n = k.remove(kind).unwrap_or(0);
        assert!(range.contains(&n), "{n} {kind}: {lines:#?}");
    };
    // Up to three to measure the earlier output, one follow, one more after a follow that
    // ended while the status still said running (the relist, R4), one last once it ended.
    budget("log", 1..=6);
    budget("get", 1..=6);
    budget("attach", 1..=5);
    let fixed: BTreeMap<_, _> = counts(fixed)
        .into_iter()
        .filter(|(kind, _)| !matches!(*kind, "get" | "attach"))
        .collect();
    assert_eq!(k, fixed, "{lines:#?}");
}

#[test]
fn ephemeral_with_attach_sends_get_patch_watch_attach_log() {
    let env = Env::new("floor-ephemeral");
    let run = env.run(&[
        "web-0",
        "--image",
        "busybox",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo hi; exit 3",
    ]);
    run.assert_code(3).assert_stdout_contains("hi\n");
    assert_floor(
        &env,
        &[("get", 1), ("patch", 1), ("watch", 1), ("attach", 1)],
    );
}

#[test]
fn interactive_ephemeral_sends_get_patch_watch_attach() {
    let env = Env::new("floor-interactive");
    let run = env.run_with_stdin(
        &["web-0", "--image", "busybox", "-i"],
        Some("hello\nexit 7\n"),
    );
    run.assert_code(7).assert_stdout_contains("hello\n");
    assert_floor(
        &env,
        &[("get", 1), ("patch", 1), ("watch", 1), ("attach", 1)],
    );
}

#[test]
fn copy_and_node_send_get_create_watch_attach_log() {
    let env = Env::new("floor-copy-node");
    env.run(&[
        "web-0",
        "--copy-to",
        "web-0-copy",
        "--image",
        "busybox",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo copy; exit 4",
    ])
    .assert_code(4)
    .assert_stdout_contains("copy\n");
    let want = [("get", 1), ("create", 1), ("watch", 1), ("attach", 1)];
    assert_floor(&env, &want);
    env.cluster.clear_requests();
    env.run(&[
        "node/node-1",
        "--image",
        "busybox",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo node; exit 5",
    ])
    .assert_code(5)
    .assert_stdout_contains("node\n");
    assert_floor(&env, &want);
}

#[test]
fn a_watch_that_cannot_be_opened_falls_back_to_list_and_watch() {
    let env = Env::new("early-watch-fails");
    let (fault, _) = Fault::parse("500:1").unwrap();
    env.cluster.set_fault_on(fault, "watch=true");
    let run = env.run(&[
        "web-0",
        "--image",
        "busybox",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo hi; exit 3",
    ]);
    run.assert_code(3).assert_stdout_contains("hi\n");
    let k = kinds(&env);
    assert_eq!(k.get("list"), Some(&1), "{:#?}", env.request_lines());
    assert_eq!(k.get("watch"), Some(&2), "{:#?}", env.request_lines());
}

#[test]
fn a_watch_that_drops_is_resumed_and_the_exit_code_still_arrives() {
    let env = Env::new("early-watch-drops");
    let (fault, _) = Fault::parse("drop-watch:1").unwrap();
    env.cluster.set_fault_on(fault, "watch=true");
    let run = env.run(&[
        "web-0",
        "--image",
        "busybox",
        "--attach",
        "--",
        "sh",
        "-c",
        "sleep 0.3; echo hi; exit 6",
    ]);
    run.assert_code(6).assert_stdout_contains("hi\n");
    let k = kinds(&env);
    assert!(k.get("watch") >= Some(&2), "{:#?}", env.request_lines());
    assert_eq!(k.get("list"), None, "{:#?}", env.request_lines());
}
