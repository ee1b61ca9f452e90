//! The operators of an ente (ente admins): who holds which role, giving a
//! role to a new account (its password is shown once, here, to hand over)
//! or to an existing one, and taking a role away. Platform admins are
//! made from the command line only.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use cassa_core::access::{Action, Grant, Role};
use cassa_core::spontaneous::plausible_email;
use cassa_store::{NewOperator, Operator, OperatorError, RoleBinding, TipoDovuto};
use jiff::Timestamp;

use super::scope::EnteScope;
use super::{Office, forbidden, internal_error, render_with_status};
use crate::BackofficeState;

#[derive(Template)]
#[template(path = "backoffice/operators.html")]
struct OperatorsPage {
    office: Office,
    ente_name: String,
    fiscal_code: String,
    operators: Vec<(Operator, Vec<RoleBinding>)>,
    /// The accounts this admin may reset and deactivate.
    manageable: Vec<i64>,
    /// Local passwords are used: a reset is offered.
    passwords: bool,
    tipi: Vec<TipoDovuto>,
    roles: Vec<(&'static str, &'static str)>,
    values: HashMap<String, String>,
    errors: HashMap<&'static str, &'static str>,
    message: Option<(&'static str, String)>,
}

impl OperatorsPage {
    fn value(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    fn error(&self, key: &str) -> Option<&'static str> {
        self.errors.get(key).copied()
    }
}

pub(super) async fn page(
    state: &BackofficeState,
    office: Office,
    scope: &EnteScope,
    values: HashMap<String, String>,
    errors: HashMap<&'static str, &'static str>,
    message: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let (operators, tipi) = match (
        state.store.operators_of_ente(scope.ente.id).await,
        state.store.tipi_dovuto(scope.ente.id).await,
    ) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(e), _) | (_, Err(e)) => return internal_error(&office, e),
    };
    let mut manageable = Vec::new();
    for (operator, _) in &operators {
        match may_manage_account(state, &office, operator.id).await {
            Ok(true) => manageable.push(operator.id),
            Ok(false) => {}
            Err(e) => return internal_error(&office, e),
        }
    }
    let t = office.t;
    render_with_status(
        status,
        &OperatorsPage {
            ente_name: scope.ente.name.clone(),
            fiscal_code: scope.ente.fiscal_code.clone(),
            operators,
            manageable,
            passwords: state.backoffice.local_passwords,
            tipi,
            roles: vec![
                (Role::EnteAdmin.code(), t.role_ente_admin),
                (Role::Operator.code(), t.role_operator),
                (Role::ReadOnly.code(), t.role_read_only),
            ],
            values,
            errors,
            message,
            office,
        },
    )
}

pub(super) fn may_manage(office: &Office, scope: &EnteScope) -> bool {
    scope.can(office, None, Action::ConfigureEnte)
}

/// Whether `office` may reset or deactivate the account `operator_id`.
pub(super) async fn may_manage_account(
    state: &BackofficeState,
    office: &Office,
    operator_id: i64,
) -> Result<bool, cassa_store::StoreError> {
    let target = state.store.operator_access(operator_id).await?;
    Ok(office
        .access
        .may_manage_account(&target, operator_id == office.operator.id))
}

/// `GET /backoffice/enti/{cf}/operatori`
pub async fn list(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    if !may_manage(&office, &scope) {
        return forbidden(&office);
    }
    let message = match q.get("esito").map(String::as_str) {
        Some("concesso") => Some(("success", office.t.role_granted.to_owned())),
        Some("revocato") => Some(("info", office.t.role_revoked.to_owned())),
        Some("disattivata") => Some(("info", office.t.account_deactivated.to_owned())),
        Some("riattivata") => Some(("success", office.t.account_reactivated.to_owned())),
        _ => None,
    };
    page(
        &state,
        office,
        &scope,
        HashMap::new(),
        HashMap::new(),
        message,
        StatusCode::OK,
    )
    .await
}

/// `POST /backoffice/enti/{cf}/operatori`: a role for a new or an existing account.
pub async fn grant(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if !office.accepts(posted.get("csrf").map_or("", String::as_str))
        || !may_manage(&office, &scope)
    {
        return forbidden(&office);
    }
    let t = office.t;
    let get = |k: &str| {
        posted
            .get(k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut errors: HashMap<&'static str, &'static str> = HashMap::new();
    let role = Role::parse(&get("role"));
    if role.is_none() {
        errors.insert("role", t.field_required);
    }
    let tipi = match state.store.tipi_dovuto(scope.ente.id).await {
        Ok(tipi) => tipi,
        Err(e) => return internal_error(&office, e),
    };
    let tipo = match get("tipo").as_str() {
        "" => Ok(None),
        code => tipi
            .iter()
            .find(|t| t.code == code)
            .map(|t| Some(t.id))
            .ok_or(()),
    };
    if tipo.is_err() {
        errors.insert("tipo", t.field_required);
    }
    let username = get("username");
    if username.is_empty() {
        errors.insert("username", t.field_required);
    }
    // The person's codice fiscale, for logins through the identity
    // gateway: only on an account made here (linking someone's codice
    // fiscale to an account that works for other enti is not this
    // admin's to do).
    let fiscal_code = match get("fiscal_code") {
        cf if cf.is_empty() => None,
        cf => match cassa_core::CodiceFiscale::parse(&cf) {
            Ok(cf) => Some(cf.as_str().to_owned()),
            Err(_) => {
                errors.insert("fiscal_code", t.field_fiscal_code);
                None
            }
        },
    };
    let email = get("email");
    if !email.is_empty() && !plausible_email(&email) {
        errors.insert("email", t.field_email);
    }
    if let Some(cf) = &fiscal_code {
        match state.store.operator_by_fiscal_code(cf).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                errors.insert("fiscal_code", t.field_fiscal_code_taken);
            }
            Err(e) => return internal_error(&office, e),
        }
    }
    let existing = match state.store.operator_for_login(&username).await {
        Ok(found) => found.map(|(o, _)| o),
        Err(e) => return internal_error(&office, e),
    };
    if existing.is_none() && get("name").is_empty() {
        errors.insert("name", t.field_required);
    }
    let values: HashMap<String, String> = posted
        .iter()
        .filter(|(k, _)| *k != "csrf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (Some(role), Ok(tipo_dovuto_id), true) = (role, tipo, errors.is_empty()) else {
        let message = Some(("danger", t.form_errors.to_owned()));
        return page(
            &state,
            office,
            &scope,
            values,
            errors,
            message,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let actor = format!("operator:{}", office.operator.username);
    let now = Timestamp::now();
    let (operator_id, new_password) = match existing {
        Some(operator) => (operator.id, None),
        None => {
            let password = super::generate_password();
            let hashed = password.clone();
            let hash =
                match tokio::task::spawn_blocking(move || super::hash_password(&hashed)).await {
                    Ok(hash) => hash,
                    Err(e) => return internal_error(&office, e),
                };
            let name = get("name");
            let created = state
                .store
                .create_operator(
                    &NewOperator {
                        username: &username,
                        display_name: &name,
                        email: Some(email.as_str()).filter(|e| !e.is_empty()),
                        password_hash: &hash,
                        platform_admin: false,
                        // The admin saw the password: its owner changes it
                        // (when passwords are used here at all).
                        must_change_password: state.backoffice.local_passwords,
                    },
                    &actor,
                    now,
                )
                .await;
            let created = match created {
                Ok(operator) => match &fiscal_code {
                    Some(cf) => state
                        .store
                        .set_operator_fiscal_code(operator.id, Some(cf), &actor, now)
                        .await
                        .map_err(OperatorError::from)
                        .and_then(|linked| match linked {
                            true => Ok(operator),
                            false => Err(OperatorError::Invalid {
                                field: "fiscal_code",
                                reason: "linked to another account".into(),
                            }),
                        }),
                    None => Ok(operator),
                },
                Err(e) => Err(e),
            };
            match created {
                Ok(operator) => (operator.id, Some(password)),
                Err(OperatorError::Invalid { field, .. })
                    if field == "username" || field == "fiscal_code" =>
                {
                    let text = if field == "username" {
                        t.field_username
                    } else {
                        t.field_fiscal_code_taken
                    };
                    errors.insert(field, text);
                    let message = Some(("danger", t.form_errors.to_owned()));
                    return page(
                        &state,
                        office,
                        &scope,
                        values,
                        errors,
                        message,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await;
                }
                Err(e) => return internal_error(&office, e),
            }
        }
    };
    let grant = Grant {
        ente_id: scope.ente.id,
        role,
        tipo_dovuto_id,
    };
    if let Err(e) = state
        .store
        .grant_role(operator_id, &grant, &actor, now)
        .await
    {
        return internal_error(&office, e);
    }
    match new_password {
        // Shown once, on this page only: it is not kept anywhere.
        Some(password) => {
            let message = Some((
                "success",
                format!("{} {username}: {password}", t.new_operator_password),
            ));
            page(
                &state,
                office,
                &scope,
                HashMap::new(),
                HashMap::new(),
                message,
                StatusCode::OK,
            )
            .await
        }
        None => Redirect::to(&format!(
            "/backoffice/enti/{}/operatori?esito=concesso",
            scope.ente.fiscal_code
        ))
        .into_response(),
    }
}

/// `POST /backoffice/enti/{cf}/operatori/{role}/revoca`
pub async fn revoke(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, role_id)): Path<(String, i64)>,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    if !office.accepts(posted.get("csrf").map_or("", String::as_str))
        || !may_manage(&office, &scope)
    {
        return forbidden(&office);
    }
    let actor = format!("operator:{}", office.operator.username);
    match state
        .store
        .revoke_role(role_id, scope.ente.id, &actor, Timestamp::now())
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/backoffice/enti/{}/operatori?esito=revocato",
            scope.ente.fiscal_code
        ))
        .into_response(),
        Err(e) => internal_error(&office, e),
    }
}
