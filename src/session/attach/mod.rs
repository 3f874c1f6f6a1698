//! Attaching to a container over WebSocket. One thread owns the socket and alternates between
//! sending what the stdin thread and SIGWINCH queued and reading with a short timeout; the
//! stdin thread only reads the local input. No async runtime.
//!
//! Without a TTY, an attach only carries what the container writes after it connected, and
//! (containerd, R2 of tests/fakecluster/REAL.md) nothing after the client closes stdin. So a
//! non-TTY session also measures, from the container log, how much was written before it
//! connected ([`earlier`]); the caller recovers both ends from the log (`session::follow`).

pub mod earlier;
pub mod frames;

use std::fmt;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use tungstenite::Message;

use crate::client::{ApiError, Client};
use crate::sys::report::Failure;
use crate::sys::stdin::Chunk;
use earlier::Meter;
use frames::{Frame, Outcome};

pub struct AttachOptions {
    pub container: String,
    pub stdin: bool,
    /// Raw TTY session: the local terminal is in raw mode and resizes are forwarded.
    pub tty: bool,
    /// Measure the output written before the attach connected (non-TTY sessions).
    pub measure: bool,
}

/// A chunk of output held back while the earlier output is measured.
pub enum Held {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

impl Held {
    /// Writes the chunk to the stream it came on.
    pub fn write_to(&self, stdout: &mut dyn Write, stderr: &mut dyn Write) -> io::Result<()> {
        match self {
            Held::Stdout(d) => stdout.write_all(d),
            Held::Stderr(d) => stderr.write_all(d),
        }
    }
}

/// How a session ended, and what it delivered.
pub struct Session {
    pub outcome: Outcome,
    /// Bytes of stdout and stderr the attach delivered (printed or held).
    pub delivered: u64,
    /// The log the container wrote before the attach connected, when it was measured
    /// (already written out by the session when `print_earlier` is set).
    pub earlier: Option<u64>,
    /// Output not yet written because the earlier output was not measured in time.
    pub held: Vec<Held>,
}

#[derive(Debug)]
pub enum AttachError {
    /// The upgrade failed: nothing was attached.
    Connect(ApiError),
    /// The connection broke during the session.
    Lost(String),
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::Connect(e) => write!(f, "{e}"),
            AttachError::Lost(why) => {
                write!(f, "lost the connection to the debug container: {why}")
            }
        }
    }
}

impl Failure for AttachError {
    fn prefixed(&self) -> bool {
        match self {
            AttachError::Connect(e) => e.prefixed(),
            AttachError::Lost(_) => true,
        }
    }
}

const PING_EVERY: Duration = Duration::from_secs(5);
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// How long a read waits before the loop looks at queued input again.
const POLL: Duration = Duration::from_millis(10);

/// The attach query, with kubectl's rules: false values left out, keys sorted, and no stderr
/// in a raw TTY session (a TTY merges it into stdout).
pub fn query(opts: &AttachOptions) -> Vec<(&'static str, String)> {
    let mut q = vec![("container", opts.container.clone())];
    if !opts.tty {
        q.push(("stderr", "true".into()));
    }
    if opts.stdin {
        q.push(("stdin", "true".into()));
    }
    q.push(("stdout", "true".into()));
    if opts.tty {
        q.push(("tty", "true".into()));
    }
    q
}

/// Attaches and runs the session until the remote side ends it. With `opts.measure`, the
/// output written before the attach is measured alongside and, with `print_earlier`, written
/// to stdout ahead of what the attach delivers.
pub fn run(
    client: &Client,
    ns: &str,
    pod: &str,
    opts: &AttachOptions,
    print_earlier: bool,
) -> Result<Session, AttachError> {
    let q = query(opts);
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("{}/attach", crate::kube::pod_path(ns, pod));
    let mut socket = client
        .websocket(&path, &q, &[frames::V5, frames::V4])
        .map_err(AttachError::Connect)?;
    let v5 = socket.protocol == frames::V5;
    socket.ws.get_ref().tcp().set_read_timeout(Some(POLL)).ok();

    let input = opts.stdin.then(crate::sys::stdin::take);
    let (winch_tx, winch_rx) = mpsc::channel();
    let _raw = if opts.tty {
        let guard = crate::sys::term::raw_mode(0).ok();
        crate::sys::signals::on_winch(winch_tx);
        if let Some((w, h)) = crate::sys::term::size(0) {
            // kubectl sends size+1 first so that a re-attached full-screen program redraws.
            send(
                &mut socket.ws,
                frames::resize(w.saturating_add(1), h.saturating_add(1)),
            )?;
            send(&mut socket.ws, frames::resize(w, h))?;
        }
        guard
    } else {
        None
    };
    let meter = Meter::default();
    let result = std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        if opts.measure {
            let target = earlier::Target {
                client,
                ns,
                pod,
                container: &opts.container,
            };
            let meter = &meter;
            s.spawn(move || earlier::measure(&target, meter, &tx));
        }
        let r = pump(
            &mut socket.ws,
            input,
            &winch_rx,
            v5,
            opts,
            &meter,
            rx,
            print_earlier,
        );
        meter.stop();
        r
    });
    crate::sys::signals::stop_winch();
    drop(_raw);
    let _ = socket.ws.close(None);
    let _ = socket.ws.flush();
    result
}

pub(crate) type Ws = tungstenite::WebSocket<crate::client::ws::Stream>;

/// Said when the server goes away without the status that ends a session, whether we notice
/// it reading or writing.
const CLOSED_EARLY: &str = "the server closed the connection without ending the session";

pub(crate) fn send(ws: &mut Ws, frame: Vec<u8>) -> Result<(), AttachError> {
    ws.send(Message::Binary(frame.into())).map_err(|e| {
        AttachError::Lost(match e {
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                CLOSED_EARLY.to_string()
            }
            tungstenite::Error::Io(io)
                if matches!(
                    io.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ) =>
            {
                CLOSED_EARLY.to_string()
            }
            other => format!("failed to send: {other}"),
        })
    })
}

/// Where the session's output goes: straight to the descriptors (no line buffering between
/// the container and the user), or held while the earlier output is being measured.
struct Out {
    stdout: crate::sys::output::RawOut,
    stderr: crate::sys::output::RawOut,
    /// Some until the earlier output is measured (only when measuring).
    held: Option<Vec<Held>>,
    held_bytes: usize,
    earlier: Option<u64>,
}

/// Output held beyond this stops the reading until the measurement is in (at most
/// `earlier::MAX_WAIT`), so a chatty container cannot grow our memory.
const MAX_HELD: usize = 8 << 20;

impl Out {
    /// Writes stdout; false when the reader went away (a closed pipe).
    fn stdout(&mut self, d: &[u8]) -> bool {
        match &mut self.held {
            Some(h) => {
                self.held_bytes += d.len();
                h.push(Held::Stdout(d.to_vec()));
                true
            }
            None => self.stdout.write_all(d).is_ok(),
        }
    }

    fn stderr(&mut self, d: &[u8]) {
        match &mut self.held {
            Some(h) => {
                self.held_bytes += d.len();
                h.push(Held::Stderr(d.to_vec()));
            }
            None => {
                let _ = self.stderr.write_all(d);
            }
        }
    }

    /// The measurement is in: the earlier output first, then what was held, in order.
    fn release(&mut self, m: earlier::Measured, print: bool) {
        self.earlier = Some(m.len);
        if print {
            let _ = self.stdout.write_all(&m.bytes);
        }
        for h in self.held.take().unwrap_or_default() {
            let _ = h.write_to(&mut self.stdout, &mut self.stderr);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn pump(
    ws: &mut Ws,
    input: Option<crate::sys::stdin::Input>,
    winch: &Receiver<()>,
    v5: bool,
    opts: &AttachOptions,
    meter: &Meter,
    measured: Receiver<earlier::Measured>,
    print_earlier: bool,
) -> Result<Session, AttachError> {
    let tty = opts.tty;
    let mut out = Out {
        stdout: crate::sys::output::stdout(),
        stderr: crate::sys::output::stderr(),
        held: opts.measure.then(Vec::new),
        held_bytes: 0,
        earlier: None,
    };
    let mut status = Vec::new();
    let mut input = input;
    let mut last_ping = Instant::now();
    let mut last_heard = Instant::now();
    let end = |outcome: Outcome, out: Out| -> Result<Session, AttachError> {
        Ok(Session {
            outcome,
            delivered: meter.count(),
            earlier: out.earlier,
            held: out.held.unwrap_or_default(),
        })
    };
    loop {
        if out.held.is_some() {
            if let Ok(m) = measured.try_recv() {
                out.release(m, print_earlier);
            }
        }
        // Input waits until the earlier output is measured: what it makes the container write
        // could otherwise be in the log before it reaches us and be counted as earlier; and
        // closing stdin ends the container's output on this attach (R2).
        if let Some(rx) = input.as_ref().filter(|_| out.held.is_none()) {
            loop {
                match rx.try_recv() {
                    Ok(Chunk::Data(d)) => send(ws, frames::stdin(&d))?,
                    Ok(Chunk::Eof) | Err(TryRecvError::Disconnected) => {
                        // v5 can half-close stdin; v4 has no way to say it, so stdin stays open.
                        if v5 {
                            send(ws, frames::close_stdin())?;
                        }
                        input = None;
                        break;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
        if out.held_bytes > MAX_HELD && out.held.is_some() {
            std::thread::sleep(POLL);
            continue;
        }
        if tty && winch.try_recv().is_ok() {
            if let Some((w, h)) = crate::sys::term::size(0) {
                send(ws, frames::resize(w, h))?;
            }
        }
        if last_ping.elapsed() >= PING_EVERY {
            ws.send(Message::Ping(Default::default()))
                .map_err(|e| AttachError::Lost(format!("failed to send keepalive: {e}")))?;
            last_ping = Instant::now();
        }
        if last_heard.elapsed() >= GIVE_UP_AFTER {
            return Err(AttachError::Lost(format!(
                "no answer from the server for {}s",
                GIVE_UP_AFTER.as_secs()
            )));
        }
        match ws.read() {
            Ok(Message::Binary(data)) => {
                last_heard = Instant::now();
                match frames::split(&data) {
                    Frame::Stdout(d) => {
                        meter.add(d.len());
                        if !out.stdout(d) {
                            // The reader went away (a closed pipe): nothing more to show.
                            return end(Outcome::Success, out);
                        }
                    }
                    Frame::Stderr(d) => {
                        meter.add(d.len());
                        out.stderr(d);
                    }
                    Frame::Status(d) => status.extend_from_slice(d),
                    Frame::Ignored => {}
                }
            }
            Ok(Message::Close(_)) => return end(frames::decode_status(&status), out),
            Ok(_) => last_heard = Instant::now(),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return end(frames::decode_status(&status), out)
            }
            Err(e) => {
                // A status already received means the session ended; the rest is teardown.
                // Without one, the link broke under a live session.
                if !status.is_empty() {
                    return end(frames::decode_status(&status), out);
                }
                let why = match e {
                    tungstenite::Error::Protocol(
                        tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                    ) => "the server closed the connection without ending the session".to_string(),
                    other => other.to_string(),
                };
                return Err(AttachError::Lost(why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_follows_kubectl() {
        let q = |stdin, tty| {
            query(&AttachOptions {
                container: "dbg".into(),
                stdin,
                tty,
                measure: false,
            })
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
        };
        assert_eq!(
            q(true, true),
            "container=dbg&stdin=true&stdout=true&tty=true"
        );
        assert_eq!(
            q(true, false),
            "container=dbg&stderr=true&stdin=true&stdout=true"
        );
        assert_eq!(q(false, false), "container=dbg&stderr=true&stdout=true");
    }
}
