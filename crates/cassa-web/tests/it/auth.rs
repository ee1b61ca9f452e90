use cassa_testkit::{Backend, backend_tests};
use reqwest::{Method, StatusCode};

use crate::contract::assert_conforms;
use crate::{REGIONE, TestApp, create_ente, position_body};

const LIST: &str = "/organizations/{organizationfiscalcode}/debtpositions";

backend_tests!(keys_decide_the_ente, revoked_and_unknown_keys_are_refused);

async fn keys_decide_the_ente(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (regione, regione_key) = create_ente(&app.store, REGIONE, "Regione Lombardia", 1).await;
    let body = position_body("MINE", &[&[100]]).to_string().into_bytes();

    // No key, a wrong key: 401 and nothing written.
    let none = app
        .call_raw(Method::POST, &app.positions(), None, Some(body.clone()))
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_conforms("POST", LIST, 401, &none.body);
    assert!(
        none.body["detail"]
            .as_str()
            .unwrap()
            .contains("Ocp-Apim-Subscription-Key")
    );
    let wrong = app
        .call_raw(
            Method::POST,
            &app.positions(),
            Some("cassa_0000"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // The Regione's key on Milano's path: 403 naming both.
    let other = app
        .call_raw(
            Method::POST,
            &app.positions(),
            Some(&regione_key),
            Some(body.clone()),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_conforms("POST", LIST, 403, &other.body);
    let message = other.body["message"].as_str().unwrap();
    assert!(
        message.contains(REGIONE) && message.contains(&app.ente.fiscal_code),
        "{message}"
    );
    let listing = app
        .call_raw(Method::GET, &app.positions(), Some(&regione_key), None)
        .await;
    assert_eq!(listing.status, StatusCode::FORBIDDEN);

    let mine = app
        .call(Method::GET, &format!("{}/MINE", app.positions()), None)
        .await;
    assert_eq!(
        mine.status,
        StatusCode::NOT_FOUND,
        "nothing was written by refused calls"
    );

    // The Regione's key on its own path works, and sees only its positions.
    let path = format!("/organizations/{}/debtpositions", regione.fiscal_code);
    let created = app
        .call_raw(Method::POST, &path, Some(&regione_key), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let milano_list = app.call(Method::GET, &app.positions(), None).await;
    assert_eq!(
        milano_list.body["payment_position_list"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn revoked_and_unknown_keys_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    // An ente nobody registered: the key is valid, but not for it.
    let unknown = app
        .call(
            Method::GET,
            "/organizations/00000000000/debtpositions",
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);

    let key_id = app.store.api_keys(app.ente.id).await.unwrap()[0].id;
    let before = app.call(Method::GET, &app.positions(), None).await;
    assert_eq!(before.status, StatusCode::OK);
    app.store
        .revoke_api_key(app.ente.id, key_id, "test", jiff::Timestamp::now())
        .await
        .unwrap();
    let after = app.call(Method::GET, &app.positions(), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert!(after.body["detail"].as_str().unwrap().contains("revoked"));
}
