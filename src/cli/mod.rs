//! The command line: `import`, `conversations`, `thread`, `failures`, `events`, `rebuild`, `demo`,
//! `send`, `outbox`, `sandbox`.

mod reply;
mod show;

pub use crate::demo::DEMO_EVENTS;
mod table;
mod team;

use crate::import;
use crate::model::Provider;
use crate::store::{ConversationFilter, Store};
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "switchboard",
    version,
    about = "A terminal inbox for dealerships' customer conversations"
)]
pub struct Cli {
    /// The database file [default: $XDG_DATA_HOME/switchboard/switchboard.db]
    #[arg(long, global = true, env = "SWITCHBOARD_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The config file [default: $SWITCHBOARD_CONFIG, else $XDG_CONFIG_HOME/switchboard/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// With the inbox: also receive vendor webhooks on this address, in this process
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,

    /// With --listen: accept unsigned deliveries from vendors without a key (loopback only, demos)
    #[arg(long)]
    pub insecure_accept_unsigned: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Receive vendor webhooks: store every event before acknowledging it
    Serve(ServeArgs),
    /// Store vendor events from files (one JSON event, a JSON array, or NDJSON); `-` reads stdin
    Import(ImportArgs),
    /// List conversations, newest activity first
    Conversations(ConversationsArgs),
    /// Show one conversation's messages, oldest first
    Thread(ThreadArgs),
    /// Failed (or unknown) outbound messages, newest first
    Failures(FailuresArgs),
    /// Stored raw events, newest first
    Events(EventsArgs),
    /// Assign a conversation (here, and at the vendor where its API allows)
    Assign(team::AssignArgs),
    /// Mark a conversation done: out of the lists until the customer writes again
    Done(team::ConversationArgs),
    /// Hide a conversation until a time (or until the customer writes again)
    Snooze(team::SnoozeArgs),
    /// Open a done or snoozed conversation again
    Reopen(team::ConversationArgs),
    /// Add an internal note to a conversation (never sent to the customer)
    Note(team::NoteArgs),
    /// Fold the whole event log again into conversations and messages
    Rebuild(JsonFlag),
    /// Reply through the conversation's vendor (myKaarma, HighLevel or Partoo); exit 0 accepted, 1 refused or failed, 3 unknown
    Send(reply::SendArgs),
    /// Replies sent from this database, newest first, with what became of each
    Outbox(reply::OutboxArgs),
    /// Serve the inbox over SSH: one inbox per session, each as the advisor its key belongs to
    Ssh(SshArgs),
    /// A consistent copy of the database to a new file, taken while the receiver and inboxes write
    Backup(BackupArgs),
    /// Run a local stand-in for the vendors' send APIs (myKaarma, HighLevel, Partoo), for tests and demos
    Sandbox(reply::SandboxArgs),
    /// A living demo: the demo dealership in a temporary database, with the receiver, a sandbox
    /// for replies and a gentle feed of new events, all in this process on loopback
    Demo(DemoArgs),
    /// Write deterministic benchmark events as NDJSON
    #[command(hide = true)]
    Gen(GenArgs),
    /// POST signed deliveries at a constant rate and report latency (JSON)
    #[command(hide = true)]
    BenchLoad {
        url: String,
        /// `signature<TAB>body` lines (`gen --signed-mykaarma`)
        file: PathBuf,
        #[arg(long, default_value_t = 5000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Also time each delivery from its acknowledgement until visible in this database
        #[arg(long)]
        watch_db: Option<PathBuf>,
    },
    /// Time the inbox headless on a database (JSON)
    #[command(hide = true)]
    BenchInbox {
        #[arg(long, default_value_t = 80)]
        width: u16,
        #[arg(long, default_value_t = 24)]
        height: u16,
        #[arg(long, default_value_t = 400)]
        repeat: usize,
    },
    /// Time the inbox in a pseudo-terminal, key bytes in to settled output (JSON)
    #[command(hide = true)]
    BenchTerminal {
        #[arg(long, default_value_t = 80)]
        width: u16,
        #[arg(long, default_value_t = 24)]
        height: u16,
        /// Presses of each key
        #[arg(long, default_value_t = 100)]
        presses: usize,
        /// Then measure this long with nothing happening (0: skip)
        #[arg(long, default_value_t = 0)]
        idle_seconds: u64,
        /// Through `switchboard ssh` on the database (team) or `demo --ssh` (demo), with the
        /// OpenSSH client in the pseudo-terminal
        #[arg(long, value_enum)]
        ssh: Option<crate::tui::measure_ssh::Kind>,
        /// Over SSH: sessions open at once when measuring what they cost
        #[arg(long, default_value_t = 32)]
        ssh_sessions: usize,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: receiver.listen from the config, else 127.0.0.1:8787]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Accept deliveries from vendors with no key configured. Loopback addresses only: for demos.
    #[arg(long)]
    pub insecure_accept_unsigned: bool,
    /// Add POST /noop answering 200 (a benchmark baseline on the same stack)
    #[arg(long, hide = true)]
    pub bench_noop: bool,
    /// Fold nothing until stopped, then everything appended (a benchmark's bound: the append path alone)
    #[arg(long, hide = true)]
    pub bench_hold_folds: bool,
}

#[derive(Args, Debug)]
pub struct SshArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2222")]
    pub listen: std::net::SocketAddr,
    /// The authorized_keys file naming each key's advisor [default: authorized_keys beside the
    /// config file]
    #[arg(long, value_name = "PATH")]
    pub access: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist)
    pub path: PathBuf,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Conversations the messages are spread over
    #[arg(long, default_value_t = 1000)]
    pub conversations: u64,
    /// Messages to write (some get a later status update, so there are more events)
    #[arg(long, default_value_t = 10_000)]
    pub messages: u64,
    /// The same seed writes the same bytes
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of the first message (and its time): events for messages a database made from
    /// another file of `N` messages does not have yet
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub first_message: u64,
    /// Where to write; standard output when absent
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Instead: signed myKaarma deliveries for a load generator (`signature<TAB>body` lines)
    #[arg(long, value_name = "SECRET")]
    pub signed_mykaarma: Option<String>,
    /// Body size of signed deliveries, in bytes
    #[arg(long, default_value_t = 4096)]
    pub body_size: usize,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// No feed of new events (replies still go to the sandbox)
    #[arg(long)]
    pub no_feed: bool,
    /// Serve the demo over SSH on ADDR instead: anyone who connects (any key or none) gets a
    /// demo dealership of their own, within the bounds of the config's [ssh] section
    #[arg(long, value_name = "ADDR", conflicts_with = "no_feed")]
    pub ssh: Option<std::net::SocketAddr>,
}

#[derive(Args, Debug)]
pub struct JsonFlag {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Files to import; `-` for standard input
    #[arg(required = true, value_name = "FILE|-")]
    pub files: Vec<String>,
    /// Skip shape detection: every event is from this vendor
    #[arg(long, value_parser = ["mykaarma", "highlevel", "partoo"])]
    pub provider: Option<String>,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct ConversationsArgs {
    /// all, unread, mine, unassigned, failed, done, snoozed, a channel (sms, email, voice, …) or a
    /// vendor (mykaarma, highlevel, partoo)
    #[arg(long, default_value = "all")]
    pub filter: String,
    /// Only conversations assigned to me ([me] in the config); `--filter mine`
    #[arg(long, conflicts_with_all = ["unassigned", "filter"])]
    pub mine: bool,
    /// Only conversations assigned to nobody; `--filter unassigned`
    #[arg(long, conflicts_with = "filter")]
    pub unassigned: bool,
    /// Only conversations whose messages or contact match these words
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many conversations
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct ThreadArgs {
    /// A conversation id as `conversations` prints it (an unambiguous prefix is enough)
    pub id: String,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct FailuresArgs {
    /// Only failures this recent (e.g. 30m, 24h, 7d)
    #[arg(long, value_parser = humantime::parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Exit with status 1 when there is any failure (for alerting scripts)
    #[arg(long)]
    pub exit_code: bool,
    /// At most this many failures
    #[arg(long, default_value_t = 200)]
    pub limit: usize,
    /// Keep going: print each new failure as it is stored, one JSON object per line (NDJSON)
    #[arg(long, conflicts_with = "exit_code")]
    pub watch: bool,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only events that could not be understood
    #[arg(long)]
    pub rejected: bool,
    /// Write one event's stored body, byte-exact, to standard output
    #[arg(long, value_name = "EVENT_ID", conflicts_with = "rejected")]
    pub raw: Option<i64>,
    /// At most this many events
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub out: JsonFlag,
}

/// `thread --json`: the conversation, then its messages oldest first.
#[derive(serde::Serialize)]
struct ThreadDoc<'a> {
    conversation: &'a crate::model::Conversation,
    messages: &'a [crate::model::Message],
}

/// What `thread ID --json` prints.
pub fn thread_json(store: &Store, key: &str) -> Result<String> {
    let conversation = store
        .conversation(key)?
        .with_context(|| format!("no conversation `{key}`"))?;
    let messages = store.thread(key)?;
    Ok(serde_json::to_string_pretty(&ThreadDoc {
        conversation: &conversation,
        messages: &messages,
    })?)
}

/// The process exit status a command asks for.
pub enum Exit {
    Ok,
    /// `failures --exit-code` found failures; `send` was refused or failed.
    Found,
    /// `send` cannot tell whether the message went out.
    Unknown,
}

/// The inbox owns the screen: it logs to a file ($XDG_STATE_HOME/switchboard/switchboard.log).
fn init_file_logging(config: &crate::config::Config) -> Result<()> {
    let path = match &config.inbox.log_file {
        Some(p) => p.clone(),
        None => dirs::state_dir()
            .or_else(dirs::cache_dir)
            .unwrap_or_else(std::env::temp_dir)
            .join("switchboard")
            .join("switchboard.log"),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open the log file {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}

/// Log to standard error; `SWITCHBOARD_LOG` sets the filter (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Warnings only, on stderr: a script's stdout stays its JSON.
fn init_logging_quiet() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

pub fn default_db_path() -> Result<PathBuf> {
    let base = dirs::data_dir().context("no data directory: set --db or SWITCHBOARD_DB")?;
    Ok(base.join("switchboard").join("switchboard.db"))
}

/// Run a command; a failure that comes down to a full disk says so.
pub fn run(cli: Cli) -> Result<Exit> {
    let db = cli.db.clone().or_else(|| default_db_path().ok());
    run_command(cli).map_err(|e| match crate::store::space::explain(&e, db.as_deref()) {
        Some(words) => e.context(words),
        None => e,
    })
}

fn run_command(cli: Cli) -> Result<Exit> {
    let db_path = || -> Result<PathBuf> {
        match &cli.db {
            Some(p) => Ok(p.clone()),
            None => default_db_path(),
        }
    };
    // Commands that write refuse a (nearly) full disk up front, in words.
    let writes = matches!(
        cli.command,
        None | Some(
            Command::Serve(_)
                | Command::Import(_)
                | Command::Rebuild(_)
                | Command::Send(_)
                | Command::Assign(_)
                | Command::Done(_)
                | Command::Snooze(_)
                | Command::Reopen(_)
                | Command::Note(_)
                | Command::Ssh(_)
        )
    );
    if writes && !dumb_terminal() {
        crate::store::space::ensure_room(&db_path()?)?;
    }
    let open = || -> Result<Store> { Store::open(&db_path()?) };
    // Commands that only read (or add to what is there) never create a database.
    let open_existing = || -> Result<Store> { Store::open_existing(&db_path()?) };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        None if dumb_terminal() => {
            // No cursor addressing: print what the inbox would list instead of drawing it.
            let store = open_existing()?;
            show::conversations(
                &mut out,
                &store.conversations(&ConversationFilter::All, None, 50)?,
                &Default::default(),
            )?;
            writeln!(
                out,
                "\nTERM={} cannot show the inbox; this is `switchboard conversations`. `switchboard thread ID` shows one.",
                sanitize_env("TERM")
            )?;
        }
        None => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            init_file_logging(&config)?;
            let options = crate::tui::app::Options {
                db: db_path()?,
                listen: cli.listen,
                insecure_accept_unsigned: cli.insecure_accept_unsigned,
            };
            drop(out);
            crate::tui::app::run(options, &config)?;
            return Ok(Exit::Ok);
        }
        Some(Command::Serve(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            let listen = match (a.listen, &config.receiver.listen) {
                (Some(l), _) => l,
                (None, Some(l)) => l
                    .parse()
                    .with_context(|| format!("receiver.listen `{l}` is not an address"))?,
                (None, None) => "127.0.0.1:8787".parse().expect("valid address"),
            };
            init_logging();
            let options = crate::receiver::Options {
                db: db_path()?,
                listen,
                insecure_accept_unsigned: a.insecure_accept_unsigned,
                bench_noop: a.bench_noop,
                bench_hold_folds: a.bench_hold_folds,
                warn_on_stderr: true,
            };
            // The receiver's process also keeps the outbox moving: what a crashed sender left,
            // and status lookups for replies whose webhook never came.
            let public_url = config.receiver.public_url.clone();
            let _worker = crate::send::worker::Worker::start(
                options.db.clone(),
                crate::send::attempt::Sender::from_config(&config, public_url),
                |result| {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "outbox");
                    }
                },
            )?;
            crate::receiver::serve(options, &config.receiver)?;
        }
        Some(Command::Ssh(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            init_logging();
            let db = db_path()?;
            // The database is made if needed, as `serve` does, and the host key is kept beside it.
            drop(open()?);
            let access = match a.access {
                Some(p) => p,
                None => config
                    .path
                    .as_deref()
                    .and_then(|p| p.parent())
                    .map(|d| d.join("authorized_keys"))
                    .context("no config directory: pass --access PATH")?,
            };
            let host_key = db.with_file_name("ssh_host_ed25519_key");
            crate::ssh::serve(
                crate::ssh::Options {
                    listen: a.listen,
                    mode: crate::ssh::Mode::Team { db, access },
                    host_key,
                },
                &config,
            )?;
        }
        Some(Command::Backup(a)) => {
            let report = open_existing()?.backup_to(&a.path)?;
            if a.out.json {
                writeln!(out, "{}", serde_json::to_string(&report)?)?;
            } else {
                writeln!(
                    out,
                    "backed up {} events ({:.1} MB) to {} in {:.2} s; check: {}",
                    report.events,
                    report.bytes as f64 / 1e6,
                    crate::sanitize::line(&report.path),
                    report.seconds,
                    crate::sanitize::line(&report.check)
                )?;
            }
        }
        Some(Command::Import(a)) => {
            let provider = a.provider.as_deref().map(Provider::parse);
            let summary = import::import_into(&db_path()?, &a.files, provider, "import")?;
            if a.out.json {
                writeln!(out, "{}", serde_json::to_string(&summary)?)?;
            } else {
                show::import_summary(&mut out, &summary)?;
            }
        }
        Some(Command::Conversations(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            let store = team::open_as_me(open_existing()?, &config)?;
            let filter = match (a.mine, a.unassigned) {
                (true, _) => ConversationFilter::Mine,
                (_, true) => ConversationFilter::Unassigned,
                _ => ConversationFilter::parse(&a.filter)?,
            };
            let list = store.conversations(&filter, a.search.as_deref(), a.limit)?;
            if a.out.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                show::conversations(&mut out, &list, &config.team())?;
            }
        }
        Some(Command::Assign(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            team::assign(&mut out, open_existing()?, &config, a)?;
        }
        Some(Command::Done(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            team::done(&mut out, open_existing()?, &config, a)?;
        }
        Some(Command::Snooze(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            team::snooze(&mut out, open_existing()?, &config, a)?;
        }
        Some(Command::Reopen(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            team::reopen(&mut out, open_existing()?, &config, a)?;
        }
        Some(Command::Note(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            team::note(&mut out, open_existing()?, &config, a)?;
        }
        Some(Command::Thread(a)) => {
            let store = open_existing()?;
            let key = store.resolve_conversation(&a.id)?;
            if a.out.json {
                writeln!(out, "{}", thread_json(&store, &key)?)?;
            } else {
                let conversation = store.conversation(&key)?.context("conversation vanished")?;
                show::thread(&mut out, &conversation, &store.thread(&key)?)?;
            }
        }
        Some(Command::Failures(a)) => {
            let store = open_existing()?;
            let since = a
                .since
                .map(|d| chrono::Utc::now().timestamp_millis() - d.as_millis() as i64);
            if a.watch {
                team::watch_failures(&mut out, &store, since)?;
                return Ok(Exit::Ok);
            }
            let rows = store.failures(since, a.limit)?;
            if a.out.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                show::failures(&mut out, &rows)?;
            }
            if a.exit_code && !rows.is_empty() {
                return Ok(Exit::Found);
            }
        }
        Some(Command::Events(a)) => {
            let store = open_existing()?;
            if let Some(id) = a.raw {
                let body = store.event_body(id)?.with_context(|| format!("no event {id}"))?;
                out.write_all(&body)?;
            } else {
                let rows = store.events(a.rejected, a.limit)?;
                if a.out.json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                } else {
                    show::events(&mut out, &rows)?;
                }
            }
        }
        Some(Command::Rebuild(a)) => {
            let mut store = open()?;
            let started = std::time::Instant::now();
            let report = store.rebuild()?;
            let seconds = started.elapsed().as_secs_f64();
            if a.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "events": report.events, "changed_outcome": report.changed_outcome, "seconds": seconds })
                )?;
            } else {
                writeln!(
                    out,
                    "rebuilt from {} events in {seconds:.2}s ({} changed outcome)",
                    report.events, report.changed_outcome
                )?;
            }
        }
        Some(Command::Send(a)) => {
            let config = crate::config::Config::load(cli.config.as_deref())?;
            init_logging_quiet();
            let mut store = team::open_as_me(open_existing()?, &config)?;
            let exit = reply::send(&mut store, &config, a, &mut out)?;
            out.flush()?;
            return Ok(exit);
        }
        Some(Command::Outbox(a)) => return reply::outbox(&open_existing()?, a, &mut out),
        Some(Command::Sandbox(a)) => {
            init_logging();
            drop(out);
            return reply::sandbox(a);
        }
        Some(Command::Demo(a)) => {
            if db_given_on_command_line() {
                anyhow::bail!(
                    "demo runs on a temporary database of its own; drop --db (to explore a database of yours, run `switchboard --db PATH`)"
                );
            }
            if let Some(listen) = a.ssh {
                let config = crate::config::Config::load(cli.config.as_deref())?;
                init_logging();
                // The same host key as `switchboard ssh`, in the data directory.
                let host_key = default_db_path()?.with_file_name("ssh_host_ed25519_key");
                crate::ssh::serve(
                    crate::ssh::Options {
                        listen,
                        mode: crate::ssh::Mode::Demo {
                            bounds: config.ssh.clone(),
                        },
                        host_key,
                    },
                    &config,
                )?;
                return Ok(Exit::Ok);
            }
            let path = crate::demo::database()?;
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                let config = crate::config::Config::load(cli.config.as_deref())?;
                init_file_logging(&config)?;
                drop(out);
                let result = crate::demo::run(&path, config, !a.no_feed);
                // The demo's database was made for this session only.
                if let Some(dir) = path.parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                result?;
                return Ok(Exit::Ok);
            }
            // Not on a terminal: print what the inbox would show, and leave nothing behind.
            let printed = demo_text(&mut out, &path);
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
            printed?;
        }
        Some(Command::BenchLoad {
            url,
            file,
            rate,
            seconds,
            connections,
            watch_db,
        }) => {
            let report = crate::loadgen::run(&url, &file, rate, seconds, connections, watch_db.as_deref())?;
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        Some(Command::BenchInbox { width, height, repeat }) => {
            let report = crate::tui::measure::run(&db_path()?, width, height, repeat)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        Some(Command::BenchTerminal {
            width,
            height,
            presses,
            idle_seconds,
            ssh,
            ssh_sessions,
        }) => {
            let over = ssh.map(|kind| crate::tui::measure_terminal::Over {
                kind,
                sessions: ssh_sessions,
            });
            let report = crate::tui::measure_terminal::run(&db_path()?, width, height, presses, idle_seconds, over)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        Some(Command::Gen(a)) if a.signed_mykaarma.is_some() => {
            let secret = a.signed_mykaarma.as_deref().unwrap_or_default();
            let path = a.out.as_ref().context("--signed-mykaarma needs --out FILE")?;
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            crate::synthetic::signed_mykaarma(&mut w, a.messages, a.body_size, secret, a.seed)?;
            w.flush()?;
        }
        Some(Command::Gen(a)) => {
            let n = match &a.out {
                Some(path) => {
                    let file =
                        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    let n = crate::synthetic::generate(
                        &mut w,
                        a.conversations,
                        a.first_message..a.first_message + a.messages,
                        a.seed,
                    )?;
                    w.flush()?;
                    n
                }
                None => crate::synthetic::generate(
                    &mut out,
                    a.conversations,
                    a.first_message..a.first_message + a.messages,
                    a.seed,
                )?,
            };
            if a.out.is_some() {
                writeln!(out, "wrote {n} events")?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// What the inbox would show, for when there is no terminal to show it on.
fn demo_text(out: &mut dyn Write, path: &std::path::Path) -> Result<()> {
    let store = Store::open(path)?;
    let events = store.events(false, 1)?.first().map_or(0, |e| e.id);
    writeln!(out, "Demo dealership: {events} events\n")?;
    show::conversations(
        out,
        &store.conversations(&ConversationFilter::All, None, 40)?,
        &Default::default(),
    )?;
    let failures = store.failures(None, 10)?;
    if !failures.is_empty() {
        writeln!(out, "\nDelivery failures:")?;
        show::failures(out, &failures)?;
    }
    writeln!(out, "\nRun `switchboard demo` in a terminal for the living inbox.")?;
    Ok(())
}

/// A terminal that cannot address the cursor (`TERM=dumb`, Emacs' shell buffers).
fn dumb_terminal() -> bool {
    std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

fn sanitize_env(name: &str) -> String {
    crate::sanitize::line(&std::env::var(name).unwrap_or_default()).into_owned()
}

/// `--db` typed on this command line (not only set through SWITCHBOARD_DB).
fn db_given_on_command_line() -> bool {
    std::env::args_os().any(|a| a == "--db" || a.to_string_lossy().starts_with("--db="))
}
