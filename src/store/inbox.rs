//! What the inbox screen needs beyond the list and thread queries: totals for the status bar, a
//! cheap way to notice writes by other processes, and the user's read/unread marks.

use super::{Store, fold};
use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// Totals for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub unread_conversations: i64,
    pub failed_conversations: i64,
}

/// Where the store stood at one moment, to tell what is new since.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watermark {
    pub last_message_id: i64,
    /// Failed or unknown messages, and failed or unknown replies that never became messages.
    pub needs_attention: i64,
}

impl Store {
    /// Changes whenever another connection (another process, or the receiver) commits.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    pub fn totals(&self) -> Result<Totals> {
        // Counting 50,000 unread conversations takes milliseconds; a filter switch or a page load
        // that follows no write reuses the last count.
        let version = (self.data_version()?, self.conn.total_changes());
        if let Some((v, c, totals)) = self.totals.get()
            && (v, c) == version
        {
            return Ok(totals);
        }
        // Two statements, each reading only its covering partial index (as one statement with two
        // subqueries, SQLite fetched every row and took ~50 ms at 50,000 conversations).
        let count = |sql: &str| -> Result<i64> { Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?) };
        let totals = Totals {
            unread_conversations: count(
                "SELECT count(*) FROM conversations INDEXED BY conversations_unread WHERE unread > 0 AND message_count > 0",
            )?,
            failed_conversations: count(
                "SELECT count(*) FROM conversations INDEXED BY conversations_failed WHERE failed_count > 0",
            )?,
        };
        self.totals.set(Some((version.0, version.1, totals)));
        Ok(totals)
    }

    pub fn watermark(&self) -> Result<Watermark> {
        Ok(self
            .conn
            .prepare_cached(
                // Each count reads only its partial index (a scan of every message took 150 ms at a
                // million, on every write another process made).
                "SELECT (SELECT coalesce(max(id), 0) FROM messages),
                    (SELECT count(*) FROM messages INDEXED BY messages_attention WHERE status IN ('failed', 'unknown'))
                    + (SELECT count(*) FROM outbox INDEXED BY outbox_attention
                       WHERE status IN ('failed', 'unknown') AND message_key IS NULL)",
            )?
            .query_row([], |r| {
                Ok(Watermark {
                    last_message_id: r.get(0)?,
                    needs_attention: r.get(1)?,
                })
            })?)
    }

    /// Inbound messages added after `since` (a `Watermark::last_message_id`).
    pub fn inbound_since(&self, since: i64) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM messages WHERE id > ?1 AND direction = 'inbound' AND draft = 0")?
            .query_row([since], |r| r.get(0))?)
    }

    /// Mark a conversation read up to now.
    pub fn mark_read(&mut self, key: &str) -> Result<()> {
        self.set_mark(key, Some(chrono::Utc::now().timestamp_millis()), false)
    }

    /// Keep a conversation in the unread list until it is read again.
    pub fn mark_unread(&mut self, key: &str) -> Result<()> {
        self.set_mark(key, None, true)
    }

    fn set_mark(&mut self, key: &str, read_at: Option<i64>, unread: bool) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO local_marks (conversation_key, read_at, marked_unread) VALUES (?1, ?2, ?3)
             ON CONFLICT (conversation_key) DO UPDATE SET
                read_at = coalesce(excluded.read_at, read_at), marked_unread = excluded.marked_unread",
        )?
        .execute(params![key, read_at, unread])?;
        let id: Option<i64> = tx
            .prepare_cached("SELECT id FROM conversations WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        if let Some(id) = id {
            fold::refresh_conversation(&tx, id)?;
        }
        tx.commit()?;
        Ok(())
    }
}
