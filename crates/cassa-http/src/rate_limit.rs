//! Per-client limits on what an anonymous or unauthenticated caller can
//! repeat: notice lookups (a notice number and a codice fiscale that match
//! say a debt exists), back-office logins, spontaneous debts. Fixed windows
//! counted in the database ([`cassa_store::Store::count_hit`]) and read as
//! a sliding window ([`cassa_store::WindowHits`]), so every
//! `cassa serve` process behind a load balancer counts the same hits and a
//! flood of addresses costs rows the sweep deletes, never memory. A store
//! that cannot count refuses: a limit that fails open is none.

use jiff::{SignedDuration, Timestamp};

use cassa_store::Store;

#[derive(Copy, Clone, Debug)]
pub struct RateLimit {
    /// What is counted, as stored.
    pub bucket: &'static str,
    pub per_window: i64,
    pub window: SignedDuration,
}

/// How long counts are kept: the longest window of any limit (a day),
/// and the one before it, which still weighs on the current one.
pub const KEEP_COUNTS: SignedDuration = SignedDuration::from_hours(48);

impl RateLimit {
    /// Notice lookups per client: enough for a family's notices, too few
    /// to enumerate anyone's.
    pub const LOOKUPS: RateLimit = RateLimit {
        bucket: "lookup",
        per_window: 30,
        window: SignedDuration::from_mins(10),
    };
    /// Back-office login attempts per client.
    pub const LOGINS: RateLimit = RateLimit {
        bucket: "login",
        per_window: 20,
        window: SignedDuration::from_mins(10),
    };

    /// Checks of an operator's current password from their own session
    /// (a password change, TOTP off), per account: a stolen session cannot
    /// guess it.
    pub const ACCOUNT_CHECKS: RateLimit = RateLimit {
        bucket: "account_check",
        per_window: 10,
        window: SignedDuration::from_hours(1),
    };
    /// Spontaneous debts asked per client a day: a family's fees, not a
    /// flood (the challenge makes each cost work; this bounds the total).
    pub const SPONTANEOUS: RateLimit = RateLimit {
        bucket: "spontaneous",
        per_window: 20,
        window: SignedDuration::from_hours(24),
    };
    /// Spontaneous debts asked a day for one debtor, by anyone: nobody's
    /// codice fiscale collects a pile of debts.
    pub const SPONTANEOUS_PER_DEBTOR: RateLimit = RateLimit {
        bucket: "spontaneous_debtor",
        per_window: 10,
        window: SignedDuration::from_hours(24),
    };

    /// Counts one attempt of `key`; `false` when over the limit (or when
    /// it cannot be counted). A caller already over it is refused with a
    /// read alone: a flood does not queue writes before payments.
    pub async fn allow(&self, store: &Store, key: &str) -> bool {
        let now = Timestamp::now();
        let limit = self.per_window as f64;
        let refuse = |e: cassa_store::StoreError| {
            tracing::error!(error = %e, bucket = self.bucket, "a rate limit could not count: refused");
            false
        };
        match store.hits(self.bucket, key, self.window, now).await {
            Ok(seen) if seen.estimate() + 1.0 > limit => return false,
            Ok(_) => {}
            Err(e) => return refuse(e),
        }
        match store.count_hit(self.bucket, key, self.window, now).await {
            Ok(hits) => hits.estimate() <= limit,
            Err(e) => refuse(e),
        }
    }
}
