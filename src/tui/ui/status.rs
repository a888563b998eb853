//! The status bar (mode, filter, counts, receiver, last event) and the hint line under it, whose
//! keys come from the keymap.

use super::View;
use crate::sanitize;
use crate::tui::keymap::Command;
use crate::tui::state::{Focus, Receiver};
use crate::width::{fit, pad};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, bar: Rect, hints: Rect, view: &View) {
    let s = view.state;
    let t = view.theme;
    let w = bar.width as usize;
    let mode = match (s.input.is_some() || s.prompt.is_some(), s.help, s.focus) {
        (true, _, _) if s.prompt.is_some() => "ASK",
        (true, _, _) => "SEARCH",
        (_, true, _) => "HELP",
        (_, _, Focus::List) => "LIST",
        (_, _, Focus::Thread) => "THREAD",
        (_, _, Focus::Compose) => "REPLY",
    };
    // (text, keep-rank): when the bar is too narrow, the highest rank goes first.
    let mut parts: Vec<(String, u8)> = vec![(format!(" {mode}"), 0)];
    if !s.team.me.name.is_empty() {
        parts.push((format!("as {}", sanitize::line(&s.team.me.name)), 3));
    }
    parts.push((format!("filter: {}", s.filter_word()), 1));
    if let Some(q) = &s.search {
        parts.push((format!("search: {}", sanitize::line(q)), 2));
    }
    parts.push((
        format!(
            "{} unread · {} failed",
            s.totals.unread_conversations, s.totals.failed_conversations
        ),
        0,
    ));
    match &s.receiver {
        Receiver::Off => {}
        Receiver::Listening(addr) => parts.push((format!("receiving on {addr}"), 5)),
        Receiver::Failed(why) => parts.push((format!("receiver FAILED: {}", sanitize::line(why)), 1)),
    }
    if let Some(at) = s.last_event_at {
        let secs = ((s.now_ms - at) / 1000).max(0);
        parts.push((
            match secs {
                s if s < 120 => format!("last event {s}s ago"),
                s if s < 7200 => format!("last event {}m ago", s / 60),
                s => format!("last event {}h ago", s / 3600),
            },
            4,
        ));
    }
    let text = fit_parts(parts, w);
    frame.render_widget(Paragraph::new(Line::from(Span::styled(pad(&text, w), t.bar()))), bar);

    let line = match (&s.input, &s.prompt) {
        (_, Some(prompt)) => Line::from(vec![
            Span::styled(format!(" {}", prompt.kind.label()), t.key()),
            Span::raw(format!("{}█", sanitize::line(&prompt.text))),
            Span::styled("   enter · esc cancel", t.dim()),
        ]),
        (Some(input), None) => Line::from(vec![
            Span::styled(" Search: ", t.key()),
            Span::raw(format!("{}█", sanitize::line(input))),
            Span::styled("   enter search · esc cancel", t.dim()),
        ]),
        (None, None) => {
            // (command, label, drop order: the highest goes first when the line is too narrow;
            // help and quit stay).
            let shown: &[(Command, &str, u8)] = match s.focus {
                Focus::List => &[
                    (Command::Down, "move", 3),
                    (Command::Open, "open", 1),
                    (Command::NextFilter, "filter", 2),
                    (Command::Search, "search", 2),
                    (Command::NextUnread, "next unread", 5),
                    (Command::Done, "done", 5),
                    (Command::ToggleRead, "read/unread", 4),
                    (Command::Help, "help", 0),
                    (Command::Quit, "quit", 0),
                ],
                Focus::Thread => &[
                    (Command::Up, "scroll", 3),
                    (Command::Reply, "reply", 1),
                    (Command::Back, "back", 1),
                    (Command::Links, "links", 2),
                    (Command::Note, "note", 5),
                    (Command::Done, "done", 5),
                    (Command::ToggleRead, "read/unread", 4),
                    (Command::Help, "help", 0),
                    (Command::Quit, "quit", 0),
                ],
                Focus::Compose => &[
                    (Command::SendReply, "send", 0),
                    (Command::LeaveReply, "back (draft kept)", 1),
                    (Command::ReplyHelp, "help", 0),
                    (Command::SendOptions, "options", 2),
                    (Command::NextChannel, "channel", 3),
                    (Command::ExternalEditor, "$EDITOR", 4),
                ],
            };
            let mut hints_shown: Vec<(String, &str, u8)> = shown
                .iter()
                .filter_map(|(c, label, rank)| Some((view.keymap.key_for(*c)?.to_string(), *label, *rank)))
                .collect();
            let width_of = |h: &[(String, &str, u8)]| {
                h.iter()
                    .map(|(k, l, _)| k.chars().count() + l.chars().count() + 3)
                    .sum::<usize>()
            };
            drop_least_useful(&mut hints_shown, |h| h.2, |h| width_of(h) <= hints.width as usize);
            let mut spans = vec![];
            for (key, label, _) in hints_shown {
                spans.push(Span::styled(format!(" {key}"), t.key()));
                spans.push(Span::styled(format!(" {label} "), t.dim()));
            }
            Line::from(spans)
        }
    };
    let line = if line.width() > hints.width as usize {
        Line::from(fit(&line.to_string(), hints.width as usize))
    } else {
        line
    };
    frame.render_widget(Paragraph::new(line), hints);
}

/// Join the parts with " │ ", dropping the least useful (highest rank) until the line fits.
fn fit_parts(mut parts: Vec<(String, u8)>, width: usize) -> String {
    let join = |parts: &[(String, u8)]| parts.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(" │ ");
    drop_least_useful(&mut parts, |p| p.1, |p| crate::width::width(&join(p)) <= width);
    fit(&join(&parts), width)
}

/// Remove items, the highest `rank` first (the later of equals first; rank 0 always stays), until
/// `fits` says the rest fit.
fn drop_least_useful<T>(items: &mut Vec<T>, rank: impl Fn(&T) -> u8, fits: impl Fn(&[T]) -> bool) {
    while !fits(items) {
        let Some(worst) = items
            .iter()
            .enumerate()
            .filter(|(_, item)| rank(item) > 0)
            .max_by_key(|(i, item)| (rank(item), *i))
            .map(|(i, _)| i)
        else {
            return;
        };
        items.remove(worst);
    }
}

#[cfg(test)]
mod tests {
    use super::fit_parts;

    #[test]
    fn the_least_useful_parts_go_first() {
        let parts = vec![
            (" LIST".to_string(), 0),
            ("filter: all".to_string(), 1),
            ("3 unread · 1 failed".to_string(), 0),
            ("receiving on 127.0.0.1:40000".to_string(), 5),
            ("last event 5s ago".to_string(), 4),
        ];
        let line = fit_parts(parts.clone(), 64);
        assert_eq!(line, " LIST │ filter: all │ 3 unread · 1 failed │ last event 5s ago");
        assert_eq!(fit_parts(parts, 30), " LIST │ 3 unread · 1 failed");
    }
}
