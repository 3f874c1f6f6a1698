//! Container logs: kubectl's fallback when attach is impossible, and kdebug's way of running
//! a non-interactive command without losing the output printed before an attach could start.

use std::io::{Read, Write};

use crate::client::{ApiError, Client};

/// Copies the container's log to `out`. With `follow`, it streams until the container ends.
pub fn copy(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    follow: bool,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let path = format!("{}/log", crate::kube::pod_path(ns, pod));
    let mut q = vec![("container", container)];
    if follow {
        q.push(("follow", "true"));
    }
    let mut body = client.stream(&path, &q, None)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ApiError::Transport(format!(
                    "failed to read the logs of {pod}/{container}: {e}"
                )))
            }
        };
        if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
            // Whoever reads our output went away; stop quietly.
            return Ok(());
        }
    }
}
