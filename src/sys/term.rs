//! The local terminal: raw mode for TTY sessions, window size, and restoring the settings on
//! every way out (normal end, error, signal, panic). The saved settings live in a global so
//! the signal thread and the panic hook can restore them too.

use std::sync::Mutex;

static SAVED: Mutex<Option<(i32, libc::termios)>> = Mutex::new(None);

pub fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// The terminal's size as (width, height), if `fd` is a terminal.
pub fn size(fd: i32) -> Option<(u16, u16)> {
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we own.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
            Some((ws.ws_col, ws.ws_row))
        } else {
            None
        }
    }
}

/// Puts `fd` into raw mode (no echo, no line editing, no signals from keys, no output
/// processing), remembering the old settings. Returns a guard that restores them on drop.
pub fn raw_mode(fd: i32) -> std::io::Result<RawGuard> {
    // SAFETY: tcgetattr/tcsetattr read and write a termios we own.
    unsafe {
        let mut old: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut old) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut raw = old;
        libc::cfmakeraw(&mut raw);
        *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some((fd, old));
        if libc::tcsetattr(fd, libc::TCSANOW, &raw) != 0 {
            let e = std::io::Error::last_os_error();
            restore();
            return Err(e);
        }
    }
    Ok(RawGuard)
}

/// Restores the saved terminal settings, if raw mode is on. Safe to call more than once.
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some((fd, old)) = saved {
        // SAFETY: writes back the settings read by raw_mode.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, &old);
        }
    }
}

/// Whether raw mode is on (a line printed now needs `\r\n`: there is no output processing).
pub fn is_raw() -> bool {
    SAVED.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

pub struct RawGuard;

impl Drop for RawGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Restores the terminal before any panic message is printed (release builds abort on
/// panic, so a Drop guard would never run).
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
