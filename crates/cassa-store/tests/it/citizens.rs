//! Citizen sessions and OIDC logins: they expire, end, and are taken once.

use cassa_core::CodiceFiscale;
use cassa_core::citizen::{Assurance, AuthMethod, CitizenId, Identity};
use cassa_store::PendingOidcLogin;
use cassa_testkit::{Backend, backend_tests};
use jiff::SignedDuration;

use crate::{fixture, now};

backend_tests!(
    sessions_expire_and_end,
    an_oidc_login_is_taken_once_and_not_after_it_expired,
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

async fn an_oidc_login_is_taken_once_and_not_after_it_expired(backend: Backend) {
    let f = fixture(backend).await;
    let t0 = now();
    let pending = PendingOidcLogin {
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        method: AuthMethod::Cie,
    };
    let ten = SignedDuration::from_mins(10);
    f.store
        .begin_oidc_login("s1", &pending, t0 + ten, t0)
        .await
        .unwrap();
    f.store
        .begin_oidc_login("s2", &pending, t0 + ten, t0)
        .await
        .unwrap();
    let taken = f.store.take_oidc_login("s1", t0).await.unwrap().unwrap();
    assert_eq!((taken.nonce.as_str(), taken.method), ("n", AuthMethod::Cie));
    assert!(
        f.store.take_oidc_login("s1", t0).await.unwrap().is_none(),
        "once"
    );
    let late = t0 + ten + SignedDuration::from_secs(1);
    assert!(
        f.store.take_oidc_login("s2", late).await.unwrap().is_none(),
        "expired"
    );
}
