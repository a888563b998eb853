//! The one keymap: it routes keys, and the help screen and status-bar hints are generated from it,
//! so they can never disagree. The config file may rebind any command by name (`[keys]`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;

/// What a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    NextFilter,
    PrevFilter,
    Search,
    ToggleRead,
    Help,
    /// Thread: write a reply in the compose pane.
    Reply,
    /// Thread: put the last failed or unknown reply back in the compose pane.
    Resend,
    /// Thread: list the thread's links to copy one.
    Links,
    /// Mark the conversation done (it leaves the list until the customer writes again).
    Done,
    /// Mark it done and open the next unread conversation.
    DoneAndNext,
    /// Hide it until a time.
    Snooze,
    /// Write an internal note in the thread.
    Note,
    AssignMe,
    AssignTo,
    /// Open the next unread conversation in the list.
    NextUnread,
    /// Open the next conversation with a failed reply.
    NextFailed,
    // Compose pane:
    SendReply,
    LeaveReply,
    NextField,
    NextChannel,
    ExternalEditor,
    /// Compose: pick a reply template.
    Templates,
    /// Compose: open the send options (each then one letter).
    SendOptions,
    /// Compose: the help, where `?` is text.
    ReplyHelp,
    ToggleSignature,
    ToggleFooter,
    ToggleTcpa,
    ToggleVcard,
    ToggleQueue,
    ToggleSync,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Everywhere,
    List,
    Thread,
    /// Typing a reply: only these bindings apply (everything else is text).
    Compose,
    /// The send options line of the reply pane: one letter toggles one option.
    Options,
}

impl Context {
    /// Whether bindings for everywhere apply here (not where keys are text or option letters).
    pub fn takes_everywhere(self) -> bool {
        matches!(self, Context::List | Context::Thread)
    }
}

pub struct Binding {
    pub command: Command,
    /// The name used in the config file.
    pub name: &'static str,
    pub keys: Vec<String>,
    pub help: &'static str,
    pub context: Context,
    /// Shown in the status bar's hints.
    pub hint: bool,
}

/// (command, config name, default keys, help text, where, shown in hints)
type DefaultBinding = (
    Command,
    &'static str,
    &'static [&'static str],
    &'static str,
    Context,
    bool,
);

const DEFAULTS: &[DefaultBinding] = &[
    (
        Command::Down,
        "down",
        &["j", "down"],
        "move down / scroll down",
        Context::Everywhere,
        false,
    ),
    (
        Command::Up,
        "up",
        &["k", "up"],
        "move up / scroll up",
        Context::Everywhere,
        false,
    ),
    (
        Command::PageDown,
        "page_down",
        &["pagedown", "ctrl-d", "space"],
        "page down",
        Context::Everywhere,
        false,
    ),
    (
        Command::PageUp,
        "page_up",
        &["pageup", "ctrl-u"],
        "page up",
        Context::Everywhere,
        false,
    ),
    (
        Command::Top,
        "top",
        &["g", "home"],
        "first conversation / oldest message",
        Context::Everywhere,
        false,
    ),
    (
        Command::Bottom,
        "bottom",
        &["G", "end"],
        "last conversation / newest message",
        Context::Everywhere,
        false,
    ),
    (
        Command::Open,
        "open",
        &["enter", "l", "right"],
        "open the conversation",
        Context::List,
        true,
    ),
    (
        Command::Back,
        "back",
        &["esc", "h", "left"],
        "back to the list / clear the search",
        Context::Everywhere,
        true,
    ),
    (
        Command::NextFilter,
        "next_filter",
        &["f"],
        "next filter (all, unread, mine, unassigned, failed, channels, vendors, done, snoozed)",
        Context::Everywhere,
        true,
    ),
    (
        Command::PrevFilter,
        "prev_filter",
        &["F"],
        "previous filter",
        Context::Everywhere,
        false,
    ),
    (
        Command::Search,
        "search",
        &["/"],
        "search all messages",
        Context::Everywhere,
        true,
    ),
    (
        Command::ToggleRead,
        "toggle_read",
        &["u"],
        "mark read / unread",
        Context::Everywhere,
        true,
    ),
    (
        Command::Help,
        "help",
        &["?", "f1"],
        "this help",
        Context::Everywhere,
        true,
    ),
    (Command::Reply, "reply", &["r"], "write a reply", Context::Thread, true),
    (
        Command::NextUnread,
        "next_unread",
        &["tab"],
        "open the next unread conversation",
        Context::Everywhere,
        true,
    ),
    (
        Command::NextFailed,
        "next_failed",
        &["!", "backtab"],
        "open the next conversation with a failed reply",
        Context::Everywhere,
        false,
    ),
    (
        Command::Done,
        "done",
        &["d"],
        "done: out of the list until the customer writes again",
        Context::Everywhere,
        true,
    ),
    (
        Command::DoneAndNext,
        "done_and_next",
        &["D"],
        "done, then the next unread conversation",
        Context::Everywhere,
        false,
    ),
    (
        Command::Snooze,
        "snooze",
        &["z"],
        "snooze until a time (1h, tomorrow 9am) or the customer writes",
        Context::Everywhere,
        false,
    ),
    (
        Command::AssignMe,
        "assign_me",
        &["a"],
        "assign to me (and tell the vendor where it can be told)",
        Context::Everywhere,
        false,
    ),
    (
        Command::AssignTo,
        "assign_to",
        &["A"],
        "assign to someone on the team, or nobody",
        Context::Everywhere,
        false,
    ),
    (
        Command::Note,
        "note",
        &["n"],
        "write an internal note (never sent)",
        Context::Thread,
        false,
    ),
    (
        Command::Resend,
        "resend",
        &["R"],
        "put the last failed or unknown reply back in the reply pane, to send it again",
        Context::Thread,
        false,
    ),
    (
        Command::Links,
        "links",
        &["o"],
        "links in the thread: copy one (OSC 52) and show it whole",
        Context::Thread,
        true,
    ),
    (
        Command::SendReply,
        "send_reply",
        &["ctrl-s"],
        "send (asks to confirm: y sends)",
        Context::Compose,
        true,
    ),
    (
        Command::LeaveReply,
        "leave_reply",
        &["esc"],
        "back to the thread (the draft is kept)",
        Context::Compose,
        true,
    ),
    (
        Command::NextField,
        "next_field",
        &["tab"],
        "email: move between subject and text",
        Context::Compose,
        false,
    ),
    (
        Command::Templates,
        "templates",
        &["ctrl-p"],
        "insert a template at the cursor (with a preview)",
        Context::Compose,
        true,
    ),
    (
        Command::NextChannel,
        "next_channel",
        &["ctrl-t"],
        "send on the next channel the vendor can (text, email, WhatsApp, …)",
        Context::Compose,
        true,
    ),
    (
        Command::ExternalEditor,
        "external_editor",
        &["ctrl-e"],
        "write in $EDITOR",
        Context::Compose,
        true,
    ),
    (
        Command::SendOptions,
        "send_options",
        &["ctrl-o"],
        "send options (then one letter each; esc when done)",
        Context::Compose,
        true,
    ),
    (
        Command::ReplyHelp,
        "reply_help",
        &["f1", "ctrl-g"],
        "help for the reply pane",
        Context::Compose,
        true,
    ),
    (
        Command::ToggleSignature,
        "toggle_signature",
        &["s"],
        "append your signature",
        Context::Options,
        false,
    ),
    (
        Command::ToggleFooter,
        "toggle_footer",
        &["f"],
        "append the dealership footer",
        Context::Options,
        false,
    ),
    (
        Command::ToggleTcpa,
        "toggle_tcpa",
        &["t"],
        "text: append \"Text STOP to opt-out\" (on by default)",
        Context::Options,
        false,
    ),
    (
        Command::ToggleVcard,
        "toggle_vcard",
        &["v"],
        "text: send the department's contact card",
        Context::Options,
        false,
    ),
    (
        Command::ToggleQueue,
        "toggle_queue",
        &["q"],
        "text: queue until a not-yet-opted-in customer opts in",
        Context::Options,
        false,
    ),
    (
        Command::ToggleSync,
        "toggle_sync",
        &["y"],
        "wait for the carrier before myKaarma answers",
        Context::Options,
        false,
    ),
    (
        Command::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit",
        Context::Everywhere,
        true,
    ),
];

pub struct Keymap {
    pub bindings: Vec<Binding>,
    lookup: HashMap<String, Vec<usize>>,
}

impl Keymap {
    /// The defaults, with any command rebound by `overrides` (command name → keys).
    pub fn new(overrides: &HashMap<String, Vec<String>>) -> Result<Keymap, String> {
        for name in overrides.keys() {
            if !DEFAULTS.iter().any(|d| d.1 == name) {
                let known: Vec<&str> = DEFAULTS.iter().map(|d| d.1).collect();
                return Err(format!(
                    "unknown command `{name}` in [keys]; commands: {}",
                    known.join(", ")
                ));
            }
        }
        let bindings: Vec<Binding> = DEFAULTS
            .iter()
            .map(|&(command, name, keys, help, context, hint)| Binding {
                command,
                name,
                keys: overrides
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| keys.iter().map(|k| k.to_string()).collect()),
                help,
                context,
                hint,
            })
            .collect();
        let mut lookup: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in bindings.iter().enumerate() {
            for k in &b.keys {
                lookup.entry(k.clone()).or_default().push(i);
            }
        }
        Ok(Keymap { bindings, lookup })
    }

    /// The command a key means in a context.
    pub fn command(&self, key: &KeyEvent, context: Context) -> Option<Command> {
        let name = key_name(key)?;
        self.lookup
            .get(&name)?
            .iter()
            .map(|&i| &self.bindings[i])
            .find_map(|b| {
                let applies = b.context == context || (b.context == Context::Everywhere && context.takes_everywhere());
                applies.then_some(b.command)
            })
    }

    /// Whether any command is bound to this key (in any context).
    pub fn binds(&self, key: &KeyEvent) -> bool {
        key_name(key).is_some_and(|name| self.lookup.contains_key(&name))
    }

    /// The first key bound to a command, for hints.
    pub fn key_for(&self, command: Command) -> Option<&str> {
        self.bindings
            .iter()
            .find(|b| b.command == command)?
            .keys
            .first()
            .map(String::as_str)
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&HashMap::new()).expect("defaults are valid")
    }
}

/// A key as the keymap spells it: `q`, `G`, `ctrl-c`, `enter`, `pagedown`, …
pub fn key_name(key: &KeyEvent) -> Option<String> {
    let base = match key.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageUp => "pageup".into(),
        KeyCode::PageDown => "pagedown".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::F(n) => format!("f{n}"),
        _ => return None,
    };
    Some(if key.modifiers.contains(KeyModifiers::CONTROL) {
        format!("ctrl-{base}")
    } else if key.modifiers.contains(KeyModifiers::ALT) {
        format!("alt-{base}")
    } else {
        base
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn vim_and_arrow_keys_both_work() {
        let k = Keymap::default();
        assert_eq!(
            k.command(&key(KeyCode::Char('j'), KeyModifiers::NONE), Context::List),
            Some(Command::Down)
        );
        assert_eq!(
            k.command(&key(KeyCode::Down, KeyModifiers::NONE), Context::List),
            Some(Command::Down)
        );
        assert_eq!(
            k.command(&key(KeyCode::Char('c'), KeyModifiers::CONTROL), Context::Thread),
            Some(Command::Quit)
        );
        assert_eq!(
            k.command(&key(KeyCode::Char('G'), KeyModifiers::SHIFT), Context::List),
            Some(Command::Bottom)
        );
        // Open is a list command; in a thread `l` means nothing.
        assert_eq!(
            k.command(&key(KeyCode::Char('l'), KeyModifiers::NONE), Context::Thread),
            None
        );
    }

    #[test]
    fn config_rebinds_by_name_and_rejects_unknown_commands() {
        let mut o = HashMap::new();
        o.insert("quit".to_string(), vec!["x".to_string()]);
        let k = Keymap::new(&o).unwrap();
        assert_eq!(
            k.command(&key(KeyCode::Char('x'), KeyModifiers::NONE), Context::List),
            Some(Command::Quit)
        );
        assert_eq!(
            k.command(&key(KeyCode::Char('q'), KeyModifiers::NONE), Context::List),
            None
        );
        o.insert("fly".to_string(), vec![]);
        let err = Keymap::new(&o).err().expect("unknown command refused");
        assert!(err.contains("unknown command `fly`"), "{err}");
    }
}
