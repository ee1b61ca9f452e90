//! Outbound TLS is verified: every Checkout and OIDC test already talks to
//! pagopa-sim over HTTPS through the tests' private CA; here the same
//! simulator, with cassa trusting only the system's roots, is refused, and
//! the citizen gets a clear page while nothing changes.

use std::time::Duration;

use cassa_testkit::{Backend, backend_tests};
use reqwest::StatusCode;

use crate::portal::{browser, page};
use crate::{LoginOptions, TEST_CA, TestApp, node_settings};
use cassa_jobs::{MailTransport, Mailer};
use cassa_testkit::smtp::SmtpSink;

backend_tests!(an_unknown_certificate_stops_checkout_and_login);

async fn an_unknown_certificate_stops_checkout_and_login(backend: Backend) {
    let (app, sim) = TestApp::start_trusting(
        backend,
        Some(Duration::ZERO),
        LoginOptions::default(),
        node_settings(),
        cassa_net::TrustedRoots::system(),
        cassa_web::OpsSettings::default(),
        "",
    )
    .await;
    let sim = sim.unwrap();
    assert!(sim.starts_with("https://"), "{sim}");
    let client = browser();

    // The OIDC login cannot reach a provider it cannot verify.
    let start = client
        .get(format!("{}/accedi/oidc?metodo=spid", app.base))
        .send()
        .await
        .unwrap();
    let back = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with("/accedi?"),
        "back to the login page, not to {back}"
    );
    let login = page(&client, &format!("{}{back}", app.base)).await;
    assert!(!login.contains(&sim), "{login}");

    // A Checkout cart cannot be sent either: the cart stays, nothing is paid.
    let notice =
        crate::checkout::publish(&app, &app.ente.fiscal_code, &app.key, "TLS-1", 1_000).await;
    crate::portal::add(&client, &app.base, &notice).await;
    let refused = crate::checkout::go_to_checkout(&client, &app.base).await;
    assert_eq!(refused.status(), StatusCode::BAD_GATEWAY);
    let html = refused.text().await.unwrap();
    assert!(!html.contains(&sim), "{html}");
    let cart = page(&client, &format!("{}/carrello", app.base)).await;
    assert!(cart.contains("10,00"), "the cart keeps its notice: {cart}");

    // The cart's resume link is mailed. A relay whose certificate nobody
    // trusts gets nothing and the message waits; over implicit TLS with
    // the private CA trusted, it goes.
    let queued = app.store.outbox_mails(10).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    let relay = SmtpSink::start_implicit_tls(&RELAY_CERTIFICATE).await;
    let untrusting = Mailer::new(
        app.store.clone(),
        MailTransport::smtp(&relay.url, None).unwrap(),
        "Portale Pagamenti <noreply@cassa.test>",
        &app.base,
    )
    .unwrap();
    untrusting.send_next().await.unwrap();
    assert!(relay.delivered().is_empty());
    let waiting = app.store.outbox_mails(10).await.unwrap();
    assert!(waiting[0].sent_at.is_none(), "{waiting:?}");
    let error = waiting[0].last_error.clone().unwrap_or_default();
    assert!(error.to_lowercase().contains("certificate"), "{error}");

    let ca = std::fs::read(TEST_CA.ca_file()).unwrap();
    let trusting = Mailer::new(
        app.store.clone(),
        MailTransport::smtp(&relay.url, Some(&ca)).unwrap(),
        "Portale Pagamenti <noreply@cassa.test>",
        &app.base,
    )
    .unwrap();
    // The failed attempt set a retry time: send as if that time came.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    assert!(trusting.send_next_due_at(later).await.unwrap());
    let delivered = relay.wait_for(1).await;
    assert!(delivered[0].tls);
    assert_eq!(delivered[0].to, ["mario.rossi@example.org"]);
}

static RELAY_CERTIFICATE: std::sync::LazyLock<cassa_testkit::tls::IssuedFiles> =
    std::sync::LazyLock::new(|| TEST_CA.server("implicit-tls-relay"));
