//! What the sandbox sends back, as the vendors do: myKaarma's callbacks to a request's `callbackURL`
//! and its signed `messages` events; HighLevel's `OutboundMessage` and Partoo's `message_created` /
//! `message_updated` events, signed with Ed25519 as those vendors sign. Only to loopback addresses:
//! the sandbox is a stand-in and never talks to the world.

use crate::send::http::check_url;
use crate::send::mykaarma::wire::SendResponse;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// A message the sandbox "sent", as its webhook events describe it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub uuid: String,
    pub department: String,
    pub customer: String,
    pub protocol: String,
    pub recipient: Option<String>,
    /// The text as the customer receives it (signature and footers appended).
    pub body: String,
    pub subject: Option<String>,
    pub sent_at_ms: i64,
}

pub struct Emitter {
    http: reqwest::Client,
    /// The receiver: events go to `{receiver}/webhooks/{vendor}`.
    pub receiver: Option<reqwest::Url>,
    secret: String,
    token: Option<String>,
    highlevel_key: ed25519_dalek::SigningKey,
    partoo_key: ed25519_dalek::SigningKey,
}

impl Emitter {
    pub fn new(
        webhook_url: Option<reqwest::Url>,
        secret: String,
        token: Option<String>,
        highlevel_key: ed25519_dalek::SigningKey,
        partoo_key: ed25519_dalek::SigningKey,
    ) -> Emitter {
        // A URL naming myKaarma's webhook route stands for its receiver.
        let receiver = webhook_url.map(|mut u| {
            let path = u
                .path()
                .trim_end_matches('/')
                .trim_end_matches("/webhooks/mykaarma")
                .to_string();
            u.set_path(&path);
            u
        });
        Emitter {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with default TLS"),
            receiver,
            secret,
            token,
            highlevel_key,
            partoo_key,
        }
    }

    fn route(&self, vendor: &str) -> Option<reqwest::Url> {
        let base = self.receiver.as_ref()?;
        Some(crate::send::http::join(base, &["webhooks", vendor]))
    }

    /// A HighLevel event, signed (`x-ghl-signature`: base64 Ed25519 over the body).
    pub async fn highlevel(&self, event: &serde_json::Value) {
        let Some(url) = self.route("highlevel") else { return };
        let body = serde_json::to_vec(event).unwrap_or_default();
        let signature = sign(&self.highlevel_key, &body);
        self.post(url, body, vec![("x-ghl-signature", signature)]).await;
    }

    /// A Partoo event, signed (`X-Partoo-Signature-v1`: base64 Ed25519 over the body).
    pub async fn partoo(&self, event: &serde_json::Value) {
        let Some(url) = self.route("partoo") else { return };
        let body = serde_json::to_vec(event).unwrap_or_default();
        let signature = sign(&self.partoo_key, &body);
        self.post(url, body, vec![("x-partoo-signature-v1", signature)]).await;
    }

    pub async fn callback(&self, url: &str, body: &SendResponse) {
        let Ok(url) = reqwest::Url::parse(url) else {
            tracing::warn!("callbackURL is not a URL; no callback sent");
            return;
        };
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.post(url, bytes, vec![]).await;
    }

    /// A `messages` event about `m`: `update` false for the message itself, true for a status change.
    pub async fn webhook(&self, m: &SentMessage, update: bool, status: &str, failure: Option<&str>) {
        let Some(url) = self.route("mykaarma") else { return };
        let body = message_event(m, update, status, failure);
        let mut headers = vec![("mykaarma-signature-token", sign_mykaarma(&self.secret, &body))];
        if let Some(t) = &self.token {
            headers.push(("x-authorization-token", t.clone()));
        }
        self.post(url, body, headers).await;
    }

    /// POST with myKaarma's habit of retrying on failure (a few times, a second apart).
    async fn post(&self, url: reqwest::Url, body: Vec<u8>, headers: Vec<(&'static str, String)>) {
        let loopback = check_url(&url).is_ok() && url.scheme() == "http";
        if !loopback {
            tracing::warn!(
                host = url.host_str().unwrap_or("?"),
                "not a loopback http URL; the sandbox only posts to loopback"
            );
            return;
        }
        for attempt in 1..=5u64 {
            let mut req = self
                .http
                .post(url.clone())
                .header("content-type", "application/json")
                .body(body.clone());
            for (name, value) in &headers {
                req = req.header(*name, value);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) if r.status().as_u16() == 404 => {
                    tracing::warn!(path = url.path(), "404 from the receiver; not retried");
                    return;
                }
                Ok(r) => tracing::warn!(status = r.status().as_u16(), attempt, "post refused; retrying"),
                Err(e) => tracing::warn!(error = %e, attempt, "post failed; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(attempt)).await;
        }
    }
}

fn sign(key: &ed25519_dalek::SigningKey, body: &[u8]) -> String {
    use base64::Engine;
    use ed25519_dalek::Signer;
    base64::engine::general_purpose::STANDARD.encode(key.sign(body).to_bytes())
}

/// myKaarma's `mykaarma-signature-token` value: `sha256=<hex HMAC-SHA256(body)>`.
pub fn sign_mykaarma(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A myKaarma `messages` event: the envelope with its payload as a JSON string, as delivered.
pub fn message_event(m: &SentMessage, update: bool, status: &str, failure: Option<&str>) -> Vec<u8> {
    let now = chrono::Utc::now();
    let sent_on = chrono::DateTime::from_timestamp_millis(m.sent_at_ms)
        .unwrap_or(now)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let email = m.protocol == "EMAIL";
    let payload = serde_json::json!({
        "isUpdate": update,
        "messageDTO": {
            "uuid": m.uuid,
            "messageType": "S",
            "protocol": if email { "E" } else { "X" },
            "fromName": "Sandbox Advisor",
            "toNumber": m.recipient,
            "sentOn": sent_on,
            "deliveryStatus": status,
            "dealerDepartmentUuid": m.department,
            "twilioDeliveryFailureMessage": failure,
            "customerUuid": m.customer,
            "isRead": false,
            "messageExtnDTO": { "messageBody": m.body, "subject": m.subject },
            "docFiles": [],
        }
    });
    let event = serde_json::json!({
        "id": format!("sandbox-{}-{}", m.uuid, if update { status } else { "new" }),
        "timestamp": if update { now.timestamp_millis() } else { m.sent_at_ms },
        "dealeruuid": "sandbox-dealer",
        "departmentuuid": m.department,
        "type": "messages",
        "payload": payload.to_string(),
    });
    serde_json::to_vec(&event).unwrap_or_default()
}
