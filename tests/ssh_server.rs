//! `switchboard ssh`: the inbox served over SSH by the program itself, reached with the real OpenSSH
//! client in tmux on 127.0.0.1. Keys decide who connects and as which advisor; each session is its
//! own inbox on the same database; a PTY-less session gets a line; a dropped client frees its
//! session. Needs the OpenSSH client (`.ci/run` installs it); without it the test says so.

mod common;

use common::services::{BIN, Proc, start};
use common::ssh::{CLIENT, cpu_ticks, have_ssh, keygen, rss_kib};
use common::tmux::Tmux;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Desk {
    dir: tempfile::TempDir,
    server: Proc,
    port: String,
    log: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("dana"), "dana@laptop");
        keygen(&d.join("nina"), "nina@desk");
        keygen(&d.join("stranger"), "someone@elsewhere");
        let dana = std::fs::read_to_string(d.join("dana.pub")).unwrap();
        let nina = std::fs::read_to_string(d.join("nina.pub")).unwrap();
        std::fs::write(
            d.join("access"),
            format!("advisor=\"Dana Reyes\",partoo=\"u-dana\" {dana}advisor=\"Nina Patel\" {nina}"),
        )
        .unwrap();
        let db = d.join("sb.db");
        let mut import = Command::new(BIN);
        import.arg("--db").arg(&db).arg("import");
        for v in ["mykaarma", "highlevel", "partoo"] {
            import.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("assets/demo/{v}.ndjson")));
        }
        assert!(import.output().unwrap().status.success());
        let config = d.join("config.toml");
        std::fs::write(&config, "[inbox]\nbell = false\n").unwrap();
        let log = d.join("ssh.log");
        let server = start(
            &[
                "--db",
                db.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
                "ssh",
                "--listen",
                "127.0.0.1:0",
                "--access",
                d.join("access").to_str().unwrap(),
            ],
            &log,
            &[],
        );
        let port = server.url.rsplit(':').next().unwrap().to_string();
        let key = db.with_file_name("ssh_host_ed25519_key");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600,
            "the host key is private"
        );
        Desk { dir, server, port, log }
    }

    /// The OpenSSH client with `key`, and `extra` arguments, as a shell command line.
    fn ssh(&self, key: &str, extra: &str) -> String {
        format!(
            "{CLIENT} -i {} -p {} {extra} advisor@127.0.0.1",
            self.dir.path().join(key).display(),
            self.port
        )
    }

    /// `serve` on the same database, taking unsigned deliveries (loopback).
    fn receiver(&self) -> Proc {
        let db = self.dir.path().join("sb.db");
        start(
            &[
                "--db",
                db.to_str().unwrap(),
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--insecure-accept-unsigned",
            ],
            &self.dir.path().join("serve.log"),
            &[],
        )
    }

    fn sessions_logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[test]
fn the_inbox_over_ssh_as_the_keys_advisor_resized_and_quit() {
    if !have_ssh("ssh_server") {
        return;
    }
    let desk = Desk::new();
    let t = Tmux::new("sshd-dana");
    t.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", desk.ssh("dana", "")));
    t.wait_for("as Dana Reyes");
    t.wait_for("Conversations · all · 1/25");
    // The client's 80×24: the key hints on its last row.
    let screen = t.wait_for("q quit");
    assert_eq!(screen.lines().position(|l| l.contains("q quit")), Some(23), "{screen}");
    // The window grows: drawn again at 120×40, its hints on the new last row.
    t.resize(120, 40);
    let resized = Instant::now();
    loop {
        let screen = t.screen();
        let hints = screen.lines().position(|l| l.contains("q quit"));
        if hints == Some(39) && screen.lines().any(|l| l.chars().count() > 100) {
            break;
        }
        assert!(
            resized.elapsed() < Duration::from_secs(2),
            "not redrawn at 120×40:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Keys work: open a thread, back, quit; the client's terminal is given back.
    t.keys(&["j", "Enter"]);
    t.wait_for("THREAD │");
    t.keys(&["Escape", "q"]);
    t.wait_for("EXIT=0");
    assert!(
        !t.alternate_screen_on(),
        "the alternate screen was left before the channel closed"
    );
}

#[test]
fn two_sessions_each_see_a_webhook_within_a_second() {
    if !have_ssh("ssh_server") {
        return;
    }
    let desk = Desk::new();
    let dana = Tmux::new("sshd-two-dana");
    let nina = Tmux::new("sshd-two-nina");
    dana.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", desk.ssh("dana", "")));
    nina.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", desk.ssh("nina", "")));
    dana.wait_for("as Dana Reyes");
    nina.wait_for("as Nina Patel");
    dana.wait_for("1/25");
    nina.wait_for("1/25");
    // A new customer writes: a webhook to the receiver, another process on the same database.
    let event = serde_json::json!({
        "type": "message_created",
        "payload": {
            "message": {"id": 5551, "conversation_id": 5550001, "date": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string(),
                        "content_type": "Text", "sender_type": "Consumer", "status": "Success", "content": "Is the Tacoma still there?"},
            "conversation": {"id": 5550001, "consumer_name": "Quinn Walker", "messaging_partner": "SMS"}
        }
    });
    // Posted to the receiver, as Partoo delivers it.
    let receiver = desk.receiver();
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/webhooks/partoo", receiver.url))
        .header("content-type", "application/json")
        .body(event.to_string())
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    let stored = Instant::now(); // acknowledged, so stored
    for t in [&dana, &nina] {
        while !t.screen().contains("Quinn Walker") {
            assert!(
                stored.elapsed() < Duration::from_secs(1),
                "not seen within a second:\n{}",
                t.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    eprintln!(
        "both sessions showed the delivery {:?} after the receiver acknowledged it",
        stored.elapsed()
    );
    assert!(
        desk.sessions_logged().contains("sessions=2"),
        "{}",
        desk.sessions_logged()
    );
}

#[test]
fn strangers_are_refused_and_no_pty_gets_a_line() {
    if !have_ssh("ssh_server") {
        return;
    }
    let desk = Desk::new();
    let refused = Command::new("sh")
        .arg("-c")
        .arg(desk.ssh("stranger", "-T"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Permission denied"),
        "{refused:?}"
    );

    let started = Instant::now();
    let line = Command::new("sh")
        .arg("-c")
        .arg(desk.ssh("dana", "-T"))
        .output()
        .unwrap();
    assert_eq!(line.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&line.stdout).contains("connect with `ssh -t`"),
        "{line:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "the connection ended");
    // The client's TERM is the terminal's: one that cannot address the cursor gets a line.
    let dumb = Command::new("sh")
        .arg("-c")
        .arg(format!("TERM=dumb {} -tt < /dev/null", desk.ssh("dana", "")))
        .output()
        .unwrap();
    assert_eq!(dumb.status.code(), Some(1), "{dumb:?}");
    assert!(String::from_utf8_lossy(&dumb.stdout).contains("TERM=dumb cannot show the inbox"));
    // A command gets the CLI's own output, run as the key's advisor.
    let command = Command::new("sh")
        .arg("-c")
        .arg(format!("{} failures --json", desk.ssh("dana", "")))
        .output()
        .unwrap();
    assert_eq!(command.status.code(), Some(0), "{command:?}");
    let failures: serde_json::Value = serde_json::from_slice(&command.stdout).unwrap();
    assert!(failures.as_array().is_some_and(|f| !f.is_empty()), "{failures}");
    let mine = Command::new("sh")
        .arg("-c")
        .arg(format!("{} conversations --mine --json", desk.ssh("dana", "")))
        .output()
        .unwrap();
    assert_eq!(mine.status.code(), Some(0), "{mine:?}");
    // Only commands that read, on the server's database.
    for refused in ["send partoo:1 hello", "failures --db /etc/passwd", "rebuild"] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{} {refused}", desk.ssh("dana", "")))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{refused}: {out:?}");
        assert!(!out.stdout.is_empty(), "{refused}: says why");
    }
}

#[test]
fn killing_the_client_frees_its_session_within_two_seconds_without_spinning() {
    if !have_ssh("ssh_server") {
        return;
    }
    let desk = Desk::new();
    let t = Tmux::new("sshd-kill");
    t.start_command(80, 24, &format!("exec {} -tt", desk.ssh("dana", "")));
    t.wait_for("as Dana Reyes");
    assert!(desk.sessions_logged().contains("sessions=1"));
    // The connection drops: the client dies without a word.
    let pane_pid = t.tmux(&["display", "-p", "-t", "e2e", "#{pane_pid}"]);
    let killed = Command::new("kill").args(["-9", pane_pid.trim()]).status().unwrap();
    assert!(killed.success());
    let dropped = Instant::now();
    while !desk.sessions_logged().contains("sessions=0") {
        assert!(dropped.elapsed() < Duration::from_secs(2), "{}", desk.sessions_logged());
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("session freed {:?} after the client was killed", dropped.elapsed());
    // Nothing left running: the server's CPU time stands still.
    let cpu = || cpu_ticks(desk.server.child.id());
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu();
    std::thread::sleep(Duration::from_secs(1));
    assert!(cpu() - before <= 2, "the server spins after the client went away");
}

#[test]
fn a_stalled_client_cannot_grow_the_servers_memory() {
    if !have_ssh("ssh_server") {
        return;
    }
    let desk = Desk::new();
    // The client outside tmux (which resumes a stopped pane at once): its screen is a pipe this
    // test reads, or stops reading, as a stalled link stops.
    // `script` gives it a 200×60 terminal of its own.
    let mut client = Command::new("script")
        .args(["-q", "-e", "/dev/null", "-c"])
        .arg(format!("stty cols 200 rows 60; exec {} -tt", desk.ssh("dana", "")))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut keys = client.stdin.take().unwrap();
    let screen = Reader::start(client.stdout.take().unwrap());
    screen.wait_for(b"as Dana Reyes", 10);
    let server = desk.server.child.id();
    let receiver = desk.receiver();
    let http = reqwest::blocking::Client::new();
    // The feed: every delivery a new customer with a name and words unlike the last, so the list
    // the client shows shifts down a row and nearly every cell of its 200×60 screen changes:
    // frames of kilobytes, many a second.
    let words = |i: u64, n: usize| -> String {
        let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x >> 29;
                x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                (b'a' + (x % 26) as u8) as char
            })
            .collect::<String>()
    };
    let deliver = |i: u64| {
        let event = serde_json::json!({
            "type": "message_created",
            "payload": {
                "message": {"id": 700_000 + i, "conversation_id": 8_000_000 + i,
                            "date": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string(),
                            "content_type": "Text", "sender_type": "Consumer", "status": "Success",
                            "content": format!("{} {} {}", words(i, 9), words(i + 1, 7), words(i + 2, 11))},
                "conversation": {"id": 8_000_000 + i, "consumer_name": format!("Z{i} {}", words(i, 8)), "messaging_partner": "SMS"}
            }
        });
        let answer = http
            .post(format!("{}/webhooks/partoo", receiver.url))
            .body(event.to_string())
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200);
    };
    // The same feed: first 30 s with the client reading (the server's caches grow with the
    // database: the baseline), then 60 s with the client stopped, as a stalled link is.
    let mut i = 0;
    let mut feed_for = |seconds: u64| {
        let started = Instant::now();
        let before = rss_kib(server);
        while started.elapsed() < Duration::from_secs(seconds) {
            deliver(i);
            i += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        rss_kib(server).saturating_sub(before)
    };
    let reading = feed_for(30);
    screen.pause();
    let stalled = feed_for(60);
    eprintln!(
        "server RSS growth: {reading} KiB in 30 s with the client reading, {stalled} KiB in 60 s with it stopped ({i} deliveries)"
    );
    // The client reads again: what was in flight arrives, then the screen whole again (cleared
    // and drawn), and keys work: `g` goes to the newest customer.
    let resumed = screen.resume();
    std::thread::sleep(Duration::from_secs(2));
    use std::io::Write;
    keys.write_all(b"g").unwrap();
    screen.wait_for(format!("Z{} ", i - 1).as_bytes(), 10);
    assert!(
        screen.since(resumed).windows(4).any(|w| w == b"\x1b[2J"),
        "no whole repaint after the client read again"
    );
    keys.write_all(b"q").unwrap();
    let quit = Instant::now();
    while !desk.sessions_logged().contains("sessions=0") {
        assert!(quit.elapsed() < Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(client.wait().unwrap().success());
    let ended = desk.sessions_logged();
    let ended = ended.lines().rfind(|l| l.contains("SSH session ended")).unwrap();
    eprintln!("{ended}");
    let field = |name: &str| -> u64 {
        ended
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    // The session made far more than the bound while stopped: without the bound the server
    // would have held it all.
    let (produced, dropped, most) = (field("bytes"), field("frames_dropped"), field("most_queued"));
    assert!(dropped > 0, "no frame was dropped: {ended}");
    assert!(produced > 16 * 1024 * 1024, "the feed made too little to tell: {ended}");
    assert!(most <= 256 * 1024, "{ended}");
    // Twice as long stalled as reading: at most twice the growth (what the database's growth
    // costs in caches), plus 4 MiB.
    assert!(
        stalled <= 2 * reading + 4 * 1024,
        "the server held a stalled client's frames: {stalled} KiB in 60 s stalled vs {reading} KiB in 30 s reading"
    );
}

/// A client's screen read from a pipe, or not read: paused, the pipe fills and the client stops
/// taking data from the server, as a stalled link does.
struct Reader {
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reading: std::sync::mpsc::Sender<bool>,
}

impl Reader {
    fn start(mut from: impl std::io::Read + Send + 'static) -> Reader {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (reading, told) = std::sync::mpsc::channel::<bool>();
        let into = seen.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut on = true;
            loop {
                if !on {
                    match told.recv() {
                        Ok(r) => on = r,
                        Err(_) => return,
                    }
                    continue;
                }
                if let Ok(r) = told.try_recv() {
                    on = r;
                    continue;
                }
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => into.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        });
        Reader { seen, reading }
    }

    fn pause(&self) {
        self.reading.send(false).unwrap();
    }

    /// Read again; returns where the output stood.
    fn resume(&self) -> usize {
        let at = self.seen.lock().unwrap().len();
        self.reading.send(true).unwrap();
        at
    }

    fn since(&self, at: usize) -> Vec<u8> {
        self.seen.lock().unwrap()[at..].to_vec()
    }

    fn wait_for(&self, text: &[u8], secs: u64) {
        let started = Instant::now();
        let from = 0;
        while !self.since(from).windows(text.len()).any(|w| w == text) {
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "waited for {:?}",
                String::from_utf8_lossy(text)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
