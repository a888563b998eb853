//! The reply pane under the thread: a one-line summary when the thread has the focus; the editor
//! (soft-wrapped), the subject for email, SMS length and parts, and the send options when typing.

use super::View;
use crate::sanitize;
use crate::send::outbox::{Protocol, SendOptions};
use crate::send::sms;
use crate::tui::compose::{Compose, Field, Stage};
use crate::tui::keymap::Command;
use crate::tui::state::Focus;
use crate::width::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Rows the pane takes from a thread area `height` rows tall.
pub fn rows(view: &View, height: u16) -> u16 {
    if height <= 12 {
        return 0;
    }
    if view.state.focus != Focus::Compose {
        return 3;
    }
    let c = view.state.compose.as_ref();
    let lines = c.map_or(1, |c| c.body.0.lines().len() as u16);
    let subject = c.is_some_and(|c| c.protocol == Protocol::Email) as u16;
    // Border, subject, the text (at least 3 rows), the options line; never more than half.
    (1 + subject + lines.clamp(3, 12) + 1).min(height / 2)
}

pub fn draw(frame: &mut Frame, pane: Rect, view: &View) {
    let t = view.theme;
    let s = view.state;
    let w = pane.width as usize;
    let key = |c: Command| view.keymap.key_for(c).unwrap_or("?").to_string();
    let Some(c) = &s.compose else {
        let block = Block::default()
            .borders(Borders::TOP)
            .title(" Reply ")
            .border_style(t.dim());
        frame.render_widget(Paragraph::new(Span::styled(" loading…", t.dim())).block(block), pane);
        return;
    };
    let focused = s.focus == Focus::Compose;
    let block = Block::default()
        .borders(Borders::TOP)
        .title(fit(&title(c, focused), w.saturating_sub(4)))
        .border_style(if focused { t.title() } else { t.dim() });
    let inner = block.inner(pane);
    frame.render_widget(block, pane);
    if inner.height == 0 {
        return;
    }
    if !focused {
        let first = match (&c.addressing.blocked, c.is_empty()) {
            (Some(why), _) => Line::from(Span::styled(format!(" {}", sanitize::line(why)), t.dim())),
            (None, true) => Line::from(vec![
                Span::styled(format!(" {}", key(Command::Reply)), t.key()),
                Span::styled(" write a reply", t.dim()),
            ]),
            (None, false) => Line::from(vec![
                Span::styled(" draft: ", t.pending()),
                Span::raw(sanitize::line(&c.body.text().replace('\n', " ")).into_owned()),
            ]),
        };
        let mut lines = vec![first];
        if let Some(why) = s.sending_disabled.as_ref().filter(|_| c.addressing.blocked.is_none()) {
            lines.push(Line::from(Span::styled(
                format!(" {}", sanitize::line(why)),
                t.failed(),
            )));
        } else if c.addressing.blocked.is_none() {
            lines.push(Line::from(Span::styled(
                format!(" {}", options_line(&c.options, c.protocol)),
                t.dim(),
            )));
        }
        let lines: Vec<Line> = lines.into_iter().map(|l| Line::from(fit(&l.to_string(), w))).collect();
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    // One column of margin, as the thread has.
    let mut area = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(1),
        ..inner
    };
    if c.protocol == Protocol::Email {
        let row = Rect { height: 1, ..area };
        let label = "Subject: ";
        frame.render_widget(Paragraph::new(Span::styled(label, t.key())), row);
        let field = Rect {
            x: row.x + label.len() as u16,
            width: row.width.saturating_sub(label.len() as u16),
            ..row
        };
        render_editor(frame, field, &c.subject, c.field == Field::Subject, t);
        area.y += 1;
        area.height = area.height.saturating_sub(1);
    }
    let body = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    render_editor(
        frame,
        body,
        &c.body,
        c.field == Field::Body || c.protocol == Protocol::Text,
        t,
    );
    let last = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: 1,
        ..inner
    };
    let bottom = match c.stage {
        Stage::Confirming => Line::from(vec![
            Span::styled(
                format!(
                    " Send this {} to {}? ",
                    if c.protocol == Protocol::Text { "text" } else { "email" },
                    sanitize::line(c.recipient().unwrap_or("the customer's preferred contact"))
                ),
                t.title(),
            ),
            Span::styled("y", t.key()),
            Span::styled(" send · any other key keeps editing", t.dim()),
        ]),
        Stage::Submitting => Line::from(Span::styled(" handing it to the outbox…", t.pending())),
        Stage::Writing => Line::from(vec![
            Span::styled(format!(" {} ", options_line(&c.options, c.protocol)), t.dim()),
            Span::styled(key(Command::SendReply), t.key()),
            Span::styled(" send ", t.dim()),
            Span::styled(key(Command::ToggleProtocol), t.key()),
            Span::styled(" text/email ", t.dim()),
            Span::styled("alt-s/f/t/v/q/y", t.key()),
            Span::styled(" options", t.dim()),
        ]),
    };
    let bottom = if bottom.width() > w {
        Line::from(Span::styled(fit(&bottom.to_string(), w), t.dim()))
    } else {
        bottom
    };
    frame.render_widget(Paragraph::new(bottom), last);
}

fn render_editor(
    frame: &mut Frame,
    area: Rect,
    editor: &crate::tui::compose::Editor,
    active: bool,
    t: crate::tui::theme::Theme,
) {
    let mut e = editor.0.clone();
    e.set_cursor_line_style(ratatui::style::Style::default());
    e.set_cursor_style(if active {
        t.cursor()
    } else {
        ratatui::style::Style::default()
    });
    frame.render_widget(&e, area);
}

/// " Reply · TEXT to 3108170196 · 42/160 · 1 part ".
fn title(c: &Compose, focused: bool) -> String {
    if c.addressing.blocked.is_some() {
        return " Reply ".into();
    }
    let to = sanitize::line(c.recipient().unwrap_or("preferred contact")).into_owned();
    let mut title = format!(" Reply · {} to {to}", c.protocol.as_str());
    if c.protocol == Protocol::Text && focused {
        let n = sms::length(&c.body.text());
        let parts = if n.segments == 1 {
            "1 part".to_string()
        } else {
            format!("{} parts", n.segments)
        };
        let units = if n.segments <= 1 {
            format!("{}/{}", n.units, n.per_segment)
        } else {
            n.units.to_string()
        };
        title.push_str(&format!(
            " · {units}{} · {parts}",
            if n.unicode { " unicode" } else { "" }
        ));
    }
    title.push(' ');
    title
}

/// The send options at a glance: ● on, ○ off (a glyph, not only a colour).
fn options_line(o: &SendOptions, protocol: Protocol) -> String {
    let flag = |on: bool| if on { '●' } else { '○' };
    let mut parts = vec![];
    if protocol == Protocol::Text {
        parts.push(format!("TCPA{}", flag(o.tcpa_footer)));
    }
    parts.push(format!("sig{}", flag(o.signature)));
    parts.push(format!("footer{}", flag(o.footer)));
    if protocol == Protocol::Text {
        parts.push(format!("vCard{}", flag(o.vcard)));
        parts.push(format!("queue{}", flag(o.queue_if_opted_out)));
    }
    parts.push(if o.synchronous { "sync".into() } else { "async".into() });
    parts.join(" ")
}
