//! The real `switchboard` binary on a real database file, as a script or a person would use it.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Db {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("sb.db");
        Db { _dir: dir, path }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("switchboard").unwrap();
        c.arg("--db").arg(&self.path).env("COLUMNS", "160");
        c
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.run(args)).unwrap()
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo_files() -> Vec<String> {
    ["mykaarma", "highlevel", "partoo"]
        .iter()
        .map(|v| root().join(format!("assets/demo/{v}.ndjson")).display().to_string())
        .collect()
}

fn import_demo(db: &Db) -> Value {
    let mut args = vec!["import", "--json"];
    let files = demo_files();
    args.extend(files.iter().map(String::as_str));
    db.json(&args)
}

#[test]
fn import_reports_counts_and_is_idempotent() {
    let db = Db::new();
    let first = import_demo(&db);
    assert!(first["imported"].as_u64().unwrap() > 550, "{first}");
    assert_eq!(first["duplicates"], 0);
    assert_eq!(
        first["ignored"], 4,
        "customers, appointments, opportunity, business_updated: {first}"
    );
    assert_eq!(first["rejected"], 0);
    assert!(first["events_per_second"].as_f64().unwrap() > 0.0);
    let again = import_demo(&db);
    assert_eq!(again["imported"], 0);
    assert_eq!(again["duplicates"], first["imported"].as_u64().unwrap() + 4);
    let human = db.run(&["import", &demo_files()[2]]);
    assert!(
        human.starts_with("imported 0, duplicates 23, ignored 0, rejected 0 ("),
        "{human}"
    );
    // The database holds customer data: private to its owner.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&db.path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(db.path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}

#[test]
fn the_demo_dealership_is_a_realistic_day() {
    let db = Db::new();
    import_demo(&db);
    let list = db.json(&["conversations", "--json", "--limit", "1000"]);
    let list = list.as_array().unwrap();
    assert!(list.len() >= 25, "{} conversations", list.len());
    let mut channels = std::collections::BTreeSet::new();
    let mut providers = std::collections::BTreeSet::new();
    for c in list {
        providers.insert(c["provider"].as_str().unwrap().to_string());
        for ch in c["channels"].as_array().unwrap() {
            channels.insert(ch.as_str().unwrap().to_string());
        }
        for key in [
            "conversation_key",
            "provider",
            "contact",
            "channels",
            "last_activity",
            "preview",
            "unread",
            "message_count",
            "failed_count",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert!(c["last_activity"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(providers.len(), 3);
    for ch in [
        "sms",
        "email",
        "voice",
        "voicemail",
        "whatsapp",
        "facebook",
        "instagram",
        "google",
        "live_chat",
        "note",
    ] {
        assert!(channels.contains(ch), "no {ch} conversation in the demo");
    }
    // Newest activity first.
    let times: Vec<&str> = list.iter().map(|c| c["last_activity"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // One very long thread.
    assert!(list.iter().any(|c| c["message_count"].as_i64().unwrap() >= 500));
}

#[test]
fn thread_json_is_oldest_first_with_every_field() {
    let db = Db::new();
    import_demo(&db);
    // An unambiguous prefix is enough.
    let t = db.json(&["thread", "highlevel:emailConvEmily", "--json"]);
    assert_eq!(t["conversation"]["conversation_key"], "highlevel:emailConvEmily01");
    let messages = t["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    let reply = &messages[1];
    for key in [
        "message_key",
        "provider_message_id",
        "channel",
        "direction",
        "at",
        "sender",
        "subject",
        "body",
        "status",
        "status_detail",
        "attachments",
        "call",
    ] {
        assert!(reply.get(key).is_some(), "{key} missing");
    }
    assert_eq!(reply["direction"], "outbound");
    assert_eq!(
        reply["status"], "read",
        "the 'opened' email report arrived before 'delivered' and is newer"
    );
    assert!(reply["body"].as_str().unwrap().contains("RAV4 Hybrid XLE"));
    assert!(!reply["body"].as_str().unwrap().contains("<p>"));
    assert_eq!(reply["attachments"][0]["mime"], "application/pdf");
    assert!(messages[0]["at"].as_str().unwrap() < reply["at"].as_str().unwrap());

    let grace = db.json(&["thread", "highlevel:callConvGrace", "--json"]);
    let call = &grace["messages"][0]["call"];
    assert_eq!(
        (call["outcome"].as_str(), call["duration_s"].as_u64()),
        (Some("voicemail"), Some(38))
    );

    let human = db.run(&["thread", "partoo:40981"]);
    assert!(human.contains("Partoo could not send it"), "{human}");
    assert!(human.contains("→ outbound facebook"), "{human}");
}

#[test]
fn failures_give_reasons_in_words_and_an_exit_code_for_alerts() {
    let db = Db::new();
    // A wrong path is an error, not a green alert.
    db.cmd().args(["failures", "--exit-code"]).assert().code(2);
    import_demo(&db);
    let quiet = db
        .cmd()
        .args(["failures", "--exit-code", "--since", "1m"])
        .assert()
        .code(0);
    assert!(String::from_utf8_lossy(&quiet.get_output().stdout).contains("no failed deliveries"));
    let rows = db.json(&["failures", "--json"]);
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 5, "{rows:?}");
    let reasons: Vec<&str> = rows
        .iter()
        .map(|r| r["message"]["status_detail"].as_str().unwrap_or(""))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("unsubscribed from texts")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("filtered the message as spam")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("does not exist. (SMTP 550)")),
        "{reasons:?}"
    );
    let at: Vec<&str> = rows.iter().map(|r| r["message"]["at"].as_str().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");
    db.cmd().args(["failures", "--exit-code"]).assert().code(1);
    // The demo day is in the past: nothing in the last minute.
    db.cmd()
        .args(["failures", "--since", "1m", "--exit-code"])
        .assert()
        .code(0);
}

#[test]
fn filters_and_search() {
    let db = Db::new();
    import_demo(&db);
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["conversations", "--json"];
        a.extend_from_slice(args);
        db.json(&a)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conversation_key"].as_str().unwrap().to_string())
            .collect()
    };
    let failed = ids(&["--filter", "failed"]);
    assert!(
        failed.contains(&"partoo:41010".to_string()) && failed.len() >= 5,
        "{failed:?}"
    );
    assert!(ids(&["--filter", "unread"]).len() < ids(&[]).len());
    assert!(ids(&["--filter", "whatsapp"]).contains(&"partoo:41002".to_string()));
    assert!(ids(&["--filter", "partoo"]).iter().all(|id| id.starts_with("partoo:")));
    // The last word matches as a prefix: "tire" finds "tires" and "tire".
    assert_eq!(
        ids(&["--search", "winter tire"]).len(),
        2,
        "Hans (Partoo) and Tomás (myKaarma)"
    );
    assert_eq!(ids(&["--search", "winter tires"]).len(), 1);
    assert_eq!(ids(&["--search", "Émilie"]), vec!["partoo:41002"]);
    let bad = db.cmd().args(["conversations", "--filter", "fax"]).assert().code(2);
    let err = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown filter `fax`"), "{err}");
}

#[test]
fn bad_input_is_stored_reported_and_never_fatal() {
    let db = Db::new();
    let dir = root().join("tests/fixtures/bad");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    let mut args = vec!["import", "--json"];
    args.extend(files.iter().map(String::as_str));
    let report = db.json(&args);
    assert_eq!(report["rejected"].as_u64().unwrap() as usize, files.len(), "{report}");
    let rejected = db.json(&["events", "--rejected", "--json"]);
    for e in rejected.as_array().unwrap() {
        assert!(e["reason"].as_str().unwrap().len() > 10, "{e}");
        // Kept byte-exact for inspection (the file's final line end is not part of the event).
        let id = e["id"].as_i64().unwrap().to_string();
        let raw = db.cmd().args(["events", "--raw", &id]).output().unwrap().stdout;
        assert!(
            files.iter().any(|f| std::fs::read(f).unwrap().trim_ascii_end() == raw),
            "event {id}"
        );
    }
    let human = db.run(&["events", "--rejected"]);
    assert!(
        human.contains("not valid UTF-8") && human.contains("nested deeper than 128"),
        "{human}"
    );
}

#[test]
fn a_file_that_cannot_be_read_is_one_clear_error() {
    let db = Db::new();
    let out = db.cmd().args(["import", "/nonexistent/events.ndjson"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(
        err.trim(),
        "switchboard: cannot read /nonexistent/events.ndjson: No such file or directory (os error 2)"
    );
    import_demo(&db);
    let missing = db.cmd().args(["thread", "partoo:999"]).assert().code(2);
    assert!(String::from_utf8_lossy(&missing.get_output().stderr).contains("no conversation `partoo:999`"));
}

#[test]
fn stdin_and_forced_provider() {
    let db = Db::new();
    let body = std::fs::read(root().join("tests/fixtures/partoo/google_consumer_success.json")).unwrap();
    let r: Value = serde_json::from_slice(
        &db.cmd()
            .args(["import", "--json", "--provider", "partoo", "-"])
            .write_stdin(body)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(r["imported"], 1);
    let events = db.json(&["events", "--json"]);
    assert_eq!(events[0]["provider"], "partoo");
    assert_eq!(events[0]["source"], "import");
}

#[test]
fn rebuild_keeps_every_thread_identical() {
    let db = Db::new();
    import_demo(&db);
    let everything = |db: &Db| -> String {
        let list = db.run(&["conversations", "--json", "--limit", "1000"]);
        let mut all = list.clone();
        for c in serde_json::from_str::<Value>(&list).unwrap().as_array().unwrap() {
            all.push_str(&db.run(&["thread", c["conversation_key"].as_str().unwrap(), "--json"]));
        }
        all
    };
    let before = everything(&db);
    let r = db.json(&["rebuild", "--json"]);
    assert!(r["events"].as_u64().unwrap() > 600);
    assert_eq!(r["changed_outcome"], 0);
    assert_eq!(everything(&db), before);
}

#[test]
fn untrusted_text_cannot_reach_the_terminal_raw() {
    let db = Db::new();
    let evil = serde_json::json!({
        "type": "message_created",
        "payload": {
            "message": {"id": 1, "conversation_id": 9, "date": "2023-01-31 16:22:17+00:00", "content_type": "Text",
                        "sender_type": "Consumer", "status": "Success", "content": "hi\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{202e}gnp.exe\u{9b}"},
            "conversation": {"id": 9, "consumer_name": "Eve\u{1b}]0;pwned\u{7}", "messaging_partner": "SMS"}
        }
    });
    let out = db
        .cmd()
        .args(["import", "-"])
        .write_stdin(evil.to_string())
        .output()
        .unwrap();
    assert!(out.status.success());
    for args in [&["conversations"][..], &["thread", "partoo:9"][..]] {
        let text = db.run(args);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{args:?}: {text:?}");
        assert!(!text.contains('\u{202e}'), "{args:?}");
        assert!(text.contains("Eve␛]0;pwned␇"), "{text}");
    }
}

#[test]
fn demo_shows_the_dealership() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("switchboard")
        .unwrap()
        .arg("demo")
        .env("COLUMNS", "120")
        .env("TMPDIR", tmp.path())
        .env_remove("SWITCHBOARD_DB")
        .output()
        .unwrap();
    // Not on a terminal it prints, and leaves nothing behind.
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "temporary files left"
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Demo dealership:"), "{text}");
    assert!(
        text.contains("María González") && text.contains("Delivery failures:"),
        "{text}"
    );
}

#[test]
fn reading_commands_refuse_a_database_that_does_not_exist() {
    let db = Db::new();
    for args in [
        &["conversations"][..],
        &["thread", "x"][..],
        &["failures", "--exit-code"][..],
        &["events"][..],
        &["outbox"][..],
    ] {
        let out = db.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("switchboard: no database at "), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(
        !db.path.exists() && !db.path.parent().unwrap().exists(),
        "a database was created"
    );
}

#[test]
fn serve_refuses_to_start_without_any_vendor_key() {
    let db = Db::new();
    let config = db._dir.path().join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let out = db
        .cmd()
        .args(["--config", config.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"])
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no vendor keys are configured"), "{err}");
    assert!(err.contains("--insecure-accept-unsigned"), "{err}");
}

#[test]
fn usage_mistakes_are_one_line_with_where_to_look() {
    let db = Db::new();
    import_demo(&db);
    let out = db.cmd().args(["conversations", "--limt", "3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        "switchboard: unexpected argument '--limt' found (see `switchboard conversations --help`)"
    );
    let out = db.cmd().arg("demo").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("switchboard: demo runs on a temporary database of its own"),
        "{err}"
    );
    // Help is still help.
    let out = Command::cargo_bin("switchboard")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
}

#[test]
fn a_dumb_terminal_gets_the_list_printed() {
    let db = Db::new();
    import_demo(&db);
    let out = db.cmd().env("TERM", "dumb").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("María González"), "{text}");
    assert!(text.contains("TERM=dumb cannot show the inbox"), "{text}");
    assert!(!text.contains('\x1b'), "escape sequences on a dumb terminal");
}

#[test]
fn a_pipe_gets_every_cell_whole() {
    let db = Db::new();
    import_demo(&db);
    let out = db.cmd().env_remove("COLUMNS").args(["failures"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('…'), "{text}");
    assert!(
        text.contains("the carrier filtered the message as spam (Twilio 30007)"),
        "{text}"
    );
}

#[test]
fn contact_search_ignores_accents_and_case() {
    let db = Db::new();
    import_demo(&db);
    for query in ["gonzalez", "GONZÁLEZ", "maria", "nguyen", "muller"] {
        let list = db.json(&["conversations", "--search", query, "--json"]);
        assert!(!list.as_array().unwrap().is_empty(), "{query} found nothing");
    }
    let list = db.json(&["conversations", "--search", "gonzalez", "--json"]);
    assert_eq!(list[0]["contact"]["name"], "María González");
}

#[test]
fn every_visible_option_has_help_text() {
    use clap::CommandFactory;
    let cli = switchboard::cli::Cli::command();
    let mut missing = vec![];
    let mut check = |cmd: &clap::Command, name: &str| {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg.get_help().is_none() && !["help", "version"].contains(&arg.get_id().as_str()) {
                missing.push(format!("{name} --{}", arg.get_id()));
            }
        }
    };
    check(&cli, "switchboard");
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        check(sub, sub.get_name());
    }
    assert!(missing.is_empty(), "options without help: {missing:?}");
}

#[test]
fn hostile_vendor_ids_never_reach_stderr_and_stay_addressable() {
    let db = Db::new();
    let event = |conversation: &str, message: &str| {
        serde_json::json!({
            "type": "InboundMessage", "locationId": "l1", "conversationId": conversation,
            "dateAdded": "2026-11-20T10:00:00.000Z", "direction": "inbound", "messageType": "SMS",
            "messageId": message, "body": "hi", "from": "+15551234567",
        })
        .to_string()
    };
    let hostile = [
        "evil\u{1b}]0;owned\u{7}\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}",
        "evil\u{1b}]8;;http://x.example\u{1b}\\link\u{1b}]8;;\u{1b}\\\u{90}dcs\u{9c}\u{202e}rtl",
        "evil\u{1b}_apc\u{1b}\\\u{85}",
    ];
    let huge = "x".repeat(1 << 20);
    let with_nul = "nul\u{0}id";
    let mut lines: Vec<String> = hostile
        .iter()
        .enumerate()
        .map(|(i, c)| event(c, &format!("m{i}")))
        .collect();
    lines.push(event(&huge, "m-huge"));
    lines.push(event(with_nul, "m-nul"));
    let file = db._dir.path().join("hostile.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    db.run(&["import", file.to_str().unwrap()]);

    // An ambiguous prefix lists keys on stderr: printable text only.
    let out = db.cmd().args(["thread", "highlevel:"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        !err.chars().any(|c| c.is_control() && c != '\n') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    // Every conversation, the 1 MiB and the NUL one included, has a short printable key that
    // `thread` accepts.
    let list = db.json(&["conversations", "--json", "--limit", "10"]);
    let keys: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    for key in &keys {
        assert!(key.len() <= 140 && key.bytes().all(|b| b.is_ascii_graphic()), "{key:?}");
        let text = db.run(&["thread", key]);
        assert!(text.contains("hi"), "{key}: {text}");
    }
}
