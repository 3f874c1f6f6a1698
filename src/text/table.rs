//! Tables as kubectl prints them.

use std::io::Write;

/// Writes rows as a left-aligned table with 3-space gaps (kubectl's tabwriter look).
pub fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
