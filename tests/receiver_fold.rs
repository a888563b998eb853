//! The receiver acknowledges once a delivery is in the log and folds right behind. A crash between
//! the two (the fault point aborts the real `serve` after acknowledging, before folding) loses
//! nothing and doubles nothing: the next start folds every acknowledged event exactly once, to the
//! same conversations a plain import of the same bodies makes.

mod common;

use common::services::{BIN, serve, signed_mykaarma};
use std::process::Command;
use std::time::{Duration, Instant};

const SECRET: &str = "fold-test-signing-secret";
const N: usize = 500;

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn conversations(db: &std::path::Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["conversations", "--json", "--limit", "100000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn killed_between_append_and_fold_every_acknowledged_event_is_folded_once_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (config, lines) = signed_mykaarma(d, SECRET, N, 4096);

    let db = d.join("sb.db");
    let start_serve = |fault: bool| {
        let n = N.to_string();
        let env: Vec<(&str, &str)> = if fault {
            vec![("SWITCHBOARD_FAULT_ABORT_BEFORE_FOLD", n.as_str())]
        } else {
            vec![]
        };
        serve(&db, &config, &env)
    };
    let mut server = start_serve(true);
    let http = reqwest::blocking::Client::new();
    for (sig, body) in &lines {
        let answer = http
            .post(format!("{}/webhooks/mykaarma", server.url))
            .header("mykaarma-signature-token", sig)
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    // Every delivery acknowledged; the receiver dies before it folds them.
    let status = server.child.wait().unwrap();
    assert!(!status.success(), "the fault point aborts: {status:?}");
    assert_eq!(count(&db, "SELECT count(*) FROM events"), N as i64);
    assert_eq!(count(&db, "SELECT count(*) FROM unfolded"), N as i64);
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 0, "nothing was folded");

    // The next start folds what was left, once.
    let restarted = Instant::now();
    let server = start_serve(false);
    while count(&db, "SELECT count(*) FROM unfolded") > 0 {
        assert!(restarted.elapsed() < Duration::from_secs(10), "not folded at start");
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{N} events folded {:?} after the restart", restarted.elapsed());
    drop(server);

    // The same conversations as a plain import of the same bodies.
    let bodies = d.join("bodies.ndjson");
    std::fs::write(&bodies, lines.iter().map(|(_, b)| format!("{b}\n")).collect::<String>()).unwrap();
    let reference = d.join("reference.db");
    let imported = Command::new(BIN)
        .arg("--db")
        .arg(&reference)
        .arg("import")
        .arg(&bodies)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM messages"),
        count(&reference, "SELECT count(*) FROM messages")
    );
    assert_eq!(conversations(&db), conversations(&reference));
}
