//! The HTTP side of a send, the same for every vendor: one request, and what became of it.
//!
//! The client never follows redirects (credentials stay with the configured host), never retries by
//! itself, has connect and total deadlines, and refuses plain HTTP except to loopback. What came of
//! the request is classified by whether it can have reached the vendor: only a connection that never
//! opened is provably unsent.

use anyhow::{Context, Result, bail};
use std::time::Duration;

/// What one request came to.
#[derive(Debug)]
pub enum Attempt {
    /// The connection never opened (refused, no route, DNS, TLS handshake): nothing was sent.
    NeverLeft(String),
    /// The vendor answered with a status line.
    Answered(Answer),
    /// The request may have arrived, but no answer did (timeout, reset, a cut-off answer).
    Lost(String),
}

/// A vendor's answer, whole.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub http_status: u16,
    pub body: Vec<u8>,
    /// Where a redirect pointed (not followed).
    pub location: Option<String>,
    /// How long the vendor asks us to wait: `Retry-After` (seconds), else HighLevel's
    /// `X-RateLimit-Interval-Milliseconds` when its window is used up.
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Remaining` (HighLevel): requests left in the current window.
    pub remaining: Option<u64>,
}

impl Answer {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }
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

/// A base URL from the config, checked.
pub fn base_url(text: &str, setting: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(text).with_context(|| format!("{setting} `{text}` is not a URL"))?;
    check_url(&url)?;
    Ok(url)
}

/// `base` with `segments` appended, each percent-encoded.
pub fn join(base: &reqwest::Url, segments: &[&str]) -> reqwest::Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// One vendor's HTTP client.
pub struct Http {
    client: reqwest::blocking::Client,
    /// The vendor's name, put in place of the URL in error words.
    vendor: &'static str,
    pub timeout: Duration,
}

impl Http {
    pub fn new(vendor: &'static str, connect_timeout_secs: u64, timeout_secs: u64) -> Result<Http> {
        let timeout = Duration::from_secs(timeout_secs.max(1));
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(connect_timeout_secs.max(1)))
            .timeout(timeout)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Http {
            client,
            vendor,
            timeout,
        })
    }

    pub fn request(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::blocking::RequestBuilder {
        self.client
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// Send a request built with `request`; classify what came of it.
    pub fn send(&self, request: reqwest::blocking::RequestBuilder) -> Attempt {
        let request = match request.build() {
            Ok(r) => r,
            Err(e) => return Attempt::NeverLeft(self.describe(&e)),
        };
        if let Err(e) = check_url(request.url()) {
            return Attempt::NeverLeft(format!("{e:#}"));
        }
        let response = match self.client.execute(request) {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Attempt::NeverLeft(self.describe(&e)),
            Err(e) => return Attempt::Lost(self.describe(&e)),
        };
        let http_status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header("location");
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.trim().parse().ok());
        let interval = header("x-ratelimit-interval-milliseconds")
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_millis);
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs)
            .or(interval.filter(|_| remaining == Some(0) || http_status == 429));
        match response.bytes() {
            Ok(body) => Attempt::Answered(Answer {
                http_status,
                body: body.to_vec(),
                location,
                retry_after,
                remaining,
            }),
            // A status line without its whole body: a 2xx we cannot read is as good as lost.
            Err(e) if (200..300).contains(&http_status) => Attempt::Lost(self.describe(&e)),
            Err(_) => Attempt::Answered(Answer {
                http_status,
                location,
                retry_after,
                remaining,
                ..Answer::default()
            }),
        }
    }

    /// The error and its causes in one line, the vendor's name in place of the URL.
    fn describe(&self, e: &reqwest::Error) -> String {
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
            Some(u) => line.replace(&format!(" ({u})"), "").replace(u.as_str(), self.vendor),
            None => line,
        }
    }
}
