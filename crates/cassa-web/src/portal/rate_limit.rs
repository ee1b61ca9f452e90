//! A per-client limit on lookups that could be used to enumerate notices
//! (a notice number and a codice fiscale that match say a debt exists).
//! Fixed windows per client address, in this process: enough to make
//! guessing slow; behind a load balancer each process counts its share.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bounds memory whatever addresses arrive.
const MAX_CLIENTS: usize = 100_000;

pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            per_window,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt of `client`; `false` when over the limit.
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = clients.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_limit_waits_for_the_next_window() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let me: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(me, t0)));
        assert!(!limiter.allow(me, t0));
        assert!(limiter.allow(other, t0), "others are not affected");
        assert!(limiter.allow(me, t0 + Duration::from_secs(61)));
    }
}
