//! Replying through myKaarma's send-message API (`vendor-docs/mykaarma-send-text-or-email.txt`):
//! Basic auth, the department/user/customer path, texts and emails with myKaarma's sending switches,
//! callbacks to a per-reply URL. The request and response shapes are `wire`; error codes in words
//! are `codes`.

pub mod codes;
pub mod wire;

use super::attempt::{Vendor, refused};
use super::http::{Answer, Attempt, Http, base_url, join};
use crate::config::{MyKaarmaSend, Secret};
use crate::model::{Channel, Provider};
use crate::outbox::{OutboxEntry, OutboxStatus, Problem, Report, Target};
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::time::Duration;
use wire::{OUTBOX_ID_KEY, SendRequest, SendResponse};

pub struct MyKaarma {
    http: Http,
    base: reqwest::Url,
    username: Secret,
    password: Secret,
    user_uuid: String,
}

/// The channels a myKaarma reply can go out on.
pub const CHANNELS: &[Channel] = &[Channel::Sms, Channel::Email];

impl MyKaarma {
    pub fn new(cfg: &MyKaarmaSend) -> Result<MyKaarma> {
        let base = base_url(&cfg.base_url, "mykaarma.base_url")?;
        let (Some(username), Some(password)) = (cfg.username.clone(), cfg.password.clone()) else {
            bail!(
                "Replies to myKaarma conversations need its API credentials: set SWITCHBOARD_MYKAARMA_USERNAME and SWITCHBOARD_MYKAARMA_PASSWORD (or [mykaarma] username/password in a 0600 config file)."
            );
        };
        Ok(MyKaarma {
            http: Http::new("myKaarma", cfg.connect_timeout_secs, cfg.timeout_secs)?,
            base,
            username,
            password,
            user_uuid: cfg.user_uuid.clone(),
        })
    }

    /// `…/communications/department/{d}/user/{u}/customer/{c}/message`, each part percent-encoded.
    pub fn endpoint(&self, department: &str, customer: &str) -> reqwest::Url {
        join(
            &self.base,
            &[
                "communications",
                "department",
                department,
                "user",
                &self.user_uuid,
                "customer",
                customer,
                "message",
            ],
        )
    }
}

/// myKaarma conversation keys are `mykaarma:{customer}@{department}`.
fn department(target: &Target) -> Option<&str> {
    target.vendor_conversation_id.rsplit_once('@').map(|(_, d)| d)
}

impl Vendor for MyKaarma {
    fn provider(&self) -> Provider {
        Provider::MyKaarma
    }

    fn timeout(&self) -> Duration {
        self.http.timeout
    }

    fn refuses(&self, entry: &OutboxEntry, target: &Target) -> Option<Problem> {
        if target.vendor_contact_id.is_none() || department(target).is_none() {
            return Some(Problem::ours(
                "NOT_A_MYKAARMA_CUSTOMER",
                "myKaarma's customer id for this conversation is not known yet, so it cannot be replied to.".into(),
            ));
        }
        (!CHANNELS.contains(&entry.channel)).then(|| {
            Problem::ours(
                "CHANNEL_NOT_SENDABLE",
                format!(
                    "myKaarma sends replies as texts or emails, not {}; nothing was sent.",
                    entry.channel
                ),
            )
        })
    }

    fn post(&self, entry: &OutboxEntry, target: &Target, callback_url: Option<String>) -> Attempt {
        let request = SendRequest::new(
            &entry.channel,
            entry.subject.as_deref(),
            &entry.body,
            entry.recipient.as_deref(),
            &entry.options,
            callback_url,
            BTreeMap::from([(OUTBOX_ID_KEY.to_string(), entry.id.to_string())]),
        );
        let url = self.endpoint(
            department(target).unwrap_or_default(),
            target.vendor_contact_id.as_deref().unwrap_or_default(),
        );
        self.http.send(
            self.http
                .request(reqwest::Method::POST, url)
                .basic_auth(self.username.expose(), Some(self.password.expose()))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&request).unwrap_or_default()),
        )
    }

    fn problems(&self, answer: &Answer) -> Vec<Problem> {
        answer.json::<SendResponse>().map(|r| r.problems()).unwrap_or_default()
    }

    fn judge(&self, entry: &OutboxEntry, answer: &Answer) -> Report {
        let response = answer.json::<SendResponse>();
        let problems = response.as_ref().map(|r| r.problems()).unwrap_or_default();
        let warnings = response.as_ref().map(|r| r.warning_problems()).unwrap_or_default();
        let uuid = response.as_ref().and_then(|r| r.message_uuid.clone());
        let http_status = answer.http_status;
        let failed = |fallback: Problem| Report {
            status: Some(OutboxStatus::Failed),
            http_status: Some(http_status),
            vendor_message_id: uuid.clone(),
            errors: if problems.is_empty() {
                vec![fallback]
            } else {
                problems.clone()
            },
            warnings: warnings.clone(),
            ..Report::default()
        };
        match http_status {
            200..=299 if response.as_ref().is_some_and(|r| r.failed()) => failed(Problem::ours(
                "FAILURE",
                "myKaarma did not send the message and gave no reason.".into(),
            )),
            200..=299 => Report {
                status: Some(if entry.options.synchronous {
                    OutboxStatus::Sent
                } else {
                    OutboxStatus::Accepted
                }),
                http_status: Some(http_status),
                vendor_message_id: uuid,
                warnings,
                ..Report::default()
            },
            401 | 403 => failed(Problem::ours(
                "NOT_AUTHORIZED",
                format!(
                    "myKaarma refused Switchboard's credentials (HTTP {http_status}), so nothing was sent; check SWITCHBOARD_MYKAARMA_USERNAME and SWITCHBOARD_MYKAARMA_PASSWORD."
                ),
            )),
            400 => failed(Problem::ours(
                "BAD_REQUEST",
                "myKaarma refused the request as invalid (HTTP 400), so nothing was sent.".into(),
            )),
            404 => failed(Problem::ours(
                "NOT_FOUND",
                "myKaarma does not know this department, user or customer (HTTP 404), so nothing was sent.".into(),
            )),
            _ => refused("myKaarma", http_status, problems),
        }
    }
}

/// What a send callback (the body of which is a `SendMessageResponse`) says about its reply.
pub fn callback_report(body: &[u8]) -> Option<Report> {
    let cb = serde_json::from_slice::<SendResponse>(body).ok()?;
    let status = if cb.succeeded() {
        Some(OutboxStatus::Sent)
    } else if cb.failed() {
        Some(OutboxStatus::Failed)
    } else {
        None
    };
    Some(Report {
        status,
        vendor_message_id: cb.message_uuid.clone(),
        errors: cb.problems(),
        warnings: cb.warning_problems(),
        ..Report::default()
    })
}
