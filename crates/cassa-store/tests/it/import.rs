//! Applying an import file: all rows in one transaction, or none.

use cassa_core::debt::PositionStatus;
use cassa_store::ImportRowError;
use cassa_testkit::{Backend, backend_tests};

use crate::{draft, fixture, now, write};

backend_tests!(
    an_import_applies_whole_or_not_at_all,
    a_large_batch_keeps_every_character
);

async fn an_import_applies_whole_or_not_at_all(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    store
        .create_position(write(&f.ente, &draft("OLD-1", &[&[1_000]]), true))
        .await
        .unwrap();
    store
        .create_position(write(&f.ente, &draft("OLD-2", &[&[2_000]]), true))
        .await
        .unwrap();
    let existing = store
        .existing_iupds(f.ente.id, &["OLD-1", "NEW-1"])
        .await
        .unwrap();
    assert_eq!(existing.into_iter().collect::<Vec<_>>(), ["OLD-1"]);

    // Dropped without commit: nothing happened.
    let mut dropped = store
        .begin_import(&f.ente, 1, "import:test", now())
        .await
        .unwrap();
    dropped
        .insert(&[(draft("NEW-0", &[&[500]]), None)], true)
        .await
        .unwrap();
    dropped.annul("OLD-1").await.unwrap();
    drop(dropped);
    assert!(store.position(f.ente.id, "NEW-0").await.unwrap().is_none());
    assert_ne!(
        store
            .position(f.ente.id, "OLD-1")
            .await
            .unwrap()
            .unwrap()
            .status,
        PositionStatus::Invalid
    );

    let mut session = store
        .begin_import(&f.ente, 2, "import:test", now())
        .await
        .unwrap();
    let applied = session
        .insert(
            &[
                (draft("NEW-1", &[&[700]]), None),
                (draft("NEW-2", &[&[800]]), None),
            ],
            true,
        )
        .await
        .unwrap();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0].options[0].notice_number.len(), 18);
    let changed = session
        .modify(&draft("OLD-2", &[&[2_500]]), None, true)
        .await
        .unwrap();
    assert_eq!(changed.iupd, "OLD-2");
    session.annul("OLD-1").await.unwrap();
    // More IUVs than reserved are refused, not invented.
    let out = session
        .insert(&[(draft("NEW-3", &[&[900]]), None)], true)
        .await;
    assert!(matches!(out, Err(ImportRowError::OutOfIuvs(1))), "{out:?}");
    session.commit().await.unwrap();

    assert_eq!(
        store
            .position(f.ente.id, "NEW-2")
            .await
            .unwrap()
            .unwrap()
            .options[0]
            .amount
            .get(),
        800
    );
    assert_eq!(
        store
            .position(f.ente.id, "OLD-2")
            .await
            .unwrap()
            .unwrap()
            .options[0]
            .amount
            .get(),
        2_500
    );
    assert_eq!(
        store
            .position(f.ente.id, "OLD-1")
            .await
            .unwrap()
            .unwrap()
            .status,
        PositionStatus::Invalid
    );

    // An IUPD that exists makes the insert fail; the session is then dropped.
    let mut conflict = store
        .begin_import(&f.ente, 1, "import:test", now())
        .await
        .unwrap();
    let out = conflict
        .insert(&[(draft("NEW-1", &[&[1]]), None)], true)
        .await;
    assert!(matches!(out, Err(ImportRowError::Conflict)), "{out:?}");
    drop(conflict);
    assert_eq!(
        store
            .position(f.ente.id, "NEW-1")
            .await
            .unwrap()
            .unwrap()
            .options[0]
            .amount
            .get(),
        700
    );
}

/// More rows than one statement takes, with text that needs escaping:
/// every position comes back as written, ids and all.
async fn a_large_batch_keeps_every_character(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let names = [
        "Zoë \"la Rossa\" D'Annunzio",
        "back\\slash\tand tab",
        "riga\nnuova 🙂",
        "€ 1,00 ; \u{00e8}",
    ];
    let drafts: Vec<_> = (0..1_300)
        .map(|n| {
            let mut d = draft(&format!("BULK-{n:05}"), &[&[100 + n, 7]]);
            d.debtor.full_name = names[n as usize % names.len()].into();
            d.debtor.region = (n % 2 == 0).then(|| "Lombardia".into());
            (d, None)
        })
        .collect();
    let mut session = store
        .begin_import(&f.ente, drafts.len(), "import:test", now())
        .await
        .unwrap();
    let applied = session.insert(&drafts, true).await.unwrap();
    session.commit().await.unwrap();
    assert_eq!(applied.len(), drafts.len());
    for (n, (d, _)) in drafts.iter().enumerate().step_by(97) {
        let stored = store.position(f.ente.id, &d.iupd).await.unwrap().unwrap();
        assert_eq!(stored.debtor_name, d.debtor.full_name, "row {n}");
        assert_eq!(stored.region, d.debtor.region, "row {n}");
        assert_eq!(stored.options[0].amount.get(), 107 + n as i64);
        assert_eq!(stored.options[0].transfers.len(), 2);
        assert_eq!(stored.options[0].iuv, applied[n].options[0].iuv);
    }
}
