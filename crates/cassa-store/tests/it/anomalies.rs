//! Anomalies: receipts kept but not applied, listed per ente and across
//! enti, handled once with a note, audited.

use cassa_core::debt::ReceiptStatus;
use cassa_store::{AnomalyFilter, AuditFilter};
use cassa_testkit::{Backend, backend_tests, new_ente};

use crate::payments::receipt;
use crate::{draft, fixture, now, write};

backend_tests!(anomalies_are_listed_and_handled_once);

async fn anomalies_are_listed_and_handled_once(backend: Backend) {
    let f = fixture(backend).await;
    let p = f
        .store
        .create_position(write(&f.ente, &draft("A-1", &[&[1_000]]), true))
        .await
        .unwrap();
    let notice = p.options[0].notice_number.clone();
    for (id, notice, cents) in [
        ("R-ok", notice.as_str(), 1_000),
        ("R-double", notice.as_str(), 1_000),
        ("R-unknown", "302999999999999999", 500),
    ] {
        f.store
            .record_receipt(&receipt(&f, id, notice, cents))
            .await
            .unwrap();
    }
    let other = f
        .store
        .create_ente(&new_ente("80050050154", "Regione", 1), "test", now())
        .await
        .unwrap();
    let mut elsewhere = receipt(&f, "R-other", "301999999999999999", 700);
    elsewhere.ente_id = other.id;
    f.store.record_receipt(&elsewhere).await.unwrap();

    let mine = f
        .store
        .anomalies(&AnomalyFilter {
            ente_ids: Some(vec![f.ente.id]),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let statuses: Vec<ReceiptStatus> = mine.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [ReceiptStatus::UnknownNotice, ReceiptStatus::DoublePayment],
        "the applied receipt is no anomaly; another ente's is not here"
    );
    assert_eq!(mine[0].raw_xml, "<receipt/>");
    assert_eq!(mine[0].payer_name.as_deref(), Some("Mario Rossi"));
    let all = f
        .store
        .anomalies(&AnomalyFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "a platform admin sees every ente's");
    assert_eq!(f.store.open_anomalies().await.unwrap(), 3);

    let double = &mine[1];
    assert!(
        f.store
            .anomaly(other.id, double.id)
            .await
            .unwrap()
            .is_none(),
        "another ente's anomaly is not found"
    );
    assert!(
        f.store
            .handle_anomaly(
                f.ente.id,
                double.id,
                "operator:anna",
                "rimborso disposto",
                now()
            )
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .handle_anomaly(f.ente.id, double.id, "operator:bruno", "di nuovo", now())
            .await
            .unwrap(),
        "handled once"
    );
    let handled = f
        .store
        .anomaly(f.ente.id, double.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(handled.handled_by.as_deref(), Some("operator:anna"));
    assert_eq!(handled.handled_note.as_deref(), Some("rimborso disposto"));
    let open = f
        .store
        .anomalies(&AnomalyFilter {
            ente_ids: Some(vec![f.ente.id]),
            handled: Some(false),
            limit: 50,
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    let events = f
        .store
        .audit_events(&AuditFilter {
            ente_id: Some(f.ente.id),
            entity: Some("receipt".into()),
            entity_key: Some("R-double".into()),
            actor: None,
            limit: Some(10),
        })
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.action == "handle"), "{events:?}");
    // An applied receipt cannot be "handled".
    let applied = f
        .store
        .receipts_of_notice(f.ente.id, &notice)
        .await
        .unwrap()[0]
        .id;
    assert!(
        !f.store
            .handle_anomaly(f.ente.id, applied, "operator:anna", "x", now())
            .await
            .unwrap()
    );
}
