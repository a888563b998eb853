//! The store on a real SQLite file: idempotent, order-independent folding, rebuild, bad input kept.

use proptest::prelude::*;
use switchboard::cli::thread_json;
use switchboard::store::{ConversationFilter, Incoming, Store, Stored};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn new_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sb.db")).unwrap();
    (dir, store)
}

fn incoming(bodies: &[Vec<u8>]) -> Vec<Incoming> {
    bodies.iter().map(|b| Incoming::new(b.clone(), None)).collect()
}

fn ingest(store: &mut Store, bodies: &[Vec<u8>]) -> Vec<Stored> {
    store.ingest("test", &incoming(bodies)).unwrap().1
}

fn ingest_files(store: &mut Store, paths: &[&str]) -> Vec<Stored> {
    ingest(store, &paths.iter().map(|p| fixture(p)).collect::<Vec<_>>())
}

/// Everything the user can see: the list and every thread, as `--json` prints them.
fn snapshot(store: &Store) -> String {
    let list = store.conversations(&ConversationFilter::All, None, 100_000).unwrap();
    let mut out = serde_json::to_string_pretty(&list).unwrap();
    for c in &list {
        out.push('\n');
        out.push_str(&thread_json(store, &c.conversation_key).unwrap());
    }
    out
}

/// The lines around the first place two snapshots differ.
fn difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let i = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let from = i.saturating_sub(12);
    format!(
        "want:\n{}\ngot:\n{}",
        w[from..(i + 3).min(w.len())].join("\n"),
        g[from..(i + 3).min(g.len())].join("\n")
    )
}

fn thread(store: &Store, key_prefix: &str) -> serde_json::Value {
    let key = store.resolve_conversation(key_prefix).unwrap();
    serde_json::from_str(&thread_json(store, &key).unwrap()).unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Every derived row, table by table.
fn dump(s: &Store) -> Vec<String> {
    let mut rows = vec![];
    for table in [
        "conversations",
        "messages",
        "message_events",
        "email_status",
        "contacts",
    ] {
        let mut q = s
            .connection()
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
            .unwrap();
        let n = q.column_count();
        let mut r = q.query([]).unwrap();
        while let Some(row) = r.next().unwrap() {
            let cells: Vec<String> = (0..n).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            rows.push(format!("{table}: {}", cells.join("|")));
        }
    }
    rows
}

/// The demo dealership's events, in their files' order.
fn demo_bodies() -> Vec<Vec<u8>> {
    let mut bodies = vec![];
    for (_, bytes) in switchboard::cli::DEMO_EVENTS {
        switchboard::import::read_events(*bytes, &mut |b| {
            bodies.push(b);
            Ok(())
        })
        .unwrap();
    }
    bodies
}

/// Every fixture the vendors could send, in a fixed order.
fn all_vendor_fixtures() -> Vec<Vec<u8>> {
    let mut paths = vec![];
    for vendor in ["mykaarma", "highlevel", "partoo"] {
        let dir = format!("{}/tests/fixtures/{vendor}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(dir).unwrap() {
            paths.push(entry.unwrap().path());
        }
    }
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn the_same_event_twice_changes_nothing() {
    let (_d, mut store) = new_store();
    let first = ingest_files(&mut store, &["mykaarma/sms_outbound_delivered.json"]);
    let before = snapshot(&store);
    // The same delivery again, and the same event with its payload as an object instead of a string.
    let again = ingest_files(
        &mut store,
        &[
            "mykaarma/sms_outbound_delivered.json",
            "mykaarma/payload_as_object.json",
        ],
    );
    assert_eq!(first, vec![Stored::Ok]);
    assert_eq!(again, vec![Stored::Duplicate, Stored::Duplicate]);
    assert_eq!(count(&store, "SELECT count(*) FROM events"), 1);
    assert_eq!(snapshot(&store), before);
}

#[test]
fn string_and_object_payloads_fold_identically() {
    let (_a, mut one) = new_store();
    let (_b, mut two) = new_store();
    ingest_files(&mut one, &["mykaarma/sms_outbound_delivered.json"]);
    ingest_files(&mut two, &["mykaarma/payload_as_object.json"]);
    assert_eq!(snapshot(&one), snapshot(&two));
}

#[test]
fn an_update_before_its_message_makes_a_placeholder_the_message_fills() {
    let create = "mykaarma/sms_outbound_sent_code_1.json";
    let update = "mykaarma/sms_outbound_update_delivered.json";
    let (_a, mut late) = new_store();
    ingest_files(&mut late, &[update]);
    let placeholder = thread(&late, "mykaarma:Ho3f");
    assert_eq!(placeholder["messages"][0]["status"], "delivered");
    ingest_files(&mut late, &[create]);
    let (_b, mut in_order) = new_store();
    ingest_files(&mut in_order, &[create, update]);
    assert_eq!(snapshot(&late), snapshot(&in_order));
    let t = thread(&late, "mykaarma:Ho3f");
    assert_eq!(t["messages"].as_array().unwrap().len(), 1);
    assert_eq!(t["messages"][0]["status"], "delivered");
    assert_eq!(t["messages"][0]["at"], "2025-09-27T14:32:00Z");
}

#[test]
fn an_older_status_never_overwrites_a_newer_one() {
    // myKaarma: delivered (newer), then the original "1" (older), then a newer update without status.
    let (_d, mut store) = new_store();
    ingest_files(
        &mut store,
        &[
            "mykaarma/sms_outbound_update_delivered.json",
            "mykaarma/sms_outbound_sent_code_1.json",
        ],
    );
    assert_eq!(thread(&store, "mykaarma:Ho3f")["messages"][0]["status"], "delivered");
    ingest_files(&mut store, &["mykaarma/sms_outbound_update_no_status.json"]);
    assert_eq!(thread(&store, "mykaarma:Ho3f")["messages"][0]["status"], "delivered");

    // Partoo sends no event time: Success and Sending share the message date; precedence decides.
    let (_e, mut partoo) = new_store();
    ingest_files(
        &mut partoo,
        &["partoo/sms_user_success_update.json", "partoo/sms_user_sending.json"],
    );
    let t = thread(&partoo, "partoo:40977");
    assert_eq!(t["messages"][0]["status"], "delivered");
    assert_eq!(
        t["conversation"]["contact"]["phone"], "+33612345678",
        "the reduced update did not erase it"
    );
}

#[test]
fn email_delivery_reports_tie_to_their_message_in_any_order() {
    let stats = ["highlevel/email_stats_failed.json", "highlevel/email_stats_opened.json"];
    let message = "highlevel/email_outbound_doc_example.json";
    let (_a, mut before) = new_store();
    ingest_files(&mut before, &[stats[0], stats[1], message]);
    let (_b, mut after) = new_store();
    ingest_files(&mut after, &[message, stats[1], stats[0]]);
    assert_eq!(snapshot(&before), snapshot(&after));
    // "opened" is the newer report.
    assert_eq!(thread(&after, "highlevel:yCdNo6")["messages"][0]["status"], "read");
}

#[test]
fn contacts_and_unread_counts_apply_in_any_order() {
    let files = [
        "highlevel/contact_create.json",
        "highlevel/sms_inbound_doc_example.json",
        "highlevel/conversation_unread_update.json",
        "highlevel/facebook_inbound.json",
    ];
    let (_a, mut forward) = new_store();
    ingest_files(&mut forward, &files);
    let (_b, mut backward) = new_store();
    let mut reversed = files;
    reversed.reverse();
    for f in reversed {
        ingest_files(&mut backward, &[f]);
    }
    assert_eq!(snapshot(&forward), snapshot(&backward));
    // The contact record after the messages in one transaction: the contact fields the fold holds
    // for the conversation are written before the record's are adopted.
    let (_c, mut one_batch) = new_store();
    ingest_files(&mut one_batch, &reversed);
    assert_eq!(snapshot(&forward), snapshot(&one_batch));
    let c = &thread(&forward, "highlevel:fcanl")["conversation"];
    assert_eq!(c["contact"]["name"], "Jordan Lee");
    assert_eq!(c["contact"]["phone"], "+13105550177");
    // The vendor said 3 unread at 12:00; the Facebook message at 11:57 is older than that.
    assert_eq!(c["unread"], 3);
}

#[test]
fn bad_input_is_kept_byte_exact_as_rejected() {
    let (_d, mut store) = new_store();
    let names = [
        "bad/malformed.json",
        "bad/wrong_type_mykaarma_body.json",
        "bad/wrong_type_partoo_message_id.json",
        "bad/wrong_type_highlevel_conversation.json",
        "bad/deep_nesting.json",
        "bad/invalid_utf8.json",
        "bad/unknown_shape.json",
    ];
    let results = ingest_files(&mut store, &names);
    assert!(results.iter().all(|r| *r == Stored::Rejected), "{results:?}");
    let rejected = store.events(true, 100).unwrap();
    assert_eq!(rejected.len(), names.len());
    for row in &rejected {
        assert!(row.reason.as_deref().is_some_and(|r| r.len() > 10), "{row:?}");
        let stored = store.event_body(row.id).unwrap().unwrap();
        assert!(
            names.iter().any(|n| fixture(n) == stored),
            "event {} is not byte-exact",
            row.id
        );
    }
    assert_eq!(count(&store, "SELECT count(*) FROM messages"), 0);
}

#[test]
fn a_six_mebibyte_email_is_stored_and_shown() {
    let paragraph = "<p>Attached is the full service history of your vehicle, line by line.</p>\n";
    let html = paragraph.repeat(6 * 1024 * 1024 / paragraph.len() + 1);
    let body = serde_json::json!({
        "type": "InboundMessage", "locationId": "l1", "conversationId": "big-email", "contactId": "c1",
        "dateAdded": "2024-05-08T11:57:42.250Z", "direction": "inbound", "messageType": "Email",
        "messageId": "big-1", "contentType": "text/html", "subject": "History", "body": html,
        "from": "Big Sender <big@example.com>"
    });
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() > 6 * 1024 * 1024);
    let (_d, mut store) = new_store();
    assert_eq!(ingest(&mut store, std::slice::from_ref(&bytes)), vec![Stored::Ok]);
    let id = store.events(false, 1).unwrap()[0].id;
    assert_eq!(store.event_body(id).unwrap().unwrap(), bytes);
    let t = thread(&store, "highlevel:big-email");
    let text = t["messages"][0]["body"].as_str().unwrap();
    assert!(text.starts_with("Attached is the full service history"));
    assert!(!text.contains("<p>"));
}

#[test]
fn ignored_events_are_stored_and_counted() {
    let (_d, mut store) = new_store();
    let r = ingest_files(
        &mut store,
        &[
            "mykaarma/customers_event.json",
            "partoo/business_updated.json",
            "highlevel/opportunity_event.json",
        ],
    );
    assert_eq!(r, vec![Stored::Ignored; 3]);
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM events WHERE outcome = 'ignored' AND reason IS NOT NULL"
        ),
        3
    );
}

#[test]
fn rebuild_gives_the_identical_result() {
    let (_d, mut store) = new_store();
    ingest(&mut store, &all_vendor_fixtures());
    ingest(&mut store, &demo_bodies());
    let before = (snapshot(&store), dump(&store));
    let report = store.rebuild().unwrap();
    assert_eq!(report.changed_outcome, 0);
    let after = (snapshot(&store), dump(&store));
    assert!(before.1.len() > 600);
    assert_eq!(before.0, after.0);
    assert_eq!(before.1, after.1);
    let fts: i64 = count(
        &store,
        "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'recall'",
    );
    assert!(fts > 0, "search index rebuilt");
}

#[test]
fn bodies_kept_compressed_read_back_byte_exact_beside_bodies_kept_as_received() {
    let mut bodies = all_vendor_fixtures();
    bodies.extend(demo_bodies());
    let (older, newer) = bodies.split_at(bodies.len() / 2);
    let (_d, mut store) = new_store();
    ingest(&mut store, older);
    // What a switchboard before compression wrote: every body as received, codec 0.
    let stored: Vec<(i64, Vec<u8>)> = store
        .events(false, 100_000)
        .unwrap()
        .iter()
        .map(|e| (e.id, store.event_body(e.id).unwrap().unwrap()))
        .collect();
    for (id, body) in &stored {
        store
            .connection()
            .execute(
                "UPDATE events SET body = ?1, body_codec = 0 WHERE id = ?2",
                rusqlite::params![body, id],
            )
            .unwrap();
    }
    ingest(&mut store, newer);

    let compressed = count(&store, "SELECT count(*) FROM events WHERE body_codec = 1");
    assert!(
        compressed * 3 > newer.len() as i64,
        "{compressed} of {} compressed",
        newer.len()
    );
    assert!(count(&store, "SELECT count(*) FROM events WHERE body_codec = 0") >= stored.len() as i64);
    let events = store.events(false, 100_000).unwrap();
    let mut got = vec![];
    for e in &events {
        let body = store.event_body(e.id).unwrap().unwrap();
        assert_eq!(e.size, body.len() as i64, "event {}: the size as received", e.id);
        assert!(bodies.contains(&body), "event {} is not byte-exact", e.id);
        got.push(body);
    }
    let ids: Vec<i64> = {
        let mut q = store
            .connection()
            .prepare("SELECT id FROM events WHERE body_codec = 1")
            .unwrap();
        q.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    let kept = count(&store, "SELECT sum(length(body)) FROM events WHERE body_codec = 1");
    let received: i64 = events.iter().filter(|e| ids.contains(&e.id)).map(|e| e.size).sum();
    assert!(kept * 2 < received, "{kept} bytes kept of {received} received");

    // Both kinds fold alike: the same as a plain ingest of the same bodies, and a rebuild,
    // which reads every body back, gives the identical rows.
    let (_d2, mut plain) = new_store();
    ingest(&mut plain, &bodies);
    assert_eq!(snapshot(&store), snapshot(&plain));
    let before = dump(&store);
    let report = store.rebuild().unwrap();
    assert_eq!(report.changed_outcome, 0);
    assert_eq!(dump(&store), before);
    let mut plain_bodies: Vec<Vec<u8>> = plain
        .events(false, 100_000)
        .unwrap()
        .iter()
        .map(|e| plain.event_body(e.id).unwrap().unwrap())
        .collect();
    plain_bodies.sort();
    got.sort();
    assert_eq!(got, plain_bodies, "the same events kept");
}

#[test]
fn chunks_spread_over_transactions_fold_as_one_batch_does() {
    let mut bodies = all_vendor_fixtures();
    bodies.extend(demo_bodies());
    let (_d1, mut whole) = new_store();
    ingest(&mut whole, &bodies);
    let (_d2, mut chunked) = new_store();
    // Chunks of 3, at least 7 events to a transaction: conversations and messages run across
    // chunk and transaction boundaries.
    let chunks = bodies.chunks(3).map(|chunk| {
        let items = incoming(chunk);
        let parsed = items
            .iter()
            .map(|i| switchboard::providers::parse(i.body(), None))
            .collect();
        (items, parsed)
    });
    let report = chunked.ingest_chunks("test", chunks, 7).unwrap();
    assert_eq!(report.total(), bodies.len() as u64);
    assert_eq!(snapshot(&whole), snapshot(&chunked));
    // An unread count without a time is as of its arrival, which differs between the two stores.
    let arrival = |s: &Store| {
        s.connection()
            .execute(
                "UPDATE conversations SET vendor_unread_at = NULL, vendor_unread_ver = NULL",
                [],
            )
            .unwrap()
    };
    assert_eq!(arrival(&whole), arrival(&chunked));
    assert_eq!(dump(&whole), dump(&chunked));
    let search = "SELECT group_concat(rowid) FROM messages_fts WHERE messages_fts MATCH 'recall OR service'";
    assert_eq!(query_text(&whole, search), query_text(&chunked, search));
    assert!(!query_text(&chunked, search).is_empty());
}

fn query_text(store: &Store, sql: &str) -> String {
    store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn search_finds_conversations_by_words_and_accents() {
    let (_d, mut store) = new_store();
    ingest_files(
        &mut store,
        &["partoo/whatsapp_upper_case.json", "mykaarma/sms_inbound.json"],
    );
    let hits = store
        .conversations(&ConversationFilter::All, Some("devis"), 10)
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].conversation_key, "partoo:40977");
    let prefix = store.conversations(&ConversationFilter::All, Some("read"), 10).unwrap();
    assert!(
        prefix[0].conversation_key.starts_with("mykaarma:"),
        "prefix match on 'ready'"
    );
    let accent = store
        .conversations(&ConversationFilter::All, Some("Bonjour le"), 10)
        .unwrap();
    assert_eq!(accent.len(), 1);
    assert!(
        store
            .conversations(&ConversationFilter::All, Some("\"); DROP"), 10)
            .unwrap()
            .is_empty()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Folding any permutation of the events, with duplicates, in batches of any size, gives the
    /// same conversations and threads.
    #[test]
    fn any_arrival_order_gives_the_same_threads(
        order in Just((0..all_vendor_fixtures().len() * 2).collect::<Vec<_>>()).prop_shuffle(),
        batch in 1usize..20,
    ) {
        let events = all_vendor_fixtures();
        let (_a, mut reference) = new_store();
        ingest(&mut reference, &events);
        let expected = snapshot(&reference);

        // Every event twice (a vendor retry), in a random order.
        let shuffled: Vec<Vec<u8>> = order.iter().map(|&i| events[i % events.len()].clone()).collect();
        let (_b, mut store) = new_store();
        for chunk in shuffled.chunks(batch) {
            ingest(&mut store, chunk);
        }
        let got = snapshot(&store);
        prop_assert!(got == expected, "order {:?} batch {}:\n{}", order, batch, difference(&expected, &got));
    }
}
