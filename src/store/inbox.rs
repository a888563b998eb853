//! What the inbox screen needs beyond the list and thread queries: totals for the status bar, a
//! cheap way to notice writes by other processes, and the user's read/unread marks.

use super::Store;
use anyhow::Result;

/// Totals for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub unread_conversations: i64,
    pub failed_conversations: i64,
    /// When the next snoozed conversation comes back.
    pub next_snooze_end: Option<i64>,
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
        let next_snooze_end = self.next_snooze_end(chrono::Utc::now().timestamp_millis())?;
        if let Some((v, c, totals)) = self.totals.get()
            && (v, c) == version
        {
            return Ok(Totals {
                next_snooze_end,
                ..totals
            });
        }
        // Two statements, each reading only its covering partial index (as one statement with two
        // subqueries, SQLite fetched every row and took ~50 ms at 50,000 conversations).
        let count = |sql: &str| -> Result<i64> { Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?) };
        let unread_conversations = match self.reader() {
            // The reader's own unread rows (their partial index holds nothing else).
            Some(me) => self
                .conn
                .prepare_cached(
                    "SELECT count(*) FROM advisor_reads INDEXED BY advisor_unread_activity
                     WHERE advisor = ?1 AND (unread > 0 OR marked_unread)",
                )?
                .query_row([&me.name], |r| r.get(0))?,
            None => count(
                "SELECT count(*) FROM conversations INDEXED BY conversations_unread WHERE unread > 0 AND message_count > 0",
            )?,
        };
        let totals = Totals {
            unread_conversations,
            next_snooze_end,
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

    /// Inbound messages added after `since` (a `Watermark::last_message_id`) that are the reader's
    /// concern: in conversations assigned to them or to nobody (all of them, with no reader set).
    pub fn inbound_since(&self, since: i64) -> Result<i64> {
        let tokens = match &self.viewer {
            Some(me) => serde_json::to_string(&me.tokens)?,
            None => "null".into(),
        };
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.id > ?1 AND m.direction = 'inbound' AND m.draft = 0
                   AND (?2 = 'null' OR c.assignee IS NULL OR c.assignee IN (SELECT value FROM json_each(?2)))",
            )?
            .query_row(rusqlite::params![since, tokens], |r| r.get(0))?)
    }
}
