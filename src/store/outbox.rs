//! Drafts and the outbox. Every step of a send is its own committed transaction, so whatever
//! happens to the process, the row says how far the message got: `queued` (ours alone), `sending`
//! (the request may be on the wire), then whatever myKaarma, its callbacks or its webhooks report.

use super::Store;
use crate::providers::{Change, Parsed};
use crate::send::outbox::{OutboxEntry, OutboxStatus, Problem, Protocol, SendOptions};
use crate::send::wire::SendResponse;
use anyhow::{Context, Result, bail};
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};

/// A reply being written, saved per conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub conversation: String,
    /// Random; the outbox's `client_id` when this draft is sent, so it can be sent only once.
    pub draft_id: String,
    pub protocol: Protocol,
    pub subject: Option<String>,
    pub body: String,
    pub options: SendOptions,
}

/// A reply to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewSend {
    /// One send per client id, ever: a draft's id, or a script's idempotency key.
    pub client_id: String,
    pub conversation: String,
    pub protocol: Protocol,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub options: SendOptions,
}

/// The outbox entry, and whether this call created it (false: the client id was sent before).
#[derive(Debug, Clone)]
pub struct Enqueued {
    pub entry: OutboxEntry,
    pub created: bool,
    pub callback_token: String,
}

/// What one attempt (or a report about it) says.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub status: Option<OutboxStatus>,
    pub http_status: Option<u16>,
    pub message_uuid: Option<String>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub next_try_at: Option<i64>,
}

/// What the sender needs to address a myKaarma conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub conversation: String,
    pub provider: String,
    pub department_uuid: Option<String>,
    pub customer_uuid: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub channels: Vec<String>,
}

pub fn new_client_id() -> Result<String> {
    crate::random::hex(16)
}

const ENTRY_COLUMNS: &str = "id, client_id, conversation_key, protocol, recipient, subject, body, options, status,
     created_at, status_at, attempts, http_status, message_uuid, message_key, errors, warnings";

fn entry_row(r: &Row) -> rusqlite::Result<OutboxEntry> {
    let json = |i: usize| -> rusqlite::Result<Vec<Problem>> {
        let text: Option<String> = r.get(i)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
    };
    let protocol: String = r.get(3)?;
    let options: String = r.get(7)?;
    let status: String = r.get(8)?;
    Ok(OutboxEntry {
        id: r.get(0)?,
        client_id: r.get(1)?,
        conversation: r.get(2)?,
        protocol: Protocol::parse(&protocol).unwrap_or_default(),
        recipient: r.get(4)?,
        subject: r.get(5)?,
        body: r.get(6)?,
        options: serde_json::from_str(&options).unwrap_or_default(),
        status: OutboxStatus::parse(&status).unwrap_or(OutboxStatus::Unknown),
        created_at: super::rfc3339(r.get(9)?),
        status_at: super::rfc3339(r.get(10)?),
        attempts: r.get(11)?,
        http_status: r.get(12)?,
        message_uuid: r.get(13)?,
        message_key: r.get(14)?,
        errors: json(15)?,
        warnings: json(16)?,
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
fn apply(tx: &Transaction, id: i64, report: &Report) -> Result<bool> {
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
            message_uuid = coalesce(message_uuid, ?5),
            errors       = CASE WHEN ?2 IS NOT NULL AND ?6 IS NOT NULL THEN ?6 ELSE errors END,
            warnings     = coalesce(?7, warnings),
            next_try_at  = CASE WHEN ?2 = 'queued' THEN ?8 ELSE next_try_at END,
            sending_pid  = CASE WHEN ?2 IS NULL OR ?2 = 'sending' THEN sending_pid ELSE NULL END
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        next.map(|s| s.as_str()),
        now,
        report.http_status,
        report.message_uuid,
        errors,
        warnings,
        report.next_try_at
    ])?;
    if next.is_some() {
        refresh_counts(tx, &current.conversation)?;
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
        super::fold::refresh_conversation(tx, id)?;
    }
    Ok(())
}

impl Store {
    pub fn load_draft(&self, conversation: &str) -> Result<Option<Draft>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT conversation_key, draft_id, protocol, subject, body, options FROM drafts WHERE conversation_key = ?1",
            )?
            .query_row([conversation], |r| {
                let protocol: String = r.get(2)?;
                let options: String = r.get(5)?;
                Ok(Draft {
                    conversation: r.get(0)?,
                    draft_id: r.get(1)?,
                    protocol: Protocol::parse(&protocol).unwrap_or_default(),
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
                params![d.conversation, d.draft_id],
            )?;
        } else if !sent {
            tx.prepare_cached(
                "INSERT INTO drafts (conversation_key, draft_id, protocol, subject, body, options, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (conversation_key) DO UPDATE SET draft_id = excluded.draft_id,
                    protocol = excluded.protocol, subject = excluded.subject, body = excluded.body,
                    options = excluded.options, updated_at = excluded.updated_at",
            )?
            .execute(params![
                d.conversation,
                d.draft_id,
                d.protocol.as_str(),
                d.subject,
                d.body,
                serde_json::to_string(&d.options)?,
                now_ms()
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Put a reply in the outbox as `queued`, with its callback token, and retire the draft it came
    /// from, in one transaction. A client id seen before returns the existing entry instead.
    pub fn enqueue(&mut self, send: &NewSend) -> Result<Enqueued> {
        let now = now_ms();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx
            .prepare_cached(
                "INSERT INTO outbox (client_id, conversation_key, protocol, recipient, subject, body, options, status,
                                     created_at, status_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?8) ON CONFLICT (client_id) DO NOTHING",
            )?
            .execute(params![
                send.client_id,
                send.conversation,
                send.protocol.as_str(),
                send.recipient,
                send.subject,
                send.body,
                serde_json::to_string(&send.options)?,
                now
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
                params![send.conversation, send.client_id],
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

    /// Where a conversation's replies go, when it is a myKaarma conversation.
    pub fn target(&self, conversation: &str) -> Result<Target> {
        let row = self
            .conn
            .query_row(
                "SELECT key, provider, vendor_contact_id, contact_phone, contact_email, channels
                 FROM conversations WHERE key = ?1",
                [conversation],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((key, provider, contact_id, phone, email, channels)) = row else {
            bail!("no conversation `{conversation}`");
        };
        // myKaarma conversation keys are `mykaarma:{customer}@{department}`.
        let department = key
            .strip_prefix("mykaarma:")
            .and_then(|rest| rest.rsplit_once('@'))
            .map(|(_, d)| d.to_string());
        Ok(Target {
            conversation: key,
            provider,
            department_uuid: department,
            customer_uuid: contact_id,
            phone,
            email,
            channels: channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

fn process_alive(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// A send callback for entry `outbox_id`, inside the transaction that stored it.
pub(super) fn apply_callback(tx: &Transaction, outbox_id: i64, body: &[u8]) -> Result<()> {
    let Ok(cb) = serde_json::from_slice::<SendResponse>(body) else {
        return Ok(()); // stored as rejected for inspection; nothing to apply
    };
    let status = if cb.succeeded() {
        Some(OutboxStatus::Sent)
    } else if cb.failed() {
        Some(OutboxStatus::Failed)
    } else {
        None
    };
    let report = Report {
        status,
        message_uuid: cb.message_uuid.clone(),
        errors: cb.problems(),
        warnings: cb.warning_problems(),
        ..Report::default()
    };
    apply(tx, outbox_id, &report)?;
    Ok(())
}

/// After a batch of webhook events is folded: tie our open outbox entries to the myKaarma messages
/// they became, and let the messages' statuses move them on.
///
/// An entry with a `messageUUID` matches `messageDTO.uuid`. One whose answer was lost (`unknown`,
/// `sending`) has no uuid; it matches the one outbound message in its conversation, sent after it
/// was queued, whose text starts with ours (myKaarma appends signatures and footers).
pub(super) fn reconcile(tx: &Transaction, parsed: &[Parsed]) -> Result<()> {
    let open: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending', 'accepted', 'sent', 'unknown')",
        )?
        .query_row([], |r| r.get(0))?;
    if open == 0 {
        return Ok(());
    }
    for p in parsed {
        let crate::providers::Outcome::Ok(changes) = &p.outcome else {
            continue;
        };
        for change in changes {
            let Change::Message(part) = change else { continue };
            if !part.key.starts_with("mykaarma:") {
                continue;
            }
            link_message(tx, &part.conversation.key, &part.key, &part.provider_message_id)?;
        }
    }
    Ok(())
}

fn link_message(tx: &Transaction, conversation: &str, message_key: &str, uuid: &str) -> Result<()> {
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
        return Ok(());
    };
    if direction != "outbound" {
        return Ok(());
    }
    let mut id: Option<i64> = tx
        .prepare_cached("SELECT id FROM outbox WHERE message_uuid = ?1 OR message_key = ?2 LIMIT 1")?
        .query_row(params![uuid, message_key], |r| r.get(0))
        .optional()?;
    if id.is_none() {
        let candidates: Vec<(i64, String)> = tx
            .prepare_cached(
                "SELECT id, body FROM outbox
                 WHERE status IN ('sending', 'unknown', 'accepted') AND conversation_key = ?1
                   AND message_uuid IS NULL AND message_key IS NULL AND created_at <= ?2 + 300000",
            )?
            .query_map(params![conversation, at], |r| Ok((r.get(0)?, r.get(1)?)))?
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
    let Some(id) = id else { return Ok(()) };
    tx.prepare_cached("UPDATE outbox SET message_key = ?2, message_uuid = coalesce(message_uuid, ?3) WHERE id = ?1")?
        .execute(params![id, message_key, uuid])?;
    let next = match status.as_str() {
        "sent" => Some(OutboxStatus::Sent),
        "delivered" | "read" => Some(OutboxStatus::Delivered),
        "failed" => Some(OutboxStatus::Failed),
        _ => None,
    };
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
    Ok(())
}

/// Text compared for matching: whitespace runs collapsed.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
