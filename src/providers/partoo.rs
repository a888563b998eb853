//! Partoo webhook events (`../shared/providers.md` §2, `vendor-docs/partoo-message-created.txt`).
//!
//! `{type, payload: {message, conversation, org_id}}`. `message_updated` carries a reduced
//! conversation (no phone, email or read state), so absent fields never erase known ones. Partoo
//! sends no event time: a message's events share `message.date` and are ordered by status.

use super::{
    Change, ConversationPart, Lenient, MessagePart, Outcome, StatusReport, VendorParse, attachment_from_url, id_part,
    non_empty, parse_space_offset, present, reasons, typed,
};
use crate::model::{Channel, Direction, Provider, Status};
use serde::Deserialize;

/// Event types Partoo documents.
pub const EVENT_TYPES: &[&str] = &[
    "message_created",
    "message_updated",
    "business_created",
    "business_updated",
    "business_deleted",
    "lead_received",
];

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Event {
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    message: Message,
    conversation: Option<Conversation>,
}

#[derive(Deserialize)]
struct Message {
    id: Lenient,
    conversation_id: Option<Lenient>,
    date: Option<String>,
    content_type: Option<String>,
    sender_type: Option<String>,
    sender_label: Option<String>,
    status: Option<String>,
    is_deleted: Option<bool>,
    content: Option<String>,
}

#[derive(Deserialize)]
struct Conversation {
    id: Option<Lenient>,
    consumer_name: Option<String>,
    consumer_phone_number: Option<String>,
    consumer_email: Option<String>,
    is_read: Option<bool>,
    messaging_partner: Option<String>,
    issues: Option<Vec<String>>,
    /// The Partoo user the conversation is assigned to; null when nobody.
    #[serde(default, deserialize_with = "super::values::present_or_null")]
    assigned_user_id: Option<Option<String>>,
    custom_channel: Option<CustomChannel>,
    /// Its `id` is a string in one example and a number in the next; only its type is checked.
    #[allow(dead_code)]
    business: Option<Business>,
}

#[derive(Deserialize)]
struct CustomChannel {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Business {
    #[allow(dead_code)]
    id: Option<Lenient>,
}

pub(crate) fn parse(body: &[u8]) -> VendorParse {
    let text = std::str::from_utf8(body).unwrap_or_default();
    let kind = match typed::<Head>(text, "") {
        Ok(h) => h.kind,
        Err(reason) => return VendorParse::rejected(None, reason),
    };
    match kind.as_deref() {
        Some("message_created" | "message_updated") => {}
        Some(other) => {
            return VendorParse {
                outcome: Outcome::Ignored(format!("Partoo `{other}` events are not shown in the inbox")),
                event_type: kind,
                dedupe_key: None,
                event_at: None,
            };
        }
        None => return VendorParse::rejected(None, "field `type`: missing (a Partoo event names its type)".into()),
    }
    let ev: Event = match typed(text, "") {
        Ok(e) => e,
        Err(reason) => return VendorParse::rejected(kind, reason),
    };
    let m = &ev.payload.message;
    let event_at = m.date.as_deref().and_then(parse_space_offset);
    // No delivery id exists; a retry replays the same body, and a status change is a new event.
    let dedupe_key = Some(format!(
        "partoo:{}:{}:{}:{}",
        kind.as_deref().unwrap_or(""),
        m.id.0,
        m.status.as_deref().unwrap_or(""),
        m.is_deleted.unwrap_or(false)
    ));
    let outcome = normalise(&ev.payload, event_at);
    VendorParse {
        event_type: kind,
        dedupe_key,
        event_at,
        outcome,
    }
}

fn normalise(p: &Payload, at: Option<i64>) -> Outcome {
    let m = &p.message;
    let c = p.conversation.as_ref();
    let Some(conversation_id) = c.and_then(|c| c.id.clone()).or_else(|| m.conversation_id.clone()) else {
        return Outcome::Rejected("field `payload.conversation.id`: missing (and no message.conversation_id)".into());
    };
    let conversation = ConversationPart {
        key: format!("partoo:{}", id_part(&conversation_id.0)),
        provider: Some(Provider::Partoo),
        contact_name: c.and_then(|c| present(&c.consumer_name)),
        contact_phone: c.and_then(|c| present(&c.consumer_phone_number)),
        contact_email: c.and_then(|c| present(&c.consumer_email)),
        vendor_contact_id: None,
        assignee: c.and_then(|c| c.assigned_user_id.clone()),
    };

    let sender_type = m.sender_type.as_deref().unwrap_or("").trim();
    let (direction, direction_raw) = match sender_type.to_ascii_lowercase().as_str() {
        "consumer" => (Direction::Inbound, None),
        "user" => (Direction::Outbound, None),
        "metadata" => (Direction::Internal, None),
        _ => (Direction::Internal, Some(sender_type.to_string())),
    };
    let channel = channel(c);
    let (body, attachments) = content(m.content_type.as_deref(), m.content.as_deref());
    let status = status(direction, m.status.as_deref(), c.and_then(|c| c.issues.as_deref()));
    let sender = match direction {
        Direction::Inbound => c.and_then(|c| present(&c.consumer_name)).or(present(&m.sender_label)),
        _ => present(&m.sender_label),
    };

    let mut changes = vec![Change::Message(Box::new(MessagePart {
        conversation: conversation.clone(),
        key: format!("partoo:{}", id_part(&m.id.0)),
        provider_message_id: m.id.0.clone(),
        at,
        at_provisional: None,
        channel: Some(channel),
        direction: Some(direction),
        direction_raw,
        sender,
        subject: None,
        body,
        body_html: None,
        attachments: Some(attachments),
        call: None,
        draft: Some(0),
        deleted: m.is_deleted,
        read: None,
        email_message_id: None,
        status: Some(status),
    }))];
    // `is_read` describes the conversation as of this message: read through its time.
    if let (Some(true), Some(at)) = (c.and_then(|c| c.is_read), at) {
        changes.push(Change::ReadThrough { conversation, at });
    }
    Outcome::Ok(changes)
}

fn channel(c: Option<&Conversation>) -> Channel {
    let partner = c
        .and_then(|c| c.messaging_partner.as_deref())
        .map(str::trim)
        .unwrap_or("");
    match partner.to_ascii_lowercase().as_str() {
        "google" => Channel::Google,
        "facebook" => Channel::Facebook,
        "instagram" => Channel::Instagram,
        "sms" => Channel::Sms,
        "whatsapp" => Channel::Whatsapp,
        "" => match c
            .and_then(|c| c.custom_channel.as_ref())
            .and_then(|cc| present(&cc.name))
        {
            Some(custom) => Channel::Other(custom),
            None => Channel::Other(String::new()),
        },
        _ => Channel::Other(partner.to_string()),
    }
}

/// Text stays text; media become a labelled link; content Partoo cannot show is labelled as such.
fn content(content_type: Option<&str>, content: Option<&str>) -> (Option<String>, Vec<crate::model::Attachment>) {
    let content = content.and_then(non_empty);
    let kind = content_type.unwrap_or("Text").trim();
    let media = |label: &str, mime: &str| {
        let attachment = content
            .as_deref()
            .filter(|c| c.starts_with("http"))
            .map(|url| attachment_from_url(url, None));
        let mut attachments: Vec<_> = attachment.into_iter().collect();
        for a in &mut attachments {
            a.mime = a.mime.take().or(Some(mime.to_string()));
        }
        (Some(format!("[{label}]")), attachments)
    };
    match kind.to_ascii_lowercase().as_str() {
        "text" => (content, vec![]),
        "image" => media("Image", "image/*"),
        "video" => media("Video", "video/*"),
        "audio" => media("Audio", "audio/*"),
        "document" => media("Document", "application/octet-stream"),
        "igstoryreply" => (
            Some(format!("[Reply to an Instagram story] {}", content.unwrap_or_default())),
            vec![],
        ),
        "igstorymention" => media("Mentioned the business in an Instagram story", "image/*"),
        "unsupported" => (
            Some("[Unhandled content: the channel sent something Partoo cannot show]".into()),
            vec![],
        ),
        _ => {
            let label = format!("[Unhandled content: {kind}]");
            (
                Some(match content {
                    Some(c) => format!("{label} {c}"),
                    None => label,
                }),
                vec![],
            )
        }
    }
}

fn status(direction: Direction, raw: Option<&str>, issues: Option<&[String]>) -> StatusReport {
    if direction != Direction::Outbound {
        return StatusReport::explicit(Status::Received, raw);
    }
    let Some(word) = raw.and_then(non_empty) else {
        return StatusReport::implied(Status::Sending);
    };
    let status = match word.to_ascii_lowercase().as_str() {
        "sending" => Status::Sending,
        // "To ensure that the message has been delivered successfully, … check that the status
        // field of the message has switched to Success" (send-message).
        "success" => Status::Delivered,
        "failed" => {
            let detail = match issues.filter(|i| !i.is_empty()) {
                Some(issues) => format!(
                    "Partoo could not send it: {}",
                    issues
                        .iter()
                        .map(|i| reasons::partoo_issue(i))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                None => "Partoo could not send it through the channel (no reason given; it can be retried)".into(),
            };
            return StatusReport::explicit(Status::Failed, Some(&word)).with_detail(Some(detail));
        }
        _ => {
            return StatusReport::explicit(Status::Unknown(word.clone()), Some(&word))
                .with_detail(Some(format!("Partoo status \"{word}\"")));
        }
    };
    StatusReport::explicit(status, Some(&word))
}
