//! myKaarma's error and warning codes as sentences an advisor can act on. Codes not listed here are
//! shown as the vendor sent them (code and description, sanitised), never hidden.

/// What the code means for the advisor, and what to do.
pub fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        // Documented errors (vendor-docs/mykaarma-send-text-or-email.txt).
        "OPTED_OUT_COMMUNICATION_VALUE" => "The customer opted out of texts on this number; call or email instead.",
        "COMMUNICATION_VALUE_MARKED_AS_NOT_OK_TO_COMMUNICATE" => {
            "This number or address is marked \"not OK to contact\" in myKaarma; reach the customer another way or fix their record."
        }
        "INVALID_COMMUNICATION_VALUE" => {
            "myKaarma does not have this number or address on the customer's record, or it is malformed; check their contact details in myKaarma."
        }
        "TWILIO_SENDING_FAILURE" => {
            "The carrier could not deliver the text (invalid or unreachable number); call the customer or check the number."
        }
        "RATE_LIMIT_REACHED" => "Too many messages to this customer in a short time; wait a minute, then send again.",
        "CUSTOMER_LOCKED" => "Another user is working on this customer in myKaarma; try again in a moment.",
        "USER_DOES_NOT_HAVE_AUTHORITY" => {
            "The myKaarma account Switchboard uses may not send this kind of message; ask your myKaarma administrator."
        }
        "INVALID_USER" => "myKaarma does not know the sending user; check `user_uuid` in the [mykaarma] config.",
        "INVALID_CUSTOMER" => "myKaarma does not know this customer (merged or deleted?); find them in myKaarma.",
        "MISSING_MESSAGE_BODY" => "The message is empty; type something before sending.",
        "MISSING_MESSAGE_ATTRIBUTES" | "MISSING_MESSAGE_TYPE" | "MISSING_MESSAGE_PROTOCOL" | "MISSING_IS_MANUAL" => {
            "myKaarma found the request incomplete; nothing was sent. This is a Switchboard bug: please report it."
        }
        "INTERNAL_SERVER_ERROR" => {
            "myKaarma had an internal error; the message may not have gone out. Check the thread before sending again."
        }
        "MISSING_VOICE_CREDENTIALS" => {
            "The dealership has no texting number set up in myKaarma; ask your myKaarma administrator."
        }
        "MESSAGE_SEND_LOCK_NOT_OBTAINED" => {
            "myKaarma was busy with this message and did not send it; send again in a moment."
        }
        "MISSING_DEALER_EMAIL" => {
            "The dealership has no sender email set up in myKaarma; ask your myKaarma administrator."
        }
        "INVALID_EMAIL_ADDRESS" => "The customer's email address is malformed or was rejected; check it in myKaarma.",
        "BLACKLISTED_EMAIL_ADDRESS_OR_DOMAIN" => {
            "This email address or its domain is blocked; reach the customer another way."
        }
        // Documented warnings: the message still went out.
        "INVALID_EMAIL" => "An address in CC/BCC was invalid and was skipped.",
        "DO_NOT_CC_ENABLED" => "An address was left off CC because it is marked Do Not CC.",
        "BLACKLISTED_EMAIL_DOMAIN" => "A CC/BCC address was skipped: its domain is blocked.",
        "CANT_OVERRIDE_OPTOUT" => "Opt-out rules could not be overridden: this account lacks the privilege.",
        "CANT_QUEUE_MESSAGE_IF_OPTED_OUT" => {
            "\"Queue if opted out\" does not apply to this message; it was not queued."
        }
        // Credential errors answered with 401 (providers.md §1.7).
        "WRONG_CREDENTIAL" | "CREDENTIALS_ARE_NULL" | "INVALID_SERVICE_SUBSCRIBER" | "NOT_AUTHORIZED_REQUEST" => {
            "myKaarma refused Switchboard's credentials, so nothing was sent; check SWITCHBOARD_MYKAARMA_USERNAME and SWITCHBOARD_MYKAARMA_PASSWORD."
        }
        _ => return None,
    })
}

/// Every code with advice, for tests and the README.
pub const KNOWN: &[&str] = &[
    "OPTED_OUT_COMMUNICATION_VALUE",
    "COMMUNICATION_VALUE_MARKED_AS_NOT_OK_TO_COMMUNICATE",
    "INVALID_COMMUNICATION_VALUE",
    "TWILIO_SENDING_FAILURE",
    "RATE_LIMIT_REACHED",
    "CUSTOMER_LOCKED",
    "USER_DOES_NOT_HAVE_AUTHORITY",
    "INVALID_USER",
    "INVALID_CUSTOMER",
    "MISSING_MESSAGE_BODY",
    "MISSING_MESSAGE_ATTRIBUTES",
    "MISSING_MESSAGE_TYPE",
    "MISSING_MESSAGE_PROTOCOL",
    "MISSING_IS_MANUAL",
    "INTERNAL_SERVER_ERROR",
    "MISSING_VOICE_CREDENTIALS",
    "MESSAGE_SEND_LOCK_NOT_OBTAINED",
    "MISSING_DEALER_EMAIL",
    "INVALID_EMAIL_ADDRESS",
    "BLACKLISTED_EMAIL_ADDRESS_OR_DOMAIN",
    "INVALID_EMAIL",
    "DO_NOT_CC_ENABLED",
    "BLACKLISTED_EMAIL_DOMAIN",
    "CANT_OVERRIDE_OPTOUT",
    "CANT_QUEUE_MESSAGE_IF_OPTED_OUT",
    "WRONG_CREDENTIAL",
    "CREDENTIALS_ARE_NULL",
    "INVALID_SERVICE_SUBSCRIBER",
    "NOT_AUTHORIZED_REQUEST",
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_documented_code_has_words_and_unknown_codes_do_not() {
        for code in super::KNOWN {
            let a = super::advice(code).unwrap_or_else(|| panic!("{code} has no advice"));
            assert!(a.ends_with('.') && !a.contains(code), "{code}: {a}");
        }
        assert_eq!(super::advice("SOMETHING_NEW"), None);
    }
}
