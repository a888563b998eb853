//! The outbox's vocabulary: what a reply is, the options myKaarma's send API takes, and the states
//! an outgoing message moves through. The rules for moving between states live here too, so the
//! store, the sender and the callbacks all apply the same ones.

use serde::{Deserialize, Serialize};

/// How the reply goes out (`messageAttributes.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    #[default]
    Text,
    Email,
}

impl Protocol {
    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Text => "TEXT",
            Protocol::Email => "EMAIL",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_uppercase().as_str() {
            "TEXT" | "SMS" => Some(Protocol::Text),
            "EMAIL" => Some(Protocol::Email),
            _ => None,
        }
    }
}

/// `messageSendingAttributes` switches, with myKaarma's documented defaults.
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
/// myKaarma's API has no idempotency key, so only a callback, a webhook or the user may decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Queued,
    Sending,
    /// myKaarma took it for asynchronous sending.
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

    /// How far along: a report only ever moves a message forward. A carrier's failure may follow
    /// `sent` (the same order the thread's fold uses), but no success report undoes a failure, and
    /// only a delivery receipt, which proves arrival, outranks it.
    pub fn rank(&self) -> u8 {
        match self {
            OutboxStatus::Queued => 0,
            OutboxStatus::Sending | OutboxStatus::Unknown => 1,
            OutboxStatus::Accepted => 2,
            OutboxStatus::Sent => 3,
            OutboxStatus::Failed => 4,
            OutboxStatus::Delivered => 5,
        }
    }

    /// May a report move a message from `self` to `next`?
    pub fn may_become(&self, next: OutboxStatus) -> bool {
        use OutboxStatus::*;
        match (self, next) {
            // The sender's own steps: the request's fate, or back to the queue when it never left.
            (Sending, Unknown) | (Sending, Queued) => true,
            (a, b) => b.rank() > a.rank(),
        }
    }

    /// Still waiting for a final word from myKaarma.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            OutboxStatus::Queued
                | OutboxStatus::Sending
                | OutboxStatus::Accepted
                | OutboxStatus::Sent
                | OutboxStatus::Unknown
        )
    }
}

/// One error or warning as myKaarma reported it, with what an advisor should do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    pub description: Option<String>,
    /// Plain words for the advisor; `None` for a code we do not know (shown verbatim instead).
    pub advice: Option<String>,
}

impl Problem {
    pub fn new(code: &str, description: Option<String>) -> Problem {
        Problem {
            code: code.to_string(),
            advice: super::advice::advice(code).map(str::to_string),
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
    pub client_id: String,
    pub conversation: String,
    pub protocol: Protocol,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub options: SendOptions,
    pub status: OutboxStatus,
    pub created_at: String,
    pub status_at: String,
    pub attempts: i64,
    pub http_status: Option<i64>,
    pub message_uuid: Option<String>,
    /// The thread message it became, once a webhook reported it.
    pub message_key: Option<String>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

impl OutboxEntry {
    /// The line an advisor reads under the message: the first error's advice, else a word on the
    /// state when that needs one.
    pub fn explanation(&self) -> Option<String> {
        if let Some(p) = self.errors.first() {
            return Some(p.sentence());
        }
        match self.status {
            OutboxStatus::Unknown => Some(
                "myKaarma's answer was lost: it may have gone out. Waiting for myKaarma to report it; resend only if it does not appear."
                    .into(),
            ),
            _ => self.warnings.first().map(Problem::sentence),
        }
    }
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
