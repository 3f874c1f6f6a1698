//! Riding out an API server that goes away during a session: a restart (R11 of
//! tests/fakecluster/REAL.md: every connection closed without a word, new ones refused for a
//! few seconds, then the same state served again), a certificate rotation, a load balancer
//! moving a connection. Once a session is open (its debug container exists), a request whose
//! connection is refused or dropped is tried again with backoff, 0.25 s doubling to 5 s, for
//! the reconnect window; kdebug says once that the connection was lost and once that it is
//! back. Before a session opens, a refused connection is an error at once, as in kubectl.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The default `--reconnect-window`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(120);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The reconnect policy and the state of the current outage, shared by every thread using
/// the client (fan-out workers), so an outage is announced once, not once per pod.
pub struct Reconnect {
    window_ms: AtomicU64,
    open: AtomicBool,
    quiet: AtomicBool,
    outage: Mutex<Option<Instant>>,
}

fn printer(quiet: &AtomicBool) -> crate::sys::output::Printer {
    crate::sys::output::Printer {
        quiet: quiet.load(Ordering::SeqCst),
        data_on_stdout: false,
    }
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            window_ms: AtomicU64::new(DEFAULT_WINDOW.as_millis() as u64),
            open: AtomicBool::new(false),
            quiet: AtomicBool::new(false),
            outage: Mutex::new(None),
        }
    }
}

/// The wait before try number `attempt` (1-based) after a loss.
pub fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(8))
        .min(MAX_BACKOFF)
}

impl Reconnect {
    pub fn configure(&self, window: Duration, quiet: bool) {
        self.window_ms
            .store(window.as_millis() as u64, Ordering::SeqCst);
        self.quiet.store(quiet, Ordering::SeqCst);
    }

    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms.load(Ordering::SeqCst))
    }

    /// A session is open from here on: connection losses are ridden out.
    pub fn open_session(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    pub fn retrying(&self) -> bool {
        self.open.load(Ordering::SeqCst) && !self.window().is_zero()
    }

    /// A connection to `server` was lost (`why`). Starts the outage (saying so once) and
    /// returns how long to wait before try `attempt`, or, once the window has passed since
    /// the outage began, `Err` with how long kdebug tried.
    pub fn lost(&self, server: &str, why: &str, attempt: u32) -> Result<Duration, Duration> {
        let mut outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        let since = match *outage {
            Some(t) => t,
            None => {
                let now = Instant::now();
                *outage = Some(now);
                printer(&self.quiet).warn(&format!(
                    "lost the connection to the API server at {server} ({why}); reconnecting for up to {} (--reconnect-window)",
                    crate::text::duration::format_go(self.window())
                ));
                now
            }
        };
        let tried = since.elapsed();
        if tried >= self.window() {
            return Err(tried);
        }
        Ok(backoff(attempt).min(self.window() - tried))
    }

    /// A request that had failed went through: ends the outage, if there was one, saying so
    /// once. (A request that never failed proves nothing: it may have been answered on a
    /// connection the server was still draining.)
    pub fn back(&self, server: &str) {
        let mut outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(since) = outage.take() {
            printer(&self.quiet).info(&format!(
                "reconnected to the API server at {server} after {:.1}s",
                since.elapsed().as_secs_f64()
            ));
        }
    }

    /// Whether an outage is going on (a loss not yet followed by a success).
    pub fn in_outage(&self) -> bool {
        self.outage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_seconds() {
        let ms: Vec<u128> = (1..=7).map(|a| backoff(a).as_millis()).collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn the_window_bounds_an_outage_and_a_success_ends_it() {
        let r = Reconnect::default();
        r.configure(Duration::from_millis(300), true);
        assert!(!r.retrying(), "not before a session opens");
        r.open_session();
        assert!(r.retrying());
        assert!(r.lost("s", "refused", 1).is_ok());
        assert!(r.in_outage());
        std::thread::sleep(Duration::from_millis(320));
        assert!(r.lost("s", "refused", 2).is_err());
        r.back("s");
        assert!(!r.in_outage());
        assert!(
            r.lost("s", "refused", 1).is_ok(),
            "a new outage starts afresh"
        );
        r.configure(Duration::ZERO, true);
        assert!(!r.retrying(), "0 disables it");
    }
}
