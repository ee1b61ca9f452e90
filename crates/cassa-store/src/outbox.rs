//! The e-mail outbox. A message is queued in the same transaction as the
//! news it carries (a receipt stored, a cart saved), under a dedupe key,
//! so it is never lost and never queued twice. Senders claim one at a
//! time with a lease (`next_attempt_at` while `sending`): a sender that
//! dies leaves its message to be claimed again once the lease runs out.
//! Failures are retried with a growing pause; after [`MAX_MAIL_ATTEMPTS`]
//! the message stays `failed` for operators to see.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::sql::{micros, timestamp};
use crate::{Backend, Store, StoreError};

pub const MAX_MAIL_ATTEMPTS: i32 = 8;

/// What a queued message is about; the sender builds its text from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MailKind {
    /// A link to resume an anonymous cart; payload: the cart's public id.
    CartResume,
    /// The receipt PDF of a payment; payload: the receipt's row id.
    Receipt,
}

impl MailKind {
    pub fn code(self) -> &'static str {
        match self {
            MailKind::CartResume => "cart_resume",
            MailKind::Receipt => "receipt",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        match code {
            "cart_resume" => Some(MailKind::CartResume),
            "receipt" => Some(MailKind::Receipt),
            _ => None,
        }
    }
}

pub(crate) struct NewMail<'a> {
    pub dedupe_key: &'a str,
    pub kind: MailKind,
    pub recipient: &'a str,
    pub lang: &'a str,
    pub payload: &'a str,
    pub now: Timestamp,
}

#[derive(Clone, Debug, Serialize)]
pub struct OutboxMail {
    pub id: i64,
    pub dedupe_key: String,
    pub kind: MailKind,
    pub recipient: String,
    pub lang: String,
    pub payload: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub state: String,
    /// Claims so far; also the fence of the current claim.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, dedupe_key, kind, recipient, lang, payload, state, attempts, \
    last_error, created_at, sent_at";

fn mail_from_row(row: &AnyRow) -> Result<OutboxMail, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(OutboxMail {
        id: row.try_get("id")?,
        dedupe_key: row.try_get("dedupe_key")?,
        kind: MailKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("mail kind {kind}")))?,
        recipient: row.try_get("recipient")?,
        lang: row.try_get("lang")?,
        payload: row.try_get("payload")?,
        state: row.try_get("state")?,
        attempts: row.try_get::<i64, _>("attempts")? as i32,
        last_error: row.try_get("last_error")?,
        created_at: timestamp(row.try_get("created_at")?)?,
        sent_at: row
            .try_get::<Option<i64>, _>("sent_at")?
            .map(timestamp)
            .transpose()?,
    })
}

/// Queues a message inside the caller's transaction; `false` when one
/// with this dedupe key was queued before.
pub(crate) async fn enqueue_mail(
    conn: &mut AnyConnection,
    mail: &NewMail<'_>,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO outbox_mail (dedupe_key, kind, recipient, lang, payload, state, attempts, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(mail.dedupe_key)
    .bind(mail.kind.code())
    .bind(mail.recipient)
    .bind(mail.lang)
    .bind(mail.payload)
    .bind(micros(mail.now))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The pause before attempt `attempts + 1`: 30 s, doubling, at most an hour.
fn retry_pause(attempts: i32) -> SignedDuration {
    let seconds = 30i64 << attempts.clamp(1, 8).saturating_sub(1);
    SignedDuration::from_secs(seconds.min(3600))
}

impl Store {
    /// Claims the next message due, leasing it for `lease`.
    pub async fn claim_mail(
        &self,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Option<OutboxMail>, StoreError> {
        let due = "state IN ('pending', 'sending') AND next_attempt_at <= $1";
        // A read first: an idle sender never takes SQLite's write lock.
        let waiting = sqlx::query(&format!("SELECT 1 FROM outbox_mail WHERE {due} LIMIT 1"))
            .bind(micros(now))
            .fetch_optional(self.read())
            .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let skip_locked = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE outbox_mail SET state = 'sending', attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id = (SELECT id FROM outbox_mail WHERE {due} ORDER BY next_attempt_at, id LIMIT 1{skip_locked}) \
             AND ({due}) RETURNING {COLUMNS}"
        ))
        .bind(micros(now))
        .bind(micros(now + lease))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(mail_from_row).transpose()
    }

    /// The message went out. `false`: the claim was lost (its lease ran
    /// out and another sender took it), nothing changed.
    pub async fn mail_sent(&self, mail: &OutboxMail, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE outbox_mail SET state = 'sent', sent_at = $1, last_error = NULL \
             WHERE id = $2 AND state = 'sending' AND attempts = $3",
        )
        .bind(micros(now))
        .bind(mail.id)
        .bind(mail.attempts as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }

    /// Sending failed: retried later, or given up after
    /// [`MAX_MAIL_ATTEMPTS`] (or at once when `permanent`).
    pub async fn mail_failed(
        &self,
        mail: &OutboxMail,
        error: &str,
        permanent: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let give_up = permanent || mail.attempts >= MAX_MAIL_ATTEMPTS;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox_mail SET state = $1, last_error = $2, next_attempt_at = $3 \
             WHERE id = $4 AND state = 'sending' AND attempts = $5",
        )
        .bind(if give_up { "failed" } else { "pending" })
        .bind(error)
        .bind(micros(now + retry_pause(mail.attempts)))
        .bind(mail.id)
        .bind(mail.attempts as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest messages first, for operators and tests.
    pub async fn outbox_mails(&self, limit: i64) -> Result<Vec<OutboxMail>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox_mail ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.read())
        .await?
        .iter()
        .map(mail_from_row)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pauses_grow_to_an_hour() {
        assert_eq!(retry_pause(1), SignedDuration::from_secs(30));
        assert_eq!(retry_pause(2), SignedDuration::from_secs(60));
        assert_eq!(retry_pause(5), SignedDuration::from_secs(480));
        assert_eq!(retry_pause(8), SignedDuration::from_secs(3600));
        assert_eq!(retry_pause(50), SignedDuration::from_secs(3600));
    }
}
