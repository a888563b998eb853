//! The reply pane through the real store, update, effects and drawing (`tui::headless`): writing,
//! options, confirming, drafts kept across restarts, one send per draft however often it is
//! confirmed, and replies showing in their thread as they move through the outbox.

use ratatui::backend::TestBackend;
use switchboard::model::{Channel, Provider};
use switchboard::outbox::{NewSend, OutboxStatus, Problem, Report, SendOptions};
use switchboard::store::Store;
use switchboard::tui::compose::Stage;
use switchboard::tui::headless::Headless;
use switchboard::tui::state::Focus;
use switchboard::tui::update::Effect;

mod common;

use common::{demo_db, now_ms, open, screen};

fn inbox(path: &std::path::Path, w: u16, h: u16) -> Headless<TestBackend> {
    Headless::new(Store::open(path).unwrap(), TestBackend::new(w, h), now_ms())
}

/// A myKaarma conversation with a known customer and phone (María González, demo data).
const MK: &str = "mykaarma:XyXL";

#[test]
fn writing_a_text_shows_length_parts_and_options() {
    let (_d, path) = demo_db();
    for (w, hgt) in [(80, 24), (120, 40)] {
        let mut h = inbox(&path, w, hgt);
        open(&mut h, MK);
        h.press("r");
        assert_eq!(h.state.focus, Focus::Compose);
        h.type_text("Hi María, your car is ready. We close at 6 today; see you then!");
        insta::assert_snapshot!(format!("compose_text_{w}x{hgt}"), screen(&h));
        h.press("esc");
        assert_eq!(h.state.focus, Focus::Thread);
        // Keys typed in the pane are text, not commands: `q` did not quit.
        h.press("r");
        h.type_text(" q");
        assert!(!h.quit_requested());
        assert!(h.state.compose.as_ref().unwrap().body.text().ends_with(" q"));
        h.press("backspace");
        h.press("backspace");
        h.press("esc");
    }
}

#[test]
fn long_and_unicode_texts_count_parts() {
    let (_d, path) = demo_db();
    let mut h = inbox(&path, 120, 40);
    open(&mut h, MK);
    h.press("r");
    h.type_text(&"Loaner ready. ".repeat(11)); // 154 GSM-7 characters: one part alone…
    // …but myKaarma appends "\nText STOP to opt-out" (21 more): the phone gets two.
    assert!(screen(&h).contains("175 · 2 parts"), "{}", screen(&h));
    h.press("ctrl-o");
    h.press("t"); // no TCPA footer: one part again
    h.press("esc");
    assert!(screen(&h).contains("154/160 · 1 part"), "{}", screen(&h));
    h.press("ctrl-o");
    h.press("t");
    h.press("esc");
    h.type_text("Loaner ready. "); // 168 + 21
    assert!(screen(&h).contains("189 · 2 parts"), "{}", screen(&h));
    h.type_text("👍");
    assert!(screen(&h).contains("unicode · 3 parts"), "{}", screen(&h));
}

#[test]
fn email_asks_for_a_subject_and_options_toggle() {
    let (_d, path) = demo_db();
    let mut h = inbox(&path, 120, 40);
    open(&mut h, MK);
    h.press("r");
    h.press("ctrl-t");
    let c = h.state.compose.as_ref().unwrap();
    assert_eq!(c.channel, Channel::Email);
    h.type_text("x");
    h.press("backspace");
    h.type_text("Your invoice");
    h.press("enter"); // a subject is one line: on to the text
    h.type_text("Dear María,");
    h.press("enter");
    h.type_text("the invoice for today's service is attached.");
    h.press("ctrl-o");
    h.press("s");
    h.press("f");
    h.press("y");
    h.press("esc");
    let c = h.state.compose.as_ref().unwrap();
    assert_eq!(c.subject.text(), "Your invoice");
    assert_eq!(
        c.body.text(),
        "Dear María,\nthe invoice for today's service is attached."
    );
    assert!(c.options.signature && c.options.footer && c.options.synchronous);
    insta::assert_snapshot!("compose_email_120x40", screen(&h));

    // An email without a subject is not sent: the pane says why.
    h.press("tab");
    for _ in 0.."Your invoice".len() {
        h.press("backspace");
    }
    h.press("ctrl-s");
    assert_eq!(h.state.compose.as_ref().unwrap().stage, Stage::Writing);
    assert!(h.state.notice.as_deref().unwrap().contains("subject"));
}

#[test]
fn confirming_many_times_hands_over_one_send() {
    let (_d, path) = demo_db();
    let mut h = inbox(&path, 80, 24);
    open(&mut h, MK);
    h.press("r");
    h.type_text("On my way");
    h.press("ctrl-s");
    assert_eq!(h.state.compose.as_ref().unwrap().stage, Stage::Confirming);
    insta::assert_snapshot!("compose_confirm_80x24", screen(&h));

    // The same keys through the pure update: ten confirmations, ten more Ctrl-S, one Send effect.
    let mut state = h.state.clone();
    let mut sends = 0;
    for key in ["y"; 10].iter().chain(["ctrl-s"; 10].iter()).chain(["y"; 10].iter()) {
        let effects = switchboard::tui::update::update(
            &mut state,
            &h.keymap,
            switchboard::tui::update::Action::Key(switchboard::tui::headless::parse_key(key)),
        );
        sends += effects.iter().filter(|e| matches!(e, Effect::Send { .. })).count();
    }
    assert_eq!(sends, 1);
    assert_eq!(state.compose.as_ref().unwrap().stage, Stage::Submitting);

    // Any other key at the question goes back to writing, and nothing is sent.
    h.press("n");
    assert_eq!(h.state.compose.as_ref().unwrap().stage, Stage::Writing);
}

#[test]
fn one_draft_sent_from_two_inboxes_is_one_outbox_entry() {
    let (_d, path) = demo_db();
    let mut a = Store::open(&path).unwrap();
    let mut b = Store::open(&path).unwrap();
    let send = NewSend {
        client_id: "draft-7f3a".into(),
        conversation_key: a.resolve_conversation(MK).unwrap(),
        provider: Provider::MyKaarma,
        channel: Channel::Sms,
        reply_to: None,
        recipient: Some("3105550142".into()),
        subject: None,
        body: "On my way".into(),
        options: SendOptions::default(),
    };
    let threads: Vec<_> = [send.clone(), send]
        .into_iter()
        .zip([
            std::mem::replace(&mut a, Store::open(&path).unwrap()),
            std::mem::replace(&mut b, Store::open(&path).unwrap()),
        ])
        .map(|(s, mut store)| std::thread::spawn(move || store.enqueue(&s).unwrap()))
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    assert_eq!(results[0].entry.id, results[1].entry.id);
    // And only one of them can take it for sending.
    let id = results[0].entry.id;
    assert!(a.claim(id).unwrap().is_some());
    assert!(b.claim(id).unwrap().is_none());
}

#[test]
fn drafts_survive_a_restart_per_conversation() {
    let (_d, path) = demo_db();
    {
        let mut h = inbox(&path, 120, 40);
        open(&mut h, MK);
        h.press("r");
        h.type_text("Draft for María");
        h.press("esc"); // to the thread
        h.press("esc"); // to the list
        open(&mut h, "mykaarma:wCJJ");
        h.press("r");
        h.type_text("Another draft");
        h.press("ctrl-c"); // quit saves the draft being written
        assert!(h.quit_requested());
    }
    let mut h = inbox(&path, 120, 40);
    open(&mut h, MK);
    assert_eq!(h.state.compose.as_ref().unwrap().body.text(), "Draft for María");
    assert!(screen(&h).contains("draft: Draft for María"));
    h.press("esc");
    open(&mut h, "mykaarma:wCJJ");
    assert_eq!(h.state.compose.as_ref().unwrap().body.text(), "Another draft");
}

#[test]
fn partoo_and_highlevel_conversations_reply_on_the_customers_channel() {
    let (_d, path) = demo_db();
    let mut h = inbox(&path, 80, 24);
    // Partoo replies only into the conversation, on its channel (this one is Facebook).
    open(&mut h, "partoo:40981");
    h.press("r");
    assert_eq!(h.state.focus, Focus::Compose);
    let c = h.state.compose.as_ref().unwrap();
    assert_eq!(c.channel, Channel::Facebook);
    assert_eq!(c.addressing.channels, vec![Channel::Facebook]);
    assert!(screen(&h).contains("Reply · Facebook via Partoo"), "{}", screen(&h));
    // Only one channel: ctrl-t keeps it; the send options are myKaarma's and say so.
    h.press("ctrl-t");
    assert_eq!(h.state.compose.as_ref().unwrap().channel, Channel::Facebook);
    h.press("ctrl-o");
    assert!(
        h.state
            .notice
            .as_deref()
            .unwrap()
            .contains("Partoo sends the text as typed")
    );
    h.press("esc");
    h.press("esc");
    // A HighLevel Facebook conversation replies on Facebook by default and can switch to a text,
    // saying that the customer wrote on Facebook.
    open(&mut h, "highlevel:fbConvJordan");
    h.press("r");
    let c = h.state.compose.as_ref().unwrap();
    assert_eq!(c.channel, Channel::Facebook);
    assert_eq!(c.addressing.channels.first(), Some(&Channel::Facebook));
    assert!(c.addressing.channels.contains(&Channel::Sms));
    while h.state.compose.as_ref().unwrap().channel != Channel::Sms {
        h.press("ctrl-t");
    }
    let s = screen(&h);
    assert!(s.contains("Reply · text via HighLevel to +13105550177"), "{s}");
    assert!(
        s.contains("⚠ the customer wrote on Facebook; this goes out by text"),
        "{s}"
    );
}

#[test]
fn replies_show_in_the_thread_as_they_move() {
    let (_d, path) = demo_db();
    let mut store = Store::open(&path).unwrap();
    let key = store.resolve_conversation(MK).unwrap();
    let q = store
        .enqueue(&NewSend {
            client_id: "draft-a".into(),
            conversation_key: key.clone(),
            provider: Provider::MyKaarma,
            channel: Channel::Sms,
            reply_to: None,
            recipient: Some("3105550142".into()),
            subject: None,
            body: "Your loaner is ready".into(),
            options: SendOptions::default(),
        })
        .unwrap();
    store.claim(q.entry.id).unwrap().unwrap();
    // A fixed time, for a stable picture: ten minutes before the inbox's "now".
    store
        .connection()
        .execute("UPDATE outbox SET created_at = ?1", [now_ms() - 600_000])
        .unwrap();
    let mut h = inbox(&path, 80, 24);
    open(&mut h, MK);
    let s = screen(&h);
    assert!(s.contains("… sending") && s.contains("Your loaner is ready"), "{s}");
    store
        .record(
            q.entry.id,
            &Report {
                status: Some(OutboxStatus::Unknown),
                errors: vec![Problem::ours(
                    "NO_ANSWER",
                    "myKaarma did not answer: the message may have gone out.".into(),
                )],
                ..Report::default()
            },
        )
        .unwrap();
    h.act(switchboard::tui::update::Action::StoreChanged {
        new_inbound: 0,
        new_failures: 0,
        last_event_at: None,
    });
    insta::assert_snapshot!("thread_reply_unknown_80x24", screen(&h));
    // R puts it back in the pane for an explicit resend.
    h.press("R");
    assert_eq!(h.state.focus, Focus::Compose);
    assert_eq!(h.state.compose.as_ref().unwrap().body.text(), "Your loaner is ready");
}

#[test]
fn the_external_editor_gets_the_text_and_gives_it_back() {
    let (_d, path) = demo_db();
    let mut h = inbox(&path, 80, 24);
    open(&mut h, MK);
    h.press("r");
    h.type_text("Dear María");
    h.press("ctrl-e");
    assert_eq!(h.editor_requests, vec!["Dear María".to_string()]);
    let key = h.state.compose.as_ref().unwrap().conversation_key.clone();
    // What an editor leaves is kept printable: an escape sequence in the file is not let through.
    h.act(switchboard::tui::update::Action::EditorDone {
        key,
        result: Ok("Dear María,\n\nthe estimate is attached.\x1b[2J\n".into()),
    });
    let text = h.state.compose.as_ref().unwrap().body.text();
    assert!(text.starts_with("Dear María,\n\nthe estimate is attached."), "{text:?}");
    assert!(!text.contains('\x1b'), "{text:?}");
    assert_eq!(h.state.focus, Focus::Compose);
}
