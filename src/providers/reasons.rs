//! Vendor failure codes and reasons, in words an advisor can act on. Unknown codes are passed through
//! verbatim: the words are a help, never a replacement for what the vendor said.

/// Twilio error codes as myKaarma reports them in `twilioDeliveryFailureMessage` (it may hold a bare
/// code, `"30007: …"`, or free text). Source: Twilio's public error dictionary.
pub fn carrier_failure(raw: &str) -> String {
    let raw = raw.trim();
    let code: String = raw.chars().take_while(|c| c.is_ascii_digit()).collect();
    let words = match code.as_str() {
        "21211" => "the phone number is not valid",
        "21408" | "21612" => "texts cannot be sent to this number's region or carrier",
        "21610" => "the customer replied STOP and has unsubscribed from texts",
        "21614" => "the number is not a mobile number (probably a landline)",
        "30003" => "the phone is unreachable (switched off or out of coverage)",
        "30004" => "the carrier blocked the message",
        "30005" => "the number does not exist or is no longer in service",
        "30006" => "the number is a landline or cannot receive texts",
        "30007" => "the carrier filtered the message as spam",
        "30008" => "the carrier reported an unknown error",
        "30034" => "the sending number is not registered for business texting (A2P 10DLC)",
        _ => return raw.to_string(),
    };
    if raw == code {
        format!("{words} (Twilio {code})")
    } else {
        format!("{words} (Twilio {raw})")
    }
}

/// Partoo `conversation.issues[]`: channel set-up problems that make sending impossible.
pub fn partoo_issue(issue: &str) -> String {
    match issue {
        "facebook_no_page_linked" => "no Facebook page is linked to this business".to_string(),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_become_words_and_keep_the_code() {
        assert_eq!(
            carrier_failure("30007"),
            "the carrier filtered the message as spam (Twilio 30007)"
        );
        assert!(carrier_failure("21610: Attempt to send to unsubscribed recipient").contains("STOP"));
        assert_eq!(
            carrier_failure("Message blocked by gateway"),
            "Message blocked by gateway"
        );
    }
}
