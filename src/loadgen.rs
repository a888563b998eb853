//! A constant-rate HTTP load generator for the receiver benchmark (`switchboard bench-load`,
//! hidden). Requests are scheduled at fixed instants whatever the answers do (open loop), and each
//! latency is counted from its scheduled instant, so a stall shows up in the tail instead of
//! silently slowing the load (no coordinated omission).

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
}

/// POST `signature<TAB>body` lines from `file` to `url` at `rate` per second for `seconds`, with
/// at most `connections` requests in flight.
pub fn run(url: &str, file: &Path, rate: u64, seconds: u64, connections: usize) -> Result<LoadReport> {
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
    let lines = Arc::new(lines);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30))
            .build()?;
        let gate = Arc::new(tokio::sync::Semaphore::new(connections));
        let total = rate * seconds;
        let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
        let started = tokio::time::Instant::now();
        let mut tasks = Vec::with_capacity(total as usize);
        for i in 0..total {
            let due = started + interval * i as u32;
            tokio::time::sleep_until(due).await;
            let (client, gate, lines, url) = (client.clone(), gate.clone(), lines.clone(), url.to_string());
            tasks.push(tokio::spawn(async move {
                let _slot = gate.acquire_owned().await;
                let (sig, body) = &lines[(i as usize) % lines.len()];
                let answer = client
                    .post(url)
                    .header("content-type", "text/plain")
                    .header("mykaarma-signature-token", sig)
                    .body(body.clone())
                    .send()
                    .await;
                let status = answer.map(|r| r.status().as_u16()).ok();
                (status, due.elapsed())
            }));
        }
        let (mut ok, mut non_2xx, mut errors) = (0, 0, 0);
        let mut latencies = Vec::with_capacity(tasks.len());
        for t in tasks {
            let (status, latency) = t.await?;
            match status {
                Some(s) if (200..300).contains(&s) => ok += 1,
                Some(_) => non_2xx += 1,
                None => errors += 1,
            }
            latencies.push(latency.as_secs_f64() * 1000.0);
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
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
        })
    })
}
