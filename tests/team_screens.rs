//! The team's screens at 80×24 and 120×40 through the real store, update, effects and drawing
//! (`tui::headless`): the list as an advisor sees it (assignee column, their own unread), the
//! template picker over the reply pane, and a thread with notes.

use switchboard::team::{Advisor, Team, VendorIds};
use switchboard::tui::update::Action;

mod common;

use common::{inbox, now_ms, open, screen};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
/// The demo's myKaarma advisor (the dealer associate its messages name).
const ALEX: &str = "GkWOVg5AMZGTHjg04gptRes7vmhCLn3HGkWOVg5AMZGTHjg04gptRes7vmhCLn3H";

fn as_alex(
    w: u16,
    h: u16,
) -> (
    tempfile::TempDir,
    switchboard::tui::headless::Headless<ratatui::backend::TestBackend>,
) {
    let (dir, mut h) = inbox(w, h);
    let me = Advisor {
        name: "Alex Rivera".into(),
        ids: VendorIds {
            mykaarma: Some(ALEX.into()),
            ..Default::default()
        },
    };
    h.store.set_viewer(&me).unwrap();
    h.state.team = Team {
        me,
        others: vec![Advisor {
            name: "Nina Patel".into(),
            ids: VendorIds {
                highlevel: Some("xsmF1xxhmC92ZpL1lj7aLa".into()),
                ..Default::default()
            },
        }],
        people: Default::default(),
    };
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/templates.toml");
    h.state.templates = switchboard::templates::load(&templates).unwrap();
    h.state.dealership = Some("Riverside Auto".into());
    h.act(Action::StoreChanged {
        new_inbound: 0,
        new_failures: 0,
        last_event_at: None,
    });
    (dir, h)
}

#[test]
fn the_list_as_one_advisor_sees_it() {
    for (w, hgt) in SIZES {
        let (_d, h) = as_alex(w, hgt);
        let s = screen(&h);
        assert!(s.contains("as Alex Rivera") && s.contains("@me"), "{s}");
        insta::assert_snapshot!(format!("team_list_{w}x{hgt}"), s);
    }
}

#[test]
fn the_template_picker_previews_the_text_as_it_will_read() {
    for (w, hgt) in SIZES {
        let (_d, mut h) = as_alex(w, hgt);
        open(&mut h, "mykaarma:wCJJ");
        h.press("r");
        h.press("ctrl-p");
        h.press("j");
        let s = screen(&h);
        assert!(
            s.contains("Templates · 4") && s.contains("Riverside Auto") && s.contains("2 parts"),
            "{s}"
        );
        insta::assert_snapshot!(format!("template_picker_{w}x{hgt}"), s);
        h.press("enter");
        let body = h.state.compose.as_ref().unwrap().body.text();
        assert!(body.starts_with("Hi 陈伟, you're confirmed"), "{body}");
    }
}

#[test]
fn notes_show_in_the_thread_with_their_author() {
    for (w, hgt) in SIZES {
        let (_d, mut h) = as_alex(w, hgt);
        let key = h.store.resolve_conversation("mykaarma:wCJJ").unwrap();
        for (minutes_ago, author, text) in [
            (
                20,
                "Nina Patel",
                "Called him: he'll bring the loaner back tomorrow morning.",
            ),
            (5, "Alex Rivera", "Waived the late fee"),
        ] {
            h.store
                .add_note_at(&key, author, text, now_ms() - minutes_ago * 60_000)
                .unwrap();
        }
        h.act(Action::StoreChanged {
            new_inbound: 0,
            new_failures: 0,
            last_event_at: None,
        });
        open(&mut h, "mykaarma:wCJJ");
        let s = screen(&h);
        assert!(
            s.contains("✎ note · Nina Patel") && s.contains("Waived the late fee"),
            "{s}"
        );
        insta::assert_snapshot!(format!("thread_with_notes_{w}x{hgt}"), s);
        // `n` writes one as the reader.
        h.press("n");
        h.type_text("Customer asked for a callback");
        h.press("enter");
        assert!(screen(&h).contains("Customer asked for a callback"));
        let thread = h.store.thread(&key).unwrap();
        let last = thread.last().unwrap();
        assert_eq!(last.sender.as_deref(), Some("Alex Rivera"));
    }
}

#[test]
fn a_done_conversation_says_so_in_its_thread_heading() {
    let (_d, mut h) = as_alex(80, 24);
    let key = h.store.resolve_conversation("mykaarma:wCJJ").unwrap();
    h.store.set_done(&key, "Alex Rivera").unwrap();
    while h.state.filter_word() != "done" {
        h.press("f");
    }
    h.press("enter");
    let s = screen(&h);
    assert!(
        s.contains("陈伟 (Wei Chen) · 6265550199 · mykaarma · sms · done"),
        "{s}"
    );
}
