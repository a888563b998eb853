//! The inbox's behaviour as one pure function: `update(&mut State, Action) -> Vec<Effect>`. Keys,
//! query results and store changes arrive as actions; queries, marks and the bell leave as effects,
//! which run elsewhere and come back as actions. Nothing here touches a terminal or a database.

use super::keymap::{Command, Context, Keymap};
use super::state::{FILTERS, Focus, LIST_PAGE, Layout, State, THREAD_PAGE, ThreadView};
use crate::model::{Conversation, Message};
use crate::store::{ConversationFilter, Totals};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Key(KeyEvent),
    /// The last frame's geometry.
    Layout(Layout),
    Tick(i64),
    ListLoaded {
        generation: u64,
        rows: Vec<Conversation>,
        append: bool,
        totals: Totals,
    },
    ThreadLoaded {
        key: String,
        messages: Vec<Message>,
        older: bool,
    },
    /// Another writer committed: `new_inbound` messages and `new_failures` arrived since last time.
    StoreChanged {
        new_inbound: i64,
        new_failures: i64,
        last_event_at: Option<i64>,
    },
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadList {
        generation: u64,
        filter: ConversationFilter,
        search: Option<String>,
        after: Option<(i64, String)>,
        limit: usize,
        append: bool,
    },
    LoadThread {
        key: String,
        before: Option<(i64, String)>,
        limit: usize,
        older: bool,
    },
    MarkRead(String),
    MarkUnread(String),
    Bell,
    Quit,
}

/// The first effects: load the list.
pub fn start(state: &mut State) -> Vec<Effect> {
    vec![reload_list(state, LIST_PAGE)]
}

pub fn update(state: &mut State, keymap: &Keymap, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(state, keymap, key),
        Action::Layout(layout) => {
            if layout != state.layout {
                state.layout = layout;
                clamp_list(state);
                state.dirty = true;
            }
            more_thread(state)
        }
        Action::Tick(now) => {
            // Relative times show minutes at best resolution: redraw when the minute turns.
            if now / 60_000 != state.now_ms / 60_000 || state.last_event_at.is_some() {
                state.dirty = true;
            }
            state.now_ms = now;
            vec![]
        }
        Action::ListLoaded {
            generation,
            rows,
            append,
            totals,
        } => {
            if generation != state.generation {
                return vec![]; // an answer to a query that has since been replaced
            }
            let keep = state.selected_conversation().map(|c| c.id.clone());
            let got = rows.len();
            if append {
                state.list.extend(rows);
            } else {
                state.list = rows;
            }
            state.list_complete = got
                < if append {
                    LIST_PAGE
                } else {
                    state.list.len().max(LIST_PAGE)
                };
            state.list_loading = false;
            state.totals = totals;
            state.loaded_once = true;
            // Live refreshes keep the selection on the same conversation wherever it moved.
            if let Some(key) = keep {
                if let Some(i) = state.list.iter().position(|c| c.id == key) {
                    state.selected = i;
                }
            }
            clamp_list(state);
            state.dirty = true;
            let mut effects = vec![];
            if state.layout.wide && state.thread.is_none() {
                effects.extend(open_selected(state, false));
            }
            effects
        }
        Action::ThreadLoaded { key, messages, older } => {
            let Some(t) = state.thread.as_mut().filter(|t| t.key == key) else {
                return vec![];
            };
            if older {
                t.complete = messages.len() < THREAD_PAGE;
                t.loading_older = false;
                let mut all = messages;
                all.append(&mut t.messages);
                t.messages = all;
            } else {
                // A refresh of the newest page: keep older pages already loaded before it.
                let first_new = messages.first().map(|m| (m.at.clone(), m.id.clone()));
                let keep: Vec<Message> = match first_new {
                    Some(first) => t
                        .messages
                        .iter()
                        .filter(|m| (m.at.clone(), m.id.clone()) < first)
                        .cloned()
                        .collect(),
                    None => vec![],
                };
                if t.messages.is_empty() {
                    t.complete = messages.len() < THREAD_PAGE;
                }
                t.messages = keep.into_iter().chain(messages).collect();
            }
            state.dirty = true;
            vec![]
        }
        Action::StoreChanged {
            new_inbound,
            new_failures,
            last_event_at,
        } => {
            state.last_event_at = last_event_at.or(state.last_event_at);
            state.dirty = true;
            let mut effects = vec![reload_list(state, state.list.len().max(LIST_PAGE))];
            if let Some(t) = &state.thread {
                effects.push(Effect::LoadThread {
                    key: t.key.clone(),
                    before: None,
                    limit: THREAD_PAGE,
                    older: false,
                });
            }
            if state.bell && (new_inbound > 0 || new_failures > 0) {
                effects.push(Effect::Bell);
            }
            effects
        }
        Action::Failed(why) => {
            state.notice = Some(why);
            state.list_loading = false;
            state.dirty = true;
            vec![]
        }
    }
}

fn on_key(state: &mut State, keymap: &Keymap, key: KeyEvent) -> Vec<Effect> {
    state.dirty = true;
    state.notice = None;
    if state.input.is_some() {
        return on_search_key(state, key);
    }
    if state.help {
        // Any key closes the help; quit still quits.
        state.help = false;
        return match keymap.command(&key, Context::Everywhere) {
            Some(Command::Quit) => vec![Effect::Quit],
            _ => vec![],
        };
    }
    let context = match state.focus {
        Focus::List => Context::List,
        Focus::Thread => Context::Thread,
    };
    let Some(command) = keymap.command(&key, context) else {
        state.dirty = false;
        return vec![];
    };
    match (command, state.focus) {
        (Command::Quit, _) => vec![Effect::Quit],
        (Command::Help, _) => {
            state.help = true;
            vec![]
        }
        (Command::Search, _) => {
            state.input = Some(state.search.clone().unwrap_or_default());
            vec![]
        }
        (Command::NextFilter, _) => cycle_filter(state, 1),
        (Command::PrevFilter, _) => cycle_filter(state, FILTERS.len() - 1),
        (Command::ToggleRead, _) => toggle_read(state),
        (Command::Back, Focus::Thread) => {
            state.focus = Focus::List;
            if !state.layout.wide {
                state.thread = None;
            }
            vec![]
        }
        (Command::Back, Focus::List) => {
            if state.search.is_some() {
                state.search = None;
                return vec![reload_list(state, LIST_PAGE)];
            }
            if state.filter != 0 {
                state.filter = 0;
                return vec![reload_list(state, LIST_PAGE)];
            }
            vec![]
        }
        (Command::Open, Focus::List) => open_selected(state, true),
        (Command::Open, Focus::Thread) => vec![],
        (c, Focus::List) => move_list(state, c),
        (c, Focus::Thread) => scroll_thread(state, c),
    }
}

fn on_search_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let input = state.input.as_mut().expect("search line is open");
    match key.code {
        KeyCode::Esc => {
            state.input = None;
            vec![]
        }
        KeyCode::Enter => {
            let text = state.input.take().unwrap_or_default();
            let text = text.trim();
            state.search = (!text.is_empty()).then(|| text.to_string());
            state.focus = Focus::List;
            vec![reload_list(state, LIST_PAGE)]
        }
        KeyCode::Backspace => {
            input.pop();
            vec![]
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            state.input = None;
            vec![]
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.clear();
            vec![]
        }
        KeyCode::Char(c) if !c.is_control() && input.chars().count() < 200 => {
            input.push(c);
            vec![]
        }
        _ => vec![],
    }
}

fn reload_list(state: &mut State, limit: usize) -> Effect {
    state.generation += 1;
    state.list_loading = true;
    Effect::LoadList {
        generation: state.generation,
        filter: state.store_filter(),
        search: state.search.clone(),
        after: None,
        limit,
        append: false,
    }
}

fn cycle_filter(state: &mut State, step: usize) -> Vec<Effect> {
    state.filter = (state.filter + step) % FILTERS.len();
    state.selected = 0;
    state.list_offset = 0;
    vec![reload_list(state, LIST_PAGE)]
}

fn toggle_read(state: &mut State) -> Vec<Effect> {
    let target = match (&state.focus, &state.thread) {
        (Focus::Thread, Some(t)) => state.list.iter_mut().find(|c| c.id == t.key),
        _ => state.list.get_mut(state.selected),
    };
    let Some(c) = target else { return vec![] };
    // Show the change at once; the store's answer arrives with the next refresh.
    if c.unread > 0 {
        c.unread = 0;
        vec![Effect::MarkRead(c.id.clone())]
    } else {
        c.unread = 1;
        vec![Effect::MarkUnread(c.id.clone())]
    }
}

fn open_selected(state: &mut State, focus: bool) -> Vec<Effect> {
    let Some(c) = state.list.get_mut(state.selected) else {
        return vec![];
    };
    let key = c.id.clone();
    let was_unread = c.unread > 0 && focus;
    if focus {
        c.unread = 0;
        state.focus = Focus::Thread;
    }
    if state.thread.as_ref().is_some_and(|t| t.key == key) {
        return if was_unread {
            vec![Effect::MarkRead(key)]
        } else {
            vec![]
        };
    }
    state.thread = Some(ThreadView {
        key: key.clone(),
        messages: vec![],
        complete: false,
        loading_older: false,
        scroll: 0,
    });
    let mut effects = vec![Effect::LoadThread {
        key: key.clone(),
        before: None,
        limit: THREAD_PAGE,
        older: false,
    }];
    // Opening a thread marks it read.
    if was_unread {
        effects.push(Effect::MarkRead(key));
    }
    effects
}

fn move_list(state: &mut State, command: Command) -> Vec<Effect> {
    let last = state.list.len().saturating_sub(1);
    let page = state.layout.list_rows.max(1);
    let before = state.selected;
    state.selected = match command {
        Command::Down => (state.selected + 1).min(last),
        Command::Up => state.selected.saturating_sub(1),
        Command::PageDown => (state.selected + page).min(last),
        Command::PageUp => state.selected.saturating_sub(page),
        Command::Top => 0,
        Command::Bottom => last,
        _ => state.selected,
    };
    clamp_list(state);
    let mut effects = vec![];
    if state.selected != before && state.layout.wide {
        // Side by side, the thread follows the selection.
        effects.extend(open_selected(state, false));
    }
    // Near the end of what is loaded: fetch the next page.
    if !state.list_complete && !state.list_loading && state.selected + page >= state.list.len() {
        if let Some(c) = state.list.last() {
            state.list_loading = true;
            let at = c
                .last_activity
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis());
            effects.push(Effect::LoadList {
                generation: state.generation,
                filter: state.store_filter(),
                search: state.search.clone(),
                after: Some((at.unwrap_or(0), c.id.clone())),
                limit: LIST_PAGE,
                append: true,
            });
        }
    }
    effects
}

/// Keep the selection inside the list and visible.
fn clamp_list(state: &mut State) {
    state.selected = state.selected.min(state.list.len().saturating_sub(1));
    let rows = state.layout.list_rows.max(1);
    if state.selected < state.list_offset {
        state.list_offset = state.selected;
    } else if state.selected >= state.list_offset + rows {
        state.list_offset = state.selected + 1 - rows;
    }
}

fn scroll_thread(state: &mut State, command: Command) -> Vec<Effect> {
    let rows = state.layout.thread_rows.max(1);
    let max = state.layout.thread_lines.saturating_sub(rows);
    let Some(t) = state.thread.as_mut() else { return vec![] };
    t.scroll = match command {
        Command::Up => t.scroll + 1,
        Command::Down => t.scroll.saturating_sub(1),
        Command::PageUp => t.scroll + rows.saturating_sub(1).max(1),
        Command::PageDown => t.scroll.saturating_sub(rows.saturating_sub(1).max(1)),
        Command::Top => usize::MAX / 2,
        Command::Bottom => 0,
        _ => t.scroll,
    }
    .min(if t.complete { max } else { max + rows });
    more_thread(state)
}

/// Scrolled to the top of what is loaded: fetch the page before it.
fn more_thread(state: &mut State) -> Vec<Effect> {
    let rows = state.layout.thread_rows.max(1);
    let lines = state.layout.thread_lines;
    let Some(t) = state.thread.as_mut() else { return vec![] };
    if t.complete || t.loading_older || t.messages.is_empty() || t.scroll + rows < lines {
        return vec![];
    }
    let first = &t.messages[0];
    let at = first
        .at
        .as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp_millis());
    t.loading_older = true;
    vec![Effect::LoadThread {
        key: t.key.clone(),
        before: Some((at.unwrap_or(0), first.id.clone())),
        limit: THREAD_PAGE,
        older: true,
    }]
}
