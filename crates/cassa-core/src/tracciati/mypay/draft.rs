//! The debt position a MyPay row describes.

use super::{FieldError, Row};
use crate::money::Cents;
use crate::tracciati::creditor::{Creditor, debtor_of, transfers_of};

/// The debt position a row describes: IUPD = IUD, one payment option due
/// at the end of its Italian day, one transfer to the creditor (the amount
/// less a second beneficiary's share) and, with one, a second transfer.
pub fn draft_of(
    row: &Row,
    creditor: &Creditor,
) -> Result<crate::debt::DebtPositionDraft, FieldError> {
    use crate::debt::{DebtPositionDraft, Metadata, PaymentOption};
    let iuv = match &row.iuv {
        Some(text) => Some(
            crate::notice::Iuv::parse_for_ente(text, creditor.segregation).map_err(|e| {
                FieldError {
                    column: "codIuv",
                    code: "FORMATO",
                    reason: format!("IUV non valido per l'ente: {e}"),
                }
            })?,
        ),
        None => None,
    };
    let due_date = crate::italy::last_second_of(row.due_date).ok_or_else(|| FieldError {
        column: "dataScadenzaPagamento",
        code: "FORMATO",
        reason: "data fuori dall'intervallo ammesso".into(),
    })?;
    let transfers = transfers_of(
        row.amount,
        &row.remittance,
        row.taxonomy,
        creditor,
        row.secondary.as_slice(),
    );
    let mut metadata = Vec::new();
    if let Some(kind) = &row.tipo_versamento {
        metadata.push(Metadata {
            key: "tipoVersamento".into(),
            value: kind.clone(),
        });
    }
    if let Some(bilancio) = &row.bilancio {
        metadata.push(Metadata {
            key: "bilancio".into(),
            value: crate::text::cut(bilancio, crate::debt::MAX_TEXT),
        });
    }
    Ok(DebtPositionDraft {
        iupd: row.iud.clone(),
        debtor: debtor_of(&row.payer),
        company_name: creditor.company_name.clone(),
        office_name: creditor.office_name.clone(),
        validity_date: None,
        switch_to_expired: false,
        pay_stand_in: true,
        options: vec![PaymentOption {
            iuv,
            amount: row.amount,
            description: crate::text::cut(&row.remittance, crate::debt::MAX_TEXT),
            is_partial_payment: false,
            due_date,
            retention_date: None,
            valid_from: None,
            fee: row.fee.unwrap_or(Cents::ZERO),
            transfers,
            metadata,
        }],
    })
}
