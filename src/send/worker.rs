//! Sending off the key path: each reply goes out on its own thread with its own connection (a slow
//! myKaarma must not hold up the next reply or the screen), and a sweeper settles what a crash left
//! behind: `sending` entries whose process is gone become `unknown`; recent `queued` ones are sent.

use super::deliver::{MAX_QUEUED_AGE_MS, Sender};
use super::outbox::OutboxEntry;
use crate::store::Store;
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

pub struct Worker {
    jobs: mpsc::Sender<i64>,
}

impl Worker {
    /// Start the worker; `done` hears every attempt's outcome (or why it could not run).
    pub fn start(
        db: PathBuf,
        sender: Sender,
        done: impl Fn(Result<OutboxEntry, String>) + Send + Sync + 'static,
    ) -> Result<Worker> {
        let (jobs, rx) = mpsc::channel::<i64>();
        let sender = Arc::new(sender);
        let done = Arc::new(done);
        let longest = sender.client.timeout.as_millis() as i64 + 10_000;
        let mut store = Store::open(&db)?;
        std::thread::Builder::new().name("outbox".into()).spawn(move || {
            let spawn = |id: i64| {
                let (db, sender, done) = (db.clone(), sender.clone(), done.clone());
                let _ = std::thread::Builder::new().name(format!("send-{id}")).spawn(move || {
                    let result = Store::open(&db)
                        .and_then(|mut s| sender.send(&mut s, id))
                        .map_err(|e| format!("{e:#}"));
                    done(result);
                });
            };
            loop {
                // Leftovers first: what a crash interrupted, and what it never got to send.
                if let Err(e) = store.sweep_interrupted(longest) {
                    tracing::warn!(error = %format!("{e:#}"), "outbox sweep failed");
                }
                match store.due(MAX_QUEUED_AGE_MS) {
                    Ok(ids) => ids.into_iter().for_each(spawn),
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "outbox scan failed"),
                }
                match rx.recv_timeout(Duration::from_secs(5)) {
                    Ok(id) => spawn(id),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        })?;
        Ok(Worker { jobs })
    }

    /// Send a queued entry now.
    pub fn send(&self, id: i64) {
        let _ = self.jobs.send(id);
    }
}
