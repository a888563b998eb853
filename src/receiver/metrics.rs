//! `GET /metrics` in the Prometheus text format, so a failure or a silent vendor pages
//! someone through the monitoring they already run. Counters are this process's (they start at zero
//! when `serve` starts, which Prometheus's `increase()` expects); the gauges are read from the
//! database at each scrape, by the writer thread, through the same indexes the inbox uses.

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use std::sync::Arc;

/// What the database says at the moment of a scrape.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Failed or unknown outbound messages, and such replies that never became messages.
    pub open_failures: i64,
    /// Unix ms of the newest vendor event, if any.
    pub newest_event_at: Option<i64>,
    /// Events acknowledged and not folded into conversations yet.
    pub unfolded: i64,
    /// Outbox entries by state.
    pub outbox: Vec<(String, i64)>,
}

pub struct Metrics {
    registry: Registry,
    /// By `vendor` and `outcome`: `stored`, `ignored`, `rejected` (stored, not understood),
    /// `duplicate`, `refused` (stale), `not_stored` (answered 5xx/429).
    events: IntCounterVec,
    /// By `reason`: `signature`, `too_large`, `slow_body`, `bad_request`, `stale`, or `http_<status>`.
    refused: IntCounterVec,
    commit_seconds: Histogram,
    /// Where a stored delivery's time went, by `stage` (`Stage`).
    stage_seconds: HistogramVec,
    open_failures: IntGauge,
    newest_event_age: Gauge,
    unfolded: IntGauge,
    outbox: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let events = IntCounterVec::new(
            Opts::new(
                "switchboard_events_received_total",
                "Webhook deliveries answered, by vendor and what became of them",
            ),
            &["vendor", "outcome"],
        )
        .expect("a valid metric");
        let refused = IntCounterVec::new(
            Opts::new(
                "switchboard_requests_refused_total",
                "Requests refused before storing (bad signature, too large, too slow, ...), by reason",
            ),
            &["reason"],
        )
        .expect("a valid metric");
        // 0.5 ms to 4 s: an fsync on a good disk to a disk in trouble.
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "switchboard_commit_seconds",
                "Time from the start of a batch of deliveries' commit until the fsync that makes it durable",
            )
            .buckets(prometheus::exponential_buckets(0.0005, 2.0, 14).expect("valid buckets")),
        )
        .expect("a valid metric");
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new(
                "switchboard_delivery_stage_seconds",
                "Time a delivery spent from its body read to its answer: verify_parse (until queued for the \
                 writer), queued (until its batch began), answered (from queued until the answer was back)",
            )
            .buckets(prometheus::exponential_buckets(0.00025, 2.0, 15).expect("valid buckets")),
            &["stage"],
        )
        .expect("a valid metric");
        let open_failures = IntGauge::new(
            "switchboard_open_failures",
            "Outbound messages that failed or whose fate is unknown, in the database now",
        )
        .expect("a valid metric");
        let newest_event_age = Gauge::new(
            "switchboard_newest_event_age_seconds",
            "Seconds since the newest vendor event was received (-1: none yet)",
        )
        .expect("a valid metric");
        let unfolded = IntGauge::new(
            "switchboard_unfolded_events",
            "Events acknowledged and not yet in the conversations (above zero while folds fail: see the log)",
        )
        .expect("a valid metric");
        let outbox = IntGaugeVec::new(
            Opts::new("switchboard_outbox_entries", "Replies in the outbox, by state"),
            &["state"],
        )
        .expect("a valid metric");
        let registry = Registry::new();
        for m in [
            Box::new(events.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(refused.clone()),
            Box::new(commit_seconds.clone()),
            Box::new(stage_seconds.clone()),
            Box::new(open_failures.clone()),
            Box::new(newest_event_age.clone()),
            Box::new(unfolded.clone()),
            Box::new(outbox.clone()),
        ] {
            registry.register(m).expect("distinct metric names");
        }
        Arc::new(Metrics {
            registry,
            events,
            refused,
            commit_seconds,
            stage_seconds,
            open_failures,
            newest_event_age,
            unfolded,
            outbox,
        })
    }

    pub fn event(&self, vendor: &str, outcome: &str) {
        self.events.with_label_values(&[vendor, outcome]).inc();
    }

    pub fn refused(&self, reason: &str) {
        self.refused.with_label_values(&[reason]).inc();
    }

    pub fn commit(&self, seconds: f64) {
        self.commit_seconds.observe(seconds);
    }

    pub fn stage(&self, stage: Stage, seconds: f64) {
        self.stage_seconds.with_label_values(&[stage.as_str()]).observe(seconds);
    }

    /// The text a scrape gets (Prometheus text format 0.0.4), with the database's figures as of now.
    pub fn render(&self, snapshot: &Snapshot, now_ms: i64) -> String {
        self.open_failures.set(snapshot.open_failures);
        self.unfolded.set(snapshot.unfolded);
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
            self.outbox.with_label_values(&[state.as_str()]).set(count);
        }
        let mut text = vec![];
        prometheus::TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("writing to memory");
        String::from_utf8(text).expect("the encoder writes UTF-8")
    }
}

/// The stages of a stored delivery, in order.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// From its body read to its verified, parsed delivery queued for the writer.
    VerifyParse,
    /// Waiting in the writer's queue, until the batch holding it begins.
    Queued,
    /// From queued until the answer is back with the request: the wait, its batch's commit and
    /// the fsync after it.
    Answered,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::VerifyParse => "verify_parse",
            Stage::Queued => "queued",
            Stage::Answered => "answered",
        }
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
