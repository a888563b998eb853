//! `GET /metrics` in the Prometheus (OpenMetrics) text format, so a failure or a silent vendor pages
//! someone through the monitoring they already run. Counters are this process's (they start at zero
//! when `serve` starts, which Prometheus's `increase()` expects); the gauges are read from the
//! database at each scrape, by the writer thread, through the same indexes the inbox uses.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    vendor: String,
    /// `stored`, `ignored`, `rejected` (stored, not understood), `duplicate`, `not_stored` (answered 5xx/429).
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    /// `signature`, `too_large`, `slow_body`, `bad_request`, `stale`, or `http_<status>`.
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// What the database says at the moment of a scrape.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Failed or unknown outbound messages, and such replies that never became messages.
    pub open_failures: i64,
    /// Unix ms of the newest vendor event, if any.
    pub newest_event_at: Option<i64>,
    /// Outbox entries by state.
    pub outbox: Vec<(String, i64)>,
}

pub struct Metrics {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    refused: Family<RefusedLabels, Counter>,
    commit_seconds: Histogram,
    open_failures: Gauge,
    newest_event_age: Gauge<f64, AtomicU64>,
    outbox: Family<StateLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::default();
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "switchboard_events_received",
            "Webhook deliveries answered, by vendor and what became of them",
            events.clone(),
        );
        let refused = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "switchboard_requests_refused",
            "Requests refused before storing (bad signature, too large, too slow, ...), by reason",
            refused.clone(),
        );
        // 0.5 ms to 4 s: an fsync on a good disk to a disk in trouble.
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "switchboard_commit_seconds",
            "Time to commit one batch of deliveries durably (synchronous=FULL)",
            commit_seconds.clone(),
        );
        let open_failures = Gauge::default();
        registry.register(
            "switchboard_open_failures",
            "Outbound messages that failed or whose fate is unknown, in the database now",
            open_failures.clone(),
        );
        let newest_event_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "switchboard_newest_event_age_seconds",
            "Seconds since the newest vendor event was received (-1: none yet)",
            newest_event_age.clone(),
        );
        let outbox = Family::<StateLabels, Gauge>::default();
        registry.register(
            "switchboard_outbox_entries",
            "Replies in the outbox, by state",
            outbox.clone(),
        );
        Arc::new(Metrics {
            registry,
            events,
            refused,
            commit_seconds,
            open_failures,
            newest_event_age,
            outbox,
        })
    }

    pub fn event(&self, vendor: &str, outcome: &str) {
        self.events
            .get_or_create(&EventLabels {
                vendor: vendor.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn refused(&self, reason: &str) {
        self.refused
            .get_or_create(&RefusedLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn commit(&self, seconds: f64) {
        self.commit_seconds.observe(seconds);
    }

    /// The text a scrape gets, with the database's figures as of now.
    pub fn render(&self, snapshot: &Snapshot, now_ms: i64) -> String {
        self.open_failures.set(snapshot.open_failures);
        self.newest_event_age.set(
            snapshot
                .newest_event_at
                .map_or(-1.0, |at| ((now_ms - at).max(0)) as f64 / 1000.0),
        );
        for state in crate::outbox::OutboxStatus::ALL {
            let count = snapshot
                .outbox
                .iter()
                .find(|(s, _)| s == state.as_str())
                .map_or(0, |(_, n)| *n);
            self.outbox
                .get_or_create(&StateLabels {
                    state: state.as_str().to_string(),
                })
                .set(count);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String");
        text
    }
}

/// The reason label for a refused request's status.
pub fn refusal_reason(status: u16) -> String {
    match status {
        401 => "signature".into(),
        413 => "too_large".into(),
        408 => "slow_body".into(),
        400 => "bad_request".into(),
        other => format!("http_{other}"),
    }
}
