//! Replying, end to end over HTTP on 127.0.0.1: the real `switchboard send`, the real receiver
//! (`serve`, which takes the callbacks and webhooks) and the real sandbox standing in for myKaarma.

mod common;

use common::services::{BIN, Proc, requests, serve, start};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchboard::store::Store;

const USER: &str = "mk-user-5f1c9a3e";
const PASS: &str = "mk-pass-77e0b2d4c1";

/// A database with one myKaarma conversation, its receiver, and a sandbox that reports to it.
struct Rig {
    dir: tempfile::TempDir,
    db: PathBuf,
    config: PathBuf,
    receiver: Proc,
    sandbox: Proc,
}

const CONVERSATION: &str = "mykaarma:Ho3fEpBnVkYm0iM5tUsMqCj1RgAw9PxO7eIhDzNlbT4@3a7f1c9e2b5d8f0a4c6e9b1d3f5a7c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f2";

impl Rig {
    fn new(step_ms: u64, slow_secs: u64, timeout_secs: u64, redirect_to: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sb.db");
        let config = dir.path().join("config.toml");
        // myKaarma signs webhooks with the API username.
        std::fs::write(
            &config,
            format!(
                "[receiver.mykaarma]\nsignature_secret = \"{USER}\"\n[mykaarma]\ntimeout_secs = {timeout_secs}\nconnect_timeout_secs = 1\n"
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mykaarma/sms_inbound.json");
        let ok = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .args(["import", fixture])
            .output()
            .unwrap();
        assert!(ok.status.success(), "{ok:?}");
        let receiver = serve(&db, &config, &[]);
        let webhook = format!("{}/webhooks/mykaarma", receiver.url);
        let sandbox = start(
            &[
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--webhook-url",
                &webhook,
                "--step-ms",
                &step_ms.to_string(),
                "--slow-secs",
                &slow_secs.to_string(),
                "--redirect-to",
                redirect_to,
            ],
            &dir.path().join("sandbox.log"),
            &[
                ("SWITCHBOARD_MYKAARMA_USERNAME", USER),
                ("SWITCHBOARD_MYKAARMA_PASSWORD", PASS),
            ],
        );
        Rig {
            dir,
            db,
            config,
            receiver,
            sandbox,
        }
    }

    /// `switchboard send` with `args`: (exit status, parsed --json output, stderr).
    fn send(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
        let out = self.send_command(args, env).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        // Kept for the credential grep.
        static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::fs::write(
            self.dir.path().join(format!("send-{n}.out")),
            format!("{stdout}{stderr}"),
        )
        .unwrap();
        let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap_or(-1), json, stderr)
    }

    fn send_command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(&self.config)
            .args(["send", &CONVERSATION[..20]])
            .args(args)
            .arg("--json")
            .env("SWITCHBOARD_LOG", "trace")
            .env("SWITCHBOARD_MYKAARMA_USERNAME", USER)
            .env("SWITCHBOARD_MYKAARMA_PASSWORD", PASS)
            .env("SWITCHBOARD_MYKAARMA_BASE_URL", &self.sandbox.url)
            .env("SWITCHBOARD_PUBLIC_URL", &self.receiver.url)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn requests(&self) -> Vec<Value> {
        requests(&self.sandbox.url)
    }

    fn requests_for(&self, outbox_id: i64) -> usize {
        self.requests()
            .iter()
            .filter(|r| r["outbox_id"] == Value::String(outbox_id.to_string()))
            .count()
    }

    fn entry(&self, id: i64) -> switchboard::outbox::OutboxEntry {
        Store::open(&self.db).unwrap().outbox_entry(id).unwrap().unwrap()
    }

    /// The entry once its status is `want`, or a panic after `secs`.
    fn wait_for(&self, id: i64, want: &str, secs: u64) -> switchboard::outbox::OutboxEntry {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let e = self.entry(id);
            if e.status.as_str() == want {
                return e;
            }
            assert!(Instant::now() < deadline, "entry {id} never became {want}: {e:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn callbacks(&self) -> i64 {
        Store::open(&self.db)
            .unwrap()
            .connection()
            .query_row("SELECT count(*) FROM events WHERE source = 'callback'", [], |r| {
                r.get(0)
            })
            .unwrap()
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn first_error(v: &Value) -> (String, String) {
    let e = &v["errors"][0];
    (
        e["code"].as_str().unwrap_or_default().to_string(),
        e["advice"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn texts_and_emails_sync_and_async_reach_delivered() {
    let rig = Rig::new(100, 30, 10, "http://127.0.0.2:9/");
    let (code, v, err) = rig.send(&["--text", "Your car is ready for pickup."], &[]);
    assert_eq!((code, v["status"].as_str()), (0, Some("accepted")), "{v} {err}");
    assert!(v["vendor_message_id"].as_str().unwrap().starts_with("sbx-"));
    let text = id(&v);
    let e = rig.wait_for(text, "delivered", 10);
    assert!(e.message_key.is_some(), "the webhook's message is tied to the entry");
    let seen = rig.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["authorized"], true);
    assert_eq!(seen[0]["recipient"], "3108170196", "the conversation's number");
    assert_eq!(seen[0]["protocol"], "TEXT");
    assert!(seen[0]["path"].as_str().unwrap().contains("/department/3a7f1c9e"));

    // The thread shows the message once, delivered, with myKaarma's TCPA footer.
    let thread = Store::open(&rig.db).unwrap().thread(CONVERSATION).unwrap();
    let ours: Vec<_> = thread.iter().filter(|m| m.direction.as_str() == "outbound").collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].status.as_str(), "delivered");
    assert!(ours[0].body.as_deref().unwrap().ends_with("Text STOP to opt-out"));

    let (code, v, err) = rig.send(
        &[
            "--email",
            "Your invoice is attached.",
            "--subject",
            "Invoice",
            "--to",
            "ana@example.com",
            "--sync",
            "--signature",
            "--queue-if-opted-out",
        ],
        &[],
    );
    assert_eq!((code, v["status"].as_str()), (0, Some("sent")), "{v} {err}");
    assert_eq!(v["warnings"][0]["code"], "CANT_QUEUE_MESSAGE_IF_OPTED_OUT");
    assert!(v["warnings"][0]["advice"].as_str().unwrap().contains("not queued"));
    rig.wait_for(id(&v), "delivered", 10);
    let seen = rig.requests();
    assert_eq!(
        (seen[1]["protocol"].as_str(), seen[1]["synchronous"].as_bool()),
        (Some("EMAIL"), Some(true))
    );
}

#[test]
fn every_error_class_is_explained() {
    let rig = Rig::new(100, 30, 10, "http://127.0.0.2:9/");
    // Validation: answered 400 at once, never by callback.
    let (code, v, _) = rig.send(&["--text", "hello", "--to", "555-0100"], &[]);
    assert_eq!(
        (code, v["status"].as_str(), v["http_status"].as_i64()),
        (1, Some("failed"), Some(400))
    );
    let (c, advice) = first_error(&v);
    assert_eq!(c, "INVALID_COMMUNICATION_VALUE");
    assert!(advice.contains("customer's record"), "{advice}");

    let (code, v, _) = rig.send(&["--text", "hello"], &[("SWITCHBOARD_MYKAARMA_PASSWORD", "wrong")]);
    assert_eq!((code, v["http_status"].as_i64()), (1, Some(401)));
    let (c, advice) = first_error(&v);
    assert_eq!(c, "WRONG_CREDENTIAL");
    assert!(
        advice.contains("credentials") && advice.contains("nothing was sent"),
        "{advice}"
    );

    let (code, v, _) = rig.send(&["--text", "hello", "--to", "+13105550000", "--sync"], &[]);
    assert_eq!((code, v["status"].as_str()), (1, Some("failed")));
    let (c, advice) = first_error(&v);
    assert_eq!(c, "OPTED_OUT_COMMUNICATION_VALUE");
    assert_eq!(
        advice,
        "The customer opted out of texts on this number; call or email instead."
    );
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(rig.callbacks(), 0, "no callback for a request refused at once");

    // Asynchronous: accepted, then the callback says why it failed.
    let (code, v, _) = rig.send(&["--text", "hello", "--to", "+13105550000"], &[]);
    assert_eq!((code, v["status"].as_str()), (0, Some("accepted")));
    let e = rig.wait_for(id(&v), "failed", 10);
    assert_eq!(e.errors[0].code, "OPTED_OUT_COMMUNICATION_VALUE");
    // On-call views count it, though it never became a message: `failures` and the failed filter.
    let store = Store::open(&rig.db).unwrap();
    let failures = store.failures(None, 50).unwrap();
    assert!(
        failures.iter().any(|f| f
            .message
            .status_detail
            .as_deref()
            .is_some_and(|d| d.contains("opted out"))),
        "{failures:#?}"
    );
    let failed = store
        .conversations(&switchboard::store::ConversationFilter::Failed, None, 50)
        .unwrap();
    assert!(failed.iter().any(|c| c.conversation_key == CONVERSATION));

    let (code, v, _) = rig.send(&["--text", "hello", "--to", "+13105550001"], &[]);
    assert_eq!(code, 0);
    let e = rig.wait_for(id(&v), "failed", 10);
    assert_eq!(e.errors[0].code, "TWILIO_SENDING_FAILURE");
    assert!(e.explanation().unwrap().contains("call the customer"));
    // The thread shows the failure in words, under the message.
    std::thread::sleep(Duration::from_millis(500));
    let thread = Store::open(&rig.db).unwrap().thread(CONVERSATION).unwrap();
    let failed = thread.iter().find(|m| {
        m.body.as_deref().is_some_and(|b| b.starts_with("hello"))
            && m.status.as_str() == "failed"
            && !m.message_key.starts_with("outbox:")
            && m.status_detail.as_deref().is_some_and(|d| d.contains("carrier"))
    });
    assert!(failed.is_some(), "{thread:#?}");

    // An unknown code is shown verbatim.
    let code = "NEW_CODE";
    let p = switchboard::outbox::Problem::vendor(
        code,
        Some("Something new".into()),
        switchboard::send::mykaarma::codes::advice(code),
    );
    assert_eq!(p.sentence(), "NEW_CODE: Something new");
}

#[test]
fn callbacks_need_their_token_count_once_and_never_undo_a_failure() {
    let rig = Rig::new(100, 30, 10, "http://127.0.0.2:9/");
    // …0004: the connection is reset, nothing goes out: the entry stays unknown, no callback comes.
    let (code, v, _) = rig.send(&["--text", "hello", "--to", "+13105550004"], &[]);
    assert_eq!(code, 3);
    let entry = id(&v);
    let token = Store::open(&rig.db).unwrap().callback_token(entry).unwrap().unwrap();
    assert_eq!(token.len(), 32, "128 bits, hex");
    let post = |path: &str, body: &str| {
        reqwest::blocking::Client::new()
            .post(format!("{}{path}", rig.receiver.url))
            .body(body.to_string())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let failure = format!(
        r#"{{"messageUUID":"m-9","status":"FAILURE","errors":[{{"errorCode":"RATE_LIMIT_REACHED","errorDescription":"Sending limit exceeded"}}],"warnings":[],"metaData":{{"switchboardOutboxId":"{entry}"}}}}"#
    );
    assert_eq!(
        post("/callbacks/mykaarma/0123456789abcdef0123456789abcdef", &failure),
        404
    );
    assert_eq!(post("/callbacks/mykaarma/", &failure), 404);
    assert_eq!(
        rig.entry(entry).status.as_str(),
        "unknown",
        "a wrong token changes nothing"
    );
    assert_eq!(post(&format!("/callbacks/mykaarma/{token}"), &failure), 200);
    assert_eq!(post(&format!("/callbacks/mykaarma/{token}"), &failure), 200);
    let e = rig.entry(entry);
    assert_eq!(e.status.as_str(), "failed");
    assert_eq!(e.errors[0].code, "RATE_LIMIT_REACHED");
    assert!(e.explanation().unwrap().contains("wait a minute"));
    assert_eq!(rig.callbacks(), 1, "the repeat is stored once");
    let success = r#"{"messageUUID":"m-9","status":"SUCCESS","errors":[],"warnings":[]}"#;
    assert_eq!(post(&format!("/callbacks/mykaarma/{token}"), success), 200);
    assert_eq!(
        rig.entry(entry).status.as_str(),
        "failed",
        "a late success does not hide the failure"
    );
}

#[test]
fn a_webhook_resolves_an_unknown_send() {
    let rig = Rig::new(100, 30, 10, "http://127.0.0.2:9/");
    // …0003: HTTP 500, yet the message goes out; no callback, no messageUUID in the answer.
    let (code, v, _) = rig.send(&["--text", "Loaner car is ready", "--to", "+13105550003"], &[]);
    assert_eq!(
        (code, v["status"].as_str(), v["http_status"].as_i64()),
        (3, Some("unknown"), Some(500))
    );
    assert!(v["vendor_message_id"].is_null());
    let e = rig.wait_for(id(&v), "delivered", 10);
    assert!(
        e.vendor_message_id.as_deref().unwrap().starts_with("sbx-"),
        "learnt from the webhook"
    );
    assert_eq!(rig.requests_for(e.id), 1);
}

#[test]
fn failures_are_classified_and_only_unsent_ones_retried() {
    let elsewhere = start(
        &["sandbox", "--listen", "127.0.0.1:0"],
        &std::env::temp_dir().join(format!("sbx-elsewhere-{}.log", std::process::id())),
        &[
            ("SWITCHBOARD_MYKAARMA_USERNAME", USER),
            ("SWITCHBOARD_MYKAARMA_PASSWORD", PASS),
        ],
    );
    let rig = Rig::new(
        100,
        5,
        2,
        &format!(
            "{}/communications/department/d/user/u/customer/c/message",
            elsewhere.url
        ),
    );

    // Connection refused: provably unsent, so retried (3 attempts), then failed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, v, _) = rig.send(
        &["--text", "x"],
        &[("SWITCHBOARD_MYKAARMA_BASE_URL", &format!("http://{closed}"))],
    );
    assert_eq!((code, v["status"].as_str()), (1, Some("failed")));
    assert_eq!(first_error(&v).0, "CONNECT_FAILED");
    assert_eq!(rig.entry(id(&v)).attempts, 3);

    let timed = |to: &str| {
        let started = Instant::now();
        let (code, v, err) = rig.send(&["--text", "x", "--to", to], &[]);
        (code, v, err, started.elapsed())
    };
    for (to, why) in [
        ("+13105550002", "NO_ANSWER"),
        ("+13105550003", "SERVER_ERROR"),
        ("+13105550004", "NO_ANSWER"),
        ("+13105550005", "REDIRECT_NOT_FOLLOWED"),
    ] {
        let (code, v, err, took) = timed(to);
        assert_eq!((code, v["status"].as_str()), (3, Some("unknown")), "{to}: {v} {err}");
        assert_eq!(first_error(&v).0, why, "{to}: {v}");
        assert_eq!(rig.requests_for(id(&v)), 1, "{to}: never a second request");
        assert!(took < Duration::from_secs(2 + 1 + 1), "{to} took {took:?}");
    }
    assert!(requests(&elsewhere.url).is_empty(), "the redirect was not followed");

    // Plain http to anything but loopback is refused before connecting.
    let (code, _, err) = rig.send(
        &["--text", "x"],
        &[("SWITCHBOARD_MYKAARMA_BASE_URL", "http://example.com")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("refusing to send credentials over plain http"), "{err}");
}

#[test]
fn kill_9_at_each_step_never_sends_twice() {
    let rig = Rig::new(100, 2, 10, "http://127.0.0.2:9/");
    let killed = |key: &str, to: &str, pause: Option<&str>| {
        let mut c = rig.send_command(&["--text", "Crash test", "--to", to, "--idempotency-key", key], &[]);
        if let Some(step) = pause {
            c.env("SWITCHBOARD_CRASH_TEST_PAUSE", step);
        }
        let mut child = c.spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        match pause {
            Some(step) => {
                let mut line = String::new();
                while !line.contains("paused after") {
                    line.clear();
                    assert!(stderr.read_line(&mut line).unwrap() > 0, "{key}: no pause");
                }
                assert!(line.contains(step));
            }
            // After the request left: the slow recipient holds the answer; wait until it has it.
            None => {
                let deadline = Instant::now() + Duration::from_secs(5);
                while !rig.requests().iter().any(|r| r["recipient"] == to) {
                    assert!(Instant::now() < deadline, "{key}: the request never arrived");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rig.send(&["--text", "Crash test", "--to", to, "--idempotency-key", key], &[])
    };
    // After `queued`: nothing left, so the rerun sends it, once.
    let (code, v, err) = killed("after-queued", "+13105551001", Some("queued"));
    assert_eq!((code, v["status"].as_str()), (0, Some("accepted")), "{v} {err}");
    assert_eq!(rig.requests_for(id(&v)), 1);
    // After `sending` was committed: it may have left, so it is never sent again by itself.
    let (code, v, _) = killed("after-sending", "+13105551002", Some("sending"));
    assert_eq!((code, v["status"].as_str()), (3, Some("unknown")));
    assert_eq!(rig.requests_for(id(&v)), 0, "it had not left, but nobody can know that");
    // After the request left (no answer yet): unknown, and the callback later settles it.
    let (code, v, _) = killed("after-request", "+13105550002", None);
    assert_eq!((code, v["status"].as_str()), (3, Some("unknown")));
    rig.wait_for(id(&v), "delivered", 15);
    assert_eq!(rig.requests_for(id(&v)), 1);
    // After the answer arrived but before it was recorded: unknown until myKaarma reports.
    let (code, v, _) = killed("after-response", "+13105551004", Some("response"));
    assert_eq!((code, v["status"].as_str()), (3, Some("unknown")));
    rig.wait_for(id(&v), "delivered", 10);
    assert_eq!(rig.requests_for(id(&v)), 1);
    assert_eq!(
        rig.requests().len(),
        3,
        "three requests in all, one per entry that left"
    );
}

#[test]
fn ten_simultaneous_sends_of_one_draft_make_one_request() {
    let rig = Rig::new(100, 30, 10, "http://127.0.0.2:9/");
    let children: Vec<Child> = (0..10)
        .map(|_| {
            rig.send_command(&["--text", "Only once", "--idempotency-key", "draft-42"], &[])
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert!(codes.iter().all(|c| *c == 0 || *c == 3), "{codes:?}");
    assert_eq!(rig.requests().len(), 1);
    let n: i64 = Store::open(&rig.db)
        .unwrap()
        .connection()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn no_credential_reaches_logs_database_or_output() {
    use base64::Engine;
    let rig = Rig::new(50, 30, 10, "http://127.0.0.2:9/");
    for args in [
        vec!["--text", "one"],
        vec!["--text", "two", "--to", "+13105550001"],
        vec!["--text", "three", "--to", "+13105550003"],
        vec!["--text", "four", "--to", "555"],
    ] {
        rig.send(&args, &[]);
    }
    rig.send(
        &["--text", "five"],
        &[("SWITCHBOARD_MYKAARMA_PASSWORD", "wrong-pass-zz")],
    );
    std::thread::sleep(Duration::from_secs(1));
    let secrets = [
        USER.to_string(),
        PASS.to_string(),
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}")),
    ];
    let mut checked = vec![];
    for entry in std::fs::read_dir(rig.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("config.toml") {
            // Where the operator put the webhook key: proof the needle would be found.
            assert!(std::fs::read_to_string(&path).unwrap().contains(USER));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{} holds a credential", path.display());
        }
        checked.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    checked.sort();
    assert!(checked.len() >= 8, "db, logs and outputs: {checked:?}");
    let log = std::fs::read_to_string(rig.dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG") || log.contains("INFO"),
        "logging was on"
    );
}
