//! Fan-out: one non-interactive debug per pod (or node), `--max-parallel` workers sharing one
//! client and its connection pool, every output line prefixed with the pod name (or written
//! to `--output-dir/<pod>.log`), and a summary table with each exit code at the end.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cli::plan::Plan;
use crate::kube as api;

use super::{Connection, Resolved, RunError, Sink};

/// One pod's result.
pub struct Outcome {
    pub name: String,
    pub container: String,
    pub exit_code: Option<u8>,
    pub duration: Duration,
    pub error: Option<String>,
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

pub fn run(conn: &Connection, p: &Plan, targets: Vec<Resolved>) -> Result<u8, RunError> {
    if let Some(dir) = &p.output_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            RunError::Other(format!(
                "failed to create --output-dir {}: {e}",
                dir.display()
            ))
        })?;
    }
    let stdout = Mutex::new(io::stdout());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    let workers = p.max_parallel.min(targets.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(t) = targets.get(i) else { return };
                let outcome = one(conn, p, t, &stdout);
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut rows = vec![["TARGET", "CONTAINER", "EXIT", "DURATION", "ERROR"]
        .map(String::from)
        .to_vec()];
    let mut failed = 0;
    for (_, o) in &results {
        if o.error.is_some() || o.exit_code != Some(0) {
            failed += 1;
        }
        rows.push(vec![
            o.name.clone(),
            if o.container.is_empty() {
                "-".into()
            } else {
                o.container.clone()
            },
            o.exit_code.map_or("-".into(), |c| c.to_string()),
            format!("{:.1}s", o.duration.as_secs_f64()),
            o.error.clone().unwrap_or_default(),
        ]);
    }
    let mut out = stdout.lock().unwrap_or_else(|e| e.into_inner());
    let _ = writeln!(out);
    crate::text::table::write_table(&mut *out, &rows);
    let _ = writeln!(
        out,
        "{} of {} succeeded",
        results.len() - failed,
        results.len()
    );
    Ok(if failed == 0 { 0 } else { 1 })
}

fn one(conn: &Connection, p: &Plan, t: &Resolved, stdout: &Mutex<io::Stdout>) -> Outcome {
    let name = api::name(&t.object).to_string();
    let started = Instant::now();
    let (result, container) = match &p.output_dir {
        Some(dir) => {
            let path = dir.join(format!("{name}.log"));
            match std::fs::File::create(&path) {
                Ok(mut f) => {
                    let mut sink = Sink::captured(&mut f);
                    let r = super::debug_one(conn, p, t, &mut sink);
                    (r, sink.container.take())
                }
                Err(e) => (
                    Err(RunError::Other(format!(
                        "failed to create {}: {e}",
                        path.display()
                    ))),
                    None,
                ),
            }
        }
        None => {
            let mut w = Prefixed::new(format!("{name}: "), stdout);
            let mut sink = Sink::captured(&mut w);
            let r = super::debug_one(conn, p, t, &mut sink);
            (r, sink.container.take())
        }
    };
    let (exit_code, error) = match result {
        Ok(c) => (Some(c), None),
        Err(e) => (
            None,
            Some(e.to_string().trim_start_matches("error: ").to_string()),
        ),
    };
    Outcome {
        name,
        container: container.unwrap_or_default(),
        exit_code,
        duration: started.elapsed(),
        error,
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
