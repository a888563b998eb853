//! `switchboard demo`: the demo dealership, alive. A temporary database holds the dealership's day;
//! the receiver, a sandbox standing in for the three vendors' send APIs, and a feed of new signed vendor
//! events all run in this process on loopback, with keys made up for this run. Replies typed in the
//! inbox go to the sandbox, whose callbacks and webhooks come back through the receiver.

pub mod feed;
pub mod today;

use crate::config::{Config, HighLevelKeys, MyKaarmaKeys, PartooKeys, Secret};
use crate::import;
use crate::server_thread::ServerThread;
use crate::store::Store;
use anyhow::{Context, Result};
use base64::Engine;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The demo dealership's events, built into the binary so `demo` works from anywhere.
pub const DEMO_EVENTS: &[(&str, &[u8])] = &[
    ("mykaarma.ndjson", include_bytes!("../../assets/demo/mykaarma.ndjson")),
    ("highlevel.ndjson", include_bytes!("../../assets/demo/highlevel.ndjson")),
    ("partoo.ndjson", include_bytes!("../../assets/demo/partoo.ndjson")),
];

/// The `userId` of the demo dealership's advisor in its HighLevel events.
const HIGHLEVEL_ADVISOR: &str = "xsmF1xxhmC92ZpL1lj7aLa";
/// The dealer associate whose myKaarma threads the demo's messages carry.
const MYKAARMA_ADVISOR: &str = "GkWOVg5AMZGTHjg04gptRes7vmhCLn3HGkWOVg5AMZGTHjg04gptRes7vmhCLn3H";

/// A fresh temporary database holding the demo dealership, its day ending minutes ago.
pub fn database() -> Result<PathBuf> {
    database_in(&std::env::temp_dir().join(format!("switchboard-demo-{}", std::process::id())))
}

/// A fresh database in `dir` (emptied first) holding the demo dealership.
pub fn database_in(dir: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    let path = dir.join("switchboard.db");
    let mut store = Store::open(&path)?;
    let now = chrono::Utc::now().timestamp_millis();
    let delta = today::shift_for(now);
    for (name, bytes) in DEMO_EVENTS {
        let mut bodies = Vec::new();
        import::read_events(&today::shifted(bytes, delta)[..], &mut |b| {
            bodies.push(crate::store::Incoming::new(b, None));
            Ok(())
        })
        .with_context(|| format!("demo events {name}"))?;
        for chunk in bodies.chunks(import::BATCH) {
            store.ingest("demo", chunk)?;
        }
    }
    let opening: Vec<_> = feed::opening(now, 9 * 60_000)
        .into_iter()
        .map(|event| crate::store::Incoming::new(serde_json::to_vec(&event).unwrap_or_default(), None))
        .collect();
    store.ingest("demo", &opening)?;
    Ok(path)
}

fn signing_key() -> Result<ed25519_dalek::SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

fn free_loopback_port() -> Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// Run the living demo's inbox on `db` until the user quits.
pub fn run(db: &Path, config: Config, with_feed: bool) -> Result<()> {
    let dealership = Dealership::start(db, config, with_feed, false)?;
    crate::tui::app::run(
        crate::tui::app::Options {
            db: db.to_path_buf(),
            listen: Some(dealership.receiver),
            insecure_accept_unsigned: false,
        },
        &dealership.config,
    )
}

/// Everything around one demo database: its sandbox, its feed and (unless the inbox runs it) its
/// receiver, all on loopback with keys made up for it. Dropping it stops them.
pub struct Dealership {
    /// The config an inbox on this demo runs with: its replies go to the sandbox.
    pub config: Config,
    /// Where the demo's receiver listens (or is to listen, when the inbox runs it).
    pub receiver: SocketAddr,
    receiver_thread: Option<ServerThread>,
    sandbox: Option<ServerThread>,
    feed: Option<std::thread::JoinHandle<()>>,
    /// Dropped to stop the feed.
    stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Dealership {
    /// Start the demo around `db`. `run_receiver`: start its receiver here too (an inbox that
    /// runs its own, as the local demo's does, gets `receiver` to listen on).
    pub fn start(db: &Path, mut config: Config, with_feed: bool, run_receiver: bool) -> Result<Dealership> {
        let username = format!("demo-{}", crate::random::hex(6)?);
        let password = crate::random::hex(16)?;
        let highlevel = signing_key()?;
        let partoo = signing_key()?;
        let b64 = |k: &ed25519_dalek::SigningKey| {
            base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_bytes())
        };

        // The receiver checks what the feed and the sandbox sign; myKaarma signs with the API username.
        let mut receiver_addr = free_loopback_port()?;
        config.receiver.mykaarma = Some(MyKaarmaKeys {
            signature_secret: Secret::new(username.clone()),
            authorization_token: None,
        });
        config.receiver.highlevel = Some(HighLevelKeys {
            ed25519_public_key: Some(b64(&highlevel)),
            ..HighLevelKeys::default()
        });
        config.receiver.partoo = Some(PartooKeys {
            public_keys: vec![b64(&partoo)],
        });
        let receiver_thread = if run_receiver {
            let (thread, addr) = start_receiver(db, &config)?;
            receiver_addr = addr;
            Some(thread)
        } else {
            None
        };
        let receiver_url = format!("http://{receiver_addr}");
        config.receiver.public_url = Some(receiver_url.clone());
        cast(&mut config);

        // Its reply templates, beside its database.
        if config.templates_path().is_none_or(|p| !p.exists()) {
            let path = db.with_file_name("templates.toml");
            std::fs::write(&path, include_str!("../../assets/demo/templates.toml"))?;
            config.inbox.templates = Some(path);
        }
        config.inbox.dealership.get_or_insert_with(|| "Riverside Auto".into());

        let highlevel_token = crate::random::hex(16)?;
        let partoo_api_key = crate::random::hex(16)?;
        let known = Store::open_existing(db)?.vendor_conversations()?;
        let (sandbox, sandbox_addr) = start_sandbox(crate::sandbox::Options {
            listen: "127.0.0.1:0".parse().expect("an address"),
            username: username.clone(),
            password: password.clone(),
            webhook_url: Some(format!("{receiver_url}/webhooks/mykaarma")),
            webhook_secret: None,
            webhook_token: None,
            step: Duration::from_millis(1500),
            slow: Duration::from_secs(30),
            redirect_to: "http://127.0.0.2:9/elsewhere".into(),
            highlevel_token: highlevel_token.clone(),
            partoo_api_key: partoo_api_key.clone(),
            highlevel_key: highlevel.clone(),
            partoo_key: partoo.clone(),
            highlevel_conversations: known.highlevel,
            partoo_conversations: known.partoo,
        })?;
        // Replies in every conversation go to the sandbox, standing in for all three vendors.
        let sandbox_url = format!("http://{sandbox_addr}");
        config.mykaarma.base_url = sandbox_url.clone();
        config.mykaarma.username = Some(Secret::new(username.clone()));
        config.mykaarma.password = Some(Secret::new(password));
        config.highlevel.base_url = sandbox_url.clone();
        config.highlevel.token = Some(Secret::new(highlevel_token));
        config.partoo.base_url = sandbox_url;
        config.partoo.api_key = Some(Secret::new(partoo_api_key));

        let (stop, stopped) = std::sync::mpsc::channel();
        let feed = with_feed.then(|| {
            let keys = feed::Keys {
                mykaarma_secret: username,
                highlevel,
                partoo,
            };
            std::thread::spawn(move || feed::run(receiver_url, keys, Duration::from_secs(6), stopped))
        });
        Ok(Dealership {
            config,
            receiver: receiver_addr,
            receiver_thread,
            sandbox: Some(sandbox),
            feed,
            stop: Some(stop),
        })
    }

    /// The demo dealership's team, as an inbox on it would see it with `config`.
    pub fn team(config: &Config) -> crate::team::Team {
        let mut config = config.clone();
        cast(&mut config);
        config.team()
    }
}

/// The demo dealership's team: you are Alex Rivera, whose myKaarma threads are yours; Nina
/// answers HighLevel. (A [me] in the user's own config wins.)
fn cast(config: &mut Config) {
    if config.me.name.is_none() {
        config.me = crate::config::MeConfig {
            name: Some("Alex Rivera".into()),
            mykaarma: Some(MYKAARMA_ADVISOR.into()),
            highlevel: None,
            partoo: Some("demo-alex".into()),
        };
    }
    config
        .team
        .entry("Nina Patel".into())
        .or_insert_with(|| crate::team::VendorIds {
            highlevel: Some(HIGHLEVEL_ADVISOR.into()),
            partoo: Some("demo-nina".into()),
            ..Default::default()
        });
}

impl Drop for Dealership {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(f) = self.feed.take() {
            let _ = f.join();
        }
        if let Some(s) = self.sandbox.take() {
            s.stop();
        }
        if let Some(r) = self.receiver_thread.take() {
            r.stop();
        }
    }
}

/// The demo's receiver on its own thread, on a free loopback port.
fn start_receiver(db: &Path, config: &Config) -> Result<(ServerThread, SocketAddr)> {
    let options = crate::receiver::Options {
        db: db.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("an address"),
        insecure_accept_unsigned: false,
        bench_noop: false,
        bench_hold_folds: false,
        warn_on_stderr: false,
    };
    let keys = config.receiver.clone();
    let (thread, bound) = crate::server_thread::start("receiver", move |shutdown, bound| {
        crate::receiver::serve_until(options, &keys, shutdown, bound)
    })?;
    match bound {
        Ok(addr) => Ok((thread, addr)),
        Err(why) => {
            thread.stop();
            anyhow::bail!("the demo's receiver did not start: {why}")
        }
    }
}

/// The sandbox on its own thread, and the address it listens on.
fn start_sandbox(options: crate::sandbox::Options) -> Result<(ServerThread, SocketAddr)> {
    let (thread, bound) = crate::server_thread::start("sandbox", move |shutdown, bound| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(crate::sandbox::serve(options, shutdown, bound))
    })?;
    match bound {
        Ok(addr) => Ok((thread, addr)),
        Err(why) => {
            thread.stop();
            anyhow::bail!("the demo's sandbox did not start: {why}")
        }
    }
}
