//! Running effects: the queries and marks `update` asks for, against the store, off the key and draw
//! path. `Runner` does it on its own thread and also watches the database for other writers.

use super::compose::Addressing;
use super::update::{Action, Effect};
use crate::send::deliver;
use crate::send::outbox::{Protocol, SendOptions};
use crate::send::worker::Worker;
use crate::store::{Draft, NewSend, Store, Watermark, new_client_id};
use std::sync::mpsc;
use std::time::Duration;

/// Run one effect; the action it produces, if any. (`Bell`, `Quit` and `Editor` belong to the
/// terminal.) Replies put in the outbox are handed to `worker`, when sending is configured.
pub fn run(store: &mut Store, effect: Effect, worker: Option<&Worker>) -> Option<Action> {
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
        Effect::LoadDraft(key) => load_draft(store, &key).map(Some),
        Effect::SaveDraft(draft) => {
            return store.save_draft(&draft).err().map(|e| Action::DraftNotSaved {
                key: draft.conversation.clone(),
                why: crate::store::space::explain(&e, Some(store.path())).unwrap_or_else(|| format!("{e:#}")),
            });
        }
        Effect::Send { draft, recipient } => enqueue(store, draft, recipient, worker).map(Some),
        // The effects thread looks for other writers after every effect.
        Effect::LookForWrites => Ok(None),
        Effect::Bell | Effect::Copy(_) | Effect::Quit | Effect::Editor { .. } => Ok(None),
    };
    result.unwrap_or_else(|e| Some(Action::Failed(format!("{e:#}"))))
}

fn load_draft(store: &Store, key: &str) -> anyhow::Result<Action> {
    let target = store.target(key)?;
    let addressing = Addressing {
        phone: target.phone.clone(),
        email: target.email.clone(),
        blocked: deliver::unreachable(&target),
    };
    let draft = match store.load_draft(key)? {
        Some(d) => d,
        None => {
            // A new reply goes out the way the customer last wrote: email if that was email.
            let last = store.thread_page_before(key, None, 1)?;
            let email = last.first().is_some_and(|m| m.channel == "email");
            Draft {
                conversation: key.to_string(),
                draft_id: new_client_id()?,
                protocol: if email { Protocol::Email } else { Protocol::Text },
                subject: None,
                body: String::new(),
                options: SendOptions::default(),
            }
        }
    };
    Ok(Action::DraftLoaded {
        key: key.to_string(),
        draft,
        addressing,
    })
}

fn enqueue(
    store: &mut Store,
    draft: Draft,
    recipient: Option<String>,
    worker: Option<&Worker>,
) -> anyhow::Result<Action> {
    let key = draft.conversation.clone();
    let draft_id = draft.draft_id.clone();
    let next_draft_id = new_client_id()?;
    let Some(worker) = worker else {
        return Ok(Action::Enqueued {
            key,
            draft_id,
            result: Err("sending is not configured".into()),
            next_draft_id,
        });
    };
    let queued = store.enqueue(&NewSend {
        client_id: draft.draft_id,
        conversation: draft.conversation,
        protocol: draft.protocol,
        recipient,
        subject: draft.subject,
        body: draft.body,
        options: draft.options,
    });
    let result = match queued {
        Ok(q) => {
            if q.created {
                worker.send(q.entry.id);
            }
            Ok(q.created)
        }
        Err(e) => Err(format!("{e:#}")),
    };
    Ok(Action::Enqueued {
        key,
        draft_id,
        result,
        next_draft_id,
    })
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
        let new_failures = (mark.needs_attention - self.mark.needs_attention).max(0);
        self.mark = mark;
        Ok(Some(Action::StoreChanged {
            new_inbound,
            new_failures,
            last_event_at: store.last_received_at()?,
        }))
    }
}

/// The effect thread: runs effects in order and checks for other writers between them. `Quit`
/// sent to it (by `finish`) stops it once what was queued before has run.
pub struct Runner {
    pub effects: mpsc::Sender<Effect>,
    thread: std::thread::JoinHandle<()>,
}

impl Runner {
    /// Run what is queued (a last draft save, say), then stop.
    pub fn finish(self) {
        // The file watcher holds a sender too: say "stop" rather than wait for the channel to close.
        let _ = self.effects.send(Effect::Quit);
        let _ = self.thread.join();
    }

    pub fn start(mut store: Store, actions: mpsc::Sender<Action>, worker: Option<Worker>) -> anyhow::Result<Runner> {
        let (effects, rx) = mpsc::channel::<Effect>();
        let mut watch = Watch::new(&store)?;
        if let Ok(last) = store.last_received_at() {
            let _ = actions.send(Action::StoreChanged {
                new_inbound: 0,
                new_failures: 0,
                last_event_at: last,
            });
        }
        // Woken by the kernel when the database file changes; polled only where it cannot say.
        let poke = effects.clone();
        let watched =
            super::file_watch::start(store.path(), move || poke.send(Effect::LookForWrites).is_ok()).is_some();
        let wait = if watched {
            Duration::from_secs(24 * 3600)
        } else {
            Duration::from_millis(250)
        };
        let thread = std::thread::Builder::new().name("effects".into()).spawn(move || {
            loop {
                match rx.recv_timeout(wait) {
                    Ok(effect) => {
                        // Everything asked for at once is answered at once (opening a thread
                        // loads its page and its draft): the screen then draws one frame, not two.
                        let mut stop = effect == Effect::Quit;
                        let mut answers: Vec<Action> = run(&mut store, effect, worker.as_ref()).into_iter().collect();
                        while let Ok(more) = rx.try_recv() {
                            stop |= more == Effect::Quit;
                            answers.extend(run(&mut store, more, worker.as_ref()));
                        }
                        for action in answers {
                            if actions.send(action).is_err() {
                                return;
                            }
                        }
                        if stop {
                            return; // after the last draft save queued before it, answered
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
        Ok(Runner { effects, thread })
    }
}
