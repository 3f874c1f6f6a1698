//! Signals. SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH are blocked in every thread and
//! taken by one thread with `sigwait`, so no work happens in a signal handler: on a terminating
//! signal that thread restores the terminal, runs the registered cleanups (deleting the pods
//! this run created with `--rm`) and exits; SIGWINCH is forwarded to the attach session, and
//! SIGINT to a fan-out while it has asked for it ([`on_interrupt`]), which stops gracefully.
//!
//! [`init`] must run before any other thread is started, so that they inherit the mask.

use std::sync::mpsc::Sender;
use std::sync::Mutex;

type Cleanup = Box<dyn FnOnce() + Send>;

static CLEANUPS: Mutex<Vec<(u64, Cleanup)>> = Mutex::new(Vec::new());
static NEXT_ID: Mutex<u64> = Mutex::new(0);
static WINCH: Mutex<Option<Sender<()>>> = Mutex::new(None);
static INTERRUPT: Mutex<Option<Box<dyn Fn() + Send>>> = Mutex::new(None);

/// Set once a terminating signal arrived: the signal thread owns the exit from then on.
pub static EXITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a terminating signal is being handled.
pub fn exiting() -> bool {
    EXITING.load(std::sync::atomic::Ordering::SeqCst)
}

/// Called by the main thread before it exits: if a signal is being handled, let the signal
/// thread finish its cleanups and exit with the signal's code instead.
pub fn yield_to_signal_exit() {
    while EXITING.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise a set we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGWINCH,
        ] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the signals and starts the thread that takes them.
pub fn init() {
    let set = set();
    // SAFETY: changes this thread's mask; inherited by threads started later.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    std::thread::spawn(move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: waits for one of the blocked signals.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            continue;
        }
        if sig == libc::SIGWINCH {
            if let Some(tx) = WINCH.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                let _ = tx.send(());
            }
            continue;
        }
        if sig == libc::SIGINT {
            if let Some(f) = INTERRUPT.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                f();
                continue;
            }
        }
        exit_now(128 + sig);
    });
}

/// Ends the process as a terminating signal does: terminal restored, cleanups run.
pub fn exit_now(code: i32) -> ! {
    EXITING.store(true, std::sync::atomic::Ordering::SeqCst);
    crate::sys::term::restore();
    run_cleanups();
    std::process::exit(code)
}

/// Calls `f` at each SIGINT instead of ending the process, until [`stop_interrupt`].
pub fn on_interrupt(f: impl Fn() + Send + 'static) {
    *INTERRUPT.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(f));
}

pub fn stop_interrupt() {
    *INTERRUPT.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Registers work to do if the process is ended by a signal. Returns a handle that removes it.
pub fn on_exit(f: impl FnOnce() + Send + 'static) -> u64 {
    let mut next = NEXT_ID.lock().unwrap_or_else(|p| p.into_inner());
    *next += 1;
    let id = *next;
    CLEANUPS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((id, Box::new(f)));
    id
}

/// Removes a registered cleanup (it was done, or is no longer needed) and returns it.
pub fn take(id: u64) -> Option<Box<dyn FnOnce() + Send>> {
    let mut all = CLEANUPS.lock().unwrap_or_else(|p| p.into_inner());
    let pos = all.iter().position(|(i, _)| *i == id)?;
    Some(all.remove(pos).1)
}

/// Runs every registered cleanup, newest first.
pub fn run_cleanups() {
    let all: Vec<_> = std::mem::take(&mut *CLEANUPS.lock().unwrap_or_else(|p| p.into_inner()));
    for (_, f) in all.into_iter().rev() {
        f();
    }
}

/// Sends `()` on `tx` at each SIGWINCH until [`stop_winch`].
pub fn on_winch(tx: Sender<()>) {
    *WINCH.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
}

pub fn stop_winch() {
    *WINCH.lock().unwrap_or_else(|p| p.into_inner()) = None;
}
