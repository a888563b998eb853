//! Replying through the vendors' send APIs, all on one outbox (`crate::outbox`): the discipline every
//! reply follows (`attempt`), the HTTP side (`http`), one module per vendor (`mykaarma`,
//! `highlevel`, `partoo`), the worker that sends off the key path (`worker`) and SMS lengths (`sms`).

pub mod assign;
pub mod attempt;
pub mod highlevel;
pub mod http;
pub mod mykaarma;
pub mod partoo;
pub mod sms;
pub mod worker;

use crate::model::{Channel, Provider};
use crate::outbox::Target;

/// The channels a reply in this conversation can go out on, the vendor's way.
pub fn channels(target: &Target) -> Vec<Channel> {
    match target.provider {
        Provider::MyKaarma => mykaarma::CHANNELS.to_vec(),
        Provider::HighLevel => highlevel::channels(target),
        Provider::Partoo => partoo::channels(target),
        Provider::Unknown(_) => vec![],
    }
}

/// The channel a new reply goes out on: the one the customer last wrote on when the vendor can
/// send there, else the first it can.
pub fn default_channel(target: &Target) -> Option<Channel> {
    let can = channels(target);
    target
        .last_inbound_channel
        .clone()
        .filter(|c| can.contains(c))
        .or_else(|| can.first().cloned())
}

/// Where a reply on `channel` goes: the contact's phone for texts, email for emails; `None` for
/// the messaging channels, which reply into the conversation itself.
pub fn recipient(target: &Target, channel: &Channel) -> Option<String> {
    match channel {
        Channel::Sms => target.phone.clone(),
        Channel::Email => target.email.clone(),
        _ => None,
    }
}
