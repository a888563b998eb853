//! Replying through myKaarma's send-message API: the outbox's states (`outbox`), the wire format
//! (`wire`), the HTTP client (`client`), the attempt that ties them together (`deliver`), error
//! codes in words (`advice`) and SMS lengths (`sms`).

pub mod advice;
pub mod client;
pub mod deliver;
pub mod outbox;
pub mod sms;
pub mod wire;
pub mod worker;
