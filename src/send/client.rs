//! The HTTP side of a send: one POST to myKaarma's send-message endpoint, and what became of it.
//!
//! The client never follows redirects (credentials stay with the configured host), never retries by
//! itself, has connect and total deadlines, and refuses plain HTTP except to loopback. What came of
//! the request is classified by whether it can have reached myKaarma: only a connection that never
//! opened is provably unsent.

use super::wire::{SendRequest, SendResponse};
use crate::config::{Secret, SendConfig};
use anyhow::{Context, Result, bail};
use std::time::Duration;

pub struct Client {
    http: reqwest::blocking::Client,
    base: reqwest::Url,
    username: Secret,
    password: Secret,
    user_uuid: String,
    pub timeout: Duration,
}

/// What one request came to.
#[derive(Debug)]
pub enum Attempt {
    /// The connection never opened (refused, no route, DNS, TLS handshake): nothing was sent.
    NeverLeft(String),
    /// myKaarma answered with a status line.
    Answered {
        http_status: u16,
        response: Option<SendResponse>,
        /// Where a redirect pointed (not followed).
        location: Option<String>,
    },
    /// The request may have arrived, but no answer did (timeout, reset, a cut-off answer).
    Lost(String),
}

/// Is this URL one we may send credentials to? HTTPS anywhere; plain HTTP only to loopback.
pub fn check_url(url: &reqwest::Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(a)) => a.is_loopback(),
                Some(url::Host::Ipv6(a)) => a.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                bail!(
                    "refusing to send credentials over plain http to {}: use https (http is allowed only to 127.0.0.1, ::1 or localhost)",
                    url.host_str().unwrap_or("?")
                )
            }
        }
        other => bail!("unsupported URL scheme `{other}` (use https)"),
    }
}

impl Client {
    pub fn new(cfg: &SendConfig) -> Result<Client> {
        let base = reqwest::Url::parse(&cfg.base_url)
            .with_context(|| format!("mykaarma.base_url `{}` is not a URL", cfg.base_url))?;
        check_url(&base)?;
        let (Some(username), Some(password)) = (cfg.username.clone(), cfg.password.clone()) else {
            bail!(
                "no myKaarma credentials: set SWITCHBOARD_MYKAARMA_USERNAME and SWITCHBOARD_MYKAARMA_PASSWORD (or [mykaarma] username/password in a 0600 config file)"
            );
        };
        let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs.max(1)))
            .timeout(timeout)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client {
            http,
            base,
            username,
            password,
            user_uuid: cfg.user_uuid.clone(),
            timeout,
        })
    }

    /// `…/communications/department/{d}/user/{u}/customer/{c}/message`, each part percent-encoded.
    pub fn endpoint(&self, department: &str, customer: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend([
                "communications",
                "department",
                department,
                "user",
                &self.user_uuid,
                "customer",
                customer,
                "message",
            ]);
        }
        url
    }

    pub fn post(&self, url: reqwest::Url, request: &SendRequest) -> Attempt {
        if let Err(e) = check_url(&url) {
            return Attempt::NeverLeft(format!("{e:#}"));
        }
        let sent = self
            .http
            .post(url)
            .basic_auth(self.username.expose(), Some(self.password.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(request).unwrap_or_default())
            .send();
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Attempt::NeverLeft(describe(&e)),
            Err(e) => return Attempt::Lost(describe(&e)),
        };
        let http_status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match response.bytes() {
            Ok(body) => Attempt::Answered {
                http_status,
                response: serde_json::from_slice(&body).ok(),
                location,
            },
            // A status line without its whole body: a 2xx we cannot read is as good as lost.
            Err(e) if (200..300).contains(&http_status) => Attempt::Lost(describe(&e)),
            Err(_) => Attempt::Answered {
                http_status,
                response: None,
                location,
            },
        }
    }
}

/// The error and its causes in one line, without the URL.
fn describe(e: &reqwest::Error) -> String {
    let mut words = vec![if e.is_timeout() {
        "no answer in time".to_string()
    } else {
        e.to_string()
    }];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !words.iter().any(|w| w.contains(&text)) {
            words.push(text);
        }
        source = s.source();
    }
    let line = words.join(": ");
    match e.url() {
        Some(u) => line.replace(&format!(" ({u})"), "").replace(u.as_str(), "myKaarma"),
        None => line,
    }
}
