//! The team's state beside the vendors' data: who is reading (each advisor's own read marks), who a
//! conversation is assigned to here, which conversations are done or snoozed, and notes. All of it
//! survives `rebuild`; the fold turns it into the `conversations` columns the lists read.

use super::{Incoming, Store, list_columns};
use crate::model::Provider;
use crate::notes::Note;
use crate::team::Advisor;
use anyhow::{Result, bail};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

/// The advisor the lists are drawn for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub name: String,
    /// Assignee tokens that mean this advisor (`name:…` and one per vendor id).
    pub tokens: Vec<String>,
    /// The advisor has read marks here (they have opened the inbox on this database); until then,
    /// unread counts are the shared ones.
    pub has_reads: bool,
}

/// A conversation's assignee after an assignment, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Assigned {
    pub conversation_key: String,
    /// The assignee token now in effect (`name:…` or `vendor:user id`), `None` for nobody.
    pub assignee: Option<String>,
}

impl Store {
    /// Read as `advisor` from now on. The first time an advisor opens the database, their read
    /// marks start as the shared ones (the vendors' read state): one row per conversation, after
    /// which the fold keeps their unread counts and the unread list reads only their rows.
    pub fn set_viewer(&mut self, advisor: &Advisor) -> Result<()> {
        let name = advisor.name.trim();
        if name.is_empty() {
            bail!("an advisor needs a name ([me] name in the config)");
        }
        let known = self
            .conn
            .prepare_cached("SELECT 1 FROM advisors WHERE name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some();
        if !known {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = chrono::Utc::now().timestamp_millis();
            let added = tx
                .prepare_cached("INSERT INTO advisors (name, since) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
                .execute(params![name, now])?;
            if added > 0 {
                tx.prepare_cached(
                    "INSERT INTO advisor_reads (advisor, conversation_key, seen_inbound, unread, last_at)
                     SELECT ?1, key, inbound_count - unread, CASE WHEN parked = 1 THEN 0 ELSE unread END, last_at
                     FROM conversations WHERE message_count > 0
                     ON CONFLICT DO NOTHING",
                )?
                .execute([name])?;
            }
            tx.commit()?;
        }
        self.viewer = Some(Viewer {
            name: name.to_string(),
            tokens: advisor.tokens(),
            has_reads: true,
        });
        self.totals.set(None);
        Ok(())
    }

    /// Read as `advisor` without writing anything (for commands that only read or act on one
    /// conversation): their assignments and, if they have opened the inbox here, their read marks.
    pub fn read_as(&mut self, advisor: &Advisor) -> Result<()> {
        let name = advisor.name.trim();
        let has_reads = self
            .conn
            .prepare_cached("SELECT 1 FROM advisors WHERE name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some();
        self.viewer = Some(Viewer {
            name: name.to_string(),
            tokens: advisor.tokens(),
            has_reads,
        });
        self.totals.set(None);
        Ok(())
    }

    /// The reader whose read marks the lists show, if they have any here.
    pub(super) fn reader(&self) -> Option<&Viewer> {
        self.viewer.as_ref().filter(|v| v.has_reads)
    }

    pub fn viewer(&self) -> Option<&Viewer> {
        self.viewer.as_ref()
    }

    /// Mark a conversation read, up to now, for the viewer only.
    pub fn mark_read(&mut self, key: &str) -> Result<()> {
        let Some(me) = self.reader().cloned() else {
            return self.set_shared_mark(key, Some(chrono::Utc::now().timestamp_millis()), false);
        };
        let now = chrono::Utc::now().timestamp_millis();
        self.conn
            .prepare_cached(
                "INSERT INTO advisor_reads (advisor, conversation_key, seen_inbound, unread, marked_unread, read_at, last_at)
                 SELECT ?1, key, inbound_count, 0, 0, ?3, last_at FROM conversations WHERE key = ?2
                 ON CONFLICT (advisor, conversation_key) DO UPDATE SET
                    seen_inbound = excluded.seen_inbound, unread = 0, marked_unread = 0, read_at = excluded.read_at",
            )?
            .execute(params![me.name, key, now])?;
        Ok(())
    }

    /// Keep a conversation in the viewer's unread list until they read it again.
    pub fn mark_unread(&mut self, key: &str) -> Result<()> {
        let Some(me) = self.reader().cloned() else {
            return self.set_shared_mark(key, None, true);
        };
        self.conn
            .prepare_cached(
                "INSERT INTO advisor_reads (advisor, conversation_key, seen_inbound, unread, marked_unread, last_at)
                 SELECT ?1, key, inbound_count, 0, 1, last_at FROM conversations WHERE key = ?2
                 ON CONFLICT (advisor, conversation_key) DO UPDATE SET marked_unread = 1",
            )?
            .execute(params![me.name, key])?;
        Ok(())
    }

    /// Assign a conversation here (to an advisor by name, or to nobody). `at_vendor` says what the
    /// vendor was told, in words, when it was.
    pub fn assign(&mut self, key: &str, advisor: Option<&str>, by: &str, at_vendor: Option<&str>) -> Result<Assigned> {
        let now = chrono::Utc::now().timestamp_millis();
        let token = advisor.map(|name| format!("name:{name}"));
        self.local_change(key, |tx| {
            tx.prepare_cached(
                "INSERT INTO assignments (conversation_key, assignee, assigned_by, at, at_vendor) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (conversation_key) DO UPDATE SET assignee = excluded.assignee,
                    assigned_by = excluded.assigned_by, at = excluded.at, at_vendor = excluded.at_vendor",
            )?
            .execute(params![key, token, by, now, at_vendor])?;
            Ok(())
        })?;
        let assignee = self
            .conn
            .prepare_cached("SELECT assignee FROM conversations WHERE key = ?1")?
            .query_row([key], |r| r.get(0))?;
        Ok(Assigned {
            conversation_key: key.to_string(),
            assignee,
        })
    }

    /// Mark a conversation done: it leaves the default lists until a new inbound message.
    pub fn set_done(&mut self, key: &str, by: &str) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        self.local_change(key, |tx| {
            tx.prepare_cached(
                "INSERT INTO triage (conversation_key, done_at, done_by) VALUES (?1, ?2, ?3)
                 ON CONFLICT (conversation_key) DO UPDATE SET done_at = excluded.done_at, done_by = excluded.done_by,
                    snoozed_at = NULL, snoozed_until = NULL, snoozed_by = NULL",
            )?
            .execute(params![key, now, by])?;
            Ok(())
        })
    }

    /// Hide a conversation until `until` (Unix ms), or until a new inbound message.
    pub fn snooze(&mut self, key: &str, until: i64, by: &str) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        if until <= now {
            bail!("a snooze has to end in the future");
        }
        self.local_change(key, |tx| {
            tx.prepare_cached(
                "INSERT INTO triage (conversation_key, snoozed_at, snoozed_until, snoozed_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (conversation_key) DO UPDATE SET snoozed_at = excluded.snoozed_at,
                    snoozed_until = excluded.snoozed_until, snoozed_by = excluded.snoozed_by, done_at = NULL, done_by = NULL",
            )?
            .execute(params![key, now, until, by])?;
            Ok(())
        })
    }

    /// Open a done or snoozed conversation again.
    pub fn reopen(&mut self, key: &str) -> Result<()> {
        self.local_change(key, |tx| {
            tx.prepare_cached("DELETE FROM triage WHERE conversation_key = ?1")?
                .execute([key])?;
            Ok(())
        })
    }

    /// When the next snoozed conversation comes back, if one is snoozed.
    pub fn next_snooze_end(&self, now_ms: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT min(parked) FROM conversations INDEXED BY conversations_parked WHERE parked != 0 AND parked > ?1")?
            .query_row([now_ms], |r| r.get(0))?)
    }

    /// Write an internal note into a conversation's thread, as of now; returns the message key it
    /// folds into.
    pub fn add_note(&mut self, key: &str, author: &str, body: &str) -> Result<String> {
        self.add_note_at(key, author, body, chrono::Utc::now().timestamp_millis())
    }

    /// As `add_note`, written at `at` (Unix ms).
    pub fn add_note_at(&mut self, key: &str, author: &str, body: &str, at: i64) -> Result<String> {
        let body = body.trim();
        if body.is_empty() {
            bail!("a note needs some text");
        }
        let provider: Option<String> = self
            .conn
            .prepare_cached("SELECT provider FROM conversations WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        let Some(provider) = provider else {
            bail!("no conversation `{key}`");
        };
        let note = Note {
            id: crate::random::hex(12)?,
            conversation_key: key.to_string(),
            author: author.to_string(),
            at,
            body: body.to_string(),
        };
        let provider = Provider::parse(&provider);
        let bytes = note.to_body();
        let parsed = crate::notes::parse(&bytes, provider.clone());
        self.ingest_parsed(crate::notes::SOURCE, &[Incoming::new(bytes, Some(provider))], &[parsed])?;
        Ok(format!("note:{}", note.id))
    }

    /// Change local state about one conversation and fold it into the conversation's columns.
    fn local_change(&mut self, key: &str, change: impl FnOnce(&Transaction) -> Result<()>) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id: Option<i64> = tx
            .prepare_cached("SELECT id FROM conversations WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        let Some(id) = id else {
            bail!("no conversation `{key}`");
        };
        change(&tx)?;
        list_columns::refresh_conversation(&tx, id)?;
        tx.commit()?;
        Ok(())
    }

    /// Read marks for a database read by nobody in particular (no viewer set).
    fn set_shared_mark(&mut self, key: &str, read_at: Option<i64>, unread: bool) -> Result<()> {
        self.local_change(key, |tx| {
            tx.prepare_cached(
                "INSERT INTO local_marks (conversation_key, read_at, marked_unread) VALUES (?1, ?2, ?3)
                 ON CONFLICT (conversation_key) DO UPDATE SET
                    read_at = coalesce(excluded.read_at, read_at), marked_unread = excluded.marked_unread",
            )?
            .execute(params![key, read_at, unread])?;
            Ok(())
        })
    }
}
