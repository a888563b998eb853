//! Everything the inbox shows, as plain data. Only `update` changes it; `ui` only reads it.

use super::compose::Compose;
use crate::model::{Conversation, Message};
use crate::store::{ConversationFilter, Totals};

/// The filters `f` cycles through, in order.
pub const FILTERS: &[&str] = &[
    "all",
    "unread",
    "mine",
    "unassigned",
    "failed",
    "sms",
    "email",
    "voice",
    "voicemail",
    "whatsapp",
    "facebook",
    "instagram",
    "google",
    "live_chat",
    "note",
    "mykaarma",
    "highlevel",
    "partoo",
    "done",
    "snoozed",
];

/// A one-line question at the bottom of the screen, about one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub conversation_key: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// Until when (`1h`, `tomorrow 9am`, …).
    Snooze,
    /// An internal note's text.
    Note,
    /// Whom to assign to (a name from the team).
    Assign,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Snooze => "Snooze until (1h, tomorrow 9am, monday): ",
            PromptKind::Note => "Note (never sent): ",
            PromptKind::Assign => "Assign to (a name; empty: nobody): ",
        }
    }
}

/// Rows a list page holds; more load as the selection nears the end.
pub const LIST_PAGE: usize = 200;
/// Messages a thread page holds; older ones load as the view scrolls up.
pub const THREAD_PAGE: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Thread,
    /// Typing in the reply pane under the thread.
    Compose,
}

/// The receiver running inside this process, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receiver {
    Off,
    Listening(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadView {
    pub key: String,
    pub messages: Vec<Message>,
    /// No older messages remain to load.
    pub complete: bool,
    pub loading_older: bool,
    /// Lines scrolled up from the newest line (0 follows new messages).
    pub scroll: usize,
    /// `g` was pressed: keep loading older pages, then show the oldest message.
    pub to_oldest: bool,
}

/// A URL found in the open thread, and what it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// The link picker over the open thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPicker {
    pub links: Vec<Link>,
    pub selected: usize,
}

/// Facts about the last frame that `update` needs for paging (fed back as an action).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    pub list_rows: usize,
    pub thread_rows: usize,
    pub thread_lines: usize,
    pub wide: bool,
    /// How far the help can scroll (0 when it fits or is closed).
    pub help_max_scroll: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub now_ms: i64,
    pub filter: usize,
    pub search: Option<String>,
    /// The search being typed, when the search line is open.
    pub input: Option<String>,
    pub list: Vec<Conversation>,
    pub list_complete: bool,
    pub list_loading: bool,
    /// Bumped on every new query, so late answers to old queries are dropped.
    pub generation: u64,
    pub selected: usize,
    pub list_offset: usize,
    pub focus: Focus,
    pub thread: Option<ThreadView>,
    /// The reply pane of the open thread, once its draft has loaded.
    pub compose: Option<Compose>,
    /// Why replies cannot be sent from this inbox at all (no credentials configured), if so.
    pub sending_disabled: Option<String>,
    pub totals: Totals,
    pub receiver: Receiver,
    pub last_event_at: Option<i64>,
    pub help: bool,
    /// Rows the help is scrolled down.
    pub help_scroll: usize,
    /// The link picker, when open.
    pub links: Option<LinkPicker>,
    /// New messages arrived while a thread was open: mark it read when the list says it is unread.
    pub read_on_arrival: bool,
    pub bell: bool,
    /// Names for vendor user ids (`[inbox.people]`).
    pub people: std::collections::BTreeMap<String, String>,
    /// Who is reading, and their team (`[me]`, `[team]`).
    pub team: crate::team::Team,
    /// The question being answered at the bottom line, if any.
    pub prompt: Option<Prompt>,
    /// When the next snoozed conversation comes back (the list reloads then).
    pub next_snooze_end: Option<i64>,
    /// Reply templates, and where they are kept (to say so when there are none).
    pub templates: Vec<crate::templates::Template>,
    pub templates_path: Option<String>,
    /// `[inbox] dealership`, for templates.
    pub dealership: Option<String>,
    /// The template picker over the reply pane, when open: the selected template.
    pub template_picker: Option<usize>,
    /// When the bell last rang (it rings at most once per `update::BELL_INTERVAL_MS`).
    pub last_bell_ms: Option<i64>,
    pub notice: Option<String>,
    /// Why the last send was refused (shown again if its confirming `y` follows).
    pub last_refusal: Option<String>,
    pub layout: Layout,
    pub loaded_once: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl State {
    pub fn new(now_ms: i64) -> State {
        State {
            now_ms,
            filter: 0,
            search: None,
            input: None,
            list: vec![],
            list_complete: false,
            list_loading: false,
            generation: 0,
            selected: 0,
            list_offset: 0,
            focus: Focus::List,
            thread: None,
            compose: None,
            sending_disabled: None,
            totals: Totals::default(),
            receiver: Receiver::Off,
            last_event_at: None,
            help: false,
            help_scroll: 0,
            links: None,
            read_on_arrival: false,
            bell: true,
            people: Default::default(),
            team: Default::default(),
            prompt: None,
            next_snooze_end: None,
            templates: vec![],
            templates_path: None,
            dealership: None,
            template_picker: None,
            last_bell_ms: None,
            notice: None,
            last_refusal: None,
            layout: Layout {
                list_rows: 20,
                thread_rows: 20,
                thread_lines: 0,
                wide: false,
                help_max_scroll: 0,
            },
            loaded_once: false,
            dirty: true,
        }
    }

    pub fn filter_word(&self) -> &'static str {
        FILTERS[self.filter]
    }

    pub fn store_filter(&self) -> ConversationFilter {
        ConversationFilter::parse(self.filter_word()).unwrap_or_default()
    }

    pub fn selected_conversation(&self) -> Option<&Conversation> {
        self.list.get(self.selected)
    }

    /// What template variables stand for in the conversation being replied to.
    pub fn template_vars(&self) -> crate::templates::Vars {
        let key = self.compose.as_ref().map(|c| c.conversation_key.as_str());
        let contact = self
            .list
            .iter()
            .find(|c| Some(c.conversation_key.as_str()) == key)
            .and_then(|c| c.contact.name.as_deref());
        crate::templates::Vars {
            first_name: crate::templates::Vars::first_name_of(contact),
            me: Some(self.team.me.name.clone()).filter(|n| !n.is_empty()),
            dealership: self.dealership.clone(),
            vehicle: None,
        }
    }
}
