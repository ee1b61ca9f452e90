//! The baseline: the rows one HTTP create writes (position, option, two
//! transfers), inserted with one prepared statement per table, all in one
//! transaction. No parsing, validation, IUV allocation, audit or HTTP: the
//! floor the API's cost is measured against.

use std::time::{Duration, Instant};

use cassa_core::{NoticeNumber, SegregationCode};
use jiff::Timestamp;
use sqlx::{AnyConnection, Connection};

const POSITION: &str = "INSERT INTO debt_position (ente_id, iupd, debtor_type, debtor_fiscal_code, debtor_name, \
     street_name, postal_code, city, province, country, company_name, switch_to_expired, pay_stand_in, status, \
     origin, min_due_date, max_due_date, inserted_at, updated_at) \
     VALUES ($1, $2, 'F', 'RSSMRA85T10A562S', 'Mario Rossi', 'Via Roma 1', '20121', 'Milano', 'MI', 'IT', \
     'Comune di Milano', 0, 1, 'DRAFT', 'api', $3, $3, $4, $4) RETURNING id";
const OPTION: &str = "INSERT INTO payment_option (position_id, ente_id, seq, iuv, notice_number, amount, description, \
     is_partial_payment, due_date, status, inserted_at, updated_at) \
     VALUES ($1, $2, 0, $3, $4, 12050, 'TARI 2026 rata unica', 0, $5, 'PO_UNPAID', $6, $6) RETURNING id";
const TRANSFER: &str = "INSERT INTO transfer (option_id, id_transfer, amount, organization_fiscal_code, \
     remittance_information, category, iban, status, inserted_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'IT60X0542811101000000123456', 'T_UNREPORTED', $7, $7)";

/// Loads `positions` positions, each with one option and `transfers` (1
/// or 2) transfers.
pub async fn measure(
    url: &str,
    ente_id: i64,
    positions: usize,
    transfers: usize,
) -> anyhow::Result<Duration> {
    let mut conn = AnyConnection::connect(url).await?;
    let segregation = SegregationCode::new(2)?;
    let now = Timestamp::now().as_microsecond();
    let due = now + 365 * 86_400_000_000;
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    for n in 0..positions {
        let notice = NoticeNumber::generate(segregation, n as u64 + 1)?;
        let position_id: i64 = sqlx::query_scalar(POSITION)
            .bind(ente_id)
            .bind(format!("BENCH-{n:08}"))
            .bind(due)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let option_id: i64 = sqlx::query_scalar(OPTION)
            .bind(position_id)
            .bind(ente_id)
            .bind(notice.iuv().as_str().to_owned())
            .bind(notice.as_str().to_owned())
            .bind(due)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        for &(id, amount, cf, text, category) in [
            (1, 11_450, "01199250158", "TARI 2026", "9/0101101IM/"),
            (2, 600, "08911820960", "TEFA 2026", "9/0201102IM/"),
        ]
        .iter()
        .take(transfers)
        {
            sqlx::query(TRANSFER)
                .bind(option_id)
                .bind(id)
                .bind(amount)
                .bind(cf)
                .bind(text)
                .bind(category)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    let elapsed = started.elapsed();
    conn.close().await?;
    Ok(elapsed)
}
