//! `update` is pure: these tests feed it actions and check the state and the effects it asks for.

use switchboard::model::{Contact, Conversation};
use switchboard::store::{ConversationFilter, Totals};
use switchboard::tui::headless::parse_key;
use switchboard::tui::keymap::Keymap;
use switchboard::tui::state::{Focus, LIST_PAGE, Layout, State};
use switchboard::tui::update::{Action, Effect, update};

fn conv(id: &str, unread: i64) -> Conversation {
    Conversation {
        id: id.into(),
        provider: "partoo".into(),
        contact: Contact {
            name: Some(id.to_uppercase()),
            phone: None,
            email: None,
        },
        channels: vec!["sms".into()],
        last_activity: Some("2026-11-20T12:00:00Z".into()),
        preview: Some("hi".into()),
        unread,
        message_count: 1,
        failed_count: 0,
    }
}

/// A state showing `ids` with room for `rows` list rows.
fn with_list(ids: &[&str], rows: usize, wide: bool) -> (State, Keymap) {
    let mut s = State::new(0);
    let k = Keymap::default();
    let start = switchboard::tui::update::start(&mut s);
    assert!(matches!(start[0], Effect::LoadList { .. }));
    update(
        &mut s,
        &k,
        Action::Layout(Layout {
            list_rows: rows,
            thread_rows: 10,
            thread_lines: 0,
            wide,
            help_max_scroll: 0,
        }),
    );
    let generation = s.generation;
    update(
        &mut s,
        &k,
        Action::ListLoaded {
            generation,
            rows: ids.iter().map(|i| conv(i, 1)).collect(),
            append: false,
            totals: Totals::default(),
        },
    );
    (s, k)
}

fn key(s: &mut State, k: &Keymap, name: &str) -> Vec<Effect> {
    update(s, k, Action::Key(parse_key(name)))
}

#[test]
fn navigation_clamps_and_scrolls_the_list() {
    let ids: Vec<String> = (0..30).map(|i| format!("c{i:02}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let (mut s, k) = with_list(&refs, 10, false);
    key(&mut s, &k, "k");
    assert_eq!(s.selected, 0, "cannot go above the first row");
    for _ in 0..12 {
        key(&mut s, &k, "j");
    }
    assert_eq!(s.selected, 12);
    assert_eq!(s.list_offset, 3, "the selection stays visible");
    key(&mut s, &k, "G");
    assert_eq!((s.selected, s.list_offset), (29, 20));
    key(&mut s, &k, "pageup");
    assert_eq!(s.selected, 19);
    key(&mut s, &k, "g");
    assert_eq!((s.selected, s.list_offset), (0, 0));
    key(&mut s, &k, "down");
    assert_eq!(s.selected, 1, "arrow keys work like vim keys");
}

#[test]
fn filters_cycle_and_reload_from_the_top() {
    let (mut s, k) = with_list(&["a", "b", "c"], 10, false);
    key(&mut s, &k, "j");
    let effects = key(&mut s, &k, "f");
    assert_eq!(s.filter_word(), "unread");
    assert_eq!(s.selected, 0);
    assert!(matches!(
        &effects[..],
        [Effect::LoadList {
            filter: ConversationFilter::Unread,
            append: false,
            ..
        }]
    ));
    key(&mut s, &k, "f");
    assert_eq!(s.filter_word(), "failed");
    key(&mut s, &k, "F");
    key(&mut s, &k, "F");
    key(&mut s, &k, "F");
    assert_eq!(s.filter_word(), "partoo", "backwards wraps to the last filter");
    let effects = key(&mut s, &k, "esc");
    assert_eq!(s.filter_word(), "all", "Esc clears the filter");
    assert!(matches!(
        &effects[..],
        [Effect::LoadList {
            filter: ConversationFilter::All,
            ..
        }]
    ));
}

#[test]
fn answers_to_replaced_queries_are_dropped() {
    let (mut s, k) = with_list(&["a", "b"], 10, false);
    let stale = s.generation;
    key(&mut s, &k, "f");
    update(
        &mut s,
        &k,
        Action::ListLoaded {
            generation: stale,
            rows: vec![conv("zzz", 0)],
            append: false,
            totals: Totals::default(),
        },
    );
    assert_eq!(s.list.len(), 2, "the old answer did not replace the list");
}

#[test]
fn paging_loads_the_next_page_near_the_end() {
    let ids: Vec<String> = (0..LIST_PAGE).map(|i| format!("c{i:03}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let (mut s, k) = with_list(&refs, 20, false);
    assert!(!s.list_complete);
    let mut asked = None;
    for _ in 0..LIST_PAGE {
        for e in key(&mut s, &k, "j") {
            if let Effect::LoadList {
                append: true, after, ..
            } = e
            {
                asked = after;
            }
        }
        if asked.is_some() {
            break;
        }
    }
    let (at, after_key) = asked.expect("a next page was asked for");
    assert_eq!(
        after_key,
        format!("c{:03}", LIST_PAGE - 1),
        "keyset: after the last loaded row"
    );
    assert_eq!(
        at,
        chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .unwrap()
            .timestamp_millis()
    );
    assert!(s.selected + 20 >= LIST_PAGE);
    let generation = s.generation;
    update(
        &mut s,
        &k,
        Action::ListLoaded {
            generation,
            rows: vec![conv("last", 0)],
            append: true,
            totals: Totals::default(),
        },
    );
    assert_eq!(s.list.len(), LIST_PAGE + 1);
    assert!(s.list_complete);
}

#[test]
fn live_refresh_keeps_the_selection_on_the_same_conversation() {
    let (mut s, k) = with_list(&["a", "b", "c", "d"], 10, false);
    key(&mut s, &k, "j");
    key(&mut s, &k, "j");
    assert_eq!(s.selected_conversation().unwrap().id, "c");
    let effects = update(
        &mut s,
        &k,
        Action::StoreChanged {
            new_inbound: 1,
            new_failures: 0,
            last_event_at: Some(5),
        },
    );
    assert!(effects.contains(&Effect::Bell), "a new inbound message rings the bell");
    let Some(Effect::LoadList { generation, .. }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    // A new conversation arrived on top and `c` moved down.
    let rows = ["new", "a", "b", "c", "d"].iter().map(|i| conv(i, 1)).collect();
    update(
        &mut s,
        &k,
        Action::ListLoaded {
            generation,
            rows,
            append: false,
            totals: Totals::default(),
        },
    );
    assert_eq!(s.selected_conversation().unwrap().id, "c");
    assert_eq!(s.selected, 3);
    s.bell = false;
    let quiet = update(
        &mut s,
        &k,
        Action::StoreChanged {
            new_inbound: 0,
            new_failures: 2,
            last_event_at: None,
        },
    );
    assert!(!quiet.contains(&Effect::Bell), "the bell can be turned off");
}

#[test]
fn opening_marks_read_and_back_returns() {
    let (mut s, k) = with_list(&["a", "b"], 10, false);
    let effects = key(&mut s, &k, "enter");
    assert_eq!(s.focus, Focus::Thread);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadThread { key, before: None, older: false, .. } if key == "a"))
    );
    assert!(effects.contains(&Effect::MarkRead("a".into())));
    assert_eq!(s.list[0].unread, 0, "shown read at once");
    let effects = key(&mut s, &k, "u");
    assert_eq!(effects, vec![Effect::MarkUnread("a".into())]);
    key(&mut s, &k, "esc");
    assert_eq!(s.focus, Focus::List);
    assert!(s.thread.is_none(), "narrow screens close the thread");
}

#[test]
fn scrolling_up_a_thread_asks_for_the_page_before() {
    let (mut s, k) = with_list(&["a"], 10, true);
    key(&mut s, &k, "enter");
    let messages: Vec<_> = (0..200)
        .map(|i| switchboard::model::Message {
            id: format!("m{i:03}"),
            provider_message_id: format!("{i}"),
            channel: "sms".into(),
            direction: "inbound".into(),
            at: Some(format!("2026-11-20T10:{:02}:{:02}Z", i / 60, i % 60)),
            sender: None,
            subject: None,
            body: Some("x".into()),
            status: "received".into(),
            status_detail: None,
            attachments: vec![],
            call: None,
            draft: false,
            deleted: false,
        })
        .collect();
    update(
        &mut s,
        &k,
        Action::ThreadLoaded {
            key: "a".into(),
            messages,
            older: false,
        },
    );
    update(
        &mut s,
        &k,
        Action::Layout(Layout {
            list_rows: 10,
            thread_rows: 20,
            thread_lines: 600,
            wide: true,
            help_max_scroll: 0,
        }),
    );
    let mut asked = vec![];
    for _ in 0..40 {
        asked.extend(key(&mut s, &k, "pageup"));
    }
    let older: Vec<_> = asked
        .iter()
        .filter(|e| matches!(e, Effect::LoadThread { older: true, .. }))
        .collect();
    assert_eq!(older.len(), 1, "asked once, not once per key: {older:?}");
    assert!(matches!(older[0], Effect::LoadThread { before: Some((_, key)), .. } if key == "m000"));
}

#[test]
fn search_is_typed_then_submitted() {
    let (mut s, k) = with_list(&["a"], 10, false);
    key(&mut s, &k, "/");
    for c in ["t", "i", "r", "e", "s", "backspace"] {
        key(&mut s, &k, c);
    }
    assert_eq!(s.input.as_deref(), Some("tire"));
    // Keys type while searching: `q` is a letter here, not quit.
    assert!(key(&mut s, &k, "q").is_empty());
    key(&mut s, &k, "backspace");
    let effects = key(&mut s, &k, "enter");
    assert_eq!(s.search.as_deref(), Some("tire"));
    assert!(matches!(&effects[..], [Effect::LoadList { search: Some(q), .. }] if q == "tire"));
    let effects = key(&mut s, &k, "esc");
    assert_eq!(s.search, None, "Esc clears the search");
    assert_eq!(effects.len(), 1);
    assert_eq!(key(&mut s, &k, "q"), vec![Effect::Quit]);
}
