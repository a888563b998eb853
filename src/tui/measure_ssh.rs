//! The inbox measured over SSH: the real `switchboard ssh` (or `demo --ssh`) on loopback and the
//! real OpenSSH client in a pseudo-terminal, so a key's latency is the client's terminal in to
//! the client's terminal out. Then what sessions cost the server: its memory with one session
//! and with many, and its CPU and each session's bytes while nobody types.

use crate::pty::Pty;
use serde::Serialize;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server: the team's inbox on the database, or the demo for anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Team,
    Demo,
}

/// A server the benchmark started, stopped when dropped.
pub struct Server {
    child: Child,
    port: u16,
    /// The team's key (a demo visitor offers none).
    key: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start the server for `kind` on `db`, with its files in `dir`.
    pub fn start(kind: Kind, db: &Path, config: &Path, dir: &Path) -> anyhow::Result<Server> {
        let mut c = Command::new(std::env::current_exe()?);
        c.arg("--config").arg(config);
        let key = match kind {
            Kind::Team => {
                let key = dir.join("bench_key");
                let made = Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
                    .arg(&key)
                    .status()
                    .map_err(|e| anyhow::anyhow!("ssh-keygen: {e} (apt-get install openssh-client)"))?;
                anyhow::ensure!(made.success(), "ssh-keygen failed");
                let public = std::fs::read_to_string(key.with_extension("pub"))?;
                let access = dir.join("authorized_keys");
                std::fs::write(&access, format!("advisor=\"Bench Advisor\" {public}"))?;
                c.arg("--db").arg(db).arg("ssh").arg("--listen").arg("127.0.0.1:0");
                c.arg("--access").arg(access);
                Some(key)
            }
            Kind::Demo => {
                c.args(["demo", "--ssh", "127.0.0.1:0"]);
                c.env("TMPDIR", dir).env("XDG_DATA_HOME", dir);
                None
            }
        };
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("ssh-server.log"))?)
            .spawn()?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the SSH server did not start: {line:?}"))?;
        Ok(Server { child, port, key })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The OpenSSH client into this server, in a terminal of `width`×`height`.
    pub fn client(&self, width: u16, height: u16) -> anyhow::Result<Pty> {
        let mut c = Command::new("ssh");
        c.args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
            "-tt",
            "-p",
        ])
        .arg(self.port.to_string());
        match &self.key {
            Some(key) => c.arg("-i").arg(key),
            None => c.args(["-o", "PubkeyAuthentication=no"]),
        };
        c.arg("bench@127.0.0.1")
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR");
        Ok(Pty::spawn(c, width, height)?)
    }
}

/// What sessions cost the server.
#[derive(Debug, Serialize)]
pub struct Cost {
    pub kind: Kind,
    pub sessions: usize,
    /// The server's resident memory with one session open, and with `sessions` open.
    pub rss_one_kib: u64,
    pub rss_all_kib: u64,
    pub rss_per_session_kib: u64,
    /// With `sessions` open and nobody typing, over `idle_seconds`: the server's CPU (10 ms
    /// resolution: sessions' threads come and go), and the bytes one session's terminal received
    /// per second.
    pub idle_seconds: u64,
    pub idle_cpu_ms: f64,
    pub idle_bytes_per_session_per_s: f64,
}

/// Wait until `pty` shows the list (its selection marker); false if not within 10 s.
pub fn drawn(pty: &mut Pty) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        pty.settle(Duration::from_millis(40), Duration::from_secs(3), true);
        if String::from_utf8_lossy(&pty.output).contains('▶') {
            return true;
        }
    }
    false
}

/// Open `sessions` (one is `first`, already open), then measure them idle.
pub fn cost(server: &Server, first: &mut Pty, kind: Kind, sessions: usize, idle_seconds: u64) -> anyhow::Result<Cost> {
    let rss = || crate::pty::rss_kib(server.pid()).unwrap_or(0);
    first.settle(Duration::from_millis(500), Duration::from_secs(3), false);
    let rss_one = rss();
    let mut others = Vec::new();
    for _ in 1..sessions {
        let mut pty = server.client(80, 24)?;
        anyhow::ensure!(drawn(&mut pty), "a session did not draw its list");
        others.push(pty);
    }
    // Let every session's first work (loads, the demo's feed) pass before measuring idle.
    std::thread::sleep(Duration::from_secs(1));
    for pty in &mut others {
        pty.settle(Duration::from_millis(50), Duration::from_millis(100), false);
    }
    first.settle(Duration::from_millis(100), Duration::from_millis(200), false);
    let rss_all = rss();
    let cpu0 = crate::pty::cpu_time_with_ended_threads(server.pid()).unwrap_or_default();
    let before = first.output.len();
    let end = Instant::now() + Duration::from_secs(idle_seconds);
    while Instant::now() < end {
        first.settle(end - Instant::now(), end - Instant::now(), false);
    }
    let cpu1 = crate::pty::cpu_time_with_ended_threads(server.pid()).unwrap_or_default();
    let bytes = first.output.len() - before;
    for mut pty in others {
        let _ = pty.write(b"q");
        pty.wait_exit(Duration::from_secs(3));
    }
    Ok(Cost {
        kind,
        sessions,
        rss_one_kib: rss_one,
        rss_all_kib: rss_all,
        rss_per_session_kib: rss_all.saturating_sub(rss_one) / (sessions.max(2) as u64 - 1),
        idle_seconds,
        idle_cpu_ms: cpu1.saturating_sub(cpu0).as_secs_f64() * 1000.0,
        idle_bytes_per_session_per_s: bytes as f64 / idle_seconds.max(1) as f64,
    })
}
