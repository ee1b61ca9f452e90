//! Back-office operators: accounts, roles per ente, login failures and
//! lockout, sessions. Password hashes and TOTP secrets are made and
//! checked by the web layer; here they are only kept. Every change to an
//! account or its roles is audited.

use cassa_core::access::{Access, Grant, Role, after_failed_login};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, NewAuditEvent};
use crate::sql::{micros, opt_micros, opt_timestamp, timestamp};
use crate::{Store, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub platform_admin: bool,
    pub active: bool,
    pub totp_enabled: bool,
    /// Its password was set by someone else: changed before anything else.
    pub must_change_password: bool,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

/// What a login is checked against.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub password_hash: String,
    pub totp_secret: Option<String>,
    /// The TOTP time step of the last login, not to be used again.
    pub totp_last_step: Option<i64>,
    pub failed_logins: i32,
}

pub struct NewOperator<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub platform_admin: bool,
    /// The password was seen by someone else (an admin who made it).
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("the username {0} is taken")]
    UsernameTaken(String),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such operator")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OperatorError {
    fn from(e: sqlx::Error) -> Self {
        OperatorError::Store(e.into())
    }
}

/// A role held, with the names to show.
#[derive(Clone, Debug, Serialize)]
pub struct RoleBinding {
    pub id: i64,
    pub grant: Grant,
    pub ente_fiscal_code: String,
    pub ente_name: String,
    pub tipo_dovuto_code: Option<String>,
}

/// A live session: who, and what they may do.
#[derive(Clone, Debug)]
pub struct Session {
    pub operator: Operator,
    pub access: Access,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

const COLUMNS: &str = "id, username, display_name, email, platform_admin, active, \
    totp_secret IS NOT NULL AS totp_enabled, must_change_password, locked_until, created_at, \
    last_login_at";

fn operator_from_row(row: &AnyRow) -> Result<Operator, StoreError> {
    Ok(Operator {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        platform_admin: row.try_get::<i64, _>("platform_admin")? != 0,
        active: row.try_get::<i64, _>("active")? != 0,
        totp_enabled: flag(row, "totp_enabled")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        locked_until: opt_timestamp(row.try_get("locked_until")?)?,
        created_at: timestamp(row.try_get("created_at")?)?,
        last_login_at: opt_timestamp(row.try_get("last_login_at")?)?,
    })
}

/// A computed boolean: an integer on SQLite, a boolean on PostgreSQL.
fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(match row.try_get::<bool, _>(column) {
        Ok(b) => b,
        Err(_) => row.try_get::<i64, _>(column)? != 0,
    })
}

fn invalid(field: &'static str, reason: &str) -> OperatorError {
    OperatorError::Invalid {
        field,
        reason: reason.to_owned(),
    }
}

impl Store {
    pub async fn create_operator(
        &self,
        new: &NewOperator<'_>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Operator, OperatorError> {
        let username = new.username.trim();
        let valid_username = (3..=64).contains(&username.len())
            && username
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_@".contains(&b));
        if !valid_username {
            return Err(invalid("username", "3 to 64 letters, digits or . - _ @"));
        }
        let name = new.display_name.trim();
        if name.is_empty() || name.chars().count() > 140 {
            return Err(invalid("display_name", "1 to 140 characters"));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO operator (username, display_name, email, password_hash, platform_admin, \
             active, failed_logins, created_at, must_change_password) VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7) \
             ON CONFLICT (username) DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(username)
        .bind(name)
        .bind(new.email)
        .bind(new.password_hash)
        .bind(i64::from(new.platform_admin))
        .bind(micros(now))
        .bind(i64::from(new.must_change_password))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(OperatorError::UsernameTaken(username.to_owned()));
        };
        let operator = operator_from_row(&row)?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: None,
                action: "create",
                entity: "operator",
                entity_key: username,
                before: None,
                after: Some(serde_json::json!({
                    "displayName": name, "email": new.email, "platformAdmin": new.platform_admin
                })),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// Gives `operator_id` a role on an ente (optionally on one tipo dovuto).
    pub async fn grant_role(
        &self,
        operator_id: i64,
        grant: &Grant,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), OperatorError> {
        let mut tx = self.begin_write().await?;
        let username: Option<String> =
            sqlx::query_scalar("SELECT username FROM operator WHERE id = $1")
                .bind(operator_id)
                .fetch_optional(&mut *tx)
                .await?;
        let username = username.ok_or(OperatorError::NotFound)?;
        if let Some(tipo) = grant.tipo_dovuto_id {
            let of_ente: Option<i64> =
                sqlx::query_scalar("SELECT ente_id FROM tipo_dovuto WHERE id = $1")
                    .bind(tipo)
                    .fetch_optional(&mut *tx)
                    .await?;
            if of_ente != Some(grant.ente_id) {
                return Err(invalid("tipo_dovuto", "not a tipo dovuto of this ente"));
            }
        }
        sqlx::query(
            "INSERT INTO operator_role (operator_id, ente_id, role, tipo_dovuto_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(operator_id)
        .bind(grant.ente_id)
        .bind(grant.role.code())
        .bind(grant.tipo_dovuto_id)
        .execute(&mut *tx)
        .await?;
        // New roles, new sessions: nobody works on with what they had.
        crate::operator_accounts::end_sessions_of(&mut tx, operator_id, None).await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(grant.ente_id),
                action: "grant",
                entity: "operator",
                entity_key: &username,
                before: None,
                after: Some(serde_json::to_value(grant).unwrap_or_default()),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account and what its login is checked against.
    pub async fn operator_for_login(
        &self,
        username: &str,
    ) -> Result<Option<(Operator, Credentials)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, password_hash, totp_secret, totp_last_step, failed_logins FROM operator \
             WHERE username = $1"
        ))
        .bind(username.trim())
        .fetch_optional(self.read())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((
            operator_from_row(&row)?,
            Credentials {
                password_hash: row.try_get("password_hash")?,
                totp_secret: row.try_get("totp_secret")?,
                totp_last_step: row.try_get("totp_last_step")?,
                failed_logins: row.try_get::<i64, _>("failed_logins")? as i32,
            },
        )))
    }

    pub async fn operator(&self, id: i64) -> Result<Option<Operator>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM operator WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.read())
            .await?
            .as_ref()
            .map(operator_from_row)
            .transpose()
    }

    /// A wrong password or code: counts it, and locks the account when
    /// the count reaches the limit. Answers until when it is locked.
    pub async fn login_failed(
        &self,
        operator_id: i64,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT failed_logins, username FROM operator WHERE id = $1{}",
            self.for_update()
        ))
        .bind(operator_id)
        .fetch_one(&mut *tx)
        .await?;
        let failed = row.try_get::<i64, _>("failed_logins")? as i32;
        let username: String = row.try_get("username")?;
        let (count, locked_until) = after_failed_login(failed, now);
        sqlx::query(
            "UPDATE operator SET failed_logins = $1, locked_until = COALESCE($2, locked_until) WHERE id = $3",
        )
        .bind(i64::from(count))
        .bind(opt_micros(locked_until))
        .bind(operator_id)
        .execute(&mut *tx)
        .await?;
        if let Some(until) = locked_until {
            audit::record(
                &mut tx,
                NewAuditEvent {
                    at: now,
                    actor: "login",
                    ente_id: None,
                    action: "lock",
                    entity: "operator",
                    entity_key: &username,
                    before: None,
                    after: Some(serde_json::json!({ "lockedUntil": until.to_string() })),
                    request_id: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(locked_until)
    }

    /// A good login: the failure count resets, the TOTP step it used (if
    /// any) is spent, and a session starts. `false`: that step was spent
    /// already (a replayed code), and nothing changed.
    pub async fn login_succeeded(
        &self,
        operator_id: i64,
        token_hash: &str,
        csrf: &str,
        totp_step: Option<i64>,
        lifetime: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The step is spent under the row's write: two logins with the
        // same code at once cannot both pass.
        let updated = sqlx::query(
            "UPDATE operator SET failed_logins = 0, locked_until = NULL, last_login_at = $1, \
             totp_last_step = COALESCE($3, totp_last_step) \
             WHERE id = $2 AND ($3 IS NULL OR totp_last_step IS NULL OR totp_last_step < $3)",
        )
        .bind(micros(now))
        .bind(operator_id)
        .bind(totp_step)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM operator_session WHERE expires_at < $1")
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO operator_session (token_hash, operator_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(operator_id)
        .bind(csrf)
        .bind(micros(now))
        .bind(micros(now + lifetime))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The live session with this token hash, if any, with the operator's
    /// access read afresh (a revoked role takes effect at the next request).
    pub async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let row = sqlx::query(
            "SELECT operator_id, csrf, created_at, expires_at FROM operator_session \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(micros(now))
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let operator_id: i64 = row.try_get("operator_id")?;
        let operator = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM operator WHERE id = $1 AND active = 1"
        ))
        .bind(operator_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(operator) = operator.as_ref().map(operator_from_row).transpose()? else {
            return Ok(None);
        };
        let grants = grants_of(&mut conn, operator_id).await?;
        Ok(Some(Session {
            access: Access {
                platform_admin: operator.platform_admin,
                grants,
            },
            operator,
            csrf: row.try_get("csrf")?,
            created_at: timestamp(row.try_get("created_at")?)?,
            expires_at: timestamp(row.try_get("expires_at")?)?,
        }))
    }

    /// Keeps an active session alive until `until`.
    pub async fn extend_session(
        &self,
        token_hash: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let update =
            sqlx::query("UPDATE operator_session SET expires_at = $1 WHERE token_hash = $2");
        self.write_one(update.bind(micros(until)).bind(token_hash))
            .await?;
        Ok(())
    }

    /// Logout: the session ends here.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let delete = sqlx::query("DELETE FROM operator_session WHERE token_hash = $1");
        self.write_one(delete.bind(token_hash)).await?;
        Ok(())
    }

    /// Turns the second factor on (a secret) or off (`None`).
    pub async fn set_totp(
        &self,
        operator_id: i64,
        secret: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let username: String = sqlx::query_scalar("SELECT username FROM operator WHERE id = $1")
            .bind(operator_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE operator SET totp_secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(operator_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: None,
                action: if secret.is_some() {
                    "totp_on"
                } else {
                    "totp_off"
                },
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

    /// The operators holding a role on `ente_id`, each with those roles.
    pub async fn operators_of_ente(
        &self,
        ente_id: i64,
    ) -> Result<Vec<(Operator, Vec<RoleBinding>)>, StoreError> {
        // The operator's columns, qualified (every one of COLUMNS starts
        // with a column name).
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("o.{c}")).collect();
        let rows = sqlx::query(&format!(
            "SELECT {}, r.id AS role_id, r.ente_id, r.role, r.tipo_dovuto_id, e.fiscal_code, e.name, \
             t.code AS tipo_code FROM operator o JOIN operator_role r ON r.operator_id = o.id \
             JOIN ente e ON e.id = r.ente_id LEFT JOIN tipo_dovuto t ON t.id = r.tipo_dovuto_id \
             WHERE r.ente_id = $1 ORDER BY o.username, r.id",
            columns.join(", ")
        ))
        .bind(ente_id)
        .fetch_all(self.read())
        .await?;
        let mut out: Vec<(Operator, Vec<RoleBinding>)> = Vec::new();
        for row in &rows {
            let operator = operator_from_row(row)?;
            let binding = RoleBinding {
                id: row.try_get("role_id")?,
                grant: grant_from_row(row)?,
                ente_fiscal_code: row.try_get("fiscal_code")?,
                ente_name: row.try_get("name")?,
                tipo_dovuto_code: row.try_get("tipo_code")?,
            };
            match out.last_mut() {
                Some((last, roles)) if last.id == operator.id => roles.push(binding),
                _ => out.push((operator, vec![binding])),
            }
        }
        Ok(out)
    }

    /// Takes role `role_id` away, if it is on `ente_id`; `false` if not.
    pub async fn revoke_role(
        &self,
        role_id: i64,
        ente_id: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT o.username, r.operator_id, r.ente_id, r.role, r.tipo_dovuto_id FROM operator_role r \
             JOIN operator o ON o.id = r.operator_id WHERE r.id = $1 AND r.ente_id = $2",
        )
        .bind(role_id)
        .bind(ente_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let username: String = row.try_get("username")?;
        let grant = grant_from_row(&row)?;
        sqlx::query("DELETE FROM operator_role WHERE id = $1")
            .bind(role_id)
            .execute(&mut *tx)
            .await?;
        let operator_id: i64 = row.try_get("operator_id")?;
        crate::operator_accounts::end_sessions_of(&mut tx, operator_id, None).await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente_id),
                action: "revoke",
                entity: "operator",
                entity_key: &username,
                before: Some(serde_json::to_value(&grant).unwrap_or_default()),
                after: None,
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// What an operator may do, as their session would have it.
    pub async fn operator_access(&self, operator_id: i64) -> Result<Access, StoreError> {
        let mut conn = self.read().acquire().await?;
        let platform_admin: Option<i64> =
            sqlx::query_scalar("SELECT platform_admin FROM operator WHERE id = $1")
                .bind(operator_id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(Access {
            platform_admin: platform_admin == Some(1),
            grants: grants_of(&mut conn, operator_id).await?,
        })
    }

    /// The roles an operator holds, with ente and tipo dovuto names.
    pub async fn roles_of(&self, operator_id: i64) -> Result<Vec<RoleBinding>, StoreError> {
        sqlx::query(
            "SELECT r.id, r.ente_id, r.role, r.tipo_dovuto_id, e.fiscal_code, e.name, t.code AS tipo_code \
             FROM operator_role r JOIN ente e ON e.id = r.ente_id \
             LEFT JOIN tipo_dovuto t ON t.id = r.tipo_dovuto_id WHERE r.operator_id = $1 ORDER BY e.name, r.id",
        )
        .bind(operator_id)
        .fetch_all(self.read())
        .await?
        .iter()
        .map(|row| {
            Ok(RoleBinding {
                id: row.try_get("id")?,
                grant: grant_from_row(row)?,
                ente_fiscal_code: row.try_get("fiscal_code")?,
                ente_name: row.try_get("name")?,
                tipo_dovuto_code: row.try_get("tipo_code")?,
            })
        })
        .collect()
    }
}

fn grant_from_row(row: &AnyRow) -> Result<Grant, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(Grant {
        ente_id: row.try_get("ente_id")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        tipo_dovuto_id: row.try_get("tipo_dovuto_id")?,
    })
}

async fn grants_of(
    conn: &mut sqlx::AnyConnection,
    operator_id: i64,
) -> Result<Vec<Grant>, StoreError> {
    sqlx::query("SELECT ente_id, role, tipo_dovuto_id FROM operator_role WHERE operator_id = $1")
        .bind(operator_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(grant_from_row)
        .collect()
}
