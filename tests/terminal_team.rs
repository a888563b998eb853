//! Two advisors, one database: two real inboxes in tmux, each with its own `[me]`. Each reads for
//! themselves; an assignment, a done, a reply or a note made in one shows in the other within a
//! second; a new message from the customer reopens a done conversation.

mod common;

use common::services::{BIN, start};
use common::tmux::Tmux;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// "N unread" from the status bar.
fn unread(screen: &str) -> i64 {
    let at = screen.find(" unread ·").expect("the status bar shows the unread count");
    screen[..at]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Wait (at most a second) until `check` holds on `tmux`'s screen; how long that took.
fn within_a_second(tmux: &Tmux, what: &str, check: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let screen = tmux.screen();
        if check(&screen) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: not seen within a second; the screen shows:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A new text from María (the demo's myKaarma customer), sent now.
fn maria_writes_again(dir: &Path) -> std::path::PathBuf {
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/mykaarma.ndjson")).unwrap();
    let line = demo
        .lines()
        .find(|l| l.contains("María González") && l.contains(r#"\"messageType\":\"I\""#))
        .unwrap();
    let mut event: Value = serde_json::from_str(line).unwrap();
    let mut payload: Value = serde_json::from_str(event["payload"].as_str().unwrap()).unwrap();
    payload["messageDTO"]["uuid"] = "maria-writes-again-0001".into();
    payload["messageDTO"]["messageExtnDTO"]["messageBody"] = "Is it ready yet?".into();
    let now = chrono::Utc::now();
    for field in ["sentOn", "receivedOn"] {
        payload["messageDTO"][field] = now.format("%Y-%m-%d %H:%M:%S").to_string().into();
    }
    event["payload"] = payload.to_string().into();
    event["id"] = "maria-writes-again".into();
    event["timestamp"] = now.timestamp_millis().into();
    let path = dir.join("maria-again.json");
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

fn selected_row(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with('▶'))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn two_advisors_read_assign_reply_and_finish_each_for_themselves_and_see_each_other_live() {
    let dana = Tmux::new("dana");
    let nina = Tmux::new("nina");
    let mut import = Command::new(BIN);
    import.arg("--db").arg(dana.db()).arg("import");
    for v in ["mykaarma", "highlevel", "partoo"] {
        import.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("assets/demo/{v}.ndjson")));
    }
    assert!(import.output().unwrap().status.success());
    // Dana can send (to the sandbox standing in for myKaarma); Nina only reads.
    let sandbox = start(
        &["sandbox", "--listen", "127.0.0.1:0"],
        &dana.dir.path().join("sandbox.log"),
        &[
            ("SWITCHBOARD_MYKAARMA_USERNAME", "desk"),
            ("SWITCHBOARD_MYKAARMA_PASSWORD", "desk-password"),
        ],
    );
    dana.start_with(
        80,
        24,
        "",
        &[
            ("SWITCHBOARD_ME_NAME", "Dana Reyes"),
            ("SWITCHBOARD_MYKAARMA_BASE_URL", &sandbox.url),
            ("SWITCHBOARD_MYKAARMA_USERNAME", "desk"),
            ("SWITCHBOARD_MYKAARMA_PASSWORD", "desk-password"),
        ],
    );
    nina.start_on(&dana.db(), 80, 24, "", &[("SWITCHBOARD_ME_NAME", "Nina Patel")]);
    dana.wait_for("as Dana Reyes");
    nina.wait_for("as Nina Patel");
    let before = unread(&nina.wait_for("Conversations · all · 1/"));
    assert_eq!(
        unread(&dana.wait_for("Conversations · all · 1/")),
        before,
        "both start from the shared read state"
    );

    // Dana opens María's conversation (unread): read for her, still unread for Nina.
    for t in [&dana, &nina] {
        t.keys(&["/", "Gonz", "Enter"]);
        t.wait_for("search: Gonz");
    }
    dana.keys(&["g", "Enter"]);
    dana.wait_for("María González · ");
    within_a_second(&dana, "Dana's unread count drops", |s| unread(s) == before - 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        unread(&nina.screen()),
        before,
        "Nina's count is hers:\n{}",
        nina.screen()
    );
    assert!(
        selected_row(&nina.screen()).contains('●'),
        "still unread for Nina:\n{}",
        nina.screen()
    );

    // Dana replies as herself; Nina, opening the thread, sees who sent it.
    dana.keys(&["r"]);
    dana.wait_for("REPLY │");
    dana.keys(&["-l", "Your car is ready, see you at 5"]);
    dana.keys(&["C-s"]);
    dana.wait_for("y send");
    dana.keys(&["y"]);
    dana.wait_for("→");
    nina.keys(&["g", "Enter"]);
    nina.wait_for("María González · ");
    let took_reply = within_a_second(&nina, "Dana's reply in Nina's thread", |s| {
        s.lines().any(|l| l.contains("→") && l.contains("Dana Reyes"))
    });
    nina.keys(&["Escape"]);
    dana.keys(&["Escape", "Escape"]);
    dana.wait_for("LIST │");

    // Dana takes it; Nina sees it as Dana's.
    dana.keys(&["a"]);
    let took_assign = within_a_second(&nina, "Dana's assignment in Nina's list", |s| {
        selected_row(s).contains("@Dana")
    });
    within_a_second(&dana, "Dana sees it as hers", |s| selected_row(s).contains("@me"));

    // Dana marks it done: it leaves Nina's list (the search shows nothing else).
    dana.keys(&["d"]);
    dana.wait_for("Done:");
    let took_done = within_a_second(&nina, "the done conversation leaves Nina's list", |s| {
        !s.contains("María González")
    });

    // María writes again: the conversation is open again, in both lists.
    let event = maria_writes_again(dana.dir.path());
    let stored = Command::new(BIN)
        .arg("--db")
        .arg(dana.db())
        .arg("import")
        .arg(&event)
        .output()
        .unwrap();
    assert!(stored.status.success(), "{}", String::from_utf8_lossy(&stored.stderr));
    let took_reopen = within_a_second(&nina, "María's new message reopens it for Nina", |s| {
        s.contains("María González") && s.contains("Is it ready yet?")
    });
    dana.keys(&["g"]);
    within_a_second(&dana, "and for Dana, at the top of her list", |s| {
        selected_row(s).contains("María González") && s.contains("Is it ready yet?")
    });
    eprintln!(
        "seen by the other advisor after: reply {took_reply:?}, assignment {took_assign:?}, done {took_done:?}, reopen {took_reopen:?}"
    );
    for t in [&dana, &nina] {
        t.keys(&["q"]);
        t.wait_for("EXIT=0");
    }
}
