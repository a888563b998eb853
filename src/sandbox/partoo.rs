//! The sandbox's Partoo: `POST /v2/messages` with `x-APIKey`, JSON only (415 otherwise), the body
//! `{conversation_id, content_type: "Text", content}` validated, Partoo's documented error shapes
//! (`{"error": {...}}`), then signed `message_created` (`Sending`) and `message_updated` (`Success`
//! or `Failed`) events. The outcome is scripted by the conversation id's last four digits; the
//! …0000 conversation has expired, so Partoo refuses replies in it.

use super::script::Outcome;
use super::{Resetter, Sandbox, Seen, Shared, json, redirect, reset};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::atomic::Ordering;

fn refuse(status: StatusCode, error: serde_json::Value) -> Response {
    json(status, &json!({ "error": error }))
}

pub(super) async fn send_message(
    State(state): State<Shared>,
    Extension(resetter): Extension<Resetter>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let seq = state.next.fetch_add(1, Ordering::Relaxed);
    let request: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let field = |k: &str| request.as_ref().and_then(|r| r.get(k)).cloned();
    let key = headers
        .get("x-apikey")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let conversation_id = field("conversation_id").and_then(|v| v.as_i64());
    let seen = Seen {
        seq,
        vendor: "partoo",
        path: "/v2/messages".into(),
        version: None,
        request: request.clone(),
        authorized: subtle::ConstantTimeEq::ct_eq(key.as_bytes(), state.options.partoo_api_key.as_bytes()).into(),
        outbox_id: None,
        protocol: field("content_type").and_then(|v| v.as_str().map(str::to_string)),
        recipient: conversation_id.map(|id| id.to_string()),
        synchronous: false,
        body: field("content").and_then(|v| v.as_str().map(str::to_string)),
        answer: 0,
    };
    state.log(&seen);
    let answer = |status: StatusCode, response: Response| {
        state.answered(seq, status.as_u16());
        response
    };
    if !seen.authorized {
        let status = StatusCode::UNAUTHORIZED;
        return answer(
            status,
            refuse(status, json!({"authentication": "User not authenticated"})),
        );
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        let status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return answer(
            status,
            json(
                status,
                &json!({"errors": {"json": "Unsupported media type. Please use application/json"}}),
            ),
        );
    }
    let mut problems = serde_json::Map::new();
    if conversation_id.is_none() {
        problems.insert("conversation_id".into(), json!(["Not a valid integer."]));
    }
    if seen.protocol.as_deref() != Some("Text") {
        problems.insert(
            "content_type".into(),
            json!(["Must be one of: Text, Image, Video, Audio, Document."]),
        );
    }
    if seen.body.as_deref().is_none_or(|b| b.trim().is_empty()) {
        problems.insert("content".into(), json!(["Missing data for required field."]));
    }
    let (true, Some(conversation_id)) = (problems.is_empty(), conversation_id) else {
        let status = StatusCode::BAD_REQUEST;
        return answer(status, refuse(status, json!({ "json": problems })));
    };
    let known = &state.options.partoo_conversations;
    let Some(partner) = known
        .get(&conversation_id.to_string())
        .cloned()
        .or_else(|| known.is_empty().then(|| "SMS".to_string()))
    else {
        let status = StatusCode::NOT_FOUND;
        return answer(status, refuse(status, json!({"json": "Resource not found"})));
    };
    let outcome = Outcome::for_recipient(seen.recipient.as_deref());
    if outcome == Outcome::RateLimited && state.first_time(&seen) {
        return answer(
            StatusCode::TOO_MANY_REQUESTS,
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response(),
        );
    }
    let message_id = 900_000 + seq as i64;
    let sent = Sent {
        message_id,
        conversation_id,
        partner,
        content: seen.body.clone().unwrap_or_default(),
    };
    let ok = json!({"status": "success", "message_id": message_id});
    match outcome {
        Outcome::Reset => {
            state.answered(seq, 499);
            reset(&resetter).await
        }
        Outcome::Redirect => answer(StatusCode::FOUND, redirect(&state)),
        Outcome::OptedOut => {
            let status = StatusCode::BAD_REQUEST;
            answer(
                status,
                refuse(
                    status,
                    json!({"json": {"conversation_id": ["Conversation is expired."]}}),
                ),
            )
        }
        Outcome::ServerErrorButSent => {
            let s = state.clone();
            tokio::spawn(async move { s.partoo_life(sent, false).await });
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response(),
            )
        }
        Outcome::Slow => {
            let s = state.clone();
            let slow = state.options.slow;
            tokio::spawn(async move {
                tokio::time::sleep(slow).await;
                s.partoo_life(sent, false).await
            });
            tokio::time::sleep(slow).await;
            answer(StatusCode::OK, json(StatusCode::OK, &ok))
        }
        Outcome::Delivered | Outcome::CarrierFailure | Outcome::RateLimited | Outcome::Silent => {
            let s = state.clone();
            let fails = outcome == Outcome::CarrierFailure;
            tokio::spawn(async move { s.partoo_life(sent, fails).await });
            answer(StatusCode::OK, json(StatusCode::OK, &ok))
        }
    }
}

/// A message the Partoo stand-in took.
struct Sent {
    message_id: i64,
    conversation_id: i64,
    partner: String,
    content: String,
}

impl Sandbox {
    /// Created (`Sending`), then `Success` or `Failed`, each a signed event.
    async fn partoo_life(&self, m: Sent, fails: bool) {
        let date = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string();
        let event = |kind: &str, status: &str| {
            json!({
                "type": kind,
                "payload": {
                    "message": {
                        "id": m.message_id,
                        "conversation_id": m.conversation_id,
                        "date": date,
                        "content_type": "Text",
                        "sender_type": "User",
                        "sender_label": "Sandbox Advisor",
                        "status": status,
                        "is_deleted": false,
                        "is_automated": false,
                        "content": m.content,
                        "user_id": "sbx-user",
                    },
                    "conversation": {
                        "id": m.conversation_id,
                        "messaging_partner": m.partner,
                        "issues": if status == "Failed" { json!(["channel_rejected_message"]) } else { json!([]) },
                        "custom_channel": null,
                    },
                    "org_id": 4711,
                }
            })
        };
        tokio::time::sleep(self.options.step).await;
        self.emitter.partoo(&event("message_created", "Sending")).await;
        tokio::time::sleep(self.options.step).await;
        let last = if fails { "Failed" } else { "Success" };
        self.emitter.partoo(&event("message_updated", last)).await;
    }
}

/// `PATCH /v2/conversations/{id}`: one action per call, `status` or `assigned_user_id` (a user id
/// or `unassigned`), as Partoo's update-conversation page documents.
pub(super) async fn update_conversation(
    State(state): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let seq = state.next.fetch_add(1, Ordering::Relaxed);
    let request: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let key = headers
        .get("x-apikey")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let seen = Seen {
        seq,
        vendor: "partoo",
        path: format!("/v2/conversations/{id}"),
        version: None,
        request: request.clone(),
        authorized: subtle::ConstantTimeEq::ct_eq(key.as_bytes(), state.options.partoo_api_key.as_bytes()).into(),
        outbox_id: None,
        protocol: None,
        recipient: Some(id.clone()),
        synchronous: true,
        body: None,
        answer: 0,
    };
    state.log(&seen);
    let (status, response) = if !seen.authorized {
        let status = StatusCode::UNAUTHORIZED;
        (
            status,
            refuse(status, json!({"authentication": "User not authenticated"})),
        )
    } else {
        let fields = request.as_ref().and_then(|r| r.as_object());
        let user = fields.and_then(|f| f.get("assigned_user_id")).and_then(|v| v.as_str());
        let one_action = fields.is_some_and(|f| f.len() == 1);
        match (id.parse::<i64>(), user) {
            (Ok(n), Some(user)) if one_action => {
                let status = StatusCode::OK;
                let assigned = (user != "unassigned").then_some(user);
                (status, json(status, &json!({"id": n, "assigned_user_id": assigned})))
            }
            _ => {
                let status = StatusCode::BAD_REQUEST;
                (
                    status,
                    refuse(
                        status,
                        json!({"json": {"assigned_user_id": ["Provide exactly one of status or assigned_user_id."]}}),
                    ),
                )
            }
        }
    };
    state.answered(seq, status.as_u16());
    response.into_response()
}
