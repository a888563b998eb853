//! The inbox's behaviour as one pure function: `update(&mut State, Action) -> Vec<Effect>`. Keys,
//! query results and store changes arrive as actions; queries, marks and the bell leave as effects,
//! which run elsewhere and come back as actions. Nothing here touches a terminal or a database.

use super::compose::{Addressing, Compose, Field, Stage};
use super::keymap::{Command, Context, Keymap};
use super::state::{FILTERS, Focus, LIST_PAGE, Layout, Link, LinkPicker, PromptKind, State, THREAD_PAGE, ThreadView};
use super::team_keys::{ask, assign, current_key, jump, nothing_chosen, on_prompt_key, on_template_key};
use crate::model::{Conversation, Direction, Message};
use crate::outbox::{Draft, NewSend, OutboxEntry, OutboxStatus};
use crate::store::{ConversationFilter, Totals};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Key(KeyEvent),
    /// The terminal changed size.
    Resize,
    /// Frames were dropped for a slow link (a remote session): draw everything again.
    Repaint,
    /// The terminal or the session is gone (end of input, SIGHUP, SIGTERM, SIGINT): save and go.
    Hangup(String),
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
    /// A conversation's draft (a fresh one when none was saved) and where its replies go.
    DraftLoaded {
        key: String,
        draft: Draft,
        addressing: Addressing,
    },
    /// The outbox took (or, for a draft sent before, had already taken) a reply.
    Enqueued {
        key: String,
        draft_id: String,
        result: Result<bool, String>,
        next_draft_id: String,
    },
    /// Saving a draft failed (a full disk, say): it stays unsaved, to be tried again.
    DraftNotSaved {
        key: String,
        why: String,
    },
    /// A send attempt finished on the outbox worker.
    SendDone(Result<OutboxEntry, String>),
    /// `$EDITOR` closed: the text it left, or why it could not run.
    EditorDone {
        key: String,
        result: Result<String, String>,
    },
    /// A team action (done, snooze, note, assign) was stored: what happened, in words, or why not.
    TeamDone(Result<String, String>),
    /// Something to tell the reader on the message line (a remote session's time running out).
    Notice(String),
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
    LoadDraft(String),
    SaveDraft(Draft),
    /// Put the reply in the outbox (committed before anything is sent) and hand it to the sender.
    Send(NewSend),
    /// Suspend the screen and edit `text` in `$EDITOR` (run by the terminal loop).
    Editor {
        key: String,
        text: String,
    },
    Bell,
    /// Put text on the user's clipboard (OSC 52, which crosses SSH and tmux).
    Copy(String),
    /// Another process may have written the database (the file watcher saw it): look.
    LookForWrites,
    /// Forget what the terminal shows and draw it whole (run by the terminal loop).
    Repaint,
    /// Mark a conversation done.
    Done(String),
    /// Snooze a conversation until a time as typed (read in the reader's time zone).
    Snooze {
        key: String,
        until: String,
    },
    /// Write an internal note as the reader.
    Note {
        key: String,
        text: String,
    },
    /// Assign a conversation (to nobody when `to` is `None`) here, and tell its vendor where it can be told.
    Assign {
        key: String,
        provider: crate::model::Provider,
        to: Option<crate::team::Advisor>,
    },
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
                // Only what the new geometry moves needs a frame: the list's window.
                let before = (state.selected, state.list_offset);
                state.layout = layout;
                clamp_list(state);
                if (state.selected, state.list_offset) != before {
                    state.dirty = true;
                }
            }
            if let Some(t) = state.thread.as_mut().filter(|t| t.complete) {
                let max = layout.thread_lines.saturating_sub(layout.thread_rows);
                if t.scroll > max {
                    t.scroll = max;
                    state.dirty = true;
                }
            }
            more_thread(state)
        }
        Action::Resize => {
            state.dirty = true;
            vec![]
        }
        Action::Repaint => {
            state.dirty = true;
            vec![Effect::Repaint]
        }
        Action::Hangup(_) => {
            let mut effects = save_draft(state);
            effects.push(Effect::Quit);
            effects
        }
        Action::Tick(now) => {
            // Ticks come only when a relative time on screen turns over (see `next_tick`).
            state.dirty = true;
            state.now_ms = now;
            if state.next_snooze_end.is_some_and(|end| end <= now) {
                // A snoozed conversation is back.
                state.next_snooze_end = None;
                return vec![reload_list(state, state.list.len().max(LIST_PAGE))];
            }
            match &state.compose {
                Some(c) if c.stage == Stage::Writing && c.unsaved_since.is_some_and(|t| now - t >= DRAFT_SAVE_MS) => {
                    save_draft(state)
                }
                _ => vec![],
            }
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
            let keep = state.selected_conversation().map(|c| c.conversation_key.clone());
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
            state.next_snooze_end = totals.next_snooze_end;
            state.loaded_once = true;
            // Live refreshes keep the selection on the same conversation wherever it moved.
            if let Some(key) = keep
                && let Some(i) = state.list.iter().position(|c| c.conversation_key == key)
            {
                state.selected = i;
            }
            clamp_list(state);
            state.dirty = true;
            let mut effects = vec![];
            if state.layout.wide && state.thread.is_none() {
                effects.extend(open_selected(state, false));
            }
            if std::mem::take(&mut state.read_on_arrival) && state.focus != Focus::List {
                // The thread being read got a new message: it has been seen.
                let open = state.thread.as_ref().map(|t| t.key.clone());
                if let Some(c) = state
                    .list
                    .iter_mut()
                    .find(|c| Some(&c.conversation_key) == open.as_ref() && c.unread > 0)
                {
                    c.unread = 0;
                    effects.push(Effect::MarkRead(c.conversation_key.clone()));
                }
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
                if t.to_oldest {
                    // `g`: on to the very first message, a page at a time.
                    state.dirty = true;
                    if t.complete {
                        t.to_oldest = false;
                        t.scroll = usize::MAX / 2; // the top; the next frame's layout pins it
                    } else {
                        return older_page(t);
                    }
                }
            } else {
                // A refresh of the newest page: keep older pages already loaded before it.
                let first_new = messages.first().map(|m| (m.at, m.message_key.clone()));
                let keep: Vec<Message> = match first_new {
                    Some(first) => t
                        .messages
                        .iter()
                        .filter(|m| (m.at, m.message_key.clone()) < first)
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
            if new_inbound > 0 && state.thread.is_some() && state.focus != Focus::List {
                state.read_on_arrival = true;
            }
            let mut effects = reload_shown(state);
            if new_inbound > 0 || new_failures > 0 {
                effects.extend(ring(state));
            }
            effects
        }
        Action::Failed(why) => {
            state.notice = Some(why);
            state.list_loading = false;
            state.dirty = true;
            vec![]
        }
        Action::Notice(words) => {
            state.dirty = true;
            state.notice = Some(words);
            vec![]
        }
        Action::TeamDone(result) => {
            state.dirty = true;
            state.notice = Some(match result {
                Ok(words) | Err(words) => words,
            });
            reload_shown(state)
        }
        Action::DraftLoaded { key, draft, addressing } => {
            let open = state.thread.as_ref().is_some_and(|t| t.key == key);
            if open && state.compose.as_ref().is_none_or(|c| c.conversation_key != key) {
                state.compose = Some(Compose::from_draft(&draft, addressing));
                state.dirty = true;
            }
            vec![]
        }
        Action::Enqueued {
            key,
            draft_id,
            result,
            next_draft_id,
        } => {
            state.dirty = true;
            let Some(c) = state
                .compose
                .as_mut()
                .filter(|c| c.conversation_key == key && c.draft_id == draft_id)
            else {
                return vec![];
            };
            match result {
                Ok(created) => {
                    *c = c.next(next_draft_id);
                    state.focus = Focus::Thread;
                    if !created {
                        state.notice = Some("This draft was already sent from another window; not sent again.".into());
                    }
                    let mut effects = vec![Effect::LoadThread {
                        key: key.clone(),
                        before: None,
                        limit: THREAD_PAGE,
                        older: false,
                    }];
                    if let Some(t) = state.thread.as_mut() {
                        t.scroll = 0; // show the reply where it appears
                    }
                    effects.push(reload_list(state, state.list.len().max(LIST_PAGE)));
                    effects
                }
                Err(why) => {
                    c.stage = Stage::Writing;
                    state.notice = Some(format!("not sent: {why}"));
                    vec![]
                }
            }
        }
        Action::DraftNotSaved { key, why } => {
            let now = state.now_ms;
            if let Some(c) = state.compose.as_mut().filter(|c| c.conversation_key == key) {
                c.unsaved_since.get_or_insert(now);
            }
            state.notice = Some(format!(
                "The draft could not be saved: {why}. It stays here; if the inbox closes before it can be saved, it is printed on the way out."
            ));
            state.dirty = true;
            vec![]
        }
        Action::SendDone(result) => {
            let failed = match &result {
                Ok(e) if e.status == OutboxStatus::Failed => {
                    Some(e.explanation().unwrap_or_else(|| "myKaarma refused it".into()))
                }
                Ok(_) => None,
                Err(why) => Some(why.clone()),
            };
            match failed {
                Some(why) => {
                    state.notice = Some(format!("reply not sent: {why}"));
                    state.dirty = true;
                    ring(state)
                }
                None => vec![],
            }
        }
        Action::EditorDone { key, result } => {
            state.dirty = true;
            let Some(c) = state.compose.as_mut().filter(|c| c.conversation_key == key) else {
                return vec![];
            };
            match result {
                Ok(text) => {
                    let text = text.trim_end_matches('\n');
                    let field = c.editing();
                    *field = super::compose::Editor::new(text);
                    c.unsaved_since = Some(state.now_ms);
                    state.focus = Focus::Compose;
                    save_draft(state)
                }
                Err(why) => {
                    state.notice = Some(format!("editor: {why}"));
                    vec![]
                }
            }
        }
    }
}

/// At most one bell per this many milliseconds: a burst of arrivals rings once.
pub const BELL_INTERVAL_MS: i64 = 30_000;

/// The bell, unless it is off or rang within the last `BELL_INTERVAL_MS`.
fn ring(state: &mut State) -> Vec<Effect> {
    let now = state.now_ms;
    if !state.bell || state.last_bell_ms.is_some_and(|t| now - t < BELL_INTERVAL_MS) {
        return vec![];
    }
    state.last_bell_ms = Some(now);
    vec![Effect::Bell]
}

/// When, in ms, the screen would change by itself: a relative time on it turning over, or the
/// draft falling due to be saved. `None`: nothing changes until something happens.
pub fn next_tick(state: &State) -> Option<i64> {
    let now = state.now_ms;
    let mut next: Option<i64> = None;
    let mut at = |t: i64| next = Some(next.map_or(t, |n| n.min(t)));
    if let Some(end) = state.next_snooze_end {
        at(end);
    }
    if let Some(c) = &state.compose
        && c.stage == Stage::Writing
        && let Some(since) = c.unsaved_since
    {
        at(since + DRAFT_SAVE_MS);
    }
    // The status bar's "last event 12s ago": seconds under two minutes, then minutes, then hours.
    if let Some(t) = state.last_event_at {
        let age = (now - t).max(0);
        let unit = match age {
            a if a < 120_000 => 1_000,
            a if a < 7_200_000 => 60_000,
            _ => 3_600_000,
        };
        at(t + (age / unit + 1) * unit);
    }
    // The list's "now", "5m", "3h", "2d": the rows on screen.
    let rows = state.layout.list_rows.max(1);
    for c in state.list.iter().skip(state.list_offset).take(rows) {
        let Some(t) = c.last_activity else {
            continue;
        };
        let t = t.timestamp_millis();
        let age = (now - t).max(0);
        let unit = match age {
            a if a < 3_600_000 => 60_000,
            a if a < 86_400_000 => 3_600_000,
            a if a < 7 * 86_400_000 => 86_400_000,
            _ => continue, // a date: changes no more
        };
        at(t + (age / unit + 1) * unit);
    }
    next
}

/// A draft is saved this long after the typing stops, so a crash loses little.
const DRAFT_SAVE_MS: i64 = 2000;

/// Save the reply being written, if it changed since it was last saved.
pub(super) fn save_draft(state: &mut State) -> Vec<Effect> {
    match state.compose.as_mut() {
        Some(c) if c.unsaved_since.is_some() && c.stage != Stage::Submitting => {
            c.unsaved_since = None;
            vec![Effect::SaveDraft(c.draft())]
        }
        _ => vec![],
    }
}

/// What must happen before the inbox closes: the draft is saved.
pub fn shutdown(state: &mut State) -> Vec<Effect> {
    save_draft(state)
}

fn on_compose_key(state: &mut State, keymap: &Keymap, key: KeyEvent) -> Vec<Effect> {
    let now = state.now_ms;
    let disabled = state.sending_disabled.clone();
    if state.template_picker.is_some() {
        return on_template_key(state, key);
    }
    let Some(c) = state.compose.as_mut() else {
        state.focus = Focus::Thread;
        return vec![];
    };
    match c.stage {
        // Handed over: ignore keys, so a repeated confirm cannot send twice.
        Stage::Submitting => return vec![],
        Stage::Confirming => {
            let yes = matches!(key.code, KeyCode::Char('y' | 'Y')) && !key.modifiers.contains(KeyModifiers::CONTROL);
            if yes {
                c.stage = Stage::Submitting;
                return vec![Effect::Send(c.new_send())];
            }
            c.stage = Stage::Writing;
            return vec![];
        }
        Stage::Writing => {}
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && keymap.command(&key, Context::Everywhere) == Some(Command::Quit)
    {
        let mut effects = save_draft(state);
        effects.push(Effect::Quit);
        return effects;
    }
    if std::mem::take(&mut c.refused) && matches!(key.code, KeyCode::Char('y' | 'Y')) && key.modifiers.is_empty() {
        // Meant to confirm a send that was refused: not text. The refusal stays on screen.
        state.notice = state.last_refusal.clone();
        return vec![];
    }
    if c.options_open {
        let toggle = match keymap.command(&key, Context::Options) {
            Some(Command::ToggleSignature) => Some(&mut c.options.signature),
            Some(Command::ToggleFooter) => Some(&mut c.options.footer),
            Some(Command::ToggleTcpa) => Some(&mut c.options.tcpa_footer),
            Some(Command::ToggleVcard) => Some(&mut c.options.vcard),
            Some(Command::ToggleQueue) => Some(&mut c.options.queue_if_opted_out),
            Some(Command::ToggleSync) => Some(&mut c.options.synchronous),
            _ => None,
        };
        match toggle {
            Some(flag) => {
                *flag ^= true;
                c.unsaved_since.get_or_insert(now);
            }
            None => c.options_open = false, // esc, enter or anything else: done
        }
        return vec![];
    }
    let mut touched = true;
    match keymap.command(&key, Context::Compose) {
        Some(Command::SendReply) => {
            touched = false;
            match disabled.or_else(|| c.not_ready()) {
                Some(why) => {
                    c.refused = true;
                    state.notice = Some(format!("Not sent. {why}"));
                    state.last_refusal = state.notice.clone();
                }
                None => c.stage = Stage::Confirming,
            }
        }
        Some(Command::LeaveReply) => {
            state.focus = Focus::Thread;
            return save_draft(state);
        }
        Some(Command::ReplyHelp) => {
            state.help = true;
            state.help_scroll = 0;
            return vec![];
        }
        Some(Command::SendOptions) => {
            if c.has_options() {
                c.options_open = true;
            } else {
                let vendor = crate::outbox::vendor_name(&c.addressing.provider).to_string();
                state.notice = Some(format!(
                    "{vendor} sends the text as typed: the send options (signature, footers, vCard) are myKaarma's."
                ));
            }
            return vec![];
        }
        Some(Command::NextField) => {
            touched = false;
            if c.is_email() {
                c.field = match c.field {
                    Field::Subject => Field::Body,
                    Field::Body => Field::Subject,
                };
            }
        }
        Some(Command::NextChannel) => c.next_channel(),
        Some(Command::Templates) => {
            if state.templates.is_empty() {
                state.notice = Some(format!(
                    "No reply templates yet: write them in {} (see the README, \"Templates\").",
                    state
                        .templates_path
                        .as_deref()
                        .unwrap_or("templates.toml beside the config file")
                ));
            } else {
                state.template_picker = Some(0);
            }
            return vec![];
        }
        Some(Command::ExternalEditor) => {
            return vec![Effect::Editor {
                key: c.conversation_key.clone(),
                text: c.editing().text(),
            }];
        }
        _ => {
            let subject = c.is_email() && c.field == Field::Subject;
            if subject && key.code == KeyCode::Enter {
                c.field = Field::Body; // a subject is one line
                touched = false;
            } else {
                touched = c.editing().0.input(key);
            }
        }
    }
    if touched {
        c.unsaved_since.get_or_insert(now);
    }
    vec![]
}

/// Start (or go back to) the reply pane of the open thread.
fn start_reply(state: &mut State) -> Vec<Effect> {
    match &state.compose {
        None => state.notice = Some("The reply pane is still loading.".into()),
        Some(c) => match &c.addressing.blocked {
            Some(why) => state.notice = Some(why.clone()),
            None => {
                // A draft can be written without credentials; what to set is said at once, whole.
                state.notice = c.addressing.no_credentials.clone();
                if state.notice.is_none()
                    && c.addressing.provider == crate::model::Provider::MyKaarma
                    && state.team.me.ids.mykaarma.is_some()
                {
                    state.notice = Some(format!(
                        "Replies go as {}: myKaarma gives the thread to whoever replies as themselves.",
                        state.team.me.name
                    ));
                }
                state.focus = Focus::Compose;
            }
        },
    }
    vec![]
}

/// Put the last failed or unknown reply's text back in the reply pane: an explicit resend.
fn resend(state: &mut State) -> Vec<Effect> {
    let last = state.thread.as_ref().and_then(|t| {
        t.messages
            .iter()
            .rev()
            .find(|m| m.direction == Direction::Outbound && m.status.needs_attention())
            .and_then(|m| m.body.clone())
    });
    let Some(body) = last else {
        state.notice = Some("No failed or unknown reply in this thread to send again.".into());
        return vec![];
    };
    let now = state.now_ms;
    match state.compose.as_mut() {
        Some(c) if c.is_empty() && c.addressing.blocked.is_none() => {
            // myKaarma appends footers; resend only what the advisor wrote.
            let ours = body
                .split(crate::send::sms::TCPA_FOOTER)
                .next()
                .unwrap_or(&body)
                .to_string();
            c.body = super::compose::Editor::new(&ours);
            c.unsaved_since = Some(now);
            state.focus = Focus::Compose;
            state.notice = Some(
                "Check the thread first: a reply whose fate is unknown may have arrived. ctrl-s sends it again.".into(),
            );
        }
        Some(_) => state.notice = Some("Send or clear the reply being written first.".into()),
        None => state.notice = Some("The reply pane is still loading.".into()),
    }
    vec![]
}

fn on_key(state: &mut State, keymap: &Keymap, key: KeyEvent) -> Vec<Effect> {
    state.dirty = true;
    state.notice = None;
    if state.input.is_some() {
        return on_search_key(state, key);
    }
    if state.prompt.is_some() {
        return on_prompt_key(state, key);
    }
    if state.help {
        return on_help_key(state, keymap, key);
    }
    if state.links.is_some() {
        return on_links_key(state, key);
    }
    if state.focus == Focus::Compose {
        return on_compose_key(state, keymap, key);
    }
    let context = match state.focus {
        Focus::List => Context::List,
        Focus::Thread => Context::Thread,
        Focus::Compose => Context::Compose,
    };
    let Some(command) = keymap.command(&key, context) else {
        state.dirty = false;
        return vec![];
    };
    match (command, state.focus) {
        (Command::Quit, _) => {
            let mut effects = save_draft(state);
            effects.push(Effect::Quit);
            effects
        }
        (Command::Reply, Focus::Thread) => start_reply(state),
        (Command::Resend, Focus::Thread) => resend(state),
        (Command::Help, _) => {
            state.help = true;
            state.help_scroll = 0;
            vec![]
        }
        (Command::Links, Focus::Thread) => {
            let links = state.thread.as_ref().map(|t| links_in(&t.messages)).unwrap_or_default();
            state.links = Some(LinkPicker { links, selected: 0 });
            vec![]
        }
        (Command::Search, _) => {
            state.input = Some(state.search.clone().unwrap_or_default());
            vec![]
        }
        (Command::Done, _) => match current_key(state) {
            Some(key) => vec![Effect::Done(key)],
            None => nothing_chosen(state),
        },
        (Command::DoneAndNext, _) => match current_key(state) {
            Some(key) => {
                let mut effects = vec![Effect::Done(key)];
                effects.extend(jump(
                    state,
                    |c| c.unread > 0,
                    "No other unread conversation in this list.",
                ));
                effects
            }
            None => nothing_chosen(state),
        },
        (Command::Snooze, _) => ask(state, PromptKind::Snooze),
        (Command::Note, Focus::Thread) => ask(state, PromptKind::Note),
        (Command::AssignTo, _) => ask(state, PromptKind::Assign),
        (Command::AssignMe, _) => {
            let me = state.team.me.clone();
            assign(state, Some(me))
        }
        (Command::NextUnread, _) => jump(state, |c| c.unread > 0, "No other unread conversation in this list."),
        (Command::NextFailed, _) => jump(
            state,
            |c| c.failed_count > 0,
            "No other conversation with a failed reply in this list.",
        ),
        (Command::NextFilter, _) => cycle_filter(state, 1),
        (Command::PrevFilter, _) => cycle_filter(state, FILTERS.len() - 1),
        (Command::ToggleRead, _) => toggle_read(state),
        (Command::Back, Focus::Thread | Focus::Compose) => {
            state.focus = Focus::List;
            if state.layout.wide {
                return vec![];
            }
            state.thread = None;
            let effects = save_draft(state);
            state.compose = None;
            effects
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
        (Command::Open, _) => vec![],
        (c, Focus::List) => move_list(state, c),
        (c, _) => scroll_thread(state, c),
    }
}

/// Load again what is on screen (the list as far as it was loaded, the open thread's newest page):
/// the store changed under it.
fn reload_shown(state: &mut State) -> Vec<Effect> {
    let mut effects = vec![reload_list(state, state.list.len().max(LIST_PAGE))];
    if let Some(t) = &state.thread {
        effects.push(Effect::LoadThread {
            key: t.key.clone(),
            before: None,
            limit: THREAD_PAGE,
            older: false,
        });
    }
    effects
}

/// The help is open: j/k and the page keys scroll it; quit quits; anything else closes it.
fn on_help_key(state: &mut State, keymap: &Keymap, key: KeyEvent) -> Vec<Effect> {
    let max = state.layout.help_max_scroll;
    let page = 5;
    let command = keymap.command(&key, Context::List);
    state.help_scroll = match command {
        Some(Command::Down) => (state.help_scroll + 1).min(max),
        Some(Command::Up) => state.help_scroll.saturating_sub(1),
        Some(Command::PageDown) => (state.help_scroll + page).min(max),
        Some(Command::PageUp) => state.help_scroll.saturating_sub(page),
        Some(Command::Quit) if state.focus != Focus::Compose || key.modifiers.contains(KeyModifiers::CONTROL) => {
            state.help = false;
            let mut effects = save_draft(state);
            effects.push(Effect::Quit);
            return effects;
        }
        _ => {
            state.help = false;
            return vec![];
        }
    };
    vec![]
}

/// The link picker is open: move, choose (copied, and shown whole in the message line), close.
fn on_links_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(picker) = state.links.as_mut() else {
        return vec![];
    };
    let last = picker.links.len().saturating_sub(1);
    let chosen = match key.code {
        KeyCode::Char('j') | KeyCode::Down => {
            picker.selected = (picker.selected + 1).min(last);
            None
        }
        KeyCode::Char('k') | KeyCode::Up => {
            picker.selected = picker.selected.saturating_sub(1);
            None
        }
        KeyCode::Enter | KeyCode::Char('y') => Some(picker.selected),
        KeyCode::Char(d @ '1'..='9') => Some(d as usize - '1' as usize),
        _ => {
            state.links = None;
            return vec![];
        }
    };
    let Some(link) = chosen.and_then(|i| picker.links.get(i)).cloned() else {
        return vec![];
    };
    state.links = None;
    state.notice = Some(format!("Copied to the clipboard (OSC 52): {}", link.url));
    vec![Effect::Copy(link.url)]
}

/// Every URL in these messages, newest first, once each.
pub fn links_in(messages: &[Message]) -> Vec<Link> {
    let mut links: Vec<Link> = vec![];
    let mut add = |label: String, url: &str| {
        let url = url.trim();
        if !url.is_empty() && !links.iter().any(|l| l.url == url) {
            links.push(Link {
                label,
                url: url.to_string(),
            });
        }
    };
    for m in messages.iter().rev() {
        let when =
            m.at.as_ref()
                .map(|a| a.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
        for a in &m.attachments {
            if let Some(url) = &a.url {
                let name = a.name.as_deref().unwrap_or("attachment");
                add(format!("📎 {name} · {} · {when}", m.channel), url);
            }
        }
        if let Some(url) = m.call.as_ref().and_then(|c| c.recording_url.as_deref()) {
            add(format!("☎ call recording · {when}"), url);
        }
        for word in m
            .body
            .as_deref()
            .unwrap_or("")
            .split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        {
            if word.starts_with("https://") || word.starts_with("http://") {
                let url = word.trim_end_matches(['.', ',', ')', ';', '!', '?']);
                add(format!("link in a {} message · {when}", m.channel), url);
            }
        }
    }
    links
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
        (Focus::Thread, Some(t)) => state.list.iter_mut().find(|c| c.conversation_key == t.key),
        _ => state.list.get_mut(state.selected),
    };
    let Some(c) = target else { return vec![] };
    // Show the change at once; the store's answer arrives with the next refresh.
    if c.unread > 0 {
        c.unread = 0;
        vec![Effect::MarkRead(c.conversation_key.clone())]
    } else {
        c.unread = 1;
        vec![Effect::MarkUnread(c.conversation_key.clone())]
    }
}

pub(super) fn open_selected(state: &mut State, focus: bool) -> Vec<Effect> {
    let Some(c) = state.list.get_mut(state.selected) else {
        return vec![];
    };
    let key = c.conversation_key.clone();
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
        to_oldest: false,
    });
    // The reply being written stays with its conversation: saved, then the new one's loaded.
    let mut effects = save_draft(state);
    state.compose = None;
    effects.push(Effect::LoadThread {
        key: key.clone(),
        before: None,
        limit: THREAD_PAGE,
        older: false,
    });
    effects.push(Effect::LoadDraft(key.clone()));
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
    if !state.list_complete
        && !state.list_loading
        && state.selected + page >= state.list.len()
        && let Some(c) = state.list.last()
    {
        state.list_loading = true;
        let at = c.last_activity.map(|t| t.timestamp_millis());
        effects.push(Effect::LoadList {
            generation: state.generation,
            filter: state.store_filter(),
            search: state.search.clone(),
            after: Some((at.unwrap_or(0), c.conversation_key.clone())),
            limit: LIST_PAGE,
            append: true,
        });
    }
    effects
}

/// Keep the selection inside the list and visible, with no blank rows while rows are hidden above.
fn clamp_list(state: &mut State) {
    state.selected = state.selected.min(state.list.len().saturating_sub(1));
    state.list_offset = list_window(
        state.selected,
        state.list_offset,
        state.layout.list_rows,
        state.list.len(),
    );
}

/// The first row to show of `len` in `rows` rows: the selection visible, the window full.
pub fn list_window(selected: usize, offset: usize, rows: usize, len: usize) -> usize {
    let rows = rows.max(1);
    let mut first = offset.min(selected);
    if selected >= first + rows {
        first = selected + 1 - rows;
    }
    first.min(len.saturating_sub(rows))
}

fn scroll_thread(state: &mut State, command: Command) -> Vec<Effect> {
    let rows = state.layout.thread_rows.max(1);
    let max = state.layout.thread_lines.saturating_sub(rows);
    let Some(t) = state.thread.as_mut() else { return vec![] };
    // `g` goes to the first message of the conversation, loading what it must on the way.
    t.to_oldest = command == Command::Top && !t.complete;
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
    older_page(t)
}

/// Ask for the page of messages before the first one loaded.
fn older_page(t: &mut ThreadView) -> Vec<Effect> {
    let Some(first) = t.messages.first() else { return vec![] };
    let at = first.at.map(|d| d.timestamp_millis());
    t.loading_older = true;
    vec![Effect::LoadThread {
        key: t.key.clone(),
        before: Some((at.unwrap_or(0), first.message_key.clone())),
        limit: THREAD_PAGE,
        older: true,
    }]
}
