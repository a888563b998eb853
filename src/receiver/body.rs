//! Reading a request body under three rules. Bytes not yet verified are bounded in total (a shared
//! budget): 128 unsigned 8 MiB bodies at once cannot hold a gigabyte. A body over the size limit is
//! read to its end and thrown away (up to a bound) before the 413 is sent, so a client that writes
//! the whole body before reading — most webhook senders — sees the 413 instead of a broken pipe
//! (nginx's lingering close). And it must all arrive within the read timeout.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Past the limit, at most this many more bytes are read and discarded before answering 413.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

pub enum ReadError {
    TooLarge,
    Timeout,
    /// The budget for unverified bytes is spent: try again shortly.
    Busy,
    Broken(String),
}

/// Bytes held for requests whose signature is not yet checked.
#[derive(Clone)]
pub struct Budget(Arc<Semaphore>, usize);

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        Budget(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))), bytes)
    }

    fn take(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(bytes.clamp(1, self.1)).ok()?;
        self.0.clone().try_acquire_many_owned(n).ok()
    }
}

/// A body and its share of the budget (released when dropped: after verification).
pub struct Held {
    pub bytes: Bytes,
    _permits: Vec<OwnedSemaphorePermit>,
}

pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
    budget: &Budget,
) -> Result<Held, ReadError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let mut body = body;
    if declared.is_some_and(|n| n > limit) {
        drain(&mut body, deadline).await;
        return Err(ReadError::TooLarge);
    }
    let mut permits = vec![];
    // A declared length is reserved whole (all or nothing, so no two requests each hold half).
    if let Some(n) = declared {
        permits.push(budget.take(n).ok_or(ReadError::Busy)?);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(ReadError::Timeout),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ReadError::Broken(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        if buf.len() + data.len() > limit {
            drop(buf);
            drop(permits);
            drain(&mut body, deadline).await;
            return Err(ReadError::TooLarge);
        }
        if declared.is_none() {
            permits.push(budget.take(data.len()).ok_or(ReadError::Busy)?);
        }
        buf.extend_from_slice(&data);
    }
    Ok(Held {
        bytes: Bytes::from(buf),
        _permits: permits,
    })
}

/// Read and discard the rest of a body (up to `DRAIN_MAX`, until `deadline`), so the answer that
/// follows is read rather than cut off by a reset.
async fn drain(body: &mut Body, deadline: tokio::time::Instant) {
    let mut seen = 0usize;
    while seen < DRAIN_MAX {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}
