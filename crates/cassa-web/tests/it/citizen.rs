//! Citizens' login (OIDC through pagopa-sim's identity provider, a SAML
//! proxy's trusted headers) and the personal area, over real HTTP: the
//! debts of two enti, nobody else's, installments, the storico with each
//! receipt, and sessions that rotate, expire and end.

use std::time::Duration;

use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::portal::{add, browser, page, post, token};
use crate::{LoginOptions, PROXY_SECRET, REGIONE, TestApp, create_ente, position_body};

backend_tests!(
    an_oidc_citizen_sees_their_debts_of_two_enti_and_nobody_elses,
    installments_are_chosen_paid_and_listed_with_their_receipts,
    an_installment_window_travels_through_the_api_and_holds_in_the_area,
    an_eidas_citizen_has_no_archive_and_is_told_why,
    a_citizen_pays_another_persons_notice_as_its_versante,
    trusted_headers_log_in_only_from_the_proxy_with_its_secret,
    sessions_rotate_at_login_and_end_at_logout,
    a_login_below_the_required_level_is_refused,
    operators_log_in_through_the_gateway_by_codice_fiscale,
);

const MARIO: &str = "RSSMRA80A01F205X";
const SOMEONE_ELSE: &str = "RSSMRA85T10A562S";

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Publishes a position addressed to `debtor`; answers its id-less body
/// as stored (with the notice numbers).
async fn publish(app: &TestApp, ente: &str, key: &str, body: Value) -> Value {
    let reply = app
        .call_raw(
            Method::POST,
            &format!("/organizations/{ente}/debtpositions?toPublish=true"),
            Some(key),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn debt_of(iupd: &str, debtor: &str, cents: i64) -> Value {
    let mut body = position_body(iupd, &[&[cents]]);
    body["fiscalCode"] = json!(debtor);
    body
}

/// One payment of 300 €, or three installments of 100 €.
fn installable_debt(iupd: &str, debtor: &str) -> Value {
    let mut body = position_body(iupd, &[&[10_000], &[10_000], &[10_000]]);
    let whole = position_body(iupd, &[&[30_000]])["paymentOption"][0].clone();
    body["paymentOption"]
        .as_array_mut()
        .unwrap()
        .insert(0, whole);
    body["fiscalCode"] = json!(debtor);
    body
}

fn nav(stored: &Value, option: usize) -> String {
    stored["paymentOption"][option]["nav"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The id of the position holding `notice`, as the area links it.
async fn position_id(app: &TestApp, ente: &str, notice: &str) -> i64 {
    let ente = app.store.ente_by_fiscal_code(ente).await.unwrap().unwrap();
    app.store
        .position_by_notice(ente.id, notice)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Logs `who` in through pagopa-sim's provider, the way a browser does.
async fn oidc_login(client: &reqwest::Client, base: &str, sim: &str, method: &str, who: &str) {
    let start = format!("/accedi/oidc?metodo={method}");
    oidc_flow(client, base, sim, &start, who, "/area-personale").await;
}

/// Goes from `start` through the provider as `who`, and back, which must
/// lead to `landing`; answers the callback's response.
pub(crate) async fn oidc_flow(
    client: &reqwest::Client,
    base: &str,
    sim: &str,
    start: &str,
    who: &str,
    landing: &str,
) -> reqwest::Response {
    let start = client.get(format!("{base}{start}")).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let state_cookie = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("cassa_oidc="))
        .expect("the state's cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let authorize = location(&start);
    assert!(
        authorize.starts_with(&format!("{sim}/oidc/authorize?")),
        "{authorize}"
    );
    let login_page = page(client, &authorize).await;
    assert!(
        login_page.contains(&format!("login-{}", who.replace('.', "-"))),
        "{login_page}"
    );
    let mut form: Vec<(String, String)> =
        form_urlencoded::parse(authorize.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert!(
        form.iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256")
    );
    form.push(("login".into(), who.into()));
    let chosen = post(client, &format!("{sim}/oidc/authorize"), &form).await;
    assert!(chosen.status().is_redirection(), "{}", chosen.status());
    let callback = location(&chosen);
    assert!(callback.starts_with(&format!("{base}/accedi/oidc/ritorno?")));
    let back = client.get(&callback).send().await.unwrap();
    if landing != "/area-personale" {
        if back.status() == StatusCode::SEE_OTHER {
            assert_eq!(location(&back), landing);
        }
        return back;
    }
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/area-personale");
    let cookie = back
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("cassa_citizen="))
        .expect("a session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // The same callback again, even with the state's cookie (a replay),
    // logs nobody in: the provider takes its code once, and so do we its
    // state (whichever refuses first).
    let replay = browser()
        .get(&callback)
        .header("cookie", state_cookie)
        .send()
        .await
        .unwrap();
    assert!(
        ["/accedi?esito=errore", "/accedi?esito=scaduto"].contains(&location(&replay).as_str()),
        "{}",
        location(&replay)
    );
    assert!(replay.headers().get("set-cookie").is_none());
    back
}

async fn an_oidc_citizen_sees_their_debts_of_two_enti_and_nobody_elses(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::from_millis(50)).await;
    // Starting a login writes nothing: its state travels sealed in a cookie.
    let before = (app.rows("spent_token").await, app.rows("rate_limit").await);
    for _ in 0..3 {
        let start = browser()
            .get(format!("{}/accedi/oidc?metodo=spid", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
    }
    let after = (app.rows("spent_token").await, app.rows("rate_limit").await);
    assert_eq!(after, before);
    let (_, regione_key) = create_ente(&app.store, REGIONE, "Regione Lombardia", 3).await;
    let milano = publish(
        &app,
        &app.ente.fiscal_code,
        &app.key,
        debt_of("TARI-M", MARIO, 12_300),
    )
    .await;
    let regione = publish(
        &app,
        REGIONE,
        &regione_key,
        debt_of("BOLLO-M", MARIO, 5_578),
    )
    .await;
    let other = publish(
        &app,
        &app.ente.fiscal_code,
        &app.key,
        debt_of("TARI-X", SOMEONE_ELSE, 9_900),
    )
    .await;
    let (milano_notice, regione_notice, other_notice) =
        (nav(&milano, 0), nav(&regione, 0), nav(&other, 0));

    let client = browser();
    // Not logged in: the area sends to the login page, which offers the four ways.
    let anonymous = client
        .get(format!("{}/area-personale", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&anonymous), "/accedi");
    let login = page(&client, &format!("{}/accedi", app.base)).await;
    for method in ["spid", "cie", "cns", "eidas"] {
        assert!(login.contains(&format!("id=\"login-{method}\"")), "{login}");
    }
    oidc_login(&client, &app.base, &sim, "spid", "mario.rossi").await;

    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(area.contains("Mario Rossi"), "{area}");
    assert!(area.contains("Comune di Milano") && area.contains("Regione Lombardia"));
    assert!(area.contains("123,00") && area.contains("55,78"));
    assert!(area.contains("DA PAGARE"));
    assert!(!area.contains("99,00"), "another person's debt is listed");
    let searched = page(&client, &format!("{}/area-personale?q=regione", app.base)).await;
    assert!(searched.contains("55,78") && !searched.contains("123,00"));
    let regione_id = app
        .store
        .ente_by_fiscal_code(REGIONE)
        .await
        .unwrap()
        .unwrap()
        .id;
    let by_ente = page(
        &client,
        &format!("{}/area-personale?ente={regione_id}", app.base),
    )
    .await;
    assert!(
        by_ente.contains("55,78") && !by_ente.contains("123,00"),
        "the ente filter"
    );
    assert!(by_ente.contains(&format!("value=\"{regione_id}\" selected")));
    // Both are due at 2030-01-28T23:59:59Z: 29/01/2030 in Italy, as the cards say.
    assert!(area.contains("29/01/2030"));
    let before = page(
        &client,
        &format!("{}/area-personale?entro=2030-01-28", app.base),
    )
    .await;
    assert!(
        !before.contains("55,78") && !before.contains("123,00"),
        "the due-date filter"
    );
    let by = page(
        &client,
        &format!("{}/area-personale?entro=2030-01-29", app.base),
    )
    .await;
    assert!(by.contains("55,78") && by.contains("123,00"));
    let wrong = page(
        &client,
        &format!("{}/area-personale?entro=domani", app.base),
    )
    .await;
    assert!(
        wrong.contains("id=\"entro-error\"") && wrong.contains("123,00"),
        "a bad date says so and filters nothing"
    );

    // Another person's debt, by guessed id or by pairing ids and notices: not found.
    let other_id = position_id(&app, &app.ente.fiscal_code, &other_notice).await;
    let own_id = position_id(&app, &app.ente.fiscal_code, &milano_notice).await;
    for path in [
        format!("/area-personale/posizioni/{other_id}"),
        format!("/area-personale/posizioni/{other_id}/avviso"),
    ] {
        let response = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let csrf = token(&client, &format!("{}/area-personale", app.base)).await;
    for (position, notice) in [
        (other_id.to_string(), other_notice.clone()),
        (own_id.to_string(), other_notice.clone()),
    ] {
        let tampered = post(
            &client,
            &format!("{}/area-personale/carrello", app.base),
            &[
                ("csrf", csrf.as_str()),
                ("position", &position),
                ("notice", &notice),
            ],
        )
        .await;
        assert_eq!(tampered.status(), StatusCode::NOT_FOUND);
    }
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(
        !area.contains("INSERITO IN CARRELLO"),
        "nothing went in the cart"
    );

    // Stampa Avviso, then into the cart: the card says so.
    let pdf = client
        .get(format!(
            "{}/area-personale/posizioni/{own_id}/avviso",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    let added = post(
        &client,
        &format!("{}/area-personale/carrello", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("position", &own_id.to_string()),
            ("notice", &milano_notice),
        ],
    )
    .await;
    assert_eq!(location(&added), "/carrello?esito=aggiunto");
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(area.contains("INSERITO IN CARRELLO") && area.contains("Rimuovi dal Carrello"));

    // Paid at a PSP: it leaves the open debts and shows in the storico.
    app.pay_at_psp(REGIONE, &regione_notice).await;
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(!area.contains("55,78"));
    let history = page(&client, &format!("{}/area-personale/storico", app.base)).await;
    assert!(
        history.contains("Regione Lombardia") && history.contains("55,78"),
        "{history}"
    );
    assert!(!history.contains("99,00"));
}

async fn installments_are_chosen_paid_and_listed_with_their_receipts(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::from_millis(50)).await;
    let stored = publish(
        &app,
        &app.ente.fiscal_code,
        &app.key,
        installable_debt("RATE-1", MARIO),
    )
    .await;
    let whole = nav(&stored, 0);
    let first = nav(&stored, 1);
    let id = position_id(&app, &app.ente.fiscal_code, &whole).await;
    let client = browser();
    oidc_login(&client, &app.base, &sim, "cie", "anna.bianchi").await;
    // Anna is not the debtor.
    let response = client
        .get(format!("{}/area-personale/posizioni/{id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let client = browser();
    oidc_login(&client, &app.base, &sim, "spid", "mario.rossi").await;
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(area.contains(">Rate<"), "{area}");
    let detail = page(
        &client,
        &format!("{}/area-personale/posizioni/{id}", app.base),
    )
    .await;
    assert!(
        detail.contains("id=\"pay-whole\"") && detail.contains("id=\"pay-first\""),
        "{detail}"
    );
    assert!(detail.contains("Rata 3 di 3"));

    // The first installment is paid: the plan is shown, the single payment
    // is cancelled, the other installments are still to pay.
    app.pay_at_psp(&app.ente.fiscal_code, &first).await;
    let detail = page(
        &client,
        &format!("{}/area-personale/posizioni/{id}", app.base),
    )
    .await;
    assert!(!detail.contains("id=\"pay-whole\""));
    assert!(detail.contains("Piano delle rate"));
    assert!(
        detail.contains("ANNULLATO") && detail.contains("PAGATO") && detail.contains("DA PAGARE")
    );
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(area.contains("PARZIALMENTE PAGATO") && area.contains("100,00"));
    // Its notice now shows the installments left, not the cancelled whole.
    let pdf = client
        .get(format!("{}/area-personale/posizioni/{id}/avviso", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = cassa_testkit::documents::pdf_text(&pdf);
    assert!(
        text.contains("100,00") && !text.contains("300,00"),
        "{text}"
    );

    for option in [2, 3] {
        app.pay_at_psp(&app.ente.fiscal_code, &nav(&stored, option))
            .await;
    }
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(
        !area.contains("RATE-1") && !area.contains("100,00"),
        "extinguished"
    );
    let detail = page(
        &client,
        &format!("{}/area-personale/posizioni/{id}", app.base),
    )
    .await;
    assert!(
        detail.contains("PAGATO") && !detail.contains("Stampa Avviso"),
        "nothing left to print"
    );
    let history = page(&client, &format!("{}/area-personale/storico", app.base)).await;
    for n in 1..=3 {
        assert!(history.contains(&format!("Rata {n} di 3")), "{history}");
    }
    let payments = app
        .store
        .payments_of_citizen(&cassa_core::citizen::CitizenId::FiscalCode(
            cassa_core::CodiceFiscale::parse(MARIO).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(payments.len(), 3);
    for payment in &payments {
        let pdf = client
            .get(format!(
                "{}/area-personale/ricevute/{}",
                app.base, payment.receipt_row
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    }
    // Someone else's receipt id is not theirs to download.
    let anna = browser();
    oidc_login(&anna, &app.base, &sim, "cie", "anna.bianchi").await;
    let stolen = anna
        .get(format!(
            "{}/area-personale/ricevute/{}",
            app.base, payments[0].receipt_row
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
}

async fn an_installment_window_travels_through_the_api_and_holds_in_the_area(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::from_millis(50)).await;
    // A window on the single payment is refused, naming the field.
    let mut wrong = installable_debt("WIN-0", MARIO);
    wrong["paymentOption"][0]["validFrom"] = json!("2030-01-01T00:00:00");
    let reply = app.call(Method::POST, &app.positions(), Some(&wrong)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .body
            .to_string()
            .contains("paymentOption[0].validFrom"),
        "{}",
        reply.body
    );

    // The last installment opens a day before it is due (2030-03-28).
    let mut body = installable_debt("WIN-1", MARIO);
    body["paymentOption"][3]["validFrom"] = json!("2030-03-27T00:00:00");
    let stored = publish(&app, &app.ente.fiscal_code, &app.key, body).await;
    assert_eq!(
        stored["paymentOption"][3]["validFrom"],
        "2030-03-27T00:00:00Z"
    );
    assert!(
        stored["paymentOption"][2].get("validFrom").is_none(),
        "only when set"
    );
    let id = position_id(&app, &app.ente.fiscal_code, &nav(&stored, 0)).await;

    let client = browser();
    oidc_login(&client, &app.base, &sim, "spid", "mario.rossi").await;
    let detail = page(
        &client,
        &format!("{}/area-personale/posizioni/{id}", app.base),
    )
    .await;
    assert!(
        detail.contains("Pagabile dal") && detail.contains("27/03/2030"),
        "{detail}"
    );
    assert!(detail.contains("NON ANCORA PAGABILE"));
    // Posting it anyway: the cart refuses it.
    let csrf = token(&client, &format!("{}/area-personale", app.base)).await;
    let refused = post(
        &client,
        &format!("{}/area-personale/carrello", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("position", &id.to_string()),
            ("notice", &nav(&stored, 3)),
        ],
    )
    .await;
    assert_eq!(location(&refused), "/carrello?esito=non-pagabile");
}

async fn an_eidas_citizen_has_no_archive_and_is_told_why(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::from_millis(50)).await;
    publish(
        &app,
        &app.ente.fiscal_code,
        &app.key,
        debt_of("TARI-M", MARIO, 12_300),
    )
    .await;
    let client = browser();
    oidc_login(&client, &app.base, &sim, "eidas", "hans.muller").await;
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(
        area.contains("eIDAS") && area.contains("senza codice fiscale"),
        "{area}"
    );
    assert!(!area.contains("123,00"));
    let history = page(&client, &format!("{}/area-personale/storico", app.base)).await;
    assert!(history.contains("Non risultano pagamenti"));

    // He pays a notice (someone else's): matched by his eIDAS identifier,
    // it is in his storico.
    let other = publish(
        &app,
        &app.ente.fiscal_code,
        &app.key,
        debt_of("EIDAS-1", SOMEONE_ELSE, 7_700),
    )
    .await;
    assert_eq!(
        add(&client, &app.base, &nav(&other, 0)).await,
        "/carrello?esito=aggiunto"
    );
    pay_the_cart(&client, &app.base, &sim, &[]).await;
    let history = page(&client, &format!("{}/area-personale/storico", app.base)).await;
    assert!(history.contains("77,00"), "{history}");
    assert!(!history.contains("123,00"), "Mario's debt is not his");
}

async fn a_citizen_pays_another_persons_notice_as_its_versante(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::ZERO).await;
    let other = publish(
        &app,
        &app.ente.fiscal_code,
        &app.key,
        debt_of("ALTRUI", SOMEONE_ELSE, 4_400),
    )
    .await;
    let client = browser();
    oidc_login(&client, &app.base, &sim, "spid", "mario.rossi").await;

    // Cerca Avviso: the notice and its debtor's codice fiscale.
    assert_eq!(
        add(&client, &app.base, &nav(&other, 0)).await,
        "/carrello?esito=aggiunto"
    );
    let anagrafica = page(&client, &format!("{}/carrello/anagrafica", app.base)).await;
    assert!(
        anagrafica.contains(&format!("value=\"{MARIO}\""))
            && anagrafica.contains("value=\"Mario Rossi\""),
        "the citizen is pre-filled as versante: {anagrafica}"
    );
    let summary = pay_the_cart(
        &client,
        &app.base,
        &sim,
        &[("payer_name", "Mario Rossi"), ("payer_fiscal_code", MARIO)],
    )
    .await;
    assert!(
        summary.contains(&format!("Mario Rossi ({MARIO})")),
        "the versante: {summary}"
    );
    // Not his debt, but his payment: it is in his storico, not in his archive.
    let history = page(&client, &format!("{}/area-personale/storico", app.base)).await;
    assert!(history.contains("44,00"), "{history}");
    let area = page(&client, &format!("{}/area-personale", app.base)).await;
    assert!(!area.contains("44,00"));

    // Altre tipologie: a spontaneous payment is pre-filled with his data.
    app.add_tipo_dovuto("MENSA").await;
    let form = page(
        &client,
        &format!("{}/enti/{}/paga/MENSA", app.base, app.ente.fiscal_code),
    )
    .await;
    assert!(form.contains(&format!("value=\"{MARIO}\"")), "{form}");
}

/// Anagrafica (with `payer` fields), Riepilogo, and paid on the simulated
/// Checkout; answers the riepilogo's HTML.
async fn pay_the_cart(
    client: &reqwest::Client,
    base: &str,
    sim: &str,
    payer: &[(&str, &str)],
) -> String {
    let csrf = token(client, &format!("{base}/carrello/anagrafica")).await;
    let mut form = vec![("csrf", csrf.as_str()), ("email", "cittadino@example.it")];
    form.extend_from_slice(payer);
    let saved = post(client, &format!("{base}/carrello/anagrafica"), &form).await;
    assert_eq!(location(&saved), "/carrello/riepilogo");
    let summary = page(client, &format!("{base}/carrello/riepilogo")).await;
    let csrf = token(client, &format!("{base}/carrello/riepilogo")).await;
    let to_checkout = post(client, &format!("{base}/carrello/paga"), &[("csrf", csrf)]).await;
    let checkout_page = location(&to_checkout);
    assert!(checkout_page.starts_with(sim), "{checkout_page}");
    let back = post(
        client,
        &checkout_page,
        &[("psp", "SIMBANKIT"), ("outcome", "paid")],
    )
    .await;
    assert!(location(&back).ends_with("/esito/ok"));
    summary
}

async fn header_login(base: &str, secret: &str) -> reqwest::Response {
    browser()
        .get(format!("{base}/accedi/sso"))
        .header("X-Proxy-Secret", secret)
        .header("X-Fiscal-Number", format!("TINIT-{MARIO}"))
        .header("X-Given-Name", "Mario")
        .header("X-Family-Name", "Rossi")
        .header("X-Auth-Method", "spid")
        .header("X-Auth-Level", "https://www.spid.gov.it/SpidL2")
        .send()
        .await
        .unwrap()
}

async fn trusted_headers_log_in_only_from_the_proxy_with_its_secret(backend: Backend) {
    let (app, _) = TestApp::start_with_checkout(backend, Duration::from_millis(50)).await;
    let trusted = header_login(&app.base, PROXY_SECRET).await;
    assert_eq!(location(&trusted), "/area-personale");
    let guessed = header_login(&app.base, "not-the-secret").await;
    assert_eq!(location(&guessed), "/accedi?esito=non-attendibile");
    assert!(guessed.headers().get("set-cookie").is_none());

    // The right secret from an address that is not the proxy's: ignored.
    let (elsewhere, _) = TestApp::start_with_login(
        backend,
        Some(Duration::from_millis(50)),
        LoginOptions {
            sso_proxies: vec!["10.11.12.13".parse().unwrap()],
            ..LoginOptions::default()
        },
    )
    .await;
    let stranger = header_login(&elsewhere.base, PROXY_SECRET).await;
    assert_eq!(location(&stranger), "/accedi?esito=non-attendibile");
    assert!(stranger.headers().get("set-cookie").is_none());
}

async fn sessions_rotate_at_login_and_end_at_logout(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::from_millis(50)).await;
    let first = header_login(&app.base, PROXY_SECRET).await;
    let old_cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    let old_token = old_cookie.split(';').next().unwrap().to_owned();
    let with_cookie = |cookie: String| {
        let base = app.base.clone();
        async move {
            browser()
                .get(format!("{base}/area-personale"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(with_cookie(old_token.clone()).await, StatusCode::OK);

    // Logging in again from that browser replaces its session.
    let rotated = browser()
        .get(format!("{}/accedi/sso", app.base))
        .header("cookie", old_token.clone())
        .header("X-Proxy-Secret", PROXY_SECRET)
        .header("X-Fiscal-Number", MARIO)
        .send()
        .await
        .unwrap();
    let new_token = rotated.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(new_token, old_token);
    assert_eq!(
        with_cookie(old_token).await,
        StatusCode::SEE_OTHER,
        "the old session ended"
    );
    assert_eq!(with_cookie(new_token).await, StatusCode::OK);

    // Logout ends the session in the database: the cookie opens nothing.
    let client = browser();
    oidc_login(&client, &app.base, &sim, "spid", "mario.rossi").await;
    let csrf = token(&client, &format!("{}/area-personale", app.base)).await;
    let out = post(
        &client,
        &format!("{}/esci", app.base),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(location(&out), "/");
    let after = client
        .get(format!("{}/area-personale", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&after), "/accedi");
}

async fn a_login_below_the_required_level_is_refused(backend: Backend) {
    let (app, sim) = TestApp::start_with_login(
        backend,
        Some(Duration::from_millis(50)),
        LoginOptions {
            min_assurance: Some(cassa_core::citizen::Assurance::Substantial),
            ..LoginOptions::default()
        },
    )
    .await;
    let sim = sim.unwrap();
    let low = browser()
        .get(format!("{}/accedi/sso", app.base))
        .header("X-Proxy-Secret", PROXY_SECRET)
        .header("X-Fiscal-Number", MARIO)
        .header("X-Auth-Level", "https://www.spid.gov.it/SpidL1")
        .send()
        .await
        .unwrap();
    assert_eq!(location(&low), "/accedi?esito=livello");
    assert!(low.headers().get("set-cookie").is_none());
    let page_text = page(&browser(), &format!("{}/accedi?esito=livello", app.base)).await;
    assert!(page_text.contains("livello di sicurezza"), "{page_text}");
    // SPID level 2 through the provider is enough.
    oidc_login(&browser(), &app.base, &sim, "spid", "mario.rossi").await;
    let enough = header_login(&app.base, PROXY_SECRET).await;
    assert_eq!(location(&enough), "/area-personale");
}

async fn operators_log_in_through_the_gateway_by_codice_fiscale(backend: Backend) {
    let login = LoginOptions {
        operator_passwords: false,
        ..LoginOptions::default()
    };
    let (app, sim) = TestApp::start_with_login(backend, Some(Duration::ZERO), login).await;
    let sim = sim.unwrap();
    let grant = cassa_core::access::Grant {
        ente_id: app.ente.id,
        role: cassa_core::access::Role::Operator,
        tipo_dovuto_id: None,
    };
    let mario = crate::backoffice::operator(&app.store, "mario.op", Some(grant)).await;
    assert!(
        app.store
            .set_operator_fiscal_code(mario, Some(MARIO), "test", jiff::Timestamp::now())
            .await
            .unwrap()
    );
    // Passwords are off here: the login page offers the gateway only, and
    // a posted password is refused.
    let client = browser();
    let form = page(&client, &format!("{}/backoffice/login", app.base)).await;
    assert!(
        form.contains("id=\"login-gateway-oidc\"") && form.contains("id=\"login-gateway-sso\"")
    );
    assert!(!form.contains("id=\"password\""), "{form}");
    let refused = post(
        &client,
        &format!("{}/backoffice/login", app.base),
        &[
            ("username", "mario.op"),
            ("password", "Tre-Cime-di-Lavaredo"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("password è disattivato")
    );

    // Through OIDC: the account linked to his codice fiscale.
    let start = "/accedi/oidc?metodo=spid&per=backoffice";
    let back = oidc_flow(
        &client,
        &app.base,
        &sim,
        start,
        "mario.rossi",
        "/backoffice",
    )
    .await;
    // Landed on a page of ours, which moves on: the SameSite=Strict
    // cookie is then sent (a redirect chain from the provider is cross-site).
    assert_eq!(back.status(), StatusCode::OK);
    assert!(
        back.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("cassa_bo=")
    );
    assert!(back.text().await.unwrap().contains("url=/backoffice"));
    let home = page(&client, &format!("{}/backoffice", app.base)).await;
    assert!(home.contains("Comune di Milano"), "{home}");
    // No citizen session came with it.
    let area = client
        .get(format!("{}/area-personale", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(area.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&area).starts_with("/accedi"),
        "{}",
        location(&area)
    );

    // Someone with no account of their own: told so, no session, even if
    // an account linked to someone else has their e-mail.
    let shared = crate::backoffice::operator(&app.store, "ufficio", None).await;
    let someone = Some(SOMEONE_ELSE);
    let now = jiff::Timestamp::now();
    app.store
        .set_operator_fiscal_code(shared, someone, "test", now)
        .await
        .unwrap();
    set_email(&app, shared, "anna.bianchi@example.it").await;
    let stranger = browser();
    let back = oidc_flow(
        &stranger,
        &app.base,
        &sim,
        "/accedi/oidc?metodo=cie&per=backoffice",
        "anna.bianchi",
        "/backoffice",
    )
    .await;
    assert_eq!(back.status(), StatusCode::UNAUTHORIZED);
    assert!(back.text().await.unwrap().contains("Nessuna utenza attiva"));

    // An account not linked to anyone yet is found by the e-mail the
    // provider verified, and linked to that person from then on.
    let giulia = crate::backoffice::operator(&app.store, "giulia.op", None).await;
    set_email(&app, giulia, "giulia.verdi@example.it").await;
    let by_mail = oidc_flow(
        &browser(),
        &app.base,
        &sim,
        "/accedi/oidc?metodo=cns&per=backoffice",
        "giulia.verdi",
        "/backoffice",
    )
    .await;
    assert_eq!(by_mail.status(), StatusCode::OK);
    assert_eq!(
        app.store
            .operator_by_fiscal_code("VRDGLI90L62L219W")
            .await
            .unwrap(),
        Some(giulia)
    );

    // Through the SAML proxy's headers, the same; not once deactivated.
    let proxy = |level: &'static str| {
        let base = app.base.clone();
        async move {
            browser()
                .get(format!("{base}/accedi/sso?per=backoffice"))
                .header("X-Proxy-Secret", PROXY_SECRET)
                .header("X-Fiscal-Number", format!("TINIT-{MARIO}"))
                .header("X-Given-Name", "Mario")
                .header("X-Family-Name", "Rossi")
                .header("X-Auth-Method", "spid")
                .header("X-Auth-Level", level)
                .send()
                .await
                .unwrap()
        }
    };
    let via_proxy = proxy("https://www.spid.gov.it/SpidL2").await;
    assert_eq!(via_proxy.status(), StatusCode::OK);
    assert!(
        via_proxy.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("cassa_bo=")
    );
    let weak = proxy("https://www.spid.gov.it/SpidL1").await;
    assert_eq!(
        weak.status(),
        StatusCode::UNAUTHORIZED,
        "SPID level 1 is not enough"
    );
    app.store
        .set_operator_active(mario, false, "test", jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        proxy("https://www.spid.gov.it/SpidL2").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Gives account `id` an e-mail, as the database would hold it.
async fn set_email(app: &TestApp, id: i64, email: &str) {
    app.sql(&format!(
        "UPDATE operator SET email = '{email}' WHERE id = {id}"
    ))
    .await;
}
