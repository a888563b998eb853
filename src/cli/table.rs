//! Plain tables for human output: aligned by display width (CJK and emoji count double), every cell
//! sanitised, the widest columns shrunk to fit the terminal.

use crate::sanitize;
use crate::width::fit;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

pub struct Table {
    header: Vec<&'static str>,
    /// Narrowest and widest each column may be; a narrow terminal shrinks the widest columns first.
    /// A column whose min equals its max is never cut (ids, which people copy).
    min: Vec<usize>,
    max: Vec<usize>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as (header, min width, max width).
    pub fn new(columns: &[(&'static str, usize, usize)]) -> Self {
        Table {
            header: columns.iter().map(|c| c.0).collect(),
            min: columns.iter().map(|c| c.1).collect(),
            max: columns.iter().map(|c| c.2).collect(),
            rows: vec![],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| sanitize::line(&c).into_owned()).collect());
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_within(out, terminal_width())
    }

    fn write_within(&self, out: &mut dyn Write, total: usize) -> io::Result<()> {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.width()).collect();
        // Into a pipe (no width), every cell whole: scripts want it all.
        let piped = total >= usize::MAX / 8;
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let cap = if piped { usize::MAX } else { self.max[i] };
                widths[i] = widths[i].max(cell.width().min(cap));
            }
        }
        let room = |w: &[usize]| w.iter().sum::<usize>() + 2 * (n - 1);
        while room(&widths) > total {
            let shrinkable = (0..n)
                .filter(|&i| widths[i] > self.min[i].max(1))
                .max_by_key(|&i| widths[i]);
            let Some(i) = shrinkable else { break };
            widths[i] -= 1;
        }
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let cut = fit(cell, widths[i]);
                line.push_str(&cut);
                if i + 1 < n {
                    line.push_str(&" ".repeat(widths[i] - cut.width() + 2));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `COLUMNS` if set, else the terminal's width; into a pipe nothing is cut (scripts want it all).
fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()) {
        return cols.max(40);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return usize::MAX / 4;
    }
    crossterm::terminal::size()
        .map(|(w, _)| w as usize)
        .unwrap_or(80)
        .max(40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_shrink_the_widest_columns_but_never_ids() {
        let mut t = Table::new(&[("ID", 12, 12), ("NAME", 4, 30), ("TEXT", 6, 200)]);
        t.row(vec![
            "partoo:40977".into(),
            "A rather long customer name".into(),
            "x".repeat(100),
        ]);
        let mut out = vec![];
        t.write_within(&mut out, 40).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.width() <= 40), "{text}");
        assert!(text.contains("partoo:40977"), "{text}");
    }
}
