//! A conversation's list columns (counts, unread, preview, assignee, parked, the folded contact
//! for search) and each advisor's unread count, recomputed from its messages and local state. The
//! fold calls this once per transaction for each conversation it touched; local changes (a read
//! mark, an assignment, a reply's fate) call it for theirs.

use anyhow::Result;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params};

/// The list columns `refresh_conversation` computes, in the order it computes them.
const LIST_COLUMNS: [&str; 12] = [
    "channels",
    "last_at",
    "preview",
    "message_count",
    "unread",
    "failed_count",
    "attention_count",
    "inbound_count",
    "last_inbound_at",
    "assignee",
    "parked",
    "contact_fold",
];

/// A refresh of at least this many conversations, and of half of all, sets the list indexes aside
/// and builds them again when it is done. Into a million messages over 50,000 conversations, an
/// import that refreshed every conversation spent a third of its time in the refresh, most of it
/// moving entries in the list indexes (twenty-odd on `conversations`, one on `advisor_reads`):
/// about 4 s, against 1.6 s to build them again from all 50,000 rows. A refresh of fewer than half
/// is cheaper row by row.
const BULK_REFRESH: usize = 1_000;

/// The indexes a bulk refresh sets aside: every index over a list column (the unique keys and the
/// index the refresh itself looks advisors' rows up by stay).
const LIST_INDEXES: &str = "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL
     AND (tbl_name = 'conversations' OR name = 'advisor_unread_activity') ORDER BY name";

/// How many times the list indexes were set aside (tests check the bulk path ran).
#[cfg(test)]
static SET_ASIDE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// List indexes dropped for a bulk refresh, with the statements that make them again.
pub(super) struct SetAside(Vec<(String, String)>);

/// Drop the list indexes when `touched` conversations are about to be refreshed and that is many
/// (`BULK_REFRESH`).
pub(super) fn set_indexes_aside(tx: &Transaction, touched: usize) -> Result<Option<SetAside>> {
    if touched < BULK_REFRESH {
        return Ok(None);
    }
    // How many there are, without counting them: conversations are numbered from 1 and rarely deleted.
    let all: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM conversations", [], |r| r.get(0))?;
    if (touched as i64).saturating_mul(2) < all {
        return Ok(None);
    }
    let indexes: Vec<(String, String)> = tx
        .prepare(LIST_INDEXES)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    #[cfg(test)]
    SET_ASIDE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for (name, _) in &indexes {
        tx.execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")), [])?;
    }
    Ok(Some(SetAside(indexes)))
}

impl SetAside {
    /// Make the dropped indexes again, exactly as they were defined.
    pub(super) fn restore(self, tx: &Transaction) -> Result<()> {
        for (_, sql) in self.0 {
            tx.execute_batch(&sql)?;
        }
        Ok(())
    }
}

/// What `refresh_conversation` reads of a conversation: what it needs, and the list columns as
/// they stand (in `LIST_COLUMNS` order).
struct ConversationRow {
    key: String,
    vendor_read_at: Option<i64>,
    vendor_unread: Option<i64>,
    vendor_unread_at: Option<i64>,
    vendor_assignee: Option<String>,
    vendor_assignee_ver: Option<String>,
    contact: String,
    list: [Value; 12],
}

/// The columns that come from a conversation's messages (and its replies not yet messages).
#[derive(Debug, Clone, PartialEq)]
struct Counts {
    channels: String,
    total: i64,
    failed: i64,
    attention: i64,
    inbound: i64,
    last_inbound_at: Option<i64>,
    last_at: Option<i64>,
    preview: Option<String>,
}

/// What new messages brought to a conversation in one transaction in which nothing else about its
/// messages or its replies changed: its counts are then the stored ones plus these, with no need
/// to count its messages again.
#[derive(Debug, Default)]
pub(super) struct Added {
    channels: std::collections::BTreeSet<String>,
    total: i64,
    failed: i64,
    attention: i64,
    inbound: i64,
    last_inbound_at: Option<i64>,
    /// The newest of them: time, key, row id (its preview is made once, when the batch ends).
    newest: Option<(i64, String, i64)>,
}

/// A new message as `Added` counts it (drafts are not counted).
pub(super) struct NewMessage<'a> {
    pub at: i64,
    pub key: &'a str,
    pub id: i64,
    pub channel: &'a str,
    pub direction: &'a str,
    pub status: &'a str,
}

impl Added {
    pub(super) fn add(&mut self, m: &NewMessage) {
        self.count(m.channel, m.direction, m.status, m.at);
        let newer = self
            .newest
            .as_ref()
            .is_none_or(|(at, key, _)| (m.at, m.key) > (*at, key.as_str()));
        if newer {
            self.newest = Some((m.at, m.key.to_string(), m.id));
        }
    }

    /// Count one message in the totals (what `counted` sums over a conversation too).
    fn count(&mut self, channel: &str, direction: &str, status: &str, at: i64) {
        if !self.channels.contains(channel) {
            self.channels.insert(channel.to_string());
        }
        self.total += 1;
        self.failed += i64::from(status == "failed");
        self.attention += i64::from(direction == "outbound" && (status == "failed" || status == "unknown"));
        if direction == "inbound" {
            self.inbound += 1;
            self.last_inbound_at = self.last_inbound_at.max(Some(at));
        }
    }

    /// The stored counts (`LIST_COLUMNS` order) plus these, the preview read from the newest new
    /// message when it is the conversation's newest; `None` when only counting can tell (a new
    /// message exactly as old as the newest stored one: the tie is broken by key).
    fn onto(&self, tx: &Transaction, old: &[Value; 12]) -> Result<Option<Counts>> {
        let int = |v: &Value| match v {
            Value::Integer(n) => Some(*n),
            _ => None,
        };
        let mut channels: std::collections::BTreeSet<&str> = match &old[0] {
            Value::Text(t) => t.split(',').filter(|c| !c.is_empty()).collect(),
            _ => Default::default(),
        };
        channels.extend(self.channels.iter().map(String::as_str));
        let old_preview = match &old[2] {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        };
        let (last_at, preview) = match (&self.newest, int(&old[1])) {
            (None, old_at) => (old_at, old_preview),
            (Some((at, _, id)), old_at) if old_at.is_none_or(|old_at| *at > old_at) => (
                Some(*at),
                tx.prepare_cached("SELECT body, subject, attachments, call, deleted FROM messages WHERE id = ?1")?
                    .query_row([id], preview_of_row)
                    .optional()?,
            ),
            (Some((at, _, _)), Some(old_at)) if *at < old_at => (Some(old_at), old_preview),
            _ => return Ok(None),
        };
        Ok(Some(Counts {
            channels: channels.into_iter().collect::<Vec<_>>().join(","),
            total: int(&old[3]).unwrap_or(0) + self.total,
            failed: int(&old[5]).unwrap_or(0) + self.failed,
            attention: int(&old[6]).unwrap_or(0) + self.attention,
            inbound: int(&old[7]).unwrap_or(0) + self.inbound,
            last_inbound_at: int(&old[8]).max(self.last_inbound_at),
            last_at,
            preview,
        }))
    }
}

/// The preview of a row that starts with body, subject, attachments, call, deleted.
fn preview_of_row(r: &rusqlite::Row) -> rusqlite::Result<String> {
    let (body, subject, attachments, call): (Option<String>, Option<String>, Option<String>, Option<String>) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    Ok(preview_text(
        body.as_deref(),
        subject.as_deref(),
        attachments.as_deref(),
        call.as_deref(),
        r.get(4)?,
    ))
}

/// Count a conversation's messages (and its replies that failed before becoming messages).
fn counted(tx: &Transaction, id: i64, key: &str) -> Result<Counts> {
    let mut sums = Added::default();
    {
        // Summed here rather than by a GROUP BY: that sorted each conversation's messages by
        // channel in a temporary table, 8 % of an import into a million messages. This reads
        // the thread index alone, which covers every column named.
        let mut q = tx.prepare_cached(
            "SELECT channel, direction, status, at FROM messages WHERE conversation_id = ?1 AND draft = 0",
        )?;
        let mut rows = q.query([id])?;
        while let Some(r) = rows.next()? {
            sums.count(
                r.get_ref(0)?.as_str()?,
                r.get_ref(1)?.as_str()?,
                r.get_ref(2)?.as_str()?,
                r.get(3)?,
            );
        }
    }
    // The newest message (ties broken by key, so the choice never depends on arrival order): one
    // backward step along the thread index, rather than a max() and a second lookup by it.
    let last: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT body, subject, attachments, call, deleted, at FROM messages
             WHERE conversation_id = ?1 AND draft = 0 ORDER BY at DESC, key DESC LIMIT 1",
        )?
        .query_row([id], |r| Ok((r.get(5)?, preview_of_row(r)?)))
        .optional()?;
    let (last_at, preview) = last.unzip();
    // Our replies that failed (or may have) before any webhook made them messages count too.
    let (outbox_failed, outbox_attention): (i64, i64) = tx
        .prepare_cached(
            "SELECT coalesce(sum(status = 'failed'), 0), count(*) FROM outbox INDEXED BY outbox_attention
             WHERE conversation_key = ?1 AND status IN ('failed', 'unknown') AND message_key IS NULL",
        )?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Counts {
        channels: sums.channels.into_iter().collect::<Vec<_>>().join(","),
        total: sums.total,
        failed: sums.failed + outbox_failed,
        attention: sums.attention + outbox_attention,
        inbound: sums.inbound,
        last_inbound_at: sums.last_inbound_at,
        last_at,
        preview,
    })
}

/// Recompute a conversation's list columns, counting its messages.
pub(super) fn refresh_conversation(tx: &Transaction, id: i64) -> Result<()> {
    refresh(tx, id, None)
}

/// Recompute a conversation's list columns; with `added`, its counts are the stored ones plus
/// what its new messages brought (debug builds count as well, and check the two agree).
pub(super) fn refresh(tx: &Transaction, id: i64, added: Option<&Added>) -> Result<()> {
    let row = tx
        .prepare_cached(
            "SELECT key, vendor_read_at, vendor_unread, vendor_unread_at, vendor_assignee, vendor_assignee_ver,
                    concat_ws(' ', contact_name, contact_phone, contact_email),
                    channels, last_at, preview, message_count, unread, failed_count, attention_count,
                    inbound_count, last_inbound_at, assignee, parked, contact_fold
             FROM conversations WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let mut list: [Value; 12] = std::array::from_fn(|_| Value::Null);
            for (n, slot) in list.iter_mut().enumerate() {
                *slot = r.get(7 + n)?;
            }
            Ok(ConversationRow {
                key: r.get(0)?,
                vendor_read_at: r.get(1)?,
                vendor_unread: r.get(2)?,
                vendor_unread_at: r.get(3)?,
                vendor_assignee: r.get(4)?,
                vendor_assignee_ver: r.get(5)?,
                contact: r.get(6)?,
                list,
            })
        })?;
    let ConversationRow {
        key,
        vendor_read_at,
        vendor_unread,
        vendor_unread_at,
        vendor_assignee,
        vendor_assignee_ver,
        contact,
        list: old,
    } = row;
    let grown = match added {
        Some(added) => added.onto(tx, &old)?,
        None => None,
    };
    let counts = match grown {
        Some(counts) => {
            #[cfg(debug_assertions)]
            {
                let full = counted(tx, id, &key)?;
                assert_eq!(
                    counts, full,
                    "conversation {key}: counts grown from new messages differ"
                );
            }
            counts
        }
        None => counted(tx, id, &key)?,
    };
    let Counts {
        channels,
        total,
        failed,
        attention,
        inbound,
        last_inbound_at,
        last_at,
        preview,
    } = counts;
    let (local_read_at, marked_unread): (Option<i64>, bool) = tx
        .prepare_cached("SELECT read_at, marked_unread FROM local_marks WHERE conversation_key = ?1")?
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, false));
    let mark = vendor_read_at.max(local_read_at).unwrap_or(i64::MIN);
    let count_after = |after: i64, skip_vendor_read: bool| -> Result<i64> {
        Ok(tx
            .prepare_cached(
                "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND at > ?2 AND direction = 'inbound'
                 AND draft = 0 AND (?3 = 0 OR vendor_read = 0)",
            )?
            .query_row(params![id, after, skip_vendor_read], |r| r.get(0))?)
    };
    // A vendor's unread count newer than every read mark is the truth as of its time; inbound
    // messages after it add to it.
    let unread = match (vendor_unread, vendor_unread_at) {
        (Some(n), Some(at)) if at > mark => n + count_after(at, false)?,
        _ => count_after(mark, true)?,
    };
    // "Mark unread" keeps a conversation in the unread list until it is read again.
    let unread = if marked_unread { unread.max(1) } else { unread };
    let assignee = effective_assignee(tx, &key, vendor_assignee, vendor_assignee_ver.as_deref())?;
    let parked = parked(tx, &key, last_inbound_at)?;
    let text = |t: Option<String>| t.map_or(Value::Null, Value::Text);
    let int = |n: Option<i64>| n.map_or(Value::Null, Value::Integer);
    let new = [
        Value::Text(channels),
        int(last_at),
        text(preview),
        Value::Integer(total),
        Value::Integer(unread),
        Value::Integer(failed),
        Value::Integer(attention),
        Value::Integer(inbound),
        int(last_inbound_at),
        text(assignee.clone()),
        Value::Integer(parked),
        Value::Text(super::schema::fold(&contact)),
    ];
    // Only the columns that changed: an index none of whose columns is set is left alone, and a
    // conversation has some twenty (every list filter has its own).
    let changed: Vec<usize> = (0..LIST_COLUMNS.len()).filter(|&i| new[i] != old[i]).collect();
    if !changed.is_empty() {
        let sets: Vec<String> = changed
            .iter()
            .enumerate()
            .map(|(n, &i)| format!("{} = ?{}", LIST_COLUMNS[i], n + 2))
            .collect();
        let mut update = tx.prepare_cached(&format!("UPDATE conversations SET {} WHERE id = ?1", sets.join(", ")))?;
        update.raw_bind_parameter(1, id)?;
        for (n, &i) in changed.iter().enumerate() {
            update.raw_bind_parameter(n + 2, &new[i])?;
        }
        update.raw_execute()?;
    }
    if total > 0 {
        // Each advisor got a row when this conversation got its first message, or when they
        // joined (`set_viewer`): only a conversation new to messages needs rows made.
        let first_messages = old[3] == Value::Integer(0) || old[3] == Value::Null;
        keep_advisor_reads(tx, &key, inbound, unread, last_at, parked == 1, first_messages)?;
    }
    Ok(())
}

/// Who a conversation is assigned to: the newer of the vendor's word (at its event time) and an
/// assignment made here (at our time). `None`: nobody.
fn effective_assignee(
    tx: &Transaction,
    key: &str,
    vendor: Option<String>,
    vendor_ver: Option<&str>,
) -> Result<Option<String>> {
    let local: Option<(Option<String>, i64)> = tx
        .prepare_cached("SELECT assignee, at FROM assignments WHERE conversation_key = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    // A version starts with the vendor's event time in milliseconds, 13 digits.
    let vendor_at = vendor_ver.and_then(|v| v.get(..13)).and_then(|t| t.parse::<i64>().ok());
    let chosen = match (local, vendor_at) {
        (Some((local, at)), Some(vendor_at)) if vendor_at > at => vendor.or(local),
        (Some((local, _)), _) => local,
        (None, _) => vendor,
    };
    Ok(chosen.filter(|t| !t.is_empty()))
}

/// 0 open, 1 done, else snoozed until then (Unix ms). A new inbound message reopens either.
fn parked(tx: &Transaction, key: &str, last_inbound_at: Option<i64>) -> Result<i64> {
    let triage: Option<(Option<i64>, Option<i64>, Option<i64>)> = tx
        .prepare_cached("SELECT done_at, snoozed_at, snoozed_until FROM triage WHERE conversation_key = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((done_at, snoozed_at, snoozed_until)) = triage else {
        return Ok(0);
    };
    let quiet_since = |at: i64| last_inbound_at.is_none_or(|inbound| inbound <= at);
    Ok(match (done_at, snoozed_at, snoozed_until) {
        (_, Some(at), Some(until)) if quiet_since(at) => until.max(2),
        (Some(at), _, _) if quiet_since(at) => 1,
        _ => 0,
    })
}

/// Each advisor's unread count for this conversation: the inbound messages since they last read
/// it; none while it is done (a new inbound message reopens it, and then all it holds unseen is
/// unread again). An advisor who never read it starts from the shared count (the vendor's read
/// state).
fn keep_advisor_reads(
    tx: &Transaction,
    key: &str,
    inbound: i64,
    shared_unread: i64,
    last_at: Option<i64>,
    done: bool,
    first_messages: bool,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE advisor_reads SET unread = CASE WHEN ?4 THEN 0 ELSE max(?2 - seen_inbound, 0) END, last_at = ?3
         WHERE conversation_key = ?1
           AND (unread != CASE WHEN ?4 THEN 0 ELSE max(?2 - seen_inbound, 0) END OR last_at IS NOT ?3)",
    )?
    .execute(params![key, inbound, last_at, done])?;
    if !first_messages {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO advisor_reads (advisor, conversation_key, seen_inbound, unread, last_at)
         SELECT name, ?1, ?2 - ?3, CASE WHEN ?5 THEN 0 ELSE ?3 END, ?4 FROM advisors WHERE true
         ON CONFLICT (advisor, conversation_key) DO NOTHING",
    )?
    .execute(params![key, inbound, shared_unread, last_at, done])?;
    Ok(())
}

/// One line that says what the last message was.
fn preview_text(
    body: Option<&str>,
    subject: Option<&str>,
    attachments: Option<&str>,
    call: Option<&str>,
    deleted: bool,
) -> String {
    const MAX_CHARS: usize = 160;
    if deleted {
        return "(message deleted)".to_string();
    }
    // A call's body is boilerplate ("Voice Call"); its outcome is what matters.
    let text = call.and_then(|call| {
        let call: crate::model::Call = serde_json::from_str(call).ok()?;
        let duration = call
            .duration_s
            .filter(|&s| s > 0)
            .map(|s| format!(", {}:{:02}", s / 60, s % 60))
            .unwrap_or_default();
        Some(format!("Call: {}{duration}", call.outcome.replace('_', " ")))
    });
    let text = text.or_else(|| body.map(|b| one_line(b, MAX_CHARS + 1)).filter(|s| !s.is_empty()));
    let text = text.or_else(|| subject.map(|s| one_line(s, MAX_CHARS + 1)).filter(|s| !s.is_empty()));
    let text = text.or_else(|| {
        let list: Vec<crate::model::Attachment> = serde_json::from_str(attachments?).ok()?;
        let first = list.first()?;
        Some(format!("[attachment: {}]", first.name.as_deref().unwrap_or("file")))
    });
    let text = text.unwrap_or_default();
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The words of `s` joined by single spaces, stopping once `most` characters are gathered: a
/// preview needs the start of a body, and bodies run to kilobytes.
fn one_line(s: &str, most: usize) -> String {
    let mut line = String::new();
    let mut chars = 0;
    for word in s.split_whitespace() {
        if chars >= most {
            break;
        }
        if !line.is_empty() {
            line.push(' ');
            chars += 1;
        }
        line.push_str(word);
        chars += word.chars().count();
    }
    line
}

#[cfg(test)]
mod tests {
    use crate::store::{Incoming, Store};

    #[test]
    fn a_preview_is_the_start_of_the_body_on_one_line() {
        let whole = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let long = "Bonjour,\n\n  votre  véhicule est prêt. ".repeat(40);
        for body in [
            "",
            "  \t\n ",
            "one",
            " two  words ",
            "Ünïcödé\u{2003}spaces\u{00a0}here",
            &long,
        ] {
            let preview = super::preview_text(Some(body), Some("the subject"), None, None, false);
            let line = Some(whole(body))
                .filter(|l| !l.is_empty())
                .unwrap_or("the subject".into());
            let expected = match line.char_indices().nth(160) {
                Some((cut, _)) => format!("{}…", &line[..cut]),
                None => line,
            };
            assert_eq!(preview, expected, "body {body:?}");
        }
        assert_eq!(super::one_line(&long, 10), "Bonjour, votre");
        assert_eq!(
            super::preview_text(Some(&long), None, None, None, false)
                .chars()
                .count(),
            161
        );
    }

    /// Every conversation's list columns, each advisor's unread rows, and the list indexes.
    fn state(store: &Store) -> (Vec<String>, Vec<String>, Vec<String>) {
        let rows = |sql: &str| -> Vec<String> {
            let mut q = store.conn.prepare(sql).unwrap();
            let n = q.column_count();
            q.query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
        };
        (
            rows("SELECT * FROM conversations ORDER BY key"),
            rows("SELECT * FROM advisor_reads ORDER BY advisor, conversation_key"),
            rows(super::LIST_INDEXES),
        )
    }

    fn import(store: &mut Store, events: &[Vec<u8>], per_transaction: usize) {
        let chunks = events.chunks(100).map(|chunk| {
            let items: Vec<Incoming> = chunk.iter().map(|body| Incoming::new(body.clone(), None)).collect();
            let parsed = chunk.iter().map(|b| crate::providers::parse(b, None)).collect();
            (items, parsed)
        });
        store.ingest_chunks("import", chunks, per_transaction).unwrap();
    }

    #[test]
    fn a_bulk_refresh_ends_as_refreshing_row_by_row_does() {
        let events = |range: std::ops::Range<u64>| -> Vec<Vec<u8>> {
            let mut out = vec![];
            crate::synthetic::generate(&mut out, 1_500, range, 3).unwrap();
            out.split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        };
        let (first, second) = (events(0..4_000), events(4_000..8_000));
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| {
            let mut store = Store::open(&dir.path().join(name)).unwrap();
            store
                .set_viewer(&crate::team::Advisor {
                    name: "ana".into(),
                    ids: Default::default(),
                })
                .unwrap();
            store
        };
        // Row by row: no transaction touches a thousand conversations.
        let mut by_row = open("by-row.db");
        import(&mut by_row, &first, 300);
        import(&mut by_row, &second, 300);
        // In bulk: each import touches all 1,500 (the second one, every one of them again).
        let mut bulk = open("bulk.db");
        let before = super::SET_ASIDE.load(std::sync::atomic::Ordering::Relaxed);
        import(&mut bulk, &first, 100_000);
        import(&mut bulk, &second, 100_000);
        assert!(super::SET_ASIDE.load(std::sync::atomic::Ordering::Relaxed) >= before + 2);
        let (b, r) = (state(&bulk), state(&by_row));
        assert!(b.0.len() > 1_000, "{} conversations", b.0.len());
        assert!(!b.1.is_empty(), "advisor rows");
        assert_eq!(b.2.len(), r.2.len(), "the same list indexes");
        assert_eq!(b, r);
        let check: String = bulk.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }
}
