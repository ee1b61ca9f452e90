//! Citizens logged in through an identity gateway: their sessions, the OIDC
//! logins under way, and what their personal area shows (the open debts
//! addressed to them across every ente, and what they paid).

use std::collections::HashMap;

use cassa_core::Cents;
use cassa_core::citizen::{Assurance, AuthMethod, CitizenId, Identity};
use jiff::Timestamp;
use sqlx::Row;

use crate::positions::read::{
    POSITION_COLUMNS, Transfers, load_options, load_where, position_from_row,
};
use crate::positions::{StoredPosition, THIRD_PARTY};
use crate::sql::{micros, placeholders, timestamp};
use crate::{Store, StoreError};

/// A live citizen session.
#[derive(Clone, Debug)]
pub struct CitizenSession {
    pub citizen: CitizenId,
    pub given_name: String,
    pub family_name: String,
    pub method: AuthMethod,
    pub assurance: Option<Assurance>,
    /// `oidc` or `headers`.
    pub provider: String,
    pub created_at: Timestamp,
    pub seen_at: Timestamp,
    pub expires_at: Timestamp,
}

impl CitizenSession {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_owned()
    }
}

/// A payment the personal area lists under Storico transazioni.
#[derive(Clone, Debug)]
pub struct CitizenPayment {
    pub receipt_row: i64,
    pub ente_id: i64,
    pub ente_name: String,
    pub ente_fiscal_code: String,
    pub notice_number: String,
    pub description: Option<String>,
    pub amount: Cents,
    pub psp_company_name: String,
    pub paid_at: Timestamp,
    /// The installment this paid, when it was one.
    pub installment: Option<(usize, usize)>,
}

/// The most a personal-area list holds: beyond that, the search narrows it.
const MAX_LISTED: i64 = 200;

impl Store {
    /// Starts a session for `identity`, ending the one the browser had
    /// (`replaces`): a login always gets a fresh token.
    pub async fn start_citizen_session(
        &self,
        token_hash: &str,
        identity: &Identity,
        provider: &str,
        replaces: Option<&str>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM citizen_session WHERE expires_at < $1 OR token_hash = $2")
            .bind(micros(now))
            .bind(replaces.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO citizen_session (token_hash, citizen, given_name, family_name, auth_method, \
             assurance, provider, created_at, seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
        )
        .bind(token_hash)
        .bind(identity.id.key())
        .bind(&identity.given_name)
        .bind(&identity.family_name)
        .bind(identity.method.as_str())
        .bind(identity.assurance.map(Assurance::level))
        .bind(provider)
        .bind(micros(now))
        .bind(micros(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn citizen_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<CitizenSession>, StoreError> {
        let row = sqlx::query(
            "SELECT citizen, given_name, family_name, auth_method, assurance, provider, created_at, \
             seen_at, expires_at FROM citizen_session WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(micros(now))
        .fetch_optional(self.read())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key: String = row.try_get("citizen")?;
        let method: String = row.try_get("auth_method")?;
        let assurance: Option<i64> = row.try_get("assurance")?;
        Ok(Some(CitizenSession {
            citizen: CitizenId::from_key(&key)
                .ok_or_else(|| StoreError::Corrupt(format!("citizen {key}")))?,
            given_name: row.try_get("given_name")?,
            family_name: row.try_get("family_name")?,
            method: AuthMethod::parse(&method)
                .ok_or_else(|| StoreError::Corrupt(format!("auth method {method}")))?,
            assurance: assurance.and_then(Assurance::from_level),
            provider: row.try_get("provider")?,
            created_at: timestamp(row.try_get("created_at")?)?,
            seen_at: timestamp(row.try_get("seen_at")?)?,
            expires_at: timestamp(row.try_get("expires_at")?)?,
        }))
    }

    /// Keeps a session in use alive until `until`.
    pub async fn touch_citizen_session(
        &self,
        token_hash: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let update = sqlx::query(
            "UPDATE citizen_session SET seen_at = $1, expires_at = $2 WHERE token_hash = $3",
        );
        self.write_one(
            update
                .bind(micros(now))
                .bind(micros(until))
                .bind(token_hash),
        )
        .await?;
        Ok(())
    }

    /// Logout: the session ends here, whichever node serves the next request.
    pub async fn end_citizen_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let delete = sqlx::query("DELETE FROM citizen_session WHERE token_hash = $1");
        self.write_one(delete.bind(token_hash)).await?;
        Ok(())
    }

    /// The debts addressed to `fiscal_code` that can be paid or are being
    /// paid, in every ente, newest first; options without transfers. Not
    /// those someone else asked for on the portal: nobody is shown a debt
    /// as theirs because a stranger typed their codice fiscale.
    pub async fn open_positions_of_debtor(
        &self,
        fiscal_code: &str,
        now: Timestamp,
    ) -> Result<Vec<StoredPosition>, StoreError> {
        let mut conn = self.read().acquire().await?;
        let mut positions: Vec<StoredPosition> = sqlx::query(&format!(
            "SELECT {POSITION_COLUMNS} FROM debt_position WHERE debtor_fiscal_code = $1 \
             AND status IN ('PUBLISHED', 'VALID', 'PARTIALLY_PAID') AND {} AND {} \
             AND origin <> '{THIRD_PARTY}' ORDER BY id DESC LIMIT {MAX_LISTED}",
            crate::positions::visible(""),
            crate::positions::OF_ACTIVE_ENTE
        ))
        .bind(fiscal_code)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(position_from_row)
        .collect::<Result<_, _>>()?;
        // Published but not valid yet, or expired since the last sweep:
        // not open today.
        positions.retain(|p| {
            use cassa_core::debt::PositionStatus::{PartiallyPaid, Valid};
            matches!(p.effective_status(now), Valid | PartiallyPaid)
        });
        load_options(&mut conn, &mut positions, None, Transfers::Skip).await?;
        Ok(positions)
    }

    /// Position `id` if it is addressed to `fiscal_code`: a guessed id of
    /// somebody else's debt finds nothing.
    pub async fn position_of_debtor(
        &self,
        id: i64,
        fiscal_code: &str,
    ) -> Result<Option<StoredPosition>, StoreError> {
        let mut conn = self.read().acquire().await?;
        // Someone else's request is the debtor's once it is paid.
        let condition = format!(
            "id = $1 AND debtor_fiscal_code = $2 AND status <> 'DRAFT' \
             AND (origin <> '{THIRD_PARTY}' OR status IN ('PAID', 'REPORTED'))"
        );
        let condition = condition.as_str();
        load_where(&mut conn, condition, id, fiscal_code, "", Transfers::Skip).await
    }

    /// The names of tipi dovuto, by id.
    pub async fn tipo_dovuto_names(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        let mut names = HashMap::new();
        if ids.is_empty() {
            return Ok(names);
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT id, name FROM tipo_dovuto WHERE id IN ({})",
            list.join(", ")
        ))
        .fetch_all(self.read())
        .await?;
        for row in rows {
            names.insert(row.try_get("id")?, row.try_get("name")?);
        }
        Ok(names)
    }

    /// What `citizen` paid: receipts of debts addressed to them, receipts
    /// naming them as payer, and receipts of what they paid through the
    /// portal while logged in. Newest first.
    pub async fn payments_of_citizen(
        &self,
        citizen: &CitizenId,
    ) -> Result<Vec<CitizenPayment>, StoreError> {
        self.citizen_payments(citizen, None).await
    }

    /// Receipt row `id` if it is one of `citizen`'s payments.
    pub async fn payment_of_citizen(
        &self,
        citizen: &CitizenId,
        id: i64,
    ) -> Result<Option<CitizenPayment>, StoreError> {
        Ok(self.citizen_payments(citizen, Some(id)).await?.pop())
    }

    async fn citizen_payments(
        &self,
        citizen: &CitizenId,
        only: Option<i64>,
    ) -> Result<Vec<CitizenPayment>, StoreError> {
        // Three indexed lookups, united: an OR across them would scan.
        let by_checkout = "SELECT r.id FROM checkout c \
             JOIN checkout_item ci ON ci.checkout_id = c.id \
             JOIN receipt r ON r.ente_id = ci.ente_id AND r.notice_number = ci.notice_number \
             WHERE c.citizen = $1";
        let sql = match citizen.fiscal_code() {
            Some(_) => format!(
                "{by_checkout} UNION SELECT r.id FROM receipt r WHERE r.payer_fiscal_code = $2 \
                 UNION SELECT r.id FROM debt_position p \
                 JOIN payment_option o ON o.position_id = p.id \
                 JOIN receipt r ON r.ente_id = o.ente_id AND r.notice_number = o.notice_number \
                 WHERE p.debtor_fiscal_code = $2"
            ),
            None => by_checkout.to_owned(),
        };
        let only_clause = match (only, citizen.fiscal_code()) {
            (None, _) => String::new(),
            (Some(_), Some(_)) => " AND r.id = $3".to_owned(),
            (Some(_), None) => " AND r.id = $2".to_owned(),
        };
        let sql = format!(
            "SELECT r.id, r.ente_id, e.name AS ente_name, e.fiscal_code AS ente_fiscal_code, \
             r.notice_number, r.amount, r.psp_company_name, r.payment_date_time, r.received_at, \
             o.description, o.position_id, o.is_partial_payment \
             FROM receipt r JOIN ente e ON e.id = r.ente_id \
             LEFT JOIN payment_option o ON o.id = r.option_id \
             WHERE r.status = 'applied' AND r.id IN ({sql}){only_clause} \
             ORDER BY COALESCE(r.payment_date_time, r.received_at) DESC, r.id DESC LIMIT {MAX_LISTED}"
        );
        let mut query = sqlx::query(&sql).bind(citizen.key());
        if let Some(cf) = citizen.fiscal_code() {
            query = query.bind(cf);
        }
        if let Some(id) = only {
            query = query.bind(id);
        }
        let mut conn = self.read().acquire().await?;
        let rows = query.fetch_all(&mut *conn).await?;
        let mut payments = Vec::with_capacity(rows.len());
        let mut plans = Vec::new();
        for row in rows {
            let paid_at: Option<i64> = row.try_get("payment_date_time")?;
            let received_at: i64 = row.try_get("received_at")?;
            let position: Option<i64> = row.try_get("position_id")?;
            let partial: Option<i32> = row.try_get("is_partial_payment")?;
            if let (Some(position), Some(1)) = (position, partial) {
                plans.push((payments.len(), position));
            }
            payments.push(CitizenPayment {
                receipt_row: row.try_get("id")?,
                ente_id: row.try_get("ente_id")?,
                ente_name: row.try_get("ente_name")?,
                ente_fiscal_code: row.try_get("ente_fiscal_code")?,
                notice_number: row.try_get("notice_number")?,
                description: row.try_get("description")?,
                amount: Cents::new(row.try_get("amount")?),
                psp_company_name: row.try_get("psp_company_name")?,
                paid_at: timestamp(paid_at.unwrap_or(received_at))?,
                installment: None,
            });
        }
        let numbers = installment_plans(&mut conn, plans.iter().map(|(_, p)| *p)).await?;
        for (index, position) in plans {
            let payment = &mut payments[index];
            let plan = numbers
                .get(&position)
                .map(Vec::as_slice)
                .unwrap_or_default();
            payment.installment = plan
                .iter()
                .position(|n| *n == payment.notice_number)
                .map(|i| (i + 1, plan.len()));
        }
        Ok(payments)
    }
}

/// The installments' notice numbers of each position, by due date: where
/// "Rata 2 di 3" comes from. One query for every position listed.
async fn installment_plans(
    conn: &mut sqlx::AnyConnection,
    positions: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, Vec<String>>, StoreError> {
    let mut ids: Vec<i64> = positions.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut plans: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(plans);
    }
    let sql = format!(
        "SELECT position_id, notice_number FROM payment_option \
         WHERE is_partial_payment = 1 AND position_id IN ({}) ORDER BY position_id, due_date, id",
        placeholders(ids.len(), 1)
    );
    let mut query = sqlx::query(&sql);
    for id in &ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(&mut *conn).await? {
        plans
            .entry(row.try_get("position_id")?)
            .or_default()
            .push(row.try_get("notice_number")?);
    }
    Ok(plans)
}
