//! The rules a debt position must satisfy before it is stored. Each broken
//! rule is reported with the field it concerns, and all are reported at once.

use std::collections::HashSet;

use jiff::Timestamp;

use super::{DebtPositionDraft, MAX_METADATA, MAX_OPTIONS, MAX_TRANSFERS, Metadata};
use crate::money::{AmountError, Cents};

/// pagoPA's limit on descriptions, remittance information and names.
pub const MAX_TEXT: usize = 140;

/// Whether the position is being created or replaced: a few date rules
/// apply only to new positions, as in GPD.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// A single field is out of its allowed values.
    Field,
    /// Fields disagree with each other or with the clock (GPD's
    /// "congruence" errors).
    Congruence,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field in GPD's naming, e.g. `paymentOption[0].transfer[1].amount`.
    pub field: String,
    pub message: String,
    pub kind: ViolationKind,
}

impl Violation {
    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            field: field.into(),
            message: message.into(),
            kind: ViolationKind::Field,
        }
    }

    fn congruence(field: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            field: field.into(),
            message: message.into(),
            kind: ViolationKind::Congruence,
        }
    }
}

fn amount_message(e: AmountError) -> String {
    match e {
        AmountError::NotPositive => "minimum amount is 1 eurocent".to_owned(),
        AmountError::TooLarge => e.to_string(),
    }
}

fn check_text(out: &mut Vec<Violation>, field: String, text: &str, required: bool) {
    if required && text.trim().is_empty() {
        out.push(Violation::field(field, "must not be empty"));
    } else if text.chars().count() > MAX_TEXT {
        out.push(Violation::field(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
}

fn check_metadata(out: &mut Vec<Violation>, field: &str, metadata: &[Metadata]) {
    if metadata.len() > MAX_METADATA {
        out.push(Violation::field(
            field,
            format!("at most {MAX_METADATA} key-value pairs"),
        ));
    }
    let mut keys = HashSet::new();
    for (k, m) in metadata.iter().enumerate() {
        check_text(out, format!("{field}[{k}].key"), &m.key, true);
        check_text(out, format!("{field}[{k}].value"), &m.value, false);
        if !keys.insert(m.key.as_str()) {
            out.push(Violation::field(
                format!("{field}[{k}].key"),
                format!("duplicate key {:?}: keys must be unique", m.key),
            ));
        }
    }
}

/// Checks every rule of a position; an empty result means it may be stored.
pub fn check_position(draft: &DebtPositionDraft, mode: Mode, now: Timestamp) -> Vec<Violation> {
    let mut out = Vec::new();
    check_text(&mut out, "companyName".into(), &draft.company_name, true);
    if let Some(office) = &draft.office_name {
        check_text(&mut out, "officeName".into(), office, false);
    }
    check_text(&mut out, "fullName".into(), &draft.debtor.full_name, true);

    if draft.options.is_empty() {
        out.push(Violation::field(
            "paymentOption",
            "at least one payment option is required",
        ));
    } else if draft.options.len() > MAX_OPTIONS {
        out.push(Violation::field(
            "paymentOption",
            format!(
                "at most {MAX_OPTIONS} payment options, found {}",
                draft.options.len()
            ),
        ));
    }

    if mode == Mode::Create
        && let Some(validity) = draft.validity_date
        && validity <= now
    {
        out.push(Violation::congruence(
            "validityDate",
            format!(
                "Dates congruence error: validity_date must be >= current_date \
                 [validity_date={validity}; current_date={now}]"
            ),
        ));
    }

    let mut iuvs = HashSet::new();
    for (i, option) in draft.options.iter().enumerate() {
        let at = format!("paymentOption[{i}]");
        if let Err(e) = option.amount.check_payable() {
            out.push(Violation::field(format!("{at}.amount"), amount_message(e)));
        }
        if option.fee < Cents::ZERO {
            out.push(Violation::field(
                format!("{at}.fee"),
                "must not be negative",
            ));
        }
        check_text(
            &mut out,
            format!("{at}.description"),
            &option.description,
            true,
        );
        check_metadata(
            &mut out,
            &format!("{at}.paymentOptionMetadata"),
            &option.metadata,
        );
        if let Some(iuv) = &option.iuv
            && !iuvs.insert(iuv.as_str())
        {
            out.push(Violation::field(
                format!("{at}.iuv"),
                format!("the IUV {iuv} is used by another payment option of this position"),
            ));
        }

        let floor = draft.validity_date.unwrap_or(now);
        let must_be_future = mode == Mode::Create || draft.switch_to_expired;
        if option.due_date < floor || (must_be_future && option.due_date < now) {
            let validity = draft
                .validity_date
                .map_or_else(|| "null".to_owned(), |v| v.to_string());
            out.push(Violation::congruence(
                format!("{at}.dueDate"),
                format!(
                    "Dates congruence error: due_date must be >= validity_date (if provided) \
                     or due_date must be >= current_date \
                     [due_date={}; validity_date={validity}; current_date={now}]",
                    option.due_date
                ),
            ));
        }
        if let Some(retention) = option.retention_date
            && retention < option.due_date
        {
            out.push(Violation::congruence(
                format!("{at}.retentionDate"),
                format!(
                    "Dates congruence error: retention_date must be >= due_date \
                     [retention_date={retention}; due_date={}]",
                    option.due_date
                ),
            ));
        }

        if let Some(opens) = option.valid_from {
            if !option.is_partial_payment {
                out.push(Violation::congruence(
                    format!("{at}.validFrom"),
                    "only an installment (isPartialPayment = true) has a window start",
                ));
            } else if opens > option.due_date {
                out.push(Violation::congruence(
                    format!("{at}.validFrom"),
                    format!(
                        "Dates congruence error: valid_from must be <= due_date \
                         [valid_from={opens}; due_date={}]",
                        option.due_date
                    ),
                ));
            }
        }

        check_transfers(&mut out, &at, option);
    }
    out
}

fn check_transfers(out: &mut Vec<Violation>, at: &str, option: &super::PaymentOption) {
    let transfers = &option.transfers;
    if transfers.is_empty() {
        out.push(Violation::field(
            format!("{at}.transfer"),
            "at least one transfer is required",
        ));
        return;
    }
    if transfers.len() > MAX_TRANSFERS {
        out.push(Violation::congruence(
            format!("{at}.transfer"),
            format!(
                "Number of transfers congruence error: Each payment option must have a maximum \
                 of {MAX_TRANSFERS} transactions [transactions found={}]",
                transfers.len()
            ),
        ));
    }
    let mut ids = HashSet::new();
    for (j, t) in transfers.iter().enumerate() {
        let tat = format!("{at}.transfer[{j}]");
        if !(1..=MAX_TRANSFERS as u8).contains(&t.id) || !ids.insert(t.id) {
            out.push(Violation::congruence(
                format!("{tat}.idTransfer"),
                format!(
                    "Transfer ID congruence error: each transfer needs its own id among \
                     1, 2, 3, 4, 5 [transaction id={}]",
                    t.id
                ),
            ));
        }
        if let Err(e) = t.amount.check_payable() {
            out.push(Violation::field(format!("{tat}.amount"), amount_message(e)));
        }
        check_text(
            out,
            format!("{tat}.remittanceInformation"),
            &t.remittance_information,
            true,
        );
        if let Some(name) = &t.company_name {
            check_text(out, format!("{tat}.companyName"), name, false);
        }
        check_metadata(out, &format!("{tat}.transferMetadata"), &t.metadata);
    }
    match Cents::checked_sum(transfers.iter().map(|t| t.amount)) {
        Some(total) if total == option.amount => {}
        total => out.push(Violation::congruence(
            format!("{at}.transfer"),
            format!(
                "Amounts congruence error: payment option amount must coincide with the total \
                 of the transfers amount [payment_option_amount(in cent)={}; \
                 total_transfers_amount(in cent)={}]",
                option.amount.get(),
                total.map_or_else(|| "overflow".to_owned(), |t| t.get().to_string())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::debt::test_support::{days, hours};
    use crate::fiscal_code::DebtorId;
    use crate::iban::Iban;
    use proptest::prelude::*;

    pub(crate) fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    pub(crate) fn transfer(id: u8, cents: i64) -> Transfer {
        Transfer {
            id,
            amount: Cents::new(cents),
            organization_fiscal_code: "80050050154".parse().unwrap(),
            company_name: None,
            remittance_information: "TARI 2026".into(),
            category: "9/0101101IM/".parse().unwrap(),
            destination: Destination::Account {
                iban: Iban::italian("03069", "09606", "100000046039").unwrap(),
                postal_iban: None,
            },
            metadata: vec![],
        }
    }

    pub(crate) fn draft(amounts: &[&[i64]]) -> DebtPositionDraft {
        DebtPositionDraft {
            iupd: "IUPD-1".into(),
            debtor: Debtor {
                kind: DebtorKind::Person,
                id: DebtorId::parse("RSSMRA85T10A562S").unwrap(),
                full_name: "Mario Rossi".into(),
                street_name: None,
                civic_number: None,
                postal_code: None,
                city: None,
                province: None,
                region: None,
                country: None,
                email: None,
                phone: None,
            },
            company_name: "Comune di Esempio".into(),
            office_name: None,
            validity_date: None,
            switch_to_expired: false,
            pay_stand_in: true,
            options: amounts
                .iter()
                .map(|transfers| PaymentOption {
                    iuv: None,
                    amount: Cents::new(transfers.iter().sum()),
                    description: "Tassa rifiuti".into(),
                    is_partial_payment: amounts.len() > 1,
                    due_date: now() + days(30),
                    retention_date: None,
                    valid_from: None,
                    fee: Cents::ZERO,
                    transfers: transfers
                        .iter()
                        .enumerate()
                        .map(|(j, &c)| transfer(j as u8 + 1, c))
                        .collect(),
                    metadata: vec![],
                })
                .collect(),
        }
    }

    fn fields(v: &[Violation]) -> Vec<&str> {
        v.iter().map(|x| x.field.as_str()).collect()
    }

    #[test]
    fn a_good_position_passes() {
        assert_eq!(
            check_position(&draft(&[&[10_000, 2_050]]), Mode::Create, now()),
            vec![]
        );
    }

    #[test]
    fn transfers_must_add_up_to_the_option() {
        let mut d = draft(&[&[10_000, 2_050]]);
        d.options[0].amount = Cents::new(12_000);
        let v = check_position(&d, Mode::Create, now());
        assert_eq!(fields(&v), ["paymentOption[0].transfer"]);
        assert!(
            v[0].message
                .contains("payment_option_amount(in cent)=12000")
        );
        assert!(
            v[0].message
                .contains("total_transfers_amount(in cent)=12050")
        );
    }

    #[test]
    fn at_most_five_transfers_with_distinct_ids() {
        let d = draft(&[&[1, 1, 1, 1, 1, 1]]);
        let v = check_position(&d, Mode::Create, now());
        assert!(v.iter().any(|x| x.message.contains("transactions found=6")));
        assert!(
            v.iter()
                .any(|x| x.field == "paymentOption[0].transfer[5].idTransfer")
        );
        let mut d = draft(&[&[1, 1]]);
        d.options[0].transfers[1].id = 1;
        let v = check_position(&d, Mode::Create, now());
        assert_eq!(fields(&v), ["paymentOption[0].transfer[1].idTransfer"]);
    }

    #[test]
    fn amounts_must_be_payable() {
        let mut d = draft(&[&[0]]);
        d.options[0].amount = Cents::new(0);
        let v = check_position(&d, Mode::Create, now());
        assert_eq!(
            fields(&v),
            [
                "paymentOption[0].amount",
                "paymentOption[0].transfer[0].amount"
            ]
        );
        let d = draft(&[&[100_000_000_000]]);
        let v = check_position(&d, Mode::Create, now());
        assert!(v[0].message.contains("999,999,999.99"));
    }

    #[test]
    fn dates_must_be_congruent() {
        let mut d = draft(&[&[100]]);
        d.validity_date = Some(now() - hours(1));
        d.options[0].due_date = now() - hours(2);
        d.options[0].retention_date = Some(now() - hours(3));
        let v = check_position(&d, Mode::Create, now());
        assert_eq!(
            fields(&v),
            [
                "validityDate",
                "paymentOption[0].dueDate",
                "paymentOption[0].retentionDate"
            ]
        );
        assert!(v.iter().all(|x| x.kind == ViolationKind::Congruence));
        // An update may keep a past due date unless the position expires by itself.
        let mut d = draft(&[&[100]]);
        d.options[0].due_date = now() - hours(2);
        d.validity_date = Some(now() - hours(3));
        assert_eq!(check_position(&d, Mode::Update, now()), vec![]);
        d.switch_to_expired = true;
        assert_eq!(
            fields(&check_position(&d, Mode::Update, now())),
            ["paymentOption[0].dueDate"]
        );
    }

    #[test]
    fn only_installments_have_a_window_that_opens_by_their_due_date() {
        let mut d = draft(&[&[100], &[100]]);
        let due = d.options[1].due_date;
        d.options[0].is_partial_payment = false;
        d.options[1].is_partial_payment = true;
        d.options[1].valid_from = Some(due - hours(24));
        assert_eq!(check_position(&d, Mode::Create, now()), vec![]);
        d.options[1].valid_from = Some(due + hours(1));
        d.options[0].valid_from = Some(now());
        let v = check_position(&d, Mode::Create, now());
        assert_eq!(
            fields(&v),
            ["paymentOption[0].validFrom", "paymentOption[1].validFrom"]
        );
    }

    #[test]
    fn a_position_needs_options_and_transfers() {
        let mut d = draft(&[]);
        assert_eq!(
            fields(&check_position(&d, Mode::Create, now())),
            ["paymentOption"]
        );
        d = draft(&[&[]]);
        d.options[0].amount = Cents::new(100);
        assert_eq!(
            fields(&check_position(&d, Mode::Create, now())),
            ["paymentOption[0].transfer"]
        );
    }

    #[test]
    fn iuvs_and_metadata_keys_are_unique() {
        let mut d = draft(&[&[100], &[200]]);
        let iuv = crate::notice::Iuv::from_trusted("02000000000000184");
        d.options[0].iuv = Some(iuv.clone());
        d.options[1].iuv = Some(iuv);
        d.options[1].metadata = vec![
            Metadata {
                key: "k".into(),
                value: "1".into(),
            },
            Metadata {
                key: "k".into(),
                value: "2".into(),
            },
        ];
        assert_eq!(
            fields(&check_position(&d, Mode::Create, now())),
            [
                "paymentOption[1].paymentOptionMetadata[1].key",
                "paymentOption[1].iuv"
            ]
        );
    }

    #[test]
    fn texts_are_limited_to_140_characters() {
        let mut d = draft(&[&[100]]);
        d.options[0].description = "é".repeat(141);
        d.company_name = String::new();
        assert_eq!(
            fields(&check_position(&d, Mode::Create, now())),
            ["companyName", "paymentOption[0].description"]
        );
    }

    proptest! {
        #[test]
        fn any_split_that_adds_up_is_accepted(parts in proptest::collection::vec(1i64..1_000_000, 1..=5)) {
            let d = draft(&[&parts]);
            prop_assert_eq!(check_position(&d, Mode::Create, now()), vec![]);
        }

        #[test]
        fn any_split_that_does_not_add_up_is_refused(
            parts in proptest::collection::vec(1i64..1_000_000, 1..=5), delta in 1i64..1000
        ) {
            let mut d = draft(&[&parts]);
            d.options[0].amount = d.options[0].amount + Cents::new(delta);
            let v = check_position(&d, Mode::Create, now());
            prop_assert_eq!(v.len(), 1);
            prop_assert!(v[0].message.starts_with("Amounts congruence error"));
        }
    }
}
