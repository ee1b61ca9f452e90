//! An operator account's lifecycle: a password changed by its owner, reset
//! by an admin (a one-time password to change at the next login),
//! deactivated and reactivated. Each change ends the account's sessions
//! (but the one making it, for the owner's own change) and is audited.

use jiff::Timestamp;
use sqlx::Row;

use crate::audit::{self, NewAuditEvent};
use crate::{Store, StoreError};

/// Ends `operator_id`'s sessions, all but `except` (a session token hash).
pub(crate) async fn end_sessions_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    operator_id: i64,
    except: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM operator_session WHERE operator_id = $1 AND token_hash <> $2")
        .bind(operator_id)
        .bind(except.unwrap_or(""))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whose change a new password is.
#[derive(Copy, Clone)]
enum Change<'a> {
    /// The owner's, from the session to keep.
    Own { keep_session: &'a str },
    /// An admin's reset: to be changed at the next login.
    Reset { actor: &'a str },
}

impl Store {
    /// The password hash an operator's own change is checked against.
    pub async fn password_hash_of(&self, operator_id: i64) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM operator WHERE id = $1")
                .bind(operator_id)
                .fetch_optional(self.read())
                .await?,
        )
    }

    /// The owner's own change (the current password checked by the
    /// caller): the other sessions end, `keep_session` stays.
    pub async fn change_password(
        &self,
        operator_id: i64,
        new_hash: &str,
        keep_session: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let change = Change::Own { keep_session };
        self.set_password(operator_id, new_hash, change, now).await
    }

    /// An admin's reset: `temporary_hash` is of a password shown once to
    /// the admin, which must be changed at the next login; every session
    /// ends and a lock is lifted.
    pub async fn reset_password(
        &self,
        operator_id: i64,
        temporary_hash: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let change = Change::Reset { actor };
        self.set_password(operator_id, temporary_hash, change, now)
            .await
    }

    async fn set_password(
        &self,
        operator_id: i64,
        hash: &str,
        change: Change<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let username: String = sqlx::query_scalar("SELECT username FROM operator WHERE id = $1")
            .bind(operator_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE operator SET password_hash = $1, must_change_password = $2, failed_logins = 0, \
             locked_until = NULL WHERE id = $3",
        )
        .bind(hash)
        .bind(i64::from(matches!(change, Change::Reset { .. })))
        .bind(operator_id)
        .execute(&mut *tx)
        .await?;
        let (actor, action, keep) = match change {
            Change::Own { keep_session } => (
                format!("operator:{username}"),
                "password_change",
                Some(keep_session),
            ),
            Change::Reset { actor } => (actor.to_owned(), "password_reset", None),
        };
        end_sessions_of(&mut tx, operator_id, keep).await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor: &actor,
                ente_id: None,
                action,
                entity: "operator",
                entity_key: &username,
                before: None,
                after: None,
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns an account off (its sessions end, it cannot log in) or on.
    pub async fn set_operator_active(
        &self,
        operator_id: i64,
        active: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT username, active FROM operator WHERE id = $1")
            .bind(operator_id)
            .fetch_one(&mut *tx)
            .await?;
        let username: String = row.try_get("username")?;
        let was = row.try_get::<i64, _>("active")? != 0;
        sqlx::query("UPDATE operator SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(operator_id)
            .execute(&mut *tx)
            .await?;
        if !active {
            end_sessions_of(&mut tx, operator_id, None).await?;
        }
        if was != active {
            audit::record(
                &mut tx,
                NewAuditEvent {
                    at: now,
                    actor,
                    ente_id: None,
                    action: if active { "reactivate" } else { "deactivate" },
                    entity: "operator",
                    entity_key: &username,
                    before: None,
                    after: None,
                    request_id: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Links an account to a person's codice fiscale (or unlinks it), for
    /// logins through the identity gateway. `false`: another account
    /// holds that codice fiscale.
    pub async fn set_operator_fiscal_code(
        &self,
        operator_id: i64,
        fiscal_code: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM operator WHERE fiscal_code = $1 AND id <> $2")
                .bind(fiscal_code)
                .bind(operator_id)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(false);
        }
        let username: String = sqlx::query_scalar("SELECT username FROM operator WHERE id = $1")
            .bind(operator_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE operator SET fiscal_code = $1 WHERE id = $2")
            .bind(fiscal_code)
            .bind(operator_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: None,
                action: "identity",
                entity: "operator",
                entity_key: &username,
                before: None,
                after: Some(serde_json::json!({ "fiscalCode": fiscal_code })),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The account (active or not) linked to `fiscal_code`.
    pub async fn operator_by_fiscal_code(
        &self,
        fiscal_code: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM operator WHERE fiscal_code = $1")
                .bind(fiscal_code)
                .fetch_optional(self.read())
                .await?,
        )
    }

    /// The active account the identity gateway's person logs in to: the
    /// one linked to their codice fiscale; else the one account, not yet
    /// linked to anyone, with the e-mail the provider verified, which is
    /// then linked to this codice fiscale (an account linked to someone
    /// else is never reached by e-mail: offices share mailboxes).
    pub async fn operator_for_identity(
        &self,
        fiscal_code: Option<&str>,
        verified_email: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(cf) = fiscal_code {
            let id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM operator WHERE fiscal_code = $1 AND active = 1")
                    .bind(cf)
                    .fetch_optional(self.read())
                    .await?;
            if id.is_some() {
                return Ok(id);
            }
        }
        let Some(email) = verified_email else {
            return Ok(None);
        };
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM operator WHERE LOWER(email) = LOWER($1) AND active = 1 \
             AND fiscal_code IS NULL LIMIT 2",
        )
        .bind(email)
        .fetch_all(self.read())
        .await?;
        let [id] = ids[..] else {
            return Ok(None);
        };
        if let Some(cf) = fiscal_code
            && !self
                .set_operator_fiscal_code(id, Some(cf), "login", now)
                .await?
        {
            return Ok(None);
        }
        Ok(Some(id))
    }
}
