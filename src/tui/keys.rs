//! Bytes from a terminal → key events, as xterm-compatible terminals (and tmux, and SSH clients)
//! send them. Read from the terminal directly instead of through crossterm's reader for two
//! reasons: that reader loops forever once the terminal is gone (0 bytes or EIO are retried), and it
//! merges `ESC ESC` typed quickly into one Esc. Here every ESC that is not the start of a known
//! sequence is its own key, end of input is seen, and the same parser can read any byte stream (an
//! SSH channel tomorrow).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Bytes still waiting for the rest of a sequence.
#[derive(Default)]
pub struct Parser {
    pending: Vec<u8>,
}

impl Parser {
    /// Feed one read's bytes; the keys they complete. `more` says whether more bytes are
    /// already waiting (then a trailing lone ESC may be the start of a sequence).
    pub fn feed(&mut self, bytes: &[u8], more: bool) -> Vec<KeyEvent> {
        self.pending.extend_from_slice(bytes);
        let mut keys = vec![];
        let mut at = 0;
        while at < self.pending.len() {
            match parse(&self.pending[at..], more) {
                Step::Key(key, used) => {
                    keys.extend(key);
                    at += used;
                }
                Step::NeedMore => break,
            }
        }
        self.pending.drain(..at);
        // A sequence that never completes is noise, not a reason to stop reading keys.
        if self.pending.len() > 64 {
            self.pending.clear();
        }
        keys
    }

    /// Bytes are waiting for the rest of a sequence (a lone ESC, so far).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

enum Step {
    /// A key (or nothing, for a sequence we do not use) and how many bytes it took.
    Key(Option<KeyEvent>, usize),
    NeedMore,
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<KeyEvent> {
    Some(KeyEvent::new(code, modifiers))
}

fn parse(b: &[u8], more: bool) -> Step {
    match b[0] {
        0x1b => escape(b, more),
        b'\r' | b'\n' => Step::Key(key(KeyCode::Enter, KeyModifiers::NONE), 1),
        b'\t' => Step::Key(key(KeyCode::Tab, KeyModifiers::NONE), 1),
        0x7f | 0x08 => Step::Key(key(KeyCode::Backspace, KeyModifiers::NONE), 1),
        0x00 => Step::Key(key(KeyCode::Char(' '), KeyModifiers::CONTROL), 1),
        c @ 0x01..=0x1a => Step::Key(key(KeyCode::Char((c - 1 + b'a') as char), KeyModifiers::CONTROL), 1),
        0x1c..=0x1f => Step::Key(None, 1),
        _ => utf8(b),
    }
}

fn utf8(b: &[u8]) -> Step {
    let len = match b[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Step::Key(None, 1), // a stray continuation byte
    };
    if b.len() < len {
        return Step::NeedMore;
    }
    match std::str::from_utf8(&b[..len]).ok().and_then(|s| s.chars().next()) {
        Some(c) if c.is_uppercase() => Step::Key(key(KeyCode::Char(c), KeyModifiers::SHIFT), len),
        Some(c) => Step::Key(key(KeyCode::Char(c), KeyModifiers::NONE), len),
        None => Step::Key(None, 1),
    }
}

fn escape(b: &[u8], more: bool) -> Step {
    let Some(&next) = b.get(1) else {
        // A lone ESC with nothing behind it in this read is the Esc key.
        return if more {
            Step::NeedMore
        } else {
            Step::Key(key(KeyCode::Esc, KeyModifiers::NONE), 1)
        };
    };
    match next {
        b'[' => csi(b),
        b'O' => ss3(b),
        // ESC ESC: the first is a key of its own.
        0x1b => Step::Key(key(KeyCode::Esc, KeyModifiers::NONE), 1),
        _ => match parse(&b[1..], more) {
            // ESC then a key: Alt+key (the input thread splits it back when Alt is unbound).
            Step::Key(Some(mut k), used) => {
                k.modifiers |= KeyModifiers::ALT;
                Step::Key(Some(k), used + 1)
            }
            Step::Key(None, used) => Step::Key(None, used + 1),
            Step::NeedMore => Step::NeedMore,
        },
    }
}

/// `ESC O x`: F1–F4, and arrows/Home/End in application cursor mode.
fn ss3(b: &[u8]) -> Step {
    let Some(&c) = b.get(2) else { return Step::NeedMore };
    let code = match c {
        b'P'..=b'S' => KeyCode::F(1 + c - b'P'),
        c => match cursor_key(c) {
            Some(code) => code,
            None => return Step::Key(None, 3),
        },
    };
    Step::Key(key(code, KeyModifiers::NONE), 3)
}

/// The final byte of an arrow, Home or End sequence (the same after `ESC [` and `ESC O`).
fn cursor_key(c: u8) -> Option<KeyCode> {
    Some(match c {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        _ => return None,
    })
}

/// `ESC [ params final`.
fn csi(b: &[u8]) -> Step {
    let Some(end) = b[2..].iter().position(|c| (0x40..=0x7e).contains(c)) else {
        return Step::NeedMore;
    };
    let used = 2 + end + 1;
    let params = std::str::from_utf8(&b[2..2 + end]).unwrap_or("");
    let mut fields = params.split(';');
    let first: u16 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(1);
    let modifiers = fields
        .next()
        .and_then(|m| m.parse::<u8>().ok())
        .map_or(KeyModifiers::NONE, modifiers_of);
    let last = b[2 + end];
    let code = match (cursor_key(last), last) {
        (Some(code), _) => code,
        (None, b'Z') => return Step::Key(key(KeyCode::BackTab, KeyModifiers::SHIFT), used),
        (None, b'~') => match first {
            1 | 7 => KeyCode::Home,
            2 => KeyCode::Insert,
            3 => KeyCode::Delete,
            4 | 8 => KeyCode::End,
            5 => KeyCode::PageUp,
            6 => KeyCode::PageDown,
            11..=15 => KeyCode::F((first - 10) as u8),
            17..=21 => KeyCode::F((first - 11) as u8),
            23 | 24 => KeyCode::F((first - 12) as u8),
            _ => return Step::Key(None, used),
        },
        _ => return Step::Key(None, used), // reports and keys the inbox does not use
    };
    Step::Key(key(code, modifiers), used)
}

/// xterm's modifier parameter: 1 + (shift 1, alt 2, ctrl 4).
fn modifiers_of(m: u8) -> KeyModifiers {
    let bits = m.saturating_sub(1);
    let mut out = KeyModifiers::NONE;
    if bits & 1 != 0 {
        out |= KeyModifiers::SHIFT;
    }
    if bits & 2 != 0 {
        out |= KeyModifiers::ALT;
    }
    if bits & 4 != 0 {
        out |= KeyModifiers::CONTROL;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<(KeyCode, KeyModifiers)> {
        Parser::default()
            .feed(bytes, false)
            .into_iter()
            .map(|k| (k.code, k.modifiers))
            .collect()
    }

    #[test]
    fn keys_as_terminals_send_them() {
        use KeyCode::*;
        let none = KeyModifiers::NONE;
        assert_eq!(keys(b"j"), [(Char('j'), none)]);
        assert_eq!(keys(b"G"), [(Char('G'), KeyModifiers::SHIFT)]);
        assert_eq!(keys(b"\r\t\x7f"), [(Enter, none), (Tab, none), (Backspace, none)]);
        assert_eq!(keys(b"\x13"), [(Char('s'), KeyModifiers::CONTROL)]);
        assert_eq!(keys(b"\x1b[A\x1bOB"), [(Up, none), (Down, none)]);
        assert_eq!(keys(b"\x1b[5~\x1b[6~"), [(PageUp, none), (PageDown, none)]);
        assert_eq!(keys(b"\x1bOP\x1b[11~"), [(F(1), none), (F(1), none)]);
        assert_eq!(keys(b"\x1b[1;5C"), [(Right, KeyModifiers::CONTROL)]);
        assert_eq!(keys(b"\x1b[Z"), [(BackTab, KeyModifiers::SHIFT)]);
        assert_eq!(keys("é👍".as_bytes()), [(Char('é'), none), (Char('👍'), none)]);
    }

    #[test]
    fn escapes_typed_quickly_stay_separate_keys() {
        use KeyCode::*;
        let none = KeyModifiers::NONE;
        assert_eq!(keys(b"\x1b"), [(Esc, none)]);
        assert_eq!(keys(b"\x1b\x1b"), [(Esc, none), (Esc, none)]);
        assert_eq!(keys(b"\x1b\x1bj"), [(Esc, none), (Char('j'), KeyModifiers::ALT)]);
        assert_eq!(keys(b"\x1bq"), [(Char('q'), KeyModifiers::ALT)]);
    }

    #[test]
    fn a_sequence_split_across_reads_is_joined() {
        let mut p = Parser::default();
        assert!(p.feed(b"\x1b[", false).is_empty());
        let k = p.feed(b"6~", false);
        assert_eq!(k[0].code, KeyCode::PageDown);
        assert!(p.feed("\u{e9}".as_bytes()[..1].as_ref(), false).is_empty());
        assert_eq!(p.feed(&"\u{e9}".as_bytes()[1..], false)[0].code, KeyCode::Char('é'));
    }
}
