//! A debt of one payment to one tipo dovuto, as the portal's spontaneous
//! payments and the back office's "new debt" create it: one option, one
//! transfer to the tipo dovuto's account (or the ente's), under its
//! taxonomy code.

use jiff::Timestamp;

use crate::debt::MAX_TEXT;
use crate::debt::{
    DebtPositionDraft, Debtor, DebtorKind, Destination, Metadata, PaymentOption, Transfer,
};
use crate::text::cut;
use crate::{Cents, DebtorId, Iban, PartitaIva, TaxonomyCode};

/// Whom a single payment goes to: the ente, through one tipo dovuto.
pub struct Beneficiary<'a> {
    /// The ente's codice fiscale (a partita IVA).
    pub fiscal_code: &'a str,
    pub company_name: &'a str,
    pub office_name: Option<&'a str>,
    /// The tipo dovuto's account, else the ente's.
    pub iban: Option<&'a str>,
    pub taxonomy_code: &'a str,
    /// The causale when none is given: the tipo dovuto's name.
    pub default_description: &'a str,
}

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

/// The draft, or `None` when the beneficiary has no usable IBAN or
/// taxonomy code, or the ente's codice fiscale is not a partita IVA. The
/// IUPD is the origin, `now` and six random bytes (`suffix`).
pub fn draft(
    to: &Beneficiary<'_>,
    p: SinglePayment<'_>,
    now: Timestamp,
    suffix: [u8; 6],
) -> Option<DebtPositionDraft> {
    let iban = Iban::parse(to.iban?).ok()?;
    let category = TaxonomyCode::parse(to.taxonomy_code).ok()?;
    let kind = match p.debtor {
        DebtorId::Numeric(_) => DebtorKind::LegalEntity,
        _ => DebtorKind::Person,
    };
    let iupd = format!(
        "{}-{}-{}",
        p.origin,
        now.strftime("%Y%m%d%H%M%S"),
        hex::encode_upper(suffix)
    );
    let description: String = if p.description.trim().is_empty() {
        cut(to.default_description, MAX_TEXT)
    } else {
        cut(p.description.trim(), MAX_TEXT)
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
        company_name: to.company_name.to_owned(),
        office_name: to.office_name.map(str::to_owned),
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
                organization_fiscal_code: PartitaIva::parse(to.fiscal_code).ok()?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn comune() -> Beneficiary<'static> {
        Beneficiary {
            fiscal_code: "01199250158",
            company_name: "Comune di Sesto",
            office_name: None,
            iban: Some("IT60X0542811101000000123456"),
            taxonomy_code: "9/0101100IM/",
            default_description: "Mensa scolastica",
        }
    }

    fn payment(description: &str) -> SinglePayment<'_> {
        SinglePayment {
            origin: "SPONT",
            debtor: DebtorId::parse("RSSMRA85T10A562S").unwrap(),
            name: "Mario Rossi",
            email: None,
            amount: Cents::new(1250),
            description,
            due_date: Timestamp::UNIX_EPOCH,
            metadata: Vec::new(),
        }
    }

    #[test]
    fn one_option_one_transfer_to_the_beneficiary() {
        let now: Timestamp = "2026-12-07T10:11:12Z".parse().unwrap();
        let draft = draft(&comune(), payment(" "), now, [0xAB; 6]).unwrap();
        assert_eq!(draft.iupd, "SPONT-20261207101112-ABABABABABAB");
        assert_eq!(draft.debtor.kind, DebtorKind::Person);
        let [option] = draft.options.as_slice() else {
            panic!("one option")
        };
        assert_eq!(option.description, "Mensa scolastica");
        let [transfer] = option.transfers.as_slice() else {
            panic!("one transfer")
        };
        assert_eq!(transfer.amount, Cents::new(1250));
        assert_eq!(transfer.remittance_information, "Mensa scolastica");
    }

    #[test]
    fn refused_without_an_account_or_with_a_bad_one() {
        let now = Timestamp::UNIX_EPOCH;
        let mut to = comune();
        to.iban = None;
        assert!(draft(&to, payment("x"), now, [0; 6]).is_none());
        to.iban = Some("IT00X0000000000000000000000");
        assert!(draft(&to, payment("x"), now, [0; 6]).is_none());
        let mut to = comune();
        to.taxonomy_code = "nonsense";
        assert!(draft(&to, payment("x"), now, [0; 6]).is_none());
    }
}
