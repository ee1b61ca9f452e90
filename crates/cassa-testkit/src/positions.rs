//! Debt positions for tests: a fixed clock and drafts built from amounts.

use cassa_core::debt::{
    DebtPositionDraft, Debtor, DebtorKind, Destination, PaymentOption, Transfer,
};
use cassa_core::tipo_dovuto::AmountRule;
use cassa_core::{Cents, DebtorId, Iban};
use cassa_store::NewTipoDovuto;
use jiff::{SignedDuration, Timestamp};

/// The tests' "now".
pub fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

pub fn transfer(id: u8, cents: i64) -> Transfer {
    Transfer {
        id,
        amount: Cents::new(cents),
        organization_fiscal_code: "01199250158".parse().unwrap(),
        company_name: None,
        remittance_information: format!("quota {id}"),
        category: "9/0101101IM/".parse().unwrap(),
        destination: Destination::Account {
            iban: Iban::italian("03069", "09606", "100000046039").unwrap(),
            postal_iban: None,
        },
        metadata: vec![],
    }
}

/// A position of Comune di Milano for Mario Rossi with one option per
/// slice, each split into transfers; option i is due 30 × (i + 1) days
/// from `now()`. With several options they are installments.
pub fn draft(iupd: &str, options: &[&[i64]]) -> DebtPositionDraft {
    DebtPositionDraft {
        iupd: iupd.into(),
        debtor: Debtor {
            kind: DebtorKind::Person,
            id: DebtorId::parse("RSSMRA85T10A562S").unwrap(),
            full_name: "Mario Rossi".into(),
            street_name: Some("Via Roma".into()),
            civic_number: Some("1".into()),
            postal_code: Some("20121".into()),
            city: Some("Milano".into()),
            province: Some("MI".into()),
            region: None,
            country: Some("IT".into()),
            email: Some("mario.rossi@example.org".into()),
            phone: None,
        },
        company_name: "Comune di Milano".into(),
        office_name: Some("Tributi".into()),
        validity_date: None,
        switch_to_expired: false,
        pay_stand_in: true,
        options: options
            .iter()
            .enumerate()
            .map(|(i, parts)| PaymentOption {
                iuv: None,
                amount: Cents::new(parts.iter().sum()),
                description: format!("Rata {}", i + 1),
                is_partial_payment: options.len() > 1,
                due_date: now() + days(30 * (i as i64 + 1)),
                retention_date: None,
                valid_from: None,
                fee: Cents::ZERO,
                transfers: parts
                    .iter()
                    .enumerate()
                    .map(|(j, &c)| transfer(j as u8 + 1, c))
                    .collect(),
                metadata: vec![],
            })
            .collect(),
    }
}

/// A spontaneous tipo dovuto (school meals) with a min–max amount.
pub fn tipo_dovuto(code: &str) -> NewTipoDovuto {
    NewTipoDovuto {
        code: code.into(),
        name: "Refezione scolastica".into(),
        description: Some("Mensa delle scuole primarie".into()),
        taxonomy_code: "9/0101108TS/".parse().unwrap(),
        iban: Some(Iban::italian("03069", "09606", "100000046039").unwrap()),
        postal_iban: None,
        amount_rule: AmountRule::Range {
            min: Cents::new(100),
            max: Cents::new(50_000),
        },
        spontaneous: true,
        form_fields: serde_json::json!([{ "name": "alunno", "label": "Alunno", "required": true }]),
        tags: vec!["mensa".into(), "scuola".into()],
        external_url: None,
        capitolo: Some("1234".into()),
        accertamento: None,
        ufficio: None,
        installment_mode: cassa_core::debt::InstallmentMode::Together,
    }
}
