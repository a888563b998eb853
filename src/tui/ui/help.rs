//! The help screen, generated from the keymap that routes the keys.

use super::View;
use crate::tui::keymap::Context;
use crate::width::pad;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, view: &View) {
    let t = view.theme;
    let bindings = &view.keymap.bindings;
    let width = area.width.saturating_sub(4).min(76);
    let height = (bindings.len() as u16 + 6).min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let keys_w = 26;
    let mut lines = vec![];
    for b in bindings {
        let keys = b.keys.join(" / ");
        let scope = match b.context {
            Context::Everywhere => "",
            Context::List => " (list)",
            Context::Thread => " (thread)",
        };
        lines.push(Line::from(vec![
            Span::styled(pad(&format!(" {keys}"), keys_w), t.key()),
            Span::raw(format!("{}{scope}", b.help)),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " Keys can be changed under [keys] in the config file. Any key closes this.",
        t.dim(),
    )));
    let block = Block::default().borders(Borders::ALL).title(" Help ");
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
