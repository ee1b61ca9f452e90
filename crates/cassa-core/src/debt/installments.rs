//! Which installments of a plan may be paid now, and together: the two
//! scenarios the portal's rateizzazione offers, chosen per tipo dovuto.
//! The same rules hold on the portal, at a PSP (the node) and from the
//! ente's software. Paying the single payment or the plan cancels the other
//! (see `check_payable`); this module orders the installments among
//! themselves.

use jiff::Timestamp;

/// How a plan's installments may be paid.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstallmentMode {
    /// Caso 1: one at a time, in order, each from the start of its window.
    InOrder,
    /// Caso 2: several (not necessarily all) together, until the plan's end
    /// of validity, which may differ from the due dates shown.
    Together,
}

impl InstallmentMode {
    pub const ALL: [InstallmentMode; 2] = [InstallmentMode::InOrder, InstallmentMode::Together];

    pub fn code(self) -> &'static str {
        match self {
            InstallmentMode::InOrder => "in_order",
            InstallmentMode::Together => "together",
        }
    }

    pub fn parse(code: &str) -> Option<InstallmentMode> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// One installment as these rules see it, in the plan's order (by due date).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Installment {
    pub due_date: Timestamp,
    /// The start of its window: not payable before this.
    pub valid_from: Option<Timestamp>,
    pub paid: bool,
}

/// Why a choice of installments cannot be paid, naming the installment.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstallmentRefusal {
    #[error("no installment was chosen")]
    NoneChosen,
    #[error("installment {0} is not in the plan")]
    Unknown(usize),
    #[error("installment {0} is chosen twice")]
    Repeated(usize),
    #[error("installment {0} is already paid")]
    AlreadyPaid(usize),
    #[error("installment {index} can be paid from {opens}")]
    NotYetOpen { index: usize, opens: Timestamp },
    #[error("installment {index} comes after installment {first_unpaid}, still unpaid")]
    OutOfOrder { index: usize, first_unpaid: usize },
    #[error("installments are paid one at a time; installment {0} must be paid alone")]
    OneAtATime(usize),
    #[error("the plan could be paid until {0}")]
    PastValidity(Timestamp),
}

/// Checks that the installments `chosen` (indexes into `plan`) may be paid
/// together at `now`. `valid_until`: the plan's end of validity (Caso 2).
pub fn check_installments(
    plan: &[Installment],
    chosen: &[usize],
    mode: InstallmentMode,
    valid_until: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), InstallmentRefusal> {
    if chosen.is_empty() {
        return Err(InstallmentRefusal::NoneChosen);
    }
    for (k, &index) in chosen.iter().enumerate() {
        let installment = plan.get(index).ok_or(InstallmentRefusal::Unknown(index))?;
        if chosen[..k].contains(&index) {
            return Err(InstallmentRefusal::Repeated(index));
        }
        if installment.paid {
            return Err(InstallmentRefusal::AlreadyPaid(index));
        }
    }
    match mode {
        InstallmentMode::InOrder => {
            if let [_, second, ..] = chosen {
                return Err(InstallmentRefusal::OneAtATime(*second));
            }
            let index = chosen[0];
            let first_unpaid = plan.iter().position(|i| !i.paid).unwrap_or(index);
            if index != first_unpaid {
                return Err(InstallmentRefusal::OutOfOrder {
                    index,
                    first_unpaid,
                });
            }
        }
        InstallmentMode::Together => {
            if let Some(until) = valid_until
                && now > until
            {
                return Err(InstallmentRefusal::PastValidity(until));
            }
        }
    }
    // In either scenario an installment with a window is not payable
    // before the window opens.
    for &index in chosen {
        if let Some(opens) = plan[index].valid_from
            && now < opens
        {
            return Err(InstallmentRefusal::NotYetOpen { index, opens });
        }
    }
    Ok(())
}

/// The installments that may be paid now, as the portal offers them: the
/// next one in order (Caso 1), or every unpaid one (Caso 2).
pub fn payable_now(
    plan: &[Installment],
    mode: InstallmentMode,
    valid_until: Option<Timestamp>,
    now: Timestamp,
) -> Vec<usize> {
    let unpaid = (0..plan.len()).filter(|&i| !plan[i].paid);
    match mode {
        InstallmentMode::InOrder => unpaid
            .take(1)
            .filter(|&i| check_installments(plan, &[i], mode, valid_until, now).is_ok())
            .collect(),
        InstallmentMode::Together => unpaid
            .filter(|&i| check_installments(plan, &[i], mode, valid_until, now).is_ok())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::InstallmentMode::{InOrder, Together};
    use super::*;
    use crate::debt::test_support::days;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2027-01-10T10:00:00Z".parse().unwrap()
    }

    /// Three installments due a month apart; each window opens a month
    /// before its due date.
    fn plan(paid: &[usize]) -> Vec<Installment> {
        (0..3)
            .map(|i| {
                let due_date = now() + days(20 + 30 * i as i64);
                Installment {
                    due_date,
                    valid_from: Some(due_date - days(30)),
                    paid: paid.contains(&i),
                }
            })
            .collect()
    }

    #[test]
    fn in_order_one_at_a_time_from_its_window() {
        let p = plan(&[]);
        assert_eq!(check_installments(&p, &[0], InOrder, None, now()), Ok(()));
        assert_eq!(
            check_installments(&p, &[1], InOrder, None, now()),
            Err(InstallmentRefusal::OutOfOrder {
                index: 1,
                first_unpaid: 0
            })
        );
        assert_eq!(
            check_installments(&p, &[0, 1], InOrder, None, now()),
            Err(InstallmentRefusal::OneAtATime(1))
        );
        let p = plan(&[0]);
        assert_eq!(
            check_installments(&p, &[1], InOrder, None, now()),
            Err(InstallmentRefusal::NotYetOpen {
                index: 1,
                opens: p[1].valid_from.unwrap()
            }),
            "its window opens in 20 days"
        );
        assert_eq!(
            check_installments(&p, &[1], InOrder, None, now() + days(20)),
            Ok(())
        );
        assert_eq!(payable_now(&p, InOrder, None, now()), Vec::<usize>::new());
        assert_eq!(payable_now(&p, InOrder, None, now() + days(25)), [1]);
    }

    #[test]
    fn together_any_unpaid_until_the_end_of_validity() {
        let mut p = plan(&[1]);
        assert_eq!(
            check_installments(&p, &[0, 2], Together, None, now()),
            Err(InstallmentRefusal::NotYetOpen {
                index: 2,
                opens: p[2].valid_from.unwrap()
            }),
            "a window holds in Caso 2 too"
        );
        for installment in &mut p {
            installment.valid_from = None;
        }
        let until = now() + days(5);
        assert_eq!(
            check_installments(&p, &[2, 0], Together, Some(until), now()),
            Ok(())
        );
        assert_eq!(
            check_installments(&p, &[0, 1], Together, Some(until), now()),
            Err(InstallmentRefusal::AlreadyPaid(1))
        );
        assert_eq!(
            check_installments(&p, &[0], Together, Some(until), now() + days(6)),
            Err(InstallmentRefusal::PastValidity(until))
        );
        assert_eq!(payable_now(&p, Together, Some(until), now()), [0, 2]);
        assert_eq!(
            check_installments(&p, &[], Together, None, now()),
            Err(InstallmentRefusal::NoneChosen)
        );
        assert_eq!(
            check_installments(&p, &[0, 0], Together, None, now()),
            Err(InstallmentRefusal::Repeated(0))
        );
        assert_eq!(
            check_installments(&p, &[7], Together, None, now()),
            Err(InstallmentRefusal::Unknown(7))
        );
    }

    #[test]
    fn modes_have_codes() {
        for mode in InstallmentMode::ALL {
            assert_eq!(InstallmentMode::parse(mode.code()), Some(mode));
        }
        assert_eq!(InstallmentMode::parse("other"), None);
    }

    proptest! {
        /// Whatever the mode and the clock, what the portal offers is
        /// accepted, and paying what is offered, again and again while time
        /// passes, settles the whole plan in order (Caso 1) or at once.
        #[test]
        fn what_is_offered_is_accepted_and_settles_the_plan(
            paid in proptest::collection::vec(any::<bool>(), 1..8),
            together in any::<bool>(),
            step_days in 1i64..40,
        ) {
            let mode = if together { Together } else { InOrder };
            let mut p: Vec<Installment> = paid
                .iter()
                .enumerate()
                .map(|(i, &paid)| {
                    let due_date = now() + days(30 * i as i64);
                    Installment { due_date, valid_from: Some(due_date - days(30)), paid }
                })
                .collect();
            let mut clock = now();
            for _ in 0..200 {
                let offered = payable_now(&p, mode, None, clock);
                if !offered.is_empty() {
                    prop_assert_eq!(check_installments(&p, &offered, mode, None, clock), Ok(()));
                    if mode == InOrder {
                        prop_assert_eq!(offered.len(), 1);
                        prop_assert!(p[..offered[0]].iter().all(|i| i.paid), "in order");
                    }
                    for i in offered {
                        p[i].paid = true;
                    }
                }
                if p.iter().all(|i| i.paid) {
                    break;
                }
                clock += days(step_days);
            }
            prop_assert!(p.iter().all(|i| i.paid));
        }

        /// In Caso 2 a choice is refused only for a reason that holds.
        #[test]
        fn together_refuses_only_for_a_reason(
            paid in proptest::collection::vec(any::<bool>(), 1..8),
            chosen in proptest::collection::vec(0usize..10, 0..6),
            late in any::<bool>(),
        ) {
            let p: Vec<Installment> = paid
                .iter()
                .map(|&paid| Installment { due_date: now(), valid_from: None, paid })
                .collect();
            let until = now() + days(1);
            let at = if late { now() + days(2) } else { now() };
            let fine = !chosen.is_empty()
                && chosen.iter().all(|&i| i < p.len() && !p[i].paid)
                && chosen.iter().enumerate().all(|(k, i)| !chosen[..k].contains(i))
                && !late;
            prop_assert_eq!(
                check_installments(&p, &chosen, Together, Some(until), at).is_ok(),
                fine
            );
        }
    }
}
