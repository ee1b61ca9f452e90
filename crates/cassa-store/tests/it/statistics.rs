//! "I numeri del Portale Pagamenti".

use cassa_core::access::TipoScope;
use cassa_testkit::{Backend, backend_tests, new_ente};
use jiff::{SignedDuration, Timestamp};

use crate::payments::receipt;
use crate::{draft, fixture, now, tipo_dovuto, write};

backend_tests!(payments_are_counted_per_ente_and_per_month);

async fn payments_are_counted_per_ente_and_per_month(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let other = store
        .create_ente(
            &new_ente("80050050154", "Regione Lombardia", 1),
            "test",
            now(),
        )
        .await
        .unwrap();
    let mensa = store
        .create_tipo_dovuto(f.ente.id, &tipo_dovuto("MENSA"), "test", now())
        .await
        .unwrap();
    let jan: Timestamp = "2026-01-15T10:00:00Z".parse().unwrap();
    let mar: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
    let mut notices = Vec::new();
    // The second debt is a school-canteen fee (tipo MENSA).
    for (i, cents) in [(0, 1_000), (1, 2_500)] {
        let d = draft(&format!("S-{i}"), &[&[cents]]);
        let mut w = write(&f.ente, &d, true);
        w.tipo_dovuto_id = (i == 1).then_some(mensa.id);
        let p = store.create_position(w).await.unwrap();
        notices.push((p.options[0].notice_number.clone(), cents));
    }
    for ((notice, cents), at) in notices.iter().zip([jan, mar]) {
        let id = format!("rt-{notice}");
        let mut r = receipt(&f, &id, notice, *cents);
        r.payment_date_time = Some(at);
        store.record_receipt(&r).await.unwrap();
    }
    // Paid twice: the second receipt is an anomaly, not a payment.
    let mut double = receipt(&f, "rt-double", &notices[0].0, 1_000);
    double.payment_date_time = Some(mar);
    store.record_receipt(&double).await.unwrap();

    let months: Vec<(Timestamp, Timestamp)> = (1..=3)
        .map(|m| {
            let start: Timestamp = format!("2026-{m:02}-01T00:00:00Z").parse().unwrap();
            (start, start + SignedDuration::from_hours(24 * 28))
        })
        .collect();
    let all = store.statistics(None, &months).await.unwrap();
    assert_eq!(all.payments_total, 2);
    assert_eq!(all.amount_total.get(), 3_500);
    assert_eq!(
        all.per_bucket.iter().map(|b| b.0).collect::<Vec<_>>(),
        [1, 0, 1]
    );
    assert_eq!(all.per_bucket[2].1.get(), 2_500);
    assert_eq!((all.enti, all.enti_active, all.tipi_dovuto), (2, 1, 1));
    let whole = |id| (id, TipoScope::All);
    let regione = store
        .statistics(Some(&[whole(other.id)]), &months)
        .await
        .unwrap();
    assert_eq!(
        (regione.payments_total, regione.enti, regione.enti_active),
        (0, 1, 0)
    );
    let milano = store
        .statistics(Some(&[whole(f.ente.id)]), &months[..1])
        .await
        .unwrap();
    assert_eq!((milano.payments_total, milano.payments_in_period), (2, 1));
    // An operator of MENSA only sees the canteen's payment and tipo.
    let canteen = [(f.ente.id, TipoScope::Only(vec![mensa.id]))];
    let canteen = store.statistics(Some(&canteen), &months).await.unwrap();
    assert_eq!(
        (
            canteen.payments_total,
            canteen.amount_total.get(),
            canteen.tipi_dovuto
        ),
        (1, 2_500, 1)
    );
    assert_eq!(canteen.per_bucket[0].0, 0);
    let no_tipo = [(f.ente.id, TipoScope::Only(vec![]))];
    let no_tipo = store.statistics(Some(&no_tipo), &months).await.unwrap();
    assert_eq!((no_tipo.payments_total, no_tipo.tipi_dovuto), (0, 0));
    let nobody = store.statistics(Some(&[]), &months).await.unwrap();
    assert_eq!((nobody.payments_total, nobody.enti), (0, 0));
    assert_eq!(nobody.per_bucket.len(), 3);
}
