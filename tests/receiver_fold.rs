//! The receiver acknowledges once a delivery is in the log and folds right behind. A crash between
//! the two (the fault point aborts the real `serve` after acknowledging, before folding) loses
//! nothing and doubles nothing: the next start folds every acknowledged event exactly once, to the
//! same conversations a plain import of the same bodies makes. A fold that fails while the
//! receiver runs (here: another process holds the database past the busy timeout) is done again
//! from the log by the same process once it can be. A writer thread that dies stops the receiver;
//! a failed fsync stops every acknowledgement, and `/healthz` says so. The benchmark's bound that
//! holds every fold until the receiver stops folds them all then.

mod common;

use common::services::{BIN, exited_within, serve, serve_with, signed_mykaarma};
use std::process::Command;
use std::time::{Duration, Instant};

const SECRET: &str = "fold-test-signing-secret";
const N: usize = 500;

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// POST one signed delivery.
fn post(url: &str, (sig, body): &(String, String)) -> reqwest::Result<reqwest::blocking::Response> {
    reqwest::blocking::Client::new()
        .post(format!("{url}/webhooks/mykaarma"))
        .header("mykaarma-signature-token", sig)
        .body(body.clone())
        .send()
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

/// The same conversations as a plain import of the same bodies.
fn assert_as_imported(d: &std::path::Path, db: &std::path::Path, lines: &[(String, String)]) {
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
        count(db, "SELECT count(*) FROM messages"),
        count(&reference, "SELECT count(*) FROM messages")
    );
    assert_eq!(conversations(db), conversations(&reference));
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
    for line in &lines {
        assert_eq!(post(&server.url, line).unwrap().status(), 200);
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

    assert_as_imported(d, &db, &lines);
}

/// `serve --bench-hold-folds` (the benchmark's bound on the append path) acknowledges as usual
/// and folds nothing while it runs; stopped, it folds every held event once, to the conversations
/// a plain import makes, and leaves the whole database in its file (the WAL emptied).
#[test]
fn held_folds_are_all_done_when_the_receiver_stops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (config, lines) = signed_mykaarma(d, SECRET, 200, 1024);
    let db = d.join("sb.db");
    let mut server = serve_with(&db, &config, &["--bench-hold-folds"], &[]);
    for line in &lines {
        assert_eq!(post(&server.url, line).unwrap().status(), 200);
    }
    assert_eq!(unfolded_gauge(&server.url), "switchboard_unfolded_events 200");
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 0, "held, not folded");

    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    let status = exited_within(&mut server.child, 20, "did not exit after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(d.join("serve.log")).unwrap();
    assert!(log.contains("folded 200 held events in"), "{log}");
    let wal = std::fs::metadata(db.with_file_name("sb.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL is emptied at stop");
    assert_eq!(count(&db, "SELECT count(*) FROM unfolded"), 0);
    assert_as_imported(d, &db, &lines);
}

/// Wait until `sql` counts `n`, for at most `secs`.
fn wait_for_count(db: &std::path::Path, sql: &str, n: i64, secs: u64, what: &str) {
    let since = Instant::now();
    while count(db, sql) != n {
        assert!(
            since.elapsed() < Duration::from_secs(secs),
            "{what}: {sql} is {}",
            count(db, sql)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn unfolded_gauge(url: &str) -> String {
    let page = reqwest::blocking::get(format!("{url}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    page.lines()
        .find(|l| l.starts_with("switchboard_unfolded_events "))
        .unwrap_or_else(|| panic!("no unfolded gauge in {page}"))
        .to_string()
}

/// A receiver with one fault point set, in a new directory, and `n` signed deliveries for it.
struct Faulty {
    dir: tempfile::TempDir,
    db: std::path::PathBuf,
    lines: Vec<(String, String)>,
    server: common::services::Proc,
}

fn faulty(n: usize, fault: (&str, &str)) -> Faulty {
    let dir = tempfile::tempdir().unwrap();
    let (config, lines) = signed_mykaarma(dir.path(), SECRET, n, 1024);
    let db = dir.path().join("sb.db");
    let server = serve(&db, &config, &[fault]);
    Faulty { dir, db, lines, server }
}

#[test]
fn a_fold_that_fails_is_done_again_from_the_log_without_a_restart() {
    // Each fold starts 1.5 s late: time for another process to take the database first.
    let Faulty {
        dir,
        db,
        lines,
        mut server,
    } = faulty(3, ("SWITCHBOARD_FAULT_HOLD_FOLD_MS", "1500"));
    assert_eq!(post(&server.url, &lines[0]).unwrap().status(), 200);

    // Acknowledged, so appended. Another process now holds the database past the receiver's
    // busy timeout (5 s), and the fold waiting behind it fails.
    let mut other = rusqlite::Connection::open(&db).unwrap();
    let lock = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let log = db.with_file_name("serve.log");
    let held = Instant::now();
    while !std::fs::read_to_string(&log).unwrap().contains("fold failed") {
        assert!(
            held.elapsed() < Duration::from_secs(20),
            "the fold did not fail: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(&db, "SELECT count(*) FROM unfolded"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 0);
    assert_eq!(unfolded_gauge(&server.url), "switchboard_unfolded_events 1");

    // The database is free again: the same receiver folds the event from the log.
    drop(lock);
    wait_for_count(&db, "SELECT count(*) FROM unfolded", 0, 10, "not folded again");
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 1);
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the receiver was not restarted"
    );
    assert_eq!(unfolded_gauge(&server.url), "switchboard_unfolded_events 0");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("folded the events failed folds had left")
    );

    // Later deliveries are folded as before, and every event once.
    for line in &lines[1..] {
        assert_eq!(post(&server.url, line).unwrap().status(), 200);
    }
    wait_for_count(
        &db,
        "SELECT count(*) FROM messages",
        3,
        10,
        "later deliveries not folded",
    );
    wait_for_count(
        &db,
        "SELECT count(*) FROM unfolded",
        0,
        10,
        "later deliveries not folded",
    );
    drop(server);
    assert_as_imported(dir.path(), &db, &lines);
}

#[test]
fn a_receiver_whose_writer_dies_stops_and_says_so() {
    let Faulty {
        dir: _dir,
        db,
        lines,
        mut server,
    } = faulty(1, ("SWITCHBOARD_FAULT_WRITER_PANICS", "1"));
    // Not acknowledged: the vendor sends it again later.
    if let Ok(answer) = post(&server.url, &lines[0]) {
        assert_eq!(answer.status(), 503);
    }
    // Rather than answer 503 to everything while it looks alive, the receiver exits.
    let status = exited_within(&mut server.child, 10, "the receiver lives on without its writer");
    assert!(!status.success(), "{status:?}");
    let log = std::fs::read_to_string(db.with_file_name("serve.log")).unwrap();
    assert!(log.contains("writer thread stopped unexpectedly"), "{log}");
}

#[test]
fn after_a_failed_fsync_nothing_is_acknowledged_and_healthz_says_why() {
    let Faulty {
        dir: _dir,
        lines,
        server,
        ..
    } = faulty(2, ("SWITCHBOARD_FAULT_FSYNC_FAILS", "1"));
    let health = || {
        let answer = reqwest::blocking::get(format!("{}/healthz", server.url)).unwrap();
        (answer.status().as_u16(), answer.text().unwrap())
    };
    assert_eq!(health().0, 200, "nothing has been synced yet");
    for line in &lines {
        let answer = post(&server.url, line).unwrap();
        assert_eq!(answer.status(), 503, "{}", answer.text().unwrap());
    }
    // A health check sees what the vendors see.
    let (status, text) = health();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("fsync of the database failed"), "{text}");
}
