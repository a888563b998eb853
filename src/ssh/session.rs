//! One inbox per SSH channel: the same `Session` and loop as the local inbox, on its own thread,
//! its frames written into the channel and its keys parsed from the channel's bytes.

use crate::config::Config;
use crate::team::Advisor;
use crate::tui::app::Session;
use crate::tui::screen::{Screen, SharedSize};
use crate::tui::update::Action;
use ratatui::Terminal;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use tokio::sync::mpsc::UnboundedSender;

/// What the SSH side keeps to talk to a running inbox.
pub struct Running {
    pub actions: mpsc::Sender<Action>,
    pub keymap: std::sync::Arc<crate::tui::keymap::Keymap>,
}

/// Frames on their way to the channel. The screen writes a frame and flushes once; each flush is
/// one message to the task that writes the channel.
struct ChannelWriter {
    out: UnboundedSender<Vec<u8>>,
    buf: Vec<u8>,
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
        self.out
            .send(std::mem::take(&mut self.buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the SSH channel is closed"))
    }
}

/// The alternate screen, no cursor: what a local inbox asks of its terminal.
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
/// Back as it was, sent before the channel closes.
const LEAVE: &[u8] = b"\x1b[?2026l\x1b[?1049l\x1b[?25h";

/// Start an inbox for `advisor` on its own thread. `out` takes its bytes; the thread ends when the
/// inbox quits or is told the client went away, and `out` is dropped then (which closes the
/// channel). The returned handle is how keys and window changes reach it.
pub fn start(
    db: PathBuf,
    config: Config,
    advisor: Advisor,
    color: bool,
    size: SharedSize,
    out: UnboundedSender<Vec<u8>>,
) -> anyhow::Result<Running> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    std::thread::Builder::new().name("ssh-session".into()).spawn(move || {
        let mut session = match Session::open(&db, &config, advisor, color, None) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        let _ = ready_tx.send(Ok(Running {
            actions: session.actions.clone(),
            keymap: session.keymap.clone(),
        }));
        let mut writer = ChannelWriter { out, buf: vec![] };
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
        let run = run.and_then(|(_terminal, result)| result);
        if let Err(e) = run {
            tracing::warn!(error = %format!("{e:#}"), "an SSH session ended with an error");
        }
    })?;
    ready_rx
        .recv()
        .map_err(|_| anyhow::anyhow!("the session thread stopped before it started"))?
}
