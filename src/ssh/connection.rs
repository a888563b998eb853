//! One SSH connection: who it is, and for each session channel its terminal (size, colour, keys)
//! and, once a shell starts, its inbox; or, for a command, the CLI's output.

use super::bounds;
use super::{Doors, Shared, exec, session};
use crate::tui::input::translate;
use crate::tui::keys::Parser;
use crate::tui::screen::SharedSize;
use crate::tui::update::Action;
use ratatui::layout::Size;
use russh::keys::PublicKey;
use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId, ChannelWriteHalf};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A lone ESC is a key once this long passes without the rest of a sequence. A sequence the
/// client's read split goes out in back-to-back packets, which arrive together; 10 ms is also
/// tmux's `escape-time` default. (Every ESC over SSH waits this long: it is most of `back`.)
const LONE_ESC: Duration = Duration::from_millis(10);

/// One channel's terminal and, once its shell started, its inbox.
struct Terminal {
    /// Writes wait for the client's window: a client that stops reading holds up its own
    /// session's frames (which are then dropped, `session::BACKLOG_LIMIT`), never the server's memory.
    out: Option<ChannelWriteHalf<Msg>>,
    size: SharedSize,
    pty: bool,
    /// The client's TERM, from its PTY request.
    term: String,
    color: bool,
    input: Arc<Mutex<Input>>,
    /// Dropped with the channel: a command running for it is stopped.
    gone: Option<tokio::sync::oneshot::Sender<()>>,
}

struct Input {
    parser: Parser,
    running: Option<session::Running>,
    /// Bumped at every read, so a pending lone-ESC timer knows whether more bytes came.
    reads: u64,
    last_key: Instant,
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

    fn tell(&self, action: Action) {
        if let Some(running) = &self.running {
            let _ = running.actions.send(action);
        }
    }
}

fn lock(input: &Mutex<Input>) -> std::sync::MutexGuard<'_, Input> {
    input.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Connection {
    shared: Arc<Shared>,
    peer: Option<SocketAddr>,
    advisor: Option<crate::team::Advisor>,
    /// Why this connection gets a message instead of an inbox (over its address's rate).
    turned_away: Option<&'static str>,
    channels: HashMap<ChannelId, Terminal>,
}

impl Connection {
    pub fn new(shared: Arc<Shared>, peer: Option<SocketAddr>, turned_away: Option<&'static str>) -> Connection {
        if turned_away.is_some() {
            tracing::info!(peer = ?peer, "SSH demo: a connection over its address's rate");
        }
        Connection {
            shared,
            peer,
            advisor: None,
            turned_away,
            channels: HashMap::new(),
        }
    }

    fn demo(&self) -> bool {
        matches!(self.shared.doors, Doors::Demo(_))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The connection is gone: every inbox on it ends now, its draft saved.
        for terminal in self.channels.values() {
            lock(&terminal.input).tell(Action::Hangup("the SSH connection closed".into()));
        }
    }
}

/// Say `line` on `channel` and end it with `status`.
fn say_and_close(session: &mut Session, channel: ChannelId, line: &str, status: u32) -> Result<(), russh::Error> {
    session.data(channel, format!("{line}\r\n").into_bytes())?;
    session.exit_status_request(channel, status)?;
    session.eof(channel)?;
    session.close(channel)
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(if self.demo() { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey_offered(&mut self, _user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        Ok(match &self.shared.doors {
            Doors::Demo(_) => Auth::Accept,
            Doors::Team { access, .. } if access.advisor(key).is_some() => Auth::Accept,
            Doors::Team { .. } => Auth::reject(),
        })
    }

    async fn auth_publickey(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        let Doors::Team { access, .. } = &self.shared.doors else {
            return Ok(Auth::Accept);
        };
        match access.advisor(key) {
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
                term: String::new(),
                color: true,
                input: Arc::new(Mutex::new(Input {
                    parser: Parser::default(),
                    running: None,
                    reads: 0,
                    last_key: Instant::now(),
                })),
                gone: None,
            },
        );
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.get_mut(&channel) {
            t.pty = true;
            t.term = term.to_string();
            t.color &= has_colour(term);
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
        session.channel_success(channel)?;
        if let Some(why) = self.turned_away {
            return Ok(say_and_close(session, channel, why, 1)?);
        }
        if !t.pty {
            let line = "Switchboard is an inbox for a terminal: connect with `ssh -t` (a PTY) to use it.";
            return Ok(say_and_close(session, channel, line, 1)?);
        }
        if t.term == "dumb" {
            let line = "TERM=dumb cannot show the inbox (it needs cursor addressing); try `ssh HOST conversations` for the list.";
            return Ok(say_and_close(session, channel, line, 1)?);
        }
        let Some(seat) = self.shared.sessions.take() else {
            let Doors::Demo(b) = &self.shared.doors else {
                return Ok(());
            };
            tracing::info!(peer = ?self.peer, "SSH demo full: a visitor was told so");
            return Ok(say_and_close(session, channel, &bounds::full(b.sessions), 1)?);
        };
        let Some(out) = t.out.take() else {
            return Ok(());
        };
        let shared = self.shared.clone();
        let advisor = self.advisor.clone();
        let visit = tokio::task::spawn_blocking(move || visit(&shared, advisor)).await?;
        let mut visit = match visit {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "an SSH session could not start");
                let line = "Switchboard could not open the inbox; the server's log says why.";
                let _ = out.data_bytes(format!("{line}\r\n").into_bytes()).await;
                let _ = out.exit_status(1).await;
                let _ = out.close().await;
                return Ok(());
            }
        };
        let who = visit.advisor.name.clone();
        let count = seat.count();
        tracing::info!(advisor = %who, sessions = count.now(), "SSH session started");
        // The seat is given back after everything else the session holds (a stopping server
        // waits for the seats, so a visitor's dealership is gone before it exits).
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        visit.keep = Box::new((visit.keep, seat, done));
        let (out_tx, out_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let backlog = Arc::new(session::Backlog::default());
        let running = tokio::task::spawn_blocking({
            let (size, color, backlog) = (t.size.clone(), t.color, backlog.clone());
            move || session::start(visit, color, size, out_tx, backlog)
        })
        .await??;
        let repaint = running.actions.clone();
        lock(&t.input).running = Some(running);
        let farewell = Arc::new(Mutex::new(None::<String>));
        let (ended, ended_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(clock(self.shared.clone(), t.input.clone(), farewell.clone(), ended_rx));
        tokio::spawn(write_frames(
            out,
            out_rx,
            backlog,
            repaint,
            (count, finished),
            who,
            farewell,
            ended,
        ));
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(t) = self.channels.get_mut(&channel) else {
            return Ok(());
        };
        session.channel_success(channel)?;
        if let Some(why) = self.turned_away {
            return Ok(say_and_close(session, channel, why, 1)?);
        }
        let words = match exec::words(data) {
            Ok(w) => w,
            Err(why) => {
                let why = why.trim_end().replace('\n', "\r\n");
                return Ok(say_and_close(session, channel, &why, 2)?);
            }
        };
        let Some(out) = t.out.take() else {
            return Ok(());
        };
        let (gone, gone_rx) = tokio::sync::oneshot::channel();
        t.gone = Some(gone);
        let shared = self.shared.clone();
        let advisor = self.advisor.clone();
        let peer = self.peer;
        tokio::spawn(async move {
            let status = match tokio::task::spawn_blocking(move || place(&shared, advisor)).await {
                Ok(Ok((place, keep))) => {
                    tracing::info!(peer = ?peer, advisor = %place.advisor.name, command = %crate::sanitize::line(&words.join(" ")), "SSH command");
                    let status = exec::run(&out, words, &place, gone_rx).await;
                    drop(keep);
                    status
                }
                failed => {
                    let why = match failed {
                        Ok(Err(e)) => format!("{e:#}"),
                        Err(e) => e.to_string(),
                        Ok(Ok(_)) => String::new(),
                    };
                    tracing::warn!(error = %why, "an SSH command could not start");
                    let _ = out
                        .data_bytes(&b"Switchboard could not run the command; the server's log says why.\r\n"[..])
                        .await;
                    1
                }
            };
            let _ = out.exit_status(status).await;
            let _ = out.eof().await;
            let _ = out.close().await;
        });
        Ok(())
    }

    async fn data(&mut self, channel: ChannelId, data: &[u8], _session: &mut Session) -> Result<(), Self::Error> {
        let Some(t) = self.channels.get(&channel) else {
            return Ok(());
        };
        let input = t.input.clone();
        let (keys, waiting, reads) = {
            let mut i = lock(&input);
            i.reads += 1;
            i.last_key = Instant::now();
            // More may be on its way: a trailing ESC waits for the rest of its sequence.
            let keys = i.parser.feed(data, true);
            (keys, i.parser.has_pending(), i.reads)
        };
        lock(&input).send(keys);
        if waiting {
            tokio::spawn(async move {
                tokio::time::sleep(LONE_ESC).await;
                let mut i = lock(&input);
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
            lock(&t.input).tell(Action::Resize);
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.get(&channel) {
            lock(&t.input).tell(Action::Hangup("the SSH client sent end of input".into()));
        }
        Ok(())
    }

    async fn channel_close(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(t) = self.channels.remove(&channel) {
            lock(&t.input).tell(Action::Hangup("the SSH channel closed".into()));
        }
        Ok(())
    }
}

/// What a session's inbox runs on: the team's database as the key's advisor, or for a demo
/// visitor a demo dealership of their own (database, receiver, sandbox, feed), gone with them.
fn visit(shared: &Shared, advisor: Option<crate::team::Advisor>) -> anyhow::Result<session::Visit> {
    match &shared.doors {
        Doors::Team { db, .. } => Ok(session::Visit {
            db: db.clone(),
            config: shared.config.clone(),
            advisor: advisor.ok_or_else(|| anyhow::anyhow!("no advisor for this key"))?,
            receiver: None,
            keep: Box::new(()),
        }),
        Doors::Demo(_) => {
            let (dir, db) = demo_database()?;
            let dealership = crate::demo::Dealership::start(&db, shared.config.clone(), true, true)?;
            Ok(session::Visit {
                db,
                config: dealership.config.clone(),
                advisor: dealership.config.team().me,
                receiver: Some(dealership.receiver),
                // The dealership stops before its directory goes.
                keep: Box::new((dealership, dir)),
            })
        }
    }
}

/// Where a command runs: as `visit`, but a demo's dealership needs no receiver or feed.
fn place(shared: &Shared, advisor: Option<crate::team::Advisor>) -> anyhow::Result<(exec::Place, Box<dyn Send>)> {
    match &shared.doors {
        Doors::Team { db, .. } => Ok((
            exec::Place {
                db: db.clone(),
                config: shared.config.path.clone(),
                advisor: advisor.ok_or_else(|| anyhow::anyhow!("no advisor for this key"))?,
            },
            Box::new(()),
        )),
        Doors::Demo(_) => {
            let (dir, db) = demo_database()?;
            let advisor = crate::demo::Dealership::team(&shared.config).me;
            Ok((
                exec::Place {
                    db,
                    config: None,
                    advisor,
                },
                Box::new(dir),
            ))
        }
    }
}

/// A demo dealership's database in a directory of its own, removed when the directory is dropped.
fn demo_database() -> anyhow::Result<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::Builder::new().prefix("switchboard-demo-visit-").tempdir()?;
    let db = crate::demo::database_in(&dir.path().join("demo"))?;
    Ok((dir, db))
}

/// The session's frames into the channel, in order, until the inbox ends (its writer dropped);
/// then its farewell, if a bound ended it, and the channel closes.
#[allow(clippy::too_many_arguments)]
async fn write_frames(
    out: ChannelWriteHalf<Msg>,
    mut frames: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    backlog: Arc<session::Backlog>,
    repaint: std::sync::mpsc::Sender<Action>,
    (count, finished): (bounds::Count, tokio::sync::oneshot::Receiver<()>),
    who: String,
    farewell: Arc<Mutex<Option<String>>>,
    _ended: tokio::sync::oneshot::Sender<()>,
) {
    while let Some(bytes) = frames.recv().await {
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
    let words = farewell.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(words) = words {
        let _ = out.data_bytes(format!("{words}\r\n").into_bytes()).await;
    }
    let _ = out.exit_status(0).await;
    let _ = out.eof().await;
    let _ = out.close().await;
    // Then the session's seat comes back, after what it held (a visitor's dealership) is gone.
    let _ = finished.await;
    tracing::info!(
        advisor = %who,
        sessions = count.now(),
        frames_dropped = backlog.frames_dropped.load(Ordering::Relaxed),
        most_queued = backlog.most.load(Ordering::Relaxed),
        bytes = backlog.produced.load(Ordering::Relaxed),
        "SSH session ended"
    );
}

/// What ends a session from the server's side: the server stopping (every session), and for a
/// demo visit its bounds (a minute's warning inside the inbox, then the end, when the visitor
/// presses no key for the idle time or the visit reaches its length). Either way the inbox gives
/// the screen back and a farewell line follows. Sleeps until the next moment that could matter;
/// stops when the session ends.
async fn clock(
    shared: Arc<Shared>,
    input: Arc<Mutex<Input>>,
    farewell: Arc<Mutex<Option<String>>>,
    mut ended: tokio::sync::oneshot::Receiver<()>,
) {
    let bounds = match &shared.doors {
        Doors::Demo(b) => Some(b),
        Doors::Team { .. } => None,
    };
    let mut stopping = shared.stopping.subscribe();
    let started = Instant::now();
    // The deadline last warned about: a key moves the idle deadline, and the next one is
    // warned about again.
    let mut warned_for = None;
    let end = |words: String| {
        *farewell.lock().unwrap_or_else(|e| e.into_inner()) = Some(words);
        lock(&input).tell(Action::Hangup("ended by the server".into()));
    };
    loop {
        let last_key = lock(&input).last_key;
        let now = Instant::now();
        let next = match bounds {
            Some(b) => {
                if let Some(words) = bounds::closing(b, started, last_key, now) {
                    return end(words);
                }
                if let Some((deadline, why)) = bounds::warning(b, started, last_key, now)
                    && warned_for != Some(deadline)
                {
                    warned_for = Some(deadline);
                    lock(&input).tell(Action::Notice(bounds::closing_soon(why)));
                }
                Some(bounds::next_check(b, started, last_key, now))
            }
            None => None,
        };
        tokio::select! {
            _ = sleep_until(next) => {}
            _ = stopping.changed() => return end(bounds::STOPPING.into()),
            _ = &mut ended => return,
        }
    }
}

/// Whether a terminal named `term` shows colour: the DEC terminals and `dumb` do not; everything
/// else a person runs today does (the inbox draws with xterm's sequences whatever the name).
fn has_colour(term: &str) -> bool {
    !matches!(term, "dumb" | "vt52" | "vt100" | "vt102" | "vt220" | "vt320")
}

/// Until `at`; forever when there is no such moment.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A size the screen can draw. Zero means the client does not know (RFC 4254 §6.2: a client
/// whose input is not a terminal sends it): 80×24 then. Absurd sizes are cut down.
fn clamp_size(cols: u32, rows: u32) -> Size {
    let or = |n: u32, unknown: u16| if n == 0 { unknown } else { n.min(1000) as u16 };
    Size::new(or(cols, 80), or(rows, 24))
}
