//! HighLevel webhook events (`../shared/providers.md` §3, `vendor-docs/highlevel-outbound-message.txt`).
//!
//! `InboundMessage`/`OutboundMessage` carry one message each; `direction` is trusted over `type`
//! (the vendor's own example has an `OutboundMessage` with `direction: inbound`).
//! `ConversationUnreadUpdate` sets a conversation's unread count; `LCEmailStats` reports email
//! delivery and is tied to messages by RFC Message-ID.

use super::{
    Change, ContactPart, ConversationPart, Lenient, MessagePart, Outcome, StatusReport, UnixTime, VendorParse,
    attachment_from_url, id_part, non_empty, normalise_message_id, parse_rfc3339, present, short_hash, split_mailbox,
    typed,
};
use crate::html;
use crate::model::{Call, CallOutcome, Channel, Direction, Provider, Status};
use serde::Deserialize;

/// Webhook `type` values this module knows (the message ones and a few others it ignores).
pub const EVENT_TYPES: &[&str] = &[
    "InboundMessage",
    "OutboundMessage",
    "ConversationUnreadUpdate",
    "LCEmailStats",
    "ProviderOutboundMessage",
    "ContactCreate",
    "ContactUpdate",
    "ContactDelete",
    "AppointmentCreate",
    "OpportunityCreate",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    #[serde(rename = "type")]
    kind: Option<String>,
    webhook_id: Option<String>,
    message_id: Option<String>,
    status: Option<String>,
    timestamp: Option<UnixTime>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageEvent {
    #[serde(rename = "type")]
    kind: String,
    attachments: Option<Vec<AttachmentValue>>,
    body: Option<String>,
    contact_id: Option<String>,
    content_type: Option<String>,
    conversation_id: String,
    date_added: Option<String>,
    direction: Option<String>,
    message_type: Option<String>,
    status: Option<String>,
    message_id: Option<String>,
    user_id: Option<String>,
    call_duration: Option<Lenient>,
    call_status: Option<String>,
    email_message_id: Option<String>,
    from: Option<String>,
    to: Option<OneOrMany>,
    subject: Option<String>,
    error: Option<String>,
    /// The most specific channel word (`TYPE_CUSTOM_PROVIDER_SMS`, `TYPE_VOICEMAIL`, …).
    message_type_string: Option<String>,
    /// HighLevel's own plain-text rendering of an email body.
    plain_text: Option<String>,
}

/// The schema says `to` is a string; the examples send an array.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn first(&self) -> Option<&str> {
        match self {
            OneOrMany::One(s) => s.split(',').next(),
            OneOrMany::Many(v) => v.first().map(String::as_str),
        }
    }
}

/// Attachments are URL strings in the docs; objects with a `url` are accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum AttachmentValue {
    Url(String),
    Object {
        url: String,
        #[serde(rename = "contentType")]
        content_type: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnreadEvent {
    /// The conversation id.
    id: String,
    contact_id: Option<String>,
    unread_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactEvent {
    id: String,
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    date_added: Option<String>,
    date_updated: Option<String>,
    /// The user the contact is assigned to; null when nobody.
    #[serde(default, deserialize_with = "super::values::present_or_null")]
    assigned_to: Option<Option<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailStatsEvent {
    webhook_payload: EmailStatsPayload,
}

#[derive(Deserialize)]
struct EmailStatsPayload {
    event: String,
    id: Option<String>,
    timestamp: Option<UnixTime>,
    severity: Option<String>,
    reason: Option<String>,
    message: Option<EmailStatsMessage>,
    #[serde(rename = "delivery-status")]
    delivery_status: Option<DeliveryStatus>,
}

#[derive(Deserialize)]
struct EmailStatsMessage {
    headers: Option<EmailHeaders>,
}

#[derive(Deserialize)]
struct EmailHeaders {
    #[serde(rename = "message-id")]
    message_id: Option<String>,
}

#[derive(Deserialize)]
struct DeliveryStatus {
    code: Option<Lenient>,
    message: Option<String>,
    description: Option<String>,
}

pub(crate) fn parse(body: &[u8]) -> VendorParse {
    let text = std::str::from_utf8(body).unwrap_or_default();
    let head: Head = match typed(text, "") {
        Ok(h) => h,
        Err(reason) => return VendorParse::rejected(None, reason),
    };
    let kind = head.kind.clone();
    let mut event_at = head.timestamp.map(|t| t.0);
    let (outcome, extra_key) = match kind.as_deref() {
        Some("InboundMessage" | "OutboundMessage") => match typed::<MessageEvent>(text, "") {
            Ok(ev) => {
                // With no event time, the message's own time orders its events.
                event_at = event_at.or_else(|| ev.date_added.as_deref().and_then(parse_rfc3339));
                (message(ev, event_at), None)
            }
            Err(reason) => (Outcome::Rejected(reason), None),
        },
        Some("ConversationUnreadUpdate") => match typed::<UnreadEvent>(text, "") {
            // The documented event has no time: it is as of when it was received (the fold knows).
            Ok(ev) => (unread(ev, event_at), None),
            Err(reason) => (Outcome::Rejected(reason), None),
        },
        Some("ContactCreate" | "ContactUpdate") => match typed::<ContactEvent>(text, "") {
            Ok(ev) => {
                event_at = event_at.or_else(|| {
                    ev.date_updated
                        .as_deref()
                        .or(ev.date_added.as_deref())
                        .and_then(parse_rfc3339)
                });
                (contact(ev), None)
            }
            Err(reason) => (Outcome::Rejected(reason), None),
        },
        Some("LCEmailStats") => match typed::<EmailStatsEvent>(text, "") {
            Ok(ev) => {
                event_at = event_at.or(ev.webhook_payload.timestamp.map(|t| t.0));
                let key = ev.webhook_payload.id.clone();
                (email_stats(ev.webhook_payload), key)
            }
            Err(reason) => (Outcome::Rejected(reason), None),
        },
        Some(other) => (
            Outcome::Ignored(format!("HighLevel `{other}` events are not shown in the inbox")),
            None,
        ),
        None => (
            Outcome::Rejected("field `type`: missing (a HighLevel event names its type)".into()),
            None,
        ),
    };
    let k = kind.as_deref().unwrap_or("");
    let dedupe_key = match (&head.webhook_id, &head.message_id, extra_key) {
        (Some(w), _, _) => Some(format!("highlevel:webhook:{w}")),
        (None, Some(m), _) => Some(format!("highlevel:{k}:{m}:{}", head.status.as_deref().unwrap_or(""))),
        (None, None, Some(stats_id)) => Some(format!("highlevel:{k}:{stats_id}")),
        _ => None,
    };
    VendorParse {
        event_type: kind,
        dedupe_key,
        event_at,
        outcome,
    }
}

/// The `timestamp` HighLevel signs into a delivery's body (Unix ms), for the replay window.
pub fn signed_timestamp(body: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Stamp {
        timestamp: Option<UnixTime>,
    }
    serde_json::from_slice::<Stamp>(body).ok()?.timestamp.map(|t| t.0)
}

fn message(ev: MessageEvent, event_at: Option<i64>) -> Outcome {
    let direction_word = ev.direction.as_deref().map(|d| d.trim().to_ascii_lowercase());
    let direction = match direction_word.as_deref() {
        Some("inbound") => Direction::Inbound,
        Some("outbound") => Direction::Outbound,
        _ if ev.kind == "InboundMessage" => Direction::Inbound,
        _ => Direction::Outbound,
    };
    let type_word = ev.message_type.as_deref().unwrap_or("");
    // The most specific documented word wins: `messageTypeString` (`TYPE_CUSTOM_PROVIDER_SMS` under
    // `messageType: "Custom"`, `TYPE_VOICEMAIL` under `CALL`), else `messageType`.
    let channel = match ev.message_type_string.as_deref().map(channel) {
        Some(specific) if !matches!(specific, Channel::Other(_)) => specific,
        _ => channel(type_word),
    };
    // An internal comment is a note for the team, never sent to the contact.
    let direction = if channel == Channel::Note {
        Direction::Internal
    } else {
        direction
    };
    let at = ev.date_added.as_deref().and_then(parse_rfc3339);

    // The customer is the sender of what comes in and the recipient of what goes out: a phone
    // number (E.164, for SMS and calls) or an email mailbox.
    let customer_side = match direction {
        Direction::Inbound => ev.from.clone(),
        _ => ev.to.as_ref().and_then(OneOrMany::first).map(str::to_string),
    };
    let (contact_name, contact_phone, contact_email) = match customer_side.as_deref().map(str::trim) {
        Some(v) if looks_like_phone(v) => (None, Some(v.to_string()), None),
        Some(v) if direction != Direction::Internal => {
            let (name, addr) = split_mailbox(v);
            (name, None, addr)
        }
        _ => (None, None, None),
    };
    let from_name = ev
        .from
        .as_deref()
        .filter(|f| !looks_like_phone(f.trim()))
        .and_then(|f| split_mailbox(f).0);
    let conversation = ConversationPart {
        key: format!("highlevel:{}", id_part(&ev.conversation_id)),
        provider: Some(Provider::HighLevel),
        contact_name,
        contact_phone,
        contact_email,
        vendor_contact_id: present(&ev.contact_id),
        // Message events do not say who the contact is assigned to; contact events do.
        assignee: None,
    };

    let is_call = matches!(channel, Channel::Voice | Channel::Voicemail);
    let mut urls: Vec<(String, Option<String>)> = ev
        .attachments
        .unwrap_or_default()
        .into_iter()
        .map(|a| match a {
            AttachmentValue::Url(u) => (u, None),
            AttachmentValue::Object { url, content_type } => (url, content_type),
        })
        .filter(|(u, _)| !u.trim().is_empty())
        .collect();
    // For calls and voicemails the one attachment is the recording.
    let recording = if is_call && !urls.is_empty() {
        Some(urls.remove(0).0)
    } else {
        None
    };
    let attachments = urls.iter().map(|(u, t)| attachment_from_url(u, t.as_deref())).collect();

    let call = is_call.then(|| {
        call(
            &ev.call_status,
            ev.status.as_deref(),
            &ev.call_duration,
            recording,
            channel.clone(),
        )
    });
    let raw_body = ev.body.clone();
    let html_body = ev.content_type.as_deref().is_some_and(|t| t.contains("html"))
        || (channel == Channel::Email && raw_body.as_deref().is_some_and(html::looks_like_html));
    let (body, body_html) = match raw_body {
        // HighLevel's own plain text of an email, when it sends one, is preferred to ours.
        Some(b) if html_body => (present(&ev.plain_text).or_else(|| Some(html::to_text(&b))), Some(b)),
        Some(b) if channel == Channel::Note => (Some(without_mention_ids(&b)), None),
        other => (other, None),
    };

    let key = match &ev.message_id {
        Some(id) => format!("highlevel:{}", id_part(id)),
        // The inbound SMS example has no messageId: name the message by everything that tells
        // two messages apart (an inbound and an outbound text with the same words at the same
        // second are two messages).
        None => format!(
            "highlevel:h{}",
            short_hash(&[
                &ev.conversation_id,
                ev.date_added.as_deref().unwrap_or(""),
                ev.body.as_deref().unwrap_or(""),
                direction.as_str(),
                channel.as_str(),
                ev.message_type.as_deref().unwrap_or(""),
                ev.message_type_string.as_deref().unwrap_or(""),
                &ev.kind,
            ])
        ),
    };
    let sender = match direction {
        Direction::Inbound => from_name,
        _ => from_name.or(present(&ev.user_id).map(|u| format!("user {u}"))),
    };
    let status = if direction == Direction::Internal {
        // A note has no delivery: "delivered" on a comment means only that it was posted.
        StatusReport::explicit(Status::Received, ev.status.as_deref())
    } else {
        status(direction, is_call, ev.status.as_deref(), ev.error.as_deref())
    };
    Outcome::Ok(vec![Change::Message(Box::new(MessagePart {
        conversation,
        provider_message_id: ev
            .message_id
            .clone()
            .unwrap_or_else(|| key["highlevel:".len()..].to_string()),
        key,
        at: at.or(event_at),
        at_provisional: None,
        channel: Some(channel),
        direction: Some(direction),
        direction_raw: None,
        sender,
        subject: present(&ev.subject),
        body,
        body_html,
        attachments: Some(attachments),
        call,
        draft: Some(0),
        deleted: None,
        read: None,
        email_message_id: ev.email_message_id.as_deref().and_then(normalise_message_id),
        status: Some(status),
    }))])
}

/// A phone number as HighLevel writes `from`/`to` for texts and calls (E.164, or digits).
fn looks_like_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    !s.contains('@')
        && digits >= 7
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
}

/// A comment's mentions as people read them: `@John Doe<userId>Fwo3…</userId>` → `@John Doe`.
fn without_mention_ids(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find("<userId>") {
        out.push_str(&rest[..open]);
        match rest[open..].find("</userId>") {
            Some(close) => rest = &rest[open + close + "</userId>".len()..],
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `messageType` strings, matched case-insensitively and ignoring separators; the REST API's
/// `TYPE_…` spellings are accepted too.
fn channel(raw: &str) -> Channel {
    let norm: String = raw
        .trim()
        .to_ascii_lowercase()
        .trim_start_matches("type_")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match norm.as_str() {
        "sms" | "customsms" | "customprovidersms" => Channel::Sms,
        "email" | "customemail" | "customprovideremail" => Channel::Email,
        "call" | "ivrcall" | "customcall" => Channel::Voice,
        "voicemail" => Channel::Voicemail,
        "fb" | "facebook" => Channel::Facebook,
        "ig" | "instagram" => Channel::Instagram,
        "gmb" | "google" => Channel::Google,
        "whatsapp" => Channel::Whatsapp,
        "livechat" | "webchat" => Channel::LiveChat,
        "internalcomment" | "comment" => Channel::Note,
        _ => Channel::Other(raw.to_string()),
    }
}

fn status(direction: Direction, is_call: bool, raw: Option<&str>, error: Option<&str>) -> StatusReport {
    if direction == Direction::Inbound {
        return StatusReport::explicit(Status::Received, raw);
    }
    let Some(word) = raw.and_then(non_empty) else {
        // "Called whenever a user sends a message": without a status, it has been sent.
        return StatusReport::implied(Status::Sent);
    };
    let lower = word.to_ascii_lowercase();
    let error = error.and_then(non_empty);
    let (status, detail) = match lower.as_str() {
        "failed" => (
            Status::Failed,
            error.or(Some("HighLevel reported the message as failed".into())),
        ),
        "undelivered" => (
            Status::Failed,
            error.or(Some("the carrier reported the message as undelivered".into())),
        ),
        "opt_out" => (Status::Failed, Some("the contact has opted out of this channel".into())),
        // Call states describe the call, which `call` carries; the message itself went out.
        _ if is_call => (Status::Sent, None),
        "pending" => (Status::Pending, None),
        "scheduled" | "queued" => (Status::Queued, None),
        "sent" | "connected" => (Status::Sent, None),
        "delivered" => (Status::Delivered, None),
        "read" | "opened" | "clicked" => (Status::Read, None),
        _ => (
            Status::Unknown(word.clone()),
            Some(format!("HighLevel status \"{word}\"")),
        ),
    };
    StatusReport::explicit(status, Some(&word)).with_detail(detail)
}

fn call(
    call_status: &Option<String>,
    status: Option<&str>,
    duration: &Option<Lenient>,
    recording: Option<String>,
    channel: Channel,
) -> Call {
    let word = call_status
        .as_deref()
        .or(status)
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let outcome = match word.as_str() {
        // A voicemail drop's `status` says the drop completed: it was left as a voicemail.
        "completed" | "" if channel == Channel::Voicemail => CallOutcome::Voicemail,
        "completed" | "answered" => CallOutcome::Completed,
        "voicemail" => CallOutcome::Voicemail,
        "busy" => CallOutcome::Busy,
        "no-answer" | "no_answer" | "noanswer" => CallOutcome::NoAnswer,
        "canceled" | "cancelled" | "missed" => CallOutcome::Missed,
        "failed" => CallOutcome::Failed,
        "pending" | "ringing" | "in-progress" | "in_progress" => CallOutcome::InProgress,
        "" => CallOutcome::Other("unreported".into()),
        other => CallOutcome::Other(other.to_string()),
    };
    Call {
        outcome: outcome.as_str().to_string(),
        outcome_detail: outcome.raw().map(str::to_string),
        duration_s: duration
            .as_ref()
            .and_then(|d| d.0.trim().parse::<f64>().ok())
            .map(|d| d.round() as u64),
        recording_url: recording,
        transcript: None,
    }
}

fn unread(ev: UnreadEvent, at: Option<i64>) -> Outcome {
    let conversation = ConversationPart {
        key: format!("highlevel:{}", id_part(&ev.id)),
        provider: Some(Provider::HighLevel),
        vendor_contact_id: present(&ev.contact_id),
        ..Default::default()
    };
    Outcome::Ok(vec![Change::UnreadCount {
        conversation,
        count: ev.unread_count.max(0),
        at,
    }])
}

fn contact(ev: ContactEvent) -> Outcome {
    let joined = [present(&ev.first_name), present(&ev.last_name)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Outcome::Ok(vec![Change::Contact(ContactPart {
        provider: Some(Provider::HighLevel),
        vendor_contact_id: ev.id,
        name: present(&ev.name).or_else(|| non_empty(&joined)),
        phone: present(&ev.phone),
        email: present(&ev.email),
        assignee: ev.assigned_to,
    })])
}

/// Mailgun-shaped delivery events (providers.md §3.4–3.5).
fn email_stats(p: EmailStatsPayload) -> Outcome {
    let Some(message_id) = p.message.and_then(|m| m.headers).and_then(|h| h.message_id) else {
        return Outcome::Ignored("LCEmailStats without a message-id header cannot be tied to a message".into());
    };
    let Some(message_id) = normalise_message_id(&message_id) else {
        return Outcome::Ignored("LCEmailStats with an empty message-id header".into());
    };
    let ds = p.delivery_status.as_ref();
    let why = ds
        .and_then(|d| {
            d.description
                .as_deref()
                .and_then(non_empty)
                .or(d.message.as_deref().and_then(non_empty))
        })
        .or(p.reason.as_deref().and_then(non_empty));
    let code = ds
        .and_then(|d| d.code.as_ref())
        .map(|c| c.0.clone())
        .filter(|c| c != "0" && !c.is_empty());
    let event = p.event.trim().to_ascii_lowercase();
    let (status, detail) = match event.as_str() {
        "accepted" => (Status::Queued, None),
        "delivered" => (Status::Delivered, None),
        "opened" | "clicked" => (Status::Read, None),
        "failed" | "rejected" | "bounced" if p.severity.as_deref() == Some("temporary") => (
            Status::Queued,
            Some(format!(
                "temporary delivery failure, retrying: {}",
                why.unwrap_or_default()
            )),
        ),
        "failed" | "rejected" | "bounced" => {
            let mut d = why.unwrap_or_else(|| "the email could not be delivered".into());
            if let Some(code) = code {
                d = format!("{d} (SMTP {code})");
            }
            (Status::Failed, Some(d))
        }
        "complained" => (Status::Delivered, Some("the recipient marked the email as spam".into())),
        "unsubscribed" => (Status::Delivered, Some("the recipient unsubscribed".into())),
        _ => {
            return Outcome::Ignored(format!("LCEmailStats event `{}` does not change delivery", p.event));
        }
    };
    Outcome::Ok(vec![Change::EmailStatus {
        email_message_id: message_id,
        status: StatusReport::explicit(status, Some(&event)).with_detail(detail),
    }])
}
