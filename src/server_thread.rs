//! A server on a thread of its own: start it, learn the address it bound (or why it could not
//! start), stop it. The inbox's in-process receiver and the demo's sandbox both run this way.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::time::Duration;

/// Completes when the server should stop.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;
/// Told the bound address once the server listens.
pub type Bound = Box<dyn FnOnce(SocketAddr) + Send>;

/// A running server thread.
pub struct ServerThread {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl ServerThread {
    /// Ask the server to stop and wait for its thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Run `serve(shutdown, bound)` on a thread named `name`; wait up to 5 s for the address it binds.
/// The thread, and the address or why there is none.
pub fn start(
    name: &str,
    serve: impl FnOnce(Shutdown, Bound) -> anyhow::Result<()> + Send + 'static,
) -> std::io::Result<(ServerThread, Result<SocketAddr, String>)> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (tx, rx) = mpsc::channel::<Result<SocketAddr, String>>();
    let bound_tx = tx.clone();
    let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
        let shutdown: Shutdown = Box::pin(async move {
            let _ = stopped.await;
        });
        let bound: Bound = Box::new(move |addr| {
            let _ = bound_tx.send(Ok(addr));
        });
        if let Err(e) = serve(shutdown, bound) {
            let _ = tx.send(Err(format!("{e:#}")));
        }
    })?;
    let addr = rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| Err("did not start within 5 s".into()));
    Ok((ServerThread { stop, thread }, addr))
}
