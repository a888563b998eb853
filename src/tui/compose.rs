//! The reply being written in the compose pane: its text (ratatui-textarea, soft-wrapped), subject,
//! channel and send options, and where it is in "write → confirm → hand to the outbox". Pure data
//! and pure key handling; `update` decides what leaves as effects.

use crate::model::{Channel, Provider};
use crate::outbox::{Draft, NewSend, SendOptions};
use crate::sanitize;
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
#[derive(Debug, Clone, PartialEq)]
pub struct Addressing {
    pub provider: Provider,
    /// The channels the vendor can send a reply on here, the default first.
    pub channels: Vec<Channel>,
    /// The channel the customer last wrote on.
    pub customer_channel: Option<Channel>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The vendor's id of the customer's last email: an email reply threads under it.
    pub reply_to: Option<String>,
    /// Why this conversation cannot be replied to at all (its vendor offers no way).
    pub blocked: Option<String>,
    /// What to set before a reply can be sent (the vendor's credentials are missing); a draft can
    /// still be written and is kept.
    pub no_credentials: Option<String>,
}

impl Default for Addressing {
    fn default() -> Self {
        Addressing {
            provider: Provider::MyKaarma,
            channels: vec![Channel::Sms, Channel::Email],
            customer_channel: None,
            phone: None,
            email: None,
            reply_to: None,
            blocked: None,
            no_credentials: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compose {
    pub conversation_key: String,
    pub draft_id: String,
    pub channel: Channel,
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
            conversation_key: d.conversation_key.clone(),
            draft_id: d.draft_id.clone(),
            channel: d.channel.clone(),
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

    /// A fresh draft after this one was sent: same conversation, channel and options.
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
            conversation_key: self.conversation_key.clone(),
            draft_id: self.draft_id.clone(),
            channel: self.channel.clone(),
            subject: self.is_email().then(|| self.subject.text()),
            body: self.body.text(),
            options: self.options,
        }
    }

    /// The reply as the outbox takes it: one send per draft id.
    pub fn new_send(&self) -> NewSend {
        let d = self.draft();
        NewSend {
            client_id: d.draft_id,
            conversation_key: d.conversation_key,
            provider: self.addressing.provider.clone(),
            recipient: self.recipient().map(str::to_string),
            reply_to: self.addressing.reply_to.clone().filter(|_| self.is_email()),
            channel: d.channel,
            subject: d.subject,
            body: d.body,
            options: d.options,
        }
    }

    pub fn is_email(&self) -> bool {
        self.channel == Channel::Email
    }

    /// myKaarma's send switches apply (the other vendors send the text as typed).
    pub fn has_options(&self) -> bool {
        self.addressing.provider == Provider::MyKaarma
    }

    /// The phone for a text, the address for an email; `None` when the reply goes into the
    /// conversation itself (messaging channels) or to myKaarma's preferred contact.
    pub fn recipient(&self) -> Option<&str> {
        match self.channel {
            Channel::Sms => self.addressing.phone.as_deref(),
            Channel::Email => self.addressing.email.as_deref(),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.body.text().trim().is_empty()
    }

    /// Why the reply cannot be sent as it stands, if it cannot.
    pub fn not_ready(&self) -> Option<String> {
        if let Some(why) = self
            .addressing
            .blocked
            .as_ref()
            .or(self.addressing.no_credentials.as_ref())
        {
            return Some(why.clone());
        }
        if self.is_empty() {
            return Some("Type a message first.".into());
        }
        if !self.addressing.channels.contains(&self.channel) {
            return Some(format!(
                "{} cannot send a {} reply here; ctrl-t picks another channel.",
                crate::outbox::vendor_name(&self.addressing.provider),
                self.channel
            ));
        }
        if self.is_email() && self.subject.text().trim().is_empty() {
            return Some("An email needs a subject (Tab moves to it).".into());
        }
        // A template variable left unfilled would reach the customer as `{vehicle}`.
        let text = format!("{} {}", self.subject.text(), self.body.text());
        let unfilled: Vec<String> = crate::templates::VARIABLES
            .iter()
            .map(|v| format!("{{{v}}}"))
            .filter(|v| text.contains(v.as_str()))
            .collect();
        if !unfilled.is_empty() {
            return Some(format!(
                "Fill in {} first (a template left it for you).",
                unfilled.join(", ")
            ));
        }
        None
    }

    /// The next channel the vendor can send on here.
    pub fn next_channel(&mut self) {
        let channels = &self.addressing.channels;
        if let Some(next) = channels
            .iter()
            .position(|c| *c == self.channel)
            .map(|i| channels[(i + 1) % channels.len()].clone())
            .or_else(|| channels.first().cloned())
        {
            self.channel = next;
        }
        self.field = if self.is_email() && self.subject.text().is_empty() {
            Field::Subject
        } else {
            Field::Body
        };
    }

    pub fn editing(&mut self) -> &mut Editor {
        match self.field {
            Field::Subject if self.is_email() => &mut self.subject,
            _ => &mut self.body,
        }
    }
}
