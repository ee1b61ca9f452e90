//! PostgreSQL's own bulk path, the floor an import is measured against on
//! that backend: the rows an import of N new debts stores (position, option,
//! one transfer), sent with `COPY ... FROM STDIN` in one transaction, ids
//! chosen by the loader. No parsing, checks, IUV allocation or audit.

use std::fmt::Write;
use std::time::{Duration, Instant};

use cassa_core::{NoticeNumber, SegregationCode};
use jiff::Timestamp;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Rows per chunk handed to the COPY stream.
const CHUNK: usize = 10_000;

pub async fn measure(url: &str, ente_id: i64, positions: usize) -> anyhow::Result<Duration> {
    let mut conn = PgConnection::connect(url).await?;
    let segregation = SegregationCode::new(2)?;
    let now = Timestamp::now().as_microsecond();
    let due = now + 365 * 86_400_000_000;
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    let tables = [
        "COPY debt_position (id, ente_id, iupd, debtor_type, debtor_fiscal_code, debtor_name, street_name, \
         postal_code, city, province, country, company_name, switch_to_expired, pay_stand_in, status, origin, \
         min_due_date, max_due_date, inserted_at, updated_at, published_at) FROM STDIN",
        "COPY payment_option (id, position_id, ente_id, seq, iuv, notice_number, amount, description, \
         is_partial_payment, due_date, status, inserted_at, updated_at) FROM STDIN",
        "COPY transfer (option_id, id_transfer, amount, organization_fiscal_code, remittance_information, \
         category, iban, status, inserted_at, updated_at) FROM STDIN",
    ];
    for (table, statement) in tables.iter().enumerate() {
        let mut copy = tx.copy_in_raw(statement).await?;
        let mut start = 0;
        while start < positions {
            let end = (start + CHUNK).min(positions);
            let mut text = String::with_capacity((end - start) * 200);
            for n in start..end {
                let id = n as i64 + 1;
                match table {
                    0 => writeln!(
                        text,
                        "{id}\t{ente_id}\tIMP-{n:08}\tF\tRSSMRA85T10A562S\tMario Rossi\tVia Roma 1\t20121\tMilano\tMI\tIT\t\
                         Comune di Milano\t0\t0\tVALID\timport\t{due}\t{due}\t{now}\t{now}\t{now}"
                    )?,
                    1 => {
                        let notice = NoticeNumber::generate(segregation, n as u64 + 1)?;
                        writeln!(
                            text,
                            "{id}\t{id}\t{ente_id}\t0\t{}\t{}\t{}\tTARI 2030 utenza {n}\t0\t{due}\tPO_UNPAID\t{now}\t{now}",
                            notice.iuv().as_str(),
                            notice.as_str(),
                            5000 + n % 40_000,
                        )?
                    }
                    _ => writeln!(
                        text,
                        "{id}\t1\t{}\t01199250158\tTARI 2030 utenza {n}\t9/0101101IM/\tIT60X0542811101000000123456\t\
                         T_UNREPORTED\t{now}\t{now}",
                        5000 + n % 40_000,
                    )?,
                }
            }
            copy.send(text.into_bytes()).await?;
            start = end;
        }
        copy.finish().await?;
    }
    tx.commit().await?;
    let elapsed = started.elapsed();
    conn.close().await?;
    Ok(elapsed)
}
