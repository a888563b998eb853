//! A terminal that goes away ends the inbox: the real binary in a pseudo-terminal whose window is
//! closed, and in a tmux session that is killed. Within two seconds the process is gone, with the
//! demo's temporary files and its ports. And an inbox left alone writes only what its clock needs.

mod common;

use common::tmux::Tmux;
use std::process::Command;
use std::time::{Duration, Instant};
use switchboard::pty::Pty;

fn demo_files(tmp: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The receiver's port from the status bar ("receiving on 127.0.0.1:PORT").
fn receiver_port(screen: &str) -> Option<u16> {
    let at = screen.find("receiving on 127.0.0.1:")? + "receiving on 127.0.0.1:".len();
    screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn closing_the_terminal_window_ends_the_demo_and_removes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    c.args(["demo"])
        .env("TMPDIR", &tmp)
        .env("XDG_STATE_HOME", dir.path())
        .env("TERM", "xterm-256color")
        .env_remove("SWITCHBOARD_DB");
    // Wide enough that the status bar keeps the receiver's address.
    let mut pty = Pty::spawn(c, 160, 30).unwrap();
    let started = Instant::now();
    let port = loop {
        pty.settle(Duration::from_millis(100), Duration::from_secs(1), false);
        if let Some(p) = receiver_port(&String::from_utf8_lossy(&pty.output)) {
            break p;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no receiver shown");
    };
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    assert_eq!(demo_files(&tmp).len(), 1, "the demo's database directory");

    pty.close();
    let closed = Instant::now();
    let status = pty.wait_exit(Duration::from_secs(2));
    assert!(status.is_some(), "still running 2 s after its terminal closed");
    assert!(closed.elapsed() < Duration::from_secs(2));
    assert!(demo_files(&tmp).is_empty(), "left behind: {:?}", demo_files(&tmp));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the receiver still listens"
    );
}

#[test]
fn killing_the_tmux_session_ends_the_demo() {
    let t = Tmux::new("hangup");
    t.start_demo(80, 24, "", &[]);
    t.wait_for("▶");
    let files = demo_files(&t.tmp());
    let pid: u32 = files
        .iter()
        .find_map(|f| f.strip_prefix("switchboard-demo-")?.parse().ok())
        .expect("the demo's directory names its process");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    t.kill_session();
    let closed = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie has no command line left; anything else is still running.
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        if !alive {
            break;
        }
        assert!(
            closed.elapsed() < Duration::from_secs(2),
            "still running after its session was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        demo_files(&t.tmp()).is_empty(),
        "left behind: {:?}",
        demo_files(&t.tmp())
    );
}

/// Rows that a stretch of terminal output moves the cursor to (`ESC [ row ; col H`).
fn rows_written(bytes: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows = vec![];
    for part in text.split("\x1b[").skip(1) {
        let Some(end) = part.find('H') else { continue };
        if let Some((row, col)) = part[..end].split_once(';')
            && let (Ok(r), Ok(_)) = (row.parse(), col.parse::<u16>())
        {
            rows.push(r);
        }
    }
    rows
}

/// The inbox on the demo dealership in an 80×24 pseudo-terminal (and the directories it uses).
fn inbox_on_the_demo() -> ((tempfile::TempDir, tempfile::TempDir), Pty) {
    let dir = tempfile::tempdir().unwrap();
    let (d, db) = common::demo_db();
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    c.arg("--db")
        .arg(&db)
        .env("XDG_STATE_HOME", dir.path())
        .env("TERM", "xterm-256color");
    ((dir, d), Pty::spawn(c, 80, 24).unwrap())
}

#[test]
fn an_idle_inbox_writes_only_its_clock() {
    let (_dirs, mut pty) = inbox_on_the_demo();
    pty.settle(Duration::from_millis(500), Duration::from_secs(10), true);
    let before = pty.output.len();
    let cpu0 = pty.cpu_time().unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        pty.settle(end - Instant::now(), end - Instant::now(), false);
    }
    let cpu = pty.cpu_time().unwrap() - cpu0;
    let idle = &pty.output[before..];
    // The events were received moments ago: "last event 3s ago" turns every second, in the
    // status bar (row 23 of 24), and nothing else is written.
    let rows = rows_written(idle);
    assert!(rows.iter().all(|r| *r == 23), "rows written while idle: {rows:?}");
    assert!(idle.len() <= 6 * 80, "{} bytes in 5 s idle", idle.len());
    // A debug build; the benchmark measures the release build against 10 ms a minute.
    assert!(cpu < Duration::from_millis(100), "{cpu:?} of CPU in 5 s idle");
    pty.write(b"q").unwrap();
    assert!(pty.wait_exit(Duration::from_secs(3)).is_some());
}

#[test]
fn a_resized_window_is_redrawn_at_once() {
    let (_dirs, mut pty) = inbox_on_the_demo();
    pty.settle(Duration::from_millis(300), Duration::from_secs(10), true);
    pty.resize(120, 40).unwrap();
    let t = Instant::now();
    let s = pty.settle(Duration::from_millis(200), Duration::from_secs(3), true);
    let took = s.last_byte.expect("a redraw") - t;
    assert!(took < Duration::from_millis(500), "redrawn after {took:?}");
    let after = String::from_utf8_lossy(&pty.output[pty.output.len() - s.bytes..]).into_owned();
    assert!(
        rows_written(after.as_bytes()).iter().any(|r| *r > 24),
        "nothing drawn below row 24"
    );
    pty.write(b"q").unwrap();
    assert!(pty.wait_exit(Duration::from_secs(3)).is_some());
}
