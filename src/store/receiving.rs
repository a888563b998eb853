//! What the webhook receiver needs beyond ingest: a dedupe probe, the audit log of refused requests,
//! send-callback tokens, and checkpoints run off the acknowledgement path.

use super::Store;
use crate::providers::{Outcome, Parsed};
use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// One refused request. Never carries the body.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub route: String,
    pub status: u16,
    pub reason: String,
    pub peer: Option<String>,
    pub size: Option<i64>,
}

/// How a send callback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackStored {
    Stored,
    Duplicate,
    UnknownToken,
}

impl Store {
    /// Make this connection the receiver's writer: checkpoints are left to a `Checkpointer`, so
    /// no acknowledgement waits for one.
    pub fn become_writer(&self) -> Result<()> {
        self.leave_checkpoints()?;
        self.use_large_cache()?;
        Ok(())
    }

    /// Commits on this connection write the WAL without syncing it (`synchronous=NORMAL`). Whoever
    /// calls this syncs the WAL file before telling anyone a commit is durable (the receiver's
    /// `Syncer`): the writer then goes on with the next batch while the disk catches up.
    pub fn defer_syncs(&self) -> Result<()> {
        self.conn.pragma_update(None, "synchronous", "normal")?;
        Ok(())
    }

    /// Commits on this connection no longer checkpoint; a `Checkpointer` does.
    pub fn leave_checkpoints(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copy committed WAL frames into the database without blocking writers or readers; returns
    /// how many frames the WAL holds.
    pub fn checkpoint(&self) -> Result<i64> {
        Ok(self.checkpoint_pass()?.frames)
    }

    /// Is an event with this dedupe key stored already?
    pub fn has_event(&self, dedupe_key: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM events WHERE dedupe_key = ?1")?
            .query_row([dedupe_key], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn audit(&mut self, rows: &[AuditRow]) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO audit (at, route, status, reason, peer, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in rows {
                insert.execute(params![now, r.route, r.status, r.reason, r.peer, r.size])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Refused requests, newest first: (route, status, reason).
    pub fn audit_log(&self, limit: usize) -> Result<Vec<(String, u16, String)>> {
        let mut q = self
            .conn
            .prepare_cached("SELECT route, status, reason FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = q.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A new unguessable (128-bit) token for one outgoing message's callbacks.
    pub fn issue_callback_token(&mut self, outbox_id: Option<i64>) -> Result<String> {
        let token = crate::random::hex(16)?;
        self.conn.execute(
            "INSERT INTO callback_tokens (token, outbox_id, created_at) VALUES (?1, ?2, ?3)",
            params![token, outbox_id, chrono::Utc::now().timestamp_millis()],
        )?;
        Ok(token)
    }

    /// Store a send callback if its token is one we issued; an unknown token changes nothing.
    pub fn ingest_callback(
        &mut self,
        token: &str,
        body: &[u8],
        parsed: &Parsed,
        report: Option<&crate::outbox::Report>,
    ) -> Result<CallbackStored> {
        let now = chrono::Utc::now().timestamp_millis();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<Option<i64>> = tx
            .prepare_cached("SELECT outbox_id FROM callback_tokens WHERE token = ?1")?
            .query_row([token], |r| r.get(0))
            .optional()?;
        let Some(outbox_id) = known else {
            return Ok(CallbackStored::UnknownToken);
        };
        let n = super::insert_event(
            &mut tx.prepare_cached(super::INSERT_EVENT)?,
            now,
            "callback",
            parsed,
            body,
            None,
        )?;
        debug_assert!(
            !matches!(parsed.outcome, Outcome::Ok(_)),
            "callbacks move the outbox, not the folded messages"
        );
        // A repeated callback (same bytes) was stored before: it moves nothing twice.
        if let (1, Some(id), Some(report)) = (n, outbox_id, report) {
            super::outbox_table::apply_callback(&tx, id, report)?;
        }
        tx.commit()?;
        Ok(if n == 1 {
            CallbackStored::Stored
        } else {
            CallbackStored::Duplicate
        })
    }
}
