//! `switchboard ssh`: the inbox served over SSH by the program itself, reached with the real OpenSSH
//! client in tmux on 127.0.0.1. Keys decide who connects and as which advisor; each session is its
//! own inbox on the same database; a PTY-less session gets a line; a dropped client frees its
//! session. Needs the OpenSSH client (`.ci/run` installs it); without it the test says so.

mod common;

use common::services::{BIN, Proc, start};
use common::tmux::Tmux;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn keygen(path: &Path, comment: &str) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (apt-get install openssh-client)")
        .success();
    assert!(ok);
}

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
            "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes \
             -i {} -p {} {extra} advisor@127.0.0.1",
            self.dir.path().join(key).display(),
            self.port
        )
    }

    fn sessions_logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn have_ssh() -> bool {
    let found = Command::new("ssh").arg("-V").output().is_ok();
    if !found {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED ssh_server: no ssh client (apt-get install openssh-client)"
        );
    }
    found
}

#[test]
fn the_inbox_over_ssh_as_the_keys_advisor_resized_and_quit() {
    if !have_ssh() {
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
fn two_sessions_each_see_a_write_within_a_second() {
    if !have_ssh() {
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
    // A new customer writes (stored by another process).
    let event = serde_json::json!({
        "type": "message_created",
        "payload": {
            "message": {"id": 5551, "conversation_id": 5550001, "date": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string(),
                        "content_type": "Text", "sender_type": "Consumer", "status": "Success", "content": "Is the Tacoma still there?"},
            "conversation": {"id": 5550001, "consumer_name": "Quinn Walker", "messaging_partner": "SMS"}
        }
    });
    let file = desk.dir.path().join("new.json");
    std::fs::write(&file, event.to_string()).unwrap();
    let db = desk.dir.path().join("sb.db");
    assert!(
        Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&file)
            .output()
            .unwrap()
            .status
            .success()
    );
    let stored = Instant::now();
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
        "both sessions showed the write {:?} after it was stored",
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
    if !have_ssh() {
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
    let command = Command::new("sh")
        .arg("-c")
        .arg(format!("{} failures --json", desk.ssh("dana", "")))
        .output()
        .unwrap();
    assert_eq!(command.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&command.stdout).contains("not commands"),
        "{command:?}"
    );
}

#[test]
fn killing_the_client_frees_its_session_within_two_seconds_without_spinning() {
    if !have_ssh() {
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
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", desk.server.child.id())).unwrap();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    };
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu();
    std::thread::sleep(Duration::from_secs(1));
    assert!(cpu() - before <= 2, "the server spins after the client went away");
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_stalled_client_cannot_grow_the_servers_memory() {
    if !have_ssh() {
        return;
    }
    let desk = Desk::new();
    let t = Tmux::new("sshd-stall");
    t.start_command(200, 60, &format!("exec {} -tt", desk.ssh("dana", "")));
    t.wait_for("as Dana Reyes");
    let pane_pid = t
        .tmux(&["display", "-p", "-t", "e2e", "#{pane_pid}"])
        .trim()
        .to_string();
    let server = desk.server.child.id();
    let db = desk.dir.path().join("sb.db");
    let file = desk.dir.path().join("feed.json");
    // Every write is a new message in the thread the client has open: each frame redraws most of
    // a 200×60 screen.
    let write = |i: u64| {
        let event = serde_json::json!({
            "type": "message_created",
            "payload": {
                "message": {"id": 700_000 + i, "conversation_id": 8_000_000,
                            "date": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string(),
                            "content_type": "Text", "sender_type": "Consumer", "status": "Success",
                            "content": format!("Message {i}: {}", "is my car ready yet? ".repeat(30))},
                "conversation": {"id": 8_000_000, "consumer_name": "Casey Stall", "messaging_partner": "SMS"}
            }
        });
        std::fs::write(&file, event.to_string()).unwrap();
        assert!(
            Command::new(BIN)
                .arg("--db")
                .arg(&db)
                .arg("import")
                .arg(&file)
                .output()
                .unwrap()
                .status
                .success()
        );
    };
    write(0);
    t.keys(&["/", "Casey", "Enter"]);
    t.wait_for("search: Casey");
    t.keys(&["g", "Enter"]);
    t.wait_for("Casey Stall · ");
    // The same feed: first 30 s with the client reading (the server's caches grow with the
    // database: the baseline), then 60 s with the client stopped, as a stalled link is.
    let mut i = 1;
    let mut feed_for = |seconds: u64| {
        let started = Instant::now();
        let before = rss_kib(server);
        while started.elapsed() < Duration::from_secs(seconds) {
            write(i);
            i += 1;
        }
        rss_kib(server).saturating_sub(before)
    };
    let reading = feed_for(30);
    assert!(
        Command::new("kill")
            .args(["-STOP", &pane_pid])
            .status()
            .unwrap()
            .success()
    );
    let stalled = feed_for(60);
    eprintln!(
        "server RSS growth: {reading} KiB in 30 s with the client reading, {stalled} KiB in 60 s with it stopped ({i} writes)"
    );
    // Twice as long stalled as reading: at most twice the growth (what the database's growth
    // costs in caches), plus 4 MiB.
    assert!(
        stalled <= 2 * reading + 4 * 1024,
        "the server held a stalled client's frames: {stalled} KiB in 60 s stalled vs {reading} KiB in 30 s reading"
    );
    // The client reads again: it is shown the screen whole again, and keys work.
    assert!(
        Command::new("kill")
            .args(["-CONT", &pane_pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_secs(1));
    let screen = t.wait_for_within(&format!("Message {}: ", i - 1), 5);
    assert!(screen.starts_with(" Conversations · all · 1/1 · /Casey"), "{screen}");
    assert!(screen.lines().nth(59).is_some_and(|l| l.contains("q quit")), "{screen}");
    t.keys(&["q"]);
    let quit = Instant::now();
    while !desk.sessions_logged().contains("sessions=0") {
        assert!(quit.elapsed() < Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{}", desk.sessions_logged().lines().last().unwrap_or_default());
}
