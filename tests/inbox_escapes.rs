//! Terminal escape injection (reliability.md tests 16–17): every field a customer or vendor
//! controls carries escape sequences, control and bidi characters; the inbox is drawn through the
//! real crossterm backend into a byte buffer, and no payload control code point may reach it.

use ratatui::backend::CrosstermBackend;
use std::io::Write;
use std::sync::{Arc, Mutex};
use switchboard::store::{Incoming, Store};
use switchboard::tui::headless::Headless;

/// Everything the terminal would receive.
#[derive(Clone, Default)]
struct Tty(Arc<Mutex<Vec<u8>>>);

impl Write for Tty {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The payloads of reliability.md tests 16 and 17.
fn payload() -> String {
    let mut p = String::from("X");
    for s in [
        "\x1b[2J",
        "\x1b[6n",
        "\x1b]0;owned\x07",
        "\x1b]2;owned\x1b\\",
        "\x1b[21t",
        "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
        "\x1b]52;c;ZXZpbA==\x07",
        "\x1b]50;?\x07",
        "\x1bP$q\x1b\\",
        "\x1b_apc\x1b\\",
        "\x1b]unterminated",
        "\u{90}",
        "\u{9b}31m",
        "\u{9c}",
        "\u{9d}",
        "\x07",
        "\x08",
        "\r",
        "\t",
        "\0",
        "\x7f",
        "\u{61c}",
        "\u{200b}",
        "\u{200e}",
        "\u{200f}",
        "\u{202a}",
        "\u{202b}",
        "\u{202c}",
        "\u{202d}",
        "\u{202e}",
        "\u{2060}",
        "\u{2066}",
        "\u{2067}",
        "\u{2068}",
        "\u{2069}",
        "\u{feff}",
        "\u{e0041}",
        "\u{e007f}",
    ] {
        p.push_str(s);
        p.push('.');
    }
    p
}

fn events() -> Vec<Vec<u8>> {
    let p = payload();
    let partoo = serde_json::json!({"type": "message_created", "payload": {
        "message": {"id": 1, "conversation_id": 7, "date": "2026-11-20 10:00:00+00:00", "content_type": "Text",
                    "sender_type": "Consumer", "sender_label": p, "status": "Success", "content": format!("body {p}")},
        "conversation": {"id": 7, "consumer_name": format!("name {p}"), "consumer_phone_number": p,
                         "messaging_partner": format!("partner {p}")}}});
    let dto = serde_json::json!({
        "isUpdate": false,
        "messageDTO": {"uuid": "esc-1", "messageType": "S", "protocol": "E", "toNumber": format!("{p}@example.com"),
            "customerUuid": "cust-esc", "customerName": format!("mk {p}"), "fromName": format!("advisor {p}"),
            "deliveryStatus": "0", "twilioDeliveryFailureMessage": format!("vendor error {p}"),
            "messageExtnDTO": {"messageBody": format!("email {p}"), "subject": format!("subject {p}")},
            "docFiles": [{"originalFileName": format!("file {p}.pdf"), "mimeType": format!("mime {p}"), "docSize": "10",
                          "mediaPreviewURL": format!("https://x.example/{p}")}]}});
    let mykaarma = serde_json::json!({"id": "evt-esc", "timestamp": 1_795_168_800_000i64, "dealeruuid": "d",
        "departmentuuid": "dept", "type": "messages", "payload": dto.to_string()});
    // HTML email whose entities decode to control characters.
    let html = "<p>entity &#27;[2J &#x1b;]0;owned&#7; &#x9b;31m &#8238;evil &#x200f;</p>";
    let highlevel = serde_json::json!({"type": "InboundMessage", "locationId": "l", "conversationId": "esc-hl",
        "messageId": "esc-hl-1", "dateAdded": "2026-11-20T10:05:00Z", "direction": "inbound", "messageType": "Email",
        "contentType": "text/html", "body": html, "subject": format!("hl {p}"), "from": format!("Eve {p} <eve@example.com>"),
        "attachments": [format!("https://x.example/{p}.png")]});
    [partoo, mykaarma, highlevel]
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap())
        .collect()
}

/// Drop the CSI sequences crossterm itself writes (cursor moves, colours); what is left must be text.
fn strip_own_csi(bytes: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8(bytes.to_vec()).expect("the terminal receives UTF-8");
    let mut out = String::new();
    let mut sequences = vec![];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            let mut seq = String::new();
            for d in chars.by_ref() {
                seq.push(d);
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            sequences.push(seq);
        } else {
            out.push(c);
        }
    }
    (out, sequences)
}

#[test]
fn no_payload_control_code_point_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("sb.db")).unwrap();
    let items: Vec<Incoming> = events().into_iter().map(|body| Incoming::new(body, None)).collect();
    let (report, _) = store.ingest("test", &items).unwrap();
    assert_eq!(report.imported, 3, "{report:?}");

    let tty = Tty::default();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
        .unwrap()
        .timestamp_millis();
    let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 160, 50));
    let terminal = ratatui::Terminal::with_options(
        CrosstermBackend::new(tty.clone()),
        ratatui::TerminalOptions { viewport },
    )
    .unwrap();
    let mut h = Headless::with_terminal(store, terminal, now);
    // Every conversation's thread, and the search line with the payload typed into it.
    for _ in 0..3 {
        h.press("enter");
        h.press("esc");
        h.press("j");
    }
    h.press("/");
    h.type_text("\u{202e}gnp.exe");
    h.press("esc");

    let bytes = tty.0.lock().unwrap().clone();
    assert!(bytes.len() > 5000, "the screens were drawn");
    let (text, sequences) = strip_own_csi(&bytes);
    for c in text.chars() {
        let code = c as u32;
        assert!(
            code >= 0x20 && code != 0x7f,
            "control U+{code:04X} reached the terminal"
        );
        assert!(
            !(0x80..=0x9f).contains(&code),
            "C1 control U+{code:04X} reached the terminal"
        );
        assert!(
            !matches!(code, 0x61c | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2069 | 0xfeff | 0xe0000..=0xe007f),
            "invisible/bidi U+{code:04X} reached the terminal"
        );
    }
    // The sequences left are crossterm's own: cursor positioning and colours, nothing a payload asked for.
    for seq in &sequences {
        let last = seq.chars().last().unwrap();
        assert!(
            matches!(last, 'H' | 'm' | 'J' | 'K' | 'h' | 'l'),
            "unexpected CSI {seq:?}"
        );
        assert!(
            !matches!(seq.as_str(), "2J" | "6n" | "21t"),
            "payload CSI {seq:?} reached the terminal"
        );
    }
    // The payloads are still there, as visible text.
    assert!(
        text.contains("␛[2J") && text.contains("␛]52;c;ZXZpbA==␇"),
        "payloads shown as visible markers"
    );
    let near: String = text
        .split("vendor")
        .nth(1)
        .map(|rest| rest.chars().take(60).collect())
        .unwrap_or_default();
    assert!(
        near.starts_with(" error") && near.contains("X␛[2J"),
        "the vendor error text was drawn: {near:?}"
    );
}
