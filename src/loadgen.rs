//! A constant-rate HTTP load generator for the receiver benchmark (`switchboard bench-load`,
//! hidden). Requests are scheduled at fixed instants whatever the answers do (open loop), and each
//! latency is counted from its scheduled instant, so a stall shows up in the tail instead of
//! silently slowing the load (no coordinated omission).
//!
//! With the receiver's database (`--watch-db`) it also times each acknowledged delivery until its
//! message is visible to a reader that learns of writes as the inbox does (the same file watch,
//! and the same second looks when a wake-up comes before its commit is visible).

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub target_rate: u64,
    pub achieved_rate: f64,
    pub sent: u64,
    pub ok: u64,
    pub non_2xx: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// From acknowledgement to visible in the database, when watched.
    pub visible: Option<Visibility>,
}

#[derive(Debug, Serialize)]
pub struct Visibility {
    pub seen: u64,
    /// Acknowledged but not visible within `GIVE_UP` of the load's end.
    pub unseen: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// How long after the load the watcher waits for the last deliveries to become visible.
const GIVE_UP: Duration = Duration::from_secs(5);

/// Acknowledged deliveries by message key, waiting to be seen.
type Acked = Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>;

/// POST `signature<TAB>body` lines from `file` to `url` at `rate` per second for `seconds`, with
/// at most `connections` requests in flight.
pub fn run(
    url: &str,
    file: &Path,
    rate: u64,
    seconds: u64,
    connections: usize,
    watch_db: Option<&Path>,
) -> Result<LoadReport> {
    let lines: Vec<(String, Vec<u8>)> =
        std::io::BufReader::new(std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?)
            .lines()
            .map(|l| {
                let l = l?;
                let (sig, body) = l.split_once('\t').unwrap_or(("", &l));
                Ok((sig.to_string(), body.as_bytes().to_vec()))
            })
            .collect::<std::io::Result<_>>()?;
    anyhow::ensure!(!lines.is_empty(), "{} holds no requests", file.display());
    // Parsing every body takes seconds: only when the deliveries are to be watched.
    let keys: Vec<Option<String>> = match watch_db {
        Some(_) => lines.iter().map(|(_, body)| message_key(body)).collect(),
        None => vec![None],
    };
    let keys = Arc::new(keys);
    let acked: Acked = Arc::default();
    let load_over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = match watch_db {
        Some(db) => Some(start_watcher(db, acked.clone(), load_over.clone())?),
        None => None,
    };
    let lines: Arc<Vec<(String, axum::body::Bytes)>> =
        Arc::new(lines.into_iter().map(|(sig, body)| (sig, body.into())).collect());
    let uri: hyper::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
    anyhow::ensure!(uri.scheme_str() == Some("http"), "{url}: only http:// is sent to");
    let authority = uri.authority().context("no host in the URL")?.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let total = rate * seconds;
        let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
        let started = tokio::time::Instant::now();
        // Each connection takes the next request in order and sends it at its instant, so at most
        // `connections` are in flight; a request no connection is free for waits, and its wait counts.
        let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut senders = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            let (next, lines, keys, acked) = (next.clone(), lines.clone(), keys.clone(), acked.clone());
            let (uri, authority, watched) = (uri.clone(), authority.clone(), watcher.is_some());
            senders.push(tokio::spawn(async move {
                let mut results: Vec<(Option<u16>, f64)> = vec![];
                let mut conn = None;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        return results;
                    }
                    let due = started + interval * i as u32;
                    tokio::time::sleep_until(due).await;
                    let (sig, body) = &lines[(i as usize) % lines.len()];
                    let status = post(&mut conn, &authority, &uri, sig, body.clone()).await;
                    let latency = due.elapsed();
                    if watched
                        && status.is_some_and(|s| (200..300).contains(&s))
                        && let Some(key) = &keys[(i as usize) % keys.len()]
                    {
                        acked
                            .lock()
                            .expect("acked")
                            .insert(key.clone(), std::time::Instant::now());
                    }
                    results.push((status, latency.as_secs_f64() * 1000.0));
                }
            }));
        }
        let (mut ok, mut non_2xx, mut errors) = (0, 0, 0);
        let mut latencies = Vec::with_capacity(total as usize);
        for sender in senders {
            for (status, latency) in sender.await? {
                match status {
                    Some(s) if (200..300).contains(&s) => ok += 1,
                    Some(_) => non_2xx += 1,
                    None => errors += 1,
                }
                latencies.push(latency);
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        load_over.store(true, std::sync::atomic::Ordering::Relaxed);
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| percentile(&latencies, q);
        let visible = match watcher {
            Some(w) => {
                let mut seen = w.join().map_err(|_| anyhow::anyhow!("the watcher panicked"))??;
                let unseen = acked.lock().expect("acked").len() as u64;
                seen.sort_by(f64::total_cmp);
                let at = |q: f64| percentile(&seen, q);
                Some(Visibility {
                    seen: seen.len() as u64,
                    unseen,
                    p50_ms: at(0.5),
                    p99_ms: at(0.99),
                    max_ms: at(1.0),
                })
            }
            None => None,
        };
        Ok(LoadReport {
            target_rate: rate,
            achieved_rate: total as f64 / elapsed,
            sent: total,
            ok,
            non_2xx,
            errors,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: at(1.0),
            visible,
        })
    })
}

type Connection = hyper::client::conn::http1::SendRequest<http_body_util::Full<axum::body::Bytes>>;

/// POST one delivery on this connection (made, or made again after a failure, first); its status,
/// or `None` if it got no answer within 30 s. A bare HTTP/1 connection rather than a pooled client:
/// at the rates measured here the load generator shares the two cores with the receiver, and a
/// pooled client spent about twice wrk's CPU per request.
async fn post(
    conn: &mut Option<Connection>,
    authority: &str,
    uri: &hyper::Uri,
    signature: &str,
    body: axum::body::Bytes,
) -> Option<u16> {
    let exchange = async {
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            let stream = tokio::net::TcpStream::connect(authority).await.ok()?;
            stream.set_nodelay(true).ok()?;
            let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
            tokio::spawn(connection);
            *conn = Some(sender);
        }
        let sender = conn.as_mut()?;
        sender.ready().await.ok()?;
        let request = hyper::Request::post(uri.clone())
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "text/plain")
            .header("mykaarma-signature-token", signature)
            .body(http_body_util::Full::new(body))
            .ok()?;
        let answer = sender.send_request(request).await.ok()?;
        let status = answer.status().as_u16();
        // Read to the end, so that the connection can carry the next request.
        http_body_util::BodyExt::collect(answer.into_body()).await.ok()?;
        Some(status)
    };
    let status = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .ok()
        .flatten();
    if status.is_none() {
        *conn = None;
    }
    status
}

/// The value at quantile `q` of sorted figures (0 when there are none).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len().max(1) - 1) as f64 * q).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

/// The key of the message a delivery carries.
fn message_key(body: &[u8]) -> Option<String> {
    match crate::providers::parse(body, None).outcome {
        crate::providers::Outcome::Ok(changes) => changes.into_iter().find_map(|c| match c {
            crate::providers::Change::Message(part) => Some(part.key),
            _ => None,
        }),
        _ => None,
    }
}

/// Look for acknowledged messages whenever the database is written, as the inbox does; returns
/// each one's milliseconds from acknowledgement to visible.
fn start_watcher(
    db: &Path,
    acked: Acked,
    load_over: Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<Result<Vec<f64>>>> {
    let store = crate::store::Store::open(db)?;
    let (poke, woken) = std::sync::mpsc::channel::<()>();
    crate::tui::file_watch::start(db, move || poke.send(()).is_ok()).context("cannot watch the database (inotify)")?;
    Ok(std::thread::spawn(move || -> Result<Vec<f64>> {
        use crate::tui::effects::{RECHECK_MS, RECHECKS};
        let mut seen = Vec::new();
        let mut over_since: Option<std::time::Instant> = None;
        let mut version = store.data_version()?;
        let mut unseen_write = 0u32;
        loop {
            // The inbox's looks: on a wake-up, then again every 10 ms while looks keep finding
            // commits (one wake-up can stand for several, the last not yet visible).
            let waiting_any = !acked.lock().expect("acked").is_empty();
            let timeout = if unseen_write > 0 || waiting_any {
                Duration::from_millis(RECHECK_MS)
            } else {
                Duration::from_millis(100) // only to notice the load's end
            };
            let poked = woken.recv_timeout(timeout).is_ok();
            while woken.try_recv().is_ok() {}
            let now = store.data_version()?;
            if now != version {
                version = now;
                if poked || unseen_write > 0 {
                    unseen_write = RECHECKS;
                }
            } else if poked {
                unseen_write = RECHECKS;
            } else {
                unseen_write = unseen_write.saturating_sub(1);
            }
            // Every look checks every waiting delivery: one acknowledged after the commit that
            // made it visible was seen by that look already (this counts it a little late).
            let waiting: Vec<(String, std::time::Instant)> = acked
                .lock()
                .expect("acked")
                .iter()
                .map(|(k, t)| (k.clone(), *t))
                .collect();
            if !waiting.is_empty() {
                let mut q = store
                    .connection()
                    .prepare_cached("SELECT 1 FROM messages WHERE key = ?1")?;
                for (key, at) in waiting {
                    if q.exists([&key])? {
                        seen.push(at.elapsed().as_secs_f64() * 1000.0);
                        acked.lock().expect("acked").remove(&key);
                    }
                }
            }
            if load_over.load(std::sync::atomic::Ordering::Relaxed) {
                let since = *over_since.get_or_insert_with(std::time::Instant::now);
                if acked.lock().expect("acked").is_empty() || since.elapsed() > GIVE_UP {
                    return Ok(seen);
                }
            }
        }
    }))
}
