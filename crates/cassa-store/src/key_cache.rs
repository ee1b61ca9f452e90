//! A short-lived, in-process cache of API key owners. Every integration
//! call presents a key; looking it up in the database each time costs a
//! round trip per request. Entries live a few seconds: a key revoked in
//! this process stops working at once (the cache is cleared), one revoked
//! by another process within `TTL`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ApiKeyOwner;

pub(crate) const TTL: Duration = Duration::from_secs(5);
/// Bounds memory whatever keys callers make up (only found keys are kept).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, (Instant, ApiKeyOwner)>>,
}

impl KeyCache {
    pub(crate) fn get(&self, secret_hash: &str) -> Option<ApiKeyOwner> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(secret_hash)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, owner)| owner.clone())
    }

    pub(crate) fn put(&self, secret_hash: &str, owner: &ApiKeyOwner) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(secret_hash.to_owned(), (Instant::now(), owner.clone()));
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
