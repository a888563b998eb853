//! Versioned migrations. `PRAGMA user_version` holds how many have run; each runs once, in its own
//! transaction. Never edit a shipped migration: add the next one.

use anyhow::{Context, Result, bail};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the raw event log (the truth), the derived conversation/message tables, and local state.
    r#"
    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,            -- Unix ms, our clock
        source      TEXT    NOT NULL,            -- import, webhook, demo, ...
        provider    TEXT    NOT NULL,            -- mykaarma, highlevel, partoo, unknown
        event_type  TEXT,
        dedupe_key  TEXT    NOT NULL UNIQUE,
        event_at    INTEGER,                     -- vendor event time, Unix ms
        outcome     TEXT    NOT NULL CHECK (outcome IN ('ok', 'ignored', 'rejected')),
        reason      TEXT,
        body        BLOB    NOT NULL             -- byte-exact as received
    );
    CREATE INDEX events_not_ok ON events (outcome, id) WHERE outcome != 'ok';

    -- Everything below `events` is derived from it and rebuilt by `rebuild`, except `local_marks`.
    CREATE TABLE conversations (
        id                INTEGER PRIMARY KEY,
        key               TEXT    NOT NULL UNIQUE,
        provider          TEXT    NOT NULL,
        contact_name      TEXT, contact_name_ver  TEXT,
        contact_phone     TEXT, contact_phone_ver TEXT,
        contact_email     TEXT, contact_email_ver TEXT,
        vendor_contact_id TEXT,
        channels          TEXT    NOT NULL DEFAULT '',   -- sorted, comma-separated
        last_at           INTEGER,
        preview           TEXT,
        message_count     INTEGER NOT NULL DEFAULT 0,
        unread            INTEGER NOT NULL DEFAULT 0,
        failed_count      INTEGER NOT NULL DEFAULT 0,
        attention_count   INTEGER NOT NULL DEFAULT 0,    -- failed + unknown outbound
        vendor_read_at    INTEGER,
        vendor_unread     INTEGER, vendor_unread_at INTEGER, vendor_unread_ver TEXT
    );
    CREATE INDEX conversations_activity ON conversations (last_at DESC, key DESC);
    -- The status bar's counts, without reading 50,000 wide rows.
    -- (A failed message is a message, so failed_count > 0 needs no message_count check.)
    CREATE INDEX conversations_unread ON conversations (unread, message_count) WHERE unread > 0;
    CREATE INDEX conversations_failed ON conversations (failed_count) WHERE failed_count > 0;

    CREATE TABLE messages (
        id                  INTEGER PRIMARY KEY,
        key                 TEXT    NOT NULL UNIQUE,
        conversation_id     INTEGER NOT NULL REFERENCES conversations (id),
        provider_message_id TEXT    NOT NULL,
        at                  INTEGER NOT NULL,
        at_provisional      INTEGER NOT NULL DEFAULT 0,  -- 1 while only an update has been seen
        channel             TEXT    NOT NULL, channel_raw   TEXT,
        direction           TEXT    NOT NULL, direction_raw TEXT,
        sender              TEXT,
        subject             TEXT,
        body                TEXT,
        body_html           TEXT,
        attachments         TEXT,                        -- JSON array
        call                TEXT,                        -- JSON object
        draft               INTEGER NOT NULL DEFAULT 0,  -- 1 draft, 2 discarded draft
        deleted             INTEGER NOT NULL DEFAULT 0,
        vendor_read         INTEGER NOT NULL DEFAULT 0,
        email_message_id    TEXT,
        status              TEXT    NOT NULL,
        status_raw          TEXT,
        status_detail       TEXT,
        status_ver          TEXT    NOT NULL,
        content_ver         TEXT    NOT NULL
    );
    -- Thread order and paging, and (covering) the per-conversation counts.
    CREATE INDEX messages_thread ON messages
        (conversation_id, at, key, direction, status, channel, draft, vendor_read);
    CREATE INDEX messages_attention ON messages (at) WHERE status IN ('failed', 'unknown');
    CREATE INDEX messages_email_id ON messages (email_message_id) WHERE email_message_id IS NOT NULL;

    -- Which events built each message, so an event that arrives late can be merged in order.
    CREATE TABLE message_events (
        message_id INTEGER NOT NULL,
        ver        TEXT    NOT NULL,
        event_id   INTEGER NOT NULL,
        PRIMARY KEY (message_id, ver)
    ) WITHOUT ROWID;

    -- The newest email delivery report per Message-ID, whether or not its message has arrived yet.
    CREATE TABLE email_status (
        email_message_id TEXT PRIMARY KEY,
        ver    TEXT NOT NULL,
        status TEXT NOT NULL,
        raw    TEXT,
        detail TEXT
    ) WITHOUT ROWID;

    -- Vendor contact records, for vendors whose message events carry only a contact id.
    CREATE TABLE contacts (
        key   TEXT PRIMARY KEY,                  -- provider:contact id
        name  TEXT, name_ver  TEXT,
        phone TEXT, phone_ver TEXT,
        email TEXT, email_ver TEXT
    ) WITHOUT ROWID;

    CREATE VIRTUAL TABLE messages_fts USING fts5 (
        subject, body,
        content = 'messages', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2',
        detail = none                            -- word and prefix queries only: no positions to store
    );
    -- Kept up to date by the fold, not by triggers: a trigger makes each insert a statement
    -- transaction, and FTS5 flushes its in-memory index at every one.

    -- What the user did (not derived from vendor events): survives `rebuild`.
    CREATE TABLE local_marks (
        conversation_key TEXT PRIMARY KEY,
        read_at          INTEGER,                 -- read up to this time (Unix ms)
        marked_unread    INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    "#,
    // 2: the receiver's audit log of refused requests (never a body) and send-callback tokens.
    r#"
    CREATE TABLE audit (
        id     INTEGER PRIMARY KEY,
        at     INTEGER NOT NULL,             -- Unix ms
        route  TEXT    NOT NULL,
        status INTEGER NOT NULL,             -- the HTTP status answered
        reason TEXT    NOT NULL,
        peer   TEXT,
        size   INTEGER                       -- body bytes read, when known
    );

    -- One unguessable token per sent message; myKaarma's callback URL carries it.
    CREATE TABLE callback_tokens (
        token      TEXT PRIMARY KEY,
        outbox_id  INTEGER,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: replies. A draft per conversation (kept across restarts), and the outbox: one row per
    // message we send, committed as `sending` before its request leaves.
    r#"
    CREATE TABLE drafts (
        conversation_key TEXT PRIMARY KEY,
        draft_id         TEXT    NOT NULL,      -- becomes the outbox client_id: one draft, one send
        protocol         TEXT    NOT NULL,
        subject          TEXT,
        body             TEXT    NOT NULL,
        options          TEXT    NOT NULL,      -- JSON SendOptions
        updated_at       INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        client_id        TEXT    NOT NULL UNIQUE,
        conversation_key TEXT    NOT NULL,
        protocol         TEXT    NOT NULL,
        recipient        TEXT,
        subject          TEXT,
        body             TEXT    NOT NULL,
        options          TEXT    NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN
                             ('queued', 'sending', 'accepted', 'sent', 'delivered', 'failed', 'unknown')),
        created_at       INTEGER NOT NULL,
        status_at        INTEGER NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        sending_pid      INTEGER,
        sending_at       INTEGER,
        next_try_at      INTEGER,               -- a retry after a connection that provably never opened
        http_status      INTEGER,
        message_uuid     TEXT,                  -- myKaarma's messageUUID = messageDTO.uuid in webhooks
        message_key      TEXT,                  -- the thread message it became
        errors           TEXT,                  -- JSON [Problem]
        warnings         TEXT
    );
    CREATE INDEX outbox_conversation ON outbox (conversation_key, id);
    CREATE INDEX outbox_open ON outbox (status, conversation_key)
        WHERE status IN ('queued', 'sending', 'accepted', 'sent', 'unknown');
    CREATE INDEX outbox_message_uuid ON outbox (message_uuid) WHERE message_uuid IS NOT NULL;
    -- Replies that failed, or whose fate is unknown, before any webhook made them a thread message:
    -- they count as the conversation's failures.
    CREATE INDEX outbox_attention ON outbox (conversation_key, status)
        WHERE status IN ('failed', 'unknown') AND message_key IS NULL;
    "#,
    // 4: the unread and failed lists walk indexes that hold only their own conversations.
    r#"
    CREATE INDEX conversations_unread_activity ON conversations (last_at DESC, key DESC) WHERE unread > 0;
    CREATE INDEX conversations_failed_activity ON conversations (last_at DESC, key DESC) WHERE failed_count > 0;
    "#,
    // 5: contact search ignores case and accents (`gonzalez` finds González): a folded copy of the
    // contact fields, kept by triggers with `switchboard_fold` (registered on every connection).
    r#"
    ALTER TABLE conversations ADD COLUMN contact_fold TEXT;
    UPDATE conversations SET contact_fold =
        switchboard_fold(concat_ws(' ', contact_name, contact_phone, contact_email));
    CREATE TRIGGER conversations_fold_insert AFTER INSERT ON conversations BEGIN
        UPDATE conversations SET contact_fold =
            switchboard_fold(concat_ws(' ', NEW.contact_name, NEW.contact_phone, NEW.contact_email))
        WHERE id = NEW.id;
    END;
    CREATE TRIGGER conversations_fold_update AFTER UPDATE OF contact_name, contact_phone, contact_email
        ON conversations
        WHEN NEW.contact_name IS NOT OLD.contact_name OR NEW.contact_phone IS NOT OLD.contact_phone
            OR NEW.contact_email IS NOT OLD.contact_email
        BEGIN
        UPDATE conversations SET contact_fold =
            switchboard_fold(concat_ws(' ', NEW.contact_name, NEW.contact_phone, NEW.contact_email))
        WHERE id = NEW.id;
    END;
    "#,
    // 6: each channel filter walks an activity-ordered index of only its conversations (a rare
    // channel otherwise walked all 50,000 conversations: 30-300 ms at a million messages).
    r#"
    CREATE INDEX conversations_channel_sms ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,sms,%';
    CREATE INDEX conversations_channel_email ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,email,%';
    CREATE INDEX conversations_channel_voice ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,voice,%';
    CREATE INDEX conversations_channel_voicemail ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,voicemail,%';
    CREATE INDEX conversations_channel_whatsapp ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,whatsapp,%';
    CREATE INDEX conversations_channel_facebook ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,facebook,%';
    CREATE INDEX conversations_channel_instagram ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,instagram,%';
    CREATE INDEX conversations_channel_google ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,google,%';
    CREATE INDEX conversations_channel_live_chat ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,live_chat,%';
    CREATE INDEX conversations_channel_note ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,note,%';
    CREATE INDEX conversations_channel_other ON conversations (last_at DESC, key DESC)
        WHERE (',' || channels || ',') LIKE '%,other,%';
    "#,
    // 7: and so does each vendor filter.
    r#"
    CREATE INDEX conversations_provider_mykaarma ON conversations (last_at DESC, key DESC) WHERE provider = 'mykaarma';
    CREATE INDEX conversations_provider_highlevel ON conversations (last_at DESC, key DESC) WHERE provider = 'highlevel';
    CREATE INDEX conversations_provider_partoo ON conversations (last_at DESC, key DESC) WHERE provider = 'partoo';
    "#,
    // 8: one outbox for every vendor. A reply names its vendor and channel (the words of the
    // model's vocabularies, `sms`/`email`/`whatsapp`/…, where myKaarma's protocol was stored), the
    // vendor's message id whatever the vendor calls it, and the message it answers (email threading).
    r#"
    ALTER TABLE outbox RENAME COLUMN protocol TO channel;
    UPDATE outbox SET channel = CASE channel WHEN 'TEXT' THEN 'sms' WHEN 'EMAIL' THEN 'email' ELSE lower(channel) END;
    ALTER TABLE outbox ADD COLUMN provider TEXT NOT NULL DEFAULT 'mykaarma';
    ALTER TABLE outbox ADD COLUMN reply_to TEXT;
    ALTER TABLE outbox ADD COLUMN lookups INTEGER NOT NULL DEFAULT 0;   -- status lookups at the vendor
    DROP INDEX outbox_message_uuid;
    ALTER TABLE outbox RENAME COLUMN message_uuid TO vendor_message_id;
    CREATE INDEX outbox_vendor_message_id ON outbox (vendor_message_id) WHERE vendor_message_id IS NOT NULL;
    ALTER TABLE drafts RENAME COLUMN protocol TO channel;
    UPDATE drafts SET channel = CASE channel WHEN 'TEXT' THEN 'sms' WHEN 'EMAIL' THEN 'email' ELSE lower(channel) END;
    "#,
    // 9: a team. Each advisor's own read marks (`advisor_reads`, one row per conversation once the
    // advisor has opened the inbox, kept by the fold: the unread list and count read only their
    // own rows), assignment (the vendor's, and ours: the newer wins), done and snoozed
    // conversations, and who sent each reply. Local tables survive `rebuild`; the columns on
    // `conversations` are derived from them and the log.
    r#"
    ALTER TABLE conversations ADD COLUMN inbound_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN last_inbound_at INTEGER;
    ALTER TABLE conversations ADD COLUMN vendor_assignee TEXT;        -- provider:user id, or '' for "nobody"
    ALTER TABLE conversations ADD COLUMN vendor_assignee_ver TEXT;
    ALTER TABLE conversations ADD COLUMN assignee TEXT;               -- name:… or provider:…; NULL unassigned
    ALTER TABLE conversations ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;  -- 0 open, 1 done, else snoozed until (Unix ms)
    ALTER TABLE contacts ADD COLUMN assignee TEXT;
    ALTER TABLE contacts ADD COLUMN assignee_ver TEXT;
    UPDATE conversations SET
        inbound_count = (SELECT count(*) FROM messages m
                         WHERE m.conversation_id = conversations.id AND m.direction = 'inbound' AND m.draft = 0),
        last_inbound_at = (SELECT max(at) FROM messages m
                           WHERE m.conversation_id = conversations.id AND m.direction = 'inbound' AND m.draft = 0);
    CREATE INDEX conversations_assignee ON conversations (assignee, last_at DESC, key DESC);
    CREATE INDEX conversations_parked ON conversations (parked) WHERE parked != 0;

    CREATE TABLE advisors (
        name  TEXT PRIMARY KEY,
        since INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE advisor_reads (
        advisor          TEXT    NOT NULL,
        conversation_key TEXT    NOT NULL,
        seen_inbound     INTEGER NOT NULL,          -- the conversation's inbound count when last read
        unread           INTEGER NOT NULL,          -- inbound_count - seen_inbound, kept by the fold
        marked_unread    INTEGER NOT NULL DEFAULT 0,
        read_at          INTEGER,
        last_at          INTEGER,                   -- the conversation's, for the unread list's order
        PRIMARY KEY (advisor, conversation_key)
    ) WITHOUT ROWID;
    CREATE INDEX advisor_reads_conversation ON advisor_reads (conversation_key);
    -- Covering: the unread list and count never read the table (which halves the rows per page).
    CREATE INDEX advisor_unread_activity ON advisor_reads
        (advisor, last_at DESC, conversation_key DESC, unread, marked_unread) WHERE unread > 0 OR marked_unread;

    CREATE TABLE assignments (
        conversation_key TEXT PRIMARY KEY,
        assignee         TEXT,                      -- name:<advisor>; NULL: unassigned
        assigned_by      TEXT    NOT NULL,
        at               INTEGER NOT NULL,
        at_vendor        TEXT                       -- what the vendor was told, in words
    ) WITHOUT ROWID;
    CREATE TABLE triage (
        conversation_key TEXT PRIMARY KEY,
        done_at          INTEGER,
        done_by          TEXT,
        snoozed_at       INTEGER,
        snoozed_until    INTEGER,
        snoozed_by       TEXT
    ) WITHOUT ROWID;

    ALTER TABLE outbox ADD COLUMN sent_by TEXT;
    "#,
    // 10: the receiver acknowledges once an event is in the log and folds right behind; an event
    // appended and not yet folded is listed here until its fold commits (a crash in between:
    // the next start folds what is listed).
    r#"
    CREATE TABLE unfolded (
        event_id INTEGER PRIMARY KEY
    );
    "#,
    // 11: the contact fields' folded copy is written with the conversation's other list columns,
    // once per transaction. A trigger wrote it at every contact update and, by opening a statement
    // savepoint each time, made the full-text index flush.
    r#"
    DROP TRIGGER conversations_fold_insert;
    DROP TRIGGER conversations_fold_update;
    "#,
    // 12: a body may be kept compressed (`body_codec.rs`); the events stored before stay as they
    // were received (codec 0).
    r#"
    ALTER TABLE events ADD COLUMN body_codec INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// Text as search compares it: lower case, accents removed (NFD without combining marks).
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Make `switchboard_fold(text)` available to SQL on this connection.
pub fn register_functions(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "switchboard_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| Ok(ctx.get::<Option<String>>(0)?.map(|t| fold(&t))),
    )?;
    Ok(())
}

/// Bring the database up to the latest schema.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if current > MIGRATIONS.len() {
        bail!(
            "the database is at schema version {current}, newer than this switchboard knows ({}); upgrade switchboard",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i + 1;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process opening the same new database may have got here first.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now as usize >= version {
            continue;
        }
        tx.execute_batch(sql).with_context(|| format!("migration {version}"))?;
        tx.pragma_update(None, "user_version", version as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// The tables `rebuild` empties and fills again from the event log.
pub const DERIVED_TABLES: &[&str] = &[
    "message_events",
    "email_status",
    "contacts",
    "messages",
    "conversations",
];

#[cfg(test)]
mod tests {
    #[test]
    fn two_processes_making_the_same_new_database_both_open_it() {
        // `switchboard ssh` and `serve` started together on a fresh path: each migrates, and the
        // one that waits finds the work done instead of failing on "table already exists".
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sb.db");
            let opened: Vec<_> = (0..4)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || crate::store::Store::open(&path).map(|_| ()))
                })
                .collect();
            for o in opened {
                o.join().unwrap().unwrap();
            }
        }
    }
}
