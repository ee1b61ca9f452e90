//! Paying a cart through Checkout, and the e-mail outbox.

use cassa_core::debt::NotPayable;
use cassa_store::{CartError, CheckoutRefusal, CheckoutState, ItemProblem, MailKind};
use cassa_testkit::{Backend, backend_tests};
use jiff::SignedDuration;

use crate::payments::receipt;
use crate::{Fixture, draft, fixture, now, write};

backend_tests!(
    a_checkout_freezes_the_cart_and_refuses_what_cannot_be_paid,
    each_receipt_queues_one_mail_and_each_cart_one_resume_link,
    mails_are_leased_retried_and_given_up,
);

const CART: &str = "0123456789abcdef0123456789abcdef";

async fn publish(f: &Fixture, iupd: &str, cents: i64) -> String {
    let position = f
        .store
        .create_position(write(&f.ente, &draft(iupd, &[&[cents]]), true))
        .await
        .unwrap();
    position.options[0].notice_number.clone()
}

async fn a_checkout_freezes_the_cart_and_refuses_what_cannot_be_paid(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let first = publish(&f, "CO-1", 1_500).await;
    let second = publish(&f, "CO-2", 2_500).await;
    let refused = store
        .start_checkout(CART, "k1", "it", None, now())
        .await
        .unwrap();
    assert_eq!(refused.unwrap_err(), CheckoutRefusal::NoCart);
    for notice in [&first, &second] {
        store
            .add_to_cart(CART, f.ente.id, notice, None, "it", now())
            .await
            .unwrap();
    }
    let refused = store
        .start_checkout(CART, "k1", "it", None, now())
        .await
        .unwrap();
    assert_eq!(refused.unwrap_err(), CheckoutRefusal::NoEmail);
    assert!(
        store
            .set_cart_contact(
                CART,
                "anna@example.org",
                Some(("Anna Bianchi", "BNCNNA80A41F205X")),
                now()
            )
            .await
            .unwrap()
    );
    let cart = store.cart(CART).await.unwrap().unwrap();
    assert_eq!(cart.payer_name.as_deref(), Some("Anna Bianchi"));
    assert!(!cart.items[0].debtor_fiscal_code.is_empty());

    // Paid at a PSP meanwhile: the whole cart stops, naming that notice.
    store
        .record_receipt(&receipt(&f, "rt-elsewhere", &second, 2_500))
        .await
        .unwrap();
    let refused = store
        .start_checkout(CART, "k1", "it", None, now())
        .await
        .unwrap();
    assert_eq!(
        refused.unwrap_err(),
        CheckoutRefusal::Items(vec![(
            second.clone(),
            ItemProblem::NotPayable(NotPayable::AlreadyPaid)
        )])
    );
    assert!(store.checkout("k1").await.unwrap().is_none());

    let item = cart
        .items
        .iter()
        .find(|i| i.notice_number == second)
        .unwrap();
    assert!(store.remove_from_cart(CART, item.id).await.unwrap());
    let checkout = store
        .start_checkout(CART, "k1", "en", None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checkout.state, CheckoutState::Created);
    assert_eq!(checkout.email, "anna@example.org");
    assert_eq!(checkout.lang, "en");
    assert_eq!(checkout.total().get(), 1_500);
    assert_eq!(checkout.items[0].notice_number, first);
    assert_eq!(checkout.items[0].ente_fiscal_code, f.ente.fiscal_code);

    store
        .checkout_redirected("k1", "http://checkout.test/c/1", now())
        .await
        .unwrap();
    assert!(
        store
            .checkout_returned("k1", CheckoutState::Ok, now())
            .await
            .unwrap()
    );
    // The first outcome counts; the cart is closed to further changes.
    assert!(
        !store
            .checkout_returned("k1", CheckoutState::Cancelled, now())
            .await
            .unwrap()
    );
    let checkout = store.checkout("k1").await.unwrap().unwrap();
    assert_eq!(checkout.state, CheckoutState::Ok);
    assert_eq!(
        checkout.checkout_url.as_deref(),
        Some("http://checkout.test/c/1")
    );
    assert_eq!(
        store.cart(CART).await.unwrap().unwrap().status,
        cassa_store::CartStatus::Closed
    );
    assert_eq!(
        store.cart_size(CART).await.unwrap(),
        0,
        "a paid cart is no longer counted"
    );
    let third = publish(&f, "CO-3", 500).await;
    let closed = store
        .add_to_cart(CART, f.ente.id, &third, None, "it", now())
        .await;
    assert!(matches!(closed, Err(CartError::NotOpen)), "{closed:?}");
    let refused = store
        .start_checkout(CART, "k2", "it", None, now())
        .await
        .unwrap();
    assert_eq!(refused.unwrap_err(), CheckoutRefusal::NotOpen);
}

async fn each_receipt_queues_one_mail_and_each_cart_one_resume_link(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let in_cart = publish(&f, "M-1", 1_000).await;
    let also_in_cart = publish(&f, "M-2", 2_000).await;
    let at_psp = publish(&f, "M-3", 3_000).await;
    for notice in [&in_cart, &also_in_cart] {
        store
            .add_to_cart(
                CART,
                f.ente.id,
                notice,
                Some("cart@example.org"),
                "en",
                now(),
            )
            .await
            .unwrap();
    }
    let mails = store.outbox_mails(10).await.unwrap();
    assert_eq!(mails.len(), 1, "one resume link per cart: {mails:?}");
    assert_eq!(mails[0].kind, MailKind::CartResume);
    assert_eq!(mails[0].recipient, "cart@example.org");
    assert_eq!(mails[0].payload, CART);
    assert_eq!(mails[0].lang, "en");

    store
        .set_cart_contact(CART, "paid@example.org", None, now())
        .await
        .unwrap();
    store
        .start_checkout(CART, "k1", "en", None, now())
        .await
        .unwrap()
        .unwrap();
    // Checkout activates with our idCart as paymentNote; its RT carries
    // no payer address: the checkout that paid is found by the note.
    let activation = cassa_store::ActivationRequest {
        ente_id: f.ente.id,
        notice_number: &in_cart,
        operation: "paGetPaymentV2",
        transfer_type: None,
        payment_note: Some("k1"),
        stamps_allowed: true,
        validity: SignedDuration::from_mins(30),
        now: now(),
    };
    store.activate_notice(&activation).await.unwrap().unwrap();
    let mut from_checkout = receipt(&f, "rt-cart", &in_cart, 1_000);
    from_checkout.payer_email = None;
    // Delivered twice, queued once; to the checkout's address.
    for _ in 0..2 {
        store.record_receipt(&from_checkout).await.unwrap();
    }
    // Paid at a PSP: to the payer's address in the RT.
    store
        .record_receipt(&receipt(&f, "rt-psp", &at_psp, 3_000))
        .await
        .unwrap();
    // A second payment of a paid notice is an anomaly, not a receipt to mail.
    store
        .record_receipt(&receipt(&f, "rt-double", &at_psp, 3_000))
        .await
        .unwrap();
    let receipts: Vec<_> = store
        .outbox_mails(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MailKind::Receipt)
        .collect();
    assert_eq!(receipts.len(), 2, "{receipts:?}");
    let psp = &receipts[0];
    assert_eq!(psp.recipient, "mario.rossi@example.org");
    assert_eq!(psp.lang, "it");
    let cart = &receipts[1];
    assert_eq!(cart.recipient, "paid@example.org");
    assert_eq!(cart.lang, "en");
    let stored = store.receipts_of_notice(f.ente.id, &in_cart).await.unwrap();
    assert_eq!(cart.payload, stored[0].id.to_string());

    // Someone else started a checkout of a notice and gave up; the debtor
    // then paid it at a bank: nothing goes to the one who gave up.
    let other_cart = "fedcba9876543210fedcba9876543210";
    let abandoned = publish(&f, "M-4", 4_000).await;
    store
        .add_to_cart(
            other_cart,
            f.ente.id,
            &abandoned,
            Some("stranger@example.org"),
            "it",
            now(),
        )
        .await
        .unwrap();
    store
        .start_checkout(other_cart, "k-gave-up", "it", None, now())
        .await
        .unwrap()
        .unwrap();
    store
        .checkout_returned("k-gave-up", CheckoutState::Cancelled, now())
        .await
        .unwrap();
    let mut at_bank = receipt(&f, "rt-bank", &abandoned, 4_000);
    at_bank.payer_email = None;
    at_bank.debtor_email = None;
    store.record_receipt(&at_bank).await.unwrap();
    let paid_by_another = publish(&f, "M-5", 5_000).await;
    let mut with_payer = receipt(&f, "rt-bank-2", &paid_by_another, 5_000);
    with_payer.payer_email = Some("payer@example.org");
    store.record_receipt(&with_payer).await.unwrap();
    let recipients: Vec<String> = store
        .outbox_mails(20)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MailKind::Receipt)
        .map(|m| m.recipient)
        .collect();
    assert!(
        !recipients.contains(&"stranger@example.org".to_owned()),
        "{recipients:?}"
    );
    assert_eq!(recipients[0], "payer@example.org");
    assert_eq!(
        recipients.len(),
        3,
        "no address for the bank payment: {recipients:?}"
    );
}

async fn mails_are_leased_retried_and_given_up(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let notice = publish(&f, "L-1", 1_000).await;
    store
        .add_to_cart(CART, f.ente.id, &notice, Some("a@example.org"), "it", now())
        .await
        .unwrap();
    let lease = SignedDuration::from_mins(5);
    let t0 = now();
    let first = store.claim_mail(lease, t0).await.unwrap().unwrap();
    assert_eq!((first.state.as_str(), first.attempts), ("sending", 1));
    assert!(store.claim_mail(lease, t0).await.unwrap().is_none());

    // Its sender died: after the lease another claims it, and the first
    // sender's late report changes nothing.
    let later = t0 + SignedDuration::from_mins(6);
    let second = store.claim_mail(lease, later).await.unwrap().unwrap();
    assert_eq!(second.attempts, 2);
    assert!(!store.mail_sent(&first, later).await.unwrap());

    store
        .mail_failed(&second, "421 try later", false, later)
        .await
        .unwrap();
    assert!(store.claim_mail(lease, later).await.unwrap().is_none());
    let retry_at = later + SignedDuration::from_mins(2);
    let third = store.claim_mail(lease, retry_at).await.unwrap().unwrap();
    assert_eq!(third.last_error.as_deref(), Some("421 try later"));
    assert!(store.mail_sent(&third, retry_at).await.unwrap());
    let sent = &store.outbox_mails(1).await.unwrap()[0];
    assert_eq!(sent.state, "sent");
    assert!(sent.sent_at.is_some());
    assert!(
        store
            .claim_mail(lease, retry_at + SignedDuration::from_hours(2))
            .await
            .unwrap()
            .is_none()
    );

    // A permanent refusal (a bad address) is not retried.
    let other = "fedcba9876543210fedcba9876543210";
    store
        .add_to_cart(
            other,
            f.ente.id,
            &notice,
            Some("b@example.org"),
            "it",
            now(),
        )
        .await
        .unwrap();
    let mail = store.claim_mail(lease, t0).await.unwrap().unwrap();
    store
        .mail_failed(&mail, "550 no such user", true, t0)
        .await
        .unwrap();
    let failed = &store.outbox_mails(1).await.unwrap()[0];
    assert_eq!(failed.state, "failed");
    assert!(
        store
            .claim_mail(lease, t0 + SignedDuration::from_hours(5))
            .await
            .unwrap()
            .is_none()
    );
}
