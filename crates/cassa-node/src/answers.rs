//! From stored positions to paForNode answers.

use cassa_core::Cents;
use cassa_core::debt::{DebtorKind, Metadata};
use cassa_core::text::cut;
use cassa_pagopa::node::model::{
    MapEntry, MetadataList, PaymentList, PaymentOptionDescription, PaymentPa, StampRequest,
    Subject, TransferList, TransferPa, UniqueIdentifier, VerifyResponse,
};
use cassa_store::{NoticeMatch, StoredPosition};
use jiff::Timestamp;

/// Dates on the wire are Italian calendar days.
pub fn italian_date(t: Timestamp) -> String {
    cassa_core::italy::date_of(t).to_string()
}

fn metadata(list: &[Metadata]) -> Option<MetadataList> {
    (!list.is_empty()).then(|| MetadataList {
        entries: list
            .iter()
            .take(15)
            .map(|m| MapEntry {
                key: cut(&m.key, 140),
                value: cut(&m.value, 140),
            })
            .collect(),
    })
}

fn debtor(p: &StoredPosition) -> Subject {
    Subject {
        unique_identifier: UniqueIdentifier {
            kind: match p.debtor_type {
                DebtorKind::Person => "F".into(),
                DebtorKind::LegalEntity => "G".into(),
            },
            value: p.debtor_fiscal_code.clone(),
        },
        full_name: cut(&p.debtor_name, 70),
        street_name: p.street_name.as_deref().map(|s| cut(s, 70)),
        civic_number: p.civic_number.as_deref().map(|s| cut(s, 16)),
        postal_code: p.postal_code.as_deref().map(|s| cut(s, 16)),
        city: p.city.as_deref().map(|s| cut(s, 35)),
        state_province_region: p.province.as_deref().map(|s| cut(s, 35)),
        country: p
            .country
            .clone()
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())),
        email: p.email.clone(),
    }
}

/// The verify answer for a payable option.
pub fn verify_ok(found: &NoticeMatch, fiscal_code_pa: &str) -> VerifyResponse {
    let option = found.option();
    let all_postal = option.transfers.iter().all(|t| t.postal_iban.is_some());
    VerifyResponse {
        outcome: "OK".into(),
        fault: None,
        payment_list: Some(PaymentList {
            option: PaymentOptionDescription {
                amount: option.amount.to_decimal(),
                options: "EQ".into(),
                due_date: Some(italian_date(option.due_date)),
                detail_description: Some(cut(&option.description, 140)),
                all_ccp: all_postal,
            },
        }),
        payment_description: Some(cut(&option.description, 140)),
        fiscal_code_pa: Some(fiscal_code_pa.to_owned()),
        company_name: Some(cut(&found.position.company_name, 140)),
        office_name: found.position.office_name.as_deref().map(|o| cut(o, 140)),
    }
}

/// The payment data of paGetPayment (V1: IBANs only; the store refuses to
/// activate a revenue stamp for it) or paGetPaymentV2. With `postal`,
/// transfers that have a postal IBAN are paid to it.
pub fn payment_data(found: &NoticeMatch, v2: bool, postal: bool) -> PaymentPa {
    let p = &found.position;
    let option = found.option();
    let mut transfers = Vec::with_capacity(option.transfers.len());
    for t in &option.transfers {
        let iban = match (&t.iban, &t.postal_iban) {
            (_, Some(postal_iban)) if postal => Some(postal_iban.clone()),
            (Some(iban), _) => Some(iban.clone()),
            (None, _) => None,
        };
        let stamp = t.stamp.as_ref().map(|s| StampRequest {
            hash_document: s.hash_document.clone(),
            stamp_type: s.stamp_type.clone(),
            provincial_residence: s.provincial_residence.clone(),
        });
        transfers.push(TransferPa {
            id_transfer: t.id_transfer,
            transfer_amount: t.amount.to_decimal(),
            fiscal_code_pa: t.organization_fiscal_code.clone(),
            company_name: if v2 {
                t.company_name.as_deref().map(|c| cut(c, 140))
            } else {
                None
            },
            iban,
            stamp,
            remittance_information: cut(&t.remittance_information, 140),
            transfer_category: t.category.clone(),
            metadata: metadata(&t.metadata),
        });
    }
    debug_assert_eq!(
        Cents::checked_sum(option.transfers.iter().map(|t| t.amount)),
        Some(option.amount),
        "transfers add up to the option (checked on save)"
    );
    PaymentPa {
        creditor_reference_id: option.iuv.clone(),
        payment_amount: option.amount.to_decimal(),
        due_date: italian_date(option.due_date),
        retention_date: option
            .retention_date
            .map(cassa_pagopa::time::format_datetime),
        last_payment: Some(false),
        description: cut(&option.description, 140),
        company_name: Some(cut(&p.company_name, 140)),
        office_name: p.office_name.as_deref().map(|o| cut(o, 140)),
        debtor: debtor(p),
        transfer_list: TransferList {
            transfer: transfers,
        },
        metadata: metadata(&option.metadata),
    }
}
