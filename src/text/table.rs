//! Tables as kubectl prints them: columns three spaces apart, each as wide as its widest
//! cell, the last cell of a row written as it is (Go's text/tabwriter as kubectl sets it up).

use std::io::Write;

/// The column widths of a table, learnt row by row ([`Columns::fit`]) so a long table can be
/// written without holding a copy of every cell.
#[derive(Debug, Default)]
pub struct Columns {
    widths: Vec<usize>,
    /// The least a padded cell takes, gap included (tabwriter's minwidth).
    min_cell: usize,
    /// Whether a line loses its trailing blanks (kubectl's printers) or keeps them (the
    /// tabwriter of `kubectl config get-contexts`).
    trim: bool,
}

/// The gap between columns.
const GAP: usize = 3;

impl Columns {
    /// kubectl's `get`-style tables: no minimum width, trailing blanks trimmed.
    pub fn new() -> Columns {
        Columns {
            trim: true,
            ..Columns::default()
        }
    }

    /// `kubectl config get-contexts`: tabwriter with minwidth 6, trailing blanks kept.
    pub fn config() -> Columns {
        Columns {
            min_cell: 6,
            ..Columns::default()
        }
    }

    /// Widens the columns to hold `row`.
    pub fn fit(&mut self, row: &[&str]) {
        if self.widths.len() < row.len() {
            self.widths.resize(row.len(), 0);
        }
        for (w, c) in self.widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }

    /// One line of the table, without its newline.
    pub fn line(&self, row: &[&str]) -> String {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            s.push_str(c);
            if i + 1 < row.len() {
                let cell = (self.widths.get(i).copied().unwrap_or(0) + GAP).max(self.min_cell);
                s.extend(std::iter::repeat_n(' ', cell - c.chars().count()));
            }
        }
        if self.trim {
            s.truncate(s.trim_end().len());
        }
        s
    }

    /// Fits and writes whole rows, each line ended by a newline.
    pub fn render(mut self, rows: &[Vec<String>]) -> String {
        let refs: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        for r in &refs {
            self.fit(r);
        }
        let mut out = String::new();
        for r in &refs {
            out.push_str(&self.line(r));
            out.push('\n');
        }
        out
    }
}

/// Writes rows as a kubectl `get`-style table.
pub fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) {
    let _ = out.write_all(Columns::new().render(rows).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_style_trims_and_config_style_pads_to_six() {
        let rows = vec![
            vec!["A".to_string(), "BB".into(), "".into()],
            vec!["CCC".into(), "D".into(), "E".into()],
        ];
        assert_eq!(Columns::new().render(&rows), "A     BB\nCCC   D    E\n");
        assert_eq!(
            Columns::config().render(&rows),
            "A     BB    \nCCC   D     E\n"
        );
    }

    #[test]
    fn rows_fitted_one_by_one() {
        let mut c = Columns::new();
        c.fit(&["TARGET", "EXIT"]);
        c.fit(&["pod/web-1234", "0"]);
        assert_eq!(c.line(&["TARGET", "EXIT"]), "TARGET         EXIT");
        assert_eq!(c.line(&["pod/web-1234", "0"]), "pod/web-1234   0");
    }
}
