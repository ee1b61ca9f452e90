//! Tokens the server seals and the browser carries (the spontaneous
//! payment's challenge, the OIDC login state), recorded only when spent so
//! that each is spent once; and the key that seals them.

use jiff::Timestamp;

use crate::sql::micros;
use crate::{Store, StoreError};

impl Store {
    /// Spends the token whose hash is `token_hash`, valid until
    /// `expires_at`: `false` if it was spent before.
    pub async fn spend_token(
        &self,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let spent = sqlx::query(
            "INSERT INTO spent_token (token_hash, expires_at) VALUES ($1, $2) \
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(token_hash)
        .bind(micros(expires_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(spent == 1)
    }

    /// Forgets spent tokens that expired before `now`: they would be
    /// refused as expired anyway.
    pub async fn forget_spent_tokens(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM spent_token WHERE expires_at < $1")
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// The server's sealing key (hex): `candidate` if none was made yet,
    /// else the one made first, whichever process asks.
    pub async fn server_key(&self, candidate: &str) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO server_key (id, key_hex) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate)
        .execute(&mut *tx)
        .await?;
        let key: String = sqlx::query_scalar("SELECT key_hex FROM server_key WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(key)
    }
}
