//! What kdebug itself prints: builder messages through a [`Printer`] (which knows `-q` and
//! `--dry-run`), and the raw writers on the process's stdout and stderr that everything in a
//! session goes through (Rust's buffered stdout is left to `--help` and `version`).

use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

/// Which output stream a message belongs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One user-visible line (without its trailing newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub stream: Stream,
    /// True when `-q` suppresses it (kubectl's `if !o.Quiet`).
    pub quiet_suppressed: bool,
    pub text: String,
}

impl Message {
    pub(crate) fn info(text: String) -> Message {
        Message {
            stream: Stream::Stdout,
            quiet_suppressed: true,
            text,
        }
    }
    pub(crate) fn warning(text: String) -> Message {
        Message {
            stream: Stream::Stderr,
            quiet_suppressed: false,
            text,
        }
    }
}

/// Where kdebug's own messages go in one run: `-q` drops the informational ones, and with
/// `--dry-run` stdout carries only the printed requests (so it can be piped to a parser), so
/// the messages meant for stdout go to stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct Printer {
    pub quiet: bool,
    pub data_on_stdout: bool,
}

impl Printer {
    /// Quiet as well when `quiet` holds (a fan-out worker has no terminal to talk to).
    pub fn quiet_if(self, quiet: bool) -> Printer {
        Printer {
            quiet: self.quiet || quiet,
            ..self
        }
    }

    /// Prints builder messages.
    pub fn messages(&self, messages: &[Message]) {
        for m in messages {
            if self.quiet && m.quiet_suppressed {
                continue;
            }
            // Through the same unbuffered descriptors as the session's output, so the order
            // on the terminal is the order of the writes.
            let _ = match m.stream {
                Stream::Stdout if !self.data_on_stdout => writeln!(stdout(), "{}", m.text),
                _ => writeln!(stderr(), "{}", m.text),
            };
        }
    }
}

impl Printer {
    /// A warning on stderr (`warning: ...`), whatever `-q` says: something went wrong.
    pub fn warn(&self, text: &str) {
        line(&format!("warning: {text}"));
    }

    /// A line of news on stderr, left out with `-q`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            line(text);
        }
    }

    /// A line kubectl prints on stderr as it is, whatever `-q` says (a remote command's
    /// failure: `command terminated with exit code N`).
    pub fn error_line(&self, text: &str) {
        line(text);
    }

    /// What to do about what was just said (`hint: ...`), left out with `-q`.
    pub fn hint(&self, text: &str) {
        self.info(&format!("hint: {text}"));
    }
}

/// One line of `-v` tracing on stderr (the caller has checked the verbosity).
pub fn trace(text: &str) {
    line(text);
}

/// One line on stderr, in one write; in raw mode (a TTY session) with `\r\n`, since the
/// terminal then adds no carriage return of its own.
fn line(text: &str) {
    let end = if crate::sys::term::is_raw() {
        "\r\n"
    } else {
        "\n"
    };
    let _ = stderr().write_all(format!("{text}{end}").as_bytes());
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
