//! Gestione Dovuti's search and cancellation.

use cassa_core::DebtorId;
use cassa_core::access::TipoScope;
use cassa_core::debt::PositionStatus;
use cassa_store::{Actor, DovutiFilter, DovutiSort};
use cassa_testkit::{Backend, backend_tests};

use crate::{days, draft, fixture, now, tipo_dovuto, write};

backend_tests!(dovuti_are_found_by_every_filter_within_scope);

async fn dovuti_are_found_by_every_filter_within_scope(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let mensa = store
        .create_tipo_dovuto(f.ente.id, &tipo_dovuto("MENSA"), "test", now())
        .await
        .unwrap();
    let mut notices = Vec::new();
    for (i, (name, code, cents, tipo)) in [
        ("Mario Rossi", "RSSMRA85T10A562S", 5_000, None),
        ("Giulia Bianchi", "BNCGLI90C45F205Y", 7_500, Some(mensa.id)),
        (
            "Àngela Bianchini",
            "BNCGLI90C45F205Y",
            2_500,
            Some(mensa.id),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = draft(&format!("D-{i}"), &[&[cents]]);
        d.debtor.full_name = name.into();
        d.debtor.id = DebtorId::parse(code).unwrap();
        let mut w = write(&f.ente, &d, true);
        w.tipo_dovuto_id = tipo;
        let p = store.create_position(w).await.unwrap();
        notices.push(p.options[0].notice_number.clone());
    }
    let all = TipoScope::All;
    let search = |filter: DovutiFilter, scope: TipoScope| async move {
        let (rows, total) = store
            .search_dovuti(f.ente.id, &scope, &filter)
            .await
            .unwrap();
        (rows.into_iter().map(|r| r.iupd).collect::<Vec<_>>(), total)
    };
    let base = DovutiFilter {
        per_page: 20,
        ..Default::default()
    };
    assert_eq!(search(base.clone(), all.clone()).await.1, 3);
    let by_notice = DovutiFilter {
        notice: Some(notices[1].clone()),
        ..base.clone()
    };
    assert_eq!(search(by_notice, all.clone()).await.0, ["D-1"]);
    let by_iuv = DovutiFilter {
        notice: Some(notices[2][1..].to_owned()),
        ..base.clone()
    };
    assert_eq!(search(by_iuv, all.clone()).await.0, ["D-2"]);
    let by_code = DovutiFilter {
        debtor_fiscal_code: Some("bncgli90c45f205y".into()),
        ..base.clone()
    };
    assert_eq!(search(by_code, all.clone()).await.1, 2);
    let by_name = DovutiFilter {
        debtor_name: Some("bianchi".into()),
        ..base.clone()
    };
    assert_eq!(search(by_name, all.clone()).await.1, 2);
    let by_tipo = DovutiFilter {
        tipo_dovuto_id: Some(mensa.id),
        ..base.clone()
    };
    assert_eq!(search(by_tipo, all.clone()).await.1, 2);
    let by_iupd = DovutiFilter {
        iupd: Some("D-0".into()),
        ..base.clone()
    };
    assert_eq!(search(by_iupd, all.clone()).await.0, ["D-0"]);
    let due = DovutiFilter {
        due: Some((now() - days(1), now() + days(3650))),
        ..base.clone()
    };
    assert_eq!(search(due, all.clone()).await.1, 3);
    let none_due = DovutiFilter {
        due: Some((now() - days(10), now() - days(5))),
        ..base.clone()
    };
    assert_eq!(search(none_due, all.clone()).await.1, 0);

    // Sorted by amount, paged by two.
    let by_amount = DovutiFilter {
        sort: DovutiSort::Amount,
        per_page: 2,
        ..base.clone()
    };
    assert_eq!(
        search(by_amount.clone(), all.clone()).await.0,
        ["D-2", "D-0"]
    );
    let page_two = DovutiFilter {
        page: 1,
        ..by_amount.clone()
    };
    assert_eq!(search(page_two, all.clone()).await.0, ["D-1"]);
    let descending = DovutiFilter {
        descending: true,
        ..by_amount
    };
    assert_eq!(search(descending, all.clone()).await.0, ["D-1", "D-0"]);

    // An operator of one tipo dovuto sees only its debts, whatever the filter.
    let (rows, total) = (search(base.clone(), TipoScope::Only(vec![mensa.id]))).await;
    assert_eq!((total, rows.len()), (2, 2));
    assert!(!rows.contains(&"D-0".to_owned()));
    assert_eq!(search(base.clone(), TipoScope::Only(vec![])).await.1, 0);

    // Cancelled with a reason: the status filter finds it, the audit keeps why.
    let actor = Actor {
        name: "operator:1",
        request_id: None,
    };
    store
        .cancel_position(f.ente.id, "D-0", actor, "emesso per errore", now())
        .await
        .unwrap();
    let invalid = DovutiFilter {
        status: Some(PositionStatus::Invalid),
        ..base
    };
    assert_eq!(search(invalid, all).await.0, ["D-0"]);
    let events = store
        .audit_events(&cassa_store::AuditFilter {
            entity_key: Some("D-0".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let cancel = events.iter().find(|e| e.action == "invalidate").unwrap();
    assert_eq!(
        cancel.after.as_ref().unwrap()["reason"],
        "emesso per errore"
    );
    assert_eq!(cancel.actor, "operator:1");
}
