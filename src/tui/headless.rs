//! The inbox without a terminal: the real store, `update`, effects and drawing, driven
//! synchronously into any ratatui backend. Snapshot tests, the escape-injection test and the
//! benchmarks all run the product this way.

use super::effects;
use super::keymap::Keymap;
use super::state::State;
use super::theme::Theme;
use super::ui::{self, Clock, View};
use super::update::{self, Action, Effect};
use crate::store::Store;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::Backend;

pub struct Headless<B: Backend> {
    pub store: Store,
    pub state: State,
    pub keymap: Keymap,
    pub theme: Theme,
    pub clock: Clock,
    pub terminal: Terminal<B>,
    /// Bells rung so far.
    pub bells: usize,
    /// Where replies go; without one, the inbox says sending is not configured.
    pub worker: Option<crate::send::worker::Worker>,
    /// Texts `$EDITOR` would be asked to edit.
    pub editor_requests: Vec<String>,
    /// Texts put on the clipboard.
    pub copied: Vec<String>,
    quit: bool,
}

impl<B: Backend> Headless<B> {
    /// Open the inbox on `store` at time `now_ms`, with the first queries answered and drawn.
    pub fn new(store: Store, backend: B, now_ms: i64) -> Self {
        Self::with_terminal(store, Terminal::new(backend).expect("backend"), now_ms)
    }

    /// As `new`, on a terminal built by the caller (e.g. with a fixed viewport).
    pub fn with_terminal(store: Store, terminal: Terminal<B>, now_ms: i64) -> Self {
        let mut h = Headless {
            store,
            state: State::new(now_ms),
            keymap: Keymap::default(),
            theme: Theme { color: true },
            clock: Clock { offset_secs: 0 },
            terminal,
            bells: 0,
            worker: None,
            editor_requests: vec![],
            copied: vec![],
            quit: false,
        };
        let effects = update::start(&mut h.state);
        h.run(effects);
        h
    }

    /// Apply an action and everything it leads to, then draw until the screen is settled.
    pub fn act(&mut self, action: Action) {
        let effects = update::update(&mut self.state, &self.keymap, action);
        self.run(effects);
    }

    /// Press a key, spelled as the keymap spells it (`j`, `enter`, `ctrl-c`, …), or type a character.
    pub fn press(&mut self, key: &str) {
        self.act(Action::Key(parse_key(key)));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.act(Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
    }

    /// Whether the inbox asked to quit.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }

    fn run(&mut self, mut effects: Vec<Effect>) {
        // Effects run in order and their answers are applied at once: what the effect thread does,
        // without the thread.
        loop {
            while let Some(effect) = (!effects.is_empty()).then(|| effects.remove(0)) {
                match effect {
                    Effect::Bell => self.bells += 1,
                    Effect::Copy(text) => self.copied.push(text),
                    Effect::Quit => self.quit = true,
                    Effect::Editor { text, .. } => self.editor_requests.push(text),
                    other => {
                        if let Some(action) = effects::run(
                            &mut self.store,
                            other,
                            self.worker.as_ref(),
                            &crate::config::Config::default(),
                        ) {
                            effects.extend(update::update(&mut self.state, &self.keymap, action));
                        }
                    }
                }
            }
            if !self.state.dirty {
                return;
            }
            let layout = self.draw();
            if layout == self.state.layout {
                return;
            }
            effects.extend(update::update(&mut self.state, &self.keymap, Action::Layout(layout)));
        }
    }

    /// Draw one frame (only what changed reaches the backend, as on a real terminal).
    pub fn draw(&mut self) -> super::state::Layout {
        let mut layout = None;
        let view = View {
            state: &self.state,
            keymap: &self.keymap,
            theme: self.theme,
            clock: self.clock,
        };
        self.terminal.draw(|f| layout = Some(ui::draw(f, &view))).expect("draw");
        self.state.dirty = false;
        layout.expect("drawn")
    }
}

/// `j`, `G`, `enter`, `ctrl-c`, … as a key event.
pub fn parse_key(name: &str) -> KeyEvent {
    let (modifiers, base) = match (name.strip_prefix("ctrl-"), name.strip_prefix("alt-")) {
        (Some(rest), _) => (KeyModifiers::CONTROL, rest),
        (_, Some(rest)) => (KeyModifiers::ALT, rest),
        _ => (KeyModifiers::NONE, name),
    };
    let code = match base {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "backspace" => KeyCode::Backspace,
        "space" => KeyCode::Char(' '),
        one => KeyCode::Char(one.chars().next().expect("a key")),
    };
    KeyEvent::new(code, modifiers)
}
