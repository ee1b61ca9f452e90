//! Debt positions with their payment options and transfers.

pub(crate) mod activations;
pub(crate) mod group_commit;
mod import;
mod printable;
pub(crate) mod read;
mod rows;
mod search;
mod write;

use cassa_core::Cents;
use cassa_core::debt::{
    DebtorKind, Lifecycle, Metadata, OptionLifecycle, OptionStatus, PositionStatus, Refusal,
    RevenueStamp, TransferStatus, Violation,
};
use jiff::Timestamp;
use serde::Serialize;

use crate::error::StoreError;

/// The condition that leaves out the positions an import has staged and
/// not yet published: until then nobody sees them, pays them or prints
/// them. `alias` is the table's alias with its dot (`"p."`), or empty.
pub(crate) fn visible(alias: &str) -> String {
    format!(
        "({alias}import_job IS NULL OR {alias}import_job NOT IN (SELECT job_id FROM import_staging))"
    )
}

/// The condition citizens' reads add: a suspended ente's debts are not
/// found, listed, carted or paid on the portal (its receipts still count).
pub(crate) const OF_ACTIVE_ENTE: &str = "ente_id IN (SELECT id FROM ente WHERE active = 1)";

pub use import::{Applied, AppliedOption, ImportRowError, ImportStage, ImportSwitch, import_slice};
pub use printable::PrintSelection;
pub use read::{ListFilter, ListOrder, PositionPage, SortKey};
pub use search::{DovutiFilter, DovutiSort, DovutoRow};
pub use write::{Actor, PositionWrite};

/// [`Origin::PortalThirdParty`] as stored.
pub(crate) const THIRD_PARTY: &str = "portal_third_party";

/// Where a position came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The integration (GPD-compatible) API.
    Api,
    /// A citizen's spontaneous payment on the portal, asked by the
    /// debtor (logged in with the debtor's codice fiscale).
    Portal,
    /// A spontaneous payment asked on the portal by someone who did not
    /// prove to be the debtor: not listed in the debtor's personal area
    /// until it is paid.
    PortalThirdParty,
    /// A bulk import flow.
    Import,
    /// An operator, by hand.
    BackOffice,
}

impl Origin {
    pub fn code(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::Portal => "portal",
            Origin::PortalThirdParty => THIRD_PARTY,
            Origin::Import => "import",
            Origin::BackOffice => "backoffice",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Origin::Api,
            Origin::Portal,
            Origin::PortalThirdParty,
            Origin::Import,
            Origin::BackOffice,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredTransfer {
    pub id_transfer: u8,
    pub amount: Cents,
    pub organization_fiscal_code: String,
    pub company_name: Option<String>,
    pub remittance_information: String,
    pub category: String,
    pub iban: Option<String>,
    pub postal_iban: Option<String>,
    pub stamp: Option<RevenueStamp>,
    pub status: TransferStatus,
    pub metadata: Vec<Metadata>,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredOption {
    pub id: i64,
    /// Position of the option in the position, from 0.
    pub seq: i32,
    pub iuv: String,
    pub notice_number: String,
    pub amount: Cents,
    pub description: String,
    pub is_partial_payment: bool,
    pub due_date: Timestamp,
    pub retention_date: Option<Timestamp>,
    /// An installment's window opens here.
    pub valid_from: Option<Timestamp>,
    pub fee: Cents,
    pub notification_fee: Cents,
    pub status: OptionStatus,
    pub payment_date: Option<Timestamp>,
    pub reporting_date: Option<Timestamp>,
    pub payment_method: Option<String>,
    pub psp_company: Option<String>,
    pub id_receipt: Option<String>,
    pub id_flow_reporting: Option<String>,
    pub metadata: Vec<Metadata>,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
    pub transfers: Vec<StoredTransfer>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredPosition {
    pub id: i64,
    pub ente_id: i64,
    pub tipo_dovuto_id: Option<i64>,
    pub iupd: String,
    pub debtor_type: DebtorKind,
    pub debtor_fiscal_code: String,
    pub debtor_name: String,
    pub street_name: Option<String>,
    pub civic_number: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: String,
    pub office_name: Option<String>,
    pub validity_date: Option<Timestamp>,
    pub switch_to_expired: bool,
    pub pay_stand_in: bool,
    /// The status as stored; see [`StoredPosition::effective_status`].
    pub status: PositionStatus,
    pub origin: Origin,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
    pub published_at: Option<Timestamp>,
    pub payment_date: Option<Timestamp>,
    pub version: i64,
    /// The import job that inserted it, if one did (hidden until that
    /// import is published).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_job: Option<i64>,
    pub options: Vec<StoredOption>,
}

impl StoredPosition {
    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            status: self.status,
            validity_date: self.validity_date,
            switch_to_expired: self.switch_to_expired,
            options: self
                .options
                .iter()
                .map(|o| OptionLifecycle {
                    due_date: o.due_date,
                    retention_date: o.retention_date,
                    valid_from: o.valid_from,
                    is_partial_payment: o.is_partial_payment,
                    status: o.status,
                })
                .collect(),
            // The tipo dovuto's choice, where a payment is checked.
            installments: cassa_core::debt::InstallmentMode::Together,
        }
    }

    /// The status as of `now` (the stored one may lag until the next sweep).
    pub fn effective_status(&self, now: Timestamp) -> PositionStatus {
        self.lifecycle().effective_status(now)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the position breaks {} rule(s)", .0.len())]
    Invalid(Vec<Violation>),
    #[error("the ente already has a debt position with IUPD {0}")]
    DuplicateIupd(String),
    #[error("the IUV {0} is already used by another payment option of the ente")]
    DuplicateIuv(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CreateError {
    fn from(e: sqlx::Error) -> Self {
        CreateError::Store(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PositionChangeError {
    #[error("no debt position with IUPD {0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(Refusal),
    #[error("the position breaks {} rule(s)", .0.len())]
    Invalid(Vec<Violation>),
    #[error("the IUV {0} is already used by another payment option of the ente")]
    DuplicateIuv(String),
    /// Fewer fresh IUV bases were reserved than the change needs.
    #[error("{0} fresh IUVs are needed, fewer were reserved")]
    OutOfIuvs(usize),
    /// A notice of the position is being paid right now (open activation).
    #[error("notice {0} is being paid: the debt cannot change until that payment ends")]
    PaymentInProgress(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PositionChangeError {
    fn from(e: sqlx::Error) -> Self {
        PositionChangeError::Store(e.into())
    }
}
