//! Citizen sessions and OIDC logins: they expire, end, and are taken once.

use cassa_core::CodiceFiscale;
use cassa_core::citizen::{Assurance, AuthMethod, CitizenId, Identity};
use cassa_store::Origin;
use cassa_testkit::{Backend, backend_tests};
use jiff::SignedDuration;

use crate::{draft, fixture, now, write};

backend_tests!(
    sessions_expire_and_end,
    a_debt_asked_by_someone_else_is_listed_once_paid,
);

fn mario() -> Identity {
    Identity {
        id: CitizenId::FiscalCode(CodiceFiscale::parse("RSSMRA80A01F205X").unwrap()),
        given_name: "Mario".into(),
        family_name: "Rossi".into(),
        method: AuthMethod::Spid,
        assurance: Some(Assurance::Substantial),
    }
}

async fn sessions_expire_and_end(backend: Backend) {
    let f = fixture(backend).await;
    let t0 = now();
    let half_hour = SignedDuration::from_mins(30);
    f.store
        .start_citizen_session("h1", &mario(), "oidc", None, t0 + half_hour, t0)
        .await
        .unwrap();
    let session = f.store.citizen_session("h1", t0).await.unwrap().unwrap();
    assert_eq!(session.citizen, mario().id);
    assert_eq!(session.assurance, Some(Assurance::Substantial));
    assert_eq!(session.method, AuthMethod::Spid);
    // Idle past its end: gone.
    let later = t0 + half_hour + SignedDuration::from_secs(1);
    assert!(
        f.store
            .citizen_session("h1", later)
            .await
            .unwrap()
            .is_none()
    );
    // Kept alive by use, it lives on.
    f.store
        .touch_citizen_session("h1", later + half_hour, t0 + SignedDuration::from_mins(20))
        .await
        .unwrap();
    assert!(
        f.store
            .citizen_session("h1", later)
            .await
            .unwrap()
            .is_some()
    );
    // A new login of the same browser replaces it; logout ends the new one.
    f.store
        .start_citizen_session(
            "h2",
            &mario(),
            "headers",
            Some("h1"),
            later + half_hour,
            later,
        )
        .await
        .unwrap();
    assert!(
        f.store
            .citizen_session("h1", later)
            .await
            .unwrap()
            .is_none()
    );
    f.store.end_citizen_session("h2").await.unwrap();
    assert!(
        f.store
            .citizen_session("h2", later)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_debt_asked_by_someone_else_is_listed_once_paid(backend: Backend) {
    let f = fixture(backend).await;
    let debtor = "RSSMRA85T10A562S";
    let mut ids = Vec::new();
    for (iupd, origin) in [("OWN", Origin::Portal), ("OTHER", Origin::PortalThirdParty)] {
        let d = draft(iupd, &[&[1_500]]);
        let mut w = write(&f.ente, &d, true);
        w.origin = origin;
        ids.push(f.store.create_position(w).await.unwrap().id);
    }
    let open = f
        .store
        .open_positions_of_debtor(debtor, now())
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|p| p.iupd.as_str()).collect::<Vec<_>>(),
        ["OWN"]
    );
    assert!(
        f.store
            .position_of_debtor(ids[1], debtor)
            .await
            .unwrap()
            .is_none()
    );
    // Paid: then it is the debtor's payment, and shown.
    let position = f
        .store
        .position_of_debtor(ids[0], debtor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(position.iupd, "OWN");
    let notice = f
        .store
        .position(f.ente.id, "OTHER")
        .await
        .unwrap()
        .unwrap()
        .options[0]
        .notice_number
        .clone();
    f.store
        .record_receipt(&crate::payments::receipt(&f, "rt-other", &notice, 1_500))
        .await
        .unwrap();
    assert!(
        f.store
            .position_of_debtor(ids[1], debtor)
            .await
            .unwrap()
            .is_some()
    );
}
