//! The webhook receiver (`switchboard serve`): every vendor event is stored byte-exact and committed
//! before it is acknowledged.
//!
//! - `POST /webhooks/{mykaarma|highlevel|partoo}`: raw bytes whatever `Content-Type` says; verify;
//!   append to the event log and fold (group commit in `writer`); only then 200.
//! - `POST /callbacks/mykaarma/{token}`: send-status callbacks; an unknown token is 404.
//! - `GET /healthz`: ok, and the newest event's arrival time.
//!
//! Failure answers follow each vendor's retry rule: if the store cannot commit, HighLevel gets 429
//! (the only status it retries) and the others 503. Refused requests get 401 and one audit row
//! without the body. A body over the limit is 413; a client too slow to send one is 408.

mod body;
mod listener;
mod syncer;
mod writer;

use crate::config::ReceiverConfig;
use crate::model::Provider;
use crate::providers;
use crate::store::{AuditRow, CallbackStored, Incoming, Stored};
use crate::verify::Verifiers;
use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use body::{Budget, Held, ReadError};
pub use listener::raise_open_files_limit;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
pub use writer::Written;
use writer::{Job, Writer};

/// A fault point for the receiver's tests, set in the environment (the README lists them; they
/// are for tests only): the variable's value, when it is set and reads as a `T`.
fn fault_point<T: std::str::FromStr>(variable: &str) -> Option<T> {
    std::env::var(variable).ok()?.parse().ok()
}

/// A fault point that is on when its variable is `1`.
fn fault_switch(variable: &str) -> bool {
    fault_point::<String>(variable).as_deref() == Some("1")
}

pub mod metrics;

/// Bodies above this are parsed on a blocking thread (a large HTML email takes a while to render).
const PARSE_INLINE_MAX: usize = 256 * 1024;

pub struct Options {
    pub db: PathBuf,
    pub listen: SocketAddr,
    pub insecure_accept_unsigned: bool,
    /// Adds `POST /noop`, answering 200 after reading the body: the same stack doing no work, as a
    /// benchmark baseline.
    pub bench_noop: bool,
    /// Leave every appended event unfolded until the receiver stops: the append path alone, as a
    /// benchmark's bound.
    pub bench_hold_folds: bool,
    /// Print warnings meant for a person (the unsigned-delivery banner) to standard error; off when
    /// the inbox owns the terminal and says it in its status bar instead.
    pub warn_on_stderr: bool,
}

#[derive(Clone)]
struct AppState {
    jobs: tokio::sync::mpsc::Sender<Job>,
    metrics: Arc<metrics::Metrics>,
    /// Answer `/metrics` to any address, not only loopback.
    public_metrics: bool,
    verifiers: Arc<Verifiers>,
    max_body: usize,
    read_timeout: Duration,
    /// Bytes of bodies whose signature is not checked yet, all requests together.
    unverified: Budget,
}

/// Unverified bodies held at once, all requests together (8 bodies at the default size limit).
const UNVERIFIED_BYTES: usize = 64 * 1024 * 1024;

/// Run the receiver until SIGTERM or SIGINT; then stop accepting, finish in-flight commits, return.
pub fn serve(options: Options, config: &ReceiverConfig) -> Result<()> {
    serve_until(options, config, shutdown_signal(), |local| {
        // Scripts and tests read the bound address from this first line of standard output.
        println!("listening on http://{local}");
    })
}

/// Run the receiver until `shutdown` completes (the inbox runs it this way, in-process).
/// `listening` is told the bound address once the socket is open.
pub fn serve_until(
    options: Options,
    config: &ReceiverConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    if options.insecure_accept_unsigned && !options.listen.ip().is_loopback() {
        bail!(
            "--insecure-accept-unsigned is allowed only on a loopback address, not {}",
            options.listen
        );
    }
    let verifiers = Verifiers::from_config(config, options.insecure_accept_unsigned)?;
    if verifiers.configured().is_empty() && !options.insecure_accept_unsigned {
        // Started like this it would answer every delivery 401 while /healthz said ok.
        bail!(
            "no vendor keys are configured, so every delivery would be refused: add [receiver.mykaarma], \
             [receiver.highlevel] or [receiver.partoo] to the config file (see the README), or, for a demo on \
             loopback only, pass --insecure-accept-unsigned"
        );
    }
    let open_files = listener::raise_open_files_limit();
    let limits = listener::Limits {
        max_connections: listener::connection_cap(open_files, config.max_connections),
        header_timeout: Duration::from_secs(config.header_timeout_secs.unwrap_or(10).max(1)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let metrics = metrics::Metrics::new();
        let mut writer = Writer::start(options.db.clone(), metrics.clone(), options.bench_hold_folds)?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let local = listener.local_addr()?;
        listening(local);
        announce(local, &verifiers, options.warn_on_stderr);
        let max_body = config.max_body_bytes.unwrap_or(8 * 1024 * 1024);
        let state = AppState {
            jobs: writer.jobs.clone(),
            metrics,
            public_metrics: config.public_metrics,
            verifiers: Arc::new(verifiers),
            max_body,
            read_timeout: Duration::from_secs(config.read_timeout_secs.unwrap_or(10)),
            unverified: Budget::new(UNVERIFIED_BYTES.max(max_body)),
        };
        let app = router(state, options.bench_noop);
        // A writer that ended on its own (a bug: it panicked) would leave a receiver answering
        // 503 to everything while it looks alive: stop, and exit with an error, so that whoever
        // runs it restarts it (what was acknowledged and not folded is folded at the next start).
        let writer_ended = writer.ended.take().expect("taken once");
        let writer_died = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let died = writer_died.clone();
        let shutdown = async move {
            tokio::select! {
                () = shutdown => {}
                _ = writer_ended => {
                    died.store(true, std::sync::atomic::Ordering::Relaxed);
                    tracing::error!("the writer thread stopped unexpectedly; the receiver stops too");
                }
            }
        };
        listener::serve(listener, app, limits, shutdown).await;
        tracing::info!("stopped accepting; finishing queued commits");
        tokio::task::spawn_blocking(move || writer.finish()).await?;
        if writer_died.load(std::sync::atomic::Ordering::Relaxed) {
            bail!(
                "the receiver's writer thread stopped unexpectedly (the log says why), so the receiver \
                 stopped too; start it again: what it acknowledged is in the database and is folded at the \
                 next start"
            );
        }
        Ok(())
    })
}

fn announce(local: SocketAddr, verifiers: &Verifiers, warn_on_stderr: bool) {
    if verifiers.insecure_accept_unsigned {
        let banner = "!!! --insecure-accept-unsigned: deliveries for vendors without a key are accepted UNSIGNED. \
                      Anyone who can reach this port can write into the inbox. Never use this outside a demo. !!!";
        if warn_on_stderr {
            eprintln!("{banner}");
        }
        tracing::warn!("{banner}");
    }
    let keys = verifiers.configured();
    tracing::info!(
        "receiver on {local}; signed vendors: {}",
        if keys.is_empty() {
            "none".to_string()
        } else {
            keys.join(", ")
        }
    );
}

fn router(state: AppState, bench_noop: bool) -> Router {
    let mut app = Router::new()
        .route("/webhooks/{vendor}", post(webhook))
        .route("/callbacks/mykaarma/{token}", post(callback))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_page));
    if bench_noop {
        app = app.route("/noop", post(noop));
    }
    // The limit is enforced while reading (`body::read`), with an audit row; axum's own is off.
    app.layer(DefaultBodyLimit::disable()).with_state(state)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

impl AppState {
    /// Record a refused request (never its body) and answer it.
    async fn refuse(
        &self,
        route: &str,
        status: StatusCode,
        reason: String,
        peer: SocketAddr,
        size: Option<usize>,
    ) -> Response {
        self.refuse_as(
            &metrics::refusal_reason(status.as_u16()),
            route,
            status,
            reason,
            peer,
            size,
        )
        .await
    }

    /// As `refuse`, counted in `/metrics` under `class`.
    async fn refuse_as(
        &self,
        class: &str,
        route: &str,
        status: StatusCode,
        reason: String,
        peer: SocketAddr,
        size: Option<usize>,
    ) -> Response {
        self.metrics.refused(class);
        tracing::warn!(route, status = status.as_u16(), %peer, "refused: {reason}");
        let row = AuditRow {
            route: route.to_string(),
            status: status.as_u16(),
            reason: reason.clone(),
            peer: Some(peer.to_string()),
            size: size.map(|s| s as i64),
        };
        // Audit rows are best effort: a full queue must not hold up the answer.
        let _ = self.jobs.try_send(Job::Audit(row));
        reply(status, serde_json::json!({ "error": reason }))
    }

    async fn body(
        &self,
        route: &str,
        headers: &HeaderMap,
        body: Body,
        peer: SocketAddr,
        busy: StatusCode,
    ) -> Result<Held, Response> {
        match body::read(headers, body, self.max_body, self.read_timeout, &self.unverified).await {
            Ok(b) => Ok(b),
            Err(ReadError::Busy) => {
                let mut r = reply(busy, serde_json::json!({ "error": "busy; try again shortly" }));
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                Err(r)
            }
            Err(ReadError::TooLarge) => {
                let why = format!("body larger than the {} byte limit", self.max_body);
                Err(self.refuse(route, StatusCode::PAYLOAD_TOO_LARGE, why, peer, None).await)
            }
            Err(ReadError::Timeout) => {
                let why = format!("body not received within {:?}", self.read_timeout);
                Err(self.refuse(route, StatusCode::REQUEST_TIMEOUT, why, peer, None).await)
            }
            Err(ReadError::Broken(e)) => Err(self.refuse(route, StatusCode::BAD_REQUEST, e, peer, None).await),
        }
    }
}

/// The status a vendor retries on: HighLevel retries only 429; myKaarma any non-2xx; Partoo 5xx.
fn try_again_status(provider: &Provider) -> StatusCode {
    match provider {
        Provider::HighLevel => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn webhook(
    State(state): State<AppState>,
    Path(vendor): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let provider = match vendor.as_str() {
        "mykaarma" | "highlevel" | "partoo" => Provider::parse(&vendor),
        _ => return reply(StatusCode::NOT_FOUND, serde_json::json!({ "error": "unknown vendor" })),
    };
    let route = format!("/webhooks/{vendor}");
    // What the headers alone can refuse is refused before a byte of the body is read.
    if let Err(refusal) = state.verifiers.precheck(&provider, &headers) {
        return state
            .refuse(&route, StatusCode::UNAUTHORIZED, refusal.0, peer, None)
            .await;
    }
    let held = match state
        .body(&route, &headers, body, peer, try_again_status(&provider))
        .await
    {
        Ok(b) => b,
        Err(response) => return response,
    };
    let entered = std::time::Instant::now();
    if let Err(refusal) = state.verifiers.verify(&provider, &headers, &held.bytes) {
        return state
            .refuse(
                &route,
                StatusCode::UNAUTHORIZED,
                refusal.0,
                peer,
                Some(held.bytes.len()),
            )
            .await;
    }
    let bytes = held.bytes.clone();
    drop(held); // verified: its bytes leave the budget for unverified ones
    // From here the delivery is stored whether or not its sender waits for the answer: a client
    // that hangs up must not take a signed event with it.
    let task = tokio::spawn(store_delivery(state, provider.clone(), route, bytes, peer, entered));
    match task.await {
        Ok(response) => response,
        Err(_) => reply(
            try_again_status(&provider),
            serde_json::json!({ "error": "the delivery could not be stored; try again" }),
        ),
    }
}

/// Parse, store and answer one verified delivery (run as its own task).
async fn store_delivery(
    state: AppState,
    provider: Provider,
    route: String,
    bytes: Bytes,
    peer: SocketAddr,
    entered: std::time::Instant,
) -> Response {
    let body = bytes.to_vec();
    let parsed = if body.len() > PARSE_INLINE_MAX {
        let (b, p) = (body.clone(), provider.clone());
        match tokio::task::spawn_blocking(move || providers::parse(&b, Some(p))).await {
            Ok(parsed) => parsed,
            Err(_) => {
                return reply(
                    try_again_status(&provider),
                    serde_json::json!({ "error": "parser crashed" }),
                );
            }
        }
    } else {
        providers::parse(&body, Some(provider.clone()))
    };
    let refuse_if_new = match (&provider, state.verifiers.highlevel_max_age_secs()) {
        (Provider::HighLevel, Some(max_age)) => stale(&body, max_age),
        _ => None,
    };
    let (tx, rx) = oneshot::channel();
    let queued_at = std::time::Instant::now();
    state.metrics.stage(
        metrics::Stage::VerifyParse,
        queued_at.duration_since(entered).as_secs_f64(),
    );
    let mut incoming = Incoming::new(body, Some(provider.clone()));
    // Compressed here, on the request's own thread: the one writer has enough to do.
    incoming.pack_ahead();
    let job = Job::Delivery {
        incoming,
        parsed,
        refuse_if_new,
        queued: queued_at,
        reply: tx,
    };
    if state.jobs.send(job).await.is_err() {
        return reply(
            try_again_status(&provider),
            serde_json::json!({ "error": "shutting down" }),
        );
    }
    let answer = rx.await;
    state
        .metrics
        .stage(metrics::Stage::Answered, queued_at.elapsed().as_secs_f64());
    let outcome = match &answer {
        Ok(Ok(Written::Stored(Stored::Ok))) => "stored",
        Ok(Ok(Written::Stored(Stored::Ignored))) => "ignored",
        Ok(Ok(Written::Stored(Stored::Rejected))) => "rejected",
        Ok(Ok(Written::Stored(Stored::Duplicate))) => "duplicate",
        Ok(Ok(Written::Refused(_))) => "refused",
        Ok(Err(_)) | Err(_) => "not_stored",
    };
    state.metrics.event(provider.as_str(), outcome);
    match answer {
        Ok(Ok(Written::Stored(stored))) => {
            let word = match stored {
                Stored::Ok => "stored",
                Stored::Ignored => "stored (ignored type)",
                Stored::Rejected => "stored (not understood; kept for inspection)",
                Stored::Duplicate => "duplicate",
            };
            reply(StatusCode::OK, serde_json::json!({ "result": word }))
        }
        Ok(Ok(Written::Refused(why))) => {
            state
                .refuse_as("stale", &route, StatusCode::UNAUTHORIZED, why, peer, Some(bytes.len()))
                .await
        }
        Ok(Err(why)) => {
            tracing::error!(%route, "not acknowledged, vendor will retry: {why}");
            let mut r = reply(
                try_again_status(&provider),
                serde_json::json!({ "error": "could not store the event; try again" }),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            r
        }
        Err(_) => reply(
            try_again_status(&provider),
            serde_json::json!({ "error": "writer stopped" }),
        ),
    }
}

/// HighLevel signs a `timestamp` into the body. A delivery signed too long ago, or in the future, is
/// refused unless we hold its event already (then it is a harmless duplicate).
fn stale(body: &[u8], max_age_secs: u64) -> Option<String> {
    let signed = providers::highlevel::signed_timestamp(body)?;
    let now = chrono::Utc::now().timestamp_millis();
    let age_ms = now - signed;
    if age_ms > (max_age_secs as i64) * 1000 {
        Some(format!(
            "signed timestamp is {}s old (limit {max_age_secs}s)",
            age_ms / 1000
        ))
    } else if age_ms < -300_000 {
        Some(format!("signed timestamp is {}s in the future", -age_ms / 1000))
    } else {
        None
    }
}

async fn callback(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let route = "/callbacks/mykaarma";
    let bytes = match state
        .body(route, &headers, body, peer, StatusCode::SERVICE_UNAVAILABLE)
        .await
    {
        Ok(b) => b.bytes,
        Err(response) => return response,
    };
    let parsed = providers::mykaarma::parse_callback(&token, &bytes);
    let (tx, rx) = oneshot::channel();
    let job = Job::Callback {
        token,
        body: bytes.to_vec(),
        parsed,
        reply: tx,
    };
    if state.jobs.send(job).await.is_err() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": "shutting down" }),
        );
    }
    match rx.await {
        Ok(Ok(CallbackStored::UnknownToken)) => {
            state
                .refuse(
                    route,
                    StatusCode::NOT_FOUND,
                    "unknown callback token".into(),
                    peer,
                    Some(bytes.len()),
                )
                .await
        }
        Ok(Ok(CallbackStored::Stored)) => reply(StatusCode::OK, serde_json::json!({ "result": "stored" })),
        Ok(Ok(CallbackStored::Duplicate)) => reply(StatusCode::OK, serde_json::json!({ "result": "duplicate" })),
        Ok(Err(_)) | Err(_) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": "could not store; try again" }),
        ),
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    let (tx, rx) = oneshot::channel();
    if state.jobs.send(Job::Health { reply: tx }).await.is_err() {
        return reply(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "ok": false }));
    }
    match rx.await {
        Ok(Ok(last)) => reply(
            StatusCode::OK,
            serde_json::json!({
                "ok": true,
                "last_event_at": last.map(crate::store::rfc3339),
                "unsigned_accepted": state.verifiers.insecure_accept_unsigned,
            }),
        ),
        Ok(Err(e)) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "ok": false, "error": e }),
        ),
        Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "ok": false })),
    }
}

/// `/metrics`, to loopback peers (a local Prometheus or agent) unless `[receiver] public_metrics`.
async fn metrics_page(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if !state.public_metrics && !peer.ip().is_loopback() {
        return reply(
            StatusCode::FORBIDDEN,
            serde_json::json!({ "error": "/metrics answers loopback only; set [receiver] public_metrics = true to change that" }),
        );
    }
    let (tx, rx) = oneshot::channel();
    if state.jobs.send(Job::Metrics { reply: tx }).await.is_err() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": "shutting down" }),
        );
    }
    match rx.await {
        Ok(Ok(snapshot)) => {
            let text = state.metrics.render(&snapshot, chrono::Utc::now().timestamp_millis());
            let mut r = (StatusCode::OK, text).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        Ok(Err(e)) => reply(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "error": e })),
        Err(_) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": "writer stopped" }),
        ),
    }
}

async fn noop(State(state): State<AppState>, headers: HeaderMap, body: Body) -> StatusCode {
    match body::read(&headers, body, state.max_body, state.read_timeout, &state.unverified).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
