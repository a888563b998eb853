//! The thread: messages oldest to newest. Direction shows by alignment (inbound left, outbound
//! indented right, notes in between) and by a glyph; status by a word and a glyph.

use super::{View, channel_glyph};
use crate::model::Message;
use crate::sanitize;
use crate::width::{fit, pad, width};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the thread; returns (rows shown, lines in the loaded thread).
pub fn draw(frame: &mut Frame, area: Rect, view: &View) -> (usize, usize) {
    let s = view.state;
    let t = view.theme;
    let Some(thread) = &s.thread else { return (0, 0) };
    let w = area.width as usize;
    let conversation = s.list.iter().find(|c| c.id == thread.key);
    let heading = match conversation {
        Some(c) => {
            let mut parts = vec![];
            parts.extend(c.contact.name.as_deref().map(|n| sanitize::line(n).into_owned()));
            parts.extend(c.contact.phone.as_deref().map(|n| sanitize::line(n).into_owned()));
            parts.extend(c.contact.email.as_deref().map(|n| sanitize::line(n).into_owned()));
            if parts.is_empty() {
                parts.push("(unknown contact)".into());
            }
            format!(" {} · {} · {}", parts.join(" · "), c.provider, c.channels.join(", "))
        }
        None => format!(" {}", sanitize::line(&thread.key)),
    };
    let compose = super::compose::rows(view, area.height);
    let body_rows = (area.height.saturating_sub(1 + compose)) as usize;
    let (mut lines, mut owner) = message_lines(&thread.messages, w, view);
    if !thread.complete {
        owner.insert(0, 0);
        let note = if thread.loading_older {
            "loading older messages…"
        } else {
            "older messages load as you scroll up"
        };
        lines.insert(0, Line::from(Span::styled(fit(&format!(" {note}"), w), t.dim())));
    } else if thread.messages.is_empty() {
        lines.push(Line::from(Span::styled(" Loading…", t.dim())));
    }
    let total = lines.len();
    let scroll = thread.scroll.min(total.saturating_sub(body_rows));
    let end = total - scroll;
    let start = end.saturating_sub(body_rows);
    let focused = s.focus != crate::tui::state::Focus::List;
    // Where in the conversation the view is: messages shown, of all it has.
    let loaded = thread.messages.len();
    let all = conversation.map_or(loaded, |c| (c.message_count.max(0) as usize).max(loaded));
    let position = match (owner.get(start), owner.get(end.saturating_sub(1))) {
        (Some(&a), Some(&b)) if loaded > 0 && body_rows > 0 => {
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
    out.extend(lines.into_iter().skip(start).take(body_rows));
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

fn status_label(m: &Message) -> (String, fn(&crate::tui::theme::Theme) -> Style) {
    if m.draft {
        return ("✎ draft".into(), |t| t.pending());
    }
    match m.status.as_str() {
        "received" => (String::new(), |t| t.dim()),
        "pending" | "queued" => (format!("◷ {}", m.status), |t| t.pending()),
        "sending" => ("… sending".into(), |t| t.pending()),
        "accepted" => ("◷ accepted".into(), |t| t.pending()),
        "sent" => ("✓ sent".into(), |t| t.ok()),
        "delivered" => ("✓✓ delivered".into(), |t| t.ok()),
        "read" => ("✓✓ read".into(), |t| t.ok()),
        "failed" => ("✗ failed".into(), |t| t.failed()),
        _ => ("? unknown".into(), |t| t.failed()),
    }
}

/// Every loaded message as display lines at width `w`, and for each line the index of the
/// message it belongs to.
pub fn message_lines(messages: &[Message], w: usize, view: &View) -> (Vec<Line<'static>>, Vec<usize>) {
    let t = view.theme;
    let mut lines: Vec<Line<'static>> = vec![];
    let mut owner: Vec<usize> = vec![];
    let mut last_day = String::new();
    for (index, m) in messages.iter().enumerate() {
        owner.resize(lines.len(), index.saturating_sub(1));
        let when = m.at.as_deref().and_then(|a| view.clock.parse(a));
        let day = when
            .map(|d| d.format("%a %-d %b %Y").to_string())
            .unwrap_or_else(|| "time unknown".into());
        if day != last_day {
            let rule = format!(" {day} ");
            let side = w.saturating_sub(rule.chars().count()) / 2;
            lines.push(Line::from(Span::styled(
                format!("{}{rule}{}", "─".repeat(side), "─".repeat(side)),
                t.dim(),
            )));
            last_day = day;
        }
        let (indent, glyph, dir_style) = match m.direction.as_str() {
            "inbound" => (1, "←", t.inbound()),
            "outbound" => ((w / 4).clamp(2, 30), "→", t.outbound()),
            _ => ((w / 8).clamp(2, 12), "•", t.internal()),
        };
        let inner = w.saturating_sub(indent + 2).max(10);
        let pad_str = " ".repeat(indent);
        let time = when.map(|d| d.format("%H:%M").to_string()).unwrap_or_default();
        let sender = sanitize::line(&who(m.sender.as_deref().unwrap_or(""), &view.state.people)).into_owned();
        let (status, status_style) = status_label(m);
        let channel = sanitize::line(&m.channel).replace('_', " ");
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
        if let (Some(detail), true) = (&m.status_detail, matches!(m.status.as_str(), "failed" | "unknown")) {
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
            let duration = call
                .duration_s
                .filter(|d| *d > 0)
                .map(|d| format!(" {}:{:02}", d / 60, d % 60))
                .unwrap_or_default();
            let detail = call
                .outcome_detail
                .as_deref()
                .map(|d| format!(" ({})", sanitize::line(d)))
                .unwrap_or_default();
            lines.push(bar(
                t.plain(),
                format!("☎ call {}{detail}{duration}", call.outcome.replace('_', " ")),
            ));
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
            let size = a.size.map(human_size).map(|s| format!(", {s}")).unwrap_or_default();
            let text = format!(
                "📎 {} ({}{size}) {}",
                sanitize::line(a.name.as_deref().unwrap_or("attachment")),
                sanitize::line(a.mime.as_deref().unwrap_or("unknown type")),
                sanitize::line(a.url.as_deref().unwrap_or(""))
            );
            lines.push(bar(t.dim(), fit(text.trim_end(), inner)));
        }
        lines.push(Line::default());
        owner.resize(lines.len(), index);
    }
    (lines, owner)
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
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
