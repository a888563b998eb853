//! One message of a thread as display lines, and a memo of them: a thread redraws on every key,
//! and wrapping and sanitising every loaded message each time cost milliseconds at 200 messages
//! and a frame's worth many times over at 20,000. A message is rendered again only when it, the
//! width or the look changed; the thread then takes only the lines on screen.

use super::{View, channel_glyph};
use crate::model::{Direction, Message, Status, channel_label};
use crate::sanitize;
use crate::width::{fit, width};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A message's lines and the day it belongs to.
pub struct Block {
    pub day: String,
    pub lines: Vec<Line<'static>>,
}

struct Memo {
    message: Message,
    width: usize,
    look: (bool, i32, usize),
    block: Rc<Block>,
}

/// Entries kept at most (a 20,000-message thread and its neighbours); past that it starts afresh.
const MEMO_MAX: usize = 50_000;

thread_local! {
    static MEMO: RefCell<HashMap<String, Memo>> = RefCell::new(HashMap::new());
}

/// The lines of `m` at width `w`, rendered again only if something they depend on changed.
pub fn block(m: &Message, w: usize, view: &View) -> Rc<Block> {
    let look = (view.theme.color, view.clock.offset_secs, view.state.people.len());
    MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some(hit) = memo.get(&m.message_key)
            && hit.width == w
            && hit.look == look
            && hit.message == *m
        {
            return hit.block.clone();
        }
        if memo.len() >= MEMO_MAX {
            memo.clear();
        }
        let block = Rc::new(render(m, w, view));
        memo.insert(
            m.message_key.clone(),
            Memo {
                message: m.clone(),
                width: w,
                look,
                block: block.clone(),
            },
        );
        block
    })
}

fn status_label(m: &Message) -> (String, fn(&crate::tui::theme::Theme) -> Style) {
    if m.draft {
        return ("✎ draft".into(), |t| t.pending());
    }
    match &m.status {
        Status::Received => (String::new(), |t| t.dim()),
        Status::Pending | Status::Queued => (format!("◷ {}", m.status), |t| t.pending()),
        Status::Sending => ("… sending".into(), |t| t.pending()),
        Status::Accepted => ("◷ accepted".into(), |t| t.pending()),
        Status::Sent => ("✓ sent".into(), |t| t.ok()),
        Status::Delivered => ("✓✓ delivered".into(), |t| t.ok()),
        Status::Read => ("✓✓ read".into(), |t| t.ok()),
        Status::Failed => ("✗ failed".into(), |t| t.failed()),
        Status::Unknown(_) => ("? unknown".into(), |t| t.failed()),
    }
}

/// One message as display lines at width `w` (its day is returned apart: the thread draws a rule
/// where the day changes). The blank line that follows it is included.
fn render(m: &Message, w: usize, view: &View) -> Block {
    let t = view.theme;
    let mut lines: Vec<Line<'static>> = vec![];
    {
        let when = m.at.as_ref().map(|a| view.clock.local_time(a));
        let day = when
            .map(|d| d.format("%a %-d %b %Y").to_string())
            .unwrap_or_else(|| "time unknown".into());
        let (indent, glyph, dir_style) = match m.direction {
            Direction::Inbound => (1, "←", t.inbound()),
            Direction::Outbound => ((w / 4).clamp(2, 30), "→", t.outbound()),
            Direction::Internal => ((w / 8).clamp(2, 12), "•", t.internal()),
        };
        let inner = w.saturating_sub(indent + 2).max(10);
        let pad_str = " ".repeat(indent);
        let time = when.map(|d| d.format("%H:%M").to_string()).unwrap_or_default();
        let sender = sanitize::line(&who(m.sender.as_deref().unwrap_or(""), &view.state.people)).into_owned();
        let (status, status_style) = status_label(m);
        let channel = sanitize::line(&channel_label(&m.channel)).replace('_', " ");
        // The status word is never cut: the sender, then the channel's word, give way first.
        let lead = format!("{glyph} {time} ");
        let status_part = if status.is_empty() {
            String::new()
        } else {
            format!("  {status}")
        };
        let deleted = if m.deleted { "  (deleted)" } else { "" };
        let fixed = indent + width(&lead) + width(&status_part) + width(deleted);
        let channel_part = if fixed + 2 + width(&channel) <= w {
            format!("{} {channel}", channel_glyph(&m.channel))
        } else {
            channel_glyph(&m.channel).to_string()
        };
        let room = w.saturating_sub(fixed + width(&channel_part) + 3);
        let mut header = vec![
            Span::raw(pad_str.clone()),
            Span::styled(lead, dir_style),
            Span::styled(channel_part, t.dim()),
        ];
        if !sender.is_empty() && room >= 4 {
            header.push(Span::styled(
                format!(" · {}", fit(&sender, room.min(inner / 2).max(4))),
                dir_style,
            ));
        }
        if !status_part.is_empty() {
            header.push(Span::styled(status_part, status_style(&t)));
        }
        if m.deleted {
            header.push(Span::styled(deleted, t.dim()));
        }
        lines.push(Line::from(header));
        let bar = |style: Style, text: String| {
            Line::from(vec![
                Span::raw(pad_str.clone()),
                Span::styled("▏", t.dim()),
                Span::styled(text, style),
            ])
        };
        if let (Some(detail), true) = (&m.status_detail, m.status.needs_attention()) {
            for chunk in textwrap::wrap(&sanitize::line(detail), inner) {
                lines.push(bar(t.failed(), chunk.into_owned()));
            }
        }
        if let Some(subject) = &m.subject {
            for chunk in textwrap::wrap(&format!("Subject: {}", sanitize::line(subject)), inner) {
                lines.push(bar(t.title(), chunk.into_owned()));
            }
        }
        if let Some(call) = &m.call {
            lines.push(bar(t.plain(), format!("☎ {}", call.summary())));
            if let Some(url) = &call.recording_url {
                lines.push(bar(t.dim(), fit(&format!("recording: {}", sanitize::line(url)), inner)));
            }
            if let Some(text) = &call.transcript {
                for chunk in textwrap::wrap(&format!("transcript: {}", sanitize::line(text)), inner) {
                    lines.push(bar(t.dim(), chunk.into_owned()));
                }
            }
        }
        let body = m
            .body
            .as_deref()
            .filter(|b| !(m.call.is_some() && b.trim() == "Voice Call"));
        if let Some(body) = body {
            for paragraph in sanitize::text(body).lines() {
                if paragraph.trim().is_empty() {
                    lines.push(bar(t.plain(), String::new()));
                    continue;
                }
                for chunk in textwrap::wrap(paragraph, inner) {
                    lines.push(bar(t.plain(), chunk.into_owned()));
                }
            }
        }
        for a in &m.attachments {
            let size = a
                .size
                .map(crate::width::human_size)
                .map(|s| format!(", {s}"))
                .unwrap_or_default();
            let text = format!(
                "📎 {} ({}{size}) {}",
                sanitize::line(a.name.as_deref().unwrap_or("attachment")),
                sanitize::line(a.mime.as_deref().unwrap_or("unknown type")),
                sanitize::line(a.url.as_deref().unwrap_or(""))
            );
            lines.push(bar(t.dim(), fit(text.trim_end(), inner)));
        }
        lines.push(Line::default());
        Block { day, lines }
    }
}

/// A sender as people know them: a vendor user id (stored as `user ID`) by the name configured
/// under `[inbox.people]`, else as "advisor" and the id's last characters.
fn who(sender: &str, people: &std::collections::BTreeMap<String, String>) -> String {
    match sender.strip_prefix("user ") {
        Some(id) => match people.get(id) {
            Some(name) => name.clone(),
            None => {
                let tail: String = id.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
                format!("advisor …{tail}")
            }
        },
        None => sender.to_string(),
    }
}
