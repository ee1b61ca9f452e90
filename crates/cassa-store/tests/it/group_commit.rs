//! Creates that arrive together share a transaction; one bad create in a
//! batch fails alone.

use std::collections::HashMap;

use cassa_core::Iuv;
use cassa_store::{AuditFilter, CreateError, ListFilter};
use cassa_testkit::{Backend, backend_tests};

use crate::{draft, fixture, write};

backend_tests!(a_bad_create_in_a_batch_fails_alone);

async fn a_bad_create_in_a_batch_fails_alone(backend: Backend) {
    let f = fixture(backend).await;
    let taken = Iuv::parse_for_ente("02000000009999914", f.ente.segregation_code).unwrap();
    let mut tasks = Vec::new();
    for n in 0..120 {
        let (store, ente, taken) = (f.store.clone(), f.ente.clone(), taken.clone());
        tasks.push(tokio::spawn(async move {
            // Every tenth IUPD is requested twice, and every 25th position
            // asks for the same IUV.
            let iupd = if n % 10 == 1 {
                format!("P{}", n - 1)
            } else {
                format!("P{n}")
            };
            let mut d = draft(&iupd, &[&[100], &[200]]);
            if n % 25 == 3 {
                d.options[0].iuv = Some(taken);
            }
            (n, store.create_position(write(&ente, &d, false)).await)
        }));
    }
    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    let mut created = 0;
    for task in tasks {
        let (n, result) = task.await.unwrap();
        let kind = match result {
            Ok(p) => {
                assert_eq!(p.options.len(), 2, "position {n}");
                assert!(p.id > 0 && p.options.iter().all(|o| o.id > 0));
                created += 1;
                "created"
            }
            Err(CreateError::DuplicateIupd(_)) => "duplicate iupd",
            Err(CreateError::DuplicateIuv(iuv)) => {
                assert_eq!(iuv, "02000000009999914");
                "duplicate iuv"
            }
            Err(e) => panic!("position {n}: {e}"),
        };
        *outcomes.entry(kind).or_default() += 1;
    }
    // 12 IUPDs asked twice: 12 refused. 5 asked for one IUV: 4 refused.
    assert_eq!(outcomes["duplicate iupd"], 12, "{outcomes:?}");
    assert_eq!(outcomes["duplicate iuv"], 4, "{outcomes:?}");
    assert_eq!(created, 104);

    let listed = f
        .store
        .list_positions(
            f.ente.id,
            &ListFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.total, created as u64);
    let audit = f
        .store
        .audit_events(&AuditFilter {
            ente_id: Some(f.ente.id),
            entity: Some("debt_position".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit.len(),
        created,
        "one audit event per stored position, none for refused ones"
    );
    // What was answered is what was stored.
    let one = f.store.position(f.ente.id, "P7").await.unwrap().unwrap();
    assert_eq!(audit.iter().filter(|e| e.entity_key == "P7").count(), 1);
    assert_eq!(one.options[1].transfers[0].amount.get(), 200);
}
