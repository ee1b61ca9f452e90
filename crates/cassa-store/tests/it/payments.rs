//! Payments through the node: verify, activation, receipts.

use cassa_core::Cents;
use cassa_core::debt::{
    InstallmentMode, InstallmentRefusal, NotPayable, OptionStatus, PositionStatus,
};
use cassa_store::{
    ActivationRequest, NewReceipt, PayRefusal, ReceiptOutcome, ReceiptStatus, StoredPosition,
};
use cassa_testkit::{Backend, backend_tests};
use jiff::{SignedDuration, Timestamp};

use crate::{Fixture, draft, fixture, now, write};

backend_tests!(
    verify_and_activate_follow_the_rules,
    two_activations_at_once_one_wins,
    receipts_apply_once_and_anomalies_are_kept,
    concurrent_receipts_pay_once,
    installments_exclude_the_single_payment,
    installments_follow_the_tipo_dovuto_s_scenario,
    an_installment_is_not_payable_before_its_window,
);

/// A published position: the single payment then two installments.
async fn plan(f: &Fixture, iupd: &str) -> StoredPosition {
    let mut d = draft(iupd, &[&[30_000], &[15_000], &[15_000]]);
    d.options[0].is_partial_payment = false;
    f.store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap()
}

fn activation<'a>(f: &Fixture, notice: &'a str, at: Timestamp) -> ActivationRequest<'a> {
    ActivationRequest {
        ente_id: f.ente.id,
        notice_number: notice,
        operation: "paGetPaymentV2",
        transfer_type: None,
        payment_note: None,
        stamps_allowed: true,
        validity: SignedDuration::from_mins(30),
        now: at,
    }
}

pub(crate) fn receipt<'a>(f: &Fixture, id: &'a str, notice: &'a str, cents: i64) -> NewReceipt<'a> {
    NewReceipt {
        ente_id: f.ente.id,
        receipt_id: id,
        notice_number: notice,
        ok: true,
        amount: Cents::new(cents),
        fee: Some(Cents::new(100)),
        psp_id: "BCITITMM",
        psp_company_name: "Intesa Sanpaolo",
        channel_id: "00799960158_01",
        payment_method: Some("creditCard"),
        payer_fiscal_code: Some("RSSMRA85T10A562S"),
        payer_name: Some("Mario Rossi"),
        payer_email: Some("mario.rossi@example.org"),
        debtor_email: None,
        payment_note: None,
        payment_date_time: Some(now()),
        application_date: Some("2026-11-23"),
        transfer_date: Some("2026-11-24"),
        operation: "paSendRTV2",
        raw_xml: "<receipt/>",
        now: now(),
    }
}

async fn verify_and_activate_follow_the_rules(backend: Backend) {
    let f = fixture(backend).await;
    let p = plan(&f, "P1").await;
    let notice = p.options[0].notice_number.clone();
    let found = f
        .store
        .verify_notice(f.ente.id, &notice, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.option().amount, Cents::new(30_000));
    assert_eq!(
        f.store
            .verify_notice(f.ente.id, "302999999999999999", now())
            .await
            .unwrap()
            .unwrap_err(),
        PayRefusal::UnknownNotice
    );
    // Another ente's notice is unknown here.
    assert!(
        f.store
            .verify_notice(f.ente.id + 1, &notice, now())
            .await
            .unwrap()
            .is_err()
    );

    let draft_position = f
        .store
        .create_position(write(&f.ente, &draft("D1", &[&[100]]), false))
        .await
        .unwrap();
    let refusal = f
        .store
        .verify_notice(f.ente.id, &draft_position.options[0].notice_number, now())
        .await
        .unwrap();
    assert_eq!(
        refusal.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::Unknown)
    );

    f.store
        .activate_notice(&activation(&f, &notice, now()))
        .await
        .unwrap()
        .unwrap();
    let again = f
        .store
        .activate_notice(&activation(&f, &notice, now()))
        .await
        .unwrap();
    assert_eq!(
        again.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::InProgress)
    );
    let verify_now = f
        .store
        .verify_notice(f.ente.id, &notice, now())
        .await
        .unwrap();
    assert_eq!(
        verify_now.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::InProgress)
    );
    // Once the activation has lapsed, the notice can be activated again.
    let later = now() + SignedDuration::from_mins(31);
    f.store
        .activate_notice(&activation(&f, &notice, later))
        .await
        .unwrap()
        .unwrap();

    // Cancelled once nobody is paying it any more.
    let after = later + SignedDuration::from_mins(31);
    f.store
        .invalidate_position(f.ente.id, "P1", crate::ACTOR, after)
        .await
        .unwrap();
    let cancelled = f
        .store
        .verify_notice(f.ente.id, &p.options[1].notice_number, after)
        .await
        .unwrap();
    assert_eq!(
        cancelled.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::Cancelled)
    );
}

async fn two_activations_at_once_one_wins(backend: Backend) {
    let f = fixture(backend).await;
    let p = plan(&f, "P1").await;
    let notice = p.options[0].notice_number.clone();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, ente_id, notice) = (f.store.clone(), f.ente.id, notice.clone());
        tasks.push(tokio::spawn(async move {
            let request = ActivationRequest {
                ente_id,
                notice_number: &notice,
                operation: "paGetPaymentV2",
                transfer_type: None,
                payment_note: None,
                stamps_allowed: true,
                validity: SignedDuration::from_mins(30),
                now: now(),
            };
            store.activate_notice(&request).await.unwrap().is_ok()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one activation succeeds");
}

async fn receipts_apply_once_and_anomalies_are_kept(backend: Backend) {
    let f = fixture(backend).await;
    let p = plan(&f, "P1").await;
    let notice = p.options[0].notice_number.clone();
    f.store
        .activate_notice(&activation(&f, &notice, now()))
        .await
        .unwrap()
        .unwrap();

    let first = f
        .store
        .record_receipt(&receipt(&f, "R1", &notice, 30_000))
        .await
        .unwrap();
    assert_eq!(first, ReceiptOutcome::Stored(ReceiptStatus::Applied));
    let paid = f.store.position(f.ente.id, "P1").await.unwrap().unwrap();
    assert_eq!(paid.status, PositionStatus::Paid);
    assert_eq!(paid.options[0].status, OptionStatus::Paid);
    assert_eq!(paid.options[0].id_receipt.as_deref(), Some("R1"));
    assert_eq!(
        paid.options[0].psp_company.as_deref(),
        Some("Intesa Sanpaolo")
    );

    // The node retries: acknowledged, nothing counted twice.
    let again = f
        .store
        .record_receipt(&receipt(&f, "R1", &notice, 30_000))
        .await
        .unwrap();
    assert_eq!(again, ReceiptOutcome::AlreadyStored(ReceiptStatus::Applied));
    // Another PSP's receipt for the paid option: kept as an anomaly.
    let double = f
        .store
        .record_receipt(&receipt(&f, "R2", &notice, 30_000))
        .await
        .unwrap();
    assert_eq!(double, ReceiptOutcome::Stored(ReceiptStatus::DoublePayment));
    let unknown = f
        .store
        .record_receipt(&receipt(&f, "R3", "302000000999999999", 100))
        .await
        .unwrap();
    assert_eq!(
        unknown,
        ReceiptOutcome::Stored(ReceiptStatus::UnknownNotice)
    );

    let stored = f
        .store
        .receipts_of_notice(f.ente.id, &notice)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].status, ReceiptStatus::Applied);
    assert_eq!(stored[0].raw_xml, "<receipt/>");
    assert!(stored[1].status.is_anomaly());
    // By position: the same two, not the one for a notice nobody issued.
    let by_position = f.store.receipts_of_position(f.ente.id, p.id).await.unwrap();
    let ids = |r: &[cassa_store::StoredReceipt]| r.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(&by_position), ids(&stored));

    // A KO receipt and a wrong amount change nothing but are kept.
    let other = plan(&f, "P2").await;
    let notice = other.options[0].notice_number.clone();
    let mut ko = receipt(&f, "R4", &notice, 30_000);
    ko.ok = false;
    assert_eq!(
        f.store.record_receipt(&ko).await.unwrap(),
        ReceiptOutcome::Stored(ReceiptStatus::Ko)
    );
    let wrong = f
        .store
        .record_receipt(&receipt(&f, "R5", &notice, 29_999))
        .await
        .unwrap();
    assert_eq!(wrong, ReceiptOutcome::Stored(ReceiptStatus::AmountMismatch));
    let untouched = f.store.position(f.ente.id, "P2").await.unwrap().unwrap();
    assert_eq!(untouched.options[0].status, OptionStatus::Unpaid);
}

async fn concurrent_receipts_pay_once(backend: Backend) {
    let f = fixture(backend).await;
    let p = plan(&f, "P1").await;
    let notice = p.options[0].notice_number.clone();
    let mut tasks = Vec::new();
    for n in 0..6 {
        let (store, ente_id, notice) = (f.store.clone(), f.ente.id, notice.clone());
        tasks.push(tokio::spawn(async move {
            // Three receipts, each delivered twice at once.
            let r = OwnedReceipt {
                id: format!("R{}", n % 3),
                notice,
                amount: 30_000,
                ente_id,
            };
            store.record_receipt(&r.get()).await.unwrap()
        }));
    }
    let mut applied = 0;
    for t in tasks {
        if t.await.unwrap() == ReceiptOutcome::Stored(ReceiptStatus::Applied) {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    let stored = f
        .store
        .receipts_of_notice(f.ente.id, &notice)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3, "each receipt id stored once");
    assert_eq!(
        stored
            .iter()
            .filter(|r| r.status == ReceiptStatus::Applied)
            .count(),
        1
    );
}

async fn installments_exclude_the_single_payment(backend: Backend) {
    let f = fixture(backend).await;
    let p = plan(&f, "P1").await;
    let first_installment = p.options[1].notice_number.clone();
    let r = receipt(&f, "R1", &first_installment, 15_000);
    assert_eq!(
        f.store.record_receipt(&r).await.unwrap(),
        ReceiptOutcome::Stored(ReceiptStatus::Applied)
    );
    let position = f.store.position(f.ente.id, "P1").await.unwrap().unwrap();
    assert_eq!(position.status, PositionStatus::PartiallyPaid);
    let full = f
        .store
        .verify_notice(f.ente.id, &p.options[0].notice_number, now())
        .await
        .unwrap();
    assert_eq!(
        full.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::Cancelled)
    );
    f.store
        .verify_notice(f.ente.id, &p.options[2].notice_number, now())
        .await
        .unwrap()
        .unwrap();
    let second = receipt(&f, "R2", &p.options[2].notice_number, 15_000);
    f.store.record_receipt(&second).await.unwrap();
    let position = f.store.position(f.ente.id, "P1").await.unwrap().unwrap();
    assert_eq!(position.status, PositionStatus::Paid);
}

/// Caso 1 for a tipo dovuto: the second installment only after the first;
/// Caso 2 (the default): any installment, until the plan's end of validity.
async fn installments_follow_the_tipo_dovuto_s_scenario(backend: Backend) {
    let f = fixture(backend).await;
    let mut new = crate::tipo_dovuto("RATE");
    new.installment_mode = InstallmentMode::InOrder;
    let tipo = f
        .store
        .create_tipo_dovuto(f.ente.id, &new, "test", now())
        .await
        .unwrap();
    assert_eq!(tipo.installment_mode, InstallmentMode::InOrder);
    let mut d = draft("ORD", &[&[30_000], &[15_000], &[15_000]]);
    d.options[0].is_partial_payment = false;
    let mut w = write(&f.ente, &d, true);
    w.tipo_dovuto_id = Some(tipo.id);
    let p = f.store.create_position(w).await.unwrap();
    let second = f
        .store
        .verify_notice(f.ente.id, &p.options[2].notice_number, now())
        .await
        .unwrap();
    assert!(
        matches!(
            second,
            Err(PayRefusal::NotPayable(NotPayable::Installment(
                InstallmentRefusal::OutOfOrder { .. }
            )))
        ),
        "{second:?}"
    );
    let refused = f
        .store
        .activate_notice(&activation(&f, &p.options[2].notice_number, now()))
        .await
        .unwrap();
    assert!(refused.is_err(), "no activation out of order");
    let first = &p.options[1].notice_number;
    assert!(
        f.store
            .verify_notice(f.ente.id, first, now())
            .await
            .unwrap()
            .is_ok()
    );
    let r = receipt(&f, "R-ORD-1", first, 15_000);
    f.store.record_receipt(&r).await.unwrap();
    assert!(
        f.store
            .verify_notice(f.ente.id, &p.options[2].notice_number, now())
            .await
            .unwrap()
            .is_ok(),
        "the second once the first is paid"
    );

    // Caso 2: every installment, until the end of validity (retention date).
    let mut d = draft("TOG", &[&[30_000], &[15_000], &[15_000]]);
    d.options[0].is_partial_payment = false;
    // After the last due date, as GPD wants of a retention date.
    let until = now() + SignedDuration::from_hours(24 * 90);
    for o in d.options.iter_mut().skip(1) {
        o.retention_date = Some(until);
    }
    let p = f
        .store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap();
    let last = &p.options[2].notice_number;
    assert!(
        f.store
            .verify_notice(f.ente.id, last, now())
            .await
            .unwrap()
            .is_ok()
    );
    let late = f
        .store
        .verify_notice(f.ente.id, last, until + SignedDuration::from_hours(1))
        .await
        .unwrap();
    assert_eq!(
        late.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::Installment(InstallmentRefusal::PastValidity(
            until
        )))
    );
}

async fn an_installment_is_not_payable_before_its_window(backend: Backend) {
    let f = fixture(backend).await;
    let mut d = draft("WIN", &[&[30_000], &[15_000], &[15_000]]);
    d.options[0].is_partial_payment = false;
    let opens = d.options[2].due_date - SignedDuration::from_hours(24);
    d.options[2].valid_from = Some(opens);
    let p = f
        .store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap();
    assert_eq!(p.options[2].valid_from, Some(opens), "stored");
    let read = f.store.position(f.ente.id, "WIN").await.unwrap().unwrap();
    assert_eq!(read.options[2].valid_from, Some(opens), "read back");
    assert_eq!(read.options[1].valid_from, None);
    let second = &p.options[2].notice_number;
    let early = f
        .store
        .verify_notice(f.ente.id, second, now())
        .await
        .unwrap();
    assert_eq!(
        early.unwrap_err(),
        PayRefusal::NotPayable(NotPayable::Installment(InstallmentRefusal::NotYetOpen {
            index: 1,
            opens
        }))
    );
    let refused = f
        .store
        .activate_notice(&activation(&f, second, now()))
        .await
        .unwrap();
    assert!(refused.is_err(), "no activation before the window");
    let payability = f.store.payability(&p, now()).await.unwrap();
    assert_eq!(
        payability.iter().map(Result::is_ok).collect::<Vec<_>>(),
        [true, true, false],
        "the single payment and the first installment, not the second yet"
    );
    let at_opening = opens + SignedDuration::from_secs(1);
    assert!(
        f.store
            .verify_notice(f.ente.id, second, at_opening)
            .await
            .unwrap()
            .is_ok()
    );
}

/// A receipt owned by its task.
pub(crate) struct OwnedReceipt {
    pub(crate) id: String,
    pub(crate) notice: String,
    pub(crate) amount: i64,
    pub(crate) ente_id: i64,
}

pub(crate) fn own(r: cassa_store::NewReceipt<'_>) -> OwnedReceipt {
    OwnedReceipt {
        id: r.receipt_id.to_owned(),
        notice: r.notice_number.to_owned(),
        amount: r.amount.get(),
        ente_id: r.ente_id,
    }
}

impl OwnedReceipt {
    pub(crate) fn get(&self) -> cassa_store::NewReceipt<'_> {
        cassa_store::NewReceipt {
            ente_id: self.ente_id,
            receipt_id: &self.id,
            notice_number: &self.notice,
            ok: true,
            amount: cassa_core::Cents::new(self.amount),
            fee: None,
            psp_id: "PSP",
            psp_company_name: "PSP",
            channel_id: "C",
            payment_method: None,
            payer_fiscal_code: None,
            payer_name: None,
            payer_email: None,
            debtor_email: None,
            payment_note: None,
            payment_date_time: None,
            application_date: None,
            transfer_date: None,
            operation: "paSendRTV2",
            raw_xml: "<r/>",
            now: now(),
        }
    }
}
