//! The one thread that writes: it owns the store connection and appends whatever deliveries are
//! waiting to the log as one transaction (group commit). It runs apart from the request futures: a
//! client that hangs up cannot cancel a commit halfway. An acknowledgement is sent only after its
//! append committed and the WAL holding it was fsynced, which the `Syncer` does on its own thread
//! so that the writer goes on meanwhile.
//!
//! Folding the appended events into conversations comes right behind, off the acknowledgement:
//! when no delivery is waiting, or once `FOLD_BATCH` events or `FOLD_WITHIN` have gathered, so
//! under load one fold serves many appends. What a crash left unfolded was folded when the store
//! was opened (`Store::open`).

use super::metrics::{Metrics, Stage};
use super::syncer::{Release, Syncer};
use crate::providers::Parsed;
use crate::store::{AuditRow, CallbackStored, Checkpointer, Incoming, Store, Stored};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most deliveries committed together; bounds the latency one batch adds to the next.
const MAX_BATCH: usize = 512;
/// Appended events folded together once this many have gathered…
const FOLD_BATCH: usize = 4096;
/// …or once the oldest has waited this long while deliveries keep coming (the inbox shows a
/// delivery within this, plus the fold's own time).
const FOLD_WITHIN: Duration = Duration::from_millis(50);
/// While deliveries wait, a fold takes at most this many events before the next append: a long
/// fold would hold their acknowledgements.
const FOLD_SLICE: usize = 256;

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
        /// When it was queued.
        queued: std::time::Instant,
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
    checkpointer: Checkpointer,
}

impl Writer {
    /// Open the store and start the writer and checkpointer threads.
    pub fn start(db: PathBuf, metrics: Arc<super::metrics::Metrics>) -> anyhow::Result<Writer> {
        let store = Store::open(&db)?;
        store.become_writer()?;
        store.defer_syncs()?;
        let syncer = Syncer::start(&db, metrics.clone())?;
        let writer_metrics = metrics.clone();
        let checkpointer = Checkpointer::start(&db)?;
        let wal_is_long = checkpointer.wal_is_long();
        let (jobs, rx) = mpsc::channel(4096);
        let thread = std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(store, rx, syncer, &wal_is_long, &writer_metrics))?;
        Ok(Writer {
            jobs,
            thread,
            checkpointer,
        })
    }

    /// Wait until every queued job is committed (all senders must be dropped first).
    pub fn finish(self) {
        drop(self.jobs);
        let _ = self.thread.join();
        self.checkpointer.finish();
    }
}

fn run(mut store: Store, mut rx: mpsc::Receiver<Job>, syncer: Syncer, wal_is_long: &AtomicBool, metrics: &Metrics) {
    let mut pending = Pending::default();
    loop {
        let first = match rx.try_recv() {
            Ok(job) => job,
            // Nothing waiting: fold what was appended, then sleep until the next job.
            Err(mpsc::error::TryRecvError::Empty) => {
                pending.fold(&mut store);
                match rx.blocking_recv() {
                    Some(job) => job,
                    None => break,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        process(&mut store, batch, &syncer, &mut pending, metrics);
        if pending.due() {
            pending.fold_slice(&mut store, FOLD_SLICE);
        }
        // The checkpointer has copied nearly all of a long WAL: copying the rest here, between two
        // transactions, lets the next commit start the WAL over.
        if wal_is_long.swap(false, std::sync::atomic::Ordering::Relaxed)
            && let Err(e) = store.checkpoint()
        {
            tracing::warn!("checkpoint failed: {e:#}");
        }
    }
    pending.fold(&mut store);
    // Every answer is sent before the connection closes.
    syncer.finish();
}

/// A fault point for the crash test (`tests/receiver_fold.rs`): with
/// `SWITCHBOARD_FAULT_ABORT_BEFORE_FOLD=N`, folds are held until N events are appended, and then
/// the process aborts instead of folding them.
static ABORT_BEFORE_FOLD: std::sync::LazyLock<Option<usize>> = std::sync::LazyLock::new(|| {
    std::env::var("SWITCHBOARD_FAULT_ABORT_BEFORE_FOLD")
        .ok()
        .and_then(|n| n.parse().ok())
});

/// Appended events not yet folded.
#[derive(Default)]
struct Pending {
    events: Vec<crate::store::Appended>,
    since: Option<std::time::Instant>,
}

impl Pending {
    fn add(&mut self, events: Vec<crate::store::Appended>) {
        if !events.is_empty() {
            self.since.get_or_insert_with(std::time::Instant::now);
            self.events.extend(events);
        }
    }

    fn due(&self) -> bool {
        self.events.len() >= FOLD_BATCH || self.since.is_some_and(|t| t.elapsed() >= FOLD_WITHIN)
    }

    /// Fold everything appended.
    fn fold(&mut self, store: &mut Store) {
        self.fold_slice(store, usize::MAX);
    }

    /// Fold the oldest `most` events appended.
    fn fold_slice(&mut self, store: &mut Store, most: usize) {
        if self.events.is_empty() {
            return;
        }
        if let Some(n) = *ABORT_BEFORE_FOLD {
            if self.events.len() < n {
                return;
            }
            // Let the acknowledgements go out, then stop as a crash would: appended, not folded.
            std::thread::sleep(Duration::from_millis(300));
            std::process::abort();
        }
        let slice: Vec<_> = self.events.drain(..most.min(self.events.len())).collect();
        // Listed as unfolded in the log: if this fails, the next start folds them.
        if let Err(e) = store.fold_appended(&slice) {
            tracing::error!("fold failed, {} events wait for the next start: {e:#}", slice.len());
        }
        // What is left is folded at the next turn: it has waited long enough already.
        if self.events.is_empty() {
            self.since = None;
        }
    }
}

/// Answer once the commit this answer reflects is on disk.
fn after_sync<T: Send + 'static>(releases: &mut Vec<Release>, reply: oneshot::Sender<Result<T, String>>, answer: T) {
    releases.push(Box::new(move |synced: Result<(), String>| {
        let _ = reply.send(synced.map(|()| answer));
    }));
}

fn process(store: &mut Store, batch: Vec<Job>, syncer: &Syncer, pending: &mut Pending, metrics: &Metrics) {
    // What the other jobs read or change sees every delivery folded.
    if batch.iter().any(|j| !matches!(j, Job::Delivery { .. } | Job::Audit(_))) {
        pending.fold(store);
    }
    let started = std::time::Instant::now();
    let mut releases: Vec<Release> = vec![];
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
                queued,
                reply,
            } => {
                metrics.stage(Stage::Queued, started.saturating_duration_since(queued).as_secs_f64());
                if syncer.failed() {
                    let _ = reply.send(Err(
                        "an earlier fsync of the database failed; restart the receiver".into()
                    ));
                    continue;
                }
                if let Some(why) = refuse_if_new {
                    match store.has_event(&p.dedupe_key) {
                        Ok(true) => after_sync(&mut releases, reply, Written::Stored(Stored::Duplicate)),
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
                match store.ingest_callback(&token, &body, &p, report.as_ref()) {
                    Ok(stored) => after_sync(&mut releases, reply, stored),
                    Err(e) => {
                        let _ = reply.send(Err(format!("{e:#}")));
                    }
                }
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
        match store.append_parsed("webhook", &items, parsed) {
            Ok((_, results, appended)) => {
                for (reply, stored) in replies.into_iter().zip(results) {
                    after_sync(&mut releases, reply, Written::Stored(stored));
                }
                pending.add(appended);
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
    syncer.release_after_sync(started, releases);
    if !audits.is_empty()
        && let Err(e) = store.audit(&audits)
    {
        tracing::error!("audit log write failed: {e:#}");
    }
}
