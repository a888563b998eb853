//! `switchboard bench-load`, the benchmark's constant-rate load generator, against the real
//! receiver: every request is counted once as acknowledged, refused or unanswered, and with
//! `--watch-db` every acknowledged delivery is seen in the database.

mod common;

use common::services::{BIN, serve, signed_mykaarma};
use serde_json::Value;
use std::process::Command;

fn bench_load(url: &str, deliveries: &std::path::Path, rate: u32, watch: Option<&std::path::Path>) -> Value {
    let mut command = Command::new(BIN);
    command.arg("bench-load").arg(url).arg(deliveries).args([
        "--rate",
        &rate.to_string(),
        "--seconds",
        "1",
        "--connections",
        "8",
    ]);
    if let Some(db) = watch {
        command.arg("--watch-db").arg(db);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_request_is_counted_once_and_every_acknowledged_delivery_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (config, _) = signed_mykaarma(d, "load-test-secret", 300, 1024);
    let db = d.join("sb.db");
    let server = serve(&db, &config, &[]);
    let report = bench_load(
        &format!("{}/webhooks/mykaarma", server.url),
        &d.join("deliveries.tsv"),
        300,
        Some(&db),
    );
    assert_eq!(report["sent"], 300, "{report}");
    assert_eq!(report["ok"], 300, "{report}");
    assert_eq!(
        (&report["non_2xx"], &report["errors"]),
        (&0.into(), &0.into()),
        "{report}"
    );
    assert!(report["p50_ms"].as_f64().unwrap() > 0.0, "{report}");
    assert_eq!(report["visible"]["seen"], 300, "{report}");
    assert_eq!(report["visible"]["unseen"], 0, "{report}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(events, 300);
}

#[test]
fn refusals_and_unanswered_requests_are_counted_apart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Signed with another secret than the receiver's: every one refused.
    let (_, _) = signed_mykaarma(d, "not-the-receivers-secret", 50, 512);
    let theirs = d.join("receiver");
    std::fs::create_dir(&theirs).unwrap();
    let (config, _) = signed_mykaarma(&theirs, "the-receivers-secret", 1, 512);
    let server = serve(&theirs.join("sb.db"), &config, &[]);
    let deliveries = d.join("deliveries.tsv");
    let refused = bench_load(&format!("{}/webhooks/mykaarma", server.url), &deliveries, 50, None);
    assert_eq!(
        (&refused["ok"], &refused["non_2xx"], &refused["errors"]),
        (&0.into(), &50.into(), &0.into()),
        "{refused}"
    );

    // Nothing listening: every one unanswered (each tries a new connection).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unanswered = bench_load(
        &format!("http://127.0.0.1:{port}/webhooks/mykaarma"),
        &deliveries,
        50,
        None,
    );
    assert_eq!(
        (&unanswered["ok"], &unanswered["non_2xx"], &unanswered["errors"]),
        (&0.into(), &0.into(), &50.into()),
        "{unanswered}"
    );
}
