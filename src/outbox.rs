//! The outbox's vocabulary, shared by the store (which keeps it) and every vendor's sender (which
//! moves it): what a reply is, the states it moves through and the rule that it only moves forward,
//! the problems a vendor reports, and what a sender needs to address a conversation.

use crate::model::{Channel, Provider, Status, Timestamp};
use serde::{Deserialize, Serialize};

/// Switches a reply is sent with. All are myKaarma's `messageSendingAttributes` (with its
/// documented defaults); the other vendors take none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendOptions {
    pub signature: bool,
    pub footer: bool,
    /// "Text STOP to opt-out"; applies to texts only.
    pub tcpa_footer: bool,
    /// The department's contact card; texts only.
    pub vcard: bool,
    pub queue_if_opted_out: bool,
    /// Wait for the carrier/email provider before answering.
    pub synchronous: bool,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            signature: false,
            footer: false,
            tcpa_footer: true,
            vcard: false,
            queue_if_opted_out: false,
            synchronous: false,
        }
    }
}

/// Where an outgoing message is in its life.
///
/// `sending` is committed before the request leaves; whatever interrupts the request after that
/// (a timeout, a reset, a 5xx, a crash) leaves `unknown`, which is never retried automatically:
/// no vendor's send API has an idempotency key, so only a callback, a webhook, a status lookup or
/// the user may decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Queued,
    Sending,
    /// The vendor took it for sending; no word from the carrier yet.
    Accepted,
    Sent,
    Delivered,
    Failed,
    Unknown,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 7] = [
        OutboxStatus::Queued,
        OutboxStatus::Sending,
        OutboxStatus::Accepted,
        OutboxStatus::Sent,
        OutboxStatus::Delivered,
        OutboxStatus::Failed,
        OutboxStatus::Unknown,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Accepted => "accepted",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The message status this state shows as in a thread.
    pub fn as_status(&self) -> Status {
        Status::parse(self.as_str())
    }

    /// What a vendor's message status means for the reply it became; `None` changes nothing.
    pub fn from_message(status: &Status) -> Option<OutboxStatus> {
        match status {
            Status::Sent => Some(OutboxStatus::Sent),
            Status::Delivered | Status::Read => Some(OutboxStatus::Delivered),
            Status::Failed => Some(OutboxStatus::Failed),
            _ => None,
        }
    }

    /// May a report move a message from `self` to `next`? Only forward, by `Status::progress`: a
    /// carrier's failure may follow `sent`, no success report undoes a failure, and only a
    /// delivery receipt, which proves arrival, outranks it.
    pub fn may_become(&self, next: OutboxStatus) -> bool {
        use OutboxStatus::*;
        match (self, next) {
            // The sender's own steps: the request's fate, or back to the queue when it never left.
            (Sending, Unknown) | (Sending, Queued) => true,
            (a, b) => b.as_status().progress() > a.as_status().progress(),
        }
    }

    /// Still waiting for a final word from the vendor.
    pub fn is_open(&self) -> bool {
        !matches!(self, OutboxStatus::Delivered | OutboxStatus::Failed)
    }
}

/// One error or warning as a vendor reported it (or as we found it), with what an advisor should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    pub description: Option<String>,
    /// Plain words for the advisor; `None` for a code we do not know (shown verbatim instead).
    pub advice: Option<String>,
}

impl Problem {
    /// A vendor's code and description, with the words we have for that code, if any.
    pub fn vendor(code: &str, description: Option<String>, advice: Option<&str>) -> Problem {
        Problem {
            code: code.to_string(),
            advice: advice.map(str::to_string),
            description,
        }
    }

    /// Our own problem (not a vendor code), with its advice.
    pub fn ours(code: &str, advice: String) -> Problem {
        Problem {
            code: code.to_string(),
            description: None,
            advice: Some(advice),
        }
    }

    /// One line for a person: the advice, else the code and the vendor's description verbatim.
    pub fn sentence(&self) -> String {
        match (&self.advice, &self.description) {
            (Some(a), _) => a.clone(),
            (None, Some(d)) if !d.is_empty() => format!("{}: {d}", self.code),
            (None, _) => self.code.clone(),
        }
    }
}

/// An outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    /// One send per client id, ever: a draft's id, or a script's idempotency key.
    pub client_id: String,
    pub conversation_key: String,
    pub provider: Provider,
    pub channel: Channel,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub options: SendOptions,
    /// The vendor's id of the message this answers (email replies thread under it).
    pub reply_to: Option<String>,
    pub status: OutboxStatus,
    pub created_at: Timestamp,
    pub status_at: Timestamp,
    /// When a queued entry may be tried again (after a connection that never opened, or a 429),
    /// or an accepted one looked up at the vendor.
    pub next_try_at: Option<Timestamp>,
    pub attempts: i64,
    pub http_status: Option<i64>,
    /// The vendor's id for the message (myKaarma `messageUUID`, HighLevel `messageId`, Partoo
    /// `message_id`): what its webhooks report it by.
    pub vendor_message_id: Option<String>,
    /// The thread message it became, once a webhook reported it.
    pub message_key: Option<String>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// The advisor who sent it (`[me]` of the inbox or command that queued it).
    pub sent_by: Option<String>,
}

impl OutboxEntry {
    /// The line an advisor reads under the message: the first error's advice, else a word on the
    /// state when that needs one.
    pub fn explanation(&self) -> Option<String> {
        if let Some(p) = self.errors.first() {
            return Some(p.sentence());
        }
        match self.status {
            OutboxStatus::Unknown => Some(format!(
                "{}'s answer was lost: it may have gone out. Waiting for {} to report it; resend only if it does not appear.",
                vendor_name(&self.provider),
                vendor_name(&self.provider)
            )),
            _ => self.warnings.first().map(Problem::sentence),
        }
    }
}

/// The vendor's name as its users write it.
pub fn vendor_name(provider: &Provider) -> &str {
    match provider {
        Provider::MyKaarma => "myKaarma",
        Provider::HighLevel => "HighLevel",
        Provider::Partoo => "Partoo",
        Provider::Unknown(raw) => raw,
    }
}

/// A reply being written, saved per conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub conversation_key: String,
    /// Random; the outbox's `client_id` when this draft is sent, so it can be sent only once.
    pub draft_id: String,
    pub channel: Channel,
    pub subject: Option<String>,
    pub body: String,
    pub options: SendOptions,
}

/// A reply to put in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSend {
    /// One send per client id, ever: a draft's id, or a script's idempotency key.
    pub client_id: String,
    pub conversation_key: String,
    pub provider: Provider,
    pub channel: Channel,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub options: SendOptions,
    pub reply_to: Option<String>,
}

/// The outbox entry, and whether this call created it (false: the client id was sent before).
#[derive(Debug, Clone)]
pub struct Enqueued {
    pub entry: OutboxEntry,
    pub created: bool,
    pub callback_token: String,
}

/// What one attempt (or a report about it) says.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub status: Option<OutboxStatus>,
    pub http_status: Option<u16>,
    pub vendor_message_id: Option<String>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Epoch ms: a retry (with `queued`) or the next status lookup (with `accepted`/`unknown`).
    pub next_try_at: Option<i64>,
}

impl Report {
    /// The vendor refused the request (`http_status`): failed, with what it said and our advice.
    pub fn refused(http_status: u16, code: &str, said: Option<String>, advice: String) -> Report {
        Report {
            status: Some(OutboxStatus::Failed),
            http_status: Some(http_status),
            errors: vec![Problem {
                code: code.into(),
                description: said,
                advice: Some(advice),
            }],
            ..Report::default()
        }
    }
}

/// What a sender needs to address a conversation, as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub conversation_key: String,
    pub provider: Provider,
    /// The conversation's id at its vendor (the key without its `vendor:` prefix).
    pub vendor_conversation_id: String,
    /// The customer's id at the vendor (myKaarma customer UUID, HighLevel contact id).
    pub vendor_contact_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub channels: Vec<Channel>,
    /// The channel of the customer's last message, the one a reply goes back on by default.
    pub last_inbound_channel: Option<Channel>,
    /// The vendor's id of the customer's last email, for threading an email reply under it.
    pub last_inbound_email: Option<String>,
}

/// What the vendors know about their conversations (for the sandbox standing in for them).
#[derive(Debug, Clone, Default)]
pub struct VendorConversations {
    /// HighLevel: `contactId` → `conversationId`.
    pub highlevel: std::collections::HashMap<String, String>,
    /// Partoo: conversation id → `messaging_partner`.
    pub partoo: std::collections::HashMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::OutboxStatus::*;

    #[test]
    fn reports_only_move_forward() {
        assert!(Sending.may_become(Unknown));
        assert!(Unknown.may_become(Accepted));
        assert!(Accepted.may_become(Failed));
        assert!(Failed.may_become(Delivered));
        assert!(Sent.may_become(Failed), "the carrier may fail a sent message");
        assert!(
            !Failed.may_become(Sent),
            "a late or repeated success never hides a failure"
        );
        assert!(!Failed.may_become(Accepted) && !Failed.may_become(Unknown));
        assert!(!Delivered.may_become(Failed));
        assert!(!Sent.may_become(Queued) && !Accepted.may_become(Queued) && !Unknown.may_become(Queued));
        assert!(!Accepted.may_become(Accepted), "a repeated report changes nothing");
    }
}
