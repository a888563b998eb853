//! `switchboard demo --ssh`: the living demo for anyone with an ssh client, reached with the real
//! OpenSSH client (in tmux where a screen is read) on 127.0.0.1. Each visitor gets a dealership of
//! their own; its bounds (seats, connections per address, idle time, visit length) each say so
//! before the connection closes. Needs the OpenSSH client (`.ci/run` installs it).

mod common;

use common::services::{Proc, start};
use common::ssh::{CLIENT, cpu_ticks, have_ssh, keygen, rss_kib};
use common::tmux::Tmux;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Demo {
    dir: tempfile::TempDir,
    server: Proc,
    port: String,
    log: PathBuf,
}

impl Demo {
    /// The demo served on a free port, with `ssh` as its config's `[ssh]` section.
    fn new(ssh: &str) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("tmp")).unwrap();
        let config = d.join("config.toml");
        std::fs::write(&config, format!("[inbox]\nbell = false\n[ssh]\n{ssh}\n")).unwrap();
        let log = d.join("demo.log");
        let tmp = d.join("tmp");
        let data = d.join("data");
        let server = start(
            &["--config", config.to_str().unwrap(), "demo", "--ssh", "127.0.0.1:0"],
            &log,
            &[
                ("TMPDIR", tmp.to_str().unwrap()),
                ("XDG_DATA_HOME", data.to_str().unwrap()),
            ],
        );
        let port = server.url.rsplit(':').next().unwrap().to_string();
        Demo { dir, server, port, log }
    }

    /// The client as a visitor runs it: no key at all.
    fn ssh(&self, extra: &str) -> String {
        format!(
            "{CLIENT} -o PubkeyAuthentication=no -p {} {extra} visitor@127.0.0.1",
            self.port
        )
    }

    fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Visitors' dealerships on disk now.
    fn dealerships(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("tmp")).unwrap().count()
    }

    /// Sessions ended so far.
    fn ended(&self) -> usize {
        self.logged().matches("SSH session ended").count()
    }

    fn wait_ended(&self, n: usize, secs: u64) {
        let started = Instant::now();
        while self.ended() < n {
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "waited for {n} sessions to end:\n{}",
                self.logged()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_logged(&self, text: &str, secs: u64) {
        let started = Instant::now();
        while !self.logged().contains(text) {
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "waited for {text:?} in the log:\n{}",
                self.logged()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn each_visitor_gets_a_dealership_of_their_own_with_the_feed_and_replies() {
    if !have_ssh("ssh_demo") {
        return;
    }
    let demo = Demo::new("");
    let first = Tmux::new("demo-first");
    let second = Tmux::new("demo-second");
    first.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", demo.ssh("")));
    // The second visitor offers a key: any key will do.
    let key = second.dir.path().join("visitor");
    keygen(&key, "visitor@laptop");
    second.start_command(
        80,
        24,
        &format!(
            "{CLIENT} -i {} -p {} -tt visitor@127.0.0.1; echo EXIT=$?; sleep 60",
            key.display(),
            demo.port
        ),
    );
    for t in [&first, &second] {
        t.wait_for_within("as Alex Rivera", 10);
        let screen = t.wait_for("q quit");
        assert_eq!(screen.lines().position(|l| l.contains("q quit")), Some(23), "{screen}");
    }
    assert_eq!(demo.dealerships(), 2, "a dealership each");
    // The feed arrives: Jordan follows up on Facebook a couple of seconds in.
    first.wait_for_within("Following up", 10);

    // The window grows to 120×40: drawn again, hints on its new last row.
    first.resize(120, 40);
    let resized = Instant::now();
    while first.screen().lines().position(|l| l.contains("q quit")) != Some(39) {
        assert!(resized.elapsed() < Duration::from_secs(2), "{}", first.screen());
        std::thread::sleep(Duration::from_millis(20));
    }

    // A reply goes to the sandbox and comes back delivered.
    first.keys(&["/", "Carlos", "Enter"]);
    first.wait_for("search: Carlos");
    first.keys(&["g", "Enter"]);
    first.wait_for("THREAD │");
    first.keys(&["r"]);
    first.wait_for("Reply · text via myKaarma");
    first.keys(&["-l", "Your car is ready for pickup."]);
    first.keys(&["C-s"]);
    first.wait_for("y send");
    first.keys(&["y"]);
    first.wait_for_within("✓ delivered", 10);
    // Tony has opted out of texts: the reply fails, and says why.
    first.keys(&["Escape", "/", "C-u", "Tony", "Enter"]);
    first.wait_for("search: Tony");
    first.keys(&["g", "Enter"]);
    first.keys(&["r"]);
    first.wait_for("Reply · text via myKaarma");
    first.keys(&["-l", "We have loaners, yes."]);
    first.keys(&["C-s"]);
    first.wait_for("y send");
    first.keys(&["y"]);
    first.wait_for_within("opted out", 10);
    // The second visitor's dealership did not hear of it.
    assert!(!second.flat_screen().contains("opted out"));

    // Quit: the visitor's terminal is given back and their dealership is gone.
    first.keys(&["Escape", "Escape", "q"]);
    first.wait_for("EXIT=0");
    assert!(!first.alternate_screen_on());
    let quit = Instant::now();
    while demo.dealerships() != 1 {
        assert!(
            quit.elapsed() < Duration::from_secs(5),
            "the first visitor's dealership stayed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A command without a PTY: the CLI's output from a fresh demo dealership.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{} failures --json", demo.ssh("")))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let failures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(failures.as_array().is_some_and(|f| f.len() >= 5), "{failures}");
    // No PTY and no command: a line, and the connection ends.
    let line = Command::new("sh").arg("-c").arg(demo.ssh("-T")).output().unwrap();
    assert_eq!(line.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&line.stdout).contains("connect with `ssh -t`"));

    // The server is stopped (SIGTERM; SIGHUP, its terminal closing, does the same) while the
    // second visitor is in: their inbox ends, their dealership is removed, the server exits cleanly.
    let mut demo = demo;
    let stopped = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &demo.server.child.id().to_string()])
        .status();
    // The visitor is told, their screen given back, and their ssh ends cleanly.
    let screen = second.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(second.flat_screen().contains("SSH server is stopping"), "{screen}");
    assert!(!second.alternate_screen_on());
    let status = demo.server.child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", demo.logged());
    assert_eq!(demo.dealerships(), 0, "a dealership was left behind");
    eprintln!("stopped with a visitor in, cleaned up, in {:?}", stopped.elapsed());
}

#[test]
fn the_33rd_visitor_is_told_the_demo_is_full_and_a_freed_seat_is_taken_again() {
    if !have_ssh("ssh_demo") {
        return;
    }
    // The default 32 seats; enough connections per minute for one address to fill them.
    let demo = Demo::new("demo_connections_per_minute = 100");
    let server = demo.server.child.id();
    std::thread::sleep(Duration::from_millis(300));
    let idle_rss = rss_kib(server);
    // 32 visitors, each with a PTY (forced: their input is a pipe held open) and nobody reading
    // closely: their screens go to /dev/null.
    let mut visitors: Vec<std::process::Child> = (0..32)
        .map(|_| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("exec {} -tt", demo.ssh("")))
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    demo.wait_logged("sessions=32", 120);
    std::thread::sleep(Duration::from_secs(2));
    let full_rss = rss_kib(server);
    eprintln!(
        "server RSS: {idle_rss} KiB idle, {full_rss} KiB with 32 visitors: {} KiB per visitor",
        (full_rss.saturating_sub(idle_rss)) / 32
    );
    // Seated visitors cost no CPU while nobody types (the feed ends after its story).
    let before = cpu_ticks(server);
    std::thread::sleep(Duration::from_secs(1));
    eprintln!(
        "server CPU with 32 visitors: {} ticks in 1 s",
        cpu_ticks(server) - before
    );

    let turned = Command::new("sh")
        .arg("-c")
        .arg(format!("{} -tt < /dev/null", demo.ssh("")))
        .output()
        .unwrap();
    assert_eq!(turned.status.code(), Some(1), "{turned:?}");
    let said = String::from_utf8_lossy(&turned.stdout);
    assert!(said.contains("demo is full right now: 32 visitors"), "{said}");
    assert_eq!(demo.dealerships(), 32, "no dealership was made for the 33rd");

    // One leaves (the client killed): the seat is free within 2 s and the next visitor gets it.
    let mut gone = visitors.pop().unwrap();
    let killed = Instant::now();
    gone.kill().unwrap(); // SIGKILL: the client dies without a word
    gone.wait().unwrap();
    demo.wait_ended(1, 2);
    eprintln!("a killed visitor's seat was free {:?} later", killed.elapsed());

    let t = Tmux::new("demo-33");
    t.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", demo.ssh("")));
    t.wait_for_within("as Alex Rivera", 10);
    for mut v in visitors {
        let _ = v.kill();
        let _ = v.wait();
    }
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
    let leaving = Instant::now();
    demo.wait_ended(33, 30);
    eprintln!("32 visitors left in {:?}", leaving.elapsed());
    let cleaned = Instant::now();
    while demo.dealerships() != 0 {
        assert!(cleaned.elapsed() < Duration::from_secs(10), "dealerships left behind");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn idle_and_long_visits_are_shown_out_politely_and_a_busy_address_is_slowed() {
    if !have_ssh("ssh_demo") {
        return;
    }
    let demo = Demo::new("demo_idle_seconds = 3\ndemo_session_seconds = 6\ndemo_connections_per_minute = 3");
    let idle = Tmux::new("demo-idle");
    let busy = Tmux::new("demo-busy");
    idle.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", demo.ssh("")));
    busy.start_command(80, 24, &format!("{} -tt; echo EXIT=$?; sleep 60", demo.ssh("")));
    idle.wait_for_within("as Alex Rivera", 10);
    busy.wait_for_within("as Alex Rivera", 10);
    let started = Instant::now();
    // A minute's warning comes first (here, at once: the bounds are shorter than a minute).
    idle.wait_for("This demo closes in a minute");
    // The busy visitor keeps pressing keys; the idle one does not.
    let screen = loop {
        busy.keys(&["j"]);
        let screen = idle.flat_screen();
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(started.elapsed() < Duration::from_secs(6), "{screen}");
    };
    assert!(
        screen.contains("Your Switchboard demo closed after 3 seconds without a key"),
        "{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    let screen = loop {
        busy.keys(&["k"]);
        let screen = busy.flat_screen();
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(started.elapsed() < Duration::from_secs(12), "{screen}");
    };
    assert!(screen.contains("closed after 6 seconds, its longest visit"), "{screen}");
    assert!(!busy.alternate_screen_on());

    // Three connections a minute from one address: the fourth is asked to wait.
    let third = Command::new("sh").arg("-c").arg(demo.ssh("-T")).output().unwrap();
    assert!(String::from_utf8_lossy(&third.stdout).contains("connect with `ssh -t`"));
    let fourth = Command::new("sh")
        .arg("-c")
        .arg(format!("{} -tt < /dev/null", demo.ssh("")))
        .output()
        .unwrap();
    assert_eq!(fourth.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&fourth.stdout).contains("too many connections from your address"),
        "{fourth:?}"
    );
}
