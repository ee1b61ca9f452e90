//! The operator's own account: turning the second factor (TOTP) on, with
//! a code from the app to prove it was set up, or off.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use rand::RngCore;
use serde::Deserialize;

use super::auth::totp_accepts;
use super::{Office, forbidden, internal_error, render};
use crate::AppState;

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
}

pub async fn totp(
    State(state): State<AppState>,
    Extension(office): Extension<Office>,
    Form(form): Form<TotpForm>,
) -> Response {
    if !office.accepts(&form.csrf) {
        return forbidden(&office);
    }
    let actor = format!("operator:{}", office.operator.username);
    let t = office.t;
    let secret = match form.turn.as_str() {
        "on" if totp_accepts(&form.secret, &form.code, Timestamp::now()) => {
            Some(form.secret.as_str())
        }
        "on" => return page(office, Some(("danger", t.login_code))),
        _ => None,
    };
    if let Err(e) = state
        .store
        .set_totp(office.operator.id, secret, &actor, Timestamp::now())
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
