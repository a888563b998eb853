//! Measuring the inbox without a terminal: the real store, update, effects and drawing into a
//! crossterm backend that counts the bytes a terminal would receive. Used by `benches/inbox.sh`.

use super::headless::Headless;
use crate::store::Store;
use ratatui::backend::CrosstermBackend;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Discards what it is given and counts the bytes.
#[derive(Clone, Default)]
pub struct Counter(pub Arc<AtomicUsize>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Serialize)]
pub struct Timing {
    pub median_ms: f64,
    pub p99_ms: f64,
    pub samples: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub messages: i64,
    pub conversations: i64,
    pub first_frame_ms: f64,
    pub full_frame_bytes: usize,
    pub move_one_row_bytes: usize,
    pub open_thread_bytes: usize,
    pub move_one_row: Timing,
    pub page_down: Timing,
    pub open_thread: Timing,
    pub thread_page_up: Timing,
    pub search: Timing,
    pub filter_failed: Timing,
    pub peak_rss_kib: Option<u64>,
}

pub fn timing(mut samples: Vec<f64>) -> Timing {
    samples.sort_by(f64::total_cmp);
    if samples.is_empty() {
        return Timing {
            median_ms: f64::NAN,
            p99_ms: f64::NAN,
            samples: 0,
        };
    }
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Timing {
        median_ms: at(0.5),
        p99_ms: at(0.99),
        samples: samples.len(),
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Peak resident memory of this process, from /proc.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn run(db: &Path, width: u16, height: u16, repeat: usize) -> anyhow::Result<Report> {
    let bytes = Counter::default();
    let started = Instant::now();
    let store = Store::open(db)?;
    let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, width, height));
    let terminal = ratatui::Terminal::with_options(
        CrosstermBackend::new(bytes.clone()),
        ratatui::TerminalOptions { viewport },
    )?;
    let mut h = Headless::with_terminal(store, terminal, chrono::Utc::now().timestamp_millis());
    let first_frame_ms = ms(started);
    let full_frame_bytes = bytes.0.swap(0, Ordering::Relaxed);
    let (messages, conversations): (i64, i64) = h.store.connection().query_row(
        "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM conversations)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;

    let press = |h: &mut Headless<CrosstermBackend<Counter>>, key: &str| -> (f64, usize) {
        bytes.0.store(0, Ordering::Relaxed);
        let t = Instant::now();
        h.press(key);
        (ms(t), bytes.0.load(Ordering::Relaxed))
    };

    // One-row moves in the middle of the list (no scrolling): down then up, alternately.
    let (mut moves, mut move_bytes) = (vec![], vec![]);
    press(&mut h, "j");
    for i in 0..repeat {
        let (t, b) = press(&mut h, if i % 2 == 0 { "j" } else { "k" });
        moves.push(t);
        move_bytes.push(b);
    }
    let mut pages = vec![];
    for i in 0..repeat {
        pages.push(press(&mut h, if i % 2 == 0 { "pagedown" } else { "pageup" }).0);
    }
    press(&mut h, "g");
    let (mut opens, mut open_bytes) = (vec![], vec![]);
    for _ in 0..repeat.min(50) {
        let (t, b) = press(&mut h, "enter");
        opens.push(t);
        open_bytes.push(b);
        press(&mut h, "esc");
    }
    press(&mut h, "enter");
    let mut thread_pages = vec![];
    for _ in 0..repeat.min(100) {
        thread_pages.push(press(&mut h, "pageup").0);
    }
    press(&mut h, "esc");
    let mut searches = vec![];
    for _ in 0..repeat.min(20) {
        press(&mut h, "/");
        h.type_text("brakes");
        searches.push(press(&mut h, "enter").0);
        press(&mut h, "esc");
    }
    let mut filters = vec![];
    for _ in 0..repeat.min(20) {
        press(&mut h, "f");
        filters.push(press(&mut h, "f").0);
        press(&mut h, "esc");
    }
    open_bytes.sort_unstable();
    move_bytes.sort_unstable();
    Ok(Report {
        messages,
        conversations,
        first_frame_ms,
        full_frame_bytes,
        move_one_row_bytes: move_bytes[move_bytes.len() / 2],
        open_thread_bytes: open_bytes[open_bytes.len() / 2],
        move_one_row: timing(moves),
        page_down: timing(pages),
        open_thread: timing(opens),
        thread_page_up: timing(thread_pages),
        search: timing(searches),
        filter_failed: timing(filters),
        peak_rss_kib: peak_rss_kib(),
    })
}
