//! Per-client limits on what an anonymous or unauthenticated caller can
//! repeat: notice lookups (a notice number and a codice fiscale that match
//! say a debt exists), back-office logins, spontaneous debts. Fixed windows
//! counted in the database ([`cassa_store::Store::count_hit`]), so every
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

/// The longest window of any limit: counts older than this are deleted.
pub const LONGEST_WINDOW: SignedDuration = SignedDuration::from_hours(24);

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
    /// it cannot be counted).
    pub async fn allow(&self, store: &Store, key: &str) -> bool {
        match store
            .count_hit(self.bucket, key, self.window, Timestamp::now())
            .await
        {
            Ok(hits) => hits <= self.per_window,
            Err(e) => {
                tracing::error!(error = %e, bucket = self.bucket, "a rate limit could not count: refused");
                false
            }
        }
    }
}
