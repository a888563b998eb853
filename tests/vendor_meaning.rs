//! Events that mean something other than they first look: each built from the vendor's current
//! documentation examples (tests/fixtures/highlevel/*_doc_example.json) or its documented schema,
//! read through the parser and then folded into a real SQLite store.

use serde_json::json;
use switchboard::model::{Channel, Direction, Status};
use switchboard::providers::{Change, MessagePart, Outcome, parse};
use switchboard::store::{Incoming, Store};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn message_of(body: &[u8]) -> MessagePart {
    let p = parse(body, None);
    let Outcome::Ok(changes) = &p.outcome else {
        panic!("{:?}", p.outcome)
    };
    changes
        .iter()
        .find_map(|c| match c {
            Change::Message(m) => Some((**m).clone()),
            _ => None,
        })
        .expect("a message")
}

fn store_with(bodies: &[Vec<u8>]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("sb.db")).unwrap();
    let items: Vec<Incoming> = bodies.iter().map(|b| Incoming::new(b.clone(), None)).collect();
    store.ingest("test", &items).unwrap();
    (dir, store)
}

#[test]
fn a_highlevel_internal_comment_is_a_note_with_mentions_as_names() {
    for path in [
        "highlevel/internal_comment_mentions_doc_example.json",
        "highlevel/internal_comment_doc_example.json",
    ] {
        let m = message_of(&fixture(path));
        assert_eq!(m.channel, Some(Channel::Note), "{path}");
        assert_eq!(m.direction, Some(Direction::Internal), "{path}");
        // Not "delivered": a note goes to no one.
        assert_eq!(m.status.as_ref().unwrap().status, Status::Received, "{path}");
    }
    let m = message_of(&fixture("highlevel/internal_comment_mentions_doc_example.json"));
    assert_eq!(m.body.as_deref(), Some("Please follow up on this @John Doe"));

    let (_d, store) = store_with(&[fixture("highlevel/internal_comment_mentions_doc_example.json")]);
    let thread = store.thread("highlevel:fcanlLgpbQgQhderivVs").unwrap();
    assert_eq!(thread[0].direction.as_str(), "internal");
    assert_eq!(thread[0].channel.as_str(), "note");
    assert_eq!(store.failures(None, 10).unwrap().len(), 0);
}

#[test]
fn highlevel_phone_numbers_reach_the_contact() {
    // Outbound: the customer is `to`; inbound: `from`. Never the contact's name.
    let out = message_of(&fixture("highlevel/sms_outbound_from_to_doc_example.json"));
    assert_eq!(out.conversation.contact_phone.as_deref(), Some("+15551234567"));
    assert_eq!(out.conversation.contact_name, None);
    let inbound = message_of(&fixture("highlevel/sms_inbound_from_to_schema.json"));
    assert_eq!(inbound.conversation.contact_phone.as_deref(), Some("+15551234567"));
    assert_eq!(inbound.conversation.contact_name, None);
    assert_eq!(inbound.sender, None, "a number is not a sender's name");
    let call = message_of(&fixture("highlevel/call_outbound_from_to_doc_example.json"));
    assert_eq!(call.conversation.contact_phone.as_deref(), Some("+15551234567"));

    // Without any contact record, the conversation shows the number, not "(unknown contact)".
    let (_d, store) = store_with(&[fixture("highlevel/sms_inbound_from_to_schema.json")]);
    let c = store.conversation("highlevel:fcanlLgpbQgQhderivVs").unwrap().unwrap();
    assert_eq!(c.contact.phone.as_deref(), Some("+15551234567"));
    assert_eq!(c.contact.display(), Some("+15551234567"));
    // And an email-only conversation shows its address.
    let (_d2, store) = store_with(&[fixture("highlevel/email_inbound_to_string.json")]);
    let list = store.conversations(&Default::default(), None, 10).unwrap();
    assert!(list[0].contact.display().is_some(), "{:?}", list[0].contact);
}

#[test]
fn highlevel_channel_words_come_from_message_type_string_first() {
    let custom = message_of(&fixture("highlevel/custom_provider_sms_type_string.json"));
    assert_eq!(custom.channel, Some(Channel::Sms));
    let vm = message_of(&fixture("highlevel/call_type_voicemail_type_string.json"));
    assert_eq!(vm.channel, Some(Channel::Voicemail));
    assert!(vm.call.is_some());
    // The SMS filter finds the custom-provider text.
    let (_d, store) = store_with(&[fixture("highlevel/custom_provider_sms_type_string.json")]);
    let sms = store
        .conversations(&switchboard::store::ConversationFilter::parse("sms").unwrap(), None, 10)
        .unwrap();
    assert_eq!(sms.len(), 1);
}

#[test]
fn two_messages_without_ids_stay_two() {
    let event = |kind: &str, direction: &str| {
        serde_json::to_vec(&json!({
            "type": kind, "locationId": "l1", "conversationId": "sameConv",
            "dateAdded": "2026-11-20T10:00:00.000Z", "direction": direction,
            "messageType": "SMS", "body": "OK", "contentType": "text/plain",
        }))
        .unwrap()
    };
    let (_d, store) = store_with(&[event("InboundMessage", "inbound"), event("OutboundMessage", "outbound")]);
    let thread = store.thread("highlevel:sameConv").unwrap();
    assert_eq!(thread.len(), 2, "{thread:?}");
    let directions: Vec<&str> = thread.iter().map(|m| m.direction.as_str()).collect();
    assert!(directions.contains(&"inbound") && directions.contains(&"outbound"));
    assert!(thread.iter().any(|m| m.status.as_str() == "received"));
}

#[test]
fn an_untimed_unread_update_is_as_of_its_arrival() {
    let inbound = |id: &str, at: &str| {
        serde_json::to_vec(&json!({
            "type": "InboundMessage", "locationId": "l1C08ntBrFjLS0elLIYU",
            "conversationId": "fcanlLgpbQgQhderivVs", "contactId": "cI08i1Bls3iTB9bKgFJh",
            "dateAdded": at, "direction": "inbound", "messageType": "SMS", "messageId": id,
            "body": "hello", "from": "+15551234567",
        }))
        .unwrap()
    };
    let (_d, mut store) = store_with(&[
        inbound("m1", "2026-11-20T09:00:00.000Z"),
        inbound("m2", "2026-11-20T09:01:00.000Z"),
    ]);
    store
        .ingest(
            "test",
            &[Incoming::new(
                fixture("highlevel/conversation_unread_update_untimed.json"),
                None,
            )],
        )
        .unwrap();
    let c = store.conversation("highlevel:fcanlLgpbQgQhderivVs").unwrap().unwrap();
    assert_eq!(c.unread, 2, "the vendor says 2 and both messages came before it");
    // The same after a rebuild from the log.
    store.rebuild().unwrap();
    let c = store.conversation("highlevel:fcanlLgpbQgQhderivVs").unwrap().unwrap();
    assert_eq!(c.unread, 2);
}
