//! The citizen portal over HTTP (the browser walk is scripts/browser-tests.sh):
//! form tokens, the neutral answer to a wrong notice, the lookup limit,
//! the language switch, and pages that do not exist.

use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};

use crate::{TestApp, position_body};

backend_tests!(
    paga_avviso_finds_a_notice_only_with_its_debtor,
    forms_without_the_token_change_nothing,
    lookups_are_limited_per_client,
    limits_count_the_real_client_across_instances,
    pages_speak_the_chosen_language,
    the_cart_takes_found_notices_up_to_five,
    a_resume_link_copies_the_cart_and_plants_nothing,
    a_spontaneous_payment_becomes_a_debt_in_the_cart,
    paga_avviso_says_payable_as_the_node_does,
);

/// A browser-like client: keeps cookies, does not follow redirects.
/// A browser trusting the system's roots and the tests' CA (pagopa-sim's
/// Checkout and identity provider pages are HTTPS).
pub(crate) fn browser() -> reqwest::Client {
    cassa_net::http_client()
        .tls_backend_preconfigured(crate::test_roots().client_config())
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The HTML of a page, for this client.
pub(crate) async fn page(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// A form posted by this client.
pub(crate) async fn post<T: serde::Serialize + ?Sized>(
    client: &reqwest::Client,
    url: &str,
    form: &T,
) -> reqwest::Response {
    client.post(url).form(form).send().await.unwrap()
}

/// The form token the page gave this client.
pub(crate) async fn token(client: &reqwest::Client, url: &str) -> String {
    let html = page(client, url).await;
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form token")
        + 19;
    html[start..start + 64].to_owned()
}

async fn published_notice(app: &TestApp) -> String {
    let reply = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&position_body("PORTAL-1", &[&[4_200, 800]])),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn lookup(
    client: &reqwest::Client,
    base: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let csrf = token(client, &format!("{base}/paga-avviso")).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    let response = post(client, &format!("{base}/paga-avviso"), &form).await;
    (response.status(), response.text().await.unwrap())
}

async fn paga_avviso_finds_a_notice_only_with_its_debtor(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notice = published_notice(&app).await;
    let client = browser();
    let (status, html) = lookup(
        &client,
        &app.base,
        &[
            ("notice", &notice),
            ("fiscal_code", "rssmra85t10a562s"),
            ("email", "a@example.org"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Abbiamo trovato il tuo avviso"), "{html}");
    assert!(html.contains("50,00 €"));
    // The IUV (the notice number without its aux digit) works too.
    let (_, html) = lookup(
        &client,
        &app.base,
        &[
            ("notice", &notice[1..]),
            ("fiscal_code", "RSSMRA85T10A562S"),
            ("email", "a@example.org"),
        ],
    )
    .await;
    assert!(html.contains("Abbiamo trovato il tuo avviso"));

    // Another debtor, or a notice that does not exist: the same neutral words.
    let neutral = "Non abbiamo trovato un avviso da pagare con questi dati";
    for (number, debtor) in [
        (notice.as_str(), "BNCGLI90C45F205Y"),
        ("302999999999999999", "RSSMRA85T10A562S"),
    ] {
        let (status, html) = lookup(
            &client,
            &app.base,
            &[
                ("notice", number),
                ("fiscal_code", debtor),
                ("email", "a@example.org"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(neutral), "{html}");
        assert!(
            html.contains(&format!("value=\"{debtor}\"")),
            "the form keeps what was typed"
        );
    }

    // Bad fields: each says why, beside itself.
    let (status, html) = lookup(
        &client,
        &app.base,
        &[("notice", "123"), ("fiscal_code", ""), ("email", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"notice-error\""));
    assert!(html.contains("id=\"fiscal_code-error\""));
    assert!(html.contains("id=\"email-error\""));
    assert!(html.contains("value=\"123\""));

    // The PDF needs the same two codes.
    let csrf = token(&client, &format!("{}/paga-avviso", app.base)).await;
    let response = post(
        &client,
        &format!("{}/paga-avviso/pdf", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("notice", &notice),
            ("fiscal_code", "RSSMRA85T10A562S"),
        ],
    )
    .await;
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(response.bytes().await.unwrap().starts_with(b"%PDF-"));
}

async fn forms_without_the_token_change_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let notice = published_notice(&app).await;
    let client = browser();
    token(&client, &format!("{}/paga-avviso", app.base)).await;
    for csrf in ["", &"0".repeat(64)] {
        let response = post(
            &client,
            &format!("{}/paga-avviso/pdf", app.base),
            &[
                ("csrf", csrf),
                ("notice", &notice),
                ("fiscal_code", "RSSMRA85T10A562S"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("La pagina è scaduta")
        );
    }
    // A client that never loaded a page has no token at all.
    let response = browser()
        .post(format!("{}/paga-avviso", app.base))
        .form(&[("csrf", "x"), ("notice", notice.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn lookups_are_limited_per_client(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = browser();
    let fields = [
        ("notice", "302999999999999999"),
        ("fiscal_code", "RSSMRA85T10A562S"),
        ("email", "a@example.org"),
    ];
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(lookup(&client, &app.base, &fields).await.0);
    }
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
}

/// A browser behind a proxy that says it is `client`.
fn browser_at(client: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", client.parse().unwrap());
    cassa_net::http_client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn limits_count_the_real_client_across_instances(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fields = [
        ("notice", "302999999999999999"),
        ("fiscal_code", "RSSMRA85T10A562S"),
        ("email", "a@example.org"),
    ];
    // Two processes behind one proxy (this machine): one client's lookups
    // count together whichever process answers them.
    let first = app.another_instance("127.0.0.1/32").await;
    let second = app.another_instance("127.0.0.1/32").await;
    let behind_proxy = browser_at("203.0.113.7");
    let mut statuses = Vec::new();
    for i in 0..31 {
        let base = if i % 2 == 0 { &first } else { &second };
        statuses.push(lookup(&behind_proxy, base, &fields).await.0);
    }
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not held back by the first.
    let neighbour = browser_at("203.0.113.8");
    assert_eq!(lookup(&neighbour, &first, &fields).await.0, StatusCode::OK);
    // A process that trusts no proxy ignores the header: a client that
    // claims a new address each time is still one client.
    let mut statuses = Vec::new();
    for i in 0..31 {
        let spoofer = browser_at(&format!("198.51.100.{i}"));
        statuses.push(lookup(&spoofer, &app.base, &fields).await.0);
    }
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
}

async fn pages_speak_the_chosen_language(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = browser();
    let html = page(&client, &format!("{}/enti", app.base)).await;
    assert!(html.contains("<html lang=\"it\">") && html.contains("Ricerca Ente"));
    let switched = client
        .get(format!("{}/lingua/en?back=/enti", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(switched.headers()["location"], "/enti");
    let html = page(&client, &format!("{}/enti", app.base)).await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("Find a body"));
    // The switch never leads off the site.
    let away = client
        .get(format!("{}/lingua/it?back=//evil.example", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(away.headers()["location"], "/");

    let page = client
        .get(format!("{}/enti/99999999999", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let api = client
        .get(format!("{}/no/such/thing", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.headers()["content-type"], "application/json");
}

pub(crate) async fn add(client: &reqwest::Client, base: &str, notice: &str) -> String {
    let csrf = token(client, &format!("{base}/paga-avviso")).await;
    let response = post(
        client,
        &format!("{base}/carrello/aggiungi"),
        &[
            ("csrf", csrf.as_str()),
            ("notice", notice),
            ("fiscal_code", "RSSMRA85T10A562S"),
            ("email", "mario.rossi@example.org"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn a_resume_link_copies_the_cart_and_plants_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut notices = Vec::new();
    for i in 0..2 {
        let reply = app
            .call(
                Method::POST,
                &format!("{}?toPublish=true", app.positions()),
                Some(&position_body(&format!("FIX-{i}"), &[&[2_000 + i]])),
            )
            .await;
        notices.push(
            reply.body["paymentOption"][0]["nav"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Someone fills a cart, and its resume link is mailed to them.
    let sender = browser();
    add(&sender, &app.base, &notices[0]).await;
    let mails = app.store.outbox_mails(10).await.unwrap();
    let planted = &mails[0].payload;
    // They pass the link on: it shows the notices and changes nothing
    // (a mail scanner following it creates no cart)...
    let victim = browser();
    let link = format!("{}/carrello/riprendi/{planted}", app.base);
    let carts = app.rows("cart").await;
    let shown = page(&victim, &link).await;
    assert!(
        shown.contains("20,00 €") && shown.contains("Riprendi il carrello"),
        "{shown}"
    );
    assert_eq!(app.rows("cart").await, carts);
    let csrf = token(&victim, &link).await;
    let resumed = post(&victim, &link, &[("csrf", csrf.as_str())]).await;
    assert_eq!(resumed.headers()["location"], "/carrello?esito=ripreso");
    let html = page(&victim, &format!("{}/carrello?esito=ripreso", app.base)).await;
    assert!(
        html.contains("20,00 €") && html.contains("di nuovo qui"),
        "{html}"
    );
    // ...in a cart of the victim's own: what the victim adds, and the
    // e-mail the receipts go to, never reach the sender's cart.
    add(&victim, &app.base, &notices[1]).await;
    let senders = app.store.cart(planted).await.unwrap().unwrap();
    assert_eq!(senders.items.len(), 1);
    let html = page(&sender, &format!("{}/carrello", app.base)).await;
    assert!(!html.contains("20,01 €"), "{html}");
    let html = page(&victim, &format!("{}/carrello", app.base)).await;
    assert!(html.contains("40,01 €"), "both notices: {html}");
    // A link to no cart finds nothing.
    let unknown = victim
        .get(format!("{}/carrello/riprendi/{}", app.base, "0".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn the_cart_takes_found_notices_up_to_five(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut notices = Vec::new();
    for i in 0..6 {
        let reply = app
            .call(
                Method::POST,
                &format!("{}?toPublish=true", app.positions()),
                Some(&position_body(&format!("CART-{i}"), &[&[1_000 + i]])),
            )
            .await;
        notices.push(
            reply.body["paymentOption"][0]["nav"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let client = browser();
    for notice in &notices[..5] {
        assert_eq!(
            add(&client, &app.base, notice).await,
            "/carrello?esito=aggiunto"
        );
    }
    assert_eq!(
        add(&client, &app.base, &notices[5]).await,
        "/carrello?esito=pieno"
    );
    assert_eq!(
        add(&client, &app.base, &notices[0]).await,
        "/carrello?esito=pieno"
    );
    let html = page(&client, &format!("{}/carrello", app.base)).await;
    assert!(html.contains("50,10 €"), "the total of the five: {html}");
    assert!(html.contains("Abbandona e svuota carrello"));
    assert!(
        html.contains(">5<span class=\"visually-hidden\">"),
        "the banner counts five"
    );

    // Someone else's cart cannot be touched: a new browser has its own.
    let stranger = browser();
    let csrf = token(&stranger, &format!("{}/paga-avviso", app.base)).await;
    let item = html
        .split("name=\"item\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    post(
        &stranger,
        &format!("{}/carrello/rimuovi", app.base),
        &[("csrf", csrf.as_str()), ("item", item)],
    )
    .await;
    let html = page(&client, &format!("{}/carrello", app.base)).await;
    assert!(html.contains("50,10 €"), "still five");

    // Its owner removes one, then empties it.
    let csrf = token(&client, &format!("{}/carrello", app.base)).await;
    let removed = post(
        &client,
        &format!("{}/carrello/rimuovi", app.base),
        &[("csrf", csrf.as_str()), ("item", item)],
    )
    .await;
    assert_eq!(removed.headers()["location"], "/carrello?esito=rimosso");
    let html = page(&client, &format!("{}/carrello", app.base)).await;
    assert!(html.contains("40,10 €"), "{html}");
    post(
        &client,
        &format!("{}/carrello/svuota", app.base),
        &[("csrf", csrf.as_str())],
    )
    .await;
    let html = page(&client, &format!("{}/carrello?esito=svuotato", app.base)).await;
    assert!(html.contains("Il carrello è vuoto"));

    // A paid or closed notice stays out.
    app.call(
        Method::POST,
        &format!("{}/CART-5/invalidate", app.positions()),
        None,
    )
    .await;
    assert_eq!(
        add(&client, &app.base, &notices[5]).await,
        "/carrello?esito=non-pagabile"
    );
}

/// The challenge on `html`, solved as a browser's script does.
pub(crate) fn solved(html: &str) -> String {
    let attribute = html
        .split("data-challenge=\"")
        .nth(1)
        .expect("the form has a challenge")
        .split('"')
        .next()
        .unwrap()
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let challenge: cassa_web::portal::challenge::Challenge =
        serde_json::from_str(&attribute).unwrap();
    cassa_web::portal::challenge::solve(&challenge).expect("solvable")
}

async fn a_spontaneous_payment_becomes_a_debt_in_the_cart(backend: Backend) {
    let app = TestApp::start(backend).await;
    let tipo = app.add_tipo_dovuto("MENSA").await;
    let url = format!("{}/enti/{}/paga/MENSA", app.base, app.ente.fiscal_code);
    let client = browser();
    // Showing the form, however often, writes nothing.
    let tables = ["spent_token", "rate_limit", "debt_position", "audit_event"];
    let mut before = Vec::new();
    for table in tables {
        before.push(app.rows(table).await);
    }
    let mut html = String::new();
    for _ in 0..5 {
        html = page(&client, &url).await;
    }
    for (table, rows) in tables.iter().zip(&before) {
        assert_eq!(
            app.rows(table).await,
            *rows,
            "{table} after showing the form"
        );
    }
    assert!(html.contains("Refezione scolastica") && html.contains("id=\"f_alunno\""));
    assert!(html.contains("/static/challenge.js"));
    let csrf = token(&client, &url).await;
    let fields = |debtor: &str, amount: &str, altcha: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("f_alunno".into(), "Luca Bianchi".into()),
            ("debtor_fiscal_code".into(), debtor.into()),
            ("debtor_name".into(), "Giulia Bianchi".into()),
            ("email".into(), "giulia@example.org".into()),
            ("amount".into(), amount.into()),
            ("altcha".into(), altcha.into()),
        ]
    };
    let giulia = "bncgli90c45f205y";

    // Outside the tipo dovuto's range (1,00 to 500,00): refused, nothing made.
    let refused = post(&client, &url, &fields(giulia, "900,00", &solved(&html))).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"amount-error\""), "{html}");
    assert!(html.contains("value=\"Luca Bianchi\""));

    // Without the work done, or with a forged or wrong answer: refused too.
    let wrong = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let posted = engine.decode(solved(&html)).unwrap();
        let mut solution: cassa_web::portal::challenge::Solution =
            serde_json::from_slice(&posted).unwrap();
        solution.number += 1;
        engine.encode(serde_json::to_vec(&solution).unwrap())
    };
    for altcha in ["", "eyJhbGdvcml0aG0iOiJTSEEtMjU2In0=", &wrong] {
        let refused = post(&client, &url, &fields(giulia, "48,50", altcha)).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{altcha}"
        );
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"altcha-error\""), "{html}");
    }
    let all = cassa_store::ListFilter {
        limit: 50,
        ..cassa_store::ListFilter::default()
    };
    let listed = app.store.list_positions(app.ente.id, &all).await.unwrap();
    assert_eq!(listed.total, 0, "nothing was created");

    // Right: a published debt of the tipo dovuto, in the cart.
    let html = page(&client, &url).await;
    let answer = solved(&html);
    let added = post(&client, &url, &fields(giulia, "48,50", &answer)).await;
    assert_eq!(added.headers()["location"], "/carrello?esito=aggiunto");
    let cart = page(&client, &format!("{}/carrello", app.base)).await;
    assert!(
        cart.contains("48,50 €") && cart.contains("Refezione scolastica"),
        "{cart}"
    );
    let mut listed = app.store.list_positions(app.ente.id, &all).await.unwrap();
    assert_eq!(listed.total, 1);
    let stored = listed.positions.remove(0);
    assert_eq!(stored.debtor_fiscal_code, "BNCGLI90C45F205Y");
    assert_eq!(stored.status.code(), "VALID");
    assert_eq!(stored.tipo_dovuto_id, Some(tipo.id));
    // Asked by a visitor who did not log in as the debtor.
    assert_eq!(stored.origin, cassa_store::Origin::PortalThirdParty);
    assert_eq!(stored.options[0].metadata[0].value, "Luca Bianchi");

    // The same solution cannot be used twice.
    let again = post(&client, &url, &fields(giulia, "48,50", &answer)).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Ten a day for one debtor, whoever asks; twenty a day per client (the
    // refused eleventh for Giulia counts for the client).
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let html = page(&client, &url).await;
        let sent = post(&client, &url, &fields(giulia, "2,00", &solved(&html))).await;
        statuses.push(sent.status());
    }
    assert!(
        statuses[..9].iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(statuses[9], StatusCode::TOO_MANY_REQUESTS);
    let others = ["RSSMRA85T10A562S", "RSSMRA80A01F205X"];
    let (mut statuses, mut last) = (Vec::new(), String::new());
    for i in 0..10 {
        let html = page(&client, &url).await;
        let debtor = others[i % 2];
        let sent = post(&client, &url, &fields(debtor, "2,00", &solved(&html))).await;
        statuses.push(sent.status());
        last = sent.text().await.unwrap();
    }
    assert!(
        statuses[..9].iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(statuses[9], StatusCode::TOO_MANY_REQUESTS);
    assert!(last.contains("Troppe richieste"), "{last}");
    let listed = app.store.list_positions(app.ente.id, &all).await.unwrap();
    assert_eq!(listed.total, 1 + 9 + 9, "only what the limits let through");
}

/// Paga Avviso calls a notice payable by the node's own rule: once the
/// first installment is paid, the single payment is no longer payable
/// although its option is still unpaid.
async fn paga_avviso_says_payable_as_the_node_does(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut body = position_body("PLAN-1", &[&[30_000], &[15_000], &[15_000]]);
    body["paymentOption"][0]["isPartialPayment"] = serde_json::json!(false);
    let created = app
        .call(
            Method::POST,
            &format!("{}?toPublish=true", app.positions()),
            Some(&body),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let nav = |i: usize| {
        created.body["paymentOption"][i]["nav"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (single, first) = (nav(0), nav(1));
    let client = browser();
    let look = |notice: String| {
        let (client, base) = (client.clone(), app.base.clone());
        async move {
            lookup(
                &client,
                &base,
                &[
                    ("notice", notice.as_str()),
                    ("fiscal_code", "RSSMRA85T10A562S"),
                    ("email", "a@example.org"),
                ],
            )
            .await
            .1
        }
    };
    let html = look(single.clone()).await;
    assert!(html.contains("/carrello/aggiungi"), "{html}");
    app.pay_at_psp(crate::MILANO, &first).await;
    let html = look(single).await;
    assert!(html.contains("non è più pagabile"), "{html}");
    assert!(
        !html.contains("/carrello/aggiungi"),
        "nothing to put in the cart"
    );
}
