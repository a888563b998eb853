//! Read queries: one page at a time, each served by an index.

use super::Store;
use crate::model::{Attachment, Call, Channel, Contact, Conversation, Direction, Message, Provider, Status, timestamp};
use anyhow::{Result, bail};
use rusqlite::{OptionalExtension, Row, params_from_iter, types::Value};

/// Which conversations a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConversationFilter {
    #[default]
    All,
    Unread,
    /// Conversations with a failed outbound message.
    Failed,
    Channel(String),
    Provider(String),
    /// Assigned to the reader.
    Mine,
    /// Assigned to nobody.
    Unassigned,
    /// Marked done (and not reopened since).
    Done,
    /// Snoozed, not yet back.
    Snoozed,
}

impl ConversationFilter {
    /// `failed`, `unread`, `all`, a channel word or a vendor name.
    pub fn parse(word: &str) -> Result<Self> {
        let w = word.trim().to_ascii_lowercase();
        Ok(match w.as_str() {
            "all" => Self::All,
            "unread" => Self::Unread,
            "failed" => Self::Failed,
            "mine" => Self::Mine,
            "unassigned" => Self::Unassigned,
            "done" => Self::Done,
            "snoozed" => Self::Snoozed,
            _ if crate::model::Channel::KNOWN.contains(&w.as_str()) || w == "other" => Self::Channel(w),
            _ if crate::model::Provider::KNOWN.contains(&w.as_str()) => Self::Provider(w),
            _ => bail!(
                "unknown filter `{word}`: use all, unread, mine, unassigned, failed, done, snoozed, a channel ({}) or a vendor ({})",
                crate::model::Channel::KNOWN.join(", "),
                crate::model::Provider::KNOWN.join(", ")
            ),
        })
    }
}

/// An outbound message that failed (or whose fate is unknown), with its conversation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailureRow {
    pub conversation_key: String,
    pub contact: Contact,
    pub message: Message,
}

/// One stored raw event, without its body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub received_at: String,
    pub source: String,
    pub provider: String,
    pub event_type: Option<String>,
    pub dedupe_key: String,
    pub event_at: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub size: i64,
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

/// The reader's unread count: their own marks once they have any, else the shared ones.
const CONVERSATION_COLUMNS: &str = "c.key, c.provider, c.contact_name, c.contact_phone, c.contact_email, c.channels,
     c.last_at, c.preview,
     CASE WHEN r.advisor IS NULL THEN c.unread ELSE max(r.unread, r.marked_unread) END,
     c.message_count, c.failed_count, c.vendor_unread, c.assignee, c.parked";

/// Joined after `conversations c` in every list query; its one parameter is the reader's name.
const READER_JOIN: &str = "LEFT JOIN advisor_reads r ON r.advisor = ? AND r.conversation_key = c.key";

fn conversation_row(r: &Row) -> rusqlite::Result<Conversation> {
    let channels: String = r.get(5)?;
    Ok(Conversation {
        conversation_key: r.get(0)?,
        provider: Provider::parse(&r.get::<_, String>(1)?),
        contact: Contact {
            name: r.get(2)?,
            phone: r.get(3)?,
            email: r.get(4)?,
        },
        channels: channels
            .split(',')
            .filter(|c| !c.is_empty())
            .map(Channel::parse)
            .collect(),
        last_activity: r.get::<_, Option<i64>>(6)?.and_then(timestamp),
        preview: r.get(7)?,
        unread: r.get(8)?,
        message_count: r.get(9)?,
        failed_count: r.get(10)?,
        vendor_unread: r.get(11)?,
        assignee: r.get(12)?,
        done: r.get::<_, i64>(13)? == 1,
        snoozed_until: Some(r.get::<_, i64>(13)?).filter(|&p| p > 1).and_then(timestamp),
    })
}

/// A search lists at most this many conversations (those with the newest matching messages)…
pub const SEARCH_CONVERSATIONS: usize = 1000;
/// …found among at most this many of the newest matching messages.
pub const SEARCH_SCAN: i64 = 50_000;

/// An outbox entry shown in its thread before any webhook reported it.
fn outbox_message(e: &crate::outbox::OutboxEntry) -> Message {
    Message {
        message_key: format!("outbox:{}", e.id),
        provider_message_id: e.vendor_message_id.clone().unwrap_or_default(),
        channel: e.channel.clone(),
        direction: Direction::Outbound,
        at: Some(e.created_at),
        sender: Some(e.sent_by.clone().unwrap_or_else(|| "you (Switchboard)".into())),
        subject: e.subject.clone(),
        body: Some(e.body.clone()),
        status: e.status.as_status(),
        status_detail: e.explanation(),
        attachments: vec![],
        call: None,
        draft: false,
        deleted: false,
    }
}

const MESSAGE_COLUMNS: &str = "m.key, m.provider_message_id, m.channel, m.direction, m.at, m.sender, m.subject, m.body,
     m.status, m.status_detail, m.attachments, m.call, m.draft, m.deleted, m.channel_raw";

fn message_row(r: &Row) -> rusqlite::Result<Message> {
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let attachments: Option<String> = r.get(10)?;
    let attachments: Vec<Attachment> = match attachments {
        Some(s) => serde_json::from_str(&s).map_err(|e| json_err(10, e))?,
        None => vec![],
    };
    let call: Option<String> = r.get(11)?;
    let call: Option<Call> = call
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| json_err(11, e))?;
    let channel: String = r.get(2)?;
    let channel_raw: Option<String> = r.get(14)?;
    Ok(Message {
        message_key: r.get(0)?,
        provider_message_id: r.get(1)?,
        // An unknown channel keeps what the vendor called it.
        channel: match (Channel::parse(&channel), channel_raw) {
            (Channel::Other(_), Some(raw)) => Channel::Other(raw),
            (known, _) => known,
        },
        direction: Direction::parse(&r.get::<_, String>(3)?).unwrap_or(Direction::Internal),
        at: timestamp(r.get(4)?),
        sender: r.get(5)?,
        subject: r.get(6)?,
        body: r.get(7)?,
        status: Status::parse(&r.get::<_, String>(8)?),
        status_detail: r.get(9)?,
        attachments,
        call,
        draft: r.get::<_, i64>(12)? != 0,
        deleted: r.get(13)?,
    })
}

/// Turn what a person types into an FTS5 query: every word must appear, the last as a prefix.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last { format!("{w}*") } else { w.clone() })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl Store {
    /// Conversations, newest activity first.
    pub fn conversations(
        &self,
        filter: &ConversationFilter,
        search: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Conversation>> {
        self.conversations_page(filter, search, None, limit)
    }

    /// A page of conversations, newest activity first, after the `(last activity ms, key)` of the
    /// previous page's last row (keyset paging: the same cost on page 1 and page 1,000).
    pub fn conversations_page(
        &self,
        filter: &ConversationFilter,
        search: Option<&str>,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<Conversation>> {
        // Walk the activity index in order and stop at `limit` matches; left to itself the planner
        // may pick a filter's partial index and sort every match instead.
        // Unread and failed conversations are few: their own activity-ordered partial indexes hold
        // only them, so a page never walks past thousands of others.
        let reader = self.reader().map(|v| v.name.clone());
        let index = match filter {
            ConversationFilter::Unread if reader.is_none() => "conversations_unread_activity".to_string(),
            ConversationFilter::Failed => "conversations_failed_activity".to_string(),
            ConversationFilter::Channel(ch) if Channel::KNOWN.contains(&ch.as_str()) || ch == "other" => {
                format!("conversations_channel_{ch}")
            }
            ConversationFilter::Provider(p) if ["mykaarma", "highlevel", "partoo"].contains(&p.as_str()) => {
                format!("conversations_provider_{p}")
            }
            ConversationFilter::Mine | ConversationFilter::Unassigned => "conversations_assignee".to_string(),
            ConversationFilter::Done | ConversationFilter::Snoozed => "conversations_parked".to_string(),
            _ => "conversations_activity".to_string(),
        };
        let mut args: Vec<Value> = vec![Value::Text(reader.clone().unwrap_or_default())];
        let own_unread = matches!(filter, ConversationFilter::Unread) && reader.is_some();
        // The order walked: the index's own columns, so no page ever sorts.
        let (order_at, order_key) = if own_unread {
            ("r.last_at", "r.conversation_key")
        } else {
            ("c.last_at", "c.key")
        };
        let mut sql = if own_unread {
            // The reader's unread conversations: their own rows in activity order, nobody else's.
            format!(
                "SELECT {CONVERSATION_COLUMNS} FROM advisor_reads r INDEXED BY advisor_unread_activity
                 JOIN conversations c ON c.key = r.conversation_key
                 WHERE r.advisor = ? AND (r.unread > 0 OR r.marked_unread) AND c.message_count > 0"
            )
        } else {
            format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c INDEXED BY {index} {READER_JOIN}
                 WHERE c.message_count > 0"
            )
        };
        let now = chrono::Utc::now().timestamp_millis();
        // Done and snoozed conversations are out of every list but their own (and the failed one:
        // whoever is on call still has to see a failure).
        if !matches!(
            filter,
            ConversationFilter::Done | ConversationFilter::Snoozed | ConversationFilter::Failed
        ) {
            sql.push_str(" AND (c.parked = 0 OR (c.parked > 1 AND c.parked <= ?))");
            args.push(Value::Integer(now));
        }
        match filter {
            ConversationFilter::All => {}
            ConversationFilter::Unread if reader.is_some() => {}
            ConversationFilter::Unread => sql.push_str(" AND c.unread > 0"),
            ConversationFilter::Failed => sql.push_str(" AND c.failed_count > 0"),
            // A known channel word, written as its partial index's condition so the index applies.
            ConversationFilter::Channel(ch) if Channel::KNOWN.contains(&ch.as_str()) || ch == "other" => {
                sql.push_str(&format!(" AND (',' || c.channels || ',') LIKE '%,{ch},%'"));
            }
            ConversationFilter::Channel(ch) => {
                sql.push_str(" AND (',' || c.channels || ',') LIKE ?");
                args.push(Value::Text(format!("%,{ch},%")));
            }
            ConversationFilter::Provider(p) if ["mykaarma", "highlevel", "partoo"].contains(&p.as_str()) => {
                sql.push_str(&format!(" AND c.provider = '{p}'"));
            }
            ConversationFilter::Provider(p) => {
                sql.push_str(" AND c.provider = ?");
                args.push(Value::Text(p.clone()));
            }
            ConversationFilter::Mine => {
                let tokens = self.viewer.as_ref().map(|v| v.tokens.clone()).unwrap_or_default();
                sql.push_str(" AND c.assignee IN (SELECT value FROM json_each(?))");
                args.push(Value::Text(serde_json::to_string(&tokens)?));
            }
            ConversationFilter::Unassigned => sql.push_str(" AND c.assignee IS NULL"),
            // `parked != 0` as written is the partial index's condition.
            ConversationFilter::Done => sql.push_str(" AND c.parked != 0 AND c.parked = 1"),
            ConversationFilter::Snoozed => {
                sql.push_str(" AND c.parked != 0 AND c.parked > ?");
                args.push(Value::Integer(now));
            }
        }
        if let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) {
            // Accents and case do not matter: `gonzalez` finds González.
            let folded = super::schema::fold(text);
            let like = format!(
                "%{}%",
                folded.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
            );
            sql.push_str(" AND (c.contact_fold LIKE ? ESCAPE '\\'");
            args.push(Value::Text(like));
            if let Some(q) = fts_query(text) {
                sql.push_str(" OR c.id IN (SELECT value FROM json_each(?))");
                args.push(Value::Text(self.search_candidates(&q)?));
            }
            sql.push(')');
        }
        if let Some((at, key)) = after {
            sql.push_str(&format!(" AND ({order_at}, {order_key}) < (?, ?)"));
            args.extend([Value::Integer(at), Value::Text(key.to_string())]);
        }
        sql.push_str(&format!(" ORDER BY {order_at} DESC, {order_key} DESC LIMIT ?"));
        args.push(Value::Integer(limit.min(i64::MAX as usize) as i64));
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map(params_from_iter(args), conversation_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The conversations whose messages match an FTS query, as a JSON array of row ids: those with
    /// the newest matches first, at most `SEARCH_CONVERSATIONS` of them, found among at most
    /// `SEARCH_SCAN` matches. Newest-first is the index's own order, so a word found in most of a
    /// million messages costs a few thousand rows, not a million.
    fn search_candidates(&self, fts: &str) -> Result<String> {
        let mut seen = std::collections::HashSet::new();
        // The words as typed first: FTS5 streams one term's matches newest first, but a prefix
        // (the last word, as typed so far) has every term it covers merged in memory before the
        // first row, which for a common word is most of the index. Only when the exact words fill
        // too little is the prefix asked.
        let exact = fts.strip_suffix('*').filter(|_| fts.ends_with("\"*"));
        for query in exact.into_iter().chain([fts]) {
            let mut q = self.conn.prepare_cached(
                "SELECT m.conversation_id FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                 WHERE messages_fts MATCH ?1 AND m.draft != 2 ORDER BY messages_fts.rowid DESC LIMIT ?2",
            )?;
            let mut rows = q.query(rusqlite::params![query, SEARCH_SCAN])?;
            while let Some(r) = rows.next()? {
                seen.insert(r.get::<_, i64>(0)?);
                if seen.len() >= SEARCH_CONVERSATIONS {
                    break;
                }
            }
            if seen.len() >= SEARCH_CONVERSATIONS {
                break;
            }
        }
        Ok(serde_json::to_string(&seen.into_iter().collect::<Vec<_>>())?)
    }

    /// One conversation by its key.
    pub fn conversation(&self, key: &str) -> Result<Option<Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c {READER_JOIN} WHERE c.key = ?");
        let reader = self.reader().map_or("", |v| v.name.as_str());
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([reader, key], conversation_row)
            .optional()?)
    }

    /// Resolve what a user typed (a full key or an unambiguous prefix of one) to a conversation key.
    pub fn resolve_conversation(&self, typed: &str) -> Result<String> {
        if self.conversation(typed)?.is_some() {
            return Ok(typed.to_string());
        }
        let like = format!(
            "{}%",
            typed.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        let keys: Vec<String> = self
            .conn
            .prepare_cached("SELECT key FROM conversations WHERE key LIKE ?1 ESCAPE '\\' ORDER BY key LIMIT 3")?
            .query_map([like], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match keys.as_slice() {
            [one] => Ok(one.clone()),
            [] => bail!("no conversation `{typed}` (list them with `switchboard conversations`)"),
            _ => bail!(
                "`{typed}` matches several conversations ({}, …): type more of the id",
                keys.join(", ")
            ),
        }
    }

    /// A page of a thread, oldest first, after the `(at, key)` position given (keyset paging).
    pub fn thread_page(&self, key: &str, after: Option<(i64, &str)>, limit: usize) -> Result<Vec<Message>> {
        let (after_at, after_key) = after.unwrap_or((i64::MIN, ""));
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.conversation_id = (SELECT id FROM conversations WHERE key = ?1) AND m.draft != 2
               AND (m.at, m.key) > (?2, ?3)
             ORDER BY m.at, m.key LIMIT ?4"
        );
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map(rusqlite::params![key, after_at, after_key, limit as i64], message_row)?;
        let mut page: Vec<Message> = rows.collect::<rusqlite::Result<_>>()?;
        let last_page = page.len() < limit;
        self.overlay_outbox(key, &mut page, last_page)?;
        Ok(page)
    }

    /// The page of a thread just before `(at, key)` (or its newest page), oldest first: a thread
    /// opens at its end, and scrolling up loads the page before.
    pub fn thread_page_before(&self, key: &str, before: Option<(i64, &str)>, limit: usize) -> Result<Vec<Message>> {
        let (before_at, before_key) = before.unwrap_or((i64::MAX, ""));
        let unbounded = before.is_none();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.conversation_id = (SELECT id FROM conversations WHERE key = ?1) AND m.draft != 2
               AND (?4 OR (m.at, m.key) < (?2, ?3))
             ORDER BY m.at DESC, m.key DESC LIMIT ?5"
        );
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map(
            rusqlite::params![key, before_at, before_key, unbounded, limit as i64],
            message_row,
        )?;
        let mut page: Vec<Message> = rows.collect::<rusqlite::Result<_>>()?;
        page.reverse();
        self.overlay_outbox(key, &mut page, unbounded)?;
        Ok(page)
    }

    /// Our replies in a thread: an outbox entry that became a thread message lends it any status
    /// further along (a callback's failure reason, say); one that has not yet shows on its own, at
    /// the end (`newest`), as `sending`, `accepted`, `unknown`, …
    fn overlay_outbox(&self, key: &str, page: &mut Vec<Message>, newest: bool) -> Result<()> {
        let mut entries = self.outbox(Some(key), 50)?;
        if entries.is_empty() {
            return Ok(());
        }
        entries.reverse();
        let mut added = false;
        for e in &entries {
            if let Some(m) = e
                .message_key
                .as_ref()
                .and_then(|k| page.iter_mut().find(|m| m.message_key == *k))
            {
                // Who sent it is ours to say: the vendor names its API user or the thread's owner.
                if let Some(by) = &e.sent_by {
                    m.sender = Some(by.clone());
                }
                let ours = e.status.as_status();
                if ours.progress() > m.status.progress() {
                    m.status = ours;
                    m.status_detail = e.explanation().or(m.status_detail.take());
                } else if m.status == Status::Failed
                    && e.status == crate::outbox::OutboxStatus::Failed
                    && let Some(words) = e.explanation().filter(|w| Some(w) != m.status_detail.as_ref())
                {
                    m.status_detail = Some(match m.status_detail.take() {
                        Some(vendor) => format!("{words} ({vendor})"),
                        None => words,
                    });
                }
            } else if newest && e.message_key.is_none() {
                page.push(outbox_message(e));
                added = true;
            }
        }
        if added {
            page.sort_by_key(|m| m.at);
        }
        Ok(())
    }

    /// A whole thread, oldest first.
    pub fn thread(&self, key: &str) -> Result<Vec<Message>> {
        self.thread_page(key, None, usize::MAX >> 1)
    }

    /// Failed or unknown outbound messages since `since_ms`, newest first.
    pub fn failures(&self, since_ms: Option<i64>, limit: usize) -> Result<Vec<FailureRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, c.key, c.contact_name, c.contact_phone, c.contact_email
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.status IN ('failed', 'unknown') AND m.direction = 'outbound' AND m.draft = 0 AND m.at >= ?1
             ORDER BY m.at DESC, m.key DESC LIMIT ?2"
        );
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map(rusqlite::params![since_ms.unwrap_or(i64::MIN), limit as i64], |r| {
            Ok(FailureRow {
                message: message_row(r)?,
                conversation_key: r.get(15)?,
                contact: Contact {
                    name: r.get(16)?,
                    phone: r.get(17)?,
                    email: r.get(18)?,
                },
            })
        })?;
        let mut rows: Vec<FailureRow> = rows.collect::<rusqlite::Result<_>>()?;
        // Our replies that failed before any webhook reported them (an opt-out, say).
        let mut q = self.conn.prepare_cached(
            "SELECT o.id, c.key, c.contact_name, c.contact_phone, c.contact_email FROM outbox o
             JOIN conversations c ON c.key = o.conversation_key
             WHERE o.status IN ('failed', 'unknown') AND o.message_key IS NULL AND o.created_at >= ?1
             ORDER BY o.id DESC LIMIT ?2",
        )?;
        let ours: Vec<(i64, String, Contact)> = q
            .query_map(rusqlite::params![since_ms.unwrap_or(i64::MIN), limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    Contact {
                        name: r.get(2)?,
                        phone: r.get(3)?,
                        email: r.get(4)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (id, conversation_key, contact) in ours {
            if let Some(entry) = self.outbox_entry(id)? {
                rows.push(FailureRow {
                    conversation_key,
                    contact,
                    message: outbox_message(&entry),
                });
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.message.at));
        rows.truncate(limit);
        Ok(rows)
    }

    /// Stored events, newest first; only the rejected ones when asked.
    pub fn events(&self, rejected_only: bool, limit: usize) -> Result<Vec<EventRow>> {
        let filter = if rejected_only {
            "WHERE outcome = 'rejected'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, received_at, source, provider, event_type, dedupe_key, event_at, outcome, reason,
                    CASE body_codec WHEN 0 THEN length(body) END,
                    CASE WHEN body_codec != 0 THEN substr(body, 1, {header}) END
             FROM events {filter} ORDER BY id DESC LIMIT ?1",
            header = super::body_codec::HEADER_BYTES
        );
        let mut q = self.conn.prepare_cached(&sql)?;
        let rows = q.query_map([limit as i64], |r| {
            Ok(EventRow {
                id: r.get(0)?,
                received_at: rfc3339(r.get(1)?),
                source: r.get(2)?,
                provider: r.get(3)?,
                event_type: r.get(4)?,
                dedupe_key: r.get(5)?,
                event_at: r.get::<_, Option<i64>>(6)?.map(rfc3339),
                outcome: r.get(7)?,
                reason: r.get(8)?,
                size: match r.get::<_, Option<i64>>(9)? {
                    Some(size) => size,
                    None => super::body_codec::size_from_header(&r.get::<_, Vec<u8>>(10)?).unwrap_or(-1),
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored body of one event, byte-exact.
    pub fn event_body(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT body, body_codec FROM events WHERE id = ?1")?
            .query_row([id], |r| super::body_codec::read(r, 1, 0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_a_safe_fts_query() {
        assert_eq!(fts_query("brake pads").as_deref(), Some("\"brake\" \"pads\"*"));
        assert_eq!(
            fts_query("\"; DROP TABLE x --").as_deref(),
            Some("\"DROP\" \"TABLE\" \"x\"*")
        );
        assert_eq!(fts_query("  --  "), None);
    }
}
