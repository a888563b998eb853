//! The reply pane under the thread: a one-line summary when the thread has the focus; the editor
//! (soft-wrapped), the subject for email, SMS length and parts, and the send options when typing.

use super::View;
use crate::model::Channel;
use crate::outbox::{SendOptions, vendor_name};
use crate::sanitize;
use crate::send::sms;
use crate::tui::compose::{Compose, Field, Stage};
use crate::tui::keymap::Command;
use crate::tui::state::Focus;
use crate::width::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Rows the pane takes from a thread area `height` rows tall. While a reply is being written the
/// thread gives way first: the pane keeps its border, subject, text and question line down to the
/// smallest terminal the inbox draws in.
pub fn rows(view: &View, height: u16) -> u16 {
    if view.state.focus != Focus::Compose {
        return if height >= 9 { 3 } else { 0 };
    }
    let c = view.state.compose.as_ref();
    let lines = c.map_or(1, |c| c.body.0.lines().len() as u16);
    let subject = c.is_some_and(|c| c.is_email()) as u16;
    // Border, subject, the text (3 rows when there is room, else 1), the options/question line;
    // the thread keeps its heading row.
    let room = height.saturating_sub(1);
    let want = 1 + subject + lines.clamp(3, 12) + 1;
    if want <= room.max(height / 2) && want <= room {
        want
    } else {
        room.min(want).max(1 + subject + 1 + 1).min(height)
    }
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
        let cannot_send = s.sending_disabled.as_ref().or(c.addressing.no_credentials.as_ref());
        if let Some(why) = cannot_send.filter(|_| c.addressing.blocked.is_none()) {
            lines.push(Line::from(Span::styled(
                format!(" {}", sanitize::line(why)),
                t.failed(),
            )));
        } else if c.addressing.blocked.is_none() {
            lines.push(Line::from(Span::styled(format!(" {}", settings_line(c)), t.dim())));
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
    if c.is_email() {
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
    render_editor(frame, body, &c.body, c.field == Field::Body || !c.is_email(), t);
    let last = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: 1,
        ..inner
    };
    let bottom = match c.stage {
        Stage::Writing if c.options_open => Line::from(vec![
            Span::styled(" options: ", t.title()),
            Span::raw(options_keys(&c.options, &c.channel, view)),
            Span::styled(" · esc done", t.dim()),
        ]),
        Stage::Confirming => Line::from(vec![
            Span::styled(
                format!(
                    " Send this {} to {}? ",
                    match c.channel {
                        Channel::Sms => "text".to_string(),
                        Channel::Email => "email".to_string(),
                        _ => format!("{} message", channel_name(&c.channel)),
                    },
                    sanitize::line(c.recipient().unwrap_or(if c.has_options() {
                        "the customer's preferred contact"
                    } else {
                        "the conversation"
                    }))
                ),
                t.title(),
            ),
            Span::styled("y", t.key()),
            Span::styled(" send · other key: edit", t.dim()),
        ]),
        Stage::Submitting => Line::from(Span::styled(" handing it to the outbox…", t.pending())),
        Stage::Writing if c.addressing.no_credentials.is_some() => Line::from(Span::styled(
            format!(
                " {}",
                sanitize::line(c.addressing.no_credentials.as_deref().unwrap_or_default())
            ),
            t.failed(),
        )),
        Stage::Writing => Line::from(vec![
            Span::styled(format!(" {} ", settings_line(c)), t.dim()),
            Span::styled(key(Command::SendReply), t.key()),
            Span::styled(" send ", t.dim()),
            Span::styled(key(Command::NextChannel), t.key()),
            Span::styled(" channel ", t.dim()),
            Span::styled(key(Command::ReplyHelp), t.key()),
            Span::styled(" help", t.dim()),
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

/// How people call a channel.
pub fn channel_name(channel: &Channel) -> String {
    match channel {
        Channel::Sms => "text".into(),
        Channel::Email => "email".into(),
        Channel::Whatsapp => "WhatsApp".into(),
        Channel::Facebook => "Facebook".into(),
        Channel::Instagram => "Instagram".into(),
        Channel::Google => "Google".into(),
        Channel::LiveChat => "live chat".into(),
        other => other.as_str().replace('_', " "),
    }
}

/// "by text", "by email", "on WhatsApp".
fn channel_phrase(channel: &Channel) -> String {
    match channel {
        Channel::Sms | Channel::Email => format!("by {}", channel_name(channel)),
        other => format!("on {}", channel_name(other)),
    }
}

/// " Reply · text via myKaarma to 3108170196 · 42/160 · 1 part ".
fn title(c: &Compose, focused: bool) -> String {
    if c.addressing.blocked.is_some() {
        return " Reply ".into();
    }
    let mut title = format!(
        " Reply · {} via {}",
        channel_name(&c.channel),
        vendor_name(&c.addressing.provider)
    );
    if let Some(to) = c.recipient() {
        title.push_str(&format!(" to {}", sanitize::line(to)));
    }
    if c.channel == Channel::Sms && focused {
        title.push_str(&sms_counter(c, &c.body.text()));
    }
    title.push(' ');
    title
}

/// " · 42/160 · 1 part": a text's length as the carrier counts it, counted as the customer's phone
/// receives it (with the footer myKaarma appends).
pub fn sms_counter(c: &Compose, body: &str) -> String {
    let options = if c.has_options() {
        c.options
    } else {
        SendOptions {
            tcpa_footer: false,
            signature: false,
            footer: false,
            ..c.options
        }
    };
    let n = sms::length(&sms::as_delivered(body, &options));
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
    let extra = match (options.signature, options.footer) {
        (false, false) => "",
        _ => " + signature/footer",
    };
    format!(" · {units}{} · {parts}{extra}", if n.unicode { " unicode" } else { "" })
}

/// What the reply goes out with: myKaarma's send options, or, when the reply leaves on another
/// channel than the customer's last message, that warning first.
fn settings_line(c: &Compose) -> String {
    let mut parts = vec![];
    if let Some(theirs) = c.addressing.customer_channel.as_ref().filter(|ch| **ch != c.channel) {
        parts.push(format!(
            "⚠ the customer wrote {}; this goes out {}",
            channel_phrase(theirs),
            channel_phrase(&c.channel)
        ));
    }
    if c.has_options() {
        parts.push(options_line(&c.options, &c.channel));
    }
    parts.join(" · ")
}

/// The send options at a glance: ● on, ○ off (a glyph, not only a colour).
fn options_line(o: &SendOptions, channel: &Channel) -> String {
    let flag = |on: bool| if on { '●' } else { '○' };
    let text = *channel != Channel::Email;
    let mut parts = vec![];
    if text {
        parts.push(format!("TCPA{}", flag(o.tcpa_footer)));
    }
    parts.push(format!("sig{}", flag(o.signature)));
    parts.push(format!("footer{}", flag(o.footer)));
    if text {
        parts.push(format!("vCard{}", flag(o.vcard)));
        parts.push(format!("queue{}", flag(o.queue_if_opted_out)));
    }
    parts.push(if o.synchronous { "sync".into() } else { "async".into() });
    parts.join(" ")
}

/// The options line while it is open: each option's letter and state.
fn options_keys(o: &SendOptions, channel: &Channel, view: &View) -> String {
    let flag = |on: bool| if on { '●' } else { '○' };
    let key = |c: Command| view.keymap.key_for(c).unwrap_or("?").to_string();
    let text = *channel != Channel::Email;
    let mut parts = vec![];
    if text {
        parts.push(format!("{} TCPA{}", key(Command::ToggleTcpa), flag(o.tcpa_footer)));
    }
    parts.push(format!("{} sig{}", key(Command::ToggleSignature), flag(o.signature)));
    parts.push(format!("{} footer{}", key(Command::ToggleFooter), flag(o.footer)));
    if text {
        parts.push(format!("{} vCard{}", key(Command::ToggleVcard), flag(o.vcard)));
        parts.push(format!(
            "{} queue{}",
            key(Command::ToggleQueue),
            flag(o.queue_if_opted_out)
        ));
    }
    parts.push(format!("{} sync{}", key(Command::ToggleSync), flag(o.synchronous)));
    parts.join(" ")
}
