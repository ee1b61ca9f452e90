use cassa_core::debt::NotPayable;
use cassa_store::{CartError, CheckoutRefusal, MAX_CART_ITEMS, PayRefusal};
use cassa_testkit::{Backend, backend_tests};

use crate::{draft, fixture, now, write};

backend_tests!(
    carts_take_payable_notices_up_to_five,
    concurrent_adds_never_pass_five,
    a_cart_pays_a_debt_one_way,
    a_suspended_ente_s_notices_are_not_found_carted_or_payable,
);

async fn publish(f: &crate::Fixture, iupd: &str, cents: i64) -> String {
    let d = draft(iupd, &[&[cents]]);
    let position = f
        .store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap();
    position.options[0].notice_number.clone()
}

const CART: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

async fn carts_take_payable_notices_up_to_five(backend: Backend) {
    let f = fixture(backend).await;
    let mut notices = Vec::new();
    for i in 0..6 {
        notices.push(publish(&f, &format!("CART-{i}"), 1_000 + i).await);
    }
    assert_eq!(f.store.cart_size(CART).await.unwrap(), 0);
    for (i, notice) in notices.iter().take(MAX_CART_ITEMS).enumerate() {
        let cart = f
            .store
            .add_to_cart(CART, f.ente.id, notice, Some("a@example.org"), "it", now())
            .await
            .unwrap();
        assert_eq!(cart.items.len(), i + 1);
    }
    let cart = f.store.cart(CART).await.unwrap().unwrap();
    assert_eq!(cart.total().get(), 1_000 + 1_001 + 1_002 + 1_003 + 1_004);
    assert_eq!(cart.items[0].ente_name, "Comune di Milano");
    assert_eq!(cart.email.as_deref(), Some("a@example.org"));
    let sixth = f
        .store
        .add_to_cart(CART, f.ente.id, &notices[5], None, "it", now())
        .await;
    assert!(matches!(sixth, Err(CartError::Full)), "{sixth:?}");
    let again = f
        .store
        .add_to_cart(CART, f.ente.id, &notices[0], None, "it", now())
        .await;
    assert!(matches!(
        again,
        Err(CartError::Full) | Err(CartError::AlreadyIn)
    ));

    // Out and in again; then emptied.
    assert!(
        f.store
            .remove_from_cart(CART, cart.items[0].id)
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .remove_from_cart("someone-elses-cart", cart.items[1].id)
            .await
            .unwrap()
    );
    let again = f
        .store
        .add_to_cart(CART, f.ente.id, &notices[1], None, "it", now())
        .await;
    assert!(matches!(again, Err(CartError::AlreadyIn)), "{again:?}");
    f.store
        .add_to_cart(CART, f.ente.id, &notices[5], None, "it", now())
        .await
        .unwrap();
    assert_eq!(f.store.cart_size(CART).await.unwrap(), MAX_CART_ITEMS);
    assert_eq!(
        f.store.empty_cart(CART).await.unwrap(),
        MAX_CART_ITEMS as u64
    );
    assert_eq!(f.store.cart_size(CART).await.unwrap(), 0);

    // What cannot be paid stays out: unknown, closed.
    let unknown = f
        .store
        .add_to_cart(CART, f.ente.id, "302999999999999999", None, "it", now())
        .await;
    assert!(matches!(unknown, Err(CartError::UnknownNotice)));
    f.store
        .invalidate_position(f.ente.id, "CART-3", crate::ACTOR, now())
        .await
        .unwrap();
    let closed = f
        .store
        .add_to_cart(CART, f.ente.id, &notices[3], None, "it", now())
        .await;
    assert!(
        matches!(closed, Err(CartError::NotPayable(NotPayable::Cancelled))),
        "{closed:?}"
    );
    assert_eq!(f.store.cart_size(CART).await.unwrap(), 0);
}

async fn concurrent_adds_never_pass_five(backend: Backend) {
    let f = fixture(backend).await;
    let mut notices = Vec::new();
    for i in 0..8 {
        notices.push(publish(&f, &format!("RACE-{i}"), 500).await);
    }
    let mut tasks = Vec::new();
    for notice in notices {
        let store = f.store.clone();
        let ente = f.ente.id;
        tasks.push(tokio::spawn(async move {
            store
                .add_to_cart(CART, ente, &notice, None, "it", now())
                .await
                .is_ok()
        }));
    }
    let mut added = 0;
    for task in tasks {
        added += usize::from(task.await.unwrap());
    }
    assert_eq!(added, MAX_CART_ITEMS);
    assert_eq!(f.store.cart_size(CART).await.unwrap(), MAX_CART_ITEMS);
}

/// The single payment and an installment of one debt never share a cart,
/// nor two single payments; the installments of a plan do. A cart that
/// holds both anyway (written before this rule) is stopped at checkout.
async fn a_cart_pays_a_debt_one_way(backend: Backend) {
    let f = fixture(backend).await;
    let mut d = draft("WAYS", &[&[30_000], &[15_000], &[15_000]]);
    d.options[0].is_partial_payment = false;
    let p = f
        .store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap();
    let [single, first, second] = [0, 1, 2].map(|i| p.options[i].notice_number.clone());
    let add = |notice: String| {
        let store = f.store.clone();
        let ente = f.ente.id;
        async move {
            store
                .add_to_cart(CART, ente, &notice, Some("a@example.org"), "it", now())
                .await
        }
    };
    add(single.clone()).await.unwrap();
    match add(first.clone()).await {
        Err(CartError::Excludes(other)) => assert_eq!(other, single),
        other => panic!("{other:?}"),
    }
    let cart = f.store.cart(CART).await.unwrap().unwrap();
    f.store
        .remove_from_cart(CART, cart.items[0].id)
        .await
        .unwrap();
    add(first.clone()).await.unwrap();
    add(second.clone()).await.unwrap();
    assert!(matches!(
        add(single.clone()).await,
        Err(CartError::Excludes(_))
    ));

    // Slipped in by hand: the checkout names the clash and records nothing.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&f.db.url)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO cart_item (cart_id, ente_id, notice_number, amount, description, added_at) \
         SELECT id, $1, $2, 30000, 'x', 0 FROM cart WHERE public_id = $3",
    )
    .bind(f.ente.id)
    .bind(&single)
    .bind(CART)
    .execute(&mut conn)
    .await
    .unwrap();
    let refused = f
        .store
        .start_checkout(CART, "k-ways", "it", None, now())
        .await
        .unwrap()
        .unwrap_err();
    match refused {
        cassa_store::CheckoutRefusal::Items(problems) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].0, single);
            assert!(matches!(
                problems[0].1,
                cassa_store::ItemProblem::Excludes(_)
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(f.store.checkout("k-ways").await.unwrap().is_none());
}

async fn a_suspended_ente_s_notices_are_not_found_carted_or_payable(backend: Backend) {
    let f = fixture(backend).await;
    let carted = publish(&f, "SUSP-1", 1_000).await;
    let other = publish(&f, "SUSP-2", 2_000).await;
    f.store
        .add_to_cart(CART, f.ente.id, &carted, Some("a@example.org"), "it", now())
        .await
        .unwrap();
    let debtor = "RSSMRA85T10A562S";
    assert_eq!(
        f.store
            .positions_by_notice_and_debtor(&other, debtor)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        f.store
            .open_positions_of_debtor(debtor, now())
            .await
            .unwrap()
            .len(),
        2
    );

    let details = cassa_testkit::new_ente("01199250158", "Comune di Milano", 2);
    f.store
        .update_ente("01199250158", &details, false, "test", now())
        .await
        .unwrap();
    // Not found by Paga Avviso, not listed in the personal area.
    assert!(
        f.store
            .positions_by_notice_and_debtor(&other, debtor)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        f.store
            .open_positions_of_debtor(debtor, now())
            .await
            .unwrap()
            .is_empty()
    );
    // Not carted, not payable, and a cart holding one cannot go to Checkout.
    let refused = f
        .store
        .add_to_cart(CART, f.ente.id, &other, None, "it", now())
        .await;
    assert!(
        matches!(refused, Err(CartError::UnknownNotice)),
        "{refused:?}"
    );
    let verified = f
        .store
        .verify_notice(f.ente.id, &other, now())
        .await
        .unwrap();
    assert!(
        matches!(verified, Err(PayRefusal::UnknownNotice)),
        "{verified:?}"
    );
    let checkout = f
        .store
        .start_checkout(CART, "0123456789abcdef0123456789abcdef", "it", None, now())
        .await
        .unwrap();
    assert!(
        matches!(&checkout, Err(CheckoutRefusal::Items(problems)) if problems.len() == 1),
        "{checkout:?}"
    );

    // Active again: payable again.
    f.store
        .update_ente("01199250158", &details, true, "test", now())
        .await
        .unwrap();
    assert!(
        f.store
            .verify_notice(f.ente.id, &other, now())
            .await
            .unwrap()
            .is_ok()
    );
}
