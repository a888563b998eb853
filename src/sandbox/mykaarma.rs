//! The sandbox's myKaarma: `POST …/communications/department/{d}/user/{u}/customer/{c}/message`
//! with Basic auth, the documented validation and codes, synchronous and asynchronous sending,
//! callbacks echoing `callbackMetaData`, then `messages` webhooks.

use super::emit::SentMessage;
use super::script::{self, Outcome};
use super::{Resetter, Sandbox, Seen, Shared, redirect, short_random};
use crate::send::mykaarma::wire::{OUTBOX_ID_KEY, SendRequest, SendResponse};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;

fn answer(status: StatusCode, body: &SendResponse) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap, options: &super::Options) -> Option<bool> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let expected = format!("{}:{}", options.username, options.password);
    Some(subtle::ConstantTimeEq::ct_eq(decoded.as_slice(), expected.as_bytes()).into())
}

pub(super) async fn send_message(
    State(state): State<Shared>,
    Extension(resetter): Extension<Resetter>,
    Path((department, _user, customer)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let seq = state.next.fetch_add(1, Ordering::Relaxed);
    let request: Option<SendRequest> = serde_json::from_slice(&body).ok();
    let sending = request
        .as_ref()
        .and_then(|r| r.message_sending_attributes.clone())
        .unwrap_or_default();
    let attributes = request.as_ref().and_then(|r| r.message_attributes.clone());
    let auth = authorized(&headers, &state.options);
    let seen = Seen {
        seq,
        vendor: "mykaarma",
        path: format!("/communications/department/{department}/user/…/customer/{customer}/message"),
        version: None,
        request: serde_json::from_slice(&body).ok(),
        authorized: auth == Some(true),
        outbox_id: sending
            .callback_meta_data
            .as_ref()
            .and_then(|m| m.get(OUTBOX_ID_KEY).cloned()),
        protocol: attributes.as_ref().and_then(|a| a.protocol.clone()),
        recipient: sending.communication_value_of_customer.clone(),
        synchronous: sending.send_synchronously.unwrap_or(false),
        body: attributes.as_ref().and_then(|a| a.body.clone()),
        answer: 0,
    };
    // Logged on arrival (answer 0 until answered): a test can see a request that is still waiting.
    state.seen.lock().expect("sandbox log").push(seen.clone());
    let record = |seen: Seen, status: StatusCode| {
        if let Some(s) = state
            .seen
            .lock()
            .expect("sandbox log")
            .iter_mut()
            .find(|s| s.seq == seen.seq)
        {
            s.answer = status.as_u16();
        }
    };
    if auth != Some(true) {
        let code = if auth.is_none() {
            "CREDENTIALS_ARE_NULL"
        } else {
            "WRONG_CREDENTIAL"
        };
        record(seen, StatusCode::UNAUTHORIZED);
        return answer(
            StatusCode::UNAUTHORIZED,
            &script::failure(vec![script::error(code, "Invalid credentials.")]),
        );
    }
    let errors = match &request {
        Some(r) => script::validate(r),
        None => vec![script::error(
            "MISSING_MESSAGE_ATTRIBUTES",
            "Request body is missing messageAttributes.",
        )],
    };
    if !errors.is_empty() {
        // Validation errors are answered at once, with no callback.
        record(seen, StatusCode::BAD_REQUEST);
        return answer(StatusCode::BAD_REQUEST, &script::failure(errors));
    }
    let outcome = Outcome::for_recipient(seen.recipient.as_deref());
    if outcome == Outcome::RateLimited && state.first_time(&seen) {
        record(seen, StatusCode::TOO_MANY_REQUESTS);
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response();
    }
    let sync = seen.synchronous;
    let message_uuid = format!("sbx-{seq:06}-{}", &short_random());
    let a = attributes.unwrap_or_else(|| unreachable!("validated"));
    let sent = SentMessage {
        uuid: message_uuid.clone(),
        department,
        customer: customer.clone(),
        protocol: a.protocol.clone().unwrap_or_default(),
        recipient: seen.recipient.clone(),
        body: as_received(
            a.body.as_deref().unwrap_or_default(),
            &sending,
            a.protocol.as_deref() == Some("TEXT"),
        ),
        subject: a.subject.clone(),
        sent_at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let meta = sending
        .callback_meta_data
        .clone()
        .map(|m| m.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect());
    // Queuing for opt-in applies to texts only (vendor-docs: CANT_QUEUE_MESSAGE_IF_OPTED_OUT).
    let warnings = if sending.queue_if_opted_out == Some(true) && a.protocol.as_deref() == Some("EMAIL") {
        vec![crate::send::mykaarma::wire::WireWarning {
            warning_code: Some("CANT_QUEUE_MESSAGE_IF_OPTED_OUT".into()),
            warning_description: Some("Queuing not supported for this message type.".into()),
        }]
    } else {
        vec![]
    };
    let base = SendResponse {
        customer_uuid: Some(customer),
        message_uuid: Some(message_uuid),
        request_uuid: Some(format!("sbx-request-{seq:06}")),
        status: Some("SUCCESS".into()),
        errors: Some(vec![]),
        warnings: Some(warnings),
        meta_data: meta,
    };
    let callback_url = sending.callback_url.clone();
    match outcome {
        Outcome::Reset => {
            record(seen, StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST));
            if let Some(tx) = resetter.0.lock().expect("resetter").take() {
                let _ = tx.send(());
            }
            std::future::pending::<()>().await;
            unreachable!()
        }
        Outcome::Redirect => {
            record(seen, StatusCode::FOUND);
            redirect(&state)
        }
        Outcome::OptedOut => {
            let refusal = SendResponse {
                status: Some("FAILURE".into()),
                errors: Some(vec![script::error(
                    "OPTED_OUT_COMMUNICATION_VALUE",
                    "Customer has opted out of communication.",
                )]),
                ..base.clone()
            };
            if sync {
                record(seen, StatusCode::BAD_REQUEST);
                return answer(StatusCode::BAD_REQUEST, &refusal);
            }
            // Asynchronous: accepted, then the opt-out arrives by callback.
            let s = state.clone();
            tokio::spawn(async move {
                tokio::time::sleep(s.options.step).await;
                if let Some(url) = callback_url {
                    s.emitter.callback(&url, &refusal).await;
                }
            });
            record(seen, StatusCode::OK);
            answer(StatusCode::OK, &base)
        }
        Outcome::ServerErrorButSent => {
            let s = state.clone();
            tokio::spawn(async move { s.deliver(sent, None, false, false).await });
            record(seen, StatusCode::INTERNAL_SERVER_ERROR);
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                &script::failure(vec![script::error("INTERNAL_SERVER_ERROR", "Unexpected server error.")]),
            )
        }
        Outcome::Slow | Outcome::Delivered | Outcome::CarrierFailure | Outcome::RateLimited | Outcome::Silent => {
            let fails = outcome == Outcome::CarrierFailure;
            let s = state.clone();
            let cb = SendResponse { ..base.clone() };
            if outcome == Outcome::Slow {
                // The message goes out whether or not the caller is still waiting for the answer.
                let slow = state.options.slow;
                tokio::spawn(async move {
                    tokio::time::sleep(slow).await;
                    s.deliver(sent, callback_url.map(|u| (u, cb)), fails, sync).await
                });
                tokio::time::sleep(slow).await;
            } else {
                tokio::spawn(async move { s.deliver(sent, callback_url.map(|u| (u, cb)), fails, sync).await });
                if sync {
                    // A synchronous send waits for the carrier's hand-off.
                    tokio::time::sleep(state.options.step / 2).await;
                }
            }
            record(seen, StatusCode::OK);
            answer(StatusCode::OK, &base)
        }
    }
}

impl Sandbox {
    /// A message's life after the answer: submitted (callback, webhook), then delivered or failed.
    async fn deliver(&self, m: SentMessage, callback: Option<(String, SendResponse)>, fails: bool, sync: bool) {
        tokio::time::sleep(self.options.step).await;
        if let (Some((url, body)), false) = (&callback, sync) {
            // Asynchronous sends hear "submitted to the provider"; synchronous ones had it in the answer.
            self.emitter.callback(url, body).await;
        }
        self.emitter.webhook(&m, false, "sent", None).await;
        tokio::time::sleep(self.options.step).await;
        if fails {
            if let Some((url, body)) = &callback {
                let failed = SendResponse {
                    status: Some("FAILURE".into()),
                    errors: Some(vec![script::error(
                        "TWILIO_SENDING_FAILURE",
                        "Provider failed to send Text (e.g., invalid number, unreachable).",
                    )]),
                    ..body.clone()
                };
                self.emitter.callback(url, &failed).await;
            }
            self.emitter.webhook(&m, true, "0", Some("30003")).await;
        } else {
            self.emitter.webhook(&m, true, "delivered", None).await;
            if let Some((url, body)) = &callback {
                self.emitter.callback(url, body).await; // the provider's delivery confirmation
            }
        }
    }
}

/// The text as the customer gets it: myKaarma appends the signature and footers it was asked for.
fn as_received(body: &str, s: &crate::send::mykaarma::wire::SendingAttributes, text: bool) -> String {
    let mut out = body.to_string();
    if s.add_signature == Some(true) {
        out.push_str("\n-- Sandbox Advisor");
    }
    if s.add_footer == Some(true) {
        out.push_str("\nSandbox Motors, 1 Demo Way");
    }
    if text && s.add_tcpa_footer != Some(false) {
        out.push_str(crate::send::sms::TCPA_FOOTER);
    }
    out
}
