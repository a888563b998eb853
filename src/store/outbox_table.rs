//! The outbox table. Every step of a send is its own committed transaction, so whatever happens to
//! the process, the row says how far the message got: `queued` (ours alone), `sending` (the request
//! may be on the wire), then whatever the vendor's answer, callbacks, webhooks or lookups report.

use super::Store;
use crate::model::{Channel, Direction, Provider, Status, timestamp};
use crate::outbox::{Enqueued, NewSend, OutboxEntry, OutboxStatus, Problem, Report, Target};
use crate::providers::{Change, Parsed};
use anyhow::{Context, Result, bail};
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};

pub fn new_client_id() -> Result<String> {
    crate::random::hex(16)
}

const ENTRY_COLUMNS: &str = "id, client_id, conversation_key, channel, recipient, subject, body, options, status,
     created_at, status_at, attempts, http_status, vendor_message_id, message_key, errors, warnings, provider,
     reply_to, next_try_at, sent_by";
/// How many columns `ENTRY_COLUMNS` names: a query that selects more reads them from here on.
const ENTRY_COLUMN_COUNT: usize = 21;

fn entry_row(r: &Row) -> rusqlite::Result<OutboxEntry> {
    let json = |i: usize| -> rusqlite::Result<Vec<Problem>> {
        let text: Option<String> = r.get(i)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
    };
    let channel: String = r.get(3)?;
    let options: String = r.get(7)?;
    let status: String = r.get(8)?;
    let provider: String = r.get(17)?;
    let at = |i: usize| -> rusqlite::Result<_> { Ok(timestamp(r.get(i)?).unwrap_or_default()) };
    Ok(OutboxEntry {
        id: r.get(0)?,
        client_id: r.get(1)?,
        conversation_key: r.get(2)?,
        provider: Provider::parse(&provider),
        channel: Channel::parse(&channel),
        recipient: r.get(4)?,
        subject: r.get(5)?,
        body: r.get(6)?,
        options: serde_json::from_str(&options).unwrap_or_default(),
        status: OutboxStatus::parse(&status).unwrap_or(OutboxStatus::Unknown),
        created_at: at(9)?,
        status_at: at(10)?,
        attempts: r.get(11)?,
        http_status: r.get(12)?,
        vendor_message_id: r.get(13)?,
        message_key: r.get(14)?,
        errors: json(15)?,
        warnings: json(16)?,
        reply_to: r.get(18)?,
        next_try_at: r.get::<_, Option<i64>>(19)?.and_then(timestamp),
        sent_by: r.get(20)?,
    })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn load(tx: &rusqlite::Connection, id: i64) -> Result<Option<OutboxEntry>> {
    Ok(tx
        .prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE id = ?1"))?
        .query_row([id], entry_row)
        .optional()?)
}

/// Apply a report to an entry inside `tx`, moving its status only forward. Returns whether the
/// status changed.
pub(super) fn apply(tx: &Transaction, id: i64, report: &Report) -> Result<bool> {
    let Some(current) = load(tx, id)? else {
        return Ok(false);
    };
    let next = report.status.filter(|s| current.status.may_become(*s));
    let now = now_ms();
    let errors = (!report.errors.is_empty())
        .then(|| serde_json::to_string(&report.errors))
        .transpose()?;
    let warnings = (!report.warnings.is_empty())
        .then(|| serde_json::to_string(&report.warnings))
        .transpose()?;
    tx.prepare_cached(
        "UPDATE outbox SET
            status       = coalesce(?2, status),
            status_at    = CASE WHEN ?2 IS NULL THEN status_at ELSE ?3 END,
            http_status  = coalesce(?4, http_status),
            vendor_message_id = coalesce(vendor_message_id, ?5),
            errors       = CASE WHEN ?2 IS NOT NULL AND ?6 IS NOT NULL THEN ?6 ELSE errors END,
            warnings     = coalesce(?7, warnings),
            next_try_at  = CASE WHEN ?2 IS NULL THEN coalesce(?8, next_try_at) ELSE ?8 END,
            sending_pid  = CASE WHEN ?2 IS NULL OR ?2 = 'sending' THEN sending_pid ELSE NULL END
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        next.map(|s| s.as_str()),
        now,
        report.http_status,
        report.vendor_message_id,
        errors,
        warnings,
        report.next_try_at
    ])?;
    if next.is_some() {
        refresh_counts(tx, &current.conversation_key)?;
    }
    Ok(next.is_some())
}

/// The conversation's failure counts include its failed replies: recount after a reply moves.
fn refresh_counts(tx: &Transaction, conversation: &str) -> Result<()> {
    let id: Option<i64> = tx
        .prepare_cached("SELECT id FROM conversations WHERE key = ?1")?
        .query_row([conversation], |r| r.get(0))
        .optional()?;
    if let Some(id) = id {
        super::list_columns::refresh_conversation(tx, id)?;
    }
    Ok(())
}

impl Store {
    /// Put a reply in the outbox as `queued`, with its callback token, and retire the draft it came
    /// from, in one transaction. A client id seen before returns the existing entry instead.
    pub fn enqueue(&mut self, send: &NewSend) -> Result<Enqueued> {
        let now = now_ms();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx
            .prepare_cached(
                "INSERT INTO outbox (client_id, conversation_key, channel, recipient, subject, body, options, status,
                                     created_at, status_at, provider, reply_to, sent_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?8, ?9, ?10, ?11) ON CONFLICT (client_id) DO NOTHING",
            )?
            .execute(params![
                send.client_id,
                send.conversation_key,
                send.channel.as_str(),
                send.recipient,
                send.subject,
                send.body,
                serde_json::to_string(&send.options)?,
                now,
                send.provider.as_str(),
                send.reply_to,
                self.viewer.as_ref().map(|v| v.name.as_str())
            ])?;
        let id: i64 = tx.query_row("SELECT id FROM outbox WHERE client_id = ?1", [&send.client_id], |r| {
            r.get(0)
        })?;
        let callback_token = if n == 1 {
            let token = new_client_id()?;
            tx.execute(
                "INSERT INTO callback_tokens (token, outbox_id, created_at) VALUES (?1, ?2, ?3)",
                params![token, id, now],
            )?;
            tx.execute(
                "DELETE FROM drafts WHERE conversation_key = ?1 AND draft_id = ?2",
                params![send.conversation_key, send.client_id],
            )?;
            token
        } else {
            tx.query_row(
                "SELECT token FROM callback_tokens WHERE outbox_id = ?1 ORDER BY created_at LIMIT 1",
                [id],
                |r| r.get(0),
            )?
        };
        let entry = load(&tx, id)?.context("outbox entry vanished")?;
        tx.commit()?;
        Ok(Enqueued {
            entry,
            created: n == 1,
            callback_token,
        })
    }

    /// Take a queued entry for sending: `sending` is committed (FULL sync) before this returns, and
    /// only one caller in any process can win it.
    pub fn claim(&mut self, id: i64) -> Result<Option<OutboxEntry>> {
        let now = now_ms();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx
            .prepare_cached(
                "UPDATE outbox SET status = 'sending', status_at = ?2, sending_at = ?2, sending_pid = ?3,
                        attempts = attempts + 1, next_try_at = NULL
                 WHERE id = ?1 AND status = 'queued' AND coalesce(next_try_at, 0) <= ?2",
            )?
            .execute(params![id, now, std::process::id()])?;
        let entry = if n == 1 { load(&tx, id)? } else { None };
        tx.commit()?;
        Ok(entry)
    }

    /// Record what an attempt, a callback or the user learned about an entry.
    pub fn record(&mut self, id: i64, report: &Report) -> Result<OutboxEntry> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        apply(&tx, id, report)?;
        let entry = load(&tx, id)?.context("no such outbox entry")?;
        tx.commit()?;
        Ok(entry)
    }

    pub fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>> {
        load(&self.conn, id)
    }

    pub fn callback_token(&self, outbox_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT token FROM callback_tokens WHERE outbox_id = ?1 ORDER BY created_at LIMIT 1",
                [outbox_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Newest entries first, all conversations or one.
    pub fn outbox(&self, conversation: Option<&str>, limit: usize) -> Result<Vec<OutboxEntry>> {
        // Two statements, so the per-conversation one (every thread page asks it) uses its index.
        let sql = match conversation {
            Some(_) => {
                format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE conversation_key = ?1 ORDER BY id DESC LIMIT ?2")
            }
            None => format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2"),
        };
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map(params![conversation, limit as i64], entry_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Entries waiting to be sent now (queued, retry time reached, younger than `max_age_ms`); older
    /// queued ones are failed instead of sent by surprise long after they were written.
    pub fn due(&mut self, max_age_ms: i64) -> Result<Vec<i64>> {
        let now = now_ms();
        let stale = Report {
            status: Some(OutboxStatus::Failed),
            errors: vec![Problem::ours(
                "NOT_SENT_STALE",
                "Not sent: Switchboard stopped before sending it, too long ago to send without asking. Send it again if it is still wanted."
                    .into(),
            )],
            ..Report::default()
        };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old: Vec<i64> = tx
            .prepare_cached("SELECT id FROM outbox WHERE status = 'queued' AND created_at < ?1")?
            .query_map([now - max_age_ms], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in old {
            apply(&tx, id, &stale)?;
        }
        let due = tx
            .prepare_cached(
                "SELECT id FROM outbox WHERE status = 'queued' AND coalesce(next_try_at, 0) <= ?1 ORDER BY id",
            )?
            .query_map([now], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        tx.commit()?;
        Ok(due)
    }

    /// Accepted replies due a status lookup at their vendor (their webhook has not come), with how
    /// many lookups each has had.
    /// Outbox entries by state (for `/metrics`).
    pub fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut q = self
            .conn
            .prepare_cached("SELECT status, count(*) FROM outbox GROUP BY status")?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn due_lookups(&self) -> Result<Vec<(OutboxEntry, i64)>> {
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS}, lookups FROM outbox
             WHERE status IN ('accepted', 'sent') AND next_try_at IS NOT NULL AND next_try_at <= ?1
               AND vendor_message_id IS NOT NULL ORDER BY id LIMIT 100"
        ))?;
        let rows = q.query_map([now_ms()], |r| Ok((entry_row(r)?, r.get(ENTRY_COLUMN_COUNT)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record what a status lookup learned; one lookup more is counted, and the next is due when
    /// the report says (never, without one).
    pub fn record_lookup(&mut self, id: i64, report: &Report) -> Result<OutboxEntry> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("UPDATE outbox SET lookups = lookups + 1, next_try_at = ?2 WHERE id = ?1")?
            .execute(params![id, report.next_try_at])?;
        apply(&tx, id, report)?;
        let entry = load(&tx, id)?.context("no such outbox entry")?;
        tx.commit()?;
        Ok(entry)
    }

    /// `sending` entries whose sender is gone (its process died, or it has been longer than any
    /// request may take) become `unknown`: the request may have reached myKaarma.
    pub fn sweep_interrupted(&mut self, longest_request_ms: i64) -> Result<usize> {
        let now = now_ms();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = tx
            .prepare_cached("SELECT id, sending_pid, sending_at FROM outbox WHERE status = 'sending'")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut swept = 0;
        for (id, pid, at) in rows {
            let alive = pid.is_some_and(|p| p as u32 == std::process::id() || process_alive(p));
            let overdue = at.is_none_or(|a| now - a > longest_request_ms);
            if !alive || overdue {
                let report = Report {
                    status: Some(OutboxStatus::Unknown),
                    ..Report::default()
                };
                if apply(&tx, id, &report)? {
                    swept += 1;
                }
            }
        }
        tx.commit()?;
        Ok(swept)
    }

    /// What the vendors know about their conversations, for a stand-in of them: each HighLevel
    /// contact's conversation, and each Partoo conversation's channel (its `messaging_partner`).
    pub fn vendor_conversations(&self) -> Result<crate::outbox::VendorConversations> {
        let mut known = crate::outbox::VendorConversations::default();
        let mut q = self.conn.prepare(
            "SELECT provider, key, vendor_contact_id, channels FROM conversations WHERE provider IN ('highlevel', 'partoo')",
        )?;
        let rows = q.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (provider, key, contact, channels) = row?;
            let id = key.split_once(':').map_or(key.as_str(), |(_, id)| id).to_string();
            match (provider.as_str(), contact) {
                ("highlevel", Some(contact)) => {
                    known.highlevel.insert(contact, id);
                }
                ("partoo", _) => {
                    let partner = match channels.split(',').next().map(Channel::parse) {
                        Some(Channel::Google) => "Google",
                        Some(Channel::Facebook) => "Facebook",
                        Some(Channel::Instagram) => "Instagram",
                        Some(Channel::Whatsapp) => "Whatsapp",
                        _ => "SMS",
                    };
                    known.partoo.insert(id, partner.to_string());
                }
                _ => {}
            }
        }
        Ok(known)
    }

    /// Where a conversation's replies go.
    pub fn target(&self, conversation_key: &str) -> Result<Target> {
        let row = self
            .conn
            .query_row(
                "SELECT id, provider, vendor_contact_id, contact_phone, contact_email, channels
                 FROM conversations WHERE key = ?1",
                [conversation_key],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, provider, contact_id, phone, email, channels)) = row else {
            bail!("no conversation `{conversation_key}`");
        };
        let last_inbound = |only_email: bool| -> Result<Option<(String, String)>> {
            Ok(self
                .conn
                .prepare_cached(
                    "SELECT channel, provider_message_id FROM messages
                     WHERE conversation_id = ?1 AND direction = 'inbound' AND draft = 0 AND (NOT ?2 OR channel = 'email')
                     ORDER BY at DESC, key DESC LIMIT 1",
                )?
                .query_row(params![id, only_email], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        };
        Ok(Target {
            vendor_conversation_id: conversation_key
                .split_once(':')
                .map_or(conversation_key, |(_, rest)| rest)
                .to_string(),
            conversation_key: conversation_key.to_string(),
            provider: Provider::parse(&provider),
            vendor_contact_id: contact_id,
            phone,
            email,
            channels: channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(Channel::parse)
                .collect(),
            last_inbound_channel: last_inbound(false)?.map(|(c, _)| Channel::parse(&c)),
            last_inbound_email: last_inbound(true)?.map(|(_, id)| id),
        })
    }
}

/// Record a send callback's report for entry `outbox_id`, inside the transaction that stored it.
pub(super) fn apply_callback(tx: &Transaction, outbox_id: i64, report: &Report) -> Result<()> {
    apply(tx, outbox_id, report)?;
    Ok(())
}

fn process_alive(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// After a batch of webhook events is folded: tie our open outbox entries to the vendor messages
/// they became, and let the messages' statuses move them on.
///
/// An entry with the vendor's message id (myKaarma `messageUUID`, HighLevel `messageId`, Partoo
/// `message_id`) matches the message reported with that id. One whose answer was lost (`unknown`,
/// `sending`) has no id; it matches the one outbound message in its conversation, sent after it
/// was queued, whose text starts with ours (myKaarma appends signatures and footers). True when
/// it linked any (the conversation's counts of failed replies change).
pub(super) fn reconcile<'a>(tx: &Transaction, parsed: impl IntoIterator<Item = &'a Parsed>) -> Result<bool> {
    let open: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending', 'accepted', 'sent', 'unknown')",
        )?
        .query_row([], |r| r.get(0))?;
    if open == 0 {
        return Ok(false);
    }
    let mut linked = false;
    for p in parsed {
        let crate::providers::Outcome::Ok(changes) = &p.outcome else {
            continue;
        };
        for change in changes {
            let Change::Message(part) = change else { continue };
            linked |= link_message(tx, &part.conversation.key, &part.key, &part.provider_message_id)?;
        }
    }
    Ok(linked)
}

fn link_message(tx: &Transaction, conversation_key: &str, message_key: &str, vendor_id: &str) -> Result<bool> {
    let message = tx
        .prepare_cached("SELECT direction, body, status, status_detail, at FROM messages WHERE key = ?1 AND draft = 0")?
        .query_row([message_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()?;
    let Some((direction, body, status, detail, at)) = message else {
        return Ok(false);
    };
    if Direction::parse(&direction) != Some(Direction::Outbound) {
        return Ok(false);
    }
    let mut id: Option<i64> = tx
        .prepare_cached("SELECT id FROM outbox WHERE vendor_message_id = ?1 OR message_key = ?2 LIMIT 1")?
        .query_row(params![vendor_id, message_key], |r| r.get(0))
        .optional()?;
    if id.is_none() {
        let candidates: Vec<(i64, String)> = tx
            .prepare_cached(
                "SELECT id, body FROM outbox
                 WHERE status IN ('sending', 'unknown', 'accepted') AND conversation_key = ?1
                   AND vendor_message_id IS NULL AND message_key IS NULL AND created_at <= ?2 + 300000",
            )?
            .query_map(params![conversation_key, at], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let text = body.as_deref().map(squash).unwrap_or_default();
        let matching: Vec<i64> = candidates
            .into_iter()
            .filter(|(_, ours)| !ours.trim().is_empty() && text.starts_with(&squash(ours)))
            .map(|(id, _)| id)
            .collect();
        if let [only] = matching[..] {
            id = Some(only);
        }
    }
    let Some(id) = id else { return Ok(false) };
    tx.prepare_cached(
        "UPDATE outbox SET message_key = ?2, vendor_message_id = coalesce(vendor_message_id, ?3) WHERE id = ?1",
    )?
    .execute(params![id, message_key, vendor_id])?;
    let next = OutboxStatus::from_message(&Status::parse(&status));
    let errors = match (next, detail) {
        (Some(OutboxStatus::Failed), Some(d)) => vec![Problem {
            code: "DELIVERY_FAILED".into(),
            description: Some(d),
            advice: None,
        }],
        _ => vec![],
    };
    apply(
        tx,
        id,
        &Report {
            status: next,
            errors,
            ..Report::default()
        },
    )?;
    Ok(true)
}

/// Text compared for matching: whitespace runs collapsed.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
