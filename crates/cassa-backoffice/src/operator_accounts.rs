//! An ente admin's hold on the accounts of the ente's operators: a
//! password reset (a one-time password, shown once, to be changed at the
//! next login) and deactivation / reactivation. Only for accounts whose
//! every role is on enti this admin administers (`Access::may_manage_account`),
//! never their own; each ends the account's sessions and is audited.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::Timestamp;

use super::operators::{may_manage, may_manage_account, page};
use super::scope::EnteScope;
use super::{Office, forbidden, internal_error};
use crate::BackofficeState;

/// The checks both actions share: the form token, the ente admin's role,
/// an account of this ente they may manage. `Err` is the answer.
async fn checked(
    state: &BackofficeState,
    office: &Office,
    scope: &EnteScope,
    operator_id: i64,
    posted: &HashMap<String, String>,
) -> Result<(), Response> {
    if !office.accepts(posted.get("csrf").map_or("", String::as_str)) || !may_manage(office, scope)
    {
        return Err(forbidden(office));
    }
    let of_this_ente = match state.store.operators_of_ente(scope.ente.id).await {
        Ok(operators) => operators.iter().any(|(o, _)| o.id == operator_id),
        Err(e) => return Err(internal_error(office, e)),
    };
    match may_manage_account(state, office, operator_id).await {
        Ok(true) if of_this_ente => Ok(()),
        Ok(_) => Err(forbidden(office)),
        Err(e) => Err(internal_error(office, e)),
    }
}

/// `POST /backoffice/enti/{cf}/operatori/utenze/{operator}/password`
pub async fn reset_password(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, operator_id)): Path<(String, i64)>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if let Err(answer) = checked(&state, &office, &scope, operator_id, &posted).await {
        return answer;
    }
    // Without local passwords there is nothing to reset.
    if !state.backoffice.local_passwords {
        return forbidden(&office);
    }
    let username = match state.store.operator(operator_id).await {
        Ok(Some(operator)) => operator.username,
        Ok(None) => return forbidden(&office),
        Err(e) => return internal_error(&office, e),
    };
    let password = super::generate_password();
    let hashed = password.clone();
    let hash = match tokio::task::spawn_blocking(move || super::hash_password(&hashed)).await {
        Ok(hash) => hash,
        Err(e) => return internal_error(&office, e),
    };
    let actor = format!("operator:{}", office.operator.username);
    if let Err(e) = state
        .store
        .reset_password(operator_id, &hash, &actor, Timestamp::now())
        .await
    {
        return internal_error(&office, e);
    }
    // Shown once, on this page only: it is not kept anywhere.
    let message = format!("{} {username}: {password}", office.t.account_reset_done);
    page(
        &state,
        office,
        &scope,
        HashMap::new(),
        HashMap::new(),
        Some(("success", message)),
        StatusCode::OK,
    )
    .await
}

/// `POST /backoffice/enti/{cf}/operatori/utenze/{operator}/stato`, with
/// `active` = `1` or `0`.
pub async fn set_active(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, operator_id)): Path<(String, i64)>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if let Err(answer) = checked(&state, &office, &scope, operator_id, &posted).await {
        return answer;
    }
    let active = posted.get("active").map(String::as_str) == Some("1");
    let actor = format!("operator:{}", office.operator.username);
    if let Err(e) = state
        .store
        .set_operator_active(operator_id, active, &actor, Timestamp::now())
        .await
    {
        return internal_error(&office, e);
    }
    let outcome = if active { "riattivata" } else { "disattivata" };
    Redirect::to(&format!(
        "/backoffice/enti/{}/operatori?esito={outcome}",
        scope.ente.fiscal_code
    ))
    .into_response()
}
