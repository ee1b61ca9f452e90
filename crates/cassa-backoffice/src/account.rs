//! The operator's own account: changing the password (the current one
//! first; the other sessions end), and turning the second factor (TOTP)
//! on, with a code from the app to prove it was set up, or off, with the
//! password and a current code.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use rand::RngCore;
use serde::Deserialize;

use super::auth::totp_accepts;
use super::{Office, forbidden, internal_error, render};
use crate::BackofficeState;

#[derive(Template)]
#[template(path = "backoffice/account.html")]
struct AccountPage {
    office: Office,
    /// A new secret to set up, when TOTP is off.
    secret: String,
    otpauth: String,
    message: Option<(&'static str, &'static str)>,
}

fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    totp_rs::Secret::Raw(bytes.to_vec())
        .to_encoded()
        .to_string()
}

fn page(office: Office, message: Option<(&'static str, &'static str)>) -> Response {
    let secret = new_secret();
    let otpauth = format!(
        "otpauth://totp/cassa:{}?secret={secret}&issuer=cassa&algorithm=SHA1&digits=6&period=30",
        form_urlencoded::byte_serialize(office.operator.username.as_bytes()).collect::<String>()
    );
    render(&AccountPage {
        office,
        secret,
        otpauth,
        message,
    })
}

/// `GET /backoffice/account`
pub async fn show(
    Extension(office): Extension<Office>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let t = office.t;
    let message = match q.get("esito").map(String::as_str) {
        Some("totp-on") => Some(("success", t.totp_enabled_now)),
        Some("totp-off") => Some(("info", t.totp_disabled_now)),
        Some("password") => Some(("success", t.password_changed)),
        _ if office.operator.must_change_password => Some(("warning", t.password_must_change)),
        _ => None,
    };
    page(office, message)
}

#[derive(Deserialize, Default)]
pub struct TotpForm {
    #[serde(default)]
    csrf: String,
    /// `on` or `off`.
    #[serde(default)]
    turn: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
    /// To turn it off.
    #[serde(default)]
    password: String,
}

/// Whether `password` is the operator's, checked off the async threads;
/// past ten checks an hour for the account, it is not (a stolen session
/// cannot guess it).
async fn is_current_password(
    state: &BackofficeState,
    office: &Office,
    password: &str,
) -> Result<bool, cassa_store::StoreError> {
    let account = office.operator.id.to_string();
    if !cassa_http::RateLimit::ACCOUNT_CHECKS
        .allow(&state.store, &account)
        .await
    {
        return Ok(false);
    }
    let Some(hash) = state.store.password_hash_of(office.operator.id).await? else {
        return Ok(false);
    };
    let password = password.to_owned();
    Ok(
        tokio::task::spawn_blocking(move || super::verify_password(&password, &hash))
            .await
            .unwrap_or(false),
    )
}

pub async fn totp(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Form(form): Form<TotpForm>,
) -> Response {
    if !office.accepts(&form.csrf) {
        return forbidden(&office);
    }
    let actor = format!("operator:{}", office.operator.username);
    let t = office.t;
    let now = Timestamp::now();
    let secret = match form.turn.as_str() {
        "on" if totp_accepts(&form.secret, &form.code, now) => Some(form.secret.as_str()),
        "on" => return page(office, Some(("danger", t.login_code))),
        // Off only with the password and a code of the secret in use: a
        // session left open is not enough to drop the second factor.
        _ => {
            let current = match state
                .store
                .operator_for_login(&office.operator.username)
                .await
            {
                Ok(found) => found.and_then(|(_, credentials)| credentials.totp_secret),
                Err(e) => return internal_error(&office, e),
            };
            let code_ok = current.is_some_and(|secret| totp_accepts(&secret, &form.code, now));
            let password_ok = match is_current_password(&state, &office, &form.password).await {
                Ok(ok) => ok,
                Err(e) => return internal_error(&office, e),
            };
            if !(code_ok && password_ok) {
                return page(office, Some(("danger", t.totp_off_refused)));
            }
            None
        }
    };
    if let Err(e) = state
        .store
        .set_totp(office.operator.id, secret, &actor, now)
        .await
    {
        return internal_error(&office, e);
    }
    Redirect::to(if secret.is_some() {
        "/backoffice/account?esito=totp-on"
    } else {
        "/backoffice/account?esito=totp-off"
    })
    .into_response()
}

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /backoffice/account/password`: the current password, then a new
/// one that meets the rules, twice. The other sessions end.
pub async fn password(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Form(form): Form<PasswordForm>,
) -> Response {
    if !office.accepts(&form.csrf) {
        return forbidden(&office);
    }
    let t = office.t;
    let refusal = if form.new != form.repeat {
        Some(t.password_mismatch)
    } else if form.new == form.current
        || !cassa_core::access::check_password(&form.new, &office.operator.username).is_empty()
    {
        Some(t.password_rules)
    } else {
        match is_current_password(&state, &office, &form.current).await {
            Ok(true) => None,
            Ok(false) => Some(t.password_wrong_current),
            Err(e) => return internal_error(&office, e),
        }
    };
    if let Some(why) = refusal {
        return page(office, Some(("danger", why)));
    }
    let new = form.new;
    let hash = match tokio::task::spawn_blocking(move || super::hash_password(&new)).await {
        Ok(hash) => hash,
        Err(e) => return internal_error(&office, e),
    };
    if let Err(e) = state
        .store
        .change_password(
            office.operator.id,
            &hash,
            office.session(),
            Timestamp::now(),
        )
        .await
    {
        return internal_error(&office, e);
    }
    Redirect::to("/backoffice/account?esito=password").into_response()
}
