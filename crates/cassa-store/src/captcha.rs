//! The portal's captcha challenges: each answered at most once, before it
//! expires, by any server process.

use jiff::Timestamp;
use sqlx::Row;

use crate::sql::micros;
use crate::{Store, StoreError};

impl Store {
    /// Keeps a new challenge, and forgets the expired ones.
    pub async fn create_captcha(
        &self,
        token: &str,
        answer: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM captcha WHERE expires_at < $1")
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO captcha (token, answer, expires_at) VALUES ($1, $2, $3)")
            .bind(token)
            .bind(answer)
            .bind(micros(expires_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `answer` answers the challenge `token`. Either way the
    /// challenge is used up: a wrong guess cannot be followed by another.
    pub async fn answer_captcha(
        &self,
        token: &str,
        answer: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let expected: Option<String> = sqlx::query(
            "DELETE FROM captcha WHERE token = $1 AND expires_at >= $2 RETURNING answer",
        )
        .bind(token)
        .bind(micros(now))
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get("answer"))
        .transpose()?;
        tx.commit().await?;
        Ok(expected.is_some_and(|expected| expected == answer.trim()))
    }
}
