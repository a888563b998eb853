//! A first import builds its database beside its place and puts it there only when complete: the
//! real binary, killed with SIGKILL halfway, leaves no database, and the import done again gives
//! what an import into an existing database gives.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn switchboard(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("--db").arg(db).args(args).output().unwrap()
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn importing(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.importing", db.display()))
}

/// Events generated to take the (debug) binary a few seconds to import.
fn events_file(dir: &Path) -> String {
    let file = dir.join("events.ndjson");
    let out = Command::new(BIN)
        .args([
            "gen",
            "--conversations",
            "300",
            "--messages",
            "12000",
            "--seed",
            "7",
            "--out",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    file.display().to_string()
}

/// How many descriptors process `pid` holds open on `file`.
fn open_descriptors(pid: u32, file: &Path) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter(|target| target == file)
                .count()
        })
        .unwrap_or(0)
}

/// Every folded row, in order: the two import paths must agree on all of them.
fn folded(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut rows = vec![];
    for table in ["conversations", "messages", "message_events", "advisor_reads"] {
        let mut q = conn.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2")).unwrap();
        let n = q.column_count();
        let mut r = q.query([]).unwrap();
        while let Some(row) = r.next().unwrap() {
            let cells: Vec<String> = (0..n).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            rows.push(format!("{table}: {}", cells.join("|")));
        }
    }
    let hits: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'tires'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    rows.push(format!("search hits: {hits}"));
    rows
}

#[test]
fn a_first_import_killed_halfway_leaves_no_database_and_done_again_equals_an_ordinary_import() {
    let dir = tempfile::tempdir().unwrap();
    let file = events_file(dir.path());
    let db = dir.path().join("data").join("new.db");

    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["import", &file])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !importing(&db).exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "the import never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed: the file is too small for this test"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!db.exists(), "a killed first import must leave no database");

    // A second import into the same new database, while the first runs, is turned away.
    let first = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["import", "--json", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The killed import's file is still there: wait until the new import has locked it and
    // opened it for SQLite (two descriptors of it in the process).
    let started = Instant::now();
    while open_descriptors(first.id(), &importing(&db)) < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "the import never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = switchboard(&db, &["import", &file]);
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another `switchboard import` is making"), "{err}");

    let done = first.wait_with_output().unwrap();
    let summary: serde_json::Value = serde_json::from_str(&ok(done)).unwrap();
    assert_eq!(summary["rejected"], 0);
    assert!(!importing(&db).exists(), "the building file is gone once published");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);

    // The same events into a database that exists already take the ordinary, journaled path.
    let existing = dir.path().join("existing.db");
    ok(switchboard(&existing, &["import", "/dev/null"]));
    let ordinary: serde_json::Value =
        serde_json::from_str(&ok(switchboard(&existing, &["import", "--json", &file]))).unwrap();
    assert_eq!(ordinary["imported"], summary["imported"]);
    let (built, journaled) = (folded(&db), folded(&existing));
    assert!(built.len() > 12_000, "{} rows", built.len());
    assert!(built == journaled, "the two import paths disagree");

    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "once in place the database is an ordinary one");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_first_import_that_fails_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sb.db");
    let out = switchboard(&db, &["import", "/nonexistent/events.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.exists());
    assert!(!importing(&db).exists());
}

#[test]
fn what_a_killed_first_import_left_goes_when_the_database_is_next_opened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sb.db");
    ok(switchboard(&db, &["import", "/dev/null"]));
    std::fs::write(importing(&db), b"half of a database").unwrap();
    ok(switchboard(&db, &["conversations"]));
    assert!(!importing(&db).exists());
}
