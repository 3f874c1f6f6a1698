//! Container logs: the truth of a non-TTY session's output. They are kubectl's fallback when
//! an attach is impossible, what recovers the output an attach cannot carry (written before
//! it connected, or after stdin closed), and what a fan-out follows.
//!
//! A follow that ends is not taken as the container's end: a restarted API server or kubelet
//! ends every follow while the container runs on (R11, R14 of tests/fakecluster/REAL.md). The
//! container's state, read again, says whether the log is complete; if not, the log is opened
//! again and written out from exactly the byte reached, so nothing is lost or shown twice.

use std::io::{Read, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::client::{ApiError, Client};
use crate::kube::{self as api, Pod, State};

use super::error::SessionError;
use super::follow::ContainerAddr;
use super::RunError;

/// The largest log [`read`] keeps; a longer one is an error rather than unbounded memory.
const MAX_READ: u64 = 64 << 20;

/// How long a log that keeps ending while its container runs is opened again before kdebug
/// gives up on it, when the reconnect window is shorter.
const MIN_PERSISTENCE: Duration = Duration::from_secs(10);

fn open(client: &Client, c: ContainerAddr, follow: bool) -> Result<Body, ApiError> {
    let path = format!("{}/log", api::pod_path(c.ns, c.pod));
    let mut q = vec![("container", c.name)];
    if follow {
        q.push(("follow", "true"));
    }
    client.stream(&path, &q, None)
}

type Body = Box<dyn Read + Send + Sync>;

/// A log that broke while being read: a lost connection (ridden out like any), or the
/// session's own failure.
fn read_failed(client: &Client, c: ContainerAddr, e: std::io::Error) -> RunError {
    match crate::client::Loss::of(&e) {
        Some(loss) => ApiError::Dropped {
            host: client.server().to_string(),
            loss,
        }
        .into(),
        None => SessionError::LogRead {
            pod: c.pod.into(),
            container: c.name.into(),
            kind: e.kind(),
        }
        .into(),
    }
}

/// The container's log as it is now (at most [`MAX_READ`] bytes).
pub fn read(client: &Client, ns: &str, pod: &str, container: &str) -> Result<Vec<u8>, RunError> {
    let c = ContainerAddr {
        ns,
        pod,
        name: container,
    };
    let body = open(client, c, false)?;
    let mut log = Vec::new();
    body.take(MAX_READ + 1)
        .read_to_end(&mut log)
        .map_err(|e| read_failed(client, c, e))?;
    if log.len() as u64 > MAX_READ {
        return Err(SessionError::LogTooLarge {
            pod: pod.into(),
            container: container.into(),
            limit: MAX_READ,
        }
        .into());
    }
    Ok(log)
}

/// How a followed log ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Followed {
    /// The container has terminated and its whole log was written out (or the reader of our
    /// output went away).
    Ended,
    /// Nothing new for the idle limit while the container still runs.
    Idle,
}

/// How one reading of the log ended.
enum End {
    /// The body ended: the container's end, or only the stream's.
    Eof,
    Idle,
    /// Whoever reads our output went away.
    ReaderGone,
}

/// Writes the container's log from byte `from` to its end (see the module's comment). With
/// `idle`, it gives up when nothing new arrives for that long while the container still
/// runs (a process waiting for input that will never come: stdin stays open on the container
/// once kubectl debug's attach leaves, R2).
pub fn follow_to_end(
    client: &Client,
    c: ContainerAddr,
    from: u64,
    idle: Option<Duration>,
    out: &mut dyn Write,
) -> Result<Followed, RunError> {
    follow_from(client, c, from, idle, true, out)
}

/// The whole log of a container known to have terminated (read once, no follow).
pub fn show_ended(
    client: &Client,
    c: ContainerAddr,
    from: u64,
    out: &mut dyn Write,
) -> Result<(), RunError> {
    follow_from(client, c, from, None, false, out).map(|_| ())
}

fn follow_from(
    client: &Client,
    c: ContainerAddr,
    from: u64,
    idle: Option<Duration>,
    follow: bool,
    out: &mut dyn Write,
) -> Result<Followed, RunError> {
    let mut at = from;
    let mut follow = follow;
    let mut trouble: Option<(Instant, u32)> = None;
    let persistence = client.reconnect().window().max(MIN_PERSISTENCE);
    loop {
        let before = at;
        let still_running = || running(client, c).unwrap_or(false);
        let idle = idle.map(|d| (d, &still_running as &dyn Fn() -> bool));
        let failed = match pass(client, c, follow, &mut at, idle, out) {
            Ok(End::ReaderGone) => return Ok(Followed::Ended),
            Ok(End::Idle) => return Ok(Followed::Idle),
            Ok(End::Eof) if !follow => return Ok(Followed::Ended),
            Ok(End::Eof) => None,
            // A refusal of the log itself (the kubelet away, R14) is waited out like a lost
            // connection, within the same window; without one, it is the answer.
            Err(e) if !client.reconnect().retrying() => return Err(e),
            Err(e) => Some(e),
        };
        // Decide from the container's state whether the log is complete. A follow that
        // ended cleanly is most often the container's end, which the kubelet reports up to
        // a second late (R4): its state is awaited that long before the log is opened again.
        let ended = match failed {
            None => !running_after(client, c, STATUS_LAG)?,
            Some(_) => !running(client, c)?,
        };
        if ended {
            follow = false;
        }
        if failed.is_none() && (at > before || ended) {
            trouble = None;
            continue;
        }
        let (since, n) = trouble.get_or_insert((Instant::now(), 0));
        *n += 1;
        if since.elapsed() >= persistence {
            return match failed {
                Some(e) => Err(e),
                None => Ok(Followed::Ended),
            };
        }
        std::thread::sleep(crate::client::reconnect::backoff(*n));
    }
}

/// How long a container whose log ended may still be reported running (R4: the kubelet's
/// relist, every second).
const STATUS_LAG: Duration = Duration::from_millis(1800);

/// Whether the container still runs after up to `lag` of reading its state (with backoff).
fn running_after(client: &Client, c: ContainerAddr, lag: Duration) -> Result<bool, RunError> {
    let start = Instant::now();
    let mut tries = 0;
    loop {
        if !running(client, c)? {
            return Ok(false);
        }
        tries += 1;
        let wait = crate::client::reconnect::backoff(tries);
        if start.elapsed() + wait > lag {
            return Ok(true);
        }
        std::thread::sleep(wait);
    }
}

/// Whether the container has not terminated (read from the server, riding out an outage).
fn running(client: &Client, c: ContainerAddr) -> Result<bool, RunError> {
    let pod = client.get(&api::pod_path(c.ns, c.pod))?;
    Ok(!matches!(
        Pod::read(&pod)?.state(c.name),
        State::Terminated { .. }
    ))
}

/// One reading of the log, writing what lies past `at` and moving `at` along. The body is
/// read on its own thread, so the idle limit holds however the server behaves; when we give
/// up, that thread is left to end with the process.
fn pass(
    client: &Client,
    c: ContainerAddr,
    follow: bool,
    at: &mut u64,
    idle: Option<(Duration, &dyn Fn() -> bool)>,
    out: &mut dyn Write,
) -> Result<End, RunError> {
    let mut body = open(client, c, follow)?;
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let r = match body.read(&mut buf) {
                Ok(n) => Ok(buf[..n].to_vec()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
            let last = !matches!(&r, Ok(d) if !d.is_empty());
            if tx.send(r).is_err() || last {
                return;
            }
        }
    });
    let mut pos: u64 = 0;
    let wait = idle.map_or(Duration::from_secs(3600), |(d, _)| d);
    loop {
        let chunk = match rx.recv_timeout(wait) {
            Ok(Ok(d)) if d.is_empty() => return Ok(End::Eof),
            Ok(Ok(d)) => d,
            Ok(Err(e)) => return Err(read_failed(client, c, e)),
            Err(RecvTimeoutError::Disconnected) => return Ok(End::Eof),
            Err(RecvTimeoutError::Timeout) => {
                if idle.is_some_and(|(_, still_running)| still_running()) {
                    return Ok(End::Idle);
                }
                continue;
            }
        };
        let end = pos + chunk.len() as u64;
        if end > *at {
            let from = at.saturating_sub(pos) as usize;
            if out
                .write_all(&chunk[from..])
                .and_then(|_| out.flush())
                .is_err()
            {
                return Ok(End::ReaderGone);
            }
            *at = end;
        }
        pos = end;
    }
}
