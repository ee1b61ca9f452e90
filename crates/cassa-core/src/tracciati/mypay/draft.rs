//! The debt position a MyPay row describes.

use super::{FieldError, Row};
use crate::fiscal_code::PartitaIva;
use crate::iban::Iban;
use crate::money::Cents;

/// The creditor side of a row, resolved by the caller: the ente and the
/// account of the row's tipo dovuto (or the ente's).
#[derive(Clone, Debug)]
pub struct Creditor {
    pub fiscal_code: PartitaIva,
    pub company_name: String,
    pub office_name: Option<String>,
    pub segregation: crate::notice::SegregationCode,
    pub iban: Iban,
    pub postal_iban: Option<Iban>,
}

/// The debt position a row describes: IUPD = IUD, one payment option due
/// at the end of its Italian day, one transfer to the creditor (the amount
/// less a second beneficiary's share) and, with one, a second transfer.
pub fn draft_of(
    row: &Row,
    creditor: &Creditor,
) -> Result<crate::debt::DebtPositionDraft, FieldError> {
    use crate::debt::{
        DebtPositionDraft, Debtor, DebtorKind, Destination, Metadata, PaymentOption, Transfer,
    };
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
    let share = row.secondary.as_ref().map_or(Cents::ZERO, |s| s.amount);
    let mut transfers = vec![Transfer {
        id: 1,
        amount: row.amount - share,
        organization_fiscal_code: creditor.fiscal_code.clone(),
        company_name: None,
        remittance_information: row.remittance.chars().take(140).collect(),
        category: row.taxonomy,
        destination: Destination::Account {
            iban: creditor.iban.clone(),
            postal_iban: creditor.postal_iban.clone(),
        },
        metadata: Vec::new(),
    }];
    if let Some(second) = &row.secondary {
        transfers.push(Transfer {
            id: 2,
            amount: second.amount,
            organization_fiscal_code: second.fiscal_code.clone(),
            company_name: Some(second.name.clone()),
            remittance_information: second
                .remittance
                .clone()
                .unwrap_or_else(|| row.remittance.clone())
                .chars()
                .take(140)
                .collect(),
            category: second.taxonomy.unwrap_or(row.taxonomy),
            destination: Destination::Account {
                iban: second.iban.clone(),
                postal_iban: None,
            },
            metadata: Vec::new(),
        });
    }
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
            value: bilancio.chars().take(140).collect(),
        });
    }
    Ok(DebtPositionDraft {
        iupd: row.iud.clone(),
        debtor: Debtor {
            kind: if row.legal_entity {
                DebtorKind::LegalEntity
            } else {
                DebtorKind::Person
            },
            id: row.debtor.clone(),
            full_name: row.name.clone(),
            street_name: row.street.clone(),
            civic_number: row.civic.clone(),
            postal_code: row.postal_code.clone(),
            city: row.city.clone(),
            province: row.province.clone(),
            region: None,
            country: row.country.clone(),
            email: row.email.clone(),
            phone: None,
        },
        company_name: creditor.company_name.clone(),
        office_name: creditor.office_name.clone(),
        validity_date: None,
        switch_to_expired: false,
        pay_stand_in: true,
        options: vec![PaymentOption {
            iuv,
            amount: row.amount,
            description: row.remittance.chars().take(140).collect(),
            is_partial_payment: false,
            due_date,
            retention_date: None,
            fee: row.fee.unwrap_or(Cents::ZERO),
            transfers,
            metadata,
        }],
    })
}
