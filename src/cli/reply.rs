//! `send`, `outbox` and `sandbox`: replying from scripts, looking at what was sent, and the local
//! stand-in for the vendors' send APIs.

use super::table::Table;
use super::{Exit, show};
use crate::config::Config;
use crate::model::{Channel, Provider};
use crate::outbox::{NewSend, OutboxEntry, OutboxStatus, SendOptions, vendor_name};
use crate::send::attempt::Sender;
use crate::store::Store;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["message", "text", "email"])))]
pub struct SendArgs {
    /// A conversation id as `conversations` prints it (an unambiguous prefix is enough)
    pub conversation: String,
    /// Send this message on --channel [default channel: the one the customer last wrote on]
    #[arg(long, value_name = "BODY")]
    pub message: Option<String>,
    /// The channel the reply goes out on: sms, email, whatsapp, facebook, instagram, live_chat, …
    #[arg(long, value_name = "CHANNEL", requires = "message")]
    pub channel: Option<String>,
    /// Send a text message with this body (--message BODY --channel sms)
    #[arg(long, value_name = "BODY")]
    pub text: Option<String>,
    /// Send an email with this body (--message BODY --channel email; needs --subject)
    #[arg(long, value_name = "BODY", requires = "subject")]
    pub email: Option<String>,
    /// The email's subject
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    /// The customer's number or address [default: the conversation's] (myKaarma)
    #[arg(long, value_name = "NUMBER|EMAIL")]
    pub to: Option<String>,
    /// Wait for the carrier or email provider before myKaarma answers (myKaarma)
    #[arg(long)]
    pub sync: bool,
    /// Append the sending user's name (myKaarma)
    #[arg(long)]
    pub signature: bool,
    /// Append the dealership footer (myKaarma)
    #[arg(long)]
    pub footer: bool,
    /// Leave off the "Text STOP to opt-out" footer (myKaarma; on by default for texts)
    #[arg(long)]
    pub no_tcpa_footer: bool,
    /// Send the department's contact card (myKaarma texts)
    #[arg(long)]
    pub vcard: bool,
    /// Queue the text until a not-yet-opted-in customer opts in (myKaarma)
    #[arg(long)]
    pub queue_if_opted_out: bool,
    /// Run it again with the same key and it is not sent twice: the first run's entry is reported
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Print the outbox entry as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct OutboxArgs {
    /// Only this conversation's replies
    pub conversation: Option<String>,
    /// At most this many replies
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:8788", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The Basic-auth username it accepts
    #[arg(long, env = "SWITCHBOARD_MYKAARMA_USERNAME", hide_env_values = true)]
    pub username: String,
    /// The Basic-auth password it accepts
    #[arg(long, env = "SWITCHBOARD_MYKAARMA_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Post myKaarma `messages` webhook events here (a receiver's /webhooks/mykaarma)
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// HMAC key for the webhooks' signature [default: the username, as myKaarma does]
    #[arg(
        long,
        value_name = "SECRET",
        hide_env_values = true,
        env = "SWITCHBOARD_MYKAARMA_WEBHOOK_SECRET"
    )]
    pub webhook_secret: Option<String>,
    /// Static x-authorization-token sent with the webhooks
    #[arg(long, value_name = "TOKEN")]
    pub webhook_token: Option<String>,
    /// Milliseconds between the steps of a message's life (submitted, delivered)
    #[arg(long, default_value_t = 800)]
    pub step_ms: u64,
    /// Seconds the slow recipient (…0002) takes to answer
    #[arg(long, default_value_t = 30)]
    pub slow_secs: u64,
    /// Where the redirecting recipient (…0005) is sent
    #[arg(long, default_value = "http://127.0.0.2:9/elsewhere", value_name = "URL")]
    pub redirect_to: String,
    /// The Bearer token its HighLevel accepts
    #[arg(
        long,
        env = "SWITCHBOARD_HIGHLEVEL_TOKEN",
        hide_env_values = true,
        default_value = "sandbox-highlevel-token"
    )]
    pub highlevel_token: String,
    /// The x-APIKey its Partoo accepts
    #[arg(
        long,
        env = "SWITCHBOARD_PARTOO_API_KEY",
        hide_env_values = true,
        default_value = "sandbox-partoo-key"
    )]
    pub partoo_api_key: String,
    /// 32-byte hex seed of the Ed25519 key HighLevel's and Partoo's webhooks are signed with
    /// [default: a new key, its public half printed at start]
    #[arg(
        long,
        value_name = "HEX",
        hide_env_values = true,
        env = "SWITCHBOARD_SANDBOX_SIGNING_SEED"
    )]
    pub signing_seed: Option<String>,
    /// A HighLevel contact's conversation, as HighLevel knows it (repeatable)
    #[arg(long, value_name = "CONTACT=CONVERSATION")]
    pub highlevel_conversation: Vec<String>,
    /// A Partoo conversation's channel (Google, Facebook, Instagram, SMS, Whatsapp; repeatable)
    #[arg(long, value_name = "ID=CHANNEL")]
    pub partoo_conversation: Vec<String>,
}

pub fn sandbox(a: SandboxArgs) -> Result<Exit> {
    let key = match a.signing_seed.as_deref() {
        Some(seed) => {
            let bytes: [u8; 32] = hex::decode(seed.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .context("--signing-seed must be 64 hex digits")?;
            ed25519_dalek::SigningKey::from_bytes(&bytes)
        }
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            ed25519_dalek::SigningKey::from_bytes(&seed)
        }
    };
    {
        use base64::Engine;
        let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
        eprintln!(
            "sandbox signs HighLevel and Partoo webhooks with Ed25519 public key {public} (SWITCHBOARD_HIGHLEVEL_ED25519_KEY, SWITCHBOARD_PARTOO_KEYS)"
        );
    }
    let pairs = |items: &[String], what: &str| -> Result<std::collections::HashMap<String, String>> {
        items
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                    .with_context(|| format!("{what} `{p}`: write it as A=B"))
            })
            .collect()
    };
    crate::sandbox::run(crate::sandbox::Options {
        highlevel_token: a.highlevel_token,
        partoo_api_key: a.partoo_api_key,
        highlevel_key: key.clone(),
        partoo_key: key,
        highlevel_conversations: pairs(&a.highlevel_conversation, "--highlevel-conversation")?,
        partoo_conversations: pairs(&a.partoo_conversation, "--partoo-conversation")?,
        listen: a.listen,
        username: a.username,
        password: a.password,
        webhook_url: a.webhook_url,
        webhook_secret: a.webhook_secret,
        webhook_token: a.webhook_token,
        step: std::time::Duration::from_millis(a.step_ms),
        slow: std::time::Duration::from_secs(a.slow_secs),
        redirect_to: a.redirect_to,
    })?;
    Ok(Exit::Ok)
}

pub fn send(store: &mut Store, config: &Config, a: SendArgs, out: &mut dyn Write) -> Result<Exit> {
    let key = store.resolve_conversation(&a.conversation)?;
    let target = store.target(&key)?;
    let sender = Sender::from_config(config, config.receiver.public_url.clone());
    if let Some(why) = sender.cannot_send(&target.provider) {
        bail!("{why}");
    }
    let (channel, body) = match (a.message, a.text, a.email) {
        (Some(m), None, None) => {
            let channel = match a.channel.as_deref() {
                Some(word) => Channel::parse(&word.trim().to_ascii_lowercase()),
                None => crate::send::default_channel(&target)
                    .with_context(|| format!("{} cannot reply in this conversation", vendor_name(&target.provider)))?,
            };
            (channel, m)
        }
        (None, Some(t), None) => (Channel::Sms, t),
        (None, None, Some(e)) => (Channel::Email, e),
        _ => bail!("give one of --message, --text or --email"),
    };
    if body.trim().is_empty() {
        bail!("the message is empty");
    }
    let can = crate::send::channels(&target);
    if !can.contains(&channel) {
        let words: Vec<&str> = can.iter().map(|c| c.as_str()).collect();
        bail!(
            "{} cannot send a {channel} reply in this conversation; it can send: {}",
            vendor_name(&target.provider),
            if words.is_empty() {
                "nothing".to_string()
            } else {
                words.join(", ")
            }
        );
    }
    let options = SendOptions {
        signature: a.signature,
        footer: a.footer,
        tcpa_footer: !a.no_tcpa_footer,
        vcard: a.vcard,
        queue_if_opted_out: a.queue_if_opted_out,
        synchronous: a.sync,
    };
    let mykaarma_only = [
        ("--sync", a.sync),
        ("--signature", a.signature),
        ("--footer", a.footer),
        ("--no-tcpa-footer", a.no_tcpa_footer),
        ("--vcard", a.vcard),
        ("--queue-if-opted-out", a.queue_if_opted_out),
        ("--to", a.to.is_some()),
    ];
    if target.provider != Provider::MyKaarma {
        let given: Vec<&str> = mykaarma_only.iter().filter(|(_, on)| *on).map(|(f, _)| *f).collect();
        if !given.is_empty() {
            bail!(
                "{} applies to myKaarma replies only; {} sends the text as typed, to the conversation's contact",
                given.join(", "),
                vendor_name(&target.provider)
            );
        }
    }
    let recipient = a.to.or_else(|| crate::send::recipient(&target, &channel));
    let client_id = match a.idempotency_key {
        Some(k) => format!("cli:{k}"),
        None => crate::store::new_client_id()?,
    };
    // An earlier run with this key that died mid-request is `unknown` now, never sent again.
    store.sweep_interrupted(sender.longest_request().as_millis() as i64)?;
    let email = channel == Channel::Email;
    let queued = store.enqueue(&NewSend {
        client_id,
        conversation_key: key,
        provider: target.provider.clone(),
        reply_to: target.last_inbound_email.clone().filter(|_| email),
        channel,
        recipient,
        subject: a.subject.filter(|_| email),
        body,
        options,
    })?;
    if !queued.created {
        eprintln!(
            "switchboard: this idempotency key was used before (outbox entry {}); not sending again",
            queued.entry.id
        );
    }
    let entry = if queued.entry.status == OutboxStatus::Queued {
        sender.send(store, queued.entry.id)?
    } else {
        queued.entry
    };
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&SendDoc::from(&entry))?)?;
    } else {
        outbox_table(out, std::slice::from_ref(&entry))?;
    }
    Ok(match entry.status {
        OutboxStatus::Accepted | OutboxStatus::Sent | OutboxStatus::Delivered => Exit::Ok,
        OutboxStatus::Failed => Exit::Found,
        OutboxStatus::Unknown | OutboxStatus::Sending | OutboxStatus::Queued => Exit::Unknown,
    })
}

/// What `send --json` prints.
#[derive(serde::Serialize)]
struct SendDoc<'a> {
    id: i64,
    status: &'a str,
    vendor: &'a str,
    channel: &'a str,
    vendor_message_id: Option<&'a str>,
    conversation_key: &'a str,
    http_status: Option<i64>,
    errors: &'a [crate::outbox::Problem],
    warnings: &'a [crate::outbox::Problem],
    /// The advisor who sent it (`[me]`).
    sent_by: Option<&'a str>,
}

impl<'a> From<&'a OutboxEntry> for SendDoc<'a> {
    fn from(e: &'a OutboxEntry) -> Self {
        SendDoc {
            id: e.id,
            status: e.status.as_str(),
            vendor: e.provider.as_str(),
            channel: e.channel.as_str(),
            vendor_message_id: e.vendor_message_id.as_deref(),
            conversation_key: &e.conversation_key,
            http_status: e.http_status,
            errors: &e.errors,
            warnings: &e.warnings,
            sent_by: e.sent_by.as_deref(),
        }
    }
}

pub fn outbox(store: &Store, a: OutboxArgs, out: &mut dyn Write) -> Result<Exit> {
    let key = a
        .conversation
        .as_deref()
        .map(|c| store.resolve_conversation(c))
        .transpose()?;
    let entries = store.outbox(key.as_deref(), a.limit)?;
    if a.json {
        let docs: Vec<SendDoc> = entries.iter().map(SendDoc::from).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&docs)?)?;
    } else {
        outbox_table(out, &entries)?;
    }
    Ok(Exit::Ok)
}

fn outbox_table(out: &mut dyn Write, entries: &[OutboxEntry]) -> Result<()> {
    if entries.is_empty() {
        writeln!(out, "the outbox is empty")?;
        return Ok(());
    }
    let mut t = Table::new(&[
        ("ID", 4, 8),
        ("WHEN", 4, 10),
        ("STATUS", 6, 9),
        ("CHANNEL", 5, 9),
        ("TO", 8, 24),
        ("MESSAGE", 12, 40),
        ("WHAT HAPPENED", 20, 200),
    ]);
    for e in entries {
        t.row(vec![
            e.id.to_string(),
            show::ago(Some(&e.status_at)),
            e.status.as_str().into(),
            e.channel.to_string(),
            e.recipient.clone().unwrap_or_else(|| match e.provider {
                Provider::MyKaarma => "(preferred)".into(),
                _ => "(conversation)".into(),
            }),
            e.body.clone(),
            e.explanation().unwrap_or_default(),
        ]);
    }
    t.write(out).context("cannot write the table")?;
    Ok(())
}
