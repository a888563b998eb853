//! Display width of text in terminal columns (CJK and emoji count two), cutting to a width, and
//! sizes in words that fit a column.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub fn width(s: &str) -> usize {
    s.width()
}

/// Cut `s` to at most `max` columns, marking a cut with `…`.
pub fn fit(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// A byte count as people read it: `812 B`, `340 KiB`, `6.2 MiB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// `fit`, then pad with spaces to exactly `columns`.
pub fn pad(s: &str, columns: usize) -> String {
    let mut out = fit(s, columns);
    let w = out.width();
    out.extend(std::iter::repeat_n(' ', columns.saturating_sub(w)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(fit("日本語のテキスト", 7), "日本語…");
        assert_eq!(pad("陈伟", 6), "陈伟  ");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(width(&pad("👩\u{200d}💻 dev", 8)), 8);
    }
}
