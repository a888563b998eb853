//! `/metrics` scraped from the real `switchboard serve` during deliveries, parsed with a Prometheus
//! text-format parser: its counters match what was sent, its gauges what the database holds.

mod common;

use common::services::{BIN, start};
use hmac::Mac;
use std::collections::HashMap;

const SECRET: &str = "api-user-metrics-2b71";

fn sign(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn event(id: &str) -> Vec<u8> {
    let payload = serde_json::json!({
        "isUpdate": false,
        "messageDTO": {"uuid": id, "messageType": "I", "protocol": "X", "fromNumber": "3105550100",
                       "customerUuid": "cust-1", "customerName": "Test Customer",
                       "messageExtnDTO": {"messageBody": "hello"}}
    });
    serde_json::to_vec(&serde_json::json!({
        "id": format!("evt-{id}"), "timestamp": 1_767_225_600_000i64, "dealeruuid": "d", "departmentuuid": "dept",
        "type": "messages", "payload": payload.to_string()
    }))
    .unwrap()
}

/// Every sample as `name{labels}` → value.
fn scrape(url: &str) -> (String, HashMap<String, f64>) {
    let answer = reqwest::blocking::get(format!("{url}/metrics")).unwrap();
    assert_eq!(answer.status(), 200);
    let kind = answer.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = answer.text().unwrap();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let mut samples = HashMap::new();
    for s in parsed.samples {
        let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        labels.sort();
        let value = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(h) => h.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => continue,
        };
        samples.insert(format!("{}{{{}}}", s.metric, labels.join(",")), value);
    }
    (text, samples)
}

#[test]
fn metrics_count_what_was_sent_and_parse_as_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[receiver.mykaarma]\nsignature_secret = \"{SECRET}\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let db = dir.path().join("sb.db");
    let (db_s, config_s) = (db.to_str().unwrap(), config.to_str().unwrap());
    let server = start(
        &["--db", db_s, "--config", config_s, "serve", "--listen", "127.0.0.1:0"],
        &dir.path().join("serve.log"),
        &[],
    );
    let (_, before) = scrape(&server.url);
    assert_eq!(before["switchboard_newest_event_age_seconds{}"], -1.0, "no event yet");
    assert_eq!(before["switchboard_open_failures{}"], 0.0);

    let client = reqwest::blocking::Client::new();
    let post = |body: &[u8], signature: &str| {
        client
            .post(format!("{}/webhooks/mykaarma", server.url))
            .header("content-type", "application/json")
            .header("mykaarma-signature-token", signature)
            .body(body.to_vec())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    for i in 0..25 {
        let body = event(&format!("m{i}"));
        assert_eq!(post(&body, &sign(&body)), 200);
    }
    for i in 0..5 {
        let body = event(&format!("m{i}"));
        assert_eq!(post(&body, &sign(&body)), 200, "a redelivery is a duplicate");
    }
    for i in 0..3 {
        assert_eq!(post(&event(&format!("x{i}")), "sha256=00"), 401);
    }
    let not_understood = br#"{"dealeruuid":"d","type":"messages","payload":"{}"}"#;
    assert_eq!(post(not_understood, &sign(not_understood)), 200);

    let (text, after) = scrape(&server.url);
    let get = |k: &str| after.get(k).copied().unwrap_or_else(|| panic!("no {k} in\n{text}"));
    assert_eq!(
        get("switchboard_events_received_total{outcome=stored,vendor=mykaarma}"),
        25.0
    );
    assert_eq!(
        get("switchboard_events_received_total{outcome=duplicate,vendor=mykaarma}"),
        5.0
    );
    assert_eq!(
        get("switchboard_events_received_total{outcome=rejected,vendor=mykaarma}"),
        1.0
    );
    assert_eq!(get("switchboard_requests_refused_total{reason=signature}"), 3.0);
    // Every delivery that reached the writer was committed in some batch.
    let commits = get("switchboard_commit_seconds_count{}");
    assert!((1.0..=31.0).contains(&commits), "{commits}");
    // Each of them passed through every stage once, so each stage's time is counted 31 times.
    for stage in ["verify_parse", "queued", "answered"] {
        assert_eq!(
            get(&format!("switchboard_delivery_stage_seconds_count{{stage={stage}}}")),
            31.0,
            "{stage}"
        );
    }
    let age = get("switchboard_newest_event_age_seconds{}");
    assert!((0.0..30.0).contains(&age), "{age}");
    assert_eq!(get("switchboard_outbox_entries{state=queued}"), 0.0);

    // Prometheus's own linter, where it is installed (Debian's `prometheus` package has it).
    if let Ok(mut promtool) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        promtool.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = promtool.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // What the database says agrees.
    let events = std::process::Command::new(BIN)
        .args(["--db", db_s, "events", "--json", "--limit", "1000"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&events.stdout).unwrap();
    assert_eq!(rows.len(), 26, "25 stored and 1 rejected, each once");
}
