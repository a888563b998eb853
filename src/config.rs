//! The config file (TOML) and its environment overrides. Secrets are held in `Secret`, whose `Debug`
//! never shows the value, so a config can be logged without leaking them.
//!
//! Where it is read from: `--config PATH`, else `$SWITCHBOARD_CONFIG`, else
//! `$XDG_CONFIG_HOME/switchboard/config.toml` (absent is fine: everything has a default).

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// A value that must never reach a log, the database or test output.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub receiver: ReceiverConfig,
    #[serde(default)]
    pub inbox: InboxConfig,
    /// myKaarma's send-message API, for replies in myKaarma conversations.
    #[serde(default)]
    pub mykaarma: MyKaarmaSend,
    /// HighLevel's conversations API, for replies in HighLevel conversations.
    #[serde(default)]
    pub highlevel: HighLevelSend,
    /// Partoo's messages API, for replies in Partoo conversations.
    #[serde(default)]
    pub partoo: PartooSend,
    /// Who reads and replies with this config: `[me]` (or `SWITCHBOARD_ME_*`).
    #[serde(default)]
    pub me: MeConfig,
    /// The rest of the team, by name: `[team."Nina Patel"]` with their vendor user ids.
    #[serde(default)]
    pub team: std::collections::BTreeMap<String, crate::team::VendorIds>,
    /// `switchboard ssh` and `demo --ssh`: how many visitors, and for how long.
    #[serde(default)]
    pub ssh: SshConfig,
    /// Where this config was read from (none when no file was).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// Command name → keys, for only the commands being rebound (e.g. `quit = ["q", "ctrl-q"]`).
    #[serde(default)]
    pub keys: std::collections::HashMap<String, Vec<String>>,
}

/// Bounds on the demo served over SSH, where anyone may connect.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    /// Demo visitors at once; the next one is told the demo is full.
    pub demo_sessions: usize,
    /// New connections one address may make per minute.
    pub demo_connections_per_minute: u32,
    /// A visitor who presses no key for this long is shown out.
    pub demo_idle_seconds: u64,
    /// The longest one visit lasts.
    pub demo_session_seconds: u64,
}

impl Default for SshConfig {
    fn default() -> SshConfig {
        SshConfig {
            demo_sessions: 32,
            demo_connections_per_minute: 6,
            demo_idle_seconds: 10 * 60,
            demo_session_seconds: 30 * 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboxConfig {
    /// Ring the terminal bell for new inbound messages and new failures.
    pub bell: bool,
    /// Use colour (NO_COLOR in the environment turns it off too).
    pub color: bool,
    /// Where the inbox logs (never to the screen).
    pub log_file: Option<PathBuf>,
    /// The dealership's name, for templates' `{dealership}`.
    pub dealership: Option<String>,
    /// The reply templates file (TOML); default `templates.toml` beside the config file.
    pub templates: Option<PathBuf>,
    /// Names for the vendors' user ids (HighLevel's webhooks name an advisor only by `userId`):
    /// `[inbox.people]` `"aBcD1234" = "Nina Patel"`.
    pub people: std::collections::BTreeMap<String, String>,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            bell: true,
            color: true,
            log_file: None,
            dealership: None,
            templates: None,
            people: Default::default(),
        }
    }
}

/// The advisor using this config (`[me]`): their name, and their user id at each vendor.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MeConfig {
    pub name: Option<String>,
    pub mykaarma: Option<String>,
    pub highlevel: Option<String>,
    pub partoo: Option<String>,
}

/// myKaarma's send-message API (`[mykaarma]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MyKaarmaSend {
    /// `https://api.mykaarma.com`; plain `http://` only to a loopback address (the sandbox).
    pub base_url: String,
    pub username: Option<Secret>,
    pub password: Option<Secret>,
    /// `userUuid` in the send path. `DEFAULT` is the default dealer associate, so a reply does not
    /// reassign the customer's thread to the API user.
    pub user_uuid: String,
    pub connect_timeout_secs: u64,
    /// The whole request, answer included. After it, the message's fate is `unknown`.
    pub timeout_secs: u64,
}

impl Default for MyKaarmaSend {
    fn default() -> Self {
        MyKaarmaSend {
            base_url: "https://api.mykaarma.com".into(),
            username: None,
            password: None,
            user_uuid: "DEFAULT".into(),
            connect_timeout_secs: 5,
            timeout_secs: 30,
        }
    }
}

/// HighLevel's `POST /conversations/messages` (`[highlevel]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HighLevelSend {
    /// `https://services.leadconnectorhq.com`; plain `http://` only to a loopback address.
    pub base_url: String,
    /// A Private Integration token of the sub-account, or an OAuth access token (scopes
    /// `conversations/message.write` and `conversations/message.readonly`).
    pub token: Option<Secret>,
    /// The API's `Version` header.
    pub version: String,
    pub connect_timeout_secs: u64,
    pub timeout_secs: u64,
    /// How long after HighLevel accepted a reply, with no webhook about it, its status is first
    /// looked up (then twice as long each time, a few times).
    pub lookup_after_secs: u64,
}

impl Default for HighLevelSend {
    fn default() -> Self {
        HighLevelSend {
            base_url: "https://services.leadconnectorhq.com".into(),
            token: None,
            version: "2021-04-15".into(),
            connect_timeout_secs: 5,
            timeout_secs: 30,
            lookup_after_secs: 20,
        }
    }
}

/// Partoo's `POST /v2/messages` (`[partoo]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PartooSend {
    /// `https://api.partoo.co` (its sandbox: `https://api.sandbox.partoo.co`).
    pub base_url: String,
    /// The `x-APIKey` of a Partoo user; replies are attributed to that user.
    pub api_key: Option<Secret>,
    pub connect_timeout_secs: u64,
    pub timeout_secs: u64,
}

impl Default for PartooSend {
    fn default() -> Self {
        PartooSend {
            base_url: "https://api.partoo.co".into(),
            api_key: None,
            connect_timeout_secs: 5,
            timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Address to listen on, e.g. `127.0.0.1:8787`.
    pub listen: Option<String>,
    /// The base URL at which vendors reach this receiver (e.g. `https://hooks.example.com`), used to
    /// build the `callbackURL` of each reply.
    pub public_url: Option<String>,
    /// Largest body accepted, in bytes (default 8 MiB).
    pub max_body_bytes: Option<usize>,
    /// How long a client may take to send its body, in seconds (default 10).
    pub read_timeout_secs: Option<u64>,
    /// How long a client may take to send a request's headers, or stay idle between requests, in
    /// seconds (default 10).
    pub header_timeout_secs: Option<u64>,
    /// Open connections at most (default 4096, less if the descriptor limit is lower).
    pub max_connections: Option<usize>,
    /// Answer `GET /metrics` to any address (default: loopback peers only).
    #[serde(default)]
    pub public_metrics: bool,
    pub mykaarma: Option<MyKaarmaKeys>,
    pub highlevel: Option<HighLevelKeys>,
    pub partoo: Option<PartooKeys>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyKaarmaKeys {
    /// The HMAC-SHA256 key of `mykaarma-signature-token` (today: the API username myKaarma issued).
    pub signature_secret: Secret,
    /// The static `x-authorization-token` myKaarma shared, checked when set.
    pub authorization_token: Option<Secret>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighLevelKeys {
    /// Ed25519 public key for `x-ghl-signature` (base64 SPKI, PEM, or raw 32 bytes in base64).
    pub ed25519_public_key: Option<String>,
    /// RSA public key (PEM or its base64 body) for the legacy `x-wh-signature`; unset refuses it.
    pub rsa_public_key: Option<String>,
    /// Oldest signed `timestamp` accepted for a delivery not seen before, in seconds. The default,
    /// 2 hours, outlasts HighLevel's retries (6 × ~10 min after a 429).
    pub max_age_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartooKeys {
    /// Ed25519 public keys for `X-Partoo-Signature-v1`: Partoo publishes one for production and one
    /// for its sandbox. List only those you accept.
    pub public_keys: Vec<String>,
}

/// Where the config is read from when `--config` is not given.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("SWITCHBOARD_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("switchboard").join("config.toml")))
}

impl Config {
    /// Read the config: an explicit path must exist; the default one may be absent. Environment
    /// variables then override the file.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let (path, required) = match explicit {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (default_path(), false),
        };
        let mut config = match &path {
            Some(p) if p.exists() || required => Config {
                path: Some(p.clone()),
                ..Config::read(p)?
            },
            _ => Config::default(),
        };
        if config.path.is_none() {
            config.path = path;
        }
        config.apply_env();
        // Replies to myKaarma go as the advisor in [me] (which gives them the thread), unless a
        // user is set for sending explicitly.
        if let Some(me) = config.me.mykaarma.clone().filter(|id| !id.is_empty())
            && config.mykaarma.user_uuid == "DEFAULT"
        {
            config.mykaarma.user_uuid = me;
        }
        Ok(config)
    }

    fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(" (at {})", line_col(&text, s.start)))
                .unwrap_or_default();
            anyhow::anyhow!("config {}: {}{at}", path.display(), e.message().trim())
        })?;
        if config.has_secrets() {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                bail!(
                    "config {} holds secrets but others can read it (mode {:o}): run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
        }
        Ok(config)
    }

    fn has_secrets(&self) -> bool {
        self.receiver.mykaarma.is_some()
            || self.mykaarma.username.is_some()
            || self.mykaarma.password.is_some()
            || self.highlevel.token.is_some()
            || self.partoo.api_key.is_some()
    }

    fn apply_env(&mut self) {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let m = &mut self.mykaarma;
        if let Some(url) = var("SWITCHBOARD_MYKAARMA_BASE_URL") {
            m.base_url = url;
        }
        if let Some(user) = var("SWITCHBOARD_MYKAARMA_USERNAME") {
            m.username = Some(Secret::new(user));
        }
        if let Some(password) = var("SWITCHBOARD_MYKAARMA_PASSWORD") {
            m.password = Some(Secret::new(password));
        }
        if let Some(url) = var("SWITCHBOARD_HIGHLEVEL_BASE_URL") {
            self.highlevel.base_url = url;
        }
        if let Some(token) = var("SWITCHBOARD_HIGHLEVEL_TOKEN") {
            self.highlevel.token = Some(Secret::new(token));
        }
        if let Some(url) = var("SWITCHBOARD_PARTOO_BASE_URL") {
            self.partoo.base_url = url;
        }
        if let Some(key) = var("SWITCHBOARD_PARTOO_API_KEY") {
            self.partoo.api_key = Some(Secret::new(key));
        }
        let me = &mut self.me;
        for (name, field) in [
            ("SWITCHBOARD_ME_NAME", &mut me.name),
            ("SWITCHBOARD_ME_MYKAARMA", &mut me.mykaarma),
            ("SWITCHBOARD_ME_HIGHLEVEL", &mut me.highlevel),
            ("SWITCHBOARD_ME_PARTOO", &mut me.partoo),
        ] {
            if let Some(value) = var(name) {
                *field = Some(value);
            }
        }
        if let Some(url) = var("SWITCHBOARD_PUBLIC_URL") {
            self.receiver.public_url = Some(url);
        }
        let r = &mut self.receiver;
        if let Some(secret) = var("SWITCHBOARD_MYKAARMA_WEBHOOK_SECRET") {
            let token = r.mykaarma.take().and_then(|m| m.authorization_token);
            r.mykaarma = Some(MyKaarmaKeys {
                signature_secret: Secret::new(secret),
                authorization_token: token,
            });
        }
        if let (Some(token), Some(m)) = (var("SWITCHBOARD_MYKAARMA_AUTHORIZATION_TOKEN"), r.mykaarma.as_mut()) {
            m.authorization_token = Some(Secret::new(token));
        }
        if let Some(key) = var("SWITCHBOARD_HIGHLEVEL_ED25519_KEY") {
            r.highlevel.get_or_insert_with(Default::default).ed25519_public_key = Some(key);
        }
        if let Some(key) = var("SWITCHBOARD_HIGHLEVEL_RSA_KEY") {
            r.highlevel.get_or_insert_with(Default::default).rsa_public_key = Some(key);
        }
        if let Some(keys) = var("SWITCHBOARD_PARTOO_KEYS") {
            r.partoo = Some(PartooKeys {
                public_keys: keys.split(',').map(|k| k.trim().to_string()).collect(),
            });
        }
    }
}

impl Config {
    /// The reply templates file: `[inbox] templates`, else `templates.toml` beside the config file.
    pub fn templates_path(&self) -> Option<PathBuf> {
        self.inbox.templates.clone().or_else(|| {
            let dir = self.path.as_ref()?.parent()?;
            Some(dir.join("templates.toml"))
        })
    }

    /// The reader (`[me]`; without a name, the login name) and the rest of the team.
    pub fn team(&self) -> crate::team::Team {
        use crate::team::{Advisor, VendorIds};
        let name = self
            .me
            .name
            .clone()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "me".to_string());
        let listed = self.team.get(&name).cloned().unwrap_or_default();
        let me = Advisor {
            ids: VendorIds {
                mykaarma: self.me.mykaarma.clone().or(listed.mykaarma),
                highlevel: self.me.highlevel.clone().or(listed.highlevel),
                partoo: self.me.partoo.clone().or(listed.partoo),
            },
            name,
        };
        let others = self
            .team
            .iter()
            .filter(|(n, _)| **n != me.name)
            .map(|(name, ids)| Advisor {
                name: name.clone(),
                ids: ids.clone(),
            })
            .collect();
        crate::team::Team {
            me,
            others,
            people: self.inbox.people.clone(),
        }
    }
}

fn line_col(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let c: Config = toml::from_str(
            r#"[receiver.mykaarma]
               signature_secret = "api-user-7781"
               authorization_token = "myKaarma_0f3a""#,
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("api-user-7781") && !shown.contains("myKaarma_0f3a"),
            "{shown}"
        );
        assert_eq!(c.receiver.mykaarma.unwrap().signature_secret.expose(), "api-user-7781");
    }

    #[test]
    fn send_credentials_are_secrets_and_need_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[mykaarma]\nusername = \"svc-7781\"\npassword = \"pw-0f3a\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = Config::load(Some(&path)).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("svc-7781") && !shown.contains("pw-0f3a"), "{shown}");
        assert_eq!(c.mykaarma.user_uuid, "DEFAULT", "replies do not reassign threads");
        assert_eq!(c.mykaarma.base_url, "https://api.mykaarma.com");
    }

    #[test]
    fn unknown_keys_are_errors_with_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[receiver]\nlisten = \"127.0.0.1:1\"\nlsten = 3\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(err.contains("unknown field `lsten`") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn a_readable_secret_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[receiver.mykaarma]\nsignature_secret = \"s\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(Some(&path)).is_ok());
    }
}
