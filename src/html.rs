//! HTML email → readable plain text, for display, previews and search. The HTML itself is kept too.

/// Render wide enough that the text is wrapped by the screen that shows it, not here.
const RENDER_WIDTH: usize = 4000;

/// Does a body look like HTML rather than plain text that happens to contain `<`?
pub fn looks_like_html(body: &str) -> bool {
    let head = &body[..body.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    [
        "<html",
        "<body",
        "<div",
        "<p>",
        "<p ",
        "<br",
        "<table",
        "<span",
        "<a ",
        "<!doctype",
    ]
    .iter()
    .any(|tag| lower.contains(tag))
}

/// The text a reader would see, with links kept as footnotes and runs of blank lines collapsed.
pub fn to_text(html: &str) -> String {
    let rendered = html2text::config::plain_no_decorate()
        .link_footnotes(true)
        .string_from_read(html.as_bytes(), RENDER_WIDTH)
        .unwrap_or_else(|_| strip_tags(html));
    tidy(&rendered)
}

/// Trim line ends and keep at most one blank line between paragraphs.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

/// Last resort when the renderer fails: drop everything between `<` and `>`.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_html_becomes_readable_text() {
        let html = r#"<div style="font-family: verdana">Hello <b>Maria</b>,<br>your car is ready.</div>
            <p>Pick-up until 6&nbsp;pm &amp; <a href="https://dealer.example/pay">pay online</a>.</p>
            <script>alert(1)</script><style>p{color:red}</style>"#;
        let text = to_text(html);
        assert!(text.contains("Hello Maria,"), "{text}");
        assert!(text.contains("your car is ready."), "{text}");
        assert!(text.contains("pm & [pay online][1]"), "{text}");
        assert!(text.contains("[1]: https://dealer.example/pay"), "{text}");
        assert!(!text.contains("alert(1)") && !text.contains("color:red"), "{text}");
        assert!(!text.contains('<'), "{text}");
    }

    #[test]
    fn plain_text_with_angle_brackets_is_not_html() {
        assert!(!looks_like_html("price < 500 and > 200"));
        assert!(looks_like_html("<DIV>hi</DIV>"));
    }
}
