//! Fan-out: one non-interactive debug per pod (or node), `--max-parallel` workers sharing one
//! client and its connection pool, every output line prefixed with the pod name (or written
//! to `--output-dir/<pod>.log`), a live `done/failed/running` line on a terminal, and a
//! summary table with each exit code at the end. Memory follows `--max-parallel`: a listed
//! pod is read by the worker that takes it, and a finished one is kept as its summary row.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::plan::Plan;
use crate::sys::live::Console;

use super::error::{SessionError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};
use super::targets::Pending;
use super::{Connection, Resolved, RunError, Sink};

/// One pod's result: a summary row, all that is kept of a finished pod.
/// Kept for the summary until the end, one per pod, so kept small: the pod's and the debug
/// container's names in one allocation, the duration in milliseconds.
pub struct PodResult {
    /// `POD\tCONTAINER` (the container empty when none was made).
    names: Box<str>,
    pub exit_code: Option<u8>,
    millis: u32,
    pub error: Option<Box<str>>,
}

impl PodResult {
    fn new(name: &str, container: &str, exit_code: Option<u8>, took: Duration) -> PodResult {
        PodResult {
            names: format!("{name}\t{container}").into(),
            exit_code,
            millis: u32::try_from(took.as_millis()).unwrap_or(u32::MAX),
            error: None,
        }
    }

    pub fn name(&self) -> &str {
        self.names.split_once('\t').map_or(&self.names, |(n, _)| n)
    }

    pub fn container(&self) -> &str {
        self.names.split_once('\t').map_or("", |(_, c)| c)
    }

    fn failed(&self) -> bool {
        self.error.is_some() || self.exit_code != Some(0)
    }

    /// A pod still running when a second Ctrl-C stopped the wait.
    fn interrupted(name: &str) -> PodResult {
        PodResult {
            error: Some("interrupted".into()),
            ..PodResult::new(name, "", None, Duration::ZERO)
        }
    }
}

/// Writes whole lines, each prefixed, to a shared output; keeps a partial last line until
/// it is completed or the writer is dropped.
pub struct Prefixed<'a, W: Write> {
    prefix: String,
    out: &'a Mutex<W>,
    pending: Vec<u8>,
}

impl<'a, W: Write> Prefixed<'a, W> {
    pub fn new(prefix: String, out: &'a Mutex<W>) -> Self {
        Prefixed {
            prefix,
            out,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let mut line = Vec::with_capacity(self.prefix.len() + upto);
        line.extend_from_slice(self.prefix.as_bytes());
        line.extend(self.pending.drain(..upto));
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(&line)?;
        out.flush()
    }
}

impl<W: Write> Write for Prefixed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
            self.emit(i + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Prefixed<'_, W> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            self.pending.push(b'\n');
            let n = self.pending.len();
            let _ = self.emit(n);
        }
    }
}

/// Stack of a fan-out worker. A worker runs one debug at a time (TLS, JSON, a watch), which
/// needs far less than the 2 MiB default; the smaller size bounds what 50 workers can touch.
const WORKER_STACK: usize = 512 << 10;

/// What the workers and the signal thread tell the driver.
enum Event {
    /// The pod's name comes along for the summary of a run stopped while it ran.
    Started(usize, Box<str>),
    Finished(usize, PodResult),
    /// A worker found nothing more to start.
    Exited,
    Interrupt,
}

/// Why pods were left unstarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    No,
    FailFast,
    Interrupted,
}

/// Counts for the live line: `37/1000 done, 2 failed, 50 running`.
#[derive(Default)]
struct Tally {
    total: usize,
    done: usize,
    failed: usize,
    running: usize,
}

impl Tally {
    fn line(&self) -> String {
        format!(
            "{}/{} done, {} failed, {} running",
            self.done, self.total, self.failed, self.running
        )
    }
}

/// What the driver gathered: outcomes by target index, why pods were left unstarted, and
/// (after a second Ctrl-C) the targets still running, which are not waited for.
struct Gathered {
    results: Vec<(usize, PodResult)>,
    why: Stop,
    abandoned: Option<Vec<(usize, Box<str>)>>,
}

type Screen = Console<io::Stdout, io::Stderr>;

/// The driver: `--max-parallel` workers take the targets in order; this thread counts what
/// they report, keeps the live line, and stops starting new pods after a failure
/// (`--fail-fast`) or a Ctrl-C. A second Ctrl-C stops waiting for the running ones.
pub fn run(conn: &Connection, p: &Plan, targets: Vec<Pending>) -> Result<u8, RunError> {
    if let Some(dir) = &p.output_dir {
        std::fs::create_dir_all(dir).map_err(|cause| SessionError::OutputDir {
            dir: dir.clone(),
            cause,
        })?;
    }
    let total = targets.len();
    let queue = Mutex::new(targets.into_iter().enumerate());
    let stop = AtomicBool::new(false);
    let console = Mutex::new(Console::new(
        io::stdout(),
        io::stderr(),
        crate::sys::term::is_terminal(2),
    ));
    let (tx, rx) = mpsc::channel();
    let workers = p.max_parallel.min(total).max(1);
    let interrupts = tx.clone();
    crate::sys::signals::on_interrupt(move || {
        let _ = interrupts.send(Event::Interrupt);
    });
    std::thread::scope(|s| {
        let mut started = 0;
        for _ in 0..workers {
            let tx = tx.clone();
            let (queue, stop, console) = (&queue, &stop, &console);
            let spawned = std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(s, move || worker(conn, p, queue, stop, console, &tx));
            started += usize::from(spawned.is_ok());
        }
        drop(tx);
        if started == 0 {
            crate::sys::signals::stop_interrupt();
            return Err(SessionError::NoWorkers.into());
        }
        let mut g = drive(&rx, p, total, started, &stop, &console);
        crate::sys::signals::stop_interrupt();
        lock(&console).finish();
        let abandoned = g.abandoned.take();
        for (i, name) in abandoned.iter().flatten() {
            g.results.push((*i, PodResult::interrupted(name)));
        }
        let failed = summarize(&mut *lock(&console), total, g.results, g.why);
        if abandoned.is_some() {
            // The workers are blocked on the network; they are not waited for.
            crate::sys::signals::exit_now(EXIT_INTERRUPTED.into());
        }
        Ok(match (g.why, failed) {
            (Stop::Interrupted, _) => EXIT_INTERRUPTED,
            (_, 0) => EXIT_OK,
            _ => EXIT_ERROR,
        })
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One worker: takes the next target until there is none or the run stops starting pods.
fn worker(
    conn: &Connection,
    p: &Plan,
    queue: &Mutex<impl Iterator<Item = (usize, Pending)>>,
    stop: &AtomicBool,
    console: &Mutex<Screen>,
    tx: &mpsc::Sender<Event>,
) {
    while !stop.load(Ordering::SeqCst) {
        let Some((i, t)) = lock(queue).next() else {
            break;
        };
        let _ = tx.send(Event::Started(i, t.name().into()));
        let outcome = one(conn, p, t, console);
        // Set here, not by the driver, so that this worker cannot take another pod first.
        if p.fail_fast && outcome.failed() {
            stop.store(true, Ordering::SeqCst);
        }
        let _ = tx.send(Event::Finished(i, outcome));
    }
    let _ = tx.send(Event::Exited);
}

/// Counts the workers' reports until all have exited, or a second Ctrl-C.
fn drive(
    rx: &mpsc::Receiver<Event>,
    p: &Plan,
    total: usize,
    workers: usize,
    stop: &AtomicBool,
    console: &Mutex<Screen>,
) -> Gathered {
    let mut tally = Tally {
        total,
        ..Tally::default()
    };
    let mut g = Gathered {
        results: Vec::with_capacity(total),
        why: Stop::No,
        abandoned: None,
    };
    let mut running = std::collections::BTreeMap::new();
    let mut exited = 0;
    while exited < workers {
        let Ok(event) = rx.recv() else { break };
        match event {
            Event::Started(i, name) => {
                running.insert(i, name);
            }
            Event::Finished(i, o) => {
                running.remove(&i);
                tally.done += 1;
                if o.failed() {
                    tally.failed += 1;
                    if p.fail_fast && g.why == Stop::No {
                        g.why = Stop::FailFast;
                    }
                }
                g.results.push((i, o));
            }
            Event::Exited => exited += 1,
            Event::Interrupt if g.why == Stop::Interrupted => {
                g.abandoned = Some(running.into_iter().collect());
                return g;
            }
            Event::Interrupt => {
                g.why = Stop::Interrupted;
                stop.store(true, Ordering::SeqCst);
                lock(console).message(&format!(
                    "Interrupted: starting no more pods; waiting for the {} running (Ctrl-C again to stop)",
                    running.len()
                ));
            }
        }
        tally.running = running.len();
        lock(console).set_status(tally.line());
    }
    g
}

/// Writes the summary table (in target order) and its last line; returns how many failed.
fn summarize(
    out: &mut dyn Write,
    total: usize,
    mut results: Vec<(usize, PodResult)>,
    why: Stop,
) -> usize {
    results.sort_by_key(|(i, _)| *i);
    let rows: Vec<&PodResult> = results.iter().map(|(_, o)| o).collect();
    let failed = rows.iter().filter(|o| o.failed()).count();
    let _ = writeln!(out);
    write_summary(out, &rows);
    let _ = write!(out, "{} of {} succeeded", rows.len() - failed, rows.len());
    let unstarted = total - rows.len();
    let _ = match (unstarted, why) {
        (0, _) | (_, Stop::No) => writeln!(out),
        (n, Stop::FailFast) => writeln!(out, "; {n} not started (--fail-fast)"),
        (n, Stop::Interrupted) => writeln!(out, "; {n} not started (interrupted)"),
    };
    let _ = out.flush();
    failed
}

/// The summary table, written row by row from the outcomes (no copy of every cell).
fn write_summary(out: &mut dyn Write, rows: &[&PodResult]) {
    const HEAD: [&str; 5] = ["TARGET", "CONTAINER", "EXIT", "DURATION", "ERROR"];
    let cells = |o: &PodResult| -> [String; 5] {
        [
            o.name().to_string(),
            if o.container().is_empty() {
                "-".into()
            } else {
                o.container().to_string()
            },
            o.exit_code.map_or("-".into(), |c| c.to_string()),
            format!("{:.1}s", f64::from(o.millis) / 1000.0),
            o.error.as_deref().unwrap_or("").to_string(),
        ]
    };
    let mut columns = crate::text::table::Columns::new();
    columns.fit(&HEAD);
    for o in rows {
        columns.fit(&cells(o).each_ref().map(String::as_str));
    }
    let _ = writeln!(out, "{}", columns.line(&HEAD));
    for o in rows {
        let _ = writeln!(
            out,
            "{}",
            columns.line(&cells(o).each_ref().map(String::as_str))
        );
    }
}

fn one(conn: &Connection, p: &Plan, t: Pending, console: &Mutex<Screen>) -> PodResult {
    let name = t.name().to_string();
    let started = Instant::now();
    let (result, container) = match t.resolve(conn) {
        Ok(t) => run_captured(conn, p, &t, &name, console),
        Err(e) => (Err(e), None),
    };
    let (exit_code, error) = match result {
        Ok(c) => (Some(c), None),
        // The message alone: kubectl's `error: ` prefix has no place in a table cell.
        Err(e) => (None, Some(e.to_string().into())),
    };
    PodResult {
        error,
        ..PodResult::new(
            &name,
            container.as_deref().unwrap_or(""),
            exit_code,
            started.elapsed(),
        )
    }
}

/// Runs one journey with its output prefixed on the console, or in `--output-dir/<pod>.log`.
fn run_captured(
    conn: &Connection,
    p: &Plan,
    t: &Resolved,
    name: &str,
    console: &Mutex<Screen>,
) -> (Result<u8, RunError>, Option<String>) {
    match &p.output_dir {
        Some(dir) => {
            let path = dir.join(format!("{name}.log"));
            match std::fs::File::create(&path) {
                Ok(mut f) => {
                    let mut sink = Sink::captured(&mut f);
                    let r = super::debug_one(conn, p, t, &mut sink);
                    (r, sink.container.take())
                }
                Err(cause) => (Err(SessionError::LogFile { path, cause }.into()), None),
            }
        }
        None => {
            let mut w = Prefixed::new(format!("{name}: "), console);
            let mut sink = Sink::captured(&mut w);
            let r = super::debug_one(conn, p, t, &mut sink);
            (r, sink.container.take())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_each_line_and_completes_partial_ones() {
        let out = Mutex::new(Vec::new());
        {
            let mut w = Prefixed::new("web-0: ".into(), &out);
            w.write_all(b"one\ntw").unwrap();
            w.write_all(b"o\nthree").unwrap();
        }
        assert_eq!(
            String::from_utf8(out.into_inner().unwrap()).unwrap(),
            "web-0: one\nweb-0: two\nweb-0: three\n"
        );
    }
}
