//! The team's state on a real SQLite file: each advisor's own read marks, assignment (the vendor's
//! and ours, newer wins), done and snoozed conversations, and notes.

use serde_json::json;
use switchboard::store::{ConversationFilter, Incoming, Store};
use switchboard::team::{Advisor, VendorIds};

fn advisor(name: &str, partoo: Option<&str>) -> Advisor {
    Advisor {
        name: name.into(),
        ids: VendorIds {
            partoo: partoo.map(str::to_string),
            ..Default::default()
        },
    }
}

/// A Partoo message event in conversation `conversation`, `inbound` from the customer or not, at
/// `minute` past noon, assigned to `assigned` (JSON null for nobody).
fn partoo(conversation: i64, message: i64, inbound: bool, minute: u32, assigned: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "message_created",
        "payload": {
            "message": {
                "id": message, "conversation_id": conversation,
                "date": format!("2026-11-20 12:{minute:02}:00.000000+00:00"),
                "content_type": "Text", "sender_type": if inbound { "Consumer" } else { "User" },
                "status": "Success", "is_deleted": false, "content": format!("message {message}")
            },
            "conversation": {
                "id": conversation, "consumer_name": format!("Customer {conversation}"),
                "messaging_partner": "SMS", "is_read": false, "assigned_user_id": assigned
            }
        }
    }))
    .unwrap()
}

fn ingest(store: &mut Store, bodies: Vec<Vec<u8>>) {
    let items: Vec<Incoming> = bodies.into_iter().map(|body| Incoming::new(body, None)).collect();
    store.ingest("test", &items).unwrap();
}

fn keys(store: &Store, filter: ConversationFilter) -> Vec<String> {
    store
        .conversations(&filter, None, 100)
        .unwrap()
        .into_iter()
        .map(|c| c.conversation_key)
        .collect()
}

fn two_advisors() -> (tempfile::TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sb.db");
    let mut a = Store::open(&path).unwrap();
    ingest(
        &mut a,
        vec![
            partoo(1, 11, true, 1, json!(null)),
            partoo(2, 21, true, 2, json!("u-nina")),
            partoo(3, 31, true, 3, json!(null)),
        ],
    );
    a.set_viewer(&advisor("Dana Reyes", Some("u-dana"))).unwrap();
    let mut b = Store::open(&path).unwrap();
    b.set_viewer(&advisor("Nina Patel", Some("u-nina"))).unwrap();
    (dir, a, b)
}

#[test]
fn each_advisor_reads_for_themselves() {
    let (_dir, mut dana, nina) = two_advisors();
    assert_eq!(dana.totals().unwrap().unread_conversations, 3);
    dana.mark_read("partoo:1").unwrap();
    assert_eq!(dana.totals().unwrap().unread_conversations, 2);
    assert_eq!(keys(&dana, ConversationFilter::Unread), ["partoo:3", "partoo:2"]);
    // Nina still has all three unread.
    assert_eq!(nina.totals().unwrap().unread_conversations, 3);
    assert_eq!(nina.conversation("partoo:1").unwrap().unwrap().unread, 1);
    assert_eq!(dana.conversation("partoo:1").unwrap().unwrap().unread, 0);

    // A new message is unread again for Dana (one), and two for Nina.
    let mut writer = Store::open(dana.path()).unwrap();
    ingest(&mut writer, vec![partoo(1, 12, true, 10, json!(null))]);
    assert_eq!(dana.conversation("partoo:1").unwrap().unwrap().unread, 1);
    assert_eq!(nina.conversation("partoo:1").unwrap().unwrap().unread, 2);
    assert_eq!(keys(&dana, ConversationFilter::Unread)[0], "partoo:1");

    // Marked unread stays unread until read again; rebuild keeps everyone's marks.
    dana.mark_unread("partoo:3").unwrap();
    dana.mark_read("partoo:3").unwrap();
    dana.mark_read("partoo:1").unwrap();
    dana.mark_unread("partoo:1").unwrap();
    writer.rebuild().unwrap();
    assert_eq!(keys(&dana, ConversationFilter::Unread), ["partoo:1", "partoo:2"]);
    assert_eq!(dana.totals().unwrap().unread_conversations, 2);
    assert_eq!(nina.totals().unwrap().unread_conversations, 3);
}

#[test]
fn assignment_takes_the_newer_of_the_vendors_word_and_ours() {
    let (_dir, mut dana, nina) = two_advisors();
    // Partoo says conversation 2 is Nina's: hers, and the others are nobody's.
    assert_eq!(keys(&nina, ConversationFilter::Mine), ["partoo:2"]);
    assert_eq!(keys(&dana, ConversationFilter::Unassigned), ["partoo:3", "partoo:1"]);
    assert!(keys(&dana, ConversationFilter::Mine).is_empty());

    // Dana takes conversation 1 here; Nina sees it gone from unassigned at once.
    let assigned = dana.assign("partoo:1", Some("Dana Reyes"), "Dana Reyes", None).unwrap();
    assert_eq!(assigned.assignee.as_deref(), Some("name:Dana Reyes"));
    assert_eq!(keys(&dana, ConversationFilter::Mine), ["partoo:1"]);
    assert_eq!(keys(&nina, ConversationFilter::Unassigned), ["partoo:3"]);

    // An older vendor event does not undo it (the vendor's time is 2026-11-20, ours is now)...
    let mut writer = Store::open(dana.path()).unwrap();
    ingest(&mut writer, vec![partoo(1, 13, false, 20, json!("u-nina"))]);
    assert_eq!(keys(&dana, ConversationFilter::Mine), ["partoo:1"]);
    // ...and rebuild keeps it.
    writer.rebuild().unwrap();
    assert_eq!(keys(&dana, ConversationFilter::Mine), ["partoo:1"]);
    // Unassigning here makes it nobody's.
    dana.assign("partoo:1", None, "Dana Reyes", None).unwrap();
    assert_eq!(keys(&dana, ConversationFilter::Unassigned), ["partoo:1", "partoo:3"]);
}

#[test]
fn done_leaves_the_list_until_the_customer_writes_again() {
    let (_dir, mut dana, nina) = two_advisors();
    assert_eq!(nina.totals().unwrap().unread_conversations, 3);
    dana.set_done("partoo:2", "Dana Reyes").unwrap();
    assert_eq!(keys(&nina, ConversationFilter::All), ["partoo:3", "partoo:1"]);
    assert_eq!(
        nina.totals().unwrap().unread_conversations,
        2,
        "a done conversation is nobody's unread"
    );
    assert!(!keys(&nina, ConversationFilter::Unread).contains(&"partoo:2".to_string()));
    assert_eq!(keys(&nina, ConversationFilter::Done), ["partoo:2"]);
    assert!(nina.conversation("partoo:2").unwrap().unwrap().done);

    // An outbound reply does not reopen it; an inbound message does.
    let mut writer = Store::open(dana.path()).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::minutes(1);
    let inbound_later = |id: i64, inbound: bool| {
        let mut v: serde_json::Value = serde_json::from_slice(&partoo(2, id, inbound, 0, json!(null))).unwrap();
        v["payload"]["message"]["date"] = json!(later.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string());
        serde_json::to_vec(&v).unwrap()
    };
    ingest(&mut writer, vec![inbound_later(22, false)]);
    assert_eq!(keys(&nina, ConversationFilter::Done), ["partoo:2"]);
    ingest(&mut writer, vec![inbound_later(23, true)]);
    assert!(keys(&nina, ConversationFilter::Done).is_empty());
    assert_eq!(keys(&nina, ConversationFilter::All)[0], "partoo:2");
    assert_eq!(
        nina.conversation("partoo:2").unwrap().unwrap().unread,
        2,
        "reopened: what Nina never saw is unread again"
    );
}

#[test]
fn a_snoozed_conversation_comes_back_when_its_time_is_up() {
    let (_dir, mut dana, _nina) = two_advisors();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(dana.snooze("partoo:3", now - 1, "Dana Reyes").is_err());
    dana.snooze("partoo:3", now + 1500, "Dana Reyes").unwrap();
    assert_eq!(keys(&dana, ConversationFilter::Snoozed), ["partoo:3"]);
    assert!(!keys(&dana, ConversationFilter::All).contains(&"partoo:3".to_string()));
    assert_eq!(dana.next_snooze_end(now).unwrap(), Some(now + 1500));
    std::thread::sleep(std::time::Duration::from_millis(1600));
    assert!(keys(&dana, ConversationFilter::Snoozed).is_empty());
    assert_eq!(keys(&dana, ConversationFilter::All)[0], "partoo:3");
    dana.snooze("partoo:3", now + 60_000, "Dana Reyes").unwrap();
    dana.reopen("partoo:3").unwrap();
    assert!(keys(&dana, ConversationFilter::Snoozed).is_empty());
}

#[test]
fn notes_join_the_thread_are_found_by_search_and_survive_rebuild() {
    let (_dir, mut dana, nina) = two_advisors();
    let key = dana
        .add_note("partoo:3", "Dana Reyes", "Loaner car promised for Tuesday")
        .unwrap();
    assert!(dana.add_note("partoo:3", "Dana Reyes", "   ").is_err());
    let check = |store: &Store| {
        let thread = store.thread("partoo:3").unwrap();
        let note = thread
            .iter()
            .find(|m| m.message_key == key)
            .expect("the note is in the thread");
        assert_eq!(note.channel, switchboard::model::Channel::Note);
        assert_eq!(note.direction, switchboard::model::Direction::Internal);
        assert_eq!(note.sender.as_deref(), Some("Dana Reyes"));
        let found = store
            .conversations(&ConversationFilter::All, Some("loaner"), 10)
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].conversation_key, "partoo:3");
    };
    check(&nina);
    // A note is nobody's unread message.
    assert_eq!(nina.conversation("partoo:3").unwrap().unwrap().unread, 1);
    let mut writer = Store::open(dana.path()).unwrap();
    writer.rebuild().unwrap();
    check(&nina);
}

#[test]
fn the_vendors_own_unread_count_stays_beside_each_advisors() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("sb.db")).unwrap();
    let fixture =
        |p: &str| std::fs::read(format!("{}/tests/fixtures/highlevel/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    ingest(
        &mut store,
        vec![
            fixture("call_inbound_voicemail.json"),
            fixture("conversation_unread_update.json"),
        ],
    );
    store.set_viewer(&advisor("Dana Reyes", None)).unwrap();
    let key = "highlevel:fcanlLgpbQgQhderivVs";
    store.mark_read(key).unwrap();
    let c = store.conversation(key).unwrap().unwrap();
    assert_eq!(c.vendor_unread, Some(3), "HighLevel's count, as its app shows it");
    assert_eq!(c.unread, 0, "read by Dana");
}

#[test]
fn the_bell_counts_new_messages_that_are_the_readers_concern() {
    let (_dir, dana, nina) = two_advisors();
    let mark = dana.watermark().unwrap().last_message_id;
    let mut writer = Store::open(dana.path()).unwrap();
    // A new message in Nina's conversation (2), and one in nobody's (3).
    ingest(
        &mut writer,
        vec![
            partoo(2, 24, true, 30, json!("u-nina")),
            partoo(3, 32, true, 31, json!(null)),
        ],
    );
    assert_eq!(nina.inbound_since(mark).unwrap(), 2, "hers and the unassigned one");
    assert_eq!(dana.inbound_since(mark).unwrap(), 1, "only the unassigned one");
}
