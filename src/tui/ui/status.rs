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
    let mode = match (s.input.is_some(), s.help, s.focus) {
        (true, _, _) => "SEARCH",
        (_, true, _) => "HELP",
        (_, _, Focus::List) => "LIST",
        (_, _, Focus::Thread) => "THREAD",
        (_, _, Focus::Compose) => "REPLY",
    };
    let mut parts = vec![format!(" {mode}"), format!("filter: {}", s.filter_word())];
    if let Some(q) = &s.search {
        parts.push(format!("search: {}", sanitize::line(q)));
    }
    parts.push(format!(
        "{} unread · {} failed",
        s.totals.unread_conversations, s.totals.failed_conversations
    ));
    parts.push(match &s.receiver {
        Receiver::Off => "receiver off".into(),
        Receiver::Listening(addr) => format!("receiving on {addr}"),
        Receiver::Failed(why) => format!("receiver FAILED: {}", sanitize::line(why)),
    });
    if let Some(at) = s.last_event_at {
        let secs = ((s.now_ms - at) / 1000).max(0);
        parts.push(match secs {
            s if s < 120 => format!("last event {s}s ago"),
            s if s < 7200 => format!("last event {}m ago", s / 60),
            s => format!("last event {}h ago", s / 3600),
        });
    }
    if let Some(n) = &s.notice {
        parts.push(format!("! {}", sanitize::line(n)));
    }
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(pad(&parts.join(" │ "), w), t.bar()))),
        bar,
    );

    let line = match &s.input {
        Some(input) => Line::from(vec![
            Span::styled(" Search: ", t.key()),
            Span::raw(format!("{}█", sanitize::line(input))),
            Span::styled("   enter search · esc cancel", t.dim()),
        ]),
        None => {
            let mut spans = vec![];
            let shown: &[(Command, &str)] = match s.focus {
                Focus::List => &[
                    (Command::Down, "move"),
                    (Command::Open, "open"),
                    (Command::NextFilter, "filter"),
                    (Command::Search, "search"),
                    (Command::ToggleRead, "read/unread"),
                    (Command::Help, "help"),
                    (Command::Quit, "quit"),
                ],
                Focus::Thread => &[
                    (Command::Up, "scroll"),
                    (Command::Reply, "reply"),
                    (Command::Back, "back"),
                    (Command::ToggleRead, "read/unread"),
                    (Command::Help, "help"),
                    (Command::Quit, "quit"),
                ],
                Focus::Compose => &[
                    (Command::SendReply, "send"),
                    (Command::ToggleProtocol, "text/email"),
                    (Command::ExternalEditor, "$EDITOR"),
                    (Command::LeaveReply, "back (draft kept)"),
                ],
            };
            for (command, label) in shown {
                if let Some(key) = view.keymap.key_for(*command) {
                    spans.push(Span::styled(format!(" {key}"), t.key()));
                    spans.push(Span::styled(format!(" {label} "), t.dim()));
                }
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
