//! Debt positions: a debtor owes an ente something payable through one or
//! more payment options (the full amount, or a plan of installments), each
//! split into 1..5 transfers to beneficiaries' accounts.
//!
//! The shape mirrors pagoPA's GPD so that its API maps one to one.

mod installments;
#[cfg(test)]
mod interleavings;
mod lifecycle;
mod payability;
mod receipt;
mod rules;
pub mod single_payment;

pub use installments::{
    Installment, InstallmentMode, InstallmentRefusal, check_installments, payable_now,
};
pub use lifecycle::{
    Lifecycle, OptionLifecycle, Refusal, check_no_payment_in_progress, status_on_save,
};
pub use payability::{NotPayable, check_payable, excludes, exclusive};
pub use receipt::{ReceiptStatus, classify_receipt};
pub use rules::{MAX_TEXT, Mode, Violation, ViolationKind, check_position};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::fiscal_code::{DebtorId, PartitaIva};
use crate::iban::Iban;
use crate::money::Cents;
use crate::notice::Iuv;
use crate::taxonomy::TaxonomyCode;

/// At most this many transfers split one payment option.
pub const MAX_TRANSFERS: usize = 5;
/// A sanity cap on the payment options of one position (GPD has none; a
/// plan of 100 installments is already far beyond any real one).
pub const MAX_OPTIONS: usize = 100;
/// At most this many metadata pairs on an option or a transfer.
pub const MAX_METADATA: usize = 10;

/// F: a natural person; G: a legal entity.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DebtorKind {
    #[serde(rename = "F")]
    Person,
    #[serde(rename = "G")]
    LegalEntity,
}

impl DebtorKind {
    pub fn code(self) -> &'static str {
        match self {
            DebtorKind::Person => "F",
            DebtorKind::LegalEntity => "G",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "F" => Some(DebtorKind::Person),
            "G" => Some(DebtorKind::LegalEntity),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Debtor {
    pub kind: DebtorKind,
    pub id: DebtorId,
    pub full_name: String,
    pub street_name: Option<String>,
    pub civic_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A free key/value pair the ente attaches to an option or a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub key: String,
    pub value: String,
}

/// A digital revenue stamp (marca da bollo digitale) instead of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueStamp {
    pub hash_document: String,
    pub stamp_type: String,
    pub provincial_residence: String,
}

/// Where a transfer's money goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A bank account, optionally with a postal account the PSP may use instead.
    Account {
        iban: Iban,
        postal_iban: Option<Iban>,
    },
    Stamp(RevenueStamp),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// 1..=5, unique within the option.
    pub id: u8,
    pub amount: Cents,
    /// The beneficiary ente (defaults to the creditor ente).
    pub organization_fiscal_code: PartitaIva,
    pub company_name: Option<String>,
    pub remittance_information: String,
    pub category: TaxonomyCode,
    pub destination: Destination,
    pub metadata: Vec<Metadata>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentOption {
    /// `None` when cassa is to generate it.
    pub iuv: Option<Iuv>,
    pub amount: Cents,
    pub description: String,
    /// An installment of a plan (rata) rather than the full amount.
    pub is_partial_payment: bool,
    pub due_date: Timestamp,
    pub retention_date: Option<Timestamp>,
    /// An installment's window opens here: not payable before (rateizzazione
    /// Caso 1). Only installments have one.
    pub valid_from: Option<Timestamp>,
    pub fee: Cents,
    pub transfers: Vec<Transfer>,
    pub metadata: Vec<Metadata>,
}

/// A debt position as submitted by an ente, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebtPositionDraft {
    /// The ente's own identifier of the position (IUPD), unique per ente.
    pub iupd: String,
    pub debtor: Debtor,
    pub company_name: String,
    pub office_name: Option<String>,
    pub validity_date: Option<Timestamp>,
    pub switch_to_expired: bool,
    pub pay_stand_in: bool,
    pub options: Vec<PaymentOption>,
}

/// The GPD status of a debt position.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PositionStatus {
    Draft,
    /// Published, but its validity date has not come yet.
    Published,
    /// Published and payable.
    Valid,
    /// Cancelled by the ente.
    Invalid,
    Expired,
    PartiallyPaid,
    Paid,
    Reported,
}

impl PositionStatus {
    pub const ALL: [PositionStatus; 8] = [
        PositionStatus::Draft,
        PositionStatus::Published,
        PositionStatus::Valid,
        PositionStatus::Invalid,
        PositionStatus::Expired,
        PositionStatus::PartiallyPaid,
        PositionStatus::Paid,
        PositionStatus::Reported,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PositionStatus::Draft => "DRAFT",
            PositionStatus::Published => "PUBLISHED",
            PositionStatus::Valid => "VALID",
            PositionStatus::Invalid => "INVALID",
            PositionStatus::Expired => "EXPIRED",
            PositionStatus::PartiallyPaid => "PARTIALLY_PAID",
            PositionStatus::Paid => "PAID",
            PositionStatus::Reported => "REPORTED",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the accounts of its unpaid options may still be changed
    /// (GPD's bulk IBAN replacement).
    pub fn accepts_account_changes(self) -> bool {
        matches!(
            self,
            PositionStatus::Draft
                | PositionStatus::Published
                | PositionStatus::Valid
                | PositionStatus::PartiallyPaid
        )
    }
}

/// The GPD status of one payment option.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OptionStatus {
    #[serde(rename = "PO_UNPAID")]
    Unpaid,
    #[serde(rename = "PO_PAID")]
    Paid,
    #[serde(rename = "PO_PARTIALLY_REPORTED")]
    PartiallyReported,
    #[serde(rename = "PO_REPORTED")]
    Reported,
}

impl OptionStatus {
    pub fn code(self) -> &'static str {
        match self {
            OptionStatus::Unpaid => "PO_UNPAID",
            OptionStatus::Paid => "PO_PAID",
            OptionStatus::PartiallyReported => "PO_PARTIALLY_REPORTED",
            OptionStatus::Reported => "PO_REPORTED",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            OptionStatus::Unpaid,
            OptionStatus::Paid,
            OptionStatus::PartiallyReported,
            OptionStatus::Reported,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn is_paid(self) -> bool {
        self != OptionStatus::Unpaid
    }
}

/// Whether a transfer has been seen in a reporting flow (FdR).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransferStatus {
    #[serde(rename = "T_UNREPORTED")]
    Unreported,
    #[serde(rename = "T_REPORTED")]
    Reported,
}

impl TransferStatus {
    pub fn code(self) -> &'static str {
        match self {
            TransferStatus::Unreported => "T_UNREPORTED",
            TransferStatus::Reported => "T_REPORTED",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "T_UNREPORTED" => Some(TransferStatus::Unreported),
            "T_REPORTED" => Some(TransferStatus::Reported),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use jiff::SignedDuration;

    pub fn days(n: i64) -> SignedDuration {
        SignedDuration::from_hours(24 * n)
    }

    pub fn hours(n: i64) -> SignedDuration {
        SignedDuration::from_hours(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_match_their_serde_names() {
        for status in PositionStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.code());
            assert_eq!(PositionStatus::parse(status.code()), Some(status));
        }
        for status in [
            OptionStatus::Unpaid,
            OptionStatus::Paid,
            OptionStatus::PartiallyReported,
            OptionStatus::Reported,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.code());
            assert_eq!(OptionStatus::parse(status.code()), Some(status));
        }
        for status in [TransferStatus::Unreported, TransferStatus::Reported] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.code());
        }
        assert_eq!(serde_json::to_value(DebtorKind::LegalEntity).unwrap(), "G");
    }
}
