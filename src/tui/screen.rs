//! The inbox's output: a ratatui backend that writes a frame only when something on it changed.
//! ratatui diffs cells, but every `draw` still emits colour resets and a cursor command; here a
//! frame with no changed cell writes nothing at all, and a frame that does change is written in
//! one piece inside synchronized output (CSI ?2026), so terminals never show half of it.
//!
//! The writer is any `Write` (the terminal's stdout today, an SSH channel tomorrow).

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

const BEGIN_SYNC: &[u8] = b"\x1b[?2026h";
const END_SYNC: &[u8] = b"\x1b[?2026l";

/// One frame's bytes, shared between the crossterm backend that writes them and `Screen::flush`.
#[derive(Clone, Default)]
struct FrameBytes(Arc<Mutex<Vec<u8>>>);

impl Write for FrameBytes {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The size of a terminal that is not this process's own (an SSH session's, from its PTY request
/// and window changes).
pub type SharedSize = Arc<Mutex<Size>>;

pub struct Screen<W: Write> {
    /// Collects one frame's bytes; `flush` hands them to `out` at once.
    frame: CrosstermBackend<FrameBytes>,
    /// Where the size comes from when it is not this process's terminal.
    size: Option<SharedSize>,
    bytes: FrameBytes,
    out: W,
    cursor_hidden: Option<bool>,
    cursor_at: Option<Position>,
    /// Bytes written to `out` so far.
    pub written: u64,
}

impl<W: Write> Screen<W> {
    pub fn new(out: W) -> Screen<W> {
        let bytes = FrameBytes::default();
        Screen {
            frame: CrosstermBackend::new(bytes.clone()),
            size: None,
            bytes,
            out,
            cursor_hidden: None,
            cursor_at: None,
            written: 0,
        }
    }

    /// A screen on another terminal, whose size `size` holds.
    pub fn sized(out: W, size: SharedSize) -> Screen<W> {
        Screen {
            size: Some(size),
            ..Screen::new(out)
        }
    }

    /// Write something that is not a frame (the bell, a clipboard request) straight through.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.out.flush()?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Forget what the terminal shows (after another program had it): the next frame is whole.
    pub fn forget(&mut self) {
        self.cursor_hidden = None;
        self.cursor_at = None;
    }
}

impl<W: Write> Backend for Screen<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut cells = content.peekable();
        if cells.peek().is_none() {
            return Ok(());
        }
        // Drawing moves the terminal's cursor.
        self.cursor_at = None;
        self.frame.draw(cells)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(true) {
            self.cursor_hidden = Some(true);
            self.frame.hide_cursor()?;
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(false) {
            self.cursor_hidden = Some(false);
            self.frame.show_cursor()?;
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor_at.unwrap_or_default())
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        if self.cursor_at != Some(p) {
            self.cursor_at = Some(p);
            self.frame.set_cursor_position(p)?;
        }
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.cursor_at = None;
        self.frame.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.cursor_at = None;
        self.frame.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        match &self.size {
            Some(size) => Ok(*size.lock().unwrap_or_else(|e| e.into_inner())),
            None => self.frame.size(),
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match &self.size {
            Some(_) => Ok(WindowSize {
                columns_rows: self.size()?,
                pixels: Size::default(),
            }),
            None => self.frame.window_size(),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        ratatui::backend::Backend::flush(&mut self.frame)?;
        let mut bytes = self.bytes.0.lock().unwrap_or_else(|e| e.into_inner());
        if bytes.is_empty() {
            return Ok(());
        }
        bytes.splice(0..0, BEGIN_SYNC.iter().copied());
        bytes.extend_from_slice(END_SYNC);
        let result = self.out.write_all(&bytes).and_then(|_| self.out.flush());
        self.written += bytes.len() as u64;
        bytes.clear();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::widgets::Paragraph;

    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_unchanged_frame_writes_nothing_and_a_changed_one_is_synchronized() {
        let sink = Sink::default();
        let mut t = Terminal::with_options(
            Screen::new(sink.clone()),
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 20, 2)),
            },
        )
        .unwrap();
        t.draw(|f| f.render_widget(Paragraph::new("hello"), f.area())).unwrap();
        let first = sink.0.lock().unwrap().clone();
        assert!(first.starts_with(BEGIN_SYNC) && first.ends_with(END_SYNC));
        assert!(String::from_utf8_lossy(&first).contains("hello"));
        t.draw(|f| f.render_widget(Paragraph::new("hello"), f.area())).unwrap();
        assert_eq!(
            sink.0.lock().unwrap().len(),
            first.len(),
            "the same frame again wrote bytes"
        );
        t.draw(|f| f.render_widget(Paragraph::new("hellO"), f.area())).unwrap();
        assert!(sink.0.lock().unwrap().len() > first.len());
    }
}
