//! A deterministic generator of realistic mixed-vendor events, for benchmarks: the same seed writes
//! the same bytes. myKaarma events are shaped like real deliveries (~4 KiB, payload as a string);
//! a share of outbound messages get a later status update, some of them failures.

use serde_json::json;
use std::io::Write;

/// xorshift64*: tiny, fast and reproducible everywhere; randomness quality is not the point here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

// 2024-01-01T00:00:00Z: a million messages 30 s apart end within 2024, in the past whenever the
// benchmark runs (messages "from the future" would stay unread however often they are read).
const START_MS: i64 = 1_704_067_200_000;
const WORDS: &[&str] = &[
    "oil",
    "change",
    "brakes",
    "appointment",
    "tomorrow",
    "loaner",
    "ready",
    "pickup",
    "invoice",
    "tires",
    "recall",
    "estimate",
    "approve",
    "warranty",
    "battery",
    "inspection",
    "thanks",
    "morning",
    "afternoon",
    "quote",
    "parts",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    (0..words).map(|_| rng.pick(WORDS)).collect::<Vec<_>>().join(" ")
}

/// Writes events as NDJSON for the messages numbered `messages` (a message's number makes its
/// ids and its time); returns how many.
pub fn generate(
    out: &mut dyn Write,
    conversations: u64,
    messages: std::ops::Range<u64>,
    seed: u64,
) -> std::io::Result<u64> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut written = 0;
    for i in messages {
        // One conversation gets 2 % of all traffic (20,000 of a million): real inboxes have hot threads.
        let conv = if rng.below(50) == 0 {
            0
        } else {
            rng.below(conversations)
        };
        let at = START_MS + (i as i64) * 30_000 + rng.below(30_000) as i64;
        let outbound = rng.below(2) == 0;
        let words = 6 + rng.below(30) as usize;
        let body = sentence(&mut rng, words);
        let lines: Vec<String> = match conv % 3 {
            0 => mykaarma(&mut rng, conv, i, at, outbound, &body),
            1 => highlevel(&mut rng, conv, i, at, outbound, &body),
            _ => partoo(&mut rng, conv, i, at, outbound, &body),
        };
        for line in lines {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    Ok(written)
}

fn mykaarma(rng: &mut Rng, conv: u64, i: u64, at: i64, outbound: bool, body: &str) -> Vec<String> {
    let (update, failed) = (outbound && rng.below(3) == 0, rng.below(10) == 0);
    let uuid = format!("gen-mk-{i:010}");
    let dept = format!("{:064x}", conv % 7 + 1);
    let mut message = |update: bool, status: Option<&str>, failure: Option<&str>, when: i64| {
        let stamp = chrono::DateTime::from_timestamp_millis(at)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let payload = json!({
            "dealerOrderUuid": null, "isUpdate": update,
            "messageDTO": {
                "uuid": uuid, "id": i, "messageType": if outbound { "S" } else { "I" }, "protocol": "X",
                "fromName": if outbound { "Alex Rivera" } else { "Customer" }, "fromNumber": format!("310555{:04}", conv % 10_000),
                "toName": "Riverside Auto Service", "toNumber": format!("310555{:04}", conv % 10_000), "messageSize": 1,
                "sentOn": stamp, "receivedOn": stamp, "tags": null, "emailMessageId": null,
                "communicationUid": format!("SM{:032x}", rng.next()), "messagePurpose": "INCOMING_MESSAGE",
                "deliveryStatus": status, "dealerDepartmentUuid": dept, "twilioDeliveryFailureMessage": failure,
                "numberofMessageAttachments": 0, "isManual": true, "customerUuid": format!("gen-cust-{conv:08}"),
                "customerName": format!("Customer {conv}"), "dealerUuid": format!("{:064x}", 42),
                "dealerAssociateUuid": format!("{:064x}", 7), "isRead": false, "isArchive": false,
                "messageExtnDTO": {"messageUuid": uuid, "messageBody": body, "subject": null},
                "messageMetaDataDTO": {"messageUuid": uuid, "metaData": {"appointmentUuid": format!("{:043x}", rng.next()),
                    "source": "advisor-app", "campaign": null, "locale": "en-US"}},
                "docFiles": [], "messageTags": {"tagTypes": [], "tags": []}, "whatsAppMessageDTO": null,
                "draftMessageMetaDataDTO": null, "messageSnoozeDataDTO": null,
                // Predictions pad the body to the size real deliveries have.
                "messagePredictionDTOSet": (0..12).map(|k| json!({"predictionFeature": format!("feature-{k}"),
                    "prediction": format!("{:048x}", rng.next()), "confidence": 0.5, "modelVersion": "2025.09"})).collect::<Vec<_>>()
            }
        });
        json!({"id": format!("gen-evt-{i:010}-{update}-{}", status.unwrap_or("")), "timestamp": when,
               "dealeruuid": format!("{:064x}", 42), "departmentuuid": dept, "type": "messages",
               "payload": payload.to_string()})
        .to_string()
    };
    let mut out = vec![message(false, outbound.then_some("1"), None, at)];
    if update {
        out.push(message(
            true,
            Some(if failed { "0" } else { "delivered" }),
            failed.then_some("30007"),
            at + 5_000,
        ));
    }
    out
}

fn highlevel(rng: &mut Rng, conv: u64, i: u64, at: i64, outbound: bool, body: &str) -> Vec<String> {
    let kind = rng.pick(&["SMS", "SMS", "Email", "FB", "IG", "GMB", "Live Chat", "WhatsApp"]);
    let date = crate::store::rfc3339(at);
    let status = if outbound {
        rng.pick(&["delivered", "delivered", "sent", "read", "undelivered"])
    } else {
        "delivered"
    };
    vec![
        json!({
            "type": if outbound { "OutboundMessage" } else { "InboundMessage" }, "locationId": "gen-location",
            "attachments": [], "body": body, "contactId": format!("gen-contact-{conv}"), "contentType": "text/plain",
            "conversationId": format!("gen-conv-{conv}"), "dateAdded": date, "direction": if outbound { "outbound" } else { "inbound" },
            "messageType": kind, "messageId": format!("gen-hl-{i:010}"), "status": status, "source": "app",
            "webhookId": format!("gen-wh-{i:010}"), "timestamp": date
        })
        .to_string(),
    ]
}

fn partoo(rng: &mut Rng, conv: u64, i: u64, at: i64, outbound: bool, body: &str) -> Vec<String> {
    let partner = rng.pick(&["Google", "Facebook", "Instagram", "SMS", "Whatsapp"]);
    let date = chrono::DateTime::from_timestamp_millis(at)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
        .to_string();
    let event = |kind: &str, status: &str| {
        json!({"type": kind, "payload": {
            "message": {"id": 10_000_000 + i, "conversation_id": conv, "date": date, "content_type": "Text",
                        "sender_type": if outbound { "User" } else { "Consumer" }, "sender_label": "Riverside",
                        "status": status, "is_deleted": false, "is_automated": false, "content": body, "user_id": null},
            "conversation": {"id": conv, "consumer_name": format!("Customer {conv}"),
                             "consumer_phone_number": format!("+3361234{:04}", conv % 10_000), "messaging_partner": partner,
                             "business": {"id": 4711}, "is_read": false, "issues": []},
            "org_id": 4711}})
        .to_string()
    };
    if outbound {
        let end = if rng.below(10) == 0 { "Failed" } else { "Success" };
        vec![event("message_created", "Sending"), event("message_updated", end)]
    } else {
        vec![event("message_created", "Success")]
    }
}

/// myKaarma deliveries as a load generator sends them: one line per request, `signature<TAB>body`,
/// bodies of about `size` bytes, every one a distinct event.
pub fn signed_mykaarma(out: &mut dyn Write, count: u64, size: usize, secret: &str, seed: u64) -> std::io::Result<()> {
    use hmac::Mac;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for i in 0..count {
        let mut words = 8;
        // Grow the message until the delivery reaches the wanted size.
        let body = loop {
            let text = sentence(&mut rng, words);
            let line = mykaarma(&mut rng, i % 5000, i, START_MS + i as i64, false, &text).remove(0);
            if line.len() >= size || words > 4000 {
                break line;
            }
            words += (size - line.len()) / 7 + 1;
        };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body.as_bytes());
        writeln!(out, "sha256={}\t{body}", hex::encode(mac.finalize().into_bytes()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
        generate(&mut a, 10, 0..50, 1).unwrap();
        generate(&mut b, 10, 0..50, 1).unwrap();
        generate(&mut c, 10, 0..50, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// Messages numbered from another start share no event or message with the first file.
    #[test]
    fn later_messages_are_new_events() {
        let (mut first, mut later) = (vec![], vec![]);
        generate(&mut first, 10, 0..50, 1).unwrap();
        generate(&mut later, 10, 50..100, 1).unwrap();
        let ids = |bytes: &[u8]| -> std::collections::BTreeSet<String> {
            let mut ids = std::collections::BTreeSet::new();
            for line in String::from_utf8_lossy(bytes).lines() {
                let parsed = crate::providers::parse(line.as_bytes(), None);
                ids.insert(parsed.dedupe_key.clone());
                if let crate::providers::Outcome::Ok(changes) = parsed.outcome {
                    for change in changes {
                        if let crate::providers::Change::Message(m) = change {
                            ids.insert(m.key);
                        }
                    }
                }
            }
            ids
        };
        let (a, b) = (ids(&first), ids(&later));
        assert!(a.len() > 50 && b.len() > 50);
        assert!(
            a.is_disjoint(&b),
            "shared: {:?}",
            a.intersection(&b).take(3).collect::<Vec<_>>()
        );
    }
}
