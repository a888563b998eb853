//! Checkpoints on a thread of their own: committed WAL frames are copied into the database by
//! another connection while the writer goes on writing, so no commit of the writer's waits for a
//! copy (SQLite's automatic checkpoint runs inside the commit that crosses its threshold).

use super::Store;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the thread copies what has been committed since its last pass.
const EVERY: Duration = Duration::from_millis(500);

pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Start checkpointing `db`; the writer's own connection should have automatic checkpoints
    /// off (`Store::leave_checkpoints`).
    pub fn start(db: &Path) -> anyhow::Result<Checkpointer> {
        let store = Store::open(db)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new().name("checkpointer".into()).spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Err(e) = store.checkpoint() {
                    tracing::warn!("checkpoint failed: {e:#}");
                }
                std::thread::park_timeout(EVERY);
            }
            if let Err(e) = store.checkpoint() {
                tracing::warn!("checkpoint failed: {e:#}");
            }
        })?;
        Ok(Checkpointer { stop, thread })
    }

    /// One last checkpoint of everything committed, then stop.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}
