//! `update` is pure: these tests feed it actions and check the state and the effects it asks for.

use switchboard::model::{Channel, Contact, Conversation, Direction, Provider, Status, Timestamp};
use switchboard::store::{ConversationFilter, Totals};
use switchboard::tui::headless::parse_key;
use switchboard::tui::keymap::Keymap;
use switchboard::tui::state::{Focus, LIST_PAGE, Layout, State};
use switchboard::tui::update::{Action, Effect, update};

fn at(rfc3339: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn conv(id: &str, unread: i64) -> Conversation {
    Conversation {
        conversation_key: id.into(),
        provider: Provider::Partoo,
        contact: Contact {
            name: Some(id.to_uppercase()),
            phone: None,
            email: None,
        },
        channels: vec![Channel::Sms],
        last_activity: Some(at("2026-11-20T12:00:00Z")),
        preview: Some("hi".into()),
        unread,
        message_count: 1,
        failed_count: 0,
        vendor_unread: None,
        assignee: None,
        done: false,
        snoozed_until: None,
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
    assert_eq!(s.filter_word(), "mine");
    key(&mut s, &k, "f");
    assert_eq!(s.filter_word(), "unassigned");
    key(&mut s, &k, "f");
    assert_eq!(s.filter_word(), "failed");
    for _ in 0..5 {
        key(&mut s, &k, "F");
    }
    assert_eq!(s.filter_word(), "snoozed", "backwards wraps to the last filter");
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
    assert_eq!(s.selected_conversation().unwrap().conversation_key, "c");
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
    assert_eq!(s.selected_conversation().unwrap().conversation_key, "c");
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
            message_key: format!("m{i:03}"),
            provider_message_id: format!("{i}"),
            channel: Channel::Sms,
            direction: Direction::Inbound,
            at: Some(at(&format!("2026-11-20T10:{:02}:{:02}Z", i / 60, i % 60))),
            sender: None,
            subject: None,
            body: Some("x".into()),
            status: Status::Received,
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

fn message(id: &str, at: &str) -> switchboard::model::Message {
    switchboard::model::Message {
        message_key: id.into(),
        provider_message_id: id.into(),
        channel: Channel::Sms,
        direction: Direction::Inbound,
        at: Some(self::at(at)),
        sender: None,
        subject: None,
        body: Some(format!("see https://example.com/{id}.")),
        status: Status::Received,
        status_detail: None,
        attachments: vec![],
        call: None,
        draft: false,
        deleted: false,
    }
}

#[test]
fn the_list_window_never_leaves_blank_rows_under_hidden_ones() {
    use switchboard::tui::update::list_window;
    // Scrolled to the end of 30 rows in a 3-row pane, then shown in 21 rows: all of the last 21.
    assert_eq!(list_window(29, 27, 21, 30), 9);
    // Fewer rows than room: from the top.
    assert_eq!(list_window(25, 23, 40, 26), 0);
    // The selection stays visible either way.
    assert_eq!(list_window(2, 10, 5, 30), 2);
    assert_eq!(list_window(20, 0, 5, 30), 16);
}

#[test]
fn the_loop_sleeps_until_something_on_screen_would_change() {
    use switchboard::tui::update::next_tick;
    let (mut s, _k) = with_list(&["a"], 10, false);
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
        .unwrap()
        .timestamp_millis();
    // 10 s after the row's time, nothing else on screen: the row turns "1m" at 60 s.
    s.now_ms = at + 10_000;
    assert_eq!(next_tick(&s), Some(at + 60_000));
    // The status bar counts seconds for two minutes.
    s.last_event_at = Some(at + 9_500);
    assert_eq!(next_tick(&s), Some(at + 10_500));
    // Long ago, a date: no tick at all.
    s.last_event_at = None;
    s.now_ms = at + 30 * 86_400_000;
    assert_eq!(next_tick(&s), None);
}

#[test]
fn the_bell_rings_once_for_a_burst_and_at_most_every_30_seconds() {
    let (mut s, k) = with_list(&["a"], 10, false);
    s.bell = true;
    let arrive = |s: &mut State| {
        update(
            s,
            &k,
            Action::StoreChanged {
                new_inbound: 1,
                new_failures: 0,
                last_event_at: None,
            },
        )
        .iter()
        .filter(|e| matches!(e, Effect::Bell))
        .count()
    };
    s.now_ms = 1_000_000;
    assert_eq!(arrive(&mut s), 1);
    s.now_ms += 6_000;
    assert_eq!(arrive(&mut s), 0, "the demo feed's next event, 6 s later");
    s.now_ms += 30_000;
    assert_eq!(arrive(&mut s), 1);
}

/// The list's answer to query `generation`.
fn loaded(s: &mut State, k: &Keymap, generation: u64, rows: Vec<Conversation>) -> Vec<Effect> {
    update(
        s,
        k,
        Action::ListLoaded {
            generation,
            rows,
            append: false,
            totals: Totals::default(),
        },
    )
}

#[test]
fn a_message_arriving_in_the_open_thread_is_read() {
    let (mut s, k) = with_list(&["a", "b"], 10, false);
    key(&mut s, &k, "enter");
    assert_eq!(s.focus, Focus::Thread);
    let effects = update(
        &mut s,
        &k,
        Action::StoreChanged {
            new_inbound: 1,
            new_failures: 0,
            last_event_at: None,
        },
    );
    let generation = match &effects[0] {
        Effect::LoadList { generation, .. } => *generation,
        other => panic!("{other:?}"),
    };
    let effects = loaded(&mut s, &k, generation, vec![conv("a", 1), conv("b", 1)]);
    assert!(effects.contains(&Effect::MarkRead("a".into())), "{effects:?}");
    assert_eq!(s.list[0].unread, 0);
    // `u` afterwards marks it unread, and a refresh does not undo that.
    let effects = key(&mut s, &k, "u");
    assert!(effects.contains(&Effect::MarkUnread("a".into())));
    let generation = s.generation;
    let effects = loaded(&mut s, &k, generation, vec![conv("a", 1), conv("b", 1)]);
    assert!(!effects.iter().any(|e| matches!(e, Effect::MarkRead(_))), "{effects:?}");
}

#[test]
fn g_in_a_thread_loads_every_older_page_then_shows_the_first_message() {
    use switchboard::tui::state::THREAD_PAGE;
    let (mut s, k) = with_list(&["a"], 10, false);
    key(&mut s, &k, "enter");
    let page = |from: usize| -> Vec<_> {
        (from..from + THREAD_PAGE)
            .map(|i| {
                message(
                    &format!("m{i:05}"),
                    &format!("2026-11-20T{:02}:{:02}:00Z", i / 60 % 24, i % 60),
                )
            })
            .collect()
    };
    update(
        &mut s,
        &k,
        Action::ThreadLoaded {
            key: "a".into(),
            messages: page(2 * THREAD_PAGE),
            older: false,
        },
    );
    let effects = key(&mut s, &k, "g");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadThread { older: true, .. })),
        "{effects:?}"
    );
    // A full page comes back: `g` asks for the next one by itself.
    let effects = update(
        &mut s,
        &k,
        Action::ThreadLoaded {
            key: "a".into(),
            messages: page(THREAD_PAGE),
            older: true,
        },
    );
    assert!(
        matches!(&effects[..], [Effect::LoadThread { older: true, .. }]),
        "{effects:?}"
    );
    // The last, short page: complete, and the view at the very top.
    update(
        &mut s,
        &k,
        Action::ThreadLoaded {
            key: "a".into(),
            messages: page(0)[..10].to_vec(),
            older: true,
        },
    );
    let t = s.thread.as_ref().unwrap();
    assert!(t.complete && !t.to_oldest);
    assert_eq!(t.messages.len(), 2 * THREAD_PAGE + 10);
    assert!(t.scroll >= 1000, "scrolled to the top");
}

#[test]
fn links_in_a_thread_are_listed_newest_first_and_copied_whole() {
    let msgs = vec![
        message("old", "2026-11-20T08:00:00Z"),
        message("new", "2026-11-20T09:00:00Z"),
    ];
    let links = switchboard::tui::update::links_in(&msgs);
    let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(urls, ["https://example.com/new", "https://example.com/old"]);

    let (mut s, k) = with_list(&["a"], 10, false);
    key(&mut s, &k, "enter");
    update(
        &mut s,
        &k,
        Action::ThreadLoaded {
            key: "a".into(),
            messages: msgs,
            older: false,
        },
    );
    key(&mut s, &k, "o");
    assert_eq!(s.links.as_ref().unwrap().links.len(), 2);
    let effects = key(&mut s, &k, "2");
    assert_eq!(effects, vec![Effect::Copy("https://example.com/old".into())]);
    assert!(s.notice.as_deref().unwrap().ends_with("https://example.com/old"));
    assert!(s.links.is_none());
}

#[test]
fn a_hang_up_saves_the_draft_and_quits() {
    let (mut s, k) = with_list(&["a"], 10, false);
    let effects = update(&mut s, &k, Action::Hangup("the terminal hung up".into()));
    assert_eq!(effects, vec![Effect::Quit]);
}

fn with_team(ids: &[(&str, i64)]) -> (State, Keymap) {
    let names: Vec<&str> = ids.iter().map(|(i, _)| *i).collect();
    let (mut s, k) = with_list(&names, 10, false);
    for (c, (_, unread)) in s.list.iter_mut().zip(ids) {
        c.unread = *unread;
    }
    s.team = switchboard::team::Team {
        me: switchboard::team::Advisor {
            name: "Dana Reyes".into(),
            ids: Default::default(),
        },
        others: vec![switchboard::team::Advisor {
            name: "Nina Patel".into(),
            ids: Default::default(),
        }],
        people: Default::default(),
    };
    (s, k)
}

#[test]
fn d_marks_the_selected_conversation_done_and_capital_d_opens_the_next_unread() {
    let (mut s, k) = with_team(&[("a", 0), ("b", 0), ("c", 2)]);
    assert_eq!(key(&mut s, &k, "d"), vec![Effect::Done("a".into())]);
    let effects = key(&mut s, &k, "D");
    assert_eq!(effects[0], Effect::Done("a".into()));
    assert_eq!(s.selected, 2, "the next unread");
    assert_eq!(s.focus, Focus::Thread);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadThread { key, .. } if key == "c"))
    );
    // In a thread, the open conversation is the one acted on.
    assert_eq!(key(&mut s, &k, "d"), vec![Effect::Done("c".into())]);
    // The store's answer is said and the list reloads.
    let effects = update(&mut s, &k, Action::TeamDone(Ok("Done.".into())));
    assert_eq!(s.notice.as_deref(), Some("Done."));
    assert!(matches!(effects[0], Effect::LoadList { .. }));
}

#[test]
fn tab_opens_the_next_unread_and_bang_the_next_failed_wrapping() {
    let (mut s, k) = with_team(&[("a", 1), ("b", 0), ("c", 3)]);
    s.list[1].failed_count = 1;
    key(&mut s, &k, "tab");
    assert_eq!(s.selected, 2);
    key(&mut s, &k, "esc");
    key(&mut s, &k, "tab");
    assert_eq!(s.selected, 0, "wraps to the top");
    key(&mut s, &k, "esc");
    key(&mut s, &k, "!");
    assert_eq!(s.selected, 1);
    key(&mut s, &k, "esc");
    assert!(
        key(&mut s, &k, "!")
            .iter()
            .all(|e| !matches!(e, Effect::LoadThread { .. }))
    );
    assert_eq!(
        s.notice.as_deref(),
        Some("No other conversation with a failed reply in this list.")
    );
}

#[test]
fn z_n_and_capital_a_ask_on_the_bottom_line_then_act() {
    let (mut s, k) = with_team(&[("a", 0), ("b", 0)]);
    key(&mut s, &k, "z");
    for c in "tomorrow 9am".chars() {
        key(&mut s, &k, &c.to_string().replace(' ', "space"));
    }
    assert_eq!(s.prompt.as_ref().unwrap().text, "tomorrow 9am");
    assert_eq!(
        key(&mut s, &k, "enter"),
        vec![Effect::Snooze {
            key: "a".into(),
            until: "tomorrow 9am".into()
        }]
    );
    assert!(s.prompt.is_none());

    // Esc cancels; `n` is for threads only.
    key(&mut s, &k, "z");
    key(&mut s, &k, "esc");
    assert!(s.prompt.is_none());
    assert!(key(&mut s, &k, "n").is_empty() && s.prompt.is_none());
    key(&mut s, &k, "enter");
    key(&mut s, &k, "n");
    for c in ["h", "i"] {
        key(&mut s, &k, c);
    }
    assert_eq!(
        key(&mut s, &k, "enter"),
        vec![Effect::Note {
            key: "a".into(),
            text: "hi".into()
        }]
    );

    // `A` finds a colleague by a prefix of their name; empty means nobody; a stranger is refused.
    key(&mut s, &k, "A");
    key(&mut s, &k, "n");
    key(&mut s, &k, "i");
    let effects = key(&mut s, &k, "enter");
    assert!(
        matches!(&effects[..], [Effect::Assign { key, to: Some(to), .. }] if key == "a" && to.name == "Nina Patel")
    );
    key(&mut s, &k, "A");
    assert!(matches!(
        &key(&mut s, &k, "enter")[..],
        [Effect::Assign { to: None, .. }]
    ));
    key(&mut s, &k, "A");
    key(&mut s, &k, "x");
    assert!(key(&mut s, &k, "enter").is_empty());
    assert!(s.notice.as_deref().unwrap().contains("nobody called `x`"));

    // `a` takes it myself.
    assert!(matches!(&key(&mut s, &k, "a")[..], [Effect::Assign { to: Some(me), .. }] if me.name == "Dana Reyes"));
}

#[test]
fn a_snoozed_conversation_coming_back_reloads_the_list_on_its_tick() {
    let (mut s, k) = with_team(&[("a", 0)]);
    let generation = s.generation;
    update(
        &mut s,
        &k,
        Action::ListLoaded {
            generation,
            rows: vec![conv("a", 0)],
            append: false,
            totals: Totals {
                next_snooze_end: Some(5_000),
                ..Totals::default()
            },
        },
    );
    assert_eq!(switchboard::tui::update::next_tick(&s), Some(5_000));
    assert!(update(&mut s, &k, Action::Tick(4_000)).is_empty());
    assert!(matches!(
        update(&mut s, &k, Action::Tick(5_000))[..],
        [Effect::LoadList { .. }]
    ));
}

/// Replying in conversation `a` (contact "A"), with `templates`.
fn replying(templates: Vec<switchboard::templates::Template>) -> (State, Keymap) {
    let (mut s, k) = with_team(&[("a", 0)]);
    s.list[0].contact.name = Some("Maria Lopez".into());
    s.templates = templates;
    s.dealership = Some("Riverside Auto".into());
    key(&mut s, &k, "enter");
    update(
        &mut s,
        &k,
        Action::DraftLoaded {
            key: "a".into(),
            draft: switchboard::outbox::Draft {
                conversation_key: "a".into(),
                draft_id: "d1".into(),
                channel: Channel::Sms,
                subject: None,
                body: "Hello. ".into(),
                options: Default::default(),
            },
            addressing: switchboard::tui::compose::Addressing {
                channels: vec![Channel::Sms],
                phone: Some("3105550100".into()),
                ..Default::default()
            },
        },
    );
    key(&mut s, &k, "r");
    assert_eq!(s.focus, Focus::Compose);
    (s, k)
}

fn template(name: &str, body: &str) -> switchboard::templates::Template {
    switchboard::templates::Template {
        name: name.into(),
        body: body.into(),
    }
}

#[test]
fn ctrl_p_picks_a_template_and_inserts_it_expanded_at_the_cursor() {
    let (mut s, k) = replying(vec![]);
    key(&mut s, &k, "ctrl-p");
    assert!(s.template_picker.is_none());
    assert!(s.notice.as_deref().unwrap().starts_with("No reply templates yet"));

    let (mut s, k) = replying(vec![
        template("Ready", "Your car is ready, {first_name}."),
        template("Thanks", "Thanks {first_name}! — {me}, {dealership}"),
    ]);
    key(&mut s, &k, "ctrl-p");
    assert_eq!(s.template_picker, Some(0));
    key(&mut s, &k, "j");
    assert_eq!(s.template_picker, Some(1));
    key(&mut s, &k, "enter");
    assert!(s.template_picker.is_none());
    let c = s.compose.as_ref().unwrap();
    assert_eq!(c.body.text(), "Hello. Thanks Maria! — Dana Reyes, Riverside Auto");
    assert!(c.unsaved_since.is_some(), "the draft is saved soon after");
    // Esc closes the picker without inserting; a digit inserts that template.
    key(&mut s, &k, "ctrl-p");
    key(&mut s, &k, "esc");
    assert!(s.template_picker.is_none());
    assert_eq!(s.focus, Focus::Compose);
    key(&mut s, &k, "ctrl-p");
    key(&mut s, &k, "1");
    assert!(
        s.compose
            .as_ref()
            .unwrap()
            .body
            .text()
            .ends_with("Your car is ready, Maria.")
    );
}

#[test]
fn a_variable_not_known_here_is_said_and_blocks_the_send_until_filled_in() {
    let (mut s, k) = replying(vec![template("Ready", "Your {vehicle} is ready.")]);
    key(&mut s, &k, "ctrl-p");
    key(&mut s, &k, "enter");
    assert_eq!(
        s.notice.as_deref(),
        Some("Fill in {vehicle} before sending: not known for this conversation.")
    );
    assert!(key(&mut s, &k, "ctrl-s").is_empty());
    assert!(
        s.notice.as_deref().unwrap().contains("Fill in {vehicle} first"),
        "{:?}",
        s.notice
    );
}
