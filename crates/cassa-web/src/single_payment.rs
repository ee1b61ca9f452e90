//! A debt of one payment to one tipo dovuto, as the portal's spontaneous
//! payments and the back office's "new debt" create it: one option, one
//! transfer to the tipo dovuto's account (or the ente's), under its
//! taxonomy code.

use cassa_core::debt::{
    DebtPositionDraft, Debtor, DebtorKind, Destination, Metadata, PaymentOption, Transfer,
};
use cassa_core::{Cents, DebtorId, Iban, PartitaIva, TaxonomyCode};
use cassa_store::{Ente, TipoDovuto};
use jiff::Timestamp;
use rand::RngCore;

pub struct SinglePayment<'a> {
    /// The IUPD's prefix, e.g. `SPONT` or `BO`.
    pub origin: &'a str,
    pub debtor: DebtorId,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub amount: Cents,
    /// The causale; the tipo dovuto's name when empty.
    pub description: &'a str,
    pub due_date: Timestamp,
    pub metadata: Vec<Metadata>,
}

/// The draft, or `None` when the tipo dovuto (and the ente) has no usable
/// IBAN or taxonomy code, or the ente's codice fiscale is not a partita IVA.
pub fn draft(ente: &Ente, tipo: &TipoDovuto, p: SinglePayment<'_>) -> Option<DebtPositionDraft> {
    let iban = Iban::parse(tipo.iban.as_deref().or(ente.iban.as_deref())?).ok()?;
    let category = TaxonomyCode::parse(&tipo.taxonomy_code).ok()?;
    let kind = match p.debtor {
        DebtorId::Numeric(_) => DebtorKind::LegalEntity,
        _ => DebtorKind::Person,
    };
    let mut suffix = [0u8; 6];
    rand::rng().fill_bytes(&mut suffix);
    let iupd = format!(
        "{}-{}-{}",
        p.origin,
        Timestamp::now().strftime("%Y%m%d%H%M%S"),
        suffix
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );
    let description: String = if p.description.trim().is_empty() {
        tipo.name.chars().take(140).collect()
    } else {
        p.description.trim().chars().take(140).collect()
    };
    Some(DebtPositionDraft {
        iupd,
        debtor: Debtor {
            kind,
            id: p.debtor,
            full_name: p.name.to_owned(),
            street_name: None,
            civic_number: None,
            postal_code: None,
            city: None,
            province: None,
            region: None,
            country: None,
            email: p.email.map(str::to_owned),
            phone: None,
        },
        company_name: ente.name.clone(),
        office_name: ente.office_name.clone(),
        validity_date: None,
        switch_to_expired: false,
        pay_stand_in: true,
        options: vec![PaymentOption {
            iuv: None,
            amount: p.amount,
            description: description.clone(),
            is_partial_payment: false,
            due_date: p.due_date,
            retention_date: None,
            valid_from: None,
            fee: Cents::ZERO,
            transfers: vec![Transfer {
                id: 1,
                amount: p.amount,
                organization_fiscal_code: PartitaIva::parse(&ente.fiscal_code).ok()?,
                company_name: None,
                remittance_information: description,
                category,
                destination: Destination::Account {
                    iban,
                    postal_iban: None,
                },
                metadata: Vec::new(),
            }],
            metadata: p.metadata,
        }],
    })
}
