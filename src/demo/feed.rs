//! The demo's gentle feed: every few seconds, one new vendor event, signed as its vendor signs it,
//! posted to the real receiver over loopback. A short story, told once: a customer follows up on
//! Facebook, an advisor's text fails at the carrier, a Google customer asks again, Tony adds to his
//! question, María thanks the shop. Then the feed is quiet; nothing repeats, no count climbs forever.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;
use std::time::Duration;

/// The demo dealership's myKaarma department.
pub const DEPARTMENT: &str = "3a7f1c9e2b5d8f0a4c6e9b1d3f5a7c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f2";

/// Keys the feed signs with; the demo's receiver is configured to check them.
pub struct Keys {
    pub mykaarma_secret: String,
    pub highlevel: SigningKey,
    pub partoo: SigningKey,
}

/// One step of the story: which vendor, and its event at time `now_ms`.
type Step = (&'static str, fn(i64) -> serde_json::Value);

const STORY: &[Step] = &[
    ("highlevel", jordan_follows_up),
    ("mykaarma", text_fails_at_carrier),
    ("partoo", hans_on_google),
    ("mykaarma", tony_adds),
    ("mykaarma", maria_thanks),
];

/// What the demo's day already holds before the feed starts: Tony's first question (the README's
/// opt-out example), `ago_ms` before `now_ms`.
pub fn opening(now_ms: i64, ago_ms: i64) -> Vec<serde_json::Value> {
    vec![tony_asks(now_ms - ago_ms)]
}

/// Post the script, one event every `every`, until `stop` is sent to or dropped.
pub fn run(receiver: String, keys: Keys, every: Duration, stop: std::sync::mpsc::Receiver<()>) {
    let http = match reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "demo feed: no HTTP client");
            return;
        }
    };
    // A first event soon after start, then the gentle pace.
    let mut wait = Duration::from_secs(2);
    for (vendor, make) in STORY {
        // Woken by the wait's end or at once by `stop`.
        if stop.recv_timeout(wait) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            return;
        }
        let body = serde_json::to_vec(&make(chrono::Utc::now().timestamp_millis())).unwrap_or_default();
        let request = http
            .post(format!("{receiver}/webhooks/{vendor}"))
            .header("content-type", "application/json");
        let request = match *vendor {
            "mykaarma" => request.header(
                "mykaarma-signature-token",
                crate::sandbox::emit::sign_mykaarma(&keys.mykaarma_secret, &body),
            ),
            "highlevel" => request.header(
                "x-ghl-signature",
                STANDARD.encode(keys.highlevel.sign(&body).to_bytes()),
            ),
            _ => request.header(
                "x-partoo-signature-v1",
                STANDARD.encode(keys.partoo.sign(&body).to_bytes()),
            ),
        };
        if let Err(e) = request.body(body).send() {
            tracing::warn!(error = %e, "demo feed: post failed");
        }
        wait = every;
    }
}

fn id(kind: &str, now_ms: i64) -> String {
    format!("demo-{kind}-{now_ms}")
}

fn naive(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn rfc3339(ms: i64) -> String {
    crate::store::rfc3339(ms)
}

/// A myKaarma `messages` event (payload as a JSON string, as delivered).
fn mykaarma(now_ms: i64, kind: &str, dto: serde_json::Value) -> serde_json::Value {
    let mut dto = dto;
    dto["uuid"] = json!(id(kind, now_ms));
    dto["sentOn"] = json!(naive(now_ms));
    dto["receivedOn"] = json!(naive(now_ms));
    dto["dealerDepartmentUuid"] = json!(DEPARTMENT);
    json!({
        "id": id(&format!("{kind}-evt"), now_ms),
        "timestamp": now_ms,
        "dealeruuid": "7c1e5a9f3b7d1e5a9c3e7b1f5d9a3c7e1b5f9d3a7c1e5b9f3d7a1c5e9b3f7d1",
        "departmentuuid": DEPARTMENT,
        "type": "messages",
        "payload": json!({ "isUpdate": false, "messageDTO": dto }).to_string(),
    })
}

/// Tony's number ends in 0000: the sandbox treats it as opted out of texts.
fn tony_asks(now_ms: i64) -> serde_json::Value {
    tony(now_ms, "Hi, do you have a loaner car available tomorrow morning?")
}

fn tony_adds(now_ms: i64) -> serde_json::Value {
    tony(now_ms, "Also, can you check the brakes while it's in? They squeak.")
}

fn tony(now_ms: i64, text: &str) -> serde_json::Value {
    mykaarma(
        now_ms,
        "tony",
        json!({
            "messageType": "I", "protocol": "X", "fromName": "Tony Russo", "fromNumber": "3105550000",
            "toNumber": "3109880001", "deliveryStatus": null, "customerUuid": "demoTonyRusso0000",
            "customerName": "Tony Russo", "isRead": false,
            "messageExtnDTO": { "messageBody": text, "subject": null }, "docFiles": []
        }),
    )
}

fn text_fails_at_carrier(now_ms: i64) -> serde_json::Value {
    mykaarma(
        now_ms,
        "wei",
        json!({
            "messageType": "S", "protocol": "X", "fromName": "Alex Rivera", "fromNumber": "3109880001",
            "toNumber": "6265550199", "deliveryStatus": "0", "twilioDeliveryFailureMessage": "30003",
            "customerUuid": "wCJJaFdfmOjqSX7lD4H8F48Gy96iNyBrwCJJaFdfmOj", "customerName": "陈伟 (Wei Chen)", "isRead": true,
            "messageExtnDTO": { "messageBody": "Wei, the recall repair on your Camry is done. Pick up any time before 6.", "subject": null },
            "docFiles": []
        }),
    )
}

fn maria_thanks(now_ms: i64) -> serde_json::Value {
    mykaarma(
        now_ms,
        "maria",
        json!({
            "messageType": "I", "protocol": "X", "fromName": "María González", "fromNumber": "3105550142",
            "toNumber": "3109880001", "deliveryStatus": null,
            "customerUuid": "XyXL2mNwhZ3Fibz8Gwa2HrMtf5AE5oEzXyXL2mNwhZ3",
            "customerName": "María González", "isRead": false,
            "messageExtnDTO": { "messageBody": "¡Gracias! See you at 11:30 🙂", "subject": null }, "docFiles": []
        }),
    )
}

fn jordan_follows_up(now_ms: i64) -> serde_json::Value {
    json!({
        "type": "InboundMessage",
        "locationId": "l1C08ntBrFjLS0elLIYU",
        "attachments": [],
        "contactId": "lQERlgdExLcp8zmOyUkx",
        "conversationId": "fbConvJordanLee01",
        "dateAdded": rfc3339(now_ms),
        "direction": "inbound",
        "messageType": "FB",
        "messageId": id("jordan", now_ms),
        "webhookId": id("jordan-hook", now_ms),
        "timestamp": rfc3339(now_ms),
        "body": "Following up: could I test drive the Tacoma on Saturday?",
        "contentType": "text/plain",
    })
}

fn hans_on_google(now_ms: i64) -> serde_json::Value {
    let date = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
        .to_string();
    let message = json!({
        "id": 90_000 + (now_ms % 10_000) as u64, "conversation_id": 40977, "date": date,
        "content_type": "Text", "sender_type": "Consumer", "sender_label": "Hans Becker",
        "status": "Success", "is_deleted": false, "is_automated": false,
        "content": "Are the winter tires in yet? I can come by this afternoon.", "user_id": null
    });
    json!({
        "type": "message_created",
        "payload": {
            "message": message,
            "conversation": {
                "id": 40977, "consumer_name": "Hans Becker", "consumer_phone_number": null,
                "consumer_email": null, "is_read": false, "status": "Open",
                "business": { "id": "5f3a9c2e81b7d40012ab34cd" }, "messaging_partner": "Google", "issues": []
            },
            "org_id": 4711
        }
    })
}
