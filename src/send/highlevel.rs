//! Replying through HighLevel's conversations API (`highlevel-api-docs`, `apps/conversations.json`,
//! operation `send-a-new-message`): `POST /conversations/messages` with a Bearer token (a
//! sub-account's Private Integration token or an OAuth access token) and the `Version` header; the
//! `type` follows the conversation's channel, `contactId` comes from the conversation, and an
//! email reply threads under the customer's last email (`replyMessageId`). The answer's
//! `messageId` ties the reply to the `OutboundMessage` webhooks that report its fate; when they do
//! not come, `GET /conversations/messages/{id}` is asked a few times.

use super::attempt::{Vendor, refused};
use super::http::{Answer, Attempt, Http, base_url, join};
use crate::config::{HighLevelSend, Secret};
use crate::model::{Channel, Provider};
use crate::outbox::{OutboxEntry, OutboxStatus, Problem, Report, Target};
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub struct HighLevel {
    http: Http,
    base: reqwest::Url,
    token: Secret,
    version: String,
    lookup_after: Duration,
}

/// The request body (`SendMessageBodyDto`), only the fields Switchboard sends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub contact_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_message_id: Option<String>,
}

/// The answer to a send (`SendMessageResponseDto`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendAnswer {
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    /// Google Business Messages answer with a list instead of one id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
}

/// HighLevel's error body: `{statusCode, message, error}`, `message` a string or (422) a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub message: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<String>,
}

impl ErrorBody {
    pub fn text(&self) -> Option<String> {
        match self.message.as_ref()? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(items) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => Some(other.to_string()),
        }
        .or_else(|| self.error.clone())
    }
}

/// The `type` HighLevel sends a reply on for a channel; `None`: its API cannot send on it.
pub fn message_type(channel: &Channel) -> Option<&'static str> {
    Some(match channel {
        Channel::Sms => "SMS",
        Channel::Email => "Email",
        Channel::Whatsapp => "WhatsApp",
        Channel::Facebook => "FB",
        Channel::Instagram => "IG",
        Channel::LiveChat => "Live_Chat",
        _ => return None,
    })
}

/// The channels a reply in this conversation can go out on: text and email when the contact has a
/// number or an address, and each messaging channel the customer has written on.
pub fn channels(target: &Target) -> Vec<Channel> {
    let mut out = vec![];
    if target.phone.is_some() || target.channels.contains(&Channel::Sms) {
        out.push(Channel::Sms);
    }
    if target.email.is_some() || target.channels.contains(&Channel::Email) {
        out.push(Channel::Email);
    }
    for c in &target.channels {
        if !out.contains(c) && message_type(c).is_some() {
            out.push(c.clone());
        }
    }
    out
}

/// HighLevel's message status words (`GET /conversations/messages/{id}`, `OutboundMessage`).
fn outbox_status(word: &str) -> Option<OutboxStatus> {
    match word.to_ascii_lowercase().as_str() {
        "delivered" | "read" | "opened" | "clicked" => Some(OutboxStatus::Delivered),
        "sent" | "connected" => Some(OutboxStatus::Sent),
        "failed" | "undelivered" | "opt_out" => Some(OutboxStatus::Failed),
        _ => None,
    }
}

fn status_problem(word: &str) -> Option<Problem> {
    let advice = match word.to_ascii_lowercase().as_str() {
        "opt_out" => "The contact opted out of this channel in HighLevel; reach them another way.",
        "undelivered" => "The carrier could not deliver the message; check the contact's number or address.",
        "failed" => "HighLevel could not send the message; check the thread in HighLevel for the reason.",
        _ => return None,
    };
    Some(Problem::vendor(word, None, Some(advice)))
}

impl HighLevel {
    pub fn new(cfg: &HighLevelSend) -> Result<HighLevel> {
        let base = base_url(&cfg.base_url, "highlevel.base_url")?;
        let Some(token) = cfg.token.clone() else {
            bail!(
                "Replies to HighLevel conversations need a token: set SWITCHBOARD_HIGHLEVEL_TOKEN to the sub-account's Private Integration token (or [highlevel] token in a 0600 config file)."
            );
        };
        Ok(HighLevel {
            http: Http::new("HighLevel", cfg.connect_timeout_secs, cfg.timeout_secs)?,
            base,
            token,
            version: cfg.version.clone(),
            lookup_after: Duration::from_secs(cfg.lookup_after_secs.max(1)),
        })
    }

    fn request(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("Version", &self.version)
    }

    /// The request body for an entry.
    pub fn body(entry: &OutboxEntry, target: &Target) -> SendMessage {
        let email = entry.channel == Channel::Email;
        SendMessage {
            kind: message_type(&entry.channel).unwrap_or("SMS").into(),
            contact_id: target.vendor_contact_id.clone().unwrap_or_default(),
            message: Some(entry.body.clone()),
            subject: entry.subject.clone().filter(|_| email),
            html: email.then(|| html_paragraphs(&entry.body)),
            reply_message_id: entry.reply_to.clone().filter(|_| email),
        }
    }
}

/// Plain text as the simplest HTML an email client shows the same way.
fn html_paragraphs(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
        .collect()
}

impl Vendor for HighLevel {
    fn provider(&self) -> Provider {
        Provider::HighLevel
    }

    fn timeout(&self) -> Duration {
        self.http.timeout
    }

    fn refuses(&self, entry: &OutboxEntry, target: &Target) -> Option<Problem> {
        if target.vendor_contact_id.is_none() {
            return Some(Problem::ours(
                "NO_CONTACT_ID",
                "HighLevel's contact id for this conversation is not known yet, so it cannot be replied to.".into(),
            ));
        }
        if message_type(&entry.channel).is_none() {
            return Some(Problem::ours(
                "CHANNEL_NOT_SENDABLE",
                format!(
                    "HighLevel's API cannot send {} replies; reply as a text or an email, or from HighLevel.",
                    entry.channel
                ),
            ));
        }
        None
    }

    fn post(&self, entry: &OutboxEntry, target: &Target, _callback_url: Option<String>) -> Attempt {
        let url = join(&self.base, &["conversations", "messages"]);
        self.http.send(
            self.request(reqwest::Method::POST, url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&HighLevel::body(entry, target)).unwrap_or_default()),
        )
    }

    fn problems(&self, answer: &Answer) -> Vec<Problem> {
        answer
            .json::<ErrorBody>()
            .and_then(|e| e.text())
            .map(|text| {
                vec![Problem::vendor(
                    &format!("HTTP_{}", answer.http_status),
                    Some(text),
                    None,
                )]
            })
            .unwrap_or_default()
    }

    fn judge(&self, _entry: &OutboxEntry, answer: &Answer) -> Report {
        let http_status = answer.http_status;
        let said = answer.json::<ErrorBody>().and_then(|e| e.text());
        let failed = |code: &str, advice: String| Report::refused(http_status, code, said.clone(), advice);
        match http_status {
            200..=299 => {
                let a = answer.json::<SendAnswer>().unwrap_or_default();
                let id = a.message_id.or_else(|| a.message_ids.and_then(|ids| ids.into_iter().next()));
                let word = a.status.unwrap_or_default();
                let status = outbox_status(&word).unwrap_or(OutboxStatus::Accepted);
                Report {
                    status: Some(status),
                    http_status: Some(http_status),
                    errors: if status == OutboxStatus::Failed {
                        status_problem(&word).into_iter().collect()
                    } else {
                        vec![]
                    },
                    // Without a webhook, its fate is asked for after a while.
                    next_try_at: (status.is_open() && id.is_some())
                        .then(|| chrono::Utc::now().timestamp_millis() + self.lookup_after.as_millis() as i64),
                    vendor_message_id: id,
                    ..Report::default()
                }
            }
            401 => failed(
                "INVALID_TOKEN",
                "HighLevel refused Switchboard's token (HTTP 401), so nothing was sent; set SWITCHBOARD_HIGHLEVEL_TOKEN to a current Private Integration token (they expire when rotated).".into(),
            ),
            403 => failed(
                "NOT_ALLOWED",
                "HighLevel's token may not send messages for this sub-account (HTTP 403), so nothing was sent; give the Private Integration the conversations/message.write scope.".into(),
            ),
            404 => failed(
                "NOT_FOUND",
                "HighLevel does not know this contact (HTTP 404; deleted or merged?), so nothing was sent; find them in HighLevel.".into(),
            ),
            400 | 422 if said.as_deref().is_some_and(|s| s.to_ascii_lowercase().contains("dnd")) => failed(
                "DND_ACTIVE",
                "The contact has Do Not Disturb on for this channel in HighLevel, so nothing was sent; reach them another way.".into(),
            ),
            400 | 422 => failed(
                "INVALID_REQUEST",
                format!(
                    "HighLevel refused the message as invalid (HTTP {http_status}), so nothing was sent{}.",
                    said.as_deref().map(|s| format!(": {s}")).unwrap_or_default()
                ),
            ),
            _ => refused("HighLevel", http_status, self.problems(answer)),
        }
    }

    fn lookup_after(&self) -> Duration {
        self.lookup_after
    }

    fn look_up(&self, entry: &OutboxEntry) -> Option<Report> {
        let id = entry.vendor_message_id.as_deref()?;
        let url = join(&self.base, &["conversations", "messages", id]);
        let Attempt::Answered(answer) = self.http.send(self.request(reqwest::Method::GET, url)) else {
            return Some(Report::default());
        };
        if !(200..300).contains(&answer.http_status) {
            return Some(Report::default());
        }
        // The message's fields, at the top level or under `message`.
        let value: serde_json::Value = answer.json()?;
        let word = value
            .get("status")
            .or_else(|| value.get("message").and_then(|m| m.get("status")))
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        let status = outbox_status(&word);
        Some(Report {
            status,
            errors: if status == Some(OutboxStatus::Failed) {
                status_problem(&word).into_iter().collect()
            } else {
                vec![]
            },
            ..Report::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_read_as_text() {
        let e: ErrorBody = serde_json::from_str(r#"{"statusCode":422,"message":["contactId must be a string","type must be one of"],"error":"Unprocessable Entity"}"#).unwrap();
        assert_eq!(e.text().unwrap(), "contactId must be a string; type must be one of");
        let e: ErrorBody = serde_json::from_str(
            r#"{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}"#,
        )
        .unwrap();
        assert_eq!(e.text().unwrap(), "Invalid token: access token is invalid");
    }

    #[test]
    fn email_html_is_escaped_text() {
        assert_eq!(html_paragraphs("a <b>\nc\n\nd"), "<p>a &lt;b&gt;<br>c</p><p>d</p>");
    }
}
