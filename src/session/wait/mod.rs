//! Waiting for the debug container: a watch (`fieldSelector=metadata.name=POD`) opened
//! together with the PATCH/POST when it can be, else a list and a watch from the list's
//! resourceVersion; re-watching when a watch ends or drops, relisting on 410 Gone, and
//! reading the pod when a watch brings no news (a server may lose an update), until the
//! container runs or terminates. Unlike kubectl it never hangs: a
//! deadline (`--timeout`) and fail-fast on the kubelet's start failures.

mod error;

pub use error::WaitError;

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{ApiError, Client};
use crate::kube::watch::{decode_event, Decoded, WatchEvent};
use crate::kube::{self as api, Meta, Pod, State};
use crate::sys::live::Console;
use crate::sys::output::RawOut;

/// The longest a watch is kept open without news before the pod is read (GET) instead: a
/// server that lost an update (issue 14) costs this long, not the whole `--timeout`.
const PATIENCE: Duration = Duration::from_secs(10);

/// How long one watch runs before the pod is read, for a wait of `timeout`: a quarter of it,
/// 1 s to [`PATIENCE`].
fn patience(timeout: Option<Duration>) -> Duration {
    timeout.map_or(PATIENCE, |t| {
        (t / 4).clamp(Duration::from_secs(1), PATIENCE)
    })
}

/// Waiting reasons after which the container will not start without someone changing
/// something, so waiting longer only hides the problem (k/k#108135).
const FATAL_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

pub struct WaitOptions {
    /// None: wait forever (kubectl's behaviour).
    pub timeout: Option<Duration>,
    pub quiet: bool,
}

/// What the wait found: the pod as last seen, and the container's state in it.
pub struct Ready {
    pub pod: Value,
    pub state: State,
    /// The rest of the watch that showed the container start, when a watch did.
    pub watch: Option<WatchTail>,
}

/// The rest of a watch on the pod: it goes on to show the container end, so its exit code
/// needs no further request.
pub struct WatchTail {
    reader: BufReader<Body>,
}

impl WatchTail {
    /// Reads the watch until `container` of pod `name` has terminated and returns its exit
    /// code as the server gave it (`Some(None)`: it gave none); None when the watch ends (or
    /// the pod goes) first, or `grace` passes. The reading happens on another thread, so a
    /// watch that stays silent cannot hold us past `grace`.
    pub fn exit_code(self, name: &str, container: &str, grace: Duration) -> Option<Option<i32>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (name, container) = (name.to_string(), container.to_string());
        let mut reader = self.reader;
        std::thread::spawn(move || {
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                match decode_event(line.as_bytes()) {
                    Decoded::Event(WatchEvent::Changed { object, .. }) => {
                        // An unreadable pod ends the watch here; the caller reads the pod.
                        let Ok(pod) = Pod::read(&object) else { return };
                        if pod.metadata.name != name {
                            continue;
                        }
                        if let State::Terminated { exit_code, .. } = pod.state(&container) {
                            let _ = tx.send(exit_code);
                            return;
                        }
                    }
                    Decoded::Event(WatchEvent::Deleted | WatchEvent::Error { .. }) => return,
                    _ => {}
                }
            }
        });
        rx.recv_timeout(grace).ok()
    }
}

enum Check {
    Done(State),
    /// Not yet: what the container waits for (the waiting reason, up to any `:`), and the
    /// kubelet's message.
    Pending {
        short: String,
        message: String,
    },
}

/// Shows progress without repeating itself: on a terminal one line updated in place (the
/// live line of `sys::live`), naming the container's own state (not the pod's phase, R4 of
/// tests/fakecluster/REAL.md) and the time waited; elsewhere kubectl's
/// `Warning: container X: message` once per distinct message.
struct Progress {
    console: Console<RawOut, RawOut>,
    quiet: bool,
    started: Instant,
    container: String,
    last: String,
}

impl Progress {
    fn new(container: &str, quiet: bool, started: Instant) -> Progress {
        let (out, err) = (crate::sys::output::stdout(), crate::sys::output::stderr());
        Progress {
            console: Console::new(out, err, crate::sys::term::is_terminal(2)),
            quiet,
            started,
            container: container.to_string(),
            last: String::new(),
        }
    }

    fn update(&mut self, pending: &str, message: &str) {
        if self.quiet {
            return;
        }
        let line = if message.is_empty() {
            pending.to_string()
        } else {
            format!("{pending}: {message}")
        };
        if line == self.last {
            return;
        }
        self.last = line;
        if self.console.is_live() {
            self.tick();
        } else if !message.is_empty() {
            let warning = format!("Warning: container {}: {message}", self.container);
            self.console.message(&warning);
        }
    }

    /// Redraws the terminal line with the time waited so far (on every watch line, so at
    /// least on each bookmark).
    fn tick(&mut self) {
        if self.last.is_empty() {
            return;
        }
        let waited = self.started.elapsed().as_secs_f64();
        let status = format!(
            "waiting for {}: {} ({waited:.1}s)",
            self.container, self.last
        );
        self.console.set_status(status);
    }

    fn finish(&mut self) {
        self.console.finish();
    }
}

fn check(pod: &Pod, container: &str) -> Result<Check, WaitError> {
    let pod_failure = || pod_failure(pod);
    match pod.state(container) {
        s @ (State::Running | State::Terminated { .. }) => Ok(Check::Done(s)),
        State::Waiting { reason, message } => {
            if FATAL_REASONS.contains(&reason.as_str()) {
                return Err(WaitError::CannotStart {
                    container: container.into(),
                    reason,
                    message,
                });
            }
            if let Some(err) = pod_failure() {
                return Err(err);
            }
            let short = reason.split(':').next().unwrap_or("").to_string();
            Ok(Check::Pending { short, message })
        }
        State::Unknown => match pod_failure() {
            Some(err) => Err(err),
            // In the spec, but the kubelet has not reported it yet (R4's first event): say
            // so rather than the pod's phase, which is `Running` for a running pod's new
            // ephemeral container.
            None => Ok(Check::Pending {
                short: "not started yet".into(),
                message: String::new(),
            }),
        },
    }
}

fn pod_failure(pod: &Pod) -> Option<WaitError> {
    let (name, status) = (pod.metadata.name, &pod.status);
    let (reason, message) = (status.reason, status.message);
    if status.phase == "Failed" || reason == "Evicted" {
        return Some(WaitError::PodFailed {
            pod: name.into(),
            reason: if reason.is_empty() {
                "Failed".into()
            } else {
                reason.into()
            },
            message: message.into(),
        });
    }
    let unschedulable = status
        .conditions
        .iter()
        .find(|c| c.kind == "PodScheduled" && c.reason == "Unschedulable");
    unschedulable.map(|c| WaitError::PodFailed {
        pod: name.into(),
        reason: "Unschedulable".into(),
        message: c.message.into(),
    })
}

type Body = Box<dyn Read + Send + Sync>;

/// How long past its `timeoutSeconds` a watch may run before we end it: a server that goes
/// silent (or a link that drops without a word) cannot hold the wait longer than that.
const WATCH_SLACK_SECS: u64 = 2;

/// A watch on one pod opened on another thread just before the request that creates or
/// changes the pod (the PATCH or POST), so that the two round trips overlap and no list is
/// needed. It is opened without a resourceVersion: the server first sends the pod as it is at
/// that moment (if it exists), then every later change, so nothing can fall in between and
/// it cannot be too old (410).
pub struct EarlyWatch {
    opened: JoinHandle<Result<Body, ApiError>>,
}

/// Starts opening an [`EarlyWatch`] on pod `ns/name`; `timeout` is the wait's `--timeout`.
pub fn watch_early(
    client: &Arc<Client>,
    ns: &str,
    name: &str,
    timeout: Option<Duration>,
) -> EarlyWatch {
    let client = Arc::clone(client);
    let path = api::pods_path(ns);
    let selector = format!("metadata.name={name}");
    let secs = patience(timeout).as_secs();
    let opened = std::thread::spawn(move || {
        let secs_s = secs.to_string();
        let query = [
            ("allowWatchBookmarks", "true"),
            ("fieldSelector", selector.as_str()),
            ("timeoutSeconds", secs_s.as_str()),
            ("watch", "true"),
        ];
        client.stream(
            &path,
            &query,
            Some(Duration::from_secs(secs + WATCH_SLACK_SECS)),
        )
    });
    EarlyWatch { opened }
}

/// Waits until `container` in pod `ns/name` runs or has terminated.
pub fn until_started(
    client: &Client,
    ns: &str,
    name: &str,
    container: &str,
    opts: &WaitOptions,
) -> Result<Ready, WaitError> {
    until_started_with(client, ns, name, container, opts, None)
}

/// [`until_started`], going on from a watch opened early when there is one (and falling back
/// to list and watch if it could not be opened).
pub fn until_started_with(
    client: &Client,
    ns: &str,
    name: &str,
    container: &str,
    opts: &WaitOptions,
    early: Option<EarlyWatch>,
) -> Result<Ready, WaitError> {
    let started = Instant::now();
    let deadline = opts.timeout.map(|t| started + t);
    let patience = patience(opts.timeout);
    let mut progress = Progress::new(container, opts.quiet, started);
    let result = watch_loop(
        client,
        (ns, name, container),
        (deadline, patience),
        &mut progress,
        early,
    );
    progress.finish();
    // An image that cannot be pulled: the node's images that could serve (issue 21).
    let result = super::images::with_pull_hint(client, ns, name, result);
    match result {
        Err(WaitError::Timeout {
            container, last, ..
        }) => Err(WaitError::Timeout {
            container,
            after: opts.timeout.unwrap_or_default(),
            last,
        }),
        other => other,
    }
}

fn watch_loop(
    client: &Client,
    (ns, name, container): (&str, &str, &str),
    (deadline, patience): (Option<Instant>, Duration),
    progress: &mut Progress,
    mut early: Option<EarlyWatch>,
) -> Result<Ready, WaitError> {
    let selector = format!("metadata.name={name}");
    let path = api::pods_path(ns);
    let timed_out = |progress: &Progress| WaitError::Timeout {
        container: container.into(),
        after: Duration::ZERO,
        last: progress.last.clone(),
    };
    'relist: loop {
        // An early watch replaces the list: its first event is the pod as it was.
        let mut opened: Option<Body> = None;
        if let Some(e) = early.take() {
            match e.opened.join() {
                Ok(Ok(body)) => opened = Some(body),
                _ => continue 'relist,
            }
        }
        let (mut rv, mut last_pod) = match opened {
            Some(_) => (String::new(), None),
            None => {
                let (rv, pod) = list_one(client, &path, &selector, name)?;
                (rv, Some(pod))
            }
        };
        loop {
            // The listed pod is checked once; after that only what the watch shows counts.
            if let Some(pod) = last_pod.take() {
                match check(&Pod::read(&pod)?, container)? {
                    Check::Done(state) => {
                        return Ok(Ready {
                            pod,
                            state,
                            watch: None,
                        })
                    }
                    Check::Pending { short, message } => progress.update(&short, &message),
                }
            }
            let body = match opened.take() {
                Some(body) => body,
                // An early watch that ended before it showed the pod: start over with a list.
                None if rv.is_empty() => continue 'relist,
                None => match open_watch(client, &path, &selector, &rv, deadline, patience) {
                    Ok(b) => b,
                    Err(OpenError::Relist) => continue 'relist,
                    Err(OpenError::Retry) => continue,
                    Err(OpenError::TimedOut) => return Err(timed_out(progress)),
                    Err(OpenError::Wait(e)) => return Err(e),
                },
            };
            let mut reader = BufReader::new(body);
            let mut line = String::new();
            let mut news = false;
            loop {
                line.clear();
                // A read error is a dropped or expired watch: resume from `rv`.
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                progress.tick();
                match decode_event(line.as_bytes()) {
                    Decoded::Blank => continue,
                    // Half a line or a broken stream: resume from `rv`.
                    Decoded::Malformed => break,
                    Decoded::Event(WatchEvent::Error { code }) => {
                        if code == Some(410) {
                            continue 'relist;
                        }
                        break;
                    }
                    Decoded::Event(WatchEvent::Bookmark { resource_version }) => {
                        if !resource_version.is_empty() {
                            rv = resource_version;
                        }
                    }
                    Decoded::Event(WatchEvent::Deleted) => {
                        return Err(WaitError::Deleted { pod: name.into() })
                    }
                    Decoded::Event(WatchEvent::Changed {
                        resource_version,
                        object,
                    }) => {
                        if !resource_version.is_empty() {
                            rv = resource_version;
                        }
                        let pod = Pod::read(&object)?;
                        if pod.metadata.name == name {
                            news = true;
                            match check(&pod, container)? {
                                Check::Done(state) => {
                                    return Ok(Ready {
                                        pod: object,
                                        state,
                                        watch: Some(WatchTail { reader }),
                                    })
                                }
                                Check::Pending { short, message } => {
                                    progress.update(&short, &message)
                                }
                            }
                        }
                    }
                    Decoded::Event(WatchEvent::Other) => {}
                }
            }
            // A whole watch without news, or the deadline here: the server may have lost an
            // update, so the pod itself is read (and checked above) before watching again
            // or giving up.
            if !news || deadline.is_some_and(|d| Instant::now() >= d) {
                let pod = get_pod(client, ns, name)?;
                rv = Meta::read(&pod)?.resource_version.to_string();
                last_pod = Some(pod);
            }
        }
    }
}

/// Reads the pod itself (a quorum read, unlike the list from the watch cache).
fn get_pod(client: &Client, ns: &str, name: &str) -> Result<Value, WaitError> {
    match client.get(&api::pod_path(ns, name)) {
        Err(e) if e.is_not_found() => Err(WaitError::Deleted { pod: name.into() }),
        r => Ok(r?),
    }
}

/// Lists the pod by name: the list's resourceVersion (to watch from) and the pod.
fn list_one(
    client: &Client,
    path: &str,
    selector: &str,
    name: &str,
) -> Result<(String, Value), WaitError> {
    let list = client.get_query(
        path,
        &[
            ("fieldSelector", selector),
            ("limit", "500"),
            ("resourceVersion", "0"),
        ],
    )?;
    let rv = Meta::read(&list)?.resource_version.to_string();
    for pod in api::items(&list) {
        if Meta::read(&pod)?.name == name {
            return Ok((rv, pod));
        }
    }
    Err(WaitError::Deleted { pod: name.into() })
}

enum OpenError {
    Relist,
    Retry,
    TimedOut,
    Wait(WaitError),
}

/// Opens one watch from `rv`; it ends when the server's timeoutSeconds passes or the link
/// drops, and the caller goes on from the last resourceVersion seen.
fn open_watch(
    client: &Client,
    path: &str,
    selector: &str,
    rv: &str,
    deadline: Option<Instant>,
    patience: Duration,
) -> Result<Body, OpenError> {
    let remaining = match deadline {
        Some(d) => match d.checked_duration_since(Instant::now()) {
            Some(r) if !r.is_zero() => Some(r),
            _ => return Err(OpenError::TimedOut),
        },
        None => None,
    };
    let secs = remaining
        .map_or(patience, |r| r.min(patience))
        .as_secs()
        .max(1);
    let secs_s = secs.to_string();
    let query = [
        ("allowWatchBookmarks", "true"),
        ("fieldSelector", selector),
        ("resourceVersion", rv),
        ("timeoutSeconds", secs_s.as_str()),
        ("watch", "true"),
    ];
    // The whole watch is bounded a little past the server's own timeout, so a server or link
    // that goes silent cannot hang us.
    let limit =
        Duration::from_secs(secs + WATCH_SLACK_SECS).min(remaining.unwrap_or(Duration::MAX));
    match client.stream(path, &query, Some(limit)) {
        Ok(b) => Ok(b),
        Err(e) if e.code() == Some(410) => Err(OpenError::Relist),
        Err(ApiError::Timeout(_)) if deadline.is_some_and(|d| Instant::now() >= d) => {
            Err(OpenError::TimedOut)
        }
        Err(ApiError::Status(s)) if matches!(s.code, 429 | 500 | 503 | 504) => {
            std::thread::sleep(Duration::from_millis(500));
            Err(OpenError::Retry)
        }
        Err(e) => Err(OpenError::Wait(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(pod: &Value, container: &str) -> Result<Check, WaitError> {
        super::check(&Pod::read(pod).unwrap(), container)
    }

    fn pod(state: Value) -> Value {
        json!({"metadata": {"name": "p"}, "status": {"phase": "Pending", "ephemeralContainerStatuses": [{"name": "d", "state": state}]}})
    }

    #[test]
    fn running_and_terminated_are_done() {
        assert!(matches!(
            check(&pod(json!({"running": {}})), "d"),
            Ok(Check::Done(State::Running))
        ));
        assert!(matches!(
            check(&pod(json!({"terminated": {"exitCode": 2}})), "d"),
            Ok(Check::Done(State::Terminated {
                exit_code: Some(2),
                ..
            }))
        ));
    }

    #[test]
    fn pull_failures_fail_fast() {
        let p = pod(
            json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"x\""}}),
        );
        match check(&p, "d") {
            Err(e @ WaitError::CannotStart { .. }) => {
                assert_eq!(crate::sys::report::error_text(&e), "error: container d cannot start: ImagePullBackOff: Back-off pulling image \"x\"")
            }
            other => panic!("{:?}", other.err()),
        }
        assert!(matches!(
            check(
                &pod(json!({"waiting": {"reason": "ContainerCreating"}})),
                "d"
            ),
            Ok(Check::Pending { .. })
        ));
    }

    #[test]
    fn evicted_and_unschedulable_pods_fail() {
        let evicted = json!({"metadata": {"name": "p"}, "status": {"phase": "Failed", "reason": "Evicted", "message": "low on memory"}});
        assert!(
            matches!(check(&evicted, "d"), Err(WaitError::PodFailed { reason, .. }) if reason == "Evicted")
        );
        let unsched = json!({"metadata": {"name": "p"}, "status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}]}});
        assert!(
            matches!(check(&unsched, "d"), Err(WaitError::PodFailed { reason, .. }) if reason == "Unschedulable")
        );
    }
}
