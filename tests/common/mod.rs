//! What the screen tests share: the demo dealership in a fresh database, the inbox on it, and the
//! screen as text.
#![allow(dead_code)] // each test file uses its own part

pub mod services;
pub mod ssh;
pub mod tmux;

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use switchboard::store::{Incoming, Store};
use switchboard::tui::headless::Headless;

/// An hour after the demo dealership's day ends.
pub fn now_ms() -> i64 {
    chrono::DateTime::parse_from_rfc3339("2026-11-20T13:00:00Z")
        .unwrap()
        .timestamp_millis()
}

pub fn demo_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("sb.db")).unwrap();
    for (_, bytes) in switchboard::cli::DEMO_EVENTS {
        let mut items = vec![];
        switchboard::import::read_events(*bytes, &mut |body| {
            items.push(Incoming::new(body, None));
            Ok(())
        })
        .unwrap();
        store.ingest("demo", &items).unwrap();
    }
    (dir, store)
}

pub fn inbox(w: u16, h: u16) -> (tempfile::TempDir, Headless<TestBackend>) {
    let (dir, store) = demo_store();
    (dir, Headless::new(store, TestBackend::new(w, h), now_ms()))
}

/// The screen as text, one line per row; the cell hidden behind a wide character is skipped.
pub fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        let mut x = 0;
        while x < area.width {
            let symbol = buffer[(x, y)].symbol();
            line.push_str(symbol);
            x += (switchboard::width::width(symbol) as u16).max(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The whole frame for the current state, drawn from scratch (TestBackend keeps stale cells behind
/// wide characters that a real terminal overwrites).
pub fn frame(h: &Headless<TestBackend>) -> Buffer {
    let area = h.terminal.backend().buffer().area;
    let mut t = ratatui::Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    let view = switchboard::tui::ui::View {
        state: &h.state,
        keymap: &h.keymap,
        theme: h.theme,
        clock: h.clock,
    };
    t.draw(|f| {
        switchboard::tui::ui::draw(f, &view);
    })
    .unwrap();
    t.backend().buffer().clone()
}

pub fn screen(h: &Headless<TestBackend>) -> String {
    text(&frame(h))
}

/// Select a conversation by key and open it.
pub fn open(h: &mut Headless<TestBackend>, key: &str) {
    h.press("g");
    for _ in 0..h.state.list.len() {
        if h.state
            .selected_conversation()
            .is_some_and(|c| c.conversation_key.starts_with(key))
        {
            break;
        }
        h.press("j");
    }
    assert!(
        h.state
            .selected_conversation()
            .unwrap()
            .conversation_key
            .starts_with(key),
        "{key} not in the list"
    );
    h.press("enter");
}

/// The demo dealership in a database file, for tests that open it more than once.
pub fn demo_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, store) = demo_store();
    let path = store.path().to_path_buf();
    drop(store);
    (dir, path)
}
