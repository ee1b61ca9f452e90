//! An ente's print settings: its logo and Poste's authorisation text.

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, NewAuditEvent};
use crate::sql::micros;
use crate::{Store, StoreError};

/// The largest logo accepted: a logo is a few tens of KB; this bounds what
/// every printed page embeds.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntePrinting {
    /// A PNG image.
    pub logo_png: Option<Vec<u8>>,
    /// e.g. "Aut. n. 123456 del 01/01/2026 rilasciata da Poste Italiane S.p.A."
    pub postal_authorization: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PrintingError {
    #[error("logo: {0}")]
    Logo(String),
    #[error("postal authorization: {0}")]
    Authorization(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PrintingError {
    fn from(e: sqlx::Error) -> Self {
        PrintingError::Store(e.into())
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

impl EntePrinting {
    fn check(&self) -> Result<(), PrintingError> {
        if let Some(png) = &self.logo_png {
            if !png.starts_with(PNG_SIGNATURE) {
                return Err(PrintingError::Logo("not a PNG image".into()));
            }
            if png.len() > MAX_LOGO_BYTES {
                return Err(PrintingError::Logo(format!(
                    "{} bytes, at most {MAX_LOGO_BYTES}",
                    png.len()
                )));
            }
        }
        if let Some(text) = &self.postal_authorization
            && (text.trim().is_empty() || text.chars().count() > 200)
        {
            return Err(PrintingError::Authorization(
                "1 to 200 characters expected".into(),
            ));
        }
        Ok(())
    }

    /// What the audit log keeps: the logo's size, not its bytes.
    fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "logo_png_bytes": self.logo_png.as_ref().map(Vec::len),
            "postal_authorization": self.postal_authorization,
        })
    }
}

async fn load(conn: &mut AnyConnection, ente_id: i64) -> Result<EntePrinting, StoreError> {
    let row =
        sqlx::query("SELECT logo_png, postal_authorization FROM ente_printing WHERE ente_id = $1")
            .bind(ente_id)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        Some(row) => EntePrinting {
            logo_png: row.try_get("logo_png")?,
            postal_authorization: row.try_get("postal_authorization")?,
        },
        None => EntePrinting::default(),
    })
}

impl Store {
    /// The ente's print settings (empty if never set).
    pub async fn ente_printing(&self, ente_id: i64) -> Result<EntePrinting, StoreError> {
        let mut conn = self.read().acquire().await?;
        load(&mut conn, ente_id).await
    }

    /// Replaces the ente's print settings.
    pub async fn set_ente_printing(
        &self,
        ente_id: i64,
        printing: &EntePrinting,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), PrintingError> {
        printing.check()?;
        let mut tx = self.begin_write().await?;
        let before = load(&mut tx, ente_id).await?;
        sqlx::query(
            "INSERT INTO ente_printing (ente_id, logo_png, postal_authorization, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (ente_id) DO UPDATE SET \
             logo_png = excluded.logo_png, postal_authorization = excluded.postal_authorization, \
             updated_at = excluded.updated_at",
        )
        .bind(ente_id)
        .bind(printing.logo_png.clone())
        .bind(printing.postal_authorization.as_deref())
        .bind(micros(now))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            NewAuditEvent {
                at: now,
                actor,
                ente_id: Some(ente_id),
                action: "update",
                entity: "ente_printing",
                entity_key: &ente_id.to_string(),
                before: Some(before.summary()),
                after: Some(printing.summary()),
                request_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
