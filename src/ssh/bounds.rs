//! The bounds on a demo anyone may connect to: so many visitors at once, so many connections per
//! address per minute, and visits that end after a while without a key or at a set length. Each
//! bound says so, politely, before the connection closes.

use crate::config::SshConfig;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Said to a connection over its address's rate.
pub const TOO_OFTEN: &str = "Switchboard's demo: too many connections from your address in the last minute. Please wait a minute and connect again.";

/// Said to every session when the server stops.
pub const STOPPING: &str = "Switchboard's SSH server is stopping; your draft is saved. Connect again once it is back.";

/// Said when every seat is taken (`visitors` is the bound).
pub fn full(visitors: usize) -> String {
    format!(
        "Switchboard's demo is full right now: {visitors} visitors are exploring it. Please try again in a few minutes."
    )
}

/// Said when a visit ends for want of keys.
pub fn idle(after: Duration) -> String {
    format!(
        "Your Switchboard demo closed after {} without a key. Thanks for visiting; connect again any time for a fresh dealership.",
        words(after)
    )
}

/// Said when a visit reaches its length.
pub fn over(after: Duration) -> String {
    format!(
        "Your Switchboard demo closed after {}, its longest visit. Thanks for visiting; connect again any time for a fresh dealership.",
        words(after)
    )
}

/// Said inside the inbox a minute before either.
pub fn closing_soon(why: &str) -> String {
    format!("This demo closes in a minute ({why}).")
}

fn words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        60 => "a minute".into(),
        1 => "a second".into(),
        s => format!("{s} seconds"),
    }
}

pub struct Bounds {
    pub sessions: usize,
    pub idle: Duration,
    pub longest: Duration,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Bounds {
    pub fn new(config: &SshConfig) -> anyhow::Result<Bounds> {
        let rate = NonZeroU32::new(config.demo_connections_per_minute)
            .ok_or_else(|| anyhow::anyhow!("ssh.demo_connections_per_minute must be at least 1"))?;
        if config.demo_sessions == 0 {
            anyhow::bail!("ssh.demo_sessions must be at least 1");
        }
        Ok(Bounds {
            sessions: config.demo_sessions,
            idle: Duration::from_secs(config.demo_idle_seconds.max(1)),
            longest: Duration::from_secs(config.demo_session_seconds.max(1)),
            per_address: RateLimiter::keyed(Quota::per_minute(rate)),
        })
    }

    /// Whether a new connection from `ip` is within its address's rate.
    pub fn admit(&self, ip: IpAddr) -> bool {
        // Addresses not seen for a while are forgotten, so a crowd of them cannot grow the table.
        if self.per_address.len() > 4096 {
            self.per_address.retain_recent();
        }
        self.per_address.check_key(&ip).is_ok()
    }
}

/// Inboxes running now, and a bound on them when there is one.
pub struct Sessions {
    running: Arc<AtomicUsize>,
    /// Told each time a seat is given back.
    left: Arc<tokio::sync::Notify>,
    limit: Option<usize>,
}

/// One seat, given back when dropped.
pub struct Seat {
    running: Arc<AtomicUsize>,
    left: Arc<tokio::sync::Notify>,
}

impl Sessions {
    pub fn new(limit: Option<usize>) -> Sessions {
        Sessions {
            running: Arc::new(AtomicUsize::new(0)),
            left: Arc::new(tokio::sync::Notify::new()),
            limit,
        }
    }

    /// Until every seat is given back (the server stopping lets its sessions save and clean up).
    pub async fn all_left(&self) {
        loop {
            let left = self.left.notified();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            left.await;
        }
    }

    /// A seat, unless all are taken.
    pub fn take(&self) -> Option<Seat> {
        let limit = self.limit.unwrap_or(usize::MAX);
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
            .ok()?;
        Some(Seat {
            running: self.running.clone(),
            left: self.left.clone(),
        })
    }
}

/// How many inboxes are running, to read later.
pub struct Count(Arc<AtomicUsize>);

impl Count {
    pub fn now(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Seat {
    pub fn count(&self) -> Count {
        Count(self.running.clone())
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
        self.left.notify_waiters();
    }
}

/// When a visit that started at `started` and last had a key at `last_key` should close, and
/// what to say then; `None` while it may go on.
pub fn closing(bounds: &Bounds, started: Instant, last_key: Instant, now: Instant) -> Option<String> {
    if now >= started + bounds.longest {
        Some(over(bounds.longest))
    } else if now >= last_key + bounds.idle {
        Some(idle(bounds.idle))
    } else {
        None
    }
}

/// Within a minute of closing: the deadline, and why, for a warning inside the inbox.
pub fn warning(bounds: &Bounds, started: Instant, last_key: Instant, now: Instant) -> Option<(Instant, &'static str)> {
    let soon = now + Duration::from_secs(60);
    let longest = started + bounds.longest;
    let idle = last_key + bounds.idle;
    if longest <= idle {
        (longest <= soon).then_some((longest, "its longest visit"))
    } else {
        (idle <= soon).then_some((idle, "no key for a while"))
    }
}

/// The next moment `closing` could change its answer: a minute before, and at, either deadline.
pub fn next_check(bounds: &Bounds, started: Instant, last_key: Instant, now: Instant) -> Instant {
    let minute = Duration::from_secs(60);
    let deadlines = [started + bounds.longest, last_key + bounds.idle];
    deadlines
        .iter()
        .flat_map(|d| [d.checked_sub(minute).unwrap_or(*d), *d])
        .filter(|t| *t > now)
        .min()
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(sessions: usize, per_minute: u32) -> Bounds {
        Bounds::new(&SshConfig {
            demo_sessions: sessions,
            demo_connections_per_minute: per_minute,
            demo_idle_seconds: 600,
            demo_session_seconds: 1800,
        })
        .unwrap()
    }

    #[test]
    fn seats_run_out_and_come_back() {
        let sessions = Sessions::new(Some(2));
        let a = sessions.take().expect("a first seat");
        let _b = sessions.take().expect("a second seat");
        assert!(sessions.take().is_none(), "the third visitor is told it is full");
        drop(a);
        assert!(sessions.take().is_some(), "a seat given back is taken again");
    }

    #[test]
    fn an_address_over_its_rate_is_turned_away_and_others_are_not() {
        let b = bounds(32, 3);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| b.admit(one)));
        assert!(!b.admit(one));
        assert!(b.admit(two));
    }

    #[test]
    fn a_visit_closes_when_idle_or_too_long_and_not_before() {
        let b = bounds(32, 6);
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        assert_eq!(closing(&b, t0, at(500), at(1000)), None);
        assert_eq!(closing(&b, t0, at(300), at(900)), Some(idle(Duration::from_secs(600))));
        assert_eq!(
            closing(&b, t0, at(1790), at(1800)),
            Some(over(Duration::from_secs(1800)))
        );
        assert!(idle(Duration::from_secs(600)).contains("10 minutes"));
        // Woken a minute before the idle deadline, then at it.
        assert_eq!(next_check(&b, t0, at(0), at(0)), at(540));
        assert_eq!(next_check(&b, t0, at(0), at(540)), at(600));
        assert_eq!(next_check(&b, t0, at(1700), at(1700)), at(1740));
        // Warned a minute before the nearer deadline, and again after a key moves it.
        assert_eq!(warning(&b, t0, at(0), at(539)), None);
        assert_eq!(warning(&b, t0, at(0), at(540)), Some((at(600), "no key for a while")));
        assert_eq!(
            warning(&b, t0, at(590), at(1130)),
            Some((at(1190), "no key for a while"))
        );
        assert_eq!(
            warning(&b, t0, at(1500), at(1740)),
            Some((at(1800), "its longest visit"))
        );
    }
}
