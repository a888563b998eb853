//! The one thread that writes: it owns the store connection and appends whatever deliveries are
//! waiting to the log as one transaction (group commit). It runs apart from the request futures: a
//! client that hangs up cannot cancel a commit halfway. An acknowledgement is sent only after its
//! append committed and the WAL holding it was fsynced, which the `Syncer` does on its own thread
//! so that the writer goes on meanwhile.
//!
//! Folding the appended events into conversations comes right behind, off the acknowledgement:
//! when no delivery is waiting, or once `FOLD_BATCH` events or `FOLD_WITHIN` have gathered, so
//! under load one fold serves many appends. What a crash left unfolded was folded when the store
//! was opened (`Store::open`); what a failed fold left (the disk full, another process holding
//! the database too long) is folded from the log's unfolded list again, sooner or later as the
//! failures go on (`Retry`), without a restart.

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
/// After a failed fold its events are folded again from the log this long after…
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// …and after each further failure twice as long, up to this.
const LAST_RETRY: Duration = Duration::from_secs(60);

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
    /// Completes when the writer thread has ended, whether it was asked to or not.
    pub ended: Option<oneshot::Receiver<()>>,
    thread: std::thread::JoinHandle<()>,
    checkpointer: Checkpointer,
}

impl Writer {
    /// Open the store and start the writer and checkpointer threads. With `hold_folds` (a
    /// benchmark's bound: the append path alone), appended events stay in the log's unfolded list
    /// until the writer stops, and are folded from there then.
    pub fn start(db: PathBuf, metrics: Arc<super::metrics::Metrics>, hold_folds: bool) -> anyhow::Result<Writer> {
        let store = Store::open(&db)?;
        store.become_writer()?;
        store.defer_syncs()?;
        let syncer = Syncer::start(&db, metrics.clone())?;
        let writer_metrics = metrics.clone();
        let checkpointer = Checkpointer::start(&db)?;
        let wal_is_long = checkpointer.wal_is_long();
        let (jobs, rx) = mpsc::channel(4096);
        // The writer waits for a job or a retry's time on the receiver's runtime (its timers).
        let runtime = tokio::runtime::Handle::current();
        let (ending, ended) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("writer".into()).spawn(move || {
            // Dropped when this returns or unwinds: `ended` completes either way.
            let _ending = ending;
            run(store, rx, syncer, &wal_is_long, &writer_metrics, &runtime, hold_folds)
        })?;
        Ok(Writer {
            jobs,
            ended: Some(ended),
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

fn run(
    mut store: Store,
    mut rx: mpsc::Receiver<Job>,
    syncer: Syncer,
    wal_is_long: &AtomicBool,
    metrics: &Metrics,
    runtime: &tokio::runtime::Handle,
    hold_folds: bool,
) {
    let mut pending = Pending {
        hold: hold_folds,
        ..Pending::default()
    };
    loop {
        let first = match rx.try_recv() {
            Ok(job) => job,
            // Nothing waiting: fold what was appended, then sleep until the next job (or until
            // it is time to fold again what a failed fold left).
            Err(mpsc::error::TryRecvError::Empty) => {
                pending.fold(&mut store);
                if pending.retry_if_due(&mut store) {
                    continue;
                }
                let next = match pending.retry_in() {
                    None => rx.blocking_recv(),
                    // The timer is made inside: it needs the runtime's context.
                    Some(wait) => match runtime.block_on(async { tokio::time::timeout(wait, rx.recv()).await }) {
                        Ok(job) => job,
                        Err(_elapsed) => continue,
                    },
                };
                match next {
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
        pending.retry_if_due(&mut store);
        // The checkpointer has copied nearly all of a long WAL: copying the rest here, between two
        // transactions, lets the next commit start the WAL over.
        if wal_is_long.swap(false, std::sync::atomic::Ordering::Relaxed)
            && let Err(e) = store.checkpoint()
        {
            tracing::warn!("checkpoint failed: {e:#}");
        }
    }
    pending.fold(&mut store);
    if hold_folds {
        fold_held(&mut store);
    }
    // Every answer is sent before the connection closes.
    syncer.finish();
}

/// Fold what `hold_folds` left in the log's unfolded list, as a start after a crash would, and
/// say how fast (the benchmark reads it).
fn fold_held(store: &mut Store) {
    let started = std::time::Instant::now();
    match store.fold_unfolded() {
        Ok(n) => tracing::info!("folded {n} held events in {:.3} s", started.elapsed().as_secs_f64()),
        Err(e) => tracing::error!("cannot fold the held events (the next start folds them): {e:#}"),
    }
}

/// A fault point for the crash test (`tests/receiver_fold.rs`): with
/// `SWITCHBOARD_FAULT_ABORT_BEFORE_FOLD=N`, folds are held until N events are appended, and then
/// the process aborts instead of folding them.
static ABORT_BEFORE_FOLD: std::sync::LazyLock<Option<usize>> =
    std::sync::LazyLock::new(|| super::fault_point("SWITCHBOARD_FAULT_ABORT_BEFORE_FOLD"));

/// A fault point for the fold-failure test (`tests/receiver_fold.rs`): with
/// `SWITCHBOARD_FAULT_HOLD_FOLD_MS=N`, each fold of appended events starts N ms late, so that
/// another process can take the database meanwhile.
static HOLD_FOLD: std::sync::LazyLock<Option<Duration>> =
    std::sync::LazyLock::new(|| super::fault_point("SWITCHBOARD_FAULT_HOLD_FOLD_MS").map(Duration::from_millis));

/// A fault point for the test of a writer that dies (`tests/receiver_fold.rs`): with
/// `SWITCHBOARD_FAULT_WRITER_PANICS=1`, the writer panics at its first delivery.
static WRITER_PANICS: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| super::fault_switch("SWITCHBOARD_FAULT_WRITER_PANICS"));

/// Appended events not yet folded.
#[derive(Default)]
struct Pending {
    events: Vec<crate::store::Appended>,
    since: Option<std::time::Instant>,
    /// Set while events a failed fold left wait in the log's unfolded list.
    retry: Option<Retry>,
    /// Appended events are left in the log's unfolded list until the writer stops.
    hold: bool,
}

/// When to fold again what failed folds left, and how long the last wait was.
struct Retry {
    at: std::time::Instant,
    wait: Duration,
}

impl Pending {
    fn add(&mut self, events: Vec<crate::store::Appended>) {
        if !events.is_empty() && !self.hold {
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
        if let Some(hold) = *HOLD_FOLD {
            std::thread::sleep(hold);
        }
        let slice: Vec<_> = self.events.drain(..most.min(self.events.len())).collect();
        // Listed as unfolded in the log: if this fails, they are folded from there later.
        if let Err(e) = store.fold_appended(&slice) {
            // What is pending is listed too and would most likely fail the same way: all of it
            // is folded from the list.
            self.events.clear();
            self.failed(&e);
        }
        // What is left is folded at the next turn: it has waited long enough already.
        if self.events.is_empty() {
            self.since = None;
        }
    }

    /// A fold failed; its events are in the log's unfolded list, and are folded from there
    /// once the wait is over.
    fn failed(&mut self, e: &anyhow::Error) {
        let wait = self
            .retry
            .as_ref()
            .map_or(FIRST_RETRY, |r| (r.wait * 2).min(LAST_RETRY));
        tracing::error!(
            "fold failed; the events it held stay in the log and are folded again in {} s: {e:#}",
            wait.as_secs()
        );
        self.retry = Some(Retry {
            at: std::time::Instant::now() + wait,
            wait,
        });
    }

    /// How long until failed folds are tried again (zero: now); `None` if nothing waits.
    fn retry_in(&self) -> Option<Duration> {
        self.retry
            .as_ref()
            .map(|r| r.at.saturating_duration_since(std::time::Instant::now()))
    }

    /// Fold a slice of what failed folds left if it is time; whether it was.
    fn retry_if_due(&mut self, store: &mut Store) -> bool {
        let due = self.retry_in().is_some_and(|wait| wait.is_zero());
        if due {
            self.retry(store);
        }
        due
    }

    /// Fold a slice of what failed folds left, from the log: done when the list is empty.
    /// (Events appended since are listed as well and may be folded here first; their own fold
    /// then finds them off the list and does nothing.)
    fn retry(&mut self, store: &mut Store) {
        match store.fold_unfolded_some(FOLD_SLICE) {
            Ok(n) if n < FOLD_SLICE => {
                tracing::info!("folded the events failed folds had left");
                self.retry = None;
            }
            // More are listed: the next turn takes the next slice.
            Ok(_) => {
                if let Some(r) = &mut self.retry {
                    r.at = std::time::Instant::now();
                }
            }
            Err(e) => self.failed(&e),
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
                assert!(
                    !*WRITER_PANICS,
                    "the writer's fault point: a panic at the first delivery"
                );
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
                // Not healthy while nothing can be acknowledged, whatever the database reads.
                let health = if syncer.failed() {
                    Err("an fsync of the database failed, so nothing more is acknowledged; restart the receiver".into())
                } else {
                    store.last_received_at().map_err(|e| format!("{e:#}"))
                };
                let _ = reply.send(health);
            }
            Job::Metrics { reply } => {
                let snapshot = (|| -> anyhow::Result<super::metrics::Snapshot> {
                    Ok(super::metrics::Snapshot {
                        open_failures: store.watermark()?.needs_attention,
                        newest_event_at: store.last_received_at()?,
                        unfolded: store.unfolded_count()?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_folds_are_tried_again_later_and_later_up_to_a_minute() {
        let mut pending = Pending::default();
        assert_eq!(pending.retry_in(), None);
        let e = anyhow::anyhow!("database is locked");
        let waits: Vec<u64> = (0..9)
            .map(|_| {
                pending.failed(&e);
                pending.retry.as_ref().expect("a retry").wait.as_secs()
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(pending.retry_in().expect("a retry") > Duration::from_secs(59));
    }
}
