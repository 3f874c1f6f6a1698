//! A live status line: one line on stderr rewritten in place (`\r`, erase line) while other
//! output goes to stdout through the same [`Console`]. Each write to stdout first erases the
//! line and the flush that ends it draws the line again, so when both streams are the same
//! terminal the status stays at the bottom instead of being smeared between output lines.

use std::io::{self, Write};

/// Erases the current terminal line and returns the cursor to its start.
const ERASE: &[u8] = b"\r\x1b[2K";

/// stdout for output, stderr for the status line. Without a terminal on stderr (`live` false)
/// it only passes output through.
pub struct Console<O: Write, E: Write> {
    out: O,
    err: E,
    live: bool,
    status: String,
    shown: bool,
}

impl<O: Write, E: Write> Console<O, E> {
    pub fn new(out: O, err: E, live: bool) -> Self {
        Console {
            out,
            err,
            live,
            status: String::new(),
            shown: false,
        }
    }

    /// Whether the status line is drawn (stderr is a terminal).
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Replaces the status line (drawn at once; nothing happens without a terminal).
    pub fn set_status(&mut self, status: String) {
        if !self.live || status == self.status {
            return;
        }
        self.status = status;
        let _ = self.show();
    }

    /// A message for stderr, on its own line above the status line.
    pub fn message(&mut self, text: &str) {
        let _ = self.out.flush();
        let _ = self.hide();
        let _ = writeln!(self.err, "{text}");
        let _ = self.show();
    }

    /// Erases the status line for good (before the summary).
    pub fn finish(&mut self) {
        let _ = self.hide();
        self.status.clear();
    }

    fn hide(&mut self) -> io::Result<()> {
        if self.shown {
            self.shown = false;
            self.err.write_all(ERASE)?;
            self.err.flush()?;
        }
        Ok(())
    }

    fn show(&mut self) -> io::Result<()> {
        if !self.live || self.status.is_empty() {
            return Ok(());
        }
        self.err.write_all(ERASE)?;
        self.err.write_all(self.status.as_bytes())?;
        self.err.flush()?;
        self.shown = true;
        Ok(())
    }
}

impl<O: Write, E: Write> Write for Console<O, E> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hide()?;
        self.out.write(buf)
    }

    /// Ends a piece of output: it is flushed, then the status line is drawn below it.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.show()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).replace("\r\x1b[2K", "<E>")
    }

    #[test]
    fn the_status_line_is_erased_around_output_and_at_the_end() {
        let mut c = Console::new(Vec::new(), Vec::new(), true);
        c.set_status("1/3 done".into());
        c.write_all(b"web-0: hi\n").unwrap();
        c.flush().unwrap();
        c.set_status("1/3 done".into()); // unchanged: not drawn again
        c.set_status("2/3 done".into());
        c.message("interrupted");
        c.finish();
        assert_eq!(text(&c.out), "web-0: hi\n");
        assert_eq!(
            text(&c.err),
            "<E>1/3 done<E><E>1/3 done<E>2/3 done<E>interrupted\n<E>2/3 done<E>"
        );
    }

    #[test]
    fn without_a_terminal_only_output_passes() {
        let mut c = Console::new(Vec::new(), Vec::new(), false);
        c.set_status("1/3 done".into());
        c.write_all(b"x\n").unwrap();
        c.flush().unwrap();
        c.message("note");
        c.finish();
        assert_eq!(text(&c.out), "x\n");
        assert_eq!(text(&c.err), "note\n");
    }
}
