//! What the sandbox does with a send request: myKaarma's documented validation, and outcomes scripted
//! by the recipient (myKaarma: the number; HighLevel: the `contactId`; Partoo: the conversation id)
//! so tests and demos can ask for each case.

use crate::send::mykaarma::wire::{SendRequest, SendResponse, WireError};

/// The recipient's last four digits choose the outcome (README, "The sandbox").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// …0000: the customer opted out of texts (`OPTED_OUT_COMMUNICATION_VALUE`).
    OptedOut,
    /// …0001: accepted, then the carrier fails it (`TWILIO_SENDING_FAILURE` by callback).
    CarrierFailure,
    /// …0002: answers only after the slow delay (30 s unless configured), then delivers.
    Slow,
    /// …0003: HTTP 500 after recording — yet the message goes out (webhooks only, no callback).
    ServerErrorButSent,
    /// …0004: the connection is reset after the body is read; nothing goes out.
    Reset,
    /// …0005: a 302 redirect to another host; nothing goes out.
    Redirect,
    /// …0006: the first request is refused with HTTP 429 (rate limit); the next goes through.
    RateLimited,
    /// …0007: sent and delivered, but no webhook says so (HighLevel: only a lookup tells).
    Silent,
    /// Anything else: sent, then delivered.
    Delivered,
}

impl Outcome {
    pub fn for_recipient(recipient: Option<&str>) -> Outcome {
        let digits: String = recipient
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if recipient.is_some_and(|r| r.contains('@')) {
            return Outcome::Delivered;
        }
        match digits.get(digits.len().saturating_sub(4)..) {
            Some("0000") => Outcome::OptedOut,
            Some("0001") => Outcome::CarrierFailure,
            Some("0002") => Outcome::Slow,
            Some("0003") => Outcome::ServerErrorButSent,
            Some("0004") => Outcome::Reset,
            Some("0005") => Outcome::Redirect,
            Some("0006") => Outcome::RateLimited,
            Some("0007") => Outcome::Silent,
            _ => Outcome::Delivered,
        }
    }
}

pub fn error(code: &str, description: &str) -> WireError {
    WireError {
        error_code: Some(code.into()),
        error_description: Some(description.into()),
        error_uid: Some(format!("sandbox-{}", code.to_ascii_lowercase())),
    }
}

pub fn failure(errors: Vec<WireError>) -> SendResponse {
    SendResponse {
        status: Some("FAILURE".into()),
        errors: Some(errors),
        warnings: Some(vec![]),
        ..SendResponse::default()
    }
}

/// The 400 checks myKaarma documents: missing attributes, an empty body, a malformed address.
pub fn validate(request: &SendRequest) -> Vec<WireError> {
    let mut errors = vec![];
    let Some(m) = &request.message_attributes else {
        return vec![error(
            "MISSING_MESSAGE_ATTRIBUTES",
            "Request body is missing messageAttributes.",
        )];
    };
    if m.kind.as_deref().is_none_or(str::is_empty) {
        errors.push(error("MISSING_MESSAGE_TYPE", "messageAttributes.type is missing."));
    }
    let protocol = m.protocol.as_deref().unwrap_or_default();
    if protocol.is_empty() {
        errors.push(error(
            "MISSING_MESSAGE_PROTOCOL",
            "messageAttributes.protocol is missing.",
        ));
    }
    if m.is_manual.is_none() {
        errors.push(error("MISSING_IS_MANUAL", "messageAttributes.isManual is missing."));
    }
    if m.body.as_deref().is_none_or(|b| b.trim().is_empty()) {
        errors.push(error(
            "MISSING_MESSAGE_BODY",
            "Message body is missing (and no attachments provided).",
        ));
    }
    let to = request
        .message_sending_attributes
        .as_ref()
        .and_then(|s| s.communication_value_of_customer.as_deref());
    match (protocol, to) {
        ("TEXT", Some(number)) if !valid_number(number) => errors.push(error(
            "INVALID_COMMUNICATION_VALUE",
            "Phone number/email is invalid, not found for customer, or mismatches the label.",
        )),
        ("EMAIL", Some(address)) if !valid_email(address) => errors.push(error(
            "INVALID_EMAIL_ADDRESS",
            "Recipient email is malformed or rejected.",
        )),
        _ => {}
    }
    errors
}

/// E.164 (`+` and 8–15 digits) or 10-digit US.
fn valid_number(n: &str) -> bool {
    let digits = n.trim_start_matches('+');
    digits.chars().all(|c| c.is_ascii_digit())
        && if n.starts_with('+') {
            (8..=15).contains(&digits.len())
        } else {
            digits.len() == 10
        }
}

fn valid_email(a: &str) -> bool {
    matches!(a.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !a.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::Outcome::*;
    use super::*;

    #[test]
    fn outcomes_by_recipient() {
        assert_eq!(Outcome::for_recipient(Some("+13105550000")), OptedOut);
        assert_eq!(Outcome::for_recipient(Some("3105550001")), CarrierFailure);
        assert_eq!(Outcome::for_recipient(Some("+13105550002")), Slow);
        assert_eq!(Outcome::for_recipient(Some("+13105551234")), Delivered);
        assert_eq!(Outcome::for_recipient(None), Delivered);
        assert_eq!(Outcome::for_recipient(Some("ana0000@example.com")), Delivered);
    }

    #[test]
    fn addresses() {
        assert!(valid_number("+13105550000") && valid_number("3105550000"));
        assert!(!valid_number("555-0100") && !valid_number("+1") && !valid_number("31055500001"));
        assert!(valid_email("ana@example.com") && !valid_email("ana@example") && !valid_email("@x.com"));
    }
}
