use cassa_core::debt::NotPayable;
use cassa_store::{CartError, MAX_CART_ITEMS};
use cassa_testkit::{Backend, backend_tests};

use crate::{draft, fixture, now, write};

backend_tests!(
    carts_take_payable_notices_up_to_five,
    concurrent_adds_never_pass_five,
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
