//! The status machine of a debt position, in one place.
//!
//! ```text
//!  create/update ──► DRAFT ──publish──► PUBLISHED ──validity date──► VALID
//!        └──toPublish────────────────────────┴────────(no validity)───┘
//!  PUBLISHED/VALID ──invalidate──► INVALID
//!  VALID ──due date passed, switchToExpired──► EXPIRED
//!  VALID ──an installment paid──► PARTIALLY_PAID ──all paid──► PAID
//!  VALID ──the full option paid──────────────────────────────► PAID
//! ```

use jiff::Timestamp;

use super::InstallmentMode;

use super::{OptionStatus, PositionStatus};

/// Why an operation is refused in the position's current state.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a payment has been made or the position is not in an updatable state")]
    NotUpdatable,
    #[error("a payment has already been made on the position")]
    PaymentFound,
    #[error("only a DRAFT position can be published")]
    NotPublishable,
    #[error("the due date of a payment option is before the validity date")]
    DueDateBeforeValidity,
    #[error("the due date of a payment option has passed")]
    DueDateExpired,
    #[error("the validity date has already begun")]
    ValidityDateStarted,
    #[error("only a PUBLISHED or VALID position can be invalidated")]
    NotInvalidable,
    #[error("a payment of the position is in progress")]
    PaymentInProgress,
}

/// A position may be changed, deleted or cancelled only while nobody is
/// paying it: a payment in progress (an open activation) would otherwise
/// end in a receipt for a debt that changed under it. `in_progress[i]`:
/// option `i` has an open activation.
pub fn check_no_payment_in_progress(in_progress: &[bool]) -> Result<(), Refusal> {
    if in_progress.contains(&true) {
        Err(Refusal::PaymentInProgress)
    } else {
        Ok(())
    }
}

/// What the status rules need to know of one payment option.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OptionLifecycle {
    pub due_date: Timestamp,
    /// After this the option can no longer be paid (an installment plan's
    /// end of validity, Caso 2).
    pub retention_date: Option<Timestamp>,
    /// An installment's window opens here.
    pub valid_from: Option<Timestamp>,
    pub is_partial_payment: bool,
    pub status: OptionStatus,
}

/// What the status rules need to know of a stored position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: PositionStatus,
    pub validity_date: Option<Timestamp>,
    pub switch_to_expired: bool,
    pub options: Vec<OptionLifecycle>,
    /// How the installments may be paid (the tipo dovuto's choice).
    pub installments: InstallmentMode,
}

/// The status a position takes when saved: DRAFT, or when published at
/// once, VALID if payable now and PUBLISHED if its validity date is ahead.
pub fn status_on_save(
    to_publish: bool,
    validity: Option<Timestamp>,
    now: Timestamp,
) -> PositionStatus {
    match validity {
        _ if !to_publish => PositionStatus::Draft,
        Some(v) if v > now => PositionStatus::Published,
        _ => PositionStatus::Valid,
    }
}

impl Lifecycle {
    fn min_due(&self) -> Option<Timestamp> {
        self.options.iter().map(|o| o.due_date).min()
    }

    fn max_due(&self) -> Option<Timestamp> {
        self.options.iter().map(|o| o.due_date).max()
    }

    fn has_expired(&self, now: Timestamp) -> bool {
        self.switch_to_expired
            && self
                .options
                .iter()
                .all(|o| o.status == OptionStatus::Unpaid)
            && self.max_due().is_some_and(|due| due < now)
    }

    /// The status as of `now`: a published position becomes VALID when its
    /// validity date arrives, and a VALID one that may expire becomes EXPIRED
    /// once every due date has passed unpaid.
    pub fn effective_status(&self, now: Timestamp) -> PositionStatus {
        let status = match self.status {
            PositionStatus::Published if self.validity_date.is_none_or(|v| v <= now) => {
                PositionStatus::Valid
            }
            other => other,
        };
        if status == PositionStatus::Valid && self.has_expired(now) {
            PositionStatus::Expired
        } else {
            status
        }
    }

    pub fn check_update(&self, now: Timestamp) -> Result<(), Refusal> {
        match self.effective_status(now) {
            PositionStatus::Invalid
            | PositionStatus::PartiallyPaid
            | PositionStatus::Paid
            | PositionStatus::Reported => Err(Refusal::NotUpdatable),
            _ => Ok(()),
        }
    }

    pub fn check_delete(&self) -> Result<(), Refusal> {
        match self.status {
            PositionStatus::PartiallyPaid | PositionStatus::Paid | PositionStatus::Reported => {
                Err(Refusal::PaymentFound)
            }
            _ => Ok(()),
        }
    }

    /// Publishing a DRAFT: its dates must still make sense now.
    pub fn publish(&self, now: Timestamp) -> Result<PositionStatus, Refusal> {
        if self.status != PositionStatus::Draft {
            return Err(Refusal::NotPublishable);
        }
        if let Some(validity) = self.validity_date
            && self.options.iter().any(|o| o.due_date < validity)
        {
            return Err(Refusal::DueDateBeforeValidity);
        }
        if self.min_due().is_some_and(|due| due < now) {
            return Err(Refusal::DueDateExpired);
        }
        if self.validity_date.is_some_and(|v| v < now) {
            return Err(Refusal::ValidityDateStarted);
        }
        Ok(status_on_save(true, self.validity_date, now))
    }

    /// Cancelling a published position (annullamento).
    pub fn invalidate(&self, now: Timestamp) -> Result<PositionStatus, Refusal> {
        match self.effective_status(now) {
            PositionStatus::Published | PositionStatus::Valid => Ok(PositionStatus::Invalid),
            _ => Err(Refusal::NotInvalidable),
        }
    }

    /// The status once the options' statuses reflect a new payment: paying a
    /// full option settles the position, paying installments settles it
    /// when the last one is paid.
    pub fn status_after_payment(&self) -> PositionStatus {
        let full_paid = self
            .options
            .iter()
            .any(|o| !o.is_partial_payment && o.status.is_paid());
        let partial: Vec<_> = self
            .options
            .iter()
            .filter(|o| o.is_partial_payment)
            .collect();
        let partial_paid = partial.iter().filter(|o| o.status.is_paid()).count();
        if full_paid || (!partial.is_empty() && partial_paid == partial.len()) {
            PositionStatus::Paid
        } else if partial_paid > 0 {
            PositionStatus::PartiallyPaid
        } else {
            self.status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debt::test_support::days;
    use PositionStatus::*;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn option(due_in_days: i64, partial: bool, status: OptionStatus) -> OptionLifecycle {
        OptionLifecycle {
            due_date: now() + days(due_in_days),
            retention_date: None,
            valid_from: None,
            is_partial_payment: partial,
            status,
        }
    }

    fn position(status: PositionStatus) -> Lifecycle {
        Lifecycle {
            status,
            validity_date: None,
            switch_to_expired: false,
            options: vec![option(30, false, OptionStatus::Unpaid)],
            installments: InstallmentMode::Together,
        }
    }

    #[test]
    fn saving_publishes_only_when_asked() {
        assert_eq!(status_on_save(false, None, now()), Draft);
        assert_eq!(status_on_save(true, None, now()), Valid);
        assert_eq!(
            status_on_save(true, Some(now() + days(1)), now()),
            Published
        );
        assert_eq!(status_on_save(true, Some(now()), now()), Valid);
    }

    #[test]
    fn publishing_needs_a_draft_with_sensible_dates() {
        assert_eq!(position(Draft).publish(now()), Ok(Valid));
        assert_eq!(position(Valid).publish(now()), Err(Refusal::NotPublishable));
        let mut p = position(Draft);
        p.validity_date = Some(now() + days(5));
        assert_eq!(p.publish(now()), Ok(Published));
        p.validity_date = Some(now() + days(31));
        assert_eq!(p.publish(now()), Err(Refusal::DueDateBeforeValidity));
        p.validity_date = Some(now() - days(1));
        assert_eq!(p.publish(now()), Err(Refusal::ValidityDateStarted));
        p.validity_date = None;
        p.options[0].due_date = now() - days(1);
        assert_eq!(p.publish(now()), Err(Refusal::DueDateExpired));
    }

    #[test]
    fn published_becomes_valid_then_expired() {
        let mut p = position(Published);
        p.validity_date = Some(now() + days(1));
        assert_eq!(p.effective_status(now()), Published);
        assert_eq!(p.effective_status(now() + days(2)), Valid);
        assert_eq!(p.effective_status(now() + days(40)), Valid);
        p.switch_to_expired = true;
        assert_eq!(p.effective_status(now() + days(40)), Expired);
        p.options[0].status = OptionStatus::Paid;
        assert_eq!(p.effective_status(now() + days(40)), Valid);
    }

    #[test]
    fn who_may_update_delete_and_invalidate() {
        for status in PositionStatus::ALL {
            let p = position(status);
            let updatable = !matches!(status, Invalid | PartiallyPaid | Paid | Reported);
            assert_eq!(p.check_update(now()).is_ok(), updatable, "{status:?}");
            let deletable = !matches!(status, PartiallyPaid | Paid | Reported);
            assert_eq!(p.check_delete().is_ok(), deletable, "{status:?}");
            let invalidable = matches!(status, Published | Valid);
            assert_eq!(p.invalidate(now()).is_ok(), invalidable, "{status:?}");
        }
        let mut expired = position(Valid);
        expired.switch_to_expired = true;
        assert_eq!(
            expired.invalidate(now() + days(60)),
            Err(Refusal::NotInvalidable)
        );
    }

    #[test]
    fn payments_settle_the_position() {
        let mut p = position(Valid);
        p.options = vec![
            option(30, false, OptionStatus::Unpaid),
            option(30, true, OptionStatus::Paid),
            option(60, true, OptionStatus::Unpaid),
        ];
        assert_eq!(p.status_after_payment(), PartiallyPaid);
        p.options[2].status = OptionStatus::Paid;
        assert_eq!(p.status_after_payment(), Paid);
        p.options[1].status = OptionStatus::Unpaid;
        p.options[2].status = OptionStatus::Unpaid;
        p.options[0].status = OptionStatus::Paid;
        assert_eq!(p.status_after_payment(), Paid);
    }

    proptest! {
        #[test]
        fn paid_is_reached_exactly_when_a_full_option_or_every_installment_is_paid(
            full in proptest::collection::vec(any::<bool>(), 0..3),
            partial in proptest::collection::vec(any::<bool>(), 0..6),
        ) {
            let status = |paid: bool| if paid { OptionStatus::Paid } else { OptionStatus::Unpaid };
            let mut p = position(Valid);
            p.options = full.iter().map(|&paid| option(10, false, status(paid)))
                .chain(partial.iter().map(|&paid| option(10, true, status(paid))))
                .collect();
            let settled = full.iter().any(|&x| x)
                || (!partial.is_empty() && partial.iter().all(|&x| x));
            let after = p.status_after_payment();
            prop_assert_eq!(after == Paid, settled);
            if !settled && partial.iter().any(|&x| x) {
                prop_assert_eq!(after, PartiallyPaid);
            }
        }

        #[test]
        fn effective_status_never_moves_a_settled_position(offset in -400i64..400) {
            for status in [Invalid, PartiallyPaid, Paid, Reported, Draft] {
                let mut p = position(status);
                p.switch_to_expired = true;
                prop_assert_eq!(p.effective_status(now() + days(offset)), status);
            }
        }
    }
}
