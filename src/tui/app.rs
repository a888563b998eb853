//! The terminal side of the inbox: raw mode and the alternate screen (restored on exit, panic,
//! SIGTERM and SIGHUP), the event loop, and the in-process receiver.

use super::effects::Runner;
use super::input::Input;
use super::keymap::Keymap;
use super::screen::Screen;
use super::state::{Receiver, State};
use super::theme::Theme;
use super::ui::{self, Clock, View};
use super::update::{self, Action, Effect};
use crate::config::Config;
use crate::send::attempt::Sender;
use crate::send::worker::Worker;
use crate::server_thread::ServerThread;
use crate::store::Store;
use anyhow::{Context, Result};
use crossterm::terminal;
use crossterm::{cursor, execute};
use ratatui::Terminal;
use std::io::{Stdout, Write};
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// True while the inbox owns the terminal: nothing else may print to it.
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub struct Options {
    pub db: PathBuf,
    /// Also run the webhook receiver in this process.
    pub listen: Option<SocketAddr>,
    pub insecure_accept_unsigned: bool,
}

/// One inbox's parts apart from its terminal: its state, the effects thread on its own store
/// connection, the outbox worker, and the one channel its keys and answers arrive on. The local
/// inbox and each SSH session run one each, through the same loop.
pub struct Session {
    pub state: State,
    pub keymap: std::sync::Arc<Keymap>,
    pub theme: Theme,
    runner: Runner,
    pub actions: mpsc::Sender<Action>,
    inbox: mpsc::Receiver<Action>,
}

impl Session {
    /// Open the inbox on `db` for `me`, with `config`'s keys, vendors and templates.
    pub fn open(
        db: &std::path::Path,
        config: &Config,
        me: crate::team::Advisor,
        color: bool,
        callbacks_to: Option<SocketAddr>,
    ) -> Result<Session> {
        let keymap = std::sync::Arc::new(Keymap::new(&config.keys).map_err(|e| anyhow::anyhow!("config: {e}"))?);
        let theme = Theme {
            color: config.inbox.color && color,
        };
        let mut store = Store::open(db)?;
        store.set_viewer(&me)?;
        let (action_tx, action_rx) = mpsc::channel();
        let mut state = State::new(chrono::Utc::now().timestamp_millis());
        state.bell = config.inbox.bell;
        state.people = config.inbox.people.clone();
        state.team = crate::team::Team { me, ..config.team() };
        state.dealership = config.inbox.dealership.clone();
        if let Some(path) = config.templates_path() {
            state.templates_path = Some(path.display().to_string());
            match crate::templates::load(&path) {
                Ok(templates) => state.templates = templates,
                Err(e) => state.notice = Some(format!("{e:#}")),
            }
        }
        let worker = match start_sender(db, callbacks_to, config, action_tx.clone()) {
            Ok(w) => Some(w),
            Err(why) => {
                state.sending_disabled = Some(format!("Sending is off: {why:#}"));
                None
            }
        };
        let runner = Runner::start(store, action_tx.clone(), worker, config.clone())?;
        Ok(Session {
            state,
            keymap,
            theme,
            runner,
            actions: action_tx,
            inbox: action_rx,
        })
    }

    /// Run the inbox on `terminal` until it quits or its terminal goes (a `Hangup` action). `local`
    /// is this process's own terminal input, which `$EDITOR` needs; a remote session has none.
    pub fn run<W: Write>(&mut self, terminal: &mut Terminal<Screen<W>>, local: Option<&Input>) -> Result<()> {
        event_loop(
            terminal,
            &mut self.state,
            &self.keymap,
            self.theme,
            &self.runner,
            &self.inbox,
            local,
        )
    }

    /// Save the draft being written and stop the effects thread (after what was queued); the
    /// state and whatever actions arrived meanwhile are returned.
    pub fn finish(mut self) -> (State, mpsc::Receiver<Action>) {
        for effect in update::shutdown(&mut self.state) {
            let _ = self.runner.effects.send(effect);
        }
        self.runner.finish();
        (self.state, self.inbox)
    }
}

pub fn run(options: Options, config: &Config) -> Result<()> {
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!("the inbox needs a terminal; for scripts use `switchboard conversations` and `thread`");
    }
    // Callbacks come back to this inbox's receiver when it runs one (and no public URL is set).
    let callbacks_to = options.listen.filter(|a| a.ip().is_loopback());
    let mut session = Session::open(
        &options.db,
        config,
        config.team().me,
        Theme::from_env().color,
        callbacks_to,
    )?;
    let action_tx = session.actions.clone();
    let receiver = match options.listen {
        Some(listen) => Some(start_receiver(
            &options,
            listen,
            config,
            action_tx.clone(),
            &mut session.state,
        )?),
        None => None,
    };
    watch_signals(action_tx.clone())?;
    let alt_keys = session.keymap.clone();
    let input = Input::start(action_tx, Box::new(move |k| alt_keys.binds(k))).context("cannot read the terminal")?;
    let mut terminal = enter(session.actions.clone())?;
    let result = session.run(&mut terminal, Some(&input));
    // The draft being written is saved before the inbox goes.
    let finished = Some(session.finish());
    leave();
    if let Some(receiver) = receiver {
        receiver.stop();
    }
    // A draft that could not be saved is not lost silently: it goes to the terminal, whose
    // scrollback keeps it, and the exit status says something went wrong.
    if let Some((state, inbox)) = finished {
        let unsaved = inbox.try_iter().find_map(|a| match a {
            Action::DraftNotSaved { key, why } => Some((key, why)),
            _ => None,
        });
        if let (Some((key, why)), Some(c)) = (unsaved, state.compose.as_ref())
            && c.conversation_key == key
            && !c.is_empty()
        {
            eprintln!(
                "The draft for {} was not saved ({}). Here it is:\n\n{}\n",
                crate::sanitize::line(&key),
                crate::sanitize::line(&why),
                crate::sanitize::text(&c.draft().body)
            );
            anyhow::bail!("the draft could not be saved: {why}");
        }
    }
    result
}

/// SIGTERM, SIGHUP and SIGINT end the inbox as `q` would (the draft saved); SIGWINCH redraws.
fn watch_signals(actions: mpsc::Sender<Action>) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGWINCH])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            let action = match signal {
                SIGWINCH => Action::Resize,
                SIGHUP => Action::Hangup("hang-up signal".into()),
                SIGINT => Action::Hangup("interrupt signal".into()),
                _ => Action::Hangup("termination signal".into()),
            };
            if actions.send(action).is_err() {
                return;
            }
        }
    })?;
    Ok(())
}

type Term = Terminal<Screen<Stdout>>;

/// Take the terminal. `actions` hears of a thread behind the screen that panics.
fn enter(actions: mpsc::Sender<Action>) -> Result<Term> {
    // A panic on the screen's own thread restores the terminal before its message is printed, so
    // that it is readable. One on a thread behind the screen (the receiver's writer, say) would
    // print over the screen and leave it half torn down while the inbox goes on: it goes to the
    // log instead, and the status bar says so; whoever owns the thread reports its end too.
    let screen_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == screen_thread {
            leave();
            previous(info);
            return;
        }
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        tracing::error!("the {thread} thread panicked: {info}");
        // (Some such threads go on: a tokio worker survives a task's panic.)
        let _ = actions.send(Action::Failed(format!(
            "the {} thread hit a bug (written to the log)",
            crate::sanitize::line(&thread)
        )));
    }));
    take_terminal()?;
    let mut t = Terminal::new(Screen::new(std::io::stdout()))?;
    t.clear()?;
    ratatui::backend::Backend::flush(t.backend_mut())?;
    Ok(t)
}

fn take_terminal() -> Result<()> {
    terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
    ACTIVE.store(true, Ordering::Relaxed);
    let mut stdout = std::io::stdout();
    // Mouse capture stays off: it breaks selecting and copying text over SSH.
    execute!(stdout, terminal::EnterAlternateScreen, cursor::Hide)?;
    Ok(())
}

/// The outbox worker, sending for every vendor with credentials (the others say what to set when
/// a reply is started). Callbacks come back to this inbox's receiver when it runs one (and no
/// public URL is configured).
fn start_sender(
    db: &std::path::Path,
    callbacks_to: Option<SocketAddr>,
    config: &Config,
    actions: mpsc::Sender<Action>,
) -> Result<Worker> {
    let public_url = config
        .receiver
        .public_url
        .clone()
        .or_else(|| callbacks_to.map(|a| format!("http://{a}")));
    let sender = Sender::from_config(config, public_url);
    let actions = std::sync::Mutex::new(actions);
    Worker::start(db.to_path_buf(), sender, move |result| {
        if let Ok(tx) = actions.lock() {
            let _ = tx.send(Action::SendDone(result));
        }
    })
}

/// Hand the terminal to `$VISUAL`/`$EDITOR` (else `vi`) on a private temporary file; take it back.
fn run_editor<W: Write>(terminal: &mut Terminal<Screen<W>>, text: &str) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("switchboard-edit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("reply.txt");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    leave();
    // Through the shell, so `EDITOR="code --wait"` works; the file is an argument, never spliced.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("switchboard-editor")
        .arg(&path)
        .status();
    let back = take_terminal().and_then(|_| {
        terminal.backend_mut().forget();
        terminal.clear()?;
        Ok(ratatui::backend::Backend::flush(terminal.backend_mut())?)
    });
    let result = match status {
        Ok(s) if s.success() => std::fs::read_to_string(&path).map_err(|e| format!("cannot read the text back: {e}")),
        Ok(s) => Err(format!("`{editor}` exited with {s}; the reply is unchanged")),
        Err(e) => Err(format!("cannot run `{editor}`: {e}")),
    };
    let _ = std::fs::remove_dir_all(&dir);
    back.map_err(|e| format!("cannot take the terminal back: {e:#}"))?;
    result
}

/// Put the terminal back as we found it. Safe to call twice.
fn leave() {
    if ACTIVE.swap(false, Ordering::Relaxed) {
        let mut stdout = std::io::stdout();
        let _ = execute!(
            stdout,
            crossterm::terminal::EndSynchronizedUpdate,
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
        let _ = stdout.flush();
    }
}

fn event_loop<W: Write>(
    terminal: &mut Terminal<Screen<W>>,
    state: &mut State,
    keymap: &Keymap,
    theme: Theme,
    runner: &Runner,
    actions: &mpsc::Receiver<Action>,
    local: Option<&Input>,
) -> Result<()> {
    let clock = Clock::local();
    let mut pending: Vec<Action> = vec![];
    let mut effects = update::start(state);
    loop {
        for effect in effects.drain(..) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Bell => {
                    let _ = terminal.backend_mut().write_raw(b"\x07");
                }
                Effect::Copy(text) => {
                    let _ = terminal.backend_mut().write_raw(&osc52(&text));
                }
                Effect::Repaint => {
                    terminal.backend_mut().forget();
                    terminal.clear()?;
                }
                Effect::Editor { key, text } => {
                    let result = match local {
                        Some(input) => {
                            input.pause();
                            let result = run_editor(terminal, &text);
                            input.resume();
                            result
                        }
                        None => Err("$EDITOR runs only in a local terminal; the reply is unchanged".into()),
                    };
                    pending.push(Action::EditorDone { key, result });
                    state.dirty = true;
                }
                other => {
                    let _ = runner.effects.send(other);
                }
            }
        }
        if state.dirty {
            let mut layout = None;
            terminal.draw(|f| {
                layout = Some(ui::draw(
                    f,
                    &View {
                        state,
                        keymap,
                        theme,
                        clock,
                    },
                ))
            })?;
            state.dirty = false;
            if let Some(layout) = layout.filter(|l| *l != state.layout) {
                pending.push(Action::Layout(layout));
            }
        }
        if pending.is_empty() {
            // Sleep until something arrives or the screen would change by itself; then take
            // everything waiting, and draw once for the whole burst.
            let now = chrono::Utc::now().timestamp_millis();
            let first = match update::next_tick(state) {
                Some(at) => match actions.recv_timeout(Duration::from_millis((at - now).max(0) as u64)) {
                    Ok(a) => a,
                    Err(mpsc::RecvTimeoutError::Timeout) => Action::Tick(chrono::Utc::now().timestamp_millis()),
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                },
                None => match actions.recv() {
                    Ok(a) => a,
                    Err(_) => return Ok(()),
                },
            };
            pending.push(first);
            pending.extend(actions.try_iter());
        }
        state.now_ms = chrono::Utc::now().timestamp_millis();
        for action in pending.drain(..) {
            effects.extend(update::update(state, keymap, action));
        }
    }
}

/// OSC 52: ask the terminal (through SSH and tmux) to put `text` on the clipboard.
fn osc52(text: &str) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{encoded}\x07").into_bytes()
}

/// Start the webhook receiver on its own thread; its commits reach the screen like anyone else's.
fn start_receiver(
    options: &Options,
    listen: SocketAddr,
    config: &Config,
    actions: mpsc::Sender<Action>,
    state: &mut State,
) -> Result<ServerThread> {
    let receiver_options = crate::receiver::Options {
        db: options.db.clone(),
        listen,
        insecure_accept_unsigned: options.insecure_accept_unsigned,
        bench_noop: false,
        bench_hold_folds: false,
        warn_on_stderr: false, // the status bar says it
    };
    let receiver_config = config.receiver.clone();
    let (thread, bound) = crate::server_thread::start("receiver", move |shutdown, bound| {
        crate::receiver::serve_until(receiver_options, &receiver_config, shutdown, bound).inspect_err(|e| {
            let _ = actions.send(Action::Failed(format!("receiver stopped: {e:#}")));
        })
    })?;
    state.receiver = match bound {
        Ok(addr) => Receiver::Listening(addr.to_string()),
        Err(why) => Receiver::Failed(why),
    };
    Ok(thread)
}
