//! The reply being written in the compose pane: its text (ratatui-textarea, soft-wrapped), subject,
//! protocol and send options, and where it is in "write → confirm → hand to the outbox". Pure data
//! and pure key handling; `update` decides what leaves as effects.

use crate::sanitize;
use crate::send::outbox::{Protocol, SendOptions};
use crate::store::Draft;
use ratatui_textarea::{TextArea, WrapMode};

/// A text editor, compared by its text and cursor (the widget itself has no equality).
#[derive(Debug, Clone)]
pub struct Editor(pub TextArea<'static>);

impl PartialEq for Editor {
    fn eq(&self, other: &Self) -> bool {
        self.0.lines() == other.0.lines() && self.0.cursor() == other.0.cursor()
    }
}

impl Editor {
    pub fn new(text: &str) -> Editor {
        // Text from the database or an editor may hold anything: keep it printable.
        let clean = sanitize::text(text);
        let lines: Vec<String> = if clean.is_empty() {
            vec![String::new()]
        } else {
            clean.split('\n').map(str::to_string).collect()
        };
        let mut t = TextArea::new(lines);
        t.set_wrap_mode(WrapMode::WordOrGlyph);
        t.move_cursor(ratatui_textarea::CursorMove::Bottom);
        t.move_cursor(ratatui_textarea::CursorMove::End);
        Editor(t)
    }

    pub fn text(&self) -> String {
        self.0.lines().join("\n")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Subject,
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Writing,
    /// The confirm question is showing: `y` sends, anything else goes back to writing.
    Confirming,
    /// Handed to the outbox; waiting for it to say so. Keys are ignored, so no repeat can send twice.
    Submitting,
}

/// Where replies in this conversation go, or why they cannot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Addressing {
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Why this conversation cannot be replied to (not myKaarma, sending not configured, …).
    pub blocked: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compose {
    pub conversation: String,
    pub draft_id: String,
    pub protocol: Protocol,
    pub subject: Editor,
    pub body: Editor,
    pub options: SendOptions,
    pub field: Field,
    pub stage: Stage,
    pub addressing: Addressing,
    /// Edited since last saved, and when (ms).
    pub unsaved_since: Option<i64>,
    /// The send options line is open: one letter toggles one option.
    pub options_open: bool,
    /// A send was just refused: a `y` typed next, meant to confirm, is not typed into the text.
    pub refused: bool,
}

impl Compose {
    pub fn from_draft(d: &Draft, addressing: Addressing) -> Compose {
        Compose {
            conversation: d.conversation.clone(),
            draft_id: d.draft_id.clone(),
            protocol: d.protocol,
            subject: Editor::new(d.subject.as_deref().unwrap_or_default()),
            body: Editor::new(&d.body),
            options: d.options,
            field: Field::Body,
            stage: Stage::Writing,
            addressing,
            unsaved_since: None,
            options_open: false,
            refused: false,
        }
    }

    /// A fresh draft after this one was sent: same conversation, protocol and options.
    pub fn next(&self, draft_id: String) -> Compose {
        Compose {
            draft_id,
            subject: Editor::new(""),
            body: Editor::new(""),
            field: Field::Body,
            stage: Stage::Writing,
            unsaved_since: None,
            options_open: false,
            refused: false,
            ..self.clone()
        }
    }

    pub fn draft(&self) -> Draft {
        Draft {
            conversation: self.conversation.clone(),
            draft_id: self.draft_id.clone(),
            protocol: self.protocol,
            subject: (self.protocol == Protocol::Email).then(|| self.subject.text()),
            body: self.body.text(),
            options: self.options,
        }
    }

    pub fn recipient(&self) -> Option<&str> {
        match self.protocol {
            Protocol::Text => self.addressing.phone.as_deref(),
            Protocol::Email => self.addressing.email.as_deref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.body.text().trim().is_empty()
    }

    /// Why the reply cannot be sent as it stands, if it cannot.
    pub fn not_ready(&self) -> Option<String> {
        if let Some(why) = &self.addressing.blocked {
            return Some(why.clone());
        }
        if self.is_empty() {
            return Some("Type a message first.".into());
        }
        if self.protocol == Protocol::Email && self.subject.text().trim().is_empty() {
            return Some("An email needs a subject (Tab moves to it).".into());
        }
        None
    }

    pub fn toggle_protocol(&mut self) {
        self.protocol = match self.protocol {
            Protocol::Text => Protocol::Email,
            Protocol::Email => Protocol::Text,
        };
        self.field = if self.protocol == Protocol::Email && self.subject.text().is_empty() {
            Field::Subject
        } else {
            Field::Body
        };
    }

    pub fn editing(&mut self) -> &mut Editor {
        match (self.field, self.protocol) {
            (Field::Subject, Protocol::Email) => &mut self.subject,
            _ => &mut self.body,
        }
    }
}
