//! IUV allocation: each ente has a counter of 13-digit IUV bases that only
//! moves forward. A process reserves a block of bases in one short
//! transaction and hands them out from memory, so creating a position does
//! not wait on a row lock. Bases of a block left unused when the process
//! stops are skipped, never reused: the rule is "never the same IUV twice",
//! not "no gaps".

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

use cassa_core::notice::MAX_IUV_BASE;
use sqlx::Row;

use crate::{Store, StoreError};

pub(crate) struct IuvAllocator {
    block: u64,
    cached: Mutex<HashMap<i64, Range<u64>>>,
}

impl IuvAllocator {
    pub(crate) fn new(block: u32) -> Self {
        IuvAllocator {
            block: u64::from(block.max(1)),
            cached: Mutex::new(HashMap::new()),
        }
    }

    fn take_cached(&self, ente_id: i64, count: u64) -> Option<Range<u64>> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let range = cached.get_mut(&ente_id)?;
        if range.end - range.start < count {
            return None;
        }
        let taken = range.start..range.start + count;
        range.start += count;
        Some(taken)
    }

    fn keep(&self, ente_id: i64, spare: Range<u64>) {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let slot = cached.entry(ente_id).or_insert(0..0);
        if slot.is_empty() {
            *slot = spare;
        }
    }
}

impl Store {
    /// Hands out `count` IUV bases of the ente that were never handed out
    /// before, by this or any other process.
    pub async fn allocate_iuv_bases(
        &self,
        ente_id: i64,
        count: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let count = count as u64;
        if count == 0 {
            return Ok(Vec::new());
        }
        if let Some(range) = self.iuv().take_cached(ente_id, count) {
            return Ok(range.collect());
        }
        let reserve = count.max(self.iuv().block);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE iuv_counter SET next_base = next_base + $2 WHERE ente_id = $1 RETURNING next_base",
        )
        .bind(ente_id)
        .bind(reserve as i64)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("ente {ente_id} has no IUV counter")))?;
        tx.commit().await?;
        let end = row.try_get::<i64, _>(0)? as u64;
        let start = end - reserve;
        if end - 1 > MAX_IUV_BASE {
            return Err(StoreError::Corrupt(format!(
                "ente {ente_id} has used up its 13-digit IUV bases"
            )));
        }
        self.iuv().keep(ente_id, start + count..end);
        Ok((start..start + count).collect())
    }
}
