//! myKaarma webhook events (`../shared/providers.md` §1, `vendor-docs/mykaarma-message-event.txt`).
//!
//! Envelope `{id, timestamp, dealeruuid, departmentuuid, type, payload}` where `payload` is, as
//! delivered, a JSON *string* holding the event; an object is accepted too. A conversation is a
//! department + customer pair: myKaarma has no thread id.

use super::{
    Change, ConversationPart, Lenient, MessagePart, Outcome, StatusReport, UnixTime, VendorParse, attachment_from_url,
    id_part, parse_naive_utc, phone_or_email, present, reasons, typed,
};
use crate::html;
use crate::model::{Attachment, Call, CallOutcome, Channel, Direction, Provider, Status};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Envelope `type` values myKaarma documents. Only `messages` feeds the inbox.
pub const EVENT_TYPES: &[&str] = &["messages", "customers", "appointments", "service-orders", "mpis"];

#[derive(Deserialize)]
struct Envelope<'a> {
    id: Option<String>,
    timestamp: Option<UnixTime>,
    departmentuuid: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The older envelope spelling of `type`.
    #[serde(rename = "dataType")]
    data_type: Option<String>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    is_update: Option<bool>,
    #[serde(rename = "messageDTO")]
    message: MessageDto,
    #[serde(rename = "voiceCallDTO")]
    voice_call: Option<VoiceCall>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageDto {
    uuid: String,
    message_type: Option<String>,
    protocol: Option<String>,
    from_name: Option<String>,
    from_number: Option<String>,
    to_number: Option<String>,
    sent_on: Option<String>,
    received_on: Option<String>,
    email_message_id: Option<String>,
    delivery_status: Option<Lenient>,
    dealer_department_uuid: Option<String>,
    twilio_delivery_failure_message: Option<String>,
    customer_uuid: Option<String>,
    customer_name: Option<String>,
    /// The dealer associate who owns the thread (providers.md: inferred from the field's name and
    /// from myKaarma delegating a thread to whoever replies as a non-default user).
    dealer_associate_uuid: Option<String>,
    is_read: Option<bool>,
    #[serde(rename = "messageExtnDTO")]
    extn: Option<MessageExtn>,
    doc_files: Option<Vec<DocFile>>,
    #[serde(rename = "whatsAppMessageDTO")]
    whatsapp: Option<serde::de::IgnoredAny>,
    #[serde(rename = "voiceCallDTO")]
    voice_call: Option<VoiceCall>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageExtn {
    message_body: Option<String>,
    subject: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocFile {
    doc_file_name: Option<String>,
    original_file_name: Option<String>,
    file_extension: Option<String>,
    mime_type: Option<String>,
    doc_size: Option<Lenient>,
    #[serde(rename = "mediaPreviewURL")]
    media_preview_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VoiceCall {
    call_status: Option<Lenient>,
    duration: Option<Lenient>,
    recording_url: Option<String>,
    transcribed_text: Option<String>,
}

pub(crate) fn parse(body: &[u8]) -> VendorParse {
    // The caller checked UTF-8 already.
    let text = std::str::from_utf8(body).unwrap_or_default();
    let env: Envelope = match typed(text, "") {
        Ok(e) => e,
        Err(reason) => return VendorParse::rejected(None, reason),
    };
    let kind = env.kind.clone().or(env.data_type.clone());
    let dedupe_key = match (&env.id, &kind) {
        (Some(id), Some(k)) => Some(format!("mykaarma:{k}:{id}")),
        _ => None,
    };
    let event_at = env.timestamp.map(|t| t.0);
    let outcome = match kind.as_deref() {
        Some("messages") => message_event(&env, event_at),
        Some(other) => Outcome::Ignored(format!("myKaarma `{other}` events are not shown in the inbox")),
        None => Outcome::Rejected("field `type`: missing (a myKaarma envelope names its event type)".into()),
    };
    VendorParse {
        event_type: kind,
        dedupe_key,
        event_at,
        outcome,
    }
}

fn message_event(env: &Envelope, event_at: Option<i64>) -> Outcome {
    let Some(raw) = env.payload else {
        return Outcome::Rejected("field `payload`: missing".into());
    };
    // As delivered, `payload` is a string holding JSON: decode it a second time.
    let decoded: String;
    let (json, context) = if raw.get().starts_with('"') {
        match serde_json::from_str::<String>(raw.get()) {
            Ok(s) => {
                decoded = s;
                (decoded.as_str(), "payload (decoded string)")
            }
            Err(e) => return Outcome::Rejected(format!("field `payload`: {e}")),
        }
    } else {
        (raw.get(), "payload")
    };
    match typed::<Payload>(json, context) {
        Ok(p) => normalise(env, p, event_at),
        Err(reason) => Outcome::Rejected(reason),
    }
}

fn normalise(env: &Envelope, p: Payload, event_at: Option<i64>) -> Outcome {
    let m = p.message;
    let department = present(&env.departmentuuid).or(present(&m.dealer_department_uuid));
    let Some(department) = department else {
        return Outcome::Rejected(
            "field `departmentuuid`: missing (needed, with the customer, to name the conversation)".into(),
        );
    };
    let message_type = m.message_type.as_deref().unwrap_or("").trim().to_ascii_uppercase();
    let (direction, draft) = match message_type.as_str() {
        "I" => (Direction::Inbound, 0),
        "S" => (Direction::Outbound, 0),
        "N" => (Direction::Internal, 0),
        "F" => (Direction::Outbound, 1),
        "D" => (Direction::Outbound, 2),
        _ => (Direction::Internal, 0),
    };
    let direction_raw = (!matches!(message_type.as_str(), "I" | "S" | "N" | "F" | "D"))
        .then(|| m.message_type.clone().unwrap_or_default());

    let protocol = m.protocol.as_deref().unwrap_or("").trim().to_ascii_uppercase();
    let channel = if m.whatsapp.is_some() {
        Channel::Whatsapp
    } else if direction == Direction::Internal && direction_raw.is_none() {
        Channel::Note
    } else {
        match protocol.as_str() {
            "X" => Channel::Sms,
            "E" => Channel::Email,
            "V" => Channel::Voice,
            "Z" => Channel::Note,
            _ => Channel::Other(m.protocol.clone().unwrap_or_default()),
        }
    };

    // The customer's address is the "from" of what they send and the "to" of what we send.
    let customer_address = match direction {
        Direction::Inbound => present(&m.from_number),
        _ => present(&m.to_number),
    };
    let (phone, email) = phone_or_email(customer_address);
    let customer = present(&m.customer_uuid);
    let Some(customer_key) = customer.clone().or_else(|| phone.clone()).or_else(|| email.clone()) else {
        return Outcome::Rejected(
            "field `payload.messageDTO.customerUuid`: missing, and no customer number or email to use instead".into(),
        );
    };
    let conversation = ConversationPart {
        key: format!("mykaarma:{}@{}", id_part(&customer_key), id_part(&department)),
        provider: Some(Provider::MyKaarma),
        contact_name: present(&m.customer_name),
        contact_phone: phone,
        contact_email: email,
        vendor_contact_id: customer,
        assignee: present(&m.dealer_associate_uuid).map(Some),
    };

    let is_update = p.is_update.unwrap_or(false);
    let vendor_at = match direction {
        Direction::Inbound => m.received_on.as_deref().or(m.sent_on.as_deref()),
        _ => m.sent_on.as_deref().or(m.received_on.as_deref()),
    }
    .and_then(parse_naive_utc);
    // The envelope time is UTC and is the message's own time for a new message; `sentOn` has no
    // zone, so it is only the fallback. An update's envelope time is the update's, not the message's.
    let (at, at_provisional) = if is_update {
        (None, vendor_at.or(event_at))
    } else {
        (event_at.or(vendor_at), None)
    };

    let sender = match direction {
        Direction::Inbound => present(&m.customer_name)
            .or(present(&m.from_name))
            .or(present(&m.from_number)),
        _ => present(&m.from_name),
    };
    let extn = m.extn.as_ref();
    let subject = extn.and_then(|e| present(&e.subject));
    let raw_body = extn.and_then(|e| e.message_body.clone());
    let (body, body_html) = match raw_body {
        Some(b) if channel == Channel::Email && html::looks_like_html(&b) => (Some(html::to_text(&b)), Some(b)),
        other => (other, None),
    };

    let attachments = m.doc_files.as_ref().map(|files| files.iter().map(doc_file).collect());
    let call = if channel == Channel::Voice {
        m.voice_call.as_ref().or(p.voice_call.as_ref()).map(call)
    } else {
        None
    };
    let status = status(
        direction,
        draft,
        m.delivery_status.as_ref(),
        m.twilio_delivery_failure_message.as_deref(),
    );

    Outcome::Ok(vec![Change::Message(Box::new(MessagePart {
        conversation,
        key: format!("mykaarma:{}", id_part(&m.uuid)),
        provider_message_id: m.uuid.clone(),
        at,
        at_provisional,
        channel: Some(channel),
        direction: Some(direction),
        direction_raw,
        sender,
        subject,
        body,
        body_html,
        attachments,
        call,
        draft: Some(draft),
        deleted: None,
        read: m.is_read,
        email_message_id: m.email_message_id.as_deref().and_then(super::normalise_message_id),
        status: Some(status),
    }))])
}

fn status(direction: Direction, draft: u8, delivery: Option<&Lenient>, failure: Option<&str>) -> StatusReport {
    match direction {
        Direction::Inbound | Direction::Internal => return StatusReport::explicit(Status::Received, None),
        Direction::Outbound if draft > 0 => return StatusReport::explicit(Status::Pending, Some("draft")),
        Direction::Outbound => {}
    }
    if let Some(reason) = failure.and_then(super::non_empty) {
        return StatusReport::explicit(Status::Failed, delivery.map(|d| d.0.as_str()))
            .with_detail(Some(reasons::carrier_failure(&reason)));
    }
    let Some(raw) = delivery.map(|d| d.0.trim()).filter(|d| !d.is_empty()) else {
        // An outgoing (`S`) message is one myKaarma has sent; a later status says more.
        return StatusReport::implied(Status::Sent);
    };
    let status = match raw.to_ascii_lowercase().as_str() {
        "1" | "sent" | "success" | "accepted" => Status::Sent,
        "delivered" => Status::Delivered,
        "read" => Status::Read,
        "queued" => Status::Queued,
        "sending" => Status::Sending,
        "0" | "failed" | "failure" | "undelivered" => {
            return StatusReport::explicit(Status::Failed, Some(raw)).with_detail(Some(format!(
                "myKaarma reported the message as not delivered (status \"{raw}\")"
            )));
        }
        _ => {
            return StatusReport::explicit(Status::Unknown(raw.to_string()), Some(raw))
                .with_detail(Some(format!("myKaarma delivery status \"{raw}\"")));
        }
    };
    StatusReport::explicit(status, Some(raw))
}

fn doc_file(f: &DocFile) -> Attachment {
    let mut a = match &f.media_preview_url {
        Some(url) if !url.is_empty() => attachment_from_url(url, f.mime_type.as_deref()),
        _ => Attachment::default(),
    };
    a.name = present(&f.original_file_name).or(present(&f.doc_file_name)).or(a.name);
    a.mime = present(&f.mime_type).or(a.mime).or_else(|| {
        f.file_extension
            .as_deref()
            .and_then(super::mime_for_extension)
            .map(str::to_string)
    });
    a.size = f.doc_size.as_ref().and_then(|s| s.0.trim().parse().ok());
    a
}

/// myKaarma's internal call status ids (providers.md §1.5) mapped to outcomes.
fn call(v: &VoiceCall) -> Call {
    let id = v.call_status.as_ref().map(|s| s.0.trim().to_string());
    let outcome = match id.as_deref() {
        Some("100") => CallOutcome::Completed,
        Some("102") | Some("9") => CallOutcome::Missed,
        Some("104") => CallOutcome::NoAnswer,
        Some("105") => CallOutcome::Busy,
        Some("99") | Some("12") | Some("13") | Some("19") => CallOutcome::Failed,
        Some("1" | "10" | "20" | "106" | "107" | "201" | "202" | "203" | "204") => CallOutcome::InProgress,
        Some(other) => CallOutcome::Other(format!("myKaarma call status {other}")),
        None => CallOutcome::Other("unreported".into()),
    };
    Call {
        outcome: outcome.as_str().to_string(),
        outcome_detail: outcome.raw().map(str::to_string),
        duration_s: v
            .duration
            .as_ref()
            .and_then(|d| d.0.trim().parse::<f64>().ok())
            .map(|d| d.round() as u64),
        recording_url: present(&v.recording_url),
        transcript: present(&v.transcribed_text),
    }
}

/// The send API's response/callback shape (`vendor-docs/mykaarma-send-text-or-email.txt`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendCallback {
    #[serde(rename = "messageUUID")]
    message_uuid: Option<String>,
    status: Option<String>,
}

/// A send-status callback posted to our callback URL. Stored byte-exact like any event; it is
/// identified by its token and body together, since myKaarma gives callbacks no id.
pub fn parse_callback(token: &str, body: &[u8]) -> super::Parsed {
    let dedupe_key = format!(
        "mykaarma:callback:{}",
        super::short_hash(&[token, &String::from_utf8_lossy(body)])
    );
    let outcome = match std::str::from_utf8(body)
        .map_err(|e| format!("body is not valid UTF-8 ({e})"))
        .and_then(|t| typed::<SendCallback>(t, ""))
    {
        Ok(cb) => Outcome::Ignored(format!(
            "send-status callback ({} for message {}): applied to the outbox, not folded into messages",
            cb.status.as_deref().unwrap_or("no status"),
            cb.message_uuid.as_deref().unwrap_or("?")
        )),
        Err(reason) => Outcome::Rejected(reason),
    };
    super::Parsed {
        provider: Provider::MyKaarma,
        event_type: Some("send-callback".into()),
        dedupe_key,
        event_at: None,
        outcome,
    }
}
