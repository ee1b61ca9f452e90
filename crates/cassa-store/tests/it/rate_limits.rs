use cassa_store::StoreOptions;
use cassa_testkit::{Backend, backend_tests};
use jiff::{SignedDuration, Timestamp};

use crate::store_for;

backend_tests!(hits_are_counted_exactly_under_concurrency_and_forgotten,);

const WINDOW: SignedDuration = SignedDuration::from_mins(10);

async fn hits_are_counted_exactly_under_concurrency_and_forgotten(backend: Backend) {
    let (store, db) = store_for(backend, StoreOptions::default()).await;
    let now: Timestamp = "2026-12-06T10:03:00Z".parse().unwrap();
    // Two processes' pools over one database, twenty hits at once: every
    // hit is counted once, and each caller sees a different count.
    let other = cassa_store::Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let hits: Vec<_> = (0..20)
        .map(|i| {
            let store = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                store
                    .count_hit("lookup", "203.0.113.7", WINDOW, now)
                    .await
                    .map(|h| h.current)
            })
        })
        .collect();
    let mut counts = Vec::new();
    for hit in hits {
        counts.push(hit.await.unwrap().unwrap());
    }
    counts.sort();
    assert_eq!(counts, (1..=20).collect::<Vec<i64>>());
    // Buckets, clients and windows are counted apart.
    let count = |bucket, key, at: &str| {
        let store = store.clone();
        let at: Timestamp = at.parse().unwrap();
        async move { store.count_hit(bucket, key, WINDOW, at).await.unwrap() }
    };
    assert_eq!(
        count("login", "203.0.113.7", "2026-12-06T10:03:00Z")
            .await
            .current,
        1
    );
    assert_eq!(
        count("lookup", "203.0.113.8", "2026-12-06T10:03:00Z")
            .await
            .current,
        1
    );
    let late = count("lookup", "203.0.113.7", "2026-12-06T10:09:59Z").await;
    assert_eq!((late.current, late.previous), (21, 0));
    // Past the window's edge the count starts again, but the previous
    // window still weighs: just after the edge, almost all of it.
    let next = count("lookup", "203.0.113.7", "2026-12-06T10:10:30Z").await;
    assert_eq!((next.current, next.previous), (1, 21));
    assert!(
        (next.estimate() - (21.0 * 0.95 + 1.0)).abs() < 1e-9,
        "{next:?}"
    );
    // Reading counts nothing.
    let read = |at: &str| {
        let store = store.clone();
        let at: Timestamp = at.parse().unwrap();
        async move {
            store
                .hits("lookup", "203.0.113.7", WINDOW, at)
                .await
                .unwrap()
        }
    };
    assert_eq!(read("2026-12-06T10:15:00Z").await.current, 1);
    assert_eq!(read("2026-12-06T10:15:00Z").await.current, 1);
    assert_eq!(
        read("2026-12-06T10:25:00Z").await,
        cassa_store::WindowHits {
            current: 0,
            previous: 1,
            elapsed: 0.5,
        }
    );
    // The sweep deletes whole windows that started before its cut.
    let cut: Timestamp = "2026-12-06T10:10:00Z".parse().unwrap();
    assert_eq!(store.forget_hits_before(cut).await.unwrap(), 3);
    assert_eq!(
        count("lookup", "203.0.113.7", "2026-12-06T10:05:00Z")
            .await
            .current,
        1
    );
    assert_eq!(
        count("lookup", "203.0.113.7", "2026-12-06T10:11:00Z")
            .await
            .current,
        2
    );
}
