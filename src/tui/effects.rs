//! Running effects: the queries and marks `update` asks for, against the store, off the key and draw
//! path. `Runner` does it on its own thread and also watches the database for other writers.

use super::compose::Addressing;
use super::update::{Action, Effect};
use crate::config::Config;
use crate::outbox::{Draft, NewSend, SendOptions};
use crate::send::worker::Worker;
use crate::store::{Store, Watermark, new_client_id};
use std::sync::mpsc;
use std::time::Duration;

/// Run one effect; the action it produces, if any. (`Bell`, `Quit` and `Editor` belong to the
/// terminal.) Replies put in the outbox are handed to `worker`, when sending is configured.
pub fn run(store: &mut Store, effect: Effect, worker: Option<&Worker>, config: &Config) -> Option<Action> {
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
        Effect::LoadDraft(key) => load_draft(store, &key, worker).map(Some),
        Effect::SaveDraft(draft) => {
            return store.save_draft(&draft).err().map(|e| Action::DraftNotSaved {
                key: draft.conversation_key.clone(),
                why: crate::store::space::explain(&e, Some(store.path())).unwrap_or_else(|| format!("{e:#}")),
            });
        }
        Effect::Send(send) => enqueue(store, send, worker).map(Some),
        // The effects thread looks for other writers after every effect.
        Effect::LookForWrites => Ok(None),
        Effect::Done(key) => Ok(Some(team_done(store.set_done(&key, &me(store)).map(|_| {
            "Done: out of the list until the customer writes again (the done filter shows it).".to_string()
        })))),
        Effect::Snooze { key, until } => {
            let clock = crate::when::Clock::local();
            Ok(Some(match clock.until(&chrono::Utc::now(), &until) {
                Ok(t) => team_done(store.snooze(&key, t.timestamp_millis(), &me(store)).map(|_| {
                    format!(
                        "Snoozed until {} (or until the customer writes).",
                        clock.local_time(&t).format("%a %-d %b %H:%M")
                    )
                })),
                Err(why) => Action::TeamDone(Err(why)),
            }))
        }
        Effect::Note { key, text } => Ok(Some(team_done(
            store
                .add_note(&key, &me(store), &text)
                .map(|_| "Note added (never sent to the customer).".to_string()),
        ))),
        Effect::Assign { key, provider, to } => {
            // The vendor first (a network call, here on the effects thread), then the store,
            // which keeps what the vendor was told.
            let at_vendor = crate::send::assign::tell_vendor(config, &key, &provider, to.as_ref());
            Ok(Some(team_done(
                store
                    .assign(
                        &key,
                        to.as_ref().map(|a| a.name.as_str()),
                        &me(store),
                        Some(&at_vendor.words),
                    )
                    .map(|_| {
                        let mut words = at_vendor.words.clone();
                        if let Some(first) = words.get_mut(..1) {
                            first.make_ascii_uppercase();
                        }
                        format!("{words}.")
                    }),
            )))
        }
        Effect::Bell | Effect::Copy(_) | Effect::Quit | Effect::Editor { .. } | Effect::Repaint => Ok(None),
    };
    result.unwrap_or_else(|e| Some(Action::Failed(format!("{e:#}"))))
}

/// The reader's name, as notes and marks record it.
fn me(store: &Store) -> String {
    store.viewer().map_or_else(|| "someone".to_string(), |v| v.name.clone())
}

fn team_done(result: anyhow::Result<String>) -> Action {
    Action::TeamDone(result.map_err(|e| format!("{e:#}")))
}

fn load_draft(store: &Store, key: &str, worker: Option<&Worker>) -> anyhow::Result<Action> {
    let target = store.target(key)?;
    let mut channels = crate::send::channels(&target);
    // The channel the customer last wrote on comes first: a new reply goes back the same way.
    if let Some(default) = crate::send::default_channel(&target) {
        channels.retain(|c| *c != default);
        channels.insert(0, default);
    }
    // Without a worker the inbox already says sending is off (`State::sending_disabled`).
    let no_credentials = worker.and_then(|w| w.cannot_send(&target.provider));
    let blocked = channels.is_empty().then(|| {
        format!(
            "{} offers no way to reply in this conversation; reply from {}.",
            crate::outbox::vendor_name(&target.provider),
            crate::outbox::vendor_name(&target.provider)
        )
    });
    let draft = match store.load_draft(key)? {
        Some(d) => d,
        None => Draft {
            conversation_key: key.to_string(),
            draft_id: new_client_id()?,
            channel: channels.first().cloned().unwrap_or(crate::model::Channel::Sms),
            subject: None,
            body: String::new(),
            options: SendOptions::default(),
        },
    };
    let addressing = Addressing {
        provider: target.provider.clone(),
        channels,
        customer_channel: target.last_inbound_channel.clone(),
        phone: target.phone.clone(),
        email: target.email.clone(),
        reply_to: target.last_inbound_email.clone(),
        blocked,
        no_credentials,
    };
    Ok(Action::DraftLoaded {
        key: key.to_string(),
        draft,
        addressing,
    })
}

fn enqueue(store: &mut Store, send: NewSend, worker: Option<&Worker>) -> anyhow::Result<Action> {
    let key = send.conversation_key.clone();
    let draft_id = send.client_id.clone();
    let next_draft_id = new_client_id()?;
    let Some(worker) = worker else {
        return Ok(Action::Enqueued {
            key,
            draft_id,
            result: Err("sending is not configured".into()),
            next_draft_id,
        });
    };
    let queued = store.enqueue(&send);
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

/// After a write is seen that is not yet visible, look again this often…
pub(crate) const RECHECK_MS: u64 = 10;
/// …this many times (a commit's fsync on a slow disk takes tens of milliseconds).
pub(crate) const RECHECKS: u32 = 20;

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

    pub fn start(
        mut store: Store,
        actions: mpsc::Sender<Action>,
        worker: Option<Worker>,
        config: Config,
    ) -> anyhow::Result<Runner> {
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
            // The kernel reports a write to the WAL file, but a commit becomes visible only when
            // SQLite then updates the shared-memory index (mapped memory: no file event), after
            // its fsync. A look that comes too early finds nothing new, or only the commits
            // before the last; so after a write is seen, it is looked for again, a few times,
            // shortly after, until looks find nothing new.
            let mut unseen_write: u32 = 0;
            loop {
                let timeout = if unseen_write > 0 {
                    Duration::from_millis(RECHECK_MS)
                } else {
                    wait
                };
                let mut poked = false;
                match rx.recv_timeout(timeout) {
                    Ok(effect) => {
                        poked = effect == Effect::LookForWrites;
                        // Everything asked for at once is answered at once (opening a thread
                        // loads its page and its draft): the screen then draws one frame, not two.
                        let mut stop = effect == Effect::Quit;
                        let mut answers: Vec<Action> =
                            run(&mut store, effect, worker.as_ref(), &config).into_iter().collect();
                        while let Ok(more) = rx.try_recv() {
                            stop |= more == Effect::Quit;
                            poked |= more == Effect::LookForWrites;
                            answers.extend(run(&mut store, more, worker.as_ref(), &config));
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
                        // What was found may not be all the poke was about: one wake-up can stand
                        // for several commits, the last not yet visible. Look again shortly.
                        if watched && (poked || unseen_write > 0) {
                            unseen_write = RECHECKS;
                        }
                        if actions.send(action).is_err() {
                            return;
                        }
                    }
                    Ok(None) if poked && watched => unseen_write = RECHECKS,
                    Ok(None) => unseen_write = unseen_write.saturating_sub(1),
                    Err(e) => {
                        let _ = actions.send(Action::Failed(format!("{e:#}")));
                    }
                }
            }
        })?;
        Ok(Runner { effects, thread })
    }
}
