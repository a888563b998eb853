//! Sending off the key path: each reply goes out on its own thread with its own connection (a slow
//! vendor must not hold up the next reply or the screen), and a sweeper settles what a crash left
//! behind (`sending` entries whose process is gone become `unknown`; recent `queued` ones are sent)
//! and asks a vendor about accepted replies whose webhook never came.

use super::attempt::{MAX_QUEUED_AGE_MS, Sender};
use crate::model::Provider;
use crate::outbox::OutboxEntry;
use crate::store::Store;
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

pub struct Worker {
    jobs: mpsc::Sender<i64>,
    sender: Arc<Sender>,
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
        let longest = sender.longest_request().as_millis() as i64;
        let mut store = Store::open(&db)?;
        let shared = sender.clone();
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
            let look_up =
                |entries: Vec<(OutboxEntry, i64)>| {
                    let (db, sender) = (db.clone(), sender.clone());
                    let _ = std::thread::Builder::new().name("outbox-lookups".into()).spawn(move || {
                    let Ok(mut store) = Store::open(&db) else { return };
                    for (entry, lookups) in entries {
                        if let Err(e) = sender.look_up(&mut store, &entry, lookups) {
                            tracing::warn!(error = %format!("{e:#}"), outbox = entry.id, "status lookup failed");
                        }
                    }
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
                match store.due_lookups() {
                    Ok(entries) if !entries.is_empty() => look_up(entries),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "outbox lookup scan failed"),
                }
                match rx.recv_timeout(Duration::from_secs(5)) {
                    Ok(id) => spawn(id),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        })?;
        Ok(Worker { jobs, sender: shared })
    }

    /// Send a queued entry now.
    pub fn send(&self, id: i64) {
        let _ = self.jobs.send(id);
    }

    /// Why replies to this vendor's conversations cannot be sent from here (credentials missing).
    pub fn cannot_send(&self, provider: &Provider) -> Option<String> {
        self.sender.cannot_send(provider)
    }
}
