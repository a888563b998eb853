//! One inbox per SSH channel: the same `Session` and loop as the local inbox, on its own thread,
//! its frames written into the channel and its keys parsed from the channel's bytes.

use crate::config::Config;
use crate::team::Advisor;
use crate::tui::app::Session;
use crate::tui::screen::{Screen, SharedSize};
use crate::tui::update::Action;
use ratatui::Terminal;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use tokio::sync::mpsc::UnboundedSender;

/// What the SSH side keeps to talk to a running inbox.
pub struct Running {
    pub actions: mpsc::Sender<Action>,
    pub keymap: std::sync::Arc<crate::tui::keymap::Keymap>,
}

/// Bytes queued for a channel beyond which frames are dropped: a client that stops reading
/// (a stalled link, a suspended ssh) cannot make the server hold its frames.
pub const BACKLOG_LIMIT: usize = 256 * 1024;

/// What a session's writer and the task that drains it into the channel share.
#[derive(Default)]
pub struct Backlog {
    /// Bytes handed to the channel task and not yet written.
    pub bytes: AtomicUsize,
    /// A frame was dropped: once the backlog drains, the screen is drawn whole again.
    pub dropped: AtomicBool,
    /// Frames dropped, and the most bytes ever queued, for the session's last log line.
    pub frames_dropped: AtomicUsize,
    pub most: AtomicUsize,
    /// Bytes of frames the session produced.
    pub produced: AtomicUsize,
}

/// Frames on their way to the channel. The screen writes a frame and flushes once; each flush is
/// one message to the task that writes the channel, unless the link is that far behind: then the
/// frame is dropped (the next one after the backlog drains is a full repaint, so dropping is safe).
struct ChannelWriter {
    out: UnboundedSender<Vec<u8>>,
    buf: Vec<u8>,
    backlog: Arc<Backlog>,
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.buf);
        self.backlog.produced.fetch_add(frame.len(), Ordering::Relaxed);
        if self.backlog.bytes.load(Ordering::Relaxed) + frame.len() > BACKLOG_LIMIT {
            self.backlog.dropped.store(true, Ordering::Relaxed);
            self.backlog.frames_dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let queued = self.backlog.bytes.fetch_add(frame.len(), Ordering::Relaxed) + frame.len();
        self.backlog.most.fetch_max(queued, Ordering::Relaxed);
        self.out
            .send(frame)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the SSH channel is closed"))
    }
}

/// The alternate screen, no cursor: what a local inbox asks of its terminal.
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
/// Back as it was, sent before the channel closes.
const LEAVE: &[u8] = b"\x1b[?2026l\x1b[?1049l\x1b[?25h";

/// What one session's inbox runs on and as.
pub struct Visit {
    pub db: PathBuf,
    pub config: Config,
    pub advisor: Advisor,
    /// A receiver of the session's own (a demo visitor's), where the sandbox's callbacks go.
    pub receiver: Option<SocketAddr>,
    /// Whatever lives as long as the inbox (a visitor's demo dealership), dropped after it.
    pub keep: Box<dyn Send>,
}

/// Start an inbox for `visit` on its own thread. `out` takes its bytes; the thread ends when the
/// inbox quits or is told the client went away, and `out` is dropped then (which closes the
/// channel). The returned handle is how keys and window changes reach it.
pub fn start(
    visit: Visit,
    color: bool,
    size: SharedSize,
    out: UnboundedSender<Vec<u8>>,
    backlog: Arc<Backlog>,
) -> anyhow::Result<Running> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    std::thread::Builder::new().name("ssh-session".into()).spawn(move || {
        let Visit {
            db,
            config,
            advisor,
            receiver,
            keep,
        } = visit;
        let mut session = match Session::open(&db, &config, advisor, color, receiver) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        if let Some(addr) = receiver {
            session.state.receiver = crate::tui::state::Receiver::Listening(addr.to_string());
        }
        let _ = ready_tx.send(Ok(Running {
            actions: session.actions.clone(),
            keymap: session.keymap.clone(),
        }));
        let mut writer = ChannelWriter {
            out,
            buf: vec![],
            backlog,
        };
        let _ = writer.write_all(ENTER).and_then(|_| writer.flush());
        let run = Terminal::new(Screen::sized(writer, size))
            .map_err(anyhow::Error::from)
            .and_then(|mut terminal| {
                terminal.clear()?;
                let result = session.run(&mut terminal, None);
                let _ = terminal.backend_mut().write_raw(LEAVE);
                Ok::<_, anyhow::Error>((terminal, result))
            });
        // The draft being written is saved whatever ended the session.
        session.finish();
        // The terminal goes (closing the channel), then what lived beside the inbox.
        let run = run.and_then(|(_terminal, result)| result);
        drop(keep);
        if let Err(e) = run {
            tracing::warn!(error = %format!("{e:#}"), "an SSH session ended with an error");
        }
    })?;
    ready_rx
        .recv()
        .map_err(|_| anyhow::anyhow!("the session thread stopped before it started"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_that_falls_behind_sheds_frames_and_is_repainted_once_it_drains() {
        let (out, mut queued) = tokio::sync::mpsc::unbounded_channel();
        let backlog = Arc::new(Backlog::default());
        let mut writer = ChannelWriter {
            out,
            buf: vec![],
            backlog: backlog.clone(),
        };
        let frame = vec![b'x'; 40 * 1024];
        // Nothing drains the channel: a stopped client.
        for _ in 0..100 {
            writer.write_all(&frame).unwrap();
            writer.flush().unwrap();
        }
        let held = backlog.bytes.load(Ordering::Relaxed);
        assert!(held <= BACKLOG_LIMIT, "{held} bytes held");
        assert_eq!(
            backlog.frames_dropped.load(Ordering::Relaxed),
            100 - BACKLOG_LIMIT / frame.len()
        );
        assert!(
            backlog.dropped.load(Ordering::Relaxed),
            "the next frame after draining is whole"
        );
        let mut n = 0;
        while queued.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, BACKLOG_LIMIT / frame.len());
    }
}
