//! One attach to the copy container, used synchronously: the archive is read from its
//! stdout channel (a [`Read`]) or written to its stdin channel (a [`Write`]), byte for byte.
//! Its stderr is kept for the end; keepalives go out while the wait is long.
//!
//! The other side may be compromised, so every buffer is bounded (the answer line, the
//! stderr kept) and a stream that carries no archive bytes for the stall time ends the copy,
//! however lively the connection (answered pings and stderr are not progress).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use tungstenite::Message;

use crate::client::Client;
use crate::session::attach::frames::{self, Frame};
use crate::session::attach::{self, AttachError, AttachOptions, Ws};
use crate::session::RunError;
use crate::sys::live::Console;

use super::CpError;

const POLL: Duration = Duration::from_millis(20);
const PING_EVERY: Duration = Duration::from_secs(5);
/// No archive bytes this long, with the copy not finished, ends it (`KDEBUG_CP_STALL`, a Go
/// duration, changes it: for tests and for links known to pause).
const STALL: Duration = Duration::from_secs(60);
/// The copy container's answer (`D` or `F`) is one short line.
pub const MAX_LINE: usize = 4096;
/// What may follow the end-of-archive marker: GNU tar pads to its 10 KiB record.
const AFTER_END: usize = 64 << 10;
/// A stdin frame carries at most this much (the server reads frames whole).
const FRAME: usize = 32 << 10;
/// Stderr kept for the end: a failing tar says why in the first lines.
const MAX_STDERR: usize = 64 << 10;

pub struct Channel {
    ws: Ws,
    v5: bool,
    /// Stdout bytes received and not yet read.
    pending: Vec<u8>,
    pos: usize,
    pub stderr: Vec<u8>,
    /// What the error channel (3) said, bounded: an exec's result.
    status: Vec<u8>,
    /// The server closed the session.
    closed: bool,
    last_ping: Instant,
    /// When archive bytes last moved (either way).
    last_data: Instant,
    stall: Duration,
    pub progress: Progress,
}

/// Why the channel stopped.
#[derive(Debug)]
pub enum ChannelError {
    Attach(AttachError),
    /// No archive bytes for this long.
    Stalled(Duration),
    /// An answer line longer than [`MAX_LINE`].
    LongLine,
}

impl From<attach::Broke> for ChannelError {
    fn from(b: attach::Broke) -> Self {
        ChannelError::Attach(AttachError::Lost(b))
    }
}

impl From<AttachError> for ChannelError {
    fn from(e: AttachError) -> Self {
        ChannelError::Attach(e)
    }
}

impl From<ChannelError> for RunError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Attach(e) => e.into(),
            ChannelError::Stalled(d) => CpError::Stalled(d).into(),
            ChannelError::LongLine => CpError::LongAnswer { limit: MAX_LINE }.into(),
        }
    }
}

/// The stall time: `KDEBUG_CP_STALL` when it is a valid duration, else [`STALL`].
fn stall_time() -> Duration {
    std::env::var("KDEBUG_CP_STALL")
        .ok()
        .and_then(|v| crate::text::duration::parse_go(&v))
        .filter(|d| !d.is_zero())
        .unwrap_or(STALL)
}

impl Channel {
    /// Attaches to `container` with stdin, stdout and stderr (no TTY).
    pub fn open(
        client: &Client,
        ns: &str,
        pod: &str,
        container: &str,
    ) -> Result<Channel, AttachError> {
        let q = attach::query(&AttachOptions {
            container: container.to_string(),
            stdin: true,
            tty: false,
            measure: false,
        });
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Channel::connect(client, ns, pod, "attach", &q, &[frames::V5, frames::V4])
    }

    /// Runs `command` in `container` (`pods/exec`, kubectl's query: `command` repeated,
    /// `container`, then the streams). A copy into the pod must end stdin and still read
    /// the result, which only v5 can: see [`Channel::speaks_v5`].
    pub fn exec(
        client: &Client,
        ns: &str,
        pod: &str,
        container: &str,
        command: &[String],
        stdin: bool,
    ) -> Result<Channel, AttachError> {
        let mut q: Vec<(&str, &str)> = command.iter().map(|c| ("command", c.as_str())).collect();
        q.push(("container", container));
        q.push(("stderr", "true"));
        if stdin {
            q.push(("stdin", "true"));
        }
        q.push(("stdout", "true"));
        Channel::connect(client, ns, pod, "exec", &q, &[frames::V5, frames::V4])
    }

    fn connect(
        client: &Client,
        ns: &str,
        pod: &str,
        sub: &str,
        q: &[(&str, &str)],
        protocols: &[&str],
    ) -> Result<Channel, AttachError> {
        let path = format!("{}/{sub}", crate::kube::pod_path(ns, pod));
        let socket = client
            .websocket(&path, q, protocols)
            .map_err(AttachError::Connect)?;
        socket.ws.get_ref().tcp().set_read_timeout(Some(POLL)).ok();
        // A server that stops reading the archive is a stall too: a write blocked this long
        // fails instead of hanging.
        let stall = stall_time();
        socket
            .ws
            .get_ref()
            .tcp()
            .set_write_timeout(Some(stall))
            .ok();
        Ok(Channel {
            v5: socket.protocol == frames::V5,
            ws: socket.ws,
            pending: Vec::new(),
            pos: 0,
            stderr: Vec::new(),
            status: Vec::new(),
            closed: false,
            last_ping: Instant::now(),
            last_data: Instant::now(),
            stall,
            progress: Progress::new(),
        })
    }

    /// Whether the server chose v5 (which can end stdin alone).
    pub fn speaks_v5(&self) -> bool {
        self.v5
    }

    /// Sends data on stdin.
    pub fn send_stdin(&mut self, data: &[u8]) -> Result<(), ChannelError> {
        for chunk in data.chunks(FRAME) {
            attach::send(&mut self.ws, frames::stdin(chunk))?;
            self.last_data = Instant::now();
            // Keep reading, so a container writing much to stderr cannot block us both.
            if self.readable() {
                self.poll(false)?;
            }
        }
        Ok(())
    }

    /// Whether the socket has bytes to read now (a read would not wait).
    fn readable(&self) -> bool {
        use std::os::fd::AsRawFd;
        let mut fd = libc::pollfd {
            fd: self.ws.get_ref().tcp().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        unsafe { libc::poll(&mut fd, 1, 0) > 0 }
    }

    /// Ends stdin: `tar x` then sees the end of the archive. v4 cannot half-close, so the
    /// session is closed instead (the container's stdin is `stdinOnce`).
    pub fn close_stdin(&mut self) -> Result<(), AttachError> {
        if self.v5 {
            attach::send(&mut self.ws, frames::close_stdin()).map_err(AttachError::Lost)
        } else {
            let _ = self.ws.close(None);
            let _ = self.ws.flush();
            self.closed = true;
            Ok(())
        }
    }

    /// Reads what comes next; false once the session ended. With `wait`, blocks until
    /// something came (or the keepalive is due).
    fn poll(&mut self, wait: bool) -> Result<bool, ChannelError> {
        if self.closed {
            return Ok(false);
        }
        loop {
            if self.last_ping.elapsed() >= PING_EVERY {
                self.ws
                    .send(Message::Ping(Default::default()))
                    .map_err(|e| AttachError::Lost(attach::Broke::of(&e)))?;
                self.last_ping = Instant::now();
            }
            match self.ws.read() {
                Ok(Message::Binary(data)) => {
                    match frames::split(&data) {
                        Frame::Stdout(d) => {
                            if !d.is_empty() {
                                self.last_data = Instant::now();
                            }
                            self.progress.add(d.len());
                            self.pending.extend_from_slice(d);
                        }
                        Frame::Stderr(d) => {
                            let room = MAX_STDERR.saturating_sub(self.stderr.len());
                            self.stderr.extend_from_slice(&d[..d.len().min(room)]);
                        }
                        Frame::Status(d) => {
                            let room = MAX_STDERR.saturating_sub(self.status.len());
                            self.status.extend_from_slice(&d[..d.len().min(room)]);
                        }
                        Frame::Ignored => {}
                    }
                    return Ok(true);
                }
                Ok(Message::Close(_))
                | Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    self.closed = true;
                    return Ok(false);
                }
                // Pongs and the like say the link lives, not that the copy moves.
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if !wait {
                        return Ok(true);
                    }
                    if self.last_data.elapsed() >= self.stall {
                        return Err(ChannelError::Stalled(self.stall));
                    }
                }
                Err(e) => {
                    self.closed = true;
                    return Err(AttachError::Lost(attach::Broke::of(&e)).into());
                }
            }
        }
    }

    /// The first line on stdout (the copy container's answer), without its newline; None
    /// when the session ended before one came. One longer than [`MAX_LINE`] is an error.
    pub fn read_line(&mut self) -> Result<Option<String>, ChannelError> {
        loop {
            if let Some(i) = self.pending[self.pos..].iter().position(|&b| b == b'\n') {
                if i > MAX_LINE {
                    return Err(ChannelError::LongLine);
                }
                let line =
                    String::from_utf8_lossy(&self.pending[self.pos..self.pos + i]).into_owned();
                self.pos += i + 1;
                return Ok(Some(line));
            }
            if self.pending.len() - self.pos > MAX_LINE {
                return Err(ChannelError::LongLine);
            }
            if !self.poll(true)? {
                return Ok(None);
            }
        }
    }

    /// Waits for the first stdout bytes; false when the session ended without any (an exec
    /// that failed to start, or a tar that failed before writing).
    pub fn first_bytes(&mut self) -> Result<bool, ChannelError> {
        while self.pending.len() == self.pos {
            if !self.poll(true)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// An exec's result, once the session ended: what its error channel said (an empty
    /// one is success, as client-go reads it). None while it runs.
    pub fn outcome(&self) -> Option<frames::ChannelStatus> {
        self.closed.then(|| frames::decode_status(&self.status))
    }

    /// Reads until the server ends the session, dropping stdout. Into the pod: what `tar x`
    /// says once stdin closed (its stdout carries nothing more).
    pub fn drain(&mut self) -> Result<(), ChannelError> {
        while self.poll(true)? {
            self.pending.clear();
            self.pos = 0;
        }
        Ok(())
    }

    /// After the end-of-archive marker: reads on while the stream is only the zeros a tar
    /// pads its last record with (at most [`AFTER_END`] bytes, within `grace`), so the
    /// remote tar's last words and its end are seen. Anything else that follows is never
    /// read: whether the session ended is returned.
    pub fn settle_after_end(&mut self, grace: Duration) -> bool {
        let start = Instant::now();
        let mut seen = 0;
        loop {
            let rest = &self.pending[self.pos..];
            seen += rest.len();
            if seen > AFTER_END || rest.iter().any(|&b| b != 0) {
                return false;
            }
            self.pending.clear();
            self.pos = 0;
            if start.elapsed() >= grace {
                return false;
            }
            match self.poll(false) {
                Ok(true) => {}
                Ok(false) => return true,
                Err(_) => return false,
            }
        }
    }

    pub fn close(mut self) {
        self.progress.finish();
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

/// The archive as it comes on stdout.
impl Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
            match self.poll(true) {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(e) => return Err(lost(e)),
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        self.progress.show();
        Ok(n)
    }
}

/// The archive going to stdin.
pub struct Stdin<'a>(pub &'a mut Channel);

impl Write for Stdin<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(FRAME);
        self.0.send_stdin(&buf[..n]).map_err(lost)?;
        self.0.progress.add(n);
        self.0.progress.show();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An attach failure inside the archive's reading or writing, worded for the
/// `failed to read the archive: ...` it ends up in.
fn lost(e: ChannelError) -> io::Error {
    io::Error::other(match e {
        ChannelError::Attach(AttachError::Lost(why)) => {
            format!("lost the connection to the copy container: {why}")
        }
        ChannelError::Attach(AttachError::Connect(e)) => crate::sys::report::error_text(&e),
        e => RunError::from(e).to_string(),
    })
}

/// `12.3 MB copied, 45.6 MB/s` on stderr when it is a terminal and the copy passed a few MB,
/// drawn and erased by the live status line of `sys::live`.
pub struct Progress {
    line: Console<io::Sink, io::Stderr>,
    start: Instant,
    bytes: u64,
    shown_at: Option<Instant>,
}

/// Below this nothing is shown: small copies end before a line would help.
const SHOW_FROM: u64 = 4 << 20;

impl Progress {
    fn new() -> Progress {
        Progress {
            line: Console::new(io::sink(), io::stderr(), crate::sys::term::is_terminal(2)),
            start: Instant::now(),
            bytes: 0,
            shown_at: None,
        }
    }

    fn add(&mut self, n: usize) {
        self.bytes += n as u64;
    }

    fn show(&mut self) {
        let due = self
            .shown_at
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(200));
        if self.bytes < SHOW_FROM || !due {
            return;
        }
        self.shown_at = Some(Instant::now());
        self.line
            .set_status(progress_line(self.bytes, self.start.elapsed()));
    }

    fn finish(&mut self) {
        self.line.finish();
    }
}

fn progress_line(bytes: u64, elapsed: Duration) -> String {
    let mb = bytes as f64 / 1e6;
    let rate = mb / elapsed.as_secs_f64().max(0.001);
    format!("{mb:.1} MB copied, {rate:.1} MB/s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_in_mb() {
        assert_eq!(
            progress_line(12_300_000, Duration::from_secs(2)),
            "12.3 MB copied, 6.2 MB/s"
        );
    }
}
