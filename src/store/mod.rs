//! One SQLite file: the append-only raw event log, and the conversations and messages folded from it.
//!
//! Every write is a `BEGIN IMMEDIATE` transaction on a `synchronous=FULL` WAL connection, so a
//! committed event survives a crash or power loss, and a second process (the receiver) can write
//! while another (the inbox) reads. The receiver's writer alone commits with `synchronous=NORMAL`
//! and fsyncs the WAL on a thread of its own before it answers anyone (`Store::defer_syncs`).

mod append;
mod backup;
mod body_codec;
mod checkpointer;
mod drafts;
mod fold;
mod inbox;
mod list_columns;
mod new_file;
mod outbox_table;
mod page_cache;
mod queries;
mod receiving;
mod schema;
pub mod space;
mod team;

pub use append::Appended;
pub use backup::BackupReport;
use body_codec::Packed;
pub use checkpointer::Checkpointer;
pub use inbox::{Totals, Watermark};
pub use new_file::NewFile;
pub use outbox_table::new_client_id;
pub use queries::{ConversationFilter, EventRow, FailureRow, rfc3339};
pub use receiving::{AuditRow, CallbackStored};
pub use team::{Assigned, Viewer};

use crate::model::Provider;
use crate::providers::{self, Outcome, Parsed};
use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};
use std::path::{Path, PathBuf};

/// A new event into the log; a dedupe key already there inserts nothing.
/// Store each body of a chunk and fold the new ones into `batch`; what each became goes to
/// `results`. Replies the chunk's messages confirm are linked to their outbox entries.
fn store_chunk(
    tx: &Transaction,
    source: &str,
    items: &[Incoming],
    parsed: &[Parsed],
    batch: &mut fold::Batch,
    results: &mut Vec<Stored>,
) -> Result<IngestReport> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut report = IngestReport::default();
    {
        let mut insert = tx.prepare_cached(INSERT_EVENT)?;
        for (item, p) in items.iter().zip(parsed) {
            let n = insert_event(&mut insert, now, source, p, &item.body, item.packed.as_ref())?;
            let stored = if n == 0 {
                Stored::Duplicate
            } else {
                match &p.outcome {
                    Outcome::Ok(changes) => {
                        fold::fold_event(tx, tx.last_insert_rowid(), p, changes, batch)?;
                        Stored::Ok
                    }
                    Outcome::Ignored(_) => Stored::Ignored,
                    Outcome::Rejected(_) => Stored::Rejected,
                }
            };
            report.count(stored);
            results.push(stored);
        }
    }
    if outbox_table::reconcile(tx, parsed)? {
        batch.recount_touched();
    }
    Ok(report)
}

const INSERT_EVENT: &str =
    "INSERT INTO events (received_at, source, provider, event_type, dedupe_key, event_at, outcome, reason, body_codec, body)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT (dedupe_key) DO NOTHING";

/// Insert one event with `INSERT_EVENT`: 1 if it was new, 0 if its dedupe key was known.
fn insert_event(
    insert: &mut rusqlite::CachedStatement<'_>,
    now: i64,
    source: &str,
    p: &Parsed,
    body: &[u8],
    packed_ahead: Option<&Packed>,
) -> rusqlite::Result<usize> {
    let packed_now;
    let packed = match packed_ahead {
        Some(packed) => packed,
        None => {
            packed_now = body_codec::pack(body);
            &packed_now
        }
    };
    insert.execute(params![
        now,
        source,
        p.provider.as_str(),
        p.event_type,
        p.dedupe_key,
        p.event_at,
        p.outcome.word(),
        p.outcome.reason(),
        packed.codec().code(),
        packed.bytes(body)
    ])
}

/// A body to store, with the vendor when the caller knows it (a webhook URL names it).
#[derive(Debug, Clone)]
pub struct Incoming {
    body: Vec<u8>,
    pub provider: Option<Provider>,
    /// The body packed for the log ahead of time, on a thread other than the one that stores it.
    packed: Option<Packed>,
}

impl Incoming {
    pub fn new(body: Vec<u8>, provider: Option<Provider>) -> Incoming {
        Incoming {
            body,
            provider,
            packed: None,
        }
    }

    /// The bytes as received (not to be changed once packed: hence no `&mut`).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Compress the body for the log now, so that the thread storing it (the receiver's one
    /// writer, the import's store) does not.
    pub fn pack_ahead(&mut self) {
        self.packed = Some(body_codec::pack(&self.body));
    }
}

/// How each body of a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Ok,
    Ignored,
    Rejected,
    Duplicate,
}

/// Counts for one ingest call (or a whole import).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    pub imported: u64,
    pub duplicates: u64,
    pub ignored: u64,
    pub rejected: u64,
}

impl IngestReport {
    pub fn add(&mut self, other: IngestReport) {
        self.imported += other.imported;
        self.duplicates += other.duplicates;
        self.ignored += other.ignored;
        self.rejected += other.rejected;
    }

    pub fn total(&self) -> u64 {
        self.imported + self.duplicates + self.ignored + self.rejected
    }

    fn count(&mut self, s: Stored) {
        match s {
            Stored::Ok => self.imported += 1,
            Stored::Ignored => self.ignored += 1,
            Stored::Rejected => self.rejected += 1,
            Stored::Duplicate => self.duplicates += 1,
        }
    }
}

/// How a connection makes its writes safe.
#[derive(Clone, Copy)]
enum Journal {
    /// WAL and a FULL sync at every commit: a committed transaction survives a crash, and readers
    /// and a writer share the file.
    Wal,
    /// No journal, no syncs, no other connection: for a file nobody sees until it is complete and
    /// synced (`NewFile`).
    Unshared,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The status bar's counts as of (data_version, this connection's total changes): they are
    /// counted again only when something was written since.
    totals: std::cell::Cell<Option<(i64, u64, Totals)>>,
    /// Who is reading: their read marks and assignments shape the lists (`set_viewer`).
    viewer: Option<Viewer>,
}

impl Store {
    /// Open (creating if needed) the database at `path`: directory 0700, file 0600, WAL, FULL sync,
    /// migrations applied.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_as(path, Journal::Wal)
    }

    fn open_as(path: &Path, journal: Journal) -> Result<Store> {
        page_cache::install();
        create_private(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the database {}", path.display()))?;
        // Page size only takes effect before the first table exists. 4 KiB: a webhook commit touches a
        // few pages each in several tables, and bigger pages made every such commit write (and the
        // kernel copy) 4x more; bulk import measured the same with either.
        conn.pragma_update(None, "page_size", 4096)?;
        // Set first: another process may be making the same new database (switching it to WAL,
        // migrating) at this moment.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        match journal {
            Journal::Wal => {
                use_wal(&conn).with_context(|| format!("cannot use WAL on {}", path.display()))?;
                conn.pragma_update(None, "synchronous", "full")?;
            }
            Journal::Unshared => {
                conn.pragma_update(None, "locking_mode", "exclusive")?;
                conn.pragma_update(None, "journal_mode", "off")?;
                conn.pragma_update(None, "synchronous", "off")?;
            }
        }
        conn.pragma_update(None, "foreign_keys", "on")?;
        conn.pragma_update(None, "temp_store", "memory")?;
        // A modest page cache for readers (the inbox); writers raise it (`use_large_cache`).
        conn.pragma_update(None, "cache_size", -8192)?;
        // The fold uses a few dozen distinct statements; recompiling them is pure waste.
        conn.set_prepared_statement_cache_capacity(128);
        // Plans never depend on bound values: otherwise SQLite re-prepares a statement whenever a
        // parameter compared near a partial index's condition changes value, which the fold's
        // per-conversation queries did at every call (12-15 % of an import). Filters that need a
        // partial index write its condition as a literal.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        schema::register_functions(&conn)?;
        schema::migrate(&mut conn).with_context(|| format!("cannot prepare the database {}", path.display()))?;
        if let Journal::Wal = journal {
            space::allocate_shared_memory(path)?;
            // What a first import killed halfway left beside it is of no use to anyone now.
            NewFile::remove_stale(path);
        }
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            totals: std::cell::Cell::new(None),
            viewer: None,
        };
        // A receiver stopped between acknowledging and folding left events listed as unfolded:
        // whoever opens the database next folds them, as SQLite recovers a hot journal on open.
        // (A running receiver's own list is safe to fold too: each event is folded in the
        // transaction that takes it off the list, so exactly once, by whoever comes first.)
        if store.has_unfolded()? {
            match store.fold_unfolded() {
                Ok(n) => tracing::info!("folded {n} events a receiver appended and did not fold"),
                Err(e) => tracing::warn!("cannot fold events a receiver left unfolded: {e:#}"),
            }
        }
        Ok(store)
    }

    /// Open a database that must already exist: reading commands never create one, so a mistyped
    /// `--db` is an error rather than an empty, healthy-looking inbox.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !path.exists() {
            bail!(
                "no database at {} (check --db or SWITCHBOARD_DB; `switchboard import` or `serve` creates one)",
                path.display()
            );
        }
        Store::open(path)
    }

    /// 64 MiB of page cache for a writer that runs for days (the receiver): it looks up
    /// conversations and messages all over the file.
    pub fn use_large_cache(&self) -> Result<()> {
        self.conn.pragma_update(None, "cache_size", -65536)?;
        Ok(())
    }

    /// A page cache for one long bulk write (`import`, `rebuild`): 256 MiB, 512 MiB once the
    /// database holds more than a GiB. Into a database of a million messages, with new messages
    /// spread over its 50,000 conversations, the new events' pages pushed out the index pages each
    /// conversation's refresh needs at 256 MiB (8,300-9,000 → 11,000 events/s at 512 MiB; 1 and
    /// 2 GiB measured the same). Into an empty database 512 MiB measured 3 % slower (fresh memory).
    pub fn use_bulk_cache(&self) -> Result<()> {
        let large = std::fs::metadata(&self.path).is_ok_and(|m| m.len() > 1 << 30);
        let kib: i64 = if large { 524_288 } else { 262_144 };
        self.conn.pragma_update(None, "cache_size", -kib)?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Parse, store and fold a batch of bodies in one transaction. Nothing is dropped: every new
    /// body is stored, as `ok`, `ignored` or `rejected`; a body whose dedupe key is known is a
    /// duplicate and changes nothing.
    pub fn ingest(&mut self, source: &str, items: &[Incoming]) -> Result<(IngestReport, Vec<Stored>)> {
        let parsed: Vec<Parsed> = items
            .iter()
            .map(|i| providers::parse(&i.body, i.provider.clone()))
            .collect();
        self.ingest_parsed(source, items, &parsed)
    }

    /// As `ingest`, for callers that parsed outside the write lock.
    pub fn ingest_parsed(
        &mut self,
        source: &str,
        items: &[Incoming],
        parsed: &[Parsed],
    ) -> Result<(IngestReport, Vec<Stored>)> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut batch = fold::Batch::default();
        let mut results = Vec::with_capacity(items.len());
        let report = store_chunk(&tx, source, items, parsed, &mut batch, &mut results)?;
        batch.finish(&tx)?;
        tx.commit().context("cannot commit to the database")?;
        Ok((report, results))
    }

    /// As `ingest_parsed`, for a stream of chunks, at least `events_per_transaction` events to a
    /// transaction: a conversation that runs through many chunks has its list columns computed
    /// once per transaction rather than once per chunk, while only a chunk at a time is held.
    pub fn ingest_chunks(
        &mut self,
        source: &str,
        chunks: impl IntoIterator<Item = (Vec<Incoming>, Vec<Parsed>)>,
        events_per_transaction: usize,
    ) -> Result<IngestReport> {
        let mut chunks = chunks.into_iter().peekable();
        let mut report = IngestReport::default();
        let mut results = Vec::new();
        // Chunks done with are freed on a thread of their own: freeing a chunk's parsed events
        // took 4 % of this thread's time in an import into a million messages. (Two at most wait.)
        let (spent, to_free) = std::sync::mpsc::sync_channel::<(Vec<Incoming>, Vec<Parsed>)>(2);
        std::thread::Builder::new()
            .name("import-free".into())
            .spawn(move || to_free.into_iter().for_each(drop))?;
        while chunks.peek().is_some() {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut batch = fold::Batch::default();
            let mut events = 0;
            while events < events_per_transaction {
                let Some((items, parsed)) = chunks.next() else { break };
                results.clear();
                report.add(store_chunk(&tx, source, &items, &parsed, &mut batch, &mut results)?);
                batch.bound(&tx)?;
                events += items.len();
                // Should the thread have gone, this one frees them.
                let _ = spent.send((items, parsed));
            }
            batch.finish(&tx)?;
            tx.commit().context("cannot commit to the database")?;
        }
        Ok(report)
    }

    /// Empty the derived tables and fold the whole log again, re-parsing every body (so a parser
    /// fix applies to events already stored). One transaction: readers see the old state or the new.
    pub fn rebuild(&mut self) -> Result<RebuildReport> {
        self.use_bulk_cache()?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')", [])?;
        for table in schema::DERIVED_TABLES {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        // Everything in the log is folded below, what a receiver had yet to fold included.
        tx.execute("DELETE FROM unfolded", [])?;
        let mut report = RebuildReport::default();
        let mut folding = fold::Batch::default();
        let mut last_id = 0i64;
        loop {
            // Page through the log so memory stays flat however large it is.
            let batch: Vec<LoggedEvent> = {
                let mut q = tx.prepare_cached(
                    // Send callbacks are not vendor events: their meaning needs the token, not kept here.
                    "SELECT id, provider, body, outcome, reason, source, body_codec FROM events
                     WHERE id > ?1 AND source != 'callback' ORDER BY id LIMIT 2000",
                )?;
                q.query_map([last_id], |r| {
                    Ok(LoggedEvent {
                        id: r.get(0)?,
                        provider: r.get(1)?,
                        body: body_codec::read(r, 6, 2)?,
                        outcome: r.get(3)?,
                        reason: r.get(4)?,
                        source: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let Some(last) = batch.last() else { break };
            last_id = last.id;
            for LoggedEvent {
                id,
                provider,
                body,
                outcome: old_outcome,
                reason: old_reason,
                source,
            } in batch
            {
                let p = if source == crate::notes::SOURCE {
                    crate::notes::parse(&body, Provider::parse(&provider))
                } else {
                    let forced = match Provider::parse(&provider) {
                        Provider::Unknown(_) => None,
                        p => Some(p),
                    };
                    providers::parse(&body, forced)
                };
                if p.outcome.word() != old_outcome || p.outcome.reason().map(str::to_string) != old_reason {
                    report.changed_outcome += 1;
                }
                tx.prepare_cached(
                    "UPDATE events SET provider = ?2, event_type = ?3, event_at = ?4, outcome = ?5, reason = ?6 WHERE id = ?1",
                )?
                .execute(params![id, p.provider.as_str(), p.event_type, p.event_at, p.outcome.word(), p.outcome.reason()])?;
                if let Outcome::Ok(changes) = &p.outcome {
                    fold::fold_event(&tx, id, &p, changes, &mut folding)?;
                }
                report.events += 1;
            }
            folding.bound(&tx)?;
        }
        folding.finish(&tx)?;
        tx.commit()?;
        Ok(report)
    }

    /// The newest vendor-event arrival time, for "last event Ns ago".
    pub fn last_received_at(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            // The newest event is the last appended: one row, where max() read the whole log (1.2 s
            // at a million events, before the inbox's first frame).
            .query_row(
                "SELECT received_at FROM events WHERE source != 'note' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// An event as the log holds it, for re-folding.
struct LoggedEvent {
    id: i64,
    provider: String,
    body: Vec<u8>,
    outcome: String,
    reason: Option<String>,
    source: String,
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct RebuildReport {
    pub events: u64,
    /// Events whose parse outcome differs from when they were stored (a parser changed).
    pub changed_outcome: u64,
}

/// Switch to WAL. SQLite answers "busy" without calling the busy handler while another
/// connection makes the same new file (and so holds the lock this change needs); that lasts a
/// few milliseconds, so the change is tried again for up to half a second.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mut tries = 0;
    loop {
        match conn.pragma_update(None, "journal_mode", "wal") {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            done => return done,
        }
    }
}

/// Create the directory (0700) and the file (0600) before SQLite does: it holds customer data.
pub(crate) fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    if !path.exists() {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            // Made by another process opening it at the same moment: as good.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            made => {
                made.with_context(|| format!("cannot create the database {}", path.display()))?;
            }
        }
    }
    Ok(())
}
