//! The help screen, generated from the keymap that routes the keys.

use super::View;
use crate::tui::keymap::Context;
use crate::width::{fit, pad, width};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draws the help; returns how far it can scroll.
pub fn draw(frame: &mut Frame, area: Rect, view: &View) -> usize {
    let t = view.theme;
    // The keys of where the user is: the list, the thread, or the reply pane.
    let here = match view.state.focus {
        crate::tui::state::Focus::List => Context::List,
        crate::tui::state::Focus::Thread => Context::Thread,
        crate::tui::state::Focus::Compose => Context::Compose,
    };
    let bindings: Vec<_> = view
        .keymap
        .bindings
        .iter()
        .filter(|b| {
            b.context == here
                || (b.context == Context::Everywhere && here.takes_everywhere())
                || (b.context == Context::Options && here == Context::Compose)
        })
        .collect();
    let popup_w = area.width.saturating_sub(4).min(80);
    let inner = popup_w.saturating_sub(2) as usize;
    let longest = bindings.iter().map(|b| width(&b.keys.join(" / "))).max().unwrap_or(0);
    let keys_w = (longest + 3).min(inner / 2);
    let mut lines = vec![];
    for b in &bindings {
        let keys = b.keys.join(" / ");
        let scope = match b.context {
            Context::Everywhere => "",
            Context::List => " (list)",
            Context::Thread => " (thread)",
            Context::Compose => "",
            Context::Options => " (options)",
        };
        let text = format!("{}{scope}", b.help);
        for (i, chunk) in textwrap::wrap(&text, inner.saturating_sub(keys_w).max(10))
            .into_iter()
            .enumerate()
        {
            let keys_cell = if i == 0 {
                format!(" {}", fit(&keys, keys_w.saturating_sub(2)))
            } else {
                String::new()
            };
            lines.push(Line::from(vec![
                Span::styled(pad(&keys_cell, keys_w), t.key()),
                Span::raw(chunk.into_owned()),
            ]));
        }
    }
    lines.push(Line::default());
    for chunk in textwrap::wrap(
        "Keys can be changed under [keys] in the config file. j/k scroll; any other key closes this.",
        inner.saturating_sub(1).max(10),
    ) {
        lines.push(Line::from(Span::styled(format!(" {chunk}"), t.dim())));
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let rows = height.saturating_sub(2) as usize;
    let max_scroll = lines.len().saturating_sub(rows);
    let scroll = view.state.help_scroll.min(max_scroll);
    let title = if max_scroll > 0 {
        format!(
            " Help · {}–{} of {} · j/k scroll ",
            scroll + 1,
            scroll + rows,
            lines.len()
        )
    } else {
        " Help ".to_string()
    };
    let lines: Vec<Line> = lines.into_iter().skip(scroll).take(rows).collect();
    let popup = Rect {
        x: area.x + (area.width - popup_w) / 2,
        y: area.y + (area.height - height) / 2,
        width: popup_w,
        height,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(fit(&title, popup_w.saturating_sub(2) as usize));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
    max_scroll
}
