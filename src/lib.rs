#![recursion_limit = "256"]

//! Switchboard: a terminal inbox for dealerships' customer conversations.
//!
//! Vendor payload → `providers` normalise → `store` appends the raw event and folds it into
//! conversations and messages → the CLI (and the inbox screens) read through `store` queries.

pub mod cli;
pub mod config;
pub mod demo;
pub mod html;
pub mod import;
pub mod loadgen;
pub mod model;
pub mod notes;
pub mod outbox;
pub mod providers;
pub mod pty;
pub mod random;
pub mod receiver;
pub mod sandbox;
pub mod sanitize;
pub mod send;
pub mod server_thread;
pub mod ssh;
pub mod store;
pub mod synthetic;
pub mod team;
pub mod templates;
pub mod tui;
pub mod verify;
pub mod when;
pub mod width;
