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

use crate::client::{ApiError, Client, Loss};
use crate::sys::report::Failure;
use crate::sys::stdin::Chunk;
use earlier::Meter;
use frames::{ChannelStatus, Frame};

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
    pub ended: Ended,
    /// Bytes of stdout and stderr the attach delivered (printed or held).
    pub delivered: u64,
    /// The log the container wrote before the attach connected, when it was measured
    /// (already written out by the session when `print_earlier` is set).
    pub earlier: Option<u64>,
    /// Output not yet written because the earlier output was not measured in time.
    pub held: Vec<Held>,
    /// Whether all the input was sent and its end said (or there was no input to send).
    pub input_ended: bool,
}

impl Session {
    /// The log offset up to which this session's output is accounted for (the earlier
    /// output, measured, then what the attach delivered); None when the earlier output was
    /// not measured (nothing of the log was written out then: what was held is dropped).
    pub fn handled(&self) -> Option<u64> {
        self.earlier.map(|e| e + self.delivered)
    }
}

/// How a session ended: with the protocol's status (which may be a refusal sent after the
/// upgrade, R10), or with the connection broken under it.
pub enum Ended {
    Status(ChannelStatus),
    Broke(Broke),
}

/// How the connection under a session broke, in kdebug's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broke {
    /// Closed or reset without the session's status (R11, R14).
    Connection(Loss),
    /// Nothing from the server, not even a pong, for this long.
    Silent(Duration),
    /// Another I/O failure on the connection.
    Io(io::ErrorKind),
    /// The server broke the WebSocket protocol.
    Garbled,
}

impl Broke {
    pub fn of(e: &tungstenite::Error) -> Broke {
        use tungstenite::error::ProtocolError;
        match e {
            tungstenite::Error::ConnectionClosed
            | tungstenite::Error::AlreadyClosed
            | tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                Broke::Connection(Loss::Closed)
            }
            tungstenite::Error::Io(io) => {
                Loss::of(io).map_or(Broke::Io(io.kind()), Broke::Connection)
            }
            _ => Broke::Garbled,
        }
    }
}

impl fmt::Display for Broke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broke::Connection(Loss::Closed) => {
                f.write_str("the server closed the connection without ending the session")
            }
            Broke::Connection(loss) => write!(f, "{loss}"),
            Broke::Silent(d) => write!(f, "no answer from the server for {}s", d.as_secs()),
            Broke::Io(kind) => write!(f, "the connection failed ({kind})"),
            Broke::Garbled => f.write_str("the server broke the WebSocket protocol"),
        }
    }
}

#[derive(Debug)]
pub enum AttachError {
    /// The upgrade failed: nothing was attached.
    Connect(ApiError),
    /// The connection broke during the session and could not be made again.
    Lost(Broke),
}

impl From<Broke> for AttachError {
    fn from(b: Broke) -> Self {
        AttachError::Lost(b)
    }
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

/// What of the container's log a non-TTY session writes ahead of the attach's output: the
/// earlier output from byte `skip` on (what an earlier attach of the same session did not
/// show), or none of it (`kdebug attach`, like kubectl attach).
#[derive(Clone, Copy, Debug)]
pub struct Earlier {
    pub print: bool,
    pub skip: u64,
}

/// Attaches and runs the session until the remote side ends it or the connection breaks.
/// With `opts.measure`, the output written before the attach is measured alongside and
/// written out ahead of what the attach delivers (see [`Earlier`]). A TTY session puts the
/// terminal in raw mode in `raw` and leaves it there, so a reattach keeps it.
pub fn run(
    client: &Client,
    ns: &str,
    pod: &str,
    opts: &AttachOptions,
    earlier: Earlier,
    raw: &mut Option<crate::sys::term::RawGuard>,
) -> Result<Session, ApiError> {
    let q = query(opts);
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("{}/attach", crate::kube::pod_path(ns, pod));
    let mut socket = client.websocket(&path, &q, &[frames::V5, frames::V4])?;
    let v5 = socket.protocol == frames::V5;
    socket.ws.get_ref().tcp().set_read_timeout(Some(POLL)).ok();

    let input = opts.stdin.then(crate::sys::stdin::take);
    let (winch_tx, winch_rx) = mpsc::channel();
    let mut resized = Ok(());
    if opts.tty {
        if raw.is_none() {
            *raw = crate::sys::term::raw_mode(0).ok();
        }
        crate::sys::signals::on_winch(winch_tx);
        if let Some((w, h)) = crate::sys::term::size(0) {
            // kubectl sends size+1 first so that a re-attached full-screen program redraws.
            resized = send(
                &mut socket.ws,
                frames::resize(w.saturating_add(1), h.saturating_add(1)),
            )
            .and_then(|_| send(&mut socket.ws, frames::resize(w, h)));
        }
    }
    let meter = Meter::default();
    let session = match resized {
        Err(broke) => Session {
            ended: Ended::Broke(broke),
            delivered: 0,
            earlier: None,
            held: Vec::new(),
            input_ended: !opts.stdin,
        },
        Ok(()) => std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            if opts.measure {
                let target = earlier::LogSource {
                    client,
                    ns,
                    pod,
                    container: &opts.container,
                    skip: earlier.skip,
                };
                let meter = &meter;
                s.spawn(move || earlier::measure(&target, meter, &tx));
            }
            let link = Link {
                ws: &mut socket.ws,
                winch: &winch_rx,
                v5,
                tty: opts.tty,
            };
            let session = pump(link, input, opts, &meter, rx, earlier.print);
            meter.stop();
            session
        }),
    };
    crate::sys::signals::stop_winch();
    let _ = socket.ws.close(None);
    let _ = socket.ws.flush();
    Ok(session)
}

pub(crate) type Ws = tungstenite::WebSocket<crate::client::ws::Stream>;

/// Sends one frame; a failure is the connection breaking (whether we notice it reading or
/// writing, it is the same event).
pub(crate) fn send(ws: &mut Ws, frame: Vec<u8>) -> Result<(), Broke> {
    ws.send(Message::Binary(frame.into()))
        .map_err(|e| match Broke::of(&e) {
            Broke::Connection(Loss::Reset) => Broke::Connection(Loss::Closed),
            b => b,
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

/// The socket side of a session: the WebSocket and what the terminal sends it.
struct Link<'a> {
    ws: &'a mut Ws,
    winch: &'a Receiver<()>,
    v5: bool,
    tty: bool,
}

fn pump(
    link: Link,
    input: Option<crate::sys::stdin::Input>,
    opts: &AttachOptions,
    meter: &Meter,
    measured: Receiver<earlier::Measured>,
    print_earlier: bool,
) -> Session {
    let Link { ws, winch, v5, tty } = link;
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
    let end = |ended: Ended, out: Out, input_ended: bool| -> Session {
        Session {
            ended,
            delivered: meter.count(),
            earlier: out.earlier,
            held: out.held.unwrap_or_default(),
            input_ended,
        }
    };
    let result = (|| -> Result<ChannelStatus, Broke> {
        loop {
            if out.held.is_some() {
                if let Ok(m) = measured.try_recv() {
                    out.release(m, print_earlier);
                }
            }
            // Input waits until the earlier output is measured: what it makes the container
            // write could otherwise be in the log before it reaches us and be counted as
            // earlier; and closing stdin ends the container's output on this attach (R2).
            if let Some(rx) = input.as_ref().filter(|_| out.held.is_none()) {
                loop {
                    match rx.try_recv() {
                        Ok(Chunk::Data(d)) => send(ws, frames::stdin(&d))?,
                        Ok(Chunk::Eof) | Err(TryRecvError::Disconnected) => {
                            // v5 can half-close stdin; v4 has no way to say it, so stdin
                            // stays open.
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
                    .map_err(|e| Broke::of(&e))?;
                last_ping = Instant::now();
            }
            if last_heard.elapsed() >= GIVE_UP_AFTER {
                return Err(Broke::Silent(GIVE_UP_AFTER));
            }
            match ws.read() {
                Ok(Message::Binary(data)) => {
                    last_heard = Instant::now();
                    match frames::split(&data) {
                        Frame::Stdout(d) => {
                            meter.add(d.len());
                            if !out.stdout(d) {
                                // The reader went away (a closed pipe): nothing more to show.
                                return Ok(ChannelStatus::Success);
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
                Ok(Message::Close(_)) => return Ok(frames::decode_status(&status)),
                Ok(_) => last_heard = Instant::now(),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                // A status already received means the session ended; the rest is teardown.
                // Without one, the link broke under a live session.
                Err(_) if !status.is_empty() => return Ok(frames::decode_status(&status)),
                Err(e) => return Err(Broke::of(&e)),
            }
        }
    })();
    let input_ended = input.is_none();
    match result {
        Ok(outcome) => end(Ended::Status(outcome), out, input_ended),
        Err(broke) => end(Ended::Broke(broke), out, input_ended),
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
