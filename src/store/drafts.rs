//! Drafts: the reply being written in each conversation, kept across restarts until it is sent.

use super::Store;
use crate::model::Channel;
use crate::outbox::Draft;
use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl Store {
    pub fn load_draft(&self, conversation: &str) -> Result<Option<Draft>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT conversation_key, draft_id, channel, subject, body, options FROM drafts WHERE conversation_key = ?1",
            )?
            .query_row([conversation], |r| {
                let channel: String = r.get(2)?;
                let options: String = r.get(5)?;
                Ok(Draft {
                    conversation_key: r.get(0)?,
                    draft_id: r.get(1)?,
                    channel: Channel::parse(&channel),
                    subject: r.get(3)?,
                    body: r.get(4)?,
                    options: serde_json::from_str(&options).unwrap_or_default(),
                })
            })
            .optional()?)
    }

    /// Save a draft; an empty one is removed. A draft whose id was already sent is not brought back.
    pub fn save_draft(&mut self, d: &Draft) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sent = tx
            .prepare_cached("SELECT 1 FROM outbox WHERE client_id = ?1")?
            .query_row([&d.draft_id], |_| Ok(()))
            .optional()?
            .is_some();
        if d.body.trim().is_empty() && d.subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
            tx.execute(
                "DELETE FROM drafts WHERE conversation_key = ?1 AND draft_id = ?2",
                params![d.conversation_key, d.draft_id],
            )?;
        } else if !sent {
            tx.prepare_cached(
                "INSERT INTO drafts (conversation_key, draft_id, channel, subject, body, options, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (conversation_key) DO UPDATE SET draft_id = excluded.draft_id,
                    channel = excluded.channel, subject = excluded.subject, body = excluded.body,
                    options = excluded.options, updated_at = excluded.updated_at",
            )?
            .execute(params![
                d.conversation_key,
                d.draft_id,
                d.channel.as_str(),
                d.subject,
                d.body,
                serde_json::to_string(&d.options)?,
                chrono::Utc::now().timestamp_millis()
            ])?;
        }
        tx.commit()?;
        Ok(())
    }
}
