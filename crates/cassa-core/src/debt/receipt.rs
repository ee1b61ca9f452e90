//! What a receipt (paSendRT) does to a debt: it pays its option, or it is
//! kept as an anomaly for the operators (money arrived that must not be
//! counted as a payment of the debt, and may have to be refunded). Never
//! both, never neither.

use serde::Serialize;

use super::PositionStatus;
use super::lifecycle::Lifecycle;
use super::payability::paid_another_way;

/// What became of a receipt; stored as its code.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// It paid its option.
    Applied,
    /// A failed payment (outcome KO), kept for the record.
    Ko,
    /// Anomaly: the option had already been paid by another receipt.
    DoublePayment,
    /// Anomaly: no option of the ente has this notice number.
    UnknownNotice,
    /// Anomaly: the amount differs from the option's.
    AmountMismatch,
    /// Anomaly: an option it excludes (the single payment, or the plan)
    /// was paid first.
    Superseded,
    /// Anomaly: the ente cancelled the debt.
    CancelledDebt,
}

impl ReceiptStatus {
    pub const ALL: [ReceiptStatus; 7] = [
        ReceiptStatus::Applied,
        ReceiptStatus::Ko,
        ReceiptStatus::DoublePayment,
        ReceiptStatus::UnknownNotice,
        ReceiptStatus::AmountMismatch,
        ReceiptStatus::Superseded,
        ReceiptStatus::CancelledDebt,
    ];

    /// The anomalies: receipts of money received but not applied.
    pub const ANOMALIES: [ReceiptStatus; 5] = [
        ReceiptStatus::DoublePayment,
        ReceiptStatus::UnknownNotice,
        ReceiptStatus::AmountMismatch,
        ReceiptStatus::Superseded,
        ReceiptStatus::CancelledDebt,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReceiptStatus::Applied => "applied",
            ReceiptStatus::Ko => "ko",
            ReceiptStatus::DoublePayment => "double_payment",
            ReceiptStatus::UnknownNotice => "unknown_notice",
            ReceiptStatus::AmountMismatch => "amount_mismatch",
            ReceiptStatus::Superseded => "superseded",
            ReceiptStatus::CancelledDebt => "cancelled_debt",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn is_anomaly(self) -> bool {
        !matches!(self, ReceiptStatus::Applied | ReceiptStatus::Ko)
    }
}

/// What a receipt for option `index` of `position` is: `ok` is the
/// receipt's outcome, `amount_matches` whether it paid the option's amount.
/// A payment taken while the debt was payable is applied even if the debt
/// expired since; one the debt can no longer take is an anomaly.
pub fn classify_receipt(
    position: &Lifecycle,
    index: usize,
    ok: bool,
    amount_matches: bool,
) -> ReceiptStatus {
    let Some(option) = position.options.get(index) else {
        return ReceiptStatus::UnknownNotice;
    };
    if !ok {
        return ReceiptStatus::Ko;
    }
    if option.status.is_paid() {
        return ReceiptStatus::DoublePayment;
    }
    if position.status == PositionStatus::Invalid {
        return ReceiptStatus::CancelledDebt;
    }
    if paid_another_way(position, index) {
        return ReceiptStatus::Superseded;
    }
    if !amount_matches {
        return ReceiptStatus::AmountMismatch;
    }
    ReceiptStatus::Applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debt::InstallmentMode;
    use crate::debt::OptionStatus::{Paid, Unpaid};
    use crate::debt::lifecycle::OptionLifecycle;
    use crate::debt::test_support::days;

    fn now() -> jiff::Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    /// Two single payments (0, 1) and a plan of two installments (2, 3).
    fn position(paid: &[usize], status: PositionStatus) -> Lifecycle {
        Lifecycle {
            status,
            validity_date: None,
            switch_to_expired: false,
            options: (0..4)
                .map(|i| OptionLifecycle {
                    due_date: now() + days(30),
                    retention_date: None,
                    valid_from: None,
                    is_partial_payment: i >= 2,
                    status: if paid.contains(&i) { Paid } else { Unpaid },
                })
                .collect(),
            installments: InstallmentMode::Together,
        }
    }

    #[test]
    fn codes_round_trip() {
        for status in ReceiptStatus::ALL {
            assert_eq!(ReceiptStatus::parse(status.code()), Some(status));
            assert_eq!(
                status.is_anomaly(),
                ReceiptStatus::ANOMALIES.contains(&status)
            );
        }
        assert_eq!(ReceiptStatus::parse("paid"), None);
    }

    #[test]
    fn a_receipt_pays_its_option_or_is_an_anomaly() {
        let open = position(&[], PositionStatus::Valid);
        assert_eq!(
            classify_receipt(&open, 0, true, true),
            ReceiptStatus::Applied
        );
        assert_eq!(
            classify_receipt(&open, 2, true, true),
            ReceiptStatus::Applied
        );
        assert_eq!(classify_receipt(&open, 0, false, true), ReceiptStatus::Ko);
        assert_eq!(
            classify_receipt(&open, 0, true, false),
            ReceiptStatus::AmountMismatch
        );
        assert_eq!(
            classify_receipt(&open, 9, true, true),
            ReceiptStatus::UnknownNotice
        );
        let one_single_paid = position(&[0], PositionStatus::Paid);
        assert_eq!(
            classify_receipt(&one_single_paid, 0, true, true),
            ReceiptStatus::DoublePayment
        );
        for other in [1, 2, 3] {
            assert_eq!(
                classify_receipt(&one_single_paid, other, true, true),
                ReceiptStatus::Superseded,
                "option {other}"
            );
        }
        let installment_paid = position(&[2], PositionStatus::PartiallyPaid);
        assert_eq!(
            classify_receipt(&installment_paid, 3, true, true),
            ReceiptStatus::Applied,
            "the rest of the plan"
        );
        assert_eq!(
            classify_receipt(&installment_paid, 0, true, true),
            ReceiptStatus::Superseded
        );
        let cancelled = position(&[], PositionStatus::Invalid);
        assert_eq!(
            classify_receipt(&cancelled, 0, true, true),
            ReceiptStatus::CancelledDebt
        );
        let expired = position(&[], PositionStatus::Expired);
        assert_eq!(
            classify_receipt(&expired, 0, true, true),
            ReceiptStatus::Applied,
            "taken while payable, applied after the due date"
        );
    }
}
