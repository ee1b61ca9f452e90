//! Per-client counters for rate limits, in the database so that every
//! `cassa serve` process behind a load balancer counts the same hits, and
//! so that no flood of addresses can grow a process's memory. Fixed
//! windows, read as a sliding one: the previous window's hits count for
//! the part of it still within one window of now, so a client gains
//! nothing by crossing a window's edge.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;

use crate::sql::micros;
use crate::{Store, StoreError};

/// A key's hits in the window holding `now` and in the one before.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct WindowHits {
    pub current: i64,
    pub previous: i64,
    /// How far into the current window `now` is, from 0 to 1.
    pub elapsed: f64,
}

impl WindowHits {
    /// The hits of the last window's length up to now (the previous
    /// window's spread evenly over it).
    pub fn estimate(&self) -> f64 {
        self.previous as f64 * (1.0 - self.elapsed) + self.current as f64
    }
}

/// The start of the window of length `window` holding `now`, and how far
/// into it `now` is.
fn window_of(window: SignedDuration, now: Timestamp) -> (i64, i64, f64) {
    let length = window.as_micros().max(1) as i64;
    let at = micros(now);
    let into = at.rem_euclid(length);
    (at - into, length, into as f64 / length as f64)
}

impl Store {
    /// `key`'s hits in `bucket` as of `now`, counting nothing: a caller
    /// over its limit is refused without a write.
    pub async fn hits(
        &self,
        bucket: &str,
        key: &str,
        window: SignedDuration,
        now: Timestamp,
    ) -> Result<WindowHits, StoreError> {
        let (start, length, elapsed) = window_of(window, now);
        let mut conn = self.read().acquire().await?;
        let rows = sqlx::query(
            "SELECT window_start, hits FROM rate_limit \
             WHERE bucket = $1 AND client_key = $2 AND window_start IN ($3, $4)",
        )
        .bind(bucket)
        .bind(key)
        .bind(start)
        .bind(start - length)
        .fetch_all(&mut *conn)
        .await?;
        let mut hits = WindowHits {
            current: 0,
            previous: 0,
            elapsed,
        };
        for row in rows {
            let count: i64 = row.try_get("hits")?;
            if row.try_get::<i64, _>("window_start")? == start {
                hits.current = count;
            } else {
                hits.previous = count;
            }
        }
        Ok(hits)
    }

    /// Counts one hit of `key` in `bucket` at `now`; answers the hits
    /// with this one included.
    pub async fn count_hit(
        &self,
        bucket: &str,
        key: &str,
        window: SignedDuration,
        now: Timestamp,
    ) -> Result<WindowHits, StoreError> {
        let (start, length, elapsed) = window_of(window, now);
        let mut tx = self.begin_write().await?;
        let current: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limit (bucket, client_key, window_start, hits) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (bucket, client_key, window_start) DO UPDATE SET hits = rate_limit.hits + 1 \
             RETURNING hits",
        )
        .bind(bucket)
        .bind(key)
        .bind(start)
        .fetch_one(&mut *tx)
        .await?;
        let previous: Option<i64> = sqlx::query_scalar(
            "SELECT hits FROM rate_limit WHERE bucket = $1 AND client_key = $2 AND window_start = $3",
        )
        .bind(bucket)
        .bind(key)
        .bind(start - length)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(WindowHits {
            current,
            previous: previous.unwrap_or(0),
            elapsed,
        })
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
