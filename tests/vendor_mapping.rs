//! Each vendor × channel × direction × status, one fixture file per case (tests/fixtures/<vendor>/).

use switchboard::model::Provider;
use switchboard::providers::{Change, MessagePart, Outcome, Parsed, parse};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn parsed(path: &str) -> Parsed {
    parse(&fixture(path), None)
}

fn message(path: &str) -> MessagePart {
    let p = parsed(path);
    let Outcome::Ok(changes) = &p.outcome else {
        panic!("{path}: {:?}", p.outcome)
    };
    changes
        .iter()
        .find_map(|c| match c {
            Change::Message(m) => Some((**m).clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{path}: no message in {changes:?}"))
}

/// (fixture, vendor, channel, direction, status)
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    ("mykaarma/sms_inbound.json", "mykaarma", "sms", "inbound", "received"),
    (
        "mykaarma/sms_outbound_delivered.json",
        "mykaarma",
        "sms",
        "outbound",
        "delivered",
    ),
    (
        "mykaarma/sms_outbound_sent_code_1.json",
        "mykaarma",
        "sms",
        "outbound",
        "sent",
    ),
    (
        "mykaarma/sms_outbound_update_delivered.json",
        "mykaarma",
        "sms",
        "outbound",
        "delivered",
    ),
    (
        "mykaarma/sms_outbound_failed_twilio.json",
        "mykaarma",
        "sms",
        "outbound",
        "failed",
    ),
    (
        "mykaarma/sms_outbound_failed_code_0.json",
        "mykaarma",
        "sms",
        "outbound",
        "failed",
    ),
    (
        "mykaarma/sms_outbound_no_status.json",
        "mykaarma",
        "sms",
        "outbound",
        "sent",
    ),
    (
        "mykaarma/sms_outbound_unknown_status.json",
        "mykaarma",
        "sms",
        "outbound",
        "unknown",
    ),
    (
        "mykaarma/email_outbound_html.json",
        "mykaarma",
        "email",
        "outbound",
        "delivered",
    ),
    (
        "mykaarma/email_inbound.json",
        "mykaarma",
        "email",
        "inbound",
        "received",
    ),
    (
        "mykaarma/voice_inbound_completed.json",
        "mykaarma",
        "voice",
        "inbound",
        "received",
    ),
    (
        "mykaarma/voice_call_at_payload_level.json",
        "mykaarma",
        "voice",
        "inbound",
        "received",
    ),
    (
        "mykaarma/note_internal.json",
        "mykaarma",
        "note",
        "internal",
        "received",
    ),
    (
        "mykaarma/whatsapp_inbound.json",
        "mykaarma",
        "whatsapp",
        "inbound",
        "received",
    ),
    ("mykaarma/draft.json", "mykaarma", "sms", "outbound", "pending"),
    (
        "mykaarma/draft_discarded.json",
        "mykaarma",
        "sms",
        "outbound",
        "pending",
    ),
    ("mykaarma/attachments.json", "mykaarma", "sms", "inbound", "received"),
    (
        "mykaarma/payload_as_object.json",
        "mykaarma",
        "sms",
        "outbound",
        "delivered",
    ),
    (
        "mykaarma/older_envelope_datatype.json",
        "mykaarma",
        "sms",
        "outbound",
        "sent",
    ),
    (
        "highlevel/sms_inbound_doc_example.json",
        "highlevel",
        "sms",
        "inbound",
        "received",
    ),
    (
        "highlevel/sms_outbound_delivered.json",
        "highlevel",
        "sms",
        "outbound",
        "delivered",
    ),
    (
        "highlevel/sms_outbound_undelivered.json",
        "highlevel",
        "sms",
        "outbound",
        "failed",
    ),
    (
        "highlevel/sms_outbound_type_prefix.json",
        "highlevel",
        "sms",
        "outbound",
        "sent",
    ),
    (
        "highlevel/email_outbound_doc_example.json",
        "highlevel",
        "email",
        "outbound",
        "sent",
    ),
    (
        "highlevel/email_inbound_to_string.json",
        "highlevel",
        "email",
        "inbound",
        "received",
    ),
    (
        "highlevel/call_outbound_completed_doc_example.json",
        "highlevel",
        "voice",
        "outbound",
        "sent",
    ),
    (
        "highlevel/call_inbound_voicemail.json",
        "highlevel",
        "voice",
        "inbound",
        "received",
    ),
    (
        "highlevel/call_outbound_no_answer.json",
        "highlevel",
        "voice",
        "outbound",
        "sent",
    ),
    (
        "highlevel/voicemail_drop_doc_example.json",
        "highlevel",
        "voicemail",
        "outbound",
        "sent",
    ),
    (
        "highlevel/facebook_inbound.json",
        "highlevel",
        "facebook",
        "inbound",
        "received",
    ),
    (
        "highlevel/instagram_outbound_read.json",
        "highlevel",
        "instagram",
        "outbound",
        "read",
    ),
    (
        "highlevel/google_inbound.json",
        "highlevel",
        "google",
        "inbound",
        "received",
    ),
    (
        "highlevel/live_chat_inbound.json",
        "highlevel",
        "live_chat",
        "inbound",
        "received",
    ),
    (
        "highlevel/whatsapp_outbound_lowercase.json",
        "highlevel",
        "whatsapp",
        "outbound",
        "pending",
    ),
    (
        "highlevel/unknown_message_type.json",
        "highlevel",
        "other",
        "inbound",
        "received",
    ),
    (
        "partoo/created_doc_example.json",
        "partoo",
        "facebook",
        "outbound",
        "sending",
    ),
    (
        "partoo/google_consumer_success.json",
        "partoo",
        "google",
        "inbound",
        "received",
    ),
    (
        "partoo/instagram_user_success.json",
        "partoo",
        "instagram",
        "outbound",
        "delivered",
    ),
    ("partoo/sms_user_sending.json", "partoo", "sms", "outbound", "sending"),
    (
        "partoo/sms_user_failed_update.json",
        "partoo",
        "sms",
        "outbound",
        "failed",
    ),
    (
        "partoo/sms_user_success_update.json",
        "partoo",
        "sms",
        "outbound",
        "delivered",
    ),
    (
        "partoo/whatsapp_upper_case.json",
        "partoo",
        "whatsapp",
        "inbound",
        "received",
    ),
    (
        "partoo/facebook_failed_with_issue.json",
        "partoo",
        "facebook",
        "outbound",
        "failed",
    ),
    (
        "partoo/metadata_system.json",
        "partoo",
        "google",
        "internal",
        "received",
    ),
    ("partoo/image_media.json", "partoo", "instagram", "inbound", "received"),
    (
        "partoo/unknown_content_type.json",
        "partoo",
        "google",
        "inbound",
        "received",
    ),
    (
        "partoo/deleted_update.json",
        "partoo",
        "google",
        "outbound",
        "delivered",
    ),
];

#[test]
fn every_case_maps_to_its_vendor_channel_direction_and_status() {
    let mut wrong = vec![];
    for &(path, vendor, channel, direction, status) in CASES {
        let p = parsed(path);
        let m = message(path);
        let got = (
            p.provider.as_str().to_string(),
            m.channel.as_ref().map(|c| c.as_str().to_string()).unwrap_or_default(),
            m.direction.map(|d| d.as_str().to_string()).unwrap_or_default(),
            m.status
                .as_ref()
                .map(|s| s.status.as_str().to_string())
                .unwrap_or_default(),
        );
        let want = (
            vendor.to_string(),
            channel.to_string(),
            direction.to_string(),
            status.to_string(),
        );
        if got != want {
            wrong.push(format!("{path}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn cases_cover_every_channel_direction_and_status() {
    use std::collections::BTreeSet;
    let channels: BTreeSet<&str> = CASES.iter().map(|c| c.2).collect();
    for ch in switchboard::model::Channel::KNOWN.iter().chain(&["other"]) {
        assert!(channels.contains(ch), "no case for channel {ch}");
    }
    let statuses: BTreeSet<&str> = CASES.iter().map(|c| c.4).collect();
    for st in [
        "received",
        "pending",
        "sending",
        "sent",
        "delivered",
        "read",
        "failed",
        "unknown",
    ] {
        assert!(statuses.contains(st), "no case for status {st}");
    }
    for vendor in ["mykaarma", "highlevel", "partoo"] {
        for dir in ["inbound", "outbound"] {
            assert!(
                CASES.iter().any(|c| c.1 == vendor && c.3 == dir),
                "no {vendor} {dir} case"
            );
        }
    }
}

#[test]
fn mykaarma_string_and_object_payloads_are_the_same_event() {
    let a = parsed("mykaarma/sms_outbound_delivered.json");
    let b = parsed("mykaarma/payload_as_object.json");
    assert_eq!(a.dedupe_key, "mykaarma:messages:evt-out1");
    assert_eq!(a.dedupe_key, b.dedupe_key);
    assert_eq!(a.outcome, b.outcome);
}

#[test]
fn mykaarma_details() {
    let m = message("mykaarma/sms_inbound.json");
    assert_eq!(m.body.as_deref(), Some("Is my car ready? 🚗"));
    assert_eq!(m.conversation.contact_name.as_deref(), Some("Ana Souza"));
    assert_eq!(m.conversation.contact_phone.as_deref(), Some("3108170196"));
    assert!(
        m.conversation
            .key
            .starts_with("mykaarma:Ho3fEpBnVkYm0iM5tUsMqCj1RgAw9PxO7eIhDzNlbT4@3a7f1c9e")
    );
    assert_eq!(
        m.at,
        Some(1758983520000),
        "a new message's time is the envelope's UTC time"
    );

    let failed = message("mykaarma/sms_outbound_failed_twilio.json").status.unwrap();
    assert_eq!(
        failed.detail.as_deref(),
        Some("the carrier filtered the message as spam (Twilio 30007)")
    );
    let code0 = message("mykaarma/sms_outbound_failed_code_0.json").status.unwrap();
    assert!(code0.detail.unwrap().contains("not delivered"));
    let implied = message("mykaarma/sms_outbound_no_status.json").status.unwrap();
    assert!(!implied.explicit, "a null deliveryStatus only implies sent");
    let unknown = message("mykaarma/sms_outbound_unknown_status.json").status.unwrap();
    assert_eq!(unknown.raw.as_deref(), Some("bounced"));

    let email = message("mykaarma/email_outbound_html.json");
    assert_eq!(email.subject.as_deref(), Some("Your invoice"));
    assert!(email.body_html.as_deref().unwrap().contains("<b>invoice</b>"));
    assert_eq!(email.body.as_deref(), Some("Dear Ana,\n\nYour invoice is attached."));
    assert_eq!(
        email.conversation.contact_email.as_deref(),
        Some("ana.souza@example.com")
    );
    assert_eq!(email.email_message_id.as_deref(), Some("CAB123@mail.example"));
    let inbound_email = message("mykaarma/email_inbound.json");
    assert_eq!(
        inbound_email.conversation.contact_email.as_deref(),
        Some("ana.souza@example.com")
    );

    let call = message("mykaarma/voice_inbound_completed.json").call.unwrap();
    assert_eq!((call.outcome.as_str(), call.duration_s), ("completed", Some(180)));
    assert_eq!(call.recording_url.as_deref(), Some("https://rec.example/CA1234.mp3"));
    assert_eq!(call.transcript.as_deref(), Some("Call me back please"));
    let payload_level = message("mykaarma/voice_call_at_payload_level.json").call.unwrap();
    assert_eq!(payload_level.outcome, "no_answer");

    assert_eq!(message("mykaarma/draft.json").draft, Some(1));
    assert_eq!(message("mykaarma/draft_discarded.json").draft, Some(2));

    let a = &message("mykaarma/attachments.json").attachments.unwrap()[0];
    assert_eq!(
        (a.name.as_deref(), a.mime.as_deref(), a.size),
        (Some("photo.jpg"), Some("image/jpeg"), Some(204800))
    );

    let update = message("mykaarma/sms_outbound_update_delivered.json");
    assert_eq!(
        update.at, None,
        "an update's envelope time is the update's, and sentOn has no zone"
    );
    assert_eq!(
        update.at_provisional,
        Some(1758983520000),
        "until the message itself arrives, sentOn stands in"
    );
}

#[test]
fn mykaarma_other_event_types_are_ignored() {
    for path in ["mykaarma/customers_event.json", "mykaarma/unknown_event_type.json"] {
        let p = parsed(path);
        assert_eq!(p.provider, Provider::MyKaarma, "{path}");
        assert!(matches!(p.outcome, Outcome::Ignored(_)), "{path}: {:?}", p.outcome);
    }
}

#[test]
fn highlevel_details() {
    let m = message("highlevel/sms_inbound_doc_example.json");
    assert_eq!(m.body.as_deref(), Some("This is a test message"));
    assert!(
        m.key.starts_with("highlevel:h"),
        "no messageId: keyed by content, {}",
        m.key
    );
    assert_eq!(
        parsed("highlevel/sms_outbound_delivered.json").dedupe_key,
        "highlevel:webhook:wh-1"
    );
    assert_eq!(
        parsed("highlevel/sms_outbound_undelivered.json").dedupe_key,
        "highlevel:OutboundMessage:hlm-sms-2:undelivered"
    );

    let email = message("highlevel/email_outbound_doc_example.json");
    assert_eq!(email.body.as_deref(), Some("Testing Email Notification"));
    assert!(email.body_html.is_some());
    assert_eq!(email.subject.as_deref(), Some("Order Confirmed"));
    assert_eq!(email.sender.as_deref(), Some("Internal Notify"));
    assert_eq!(email.conversation.contact_email.as_deref(), Some("example@email.com"));
    let inbound = message("highlevel/email_inbound_to_string.json");
    assert_eq!(inbound.conversation.contact_name.as_deref(), Some("Emily Nguyễn"));
    assert_eq!(inbound.conversation.contact_email.as_deref(), Some("emily@example.com"));
    assert_eq!(inbound.body.as_deref(), Some("Can I get a quote?"));

    let call = message("highlevel/call_outbound_completed_doc_example.json")
        .call
        .unwrap();
    assert_eq!((call.outcome.as_str(), call.duration_s), ("completed", Some(120)));
    assert_eq!(call.recording_url.as_deref(), Some("call recording url"));
    assert_eq!(
        message("highlevel/call_inbound_voicemail.json").call.unwrap().outcome,
        "voicemail"
    );
    assert_eq!(
        message("highlevel/call_outbound_no_answer.json").call.unwrap().outcome,
        "no_answer"
    );
    assert_eq!(
        message("highlevel/voicemail_drop_doc_example.json")
            .call
            .unwrap()
            .outcome,
        "voicemail"
    );

    let ig = message("highlevel/instagram_outbound_read.json");
    assert_eq!(ig.attachments.unwrap()[0].mime.as_deref(), Some("image/png"));
    assert_eq!(
        message("highlevel/unknown_message_type.json").channel.unwrap().raw(),
        Some("TIKTOK")
    );
    assert!(
        message("highlevel/sms_outbound_undelivered.json")
            .status
            .unwrap()
            .detail
            .unwrap()
            .contains("undelivered")
    );
}

#[test]
fn highlevel_unread_email_stats_and_contacts() {
    let Outcome::Ok(c) = parsed("highlevel/conversation_unread_update.json").outcome else {
        panic!()
    };
    assert!(
        matches!(&c[0], Change::UnreadCount { count: 3, conversation, .. } if conversation.key == "highlevel:fcanlLgpbQgQhderivVs")
    );

    let Outcome::Ok(c) = parsed("highlevel/email_stats_failed.json").outcome else {
        panic!()
    };
    let Change::EmailStatus {
        email_message_id,
        status,
    } = &c[0]
    else {
        panic!("{c:?}")
    };
    assert_eq!(email_message_id, "sddfDSF3G56GHG");
    assert_eq!(status.status.as_str(), "failed");
    assert_eq!(status.detail.as_deref(), Some("mailbox does not exist (SMTP 550)"));
    let Outcome::Ok(c) = parsed("highlevel/email_stats_opened.json").outcome else {
        panic!()
    };
    assert!(
        matches!(&c[0], Change::EmailStatus { email_message_id, status } if email_message_id == "sddfDSF3G56GHG" && status.status.as_str() == "read")
    );

    let Outcome::Ok(c) = parsed("highlevel/contact_create.json").outcome else {
        panic!()
    };
    let Change::Contact(contact) = &c[0] else { panic!() };
    assert_eq!(
        (contact.name.as_deref(), contact.phone.as_deref()),
        (Some("Jordan Lee"), Some("+13105550177"))
    );

    assert!(matches!(
        parsed("highlevel/opportunity_event.json").outcome,
        Outcome::Ignored(_)
    ));
}

#[test]
fn partoo_details() {
    let doc = message("partoo/created_doc_example.json");
    assert_eq!(doc.conversation.key, "partoo:123");
    assert_eq!(doc.conversation.contact_phone.as_deref(), Some("+33612345678"));
    assert_eq!(doc.at, Some(1675182137327));
    assert_eq!(
        parsed("partoo/created_doc_example.json").dedupe_key,
        "partoo:message_created:123:Sending:false"
    );

    let update = message("partoo/sms_user_failed_update.json");
    assert_eq!(
        update.conversation.contact_phone, None,
        "a reduced conversation does not erase the phone"
    );
    assert_eq!(update.conversation.contact_name.as_deref(), Some("Hans Becker"));
    let issue = message("partoo/facebook_failed_with_issue.json").status.unwrap();
    assert!(issue.detail.unwrap().contains("no Facebook page is linked"));

    let image = message("partoo/image_media.json");
    assert_eq!(image.body.as_deref(), Some("[Image]"));
    let a = &image.attachments.unwrap()[0];
    assert_eq!(
        (a.name.as_deref(), a.url.as_deref()),
        (
            Some("photo-1.jpg"),
            Some("https://cdn.partoo.example/media/photo-1.jpg")
        )
    );
    assert_eq!(
        message("partoo/unknown_content_type.json").body.as_deref(),
        Some("[Unhandled content: Carousel]")
    );
    assert_eq!(message("partoo/deleted_update.json").deleted, Some(true));

    let Outcome::Ok(c) = parsed("partoo/read_conversation.json").outcome else {
        panic!()
    };
    assert!(c.iter().any(|c| matches!(c, Change::ReadThrough { .. })));
    assert!(matches!(
        parsed("partoo/business_updated.json").outcome,
        Outcome::Ignored(_)
    ));
}

/// (fixture, words the reason must contain)
const BAD: &[(&str, &str)] = &[
    ("bad/malformed.json", "not valid JSON: EOF while parsing"),
    (
        "bad/wrong_type_mykaarma_body.json",
        "field `payload (decoded string).messageDTO.messageExtnDTO.messageBody`: invalid type: integer `42`, expected a string",
    ),
    (
        "bad/wrong_type_partoo_message_id.json",
        "field `payload.message.id`: invalid type: sequence, expected a string or a number",
    ),
    (
        "bad/wrong_type_highlevel_conversation.json",
        "field `conversationId`: invalid type: map, expected a string",
    ),
    ("bad/deep_nesting.json", "nested deeper than 128 levels"),
    (
        "bad/invalid_utf8.json",
        "body is not valid UTF-8 (first bad byte at offset 74)",
    ),
    ("bad/unknown_shape.json", "unrecognised shape"),
    (
        "bad/mykaarma_payload_not_json.json",
        "not valid JSON: key must be a string",
    ),
    (
        "bad/mykaarma_missing_message.json",
        "field `payload (decoded string)`: missing field `messageDTO`",
    ),
];

#[test]
fn bad_input_is_rejected_with_a_reason_that_names_the_defect() {
    for &(path, words) in BAD {
        let p = parsed(path);
        match &p.outcome {
            Outcome::Rejected(reason) => assert!(reason.contains(words), "{path}: {reason:?} lacks {words:?}"),
            other => panic!("{path}: {other:?}"),
        }
        assert!(!p.dedupe_key.is_empty());
    }
}

/// The receiver names the vendor by its route, so its parse skips detection; for every fixture
/// (good, hostile and malformed) that must mean what detection means, reasons included.
#[test]
fn naming_the_vendor_gives_what_detecting_it_gives() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut compared = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let body = std::fs::read(file.unwrap().path()).unwrap();
            let detected = parse(&body, None);
            for vendor in [Provider::MyKaarma, Provider::HighLevel, Provider::Partoo] {
                let named = parse(&body, Some(vendor.clone()));
                if detected.provider == vendor {
                    assert_eq!(named, detected);
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 50, "only {compared} fixtures compared");
}
