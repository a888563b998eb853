//! Measuring the inbox the way a person meets it: the real binary in a pseudo-terminal. A key's
//! latency is the time from writing its bytes until the program's output has settled (the last
//! byte of the answer; "settled" means nothing more for `QUIET`). Used by `benches/terminal.sh`.
//! `SWITCHBOARD_BENCH_TRACE=1` prints every press and what it drew to stderr, to explain an outlier.

use super::measure::{Timing, timing};
use crate::pty::Pty;
use crate::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Output is settled when nothing more arrives for this long (not counted in a latency).
const QUIET: Duration = Duration::from_millis(40);
/// A key whose answer takes longer than this counts as unanswered.
const LIMIT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize)]
pub struct Idle {
    pub seconds: u64,
    /// Bytes the inbox wrote while nothing happened.
    pub bytes: usize,
    pub cpu_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub width: u16,
    pub height: u16,
    pub messages: i64,
    pub conversations: i64,
    /// From exec until the list is drawn (warm page cache: the first start is not counted).
    pub first_frame: Timing,
    pub keys: BTreeMap<&'static str, Timing>,
    /// Presses that drew nothing within the limit.
    pub unanswered: usize,
    pub idle: Option<Idle>,
    /// Over SSH: which server, and what its sessions cost.
    pub ssh: Option<super::measure_ssh::Cost>,
}

/// Where the inbox under test runs: in the pseudo-terminal itself, or behind an SSH server with
/// the OpenSSH client in the pseudo-terminal.
pub struct Over {
    pub kind: super::measure_ssh::Kind,
    /// Sessions open at once when measuring what they cost.
    pub sessions: usize,
}

struct Session {
    pty: Pty,
    unanswered: usize,
}

impl Session {
    /// Type `bytes`; milliseconds until the output settled.
    fn press(&mut self, bytes: &[u8]) -> Option<f64> {
        let t = Instant::now();
        self.pty.write(bytes).ok()?;
        let settled = self.pty.settle(QUIET, LIMIT, true);
        match settled.last_byte {
            Some(last) => {
                let ms = (last - t).as_secs_f64() * 1000.0;
                if std::env::var_os("SWITCHBOARD_BENCH_TRACE").is_some() {
                    let tail = self.pty.output.len().saturating_sub(settled.bytes);
                    eprintln!(
                        "slow {:?}: {ms:.1} ms, {:?}",
                        String::from_utf8_lossy(bytes),
                        String::from_utf8_lossy(&self.pty.output[tail..])
                    );
                }
                Some(ms)
            }
            None => {
                if std::env::var_os("SWITCHBOARD_BENCH_TRACE").is_some() {
                    eprintln!("unanswered {:?}", String::from_utf8_lossy(bytes));
                }
                self.unanswered += 1;
                None
            }
        }
    }

    /// Type and let it settle, not timed.
    fn key(&mut self, bytes: &[u8]) {
        let _ = self.pty.write(bytes);
        let st = self.pty.settle(QUIET, LIMIT, false);
        if std::env::var_os("SWITCHBOARD_BENCH_TRACE").is_some() {
            let tail = self.pty.output.len().saturating_sub(st.bytes);
            eprintln!(
                "key {:?}: {:?}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&self.pty.output[tail..])
            );
        }
    }
}

fn local_inbox(db: &Path, config: &Path, state: &Path, width: u16, height: u16) -> anyhow::Result<Pty> {
    let mut c = Command::new(std::env::current_exe()?);
    c.arg("--db")
        .arg(db)
        .arg("--config")
        .arg(config)
        .env("TERM", "xterm-256color")
        .env("XDG_STATE_HOME", state)
        .env_remove("NO_COLOR");
    Ok(Pty::spawn(c, width, height)?)
}

pub fn run(
    db: &Path,
    width: u16,
    height: u16,
    presses: usize,
    idle_seconds: u64,
    over: Option<Over>,
) -> anyhow::Result<Report> {
    let dir = tempfile_dir()?;
    // A demo visitor's inbox holds the demo dealership, whatever `db` is.
    let counted = match &over {
        Some(o) if o.kind == super::measure_ssh::Kind::Demo => crate::demo::database_in(&dir.join("counted"))?,
        _ => db.to_path_buf(),
    };
    let (messages, conversations): (i64, i64) = Store::open(&counted)?.connection().query_row(
        "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM conversations)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let config = dir.join("config.toml");
    // One address opens every session here: the demo's per-address rate would turn it away.
    std::fs::write(
        &config,
        "[inbox]\nbell = false\n[ssh]\ndemo_connections_per_minute = 10000\n",
    )?;
    let server = match &over {
        Some(o) => Some(super::measure_ssh::Server::start(o.kind, db, &config, &dir)?),
        None => None,
    };
    // The inbox under test: in the pseudo-terminal itself, or the OpenSSH client into the server.
    let inbox = |db: &Path, config: &Path, state: &Path, width: u16, height: u16| match &server {
        Some(server) => server.client(width, height),
        None => local_inbox(db, config, state, width, height),
    };

    // First frame: exec until the list is on screen, over several starts (the first warms up).
    let mut firsts = vec![];
    for i in 0..6 {
        let started = Instant::now();
        let mut pty = inbox(db, &config, &dir, width, height)?;
        let mut drawn = None;
        while started.elapsed() < LIMIT {
            let s = pty.settle(QUIET, LIMIT, true);
            let text = String::from_utf8_lossy(&pty.output);
            // The selection marker: the list's rows are on screen.
            if text.contains('▶') {
                drawn = s.last_byte;
                break;
            }
        }
        if let (Some(t), true) = (drawn, i > 0) {
            firsts.push((t - started).as_secs_f64() * 1000.0);
        }
        let _ = pty.write(b"q");
        pty.wait_exit(Duration::from_secs(3));
    }

    let mut s = Session {
        pty: inbox(db, &config, &dir, width, height)?,
        unanswered: 0,
    };
    s.pty.settle(Duration::from_millis(300), LIMIT, true);
    let mut keys: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut record = |name: &'static str, t: Option<f64>| {
        if let Some(t) = t {
            keys.entry(name).or_default().push(t);
        }
    };
    s.key(b"j");
    for i in 0..presses {
        record("move", s.press(if i % 2 == 0 { b"j" } else { b"k" }));
    }
    for i in 0..presses {
        record("page", s.press(if i % 2 == 0 { b"\x1b[6~" } else { b"\x1b[5~" }));
    }
    s.key(b"g");
    for _ in 0..presses {
        record("open_thread", s.press(b"\r"));
        record("back", s.press(b"\x1b"));
    }
    for _ in 0..presses {
        record("next_filter", s.press(b"f"));
    }
    s.key(b"\x1b");
    for _ in 0..presses {
        s.key(b"/");
        s.key(b"brakes");
        record("search", s.press(b"\r"));
        s.key(b"\x1b");
    }
    // The newest myKaarma conversation (in generated data, the hot one): repliable, and long.
    let mykaarma = crate::tui::state::FILTERS
        .iter()
        .position(|f| *f == "mykaarma")
        .unwrap_or(0);
    for _ in 0..mykaarma {
        s.key(b"f");
    }
    s.key(b"g");
    s.key(b"\r");
    for _ in 0..presses {
        // Up a page of the thread, and down again to be sure the next one moves too.
        record("thread_page_up", s.press(b"\x1b[5~"));
        s.key(b"\x1b[6~");
    }
    for _ in 0..presses {
        record("open_reply", s.press(b"r"));
        s.key(b"\x1b");
    }
    s.key(b"\x1b");
    // The inbox's own CPU: over SSH, the server's (the client's is the OpenSSH client's).
    let cpu = |pty: &crate::pty::Pty| match &server {
        Some(server) => crate::pty::cpu_time_with_ended_threads(server.pid()),
        None => pty.cpu_time(),
    };
    let idle = (idle_seconds > 0).then(|| {
        s.pty.settle(Duration::from_millis(500), LIMIT, false);
        let cpu0 = cpu(&s.pty).unwrap_or_default();
        let before = s.pty.output.len();
        let end = Instant::now() + Duration::from_secs(idle_seconds);
        while Instant::now() < end {
            s.pty.settle(end - Instant::now(), end - Instant::now(), false);
        }
        let cpu1 = cpu(&s.pty).unwrap_or_default();
        Idle {
            seconds: idle_seconds,
            bytes: s.pty.output.len() - before,
            cpu_ms: (cpu1.saturating_sub(cpu0)).as_secs_f64() * 1000.0,
        }
    });
    // Then, over SSH, what many sessions at once cost the server.
    let ssh = match (&server, &over) {
        (Some(server), Some(o)) => Some(super::measure_ssh::cost(
            server,
            &mut s.pty,
            o.kind,
            o.sessions,
            idle_seconds.max(2),
        )?),
        _ => None,
    };
    let _ = s.pty.write(b"q");
    s.pty.wait_exit(Duration::from_secs(3));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Report {
        width,
        height,
        messages,
        conversations,
        first_frame: timing(firsts),
        keys: keys.into_iter().map(|(k, v)| (k, timing(v))).collect(),
        unanswered: s.unanswered,
        idle,
        ssh,
    })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-{}", crate::random::hex(6)?));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
