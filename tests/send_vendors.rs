//! Replying through HighLevel and Partoo, end to end over HTTP on 127.0.0.1: the real
//! `switchboard send`, the real receiver (`serve`, which takes the vendors' signed webhooks and
//! keeps the outbox moving) and the real sandbox standing in for both vendors. Each case is a
//! conversation whose id's last four digits script the vendor's behaviour (README, "The sandbox").

mod common;

use base64::Engine;
use common::services::{BIN, Proc, requests, start};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchboard::store::Store;

const HL_TOKEN: &str = "hl-pit-3f9a0c7e51";
const PARTOO_KEY: &str = "partoo-key-8d2b6e40";
const SEED: &str = "5a1f0e3c9b7d2a4f6e8c0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f13";

/// The scripted cases: the last four digits of the contact (HighLevel) or conversation (Partoo).
const CASES: &[&str] = &["0000", "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0042"];

struct Rig {
    dir: tempfile::TempDir,
    db: PathBuf,
    config: PathBuf,
    /// Kept running while the rig lives.
    _receiver: Proc,
    sandbox: Proc,
}

fn highlevel_event(case: &str) -> Value {
    json!({
        "type": "InboundMessage", "locationId": "sbxLocation", "attachments": [],
        "contactId": format!("contact{case}"), "conversationId": format!("conv{case}"),
        "dateAdded": "2026-11-20T09:00:00.000Z", "direction": "inbound", "messageType": "SMS",
        "messageId": format!("in{case}"), "webhookId": format!("wh{case}"),
        "timestamp": "2026-11-20T09:00:00.000Z", "body": "Is my car ready?",
        "contentType": "text/plain", "status": "delivered", "phone": format!("+1310555{case}")
    })
}

fn partoo_event(case: &str) -> Value {
    let id = format!("7{case}").parse::<i64>().unwrap();
    json!({"type": "message_created", "payload": {
        "message": {"id": id * 10, "conversation_id": id, "date": "2026-11-20 09:00:00.000000+00:00",
            "content_type": "Text", "sender_type": "Consumer", "sender_label": "Ana", "status": "Success",
            "is_deleted": false, "is_automated": false, "content": "Is my car ready?", "user_id": null},
        "conversation": {"id": id, "consumer_name": "Ana", "messaging_partner": "Whatsapp",
            "is_read": false, "status": "Open", "business": {"id": "b1"}, "custom_channel": null},
        "org_id": 4711}})
}

impl Rig {
    fn new(slow_secs: u64, timeout_secs: u64) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sb.db");
        let key = ed25519_dalek::SigningKey::from_bytes(&hex::decode(SEED).unwrap().try_into().unwrap());
        let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[receiver.highlevel]\ned25519_public_key = \"{public}\"\n[receiver.partoo]\npublic_keys = [\"{public}\"]\n\
                 [highlevel]\ntimeout_secs = {timeout_secs}\nconnect_timeout_secs = 1\nlookup_after_secs = 1\n\
                 [partoo]\ntimeout_secs = {timeout_secs}\nconnect_timeout_secs = 1\n"
            ),
        )
        .unwrap();
        let events: String = CASES
            .iter()
            .flat_map(|c| [highlevel_event(c), partoo_event(c)])
            .map(|e| format!("{e}\n"))
            .collect();
        let file = dir.path().join("events.ndjson");
        std::fs::write(&file, events).unwrap();
        let ok = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .args(["import", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(ok.status.success(), "{ok:?}");
        let env = [
            ("SWITCHBOARD_HIGHLEVEL_TOKEN", HL_TOKEN),
            ("SWITCHBOARD_PARTOO_API_KEY", PARTOO_KEY),
        ];
        let mut args: Vec<String> = [
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--step-ms",
            "200",
            "--slow-secs",
            &slow_secs.to_string(),
            "--redirect-to",
            "http://127.0.0.2:9/",
            "--signing-seed",
            SEED,
        ]
        .map(str::to_string)
        .to_vec();
        for c in CASES {
            args.extend([
                "--highlevel-conversation".into(),
                format!("contact{c}=conv{c}"),
                "--partoo-conversation".into(),
                format!("7{c}=Whatsapp"),
            ]);
        }
        // The receiver's port is chosen first: the sandbox posts its webhooks there, and the
        // receiver's outbox worker asks the sandbox about replies whose webhooks never came.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let receiver_url = format!("http://127.0.0.1:{port}");
        args.extend(["--webhook-url".into(), receiver_url]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let sandbox = start(
            &args,
            &dir.path().join("sandbox.log"),
            &[
                env[0],
                env[1],
                ("SWITCHBOARD_MYKAARMA_USERNAME", "sandbox-user"),
                ("SWITCHBOARD_MYKAARMA_PASSWORD", "sandbox-password"),
            ],
        );
        let listen = format!("127.0.0.1:{port}");
        let receiver = start(
            &[
                "--db",
                db.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
                "serve",
                "--listen",
                &listen,
            ],
            &dir.path().join("receiver.log"),
            &[
                env[0],
                env[1],
                ("SWITCHBOARD_HIGHLEVEL_BASE_URL", &sandbox.url),
                ("SWITCHBOARD_PARTOO_BASE_URL", &sandbox.url),
            ],
        );
        Rig {
            dir,
            db,
            config,
            _receiver: receiver,
            sandbox,
        }
    }

    fn send_command(&self, conversation: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(&self.config)
            .args(["send", conversation, "--message", "Your car is ready", "--json"])
            .args(extra)
            .env("SWITCHBOARD_HIGHLEVEL_TOKEN", HL_TOKEN)
            .env("SWITCHBOARD_HIGHLEVEL_BASE_URL", &self.sandbox.url)
            .env("SWITCHBOARD_PARTOO_API_KEY", PARTOO_KEY)
            .env("SWITCHBOARD_PARTOO_BASE_URL", &self.sandbox.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn send(&self, conversation: &str, extra: &[&str]) -> (i32, Value) {
        let out = self.send_command(conversation, extra).output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap_or(-1), v)
    }

    fn requests_to(&self, vendor: &str, recipient: &str) -> Vec<Value> {
        requests(&self.sandbox.url)
            .into_iter()
            .filter(|r| r["vendor"] == vendor && r["recipient"] == recipient && r["request"].is_object())
            .collect()
    }

    fn wait_for(&self, id: i64, want: &str, secs: u64) -> switchboard::outbox::OutboxEntry {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let e = Store::open(&self.db).unwrap().outbox_entry(id).unwrap().unwrap();
            if e.status.as_str() == want {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "entry {id} never became {want}: {e:?}\n{}",
                std::fs::read_to_string(self.dir.path().join("receiver.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// (conversation, the recipient the sandbox logs) for a vendor's case.
fn case(vendor: &str, digits: &str) -> (String, String) {
    match vendor {
        "highlevel" => (format!("highlevel:conv{digits}"), format!("contact{digits}")),
        _ => (format!("partoo:7{digits}"), format!("7{digits}")),
    }
}

#[test]
fn every_outcome_reaches_its_status_with_one_request() {
    let rig = Rig::new(3, 1);
    for vendor in ["highlevel", "partoo"] {
        let c = |d: &str| case(vendor, d);
        // Delivered, once; the request has the documented path, auth and body.
        let (conversation, to) = c("0042");
        let (code, v) = rig.send(&conversation, &[]);
        assert_eq!((code, v["status"].as_str()), (0, Some("accepted")), "{vendor}: {v}");
        assert_eq!(v["vendor"], vendor);
        assert_eq!(v["channel"], if vendor == "highlevel" { "sms" } else { "whatsapp" });
        rig.wait_for(id(&v), "delivered", 10);
        let seen = rig.requests_to(vendor, &to);
        assert_eq!(seen.len(), 1, "{vendor}: {seen:?}");
        let r = &seen[0];
        assert_eq!(r["authorized"], true);
        if vendor == "highlevel" {
            assert_eq!(r["path"], "/conversations/messages");
            assert_eq!(r["version"], "2021-04-15");
            assert_eq!(
                r["request"],
                json!({"type": "SMS", "contactId": to, "message": "Your car is ready"})
            );
        } else {
            assert_eq!(r["path"], "/v2/messages");
            assert_eq!(
                r["request"],
                json!({"conversation_id": 70042, "content_type": "Text", "content": "Your car is ready"})
            );
        }
        // The thread shows the reply as the vendor's webhook reported it: delivered, once.
        let thread = Store::open(&rig.db).unwrap().thread(&conversation).unwrap();
        let ours: Vec<_> = thread.iter().filter(|m| m.direction.as_str() == "outbound").collect();
        assert_eq!(ours.len(), 1, "{vendor}: {thread:#?}");
        assert_eq!(ours[0].status.as_str(), "delivered");

        // Refusals: failed at once, in words, nothing sent.
        let (conversation, to) = c("0000");
        let (code, v) = rig.send(&conversation, &[]);
        assert_eq!((code, v["status"].as_str()), (1, Some("failed")), "{vendor}: {v}");
        let advice = v["errors"][0]["advice"].as_str().unwrap();
        assert!(
            advice.contains("Do Not Disturb") || advice.contains("no longer accepts replies"),
            "{vendor}: {advice}"
        );
        assert_eq!(rig.requests_to(vendor, &to).len(), 1);

        // The carrier fails it later: failed, with the reason in words.
        let (conversation, _) = c("0001");
        let (_, v) = rig.send(&conversation, &[]);
        let e = rig.wait_for(id(&v), "failed", 10);
        let thread = Store::open(&rig.db).unwrap().thread(&conversation).unwrap();
        let failed = thread.iter().find(|m| m.status.as_str() == "failed").unwrap();
        assert!(failed.status_detail.is_some(), "{vendor}: {e:?} {failed:?}");

        // A timeout, a 500, a reset, a redirect: unknown, and never a second request.
        for (digits, code_word) in [
            ("0002", "NO_ANSWER"),
            ("0003", "SERVER_ERROR"),
            ("0004", "NO_ANSWER"),
            ("0005", "REDIRECT_NOT_FOLLOWED"),
        ] {
            let (conversation, to) = c(digits);
            let (code, v) = rig.send(&conversation, &[]);
            assert_eq!(
                (code, v["status"].as_str()),
                (3, Some("unknown")),
                "{vendor} {digits}: {v}"
            );
            assert_eq!(v["errors"][0]["code"], code_word, "{vendor} {digits}: {v}");
            assert_eq!(rig.requests_to(vendor, &to).len(), 1, "{vendor} {digits}");
        }
        // A 429 is waited out, then the reply goes once.
        let (conversation, to) = c("0006");
        let (code, v) = rig.send(&conversation, &[]);
        assert_eq!((code, v["status"].as_str()), (0, Some("accepted")), "{vendor}: {v}");
        let answers: Vec<_> = rig
            .requests_to(vendor, &to)
            .iter()
            .map(|r| r["answer"].clone())
            .collect();
        assert_eq!(answers, [json!(429), json!(200)], "{vendor}");
        rig.wait_for(id(&v), "delivered", 10);
    }
    // A HighLevel reply whose webhooks never come is settled by looking it up, a few times at most.
    let (conversation, to) = case("highlevel", "0007");
    let (_, v) = rig.send(&conversation, &[]);
    rig.wait_for(id(&v), "delivered", 20);
    let lookups = requests(&rig.sandbox.url)
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/conversations/messages/"))
        .count();
    assert!((1..=5).contains(&lookups), "{lookups} lookups");
    assert_eq!(rig.requests_to("highlevel", &to).len(), 1);
}

#[test]
fn vendor_only_options_and_unsendable_channels_are_refused_in_words() {
    let rig = Rig::new(3, 5);
    let (conversation, _) = case("partoo", "0042");
    let out = rig.send_command(&conversation, &["--signature"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("--signature applies to myKaarma replies only"), "{err}");
    let out = rig
        .send_command(&conversation, &["--channel", "email"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Partoo cannot send a email reply in this conversation; it can send: whatsapp"),
        "{err}"
    );
    // No credentials: exactly what to set.
    let out = rig
        .send_command(&conversation, &[])
        .env_remove("SWITCHBOARD_PARTOO_API_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("set SWITCHBOARD_PARTOO_API_KEY"), "{err}");
    assert!(requests(&rig.sandbox.url).is_empty());
}

#[test]
fn kill_9_at_each_step_never_sends_twice() {
    let rig = Rig::new(2, 10);
    for vendor in ["highlevel", "partoo"] {
        for (step, digits) in [("queued", "0042"), ("sending", "0001"), ("response", "0006")] {
            let (conversation, to) = case(vendor, digits);
            let key = format!("{vendor}-{step}");
            let mut c = rig.send_command(&conversation, &["--idempotency-key", &key]);
            c.env("SWITCHBOARD_CRASH_TEST_PAUSE", step);
            let mut child = c.spawn().unwrap();
            let mut stderr = BufReader::new(child.stderr.take().unwrap());
            let mut line = String::new();
            while !line.contains("paused after") {
                line.clear();
                assert!(stderr.read_line(&mut line).unwrap() > 0, "{key}: no pause");
            }
            child.kill().unwrap();
            child.wait().unwrap();
            let before = rig.requests_to(vendor, &to).len();
            let (code, v) = rig.send(&conversation, &["--idempotency-key", &key]);
            let after = rig.requests_to(vendor, &to).len();
            match step {
                // Nothing had left: the rerun sends it, once.
                "queued" => {
                    assert_eq!((code, v["status"].as_str()), (0, Some("accepted")), "{key}: {v}");
                    assert_eq!((before, after), (0, 1), "{key}");
                }
                // It may have left: never sent again by itself.
                _ => {
                    assert_eq!(v["status"], "unknown", "{key}: {v}");
                    assert_eq!(after, before, "{key}: sent again");
                    assert!(before <= 2, "{key}");
                }
            }
        }
    }
}
