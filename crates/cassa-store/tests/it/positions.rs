use cassa_core::debt::{OptionStatus, PositionStatus, Refusal};
use cassa_core::{Iuv, NoticeNumber};
use cassa_store::{
    AuditFilter, CreateError, ListFilter, ListOrder, PositionChangeError, SortKey, Store,
};
use cassa_testkit::{Backend, backend_tests};

use crate::{ACTOR, days, draft, fixture, now, write};

backend_tests!(
    creates_with_generated_iuvs_and_reads_back,
    duplicates_and_invalid_drafts_change_nothing,
    publish_and_invalidate_follow_the_status_machine,
    update_replaces_content_and_keeps_iuvs,
    delete_refuses_paid_positions,
    lists_with_filters_paging_and_order,
    sweep_applies_the_clock_like_the_domain,
    replaces_ibans_of_open_transfers,
);

async fn count_positions(store: &Store, ente_id: i64) -> u64 {
    store
        .list_positions(
            ente_id,
            &ListFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .total
}

async fn creates_with_generated_iuvs_and_reads_back(backend: Backend) {
    let f = fixture(backend).await;
    let d = draft("TARI-2026-1", &[&[10_000, 2_050], &[6_025], &[6_025]]);
    let created = f
        .store
        .create_position(write(&f.ente, &d, false))
        .await
        .unwrap();
    assert_eq!(created.status, PositionStatus::Draft);
    assert_eq!(created.options.len(), 3);
    for option in &created.options {
        let parsed = NoticeNumber::parse(&option.notice_number).unwrap();
        assert!(parsed.check_digits_valid);
        assert_eq!(parsed.notice.iuv().as_str(), option.iuv);
        assert!(Iuv::parse_for_ente(&option.iuv, f.ente.segregation_code).is_ok());
        assert_eq!(option.status, OptionStatus::Unpaid);
    }
    assert_eq!(created.options[0].transfers.len(), 2);
    let read = f
        .store
        .position(f.ente.id, "TARI-2026-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, created);
    assert!(
        f.store
            .position(f.ente.id, "missing")
            .await
            .unwrap()
            .is_none()
    );

    // A supplied IUV is kept as is.
    let mut d = draft("TARI-2026-2", &[&[500]]);
    d.options[0].iuv =
        Some(Iuv::parse_for_ente("02000000009999914", f.ente.segregation_code).unwrap());
    let created = f
        .store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap();
    assert_eq!(created.options[0].iuv, "02000000009999914");
    assert_eq!(created.options[0].notice_number, "302000000009999914");
    assert_eq!(created.status, PositionStatus::Valid);
    assert_eq!(created.published_at, Some(now()));
}

async fn duplicates_and_invalid_drafts_change_nothing(backend: Backend) {
    let f = fixture(backend).await;
    let first = f
        .store
        .create_position(write(&f.ente, &draft("A", &[&[100]]), false))
        .await
        .unwrap();
    let audit_before = f
        .store
        .audit_events(&AuditFilter::default())
        .await
        .unwrap()
        .len();

    let dup = f
        .store
        .create_position(write(&f.ente, &draft("A", &[&[100]]), false))
        .await;
    assert!(matches!(dup, Err(CreateError::DuplicateIupd(iupd)) if iupd == "A"));

    let mut d = draft("B", &[&[100]]);
    d.options[0].iuv = Some(Iuv::from_trusted(first.options[0].iuv.clone()));
    let dup = f.store.create_position(write(&f.ente, &d, false)).await;
    assert!(matches!(dup, Err(CreateError::DuplicateIuv(iuv)) if iuv == first.options[0].iuv));

    let mut d = draft("C", &[&[100, 200]]);
    d.options[0].amount = cassa_core::Cents::new(250);
    let invalid = f.store.create_position(write(&f.ente, &d, false)).await;
    let Err(CreateError::Invalid(violations)) = invalid else {
        panic!("{invalid:?}")
    };
    assert_eq!(violations[0].field, "paymentOption[0].transfer");

    assert_eq!(count_positions(&f.store, f.ente.id).await, 1);
    assert_eq!(
        f.store
            .audit_events(&AuditFilter::default())
            .await
            .unwrap()
            .len(),
        audit_before
    );
}

async fn publish_and_invalidate_follow_the_status_machine(backend: Backend) {
    let f = fixture(backend).await;
    f.store
        .create_position(write(&f.ente, &draft("P", &[&[100]]), false))
        .await
        .unwrap();
    let published = f
        .store
        .publish_position(f.ente.id, "P", ACTOR, now())
        .await
        .unwrap();
    assert_eq!(published.status, PositionStatus::Valid);
    let again = f.store.publish_position(f.ente.id, "P", ACTOR, now()).await;
    assert!(matches!(
        again,
        Err(PositionChangeError::Refused(Refusal::NotPublishable))
    ));
    let invalid = f
        .store
        .invalidate_position(f.ente.id, "P", ACTOR, now())
        .await
        .unwrap();
    assert_eq!(invalid.status, PositionStatus::Invalid);
    assert_eq!(
        f.store
            .position(f.ente.id, "P")
            .await
            .unwrap()
            .unwrap()
            .status,
        PositionStatus::Invalid
    );
    let again = f
        .store
        .invalidate_position(f.ente.id, "P", ACTOR, now())
        .await;
    assert!(matches!(
        again,
        Err(PositionChangeError::Refused(Refusal::NotInvalidable))
    ));
    let update = f
        .store
        .update_position(write(&f.ente, &draft("P", &[&[100]]), false))
        .await;
    assert!(matches!(
        update,
        Err(PositionChangeError::Refused(Refusal::NotUpdatable))
    ));
    let missing = f
        .store
        .publish_position(f.ente.id, "nope", ACTOR, now())
        .await;
    assert!(matches!(missing, Err(PositionChangeError::NotFound(_))));

    // A validity date ahead makes it PUBLISHED, not VALID.
    let mut d = draft("Q", &[&[100]]);
    d.validity_date = Some(now() + days(2));
    let q = f
        .store
        .create_position(write(&f.ente, &d, true))
        .await
        .unwrap();
    assert_eq!(q.status, PositionStatus::Published);
    let events = f
        .store
        .audit_events(&AuditFilter {
            entity_key: Some("P".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["invalidate", "publish", "create"]);
    assert_eq!(events[0].after.as_ref().unwrap()["status"], "INVALID");
}

async fn update_replaces_content_and_keeps_iuvs(backend: Backend) {
    let f = fixture(backend).await;
    let created = f
        .store
        .create_position(write(&f.ente, &draft("U", &[&[100], &[200]]), true))
        .await
        .unwrap();
    let mut d = draft("U", &[&[150], &[250], &[300]]);
    d.debtor.full_name = "Maria Bianchi".into();
    let mut w = write(&f.ente, &d, false);
    w.now = now() + days(1);
    let updated = f.store.update_position(w).await.unwrap();
    assert_eq!(updated.status, PositionStatus::Draft);
    assert_eq!(updated.debtor_name, "Maria Bianchi");
    assert_eq!(updated.version, created.version + 1);
    assert_eq!(updated.inserted_at, created.inserted_at);
    assert_eq!(updated.options[0].iuv, created.options[0].iuv);
    assert_eq!(updated.options[1].iuv, created.options[1].iuv);
    assert_eq!(
        updated.options[0].inserted_at,
        created.options[0].inserted_at
    );
    assert!(
        !created
            .options
            .iter()
            .any(|o| o.iuv == updated.options[2].iuv)
    );
    assert_eq!(updated.options[2].amount.get(), 300);
    assert_eq!(
        f.store.position(f.ente.id, "U").await.unwrap().unwrap(),
        updated
    );

    let events = f
        .store
        .audit_events(&AuditFilter {
            entity_key: Some("U".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].action, "update");
    assert_eq!(
        events[0].before.as_ref().unwrap()["debtor_name"],
        "Mario Rossi"
    );
    assert_eq!(
        events[0].after.as_ref().unwrap()["debtor_name"],
        "Maria Bianchi"
    );

    // Another position's IUV cannot be taken over.
    let other = f
        .store
        .create_position(write(&f.ente, &draft("V", &[&[100]]), false))
        .await
        .unwrap();
    let mut d = draft("U", &[&[100]]);
    d.options[0].iuv = Some(Iuv::from_trusted(other.options[0].iuv.clone()));
    let taken = f.store.update_position(write(&f.ente, &d, false)).await;
    assert!(
        matches!(taken, Err(PositionChangeError::DuplicateIuv(iuv)) if iuv == other.options[0].iuv)
    );
    assert_eq!(
        f.store.position(f.ente.id, "U").await.unwrap().unwrap(),
        updated
    );
}

async fn delete_refuses_paid_positions(backend: Backend) {
    let f = fixture(backend).await;
    f.store
        .create_position(write(&f.ente, &draft("D", &[&[100, 50]]), true))
        .await
        .unwrap();
    f.store
        .delete_position(f.ente.id, "D", ACTOR, now())
        .await
        .unwrap();
    assert!(f.store.position(f.ente.id, "D").await.unwrap().is_none());
    let again = f.store.delete_position(f.ente.id, "D", ACTOR, now()).await;
    assert!(matches!(again, Err(PositionChangeError::NotFound(_))));
    // The IUPD is free again, and the old options went with the position.
    f.store
        .create_position(write(&f.ente, &draft("D", &[&[100]]), true))
        .await
        .unwrap();
}

async fn lists_with_filters_paging_and_order(backend: Backend) {
    let f = fixture(backend).await;
    for i in 0..7 {
        let mut d = draft(&format!("L{i}"), &[&[100 + i]]);
        d.company_name = format!("Company {}", 6 - i);
        d.options[0].due_date = now() + days(10 * (i + 1));
        let mut w = write(&f.ente, &d, i % 2 == 0);
        w.now = now() + cassa_core_seconds(i);
        f.store.create_position(w).await.unwrap();
    }
    let all = f
        .store
        .list_positions(
            f.ente.id,
            &ListFilter {
                limit: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.total, 7);
    let iupds: Vec<&str> = all.positions.iter().map(|p| p.iupd.as_str()).collect();
    assert_eq!(iupds, ["L6", "L5", "L4"]);
    let last = f
        .store
        .list_positions(
            f.ente.id,
            &ListFilter {
                limit: 3,
                page: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(last.positions.len(), 1);
    assert_eq!(last.positions[0].iupd, "L0");

    let valid = ListFilter {
        status: Some(PositionStatus::Valid),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        f.store
            .list_positions(f.ente.id, &valid)
            .await
            .unwrap()
            .total,
        4
    );

    let by_name = ListFilter {
        order: ListOrder {
            key: SortKey::CompanyName,
            descending: false,
        },
        limit: 2,
        ..Default::default()
    };
    let page = f.store.list_positions(f.ente.id, &by_name).await.unwrap();
    assert_eq!(page.positions[0].company_name, "Company 0");

    let due = ListFilter {
        due_date: Some((now() + days(15), now() + days(35))),
        limit: 10,
        ..Default::default()
    };
    let page = f.store.list_positions(f.ente.id, &due).await.unwrap();
    let iupds: Vec<&str> = page.positions.iter().map(|p| p.iupd.as_str()).collect();
    assert_eq!(iupds, ["L2", "L1"]);
    assert!(page.positions.iter().all(|p| p.options.len() == 1));

    let paid = ListFilter {
        payment_date: Some((now(), now() + days(1))),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        f.store
            .list_positions(f.ente.id, &paid)
            .await
            .unwrap()
            .total,
        0
    );
}

fn cassa_core_seconds(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(n)
}

async fn sweep_applies_the_clock_like_the_domain(backend: Backend) {
    let f = fixture(backend).await;
    let mut later = draft("LATER", &[&[100]]);
    later.validity_date = Some(now() + days(5));
    f.store
        .create_position(write(&f.ente, &later, true))
        .await
        .unwrap();
    let mut expiring = draft("EXP", &[&[100]]);
    expiring.switch_to_expired = true;
    f.store
        .create_position(write(&f.ente, &expiring, true))
        .await
        .unwrap();
    f.store
        .create_position(write(&f.ente, &draft("KEEP", &[&[100]]), true))
        .await
        .unwrap();

    for (offset, expected) in [(1, (0, 0)), (6, (1, 0)), (45, (0, 1))] {
        let at = now() + days(offset);
        let before: Vec<_> = ["LATER", "EXP", "KEEP"]
            .iter()
            .map(|iupd| async { f.store.position(f.ente.id, iupd).await.unwrap().unwrap() })
            .collect();
        let mut predicted = Vec::new();
        for p in before {
            let p = p.await;
            predicted.push((p.iupd.clone(), p.effective_status(at)));
        }
        assert_eq!(
            f.store.sweep_statuses(at).await.unwrap(),
            expected,
            "day {offset}"
        );
        for (iupd, status) in predicted {
            assert_eq!(
                f.store
                    .position(f.ente.id, &iupd)
                    .await
                    .unwrap()
                    .unwrap()
                    .status,
                status,
                "{iupd} day {offset}"
            );
        }
    }
    assert_eq!(
        f.store
            .position(f.ente.id, "EXP")
            .await
            .unwrap()
            .unwrap()
            .status,
        PositionStatus::Expired
    );
    assert_eq!(
        f.store
            .position(f.ente.id, "KEEP")
            .await
            .unwrap()
            .unwrap()
            .status,
        PositionStatus::Valid
    );
}

async fn replaces_ibans_of_open_transfers(backend: Backend) {
    let f = fixture(backend).await;
    for iupd in ["I1", "I2", "I3"] {
        f.store
            .create_position(write(&f.ente, &draft(iupd, &[&[100, 200]]), true))
            .await
            .unwrap();
    }
    f.store
        .invalidate_position(f.ente.id, "I3", ACTOR, now())
        .await
        .unwrap();
    let old = crate::transfer(1, 1).destination;
    let cassa_core::debt::Destination::Account { iban: old, .. } = old else {
        unreachable!()
    };
    let new = cassa_core::Iban::italian("05428", "11101", "123456").unwrap();
    let n = f
        .store
        .replace_transfer_iban(f.ente.id, old.as_str(), new.as_str(), 3, ACTOR, now())
        .await
        .unwrap();
    assert_eq!(n, 3);
    let n = f
        .store
        .replace_transfer_iban(f.ente.id, old.as_str(), new.as_str(), 1000, ACTOR, now())
        .await
        .unwrap();
    assert_eq!(n, 1);
    let i3 = f.store.position(f.ente.id, "I3").await.unwrap().unwrap();
    assert!(
        i3.options[0]
            .transfers
            .iter()
            .all(|t| t.iban.as_deref() == Some(old.as_str()))
    );
    let i1 = f.store.position(f.ente.id, "I1").await.unwrap().unwrap();
    assert!(
        i1.options[0]
            .transfers
            .iter()
            .all(|t| t.iban.as_deref() == Some(new.as_str()))
    );
}
