//! `switchboard backup PATH` while the real receiver takes signed deliveries: the copy restores to a
//! database that passes `integrity_check` and holds every event acknowledged before it began.

mod common;

use common::services::{BIN, serve, signed_mykaarma};
use std::collections::HashSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "backup-test-signing-secret";

#[test]
fn a_backup_taken_during_1000_signed_deliveries_holds_every_one_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (config, lines) = signed_mykaarma(d, SECRET, 1000, 4096);
    assert_eq!(lines.len(), 1000);
    let db = d.join("sb.db");

    let server = serve(&db, &config, &[]);
    // The deliveries, from four connections at once; each body with when it was acknowledged.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let lines = Arc::new(lines);
    let posters: Vec<_> = (0..4)
        .map(|_| {
            let (acked, next, lines, url) = (acked.clone(), next.clone(), lines.clone(), server.url.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((sig, body)) = lines.get(i) else { return };
                    let answer = http
                        .post(format!("{url}/webhooks/mykaarma"))
                        .header("content-type", "application/json")
                        .header("mykaarma-signature-token", sig)
                        .body(body.clone())
                        .send()
                        .unwrap();
                    assert_eq!(answer.status(), 200, "{}", answer.text().unwrap_or_default());
                    acked.lock().unwrap().push((body.clone(), Instant::now()));
                }
            })
        })
        .collect();
    // A third of the way in, the backup begins.
    while acked.lock().unwrap().len() < 300 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let copy = d.join("backups").join("sb-copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let began = Instant::now();
    let backup = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .arg("backup")
        .arg(&copy)
        .arg("--json")
        .output()
        .unwrap();
    let ended = Instant::now();
    assert!(backup.status.success(), "{backup:?}");
    let report: serde_json::Value = serde_json::from_slice(&backup.stdout).unwrap();
    for p in posters {
        p.join().unwrap();
    }
    let acked = acked.lock().unwrap();
    assert_eq!(acked.len(), 1000, "every delivery acknowledged");
    let before: Vec<&String> = acked.iter().filter(|(_, t)| *t < began).map(|(b, _)| b).collect();
    let during = acked.iter().filter(|(_, t)| *t >= began && *t <= ended).count();

    // Restored: the copy put where a database goes, opened as one.
    let restored = d.join("restored.db");
    std::fs::copy(&copy, &restored).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&copy).unwrap().mode() & 0o777, 0o600);
    let conn = rusqlite::Connection::open(&restored).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    // Bodies as received: the log may keep them compressed.
    let store = switchboard::store::Store::open(&restored).unwrap();
    let bodies: HashSet<String> = store
        .events(false, usize::MAX >> 1)
        .unwrap()
        .iter()
        .map(|e| String::from_utf8(store.event_body(e.id).unwrap().unwrap()).unwrap())
        .collect();
    let missing = before.iter().filter(|b| !bodies.contains(**b)).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged before the backup are not in it",
        before.len()
    );
    assert_eq!(report["events"].as_i64().unwrap() as usize, bodies.len());
    assert!(bodies.len() >= before.len());
    eprintln!(
        "backup of {} events in {:.3} s while {during} more deliveries were acknowledged; {} acknowledged before it began, all there",
        bodies.len(),
        report["seconds"].as_f64().unwrap(),
        before.len()
    );
    // And the restored database is one Switchboard reads.
    let listed = Command::new(BIN)
        .arg("--db")
        .arg(&restored)
        .args(["conversations", "--json", "--limit", "5"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    // A backup never overwrites.
    let again = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
}
