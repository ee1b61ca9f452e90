//! Tried as an attacker would: an open redirect through the language
//! switch, framing a payment page, reading `/metrics`, forging a request id
//! into the audit trail. Each gets a refusal (or a harmless answer) and
//! changes nothing.

use cassa_store::AuditFilter;
use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};

use crate::portal::browser;
use crate::{METRICS_TOKEN, TestApp, position_body};

backend_tests!(
    pages_cannot_be_framed_sniffed_or_leak_their_url,
    the_language_switch_never_leaves_the_site,
    metrics_need_the_token,
    the_audit_trail_keeps_our_request_id_not_the_callers,
);

async fn pages_cannot_be_framed_sniffed_or_leak_their_url(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = browser();
    for path in [
        "/",
        "/paga-avviso",
        "/carrello",
        "/backoffice/login",
        "/api/docs",
    ] {
        let page = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let headers = page.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over plain HTTP"
        );
    }
    let json = app.call(Method::GET, &app.positions(), None).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(
        json.headers["content-security-policy"], "frame-ancestors 'none'",
        "what is not a page is not framed either"
    );
    assert_eq!(json.headers["x-content-type-options"], "nosniff");
}

async fn the_language_switch_never_leaves_the_site(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = browser();
    for (back, expected) in [
        ("/paga-avviso", "/paga-avviso"),
        ("/carrello?esito=aggiunto", "/carrello?esito=aggiunto"),
        ("//evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/%0A/evil.example", "/"),
        ("/%0D%0A/evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("%5C%5Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%20/evil.example", "/"),
    ] {
        let response = client
            .get(format!("{}/lingua/en?back={back}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{back}");
        assert_eq!(response.headers()["location"], expected, "back={back}");
    }
    // After login, too, only back-office paths.
    let login = client
        .get(format!(
            "{}/backoffice/login?next=/backoffice%09/evil.example",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!login.contains("evil.example"), "{login}");
}

async fn metrics_need_the_token(backend: Backend) {
    let app = TestApp::start(backend).await;
    let url = format!("{}/metrics", app.base);
    let anonymous = app.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("not-the-metrics-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app
        .client
        .get(&url)
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("http_requests_total"));

    // Without a token configured, /metrics is not on the public listener.
    let closed = TestApp::start_with_ops(backend, cassa_web::OpsSettings::default()).await;
    let response = closed
        .client
        .get(format!("{}/metrics", closed.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn the_audit_trail_keeps_our_request_id_not_the_callers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let forged = "the-admin-did-it";
    let created = app
        .client
        .post(format!("{}{}", app.base, app.positions()))
        .header("Ocp-Apim-Subscription-Key", &app.key)
        .header("x-request-id", forged)
        .json(&position_body("RID-1", &[&[1_000]]))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let ours = created.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(ours, forged);
    assert_eq!(ours.len(), 32, "{ours}");
    let events = app
        .store
        .audit_events(&AuditFilter {
            entity_key: Some("RID-1".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(!events.is_empty());
    for event in events {
        assert_eq!(event.request_id.as_deref(), Some(ours.as_str()));
    }
}
