//! Back-office operators: accounts, roles, lockout, sessions.

use cassa_core::access::{Access, Action, Grant, LOCKOUT, MAX_FAILED_LOGINS, Role};
use cassa_store::{NewOperator, OperatorError};
use cassa_testkit::{Backend, backend_tests, new_ente};
use jiff::SignedDuration;

use crate::{fixture, now, tipo_dovuto};

backend_tests!(
    operators_hold_roles_per_ente_and_tipo_dovuto,
    failed_logins_lock_and_sessions_end,
);

fn operator<'a>(username: &'a str) -> NewOperator<'a> {
    NewOperator {
        username,
        display_name: "Maria Verdi",
        email: Some("maria.verdi@example.org"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        platform_admin: false,
        must_change_password: false,
    }
}

async fn operators_hold_roles_per_ente_and_tipo_dovuto(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let other = store
        .create_ente(
            &new_ente("80050050154", "Regione Lombardia", 1),
            "test",
            now(),
        )
        .await
        .unwrap();
    let mensa = store
        .create_tipo_dovuto(f.ente.id, &tipo_dovuto("MENSA"), "test", now())
        .await
        .unwrap();
    let maria = store
        .create_operator(&operator("maria.verdi"), "cli", now())
        .await
        .unwrap();
    assert!(!maria.platform_admin && maria.active && !maria.totp_enabled);
    let taken = store
        .create_operator(&operator("maria.verdi"), "cli", now())
        .await;
    assert!(
        matches!(taken, Err(OperatorError::UsernameTaken(_))),
        "{taken:?}"
    );
    let bad = store
        .create_operator(&operator("no spaces"), "cli", now())
        .await;
    assert!(
        matches!(
            bad,
            Err(OperatorError::Invalid {
                field: "username",
                ..
            })
        ),
        "{bad:?}"
    );

    let on_mensa = Grant {
        ente_id: f.ente.id,
        role: Role::Operator,
        tipo_dovuto_id: Some(mensa.id),
    };
    store
        .grant_role(maria.id, &on_mensa, "admin", now())
        .await
        .unwrap();
    let reader = Grant {
        ente_id: other.id,
        role: Role::ReadOnly,
        tipo_dovuto_id: None,
    };
    store
        .grant_role(maria.id, &reader, "admin", now())
        .await
        .unwrap();
    // A tipo dovuto of another ente cannot be granted.
    let wrong = Grant {
        ente_id: other.id,
        role: Role::Operator,
        tipo_dovuto_id: Some(mensa.id),
    };
    assert!(matches!(
        store.grant_role(maria.id, &wrong, "admin", now()).await,
        Err(OperatorError::Invalid {
            field: "tipo_dovuto",
            ..
        })
    ));

    let roles = store.roles_of(maria.id).await.unwrap();
    assert_eq!(roles.len(), 2);
    assert!(
        roles
            .iter()
            .any(|r| r.tipo_dovuto_code.as_deref() == Some("MENSA"))
    );
    store
        .login_succeeded(
            maria.id,
            "hash-1",
            "csrf-1",
            None,
            SignedDuration::from_mins(30),
            now(),
        )
        .await
        .unwrap();
    let session = store.session("hash-1", now()).await.unwrap().unwrap();
    assert_eq!(session.operator.username, "maria.verdi");
    assert_eq!(session.csrf, "csrf-1");
    let access: &Access = &session.access;
    assert!(access.can(f.ente.id, Some(mensa.id), Action::ManageDebts));
    assert!(!access.can(f.ente.id, None, Action::ManageDebts));
    assert!(access.can(other.id, None, Action::Read));
    assert!(!access.can(other.id, None, Action::ManageDebts));

    // Changes are in the audit log.
    let events = store
        .audit_events(&cassa_store::AuditFilter {
            entity: Some("operator".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "grant").count(), 2);
    assert!(
        events
            .iter()
            .any(|e| e.action == "create" && e.actor == "cli")
    );
}

async fn failed_logins_lock_and_sessions_end(backend: Backend) {
    let f = fixture(backend).await;
    let store = &f.store;
    let luca = store
        .create_operator(&operator("luca"), "cli", now())
        .await
        .unwrap();
    let t0 = now();
    for attempt in 1..MAX_FAILED_LOGINS {
        assert_eq!(
            store.login_failed(luca.id, t0).await.unwrap(),
            None,
            "attempt {attempt}"
        );
    }
    let (_, credentials) = store.operator_for_login("luca").await.unwrap().unwrap();
    assert_eq!(credentials.failed_logins, MAX_FAILED_LOGINS - 1);
    let locked = store.login_failed(luca.id, t0).await.unwrap();
    assert_eq!(locked, Some(t0 + LOCKOUT));
    let (account, credentials) = store.operator_for_login(" luca ").await.unwrap().unwrap();
    assert_eq!(account.locked_until, Some(t0 + LOCKOUT));
    assert_eq!(credentials.failed_logins, 0);

    store
        .login_succeeded(
            luca.id,
            "h",
            "c",
            Some(100),
            SignedDuration::from_mins(30),
            t0 + LOCKOUT,
        )
        .await
        .unwrap();
    // A TOTP step is spent once: the same or an older one is refused, and
    // of two logins with one code at once, one passes.
    let login = |step: i64, token: &'static str| {
        let store = store.clone();
        async move {
            store
                .login_succeeded(
                    luca.id,
                    token,
                    "c",
                    Some(step),
                    SignedDuration::from_mins(30),
                    t0,
                )
                .await
                .unwrap()
        }
    };
    assert!(!login(100, "h2").await);
    assert!(!login(99, "h3").await);
    assert!(
        store.session("h2", t0).await.unwrap().is_none(),
        "no session from a replay"
    );
    let (a, b) = tokio::join!(
        tokio::spawn(login(101, "h4")),
        tokio::spawn(login(101, "h5"))
    );
    assert_eq!(u8::from(a.unwrap()) + u8::from(b.unwrap()), 1);
    let (account, _) = store.operator_for_login("luca").await.unwrap().unwrap();
    assert_eq!(account.locked_until, None);
    assert!(account.last_login_at.is_some());

    // Sessions expire, can be extended, and end at logout.
    let later = t0 + LOCKOUT + SignedDuration::from_mins(31);
    assert!(store.session("h", later).await.unwrap().is_none());
    store
        .extend_session("h", later + SignedDuration::from_mins(30))
        .await
        .unwrap();
    assert!(store.session("h", later).await.unwrap().is_some());
    store.end_session("h").await.unwrap();
    assert!(store.session("h", later).await.unwrap().is_none());

    store
        .set_totp(luca.id, Some("JBSWY3DPEHPK3PXP"), "luca", now())
        .await
        .unwrap();
    let (account, credentials) = store.operator_for_login("luca").await.unwrap().unwrap();
    assert!(account.totp_enabled);
    assert_eq!(credentials.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));

    // A reset ends every session and asks for a new password.
    assert!(
        store.session("h4", t0).await.unwrap().is_some()
            || store.session("h5", t0).await.unwrap().is_some()
    );
    store
        .reset_password(luca.id, "new-hash", "admin", t0)
        .await
        .unwrap();
    assert!(store.session("h4", t0).await.unwrap().is_none());
    assert!(store.session("h5", t0).await.unwrap().is_none());
    let (account, _) = store.operator_for_login("luca").await.unwrap().unwrap();
    assert!(account.must_change_password);
}
