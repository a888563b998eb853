//! Accepting connections the way servers that face the internet must: a cap on open connections
//! (past it a new one is closed at once, so the process never runs out of descriptors and
//! `/healthz` keeps answering), a deadline for each request's headers that also closes idle
//! keep-alive connections (hyper starts it whenever the connection waits for a request head), and
//! the descriptor limit raised to what the system allows. A slowloris client or thousands of
//! silent connections cost a bounded number of descriptors for a bounded time.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; one more is closed at once.
    pub max_connections: usize,
    /// A request's headers (or, between requests, the next request's) must arrive within this.
    pub header_timeout: Duration,
}

/// Raise the soft limit on open files to the hard limit (nginx's `worker_rlimit_nofile`); the
/// limit in force afterwards.
pub fn raise_open_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write a live rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// The connection cap for a descriptor limit: room is kept for the database, logs and the rest.
pub fn connection_cap(open_files: u64, configured: Option<usize>) -> usize {
    let room = open_files.saturating_sub(64).max(16) as usize;
    configured.unwrap_or(4096).min(room)
}

/// Serve `app` on `listener` until `shutdown`; then stop accepting and let open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // A sender that hangs up right after writing its body still delivered it: read it to the
        // end (the store then keeps it) instead of dropping the request at end of input.
        .half_close(true)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or similar: say so once per burst, and breathe.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: {} connections are open", limits.max_connections);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().layer(axum::Extension(ConnectInfo(peer))));
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Requests under way finish; idle connections close now.
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_process_own_files() {
        assert_eq!(connection_cap(1024, None), 960);
        assert_eq!(connection_cap(1_048_576, None), 4096);
        assert_eq!(connection_cap(1_048_576, Some(100)), 100);
        assert_eq!(connection_cap(10, None), 16);
    }
}
