//! One reply's trip, the same discipline for every vendor: claim the outbox entry (`sending`,
//! committed), make the vendor's one request, record what came back. A connection that never opened
//! is retried a few times and a rate-limit refusal is waited out (neither reached the vendor's
//! sending); anything that may have reached the vendor is left `unknown` for a callback, a webhook,
//! a lookup or the user to settle — no vendor offers an idempotency key, so nothing is re-sent blindly.

use super::http::{Answer, Attempt};
use crate::model::Provider;
use crate::outbox::{OutboxEntry, OutboxStatus, Problem, Report, Target, vendor_name};
use crate::store::Store;
use anyhow::Result;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts when the connection provably never opened.
pub const MAX_ATTEMPTS: i64 = 3;
/// Rate-limit refusals waited out before giving up on an entry.
pub const MAX_RATE_LIMITED: i64 = 10;
/// Queued entries older than this are not sent without asking (see `Store::due`).
pub const MAX_QUEUED_AGE_MS: i64 = 15 * 60 * 1000;
/// Lookups of an accepted reply whose webhook never came (each wait twice the one before).
pub const MAX_LOOKUPS: i64 = 5;

/// One vendor's send API. The discipline around it (claim, retry, record) is `Sender`'s.
pub trait Vendor: Send + Sync {
    fn provider(&self) -> Provider;
    /// The request's deadline: after it, the reply's fate is `unknown`.
    fn timeout(&self) -> Duration;
    /// Why this reply cannot go through this vendor (nothing is requested then).
    fn refuses(&self, entry: &OutboxEntry, target: &Target) -> Option<Problem>;
    /// Make the one request for this entry.
    fn post(&self, entry: &OutboxEntry, target: &Target, callback_url: Option<String>) -> Attempt;
    /// What a 2xx or 4xx answer (other than 429) means, in the vendor's words.
    fn judge(&self, entry: &OutboxEntry, answer: &Answer) -> Report;
    /// The vendor's own error words in any answer, verbatim, for the answers judged generically.
    fn problems(&self, answer: &Answer) -> Vec<Problem>;
    /// Ask the vendor what became of an accepted reply; `None` when it offers no way to ask.
    fn look_up(&self, _entry: &OutboxEntry) -> Option<Report> {
        None
    }
    /// How long after acceptance the first lookup comes.
    fn lookup_after(&self) -> Duration {
        Duration::from_secs(20)
    }
}

/// Replies for every vendor that has credentials.
pub struct Sender {
    vendors: HashMap<String, Box<dyn Vendor>>,
    /// What to set for each vendor without credentials, said where a reply would need it.
    missing: HashMap<String, String>,
    /// Base URL at which vendors reach our receiver, for callbacks.
    pub public_url: Option<String>,
    /// Per vendor: no request before this moment (its rate-limit window is used up).
    gates: Mutex<HashMap<String, Instant>>,
}

impl Sender {
    pub fn new(public_url: Option<String>) -> Sender {
        Sender {
            vendors: HashMap::new(),
            missing: HashMap::new(),
            public_url,
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Add a vendor, or say why it cannot send (its credentials are missing or wrong).
    pub fn with(mut self, provider: Provider, vendor: Result<Box<dyn Vendor>>) -> Sender {
        match vendor {
            Ok(v) => {
                self.vendors.insert(provider.as_str().to_string(), v);
            }
            Err(e) => {
                self.missing.insert(provider.as_str().to_string(), format!("{e:#}"));
            }
        }
        self
    }

    /// Every vendor from the config.
    pub fn from_config(config: &crate::config::Config, public_url: Option<String>) -> Sender {
        Sender::new(public_url)
            .with(
                Provider::MyKaarma,
                super::mykaarma::MyKaarma::new(&config.mykaarma).map(boxed),
            )
            .with(
                Provider::HighLevel,
                super::highlevel::HighLevel::new(&config.highlevel).map(boxed),
            )
            .with(Provider::Partoo, super::partoo::Partoo::new(&config.partoo).map(boxed))
    }

    fn vendor(&self, provider: &Provider) -> Option<&dyn Vendor> {
        self.vendors.get(provider.as_str()).map(|v| v.as_ref())
    }

    /// Why replies in a conversation of this vendor cannot be sent from here, if they cannot.
    pub fn cannot_send(&self, provider: &Provider) -> Option<String> {
        if self.vendor(provider).is_some() {
            return None;
        }
        Some(
            self.missing
                .get(provider.as_str())
                .cloned()
                .unwrap_or_else(|| format!("Switchboard cannot reply to {} conversations.", vendor_name(provider))),
        )
    }

    /// The longest any request may take, for deciding that a `sending` entry was interrupted.
    pub fn longest_request(&self) -> Duration {
        self.vendors
            .values()
            .map(|v| v.timeout())
            .max()
            .unwrap_or(Duration::from_secs(30))
            + Duration::from_secs(10)
    }

    /// Send entry `id` until it leaves the queue (retrying only requests that never reached the
    /// vendor's sending). Returns the entry as it stands; an entry someone else holds is returned
    /// untouched.
    pub fn send(&self, store: &mut Store, id: i64) -> Result<OutboxEntry> {
        pause_after("queued");
        loop {
            let entry = self.attempt(store, id)?;
            if entry.status != OutboxStatus::Queued {
                return Ok(entry);
            }
            let ms = entry
                .next_try_at
                .map_or(0, |t| (t - chrono::Utc::now()).num_milliseconds())
                .clamp(0, 60_000);
            std::thread::sleep(Duration::from_millis(ms as u64));
        }
    }

    /// One attempt at entry `id`, if it is queued and due.
    pub fn attempt(&self, store: &mut Store, id: i64) -> Result<OutboxEntry> {
        let current = store
            .outbox_entry(id)?
            .ok_or_else(|| anyhow::anyhow!("no outbox entry {id}"))?;
        self.wait_for_gate(&current.provider);
        let Some(entry) = store.claim(id)? else {
            return store
                .outbox_entry(id)?
                .ok_or_else(|| anyhow::anyhow!("no outbox entry {id}"));
        };
        pause_after("sending");
        let target = store.target(&entry.conversation_key)?;
        let Some(vendor) = self.vendor(&entry.provider) else {
            let why = self.cannot_send(&entry.provider).unwrap_or_default();
            return store.record(id, &failed(Problem::ours("NOT_CONFIGURED", why)));
        };
        if let Some(problem) = vendor.refuses(&entry, &target) {
            return store.record(id, &failed(problem));
        }
        let callback_url = match (&self.public_url, store.callback_token(id)?) {
            (Some(base), Some(token)) => Some(format!(
                "{}/callbacks/{}/{token}",
                base.trim_end_matches('/'),
                entry.provider
            )),
            _ => None,
        };
        let attempt = vendor.post(&entry, &target, callback_url);
        pause_after("response");
        tracing::info!(outbox = id, vendor = %entry.provider, outcome = attempt_word(&attempt), "send attempt");
        if let Attempt::Answered(a) = &attempt {
            self.note_rate(&entry.provider, a);
        }
        store.record(id, &report(vendor, &entry, attempt))
    }

    /// Ask the vendor about an accepted reply whose webhook has not come; schedule the next ask.
    pub fn look_up(&self, store: &mut Store, entry: &OutboxEntry, lookups: i64) -> Result<()> {
        let Some(vendor) = self.vendor(&entry.provider) else {
            return Ok(());
        };
        self.wait_for_gate(&entry.provider);
        let mut report = vendor.look_up(entry).unwrap_or_default();
        if report.status.is_none_or(|s| s.is_open()) && lookups + 1 < MAX_LOOKUPS {
            report.next_try_at =
                Some(now_ms() + vendor.lookup_after().as_millis() as i64 * (1 << (lookups + 1).min(8)));
        }
        store.record_lookup(entry.id, &report)?;
        Ok(())
    }

    fn wait_for_gate(&self, provider: &Provider) {
        let until = self.gates.lock().ok().and_then(|g| g.get(provider.as_str()).copied());
        if let Some(until) = until {
            std::thread::sleep(until.saturating_duration_since(Instant::now()));
        }
    }

    /// A window used up (HighLevel says so in its headers): hold this vendor's next request.
    fn note_rate(&self, provider: &Provider, answer: &Answer) {
        let wait = match (answer.remaining, answer.retry_after) {
            (Some(0), Some(wait)) => wait,
            (_, Some(wait)) if answer.http_status == 429 => wait,
            _ => return,
        };
        if let Ok(mut gates) = self.gates.lock() {
            gates.insert(provider.as_str().to_string(), Instant::now() + wait);
        }
    }
}

fn boxed<V: Vendor + 'static>(v: V) -> Box<dyn Vendor> {
    Box::new(v)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn failed(problem: Problem) -> Report {
    Report {
        status: Some(OutboxStatus::Failed),
        errors: vec![problem],
        ..Report::default()
    }
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

fn attempt_word(a: &Attempt) -> &'static str {
    match a {
        Attempt::NeverLeft(_) => "never left",
        Attempt::Answered(_) => "answered",
        Attempt::Lost(_) => "lost",
    }
}

/// What an attempt means for the outbox entry: the classes every vendor shares are judged here,
/// the vendor's own answers by the vendor.
pub fn report(vendor: &dyn Vendor, entry: &OutboxEntry, attempt: Attempt) -> Report {
    let name = vendor_name(&entry.provider);
    let unknown = |code: &str, why: String, mut extra: Vec<Problem>, http_status: Option<u16>| {
        let mut errors = vec![Problem::ours(code, why)];
        errors.append(&mut extra);
        Report {
            status: Some(OutboxStatus::Unknown),
            errors,
            http_status,
            ..Report::default()
        }
    };
    match attempt {
        Attempt::NeverLeft(why) if entry.attempts < MAX_ATTEMPTS => Report {
            status: Some(OutboxStatus::Queued),
            // 1 s, 2 s, … : the network may come back.
            next_try_at: Some(now_ms() + 1000 * (1 << (entry.attempts - 1).clamp(0, 5))),
            errors: vec![Problem::ours(
                "CONNECT_FAILED",
                connect_words(name, &why, entry.attempts),
            )],
            ..Report::default()
        },
        Attempt::NeverLeft(why) => failed(Problem::ours(
            "CONNECT_FAILED",
            connect_words(name, &why, entry.attempts),
        )),
        Attempt::Lost(why) => unknown(
            "NO_ANSWER",
            format!(
                "{name} did not answer ({why}; limit {} s): the message may have gone out. Waiting for {name} to report it; resend only if it does not appear.",
                vendor.timeout().as_secs()
            ),
            vec![],
            None,
        ),
        Attempt::Answered(answer) => match answer.http_status {
            300..=399 => {
                let host = answer
                    .location
                    .as_deref()
                    .and_then(|l| reqwest::Url::parse(l).ok())
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_else(|| "another address".into());
                unknown(
                    "REDIRECT_NOT_FOLLOWED",
                    format!(
                        "{name} answered with a redirect (HTTP {}) to {host}; Switchboard does not follow redirects, so credentials never leave {name}. The message most likely did not go out: check {name}'s base URL in the config, then resend.",
                        answer.http_status
                    ),
                    vec![],
                    Some(answer.http_status),
                )
            }
            // Refused before any sending: safe to send once the window has passed.
            429 if entry.attempts < MAX_RATE_LIMITED => {
                let wait = answer.retry_after.unwrap_or(Duration::from_secs(10));
                Report {
                    status: Some(OutboxStatus::Queued),
                    http_status: Some(429),
                    next_try_at: Some(now_ms() + wait.as_millis() as i64),
                    errors: vec![Problem::ours(
                        "RATE_LIMITED",
                        format!(
                            "{name} asked Switchboard to slow down (HTTP 429); nothing was sent yet. Sending in {} s.",
                            wait.as_secs().max(1)
                        ),
                    )],
                    ..Report::default()
                }
            }
            429 => Report {
                http_status: Some(429),
                ..failed(Problem::ours(
                    "RATE_LIMITED",
                    format!(
                        "{name} kept refusing for its rate limit (HTTP 429, {} tries); nothing was sent. Send again in a few minutes.",
                        entry.attempts
                    ),
                ))
            },
            500..=599 => unknown(
                "SERVER_ERROR",
                format!(
                    "{name} failed while handling the message (HTTP {}): it may or may not have gone out. Waiting for {name} to report it; resend only if it does not appear.",
                    answer.http_status
                ),
                vendor.problems(&answer),
                Some(answer.http_status),
            ),
            _ => vendor.judge(entry, &answer),
        },
    }
}

fn connect_words(name: &str, why: &str, attempts: i64) -> String {
    if attempts < MAX_ATTEMPTS {
        format!("Could not reach {name} ({why}); nothing was sent. Trying again.")
    } else {
        format!(
            "Could not reach {name} after {attempts} tries ({why}); nothing was sent. Send again when the network is back."
        )
    }
}

/// A refusal answered with an HTTP status the vendor documents no words for.
pub fn refused(name: &str, http_status: u16, problems: Vec<Problem>) -> Report {
    let ours = Problem::ours(
        "REFUSED",
        format!("{name} refused the request (HTTP {http_status}), so nothing was sent."),
    );
    Report {
        status: Some(OutboxStatus::Failed),
        http_status: Some(http_status),
        errors: if problems.is_empty() { vec![ours] } else { problems },
        ..Report::default()
    }
}
