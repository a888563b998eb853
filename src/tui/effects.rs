//! Running effects: the queries and marks `update` asks for, against the store, off the key and draw
//! path. `Runner` does it on its own thread and also watches the database for other writers.

use super::update::{Action, Effect};
use crate::store::{Store, Watermark};
use std::sync::mpsc;
use std::time::Duration;

/// Run one effect; the action it produces, if any. (`Bell` and `Quit` belong to the terminal.)
pub fn run(store: &mut Store, effect: Effect) -> Option<Action> {
    let result = match effect {
        Effect::LoadList {
            generation,
            filter,
            search,
            after,
            limit,
            append,
        } => {
            let after_ref = after.as_ref().map(|(at, key)| (*at, key.as_str()));
            store
                .conversations_page(&filter, search.as_deref(), after_ref, limit)
                .and_then(|rows| {
                    Ok(Some(Action::ListLoaded {
                        generation,
                        rows,
                        append,
                        totals: store.totals()?,
                    }))
                })
        }
        Effect::LoadThread {
            key,
            before,
            limit,
            older,
        } => {
            let before_ref = before.as_ref().map(|(at, k)| (*at, k.as_str()));
            store
                .thread_page_before(&key, before_ref, limit)
                .map(|messages| Some(Action::ThreadLoaded { key, messages, older }))
        }
        // Our own commits do not move `data_version` for us: say the store changed.
        Effect::MarkRead(key) => store.mark_read(&key).map(|_| Some(changed_here())),
        Effect::MarkUnread(key) => store.mark_unread(&key).map(|_| Some(changed_here())),
        Effect::Bell | Effect::Quit => Ok(None),
    };
    result.unwrap_or_else(|e| Some(Action::Failed(format!("{e:#}"))))
}

fn changed_here() -> Action {
    Action::StoreChanged {
        new_inbound: 0,
        new_failures: 0,
        last_event_at: None,
    }
}

/// What changed since the last look, if anything.
pub struct Watch {
    version: i64,
    mark: Watermark,
}

impl Watch {
    pub fn new(store: &Store) -> anyhow::Result<Watch> {
        Ok(Watch {
            version: store.data_version()?,
            mark: store.watermark()?,
        })
    }

    /// An action when another connection committed since the last call.
    pub fn poll(&mut self, store: &Store) -> anyhow::Result<Option<Action>> {
        let version = store.data_version()?;
        if version == self.version {
            return Ok(None);
        }
        self.version = version;
        let mark = store.watermark()?;
        let new_inbound = store.inbound_since(self.mark.last_message_id)?;
        let new_failures = (mark.failed_messages - self.mark.failed_messages).max(0);
        self.mark = mark;
        Ok(Some(Action::StoreChanged {
            new_inbound,
            new_failures,
            last_event_at: store.last_received_at()?,
        }))
    }
}

/// The effect thread: runs effects in order and checks for other writers between them.
pub struct Runner {
    pub effects: mpsc::Sender<Effect>,
}

impl Runner {
    pub fn start(mut store: Store, actions: mpsc::Sender<Action>) -> anyhow::Result<Runner> {
        let (effects, rx) = mpsc::channel::<Effect>();
        let mut watch = Watch::new(&store)?;
        if let Ok(last) = store.last_received_at() {
            let _ = actions.send(Action::StoreChanged {
                new_inbound: 0,
                new_failures: 0,
                last_event_at: last,
            });
        }
        std::thread::Builder::new().name("effects".into()).spawn(move || {
            loop {
                match rx.recv_timeout(Duration::from_millis(250)) {
                    Ok(effect) => {
                        if let Some(action) = run(&mut store, effect) {
                            if actions.send(action).is_err() {
                                return;
                            }
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
                match watch.poll(&store) {
                    Ok(Some(action)) => {
                        if actions.send(action).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let _ = actions.send(Action::Failed(format!("{e:#}")));
                    }
                }
            }
        })?;
        Ok(Runner { effects })
    }
}
