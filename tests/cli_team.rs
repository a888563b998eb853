//! The team's commands with the real binary on one database shared by two advisors, the real
//! sandbox standing in for Partoo's assignment call, and `failures --watch` streaming.

mod common;

use common::services::{BIN, requests, start};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PARTOO_KEY: &str = "partoo-key-5c1e";

struct Desk {
    dir: tempfile::TempDir,
    db: PathBuf,
    nina_config: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sb.db");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut import = Command::new(BIN);
        import.arg("--db").arg(&db).arg("import");
        for v in ["mykaarma", "highlevel", "partoo"] {
            import.arg(root.join(format!("assets/demo/{v}.ndjson")));
        }
        assert!(import.output().unwrap().status.success());
        let nina_config = dir.path().join("nina.toml");
        std::fs::write(
            &nina_config,
            "[me]\nname = \"Nina Patel\"\npartoo = \"u-nina\"\n\n[team.\"Dana Reyes\"]\npartoo = \"u-dana\"\n",
        )
        .unwrap();
        Desk { dir, db, nina_config }
    }

    /// The command as Dana (her identity from the environment, no config file).
    fn dana(&self, args: &[&str], sandbox: Option<&str>) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--db")
            .arg(&self.db)
            .args(args)
            .env("SWITCHBOARD_CONFIG", self.dir.path().join("none.toml"))
            .env("SWITCHBOARD_ME_NAME", "Dana Reyes")
            .env("SWITCHBOARD_ME_PARTOO", "u-dana")
            .env("COLUMNS", "200");
        if let Some(url) = sandbox {
            c.env("SWITCHBOARD_PARTOO_API_KEY", PARTOO_KEY)
                .env("SWITCHBOARD_PARTOO_BASE_URL", url);
        }
        c
    }

    fn nina(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(&self.nina_config)
            .args(args)
            .env("COLUMNS", "200");
        c
    }
}

fn run(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(c: Command) -> Value {
    serde_json::from_str(&run(c)).unwrap()
}

fn keys(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn two_advisors_assign_mark_done_and_note_from_the_command_line() {
    let desk = Desk::new();
    let sandbox = start(
        &["sandbox", "--listen", "127.0.0.1:0"],
        &desk.dir.path().join("sandbox.log"),
        &[
            ("SWITCHBOARD_PARTOO_API_KEY", PARTOO_KEY),
            ("SWITCHBOARD_MYKAARMA_USERNAME", "sandbox-user"),
            ("SWITCHBOARD_MYKAARMA_PASSWORD", "sandbox-password"),
        ],
    );
    let partoo = keys(&json_of(
        desk.dana(&["conversations", "--filter", "partoo", "--json"], None),
    ));
    let key = partoo[0].clone();
    assert!(keys(&json_of(desk.dana(&["conversations", "--mine", "--json"], None))).is_empty());

    // Dana takes it: here, and at Partoo (one PATCH with her Partoo user id).
    let assigned = json_of(desk.dana(&["assign", &key, "--me", "--json"], Some(&sandbox.url)));
    assert_eq!(assigned["assignee"], "Dana Reyes");
    assert_eq!(assigned["vendor_told"], true, "{assigned}");
    let patches: Vec<Value> = requests(&sandbox.url)
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/v2/conversations/"))
        .collect();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0]["request"], json!({"assigned_user_id": "u-dana"}));
    assert_eq!(patches[0]["answer"], 200);
    assert_eq!(
        keys(&json_of(desk.dana(&["conversations", "--mine", "--json"], None))),
        vec![key.clone()]
    );

    // Nina sees it as Dana's, not unassigned, and not hers.
    assert!(!keys(&json_of(desk.nina(&["conversations", "--unassigned", "--json"]))).contains(&key));
    assert!(keys(&json_of(desk.nina(&["conversations", "--mine", "--json"]))).is_empty());
    let table = run(desk.nina(&["conversations", "--filter", "partoo"]));
    assert!(table.contains("ASSIGNEE") && table.contains("Dana Reyes"), "{table}");

    // Dana replies: the outbox records her, and Nina's thread shows her as the sender.
    let out = desk
        .dana(
            &["send", &key, "--message", "See you at 5", "--json"],
            Some(&sandbox.url),
        )
        .output()
        .unwrap();
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(sent["sent_by"], "Dana Reyes", "{sent}");
    let thread = json_of(desk.nina(&["thread", &key, "--json"]));
    let reply = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "See you at 5")
        .unwrap_or_else(|| panic!("{thread}"));
    assert_eq!(reply["sender"], "Dana Reyes");

    // Without an API key, the assignment is made here and says Partoo was not told.
    let local = json_of(desk.nina(&["assign", &key, "--to", "nina", "--json"]));
    assert_eq!(local["vendor_told"], false);
    assert!(
        local["vendor"].as_str().unwrap().contains("SWITCHBOARD_PARTOO_API_KEY"),
        "{local}"
    );
    assert_eq!(
        keys(&json_of(desk.nina(&["conversations", "--mine", "--json"]))),
        vec![key.clone()]
    );
    let nobody = desk.nina(&["assign", &key, "--to", "zed"]).output().unwrap();
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("Nina Patel, Dana Reyes"));

    // Done: out of everyone's list, in the done list.
    let done = json_of(desk.dana(&["done", &key, "--json"], None));
    assert_eq!(done["done"], true);
    assert!(!keys(&json_of(desk.nina(&["conversations", "--json", "--limit", "500"]))).contains(&key));
    assert_eq!(
        keys(&json_of(desk.nina(&["conversations", "--filter", "done", "--json"]))),
        vec![key.clone()]
    );
    run(desk.nina(&["reopen", &key]));
    assert!(keys(&json_of(desk.nina(&["conversations", "--json", "--limit", "500"]))).contains(&key));

    // Snooze until a time in words.
    let snoozed = json_of(desk.nina(&["snooze", &key, "2h", "--json"]));
    assert!(snoozed["snoozed_until"].is_string());
    assert_eq!(
        keys(&json_of(desk.nina(&["conversations", "--filter", "snoozed", "--json"]))),
        vec![key.clone()]
    );
    let bad = desk.nina(&["snooze", &key, "someday"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("tomorrow 9am"));

    // A note: in the thread with its author, found by search, never in the outbox.
    let note = json_of(desk.dana(&["note", &key, "Loaner car promised for Tuesday", "--json"], None));
    assert_eq!(note["author"], "Dana Reyes");
    let thread = json_of(desk.nina(&["thread", &key, "--json"]));
    let last = thread["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["channel"], "note");
    assert_eq!(last["sender"], "Dana Reyes");
    assert_eq!(last["body"], "Loaner car promised for Tuesday");
    // Commands read as the advisor without writing read marks for them (a read-only copy works).
    let store = switchboard::store::Store::open(&desk.db).unwrap();
    let advisors: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM advisors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(advisors, 0);
    let found = keys(&json_of(desk.nina(&[
        "conversations",
        "--filter",
        "snoozed",
        "--search",
        "loaner",
        "--json",
    ])));
    assert_eq!(found, vec![key.clone()]);
    assert!(run(desk.nina(&["outbox"])).contains("no replies") || !run(desk.nina(&["outbox"])).contains("Loaner"));
}

#[test]
fn failures_watch_streams_each_new_failure_as_a_json_line_and_ends_with_its_reader() {
    let desk = Desk::new();
    let mut watch = Command::new(BIN)
        .arg("--db")
        .arg(&desk.db)
        .args(["failures", "--watch"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = watch.stdout.take().unwrap();
    // The reader stops (closing the pipe) after the failure this test adds.
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let last = line.contains("987654");
            if tx.send(line).is_err() || last {
                return;
            }
        }
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    let existing: Value = serde_json::from_str(&first).unwrap();
    assert!(existing["message"]["status"].is_string());
    while rx.recv_timeout(std::time::Duration::from_millis(500)).is_ok() {}

    // A new failure stored by another process arrives as one line, within a second or two.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/partoo/sms_user_failed_update.json");
    let mut event: Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    event["payload"]["message"]["id"] = json!(987654);
    event["payload"]["message"]["date"] = json!("2026-11-20 12:59:00.000000+00:00");
    let file = desk.dir.path().join("failed.json");
    std::fs::write(&file, serde_json::to_vec(&event).unwrap()).unwrap();
    let started = std::time::Instant::now();
    let import = Command::new(BIN)
        .arg("--db")
        .arg(&desk.db)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(import.status.success());
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the new failure streamed");
    let new: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(new["message"]["provider_message_id"], "987654", "{new}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(500)).is_err(),
        "each failure once"
    );

    // The reader goes away: the watch ends by itself.
    drop(rx);
    reader.join().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(status) = watch.try_wait().unwrap() {
            assert!(status.success() || status.code().is_some());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "failures --watch outlived its reader"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
