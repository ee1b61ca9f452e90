//! The back office over HTTP: login, lockout, TOTP, logout; Gestione
//! Dovuti; and every ente route tried by operators who must not pass.

use cassa_core::access::{Grant, MAX_FAILED_LOGINS, Role};
use cassa_store::{NewOperator, Store};
use cassa_testkit::{Backend, backend_tests};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};

use crate::portal::{browser, page, post, token};
use crate::{MILANO, REGIONE, TestApp, create_ente, position_body};

backend_tests!(
    operators_log_in_lock_out_and_log_out,
    a_second_factor_is_asked_once_turned_on,
    debts_are_searched_created_cancelled_and_printed,
    no_route_shows_another_entes_debts,
    an_ente_admin_configures_a_tipo_dovuto_the_portal_shows_at_once,
    statistics_count_each_operators_enti,
    a_platform_admin_onboards_and_suspends_an_ente,
    an_ente_admin_gives_and_takes_roles,
    an_account_changes_resets_and_deactivates,
);

const PASSWORD: &str = "Tre-Cime-di-Lavaredo";

/// A role on a whole ente.
pub(crate) fn on(ente_id: i64, role: Role) -> Option<Grant> {
    Some(Grant {
        ente_id,
        role,
        tipo_dovuto_id: None,
    })
}

pub(crate) async fn operator(store: &Store, username: &str, grant: Option<Grant>) -> i64 {
    let hash = cassa_web::backoffice::hash_password(PASSWORD);
    let op = store
        .create_operator(
            &NewOperator {
                username,
                display_name: &format!("Operatore {username}"),
                email: None,
                password_hash: &hash,
                platform_admin: false,
                must_change_password: false,
            },
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    if let Some(grant) = grant {
        store
            .grant_role(op.id, &grant, "test", Timestamp::now())
            .await
            .unwrap();
    }
    op.id
}

async fn try_login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    let csrf = token(client, &format!("{base}/backoffice/login")).await;
    post(
        client,
        &format!("{base}/backoffice/login"),
        &[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
            ("code", code),
            ("next", "/backoffice"),
        ],
    )
    .await
}

pub(crate) async fn logged_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = browser();
    let response = try_login(&client, &app.base, username, PASSWORD, "").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    client
}

/// The session's form token, from any signed-in page.
pub(crate) async fn session_token(client: &reqwest::Client, base: &str) -> String {
    token(client, &format!("{base}/backoffice")).await
}

async fn operators_log_in_lock_out_and_log_out(backend: Backend) {
    let app = TestApp::start(backend).await;
    operator(&app.store, "maria", on(app.ente.id, Role::Operator)).await;
    operator(&app.store, "luca", None).await;
    let client = browser();
    // Signed-out pages lead to the login, keeping where they were going.
    let away = client
        .get(format!("{}/backoffice/enti/{MILANO}/dovuti", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(away.status(), StatusCode::SEE_OTHER);
    assert!(
        away.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/backoffice/login?next=%2Fbackoffice%2Fenti")
    );

    // A wrong password and an unknown user get the same words.
    for (user, password) in [("maria", "wrong password"), ("nobody", PASSWORD)] {
        let refused = try_login(&client, &app.base, user, password, "").await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Nome utente o password errati")
        );
    }
    let ok = try_login(&client, &app.base, "maria", PASSWORD, "").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let home = page(&client, &format!("{}/backoffice", app.base)).await;
    assert!(home.contains("Operatore maria"), "{home}");
    assert!(home.contains("Comune di Milano"));

    // Logout needs the session's token, then the session is gone.
    let forged = post(
        &client,
        &format!("{}/backoffice/logout", app.base),
        &[("csrf", "x")],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let csrf = session_token(&client, &app.base).await;
    let out = post(
        &client,
        &format!("{}/backoffice/logout", app.base),
        &[("csrf", csrf)],
    )
    .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = client
        .get(format!("{}/backoffice", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);

    // Five failures lock the account: even the right password is refused.
    let other = browser();
    for _ in 0..MAX_FAILED_LOGINS {
        try_login(&other, &app.base, "luca", "wrong password", "").await;
    }
    let locked = try_login(&other, &app.base, "luca", PASSWORD, "").await;
    assert_eq!(locked.status(), StatusCode::UNAUTHORIZED);
    assert!(locked.text().await.unwrap().contains("Account bloccato"));
    // Without the form token nothing is tried at all.
    let no_token = post(
        &browser(),
        &format!("{}/backoffice/login", app.base),
        &[("username", "maria"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
}

fn code_now(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .unwrap()
        .generate(Timestamp::now().as_second() as u64)
}

async fn a_second_factor_is_asked_once_turned_on(backend: Backend) {
    let app = TestApp::start(backend).await;
    operator(&app.store, "anna", None).await;
    let client = logged_in(&app, "anna").await;
    let account = page(&client, &format!("{}/backoffice/account", app.base)).await;
    let start = account.find("id=\"totp-secret\">").unwrap() + 17;
    let secret = account[start..start + 32].to_owned();
    let csrf = session_token(&client, &app.base).await;
    let wrong = post(
        &client,
        &format!("{}/backoffice/account/totp", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("turn", "on"),
            ("secret", &secret),
            ("code", "000000"),
        ],
    )
    .await;
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Codice di verifica mancante o errato")
    );
    let on = post(
        &client,
        &format!("{}/backoffice/account/totp", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("turn", "on"),
            ("secret", &secret),
            ("code", &code_now(&secret)),
        ],
    )
    .await;
    assert_eq!(on.status(), StatusCode::SEE_OTHER);

    let fresh = browser();
    let without = try_login(&fresh, &app.base, "anna", PASSWORD, "").await;
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    assert!(without.text().await.unwrap().contains("Codice di verifica"));
    let code = code_now(&secret);
    let with = try_login(&fresh, &app.base, "anna", PASSWORD, &code).await;
    assert_eq!(with.status(), StatusCode::SEE_OTHER);
    // The same code again, within its 30 seconds (seen over a shoulder,
    // phished): refused.
    let replay = try_login(&browser(), &app.base, "anna", PASSWORD, &code).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);

    // Off: a session alone is not enough, nor the password without a code.
    let totp = format!("{}/backoffice/account/totp", app.base);
    for (password, code) in [
        ("", ""),
        (PASSWORD, "000000"),
        ("wrong-password", &code_now(&secret)[..]),
    ] {
        let refused = post(
            &client,
            &totp,
            &[
                ("csrf", csrf.as_str()),
                ("turn", "off"),
                ("password", password),
                ("code", code),
            ],
        )
        .await;
        assert!(refused.text().await.unwrap().contains("resta attiva"));
    }
    let anna = app.store.operator_for_login("anna").await.unwrap().unwrap();
    assert!(anna.0.totp_enabled);
    let off = post(
        &client,
        &totp,
        &[
            ("csrf", csrf.as_str()),
            ("turn", "off"),
            ("password", PASSWORD),
            ("code", &code_now(&secret)),
        ],
    )
    .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let anna = app.store.operator_for_login("anna").await.unwrap().unwrap();
    assert!(!anna.0.totp_enabled);
}

/// Changes the signed-in operator's password from `current` to PASSWORD,
/// as the account page does.
async fn change_own_password(client: &reqwest::Client, base: &str, current: &str) {
    let forced = client
        .get(format!("{base}/backoffice"))
        .send()
        .await
        .unwrap();
    assert_eq!(forced.headers()["location"], "/backoffice/account");
    let account = page(client, &format!("{base}/backoffice/account")).await;
    assert!(account.contains("scegline una nuova"), "{account}");
    let csrf = token(client, &format!("{base}/backoffice/account")).await;
    let changed = post(
        client,
        &format!("{base}/backoffice/account/password"),
        &[
            ("csrf", csrf.as_str()),
            ("current", current),
            ("new", PASSWORD),
            ("repeat", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        changed.headers()["location"],
        "/backoffice/account?esito=password"
    );
}

async fn debts_are_searched_created_cancelled_and_printed(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.add_tipo_dovuto("MENSA").await;
    operator(&app.store, "maria", on(app.ente.id, Role::Operator)).await;
    let client = logged_in(&app, "maria").await;
    let base = format!("{}/backoffice/enti/{MILANO}/dovuti", app.base);

    // A debt by hand: mistakes first, shown beside their fields.
    let csrf = session_token(&client, &app.base).await;
    let refused = post(
        &client,
        &format!("{base}/nuovo"),
        &[
            ("csrf", csrf.as_str()),
            ("tipo", "MENSA"),
            ("fiscal_code", "RSSMRA85T10A562X"),
            ("name", "Mario Rossi"),
            ("amount", "dieci"),
            ("due", "2020-01-01"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    for field in ["fiscal_code", "amount", "due"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field}: {html}"
        );
    }
    assert!(
        html.contains("value=\"Mario Rossi\""),
        "the form keeps what was typed"
    );
    let created = post(
        &client,
        &format!("{base}/nuovo"),
        &[
            ("csrf", csrf.as_str()),
            ("tipo", "MENSA"),
            ("fiscal_code", "rssmra85t10a562s"),
            ("name", "Mario Rossi"),
            ("email", "mario.rossi@example.org"),
            ("amount", "48,50"),
            ("due", "2030-06-30"),
            ("description", "Mensa giugno"),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let detail_url = format!(
        "{}{}",
        app.base,
        created.headers()["location"].to_str().unwrap()
    );
    let detail = page(&client, &detail_url).await;
    assert!(detail.contains("Il dovuto è stato creato"), "{detail}");
    assert!(detail.contains("48,50 €"));
    assert!(detail.contains("Mensa giugno"));
    assert!(detail.contains("operator:maria"), "the history names who");
    let stored = app
        .store
        .search_dovuti(
            app.ente.id,
            &cassa_core::access::TipoScope::All,
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(stored.0.len(), 1);
    assert_eq!(stored.0[0].tipo_dovuto_code.as_deref(), Some("MENSA"));

    // Published through the API too; the search finds each by its filters.
    let reply = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&position_body("TARI-9", &[&[10_000]])),
        )
        .await;
    let nav = reply.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_notice = page(&client, &format!("{base}?avviso={nav}")).await;
    assert!(
        by_notice.contains(">TARI-9<") && by_notice.contains("Risultati: 1"),
        "{by_notice}"
    );
    let by_name = page(&client, &format!("{base}?nome=rossi&ordina=importo&desc=1")).await;
    assert!(by_name.contains("Risultati: 2"));
    assert!(
        by_name.find("TARI-9").unwrap() < by_name.find("BO-").unwrap(),
        "sorted by amount, largest first"
    );

    // Print its notice, then cancel it: a reason is required.
    let pdf = client
        .get(format!("{base}/TARI-9/avviso"))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    let no_reason = post(
        &client,
        &format!("{base}/TARI-9/annulla"),
        &[("csrf", csrf.as_str()), ("reason", " ")],
    )
    .await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason
            .text()
            .await
            .unwrap()
            .contains("id=\"reason-error\"")
    );
    let cancelled = post(
        &client,
        &format!("{base}/TARI-9/annulla"),
        &[("csrf", csrf.as_str()), ("reason", "Emesso per errore")],
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    let detail = page(&client, &format!("{base}/TARI-9")).await;
    assert!(
        detail.contains("INVALID") && detail.contains("Emesso per errore"),
        "{detail}"
    );
    let invalid = page(&client, &format!("{base}?stato=INVALID")).await;
    assert!(invalid.contains("Risultati: 1"));
}

async fn no_route_shows_another_entes_debts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (regione, _) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    let mensa = app.add_tipo_dovuto("MENSA").await;
    app.call(
        Method::POST,
        &format!("{}?toPublish=true", app.positions()),
        Some(&position_body("TARI-1", &[&[10_000]])),
    )
    .await;
    operator(&app.store, "regione", on(regione.id, Role::EnteAdmin)).await;
    operator(&app.store, "lettore", on(app.ente.id, Role::ReadOnly)).await;
    operator(
        &app.store,
        "mensa",
        Some(Grant {
            ente_id: app.ente.id,
            role: Role::Operator,
            tipo_dovuto_id: Some(mensa.id),
        }),
    )
    .await;

    // Every ente route, as an ente admin of another ente: not found, all.
    let outsider = logged_in(&app, "regione").await;
    let csrf = session_token(&outsider, &app.base).await;
    let base = format!("{}/backoffice/enti/{MILANO}", app.base);
    for path in [
        "/dovuti",
        "/dovuti?cf=RSSMRA85T10A562S",
        "/dovuti/TARI-1",
        "/dovuti/TARI-1/avviso",
        "/dovuti/nuovo",
    ] {
        let r = outsider.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "GET {path}");
        assert!(
            !r.text().await.unwrap().contains("RSSMRA85T10A562S"),
            "GET {path}"
        );
    }
    for path in ["/dovuti/TARI-1/annulla", "/dovuti/nuovo"] {
        let r = post(
            &outsider,
            &format!("{base}{path}"),
            &[("csrf", csrf.as_str()), ("reason", "x"), ("tipo", "MENSA")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    let unknown = outsider
        .get(format!("{}/backoffice/enti/00000000000/dovuti", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        StatusCode::NOT_FOUND,
        "an ente that does not exist looks the same"
    );
    assert_eq!(
        app.store
            .position(app.ente.id, "TARI-1")
            .await
            .unwrap()
            .unwrap()
            .status
            .code(),
        "VALID"
    );
    // Its own activity log shows only its own ente.
    let activity = page(
        &outsider,
        &format!("{}/backoffice/attivita?ente={MILANO}", app.base),
    )
    .await;
    assert!(!activity.contains("TARI-1"), "{activity}");

    // Read-only: sees, changes nothing.
    let reader = logged_in(&app, "lettore").await;
    let csrf = session_token(&reader, &app.base).await;
    assert!(
        page(&reader, &format!("{base}/dovuti"))
            .await
            .contains("TARI-1")
    );
    let r = post(
        &reader,
        &format!("{base}/dovuti/TARI-1/annulla"),
        &[("csrf", csrf.as_str()), ("reason", "x")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = reader
        .get(format!("{base}/dovuti/nuovo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = reader
        .get(format!("{}/backoffice/attivita", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "only admins read the activity log"
    );

    // One tipo dovuto only: the TARI debt (no tipo) is invisible.
    let narrow = logged_in(&app, "mensa").await;
    let list = page(&narrow, &format!("{base}/dovuti")).await;
    assert!(list.contains("Risultati: 0"), "{list}");
    let r = narrow
        .get(format!("{base}/dovuti/TARI-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn an_ente_admin_configures_a_tipo_dovuto_the_portal_shows_at_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    operator(&app.store, "capo", on(app.ente.id, Role::EnteAdmin)).await;
    operator(&app.store, "maria", on(app.ente.id, Role::Operator)).await;
    let client = logged_in(&app, "capo").await;
    let csrf = session_token(&client, &app.base).await;
    let tipi = format!("{}/backoffice/enti/{MILANO}/tipi", app.base);
    let form = |code: &str, taxonomy: &str, iban: &str, pattern: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("code".into(), code.into()),
            ("name".into(), "Permesso ZTL".into()),
            (
                "description".into(),
                "Permesso annuale per la zona a traffico limitato".into(),
            ),
            ("taxonomy".into(), taxonomy.into()),
            ("iban".into(), iban.into()),
            ("rule".into(), "fixed".into()),
            ("fixed".into(), "60,00".into()),
            ("spontaneous".into(), "on".into()),
            ("tags".into(), "ZTL, auto, permessi".into()),
            ("installments".into(), "in_order".into()),
            ("f0_name".into(), "targa".into()),
            ("f0_label".into(), "Targa del veicolo".into()),
            ("f0_type".into(), "text".into()),
            ("f0_required".into(), "on".into()),
            ("f0_pattern".into(), pattern.into()),
            ("f0_help".into(), "Ad esempio FX123YZ".into()),
            ("f1_name".into(), String::new()),
            ("f1_label".into(), String::new()),
            ("f1_type".into(), "text".into()),
        ]
    };
    // Every mistake at once, each beside its field, the typed values kept.
    let refused = post(
        &client,
        &format!("{tipi}/nuovo"),
        &form("ZTL", "9/9999999XX/", "IT00X0000000000000000000000", "[A-Z"),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    for field in ["taxonomy-error", "iban-error"] {
        assert!(html.contains(field), "{field}: {html}");
    }
    assert!(
        html.contains("Formato non valido"),
        "the bad pattern is named"
    );
    assert!(html.contains("value=\"Targa del veicolo\""));
    let taxonomy = "9/0201102IM/";
    assert!(
        cassa_core::taxonomy::Catalogue::official()
            .get(&taxonomy.parse().unwrap())
            .is_some()
    );
    let created = post(
        &client,
        &format!("{tipi}/nuovo"),
        &form("ZTL", taxonomy, "", "[A-Z]{2}[0-9]{3}[A-Z]{2}"),
    )
    .await;
    assert_eq!(
        created.status(),
        StatusCode::SEE_OTHER,
        "{}",
        created.text().await.unwrap()
    );
    let stored = app
        .store
        .tipo_dovuto_by_code(app.ente.id, "ZTL")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.installment_mode,
        cassa_core::debt::InstallmentMode::InOrder
    );
    let again = post(
        &client,
        &format!("{tipi}/nuovo"),
        &form("ZTL", taxonomy, "", ""),
    )
    .await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "a code is the ente's once"
    );

    // The portal shows it at once, with its form and its pattern.
    let portal = browser();
    let ente_page = page(&portal, &format!("{}/enti/{MILANO}", app.base)).await;
    assert!(ente_page.contains("Permesso ZTL"), "{ente_page}");
    let spontaneous = page(&portal, &format!("{}/enti/{MILANO}/paga/ZTL", app.base)).await;
    assert!(
        spontaneous.contains("Targa del veicolo") && spontaneous.contains("Ad esempio FX123YZ")
    );
    let csrf_portal = token(&portal, &format!("{}/enti/{MILANO}/paga/ZTL", app.base)).await;
    let wrong_plate = post(
        &portal,
        &format!("{}/enti/{MILANO}/paga/ZTL", app.base),
        &[
            ("csrf", csrf_portal.as_str()),
            ("f_targa", "12345"),
            ("debtor_fiscal_code", "RSSMRA85T10A562S"),
            ("debtor_name", "Mario Rossi"),
            ("email", "m@example.org"),
        ],
    )
    .await;
    assert!(
        wrong_plate
            .text()
            .await
            .unwrap()
            .contains("non è nel formato richiesto")
    );

    // Turned off: gone from the portal; the change is in the activity log.
    let mut off = form("ZTL", taxonomy, "", "[A-Z]{2}[0-9]{3}[A-Z]{2}");
    off.retain(|(k, _)| k != "code");
    let updated = post(&client, &format!("{tipi}/ZTL"), &off).await;
    assert_eq!(updated.status(), StatusCode::SEE_OTHER);
    assert!(
        !page(&portal, &format!("{}/enti/{MILANO}", app.base))
            .await
            .contains("Permesso ZTL")
    );
    let edit = page(&client, &format!("{tipi}/ZTL")).await;
    assert!(
        !edit.contains("id=\"active\" name=\"active\" checked"),
        "saved as inactive"
    );
    let activity = page(
        &client,
        &format!("{}/backoffice/attivita?oggetto=ZTL", app.base),
    )
    .await;
    assert!(
        activity.contains("update tipo_dovuto") && activity.contains("operator:capo"),
        "{activity}"
    );

    // An operator (not an admin) may not configure.
    let maria = logged_in(&app, "maria").await;
    let r = maria.get(&tipi).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = session_token(&maria, &app.base).await;
    let r = post(
        &maria,
        &format!("{tipi}/ZTL"),
        &[("csrf", csrf.as_str()), ("name", "x")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

fn stat(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

async fn statistics_count_each_operators_enti(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (regione, _) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    let reply = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&position_body("STAT-1", &[&[12_345]])),
        )
        .await;
    let nav = reply.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned();
    app.pay_at_psp(MILANO, &nav).await;
    operator(&app.store, "milano", on(app.ente.id, Role::ReadOnly)).await;
    operator(&app.store, "regione", on(regione.id, Role::ReadOnly)).await;
    let milano = page(
        &logged_in(&app, "milano").await,
        &format!("{}/backoffice/statistiche", app.base),
    )
    .await;
    assert_eq!(stat(&milano, "stat-payments-year"), "1", "{milano}");
    assert_eq!(stat(&milano, "stat-payments-total"), "1");
    assert!(milano.contains("123,45 €"));
    assert!(milano.contains("<svg") && milano.contains("role=\"img\""));
    let other = logged_in(&app, "regione").await;
    let regione_page = page(&other, &format!("{}/backoffice/statistiche", app.base)).await;
    assert_eq!(stat(&regione_page, "stat-payments-total"), "0");
    // Asking for another ente's numbers gives one's own.
    let asked = page(
        &other,
        &format!("{}/backoffice/statistiche?ente={MILANO}", app.base),
    )
    .await;
    assert_eq!(stat(&asked, "stat-payments-total"), "0");
    // An operator of one tipo dovuto sees that tipo's payments, not the
    // ente's (the debt paid above has no tipo).
    let mensa = app.add_tipo_dovuto("MENSA").await;
    let grant = Grant {
        ente_id: app.ente.id,
        role: Role::ReadOnly,
        tipo_dovuto_id: Some(mensa.id),
    };
    operator(&app.store, "mensa", Some(grant)).await;
    let canteen = page(
        &logged_in(&app, "mensa").await,
        &format!("{}/backoffice/statistiche?ente={MILANO}", app.base),
    )
    .await;
    assert_eq!(stat(&canteen, "stat-payments-total"), "0", "{canteen}");
    assert!(!canteen.contains("123,45 €"));
}

async fn a_platform_admin_onboards_and_suspends_an_ente(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hash = cassa_web::backoffice::hash_password(PASSWORD);
    app.store
        .create_operator(
            &NewOperator {
                username: "root",
                display_name: "Admin",
                email: None,
                password_hash: &hash,
                platform_admin: true,
                must_change_password: false,
            },
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    operator(&app.store, "maria", on(app.ente.id, Role::EnteAdmin)).await;
    let admin = logged_in(&app, "root").await;
    let csrf = session_token(&admin, &app.base).await;
    let url = format!("{}/backoffice/admin/enti", app.base);
    let fields = |cf: &str, segregation: &str, iban: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("fiscal_code", cf.to_owned()),
            ("segregation_code", segregation.to_owned()),
            ("name", "Comune di Bergamo".to_owned()),
            ("ipa_code", "c_a794".to_owned()),
            ("cbill", "abc12".to_owned()),
            ("iban", iban.to_owned()),
            ("email", "tributi@comune.bergamo.example".to_owned()),
            ("membership_mode", "flussi".to_owned()),
        ]
    };
    let mut bad = fields("00000000001", "123", "IT00X");
    bad.push(("station_ids", "80050050154_1".to_owned()));
    let refused = post(&admin, &format!("{url}/nuovo"), &bad).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    for field in [
        "fiscal_code-error",
        "segregation_code-error",
        "iban-error",
        "station_ids-error",
    ] {
        assert!(html.contains(field), "{field}");
    }
    assert!(html.contains("value=\"Comune di Bergamo\""));
    let iban = cassa_core::Iban::italian("03069", "11100", "100000046039").unwrap();
    let mut good = fields("80034390163", "04", iban.as_str());
    good.push(("station_ids", "80034390163_01, 80050050154_03".to_owned()));
    let created = post(&admin, &format!("{url}/nuovo"), &good).await;
    assert_eq!(
        created.status(),
        StatusCode::SEE_OTHER,
        "{}",
        created.text().await.unwrap()
    );
    let again = post(
        &admin,
        &format!("{url}/nuovo"),
        &fields("80034390163", "04", iban.as_str()),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let portal = browser();
    assert!(
        page(&portal, &format!("{}/enti?q=bergamo", app.base))
            .await
            .contains("Comune di Bergamo")
    );
    let stored = app
        .store
        .ente_by_fiscal_code("80034390163")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.cbill.as_deref(), stored.segregation_code.get()),
        (Some("ABC12"), 4)
    );
    assert_eq!(stored.station_ids, ["80034390163_01", "80050050154_03"]);

    // The logo and Poste's authorisation, on the ente's page.
    let edit = format!("{url}/80034390163");
    let printing = |logo: &[u8], authorization: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "logo",
                reqwest::multipart::Part::bytes(logo.to_vec()).file_name("logo.png"),
            )
            .text("postal_authorization", authorization.to_owned())
    };
    let gif = admin
        .post(format!("{edit}/stampa"))
        .multipart(printing(b"GIF89a", "Aut. n. 1"))
        .send()
        .await
        .unwrap();
    assert_eq!(gif.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = gif.text().await.unwrap();
    assert!(
        html.contains("logo-error") && html.contains("not a PNG"),
        "{html}"
    );
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(0..=255u8);
    let saved = admin
        .post(format!("{edit}/stampa"))
        .multipart(printing(&png, "Aut. n. 123456 del 01/01/2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let shown = page(&admin, &format!("{edit}?esito=stampa")).await;
    assert!(shown.contains("Impostazioni di stampa salvate") && shown.contains("logo.png"));
    let served = admin.get(format!("{edit}/logo.png")).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());
    let printed = app.store.ente_printing(stored.id).await.unwrap();
    assert_eq!(
        printed.postal_authorization.as_deref(),
        Some("Aut. n. 123456 del 01/01/2026")
    );
    // An empty file keeps the logo.
    let kept = admin
        .post(format!("{edit}/stampa"))
        .multipart(printing(b"", "Aut. n. 2"))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);
    let served = admin.get(format!("{edit}/logo.png")).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());

    // Suspended: off the portal, the change audited.
    let mut suspend = fields("80034390163", "04", iban.as_str());
    suspend.retain(|(k, _)| *k != "fiscal_code" && *k != "segregation_code");
    let saved = post(&admin, &format!("{url}/80034390163"), &suspend).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(
        !app.store
            .ente_by_fiscal_code("80034390163")
            .await
            .unwrap()
            .unwrap()
            .active
    );
    let r = portal
        .get(format!("{}/enti/80034390163", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let activity = page(
        &admin,
        &format!("{}/backoffice/attivita?oggetto=80034390163", app.base),
    )
    .await;
    assert!(activity.contains("suspend ente"), "{activity}");

    // Only platform admins reach these pages.
    let maria = logged_in(&app, "maria").await;
    let r = maria.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = session_token(&maria, &app.base).await;
    let r = post(
        &maria,
        &format!("{url}/nuovo"),
        &[("csrf", csrf.as_str()), ("fiscal_code", "80034390163")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let logo = maria
        .get(format!("{url}/80034390163/logo.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), StatusCode::FORBIDDEN);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("postal_authorization", "Aut. falsa");
    let r = maria
        .post(format!("{url}/80034390163/stampa"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let unchanged = app.store.ente_printing(stored.id).await.unwrap();
    assert_eq!(unchanged.postal_authorization.as_deref(), Some("Aut. n. 2"));
}

async fn an_ente_admin_gives_and_takes_roles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (regione, _) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    operator(&app.store, "capo", on(app.ente.id, Role::EnteAdmin)).await;
    let outsider = operator(&app.store, "regionale", on(regione.id, Role::Operator)).await;
    let capo = logged_in(&app, "capo").await;
    let csrf = session_token(&capo, &app.base).await;
    let url = format!("{}/backoffice/enti/{MILANO}/operatori", app.base);

    // A new account: its password is shown once, and it works.
    let created = post(
        &capo,
        &url,
        &[
            ("csrf", csrf.as_str()),
            ("username", "nuovo.operatore"),
            ("name", "Nuovo Operatore"),
            ("role", "read_only"),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.unwrap();
    let start = html.find("nuovo.operatore: ").unwrap() + "nuovo.operatore: ".len();
    let password = html[start..start + 20].to_owned();
    let fresh = browser();
    let login = try_login(&fresh, &app.base, "nuovo.operatore", &password, "").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    // The admin saw that password: its owner changes it before anything else.
    change_own_password(&fresh, &app.base, &password).await;
    assert!(
        page(&fresh, &format!("{}/backoffice", app.base))
            .await
            .contains("Comune di Milano")
    );

    // An existing account (of another ente) gets a role here too.
    let granted = post(
        &capo,
        &url,
        &[
            ("csrf", csrf.as_str()),
            ("username", "regionale"),
            ("role", "operator"),
        ],
    )
    .await;
    assert_eq!(granted.status(), StatusCode::SEE_OTHER);
    let roles = app.store.roles_of(outsider).await.unwrap();
    assert_eq!(roles.len(), 2);
    let here = roles
        .iter()
        .find(|r| r.grant.ente_id == app.ente.id)
        .unwrap();
    let there = roles
        .iter()
        .find(|r| r.grant.ente_id == regione.id)
        .unwrap();

    // A role on another ente cannot be taken from here; one on this ente can,
    // and it stops at the next request.
    let regionale = logged_in(&app, "regionale").await;
    assert_eq!(
        regionale
            .get(format!("{}/backoffice/enti/{MILANO}/dovuti", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    post(
        &capo,
        &format!("{url}/{}/revoca", there.id),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(app.store.roles_of(outsider).await.unwrap().len(), 2);
    let revoked = post(
        &capo,
        &format!("{url}/{}/revoca", here.id),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    // Roles changed: the session ended.
    let after = regionale
        .get(format!("{}/backoffice/enti/{MILANO}/dovuti", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        after.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/backoffice/login"),
        "{after:?}"
    );
    let list = page(&capo, &url).await;
    assert!(
        list.contains("nuovo.operatore") && !list.contains(">regionale<"),
        "{list}"
    );
}

async fn an_account_changes_resets_and_deactivates(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (regione, _) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    operator(&app.store, "capo", on(app.ente.id, Role::EnteAdmin)).await;
    let luca = operator(&app.store, "luca", on(app.ente.id, Role::Operator)).await;
    let shared = operator(&app.store, "condiviso", on(app.ente.id, Role::Operator)).await;
    app.store
        .grant_role(
            shared,
            &on(regione.id, Role::ReadOnly).unwrap(),
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let url = format!("{}/backoffice/enti/{MILANO}/operatori", app.base);

    // One's own password: the current one first, the rules, twice the same.
    let own = logged_in(&app, "luca").await;
    let other_session = logged_in(&app, "luca").await;
    let csrf = session_token(&own, &app.base).await;
    let change = |current: &'static str, new: &'static str, repeat: &'static str| {
        let (own, csrf, base) = (own.clone(), csrf.clone(), app.base.clone());
        async move {
            post(
                &own,
                &format!("{base}/backoffice/account/password"),
                &[
                    ("csrf", csrf.as_str()),
                    ("current", current),
                    ("new", new),
                    ("repeat", repeat),
                ],
            )
            .await
        }
    };
    let wrong = change("not-my-password", "Monte-Rosa-4634m", "Monte-Rosa-4634m").await;
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("attuale non è corretta")
    );
    let differ = change(PASSWORD, "Monte-Rosa-4634m", "Monte-Rosa-4634").await;
    assert!(differ.text().await.unwrap().contains("non coincidono"));
    let weak = change(PASSWORD, "lucaluca", "lucaluca").await;
    assert!(weak.text().await.unwrap().contains("almeno 12 caratteri"));
    let changed = change(PASSWORD, "Monte-Rosa-4634m", "Monte-Rosa-4634m").await;
    assert_eq!(
        changed.headers()["location"],
        "/backoffice/account?esito=password"
    );
    // This session goes on; the other one ended.
    let home = format!("{}/backoffice", app.base);
    assert_eq!(
        own.get(&home).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        other_session.get(&home).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let fresh = browser();
    let old = try_login(&fresh, &app.base, "luca", PASSWORD, "").await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);

    // The ente admin resets it: a one-time password, shown once; luca's
    // sessions end and the next login must change it.
    let capo = logged_in(&app, "capo").await;
    let admin_csrf = session_token(&capo, &app.base).await;
    let list = page(&capo, &url).await;
    assert!(
        list.contains(&format!("/operatori/utenze/{luca}/password")),
        "{list}"
    );
    // Not for an account that also works for another ente, nor one's own.
    assert!(!list.contains(&format!("/operatori/utenze/{shared}/password")));
    let refused = post(
        &capo,
        &format!("{url}/utenze/{shared}/stato"),
        &[("csrf", admin_csrf.as_str()), ("active", "0")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let reset = post(
        &capo,
        &format!("{url}/utenze/{luca}/password"),
        &[("csrf", admin_csrf.as_str())],
    )
    .await;
    let html = reset.text().await.unwrap();
    let start = html.find("luca: ").expect("the one-time password") + "luca: ".len();
    let temporary = html[start..start + 20].to_owned();
    assert_eq!(
        own.get(&home).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let again = browser();
    let login = try_login(&again, &app.base, "luca", &temporary, "").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    change_own_password(&again, &app.base, &temporary).await;
    assert_eq!(
        again.get(&home).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Deactivated: the session ends and no login works; reactivated: it does.
    let off = post(
        &capo,
        &format!("{url}/utenze/{luca}/stato"),
        &[("csrf", admin_csrf.as_str()), ("active", "0")],
    )
    .await;
    assert_eq!(
        off.headers()["location"],
        format!("/backoffice/enti/{MILANO}/operatori?esito=disattivata")
    );
    assert_eq!(
        again.get(&home).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let shut = try_login(&browser(), &app.base, "luca", PASSWORD, "").await;
    assert_eq!(shut.status(), StatusCode::UNAUTHORIZED);
    assert!(page(&capo, &url).await.contains("disattivata"));
    post(
        &capo,
        &format!("{url}/utenze/{luca}/stato"),
        &[("csrf", admin_csrf.as_str()), ("active", "1")],
    )
    .await;
    let open = try_login(&browser(), &app.base, "luca", PASSWORD, "").await;
    assert_eq!(open.status(), StatusCode::SEE_OTHER);

    // Every step is in the activity log.
    let filter = cassa_store::AuditFilter {
        entity: Some("operator".into()),
        ..Default::default()
    };
    let actions: Vec<String> = app
        .store
        .audit_events(&filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entity_key == "luca")
        .map(|e| e.action)
        .collect();
    for action in [
        "password_change",
        "password_reset",
        "deactivate",
        "reactivate",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}
