//! The demo OpenID Connect provider over HTTP on loopback, as a relying
//! party (cassa) meets it: discovery, the login page, the code flow with
//! PKCE, and ID tokens checked against the JWKS.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pagopa_sim::oidc::{OidcClient, OidcProvider, routes};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "cassa-demo";
const SECRET: &str = "cassa-demo-secret";
const REDIRECT: &str = "http://127.0.0.1:8080/accedi/oidc/ritorno";
/// A redirect URI with a query of its own, kept in the redirects.
const REDIRECT_WITH_QUERY: &str = "https://portale.example/accedi?ente=F205";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Idp {
    base: String,
    issuer: String,
}

/// One provider for every test (an RSA key takes a moment), served on its
/// own thread so that it outlives each test's runtime.
fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let provider = Arc::new(
            OidcProvider::new(
                format!("{base}/oidc"),
                vec![OidcClient {
                    id: CLIENT_ID.into(),
                    secret: SECRET.into(),
                    redirect_uris: vec![REDIRECT.into(), REDIRECT_WITH_QUERY.into()],
                }],
            )
            .unwrap(),
        );
        let issuer = provider.issuer().to_owned();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, routes(provider)).await.unwrap();
                });
        });
        Idp { base, issuer }
    })
}

fn http() -> reqwest::Client {
    cassa_net::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn authorize_params(redirect_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", redirect_uri.into()),
        ("response_type", "code".into()),
        ("scope", "openid profile email".into()),
        ("state", "st4te-&-more".into()),
        ("nonce", "n0nce".into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn location(response: &reqwest::Response) -> reqwest::Url {
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    reqwest::Url::parse(location).unwrap()
}

fn query(url: &reqwest::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// Logs in as `login` and returns the code the redirect carries.
async fn code_for(login: &str, redirect_uri: &str) -> String {
    let mut form = authorize_params(redirect_uri);
    form.push(("login", login.into()));
    let response = http()
        .post(format!("{}/oidc/authorize", idp().base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(&response);
    let q = query(&url);
    assert_eq!(q["state"], "st4te-&-more");
    q["code"].clone()
}

async fn redeem(form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (StatusCode, Value) {
    let mut request = http().post(format!("{}/oidc/token", idp().base)).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn verify(id_token: &str) -> Value {
    let jwks: JwkSet = http()
        .get(format!("{}/oidc/jwks", idp().base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[&idp().issuer]);
    jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn discovery_points_at_the_endpoints() {
    let idp = idp();
    let doc: Value = http()
        .get(format!(
            "{}/oidc/.well-known/openid-configuration",
            idp.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], idp.issuer.as_str());
    assert_eq!(idp.issuer, format!("{}/oidc", idp.base));
    for (field, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("jwks_uri", "jwks"),
    ] {
        assert_eq!(doc[field], format!("{}/{path}", idp.issuer), "{field}");
    }
    let list = |field: &str| -> Vec<String> { serde_json::from_value(doc[field].clone()).unwrap() };
    assert_eq!(list("response_types_supported"), ["code"]);
    assert_eq!(list("subject_types_supported"), ["public"]);
    assert_eq!(list("id_token_signing_alg_values_supported"), ["RS256"]);
    assert_eq!(list("code_challenge_methods_supported"), ["S256"]);
    assert_eq!(
        list("token_endpoint_auth_methods_supported"),
        ["client_secret_basic", "client_secret_post"]
    );
    assert_eq!(list("scopes_supported"), ["openid", "profile", "email"]);
    for claim in [
        "fiscal_number",
        "person_identifier",
        "auth_method",
        "acr",
        "nonce",
    ] {
        assert!(
            list("claims_supported").iter().any(|c| c == claim),
            "{claim}"
        );
    }
}

#[tokio::test]
async fn the_login_page_lists_the_identities_of_the_hinted_method() {
    let url = format!("{}/oidc/authorize", idp().base);
    let page = |hint: Option<&'static str>| {
        let mut params = authorize_params(REDIRECT);
        if let Some(hint) = hint {
            params.push(("idp_hint", hint.into()));
        }
        let request = http().get(&url).query(&params);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.unwrap()
        }
    };
    let all = page(None).await;
    assert!(all.contains("<html lang=\"it\">") && all.contains("<h1>Accesso (simulatore)</h1>"));
    for id in [
        "login-mario-rossi",
        "login-anna-bianchi",
        "login-giulia-verdi",
        "login-hans-muller",
    ] {
        assert!(all.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(all.contains("Entra come Mario Rossi (SPID)"));
    // The state travels in the forms, escaped.
    assert!(all.contains("value=\"st4te-&amp;-more\""));
    let eidas = page(Some("eidas")).await;
    assert!(eidas.contains("id=\"login-hans-muller\""));
    assert!(eidas.contains("Entra come Hans Müller (eIDAS)"));
    assert!(!eidas.contains("login-mario-rossi") && !eidas.contains("login-anna-bianchi"));
}

#[tokio::test]
async fn untrusted_clients_get_a_page_and_no_redirect() {
    let url = format!("{}/oidc/authorize", idp().base);
    let mut unknown_redirect = authorize_params("http://127.0.0.1:8080/altrove");
    let mut unknown_client = authorize_params(REDIRECT);
    unknown_client[0].1 = "intruso".into();
    for params in [&unknown_redirect, &unknown_client] {
        let response = http().get(&url).query(params).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(reqwest::header::LOCATION).is_none());
    }
    // Not even a prefix of a registered URI will do, nor on POST.
    unknown_redirect[1].1 = format!("{REDIRECT}/x");
    unknown_redirect.push(("login", "mario.rossi".into()));
    let response = http()
        .post(&url)
        .form(&unknown_redirect)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(reqwest::header::LOCATION).is_none());
}

#[tokio::test]
async fn bad_requests_go_back_to_the_client_with_an_error() {
    let url = format!("{}/oidc/authorize", idp().base);
    for (name, value, error) in [
        ("code_challenge", "", "invalid_request"),
        ("code_challenge_method", "plain", "invalid_request"),
        ("nonce", "", "invalid_request"),
        ("scope", "profile", "invalid_scope"),
        ("response_type", "token", "unsupported_response_type"),
    ] {
        let mut params = authorize_params(REDIRECT_WITH_QUERY);
        params.iter_mut().find(|(n, _)| *n == name).unwrap().1 = value.into();
        let response = http().get(&url).query(&params).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{name}");
        let to = location(&response);
        assert!(to.as_str().starts_with(REDIRECT_WITH_QUERY), "{to}");
        let q = query(&to);
        assert_eq!(q["ente"], "F205");
        assert_eq!(q["error"], error, "{name}");
        assert_eq!(q["state"], "st4te-&-more");
        assert!(!q.contains_key("code"));
    }
    // Without a state there is none to send back, and still an error.
    let mut params = authorize_params(REDIRECT);
    params.retain(|(n, _)| *n != "state");
    let response = http().get(&url).query(&params).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let q = query(&location(&response));
    assert_eq!(q["error"], "invalid_request");
    assert!(!q.contains_key("state"));
    // The citizen cancels on the login page.
    let mut params = authorize_params(REDIRECT);
    params.push(("cancel", "1".into()));
    let response = http().post(&url).form(&params).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let q = query(&location(&response));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st4te-&-more");
}

#[tokio::test]
async fn the_code_flow_gives_a_signed_id_token_once() {
    let code = code_for("mario.rossi", REDIRECT).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let response = http()
        .post(format!("{}/oidc/token", idp().base))
        .basic_auth(CLIENT_ID, Some(SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-store"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert!(body["access_token"].as_str().unwrap().len() >= 43);
    let claims = verify(body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["iss"], idp().issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["nonce"], "n0nce");
    assert_eq!(claims["fiscal_number"], "TINIT-RSSMRA80A01F205X");
    assert_eq!(claims["auth_method"], "spid");
    assert_eq!(claims["acr"], "https://www.spid.gov.it/SpidL2");
    assert_eq!(claims["name"], "Mario Rossi");
    assert_eq!(claims["email"], "mario.rossi@example.it");
    assert!(claims.get("person_identifier").is_none());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let sub = claims["sub"].as_str().unwrap().to_owned();

    // Used once: the same request now fails.
    let (status, body) = redeem(&form, Some((CLIENT_ID, SECRET))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // The same person has the same sub on the next login.
    let code = code_for("mario.rossi", REDIRECT).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = redeem(&form, Some((CLIENT_ID, SECRET))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        verify(body["id_token"].as_str().unwrap()).await["sub"],
        sub.as_str()
    );
}

#[tokio::test]
async fn eidas_by_client_secret_post_carries_the_person_identifier() {
    let code = code_for("hans.muller", REDIRECT_WITH_QUERY).await;
    let (status, body) = redeem(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_WITH_QUERY),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = verify(body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["person_identifier"], "DE/IT/1f3a9c2b7d");
    assert_eq!(claims["auth_method"], "eidas");
    assert_eq!(claims["family_name"], "Müller");
    assert!(claims.get("fiscal_number").is_none());
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_burns_the_code() {
    let code = code_for("anna.bianchi", REDIRECT).await;
    let other = URL_SAFE_NO_PAD.encode(Sha256::digest(b"another verifier"));
    for verifier in [other.as_str(), VERIFIER] {
        let (status, body) = redeem(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
            Some((CLIENT_ID, SECRET)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant", "{verifier}");
    }
}

#[tokio::test]
async fn clients_must_authenticate() {
    let code = code_for("giulia.verdi", REDIRECT).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = redeem(&form, Some((CLIENT_ID, "wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = redeem(&form, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = redeem(
        &[("grant_type", "client_credentials")],
        Some((CLIENT_ID, SECRET)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}
