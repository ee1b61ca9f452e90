//! One debt is paid once, also while payments are in progress: exclusive
//! options raced against each other, receipts of both ways, and the ente
//! changing a debt that is being paid.

use cassa_core::debt::{NotPayable, PositionStatus, Refusal};
use cassa_store::{
    ActivationRequest, PayRefusal, PositionChangeError, ReceiptOutcome, ReceiptStatus,
    StoredPosition,
};
use cassa_testkit::{Backend, backend_tests};
use jiff::{SignedDuration, Timestamp};

use crate::payments::{own, receipt};
use crate::{ACTOR, Fixture, draft, fixture, now, write};

backend_tests!(
    exclusive_options_raced_one_wins,
    receipts_of_both_ways_apply_one,
    a_debt_being_paid_cannot_change,
    a_receipt_after_a_change_is_an_anomaly,
    a_late_receipt_leaves_a_later_attempt_in_progress,
);

/// Two single payments (a discounted one, say) and a plan of two
/// installments: options 0 and 1 are single, 2 and 3 installments.
async fn two_ways(f: &Fixture, iupd: &str) -> StoredPosition {
    let mut d = draft(iupd, &[&[28_000], &[30_000], &[15_000], &[15_000]]);
    d.options[0].is_partial_payment = false;
    d.options[1].is_partial_payment = false;
    f.store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap()
}

fn activation<'a>(f: &Fixture, notice: &'a str, at: Timestamp) -> ActivationRequest<'a> {
    activation_of(f.ente.id, notice, at)
}

fn activation_of(ente_id: i64, notice: &str, at: Timestamp) -> ActivationRequest<'_> {
    ActivationRequest {
        ente_id,
        notice_number: notice,
        operation: "paGetPaymentV2",
        transfer_type: None,
        payment_note: None,
        stamps_allowed: true,
        validity: SignedDuration::from_mins(30),
        now: at,
    }
}

/// PSPs activate two options that exclude each other at the same moment,
/// many times over: exactly one activation wins each race, the others are
/// told a payment is in progress.
async fn exclusive_options_raced_one_wins(backend: Backend) {
    let f = fixture(backend).await;
    for (round, (a, b)) in [(0, 2), (2, 0), (0, 1), (3, 1)].into_iter().enumerate() {
        let p = two_ways(&f, &format!("RACE-{round}")).await;
        let mut tasks = Vec::new();
        for n in 0..12 {
            let notice = p.options[if n % 2 == 0 { a } else { b }]
                .notice_number
                .clone();
            let (store, ente_id) = (f.store.clone(), f.ente.id);
            tasks.push(tokio::spawn(async move {
                let request = activation_of(ente_id, &notice, now());
                store.activate_notice(&request).await.unwrap()
            }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => won += 1,
                Err(refusal) => assert_eq!(
                    refusal,
                    PayRefusal::NotPayable(NotPayable::InProgress),
                    "options {a} and {b}"
                ),
            }
        }
        assert_eq!(won, 1, "options {a} and {b}: one payment in progress");
    }
    // The installments of one plan go together.
    let p = two_ways(&f, "PLAN").await;
    for i in [2, 3] {
        let request = activation(&f, &p.options[i].notice_number, now());
        f.store.activate_notice(&request).await.unwrap().unwrap();
    }
}

/// Receipts of the single payment and of an installment arrive at once
/// (a stand-in PSP, a node gone wrong): one is applied, the other is kept
/// as superseded and pays nothing.
async fn receipts_of_both_ways_apply_one(backend: Backend) {
    let f = fixture(backend).await;
    for round in 0..4 {
        let p = two_ways(&f, &format!("BOTH-{round}")).await;
        let single = p.options[1].notice_number.clone();
        let installment = p.options[2].notice_number.clone();
        let (store_a, store_b) = (f.store.clone(), f.store.clone());
        let (id_a, id_b) = (
            format!("R-single-{round}"),
            format!("R-installment-{round}"),
        );
        let (ra, rb) = (
            receipt(&f, &id_a, &single, 30_000),
            receipt(&f, &id_b, &installment, 15_000),
        );
        let (ra, rb) = (own(ra), own(rb));
        let (a, b) = tokio::join!(
            tokio::spawn(async move { store_a.record_receipt(&ra.get()).await.unwrap() }),
            tokio::spawn(async move { store_b.record_receipt(&rb.get()).await.unwrap() }),
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let applied = outcomes
            .iter()
            .filter(|o| **o == ReceiptOutcome::Stored(ReceiptStatus::Applied))
            .count();
        let superseded = outcomes
            .iter()
            .filter(|o| **o == ReceiptOutcome::Stored(ReceiptStatus::Superseded))
            .count();
        assert_eq!((applied, superseded), (1, 1), "{outcomes:?}");
        let after = f.store.position(f.ente.id, &p.iupd).await.unwrap().unwrap();
        let paid: Vec<usize> = (0..4)
            .filter(|&i| after.options[i].status.is_paid())
            .collect();
        assert_eq!(paid.len(), 1, "one way paid: {paid:?}");
        let expected = if paid == [1] {
            PositionStatus::Paid
        } else {
            PositionStatus::PartiallyPaid
        };
        assert_eq!(after.status, expected);
    }
}

/// Update, delete and cancel wait while a notice of the debt is being
/// paid, and say which; once the payment's activation has run out they
/// work, and the record of the activation is kept.
async fn a_debt_being_paid_cannot_change(backend: Backend) {
    let f = fixture(backend).await;
    let p = two_ways(&f, "BUSY").await;
    let notice = p.options[2].notice_number.clone();
    f.store
        .activate_notice(&activation(&f, &notice, now()))
        .await
        .unwrap()
        .unwrap();
    let mut changed = draft("BUSY", &[&[29_000], &[31_000], &[16_000], &[15_000]]);
    changed.options[0].is_partial_payment = false;
    changed.options[1].is_partial_payment = false;
    let in_progress = |e: PositionChangeError| match e {
        PositionChangeError::PaymentInProgress(n) => assert_eq!(n, notice),
        other => panic!("{other:?}"),
    };
    in_progress(
        f.store
            .update_position(write(&f.ente, &changed, true))
            .await
            .unwrap_err(),
    );
    in_progress(
        f.store
            .delete_position(f.ente.id, "BUSY", ACTOR, now())
            .await
            .unwrap_err(),
    );
    in_progress(
        f.store
            .cancel_position(f.ente.id, "BUSY", ACTOR, "ritirato", now())
            .await
            .unwrap_err(),
    );
    let unchanged = f.store.position(f.ente.id, "BUSY").await.unwrap().unwrap();
    assert_eq!(unchanged.options[0].amount, p.options[0].amount);
    assert_eq!(unchanged.status, PositionStatus::Valid);

    let later = now() + SignedDuration::from_mins(31);
    let mut w = write(&f.ente, &changed, true);
    w.now = later;
    f.store.update_position(w).await.unwrap();
    f.store
        .delete_position(f.ente.id, "BUSY", ACTOR, later)
        .await
        .unwrap();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&f.db.url)
        .await
        .unwrap();
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM payment_activation WHERE notice_number = $1 AND option_id IS NULL",
    )
    .bind(&notice)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(kept, 1, "the activation outlives its option");
}

/// A receipt whose activation ran out before the ente changed the debt is
/// not lost and does not pay the changed debt: a cancelled debt stays
/// cancelled, a changed amount is a mismatch, a deleted one unknown.
async fn a_receipt_after_a_change_is_an_anomaly(backend: Backend) {
    let f = fixture(backend).await;
    let later = now() + SignedDuration::from_mins(31);
    let p = two_ways(&f, "GONE").await;
    let notice = p.options[1].notice_number.clone();
    f.store
        .activate_notice(&activation(&f, &notice, now()))
        .await
        .unwrap()
        .unwrap();
    f.store
        .cancel_position(f.ente.id, "GONE", ACTOR, "ritirato", later)
        .await
        .unwrap();
    let late = receipt(&f, "R-late", &notice, 30_000);
    assert_eq!(
        f.store.record_receipt(&late).await.unwrap(),
        ReceiptOutcome::Stored(ReceiptStatus::CancelledDebt)
    );
    let after = f.store.position(f.ente.id, "GONE").await.unwrap().unwrap();
    assert_eq!(after.status, PositionStatus::Invalid, "still cancelled");
    assert!(!after.options[1].status.is_paid());
    assert_eq!(
        f.store
            .invalidate_position(f.ente.id, "GONE", ACTOR, later)
            .await
            .unwrap_err()
            .to_string(),
        PositionChangeError::Refused(Refusal::NotInvalidable).to_string()
    );
}

/// The first attempt's activation ran out and a second attempt is paying
/// now: the first attempt's late KO receipt, or its anomalous one, does not
/// end the second attempt, which keeps blocking the other way of paying.
async fn a_late_receipt_leaves_a_later_attempt_in_progress(backend: Backend) {
    let f = fixture(backend).await;
    let p = two_ways(&f, "LATE").await;
    let single = p.options[1].notice_number.clone();
    let installment = p.options[2].notice_number.clone();
    f.store
        .activate_notice(&activation(&f, &single, now()))
        .await
        .unwrap()
        .unwrap();
    let second_try = now() + SignedDuration::from_mins(31);
    f.store
        .activate_notice(&activation(&f, &single, second_try))
        .await
        .unwrap()
        .unwrap();
    let mut failed = receipt(&f, "R-first-ko", &single, 30_000);
    failed.ok = false;
    failed.payment_date_time = Some(now() + SignedDuration::from_mins(5));
    failed.now = second_try + SignedDuration::from_mins(1);
    assert_eq!(
        f.store.record_receipt(&failed).await.unwrap(),
        ReceiptOutcome::Stored(ReceiptStatus::Ko)
    );
    let mut wrong = receipt(&f, "R-first-wrong", &single, 29_000);
    wrong.payment_date_time = Some(now() + SignedDuration::from_mins(6));
    wrong.now = second_try + SignedDuration::from_mins(1);
    assert_eq!(
        f.store.record_receipt(&wrong).await.unwrap(),
        ReceiptOutcome::Stored(ReceiptStatus::AmountMismatch)
    );
    let blocked = f
        .store
        .activate_notice(&activation(
            &f,
            &installment,
            second_try + SignedDuration::from_mins(2),
        ))
        .await
        .unwrap();
    assert_eq!(
        blocked.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::InProgress),
        "the second attempt is still in progress"
    );
}
