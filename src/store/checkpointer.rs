//! Checkpoints on a thread of their own: committed WAL frames are copied into the database by
//! another connection while the writer goes on writing, so no commit of the writer's waits for a
//! copy (SQLite's automatic checkpoint runs inside the commit that crosses its threshold).
//!
//! Under a steady stream of commits this alone never lets the WAL start over: SQLite rewinds it
//! only when a write begins with every frame copied, and by the time a pass ends the writer has
//! committed more. The WAL then grew by every page the writer dirtied, without end: 1.7 GB in ten
//! seconds at 6,000 deliveries a second. So once the WAL is long, the thread catches up pass after
//! pass and then asks the writer (`wal_is_long`) to copy the rest itself between two transactions:
//! the few frames left take it little time, and its next commit starts the WAL over.
//!
//! SQLite syncs the database file only after a pass that copied the whole WAL, which under
//! steady writes is the writer's pass alone: its fsync then flushed everything the thread had
//! copied since the WAL last started over, 100-150 MB at 6,500 deliveries a second, and held
//! every acknowledgement for 15-30 ms. So the thread syncs the file itself after each pass that
//! copied frames (`sync_database_file`), and the writer's sync is left with its own few frames.

use super::Store;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the thread copies what has been committed since its last pass.
const EVERY: Duration = Duration::from_millis(500);
/// A WAL longer than this many frames (64 MiB of 4 KiB pages) should start over. The writer's
/// part holds up its commits for two fsyncs: 1-8 ms here at 7,000 deliveries a second since the
/// thread syncs the file after each pass, 15-30 ms before. Chosen before that change, by
/// acknowledgements' p99 at a constant 7,400 deliveries a second, interleaved runs: 64 MiB
/// 36-60 ms (six runs); 16 and 32 MiB mostly 41-48 with runs of 98-165; 128 MiB 42-118;
/// 256 MiB 61-85 (seven); 1 GiB 102-159; no limit 25-137, the WAL growing by 1.7 GB in ten
/// seconds.
const LONG_WAL_FRAMES: i64 = 16_384;
/// A pass that found no more than this many new frames has caught up with the writer…
const CAUGHT_UP_FRAMES: i64 = 512;
/// …and after this many passes in a row the writer is asked anyway.
const CATCH_UP_PASSES: u32 = 8;
/// At a stop, how long the last checkpoint waits for readers to move on (an inbox's reads take
/// milliseconds; a backup holds its one read for the whole copy).
const LAST_WAIT: Duration = Duration::from_secs(1);

pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    long: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Start checkpointing `db`; the writer's own connection should have automatic checkpoints
    /// off (`Store::leave_checkpoints`).
    pub fn start(db: &Path) -> anyhow::Result<Checkpointer> {
        Checkpointer::start_with(db, LONG_WAL_FRAMES)
    }

    fn start_with(db: &Path, long_wal_frames: i64) -> anyhow::Result<Checkpointer> {
        let store = Store::open(db)?;
        let stop = Arc::new(AtomicBool::new(false));
        let long = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let is_long = long.clone();
        let thread = std::thread::Builder::new().name("checkpointer".into()).spawn(move || {
            let mut previous = 0;
            let mut passes = 0;
            let mut synced = Synced::default();
            while !stopped.load(Ordering::Relaxed) {
                let frames = match store.checkpoint_pass() {
                    Ok(pass) => {
                        if synced.needs_sync(pass) {
                            match store.sync_database_file() {
                                Ok(()) => synced.done(pass),
                                Err(e) => tracing::warn!("cannot sync the database file: {e:#}"),
                            }
                        }
                        pass.frames
                    }
                    Err(e) => {
                        tracing::warn!("checkpoint failed: {e:#}");
                        0
                    }
                };
                let came_since = frames - previous;
                previous = frames;
                if frames > long_wal_frames {
                    // Catch up first, pass after pass, so that what the writer copies itself
                    // (and syncs, holding up its commits) is only what came in meanwhile.
                    passes += 1;
                    if (0..=CAUGHT_UP_FRAMES).contains(&came_since) || passes >= CATCH_UP_PASSES {
                        is_long.store(true, Ordering::Relaxed);
                    } else {
                        continue;
                    }
                }
                passes = 0;
                std::thread::park_timeout(EVERY);
            }
            match store.checkpoint_to_the_end() {
                Ok(true) => {}
                Ok(false) => tracing::info!(
                    "the WAL is left as it is: a reader still had it open (whoever opens the database next reads it)"
                ),
                Err(e) => tracing::warn!("checkpoint failed: {e:#}"),
            }
        })?;
        Ok(Checkpointer { stop, long, thread })
    }

    /// Set when the WAL has grown long; whoever clears it should checkpoint on the writer's
    /// connection between transactions (`Store::checkpoint`).
    pub fn wal_is_long(&self) -> Arc<AtomicBool> {
        self.long.clone()
    }

    /// One last checkpoint of everything committed, then stop.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

/// What one checkpoint pass found and did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pass {
    /// Frames in the WAL.
    pub(super) frames: i64,
    /// Of those, how many are copied into the database (by this pass or an earlier one).
    pub(super) copied: i64,
}

/// How far the database file is synced with what passes copied into it from the WAL.
#[derive(Debug, Default)]
struct Synced {
    /// The WAL's length at the last pass.
    frames: i64,
    /// Frames of the current WAL copied and synced.
    copied: i64,
}

impl Synced {
    /// Whether the file needs an fsync after this pass. SQLite does not tell whether it synced
    /// (it compares with frames the writer may have added since the pass began); an fsync with
    /// nothing left to write costs little.
    fn needs_sync(&mut self, pass: Pass) -> bool {
        // A shorter WAL, or fewer frames copied than were synced: the WAL started over.
        if pass.frames < self.frames || pass.copied < self.copied {
            self.copied = 0;
        }
        self.frames = pass.frames;
        pass.copied > self.copied
    }

    fn done(&mut self, pass: Pass) {
        self.copied = pass.copied;
    }
}

impl Store {
    /// Copy committed WAL frames into the database without blocking writers or readers; returns
    /// how long the WAL is and how much of it is copied.
    pub(super) fn checkpoint_pass(&self) -> anyhow::Result<Pass> {
        Ok(self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok(Pass {
                frames: r.get(1)?,
                copied: r.get(2)?,
            })
        })?)
    }

    /// Copy the whole WAL into the database and empty it, so that when the receiver stops the
    /// database file alone holds everything (its last connection to close would do the same, but
    /// the outbox's stays open until the process ends). Whether it could: a reader on older frames
    /// for longer than `LAST_WAIT` (a backup, say) keeps the WAL as it is, and the stop goes on.
    fn checkpoint_to_the_end(&self) -> anyhow::Result<bool> {
        self.conn.busy_timeout(LAST_WAIT)?;
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }

    /// fsync the database file, as SQLite does after a checkpoint that copied the whole WAL.
    ///
    /// Through SQLite's own file handle: closing a second descriptor of the file would drop the
    /// POSIX locks every connection of this process holds on it.
    fn sync_database_file(&self) -> anyhow::Result<()> {
        use rusqlite::ffi;
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: the handle is this connection's, open for as long as `self`, and used by this
        // thread alone; FILE_POINTER writes the main database's file object into `file`.
        let rc = unsafe {
            ffi::sqlite3_file_control(
                self.conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&raw mut file).cast(),
            )
        };
        anyhow::ensure!(
            rc == ffi::SQLITE_OK && !file.is_null(),
            "no file for the database (code {rc})"
        );
        // SAFETY: an open database's file object has its methods for as long as it is open;
        // xSync takes the file and the sync flags, and needs no lock.
        let rc = unsafe {
            match (*(*file).pMethods).xSync {
                Some(sync) => sync(file, ffi::SQLITE_SYNC_NORMAL),
                None => ffi::SQLITE_OK,
            }
        };
        anyhow::ensure!(rc == ffi::SQLITE_OK, "fsync failed (code {rc})");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file is synced after each pass that copied frames, again after the WAL starts over,
    /// and not while nothing new is copied (an idle receiver).
    #[test]
    fn the_database_file_is_synced_after_each_pass_that_copied_frames() {
        let mut synced = Synced::default();
        let mut pass = |frames, copied| {
            let p = Pass { frames, copied };
            let needed = synced.needs_sync(p);
            if needed {
                synced.done(p);
            }
            needed
        };
        assert!(!pass(0, 0), "an empty WAL");
        assert!(pass(3_000, 2_000), "copied 2,000 while the writer added 1,000");
        assert!(pass(5_000, 3_000), "copied the next 1,000");
        assert!(!pass(5_000, 3_000), "nothing new copied");
        assert!(pass(5_000, 5_000), "copied the rest");
        assert!(!pass(5_000, 5_000), "idle");
        assert!(pass(800, 600), "started over: a shorter WAL");
        assert!(pass(6_000, 400), "started over and grew past the old length");
        assert!(!pass(6_000, 400), "idle again");
    }

    /// The sync reaches SQLite's own handle of the file, which a store holds while it is open.
    #[test]
    fn the_database_file_is_synced_through_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sync.db")).unwrap();
        // Making the schema wrote frames; the pass copies them all.
        let pass = store.checkpoint_pass().unwrap();
        assert!(pass.copied > 0 && pass.copied == pass.frames, "{pass:?}");
        store.sync_database_file().unwrap();
    }

    /// At a stop the WAL is emptied into the database; a reader still on older frames keeps it,
    /// and the stop waits for that reader no longer than `LAST_WAIT`.
    #[test]
    fn the_last_checkpoint_empties_the_wal_unless_a_reader_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("last.db");
        let wal = || std::fs::metadata(dir.path().join("last.db-wal")).map_or(0, |m| m.len());
        let writer = Store::open(&db).unwrap();
        writer.become_writer().unwrap();
        let write = || {
            writer
                .connection()
                .execute_batch(
                    "CREATE TABLE IF NOT EXISTS filler (body BLOB); INSERT INTO filler VALUES (zeroblob(20000))",
                )
                .unwrap();
        };
        let last = Store::open(&db).unwrap();

        let reader = rusqlite::Connection::open(&db).unwrap();
        write();
        reader.execute_batch("BEGIN; SELECT count(*) FROM filler;").unwrap();
        write();
        let started = std::time::Instant::now();
        assert!(!last.checkpoint_to_the_end().unwrap(), "the reader holds older frames");
        let waited = started.elapsed();
        assert!(waited >= LAST_WAIT && waited < LAST_WAIT * 3, "waited {waited:?}");
        assert!(wal() > 0);

        reader.execute_batch("COMMIT").unwrap();
        assert!(last.checkpoint_to_the_end().unwrap());
        assert_eq!(wal(), 0, "emptied");
    }

    /// A writer that is almost never idle, as under a steady stream of deliveries: with the
    /// writer copying the rest when asked, the WAL starts over instead of growing without end.
    #[test]
    fn a_long_wal_starts_over_under_steady_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("wal.db");
        let mut writer = Store::open(&db).unwrap();
        writer.become_writer().unwrap();
        writer.defer_syncs().unwrap();
        writer
            .connection()
            .execute_batch("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)")
            .unwrap();
        let checkpointer = Checkpointer::start_with(&db, 2_000).unwrap();
        let wal_is_long = checkpointer.wal_is_long();
        let mut frames_when_asked = vec![];
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(4) {
            let tx = writer.conn.transaction().unwrap();
            for _ in 0..8 {
                tx.execute("INSERT INTO filler (body) VALUES (zeroblob(3000))", [])
                    .unwrap();
            }
            tx.commit().unwrap();
            std::thread::sleep(Duration::from_micros(200));
            if wal_is_long.swap(false, Ordering::Relaxed) {
                frames_when_asked.push(writer.checkpoint().unwrap());
            }
        }
        checkpointer.finish();
        let pages_written: i64 = writer
            .connection()
            .query_row("SELECT count(*) * 3000 / 4096 FROM filler", [], |r| r.get(0))
            .unwrap();
        assert!(frames_when_asked.len() >= 2, "asked {frames_when_asked:?}");
        // Each time, the WAL held only what came since it last started over (up to half of all
        // pages written, when the catch-up passes ran long on a slow machine); grown without end, it
        // holds more frames than pages written, since every commit rewrites the table's last pages
        // as well (99,346 frames after 59,882 pages without the writer's copy).
        let most = *frames_when_asked.iter().max().unwrap();
        assert!(
            most < pages_written,
            "the WAL held up to {most} frames after {pages_written} pages were written ({frames_when_asked:?})"
        );
    }
}
