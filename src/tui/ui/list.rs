//! The conversation list: one row per conversation, newest activity first.

use super::{View, channel_glyph};
use crate::sanitize;
use crate::tui::state::Focus;
use crate::width::{fit, pad};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the list; returns how many rows it shows.
pub fn draw(frame: &mut Frame, area: Rect, view: &View) -> usize {
    let s = view.state;
    let t = view.theme;
    let w = area.width as usize;
    let mut lines: Vec<Line> = vec![];
    let count = if s.list_complete {
        s.list.len().to_string()
    } else {
        format!("{}+", s.list.len())
    };
    let position = if s.list.is_empty() {
        count
    } else {
        format!("{}/{count}", s.selected + 1)
    };
    let mut title = format!(" Conversations · {} · {position}", s.filter_word());
    if let Some(q) = &s.search {
        title.push_str(&format!(" · /{}", sanitize::line(q)));
    }
    let focused = s.focus == Focus::List;
    lines.push(Line::from(Span::styled(
        pad(&title, w),
        if focused { t.title() } else { t.dim() },
    )));
    let rows = (area.height as usize).saturating_sub(1);
    if s.list.is_empty() {
        let text = if !s.loaded_once {
            "Loading…".to_string()
        } else if s.search.is_some() || s.filter != 0 {
            "Nothing matches. Esc clears the search and the filter.".to_string()
        } else {
            "No conversations yet. Import events (switchboard import FILE) or point a vendor's webhooks at `switchboard serve`.".to_string()
        };
        for chunk in textwrap::wrap(&text, w.saturating_sub(2).max(10)) {
            lines.push(Line::from(Span::styled(format!(" {chunk}"), t.dim())));
        }
    }
    // The window is made valid here too: the frame after a resize must not wait for `update`.
    let first = crate::tui::update::list_window(s.selected, s.list_offset, rows, s.list.len());
    for (i, c) in s.list.iter().enumerate().skip(first).take(rows) {
        let selected = i == s.selected;
        let unread = c.unread > 0;
        let contact = sanitize::line(c.contact.display().unwrap_or("(unknown contact)")).into_owned();
        // Narrow (side by side with the thread): the channel as glyphs, so the preview keeps room.
        let narrow = w < 60;
        let channel = match c.channels.as_slice() {
            _ if narrow => c.channels.iter().take(2).map(|c| channel_glyph(c)).collect::<String>(),
            [] => "? none".to_string(),
            [one] => format!("{} {}", channel_glyph(one), one.as_str().replace('_', " ")),
            [first, rest @ ..] => format!(
                "{}{} {}+{}",
                channel_glyph(first),
                rest.iter().take(2).map(|c| channel_glyph(c)).collect::<String>(),
                first.as_str().replace('_', " "),
                rest.len()
            ),
        };
        let now = crate::model::timestamp(s.now_ms).unwrap_or_default();
        let when = c
            .last_activity
            .as_ref()
            .map(|t| view.clock.ago(&now, t))
            .unwrap_or_default();
        let unread_mark = if unread {
            format!("●{}", c.unread.min(99))
        } else {
            String::new()
        };
        let fail_mark = if c.failed_count > 0 {
            format!("✗{}", c.failed_count.min(99))
        } else {
            String::new()
        };
        // Who has it: "me", a first name (initials when the list is narrow), or the end of a vendor
        // id for someone not under [team].
        let assignee_w = match w {
            70.. => 9,
            40.. => 3,
            _ => 0,
        };
        let assignee = match c.assignee.as_deref() {
            Some(token) if s.team.is_me(token) => "@me".to_string(),
            Some(token) => match s.team.name_of(token) {
                Some(name) if assignee_w < 9 => {
                    format!(
                        "@{}",
                        name.split_whitespace()
                            .filter_map(|w| w.chars().next())
                            .take(2)
                            .collect::<String>()
                    )
                }
                Some(name) => format!("@{}", name.split_whitespace().next().unwrap_or("")),
                None if assignee_w < 9 => "@?".to_string(),
                None => format!(
                    "@…{}",
                    token
                        .chars()
                        .rev()
                        .take(4)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<String>()
                ),
            },
            None => String::new(),
        };
        let assignee = sanitize::line(&assignee).into_owned();
        // Fixed columns; the preview takes what is left.
        let contact_w = (w / 4).clamp(10, 22);
        let channel_w = if narrow { 2 } else { 11 };
        let right = format!("{when:>5} {unread_mark:>3} {fail_mark:>3}");
        let preview_w = w.saturating_sub(
            2 + contact_w + 1 + channel_w + 1 + right.chars().count() + 1 + assignee_w + (assignee_w > 0) as usize,
        );
        let preview = sanitize::line(c.preview.as_deref().unwrap_or("")).into_owned();
        let marker = if selected { "▶" } else { " " };
        let row_style = if selected { t.selected() } else { t.plain() };
        // The selected row is one even bar, as in mutt or htop: colours reversed column by column
        // read as patches, and each change of colour is bytes sent again at every move.
        let column = |style: Style| if selected { row_style } else { style };
        // Blank marks take no style: a style on spaces is drawn as nothing but costs its bytes.
        let mark = |text: &str, style: Style| if text.is_empty() { row_style } else { column(style) };
        let mut spans = vec![
            Span::styled(format!("{marker} "), row_style),
            Span::styled(
                pad(&contact, contact_w),
                column(if unread { t.unread() } else { row_style }),
            ),
            Span::styled(" ", row_style),
            Span::styled(pad(&channel, channel_w), column(t.dim())),
            Span::styled(" ", row_style),
        ];
        if assignee_w > 0 {
            spans.push(Span::styled(pad(&assignee, assignee_w), mark(&assignee, t.dim())));
            spans.push(Span::styled(" ", row_style));
        }
        spans.extend([
            Span::styled(pad(&preview, preview_w), row_style),
            Span::styled(format!(" {when:>5} "), column(t.dim())),
            Span::styled(format!("{unread_mark:>3}"), mark(&unread_mark, t.unread())),
            Span::styled(" ", row_style),
            Span::styled(format!("{fail_mark:>3}"), mark(&fail_mark, t.failed())),
        ]);
        // Whatever rounding left over, so a selected row is highlighted edge to edge.
        let used: usize = spans.iter().map(|s| crate::width::width(&s.content)).sum();
        if used < w {
            spans.push(Span::styled(" ".repeat(w - used), row_style));
        }
        lines.push(Line::from(spans));
    }
    if s.list_loading && s.loaded_once && lines.len() < area.height as usize {
        lines.push(Line::from(Span::styled(fit(" loading…", w), t.dim())));
    }
    frame.render_widget(Paragraph::new(lines), area);
    rows
}
