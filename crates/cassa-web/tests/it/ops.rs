use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};

use crate::TestApp;

backend_tests!(health_metrics_and_docs);

async fn health_metrics_and_docs(backend: Backend) {
    let app = TestApp::start(backend).await;
    let health = app.call_raw(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(
        health.body["writers"]["creates"], "running",
        "{}",
        health.body
    );

    // A request through the API shows up in the metrics under its route.
    app.call(Method::GET, &app.positions(), None).await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(crate::METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="/organizations/{organizationfiscalcode}/debtpositions""#)),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));

    let doc = app
        .call_raw(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.0.1");
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(
        paths.contains_key("/organizations/{organizationfiscalcode}/debtpositions/{iupd}/publish")
    );
    let required = doc.body["components"]["schemas"]["PaymentOptionModel"]["required"]
        .as_array()
        .unwrap();
    assert!(
        !required.iter().any(|r| r == "iuv"),
        "the IUV is optional in our document"
    );
    assert!(
        doc.body["info"]["description"]
            .as_str()
            .unwrap()
            .contains("generates")
    );

    let page = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"") && html.contains("/debtpositions/{iupd}/invalidate"),
        "{html}"
    );

    // The home page is the citizen portal's.
    let home = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("Portale Pagamenti"));

    let unknown = app.call_raw(Method::GET, "/nope", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["status"], 404);
}
