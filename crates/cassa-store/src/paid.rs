//! The paid debts of an ente in a period, one line per applied receipt,
//! with what MyPay's "flusso pagati" export needs from the receipt, the
//! paid option, its position and tipo dovuto. Read a page at a time by
//! receipt id (keyset), so an export of millions stays in bounded memory.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::sql::{micros, timestamp};
use crate::{Store, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct PaidLine {
    /// The receipt row id (the page key).
    pub id: i64,
    pub receipt_id: String,
    pub amount: i64,
    pub psp_id: String,
    pub psp_company_name: String,
    pub channel_id: String,
    pub payer_fiscal_code: Option<String>,
    pub payer_name: Option<String>,
    pub paid_at: Timestamp,
    pub raw_xml: String,
    pub iud: String,
    pub iuv: String,
    pub notice_number: String,
    pub description: String,
    pub debtor_type: String,
    pub debtor_fiscal_code: String,
    pub debtor_name: String,
    pub street_name: Option<String>,
    pub civic_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub taxonomy: Option<String>,
    pub tipo_dovuto: Option<String>,
}

/// When a receipt's payment happened (as the PSP said, else on arrival);
/// the expression the `receipt_paid` index holds.
const PAID_AT: &str = "COALESCE(r.payment_date_time, r.received_at)";

impl Store {
    /// Up to `limit` paid lines of `ente_id` paid in `[from, to)`, in
    /// payment order, after the line `after` (the previous page's last).
    /// The receipt's XML is read only `with_xml`.
    pub async fn paid_lines(
        &self,
        ente_id: i64,
        (from, to): (Timestamp, Timestamp),
        after: Option<&PaidLine>,
        limit: i64,
        with_xml: bool,
    ) -> Result<Vec<PaidLine>, StoreError> {
        let (after_at, after_id) = after.map_or((micros(from), 0), |l| (micros(l.paid_at), l.id));
        let sql = format!(
            "SELECT r.id, r.receipt_id, r.amount, r.psp_id, r.psp_company_name, r.channel_id, \
             r.payer_fiscal_code, r.payer_name, {PAID_AT} AS paid_at, \
             {xml} AS raw_xml, p.iupd, o.iuv, o.notice_number, o.description, p.debtor_type, p.debtor_fiscal_code, \
             p.debtor_name, p.street_name, p.civic_number, p.postal_code, p.city, p.province, p.country, \
             p.email, t.code AS tipo_code, \
             (SELECT tr.category FROM transfer tr WHERE tr.option_id = o.id ORDER BY tr.id_transfer LIMIT 1) AS taxonomy \
             FROM receipt r JOIN payment_option o ON o.id = r.option_id \
             JOIN debt_position p ON p.id = o.position_id LEFT JOIN tipo_dovuto t ON t.id = p.tipo_dovuto_id \
             WHERE r.ente_id = $1 AND r.status = 'applied' \
             AND {PAID_AT} >= $2 AND ({PAID_AT} > $2 OR r.id > $3) AND {PAID_AT} < $4 \
             ORDER BY {PAID_AT}, r.id LIMIT $5",
            xml = if with_xml { "r.raw_xml" } else { "''" },
        );
        let rows = sqlx::query(&sql)
            .bind(ente_id)
            .bind(after_at)
            .bind(after_id)
            .bind(micros(to))
            .bind(limit)
            .fetch_all(self.read())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(PaidLine {
                    id: row.try_get("id")?,
                    receipt_id: row.try_get("receipt_id")?,
                    amount: row.try_get("amount")?,
                    psp_id: row.try_get("psp_id")?,
                    psp_company_name: row.try_get("psp_company_name")?,
                    channel_id: row.try_get("channel_id")?,
                    payer_fiscal_code: row.try_get("payer_fiscal_code")?,
                    payer_name: row.try_get("payer_name")?,
                    paid_at: timestamp(row.try_get("paid_at")?)?,
                    raw_xml: row.try_get("raw_xml")?,
                    iud: row.try_get("iupd")?,
                    iuv: row.try_get("iuv")?,
                    notice_number: row.try_get("notice_number")?,
                    description: row.try_get("description")?,
                    debtor_type: row.try_get("debtor_type")?,
                    debtor_fiscal_code: row.try_get("debtor_fiscal_code")?,
                    debtor_name: row.try_get("debtor_name")?,
                    street_name: row.try_get("street_name")?,
                    civic_number: row.try_get("civic_number")?,
                    postal_code: row.try_get("postal_code")?,
                    city: row.try_get("city")?,
                    province: row.try_get("province")?,
                    country: row.try_get("country")?,
                    email: row.try_get("email")?,
                    taxonomy: row.try_get("taxonomy")?,
                    tipo_dovuto: row.try_get("tipo_code")?,
                })
            })
            .collect()
    }
}
