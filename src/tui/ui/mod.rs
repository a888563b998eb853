//! Drawing: a pure function of the state. Wide terminals (≥ 100 columns) show the list and the
//! thread side by side; narrower ones stack them, the list shrinking to a few rows above the thread.

mod compose;
mod help;
mod links;
mod list;
mod message;
mod status;
mod templates;
mod thread;

use super::keymap::Keymap;
use super::state::{Focus, Layout, State};
use super::theme::Theme;
pub use crate::when::Clock;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Rect};

/// Columns from which list and thread sit side by side.
pub const WIDE: u16 = 100;

pub struct View<'a> {
    pub state: &'a State,
    pub keymap: &'a Keymap,
    pub theme: Theme,
    pub clock: Clock,
}

/// The smallest terminal the inbox draws in; below it, it says so instead of half a screen.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 8;
/// The message line wraps to at most this many rows.
const MESSAGE_ROWS: usize = 4;

/// Draw one frame; returns the geometry `update` needs for paging.
pub fn draw(frame: &mut Frame, view: &View) -> Layout {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, view);
        return Layout::default();
    }
    let s = view.state;
    // The message line: never clipped, wrapped, above the status bar until the next key.
    let message = s
        .notice
        .as_deref()
        .map(|n| message_lines(n, area.width as usize, view))
        .unwrap_or_default();
    let [main, note, bar, hints] = split(
        area,
        Direction::Vertical,
        [
            Constraint::Min(1),
            Constraint::Length(message.len() as u16),
            Constraint::Length(1),
            Constraint::Length(1),
        ],
    );
    let wide = area.width >= WIDE;
    let mut layout = Layout {
        wide,
        ..Layout::default()
    };
    let show_thread = s.thread.is_some() && (wide || s.focus != Focus::List);
    if !show_thread {
        layout.list_rows = list::draw(frame, main, view);
    } else if wide {
        let list_width = (area.width * 2 / 5).clamp(34, 60);
        let [l, gap, t] = split(
            main,
            Direction::Horizontal,
            [
                Constraint::Length(list_width),
                Constraint::Length(1),
                Constraint::Min(20),
            ],
        );
        layout.list_rows = list::draw(frame, l, view);
        let rule = vec![ratatui::text::Line::styled("│", view.theme.dim()); gap.height as usize];
        frame.render_widget(ratatui::widgets::Paragraph::new(rule), gap);
        (layout.thread_rows, layout.thread_lines) = thread::draw(frame, t, view);
    } else {
        // Stacked: a few list rows for context above the thread; none while a reply is being
        // written in a short terminal, so the reply pane keeps its room.
        let list_height = if s.focus == Focus::Compose && main.height < 20 {
            0
        } else {
            (main.height / 4).clamp(3, 8)
        };
        let [l, t] = split(
            main,
            Direction::Vertical,
            [Constraint::Length(list_height), Constraint::Min(3)],
        );
        if list_height > 0 {
            layout.list_rows = list::draw(frame, l, view);
        }
        (layout.thread_rows, layout.thread_lines) = thread::draw(frame, t, view);
    }
    if !message.is_empty() {
        frame.render_widget(ratatui::widgets::Paragraph::new(message), note);
    }
    status::draw(frame, bar, hints, view);
    if s.help {
        layout.help_max_scroll = help::draw(frame, area, view);
    }
    if let Some(links) = &s.links {
        links::draw(frame, area, links, view);
    }
    if let Some(selected) = s.template_picker {
        templates::draw(frame, area, selected, view);
    }
    layout
}

/// A bordered box of `lines` centred over `area`, `width` wide, with a last dim line of keys.
pub(super) fn popup(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    title: String,
    mut lines: Vec<ratatui::text::Line<'static>>,
    keys: &str,
    view: &View,
) {
    use ratatui::widgets::{Block, Borders, Clear, Paragraph};
    let inner = width.saturating_sub(2) as usize;
    lines.push(ratatui::text::Line::from(ratatui::text::Span::styled(
        crate::width::fit(keys, inner),
        view.theme.dim(),
    )));
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        rect,
    );
}

/// The message, wrapped to the width (at most `MESSAGE_ROWS` rows).
fn message_lines(text: &str, width: usize, view: &View) -> Vec<ratatui::text::Line<'static>> {
    let clean = crate::sanitize::line(text);
    // Never split at a hyphen: "ctrl-s" stays one word.
    let options =
        textwrap::Options::new(width.saturating_sub(1).max(10)).word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut lines: Vec<_> = textwrap::wrap(&format!("! {clean}"), options)
        .into_iter()
        .map(|l| ratatui::text::Line::styled(l.into_owned(), view.theme.notice()))
        .collect();
    if lines.len() > MESSAGE_ROWS {
        lines.truncate(MESSAGE_ROWS);
        let last = lines.pop().map(|l| l.to_string()).unwrap_or_default();
        lines.push(ratatui::text::Line::styled(
            crate::width::fit(&format!("{last} …"), width),
            view.theme.notice(),
        ));
    }
    lines
}

fn too_small(frame: &mut Frame, area: Rect, view: &View) {
    let text = format!(
        "Switchboard needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}. Make it larger, or press {} to quit.",
        area.width,
        area.height,
        view.keymap.key_for(super::keymap::Command::Quit).unwrap_or("q"),
    );
    let lines: Vec<_> = textwrap::wrap(&text, (area.width as usize).max(1))
        .into_iter()
        .map(|l| ratatui::text::Line::raw(l.into_owned()))
        .collect();
    frame.render_widget(ratatui::widgets::Paragraph::new(lines), area);
}

fn split<const N: usize>(area: Rect, direction: Direction, constraints: [Constraint; N]) -> [Rect; N] {
    ratatui::layout::Layout::default()
        .direction(direction)
        .constraints(constraints)
        .areas(area)
}

/// A single-width glyph per channel; shown next to the channel's word, never instead of it.
pub fn channel_glyph(channel: &crate::model::Channel) -> &'static str {
    match channel.as_str() {
        "sms" => "✆",
        "email" => "✉",
        "voice" => "☎",
        "voicemail" => "◙",
        "whatsapp" => "Ⓦ",
        "facebook" => "ⓕ",
        "instagram" => "ⓘ",
        "google" => "Ⓖ",
        "live_chat" => "☺",
        "note" => "✎",
        _ => "?",
    }
}
