//! Vendor payloads → normalised changes. Pure functions: bytes in, data out, no I/O.
//!
//! `parse` detects the vendor from the body's shape (or takes it as given), computes the event's
//! dedupe key and vendor time, and hands the body to `mykaarma`, `highlevel` or `partoo`. Whatever
//! cannot be understood comes back as `Outcome::Rejected` with a reason that names the field, so the
//! caller can store it for inspection instead of dropping it.

pub mod highlevel;
pub mod mykaarma;
pub mod partoo;
pub mod reasons;
mod values;

use crate::model::{Attachment, Call, Channel, Direction, Provider, Status};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// What one raw event means.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub provider: Provider,
    pub event_type: Option<String>,
    /// Identity of the event for deduplication: the same delivery twice has the same key.
    pub dedupe_key: String,
    /// Vendor event time in Unix milliseconds, when the vendor gives one.
    pub event_at: Option<i64>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Understood; these changes fold into conversations and messages.
    Ok(Vec<Change>),
    /// Understood, but not something the inbox shows (other event types).
    Ignored(String),
    /// Not understood; the reason names the field or the defect.
    Rejected(String),
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Ok(_) => "ok",
            Outcome::Ignored(_) => "ignored",
            Outcome::Rejected(_) => "rejected",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Ok(_) => None,
            Outcome::Ignored(r) | Outcome::Rejected(r) => Some(r),
        }
    }
}

/// One normalised effect of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// What an event says about one message (and the conversation it belongs to).
    Message(Box<MessagePart>),
    /// The vendor's unread count for a conversation at the event time (HighLevel); with no time
    /// in the event, as of when it was received.
    UnreadCount {
        conversation: ConversationPart,
        count: i64,
        at: Option<i64>,
    },
    /// The vendor says the conversation was read up to this time (Partoo `is_read`).
    ReadThrough { conversation: ConversationPart, at: i64 },
    /// A delivery report for an email, tied to messages by their RFC Message-ID (HighLevel).
    EmailStatus {
        email_message_id: String,
        status: StatusReport,
    },
    /// A vendor contact record: names the conversations with that contact (HighLevel message
    /// webhooks carry only a `contactId`).
    Contact(ContactPart),
}

/// A vendor contact's details, keyed `provider:contact id`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactPart {
    pub provider: Option<Provider>,
    pub vendor_contact_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The user the contact is assigned to (HighLevel `assignedTo`), as `ConversationPart::assignee`.
    pub assignee: Option<Option<String>>,
}

/// The conversation an event names, with whatever contact details it carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConversationPart {
    /// Stable printable key, e.g. `partoo:40977`.
    pub key: String,
    pub provider: Option<Provider>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    /// The vendor's id for the contact (HighLevel `contactId`, myKaarma customer uuid).
    pub vendor_contact_id: Option<String>,
    /// Who the vendor says the conversation is assigned to: its user id, or `Some(None)` for
    /// nobody; `None` when the event does not say.
    pub assignee: Option<Option<String>>,
}

/// What one event says about one message. `None` means "this event does not say"; folding keeps
/// the newest value each field was given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessagePart {
    pub conversation: ConversationPart,
    /// Stable printable key, e.g. `mykaarma:Gl2eDo…`.
    pub key: String,
    pub provider_message_id: String,
    /// When the message was sent or received (Unix ms).
    pub at: Option<i64>,
    /// A stand-in time for a placeholder (an update seen before its message).
    pub at_provisional: Option<i64>,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    /// The vendor's own word for the direction, when it was not one we know.
    pub direction_raw: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// Plain text; for HTML email, the readable rendering of `body_html`.
    pub body: Option<String>,
    pub body_html: Option<String>,
    pub attachments: Option<Vec<Attachment>>,
    pub call: Option<Call>,
    /// 0 = a real message, 1 = draft, 2 = discarded draft.
    pub draft: Option<u8>,
    pub deleted: Option<bool>,
    /// The vendor marked this message read.
    pub read: Option<bool>,
    /// RFC Message-ID of an email, normalised without angle brackets.
    pub email_message_id: Option<String>,
    pub status: Option<StatusReport>,
}

/// A delivery status as one event reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub status: Status,
    /// Vendor code or reason, in words where known.
    pub detail: Option<String>,
    /// The vendor's own status word.
    pub raw: Option<String>,
    /// False when the status is only implied (e.g. "an outgoing message event means sent"); any
    /// explicit status then wins over it, whatever the times.
    pub explicit: bool,
}

impl StatusReport {
    pub fn explicit(status: Status, raw: Option<&str>) -> Self {
        StatusReport {
            status,
            detail: None,
            raw: raw.map(str::to_string),
            explicit: true,
        }
    }

    pub fn implied(status: Status) -> Self {
        StatusReport {
            status,
            detail: None,
            raw: None,
            explicit: false,
        }
    }

    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail;
        self
    }
}

/// Parse one raw event body. `forced` skips shape detection.
pub fn parse(body: &[u8], forced: Option<Provider>) -> Parsed {
    let reject = |provider: Provider, reason: String| Parsed {
        provider,
        event_type: None,
        dedupe_key: body_hash_key(body),
        event_at: None,
        outcome: Outcome::Rejected(reason),
    };
    let forced_or_unknown = || forced.clone().unwrap_or(Provider::Unknown(String::new()));

    if let Err(e) = std::str::from_utf8(body) {
        return reject(
            forced_or_unknown(),
            format!("body is not valid UTF-8 (first bad byte at offset {})", e.valid_up_to()),
        );
    }
    if let Some(at) = too_deep(body) {
        return reject(
            forced_or_unknown(),
            format!("not JSON we accept: nested deeper than {MAX_DEPTH} levels (at byte {at})"),
        );
    }
    // A forced vendor needs no detection: its parse goes first, and only a body it rejects goes
    // the long way below, so that every reason stays what detection would have said.
    if let Some(p) = forced.as_ref().filter(|p| !matches!(p, Provider::Unknown(_))) {
        let parsed = vendor_parse(p, body);
        if !matches!(parsed.outcome, Outcome::Rejected(_)) {
            return finish(p.clone(), parsed, body);
        }
    }
    let probe: Probe = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => return reject(forced_or_unknown(), not_json_reason(&e)),
    };
    let provider = match forced.or_else(|| probe.detect()) {
        Some(p) => p,
        None => {
            return reject(
                Provider::Unknown(String::new()),
                "unrecognised shape: not a myKaarma, HighLevel or Partoo event (no known `type`)".to_string(),
            );
        }
    };
    let parsed = vendor_parse(&provider, body);
    finish(provider, parsed, body)
}

fn vendor_parse(provider: &Provider, body: &[u8]) -> VendorParse {
    match provider {
        Provider::MyKaarma => mykaarma::parse(body),
        Provider::HighLevel => highlevel::parse(body),
        Provider::Partoo => partoo::parse(body),
        Provider::Unknown(_) => unreachable!("detect never yields Unknown"),
    }
}

fn finish(provider: Provider, parsed: VendorParse, body: &[u8]) -> Parsed {
    let VendorParse {
        event_type,
        dedupe_key,
        event_at,
        outcome,
    } = parsed;
    Parsed {
        provider,
        event_type,
        dedupe_key: dedupe_key.unwrap_or_else(|| body_hash_key(body)),
        event_at,
        outcome,
    }
}

/// What a vendor module returns; `parse` fills in what is common.
pub(crate) struct VendorParse {
    pub event_type: Option<String>,
    pub dedupe_key: Option<String>,
    pub event_at: Option<i64>,
    pub outcome: Outcome,
}

impl VendorParse {
    pub fn rejected(event_type: Option<String>, reason: String) -> Self {
        VendorParse {
            event_type,
            dedupe_key: None,
            event_at: None,
            outcome: Outcome::Rejected(reason),
        }
    }
}

/// Just enough of any body to tell the vendors apart. Unknown fields are skipped, not parsed.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<&'a RawValue>,
    #[serde(rename = "dataType", borrow)]
    data_type: Option<&'a RawValue>,
    dealeruuid: Option<&'a RawValue>,
    departmentuuid: Option<&'a RawValue>,
    #[serde(rename = "locationId")]
    location_id: Option<&'a RawValue>,
}

impl Probe<'_> {
    fn detect(&self) -> Option<Provider> {
        let kind = self.kind.and_then(|v| serde_json::from_str::<String>(v.get()).ok());
        if self.dealeruuid.is_some() || self.departmentuuid.is_some() || self.data_type.is_some() {
            return Some(Provider::MyKaarma);
        }
        let kind = kind?;
        if partoo::EVENT_TYPES.contains(&kind.as_str()) {
            Some(Provider::Partoo)
        } else if mykaarma::EVENT_TYPES.contains(&kind.as_str()) {
            Some(Provider::MyKaarma)
        } else if self.location_id.is_some() || highlevel::EVENT_TYPES.contains(&kind.as_str()) {
            Some(Provider::HighLevel)
        } else {
            None
        }
    }
}

/// No vendor nests this deep; serde_json enforces the same limit only on the fields it parses.
const MAX_DEPTH: usize = 128;

/// The offset where nesting first exceeds `MAX_DEPTH`, skipping over string contents.
fn too_deep(body: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            // Strings are most of a body: jump from quote or backslash to the next.
            b'"' => loop {
                i += 1;
                let k = memchr::memchr2(b'"', b'\\', body.get(i..)?)?;
                i += k;
                if body[i] == b'"' {
                    break;
                }
                i += 1; // the escaped byte
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The dedupe key of a body nothing better identifies: its SHA-256.
pub fn body_hash_key(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// A short stable hash, for keys of things the vendor gave no id.
/// A vendor id as part of a key we print and people type: as it is when it is short and plain
/// ASCII (every real id seen), else `~` and a hash of it, so a hostile id (a megabyte long, with
/// NUL, escape sequences or bidi controls) can still be addressed and never reaches a terminal.
pub(crate) fn id_part(id: &str) -> std::borrow::Cow<'_, str> {
    let plain = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
    if plain {
        std::borrow::Cow::Borrowed(id)
    } else {
        std::borrow::Cow::Owned(format!("~{}", short_hash(&[id])))
    }
}

pub(crate) fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..10])
}

pub(crate) fn not_json_reason(e: &serde_json::Error) -> String {
    let what = e.to_string();
    if what.starts_with("recursion limit exceeded") {
        format!("not JSON we accept: nested deeper than 128 levels ({what})")
    } else {
        format!("not valid JSON: {what}")
    }
}

/// Deserialise with the failing field's path in the error ("payload.messageDTO.id: invalid type …").
pub(crate) fn typed<'de, T: Deserialize<'de>>(json: &'de str, context: &str) -> Result<T, String> {
    // Tracking the path costs a third of the parse; only a failure needs it, so it is redone then.
    if let Ok(value) = serde_json::from_str(json) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return not_json_reason(&inner);
        }
        let at = match (context.is_empty(), path.as_str()) {
            (true, ".") => "body".to_string(),
            (true, p) => p.to_string(),
            (false, ".") => context.to_string(),
            (false, p) => format!("{context}.{p}"),
        };
        // serde's message ends with "at line L column C": keep it, it locates the value.
        format!("field `{at}`: {inner}")
    })
}

/// Split `"Jane Doe <jane@example.com>"` into name and address.
pub(crate) fn split_mailbox(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim();
    match (s.rfind('<'), s.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = s[..open].trim().trim_matches('"').trim();
            let addr = s[open + 1..close].trim();
            (non_empty(name), non_empty(addr))
        }
        _ if s.contains('@') => (None, non_empty(s)),
        _ => (non_empty(s), None),
    }
}

/// The RFC Message-ID without angle brackets, so the two vendors' spellings meet.
pub(crate) fn normalise_message_id(s: &str) -> Option<String> {
    non_empty(s.trim().trim_start_matches('<').trim_end_matches('>').trim())
}

pub(crate) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Treat `Some("")` like `None`.
pub(crate) fn present(s: &Option<String>) -> Option<String> {
    s.as_deref().and_then(non_empty)
}

/// A contact address: an email when it has an `@`, else a phone number.
pub(crate) fn phone_or_email(value: Option<String>) -> (Option<String>, Option<String>) {
    match value {
        Some(v) if v.contains('@') => (None, Some(v)),
        Some(v) => (Some(v), None),
        None => (None, None),
    }
}

/// A display name and a guessed MIME type for a media URL.
pub(crate) fn attachment_from_url(url: &str, mime: Option<&str>) -> Attachment {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').next().and_then(non_empty);
    let mime = mime.map(str::to_string).or_else(|| {
        let ext = name.as_deref()?.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(mime_for_extension(&ext)?.to_string())
    });
    Attachment {
        name,
        mime,
        size: None,
        url: Some(url.to_string()),
    }
}

pub(crate) fn mime_for_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => return None,
    })
}

pub(crate) use values::{Lenient, UnixTime, parse_naive_utc, parse_rfc3339, parse_space_offset};

#[cfg(test)]
mod tests {
    use super::*;

    /// The first version of `too_deep`, a byte at a time: the one that jumps must agree with it.
    fn too_deep_bytewise(body: &[u8]) -> Option<usize> {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for (i, &b) in body.iter().enumerate() {
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(i);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn nesting_depth_is_found_where_a_bytewise_scan_finds_it(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "{", "[", "}", "]", "\"", "\\", "a", ":", "{\"k\":[", "\\\"", "[[[[[[[[[[[[[[[[",
            ]), 0..400)
        ) {
            let body = parts.concat();
            proptest::prop_assert_eq!(too_deep(body.as_bytes()), too_deep_bytewise(body.as_bytes()));
        }
    }

    #[test]
    fn nesting_inside_strings_does_not_count() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(too_deep(deep.as_bytes()), Some(MAX_DEPTH));
        assert_eq!(too_deep(format!("\"{deep}\"").as_bytes()), None);
        assert_eq!(too_deep(format!("\"\\\"{deep}\"").as_bytes()), None);
        assert_eq!(too_deep(format!("\"\\\\\"{deep}").as_bytes()), Some(MAX_DEPTH + 4));
        assert_eq!(too_deep(b"\"unterminated \\"), None);
    }

    #[test]
    fn mailboxes_split() {
        assert_eq!(
            split_mailbox("Internal Notify <sample@email.service>"),
            (Some("Internal Notify".into()), Some("sample@email.service".into()))
        );
        assert_eq!(split_mailbox("a@b.c"), (None, Some("a@b.c".into())));
        assert_eq!(
            split_mailbox("\"Doe, J\" <j@d.e>"),
            (Some("Doe, J".into()), Some("j@d.e".into()))
        );
    }

    #[test]
    fn nesting_depth_counts_brackets_outside_strings() {
        assert_eq!(too_deep(br#"{"a":"[[[[[[[["}"#), None);
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(too_deep(deep.as_bytes()), Some(128));
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert_eq!(too_deep(ok.as_bytes()), None);
        assert_eq!(too_deep(br#"{"a":"\"[[["}"#), None);
    }

    #[test]
    fn unknown_shapes_are_rejected_not_dropped() {
        let p = parse(br#"{"hello":"world"}"#, None);
        assert_eq!(p.outcome.word(), "rejected");
        assert!(p.dedupe_key.starts_with("sha256:"));
    }

    #[test]
    fn attachment_names_and_types_from_urls() {
        let a = attachment_from_url("https://cdn.example/x/photo.JPG?sig=1", None);
        assert_eq!(a.name.as_deref(), Some("photo.JPG"));
        assert_eq!(a.mime.as_deref(), Some("image/jpeg"));
    }
}
