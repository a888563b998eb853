//! Folding normalised changes into `conversations` and `messages`.
//!
//! The result depends only on the *set* of events, never on their arrival order:
//! - Every event gets a version `(vendor time, status progress, dedupe key)`, a total order.
//! - A message's content is the merge of its events in version order, newest non-empty value per
//!   field. An event newer than all seen so far is merged straight onto the row; an older one
//!   (it arrived late) makes the message re-merge from all its events (`message_events`).
//! - A status, a contact field or an unread count is a single value: the highest version wins.
//!   Explicit statuses outrank implied ones whatever their times.
//! - Conversation counts and previews are recomputed once per transaction (`list_columns`): grown
//!   from the new messages when that is all that changed, else counted from the messages. The
//!   full-text index is written once per transaction too (`Batch`).

use super::list_columns;
use crate::model::Status;
use crate::providers::{self, Change, ConversationPart, MessagePart, Outcome, Parsed, StatusReport};
use anyhow::Result;
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::{BTreeMap, BTreeSet};
// Hashed with foldhash: std's SipHash of each event's conversation key took about 2 % of an import.
use foldhash::HashMap;

/// `(time, progress, dedupe key)` as a string whose byte order is the tuple order.
fn version(at: Option<i64>, precedence: u8, dedupe_key: &str) -> String {
    format!(
        "{:013}{}{}",
        at.unwrap_or(0).clamp(0, 9_999_999_999_999),
        precedence,
        dedupe_key
    )
}

fn status_version(report: &StatusReport, ver: &str) -> String {
    format!("{}{}", u8::from(report.explicit), ver)
}

/// The version of the event for one change: its status progress breaks ties between events
/// of the same vendor time.
fn change_version(parsed: &Parsed, status: Option<&StatusReport>) -> String {
    version(
        parsed.event_at,
        status.map_or(0, |s| s.status.progress()),
        &parsed.dedupe_key,
    )
}

/// What one transaction's fold writes at its end rather than per event: the list columns of each
/// conversation it touched, and the full-text index entries of the messages it added or changed.
///
/// Written per message, FTS5 flushed its in-memory index at every later statement that opened a
/// statement savepoint (an insert with a trigger, an insert from a select), leaving thousands of
/// one-row segments to merge: 15 % of an import.
#[derive(Default)]
pub(super) struct Batch {
    touched: BTreeSet<i64>,
    /// What new messages brought to each touched conversation…
    added: HashMap<i64, list_columns::Added>,
    /// …unless something else about its messages or replies changed: then they are counted.
    recount: BTreeSet<i64>,
    search: BTreeMap<i64, SearchEntry>,
    /// What this transaction knows of each conversation it met, so each is looked up once.
    conversations: HashMap<String, KnownConversation>,
}

/// A conversation's row id and its contact fields and assignee as this batch knows them.
struct KnownConversation {
    id: i64,
    contact_id: Option<String>,
    contact: [Held; 3],
    assignee: Held,
    /// Its vendor contact has no contact record (looked up once per batch; a record arriving in
    /// the batch drops this entry).
    no_contact_record: bool,
}

/// A field's newest version, and its value when that is newer than the stored row's.
#[derive(Default)]
struct Held {
    ver: Option<String>,
    value: Option<String>,
}

impl Held {
    fn stored(ver: Option<String>) -> Self {
        Held { ver, value: None }
    }

    /// Take this value when its version is newer than the field's.
    fn offer(&mut self, value: &str, ver: &str) {
        if self.ver.as_deref().is_none_or(|known| known < ver) {
            self.ver = Some(ver.to_string());
            self.value = Some(value.to_string());
        }
    }
}

/// What the full-text index holds for one message before this batch and what it should hold
/// after. Kept per message and written in row-id order: FTS5 flushes its pending entries whenever
/// a row id goes backwards or is written twice, and every flush leaves a segment to merge.
#[derive(Default)]
struct SearchEntry {
    /// What was indexed before: an external-content index forgets a row by being told exactly that.
    indexed: Option<SearchText>,
    /// What should be indexed when the batch is written.
    wanted: Option<SearchText>,
}

#[derive(PartialEq)]
struct SearchText {
    subject: Option<String>,
    body: Option<String>,
}

/// Entries held before they are written mid-transaction (`rebuild` folds a whole log in one).
const SEARCH_HELD: usize = 50_000;

impl Batch {
    /// Count this conversation's messages again when the batch ends (something about them
    /// changed other than new ones arriving).
    pub(super) fn recount(&mut self, id: i64) {
        self.touched.insert(id);
        self.recount.insert(id);
    }

    /// Count every conversation touched so far again (replies were linked to their messages, which
    /// moves them out of the replies' counts; a reply's new state may have been counted already).
    pub(super) fn recount_touched(&mut self) {
        self.recount.extend(self.touched.iter().copied());
    }

    /// Refresh the touched conversations and write the index changes. When they are many (a bulk
    /// import, `rebuild`), the list indexes are built again afterwards instead of kept up row by row.
    pub(super) fn finish(mut self, tx: &Transaction) -> Result<()> {
        let set_aside = list_columns::set_indexes_aside(tx, self.touched.len())?;
        for known in self.conversations.values_mut() {
            write_held(tx, known)?;
        }
        for &id in &self.touched {
            let added = (!self.recount.contains(&id)).then(|| self.added.remove(&id).unwrap_or_default());
            list_columns::refresh(tx, id, added.as_ref())?;
        }
        if let Some(set_aside) = set_aside {
            set_aside.restore(tx)?;
        }
        self.write_search(tx)
    }

    /// Write the held index changes now when there are many (memory stays bounded).
    pub(super) fn bound(&mut self, tx: &Transaction) -> Result<()> {
        if self.search.len() >= SEARCH_HELD {
            self.write_search(tx)?;
        }
        Ok(())
    }

    /// A message's text is indexed (a new message, or new text after `unindex`).
    fn index(&mut self, id: i64, subject: &Option<String>, body: &Option<String>) {
        self.search.entry(id).or_default().wanted = Some(SearchText {
            subject: subject.clone(),
            body: body.clone(),
        });
    }

    /// A message's text as it was indexed is no longer wanted.
    fn unindex(&mut self, id: i64, subject: &Option<String>, body: &Option<String>) {
        let entry = self.search.entry(id).or_insert_with(|| SearchEntry {
            // First seen here: what it had was written by an earlier batch.
            indexed: Some(SearchText {
                subject: subject.clone(),
                body: body.clone(),
            }),
            wanted: None,
        });
        entry.wanted = None;
    }

    fn write_search(&mut self, tx: &Transaction) -> Result<()> {
        let mut add = tx.prepare_cached("INSERT INTO messages_fts (rowid, subject, body) VALUES (?1, ?2, ?3)")?;
        let mut remove = tx.prepare_cached(
            "INSERT INTO messages_fts (messages_fts, rowid, subject, body) VALUES ('delete', ?1, ?2, ?3)",
        )?;
        for (id, entry) in std::mem::take(&mut self.search) {
            if entry.indexed == entry.wanted {
                continue;
            }
            if let Some(t) = entry.indexed {
                remove.execute(params![id, t.subject, t.body])?;
            }
            if let Some(t) = entry.wanted {
                add.execute(params![id, t.subject, t.body])?;
            }
        }
        Ok(())
    }
}

pub(super) fn fold_event(
    tx: &Transaction,
    event_id: i64,
    parsed: &Parsed,
    changes: &[Change],
    batch: &mut Batch,
) -> Result<()> {
    for change in changes {
        match change {
            Change::Message(part) => {
                let ver = change_version(parsed, part.status.as_ref());
                fold_message(tx, event_id, part, &ver, batch)?;
            }
            Change::UnreadCount {
                conversation,
                count,
                at,
            } => {
                // Untimed: as of its arrival, so messages that came before it are not counted again.
                let at = match at {
                    Some(at) => *at,
                    None => tx
                        .prepare_cached("SELECT received_at FROM events WHERE id = ?1")?
                        .query_row([event_id], |r| r.get(0))?,
                };
                let at = &at;
                let ver = version(Some(*at), 0, &parsed.dedupe_key);
                let id = ensure_conversation(tx, conversation, &ver, batch)?;
                tx.prepare_cached(
                    "UPDATE conversations SET vendor_unread = ?2, vendor_unread_at = ?3, vendor_unread_ver = ?4
                     WHERE id = ?1 AND (vendor_unread_ver IS NULL OR vendor_unread_ver < ?4)",
                )?
                .execute(params![id, count, at, ver])?;
                batch.touched.insert(id);
            }
            Change::ReadThrough { conversation, at } => {
                let ver = version(Some(*at), 0, &parsed.dedupe_key);
                let id = ensure_conversation(tx, conversation, &ver, batch)?;
                tx.prepare_cached(
                    "UPDATE conversations SET vendor_read_at = max(coalesce(vendor_read_at, 0), ?2) WHERE id = ?1",
                )?
                .execute(params![id, at])?;
                batch.touched.insert(id);
            }
            Change::Contact(contact) => fold_contact(tx, contact, &change_version(parsed, None), batch)?,
            Change::EmailStatus {
                email_message_id,
                status,
            } => {
                let sver = status_version(status, &change_version(parsed, Some(status)));
                tx.prepare_cached(
                    "INSERT INTO email_status (email_message_id, ver, status, raw, detail) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (email_message_id) DO UPDATE SET
                        ver = excluded.ver, status = excluded.status, raw = excluded.raw, detail = excluded.detail
                     WHERE excluded.ver > email_status.ver",
                )?
                .execute(params![
                    email_message_id,
                    sver,
                    status.status.as_str(),
                    status.raw,
                    status.detail
                ])?;
                let mut q = tx.prepare_cached(
                    "UPDATE messages SET status = ?2, status_raw = ?3, status_detail = ?4, status_ver = ?5
                     WHERE email_message_id = ?1 AND status_ver < ?5 RETURNING conversation_id",
                )?;
                let ids = q.query_map(
                    params![
                        email_message_id,
                        status.status.as_str(),
                        status.raw,
                        status.detail,
                        sver
                    ],
                    |r| r.get::<_, i64>(0),
                )?;
                for id in ids {
                    batch.recount(id?);
                }
            }
        }
    }
    Ok(())
}

/// The conversation's row id, creating it if needed; contact fields and the vendor's assignee take
/// the newest version. Those are held in the batch and written once when it ends
/// (`write_held`): nearly every event carries them, and each write of the row was a fifth of the
/// fold.
fn ensure_conversation(tx: &Transaction, part: &ConversationPart, ver: &str, batch: &mut Batch) -> Result<i64> {
    let provider = part.provider.as_ref().map_or("unknown", |p| p.as_str());
    if !batch.conversations.contains_key(&part.key) {
        let stored = tx
            .prepare_cached(
                "SELECT id, vendor_contact_id, contact_name_ver, contact_phone_ver, contact_email_ver,
                        vendor_assignee_ver
                 FROM conversations WHERE key = ?1",
            )?
            .query_row([&part.key], |r| {
                Ok(KnownConversation {
                    id: r.get(0)?,
                    contact_id: r.get(1)?,
                    contact: [r.get(2)?, r.get(3)?, r.get(4)?].map(Held::stored),
                    assignee: Held::stored(r.get(5)?),
                    no_contact_record: false,
                })
            })
            .optional()?;
        let known = match stored {
            Some(known) => known,
            None => {
                tx.prepare_cached("INSERT INTO conversations (key, provider, vendor_contact_id) VALUES (?1, ?2, ?3)")?
                    .execute(params![part.key, provider, part.vendor_contact_id])?;
                // Counted once: replies kept through a rebuild may already count in it.
                batch.recount(tx.last_insert_rowid());
                KnownConversation {
                    id: tx.last_insert_rowid(),
                    contact_id: part.vendor_contact_id.clone(),
                    contact: Default::default(),
                    assignee: Held::default(),
                    no_contact_record: false,
                }
            }
        };
        batch.conversations.insert(part.key.clone(), known);
    }
    let known = batch.conversations.get_mut(&part.key).expect("inserted above");
    let id = known.id;
    if let (None, Some(new)) = (&known.contact_id, &part.vendor_contact_id) {
        tx.prepare_cached("UPDATE conversations SET vendor_contact_id = ?2 WHERE id = ?1")?
            .execute(params![id, new])?;
        known.contact_id = Some(new.clone());
        known.no_contact_record = false;
    }
    let values = [&part.contact_name, &part.contact_phone, &part.contact_email];
    for (held, value) in known.contact.iter_mut().zip(values) {
        if let Some(value) = value {
            held.offer(value, ver);
        }
    }
    if let Some(assignee) = &part.assignee {
        known
            .assignee
            .offer(&assignee_token(provider, assignee.as_deref()), ver);
    }
    // A contact record's fields may replace the conversation's: then it is written now and read
    // afresh next time. Most vendors send no contact records; that is looked up once per batch.
    if let Some(contact_id) = known.contact_id.clone().filter(|_| !known.no_contact_record) {
        let contact_key = format!("{provider}:{contact_id}");
        if has_contact_record(tx, &contact_key)? {
            let mut known = batch.conversations.remove(&part.key).expect("inserted above");
            write_held(tx, &mut known)?;
            adopt_contact(tx, id, &contact_key)?;
        } else if let Some(known) = batch.conversations.get_mut(&part.key) {
            known.no_contact_record = true;
        }
    }
    Ok(id)
}

/// Write the contact fields and assignee a conversation took in this batch.
fn write_held(tx: &Transaction, known: &mut KnownConversation) -> Result<()> {
    let [name, phone, email] = &mut known.contact;
    if name.value.is_some() || phone.value.is_some() || email.value.is_some() {
        tx.prepare_cached(
            // Each field only over an older version (a contact record may have written it since).
            "UPDATE conversations SET
                contact_name  = CASE WHEN ?2 AND ?4 > coalesce(contact_name_ver, '') THEN ?3 ELSE contact_name END,
                contact_name_ver  = CASE WHEN ?2 AND ?4 > coalesce(contact_name_ver, '') THEN ?4 ELSE contact_name_ver END,
                contact_phone = CASE WHEN ?5 AND ?7 > coalesce(contact_phone_ver, '') THEN ?6 ELSE contact_phone END,
                contact_phone_ver = CASE WHEN ?5 AND ?7 > coalesce(contact_phone_ver, '') THEN ?7 ELSE contact_phone_ver END,
                contact_email = CASE WHEN ?8 AND ?10 > coalesce(contact_email_ver, '') THEN ?9 ELSE contact_email END,
                contact_email_ver = CASE WHEN ?8 AND ?10 > coalesce(contact_email_ver, '') THEN ?10 ELSE contact_email_ver END
             WHERE id = ?1",
        )?
        .execute(params![
            known.id,
            name.value.is_some(),
            name.value.take(),
            name.ver,
            phone.value.is_some(),
            phone.value.take(),
            phone.ver,
            email.value.is_some(),
            email.value.take(),
            email.ver,
        ])?;
    }
    if let Some(assignee) = known.assignee.value.take() {
        tx.prepare_cached(
            "UPDATE conversations SET vendor_assignee = ?2, vendor_assignee_ver = ?3
             WHERE id = ?1 AND coalesce(vendor_assignee_ver, '') < ?3",
        )?
        .execute(params![known.id, assignee, known.assignee.ver])?;
    }
    Ok(())
}

/// A vendor's assignee as stored: `provider:user id`, or '' for "nobody" (NULL: never said).
fn assignee_token(provider: &str, user: Option<&str>) -> String {
    user.map_or(String::new(), |id| format!("{provider}:{id}"))
}

const CONTACT_FIELDS: [&str; 3] = ["name", "phone", "email"];

/// Keep the newest value of each contact field, then pass it on to that contact's conversations.
fn fold_contact(tx: &Transaction, c: &providers::ContactPart, ver: &str, batch: &mut Batch) -> Result<()> {
    let provider = c.provider.as_ref().map_or("unknown", |p| p.as_str());
    let key = format!("{provider}:{}", c.vendor_contact_id);
    tx.prepare_cached("INSERT INTO contacts (key) VALUES (?1) ON CONFLICT DO NOTHING")?
        .execute([&key])?;
    for (value, field) in [(&c.name, "name"), (&c.phone, "phone"), (&c.email, "email")] {
        if let Some(value) = value {
            tx.prepare_cached(&format!(
                "UPDATE contacts SET {field} = ?2, {field}_ver = ?3 WHERE key = ?1 AND ({field}_ver IS NULL OR {field}_ver < ?3)"
            ))?
            .execute(params![key, value, ver])?;
        }
    }
    if let Some(assignee) = &c.assignee {
        tx.prepare_cached(
            "UPDATE contacts SET assignee = ?2, assignee_ver = ?3 WHERE key = ?1 AND coalesce(assignee_ver, '') < ?3",
        )?
        .execute(params![key, assignee_token(provider, assignee.as_deref()), ver])?;
    }
    let conversations: Vec<(i64, String)> = tx
        .prepare_cached("SELECT id, key FROM conversations WHERE provider = ?1 AND vendor_contact_id = ?2")?
        .query_map(params![provider, c.vendor_contact_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, conversation_key) in conversations {
        // What the batch holds for it is written first, then read afresh next time.
        if let Some(mut known) = batch.conversations.remove(&conversation_key) {
            write_held(tx, &mut known)?;
        }
        adopt_contact(tx, id, &key)?;
        // Its contact fields may have changed, and with them its folded copy for search.
        batch.touched.insert(id);
    }
    Ok(())
}

fn has_contact_record(tx: &Transaction, contact_key: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM contacts WHERE key = ?1")?
        .query_row([contact_key], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Take each contact field from the contact record where that record's value is newer.
fn adopt_contact(tx: &Transaction, conversation_id: i64, contact_key: &str) -> Result<()> {
    for field in CONTACT_FIELDS {
        tx.prepare_cached(&format!(
            "UPDATE conversations SET (contact_{field}, contact_{field}_ver) =
                (SELECT {field}, {field}_ver FROM contacts WHERE key = ?2)
             WHERE id = ?1 AND (SELECT {field}_ver FROM contacts WHERE key = ?2) > coalesce(contact_{field}_ver, '')"
        ))?
        .execute(params![conversation_id, contact_key])?;
    }
    tx.prepare_cached(
        "UPDATE conversations SET (vendor_assignee, vendor_assignee_ver) =
            (SELECT assignee, assignee_ver FROM contacts WHERE key = ?2)
         WHERE id = ?1 AND (SELECT assignee_ver FROM contacts WHERE key = ?2) > coalesce(vendor_assignee_ver, '')",
    )?
    .execute(params![conversation_id, contact_key])?;
    Ok(())
}

/// The merged content of a message: everything but its status.
#[derive(Debug, Clone, PartialEq, Default)]
struct Content {
    conversation_id: i64,
    provider_message_id: String,
    at: Option<i64>,
    at_provisional: bool,
    channel: String,
    channel_raw: Option<String>,
    direction: String,
    direction_raw: Option<String>,
    sender: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    body_html: Option<String>,
    attachments: Option<String>,
    call: Option<String>,
    draft: i64,
    deleted: bool,
    vendor_read: bool,
    email_message_id: Option<String>,
}

impl Content {
    /// Merge one event's part on top: what the part says replaces what was there.
    fn merge(&mut self, p: &MessagePart, conversation_id: i64) {
        self.conversation_id = conversation_id;
        self.provider_message_id = p.provider_message_id.clone();
        if let Some(at) = p.at {
            self.at = Some(at);
            self.at_provisional = false;
        } else if let (Some(at), true) = (p.at_provisional, self.at.is_none() || self.at_provisional) {
            self.at = Some(at);
            self.at_provisional = true;
        }
        if let Some(c) = &p.channel {
            self.channel = c.as_str().to_string();
            self.channel_raw = c.raw().map(str::to_string);
        }
        if let Some(d) = p.direction {
            self.direction = d.as_str().to_string();
            self.direction_raw = p.direction_raw.clone();
        }
        set(&mut self.sender, &p.sender);
        set(&mut self.subject, &p.subject);
        if p.body.is_some() {
            // Body and its HTML source travel together.
            self.body = p.body.clone();
            self.body_html = p.body_html.clone();
        }
        if let Some(list) = &p.attachments {
            self.attachments = (!list.is_empty()).then(|| serde_json::to_string(list).expect("attachments serialise"));
        }
        if let Some(call) = &p.call {
            self.call = Some(serde_json::to_string(call).expect("call serialises"));
        }
        if let Some(d) = p.draft {
            self.draft = i64::from(d);
        }
        if let Some(d) = p.deleted {
            self.deleted = d;
        }
        if let Some(r) = p.read {
            self.vendor_read = r;
        }
        set(&mut self.email_message_id, &p.email_message_id);
    }
}

fn set(slot: &mut Option<String>, value: &Option<String>) {
    if value.is_some() {
        slot.clone_from(value);
    }
}

struct Existing {
    id: i64,
    content: Content,
    content_ver: String,
    status: String,
    status_ver: String,
}

fn load_message(tx: &Transaction, key: &str) -> Result<Option<Existing>> {
    let mut q = tx.prepare_cached(
        "SELECT id, conversation_id, provider_message_id, at, at_provisional, channel, channel_raw, direction,
                direction_raw, sender, subject, body, body_html, attachments, call, draft, deleted, vendor_read,
                email_message_id, content_ver, status_ver, status
         FROM messages WHERE key = ?1",
    )?;
    Ok(q.query_row([key], |r| {
        Ok(Existing {
            id: r.get(0)?,
            content: Content {
                conversation_id: r.get(1)?,
                provider_message_id: r.get(2)?,
                at: r.get(3)?,
                at_provisional: r.get(4)?,
                channel: r.get(5)?,
                channel_raw: r.get(6)?,
                direction: r.get(7)?,
                direction_raw: r.get(8)?,
                sender: r.get(9)?,
                subject: r.get(10)?,
                body: r.get(11)?,
                body_html: r.get(12)?,
                attachments: r.get(13)?,
                call: r.get(14)?,
                draft: r.get(15)?,
                deleted: r.get(16)?,
                vendor_read: r.get(17)?,
                email_message_id: r.get(18)?,
            },
            content_ver: r.get(19)?,
            status_ver: r.get(20)?,
            status: r.get(21)?,
        })
    })
    .optional()?)
}

fn fold_message(tx: &Transaction, event_id: i64, part: &MessagePart, ver: &str, batch: &mut Batch) -> Result<()> {
    let conversation_id = ensure_conversation(tx, &part.conversation, ver, batch)?;
    batch.touched.insert(conversation_id);
    let Some(existing) = load_message(tx, &part.key)? else {
        let mut content = Content::default();
        content.merge(part, conversation_id);
        let (status, sver) = match &part.status {
            Some(s) => (s.clone(), status_version(s, ver)),
            None => (StatusReport::implied(Status::Unknown(String::new())), String::new()),
        };
        tx.prepare_cached(
            "INSERT INTO messages (key, conversation_id, provider_message_id, at, at_provisional, channel, channel_raw,
                direction, direction_raw, sender, subject, body, body_html, attachments, call, draft, deleted,
                vendor_read, email_message_id, status, status_raw, status_detail, status_ver, content_ver)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                ?22, ?23, ?24)",
        )?
        .execute(params![
            part.key,
            content.conversation_id,
            content.provider_message_id,
            content.at.unwrap_or(0),
            content.at_provisional,
            content.channel,
            content.channel_raw,
            content.direction,
            content.direction_raw,
            content.sender,
            content.subject,
            content.body,
            content.body_html,
            content.attachments,
            content.call,
            content.draft,
            content.deleted,
            content.vendor_read,
            content.email_message_id,
            status.status.as_str(),
            status.raw,
            status.detail,
            sver,
            ver
        ])?;
        let id = tx.last_insert_rowid();
        batch.index(id, &content.subject, &content.body);
        link_event(tx, id, ver, event_id)?;
        if content.draft == 0 {
            batch
                .added
                .entry(conversation_id)
                .or_default()
                .add(&list_columns::NewMessage {
                    at: content.at.unwrap_or(0),
                    key: &part.key,
                    id,
                    channel: &content.channel,
                    direction: &content.direction,
                    status: status.status.as_str(),
                });
        }
        if let Some(email_id) = &content.email_message_id {
            // A delivery report that came first may change its status.
            apply_email_status(tx, id, email_id)?;
            batch.recount(conversation_id);
        }
        return Ok(());
    };

    if !link_event(tx, existing.id, ver, event_id)? {
        return Ok(()); // this very event was folded already
    }
    let (content, content_ver) = if ver >= existing.content_ver.as_str() {
        let mut c = existing.content.clone();
        c.merge(part, conversation_id);
        (c, ver.to_string())
    } else {
        remerge(tx, existing.id, &part.key)?
    };
    if content != existing.content || content_ver != existing.content_ver {
        write_content(tx, existing.id, &content, &existing.content, &content_ver, batch)?;
        batch.recount(existing.content.conversation_id);
        batch.recount(content.conversation_id);
        if content.email_message_id != existing.content.email_message_id
            && let Some(email_id) = &content.email_message_id
        {
            apply_email_status(tx, existing.id, email_id)?;
        }
    }
    if let Some(s) = &part.status {
        let sver = status_version(s, ver);
        if sver > existing.status_ver {
            tx.prepare_cached(
                "UPDATE messages SET status = ?2, status_raw = ?3, status_detail = ?4, status_ver = ?5 WHERE id = ?1",
            )?
            .execute(params![existing.id, s.status.as_str(), s.raw, s.detail, sver])?;
            // Only failed and unknown statuses are counted (delivered → read changes no count).
            if Status::parse(&existing.status).needs_attention() || s.status.needs_attention() {
                batch.recount(existing.content.conversation_id);
            }
        }
    }
    Ok(())
}

/// Record that `event_id` contributed to message `id`; false when it already had.
fn link_event(tx: &Transaction, id: i64, ver: &str, event_id: i64) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT INTO message_events (message_id, ver, event_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?
        .execute(params![id, ver, event_id])?;
    Ok(n == 1)
}

fn write_content(tx: &Transaction, id: i64, c: &Content, old: &Content, ver: &str, batch: &mut Batch) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET conversation_id = ?2, provider_message_id = ?3, at = ?4, at_provisional = ?5, channel = ?6,
            channel_raw = ?7, direction = ?8, direction_raw = ?9, sender = ?10, body_html = ?11, attachments = ?12,
            call = ?13, draft = ?14, deleted = ?15, vendor_read = ?16, email_message_id = ?17, content_ver = ?18
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        c.conversation_id,
        c.provider_message_id,
        c.at.unwrap_or(0),
        c.at_provisional,
        c.channel,
        c.channel_raw,
        c.direction,
        c.direction_raw,
        c.sender,
        c.body_html,
        c.attachments,
        c.call,
        c.draft,
        c.deleted,
        c.vendor_read,
        c.email_message_id,
        ver
    ])?;
    if c.subject != old.subject || c.body != old.body {
        tx.prepare_cached("UPDATE messages SET subject = ?2, body = ?3 WHERE id = ?1")?
            .execute(params![id, c.subject, c.body])?;
        batch.unindex(id, &old.subject, &old.body);
        batch.index(id, &c.subject, &c.body);
    }
    Ok(())
}

/// Merge a message again from all its events, in version order (an older event arrived late).
fn remerge(tx: &Transaction, id: i64, key: &str) -> Result<(Content, String)> {
    let rows: Vec<(String, String, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT me.ver, e.provider, e.body, e.body_codec FROM message_events me JOIN events e ON e.id = me.event_id
             WHERE me.message_id = ?1 ORDER BY me.ver",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, super::body_codec::read(r, 3, 2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut content = Content::default();
    let mut last_ver = String::new();
    for (ver, provider, body) in rows {
        let forced = Some(crate::model::Provider::parse(&provider)).filter(|p| p.raw().is_none());
        let Outcome::Ok(changes) = providers::parse(&body, forced).outcome else {
            continue;
        };
        for change in changes {
            if let Change::Message(part) = change
                && part.key == key
            {
                let conversation_id: i64 = tx
                    .prepare_cached("SELECT id FROM conversations WHERE key = ?1")?
                    .query_row([&part.conversation.key], |r| r.get(0))?;
                content.merge(&part, conversation_id);
            }
        }
        last_ver = ver;
    }
    Ok((content, last_ver))
}

/// An email delivery report that arrived before its message applies when the message does.
fn apply_email_status(tx: &Transaction, message_id: i64, email_id: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET (status, status_raw, status_detail, status_ver) =
            (SELECT status, raw, detail, ver FROM email_status WHERE email_message_id = ?2)
         WHERE id = ?1 AND status_ver < (SELECT ver FROM email_status WHERE email_message_id = ?2)",
    )?
    .execute(params![message_id, email_id])?;
    Ok(())
}
