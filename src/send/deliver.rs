//! One reply's trip: claim the outbox entry (`sending`, committed), POST it, record what came back.
//! A connection that never opened is retried a few times; anything that may have reached myKaarma
//! is left `unknown` for a callback, a webhook or the user to settle.

use super::client::{Attempt, Client};
use super::outbox::{OutboxEntry, OutboxStatus, Problem, Protocol};
use super::wire::{OUTBOX_ID_KEY, SendRequest};
use crate::store::{Report, Store, Target};
use anyhow::Result;
use std::collections::BTreeMap;
use std::time::Duration;

/// Attempts when the connection provably never opened.
pub const MAX_ATTEMPTS: i64 = 3;
/// Queued entries older than this are not sent without asking (see `Store::due`).
pub const MAX_QUEUED_AGE_MS: i64 = 15 * 60 * 1000;

pub struct Sender {
    pub client: Client,
    /// Base URL at which myKaarma reaches our receiver, for `callbackURL`.
    pub public_url: Option<String>,
}

/// The address a reply goes to: the conversation's phone for texts, its email for emails. `None`
/// lets myKaarma use the customer's preferred contact.
pub fn recipient(target: &Target, protocol: Protocol) -> Option<String> {
    match protocol {
        Protocol::Text => target.phone.clone(),
        Protocol::Email => target.email.clone(),
    }
}

/// Why a conversation cannot be replied to through myKaarma, if it cannot.
pub fn unreachable(target: &Target) -> Option<String> {
    if target.provider != "mykaarma" {
        return Some(format!(
            "Replies go through myKaarma; this conversation came from {}: reply there.",
            target.provider
        ));
    }
    if target.customer_uuid.is_none() || target.department_uuid.is_none() {
        return Some(
            "myKaarma's customer id for this conversation is not known yet, so it cannot be replied to.".into(),
        );
    }
    None
}

/// Test hook for crash tests: `SWITCHBOARD_CRASH_TEST_PAUSE=queued|sending|response` stops the process
/// (sleeping, to be killed) right after that step, so a test can kill it at an exact point.
fn pause_after(step: &str) {
    if std::env::var("SWITCHBOARD_CRASH_TEST_PAUSE").is_ok_and(|v| v == step) {
        eprintln!("paused after {step}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

impl Sender {
    /// Send entry `id` until it leaves the queue (retrying only connections that never opened).
    /// Returns the entry as it stands; an entry someone else holds is returned untouched.
    pub fn send(&self, store: &mut Store, id: i64) -> Result<OutboxEntry> {
        pause_after("queued");
        loop {
            let entry = self.attempt(store, id)?;
            if entry.status != OutboxStatus::Queued {
                return Ok(entry);
            }
            let wait: Option<i64> =
                store
                    .connection()
                    .query_row("SELECT next_try_at FROM outbox WHERE id = ?1", [id], |r| r.get(0))?;
            let ms = wait
                .map_or(0, |t| t - chrono::Utc::now().timestamp_millis())
                .clamp(0, 60_000);
            std::thread::sleep(Duration::from_millis(ms as u64));
        }
    }

    /// One attempt at entry `id`, if it is queued and due.
    pub fn attempt(&self, store: &mut Store, id: i64) -> Result<OutboxEntry> {
        let Some(entry) = store.claim(id)? else {
            return store
                .outbox_entry(id)?
                .ok_or_else(|| anyhow::anyhow!("no outbox entry {id}"));
        };
        pause_after("sending");
        let target = store.target(&entry.conversation)?;
        if let Some(why) = unreachable(&target) {
            return store.record(
                id,
                &Report {
                    status: Some(OutboxStatus::Failed),
                    errors: vec![Problem::ours("NOT_A_MYKAARMA_CUSTOMER", why)],
                    ..Report::default()
                },
            );
        }
        let callback_url = match (&self.public_url, store.callback_token(id)?) {
            (Some(base), Some(token)) => Some(format!("{}/callbacks/mykaarma/{token}", base.trim_end_matches('/'))),
            _ => None,
        };
        let request = SendRequest::new(
            entry.protocol,
            entry.subject.as_deref(),
            &entry.body,
            entry.recipient.as_deref(),
            &entry.options,
            callback_url,
            BTreeMap::from([(OUTBOX_ID_KEY.to_string(), id.to_string())]),
        );
        let url = self.client.endpoint(
            target.department_uuid.as_deref().unwrap_or_default(),
            target.customer_uuid.as_deref().unwrap_or_default(),
        );
        let attempt = self.client.post(url, &request);
        pause_after("response");
        tracing::info!(outbox = id, outcome = attempt_word(&attempt), "send attempt");
        store.record(id, &report(&entry, attempt, self.client.timeout))
    }
}

fn attempt_word(a: &Attempt) -> &'static str {
    match a {
        Attempt::NeverLeft(_) => "never left",
        Attempt::Answered { .. } => "answered",
        Attempt::Lost(_) => "lost",
    }
}

/// What an attempt means for the outbox entry.
pub fn report(entry: &OutboxEntry, attempt: Attempt, timeout: Duration) -> Report {
    let unknown = |code: &str, why: String, mut extra: Vec<Problem>| {
        let mut errors = vec![Problem::ours(code, why)];
        errors.append(&mut extra);
        Report {
            status: Some(OutboxStatus::Unknown),
            errors,
            ..Report::default()
        }
    };
    match attempt {
        Attempt::NeverLeft(why) if entry.attempts < MAX_ATTEMPTS => Report {
            status: Some(OutboxStatus::Queued),
            // 1 s, 2 s, … : the network may come back.
            next_try_at: Some(chrono::Utc::now().timestamp_millis() + 1000 * (1 << (entry.attempts - 1).clamp(0, 5))),
            errors: vec![Problem::ours("CONNECT_FAILED", connect_words(&why, entry.attempts))],
            ..Report::default()
        },
        Attempt::NeverLeft(why) => Report {
            status: Some(OutboxStatus::Failed),
            errors: vec![Problem::ours("CONNECT_FAILED", connect_words(&why, entry.attempts))],
            ..Report::default()
        },
        Attempt::Lost(why) => unknown(
            "NO_ANSWER",
            format!(
                "myKaarma did not answer ({why}; limit {} s): the message may have gone out. Waiting for myKaarma to report it; resend only if it does not appear.",
                timeout.as_secs()
            ),
            vec![],
        ),
        Attempt::Answered {
            http_status,
            response,
            location,
        } => {
            let problems = response.as_ref().map(|r| r.problems()).unwrap_or_default();
            let warnings = response.as_ref().map(|r| r.warning_problems()).unwrap_or_default();
            let uuid = response.as_ref().and_then(|r| r.message_uuid.clone());
            let failed = |fallback: Problem| Report {
                status: Some(OutboxStatus::Failed),
                http_status: Some(http_status),
                message_uuid: uuid.clone(),
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
                    message_uuid: uuid,
                    warnings,
                    ..Report::default()
                },
                300..=399 => {
                    let host = location
                        .as_deref()
                        .and_then(|l| reqwest::Url::parse(l).ok())
                        .and_then(|u| u.host_str().map(str::to_string))
                        .unwrap_or_else(|| "another address".into());
                    let mut r = unknown(
                        "REDIRECT_NOT_FOLLOWED",
                        format!(
                            "myKaarma answered with a redirect (HTTP {http_status}) to {host}; Switchboard does not follow redirects, so credentials never leave myKaarma. The message most likely did not go out: check SWITCHBOARD_MYKAARMA_BASE_URL, then resend."
                        ),
                        vec![],
                    );
                    r.http_status = Some(http_status);
                    r
                }
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
                402 | 405..=499 => failed(Problem::ours(
                    "REFUSED",
                    format!("myKaarma refused the request (HTTP {http_status}), so nothing was sent."),
                )),
                _ => {
                    let mut r = unknown(
                        "SERVER_ERROR",
                        format!(
                            "myKaarma failed while handling the message (HTTP {http_status}): it may or may not have gone out. Waiting for myKaarma to report it; resend only if it does not appear."
                        ),
                        problems,
                    );
                    r.http_status = Some(http_status);
                    r.message_uuid = uuid;
                    r
                }
            }
        }
    }
}

fn connect_words(why: &str, attempts: i64) -> String {
    if attempts < MAX_ATTEMPTS {
        format!("Could not reach myKaarma ({why}); nothing was sent. Trying again.")
    } else {
        format!(
            "Could not reach myKaarma after {attempts} tries ({why}); nothing was sent. Send again when the network is back."
        )
    }
}
