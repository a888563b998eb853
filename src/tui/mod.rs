//! The inbox screen: conversation list, thread view, live updates.
//!
//! Key → `Action` → pure `update(&mut State, Action) -> Vec<Effect>` → effects run on the
//! `effects` thread (queries, marks) and come back as actions; the screen is redrawn only when the
//! state changed, once per batch of input, inside synchronized output.

pub mod app;
pub mod compose;
pub mod effects;
pub mod file_watch;
pub mod headless;
pub mod input;
pub mod keymap;
pub mod keys;
pub mod measure;
pub mod measure_ssh;
pub mod measure_terminal;
pub mod screen;
pub mod state;
mod team_keys;
pub mod theme;
pub mod ui;
pub mod update;
