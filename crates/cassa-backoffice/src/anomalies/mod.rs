//! Anomalie: the receipts that were kept but paid no debt (a second
//! payment, an unknown notice, another amount, a debt paid the other way
//! or cancelled). The list covers the enti the operator sees whole (every
//! ente for platform admins); each anomaly shows the receipt as it came,
//! the reason and the payer, and is marked handled once, with a note.

mod texts;

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cassa_core::access::Action;
use cassa_pagopa::node::Operation;
use cassa_pagopa::node::model::SendRtRequest;
use cassa_pagopa::node::soap::read_message;
use cassa_store::{AnomalyFilter, Ente, StoredReceipt};
use serde::Deserialize;

use super::scope::EnteScope;
use super::{Office, forbidden, internal_error, not_found, render, render_with_status};
use crate::BackofficeState;
use texts::AnomalyTexts;

/// The longest note an operator may leave.
const MAX_NOTE: usize = 500;

fn when(t: jiff::Timestamp) -> String {
    t.to_zoned(cassa_core::italy::time_zone())
        .strftime("%d/%m/%Y %H:%M")
        .to_string()
}

/// One line of the list.
struct Line {
    id: i64,
    ente_code: String,
    ente_name: String,
    received: String,
    notice: String,
    amount: String,
    reason: &'static str,
    payer: String,
    handled: bool,
}

#[derive(Template)]
#[template(path = "backoffice/anomalies.html")]
struct ListPage {
    office: Office,
    a: &'static AnomalyTexts,
    enti: Vec<Ente>,
    chosen: String,
    show: String,
    lines: Vec<Line>,
}

fn payer(r: &StoredReceipt) -> String {
    match (&r.payer_name, &r.payer_fiscal_code) {
        (Some(name), Some(code)) => format!("{name} ({code})"),
        (Some(name), None) => name.clone(),
        (None, Some(code)) => code.clone(),
        (None, None) => String::new(),
    }
}

/// `GET /backoffice/anomalie?ente=CF&stato=da-gestire|gestite|tutte`
pub async fn list(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // Anomalies are the ente's, not a tipo dovuto's: an ente-wide role.
    let enti: Vec<Ente> = match state.store.list_enti().await {
        Ok(enti) => enti
            .into_iter()
            .filter(|e| office.access.can(e.id, None, Action::Read))
            .collect(),
        Err(e) => return internal_error(&office, e),
    };
    if enti.is_empty() {
        return forbidden(&office);
    }
    let chosen = q
        .get("ente")
        .and_then(|cf| enti.iter().find(|e| &e.fiscal_code == cf));
    let ente_ids = match chosen {
        Some(e) => Some(vec![e.id]),
        None if office.access.platform_admin => None,
        None => Some(enti.iter().map(|e| e.id).collect()),
    };
    let show = q.get("stato").map_or("da-gestire", String::as_str);
    let handled = match show {
        "gestite" => Some(true),
        "tutte" => None,
        _ => Some(false),
    };
    let anomalies = match state
        .store
        .anomalies(&AnomalyFilter {
            ente_ids,
            handled,
            limit: 300,
        })
        .await
    {
        Ok(a) => a,
        Err(e) => return internal_error(&office, e),
    };
    let a = texts::texts(office.lang);
    let by_id: HashMap<i64, &Ente> = enti.iter().map(|e| (e.id, e)).collect();
    let lines = anomalies
        .iter()
        .filter_map(|r| {
            let ente = by_id.get(&r.ente_id)?;
            Some(Line {
                id: r.id,
                ente_code: ente.fiscal_code.clone(),
                ente_name: ente.name.clone(),
                received: when(r.received_at),
                notice: r.notice_number.clone(),
                amount: r.amount.to_italian(),
                reason: a.reason(r.status),
                payer: payer(r),
                handled: r.handled_at.is_some(),
            })
        })
        .collect();
    let chosen = chosen.map(|e| e.fiscal_code.clone()).unwrap_or_default();
    let show = match show {
        "gestite" | "tutte" => show.to_owned(),
        _ => "da-gestire".to_owned(),
    };
    render(&ListPage {
        office,
        a,
        enti,
        chosen,
        show,
        lines,
    })
}

#[derive(Template)]
#[template(path = "backoffice/anomaly.html")]
struct DetailPage {
    office: Office,
    a: &'static AnomalyTexts,
    ente_name: String,
    ente_code: String,
    receipt: StoredReceipt,
    reason: &'static str,
    received: String,
    paid_at: String,
    payer: String,
    payer_email: String,
    handled_at: String,
    /// May mark it handled.
    can_handle: bool,
    note: String,
    note_error: Option<&'static str>,
    message: Option<(&'static str, &'static str)>,
}

/// The payer's e-mail as the receipt gives it (it is not stored apart).
fn payer_email(r: &StoredReceipt) -> String {
    let element = Operation::from_soap_action(&r.operation)
        .map_or("paSendRTV2Req", Operation::request_element);
    read_message::<SendRtRequest>(r.raw_xml.as_bytes(), element)
        .ok()
        .and_then(|m| m.receipt.payer.and_then(|p| p.email))
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn detail(
    office: Office,
    scope: &EnteScope,
    receipt: StoredReceipt,
    note: String,
    note_error: Option<&'static str>,
    message: Option<(&'static str, &'static str)>,
    status: StatusCode,
) -> Response {
    let a = texts::texts(office.lang);
    let page = DetailPage {
        a,
        ente_name: scope.ente.name.clone(),
        ente_code: scope.ente.fiscal_code.clone(),
        reason: a.reason(receipt.status),
        received: when(receipt.received_at),
        paid_at: receipt.payment_date_time.map(when).unwrap_or_default(),
        payer: payer(&receipt),
        payer_email: payer_email(&receipt),
        handled_at: receipt.handled_at.map(when).unwrap_or_default(),
        can_handle: scope.can(&office, None, Action::ManageDebts),
        receipt,
        note,
        note_error,
        message,
        office,
    };
    render_with_status(status, &page)
}

/// The ente's anomaly, if the operator sees the ente whole.
async fn anomaly_of(
    state: &BackofficeState,
    office: &Office,
    scope: &EnteScope,
    id: i64,
) -> Result<StoredReceipt, Response> {
    if !scope.can(office, None, Action::Read) {
        return Err(not_found(office));
    }
    match state.store.anomaly(scope.ente.id, id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(not_found(office)),
        Err(e) => Err(internal_error(office, e)),
    }
}

#[derive(Deserialize, Default)]
pub struct Esito {
    #[serde(default)]
    esito: String,
}

/// `GET /backoffice/enti/{cf}/anomalie/{id}`
pub async fn show(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, id)): Path<(String, i64)>,
    Query(esito): Query<Esito>,
) -> Response {
    let receipt = match anomaly_of(&state, &office, &scope, id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let a = texts::texts(office.lang);
    let message = (esito.esito == "gestita").then_some(("success", a.marked));
    detail(
        office,
        &scope,
        receipt,
        String::new(),
        None,
        message,
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default)]
pub struct HandleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// `POST /backoffice/enti/{cf}/anomalie/{id}`: marks it handled.
pub async fn handle(
    State(state): State<BackofficeState>,
    Extension(office): Extension<Office>,
    Extension(scope): Extension<EnteScope>,
    Path((_, id)): Path<(String, i64)>,
    Form(form): Form<HandleForm>,
) -> Response {
    if !office.accepts(&form.csrf) {
        return forbidden(&office);
    }
    let receipt = match anomaly_of(&state, &office, &scope, id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    if !scope.can(&office, None, Action::ManageDebts) {
        return forbidden(&office);
    }
    let a = texts::texts(office.lang);
    let note = form.note.trim().to_owned();
    let problem = if note.is_empty() {
        Some(a.note_required)
    } else if note.chars().count() > MAX_NOTE {
        Some(a.note_too_long)
    } else {
        None
    };
    if let Some(problem) = problem {
        let message = Some(("danger", office.t.form_errors));
        return detail(
            office,
            &scope,
            receipt,
            note,
            Some(problem),
            message,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let actor = format!("operator:{}", office.operator.username);
    match state
        .store
        .handle_anomaly(scope.ente.id, id, &actor, &note, jiff::Timestamp::now())
        .await
    {
        Ok(true) => Redirect::to(&format!(
            "/backoffice/enti/{}/anomalie/{id}?esito=gestita",
            scope.ente.fiscal_code
        ))
        .into_response(),
        Ok(false) => {
            let message = Some(("info", a.already_handled));
            detail(
                office,
                &scope,
                receipt,
                String::new(),
                None,
                message,
                StatusCode::CONFLICT,
            )
        }
        Err(e) => internal_error(&office, e),
    }
}
