//! The payment rules under any interleaving of what the node, the ente and
//! time do to one position: activations, receipts (after their activation,
//! or stray ones), activations running out, updates and cancellations. The
//! model applies exactly the pure rules the store applies in its
//! transactions (`check_payable`, `classify_receipt`,
//! `check_no_payment_in_progress`, the lifecycle), one event at a time, as
//! the position's row lock serialises them.

use proptest::prelude::*;

use super::lifecycle::{Lifecycle, OptionLifecycle, check_no_payment_in_progress};
use super::payability::{check_payable, exclusive};
use super::receipt::{ReceiptStatus, classify_receipt};
use super::test_support::days;
use super::{InstallmentMode, OptionStatus, PositionStatus};

fn now() -> jiff::Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

#[derive(Clone, Debug)]
enum Event {
    /// The node activates option i (paGetPayment).
    Activate(usize),
    /// A receipt for option i: after an activation of it granted earlier,
    /// or (`stray`) without one, as a stand-in PSP or a buggy node might.
    Receipt { option: usize, stray: bool },
    /// Option i's activation runs out (the node's token expired).
    Expire(usize),
    /// The ente changes the position's amounts.
    Update,
    /// The ente cancels the position.
    Cancel,
}

fn event(options: usize) -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0..options).prop_map(Event::Activate),
        4 => (0..options, proptest::bool::weighted(0.2))
            .prop_map(|(option, stray)| Event::Receipt { option, stray }),
        1 => (0..options).prop_map(Event::Expire),
        1 => Just(Event::Update),
        1 => Just(Event::Cancel),
    ]
}

struct Model {
    position: Lifecycle,
    /// An open, unexpired activation per option.
    open: Vec<bool>,
    /// An activation granted and not yet answered by a receipt, with the
    /// amounts' version it was granted at.
    granted: Vec<Option<u32>>,
    amounts: u32,
    receipts: Vec<ReceiptStatus>,
    /// Something happened that lets a receipt meet a changed debt: an
    /// activation ran out, or a receipt came without one.
    irregular: bool,
}

impl Model {
    fn new(singles: usize, installments: usize, mode: InstallmentMode) -> Model {
        let options: Vec<OptionLifecycle> = (0..singles + installments)
            .map(|i| OptionLifecycle {
                due_date: now() + days(30 * (i as i64 + 1)),
                retention_date: None,
                valid_from: None,
                is_partial_payment: i >= singles,
                status: OptionStatus::Unpaid,
            })
            .collect();
        let n = options.len();
        Model {
            position: Lifecycle {
                status: PositionStatus::Valid,
                validity_date: None,
                switch_to_expired: false,
                options,
                installments: mode,
            },
            open: vec![false; n],
            granted: vec![None; n],
            amounts: 0,
            receipts: Vec::new(),
            irregular: false,
        }
    }

    fn apply(&mut self, event: &Event) {
        match *event {
            Event::Activate(i) => {
                if check_payable(&self.position, i, &self.open, now()).is_ok() {
                    self.open[i] = true;
                    self.granted[i] = Some(self.amounts);
                }
            }
            Event::Receipt { option, stray } => {
                let granted = self.granted[option].take();
                if granted.is_none() && !stray {
                    return;
                }
                self.irregular |= granted.is_none();
                let matches = granted.is_none_or(|v| v == self.amounts);
                let status = classify_receipt(&self.position, option, true, matches);
                if status == ReceiptStatus::Applied {
                    self.position.options[option].status = OptionStatus::Paid;
                    self.position.status = self.position.status_after_payment();
                }
                self.open[option] = false;
                self.receipts.push(status);
            }
            Event::Expire(i) => {
                if self.open[i] {
                    self.open[i] = false;
                    self.irregular = true;
                }
            }
            Event::Update => {
                if check_no_payment_in_progress(&self.open).is_ok()
                    && self.position.check_update(now()).is_ok()
                {
                    self.amounts += 1;
                }
            }
            Event::Cancel => {
                if check_no_payment_in_progress(&self.open).is_ok()
                    && let Ok(status) = self.position.invalidate(now())
                {
                    self.position.status = status;
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// At most one way of paying the debt is ever applied, each receipt
    /// is applied once or kept as an anomaly, and when the node plays by
    /// the rules (every receipt follows its own activation, in time) no
    /// receipt is ever an anomaly: a payment in progress excludes its
    /// alternatives and freezes the debt until it ends.
    #[test]
    fn one_way_paid_every_receipt_accounted(
        (singles, installments, in_order, events) in (1usize..=2, 0usize..=3, any::<bool>())
            .prop_flat_map(|(s, i, o)| {
                (Just(s), Just(i), Just(o), proptest::collection::vec(event(s + i), 1..40))
            })
    ) {
        let mode = if in_order { InstallmentMode::InOrder } else { InstallmentMode::Together };
        let mut model = Model::new(singles, installments, mode);
        for e in &events {
            model.apply(e);
            let options = &model.position.options;
            let paid: Vec<usize> = (0..options.len()).filter(|&i| options[i].status.is_paid()).collect();
            for &a in &paid {
                for &b in &paid {
                    prop_assert!(a == b || !exclusive(&options[a], &options[b]),
                        "options {a} and {b} both paid after {events:?}");
                }
            }
            let applied = model.receipts.iter().filter(|r| **r == ReceiptStatus::Applied).count();
            prop_assert_eq!(applied, paid.len(), "one applied receipt per paid option");
            if !model.irregular {
                prop_assert!(
                    model.receipts.iter().all(|r| !r.is_anomaly()),
                    "{:?} after {:?}", model.receipts, events
                );
            }
        }
    }
}
