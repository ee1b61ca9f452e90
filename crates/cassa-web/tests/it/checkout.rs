//! Paying a cart through pagoPA Checkout (pagopa-sim plays Checkout and the
//! node over real HTTP), the outcome pages, the receipts, and the e-mails
//! delivered to a real SMTP listener.

use std::time::Duration;

use cassa_jobs::{MailTransport, Mailer};
use cassa_testkit::smtp::SmtpSink;
use cassa_testkit::{Backend, backend_tests};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::{Method, StatusCode};

use crate::portal::{add, browser, page, post, token};
use crate::{REGIONE, TEST_CA, TestApp, create_ente, position_body};

static SMTP_CERTIFICATE: std::sync::LazyLock<cassa_testkit::tls::IssuedFiles> =
    std::sync::LazyLock::new(|| TEST_CA.server("smtp-relay"));

backend_tests!(
    a_two_ente_cart_is_paid_through_checkout_and_mailed,
    refused_cancelled_and_tampered_carts_pay_nothing,
    a_pending_payment_says_not_to_pay_again,
);

pub(crate) async fn publish(
    app: &TestApp,
    organization: &str,
    key: &str,
    iupd: &str,
    cents: i64,
) -> String {
    let body = position_body(iupd, &[&[cents]]).to_string().into_bytes();
    let reply = app
        .call_raw(
            Method::POST,
            &format!("/organizations/{organization}/debtpositions?toPublish=true"),
            Some(key),
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["paymentOption"][0]["nav"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Steps 2 and 3, then "Procedi al pagamento": answers the response
/// (a redirect to Checkout, or the summary with what is wrong).
pub(crate) async fn go_to_checkout(client: &reqwest::Client, base: &str) -> reqwest::Response {
    let csrf = token(client, &format!("{base}/carrello/anagrafica")).await;
    let saved = post(
        client,
        &format!("{base}/carrello/anagrafica"),
        &[
            ("csrf", csrf.as_str()),
            ("email", "versante@example.org"),
            ("payer_name", "Anna Bianchi"),
            ("payer_fiscal_code", "bncnna80a41f205u"),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), "/carrello/riepilogo");
    let summary = page(client, &format!("{base}/carrello/riepilogo")).await;
    assert!(
        summary.contains("Anna Bianchi (BNCNNA80A41F205U)"),
        "{summary}"
    );
    assert!(summary.contains("versante@example.org"));
    let csrf = token(client, &format!("{base}/carrello/riepilogo")).await;
    post(client, &format!("{base}/carrello/paga"), &[("csrf", csrf)]).await
}

/// On the simulator's Checkout page: pick a PSP and an outcome; answers
/// where Checkout sends the browser back.
async fn checkout_says(client: &reqwest::Client, checkout_page: &str, outcome: &str) -> String {
    let html = page(client, checkout_page).await;
    assert!(html.contains("Esito da simulare"), "{html}");
    let back = post(
        client,
        checkout_page,
        &[("psp", "SIMBANKIT"), ("outcome", outcome)],
    )
    .await;
    assert_eq!(
        back.status(),
        StatusCode::SEE_OTHER,
        "{}",
        back.text().await.unwrap()
    );
    location(&back)
}

async fn a_two_ente_cart_is_paid_through_checkout_and_mailed(backend: Backend) {
    let (app, sim) = TestApp::start_with_checkout(backend, Duration::ZERO).await;
    let (_, regione_key) = create_ente(&app.store, REGIONE, "Regione Lombardia", 3).await;
    let milano = publish(&app, &app.ente.fiscal_code, &app.key, "CK-1", 4_200).await;
    let regione = publish(&app, REGIONE, &regione_key, "CK-2", 1_550).await;
    let client = browser();
    for notice in [&milano, &regione] {
        assert_eq!(
            add(&client, &app.base, notice).await,
            "/carrello?esito=aggiunto"
        );
    }
    let cart = page(&client, &format!("{}/carrello", app.base)).await;
    assert!(cart.contains("57,50 €"), "{cart}");
    assert!(cart.contains("href=\"/carrello/anagrafica\""));

    // Step 2 shows who each notice is addressed to; a bad e-mail and half a
    // versante are refused beside their fields, keeping what was typed.
    let anagrafica = page(&client, &format!("{}/carrello/anagrafica", app.base)).await;
    assert!(anagrafica.contains("Mario Rossi"), "{anagrafica}");
    assert!(
        anagrafica.contains("mario.rossi@example.org"),
        "pre-filled from the cart"
    );
    let csrf = token(&client, &format!("{}/carrello/anagrafica", app.base)).await;
    let refused = post(
        &client,
        &format!("{}/carrello/anagrafica", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("email", "not-an-address"),
            ("payer_name", "Anna Bianchi"),
            ("payer_fiscal_code", ""),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"email-error\""), "{html}");
    assert!(html.contains("id=\"payer_fiscal_code-error\""));
    assert!(html.contains("value=\"not-an-address\""));

    let to_checkout = go_to_checkout(&client, &app.base).await;
    assert_eq!(to_checkout.status(), StatusCode::SEE_OTHER);
    let checkout_page = location(&to_checkout);
    assert!(
        checkout_page.starts_with(&format!("{sim}/c/")),
        "{checkout_page}"
    );
    let back = checkout_says(&client, &checkout_page, "paid").await;
    assert!(
        back.starts_with(&format!("{}/pagamento/", app.base)),
        "{back}"
    );
    assert!(back.ends_with("/esito/ok"));

    let outcome = client.get(&back).send().await.unwrap();
    assert_eq!(outcome.status(), StatusCode::OK);
    let cleared = outcome
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("cassa_cart=;"));
    assert!(cleared, "a paid cart is done");
    let html = outcome.text().await.unwrap();
    assert!(html.contains("Pagamento completato"), "{html}");
    let links: Vec<&str> = html
        .match_indices("/ricevuta/")
        .map(|(i, _)| {
            let start = html[..i].rfind('"').unwrap() + 1;
            let end = i + html[i..].find('"').unwrap();
            &html[start..end]
        })
        .collect();
    assert_eq!(links.len(), 2, "a receipt per notice: {html}");
    for link in &links {
        let pdf = client
            .get(format!("{}{link}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let text = cassa_testkit::documents::pdf_text(&pdf.bytes().await.unwrap());
        assert!(text.contains("Banca Simulata"), "the PSP chosen: {text}");
    }
    assert_eq!(
        app.store
            .position(app.ente.id, "CK-1")
            .await
            .unwrap()
            .unwrap()
            .status
            .code(),
        "PAID"
    );

    // Ricevuta Telematica finds it again by notice and codice fiscale.
    let csrf = token(&client, &format!("{}/ricevuta", app.base)).await;
    let found = post(
        &client,
        &format!("{}/ricevuta", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("notice", &regione),
            ("fiscal_code", "RSSMRA85T10A562S"),
        ],
    )
    .await;
    assert_eq!(found.headers()["content-type"], "application/pdf");
    let csrf = token(&client, &format!("{}/ricevuta", app.base)).await;
    let wrong = post(
        &client,
        &format!("{}/ricevuta", app.base),
        &[
            ("csrf", csrf.as_str()),
            ("notice", &regione),
            ("fiscal_code", "BNCGLI90C45F205Y"),
        ],
    )
    .await;
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Non abbiamo trovato una ricevuta")
    );

    // The outbox: the resume link once, a receipt per payment, to the
    // checkout's address; sent once however often the mailer runs, over
    // STARTTLS to a relay whose certificate a private CA signed.
    let sink = SmtpSink::start_starttls(&SMTP_CERTIFICATE).await;
    let relay = sink.url.replace("smtp://", "smtp://cassa:relay-password@");
    let ca = std::fs::read(TEST_CA.ca_file()).unwrap();
    let mailer = Mailer::new(
        app.store.clone(),
        MailTransport::smtp(&relay, Some(&ca)).unwrap(),
        "Portale Pagamenti <noreply@cassa.test>",
        &app.base,
    )
    .unwrap();
    while mailer.send_next().await.unwrap() {}
    while mailer.send_next().await.unwrap() {}
    let delivered = sink.wait_for(3).await;
    assert_eq!(delivered.len(), 3, "{delivered:?}");
    assert!(
        delivered
            .iter()
            .all(|m| m.tls && m.user.as_deref() == Some("cassa")),
        "every message over TLS, after logging in"
    );
    let resume = MessageParser::default().parse(&delivered[0].data).unwrap();
    assert_eq!(delivered[0].to, ["mario.rossi@example.org"]);
    let body = resume.body_text(0).unwrap();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/carrello/riprendi/"))
        .unwrap()
        .to_owned();
    let elsewhere = browser();
    let resumed = elsewhere.get(&link).send().await.unwrap();
    assert_eq!(resumed.status(), StatusCode::SEE_OTHER);
    // The cart was paid since: the link says so, and offers nothing to pay.
    let html = page(&elsewhere, &format!("{}{}", app.base, location(&resumed))).await;
    assert!(html.contains("già stato inviato al pagamento"), "{html}");
    assert!(!html.contains("/carrello/anagrafica"));
    for receipt in &delivered[1..] {
        assert_eq!(receipt.to, ["versante@example.org"]);
        let message = MessageParser::default().parse(&receipt.data).unwrap();
        assert!(
            message
                .subject()
                .unwrap()
                .starts_with("Ricevuta di pagamento")
        );
        let attachment = message.attachment(0).expect("the receipt PDF");
        assert_eq!(attachment.content_type().unwrap().subtype(), Some("pdf"));
        assert!(attachment.contents().starts_with(b"%PDF"));
    }
}

async fn refused_cancelled_and_tampered_carts_pay_nothing(backend: Backend) {
    let (app, _sim) = TestApp::start_with_checkout(backend, Duration::ZERO).await;
    let first = publish(&app, &app.ente.fiscal_code, &app.key, "T-1", 1_000).await;
    let client = browser();
    add(&client, &app.base, &first).await;

    // Cancelled at Checkout: nothing activated, the cart is still there.
    let checkout_page = location(&go_to_checkout(&client, &app.base).await);
    let back = checkout_says(&client, &checkout_page, "cancelled").await;
    assert!(back.ends_with("/esito/annullato"));
    let html = page(&client, &back).await;
    assert!(html.contains("Pagamento annullato"), "{html}");
    assert!(
        page(&client, &format!("{}/carrello", app.base))
            .await
            .contains("10,00 €")
    );
    // A second submit of the same Checkout page pays nothing.
    let again = post(
        &client,
        &checkout_page,
        &[("psp", "SIMPSPIT"), ("outcome", "paid")],
    )
    .await;
    assert!(!location(&again).contains("/esito/"));

    // Refused by the PSP after activation: the failure page, no receipt;
    // the activation holds the notice for a while, and the cart says so.
    let checkout_page = location(&go_to_checkout(&client, &app.base).await);
    let back = checkout_says(&client, &checkout_page, "refused").await;
    assert!(back.ends_with("/esito/ko"));
    let html = page(&client, &back).await;
    assert!(html.contains("Pagamento non riuscito"), "{html}");
    assert!(html.contains("Torna al carrello"));
    let receipts = app
        .store
        .receipts_of_notice(app.ente.id, &first)
        .await
        .unwrap();
    assert!(receipts.is_empty());
    let blocked = go_to_checkout(&client, &app.base).await;
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    assert!(
        blocked
            .text()
            .await
            .unwrap()
            .contains("ha un pagamento in corso")
    );

    // Paid elsewhere, or its amount changed by the ente since it went in:
    // refused before Checkout, naming the notice and the reason.
    let other = browser();
    let paid = publish(&app, &app.ente.fiscal_code, &app.key, "T-2", 2_000).await;
    let changed = publish(&app, &app.ente.fiscal_code, &app.key, "T-3", 3_000).await;
    add(&other, &app.base, &paid).await;
    add(&other, &app.base, &changed).await;
    app.pay_at_psp(&app.ente.fiscal_code, &paid).await;
    let mut body = position_body("T-3", &[&[3_500]]);
    body["paymentOption"][0]["nav"] = changed.clone().into();
    let updated = app
        .call(
            Method::PUT,
            &format!("{}/T-3?toPublish=true", app.positions()),
            Some(&body),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let refused = go_to_checkout(&other, &app.base).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.unwrap();
    assert!(html.contains("risulta già pagato"), "{html}");
    assert!(html.contains("35,00 €"), "the new amount: {html}");

    // Someone else's (or a made-up) cart, checkout or receipt: nothing.
    let stranger = cassa_net::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let forged = stranger
        .get(format!("{}/carrello/riepilogo", app.base))
        .header("cookie", "cassa_cart=00000000000000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(location(&forged), "/carrello");
    let unknown = stranger
        .get(format!(
            "{}/pagamento/0123456789abcdef0123456789abcdef/esito/ok",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let id = back.split('/').nth_back(2).unwrap();
    let not_its_item = stranger
        .get(format!("{}/pagamento/{id}/ricevuta/999999", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(not_its_item.status(), StatusCode::NOT_FOUND);
}

async fn a_pending_payment_says_not_to_pay_again(backend: Backend) {
    let (app, _sim) = TestApp::start_with_checkout(backend, Duration::from_millis(300)).await;
    let notice = publish(&app, &app.ente.fiscal_code, &app.key, "P-1", 1_000).await;
    let client = browser();
    add(&client, &app.base, &notice).await;
    let checkout_page = location(&go_to_checkout(&client, &app.base).await);
    let back = checkout_says(&client, &checkout_page, "pending").await;
    assert!(back.ends_with("/esito/attesa"));
    let html = page(&client, &back).await;
    assert!(html.contains("NON ripetere il pagamento"), "{html}");
    assert!(html.contains("Ricevuta in arrivo"));
    // The receipt comes later; the page then offers it.
    for _ in 0..100 {
        if page(&client, &back).await.contains("Scarica la ricevuta") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the receipt of the pending payment never arrived");
}
