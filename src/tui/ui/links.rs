//! The link picker: every URL in the open thread (attachments, recordings, links in the text),
//! whole, newest first; the chosen one goes to the clipboard and is shown in full.

use super::View;
use crate::sanitize;
use crate::tui::state::LinkPicker;
use crate::width::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(frame: &mut Frame, area: Rect, picker: &LinkPicker, view: &View) {
    let t = view.theme;
    let popup_w = area.width.saturating_sub(2).min(100);
    let inner = popup_w.saturating_sub(2) as usize;
    let mut lines = vec![];
    if picker.links.is_empty() {
        lines.push(Line::from(Span::styled(" No links in the loaded messages.", t.dim())));
    }
    // Two rows a link: its label, then the address (cut here; whole once chosen).
    let room = (area.height.saturating_sub(5) as usize / 2).max(1);
    let first = picker.selected.saturating_sub(room.saturating_sub(1));
    for (i, link) in picker.links.iter().enumerate().skip(first).take(room) {
        let style = if i == picker.selected { t.selected() } else { t.plain() };
        let number = if i < 9 { format!("{} ", i + 1) } else { "  ".into() };
        lines.push(Line::from(Span::styled(
            fit(&format!(" {number}{}", sanitize::line(&link.label)), inner),
            style,
        )));
        lines.push(Line::from(Span::styled(
            fit(&format!("     {}", sanitize::line(&link.url)), inner),
            t.dim(),
        )));
    }
    super::popup(
        frame,
        area,
        popup_w,
        format!(" Links · {} ", picker.links.len()),
        lines,
        " enter/1-9 copy and show whole · j/k move · esc close",
        view,
    );
}
