//! The team's keys, as pure functions of the state like the rest of `update`: done, snooze, notes
//! and assignment (on the bottom-line prompt), the next-unread and next-failed jumps, and the
//! template picker over the reply pane.

use super::compose::Field;
use super::state::{Focus, Prompt, PromptKind, State};
use super::update::{Effect, open_selected, save_draft};
use crate::model::Conversation;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The conversation a team key acts on: the open thread's, else the selected row's.
pub(super) fn current_key(state: &State) -> Option<String> {
    match (&state.thread, state.focus) {
        (Some(t), Focus::Thread | Focus::Compose) => Some(t.key.clone()),
        _ => state.selected_conversation().map(|c| c.conversation_key.clone()),
    }
}

pub(super) fn nothing_chosen(state: &mut State) -> Vec<Effect> {
    state.notice = Some("No conversation is selected.".into());
    vec![]
}

/// Open the bottom-line prompt for the current conversation.
pub(super) fn ask(state: &mut State, kind: PromptKind) -> Vec<Effect> {
    let Some(key) = current_key(state) else {
        return nothing_chosen(state);
    };
    state.prompt = Some(Prompt {
        kind,
        conversation_key: key,
        text: String::new(),
    });
    vec![]
}

pub(super) fn assign(state: &mut State, to: Option<crate::team::Advisor>) -> Vec<Effect> {
    let Some(key) = current_key(state) else {
        return nothing_chosen(state);
    };
    let provider = state
        .list
        .iter()
        .find(|c| c.conversation_key == key)
        .map(|c| c.provider.clone())
        .unwrap_or(crate::model::Provider::Unknown(String::new()));
    state.notice = Some(format!(
        "Assigning to {}…",
        to.as_ref().map_or("nobody", |a| a.name.as_str())
    ));
    vec![Effect::Assign { key, provider, to }]
}

/// Select and open the next conversation after the selected one (wrapping) that `wanted` picks.
pub(super) fn jump(state: &mut State, wanted: impl Fn(&Conversation) -> bool, none: &str) -> Vec<Effect> {
    let n = state.list.len();
    let found = (1..=n)
        .map(|step| (state.selected + step) % n.max(1))
        .find(|&i| wanted(&state.list[i]) && i != state.selected);
    let Some(i) = found else {
        state.notice = Some(none.to_string());
        return vec![];
    };
    let mut effects = save_draft(state);
    state.compose = None;
    state.selected = i;
    let rows = state.layout.list_rows.max(1);
    if i < state.list_offset || i >= state.list_offset + rows {
        state.list_offset = i.saturating_sub(rows / 2);
    }
    effects.extend(open_selected(state, true));
    effects
}

/// Typing an answer to the bottom-line prompt: enter acts, esc cancels.
pub(super) fn on_prompt_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(prompt) = state.prompt.as_mut() else {
        return vec![];
    };
    match key.code {
        KeyCode::Esc => state.prompt = None,
        KeyCode::Backspace => {
            prompt.text.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => prompt.text.push(c),
        KeyCode::Enter => {
            let Prompt {
                kind,
                conversation_key: key,
                text,
            } = state.prompt.take().expect("checked");
            let text = text.trim().to_string();
            return match kind {
                PromptKind::Snooze if text.is_empty() => vec![],
                PromptKind::Snooze => vec![Effect::Snooze { key, until: text }],
                PromptKind::Note if text.is_empty() => {
                    state.notice = Some("An empty note is not kept.".into());
                    vec![]
                }
                PromptKind::Note => vec![Effect::Note { key, text }],
                PromptKind::Assign if text.is_empty() => assign(state, None),
                PromptKind::Assign => match state.team.find(&text) {
                    Ok(a) => {
                        let a = a.clone();
                        assign(state, Some(a))
                    }
                    Err(why) => {
                        state.notice = Some(why);
                        vec![]
                    }
                },
            };
        }
        _ => {}
    }
    vec![]
}

/// The template picker is open over the reply pane: move, choose (inserted at the cursor), close.
pub(super) fn on_template_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let (Some(selected), last) = (state.template_picker, state.templates.len().saturating_sub(1)) else {
        return vec![];
    };
    let chosen = match key.code {
        KeyCode::Down | KeyCode::Char('j') => {
            state.template_picker = Some((selected + 1).min(last));
            None
        }
        KeyCode::Up | KeyCode::Char('k') => {
            state.template_picker = Some(selected.saturating_sub(1));
            None
        }
        KeyCode::Enter => Some(selected),
        KeyCode::Char(d @ '1'..='9') if (d as usize - '1' as usize) <= last => Some(d as usize - '1' as usize),
        _ => {
            state.template_picker = None;
            return vec![];
        }
    };
    let Some(i) = chosen else { return vec![] };
    state.template_picker = None;
    let expanded = crate::templates::expand(&state.templates[i].body, &state.template_vars());
    let now = state.now_ms;
    if let Some(c) = state.compose.as_mut() {
        c.field = Field::Body;
        c.editing().0.insert_str(&expanded.text);
        c.unsaved_since.get_or_insert(now);
    }
    if !expanded.unknown.is_empty() {
        state.notice = Some(format!(
            "Fill in {} before sending: not known for this conversation.",
            expanded
                .unknown
                .iter()
                .map(|v| format!("{{{v}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    vec![]
}
