//! Human output of each command. Every vendor string is sanitised before it is printed.

use super::table::Table;
use crate::import::ImportSummary;
use crate::model::{Conversation, Direction, Message, Timestamp, channel_label, rfc3339};
use crate::sanitize;
use crate::store::{EventRow, FailureRow};
use crate::when::Clock;
use crate::width::human_size;
use std::io::{self, Write};

pub fn import_summary(out: &mut dyn Write, s: &ImportSummary) -> io::Result<()> {
    let r = &s.report;
    writeln!(
        out,
        "imported {}, duplicates {}, ignored {}, rejected {} ({:.0} events/s over {:.2}s)",
        r.imported, r.duplicates, r.ignored, r.rejected, s.events_per_second, s.seconds
    )?;
    if r.rejected > 0 {
        writeln!(out, "see why with: switchboard events --rejected")?;
    }
    Ok(())
}

/// A key short enough to type; `thread` accepts any unambiguous prefix.
fn short_key(key: &str) -> String {
    const MAX: usize = 20;
    if key.chars().count() <= MAX {
        key.to_string()
    } else {
        key.chars().take(MAX).collect()
    }
}

/// "5m", "3h", "2d", or the date; "-" when the time is not known.
pub fn ago(t: Option<&Timestamp>) -> String {
    t.map_or_else(|| "-".into(), |t| Clock::local().ago(&chrono::Utc::now(), t))
}

fn contact_label(c: &crate::model::Contact) -> String {
    c.display().unwrap_or("(unknown contact)").to_string()
}

pub fn conversations(out: &mut dyn Write, list: &[Conversation], team: &crate::team::Team) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "no conversations");
    }
    let mut t = Table::new(&[
        ("ID", 20, 20),
        ("CONTACT", 12, 24),
        ("CHANNELS", 8, 18),
        ("LAST", 4, 10),
        ("NEW", 3, 6),
        ("FAIL", 4, 6),
        ("ASSIGNEE", 8, 16),
        ("PREVIEW", 16, 200),
    ]);
    for c in list {
        t.row(vec![
            short_key(&c.conversation_key),
            contact_label(&c.contact),
            c.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
            ago(c.last_activity.as_ref()),
            if c.unread > 0 {
                c.unread.to_string()
            } else {
                String::new()
            },
            if c.failed_count > 0 {
                format!("!{}", c.failed_count)
            } else {
                String::new()
            },
            c.assignee.as_deref().map(|a| team.label(a)).unwrap_or_default(),
            c.preview.clone().unwrap_or_default(),
        ]);
    }
    t.write(out)
}

fn glyph(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "←",
        Direction::Outbound => "→",
        Direction::Internal => "•",
    }
}

pub fn thread(out: &mut dyn Write, c: &Conversation, messages: &[Message]) -> io::Result<()> {
    let s = |x: &str| sanitize::line(x).into_owned();
    let mut contact = vec![];
    contact.extend(c.contact.name.as_deref().map(s));
    contact.extend(c.contact.phone.as_deref().map(s));
    contact.extend(c.contact.email.as_deref().map(s));
    writeln!(
        out,
        "{} — {} ({} messages)",
        s(&c.conversation_key),
        contact.join(" · "),
        c.message_count
    )?;
    for m in messages {
        let at =
            m.at.as_ref()
                .map(|t| rfc3339(t).replace('T', " ").trim_end_matches('Z').to_string())
                .unwrap_or("-".into());
        let status = if m.draft { "draft" } else { m.status.as_str() };
        writeln!(
            out,
            "\n{at}  {} {} {}  {}  [{}]{}",
            glyph(m.direction),
            m.direction,
            s(&channel_label(&m.channel)),
            s(m.sender.as_deref().unwrap_or("")),
            status,
            if m.deleted { " (deleted)" } else { "" }
        )?;
        if let Some(detail) = &m.status_detail {
            writeln!(out, "    ! {}", s(detail))?;
        }
        if let Some(subject) = &m.subject {
            writeln!(out, "    Subject: {}", s(subject))?;
        }
        if let Some(body) = &m.body {
            for line in sanitize::text(body).lines() {
                writeln!(out, "    {line}")?;
            }
        }
        for a in &m.attachments {
            let size = a.size.map(|b| format!(", {}", human_size(b))).unwrap_or_default();
            writeln!(
                out,
                "    📎 {} ({}{size}) {}",
                s(a.name.as_deref().unwrap_or("attachment")),
                s(a.mime.as_deref().unwrap_or("unknown type")),
                s(a.url.as_deref().unwrap_or(""))
            )?;
        }
        if let Some(call) = &m.call {
            writeln!(out, "    ☎ {}", call.summary())?;
            if let Some(url) = &call.recording_url {
                writeln!(out, "      recording: {}", s(url))?;
            }
            if let Some(text) = &call.transcript {
                writeln!(out, "      transcript: {}", s(text))?;
            }
        }
    }
    Ok(())
}

pub fn failures(out: &mut dyn Write, rows: &[FailureRow]) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no failed deliveries");
    }
    let mut t = Table::new(&[
        ("WHEN", 4, 10),
        ("CONVERSATION", 20, 20),
        ("CONTACT", 10, 24),
        ("CHANNEL", 5, 10),
        ("STATUS", 6, 8),
        ("REASON", 20, 200),
    ]);
    for r in rows {
        t.row(vec![
            ago(r.message.at.as_ref()),
            short_key(&r.conversation_key),
            contact_label(&r.contact),
            channel_label(&r.message.channel).into_owned(),
            r.message.status.to_string(),
            r.message
                .status_detail
                .clone()
                .unwrap_or_else(|| "no reason given".into()),
        ]);
    }
    t.write(out)
}

pub fn events(out: &mut dyn Write, rows: &[EventRow]) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no events");
    }
    let mut t = Table::new(&[
        ("ID", 8, 8),
        ("RECEIVED", 10, 20),
        ("SOURCE", 6, 8),
        ("PROVIDER", 8, 9),
        ("TYPE", 8, 24),
        ("OUTCOME", 8, 8),
        ("SIZE", 6, 9),
        ("REASON", 20, 200),
    ]);
    for r in rows {
        t.row(vec![
            r.id.to_string(),
            r.received_at.clone(),
            r.source.clone(),
            r.provider.clone(),
            r.event_type.clone().unwrap_or_default(),
            r.outcome.clone(),
            human_size(r.size.max(0) as u64),
            r.reason.clone().unwrap_or_default(),
        ]);
    }
    t.write(out)
}
