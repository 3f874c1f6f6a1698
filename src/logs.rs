//! Container logs: kubectl's fallback when attach is impossible, and kdebug's way of running
//! a non-interactive command without losing the output printed before an attach could start.

use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

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
    let path = format!("{}/log", crate::api::pod_path(ns, pod));
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

/// Standard output or error, unbuffered: every chunk is written through as it arrives, with
/// no line buffering between the container and the reader.
pub struct RawOut(ManuallyDrop<File>);

pub fn stdout() -> RawOut {
    raw(1)
}

pub fn stderr() -> RawOut {
    raw(2)
}

fn raw(fd: i32) -> RawOut {
    // SAFETY: fds 1 and 2 stay open for the life of the process; ManuallyDrop never closes them.
    RawOut(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
}

impl Write for RawOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
