//! Container logs: kubectl's fallback when attach is impossible, and what recovers the output
//! an attach cannot carry (written before it connected, or after stdin closed).

use std::io::{Read, Write};

use crate::client::{ApiError, Client};

/// The largest log [`read`] keeps; a longer one is an error rather than unbounded memory.
const MAX_READ: u64 = 64 << 20;

fn open(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    follow: bool,
) -> Result<Box<dyn Read + Send + Sync>, ApiError> {
    let path = format!("{}/log", crate::kube::pod_path(ns, pod));
    let mut q = vec![("container", container)];
    if follow {
        q.push(("follow", "true"));
    }
    client.stream(&path, &q, None)
}

fn read_failed(pod: &str, container: &str, e: std::io::Error) -> ApiError {
    ApiError::Transport(format!("failed to read the logs of {pod}/{container}: {e}"))
}

/// Copies the container's log to `out`, leaving out its first `skip` bytes. With `follow`, it
/// streams until the container ends.
pub fn copy(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    follow: bool,
    skip: u64,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let mut body = open(client, ns, pod, container, follow)?;
    let mut skip = skip;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_failed(pod, container, e)),
        };
        if write_after(&buf[..n], &mut skip, out).is_err() {
            // Whoever reads our output went away; stop quietly.
            return Ok(());
        }
    }
}

/// Writes what of `chunk` lies past the `skip` bytes still to be left out.
fn write_after(chunk: &[u8], skip: &mut u64, out: &mut dyn Write) -> std::io::Result<()> {
    let from = (*skip).min(chunk.len() as u64) as usize;
    *skip -= from as u64;
    out.write_all(&chunk[from..]).and_then(|_| out.flush())
}

/// The container's log as it is now (at most [`MAX_READ`] bytes).
pub fn read(client: &Client, ns: &str, pod: &str, container: &str) -> Result<Vec<u8>, ApiError> {
    read_log(client, ns, pod, container, false)
}

/// The container's whole log, once it has ended (the log follows until then).
pub fn read_to_end(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
) -> Result<Vec<u8>, ApiError> {
    read_log(client, ns, pod, container, true)
}

fn read_log(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    follow: bool,
) -> Result<Vec<u8>, ApiError> {
    let body = open(client, ns, pod, container, follow)?;
    let mut log = Vec::new();
    body.take(MAX_READ + 1)
        .read_to_end(&mut log)
        .map_err(|e| read_failed(pod, container, e))?;
    if log.len() as u64 > MAX_READ {
        return Err(ApiError::Transport(format!(
            "the log of {pod}/{container} is larger than {MAX_READ} bytes"
        )));
    }
    Ok(log)
}

/// How a followed log ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Followed {
    /// The log ended: the container has exited.
    Ended,
    /// Nothing new for the idle limit while the container still runs.
    Idle,
}

/// Like [`copy`] with `follow`, but gives up when nothing new arrives for `idle` and
/// `still_running` says the container runs on (a process waiting for input that will never
/// come: stdin stays open on the container once kubectl debug's attach leaves, R2).
#[allow(clippy::too_many_arguments)]
pub fn follow_while_active(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    skip: u64,
    idle: std::time::Duration,
    still_running: &dyn Fn() -> bool,
    out: &mut dyn Write,
) -> Result<Followed, ApiError> {
    let mut body = open(client, ns, pod, container, true)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    // The reader blocks in the socket; when we give up it is left to end with the process.
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
    let mut skip = skip;
    loop {
        let chunk = match rx.recv_timeout(idle) {
            Ok(Ok(d)) if d.is_empty() => return Ok(Followed::Ended),
            Ok(Ok(d)) => d,
            Ok(Err(e)) => return Err(read_failed(pod, container, e)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(Followed::Ended),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if still_running() {
                    return Ok(Followed::Idle);
                }
                continue;
            }
        };
        if write_after(&chunk, &mut skip, out).is_err() {
            return Ok(Followed::Ended);
        }
    }
}
