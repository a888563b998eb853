//! Every screen and state of the inbox, at 80×24 and 120×40, through the real store, update,
//! effects and drawing (`tui::headless`), compared with reviewed snapshots (tests/snapshots/).

use ratatui::backend::TestBackend;
use switchboard::store::Store;
use switchboard::tui::headless::Headless;
use switchboard::tui::state::FILTERS;

mod common;

use common::{frame, inbox, now_ms, open, screen, text};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

#[test]
fn list() {
    for (w, hgt) in SIZES {
        let (_d, h) = inbox(w, hgt);
        insta::assert_snapshot!(format!("list_{w}x{hgt}"), screen(&h));
    }
}

#[test]
fn each_filter() {
    for (w, hgt) in SIZES {
        let (_d, mut h) = inbox(w, hgt);
        for filter in FILTERS.iter().skip(1) {
            h.press("f");
            assert_eq!(h.state.filter_word(), *filter);
            insta::assert_snapshot!(format!("filter_{filter}_{w}x{hgt}"), screen(&h));
        }
        h.press("f");
        assert_eq!(h.state.filter_word(), "all", "the cycle wraps");
    }
}

#[test]
fn search() {
    for (w, hgt) in SIZES {
        let (_d, mut h) = inbox(w, hgt);
        h.press("/");
        h.type_text("winter tire");
        insta::assert_snapshot!(format!("search_typing_{w}x{hgt}"), screen(&h));
        h.press("enter");
        assert_eq!(h.state.list.len(), 2);
        insta::assert_snapshot!(format!("search_results_{w}x{hgt}"), screen(&h));
    }
}

/// One conversation per channel (and the failures in them).
const THREADS: &[(&str, &str)] = &[
    ("sms_failed", "mykaarma:wCJJ"),
    ("sms_photo", "mykaarma:XyXL"),
    ("email_html", "highlevel:emailConvEmily"),
    ("email_bounced", "highlevel:emailConvFrank"),
    ("voice_transcript", "mykaarma:UWct"),
    ("voicemail_and_whatsapp", "highlevel:vmConvOlu"),
    ("whatsapp", "mykaarma:zCCD"),
    ("facebook_failed", "partoo:40981"),
    ("instagram_media", "partoo:40990"),
    ("google_deleted", "partoo:41015"),
    ("live_chat", "highlevel:chatConv"),
    ("note_and_opt_out", "mykaarma:tt9B"),
];

#[test]
fn thread_of_each_channel() {
    for (w, hgt) in SIZES {
        for (name, key) in THREADS {
            let (_d, mut h) = inbox(w, hgt);
            open(&mut h, key);
            insta::assert_snapshot!(format!("thread_{name}_{w}x{hgt}"), screen(&h));
        }
    }
}

#[test]
fn long_thread_pages_in_older_messages() {
    let (_d, mut h) = inbox(120, 40);
    open(&mut h, "mykaarma:u0ZS");
    let thread = h.state.thread.as_ref().unwrap();
    assert_eq!(thread.messages.len(), 200, "opens on its newest page");
    assert!(!thread.complete);
    h.press("G");
    for _ in 0..40 {
        h.press("pageup");
    }
    let thread = h.state.thread.as_ref().unwrap();
    assert!(thread.messages.len() > 200, "older pages loaded while scrolling up");
    h.press("g");
    for _ in 0..10 {
        h.press("pageup");
    }
    let thread = h.state.thread.as_ref().unwrap();
    assert_eq!(thread.messages.len(), 521);
    assert!(thread.complete);
    insta::assert_snapshot!("thread_long_top_120x40", screen(&h));
}

#[test]
fn help_empty_and_narrow() {
    for (w, hgt) in SIZES {
        let (_d, mut h) = inbox(w, hgt);
        h.press("?");
        insta::assert_snapshot!(format!("help_{w}x{hgt}"), screen(&h));
        h.press("x");
        assert!(!h.state.help);

        let dir = tempfile::tempdir().unwrap();
        let empty = Headless::new(
            Store::open(&dir.path().join("e.db")).unwrap(),
            TestBackend::new(w, hgt),
            now_ms(),
        );
        insta::assert_snapshot!(format!("empty_{w}x{hgt}"), screen(&empty));
    }
    // Below 100 columns the thread stacks under a few list rows; 60×20 still works.
    for (w, hgt) in [(80, 24), (60, 20)] {
        let (_d, mut h) = inbox(w, hgt);
        open(&mut h, "mykaarma:XyXL");
        insta::assert_snapshot!(format!("stacked_{w}x{hgt}"), screen(&h));
    }
}

#[test]
fn styled_where_colour_carries_meaning() {
    let (_d, mut h) = inbox(80, 24);
    while h.state.filter_word() != "failed" {
        h.press("f");
    }
    insta::assert_debug_snapshot!("styled_failed_list_80x24", frame(&h));
    open(&mut h, "mykaarma:wCJJ");
    insta::assert_debug_snapshot!("styled_failed_thread_80x24", frame(&h));
}

#[test]
fn no_color_keeps_every_signal_in_words_and_glyphs() {
    let (_d, mut h) = inbox(80, 24);
    h.theme.color = false;
    let buffer = frame(&h);
    for cell in buffer.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
    }
    let t = text(&buffer);
    assert!(t.contains("✗1") && t.contains("●1"), "{t}");
}

#[test]
fn opening_a_thread_marks_it_read_and_u_toggles() {
    let (_d, mut h) = inbox(120, 40);
    open(&mut h, "mykaarma:XyXL");
    let key = h.state.thread.as_ref().unwrap().key.clone();
    let unread = |s: &Store| s.conversation(&key).unwrap().unwrap().unread;
    assert_eq!(unread(&h.store), 0);
    h.press("u");
    assert_eq!(unread(&h.store), 1, "marked unread");
    h.press("u");
    assert_eq!(unread(&h.store), 0);
}
