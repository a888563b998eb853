//! The template picker over the reply pane: the templates by name, and the selected one as it will
//! read in this conversation, with what the text's length becomes and any variable not known here.

use super::View;
use crate::model::Channel;
use crate::sanitize;
use crate::width::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(frame: &mut Frame, area: Rect, selected: usize, view: &View) {
    let s = view.state;
    let t = view.theme;
    let popup_w = area.width.saturating_sub(2).min(90);
    let inner = popup_w.saturating_sub(2) as usize;
    let vars = s.template_vars();
    let mut lines = vec![];
    // The names take what room the preview leaves (at least three rows).
    let name_rows = (area.height.saturating_sub(10) as usize).clamp(3, 9);
    let first = selected.saturating_sub(name_rows.saturating_sub(1));
    for (i, template) in s.templates.iter().enumerate().skip(first).take(name_rows) {
        let style = if i == selected { t.selected() } else { t.plain() };
        let number = if i < 9 { format!("{} ", i + 1) } else { "  ".into() };
        lines.push(Line::from(Span::styled(
            fit(&format!(" {number}{}", sanitize::line(&template.name)), inner),
            style,
        )));
    }
    lines.push(Line::from(Span::styled("─".repeat(inner), t.dim())));
    if let Some(template) = s.templates.get(selected) {
        let expanded = crate::templates::expand(&template.body, &vars);
        let preview_rows = (area.height as usize).saturating_sub(lines.len() + 6).max(1);
        let text = sanitize::text(&expanded.text);
        let wrapped: Vec<String> = text
            .split('\n')
            .flat_map(|l| {
                textwrap::wrap(l, inner.saturating_sub(2).max(10))
                    .into_iter()
                    .map(|w| w.into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        for (n, line) in wrapped.iter().enumerate() {
            if n + 1 == preview_rows && wrapped.len() > preview_rows {
                lines.push(Line::from(Span::styled(fit(&format!(" {line} …"), inner), t.plain())));
                break;
            }
            lines.push(Line::from(Span::styled(format!(" {line}"), t.plain())));
        }
        if let Some(c) = &s.compose {
            let added = expanded.text.chars().count();
            let mut facts = format!(" adds {added} characters");
            if c.channel == Channel::Sms {
                let after = format!("{}{}", c.body.text(), expanded.text);
                facts.push_str(&format!(
                    "; the text becomes{}",
                    super::compose::sms_counter(c, &after).replacen(" ·", "", 1)
                ));
            }
            lines.push(Line::from(Span::styled(fit(&facts, inner), t.dim())));
        }
        if !expanded.unknown.is_empty() {
            let names: Vec<String> = expanded.unknown.iter().map(|v| format!("{{{v}}}")).collect();
            lines.push(Line::from(Span::styled(
                fit(
                    &format!(" ⚠ not known here: {} — fill in before sending", names.join(", ")),
                    inner,
                ),
                t.failed(),
            )));
        }
    }
    super::popup(
        frame,
        area,
        popup_w,
        format!(" Templates · {} ", s.templates.len()),
        lines,
        " enter/1-9 insert at the cursor · j/k move · esc close",
        view,
    );
}
