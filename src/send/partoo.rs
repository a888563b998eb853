//! Replying through Partoo's messages API (developers.partoo.co, `api-reference/messages/send-message`):
//! `POST /v2/messages` with the `x-APIKey` of a Partoo user, `{conversation_id, content_type: "Text",
//! content}`, into an existing conversation only; the reply goes out on that conversation's channel.
//! A 200 means created at Partoo, not delivered: the answer's `message_id` ties the reply to the
//! `message_updated` webhooks that report `Success` or `Failed`. Errors follow Partoo's documented
//! shape (`api-fundamentals/errors`): `{"error": {…}}` (or `"errors"`), one entry per problem.

use super::attempt::{Vendor, refused};
use super::http::{Answer, Attempt, Http, base_url, join};
use crate::config::{PartooSend, Secret};
use crate::model::{Channel, Provider};
use crate::outbox::{OutboxEntry, OutboxStatus, Problem, Report, Target};
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub struct Partoo {
    http: Http,
    base: reqwest::Url,
    api_key: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendMessage {
    pub conversation_id: i64,
    pub content_type: String,
    pub content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SendAnswer {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message_id: Option<serde_json::Value>,
}

/// The channel a reply in this conversation goes out on: the conversation's own (Partoo replies
/// only into an existing conversation, on its channel).
pub fn channels(target: &Target) -> Vec<Channel> {
    target
        .last_inbound_channel
        .clone()
        .or_else(|| target.channels.first().cloned())
        .into_iter()
        .collect()
}

/// Partoo's error entries as `field: words` lines, from `{"error": {...}}` or `{"errors": {...}}`.
pub fn error_lines(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return vec![];
    };
    let Some(errors) = value.get("error").or_else(|| value.get("errors")) else {
        return vec![];
    };
    fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| flatten(prefix, i, out)),
            serde_json::Value::String(s) => out.push(format!("{prefix}: {s}")),
            serde_json::Value::Null => {}
            other => out.push(format!("{prefix}: {other}")),
        }
    }
    let mut out = vec![];
    flatten("", errors, &mut out);
    out
}

impl Partoo {
    pub fn new(cfg: &PartooSend) -> Result<Partoo> {
        let base = base_url(&cfg.base_url, "partoo.base_url")?;
        let Some(api_key) = cfg.api_key.clone() else {
            bail!(
                "Replies to Partoo conversations need an API key: set SWITCHBOARD_PARTOO_API_KEY to a Partoo user's API key (or [partoo] api_key in a 0600 config file)."
            );
        };
        Ok(Partoo {
            http: Http::new("Partoo", cfg.connect_timeout_secs, cfg.timeout_secs)?,
            base,
            api_key,
        })
    }
}

impl Vendor for Partoo {
    fn provider(&self) -> Provider {
        Provider::Partoo
    }

    fn timeout(&self) -> Duration {
        self.http.timeout
    }

    fn refuses(&self, entry: &OutboxEntry, target: &Target) -> Option<Problem> {
        if target.vendor_conversation_id.parse::<i64>().is_err() {
            return Some(Problem::ours(
                "NOT_A_PARTOO_CONVERSATION",
                "Partoo's id for this conversation is not a number Partoo's API takes, so it cannot be replied to here; reply from Partoo.".into(),
            ));
        }
        let on = channels(target);
        (!on.contains(&entry.channel)).then(|| {
            Problem::ours(
                "CHANNEL_NOT_SENDABLE",
                format!(
                    "Partoo replies go out on the conversation's own channel ({}), not {}; nothing was sent.",
                    on.first().map_or("unknown", |c| c.as_str()),
                    entry.channel
                ),
            )
        })
    }

    fn post(&self, entry: &OutboxEntry, target: &Target, _callback_url: Option<String>) -> Attempt {
        let body = SendMessage {
            conversation_id: target.vendor_conversation_id.parse().unwrap_or_default(),
            content_type: "Text".into(),
            content: entry.body.clone(),
        };
        let url = join(&self.base, &["v2", "messages"]);
        self.http.send(
            self.http
                .request(reqwest::Method::POST, url)
                .header("x-APIKey", self.api_key.expose())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&body).unwrap_or_default()),
        )
    }

    fn problems(&self, answer: &Answer) -> Vec<Problem> {
        error_lines(&answer.body)
            .into_iter()
            .map(|line| Problem::vendor(&format!("HTTP_{}", answer.http_status), Some(line), None))
            .collect()
    }

    fn judge(&self, _entry: &OutboxEntry, answer: &Answer) -> Report {
        let http_status = answer.http_status;
        let said = error_lines(&answer.body).join("; ");
        let said = (!said.is_empty()).then_some(said);
        let failed = |code: &str, advice: String| Report::refused(http_status, code, said.clone(), advice);
        let lower = said.as_deref().unwrap_or_default().to_ascii_lowercase();
        match http_status {
            200..=299 => {
                let a = answer.json::<SendAnswer>().unwrap_or_default();
                let id = a.message_id.map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
                Report {
                    status: Some(OutboxStatus::Accepted),
                    http_status: Some(http_status),
                    vendor_message_id: id,
                    ..Report::default()
                }
            }
            401 => failed(
                "NOT_AUTHENTICATED",
                "Partoo refused Switchboard's API key (HTTP 401), so nothing was sent; set SWITCHBOARD_PARTOO_API_KEY to a current key.".into(),
            ),
            403 => failed(
                "NOT_ALLOWED",
                "The Partoo user whose API key Switchboard uses may not reply in this conversation (HTTP 403), so nothing was sent; give that user access to the business, or use another user's key.".into(),
            ),
            404 => failed(
                "NOT_FOUND",
                "Partoo does not know this conversation (HTTP 404; deleted?), so nothing was sent.".into(),
            ),
            400 if lower.contains("expired") || lower.contains("closed") || lower.contains("window") => failed(
                "CONVERSATION_EXPIRED",
                "Partoo no longer accepts replies in this conversation (its channel's reply window has passed or the conversation expired), so nothing was sent; the customer has to write again first.".into(),
            ),
            400 => failed(
                "INVALID_REQUEST",
                format!(
                    "Partoo refused the message (HTTP 400), so nothing was sent{}.",
                    said.as_deref().map(|s| format!(": {s}")).unwrap_or_default()
                ),
            ),
            415 => failed(
                "UNSUPPORTED_MEDIA_TYPE",
                "Partoo did not read the request as JSON (HTTP 415), so nothing was sent. This is a Switchboard bug: please report it.".into(),
            ),
            _ => refused("Partoo", http_status, self.problems(answer)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn documented_error_shapes_read_as_lines() {
        assert_eq!(
            super::error_lines(br#"{"error":{"authentication":"User not authenticated"}}"#),
            ["authentication: User not authenticated"]
        );
        assert_eq!(
            super::error_lines(br#"{"errors":{"json":"Unsupported media type. Please use application/json"}}"#),
            ["json: Unsupported media type. Please use application/json"]
        );
        assert_eq!(
            super::error_lines(br#"{"error":{"json":{"content":["Missing data for required field."]}}}"#),
            ["json.content: Missing data for required field."]
        );
        assert!(super::error_lines(b"<html>").is_empty());
    }
}
