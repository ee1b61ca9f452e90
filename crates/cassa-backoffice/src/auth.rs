//! Operators' login: argon2id passwords, an optional TOTP code, lockout
//! after repeated failures (cassa-core's rules), a limit per client
//! address, and sessions in the database. The cookie holds a random
//! token; the database holds its SHA-256, so a copy of the database opens
//! no session. A new token at every login; logout deletes the session.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use serde::Deserialize;

use cassa_core::citizen::{Assurance, Identity};

use super::i18n::{BoTexts, texts};
use super::{Office, render_with_status};
use crate::BackofficeState;
use cassa_http::i18n::Lang;
use cassa_http::{Csrf, RateLimit, cookie};

const COOKIE: &str = "cassa_bo";
/// A session ends after this long without a request.
const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// And this long after login, however busy.
const ABSOLUTE: SignedDuration = SignedDuration::from_hours(12);

/// An argon2id hash (PHC string) of a new password. CPU work: call it off
/// the async threads.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id with default parameters hashes any password")
        .to_string()
}

/// A password that meets the rules: 20 random characters of four kinds.
pub fn generate_password() -> String {
    use rand::Rng;
    const SETS: [&[u8]; 4] = [
        b"abcdefghijkmnopqrstuvwxyz",
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"23456789",
        b"-_.!+",
    ];
    let mut rng = rand::rng();
    (0..20)
        .map(|i| {
            let set = SETS[i % 4];
            set[rng.random_range(0..set.len())] as char
        })
        .collect()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Checks a TOTP code (RFC 6238: SHA-1, 6 digits, 30 s, one step of skew).
pub(super) fn totp_accepts(secret_base32: &str, code: &str, now: Timestamp) -> bool {
    totp_step(secret_base32, code, now).is_some()
}

/// The time step a TOTP code belongs to (now's, or one either side), so a
/// login can spend it once.
pub(super) fn totp_step(secret_base32: &str, code: &str, now: Timestamp) -> Option<i64> {
    let bytes = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .ok()?;
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).ok()?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 {
        return None;
    }
    let step = now.as_second().max(0) / 30;
    [step - 1, step, step + 1].into_iter().find(|&candidate| {
        candidate >= 0 && cassa_http::token::same(&totp.generate(candidate as u64 * 30), &code)
    })
}

use cassa_http::token::hash as token_hash;

fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, cassa_http::i18n::LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or(Lang::It)
}

#[derive(Template)]
#[template(path = "backoffice/login.html")]
struct LoginPage {
    lang: Lang,
    t: &'static BoTexts,
    csrf: Csrf,
    username: String,
    next: String,
    error: Option<&'static str>,
    /// The password form is offered.
    passwords: bool,
    /// The identity gateway's ways in: OIDC (SPID, CIE), the SAML proxy.
    oidc: bool,
    sso: bool,
}

fn login_page(
    state: &BackofficeState,
    status: StatusCode,
    headers: &HeaderMap,
    username: String,
    next: String,
    error: Option<&'static str>,
) -> Response {
    let lang = lang_of(headers);
    let page = LoginPage {
        lang,
        t: texts(lang),
        csrf: Csrf::from_headers(headers),
        username,
        next,
        error,
        passwords: state.backoffice.local_passwords,
        oidc: state.gateway.oidc,
        sso: state.gateway.sso,
    };
    let mut response = render_with_status(status, &page);
    if let Some(cookie) = page.csrf.set_cookie() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize, Default)]
pub struct AfterLogin {
    #[serde(default)]
    next: String,
}

/// Where to go after login: only back-office paths.
fn safe_next(next: &str) -> String {
    match cassa_http::local_path::LocalPath::parse_within(next, "/backoffice") {
        Some(path) if !path.as_str().starts_with("/backoffice/login") => path.as_str().to_owned(),
        _ => "/backoffice".to_owned(),
    }
}

pub async fn form(
    State(state): State<BackofficeState>,
    headers: HeaderMap,
    Query(next): Query<AfterLogin>,
) -> Response {
    login_page(
        &state,
        StatusCode::OK,
        &headers,
        String::new(),
        safe_next(&next.next),
        None,
    )
}

#[derive(Deserialize, Default)]
pub struct Posted {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// A hash to verify against when the username does not exist, so that
/// the answer takes as long either way.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password of anyone"))
}

pub async fn login(State(state): State<BackofficeState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let client = cassa_http::client_addr::Client::of(&request);
    let posted = match Form::<Posted>::from_request(request, &state).await {
        Ok(Form(posted)) => posted,
        Err(_) => Posted::default(),
    };
    let t = texts(lang_of(&headers));
    let next = safe_next(&posted.next);
    let again = |status, error| {
        login_page(
            &state,
            status,
            &headers,
            posted.username.clone(),
            next.clone(),
            Some(error),
        )
    };
    // Turned off, a password is not even looked at.
    if !state.backoffice.local_passwords {
        return again(StatusCode::FORBIDDEN, t.login_passwords_off);
    }
    if !Csrf::from_headers(&headers).accepts(&posted.csrf) {
        return again(StatusCode::FORBIDDEN, t.session_expired);
    }
    if !RateLimit::LOGINS
        .allow(&state.store, &client.limit_key())
        .await
    {
        return again(StatusCode::TOO_MANY_REQUESTS, t.login_locked);
    }
    if posted.username.trim().is_empty() || posted.password.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, t.login_wrong);
    }
    let now = Timestamp::now();
    let found = match state.store.operator_for_login(&posted.username).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "login: the store failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let hash = found
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |(_, c)| c.password_hash.clone());
    let password = posted.password.clone();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some((operator, credentials)) = found.filter(|(o, _)| o.active) else {
        return again(StatusCode::UNAUTHORIZED, t.login_wrong);
    };
    if operator.locked_until.is_some_and(|until| until > now) {
        return again(StatusCode::UNAUTHORIZED, t.login_locked);
    }
    // A code is good once: its step must come after the last login's.
    let step = credentials
        .totp_secret
        .as_deref()
        .map(|secret| totp_step(secret, &posted.code, now));
    let code_ok = match step {
        None => true,
        Some(None) => false,
        Some(Some(step)) => credentials.totp_last_step.is_none_or(|last| step > last),
    };
    if !password_ok || !code_ok {
        let locked = match state.store.login_failed(operator.id, now).await {
            Ok(locked) => locked,
            Err(e) => {
                tracing::error!(error = %e, "login: the store failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let why = match (locked, password_ok) {
            (Some(_), _) => t.login_locked,
            (None, false) => t.login_wrong,
            (None, true) => t.login_code,
        };
        return again(StatusCode::UNAUTHORIZED, why);
    }
    tracing::info!(operator = %operator.username, "back-office login");
    start_session(&state, &headers, operator.id, step.flatten(), &next).await
}

/// A new session for `operator_id` (a new token at every login), and off
/// to `next`.
async fn start_session(
    state: &BackofficeState,
    headers: &HeaderMap,
    operator_id: i64,
    totp_step: Option<i64>,
    next: &str,
) -> Response {
    // The browser's previous session ends: one browser, one session.
    if let Some(previous) = cookie(headers, COOKIE)
        && let Err(e) = state.store.end_session(&token_hash(previous)).await
    {
        tracing::warn!(error = %e, "login: the previous session could not be ended");
    }
    let token = cassa_http::token::random_hex(32);
    match state
        .store
        .login_succeeded(
            operator_id,
            &token_hash(&token),
            &cassa_http::token::random_hex(32),
            totp_step,
            IDLE,
            Timestamp::now(),
        )
        .await
    {
        Ok(true) => {}
        // Another login spent that code a moment ago.
        Ok(false) => return Redirect::to("/backoffice/login").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "login: the store failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let secure = state.site.secure_cookie();
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{COOKIE}={token}; Path=/backoffice; HttpOnly; SameSite=Strict{secure}"
        ))
        .expect("hex is a valid header value"),
    );
    response
}

/// The session's cookie is `SameSite=Strict`, and a redirect chain that
/// began at the identity provider is cross-site: a browser would not send
/// it on the next hop. A page of ours that moves on is same-site.
fn same_site_landing(mut session: Response, to: &str) -> Response {
    if session.status() != StatusCode::SEE_OTHER {
        return session;
    }
    let cookies: Vec<HeaderValue> = session
        .headers_mut()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={to}\"><title>Back office</title></head>\
         <body><p><a href=\"{to}\">Back office</a></p></body></html>"
    );
    let mut landing = (StatusCode::OK, axum::response::Html(html)).into_response();
    for cookie in cookies {
        landing.headers_mut().append(header::SET_COOKIE, cookie);
    }
    landing
}

/// An operator the identity gateway vouched for (OIDC, or the SAML
/// proxy's headers): the account linked to their codice fiscale, or to the
/// e-mail the provider verified, if one account alone has it. At least
/// SPID level 2 (or the portal's minimum, if higher); no TOTP asked, the
/// gateway's login being the second factor.
pub async fn gateway_login(
    state: &BackofficeState,
    headers: &HeaderMap,
    identity: &Identity,
    verified_email: Option<&str>,
) -> Response {
    let t = texts(lang_of(headers));
    let refuse = |why| {
        login_page(
            state,
            StatusCode::UNAUTHORIZED,
            headers,
            String::new(),
            "/backoffice".to_owned(),
            Some(why),
        )
    };
    let minimum = Some(Assurance::Substantial).max(state.gateway.min_assurance);
    if !Assurance::meets(identity.assurance, minimum) {
        return refuse(t.login_sso_level);
    }
    match state
        .store
        .operator_for_identity(identity.id.fiscal_code(), verified_email, Timestamp::now())
        .await
    {
        Ok(Some(operator_id)) => {
            tracing::info!(
                operator_id,
                method = identity.method.as_str(),
                "back-office login through the gateway"
            );
            let session = start_session(state, headers, operator_id, None, "/backoffice").await;
            same_site_landing(session, "/backoffice")
        }
        Ok(None) => {
            tracing::info!("a gateway login matched no active operator");
            refuse(t.login_sso_unknown)
        }
        Err(e) => {
            tracing::error!(error = %e, "login: the store failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The route layer of every signed-in page: no live session, no page.
pub async fn require_session(
    State(state): State<BackofficeState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let to_login = || {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &path)
            .finish();
        Redirect::to(&format!("/backoffice/login?{query}")).into_response()
    };
    let Some(token) = cookie(request.headers(), COOKIE).map(str::to_owned) else {
        return to_login();
    };
    let hash = token_hash(&token);
    let now = Timestamp::now();
    let session = match state.store.session(&hash, now).await {
        Ok(Some(session)) if session.created_at + ABSOLUTE > now => session,
        Ok(_) => return to_login(),
        Err(e) => {
            tracing::error!(error = %e, "session: the store failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // Sliding expiry, written at most every few minutes.
    if session.expires_at.duration_since(now) < IDLE - SignedDuration::from_mins(5)
        && let Err(e) = state.store.extend_session(&hash, now + IDLE).await
    {
        tracing::warn!(error = %e, "session: could not extend");
    }
    // A password someone else set is changed before anything else.
    if session.operator.must_change_password
        && state.backoffice.local_passwords
        && !matches!(
            path.as_str(),
            "/backoffice/account" | "/backoffice/account/password" | "/backoffice/logout"
        )
    {
        return Redirect::to("/backoffice/account").into_response();
    }
    let lang = lang_of(request.headers());
    request.extensions_mut().insert(Office {
        lang,
        t: texts(lang),
        path,
        operator: session.operator,
        access: session.access,
        csrf: session.csrf,
        token_hash: hash,
    });
    next.run(request).await
}

#[derive(Deserialize, Default)]
pub struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /backoffice/logout`: the session ends, in the database too.
pub async fn logout(
    State(state): State<BackofficeState>,
    axum::Extension(office): axum::Extension<Office>,
    Form(form): Form<TokenOnly>,
) -> Response {
    if !office.accepts(&form.csrf) {
        return super::forbidden(&office);
    }
    if let Err(e) = state.store.end_session(&office.token_hash).await {
        return super::internal_error(&office, e);
    }
    let mut response = Redirect::to("/backoffice/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "cassa_bo=; Path=/backoffice; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("Tre-Cime-di-Lavaredo");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Tre-Cime-di-Lavaredo", &hash));
        assert!(!verify_password("tre-cime-di-lavaredo", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_meet_the_rules() {
        for _ in 0..100 {
            let password = generate_password();
            assert!(
                cassa_core::access::check_password(&password, "admin").is_empty(),
                "{password}"
            );
        }
    }

    #[test]
    fn totp_codes_follow_rfc_6238() {
        // RFC 6238's SHA-1 test key, "12345678901234567890", in base32.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let at = Timestamp::from_second(59).unwrap();
        // The RFC's 8-digit value at T=59 is 94287082: its last 6 digits.
        assert!(totp_accepts(secret, "287082", at));
        assert!(totp_accepts(secret, "287 082", at));
        assert!(!totp_accepts(secret, "287083", at));
        assert!(!totp_accepts(secret, "", at));
        // One step of skew either way, not two.
        assert!(totp_accepts(
            secret,
            "287082",
            at + SignedDuration::from_secs(30)
        ));
        assert!(!totp_accepts(
            secret,
            "287082",
            at + SignedDuration::from_secs(90)
        ));
    }

    #[test]
    fn only_back_office_paths_come_after_login() {
        assert_eq!(
            safe_next("/backoffice/enti/1/dovuti"),
            "/backoffice/enti/1/dovuti"
        );
        assert_eq!(safe_next("https://evil.example/"), "/backoffice");
        assert_eq!(safe_next("/backoffice//evil.example"), "/backoffice");
        assert_eq!(safe_next("/backoffice/login"), "/backoffice");
    }
}
