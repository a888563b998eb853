//! The thread: messages oldest to newest. Direction shows by alignment (inbound left, outbound
//! indented right, notes in between) and by a glyph; status by a word and a glyph.

use super::View;
use super::message;
use crate::sanitize;
use crate::width::{fit, pad, width};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the thread; returns (rows shown, lines in the loaded thread).
pub fn draw(frame: &mut Frame, area: Rect, view: &View) -> (usize, usize) {
    let s = view.state;
    let t = view.theme;
    let Some(thread) = &s.thread else { return (0, 0) };
    let w = area.width as usize;
    let conversation = s.list.iter().find(|c| c.conversation_key == thread.key);
    let heading = match conversation {
        Some(c) => {
            let mut parts = vec![];
            parts.extend(c.contact.name.as_deref().map(|n| sanitize::line(n).into_owned()));
            parts.extend(c.contact.phone.as_deref().map(|n| sanitize::line(n).into_owned()));
            parts.extend(c.contact.email.as_deref().map(|n| sanitize::line(n).into_owned()));
            if parts.is_empty() {
                parts.push("(unknown contact)".into());
            }
            let mut heading = format!(
                " {} · {} · {}",
                parts.join(" · "),
                c.provider,
                c.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            );
            // The vendor's own unread count (its app's, for everyone) where it reports one; the
            // list's counts are the reader's.
            if let Some(n) = c.vendor_unread.filter(|n| *n > 0) {
                heading.push_str(&format!(
                    " · {} unread in {}",
                    n,
                    crate::outbox::vendor_name(&c.provider)
                ));
            }
            if c.done {
                heading.push_str(" · done");
            } else if let Some(until) = &c.snoozed_until {
                heading.push_str(&format!(
                    " · snoozed until {}",
                    view.clock.local_time(until).format("%a %H:%M")
                ));
            }
            heading
        }
        None => format!(" {}", sanitize::line(&thread.key)),
    };
    let compose = super::compose::rows(view, area.height);
    let body_rows = (area.height.saturating_sub(1 + compose)) as usize;
    // The thread as rows: an optional note at the top, then per message a day rule where the day
    // changes and the message's lines. Counted whole, materialised only where on screen.
    let blocks: Vec<_> = thread.messages.iter().map(|m| message::block(m, w, view)).collect();
    let note = if !thread.complete {
        Some(if thread.loading_older {
            "loading older messages…"
        } else {
            "older messages load as you scroll up"
        })
    } else if thread.messages.is_empty() {
        Some("Loading…")
    } else {
        None
    };
    let mut rules = Vec::with_capacity(blocks.len());
    let mut total = note.is_some() as usize;
    for (i, b) in blocks.iter().enumerate() {
        let rule = i == 0 || blocks[i - 1].day != b.day;
        rules.push(rule);
        total += rule as usize + b.lines.len();
    }
    let scroll = thread.scroll.min(total.saturating_sub(body_rows));
    let end = total - scroll;
    let start = end.saturating_sub(body_rows);
    let mut lines: Vec<Line> = Vec::with_capacity(body_rows);
    // The messages at the first and last row shown.
    let (mut first_shown, mut last_shown) = (None, None);
    let mut row = 0;
    if let Some(note) = note {
        if row >= start && row < end {
            lines.push(Line::from(Span::styled(fit(&format!(" {note}"), w), t.dim())));
        }
        row += 1;
    }
    for (i, b) in blocks.iter().enumerate() {
        let rows_here = rules[i] as usize + b.lines.len();
        if row + rows_here <= start {
            row += rows_here;
            continue;
        }
        if row >= end {
            break;
        }
        first_shown.get_or_insert(i);
        last_shown = Some(i);
        if rules[i] {
            if row >= start {
                let rule = format!(" {} ", b.day);
                let side = w.saturating_sub(rule.chars().count()) / 2;
                lines.push(Line::from(Span::styled(
                    format!("{}{rule}{}", "─".repeat(side), "─".repeat(side)),
                    t.dim(),
                )));
            }
            row += 1;
        }
        for line in &b.lines {
            if row >= start && row < end {
                lines.push(line.clone());
            }
            row += 1;
        }
    }
    let focused = s.focus != crate::tui::state::Focus::List;
    // Where in the conversation the view is: messages shown, of all it has.
    let loaded = thread.messages.len();
    let all = conversation.map_or(loaded, |c| (c.message_count.max(0) as usize).max(loaded));
    let position = match (first_shown, last_shown) {
        (Some(a), Some(b)) if body_rows > 0 => {
            let before = all - loaded;
            format!(" {}–{}/{all} ", before + a + 1, before + b + 1)
        }
        _ => String::new(),
    };
    let heading_w = w.saturating_sub(width(&position));
    let mut out = vec![Line::from(vec![
        Span::styled(pad(&heading, heading_w), if focused { t.title() } else { t.dim() }),
        Span::styled(position, t.dim()),
    ])];
    out.extend(lines);
    let shown = Rect {
        height: area.height - compose,
        ..area
    };
    frame.render_widget(Paragraph::new(out), shown);
    if compose > 0 {
        let pane = Rect {
            y: area.y + area.height - compose,
            height: compose,
            ..area
        };
        super::compose::draw(frame, pane, view);
    }
    (body_rows, total)
}
