//! `switchboard sandbox`: a local stand-in for the three vendors' send APIs, each behaving as its
//! documentation says — myKaarma's send-message API (`mykaarma`), HighLevel's
//! `POST /conversations/messages` and `GET /conversations/messages/{id}` (`highlevel`), Partoo's
//! `POST /v2/messages` (`partoo`): their auth, paths, validation and documented errors, then the
//! signed webhooks that report each message's fate to a receiver. Outcomes are scripted by
//! recipient (`script`). Tests and the demo talk to it; it talks only to loopback.
//!
//! `GET /sandbox/requests` lists every request it received (never the credentials), so tests can
//! count them.

pub mod emit;
mod highlevel;
mod mykaarma;
mod partoo;
pub mod script;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use emit::Emitter;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub username: String,
    pub password: String,
    /// The receiver webhook events go to (`{url}/webhooks/{vendor}`; a URL ending in
    /// `/webhooks/mykaarma` is read as its receiver).
    pub webhook_url: Option<String>,
    /// HMAC key for `mykaarma-signature-token`; myKaarma uses the API username.
    pub webhook_secret: Option<String>,
    pub webhook_token: Option<String>,
    /// Time between the steps of a message's life (callbacks, webhooks).
    pub step: Duration,
    /// How long the slow recipient (…0002) takes to answer.
    pub slow: Duration,
    /// Where the redirecting recipient (…0005) is sent.
    pub redirect_to: String,
    /// HighLevel's Bearer token and Partoo's `x-APIKey` it accepts.
    pub highlevel_token: String,
    pub partoo_api_key: String,
    /// The keys HighLevel's (`x-ghl-signature`) and Partoo's (`X-Partoo-Signature-v1`) webhooks are
    /// signed with; the receiver checks their public halves.
    pub highlevel_key: ed25519_dalek::SigningKey,
    pub partoo_key: ed25519_dalek::SigningKey,
    /// What HighLevel knows: the conversation of each contact (`contactId` → `conversationId`).
    pub highlevel_conversations: HashMap<String, String>,
    /// What Partoo knows: the channel of each conversation (`id` → `messaging_partner`).
    pub partoo_conversations: HashMap<String, String>,
}

/// One request as the sandbox saw it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seen {
    pub seq: u64,
    pub vendor: &'static str,
    pub path: String,
    /// The `Version` header (HighLevel).
    pub version: Option<String>,
    /// The request body as JSON (it holds no credentials).
    pub request: Option<serde_json::Value>,
    pub authorized: bool,
    pub outbox_id: Option<String>,
    pub protocol: Option<String>,
    pub recipient: Option<String>,
    pub synchronous: bool,
    pub body: Option<String>,
    pub answer: u16,
}

struct Sandbox {
    options: Options,
    emitter: Emitter,
    seen: Mutex<Vec<Seen>>,
    next: AtomicU64,
    /// Requests already refused once with a 429 (the …0006 recipient): the next one goes through.
    rate_limited: Mutex<HashSet<String>>,
    /// Messages sent through the HighLevel stand-in, for its status lookups: id → status.
    highlevel_status: Mutex<HashMap<String, String>>,
}

impl Sandbox {
    fn log(&self, seen: &Seen) {
        self.seen.lock().expect("sandbox log").push(seen.clone());
    }

    fn answered(&self, seq: u64, status: u16) {
        if let Some(s) = self.seen.lock().expect("sandbox log").iter_mut().find(|s| s.seq == seq) {
            s.answer = status;
        }
    }

    /// Is this the first time this request (vendor, recipient, text) is seen rate-limited?
    fn first_time(&self, seen: &Seen) -> bool {
        let key = format!("{}|{:?}|{:?}", seen.vendor, seen.recipient, seen.body);
        self.rate_limited.lock().expect("sandbox state").insert(key)
    }
}

type Shared = Arc<Sandbox>;

/// Drops the connection it belongs to with a TCP reset.
#[derive(Clone)]
struct Resetter(Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>);

/// Serve until `shutdown` completes; `listening` hears the bound address.
pub async fn serve(
    options: Options,
    shutdown: impl std::future::Future<Output = ()>,
    listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let addr = listener.local_addr()?;
    let webhook_url = options
        .webhook_url
        .as_deref()
        .map(reqwest::Url::parse)
        .transpose()
        .context("--webhook-url is not a URL")?;
    let secret = options
        .webhook_secret
        .clone()
        .unwrap_or_else(|| options.username.clone());
    let state: Shared = Arc::new(Sandbox {
        emitter: Emitter::new(
            webhook_url,
            secret,
            options.webhook_token.clone(),
            options.highlevel_key.clone(),
            options.partoo_key.clone(),
        ),
        options,
        seen: Mutex::new(vec![]),
        next: AtomicU64::new(1),
        rate_limited: Mutex::new(HashSet::new()),
        highlevel_status: Mutex::new(HashMap::new()),
    });
    let router = Router::new()
        .route(
            "/communications/department/{department}/user/{user}/customer/{customer}/message",
            post(mykaarma::send_message),
        )
        .route("/conversations/messages", post(highlevel::send_message))
        .route("/conversations/messages/{id}", get(highlevel::message))
        .route("/v2/messages", post(partoo::send_message))
        .route(
            "/v2/conversations/{id}",
            axum::routing::patch(partoo::update_conversation),
        )
        .route("/sandbox/requests", get(requests))
        .with_state(state);
    listening(addr);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        // Closing with linger 0 sends a reset: how the …0004 recipient is answered.
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        let (reset_tx, reset_rx) = tokio::sync::oneshot::channel::<()>();
        let app = router
            .clone()
            .layer(Extension(Resetter(Arc::new(Mutex::new(Some(reset_tx))))));
        tokio::spawn(async move {
            let service = hyper_util::service::TowerToHyperService::new(app);
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = reset_rx => {} // dropping the connection closes the socket: RST
            }
        });
    }
}

/// `switchboard sandbox`: serve until Ctrl-C or SIGTERM.
pub fn run(options: Options) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        };
        serve(options, shutdown, |addr| {
            // Scripts wait for this line.
            println!("sandbox listening on http://{addr}");
        })
        .await
    })
}

async fn requests(State(state): State<Shared>) -> Response {
    let seen = state.seen.lock().expect("sandbox log").clone();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&seen).unwrap_or_default(),
    )
        .into_response()
}

/// JSON with its content type.
fn json(status: axum::http::StatusCode, body: &impl serde::Serialize) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

/// Reset the connection this request came on (the …0004 recipient); never returns.
/// The redirecting recipient's answer: a 302 to elsewhere, which a sender must not follow.
fn redirect(state: &Sandbox) -> Response {
    (
        axum::http::StatusCode::FOUND,
        [(axum::http::header::LOCATION, state.options.redirect_to.clone())],
    )
        .into_response()
}

async fn reset(resetter: &Resetter) -> Response {
    if let Some(tx) = resetter.0.lock().expect("resetter").take() {
        let _ = tx.send(());
    }
    std::future::pending::<()>().await;
    unreachable!()
}

fn short_random() -> String {
    crate::random::hex(4).unwrap_or_default()
}
