//! Whether the node may take a payment of one option now: the rules behind
//! paVerifyPaymentNotice and paGetPayment, in one place. The SOAP layer maps
//! each refusal to its PAA fault.

use jiff::Timestamp;

use super::PositionStatus;
use super::installments::{Installment, InstallmentRefusal, check_installments};
use super::lifecycle::{Lifecycle, OptionLifecycle};

/// Why an option cannot be paid.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotPayable {
    /// Not (yet) payable: not published, or not valid yet (PAA_PAGAMENTO_SCONOSCIUTO).
    #[error("the payment is not known or not yet payable")]
    Unknown,
    /// This very option is already paid (PAA_PAGAMENTO_DUPLICATO).
    #[error("the payment option has already been paid")]
    AlreadyPaid,
    /// Past its due date, and the ente does not accept late payments (PAA_PAGAMENTO_SCADUTO).
    #[error("the payment option is past its due date")]
    Expired,
    /// Cancelled by the ente, or superseded: the alternative (single payment
    /// or installment plan) was paid (PAA_PAGAMENTO_ANNULLATO).
    #[error("the payment option has been cancelled")]
    Cancelled,
    /// A payment of it, or of an option it excludes, is being made right
    /// now (PAA_PAGAMENTO_IN_CORSO).
    #[error("a payment of this option or of its alternative is in progress")]
    InProgress,
    /// An installment out of its turn or past the plan's end of validity.
    #[error(transparent)]
    Installment(#[from] InstallmentRefusal),
}

/// Whether paying both `a` and `b`, two different options of one
/// position, would pay the debt twice: the single payment excludes the
/// installment plan and every other single payment; the installments of
/// the plan go together.
pub fn exclusive(a: &OptionLifecycle, b: &OptionLifecycle) -> bool {
    excludes(a.is_partial_payment, b.is_partial_payment)
}

/// Whether an option that option `index` excludes is already paid: the
/// debt was paid the other way.
pub fn paid_another_way(position: &Lifecycle, index: usize) -> bool {
    let Some(option) = position.options.get(index) else {
        return false;
    };
    position
        .options
        .iter()
        .enumerate()
        .any(|(i, o)| i != index && exclusive(o, option) && o.status.is_paid())
}

/// [`exclusive`] for two options known only by whether each is an
/// installment.
pub fn excludes(a_is_installment: bool, b_is_installment: bool) -> bool {
    !(a_is_installment && b_is_installment)
}

/// Decides whether option `index` of `position` can be paid at `now`.
/// `in_progress[i]`: option `i` has an open activation (a payment being
/// made right now); a missing entry counts as none.
pub fn check_payable(
    position: &Lifecycle,
    index: usize,
    in_progress: &[bool],
    now: Timestamp,
) -> Result<(), NotPayable> {
    let option = position.options.get(index).ok_or(NotPayable::Unknown)?;
    if option.status.is_paid() {
        return Err(NotPayable::AlreadyPaid);
    }
    match position.effective_status(now) {
        PositionStatus::Draft | PositionStatus::Published => return Err(NotPayable::Unknown),
        PositionStatus::Invalid => return Err(NotPayable::Cancelled),
        PositionStatus::Expired => return Err(NotPayable::Expired),
        PositionStatus::Paid | PositionStatus::Reported => return Err(NotPayable::Cancelled),
        PositionStatus::Valid | PositionStatus::PartiallyPaid => {}
    }
    if paid_another_way(position, index) {
        return Err(NotPayable::Cancelled);
    }
    if position.switch_to_expired && option.due_date < now {
        return Err(NotPayable::Expired);
    }
    if option.is_partial_payment {
        // The plan's installments by due date, and this one's place in it.
        let mut plan: Vec<usize> = (0..position.options.len())
            .filter(|&i| position.options[i].is_partial_payment)
            .collect();
        plan.sort_by_key(|&i| (position.options[i].due_date, i));
        let installments: Vec<Installment> = plan
            .iter()
            .map(|&i| Installment {
                due_date: position.options[i].due_date,
                valid_from: position.options[i].valid_from,
                paid: position.options[i].status.is_paid(),
            })
            .collect();
        let at = plan.iter().position(|&i| i == index).expect("in the plan");
        check_installments(
            &installments,
            &[at],
            position.installments,
            option.retention_date,
            now,
        )?;
    }
    // This option, or one it excludes, is being paid right now.
    let busy = in_progress
        .iter()
        .enumerate()
        .filter(|&(_, &open)| open)
        .any(|(i, _)| {
            i == index
                || position
                    .options
                    .get(i)
                    .is_some_and(|other| exclusive(other, option))
        });
    if busy {
        return Err(NotPayable::InProgress);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debt::InstallmentMode;
    use crate::debt::OptionStatus::{Paid, Unpaid};
    use crate::debt::lifecycle::OptionLifecycle;
    use crate::debt::test_support::days;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    /// A valid position: the single payment (index 0) and three installments.
    fn plan(paid: &[usize]) -> Lifecycle {
        let options = (0..4)
            .map(|i| OptionLifecycle {
                due_date: now() + days(30 * (i as i64 + 1)),
                retention_date: None,
                valid_from: None,
                is_partial_payment: i > 0,
                status: if paid.contains(&i) { Paid } else { Unpaid },
            })
            .collect();
        Lifecycle {
            status: if paid.is_empty() {
                PositionStatus::Valid
            } else {
                PositionStatus::PartiallyPaid
            },
            validity_date: None,
            switch_to_expired: false,
            options,
            installments: InstallmentMode::Together,
        }
    }

    #[test]
    fn an_open_option_is_payable_once() {
        assert_eq!(check_payable(&plan(&[]), 0, &[], now()), Ok(()));
        assert_eq!(check_payable(&plan(&[]), 2, &[], now()), Ok(()));
        assert_eq!(
            check_payable(&plan(&[]), 0, &[true], now()),
            Err(NotPayable::InProgress)
        );
        assert_eq!(
            check_payable(&plan(&[]), 9, &[], now()),
            Err(NotPayable::Unknown)
        );
    }

    #[test]
    fn installments_and_the_single_payment_exclude_each_other() {
        let mut full_paid = plan(&[0]);
        full_paid.status = PositionStatus::Paid;
        assert_eq!(
            check_payable(&full_paid, 0, &[], now()),
            Err(NotPayable::AlreadyPaid)
        );
        assert_eq!(
            check_payable(&full_paid, 1, &[], now()),
            Err(NotPayable::Cancelled)
        );
        let one_installment = plan(&[1]);
        assert_eq!(
            check_payable(&one_installment, 1, &[], now()),
            Err(NotPayable::AlreadyPaid)
        );
        assert_eq!(check_payable(&one_installment, 2, &[], now()), Ok(()));
        assert_eq!(
            check_payable(&one_installment, 0, &[], now()),
            Err(NotPayable::Cancelled)
        );
    }

    #[test]
    fn a_payment_in_progress_blocks_what_it_excludes() {
        let p = plan(&[]);
        // The single payment being paid: no installment can start, nor it again.
        let single_open = [true, false, false, false];
        for i in 0..4 {
            assert_eq!(
                check_payable(&p, i, &single_open, now()),
                Err(NotPayable::InProgress),
                "option {i}"
            );
        }
        // An installment being paid: the single payment waits, the other
        // installments (Caso 2) go together.
        let installment_open = [false, true, false, false];
        assert_eq!(
            check_payable(&p, 0, &installment_open, now()),
            Err(NotPayable::InProgress)
        );
        assert_eq!(
            check_payable(&p, 1, &installment_open, now()),
            Err(NotPayable::InProgress)
        );
        assert_eq!(check_payable(&p, 2, &installment_open, now()), Ok(()));
        // Two single payments (a discount until a date, say) exclude each other.
        let mut two = plan(&[]);
        two.options[1].is_partial_payment = false;
        two.options.truncate(2);
        assert_eq!(
            check_payable(&two, 1, &[true, false], now()),
            Err(NotPayable::InProgress)
        );
        assert_eq!(check_payable(&two, 1, &[], now()), Ok(()));
        two.options[0].status = Paid;
        two.status = two.status_after_payment();
        assert_eq!(
            check_payable(&two, 1, &[], now()),
            Err(NotPayable::Cancelled),
            "once one is paid the other is cancelled"
        );
    }

    #[test]
    fn status_decides_first() {
        for (status, expected) in [
            (PositionStatus::Draft, Err(NotPayable::Unknown)),
            (PositionStatus::Invalid, Err(NotPayable::Cancelled)),
            (PositionStatus::Expired, Err(NotPayable::Expired)),
            (PositionStatus::Valid, Ok(())),
        ] {
            let mut p = plan(&[]);
            p.status = status;
            assert_eq!(check_payable(&p, 0, &[], now()), expected, "{status:?}");
        }
        // Published with a validity date still ahead: not payable yet.
        let mut p = plan(&[]);
        p.status = PositionStatus::Published;
        p.validity_date = Some(now() + days(1));
        assert_eq!(check_payable(&p, 0, &[], now()), Err(NotPayable::Unknown));
        assert_eq!(check_payable(&p, 0, &[], now() + days(2)), Ok(()));
    }

    #[test]
    fn late_payments_only_where_the_ente_accepts_them() {
        let mut p = plan(&[]);
        let late = now() + days(45);
        // The single payment was due at +30 days, the first installment at +60.
        assert_eq!(
            check_payable(&p, 0, &[], late),
            Ok(()),
            "accepted after the due date by default"
        );
        p.switch_to_expired = true;
        assert_eq!(check_payable(&p, 0, &[], late), Err(NotPayable::Expired));
        assert_eq!(check_payable(&p, 1, &[], late), Ok(()));
    }

    #[test]
    fn installments_follow_the_tipo_dovuto_s_scenario() {
        // Caso 1: the second installment only once the first is paid.
        let mut p = plan(&[]);
        p.installments = InstallmentMode::InOrder;
        assert!(matches!(
            check_payable(&p, 2, &[], now()),
            Err(NotPayable::Installment(
                InstallmentRefusal::OutOfOrder { .. }
            ))
        ));
        assert_eq!(check_payable(&p, 1, &[], now()), Ok(()));
        let mut p = plan(&[1]);
        p.status = PositionStatus::PartiallyPaid;
        p.installments = InstallmentMode::InOrder;
        assert_eq!(check_payable(&p, 2, &[], now()), Ok(()));
        // Caso 2: any installment, until the plan's end of validity.
        let mut p = plan(&[]);
        let until = now() + days(10);
        for o in p.options.iter_mut().skip(1) {
            o.retention_date = Some(until);
        }
        assert_eq!(check_payable(&p, 3, &[], now()), Ok(()));
        assert_eq!(
            check_payable(&p, 3, &[], now() + days(11)),
            Err(NotPayable::Installment(InstallmentRefusal::PastValidity(
                until
            )))
        );
        assert_eq!(
            check_payable(&p, 0, &[], now() + days(11)),
            Ok(()),
            "the single payment has its own dates"
        );
    }

    proptest! {
        /// Whatever is paid, a paid option is never payable again and at
        /// most one of the two alternatives stays payable.
        #[test]
        fn never_twice_never_both(paid in proptest::collection::btree_set(0usize..4, 0..4), index in 0usize..4) {
            let paid: Vec<usize> = paid.into_iter().collect();
            let mut p = plan(&paid);
            p.status = p.status_after_payment();
            let result = check_payable(&p, index, &[], now());
            if paid.contains(&index) {
                prop_assert_eq!(result, Err(NotPayable::AlreadyPaid));
            }
            let full_payable = check_payable(&p, 0, &[], now()).is_ok();
            let some_installment_payable = (1..4).any(|i| check_payable(&p, i, &[], now()).is_ok());
            prop_assert!(!(full_payable && some_installment_payable && !paid.is_empty()));
        }
    }
}
