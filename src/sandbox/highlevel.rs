//! The sandbox's HighLevel: `POST /conversations/messages` and `GET /conversations/messages/{id}`
//! with a Bearer token and the `Version` header, the request validated as the API's schema says
//! (`type` from its enum, `contactId`, a body), its documented error shapes (`{statusCode, message,
//! error}`, a list of messages for 422) and rate-limit headers, then signed `OutboundMessage` events
//! as the message is sent and delivered (or fails). The outcome is scripted by the `contactId`'s
//! last four digits, as `script` says.

use super::script::Outcome;
use super::{Resetter, Sandbox, Seen, Shared, json, redirect, reset, short_random};
use crate::send::highlevel::SendMessage;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use std::sync::atomic::Ordering;

const TYPES: &[&str] = &[
    "SMS",
    "RCS",
    "Email",
    "WhatsApp",
    "IG",
    "FB",
    "Custom",
    "Live_Chat",
    "TIKTOK",
];

fn error(status: StatusCode, message: serde_json::Value) -> Response {
    let body = json!({
        "statusCode": status.as_u16(),
        "message": message,
        "error": status.canonical_reason().unwrap_or(""),
    });
    json(status, &body)
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into()
}

/// The schema's checks: the messages a 422 lists.
fn validate(body: &serde_json::Value) -> Vec<String> {
    let mut problems = vec![];
    let text = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::trim).unwrap_or_default();
    if !TYPES.contains(&text("type")) {
        problems.push(format!(
            "type must be one of the following values: {}",
            TYPES.join(", ")
        ));
    }
    if text("contactId").is_empty() {
        problems.push("contactId should not be empty".to_string());
    }
    if text("message").is_empty() && text("html").is_empty() {
        problems.push("message should not be empty".to_string());
    }
    problems
}

pub(super) async fn send_message(
    State(state): State<Shared>,
    Extension(resetter): Extension<Resetter>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let seq = state.next.fetch_add(1, Ordering::Relaxed);
    let request: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let message: Option<SendMessage> = serde_json::from_slice(&body).ok();
    let seen = Seen {
        seq,
        vendor: "highlevel",
        path: "/conversations/messages".into(),
        version: headers.get("version").and_then(|v| v.to_str().ok()).map(str::to_string),
        request: request.clone(),
        authorized: authorized(&headers, &state.options.highlevel_token),
        outbox_id: None,
        protocol: message.as_ref().map(|m| m.kind.clone()),
        recipient: message.as_ref().map(|m| m.contact_id.clone()),
        synchronous: false,
        body: message.as_ref().and_then(|m| m.message.clone()),
        answer: 0,
    };
    state.log(&seen);
    let answer = |status: StatusCode, response: Response| {
        state.answered(seq, status.as_u16());
        response
    };
    if !seen.authorized {
        let status = StatusCode::UNAUTHORIZED;
        return answer(status, error(status, json!("Invalid token: access token is invalid")));
    }
    if seen.version.as_deref() != Some("2021-04-15") {
        let status = StatusCode::BAD_REQUEST;
        return answer(
            status,
            error(status, json!("version header was not found or is invalid")),
        );
    }
    let problems = request
        .as_ref()
        .map(validate)
        .unwrap_or_else(|| vec!["body must be JSON".into()]);
    let (false, Some(m)) = (!problems.is_empty(), message) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return answer(status, error(status, json!(problems)));
    };
    let outcome = Outcome::for_recipient(Some(&m.contact_id));
    if outcome == Outcome::RateLimited && state.first_time(&seen) {
        let status = StatusCode::TOO_MANY_REQUESTS;
        let mut r = error(status, json!("Too Many Requests"));
        for (name, value) in [
            ("x-ratelimit-max", "100"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-interval-milliseconds", "1000"),
        ] {
            r.headers_mut().insert(name, value.parse().expect("a header value"));
        }
        return answer(status, r);
    }
    let conversation_id = state
        .options
        .highlevel_conversations
        .get(&m.contact_id)
        .cloned()
        .unwrap_or_else(|| format!("sbxConv{}", m.contact_id));
    let message_id = format!("sbx{seq:06}{}", short_random());
    let sent = Sent {
        message_id: message_id.clone(),
        conversation_id: conversation_id.clone(),
        contact_id: m.contact_id.clone(),
        kind: m.kind.clone(),
        body: m.message.clone().unwrap_or_default(),
        subject: m.subject.clone(),
    };
    let ok = json!({"conversationId": conversation_id, "messageId": message_id, "status": "pending"});
    match outcome {
        Outcome::Reset => {
            state.answered(seq, 499);
            reset(&resetter).await
        }
        Outcome::Redirect => answer(StatusCode::FOUND, redirect(&state)),
        // The contact has Do Not Disturb on for the channel (HighLevel's opt-out); nothing is sent.
        Outcome::OptedOut => {
            let status = StatusCode::BAD_REQUEST;
            answer(
                status,
                error(
                    status,
                    json!(format!("Cannot send message as DND is active for {}.", m.kind)),
                ),
            )
        }
        Outcome::ServerErrorButSent => {
            let s = state.clone();
            tokio::spawn(async move { s.highlevel_life(sent, false, true).await });
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            answer(status, error(status, json!("Internal server error")))
        }
        Outcome::Slow => {
            let s = state.clone();
            let slow = state.options.slow;
            tokio::spawn(async move {
                tokio::time::sleep(slow).await;
                s.highlevel_life(sent, false, true).await
            });
            tokio::time::sleep(slow).await;
            answer(StatusCode::OK, json(StatusCode::OK, &ok))
        }
        Outcome::Delivered | Outcome::CarrierFailure | Outcome::RateLimited | Outcome::Silent => {
            let s = state.clone();
            let fails = outcome == Outcome::CarrierFailure;
            let webhooks = outcome != Outcome::Silent;
            state
                .highlevel_status
                .lock()
                .expect("sandbox state")
                .insert(message_id, "pending".into());
            tokio::spawn(async move { s.highlevel_life(sent, fails, webhooks).await });
            answer(StatusCode::OK, json(StatusCode::OK, &ok))
        }
    }
}

/// `GET /conversations/messages/{id}`: the message as it stands.
pub(super) async fn message(State(state): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let seq = state.next.fetch_add(1, Ordering::Relaxed);
    let seen = Seen {
        seq,
        vendor: "highlevel",
        path: format!("/conversations/messages/{id}"),
        version: headers.get("version").and_then(|v| v.to_str().ok()).map(str::to_string),
        request: None,
        authorized: authorized(&headers, &state.options.highlevel_token),
        outbox_id: None,
        protocol: None,
        recipient: None,
        synchronous: false,
        body: None,
        answer: 0,
    };
    state.log(&seen);
    let status_now = state.highlevel_status.lock().expect("sandbox state").get(&id).cloned();
    let (status, response) = match (seen.authorized, status_now) {
        (false, _) => (
            StatusCode::UNAUTHORIZED,
            error(
                StatusCode::UNAUTHORIZED,
                json!("Invalid token: access token is invalid"),
            ),
        ),
        (true, None) => (
            StatusCode::NOT_FOUND,
            error(StatusCode::NOT_FOUND, json!("Message not found")),
        ),
        (true, Some(word)) => (
            StatusCode::OK,
            json(
                StatusCode::OK,
                &json!({"id": id, "direction": "outbound", "status": word}),
            ),
        ),
    };
    state.answered(seq, status.as_u16());
    response
}

/// A message the HighLevel stand-in took.
struct Sent {
    message_id: String,
    conversation_id: String,
    contact_id: String,
    kind: String,
    body: String,
    subject: Option<String>,
}

impl Sandbox {
    /// Sent, then delivered or failed: each step an `OutboundMessage` event (unless `webhooks` is
    /// off, when only a lookup can tell), and the status a lookup answers.
    async fn highlevel_life(&self, m: Sent, fails: bool, webhooks: bool) {
        let steps: &[(&str, Option<&str>)] = if fails {
            &[
                ("sent", None),
                (
                    "failed",
                    Some("Carrier rejected the message: unreachable handset (30003)"),
                ),
            ]
        } else {
            &[("sent", None), ("delivered", None)]
        };
        for (status, error) in steps {
            tokio::time::sleep(self.options.step).await;
            self.highlevel_status
                .lock()
                .expect("sandbox state")
                .insert(m.message_id.clone(), status.to_string());
            if !webhooks {
                continue;
            }
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let mut event = json!({
                "type": "OutboundMessage",
                "locationId": "sbxLocation",
                "attachments": [],
                "contactId": m.contact_id,
                "conversationId": m.conversation_id,
                "dateAdded": now,
                "direction": "outbound",
                "messageType": m.kind,
                "messageId": m.message_id,
                "webhookId": format!("sbxwh{}", short_random()),
                "timestamp": now,
                "body": m.body,
                "contentType": "text/plain",
                "status": status,
                "source": "api",
            });
            if let Some(subject) = &m.subject {
                event["subject"] = json!(subject);
            }
            if let Some(error) = error {
                event["error"] = json!(error);
            }
            self.emitter.highlevel(&event).await;
        }
    }
}
