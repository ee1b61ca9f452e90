//! Applying an import file: staged invisibly a slice at a time, made
//! visible in one switch with the job's outcome, or discarded whole; a
//! worker that lost its lease can change nothing.

use cassa_core::debt::PositionStatus;
use cassa_store::{
    ImportRowError, JobState, Lease, ListFilter, NewJob, PayRefusal, PositionChangeError,
};
use cassa_testkit::{Backend, backend_tests};
use jiff::{SignedDuration, Timestamp};

use crate::{Fixture, draft, fixture, now, write};

backend_tests!(
    staged_positions_are_invisible_until_the_switch,
    a_failed_import_is_discarded_whole,
    a_worker_that_lost_its_lease_changes_nothing,
    a_large_batch_keeps_every_character
);

/// A queued import job, claimed by `worker`: its lease.
async fn claimed(f: &Fixture, worker: &str) -> Lease {
    let job = f
        .store
        .enqueue_job(
            NewJob {
                ente_id: f.ente.id,
                kind: "import_dovuti",
                params: "{}",
                created_by: "test",
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let (claimed, lease) = f
        .store
        .claim_job(worker, SignedDuration::from_secs(120), Timestamp::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job.id);
    lease
}

async fn visible(f: &Fixture, iupd: &str) -> bool {
    f.store.position(f.ente.id, iupd).await.unwrap().is_some()
}

async fn staged_positions_are_invisible_until_the_switch(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    for iupd in ["OLD-1", "OLD-2"] {
        store
            .create_position(write(&f.ente, &draft(iupd, &[&[1_000]]), true))
            .await
            .unwrap();
    }
    let lease = claimed(&f, "worker-a").await;
    let mut stage = store
        .begin_import(&f.ente, 2, "import:test", &lease, now())
        .await
        .unwrap()
        .expect("the lease is held");
    let applied = stage
        .insert(
            &[
                (draft("NEW-1", &[&[700]]), None),
                (draft("NEW-2", &[&[800]]), None),
            ],
            true,
        )
        .await
        .unwrap();
    let notice = applied[0].options[0].notice_number.clone();

    // Staged: nobody sees it, pays it or lists it; its keys are taken.
    assert!(!visible(&f, "NEW-1").await);
    assert_eq!(
        store
            .verify_notice(f.ente.id, &notice, now())
            .await
            .unwrap()
            .unwrap_err(),
        PayRefusal::UnknownNotice
    );
    let listed = store
        .list_positions(
            f.ente.id,
            &ListFilter {
                limit: 50,
                ..ListFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 2, "only OLD-1 and OLD-2");
    assert!(
        store
            .existing_iupds(f.ente.id, &["NEW-1"])
            .await
            .unwrap()
            .contains("NEW-1")
    );
    assert!(
        store
            .create_position(write(&f.ente, &draft("NEW-1", &[&[1]]), true))
            .await
            .is_err(),
        "the IUPD is held by the import"
    );
    // More IUVs than reserved are refused, not invented.
    let out = stage
        .insert(&[(draft("NEW-3", &[&[900]]), None)], true)
        .await;
    assert!(matches!(out, Err(ImportRowError::OutOfIuvs(1))), "{out:?}");

    // The switch: changes, cancellations, then all of it at once.
    let mut switch = stage.switch().await.unwrap().expect("the lease is held");
    switch
        .modify(&draft("OLD-2", &[&[2_500]]), None, true)
        .await
        .unwrap();
    switch.annul("OLD-1").await.unwrap();
    assert!(switch.commit(r#"{"applied":true}"#, None).await.unwrap());
    assert!(visible(&f, "NEW-2").await);
    assert!(
        store
            .verify_notice(f.ente.id, &notice, now())
            .await
            .unwrap()
            .is_ok()
    );
    let old_2 = store.position(f.ente.id, "OLD-2").await.unwrap().unwrap();
    assert_eq!(old_2.options[0].amount.get(), 2_500);
    let old_1 = store.position(f.ente.id, "OLD-1").await.unwrap().unwrap();
    assert_eq!(old_1.status, PositionStatus::Invalid);
    let job = store.job(f.ente.id, lease.job_id).await.unwrap().unwrap();
    assert_eq!(
        job.state,
        JobState::Done,
        "the outcome commits with the data"
    );
    assert_eq!(job.result.as_deref(), Some(r#"{"applied":true}"#));
    // Nothing staged is left for the janitor, nor discarded by a late call.
    assert_eq!(store.discard_abandoned_imports().await.unwrap(), 0);
    assert!(visible(&f, "NEW-1").await);
}

async fn a_failed_import_is_discarded_whole(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    store
        .create_position(write(&f.ente, &draft("OLD-1", &[&[1_000]]), true))
        .await
        .unwrap();
    let lease = claimed(&f, "worker-a").await;
    let mut stage = store
        .begin_import(&f.ente, 3, "import:test", &lease, now())
        .await
        .unwrap()
        .unwrap();
    stage
        .insert(&[(draft("NEW-1", &[&[700]]), None)], true)
        .await
        .unwrap();
    // An IUPD in use fails the slice; the earlier slice stays staged.
    let out = stage.insert(&[(draft("OLD-1", &[&[1]]), None)], true).await;
    assert!(matches!(out, Err(ImportRowError::Conflict)), "{out:?}");
    let mut switch = stage.switch().await.unwrap().unwrap();
    let refused = switch.modify(&draft("GONE", &[&[1]]), None, true).await;
    assert!(
        matches!(
            refused,
            Err(ImportRowError::Change(PositionChangeError::NotFound(_)))
        ),
        "{refused:?}"
    );
    drop(switch);
    assert_eq!(
        store
            .discard_import(lease.job_id, Some(&lease))
            .await
            .unwrap(),
        Some(1)
    );
    assert!(
        store
            .existing_iupds(f.ente.id, &["NEW-1"])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(visible(&f, "OLD-1").await);

    // A job whose worker died while staging: the janitor cleans up once
    // the job has ended.
    let lease = claimed(&f, "worker-b").await;
    let mut stage = store
        .begin_import(&f.ente, 1, "import:test", &lease, now())
        .await
        .unwrap()
        .unwrap();
    stage
        .insert(&[(draft("NEW-9", &[&[900]]), None)], true)
        .await
        .unwrap();
    drop(stage);
    assert_eq!(
        store.discard_abandoned_imports().await.unwrap(),
        0,
        "still running"
    );
    assert!(
        store
            .finish_job(&lease, Err("the worker died"), Timestamp::now())
            .await
            .unwrap()
    );
    assert_eq!(store.discard_abandoned_imports().await.unwrap(), 1);
    assert!(
        store
            .existing_iupds(f.ente.id, &["NEW-9"])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_worker_that_lost_its_lease_changes_nothing(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let first = claimed(&f, "worker-a").await;
    let mut stale = store
        .begin_import(&f.ente, 2, "import:test", &first, now())
        .await
        .unwrap()
        .unwrap();
    stale
        .insert(&[(draft("NEW-1", &[&[700]]), None)], true)
        .await
        .unwrap();
    // Its lease runs out; another worker takes the job over.
    let later = Timestamp::now() + SignedDuration::from_hours(1);
    let (_, second) = store
        .claim_job("worker-b", SignedDuration::from_secs(7200), later)
        .await
        .unwrap()
        .expect("the job is claimed again");
    assert_eq!(second.attempt, first.attempt + 1);
    let out = stale
        .insert(&[(draft("NEW-2", &[&[800]]), None)], true)
        .await;
    assert!(matches!(out, Err(ImportRowError::LeaseLost)), "{out:?}");
    assert!(stale.switch().await.unwrap().is_none(), "no switch either");
    assert_eq!(
        store
            .discard_import(first.job_id, Some(&first))
            .await
            .unwrap(),
        None,
        "nor a discard of what the new owner stages"
    );
    // The new owner starts over: it discards the old attempt's rows (it
    // cannot stage on top of them).
    assert!(
        store
            .begin_import(&f.ente, 1, "import:test", &second, now())
            .await
            .is_err()
    );
    assert_eq!(
        store
            .discard_import(second.job_id, Some(&second))
            .await
            .unwrap(),
        Some(1)
    );
    let mut stage = store
        .begin_import(&f.ente, 1, "import:test", &second, now())
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .existing_iupds(f.ente.id, &["NEW-1"])
            .await
            .unwrap()
            .is_empty()
    );
    stage
        .insert(&[(draft("NEW-1", &[&[700]]), None)], true)
        .await
        .unwrap();
    let switch = stage.switch().await.unwrap().unwrap();
    assert!(switch.commit("{}", None).await.unwrap());
    assert!(visible(&f, "NEW-1").await);
    let lost = Lease {
        attempt: first.attempt,
        ..second.clone()
    };
    assert!(
        !store
            .finish_job(&lost, Err("late"), Timestamp::now())
            .await
            .unwrap()
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
    let lease = claimed(&f, "worker-a").await;
    let mut stage = store
        .begin_import(&f.ente, drafts.len(), "import:test", &lease, now())
        .await
        .unwrap()
        .unwrap();
    let applied = stage.insert(&drafts, true).await.unwrap();
    assert!(
        stage
            .switch()
            .await
            .unwrap()
            .unwrap()
            .commit("{}", None)
            .await
            .unwrap()
    );
    assert_eq!(applied.len(), drafts.len());
    for (n, (d, _)) in drafts.iter().enumerate().step_by(97) {
        let stored = store.position(f.ente.id, &d.iupd).await.unwrap().unwrap();
        assert_eq!(stored.debtor_name, d.debtor.full_name, "row {n}");
        assert_eq!(stored.region, d.debtor.region, "row {n}");
        assert_eq!(stored.options[0].amount.get(), 107 + n as i64);
        assert_eq!(stored.options[0].transfers.len(), 2);
        assert_eq!(stored.options[0].iuv, applied[n].options[0].iuv);
        assert_eq!(stored.import_job, Some(lease.job_id));
    }
}
