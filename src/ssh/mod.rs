//! `switchboard ssh` and `switchboard demo --ssh`: the inbox served over SSH by the program itself
//! (russh). For the team, each connection authenticates by public key against an
//! `authorized_keys` file naming each key's advisor (`access.rs`) and runs as that advisor on the
//! configured database. For a demo, anyone may connect and each visitor gets a demo dealership of
//! their own, within the bounds in `bounds.rs`. Either way each session channel with a PTY gets
//! its own inbox, run by the same loop as the local one (`session.rs`); a command asked for
//! without a PTY runs the CLI (`exec.rs`).
//!
//! Terminal truth comes from the client: the size from its PTY request and window changes, keys
//! from the channel's bytes (a sequence split across packets is put back together; a lone ESC is
//! a key once 10 ms pass without more). A dropped connection ends its inboxes at once, drafts saved.

pub mod access;
mod bounds;
mod connection;
mod exec;
mod session;

use crate::config::{Config, SshConfig};
use access::Access;
use anyhow::{Context, Result};
use russh::server::Server as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub struct Options {
    pub listen: SocketAddr,
    pub mode: Mode,
    /// Where the host key is kept (created 0600 on first start).
    pub host_key: PathBuf,
}

/// Who may connect, and to what.
pub enum Mode {
    /// The team's inbox on `db`: keys listed in the `access` file, each session as its advisor.
    Team { db: PathBuf, access: PathBuf },
    /// The living demo for anyone: every visitor their own demo dealership, within `bounds`.
    Demo { bounds: SshConfig },
}

/// Who may connect, once read.
enum Doors {
    Team { db: PathBuf, access: Access },
    Demo(bounds::Bounds),
}

/// What every connection shares.
struct Shared {
    doors: Doors,
    config: Config,
    /// Inboxes running now.
    sessions: bounds::Sessions,
    /// Set when the server stops: each session says so and gives its screen back.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// Serve until SIGTERM or SIGINT.
pub fn serve(options: Options, config: &Config) -> Result<()> {
    let doors = match options.mode {
        Mode::Team { db, access: path } => {
            let access = Access::read(&path)?;
            if access.is_empty() {
                anyhow::bail!(
                    "{} lists no keys, so nobody could connect: add each advisor's public key (see the README)",
                    path.display()
                );
            }
            Doors::Team { db, access }
        }
        Mode::Demo { bounds } => Doors::Demo(bounds::Bounds::new(&bounds)?),
    };
    let host_key = host_key(&options.host_key)?;
    let methods: &[russh::MethodKind] = match doors {
        Doors::Team { .. } => &[russh::MethodKind::PublicKey],
        // Anyone: OpenSSH's first try ("none") lets them in; a key offered is accepted too.
        Doors::Demo(_) => &[russh::MethodKind::None, russh::MethodKind::PublicKey],
    };
    let limit = match &doors {
        Doors::Team { .. } => None,
        Doors::Demo(b) => Some(b.sessions),
    };
    let shared = Arc::new(Shared {
        doors,
        config: config.clone(),
        sessions: bounds::Sessions::new(limit),
        stopping: tokio::sync::watch::Sender::new(false),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let local = listener.local_addr()?;
        // Scripts and tests read the bound address from this first line of standard output.
        println!("listening on ssh://{local}");
        match &shared.doors {
            Doors::Team { access, .. } => tracing::info!(keys = access.len(), "SSH inbox on {local}"),
            Doors::Demo(b) => tracing::info!(visitors = b.sessions, "SSH demo on {local}"),
        }
        let ssh_config = russh::server::Config {
            keys: vec![host_key],
            methods: russh::MethodSet::from(methods),
            auth_rejection_time: Duration::from_secs(1),
            auth_rejection_time_initial: Some(Duration::from_secs(0)),
            keepalive_interval: Some(Duration::from_secs(30)),
            nodelay: true,
            ..Default::default()
        };
        let mut server = Server { shared: shared.clone() };
        let running = server.run_on_socket(Arc::new(ssh_config), &listener);
        let stop = running.handle();
        tokio::select! {
            result = running => result.map_err(anyhow::Error::from),
            _ = shutdown_signal() => {
                // Each session says so, gives the screen back, saves its draft and (a demo
                // visitor's) removes its dealership; then the connections close.
                shared.stopping.send_replace(true);
                if tokio::time::timeout(Duration::from_secs(5), shared.sessions.all_left()).await.is_err() {
                    tracing::warn!("stopping with sessions still closing");
                }
                stop.shutdown("the server is stopping".into());
                Ok(())
            }
        }
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    // SIGHUP too: the terminal the server was started from closing stops it the same clean way.
    let (Ok(mut term), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = hangup.recv() => {}
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
    type Handler = connection::Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> connection::Connection {
        // A demo counts each address's connections; one over its rate is told so once it asks
        // for something (before that, there is no channel to tell it on).
        let turned_away = match (&self.shared.doors, peer) {
            (Doors::Demo(bounds), Some(peer)) if !bounds.admit(peer.ip()) => Some(bounds::TOO_OFTEN),
            _ => None,
        };
        connection::Connection::new(self.shared.clone(), peer, turned_away)
    }
}
