//! What every debt file's row turns into, whatever its format: the debtor
//! and the transfers of a payment option, given the creditor the caller
//! resolved from the row's tipo dovuto.

use super::cells::{Payer, Secondary};
use crate::debt::{Debtor, DebtorKind, Destination, Transfer};
use crate::fiscal_code::PartitaIva;
use crate::iban::Iban;
use crate::money::Cents;
use crate::taxonomy::TaxonomyCode;

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

pub(crate) fn debtor_of(payer: &Payer) -> Debtor {
    Debtor {
        kind: if payer.legal_entity {
            DebtorKind::LegalEntity
        } else {
            DebtorKind::Person
        },
        id: payer.id.clone(),
        full_name: payer.name.clone(),
        street_name: payer.street.clone(),
        civic_number: payer.civic.clone(),
        postal_code: payer.postal_code.clone(),
        city: payer.city.clone(),
        province: payer.province.clone(),
        region: None,
        country: payer.country.clone(),
        email: payer.email.clone(),
        phone: None,
    }
}

/// The transfers of a payment of `amount`: the creditor's (the amount less
/// the others' shares) first, then one per further beneficiary.
pub(crate) fn transfers_of(
    amount: Cents,
    remittance: &str,
    taxonomy: TaxonomyCode,
    creditor: &Creditor,
    others: &[Secondary],
) -> Vec<Transfer> {
    let shares = others.iter().fold(Cents::ZERO, |sum, s| sum + s.amount);
    let mut transfers = vec![Transfer {
        id: 1,
        amount: amount - shares,
        organization_fiscal_code: creditor.fiscal_code.clone(),
        company_name: None,
        remittance_information: crate::text::cut(remittance, crate::debt::MAX_TEXT),
        category: taxonomy,
        destination: Destination::Account {
            iban: creditor.iban.clone(),
            postal_iban: creditor.postal_iban.clone(),
        },
        metadata: Vec::new(),
    }];
    for (other, id) in others.iter().zip(2..) {
        transfers.push(Transfer {
            id,
            amount: other.amount,
            organization_fiscal_code: other.fiscal_code.clone(),
            company_name: Some(other.name.clone()),
            remittance_information: crate::text::cut(
                other.remittance.as_deref().unwrap_or(remittance),
                crate::debt::MAX_TEXT,
            ),
            category: other.taxonomy.unwrap_or(taxonomy),
            destination: Destination::Account {
                iban: other.iban.clone(),
                postal_iban: None,
            },
            metadata: Vec::new(),
        });
    }
    transfers
}
