use std::collections::BTreeSet;

use cassa_store::{
    JobState, MAX_ATTEMPTS, MAX_UNFINISHED_IMPORTS, NewJob, PrintSelection, QueuedImport,
};
use cassa_testkit::{Backend, backend_tests};
use jiff::SignedDuration;

use crate::{days, draft, fixture, new_ente, now, write};

backend_tests!(
    jobs_are_claimed_once_and_finish_with_their_result,
    a_job_whose_worker_died_is_taken_over_then_failed,
    concurrent_workers_never_share_a_job,
    printable_positions_follow_the_selection_page_by_page,
    an_ente_queues_at_most_three_imports_even_at_once,
);

fn new_job(ente_id: i64) -> NewJob<'static> {
    NewJob {
        ente_id,
        kind: "bulk_notices",
        params: r#"{"format":"ZIP"}"#,
        created_by: "test",
    }
}

const LEASE: SignedDuration = SignedDuration::from_secs(60);

async fn jobs_are_claimed_once_and_finish_with_their_result(backend: Backend) {
    let f = fixture(backend).await;
    let queued = f
        .store
        .enqueue_job(new_job(f.ente.id), now())
        .await
        .unwrap();
    assert_eq!(queued.state, JobState::Queued);
    let (job, lease) = f
        .store
        .claim_job("w1", LEASE, now())
        .await
        .unwrap()
        .expect("the queued job is claimed");
    assert_eq!(
        (job.id, job.state, job.attempts),
        (queued.id, JobState::Running, 1)
    );
    assert!(
        f.store
            .claim_job("w2", LEASE, now())
            .await
            .unwrap()
            .is_none()
    );

    assert!(f.store.job_progress(&lease, 5, 10, now()).await.unwrap());
    let seen = f.store.job(f.ente.id, job.id).await.unwrap().unwrap();
    assert_eq!((seen.progress_done, seen.progress_total), (5, 10));

    assert!(
        f.store
            .finish_job(&lease, Ok(r#"{"file":"x.zip"}"#), now())
            .await
            .unwrap()
    );
    let done = f.store.job(f.ente.id, job.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(
        done.progress_done, 10,
        "a finished job shows all its progress"
    );
    assert_eq!(done.result.as_deref(), Some(r#"{"file":"x.zip"}"#));
    assert_eq!(done.finished_at, Some(now()));
    // Finishing twice changes nothing.
    assert!(
        !f.store
            .finish_job(&lease, Err("late"), now())
            .await
            .unwrap()
    );

    // Another ente cannot see it.
    let other = f
        .store
        .create_ente(
            &new_ente("80050050154", "Regione Lombardia", 1),
            "test",
            now(),
        )
        .await
        .unwrap();
    assert!(f.store.job(other.id, job.id).await.unwrap().is_none());
    assert!(f.store.jobs_of_ente(other.id, 10).await.unwrap().is_empty());
    assert_eq!(f.store.jobs_of_ente(f.ente.id, 10).await.unwrap().len(), 1);
}

async fn a_job_whose_worker_died_is_taken_over_then_failed(backend: Backend) {
    let f = fixture(backend).await;
    let job = f
        .store
        .enqueue_job(new_job(f.ente.id), now())
        .await
        .unwrap();
    let (_, first) = f
        .store
        .claim_job("w1", LEASE, now())
        .await
        .unwrap()
        .unwrap();
    // w1 dies; once its lease has run out, w2 takes the job over.
    let later = now() + LEASE + SignedDuration::from_secs(1);
    let (again, second) = f
        .store
        .claim_job("w2", LEASE, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 2));
    // w1 wakes up: its progress and its result are refused.
    assert!(!f.store.job_progress(&first, 1, 1, later).await.unwrap());
    assert!(!f.store.finish_job(&first, Ok("{}"), later).await.unwrap());
    assert!(f.store.job_progress(&second, 1, 1, later).await.unwrap());

    // Workers keep dying: after MAX_ATTEMPTS the job fails for good.
    let mut at = later;
    for attempt in 3..=MAX_ATTEMPTS {
        at += LEASE + SignedDuration::from_secs(1);
        let (j, _) = f.store.claim_job("w", LEASE, at).await.unwrap().unwrap();
        assert_eq!(j.attempts, attempt);
    }
    at += LEASE + SignedDuration::from_secs(1);
    assert!(f.store.claim_job("w", LEASE, at).await.unwrap().is_none());
    let failed = f.store.job(f.ente.id, job.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some(format!("the worker running it stopped {MAX_ATTEMPTS} times").as_str())
    );
}

async fn concurrent_workers_never_share_a_job(backend: Backend) {
    let f = fixture(backend).await;
    for _ in 0..20 {
        f.store
            .enqueue_job(new_job(f.ente.id), now())
            .await
            .unwrap();
    }
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = f.store.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some((job, _)) = store
                .claim_job(&format!("w{w}"), LEASE, now())
                .await
                .unwrap()
            {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 20, "every job claimed once: {all:?}");
    assert_eq!(distinct.len(), 20);
}

async fn printable_positions_follow_the_selection_page_by_page(backend: Backend) {
    let f = fixture(backend).await;
    let tipo = f
        .store
        .create_tipo_dovuto(f.ente.id, &crate::tipo_dovuto("TARI"), "test", now())
        .await
        .unwrap();
    let mut drafts = Vec::new();
    for i in 0..7 {
        drafts.push(draft(&format!("IUPD-{i}"), &[&[1000 + i]]));
    }
    for (i, d) in drafts.iter().enumerate() {
        let mut w = write(&f.ente, d, i != 6);
        if i % 2 == 0 {
            w.tipo_dovuto_id = Some(tipo.id);
        }
        f.store.create_position(w).await.unwrap();
    }
    // IUPD-6 is a draft: never printed. IUPD-5 is closed.
    f.store
        .invalidate_position(f.ente.id, "IUPD-5", crate::ACTOR, now())
        .await
        .unwrap();

    let all = PrintSelection::default();
    assert_eq!(f.store.count_printable(f.ente.id, &all).await.unwrap(), 5);
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = f
            .store
            .printable_positions(f.ente.id, &all, after, 2)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        assert!(page.iter().all(|p| p.options.len() == 1));
        seen.extend(page.into_iter().map(|p| p.iupd));
    }
    assert_eq!(seen, ["IUPD-0", "IUPD-1", "IUPD-2", "IUPD-3", "IUPD-4"]);

    let by_tipo = PrintSelection {
        tipo_dovuto_id: Some(tipo.id),
        ..PrintSelection::default()
    };
    assert_eq!(
        f.store.count_printable(f.ente.id, &by_tipo).await.unwrap(),
        3
    );
    let listed = PrintSelection {
        iupds: vec!["IUPD-1".into(), "IUPD-5".into(), "IUPD-9".into()],
        ..PrintSelection::default()
    };
    let found = f
        .store
        .printable_positions(f.ente.id, &listed, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|p| p.iupd.as_str()).collect::<Vec<_>>(),
        ["IUPD-1"]
    );
    let due = PrintSelection {
        due_date: Some((now() + days(29), now() + days(31))),
        ..PrintSelection::default()
    };
    assert_eq!(f.store.count_printable(f.ente.id, &due).await.unwrap(), 5);
    let none_due = PrintSelection {
        due_date: Some((now() + days(40), now() + days(50))),
        ..PrintSelection::default()
    };
    assert_eq!(
        f.store.count_printable(f.ente.id, &none_due).await.unwrap(),
        0
    );
}

async fn an_ente_queues_at_most_three_imports_even_at_once(backend: Backend) {
    let f = fixture(backend).await;
    let other = f
        .store
        .create_ente(&new_ente("80050050154", "Regione", 1), "test", now())
        .await
        .unwrap();
    let send = |ente_id: i64, n: usize| {
        let store = f.store.clone();
        tokio::spawn(async move {
            let name = format!("dovuti-{n}.csv");
            store
                .queue_import(
                    NewJob {
                        ente_id,
                        kind: "import_dovuti",
                        params: "{}",
                        created_by: "test",
                    },
                    &format!("{n:064x}"),
                    &name,
                    now(),
                )
                .await
                .unwrap()
        })
    };
    let sends: Vec<_> = (0..8).map(|n| send(f.ente.id, n)).collect();
    let (mut queued, mut refused) = (0, 0);
    for sent in sends {
        match sent.await.unwrap() {
            QueuedImport::Queued(_) => queued += 1,
            QueuedImport::TooMany { unfinished } => {
                assert_eq!(unfinished, MAX_UNFINISHED_IMPORTS);
                refused += 1
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((queued, refused), (3, 5));
    assert!(
        !f.store
            .may_queue_import(f.ente.id, "import_dovuti")
            .await
            .unwrap()
    );
    // Another ente's quota is its own.
    assert!(
        f.store
            .may_queue_import(other.id, "import_dovuti")
            .await
            .unwrap()
    );
    assert!(matches!(
        send(other.id, 9).await.unwrap(),
        QueuedImport::Queued(_)
    ));
    // One ends: one more may come.
    let (job, lease) = f.store.claim_job("w", LEASE, now()).await.unwrap().unwrap();
    assert_eq!(job.kind, "import_dovuti");
    assert!(f.store.finish_job(&lease, Ok("{}"), now()).await.unwrap());
    let later = send(job.ente_id, 20).await.unwrap();
    assert!(matches!(later, QueuedImport::Queued(_)), "{later:?}");
}
