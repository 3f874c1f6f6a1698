//! How much the container wrote before the attach connected. The container log holds all of
//! its output (stdout and stderr merged, R3 of tests/fakecluster/REAL.md); the attach holds
//! what came after it connected. Read at a quiet moment, the log is the earlier output followed by
//! exactly what the attach has delivered so far, so the difference of the two lengths is the
//! earlier output's. A moment counts as quiet when two reads of the log, `QUIET` apart, agree
//! and nothing arrived on the attach from before the first to after the second: output still
//! on its way to the attach would otherwise be counted as earlier (and shown twice).
//!
//! One case needs no quiet moment: a log read after the attach connected that holds nothing
//! past what was already shown, with nothing delivered yet. Then everything from here on is
//! written after the attach connected and reaches it, so the earlier output is known at once
//! and piped input need not wait (a shell waiting for its input writes nothing first).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::Client;

/// How long the attach must have been silent before the log is read.
const QUIET: Duration = Duration::from_millis(50);
/// After this, the log is read even if the container has not been quiet, and taken as is.
pub const MAX_WAIT: Duration = Duration::from_secs(2);
/// The largest earlier output recovered; a longer log is cut to its last part.
pub const MAX_EARLIER: usize = 16 << 20;

/// What the session's reader tells the measurer: bytes delivered, and when the last came.
#[derive(Default)]
pub struct Meter {
    delivered: AtomicU64,
    last: Mutex<Option<Instant>>,
    stopped: AtomicBool,
}

impl Meter {
    pub fn add(&self, n: usize) {
        self.delivered.fetch_add(n as u64, Ordering::SeqCst);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    pub fn count(&self) -> u64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// The session is over: whatever the measurer finds is no longer needed.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    fn quiet_for(&self) -> Duration {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(Duration::MAX, |t| t.elapsed())
    }
}

/// The earlier output: its length in the log, and its bytes past what was already shown (at
/// most [`MAX_EARLIER`]).
pub struct Measured {
    pub len: u64,
    pub bytes: Vec<u8>,
}

/// Whose log to read.
pub struct LogSource<'a> {
    pub client: &'a Client,
    pub ns: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    /// Log bytes an earlier attach of the same session already accounted for.
    pub skip: u64,
}

/// The earlier output, given the log read, what the attach had delivered by then, and the
/// log bytes already shown (left out of `bytes`).
pub fn split(log: &[u8], delivered: u64, skip: u64) -> Measured {
    let len = (log.len() as u64).saturating_sub(delivered).max(skip);
    let end = (len as usize).min(log.len());
    let start = end
        .saturating_sub(MAX_EARLIER)
        .max((skip as usize).min(end));
    Measured {
        len,
        bytes: log[start..end].to_vec(),
    }
}

/// Reads the log at a quiet moment and sends the measurement; gives up quietly when the
/// session ends first or the log cannot be read (the caller then measures after the end).
pub fn measure(t: &LogSource, meter: &Meter, tx: &Sender<Measured>) {
    let started = Instant::now();
    let patience = t.client.reconnect().window().max(MAX_WAIT);
    // The log as it is now, read again while it is refused in a way that passes (a kubelet
    // restarting, R14: a guess at 5xx); None once kdebug stops trying: the session ended,
    // the log is refused for good (forbidden), or the refusal outlasted the patience.
    let read = || loop {
        if meter.stopped.load(Ordering::SeqCst) {
            return None;
        }
        match super::super::logs::read(t.client, t.ns, t.pod, t.container) {
            Ok(log) => return Some(log),
            Err(e) if passing(&e) && started.elapsed() < patience => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(_) => return None,
        }
    };
    // Without a log to measure against, the earlier output is taken as empty rather than
    // hold the input for the whole session (nothing from the log is shown later either).
    let unreadable = || {
        let _ = tx.send(split(&[], 0, t.skip));
    };
    // Nothing new in the log after the attach connected, and nothing delivered: nothing
    // earlier to wait for (see the module's comment).
    match read() {
        Some(log) if log.len() as u64 <= t.skip && meter.count() == 0 => {
            let _ = tx.send(split(&log, 0, t.skip));
            return;
        }
        Some(_) => {}
        None => return unreadable(),
    }
    loop {
        if meter.stopped.load(Ordering::SeqCst) {
            return;
        }
        let late = started.elapsed() >= MAX_WAIT;
        if meter.quiet_for() < QUIET && !late {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let before = meter.count();
        let Some(first) = read() else {
            return unreadable();
        };
        if late {
            let _ = tx.send(split(&first, meter.count(), t.skip));
            return;
        }
        if meter.count() != before {
            continue;
        }
        std::thread::sleep(QUIET);
        let Some(second) = read() else {
            return unreadable();
        };
        if meter.count() == before && second.len() == first.len() {
            let _ = tx.send(split(&second, before, t.skip));
            return;
        }
    }
}

/// A failure to read the log that may pass by itself: a lost connection or a server error.
fn passing(e: &crate::session::RunError) -> bool {
    match e {
        crate::session::RunError::Api(a) => a.may_pass(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earlier_output_is_the_log_less_what_the_attach_delivered() {
        let m = split(b"early\nlate\n", 5, 0);
        assert_eq!((m.len, m.bytes.as_slice()), (6, &b"early\n"[..]));
        let m = split(b"abc", 3, 0);
        assert_eq!((m.len, m.bytes.len()), (0, 0));
        // A log shorter than the delivered output (a log that lags) means nothing earlier.
        assert_eq!(split(b"ab", 5, 0).len, 0);
        // A reattach: what the first attach showed is left out, and never counted again.
        let m = split(b"one\ntwo\nthree\n", 6, 4);
        assert_eq!((m.len, m.bytes.as_slice()), (8, &b"two\n"[..]));
        assert_eq!(split(b"one\n", 4, 4).len, 4);
    }

    #[test]
    fn a_quiet_meter_reports_no_recent_output() {
        let m = Meter::default();
        assert_eq!(m.quiet_for(), Duration::MAX);
        m.add(3);
        assert!(m.quiet_for() < QUIET);
        assert_eq!(m.count(), 3);
    }
}
