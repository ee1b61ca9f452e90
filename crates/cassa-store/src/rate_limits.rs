//! Per-client counters for rate limits, in the database so that every
//! `cassa serve` process behind a load balancer counts the same hits, and
//! so that no flood of addresses can grow a process's memory.

use jiff::{SignedDuration, Timestamp};

use crate::sql::micros;
use crate::{Store, StoreError};

impl Store {
    /// Counts one hit of `key` in `bucket` for the fixed window of length
    /// `window` holding `now`; answers the hits in that window so far,
    /// this one included.
    pub async fn count_hit(
        &self,
        bucket: &str,
        key: &str,
        window: SignedDuration,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let length = window.as_micros().max(1) as i64;
        let at = micros(now);
        let window_start = at - at.rem_euclid(length);
        let mut tx = self.begin_write().await?;
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limit (bucket, client_key, window_start, hits) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (bucket, client_key, window_start) DO UPDATE SET hits = rate_limit.hits + 1 \
             RETURNING hits",
        )
        .bind(bucket)
        .bind(key)
        .bind(window_start)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(hits)
    }

    /// Deletes the counts of windows that started before `before`.
    pub async fn forget_hits_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM rate_limit WHERE window_start < $1")
            .bind(micros(before))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
