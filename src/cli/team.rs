//! The team's commands: `assign`, `done`, `snooze`, `reopen`, `note`, and `failures --watch`.
//! Each acts as the advisor in `[me]` and prints a sentence, or JSON with `--json`.

use super::JsonFlag;
use crate::config::Config;
use crate::store::Store;
use anyhow::{Result, bail};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct AssignArgs {
    /// A conversation id as `conversations` prints it (an unambiguous prefix is enough)
    pub id: String,
    /// Assign to this advisor (a name from [team], or [me]'s; a prefix is enough)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["me", "nobody"])]
    pub to: Option<String>,
    /// Assign to me ([me] in the config)
    #[arg(long)]
    pub me: bool,
    /// Unassign
    #[arg(long, conflicts_with = "me")]
    pub nobody: bool,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct ConversationArgs {
    /// A conversation id as `conversations` prints it (an unambiguous prefix is enough)
    pub id: String,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct SnoozeArgs {
    /// A conversation id as `conversations` prints it (an unambiguous prefix is enough)
    pub id: String,
    /// Until when: 1h, 30m, 2d, tomorrow, "tomorrow 9am", 17:30, "monday 8am" (your time zone)
    pub until: String,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct NoteArgs {
    /// A conversation id as `conversations` prints it (an unambiguous prefix is enough)
    pub id: String,
    /// The note; never sent to the customer
    pub text: String,
    #[command(flatten)]
    pub out: JsonFlag,
}

/// The database as the configured advisor reads it (nothing is written to say so: a command that
/// only reads must work on a read-only copy).
pub fn open_as_me(store: Store, config: &Config) -> Result<Store> {
    let mut store = store;
    store.read_as(&config.team().me)?;
    Ok(store)
}

fn say(out: &mut dyn Write, json: bool, doc: serde_json::Value, words: &str) -> Result<()> {
    if json {
        writeln!(out, "{doc}")?;
    } else {
        writeln!(out, "{}", crate::sanitize::line(words))?;
    }
    Ok(())
}

pub fn assign(out: &mut dyn Write, store: Store, config: &Config, a: AssignArgs) -> Result<()> {
    let team = config.team();
    let mut store = open_as_me(store, config)?;
    let key = store.resolve_conversation(&a.id)?;
    let advisor = match (&a.to, a.me, a.nobody) {
        (Some(name), _, _) => Some(team.find(name).map_err(anyhow::Error::msg)?.clone()),
        (None, true, _) => Some(team.me.clone()),
        (None, false, true) => None,
        (None, false, false) => bail!("say who: --me, --to NAME or --nobody"),
    };
    let conversation = store
        .conversation(&key)?
        .ok_or_else(|| anyhow::anyhow!("no conversation `{key}`"))?;
    let at_vendor = crate::send::assign::tell_vendor(config, &key, &conversation.provider, advisor.as_ref());
    let assigned = store.assign(
        &key,
        advisor.as_ref().map(|a| a.name.as_str()),
        &team.me.name,
        Some(&at_vendor.words),
    )?;
    let label = assigned.assignee.as_deref().map(|t| team.label(t));
    say(
        out,
        a.out.json,
        serde_json::json!({
            "conversation_key": key,
            "assignee": label,
            "assignee_token": assigned.assignee,
            "vendor_told": at_vendor.told,
            "vendor": at_vendor.words,
        }),
        &format!("{key}: {}", at_vendor.words),
    )
}

pub fn done(out: &mut dyn Write, store: Store, config: &Config, a: ConversationArgs) -> Result<()> {
    let mut store = open_as_me(store, config)?;
    let key = store.resolve_conversation(&a.id)?;
    store.set_done(&key, &config.team().me.name)?;
    say(
        out,
        a.out.json,
        serde_json::json!({ "conversation_key": key, "done": true }),
        &format!("{key}: done (a new message from the customer opens it again)"),
    )
}

pub fn snooze(out: &mut dyn Write, store: Store, config: &Config, a: SnoozeArgs) -> Result<()> {
    let mut store = open_as_me(store, config)?;
    let key = store.resolve_conversation(&a.id)?;
    let clock = crate::when::Clock::local();
    let until = clock.until(&chrono::Utc::now(), &a.until).map_err(anyhow::Error::msg)?;
    store.snooze(&key, until.timestamp_millis(), &config.team().me.name)?;
    say(
        out,
        a.out.json,
        serde_json::json!({ "conversation_key": key, "snoozed_until": crate::model::rfc3339(&until) }),
        &format!(
            "{key}: snoozed until {} (or a new message from the customer)",
            clock.local_time(&until).format("%a %-d %b %H:%M")
        ),
    )
}

pub fn reopen(out: &mut dyn Write, store: Store, config: &Config, a: ConversationArgs) -> Result<()> {
    let mut store = open_as_me(store, config)?;
    let key = store.resolve_conversation(&a.id)?;
    store.reopen(&key)?;
    say(
        out,
        a.out.json,
        serde_json::json!({ "conversation_key": key, "done": false }),
        &format!("{key}: open"),
    )
}

pub fn note(out: &mut dyn Write, store: Store, config: &Config, a: NoteArgs) -> Result<()> {
    let mut store = open_as_me(store, config)?;
    let key = store.resolve_conversation(&a.id)?;
    let author = config.team().me.name;
    let message_key = store.add_note(&key, &author, &a.text)?;
    say(
        out,
        a.out.json,
        serde_json::json!({ "conversation_key": key, "message_key": message_key, "author": author }),
        &format!("{key}: note added by {author} (never sent to the customer)"),
    )
}

/// `failures --watch`: the failures there are, then each new one as it is stored, one JSON object
/// per line, until the reader goes away. Woken by the database file changing (inotify) or by the
/// output closing, never by a timer (where inotify is missing, it looks once a second).
pub fn watch_failures(out: &mut dyn Write, store: &Store, since_ms: Option<i64>) -> Result<()> {
    enum Wake {
        Written,
        /// A short wait ended (a recheck, or where inotify is missing, the next look).
        Looked,
        ReaderGone,
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Wake>(1);
    let written = tx.clone();
    let watching = crate::tui::file_watch::start(store.path(), move || {
        !matches!(
            written.try_send(Wake::Written),
            Err(std::sync::mpsc::TrySendError::Disconnected(_))
        )
    })
    .is_some();
    // A pipe whose reader closed reports POLLERR on our end; a terminal that hung up, POLLHUP.
    std::thread::spawn(move || {
        let mut fd = libc::pollfd {
            fd: libc::STDOUT_FILENO,
            events: 0,
            revents: 0,
        };
        loop {
            // SAFETY: one live pollfd.
            let n = unsafe { libc::poll(&mut fd, 1, -1) };
            if n > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                let _ = tx.send(Wake::ReaderGone);
                return;
            }
        }
    });
    let mut seen = std::collections::HashSet::new();
    let mut version = None;
    // A write to the WAL is reported before the commit is visible (see the inbox's effects
    // thread): one seen but not yet visible is looked for again shortly, a few times.
    let mut unseen_write = 0u32;
    let mut woken_by_write = false;
    loop {
        let now = store.data_version()?;
        if version != Some(now) {
            version = Some(now);
            // One wake-up can stand for several commits, the last not yet visible: look again.
            if woken_by_write || unseen_write > 0 {
                unseen_write = 20;
            }
            let mut rows = store.failures(since_ms, 1000)?;
            rows.reverse();
            for row in rows {
                let new = seen.insert((row.message.message_key.clone(), row.message.status.to_string()));
                // A closed pipe ends the watch.
                if new
                    && writeln!(out, "{}", serde_json::to_string(&row)?)
                        .and_then(|_| out.flush())
                        .is_err()
                {
                    return Ok(());
                }
            }
        } else if woken_by_write {
            unseen_write = 20;
        }
        let timeout = match (watching, unseen_write) {
            (true, 0) => None,
            (true, _) => Some(std::time::Duration::from_millis(10)),
            (false, _) => Some(std::time::Duration::from_secs(1)),
        };
        unseen_write = unseen_write.saturating_sub(1);
        let wake = match timeout {
            None => rx.recv().ok(),
            Some(t) => match rx.recv_timeout(t) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Some(Wake::Looked),
                other => other.ok(),
            },
        };
        woken_by_write = matches!(wake, Some(Wake::Written));
        if !matches!(wake, Some(Wake::Written | Wake::Looked)) {
            return Ok(());
        }
    }
}
