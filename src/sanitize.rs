//! Untrusted text → text that is safe to print on a terminal.
//!
//! Everything a customer or vendor sends passes through `for_terminal` before it is printed: control
//! characters become visible pictures (␛ for ESC), so no escape sequence can reach the terminal;
//! bidi overrides and invisible format characters are removed; emoji sequences (ZWJ) and ZWNJ in
//! Persian text are kept, because they render correctly.

use std::borrow::Cow;

/// One line of display text: newlines and tabs become spaces too.
pub fn line(s: &str) -> Cow<'_, str> {
    clean(s, false)
}

/// Multi-line display text: newlines are kept, tabs become spaces.
pub fn text(s: &str) -> Cow<'_, str> {
    clean(s, true)
}

fn clean(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if s.chars().all(|c| verdict(c, keep_newlines) == Verdict::Keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match verdict(c, keep_newlines) {
            Verdict::Keep => out.push(c),
            Verdict::Drop => {}
            Verdict::Space => out.push(' '),
            Verdict::Picture(p) => out.push(p),
        }
    }
    Cow::Owned(out)
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Keep,
    Drop,
    Space,
    Picture(char),
}

fn verdict(c: char, keep_newlines: bool) -> Verdict {
    match c {
        '\n' if keep_newlines => Verdict::Keep,
        '\n' | '\t' => Verdict::Space,
        '\r' => Verdict::Drop,
        // C0 controls and DEL as Unicode control pictures (U+2400 block): visible, width 1.
        '\0'..='\x1f' => Verdict::Picture(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
        '\x7f' => Verdict::Picture('\u{2421}'),
        // C1 controls (CSI, OSC, DCS … in their 8-bit form).
        '\u{80}'..='\u{9f}' => Verdict::Picture('\u{fffd}'),
        // Bidi embeddings, overrides and isolates; marks; invisible separators and operators.
        '\u{061c}'
        | '\u{200b}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{206a}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}' => Verdict::Drop,
        // Tag characters (used to smuggle invisible text).
        '\u{e0000}'..='\u{e007f}' => Verdict::Drop,
        // Line and paragraph separators break layouts like newlines.
        '\u{2028}' | '\u{2029}' => Verdict::Space,
        _ => Verdict::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_and_inert() {
        let s = line("hi\x1b[2J\x1b]52;c;AAAA\x07\u{9b}31m there");
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert_eq!(s, "hi\u{241b}[2J\u{241b}]52;c;AAAA\u{2407}\u{fffd}31m there");
    }

    #[test]
    fn bidi_and_invisibles_are_removed_but_emoji_and_zwnj_stay() {
        assert_eq!(line("abc\u{202e}fed\u{2066}x\u{200b}y\u{e0041}"), "abcfedxy");
        assert_eq!(line("👩\u{200d}💻 می\u{200c}خواهم"), "👩\u{200d}💻 می\u{200c}خواهم");
        assert_eq!(text("a\r\nb\tc"), "a\nb c");
        assert_eq!(line("a\nb"), "a b");
    }

    #[test]
    fn idempotent() {
        let once = line("x\x1b\u{202e}\u{85}y");
        assert_eq!(line(&once), once);
    }
}
