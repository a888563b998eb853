//! Switchboard: a terminal inbox for dealerships' customer conversations.
//!
//! Vendor payload → `providers` normalise → `store` appends the raw event and folds it into
//! conversations and messages → the CLI (and later the inbox screens) read through `store` queries.

pub mod html;
pub mod model;
pub mod providers;
