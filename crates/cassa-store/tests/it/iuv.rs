use std::collections::HashSet;

use cassa_store::{Store, StoreOptions};
use cassa_testkit::{Backend, backend_tests};

use crate::{draft, new_ente, now, store_for, write};

backend_tests!(
    concurrent_creators_get_distinct_iuvs,
    processes_sharing_a_database_never_share_bases,
);

/// 20 concurrent creators, N positions each with two generated IUVs.
async fn concurrent_creators_get_distinct_iuvs(backend: Backend) {
    const CREATORS: usize = 20;
    const EACH: usize = 10;
    // A small block makes the creators go back to the database often.
    let (store, _db) = store_for(
        backend,
        StoreOptions {
            iuv_block: 3,
            ..Default::default()
        },
    )
    .await;
    let ente = store
        .create_ente(&new_ente("01199250158", "Comune", 2), "test", now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..CREATORS {
        let store = store.clone();
        let ente = ente.clone();
        tasks.push(tokio::spawn(async move {
            let mut iuvs = Vec::new();
            for n in 0..EACH {
                let d = draft(&format!("C{c}-{n}"), &[&[100], &[200]]);
                let p = store.create_position(write(&ente, &d, true)).await.unwrap();
                iuvs.extend(p.options.into_iter().map(|o| o.iuv));
            }
            iuvs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), CREATORS * EACH * 2);
    assert_eq!(distinct.len(), all.len());
}

/// Two stores on one database behave like two `cassa serve` processes.
async fn processes_sharing_a_database_never_share_bases(backend: Backend) {
    let (first, db) = store_for(
        backend,
        StoreOptions {
            iuv_block: 7,
            ..Default::default()
        },
    )
    .await;
    let second = Store::connect(
        &db.url,
        StoreOptions {
            iuv_block: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let ente = first
        .create_ente(&new_ente("01199250158", "Comune", 2), "test", now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let id = ente.id;
        tasks.push(tokio::spawn(async move {
            let mut bases = Vec::new();
            for n in 0..25 {
                bases.extend(store.allocate_iuv_bases(id, 1 + n % 3).await.unwrap());
            }
            bases
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len());
    assert!(all.iter().all(|&b| b >= 1));
}
