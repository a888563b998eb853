//! `switchboard ssh`: the inbox served over SSH by the program itself (russh). Each connection
//! authenticates by public key against an `authorized_keys` file naming each key's advisor
//! (`access.rs`); each session channel with a PTY gets its own inbox, run by the same loop as the
//! local one (`session.rs`), reading the same database and seeing every write.
//!
//! Terminal truth comes from the client: the size from its PTY request and window changes, keys
//! from the channel's bytes (a sequence split across packets is put back together; a lone ESC is
//! a key once 30 ms pass without more). A session without a PTY gets one line and the channel
//! ends. A dropped connection ends its inboxes at once, drafts saved.

pub mod access;
mod session;

use crate::config::Config;
use crate::tui::input::translate;
use crate::tui::keys::Parser;
use crate::tui::screen::SharedSize;
use crate::tui::update::Action;
use access::Access;
use anyhow::{Context, Result};
use ratatui::layout::Size;
use russh::keys::PublicKey;
use russh::server::{Auth, Msg, Server as _, Session};
use russh::{Channel, ChannelId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A lone ESC is a key once this long passes without the rest of a sequence.
const LONE_ESC: Duration = Duration::from_millis(30);

pub struct Options {
    pub listen: SocketAddr,
    pub db: PathBuf,
    /// The `authorized_keys` file naming each key's advisor.
    pub access: PathBuf,
    /// Where the host key is kept (created 0600 on first start).
    pub host_key: PathBuf,
}

/// What every connection shares.
struct Shared {
    access: Access,
    db: PathBuf,
    config: Config,
    /// Inboxes running now.
    sessions: AtomicUsize,
}

/// Serve until SIGTERM or SIGINT.
pub fn serve(options: Options, config: &Config) -> Result<()> {
    let access = Access::read(&options.access)?;
    if access.is_empty() {
        anyhow::bail!(
            "{} lists no keys, so nobody could connect: add each advisor's public key (see the README)",
            options.access.display()
        );
    }
    let host_key = host_key(&options.host_key)?;
    let shared = Arc::new(Shared {
        access,
        db: options.db,
        config: config.clone(),
        sessions: AtomicUsize::new(0),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let local = listener.local_addr()?;
        // Scripts and tests read the bound address from this first line of standard output.
        println!("listening on ssh://{local}");
        tracing::info!(keys = shared.access.len(), "SSH inbox on {local}");
        let ssh_config = russh::server::Config {
            keys: vec![host_key],
            methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
            auth_rejection_time: Duration::from_secs(1),
            auth_rejection_time_initial: Some(Duration::from_secs(0)),
            keepalive_interval: Some(Duration::from_secs(30)),
            nodelay: true,
            ..Default::default()
        };
        let mut server = Server { shared };
        let running = server.run_on_socket(Arc::new(ssh_config), &listener);
        let stop = running.handle();
        tokio::select! {
            result = running => result.map_err(anyhow::Error::from),
            _ = shutdown_signal() => {
                stop.shutdown("the server is stopping".into());
                Ok(())
            }
        }
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// The server's host key: read from `path`, or made there (0600) on the first start.
fn host_key(path: &Path) -> Result<russh::keys::PrivateKey> {
    use russh::keys::ssh_key::{LineEnding, PrivateKey, private::Ed25519Keypair};
    if path.exists() {
        return PrivateKey::read_openssh_file(path)
            .map_err(|e| anyhow::anyhow!("cannot read the SSH host key {}: {e}", path.display()));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness for a host key: {e}"))?;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the host key: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the SSH host key {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    tracing::info!("made the SSH host key {}", path.display());
    Ok(key)
}

struct Server {
    shared: Arc<Shared>,
}

impl russh::server::Server for Server {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        Connection {
            shared: self.shared.clone(),
            peer,
            advisor: None,
            channels: HashMap::new(),
        }
    }
}

/// One channel's terminal and, once its shell started, its inbox.
struct Terminal {
    /// Writes wait for the client's window: a client that stops reading holds up its own
    /// session's frames (which are then dropped, `session::BACKLOG_LIMIT`), never the server's memory.
    out: Option<russh::ChannelWriteHalf<Msg>>,
    size: SharedSize,
    pty: bool,
    color: bool,
    input: Arc<Mutex<Input>>,
}

#[derive(Default)]
struct Input {
    parser: Parser,
    running: Option<session::Running>,
    /// Bumped at every read, so a pending lone-ESC timer knows whether more bytes came.
    reads: u64,
}

impl Input {
    fn send(&self, keys: Vec<crossterm::event::KeyEvent>) {
        let Some(running) = &self.running else { return };
        for key in keys {
            let keymap = running.keymap.clone();
            let alt: crate::tui::input::AltBound = Box::new(move |k| keymap.binds(k));
            for action in translate(key, &alt) {
                let _ = running.actions.send(action);
            }
        }
    }

    fn hang_up(&self, why: &str) {
        if let Some(running) = &self.running {
            let _ = running.actions.send(Action::Hangup(why.into()));
        }
    }
}

/// One SSH connection: who it is, and its channels.
struct Connection {
    shared: Arc<Shared>,
    peer: Option<SocketAddr>,
    advisor: Option<crate::team::Advisor>,
    channels: HashMap<ChannelId, Terminal>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The connection is gone: every inbox on it ends now, its draft saved.
        for terminal in self.channels.values() {
            if let Ok(input) = terminal.input.lock() {
                input.hang_up("the SSH connection closed");
            }
        }
    }
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_publickey_offered(&mut self, _user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        Ok(match self.shared.access.advisor(key) {
            Some(_) => Auth::Accept,
            None => Auth::reject(),
        })
    }

    async fn auth_publickey(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        match self.shared.access.advisor(key) {
            Some(advisor) => {
                tracing::info!(peer = ?self.peer, advisor = %advisor.name, "SSH login");
                self.advisor = Some(advisor.clone());
                Ok(Auth::Accept)
            }
            None => {
                tracing::warn!(peer = ?self.peer, user = %crate::sanitize::line(user), "SSH key refused: not in the access file");
                Ok(Auth::reject())
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let id = channel.id();
        let (mut read, write) = channel.split();
        // Input arrives through `data` below; the channel's own copy is read and let go, so its
        // queue never fills and holds up the connection.
        tokio::spawn(async move { while read.wait().await.is_some() {} });
        self.channels.insert(
            id,
            Terminal {
                out: Some(write),
                size: Arc::new(Mutex::new(Size::new(80, 24))),
                pty: false,
                color: true,
                input: Arc::new(Mutex::new(Input::default())),
            },
        );
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.get_mut(&channel) {
            t.pty = true;
            *t.size.lock().unwrap_or_else(|e| e.into_inner()) = clamp_size(cols, rows);
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "NO_COLOR"
            && let Some(t) = self.channels.get_mut(&channel)
        {
            t.color = false;
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        let Some(t) = self.channels.get_mut(&channel) else {
            return Ok(());
        };
        if !t.pty {
            session.channel_success(channel)?;
            let line = "Switchboard is an inbox for a terminal: connect with `ssh -t` (a PTY) to use it.\r\n";
            session.data(channel, line.as_bytes().to_vec())?;
            session.exit_status_request(channel, 1)?;
            session.eof(channel)?;
            session.close(channel)?;
            return Ok(());
        }
        let (Some(advisor), Some(out)) = (self.advisor.clone(), t.out.take()) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let backlog = Arc::new(session::Backlog::default());
        let shared = self.shared.clone();
        let who = advisor.name.clone();
        let running = tokio::task::spawn_blocking({
            let (size, color) = (t.size.clone(), t.color);
            let shared = shared.clone();
            let backlog = backlog.clone();
            move || {
                session::start(
                    shared.db.clone(),
                    shared.config.clone(),
                    advisor,
                    color,
                    size,
                    out_tx,
                    backlog,
                )
            }
        })
        .await??;
        let repaint = running.actions.clone();
        let now = shared.sessions.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(advisor = %who, sessions = now, "SSH session started");
        t.input.lock().unwrap_or_else(|e| e.into_inner()).running = Some(running);
        session.channel_success(channel)?;
        // The inbox's bytes go out in order; when it ends (its writer dropped), the channel closes.
        tokio::spawn(async move {
            while let Some(bytes) = out_rx.recv().await {
                let len = bytes.len();
                if out.data_bytes(bytes).await.is_err() {
                    break;
                }
                let left = backlog.bytes.fetch_sub(len, Ordering::Relaxed) - len;
                // Caught up after dropping frames: the whole screen again, once.
                if left == 0 && backlog.dropped.swap(false, Ordering::Relaxed) {
                    let _ = repaint.send(Action::Repaint);
                }
            }
            let left = shared.sessions.fetch_sub(1, Ordering::Relaxed) - 1;
            tracing::info!(
                advisor = %who,
                sessions = left,
                frames_dropped = backlog.frames_dropped.load(Ordering::Relaxed),
                most_queued = backlog.most.load(Ordering::Relaxed),
                bytes = backlog.produced.load(Ordering::Relaxed),
                "SSH session ended"
            );
            let _ = out.exit_status(0).await;
            let _ = out.eof().await;
            let _ = out.close().await;
        });
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let line = "Switchboard serves the inbox here, not commands: connect with `ssh -t` and no command.\r\n";
        session.data(channel, line.as_bytes().to_vec())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)?;
        Ok(())
    }

    async fn data(&mut self, channel: ChannelId, data: &[u8], _session: &mut Session) -> Result<(), Self::Error> {
        let Some(t) = self.channels.get(&channel) else {
            return Ok(());
        };
        let input = t.input.clone();
        let (keys, waiting, reads) = {
            let mut i = input.lock().unwrap_or_else(|e| e.into_inner());
            i.reads += 1;
            // More may be on its way: a trailing ESC waits for the rest of its sequence.
            let keys = i.parser.feed(data, true);
            (keys, i.parser.has_pending(), i.reads)
        };
        input.lock().unwrap_or_else(|e| e.into_inner()).send(keys);
        if waiting {
            tokio::spawn(async move {
                tokio::time::sleep(LONE_ESC).await;
                let mut i = input.lock().unwrap_or_else(|e| e.into_inner());
                if i.reads == reads {
                    let keys = i.parser.feed(&[], false);
                    i.send(keys);
                }
            });
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.get(&channel) {
            *t.size.lock().unwrap_or_else(|e| e.into_inner()) = clamp_size(cols, rows);
            if let Some(running) = &t.input.lock().unwrap_or_else(|e| e.into_inner()).running {
                let _ = running.actions.send(Action::Resize);
            }
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.get(&channel) {
            t.input
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .hang_up("the SSH client sent end of input");
        }
        Ok(())
    }

    async fn channel_close(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.remove(&channel) {
            t.input
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .hang_up("the SSH channel closed");
        }
        Ok(())
    }
}

/// A size the screen can draw (a client may report 0×0 or absurd sizes).
fn clamp_size(cols: u32, rows: u32) -> Size {
    Size::new(cols.clamp(1, 1000) as u16, rows.clamp(1, 1000) as u16)
}
