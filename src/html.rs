//! HTML email → readable plain text, for display, previews and search. The HTML itself is kept too.
//!
//! A customer can send an email nested 100,000 elements deep, and the vendor will sign and forward
//! it; a full renderer takes time that grows with the square of the depth (15 s at 40,000). So a
//! linear scan decides first: ordinary email goes to the full renderer; anything nested deeper than
//! `MAX_DEPTH` or larger than `MAX_RENDER_BYTES` gets the linear fallback, which keeps the words,
//! the line breaks of block elements and the entities, and drops scripts and styles.

/// Render wide enough that the text is wrapped by the screen that shows it, not here.
const RENDER_WIDTH: usize = 4000;
/// Deeper than this (counting unclosed tags as open, so an over-estimate), the linear fallback.
pub const MAX_DEPTH: usize = 400;
/// Larger than this, the linear fallback.
pub const MAX_RENDER_BYTES: usize = 512 * 1024;

/// How a body will be turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The full renderer (links as footnotes, tables laid out).
    Full,
    /// The linear fallback.
    Linear,
}

/// Which renderer a body gets, decided in one linear pass.
pub fn plan(html: &str) -> Plan {
    if html.len() > MAX_RENDER_BYTES || nesting_depth(html, MAX_DEPTH + 1) > MAX_DEPTH {
        Plan::Linear
    } else {
        Plan::Full
    }
}

/// Elements that never hold others.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
];

/// The deepest nesting of elements, counting up to `stop` (a linear scan; unclosed tags count as
/// open, which over-estimates, never under).
fn nesting_depth(html: &str, stop: usize) -> usize {
    let b = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() && deepest < stop {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let closing = b.get(i + 1) == Some(&b'/');
        let start = i + 1 + closing as usize;
        let name_len = b[start..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        if name_len == 0 {
            i += 1;
            continue;
        }
        let name = html[start..start + name_len].to_ascii_lowercase();
        let end = b[start..]
            .iter()
            .position(|c| *c == b'>')
            .map_or(b.len(), |p| start + p);
        let self_closing = end > 0 && b.get(end - 1) == Some(&b'/');
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing && !VOID.contains(&name.as_str()) {
            depth += 1;
            deepest = deepest.max(depth);
        }
        i = end + 1;
    }
    deepest
}

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
    let rendered = match plan(html) {
        Plan::Full => html2text::config::plain_no_decorate()
            .link_footnotes(true)
            .string_from_read(html.as_bytes(), RENDER_WIDTH)
            .unwrap_or_else(|_| linear_text(html)),
        Plan::Linear => linear_text(html),
    };
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

/// The linear fallback (and the last resort when the renderer fails): text between tags, a line
/// break for block elements and `<br>`, entities decoded, script and style contents dropped.
fn linear_text(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "br",
        "p",
        "div",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "blockquote",
    ];
    let mut out = String::with_capacity(html.len().min(1 << 20));
    let mut rest = html;
    let mut skipping: Option<&str> = None;
    while let Some(open) = rest.find('<') {
        if skipping.is_none() {
            push_decoded(&mut out, &rest[..open]);
        }
        let tag_end = rest[open..].find('>').map_or(rest.len(), |p| open + p + 1);
        let tag = &rest[open + 1..tag_end.saturating_sub(1).max(open + 1)];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match (skipping, closing, name.as_str()) {
            (Some(inside), true, n) if n == inside => skipping = None,
            (Some(_), _, _) => {}
            (None, false, "script") => skipping = Some("script"),
            (None, false, "style") => skipping = Some("style"),
            (None, _, n) if BLOCKS.contains(&n) => out.push('\n'),
            _ => {}
        }
        rest = &rest[tag_end..];
    }
    if skipping.is_none() {
        push_decoded(&mut out, rest);
    }
    out
}

/// Text with the common entities decoded (`&amp;`, `&nbsp;`, `&#233;`, `&#x1F44D;`, …).
fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
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
    fn deep_or_huge_html_takes_the_linear_road_and_stays_readable() {
        let deep = format!(
            "{}Thanks for the quote!{}",
            "<ul><li>".repeat(100_000),
            "</li></ul>".repeat(100_000)
        );
        assert_eq!(plan(&deep), Plan::Linear);
        assert_eq!(to_text(&deep), "Thanks for the quote!");
        let divs = format!(
            "{}Call me &amp; text me{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        assert_eq!(to_text(&divs), "Call me & text me");
        // Ordinary email still gets the full renderer.
        assert_eq!(
            plan("<div><p>Hello <b>Maria</b></p><table><tr><td>x</td></tr></table></div>"),
            Plan::Full
        );
        assert_eq!(plan(&"<br>".repeat(10_000)), Plan::Full, "void elements do not nest");
        let big = format!("<p>{}</p><script>evil()</script>", "word ".repeat(200_000));
        assert_eq!(plan(&big), Plan::Linear);
        let text = to_text(&big);
        assert!(
            text.starts_with("word word") && !text.contains("evil"),
            "{}",
            &text[..40]
        );
        assert_eq!(
            linear_text("a&#233;b &#x1F44D; &bogus; <br>c"),
            "a\u{e9}b \u{1F44D} &bogus; \nc"
        );
    }

    #[test]
    fn plain_text_with_angle_brackets_is_not_html() {
        assert!(!looks_like_html("price < 500 and > 200"));
        assert!(looks_like_html("<DIV>hi</DIV>"));
    }
}
