//! The one thread that writes: it owns the store connection and commits whatever deliveries are
//! waiting as one transaction (group commit), so durability costs one fsync per batch, not per
//! request. It runs apart from the request futures: a client that hangs up cannot cancel a commit
//! halfway, and an acknowledgement is sent only after its commit returned.

use crate::providers::Parsed;
use crate::store::{AuditRow, CallbackStored, Incoming, Store, Stored};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most deliveries committed together; bounds the latency one batch adds to the next.
const MAX_BATCH: usize = 512;

/// What a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Stored(Stored),
    /// New to us but refused (e.g. a HighLevel delivery signed too long ago); nothing stored.
    Refused(String),
}

pub enum Job {
    Delivery {
        incoming: Incoming,
        parsed: Parsed,
        /// Refuse the delivery with this reason if its event is not stored already.
        refuse_if_new: Option<String>,
        reply: oneshot::Sender<Result<Written, String>>,
    },
    Callback {
        token: String,
        body: Vec<u8>,
        parsed: Parsed,
        reply: oneshot::Sender<Result<CallbackStored, String>>,
    },
    Audit(AuditRow),
    Health {
        reply: oneshot::Sender<Result<Option<i64>, String>>,
    },
    /// The database's figures for a `/metrics` scrape.
    Metrics {
        reply: oneshot::Sender<Result<super::metrics::Snapshot, String>>,
    },
}

pub struct Writer {
    pub jobs: mpsc::Sender<Job>,
    thread: std::thread::JoinHandle<()>,
    checkpointer: std::thread::JoinHandle<()>,
    stop_checkpoints: Arc<AtomicBool>,
}

impl Writer {
    /// Open the store and start the writer and checkpointer threads.
    pub fn start(db: PathBuf, metrics: Arc<super::metrics::Metrics>) -> anyhow::Result<Writer> {
        let store = Store::open(&db)?;
        store.become_writer()?;
        let (jobs, rx) = mpsc::channel(4096);
        let thread = std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(store, rx, &metrics))?;
        let stop_checkpoints = Arc::new(AtomicBool::new(false));
        let stop = stop_checkpoints.clone();
        let checkpoints = Store::open(&db)?;
        let checkpointer = std::thread::Builder::new().name("checkpointer".into()).spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = checkpoints.checkpoint() {
                    tracing::warn!("checkpoint failed: {e:#}");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            let _ = checkpoints.checkpoint();
        })?;
        Ok(Writer {
            jobs,
            thread,
            checkpointer,
            stop_checkpoints,
        })
    }

    /// Wait until every queued job is committed (all senders must be dropped first).
    pub fn finish(self) {
        drop(self.jobs);
        let _ = self.thread.join();
        self.stop_checkpoints.store(true, Ordering::Relaxed);
        let _ = self.checkpointer.join();
    }
}

fn run(mut store: Store, mut rx: mpsc::Receiver<Job>, metrics: &super::metrics::Metrics) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        process(&mut store, batch, metrics);
    }
}

fn process(store: &mut Store, batch: Vec<Job>, metrics: &super::metrics::Metrics) {
    let mut items = vec![];
    let mut parsed = vec![];
    let mut replies = vec![];
    let mut audits = vec![];
    for job in batch {
        match job {
            Job::Delivery {
                incoming,
                parsed: p,
                refuse_if_new,
                reply,
            } => {
                if let Some(why) = refuse_if_new {
                    match store.has_event(&p.dedupe_key) {
                        Ok(true) => {
                            let _ = reply.send(Ok(Written::Stored(Stored::Duplicate)));
                        }
                        Ok(false) => {
                            let _ = reply.send(Ok(Written::Refused(why)));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(format!("{e:#}")));
                        }
                    }
                    continue;
                }
                items.push(incoming);
                parsed.push(p);
                replies.push(reply);
            }
            Job::Callback {
                token,
                body,
                parsed: p,
                reply,
            } => {
                let report = crate::send::mykaarma::callback_report(&body);
                let _ = reply.send(
                    store
                        .ingest_callback(&token, &body, &p, report.as_ref())
                        .map_err(|e| format!("{e:#}")),
                );
            }
            Job::Audit(row) => audits.push(row),
            Job::Health { reply } => {
                let _ = reply.send(store.last_received_at().map_err(|e| format!("{e:#}")));
            }
            Job::Metrics { reply } => {
                let snapshot = (|| -> anyhow::Result<super::metrics::Snapshot> {
                    Ok(super::metrics::Snapshot {
                        open_failures: store.watermark()?.needs_attention,
                        newest_event_at: store.last_received_at()?,
                        outbox: store.outbox_counts()?,
                    })
                })();
                let _ = reply.send(snapshot.map_err(|e| format!("{e:#}")));
            }
        }
    }
    if !items.is_empty() {
        let started = std::time::Instant::now();
        let result = store.ingest_parsed("webhook", &items, &parsed);
        metrics.commit(started.elapsed().as_secs_f64());
        match result {
            Ok((_, results)) => {
                for (reply, stored) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(Written::Stored(stored)));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                tracing::error!("commit failed, {} deliveries not acknowledged: {why}", replies.len());
                for reply in replies {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
    if !audits.is_empty() {
        if let Err(e) = store.audit(&audits) {
            tracing::error!("audit log write failed: {e:#}");
        }
    }
}
