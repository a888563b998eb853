//! Acknowledgements wait for the disk, the writer does not.
//!
//! The writer commits each batch to the WAL without an fsync of its own (`synchronous=NORMAL`) and
//! hands the batch's answers here. This thread fsyncs the WAL file and only then sends them: one
//! fsync covers every batch committed before it began, and the writer appends and folds the next
//! batches meanwhile instead of waiting for the disk. An answer therefore still means what
//! `synchronous=FULL` promised: the commit frame of that delivery is on disk.
//!
//! Every answer that depends on the database goes through here in commit order, a duplicate's too:
//! its original may still be waiting for its fsync.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Sends one answer once its commit is on disk, or the reason it may not be.
pub type Release = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The answers of one committed batch.
struct Group {
    committed_from: Instant,
    releases: Vec<Release>,
}

pub struct Syncer {
    groups: mpsc::Sender<Group>,
    thread: std::thread::JoinHandle<()>,
    /// Set once an fsync failed: what was written since may not be on disk, and the kernel may
    /// have dropped it, so nothing more is acknowledged until the receiver is restarted.
    failed: Arc<AtomicBool>,
}

impl Syncer {
    /// Start syncing the WAL of the database at `db`.
    pub fn start(db: &std::path::Path, metrics: Arc<super::metrics::Metrics>) -> std::io::Result<Syncer> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let (groups, rx) = mpsc::channel::<Group>();
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let thread = std::thread::Builder::new()
            .name("wal-sync".into())
            .spawn(move || run(&wal, &rx, &flag, &metrics))?;
        Ok(Syncer { groups, thread, failed })
    }

    /// Whether an fsync has failed; the writer then refuses what it would have to acknowledge.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Send these answers after the next fsync, which starts after this call.
    pub fn release_after_sync(&self, committed_from: Instant, releases: Vec<Release>) {
        if releases.is_empty() {
            return;
        }
        if let Err(mpsc::SendError(group)) = self.groups.send(Group {
            committed_from,
            releases,
        }) {
            for release in group.releases {
                release(Err("the receiver is stopping".into()));
            }
        }
    }

    /// Sync and answer everything handed over, then stop.
    pub fn finish(self) {
        drop(self.groups);
        let _ = self.thread.join();
    }
}

fn run(wal: &std::path::Path, rx: &mpsc::Receiver<Group>, failed: &AtomicBool, metrics: &super::metrics::Metrics) {
    // Opened at the first sync: by then a commit has made the file. SQLite keeps the same file
    // while the writer's connection is open (a checkpoint truncates it, it never replaces it).
    let mut file: Option<File> = None;
    while let Ok(first) = rx.recv() {
        let mut groups = vec![first];
        groups.extend(rx.try_iter());
        let synced = if failed.load(Ordering::Acquire) {
            Err("an earlier fsync of the database failed; restart the receiver".to_string())
        } else {
            sync(wal, &mut file).map_err(|e| {
                failed.store(true, Ordering::Release);
                tracing::error!(
                    "fsync of {} failed, nothing more is acknowledged until a restart: {e}",
                    wal.display()
                );
                format!("cannot sync the database to disk: {e}")
            })
        };
        for group in groups {
            if synced.is_ok() {
                metrics.commit(group.committed_from.elapsed().as_secs_f64());
            }
            for release in group.releases {
                release(synced.clone());
            }
        }
    }
}

/// A fault point for the receiver's tests (`tests/receiver_fold.rs`): with
/// `SWITCHBOARD_FAULT_FSYNC_FAILS=1`, every fsync of the WAL fails as a failing disk's would.
static FSYNC_FAILS: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| super::fault_switch("SWITCHBOARD_FAULT_FSYNC_FAILS"));

fn sync(wal: &std::path::Path, file: &mut Option<File>) -> std::io::Result<()> {
    if *FSYNC_FAILS {
        return Err(std::io::Error::from_raw_os_error(libc::EIO));
    }
    let f = match file {
        Some(f) => f,
        None => file.insert(File::options().read(true).write(true).open(wal)?),
    };
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Which answer was released, and with what.
    type Log = Arc<Mutex<Vec<(usize, Result<(), String>)>>>;

    fn recorder(log: &Log, n: usize) -> Release {
        let log = log.clone();
        Box::new(move |synced| log.lock().unwrap().push((n, synced)))
    }

    #[test]
    fn answers_follow_the_fsync_in_commit_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        std::fs::write(dir.path().join("s.db-wal"), b"frames").unwrap();
        let syncer = Syncer::start(&db, super::super::metrics::Metrics::new()).unwrap();
        let log = Arc::new(Mutex::new(vec![]));
        for n in 0..3 {
            syncer.release_after_sync(Instant::now(), vec![recorder(&log, 2 * n), recorder(&log, 2 * n + 1)]);
        }
        syncer.finish();
        let log = log.lock().unwrap();
        assert_eq!(log.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
        assert!(log.iter().all(|(_, synced)| synced.is_ok()));
    }

    #[test]
    fn after_a_failed_fsync_nothing_is_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        // No WAL file to sync: the fsync cannot happen.
        let syncer = Syncer::start(&dir.path().join("gone.db"), super::super::metrics::Metrics::new()).unwrap();
        let log = Arc::new(Mutex::new(vec![]));
        syncer.release_after_sync(Instant::now(), vec![recorder(&log, 0)]);
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while !syncer.failed() && Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(syncer.failed());
        // The file appears; the receiver still answers no until it is restarted.
        std::fs::write(dir.path().join("gone.db-wal"), b"frames").unwrap();
        syncer.release_after_sync(Instant::now(), vec![recorder(&log, 1)]);
        syncer.finish();
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        for (_, synced) in log.iter() {
            assert!(synced.as_ref().is_err_and(|e| e.contains("sync")), "{synced:?}");
        }
    }
}
