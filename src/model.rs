//! The normalised vocabulary every vendor is mapped onto.
//!
//! Each vocabulary is closed, with one explicit escape hatch (`Other`/`Unknown`) that keeps the
//! vendor's raw value, because all three vendors add values without notice.

use serde::Serialize;
use std::fmt;

/// Defines a closed vocabulary: a fieldless set of known words plus one variant that carries the raw
/// vendor value. `as_str` gives the stored/printed word; `parse` is its exact inverse.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? } else $other:ident => $other_word:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value outside the known vocabulary, kept verbatim.
            $other(String),
        }

        impl $name {
            pub const KNOWN: &'static [&'static str] = &[$($word),+];

            /// The word stored in the database and printed in output.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $word,)+
                    Self::$other(_) => $other_word,
                }
            }

            /// The inverse of `as_str` for known words; anything else becomes the escape variant.
            pub fn parse(word: &str) -> Self {
                match word {
                    $($word => Self::$variant,)+
                    raw => Self::$other(raw.to_string()),
                }
            }

            /// The vendor's raw value when it fell outside the vocabulary.
            pub fn raw(&self) -> Option<&str> {
                match self {
                    Self::$other(raw) => Some(raw),
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// The vendor platform an event came from.
    Provider {
        MyKaarma => "mykaarma",
        HighLevel => "highlevel",
        Partoo => "partoo",
    } else Unknown => "unknown"
);

vocabulary!(
    /// The medium a message travelled by.
    Channel {
        Sms => "sms",
        Email => "email",
        Voice => "voice",
        Voicemail => "voicemail",
        Whatsapp => "whatsapp",
        Facebook => "facebook",
        Instagram => "instagram",
        Google => "google",
        LiveChat => "live_chat",
        Note => "note",
    } else Other => "other"
);

vocabulary!(
    /// Delivery state of a message. `Received` is the state of every inbound message; `accepted` (the
    /// vendor took our reply, no word from the carrier yet) is the outbox's own.
    Status {
        Received => "received",
        Pending => "pending",
        Queued => "queued",
        Sending => "sending",
        Accepted => "accepted",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Failed => "failed",
    } else Unknown => "unknown"
);

vocabulary!(
    /// How a phone call ended (or that it is still going on).
    CallOutcome {
        Completed => "completed",
        Voicemail => "voicemail",
        NoAnswer => "no_answer",
        Busy => "busy",
        Missed => "missed",
        Failed => "failed",
        InProgress => "in_progress",
    } else Other => "other"
);

/// Who a message went from and to. Notes and system messages are `Internal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            "internal" => Some(Direction::Internal),
            _ => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    /// How far along a message's life this status is: the one ranking used by the fold (to break
    /// ties between reports of the same vendor time), by the outbox (a report only moves a reply
    /// forward) and by the thread (which of the outbox's word and the vendor's to show).
    ///
    /// A delivery or read receipt proves arrival, so it outranks a failure; a failure outranks
    /// "sent" (a carrier may fail a sent message) and "accepted". A word we do not know — the
    /// outbox's "fate unknown" or a vendor word outside the vocabulary — says no more than
    /// "sending".
    pub fn progress(&self) -> u8 {
        match self {
            Status::Received => 0,
            Status::Pending => 1,
            Status::Queued => 2,
            Status::Sending | Status::Unknown(_) => 3,
            Status::Accepted => 4,
            Status::Sent => 5,
            Status::Failed => 6,
            Status::Delivered => 7,
            Status::Read => 8,
        }
    }

    /// Statuses the on-call view treats as needing attention.
    pub fn needs_attention(&self) -> bool {
        matches!(self, Status::Failed | Status::Unknown(_))
    }
}

/// A file sent with a message, or a link to media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct Attachment {
    pub name: Option<String>,
    pub mime: Option<String>,
    pub size: Option<u64>,
    pub url: Option<String>,
}

/// A phone call carried by a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Call {
    /// A `CallOutcome` word.
    pub outcome: String,
    /// The vendor's own value when the outcome is `other`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outcome_detail: Option<String>,
    pub duration_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transcript: Option<String>,
}

impl Call {
    /// One line: "call no answer (busy tone) 2:05", the vendor's detail sanitised.
    pub fn summary(&self) -> String {
        let duration = self
            .duration_s
            .filter(|d| *d > 0)
            .map(|d| format!(" {}:{:02}", d / 60, d % 60))
            .unwrap_or_default();
        let detail = self
            .outcome_detail
            .as_deref()
            .map(|d| format!(" ({})", crate::sanitize::line(d)))
            .unwrap_or_default();
        format!("call {}{detail}{duration}", self.outcome.replace('_', " "))
    }
}

/// The person on the customer's side of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Contact {
    /// What a list shows for the contact: the name, else the phone, else the email.
    pub fn display(&self) -> Option<&str> {
        self.name.as_deref().or(self.phone.as_deref()).or(self.email.as_deref())
    }
}

/// A moment, in UTC; printed and serialised as RFC 3339.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A timestamp from the store's epoch milliseconds; 0 (never set) is `None`.
pub fn timestamp(ms: i64) -> Option<Timestamp> {
    (ms != 0).then(|| chrono::DateTime::from_timestamp_millis(ms)).flatten()
}

/// RFC 3339 with the precision the moment has, `Z` for UTC.
pub fn rfc3339(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A channel as people read it: the vocabulary's word, or `other:<vendor's word>`.
pub fn channel_label(channel: &Channel) -> std::borrow::Cow<'_, str> {
    match channel.raw().filter(|raw| !raw.is_empty()) {
        Some(raw) => format!("other:{raw}").into(),
        None => channel.as_str().into(),
    }
}

fn serialize_channel_label<S: serde::Serializer>(channel: &Channel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&channel_label(channel))
}

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    /// Stable printable key, e.g. `partoo:40977`.
    pub conversation_key: String,
    pub provider: Provider,
    pub contact: Contact,
    pub channels: Vec<Channel>,
    pub last_activity: Option<Timestamp>,
    pub preview: Option<String>,
    /// Unread for the reader (their own read marks).
    pub unread: i64,
    pub message_count: i64,
    pub failed_count: i64,
    /// The vendor's own unread count, where the vendor reports one.
    pub vendor_unread: Option<i64>,
    /// Who it is assigned to: `name:<advisor>` (here) or `<vendor>:<user id>` (the vendor's word);
    /// `Team::label` names either.
    pub assignee: Option<String>,
    /// Marked done (until a new inbound message).
    pub done: bool,
    /// Snoozed until then (or a new inbound message).
    pub snoozed_until: Option<Timestamp>,
}

/// A message as a thread shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Stable printable key, e.g. `mykaarma:Gl2eDo…`.
    pub message_key: String,
    pub provider_message_id: String,
    #[serde(serialize_with = "serialize_channel_label")]
    pub channel: Channel,
    pub direction: Direction,
    pub at: Option<Timestamp>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// Plain text (HTML email rendered as text).
    pub body: Option<String>,
    pub status: Status,
    pub status_detail: Option<String>,
    pub attachments: Vec<Attachment>,
    pub call: Option<Call>,
    /// A draft not (yet) sent; never counted as sent.
    pub draft: bool,
    /// The vendor reported the message deleted.
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_round_trips_and_keeps_raw_values() {
        for word in Channel::KNOWN {
            assert_eq!(Channel::parse(word).as_str(), *word);
        }
        let odd = Channel::parse("tiktok");
        assert_eq!(odd.as_str(), "other");
        assert_eq!(odd.raw(), Some("tiktok"));
        assert_eq!(Status::parse("bounced").raw(), Some("bounced"));
    }

    #[test]
    fn progress_orders_a_messages_life() {
        use Status::*;
        let order = [
            Received, Pending, Queued, Sending, Accepted, Sent, Failed, Delivered, Read,
        ];
        for pair in order.windows(2) {
            assert!(pair[0].progress() < pair[1].progress(), "{pair:?}");
        }
        assert_eq!(Status::parse("unknown").progress(), Sending.progress());
    }
}
